/* SPDX-License-Identifier: ISC */
#ifndef TERN_SASL_H
#define TERN_SASL_H

#include <stddef.h>

/*
 * SASL client mechanisms for SMTP AUTH (RFC 4954): pure functions of the
 * exchange, no I/O. The SMTP engine sends "AUTH MECH [initial]" and feeds
 * every 334 challenge to sasl_client_step(). Everything crossing this API
 * is base64 text as it appears on the wire (without "334 " or CRLF).
 * Secrets are copied in and wiped by sasl_free().
 */

enum sasl_mech {
	SASL_SCRAM_SHA_256 = 0,
	SASL_CRAM_MD5,
	SASL_PLAIN,
	SASL_LOGIN,
	SASL_XOAUTH2,
	SASL_OAUTHBEARER,
	SASL_NMECH
};

struct sasl_cred {
	const char	*user;		/* authcid */
	const char	*secret;	/* password, or OAuth2 access token */
	const char	*authzid;	/* NULL: none */
	const char	*host;		/* OAUTHBEARER host=, may be NULL */
	int		 port;		/* OAUTHBEARER port=, 0: none */
};

struct sasl;

/* "SCRAM-SHA-256", ... */
const char *sasl_mech_name(enum sasl_mech);
/* Case-insensitive; 0, or -1 when unknown. */
int	 sasl_mech_parse(const char *name, enum sasl_mech *);
/* 1 when the mechanism sends the secret in a form a listener could reuse
 * (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER): only over TLS or to loopback. */
int	 sasl_mech_plaintext(enum sasl_mech);
/* 1 for the mechanisms that take an OAuth2 token instead of a password. */
int	 sasl_mech_oauth(enum sasl_mech);

/*
 * For auth=auto: the strongest mechanism in advertised (the EHLO AUTH
 * parameter list, space separated, any case) that the credentials allow:
 * with an OAuth2 token OAUTHBEARER > XOAUTH2; with a password SCRAM-SHA-256 >
 * CRAM-MD5 > PLAIN > LOGIN. plaintext_ok = 0 excludes sasl_mech_plaintext()
 * ones. Returns 0 with *out set, -1 when nothing fits.
 */
int	 sasl_choose(const char *advertised, int oauth, int plaintext_ok,
	    enum sasl_mech *out);

/* NULL only for a mechanism that cannot work with these credentials. */
struct sasl *sasl_client_new(enum sasl_mech, const struct sasl_cred *);
void	 sasl_free(struct sasl *);		/* wipes secrets; NULL ok */

/*
 * The initial response for "AUTH MECH <resp>", malloc'd base64 ("=" for an
 * empty one), or NULL in *resp for server-first mechanisms (LOGIN,
 * CRAM-MD5). Returns 0 or -1.
 */
int	 sasl_client_start(struct sasl *, char **resp);

/*
 * One 334 challenge (base64 text, maybe empty) in, the response line out
 * (malloc'd base64, "" for an empty line, "*" to cancel). For XOAUTH2 and
 * OAUTHBEARER a challenge after the initial response is the server's error
 * JSON: it is kept (sasl_server_error()) and the reply is "" for XOAUTH2
 * and "AQ==" for OAUTHBEARER (RFC 7628 3.2.3). SCRAM checks the server
 * nonce and, on its final challenge, the server signature.
 * Returns 0, or -1 (malformed challenge, failed server proof) with
 * sasl_error() saying why; the engine then sends "*".
 */
int	 sasl_client_step(struct sasl *, const char *challenge,
	    char **resp);

/*
 * After 235: SCRAM-SHA-256 returns -1 if the server never proved itself
 * (no v= seen); others return 0.
 */
int	 sasl_client_finish(struct sasl *);

const char *sasl_error(const struct sasl *);
/* The decoded error JSON from an OAuth failure challenge, or NULL. */
const char *sasl_server_error(const struct sasl *);

/*
 * Server side (submission listener, tests' ODMR server): verifies one
 * exchange against a stored secret. Only what tern's listeners need:
 * PLAIN and LOGIN against a clear or salted hash via callback, CRAM-MD5
 * against a clear secret.
 */

#endif
