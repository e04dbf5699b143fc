/* SPDX-License-Identifier: ISC */
/*
 * Server-side checks for tern's own listeners (submission, the tests'
 * ODMR server): PLAIN decoding, CRAM-MD5 verification, and the salted
 * password hashes of submit_users / users_file.
 *
 * Hash format: "$pbkdf2-sha256$<iter>$<b64 salt>$<b64 key>". Self-
 * describing so the iteration count can be raised later without breaking
 * old lines; base64 never contains ':' or '$', so the users files can
 * split on ':' and the hash on '$'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../lib/base64.h"
#include "../lib/util.h"
#include "sasl_int.h"

#define PLAIN_FIELD_MAX	255	/* RFC 4616 §2 */
#define HASH_PREFIX	"$pbkdf2-sha256$"
#define HASH_ITER	100000
#define HASH_ITER_MIN	1000
#define HASH_ITER_MAX	10000000
#define SALT_LEN	16

static int
fail_errno(int err)
{
	errno = err;
	return -1;
}

/* Frees the decoded buffer after wiping it. */
static void
wipe_buf(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/* RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd */
int
sasl_server_plain(const char *b64, char **user, char **pass)
{
	char *msg, *authcid, *passwd, *nul;
	size_t len, zlen, clen, plen;
	int err = EBADMSG;

	*user = *pass = NULL;
	if ((msg = base64_decode(b64, strlen(b64), &len)) == NULL)
		return fail_errno(EINVAL);
	if ((nul = memchr(msg, '\0', len)) == NULL)
		goto fail;
	zlen = (size_t)(nul - msg);
	authcid = nul + 1;
	if ((nul = memchr(authcid, '\0', len - zlen - 1)) == NULL)
		goto fail;
	clen = (size_t)(nul - authcid);
	passwd = nul + 1;
	plen = len - zlen - clen - 2;
	/* A third NUL would sit inside passwd, which forbids it. */
	if (memchr(passwd, '\0', plen) != NULL)
		goto fail;
	if (clen == 0 || plen == 0 || zlen > PLAIN_FIELD_MAX ||
	    clen > PLAIN_FIELD_MAX || plen > PLAIN_FIELD_MAX)
		goto fail;
	/* An empty authzid means "act as authcid"; no proxy logins. */
	if (zlen > 0 && strcmp(msg, authcid) != 0) {
		err = EPERM;
		goto fail;
	}
	*user = xstrdup(authcid);
	*pass = xstrdup(passwd);
	wipe_buf(msg, len);
	return 0;
fail:
	wipe_buf(msg, len);
	return fail_errno(err);
}

char *
sasl_cram_md5_challenge(const char *host)
{
	unsigned char rnd[8];
	unsigned long long v = 0;
	size_t i;

	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) != 0)
		return NULL;
	for (i = 0; i < sizeof rnd; i++)
		v = v << 8 | rnd[i];
	/* RFC 2195 §2: msg-id form, unique per exchange. */
	return xasprintf("<%llu.%lld@%s>", v, (long long)time(NULL), host);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sasl_cram_md5_verify(const char *challenge, const char *b64resp,
    const char *secret, char **user)
{
	unsigned char want[16], got[16];
	char *msg, *sp;
	size_t len, i;
	int hi, lo, ok;

	*user = NULL;
	if ((msg = base64_decode(b64resp, strlen(b64resp), &len)) == NULL)
		return fail_errno(EINVAL);
	/* RFC 2195 §2: the digest is the last 32 characters after a SP. */
	if (len < 34 || strlen(msg) != len || msg[len - 33] != ' ')
		goto bad;
	sp = msg + len - 33;
	for (i = 0; i < sizeof got; i++) {
		if ((hi = hexval(sp[1 + 2 * i])) < 0 ||
		    (lo = hexval(sp[2 + 2 * i])) < 0)
			goto bad;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_MD5, secret, strlen(secret),
	    challenge, strlen(challenge), want) != 0) {
		free(msg);
		return fail_errno(EIO);
	}
	ok = gnutls_memcmp(want, got, sizeof want) == 0;
	explicit_bzero(want, sizeof want);
	if (!ok) {
		free(msg);
		return fail_errno(EACCES);
	}
	*user = xstrndup(msg, (size_t)(sp - msg));
	free(msg);
	return 0;
bad:
	free(msg);
	return fail_errno(EBADMSG);
}

char *
sasl_hash_password(const char *pass)
{
	unsigned char salt[SALT_LEN], key[SASL_SHA256_LEN];
	gnutls_datum_t pw = { (unsigned char *)pass,
	    (unsigned int)strlen(pass) };
	gnutls_datum_t sd = { salt, sizeof salt };
	char *s64, *k64, *out;

	if (gnutls_rnd(GNUTLS_RND_RANDOM, salt, sizeof salt) != 0 ||
	    gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &sd, HASH_ITER, key,
	    sizeof key) != 0)
		return NULL;
	s64 = base64_encode(salt, sizeof salt);
	k64 = base64_encode(key, sizeof key);
	out = xasprintf(HASH_PREFIX "%d$%s$%s", HASH_ITER, s64, k64);
	explicit_bzero(key, sizeof key);
	free(s64);
	free(k64);
	return out;
}

/* Splits "<iter>$<salt>$<key>"; 0, or -1 when malformed. */
static int
parse_hash(const char *h, unsigned int *iter, unsigned char **salt,
    size_t *saltlen, unsigned char **key)
{
	const char *d1, *d2;
	char *end;
	unsigned long v;
	size_t klen;

	*salt = *key = NULL;
	if (strncmp(h, HASH_PREFIX, strlen(HASH_PREFIX)) != 0)
		return -1;
	h += strlen(HASH_PREFIX);
	if (*h < '1' || *h > '9')
		return -1;
	errno = 0;
	v = strtoul(h, &end, 10);
	if (*end != '$' || errno != 0 || v < HASH_ITER_MIN ||
	    v > HASH_ITER_MAX)
		return -1;
	*iter = (unsigned int)v;
	d1 = end + 1;
	if ((d2 = strchr(d1, '$')) == NULL)
		return -1;
	*salt = (unsigned char *)base64_decode(d1, (size_t)(d2 - d1),
	    saltlen);
	*key = (unsigned char *)base64_decode(d2 + 1, strlen(d2 + 1), &klen);
	if (*salt == NULL || *saltlen == 0 || *key == NULL ||
	    klen != SASL_SHA256_LEN) {
		free(*salt);
		free(*key);
		*salt = *key = NULL;
		return -1;
	}
	return 0;
}

int
sasl_check_password(const char *hash, const char *pass)
{
	unsigned char *salt, *key, got[SASL_SHA256_LEN];
	gnutls_datum_t pw = { (unsigned char *)pass,
	    (unsigned int)strlen(pass) };
	gnutls_datum_t sd;
	unsigned int iter;
	size_t saltlen;
	int ok;

	if (hash == NULL || parse_hash(hash, &iter, &salt, &saltlen,
	    &key) != 0)
		return fail_errno(EINVAL);
	sd.data = salt;
	sd.size = (unsigned int)saltlen;
	ok = gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &sd, iter, got,
	    sizeof got) == 0 && gnutls_memcmp(got, key, sizeof got) == 0;
	explicit_bzero(got, sizeof got);
	free(salt);
	free(key);
	return ok ? 0 : fail_errno(EACCES);
}
