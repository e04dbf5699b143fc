/* SPDX-License-Identifier: ISC */
/*
 * The server's AUTH (RFC 4954): PLAIN (RFC 4616, with or without an
 * initial response) and LOGIN (draft-murchison-sasl-login), checked by
 * the caller's cb->auth_check. Mechanisms are offered only over TLS or on
 * a connection the caller trusts (EXT-AUTH-6). Secrets are wiped as soon
 * as they have been checked and never traced (smtp_trace masks them).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>

#include "../lib/base64.h"
#include "../lib/util.h"
#include "smtp_int.h"

#define FIELD_MAX	255	/* RFC 4616 2, for LOGIN too */

int
smtp_srv_auth_offered(const struct smtp *s)
{
	return s->so.auth_mechs != NULL && *s->so.auth_mechs != '\0' &&
	    (s->tls || s->so.plaintext_ok);
}

static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncasecmp(p, name, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static void
wipe(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

/* Forgets an exchange in progress (no state change: smtp_free). */
void
smtp_srv_auth_clear(struct smtp *s)
{
	free(s->auth_mech);
	s->auth_mech = NULL;
	wipe(s->auth_login);
	s->auth_login = NULL;
}

/* The exchange is over (or never began): back to commands. */
void
smtp_srv_auth_end(struct smtp *s)
{
	smtp_srv_auth_clear(s);
	if (s->state == SMTP_ST_SRV_AUTH)
		smtp_enter(s, SMTP_ST_COMMAND);
}

/* A client line: base64, "=" for empty (4954 4). NULL if malformed or
 * holding a NUL (a LOGIN field cannot). */
static char *
decode(const char *b64)
{
	size_t n;
	char *p;

	if (strcmp(b64, "=") == 0)
		return xstrdup("");
	if ((p = base64_decode(b64, strlen(b64), &n)) == NULL)
		return NULL;
	if (memchr(p, '\0', n) != NULL) {
		explicit_bzero(p, n);
		free(p);
		return NULL;
	}
	return p;
}

/* Asks the caller; takes user and pass (wiped here). */
static void
verify(struct smtp *s, char *user, char *pass)
{
	int rc = -1;

	if (s->scb.auth_check != NULL && *user != '\0' && *pass != '\0' &&
	    strlen(user) <= FIELD_MAX && strlen(pass) <= FIELD_MAX)
		rc = s->scb.auth_check(s->arg, s->auth_mech, user, pass);
	wipe(pass);
	smtp_srv_auth_end(s);
	if (rc == 0) {
		s->srv_authed = 1;
		free(s->auth_user);
		s->auth_user = user;
		smtp_srv_say(s, 235, "2.7.0 Authentication successful");
		return;
	}
	free(user);
	if (rc == 454)			/* EXT-AUTH-5: do not re-prompt */
		smtp_srv_say(s, 454, "4.7.0 Temporary authentication "
		    "failure");
	else				/* EXT-AUTH-7: counts as an error */
		smtp_srv_error(s, 535, "5.7.8 Authentication credentials "
		    "invalid");
}

static void
bad_base64(struct smtp *s)
{
	smtp_srv_auth_end(s);
	smtp_srv_error(s, 501, "5.5.2 Invalid base64 data");
}

static void
plain(struct smtp *s, const char *b64)
{
	char *user, *pass;

	if (strcmp(b64, "=") == 0) {	/* empty: no credentials at all */
		verify(s, xstrdup(""), xstrdup(""));
		return;
	}
	if (sasl_server_plain(b64, &user, &pass) < 0) {
		if (errno == EINVAL) {
			bad_base64(s);
			return;
		}
		verify(s, xstrdup(""), xstrdup(""));	/* malformed */
		return;
	}
	verify(s, user, pass);
}

/* LOGIN: the user name line, then "334 Password:". */
static void
login_user(struct smtp *s, const char *b64)
{
	if ((s->auth_login = decode(b64)) == NULL) {
		bad_base64(s);
		return;
	}
	smtp_send_line(s, "334 UGFzc3dvcmQ6");	/* TV-21 */
	smtp_enter(s, SMTP_ST_SRV_AUTH);
}

static void
login_pass(struct smtp *s, const char *b64)
{
	char *pass, *user;

	if ((pass = decode(b64)) == NULL) {
		bad_base64(s);
		return;
	}
	user = s->auth_login;
	s->auth_login = NULL;
	verify(s, user, pass);
}

static void
cancelled(struct smtp *s)
{
	smtp_srv_auth_end(s);
	smtp_srv_error(s, 501, "5.0.0 Authentication cancelled");
}

/* The response lines of an exchange (EXT-AUTH-2). */
void
smtp_srv_on_auth_line(struct smtp *s, const char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL) {
		bad_base64(s);
		return;
	}
	if (strcmp(line, "*") == 0) {
		cancelled(s);
		return;
	}
	if (strcmp(s->auth_mech, "PLAIN") == 0)
		plain(s, line);
	else if (s->auth_login == NULL)
		login_user(s, line);
	else
		login_pass(s, line);
}

/* The sequence checks of EXT-AUTH-4; 0 when AUTH may start. */
static int
auth_allowed(struct smtp *s)
{
	if (s->so.auth_mechs == NULL || *s->so.auth_mechs == '\0')
		smtp_srv_error(s, 502, "5.5.1 AUTH not available");
	else if (!smtp_srv_auth_offered(s))
		smtp_srv_error(s, 538, "5.7.11 Encryption required for "
		    "requested authentication mechanism");
	else if (s->helo == NULL || !s->esmtp)
		smtp_srv_error(s, 503, "5.5.1 Send EHLO first");
	else if (s->srv_authed)
		smtp_srv_error(s, 503, "5.5.1 Already authenticated");
	else if (s->tx.open)
		smtp_srv_error(s, 503, "5.5.1 AUTH not allowed in a mail "
		    "transaction");
	else
		return 0;
	return -1;
}

/* Starts the mechanism; resp is the initial response or NULL. */
static void
start(struct smtp *s, const char *mech, const char *resp)
{
	s->auth_mech = xstrdup(strcasecmp(mech, "PLAIN") == 0 ? "PLAIN" :
	    "LOGIN");
	if (resp != NULL && strcmp(resp, "*") == 0) {
		cancelled(s);
	} else if (strcmp(s->auth_mech, "PLAIN") == 0) {
		if (resp != NULL) {
			plain(s, resp);
			return;
		}
		smtp_send_line(s, "334 ");	/* empty challenge */
		smtp_enter(s, SMTP_ST_SRV_AUTH);
	} else if (resp != NULL) {
		/* LOGIN is server-first, but "AUTH LOGIN <user>" is what
		 * many clients send (protocols.md §12 item 8): take it. */
		login_user(s, resp);
	} else {
		smtp_send_line(s, "334 VXNlcm5hbWU6");
		smtp_enter(s, SMTP_ST_SRV_AUTH);
	}
}

/*
 * "AUTH mech [initial-response]", parsed here rather than by
 * smtp_parse_command() because the line may be 12288 octets long.
 */
void
smtp_srv_auth(struct smtp *s, const char *line, size_t len)
{
	char *copy, *mech, *resp;

	if (memchr(line, '\0', len) != NULL) {
		smtp_srv_error(s, 500, "5.5.2 Invalid character in command");
		return;
	}
	if (auth_allowed(s) < 0)
		return;
	copy = xstrndup(line, len);
	mech = copy + 4 + strspn(copy + 4, " ");
	if ((resp = strchr(mech, ' ')) != NULL) {
		*resp++ = '\0';
		if (*resp == '\0' || strchr(resp, ' ') != NULL)
			resp = mech = NULL;
	}
	if (mech == NULL || *mech == '\0') {
		smtp_srv_error(s, 501, "5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]");
	} else if (!listed(s->so.auth_mechs, mech) ||
	    (strcasecmp(mech, "PLAIN") != 0 &&
	    strcasecmp(mech, "LOGIN") != 0)) {
		smtp_srv_error(s, 504, "5.5.4 Unrecognized authentication "
		    "type");
	} else {
		start(s, mech, resp);
	}
	explicit_bzero(copy, len);
	free(copy);
}
