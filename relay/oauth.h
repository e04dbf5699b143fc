/* SPDX-License-Identifier: ISC */
#ifndef TERN_OAUTH_H
#define TERN_OAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conf;
struct conf_smarthost;

/*
 * OAuth2 for smarthosts without external helpers: the access token is
 * refreshed over HTTPS (RFC 6749 §6) with libcurl and cached; `tern login`
 * runs the device authorization grant (RFC 8628). Files, all 0600 under
 * <state>/oauth/ and written atomically (tmp, fsync, rename, fsync dir):
 *
 *   NAME.token    {"access_token", "expires_at"}: the cached access token
 *   NAME.refresh  the refresh token from `tern login` or from rotation
 *   NAME.status   {"last_refresh", "access_expires", "refresh_used",
 *                 "last_error", "error_at", "refused_at"}: for status/check
 *   NAME.lock     one refresh at a time per account
 *
 * NAME is the [smarthost NAME] section's name, "default" for the unnamed
 * one. A stored NAME.refresh is used before oauth2_refresh_token_command:
 * it is the newer one once the server has rotated it.
 *
 * The token endpoint is verified against the system trust store; the
 * environment variable CURL_CA_BUNDLE (as for curl(1)), else SSL_CERT_FILE,
 * names another PEM bundle. libcurl itself reads neither, so tern does.
 *
 * Nothing here logs or prints a token or a secret; every copy is wiped.
 */

/*
 * A valid access token for sh: from the cache when it expires more than
 * 60 s from now and force_refresh is 0, else refreshed and cached.
 * *from_cache (may be NULL) says which. Returns a malloc'd string to wipe
 * with secret_free(), or NULL with err (no secret in it), e.g.
 * "token refresh failed: invalid_grant (...): re-run `tern login NAME`".
 */
char	*oauth_token(const struct conf *, const struct conf_smarthost *,
	    int force_refresh, int *from_cache, char *err, size_t errlen);
char	*oauth_access_token(const struct conf *, const struct conf_smarthost *,
	    int force_refresh, char *err, size_t errlen);

/*
 * RFC 8628 device login: asks oauth2_device_url for a code, prints the
 * verification URI and the user code to out, polls the token endpoint
 * (authorization_pending: again; slow_down: interval + 5 s) until the user
 * approves, refuses, or the code expires. On success stores the refresh
 * token and caches the access token. 0, or -1 with err.
 */
int	 oauth_login(const struct conf *, const struct conf_smarthost *,
	    FILE *out, char *err, size_t errlen);

/* The server refused a fresh token (AUTH failed after a refresh). */
void	 oauth_note_refused(const struct conf *, const struct conf_smarthost *,
	    const char *why);

/* What status/check show per account; times are epoch seconds, 0: never. */
struct oauth_status {
	int	 have_refresh;	/* stored, or a command is configured */
	int	 stored_refresh;	/* NAME.refresh exists */
	int	 have_access;	/* a cached access token */
	int64_t	 access_expires;
	int64_t	 last_refresh;
	int64_t	 refresh_used;	/* last successful use of the refresh token */
	int64_t	 error_at;
	int64_t	 refused_at;	/* AUTH refused even a fresh token */
	char	 last_error[256];
};
void	 oauth_status_get(const struct conf *, const struct conf_smarthost *,
	    struct oauth_status *);
/*
 * A warning for the user, or 0: no refresh token, the last refresh failed,
 * a fresh token was refused, or the refresh token unused for more than 80
 * days (Microsoft lapses them after 90 days idle).
 */
int	 oauth_status_warning(const struct oauth_status *, const char *name,
	    int64_t now, char *buf, size_t len);

/* The account name used in file names and messages ("default"). */
const char *oauth_name(const struct conf_smarthost *);

/* --- parsing, shared with the tests ---------------------------------- */

/* A token or device-authorization reply (RFC 6749 §5.1/§5.2, 8628 §3.2). */
struct oauth_reply {
	char	*access_token;		/* all malloc'd or NULL; wiped */
	char	*refresh_token;
	char	*error;
	char	*error_description;
	char	*device_code;
	char	*user_code;
	char	*verification_uri;	/* also Google's verification_url */
	char	*verification_uri_complete;
	int64_t	 expires_in;		/* seconds, clamped; -1: absent */
	int64_t	 interval;		/* seconds, clamped; -1: absent */
};

#define OAUTH_REPLY_MAX		65536	/* bytes of a reply we read */
#define OAUTH_FIELD_MAX		16384	/* longest accepted string field */

/*
 * Parses a JSON reply body (not NUL-terminated; len <= OAUTH_REPLY_MAX).
 * Fields of the wrong type or longer than OAUTH_FIELD_MAX are ignored as
 * absent; numbers are clamped to [0, 10 years]. 0, or -1 when the body is
 * not one JSON object (err says so, without quoting the body).
 */
int	 oauth_parse_reply(const char *body, size_t len, struct oauth_reply *,
	    char *err, size_t errlen);
void	 oauth_reply_clear(struct oauth_reply *);

#endif
