/* SPDX-License-Identifier: ISC */
/*
 * SCRAM-SHA-256 client (RFC 7677, which applies RFC 5802 to SHA-256),
 * without channel binding: the gs2 header is "n,," (or "n,a=<authzid>,").
 *
 *   C: n,,n=<user>,r=<cnonce>                       client-first
 *   S: r=<cnonce+snonce>,s=<salt>,i=<iter>          server-first
 *   C: c=biws,r=<cnonce+snonce>,p=<ClientProof>     client-final
 *   S: v=<ServerSignature>  |  e=<error>            server-final
 *
 * The server must prove it holds the salted password (v=); sasl.c's
 * sasl_client_finish() fails when it never did. Passwords are used as
 * given: SASLprep (RFC 4013) is not applied, which matters only for
 * non-ASCII passwords.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../lib/base64.h"
#include "../lib/buf.h"
#include "../lib/util.h"
#include "sasl_int.h"

/* RFC 7677 §4: at least 4096. The cap keeps a hostile server from making
 * us spin PBKDF2 for minutes. */
#define SCRAM_ITER_MIN	4096
#define SCRAM_ITER_MAX	1000000
#define NONCE_BYTES	18		/* 24 base64 characters, no ',' */

struct server_first {
	const char	*nonce;		/* points into the challenge copy */
	unsigned char	*salt;
	size_t		 saltlen;
	unsigned int	 iter;
};

/* RFC 5802 §7: gs2-header = gs2-cbind-flag "," [authzid] "," */
static char *
gs2_header(const struct sasl *s)
{
	char *name, *h;

	if (s->authzid == NULL)
		return xstrdup("n,,");
	name = sasl_saslname(s->authzid);
	h = xasprintf("n,a=%s,", name);
	free(name);
	return h;
}

int
sasl_scram_start(struct sasl *s, char **resp)
{
	unsigned char rnd[NONCE_BYTES];
	char *gs2, *name, *msg;

	if (s->nonce == NULL) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) != 0)
			return sasl_fail(s, EIO, "no random nonce");
		s->nonce = base64_encode(rnd, sizeof rnd);
	}
	name = sasl_saslname(s->user);
	free(s->first_bare);
	s->first_bare = xasprintf("n=%s,r=%s", name, s->nonce);
	free(name);
	gs2 = gs2_header(s);
	msg = xasprintf("%s%s", gs2, s->first_bare);
	*resp = base64_encode(msg, strlen(msg));
	free(gs2);
	sasl_wipe_free(msg);
	return 0;
}

/* RFC 5802 §7: printable = %x21-2B / %x2D-7E */
static int
nonce_ok(const char *n)
{
	for (; *n != '\0'; n++)
		if (*n < 0x21 || *n > 0x7e || *n == ',')
			return 0;
	return 1;
}

/* Splits msg (a writable copy) into r=, s=, i=. 0, or -1 via sasl_fail. */
static int
parse_server_first(struct sasl *s, char *msg, struct server_first *sf)
{
	char *r, *salt, *iter, *rest, *end;
	unsigned long v;

	if (strncmp(msg, "m=", 2) == 0)
		return sasl_fail(s, EPROTO, "server demands an extension");
	r = strtok_r(msg, ",", &rest);
	salt = strtok_r(NULL, ",", &rest);
	iter = strtok_r(NULL, ",", &rest);
	if (r == NULL || salt == NULL || iter == NULL ||
	    strncmp(r, "r=", 2) != 0 || strncmp(salt, "s=", 2) != 0 ||
	    strncmp(iter, "i=", 2) != 0)
		return sasl_fail(s, EPROTO, "malformed server-first message");
	sf->nonce = r + 2;
	/* §5.1: the server's nonce extends ours; anything else is a replay
	 * or a man in the middle. */
	if (strncmp(sf->nonce, s->nonce, strlen(s->nonce)) != 0 ||
	    strlen(sf->nonce) <= strlen(s->nonce) || !nonce_ok(sf->nonce))
		return sasl_fail(s, EPROTO, "server nonce does not extend ours");
	sf->salt = (unsigned char *)base64_decode(salt + 2, strlen(salt + 2),
	    &sf->saltlen);
	if (sf->salt == NULL || sf->saltlen == 0)
		return sasl_fail(s, EPROTO, "bad salt in server-first message");
	errno = 0;
	v = strtoul(iter + 2, &end, 10);
	if (iter[2] < '0' || iter[2] > '9' || *end != '\0' || errno != 0)
		return sasl_fail(s, EPROTO, "bad iteration count");
	if (v < SCRAM_ITER_MIN || v > SCRAM_ITER_MAX)
		return sasl_fail(s, EPROTO, "iteration count %lu refused "
		    "(need %d..%d)", v, SCRAM_ITER_MIN, SCRAM_ITER_MAX);
	sf->iter = (unsigned int)v;
	return 0;
}

static int
hmac256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char *out)
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, klen, msg, mlen, out);
}

/*
 * RFC 5802 §3: the proof and, kept for the server-final check, the
 * ServerSignature. 0 or -1.
 */
static int
compute_proof(struct sasl *s, const struct server_first *sf,
    const char *auth_msg, unsigned char *proof)
{
	unsigned char salted[SASL_SHA256_LEN], ckey[SASL_SHA256_LEN];
	unsigned char stored[SASL_SHA256_LEN], csig[SASL_SHA256_LEN];
	unsigned char skey[SASL_SHA256_LEN];
	gnutls_datum_t pw = { (unsigned char *)s->secret,
	    (unsigned int)strlen(s->secret) };
	gnutls_datum_t salt = { sf->salt, (unsigned int)sf->saltlen };
	size_t alen = strlen(auth_msg), i;
	int rc = -1;

	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &salt, sf->iter, salted,
	    sizeof salted) != 0 ||
	    hmac256(salted, sizeof salted, "Client Key", 10, ckey) != 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, ckey, sizeof ckey,
	    stored) != 0 ||
	    hmac256(stored, sizeof stored, auth_msg, alen, csig) != 0 ||
	    hmac256(salted, sizeof salted, "Server Key", 10, skey) != 0 ||
	    hmac256(skey, sizeof skey, auth_msg, alen, s->server_sig) != 0) {
		sasl_fail(s, EIO, "SCRAM crypto failed");
		goto out;
	}
	for (i = 0; i < SASL_SHA256_LEN; i++)
		proof[i] = ckey[i] ^ csig[i];
	rc = 0;
out:
	explicit_bzero(salted, sizeof salted);
	explicit_bzero(ckey, sizeof ckey);
	explicit_bzero(stored, sizeof stored);
	explicit_bzero(csig, sizeof csig);
	explicit_bzero(skey, sizeof skey);
	return rc;
}

/* server-first in, client-final out. */
static int
client_final(struct sasl *s, const char *chal, char **resp)
{
	struct server_first sf = { NULL, NULL, 0, 0 };
	unsigned char proof[SASL_SHA256_LEN];
	char *copy = xstrdup(chal), *gs2, *cbind, *without, *auth, *p64, *msg;
	int rc = -1;

	if (parse_server_first(s, copy, &sf) != 0)
		goto out;
	gs2 = gs2_header(s);
	cbind = base64_encode(gs2, strlen(gs2));
	without = xasprintf("c=%s,r=%s", cbind, sf.nonce);
	/* §3: AuthMessage = client-first-bare "," server-first "," final */
	auth = xasprintf("%s,%s,%s", s->first_bare, chal, without);
	if (compute_proof(s, &sf, auth, proof) == 0) {
		p64 = base64_encode(proof, sizeof proof);
		msg = xasprintf("%s,p=%s", without, p64);
		*resp = base64_encode(msg, strlen(msg));
		free(p64);
		free(msg);
		rc = 0;
	}
	explicit_bzero(proof, sizeof proof);
	free(gs2);
	free(cbind);
	free(without);
	free(auth);
out:
	free(sf.salt);
	free(copy);
	return rc;
}

/* server-final: v= must equal our ServerSignature (§3, §9). */
static int
check_server_final(struct sasl *s, const char *chal, char **resp)
{
	size_t n = strcspn(chal, ","), siglen;
	char *sig;
	int ok;

	if (strncmp(chal, "e=", 2) == 0)
		return sasl_fail(s, EACCES, "server error: %.*s",
		    (int)(n - 2 > 100 ? 100 : n - 2), chal + 2);
	if (strncmp(chal, "v=", 2) != 0)
		return sasl_fail(s, EPROTO, "malformed server-final message");
	sig = base64_decode(chal + 2, n - 2, &siglen);
	ok = sig != NULL && siglen == SASL_SHA256_LEN &&
	    gnutls_memcmp(sig, s->server_sig, SASL_SHA256_LEN) == 0;
	free(sig);
	if (!ok)
		return sasl_fail(s, EACCES, "server signature mismatch");
	s->verified = 1;
	*resp = xstrdup("");
	return 0;
}

int
sasl_scram_step(struct sasl *s, const char *chal, size_t len, char **resp)
{
	if (memchr(chal, '\0', len) != NULL)
		return sasl_fail(s, EPROTO, "NUL in SCRAM challenge");
	if (s->first_bare == NULL)
		return sasl_fail(s, EPROTO, "SCRAM challenge before start");
	if (s->steps == 0)
		return client_final(s, chal, resp);
	if (s->steps == 1)
		return check_server_final(s, chal, resp);
	return sasl_fail(s, EPROTO, "unexpected SCRAM challenge");
}
