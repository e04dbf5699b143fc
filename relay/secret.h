/* SPDX-License-Identifier: ISC */
#ifndef TERN_SECRET_H
#define TERN_SECRET_H

#include <stddef.h>

struct conf_peer;

/*
 * The password (or OAuth2 access token) for a peer: the first line of
 * password_command's output (run by /bin/sh -c), or of password_file, which
 * is refused unless its mode is 0600 or stricter. Returns a malloc'd string
 * the caller wipes (secret_free) , or NULL with err saying why without the
 * secret. A peer with neither key gives "" (no secret).
 */
char	*secret_load(const struct conf_peer *, char *err, size_t errlen);
void	 secret_free(char *);

/*
 * The SASL mechanism the configured `auth` names (enum sasl_mech), or -1
 * for auto (the engine picks: sasl_choose()) and none.
 */
int	 secret_mech(int conf_auth);

/* First line of a command's standard output, for the oauth2_*_command
 * keys too. NULL with err on failure (exit status, no output). */
char	*secret_command(const char *cmd, const char *what, char *err,
	    size_t errlen);

#endif
