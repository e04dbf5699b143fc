/* SPDX-License-Identifier: ISC */
/*
 * SASL client side for SMTP AUTH (RFC 4954): mechanism names, the auto
 * choice, and the simple mechanisms (PLAIN, LOGIN, CRAM-MD5, XOAUTH2,
 * OAUTHBEARER). SCRAM-SHA-256 lives in scram.c. No I/O: base64 text in,
 * base64 text out; the SMTP engine does the 334/235 dialogue.
 *
 * Client-first mechanisms and EXT-AUTH-3: an engine that withholds the
 * initial response (the AUTH line would pass 512 octets) may either send
 * the one sasl_client_start() gave it after "334 ", or skip
 * sasl_client_start() and call sasl_client_step() on that empty challenge,
 * which then returns the initial response.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "../lib/base64.h"
#include "../lib/buf.h"
#include "../lib/util.h"
#include "sasl_int.h"

/* A challenge longer than this is not a SASL exchange we take part in. */
#define CHALLENGE_MAX	12288

static const struct {
	const char	*name;
	int		 plaintext;
	int		 oauth;
} mechs[SASL_NMECH] = {
	[SASL_SCRAM_SHA_256] =	{ "SCRAM-SHA-256", 0, 0 },
	[SASL_CRAM_MD5] =	{ "CRAM-MD5", 0, 0 },
	[SASL_PLAIN] =		{ "PLAIN", 1, 0 },
	[SASL_LOGIN] =		{ "LOGIN", 1, 0 },
	[SASL_XOAUTH2] =	{ "XOAUTH2", 1, 1 },
	[SASL_OAUTHBEARER] =	{ "OAUTHBEARER", 1, 1 },
};

/* Preference orders for sasl_choose(), strongest first. */
static const enum sasl_mech pref_password[] = {
	SASL_SCRAM_SHA_256, SASL_CRAM_MD5, SASL_PLAIN, SASL_LOGIN,
};
static const enum sasl_mech pref_oauth[] = {
	SASL_OAUTHBEARER, SASL_XOAUTH2,
};

static int
parse_len(const char *name, size_t len, enum sasl_mech *out)
{
	unsigned int i;

	for (i = 0; i < SASL_NMECH; i++) {
		if (strlen(mechs[i].name) == len &&
		    strncasecmp(mechs[i].name, name, len) == 0) {
			*out = (enum sasl_mech)i;
			return 0;
		}
	}
	return -1;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	if ((unsigned int)m >= SASL_NMECH)
		return "UNKNOWN";
	return mechs[m].name;
}

int
sasl_mech_parse(const char *name, enum sasl_mech *out)
{
	return parse_len(name, strlen(name), out);
}

int
sasl_mech_plaintext(enum sasl_mech m)
{
	return (unsigned int)m < SASL_NMECH && mechs[m].plaintext;
}

int
sasl_mech_oauth(enum sasl_mech m)
{
	return (unsigned int)m < SASL_NMECH && mechs[m].oauth;
}

int
sasl_choose(const char *advertised, int oauth, int plaintext_ok,
    enum sasl_mech *out)
{
	const enum sasl_mech *pref = oauth ? pref_oauth : pref_password;
	size_t npref = oauth ? sizeof pref_oauth / sizeof pref_oauth[0] :
	    sizeof pref_password / sizeof pref_password[0];
	int seen[SASL_NMECH] = { 0 };
	const char *p = advertised;
	enum sasl_mech m;
	size_t i, n;

	if (p == NULL)
		return -1;
	/* RFC 4954 §3: space-separated names; unknown ones are ignored. */
	while (*p != '\0') {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (n > 0 && parse_len(p, n, &m) == 0)
			seen[m] = 1;
		p += n;
	}
	for (i = 0; i < npref; i++) {
		if (!seen[pref[i]])
			continue;
		if (!plaintext_ok && mechs[pref[i]].plaintext)
			continue;
		*out = pref[i];
		return 0;
	}
	return -1;
}

struct sasl *
sasl_client_new(enum sasl_mech m, const struct sasl_cred *c)
{
	struct sasl *s;

	if ((unsigned int)m >= SASL_NMECH || c == NULL || c->secret == NULL)
		return NULL;
	/* Only OAUTHBEARER can name nobody (its a= is optional). */
	if (c->user == NULL && m != SASL_OAUTHBEARER)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->mech = m;
	s->user = c->user != NULL ? xstrdup(c->user) : NULL;
	s->secret = xstrdup(c->secret);
	s->authzid = c->authzid != NULL ? xstrdup(c->authzid) : NULL;
	s->host = c->host != NULL ? xstrdup(c->host) : NULL;
	s->port = c->port;
	return s;
}

void
sasl_wipe_free(char *p)
{
	if (p == NULL)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

void
sasl_free(struct sasl *s)
{
	if (s == NULL)
		return;
	sasl_wipe_free(s->user);
	sasl_wipe_free(s->secret);
	sasl_wipe_free(s->authzid);
	free(s->host);
	free(s->server_err);
	sasl_wipe_free(s->nonce);
	sasl_wipe_free(s->first_bare);
	explicit_bzero(s, sizeof *s);
	free(s);
}

void
sasl_test_nonce(struct sasl *s, const char *nonce)
{
	free(s->nonce);
	s->nonce = xstrdup(nonce);
}

int
sasl_fail(struct sasl *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

const char *
sasl_error(const struct sasl *s)
{
	return s->err[0] != '\0' ? s->err : "no error";
}

const char *
sasl_server_error(const struct sasl *s)
{
	return s->server_err;
}

char *
sasl_saslname(const char *in)
{
	struct buf b = BUF_INIT;

	for (; *in != '\0'; in++) {
		if (*in == ',')
			buf_adds(&b, "=2C");
		else if (*in == '=')
			buf_adds(&b, "=3D");
		else
			buf_addc(&b, *in);
	}
	return b.data != NULL ? buf_take(&b) : xstrdup("");
}

/* Base64 of b's bytes; wipes and clears b. */
static char *
encode_wipe(struct buf *b)
{
	char *out = base64_encode(b->data, b->len);

	explicit_bzero(b->data, b->len);
	buf_clear(b);
	return out;
}

/* RFC 4616 §2: [authzid] NUL authcid NUL passwd. */
static char *
plain_message(const struct sasl *s)
{
	struct buf b = BUF_INIT;

	if (s->authzid != NULL)
		buf_adds(&b, s->authzid);
	buf_addc(&b, '\0');
	buf_adds(&b, s->user);
	buf_addc(&b, '\0');
	buf_adds(&b, s->secret);
	return encode_wipe(&b);
}

/* Google's and Microsoft's XOAUTH2: user=U ^A auth=Bearer T ^A ^A. */
static char *
xoauth2_message(const struct sasl *s)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "user=%s\001auth=Bearer %s\001\001", s->user,
	    s->secret);
	return encode_wipe(&b);
}

/*
 * RFC 7628 §3.1: gs2-header "n,a=<saslname>," then kvpairs each ended
 * by ^A, then a final ^A. a= is the authzid, else the user.
 */
static char *
oauthbearer_message(const struct sasl *s)
{
	struct buf b = BUF_INIT;
	const char *who = s->authzid != NULL ? s->authzid : s->user;
	char *name;

	buf_adds(&b, "n,");
	if (who != NULL) {
		name = sasl_saslname(who);
		buf_printf(&b, "a=%s", name);
		free(name);
	}
	buf_adds(&b, ",\001");
	if (s->host != NULL)
		buf_printf(&b, "host=%s\001", s->host);
	if (s->port > 0)
		buf_printf(&b, "port=%d\001", s->port);
	buf_printf(&b, "auth=Bearer %s\001\001", s->secret);
	return encode_wipe(&b);
}

int
sasl_client_start(struct sasl *s, char **resp)
{
	*resp = NULL;
	s->started = 1;
	switch (s->mech) {
	case SASL_PLAIN:
		*resp = plain_message(s);
		return 0;
	case SASL_XOAUTH2:
		*resp = xoauth2_message(s);
		return 0;
	case SASL_OAUTHBEARER:
		*resp = oauthbearer_message(s);
		return 0;
	case SASL_SCRAM_SHA_256:
		return sasl_scram_start(s, resp);
	case SASL_LOGIN:
	case SASL_CRAM_MD5:
		return 0;		/* server-first */
	default:
		return sasl_fail(s, EINVAL, "unknown mechanism");
	}
}

/* RFC 2195 §2: user SP lowercase-hex(HMAC-MD5(secret, challenge)). */
static int
cram_md5_step(struct sasl *s, const char *chal, size_t len, char **resp)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[16];
	struct buf b = BUF_INIT;
	size_t i;

	if (len == 0)
		return sasl_fail(s, EPROTO, "empty CRAM-MD5 challenge");
	if (gnutls_hmac_fast(GNUTLS_MAC_MD5, s->secret, strlen(s->secret),
	    chal, len, mac) != 0)
		return sasl_fail(s, EIO, "HMAC-MD5 unavailable");
	buf_adds(&b, s->user);
	buf_addc(&b, ' ');
	for (i = 0; i < sizeof mac; i++) {
		buf_addc(&b, hex[mac[i] >> 4]);
		buf_addc(&b, hex[mac[i] & 15]);
	}
	explicit_bzero(mac, sizeof mac);
	*resp = encode_wipe(&b);
	return 0;
}

/* An OAuth failure challenge (RFC 7628 §3.2.2): keep its JSON. */
static int
oauth_error(struct sasl *s, const char *raw, const char *chal, size_t len,
    char **resp)
{
	free(s->server_err);
	/* Keep the raw text if the server did not even base64 it. */
	s->server_err = xstrdup(chal != NULL ? chal : raw);
	sasl_fail(s, EACCES, "server refused the token: %.100s",
	    s->server_err);
	*resp = xstrdup(s->mech == SASL_XOAUTH2 ? "" : "AQ==");
	return 0;
}

/* A challenge after the initial response for client-first mechanisms. */
static int
client_first_step(struct sasl *s, const char *raw, const char *chal,
    size_t len, char **resp)
{
	if (!s->started && *raw == '\0') {
		/* The engine withheld the initial response (EXT-AUTH-3). */
		s->steps--;
		return sasl_client_start(s, resp);
	}
	if (s->mech == SASL_SCRAM_SHA_256) {
		if (chal == NULL)
			return sasl_fail(s, EPROTO, "challenge is not base64");
		return sasl_scram_step(s, chal, len, resp);
	}
	if ((s->mech == SASL_XOAUTH2 || s->mech == SASL_OAUTHBEARER) &&
	    s->steps == 0)
		return oauth_error(s, raw, chal, len, resp);
	return sasl_fail(s, EPROTO, "unexpected challenge for %s",
	    sasl_mech_name(s->mech));
}

int
sasl_client_step(struct sasl *s, const char *challenge, char **resp)
{
	size_t rawlen = strlen(challenge), len = 0;
	char *chal;
	int rc;

	*resp = NULL;
	if (rawlen > CHALLENGE_MAX)
		return sasl_fail(s, EPROTO, "challenge too long");
	chal = base64_decode(challenge, rawlen, &len);
	switch (s->mech) {
	case SASL_LOGIN:
		/* The draft's prompts are ignored on purpose (TV-21). */
		if (s->steps == 0)
			*resp = base64_encode(s->user, strlen(s->user));
		else if (s->steps == 1)
			*resp = base64_encode(s->secret, strlen(s->secret));
		rc = *resp != NULL ? 0 :
		    sasl_fail(s, EPROTO, "unexpected third LOGIN challenge");
		break;
	case SASL_CRAM_MD5:
		if (chal == NULL)
			rc = sasl_fail(s, EPROTO, "challenge is not base64");
		else if (s->steps > 0)
			rc = sasl_fail(s, EPROTO, "unexpected challenge");
		else
			rc = cram_md5_step(s, chal, len, resp);
		break;
	default:
		rc = client_first_step(s, challenge, chal, len, resp);
		break;
	}
	if (chal != NULL) {
		explicit_bzero(chal, len);
		free(chal);
	}
	s->steps++;
	return rc;
}

int
sasl_client_finish(struct sasl *s)
{
	if (s->mech == SASL_SCRAM_SHA_256 && !s->verified)
		return sasl_fail(s, EPROTO,
		    "server never proved it knows the password");
	return 0;
}
