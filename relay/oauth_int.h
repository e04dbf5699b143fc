/* SPDX-License-Identifier: ISC */
#ifndef TERN_OAUTH_INT_H
#define TERN_OAUTH_INT_H

/* Between relay/oauth.c (store, cache, refresh) and oauth_http.c (HTTPS,
 * device login). Not for other modules: they use oauth.h. */

#include <stddef.h>
#include <stdint.h>

struct buf;
struct conf;
struct conf_smarthost;
struct oauth_reply;

#define OAUTH_CONNECT_TIMEOUT_S	15
#define OAUTH_TIMEOUT_S		30
#define OAUTH_MARGIN_S		60	/* a cached token must outlive this */
#define OAUTH_DEFAULT_LIFE_S	3600	/* when expires_in is absent */

/* "<state>/oauth/<name><ext>", malloc'd; makes the directory (0700). */
char	*oauth_path(const struct conf *, const struct conf_smarthost *,
	    const char *ext);

/* Appends "&key=value" (form-urlencoded, RFC 6749 appendix B). */
void	 oauth_form_add(struct buf *, const char *key, const char *value);

/*
 * POSTs the form to url over HTTPS (peer and host verified; no redirects;
 * connect 15 s, total 30 s). *status is the HTTP status, out the body
 * (capped at OAUTH_REPLY_MAX). 0, or -1 with err for transport trouble.
 */
int	 oauth_post(const char *url, const char *form, long *status,
	    struct buf *out, char *err, size_t errlen);

/*
 * A token endpoint reply turned into an outcome: 0 when it carries an
 * access token, else -1 with err ("token refresh failed: ..." with what
 * the server said and what to do). what names the request.
 */
int	 oauth_check_reply(const struct conf_smarthost *, const char *what,
	    long status, int parsed, const struct oauth_reply *, char *err,
	    size_t errlen);

/* Stores a token reply: rotated/new refresh token, the access token
 * cache, the status record. 0, or -1 with err. */
int	 oauth_store(const struct conf *, const struct conf_smarthost *,
	    const struct oauth_reply *, char *err, size_t errlen);

/* The client secret from its command, "" when none is configured; NULL
 * with err when the command fails. Wipe with secret_free(). */
char	*oauth_client_secret(const struct conf_smarthost *, char *err,
	    size_t errlen);

/* Records a failure in the status file (the text holds no secret). */
void	 oauth_note_error(const struct conf *, const struct conf_smarthost *,
	    const char *error);

#endif
