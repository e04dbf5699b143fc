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
 * PLAIN decoding (then sasl_check_password() against the users file's
 * salted hash), CRAM-MD5 against a clear secret. A LOGIN server needs
 * nothing here: base64_decode() the two lines, then sasl_check_password().
 * "=" (empty response) and "*" (cancel) are the caller's to recognise.
 */

/*
 * PLAIN (RFC 4616 §2) from one client line (base64, not "=" or "*").
 * Valid: exactly two NULs, authcid and passwd 1..255 octets, authzid
 * 0..255 octets and either empty or equal to authcid (tern does not do
 * proxy authorization). Returns 0 with malloc'd *user and *pass (wipe
 * and free *pass), or -1 with errno EINVAL (not base64: 501 5.5.2),
 * EBADMSG (malformed message) or EPERM (foreign authzid).
 */
int	 sasl_server_plain(const char *b64, char **user, char **pass);

/*
 * A fresh CRAM-MD5 challenge "<random.time@host>" (RFC 2195 §2), plain
 * text (base64 it for the 334 line). malloc'd.
 */
char	*sasl_cram_md5_challenge(const char *host);

/*
 * CRAM-MD5 (RFC 2195): challenge is the plain text that was sent (before
 * base64), b64resp the client line. Returns 0 when the response is
 * "user SP hex(HMAC-MD5(secret, challenge))" (hex in either case,
 * compared in constant time), with malloc'd *user; -1 otherwise (errno
 * EINVAL for bad base64, EBADMSG for a malformed line, EACCES for a
 * wrong digest). The caller checks *user is the account secret belongs to.
 */
int	 sasl_cram_md5_verify(const char *challenge, const char *b64resp,
	    const char *secret, char **user);

/*
 * Salted hash for submit_users and users_file lines:
 * "$pbkdf2-sha256$<iter>$<b64 salt>$<b64 key>", PBKDF2-HMAC-SHA256 with a
 * random 16-byte salt, 100000 iterations, 32-byte key. It contains no ':'.
 * malloc'd; NULL only when the random generator or GnuTLS fails.
 */
char	*sasl_hash_password(const char *pass);

/*
 * 0 when pass matches hash (constant-time compare); -1 with errno EACCES
 * on a mismatch, EINVAL when hash is not a string sasl_hash_password()
 * could have made (iterations 1000..10000000, 32-byte key).
 */
int	 sasl_check_password(const char *hash, const char *pass);

/* For tests: use nonce (copied) as the SCRAM client nonce, not a random
 * one. Call before sasl_client_start(). */
void	 sasl_test_nonce(struct sasl *, const char *nonce);

#endif
