/* SPDX-License-Identifier: ISC */
/*
 * tern: the command line. Parses the options before the verb and dispatches;
 * called as "sendmail" or "mailq" (argv[0]) it is those.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../lib/log.h"
#include "cli.h"

static const struct verb {
	const char	*name;
	int		(*fn)(struct cli *, int, char **);
	const char	*usage;
} verbs[] = {
	{ "sendmail", cmd_sendmail, "sendmail [-t] [-i] [-f ADDR] [-F NAME] [-bs|-bp|-q] [RCPT...]" },
	{ "status", cmd_status, "status [--json]" },
	{ "queue", cmd_queue, "queue [--json]" },
	{ "show", cmd_show, "show [--raw] ID" },
	{ "hold", cmd_hold, "hold ID..." },
	{ "release", cmd_release, "release ID..." },
	{ "delete", cmd_delete, "delete ID..." },
	{ "flush", cmd_flush, "flush [--no-wait] [ID...]" },
	{ "bounce", cmd_bounce, "bounce ID..." },
	{ "check", cmd_check, "check" },
	{ "login", cmd_login, "login [NAME]" },
	{ "pull", cmd_pull, "pull" },
	{ "up", cmd_up, "up" },
	{ "down", cmd_down, "down" },
};

static int
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: tern [-c FILE] [-v] VERB [ARGS]\n");
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		fprintf(stderr, "       tern %s\n", verbs[i].usage);
	return EX_USAGE;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const char *name;
	char *a0;
	size_t i;
	int rc;

	a0 = strdup(argv[0] ? argv[0] : "tern");
	name = basename(a0);
	log_init("tern", 0, 0);
	if (strcmp(name, "sendmail") == 0) {
		rc = cmd_sendmail(&cli, argc, argv);
		goto done;
	}
	if (strcmp(name, "mailq") == 0) {
		rc = cmd_queue(&cli, argc, argv);
		goto done;
	}
	for (argc--, argv++; argc > 0 && argv[0][0] == '-'; argc--, argv++) {
		if (strcmp(argv[0], "-c") == 0 && argc > 1) {
			cli.conf_file = argv[1];
			argc--, argv++;
		} else if (strcmp(argv[0], "-v") == 0) {
			cli.verbose++;
		} else if (strcmp(argv[0], "-h") == 0 ||
		    strcmp(argv[0], "--help") == 0) {
			free(a0);
			usage();
			return 0;
		} else {
			free(a0);
			return usage();
		}
	}
	log_init("tern", 0, cli.verbose);
	rc = -1;
	for (i = 0; argc > 0 && i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(argv[0], verbs[i].name) == 0)
			rc = verbs[i].fn(&cli, argc, argv);
	if (rc == -1) {
		if (argc > 0)
			cli_warnx("unknown verb '%s'", argv[0]);
		rc = usage();
	}
done:
	cli_done(&cli);
	free(a0);
	return rc;
}
