/* SPDX-License-Identifier: ISC */
/*
 * tern login [NAME]: OAuth2 device login (RFC 8628) for a smarthost. Prints
 * where to sign in and the code, waits for the approval, stores the refresh
 * token (0600, in state). Never prints a token.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "../lib/conf.h"
#include "../relay/oauth.h"
#include "cli.h"

int
cmd_login(struct cli *c, int argc, char **argv)
{
	const struct conf_smarthost *sh;
	struct conf *cf;
	const char *name;
	char err[1024];

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		cli_warnx("usage: tern login [NAME]");
		return EX_USAGE;
	}
	name = argc == 2 ? argv[1] : NULL;
	cf = cli_conf(c);
	/* "default" names the unnamed [smarthost], as in status output. */
	if ((sh = conf_smarthost_named(cf, name)) == NULL && name != NULL &&
	    strcmp(name, "default") == 0)
		sh = conf_smarthost_named(cf, NULL);
	if (sh == NULL) {
		cli_warnx("login: no [smarthost%s%s] section in the "
		    "configuration", name ? " " : "", name ? name : "");
		return EX_CONFIG;
	}
	if (sh->oauth2_device_url == NULL || sh->oauth2_token_url == NULL) {
		cli_warnx("login: [smarthost%s%s] needs oauth2_device_url and "
		    "oauth2_token_url for a device login", sh->name ? " " : "",
		    sh->name ? sh->name : "");
		return EX_CONFIG;
	}
	if (oauth_login(cf, sh, stdout, err, sizeof err) == -1) {
		cli_warnx("login: %s", err);
		/* Declined or expired: the user's answer, not an outage. */
		return strncmp(err, "device login refused", 20) == 0 ||
		    strstr(err, "expired") != NULL ? EX_NOPERM :
		    EX_UNAVAILABLE;
	}
	return 0;
}
