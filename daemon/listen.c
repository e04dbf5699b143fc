/* SPDX-License-Identifier: ISC */
/* SMTP listeners: placeholder until the engine's server side lands. */
#include "listen.h"
#include "ternd.h"

int
listen_init(struct ternd *t)
{
	(void)t;
	return 0;
}

void
listen_close(struct ternd *t)
{
	(void)t;
}
