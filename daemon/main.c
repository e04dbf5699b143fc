/* SPDX-License-Identifier: ISC */
#include <stdio.h>

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "tern: not yet\n");
	return 70;
}
