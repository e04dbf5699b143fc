/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/base64.h"
#include "sasl.h"

/* Helpers: wire text <-> plain text. */
static char *
b64(const char *s)
{
	return base64_encode(s, strlen(s));
}

static char *
unb64(const char *s, size_t *len)
{
	char *p = base64_decode(s, strlen(s), len);

	assert_non_null(p);
	return p;
}

static struct sasl *
client(enum sasl_mech m, const char *user, const char *secret)
{
	struct sasl_cred c = { user, secret, NULL, NULL, 0 };
	struct sasl *s = sasl_client_new(m, &c);

	assert_non_null(s);
	return s;
}

/* One step whose answer, decoded, must be want. */
static void
step_expect(struct sasl *s, const char *chal_plain, const char *want)
{
	char *chal = b64(chal_plain), *resp = NULL, *dec;

	if (sasl_client_step(s, chal, &resp) != 0)
		fail_msg("step failed: %s", sasl_error(s));
	dec = unb64(resp, NULL);
	assert_string_equal(dec, want);
	free(dec);
	free(resp);
	free(chal);
}

static void
test_mech_names(void **state)
{
	enum sasl_mech m;
	int i;

	for (i = 0; i < SASL_NMECH; i++) {
		assert_int_equal(sasl_mech_parse(sasl_mech_name(i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(sasl_mech_parse("scram-sha-256", &m), 0);
	assert_int_equal(m, SASL_SCRAM_SHA_256);
	assert_int_equal(sasl_mech_parse("Cram-Md5", &m), 0);
	assert_int_equal(m, SASL_CRAM_MD5);
	assert_int_equal(sasl_mech_parse("SCRAM-SHA-256-PLUS", &m), -1);
	assert_int_equal(sasl_mech_parse("GSSAPI", &m), -1);
	assert_int_equal(sasl_mech_parse("", &m), -1);
	assert_true(sasl_mech_plaintext(SASL_PLAIN));
	assert_true(sasl_mech_plaintext(SASL_LOGIN));
	assert_true(sasl_mech_plaintext(SASL_XOAUTH2));
	assert_true(sasl_mech_plaintext(SASL_OAUTHBEARER));
	assert_false(sasl_mech_plaintext(SASL_SCRAM_SHA_256));
	assert_false(sasl_mech_plaintext(SASL_CRAM_MD5));
	assert_true(sasl_mech_oauth(SASL_XOAUTH2));
	assert_true(sasl_mech_oauth(SASL_OAUTHBEARER));
	assert_false(sasl_mech_oauth(SASL_PLAIN));
}

static void
test_choose(void **state)
{
	static const struct {
		const char	*adv;
		int		 oauth, plain_ok, rc;
		enum sasl_mech	 want;
	} t[] = {
		{ "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256", 0, 1, 0,
		    SASL_SCRAM_SHA_256 },
		{ "plain login cram-md5", 0, 1, 0, SASL_CRAM_MD5 },
		{ "LOGIN PLAIN", 0, 1, 0, SASL_PLAIN },
		{ "LOGIN", 0, 1, 0, SASL_LOGIN },
		{ "LOGIN PLAIN", 0, 0, -1, 0 },
		{ "LOGIN PLAIN CRAM-MD5", 0, 0, 0, SASL_CRAM_MD5 },
		{ "GSSAPI  NTLM\tSCRAM-SHA-256-PLUS", 0, 1, -1, 0 },
		{ "SCRAM-SHA-1 SCRAM-SHA-256-PLUS PLAIN", 0, 1, 0,
		    SASL_PLAIN },
		{ "", 0, 1, -1, 0 },
		{ "PLAIN XOAUTH2 OAUTHBEARER", 1, 1, 0, SASL_OAUTHBEARER },
		{ "PLAIN xoauth2", 1, 1, 0, SASL_XOAUTH2 },
		{ "XOAUTH2 OAUTHBEARER", 1, 0, -1, 0 },
		{ "PLAIN SCRAM-SHA-256", 1, 1, -1, 0 },
		{ "XOAUTH2 OAUTHBEARER", 0, 1, -1, 0 },
		{ " PLAIN ", 0, 1, 0, SASL_PLAIN },
	};
	enum sasl_mech m;
	size_t i;
	int rc;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		m = SASL_NMECH;
		rc = sasl_choose(t[i].adv, t[i].oauth, t[i].plain_ok, &m);
		if (rc != t[i].rc || (rc == 0 && m != t[i].want))
			fail_msg("case %zu \"%s\": rc %d mech %d", i,
			    t[i].adv, rc, (int)m);
	}
	assert_int_equal(sasl_choose(NULL, 0, 1, &m), -1);
}

static void
test_client_new_refuses(void **state)
{
	struct sasl_cred c = { "user", NULL, NULL, NULL, 0 };

	assert_null(sasl_client_new(SASL_PLAIN, &c));
	c.secret = "x";
	c.user = NULL;
	assert_null(sasl_client_new(SASL_PLAIN, &c));
	assert_null(sasl_client_new(SASL_SCRAM_SHA_256, &c));
	assert_null(sasl_client_new(SASL_NMECH, &c));
	sasl_free(NULL);
}

static void
test_plain_tv20(void **state)
{
	struct sasl *s = client(SASL_PLAIN, "user@example.org", "secret");
	char *resp;

	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_string_equal(resp, "AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0");
	free(resp);
	/* PLAIN expects no challenge after its initial response. */
	assert_int_equal(sasl_client_step(s, "dGVzdA==", &resp), -1);
	assert_null(resp);
	assert_int_equal(sasl_client_finish(s), 0);
	sasl_free(s);

	s = client(SASL_PLAIN, "user", "pass");		/* EXT-AUTH-9 */
	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_string_equal(resp, "AHVzZXIAcGFzcw==");
	free(resp);
	sasl_free(s);
}

static void
test_plain_authzid(void **state)
{
	struct sasl_cred c = { "tim", "tanstaaf", "admin", NULL, 0 };
	struct sasl *s = sasl_client_new(SASL_PLAIN, &c);
	char *resp, *dec;
	size_t n;

	assert_int_equal(sasl_client_start(s, &resp), 0);
	dec = unb64(resp, &n);
	assert_int_equal(n, 18);
	assert_memory_equal(dec, "admin\0tim\0tanstaaf", 18);
	free(dec);
	free(resp);
	sasl_free(s);
}

/* EXT-AUTH-3: "AUTH PLAIN" alone, "334 ", then the response. */
static void
test_plain_withheld_initial(void **state)
{
	struct sasl *s = client(SASL_PLAIN, "user@example.org", "secret");
	char *resp;

	assert_int_equal(sasl_client_step(s, "", &resp), 0);
	assert_string_equal(resp, "AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0");
	free(resp);
	assert_int_equal(sasl_client_step(s, "", &resp), -1);
	sasl_free(s);
}

static void
test_login_sequence(void **state)
{
	struct sasl *s = client(SASL_LOGIN, "user@example.org", "secret");
	char *resp = (char *)"x";

	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_null(resp);				/* server-first */
	/* TV-21: the prompt text does not matter. */
	step_expect(s, "Password:", "user@example.org");
	step_expect(s, "User Name", "secret");
	assert_int_equal(sasl_client_step(s, "VXNlcm5hbWU6", &resp), -1);
	assert_null(resp);
	sasl_free(s);

	s = client(SASL_LOGIN, "u", "p");
	assert_int_equal(sasl_client_step(s, "VXNlcm5hbWU6", &resp), 0);
	assert_string_equal(resp, "dQ==");
	free(resp);
	assert_int_equal(sasl_client_step(s, "UGFzc3dvcmQ6", &resp), 0);
	assert_string_equal(resp, "cA==");
	free(resp);
	sasl_free(s);
}

static void
test_cram_md5_rfc2195(void **state)
{
	struct sasl *s = client(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	char *resp = (char *)"x";

	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_null(resp);
	step_expect(s, "<1896.697170952@postoffice.reston.mci.net>",
	    "tim b913a602c7eda7a495b4e6e7334d3890");
	assert_int_equal(sasl_client_step(s, "", &resp), -1);
	sasl_free(s);

	s = client(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	assert_int_equal(sasl_client_step(s, "AAA=BBB", &resp), -1);
	assert_non_null(strstr(sasl_error(s), "base64"));
	sasl_free(s);
	s = client(SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
	assert_int_equal(sasl_client_step(s, "", &resp), -1);
	sasl_free(s);
}

static void
test_xoauth2_tv22(void **state)
{
	struct sasl *s = client(SASL_XOAUTH2, "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
	const char *json = "{\"status\":\"400\",\"schemes\":\"Bearer\","
	    "\"scope\":\"https://mail.google.com/\"}";
	char *resp, *chal;

	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_string_equal(resp, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRo"
	    "PUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZ"
	    "Mjl0Q2cBAQ==");
	free(resp);
	assert_null(sasl_server_error(s));
	chal = b64(json);
	assert_int_equal(sasl_client_step(s, chal, &resp), 0);
	assert_string_equal(resp, "");
	assert_string_equal(sasl_server_error(s), json);
	free(resp);
	free(chal);
	sasl_free(s);
}

static void
test_oauthbearer_tv23(void **state)
{
	struct sasl_cred c = { "someone", "TOKEN", "user@example.org",
	    "smtp.example.org", 465 };
	struct sasl *s = sasl_client_new(SASL_OAUTHBEARER, &c);
	char *resp, *chal, *dec;

	assert_int_equal(sasl_client_start(s, &resp), 0);
	assert_string_equal(resp, "bixhPXVzZXJAZXhhbXBsZS5vcmcsAWhvc3Q9c210c"
	    "C5leGFtcGxlLm9yZwFwb3J0PTQ2NQFhdXRoPUJlYXJlciBUT0tFTgEB");
	free(resp);
	chal = b64("{\"status\":\"invalid_token\"}");
	assert_int_equal(sasl_client_step(s, chal, &resp), 0);
	assert_string_equal(resp, "AQ==");		/* RFC 7628 3.2.3 */
	assert_string_equal(sasl_server_error(s),
	    "{\"status\":\"invalid_token\"}");
	free(resp);
	free(chal);
	sasl_free(s);

	/* No authzid: a= is the user, escaped; no host or port. */
	s = client(SASL_OAUTHBEARER, "a,b=c", "T");
	assert_int_equal(sasl_client_start(s, &resp), 0);
	dec = unb64(resp, NULL);
	assert_string_equal(dec, "n,a=a=2Cb=3Dc,\001auth=Bearer T\001\001");
	free(dec);
	free(resp);
	sasl_free(s);
}

/* RFC 7677 §3, the whole exchange. */
#define S_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define C_FINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF" \
	"$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define S_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static struct sasl *
scram_started(const char *user)
{
	struct sasl *s = client(SASL_SCRAM_SHA_256, user, "pencil");
	char *resp;

	sasl_test_nonce(s, "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(sasl_client_start(s, &resp), 0);
	free(resp);
	return s;
}

static void
test_scram_rfc7677(void **state)
{
	struct sasl *s = client(SASL_SCRAM_SHA_256, "user", "pencil");
	char *resp, *dec;

	sasl_test_nonce(s, "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(sasl_client_start(s, &resp), 0);
	dec = unb64(resp, NULL);
	assert_string_equal(dec, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	free(dec);
	free(resp);
	step_expect(s, S_FIRST, C_FINAL);
	assert_int_equal(sasl_client_finish(s), -1);	/* no v= yet */
	resp = b64(S_FINAL);
	dec = NULL;
	assert_int_equal(sasl_client_step(s, resp, &dec), 0);
	assert_string_equal(dec, "");
	free(dec);
	free(resp);
	assert_int_equal(sasl_client_finish(s), 0);
	assert_int_equal(sasl_client_step(s, "", &resp), -1);
	sasl_free(s);
}

static void
test_scram_random_nonce_and_escaping(void **state)
{
	struct sasl *s = client(SASL_SCRAM_SHA_256, "a=b,c", "pw");
	char *resp, *dec;

	assert_int_equal(sasl_client_start(s, &resp), 0);
	dec = unb64(resp, NULL);
	assert_int_equal(strncmp(dec, "n,,n=a=3Db=2Cc,r=", 17), 0);
	assert_true(strlen(dec + 17) >= 20);
	assert_null(strchr(dec + 17, ','));
	free(dec);
	free(resp);
	sasl_free(s);
}

/* One bad server-first or server-final; err is part of sasl_error(). */
static void
scram_refuses(const char *first, const char *final, const char *err)
{
	struct sasl *s = scram_started("user");
	char *chal = b64(first), *resp = NULL;
	int rc;

	rc = sasl_client_step(s, chal, &resp);
	free(chal);
	if (final != NULL) {
		assert_int_equal(rc, 0);
		free(resp);
		chal = b64(final);
		rc = sasl_client_step(s, chal, &resp);
		free(chal);
	}
	assert_int_equal(rc, -1);
	assert_null(resp);
	if (strstr(sasl_error(s), err) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", sasl_error(s), err);
	assert_int_equal(sasl_client_finish(s), -1);
	sasl_free(s);
}

static void
test_scram_refusals(void **state)
{
	scram_refuses("r=XXprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	    "i=4096", NULL, "nonce");
	scram_refuses("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	    "i=4096", NULL, "nonce");		/* server added nothing */
	scram_refuses("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	    "i=4095", NULL, "iteration");
	scram_refuses("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
	    "i=-4096", NULL, "iteration");
	scram_refuses("r=rOprNGfwEbeRWgbNEkqO%hvYD,s=W22Z!!!,i=4096", NULL,
	    "salt");
	scram_refuses("m=ext,r=rOprNGfwEbeRWgbNEkqO%hvYD,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", NULL, "extension");
	scram_refuses("r=rOprNGfwEbeRWgbNEkqO%hvYD", NULL, "malformed");
	scram_refuses(S_FIRST, "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	    "server signature mismatch");
	scram_refuses(S_FIRST, "v=6rriTRBi23WpRR/w", "server signature mismatch");
	scram_refuses(S_FIRST, "e=invalid-proof", "server error: invalid-proof");
	scram_refuses(S_FIRST, "x=1", "malformed");
}

static void
test_scram_authzid(void **state)
{
	struct sasl_cred c = { "user", "pencil", "boss", NULL, 0 };
	struct sasl *s = sasl_client_new(SASL_SCRAM_SHA_256, &c);
	char *resp, *dec, *chal;

	sasl_test_nonce(s, "rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(sasl_client_start(s, &resp), 0);
	dec = unb64(resp, NULL);
	assert_string_equal(dec, "n,a=boss,n=user,r=rOprNGfwEbeRWgbNEkqO");
	free(dec);
	free(resp);
	chal = b64(S_FIRST);
	assert_int_equal(sasl_client_step(s, chal, &resp), 0);
	dec = unb64(resp, NULL);
	/* c= carries the gs2 header: base64("n,a=boss,") */
	assert_int_equal(strncmp(dec, "c=bixhPWJvc3Ms,r=", 17), 0);
	free(dec);
	free(resp);
	free(chal);
	sasl_free(s);
}

static void
plain_bad(const char *msg, size_t len, int err)
{
	char *enc = base64_encode(msg, len), *user, *pass;

	errno = 0;
	if (sasl_server_plain(enc, &user, &pass) != -1 || errno != err)
		fail_msg("accepted or wrong errno (%d) for %zu octets", errno,
		    len);
	assert_null(user);
	assert_null(pass);
	free(enc);
}

/* authzid of 'z's, authcid of 'u's, passwd of 'p's; sasl_server_plain(). */
static int
plain_sized(size_t zlen, size_t clen, size_t plen)
{
	char msg[800], *enc, *user, *pass;
	size_t n = 0;
	int rc;

	memset(msg + n, 'z', zlen);
	n += zlen;
	msg[n++] = '\0';
	memset(msg + n, 'u', clen);
	n += clen;
	msg[n++] = '\0';
	memset(msg + n, 'p', plen);
	n += plen;
	enc = base64_encode(msg, n);
	rc = sasl_server_plain(enc, &user, &pass);
	if (rc == 0) {
		assert_int_equal(strlen(user), clen);
		assert_int_equal(strlen(pass), plen);
		free(user);
		free(pass);
	}
	free(enc);
	return rc;
}

static void
test_server_plain(void **state)
{
	char *user, *pass;

	assert_int_equal(sasl_server_plain("AHVzZXIAcGFzcw==", &user, &pass),
	    0);
	assert_string_equal(user, "user");
	assert_string_equal(pass, "pass");
	free(user);
	free(pass);
	/* authzid equal to authcid is the same login. */
	assert_int_equal(sasl_server_plain("dXNlcgB1c2VyAHBhc3M=", &user,
	    &pass), 0);
	assert_string_equal(user, "user");
	free(user);
	free(pass);
	plain_bad("boss\0user\0pass", 14, EPERM);
	plain_bad("userpass", 8, EBADMSG);		/* no NUL */
	plain_bad("user\0pass", 9, EBADMSG);		/* one NUL */
	plain_bad("\0user\0pa\0ss", 11, EBADMSG);	/* three NULs */
	plain_bad("\0\0pass", 6, EBADMSG);		/* empty authcid */
	plain_bad("\0user\0", 6, EBADMSG);		/* empty passwd */
	plain_bad("", 0, EBADMSG);
	assert_int_equal(sasl_server_plain("AAA=BBB", &user, &pass), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sasl_server_plain("=", &user, &pass), -1);

	/* 255 octets per field are fine, 256 are not (RFC 4616 §2). */
	assert_int_equal(plain_sized(0, 255, 255), 0);
	assert_int_equal(plain_sized(255, 255, 255), -1);	/* EPERM */
	assert_int_equal(errno, EPERM);
	assert_int_equal(plain_sized(0, 256, 1), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(plain_sized(0, 1, 256), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(plain_sized(256, 1, 1), -1);
	assert_int_equal(errno, EBADMSG);
}

static void
test_cram_md5_verify(void **state)
{
	const char *chal = "<1896.697170952@postoffice.reston.mci.net>";
	char *resp, *user, *c2;
	struct sasl *s;

	resp = b64("tim b913a602c7eda7a495b4e6e7334d3890");
	assert_int_equal(sasl_cram_md5_verify(chal, resp, "tanstaaftanstaaf",
	    &user), 0);
	assert_string_equal(user, "tim");
	free(user);
	assert_int_equal(sasl_cram_md5_verify(chal, resp, "wrong", &user), -1);
	assert_int_equal(errno, EACCES);
	assert_null(user);
	free(resp);
	resp = b64("tim B913A602C7EDA7A495B4E6E7334D3890");
	assert_int_equal(sasl_cram_md5_verify(chal, resp, "tanstaaftanstaaf",
	    &user), 0);
	free(user);
	free(resp);
	resp = b64("tim b913a602c7eda7a495b4e6e7334d389");
	assert_int_equal(sasl_cram_md5_verify(chal, resp, "tanstaaftanstaaf",
	    &user), -1);
	assert_int_equal(errno, EBADMSG);
	free(resp);
	resp = b64(" b913a602c7eda7a495b4e6e7334d3890");
	assert_int_equal(sasl_cram_md5_verify(chal, resp, "x", &user), -1);
	free(resp);
	assert_int_equal(sasl_cram_md5_verify(chal, "=AAA", "x", &user), -1);
	assert_int_equal(errno, EINVAL);

	/* A generated challenge, answered by our own client. */
	c2 = sasl_cram_md5_challenge("node.example.org");
	assert_non_null(c2);
	assert_int_equal(c2[0], '<');
	assert_non_null(strstr(c2, "@node.example.org>"));
	s = client(SASL_CRAM_MD5, "alice", "s3cret");
	resp = b64(c2);
	assert_int_equal(sasl_client_step(s, resp, &user), 0);
	free(resp);
	resp = user;
	assert_int_equal(sasl_cram_md5_verify(c2, resp, "s3cret", &user), 0);
	assert_string_equal(user, "alice");
	free(user);
	free(resp);
	free(c2);
	sasl_free(s);
}

static void
test_password_hash(void **state)
{
	char *h1, *h2, *bad;

	h1 = sasl_hash_password("correct horse");
	h2 = sasl_hash_password("correct horse");
	assert_non_null(h1);
	assert_non_null(h2);
	assert_int_equal(strncmp(h1, "$pbkdf2-sha256$100000$", 22), 0);
	assert_null(strchr(h1, ':'));
	assert_string_not_equal(h1, h2);		/* salted */
	assert_int_equal(sasl_check_password(h1, "correct horse"), 0);
	assert_int_equal(sasl_check_password(h2, "correct horse"), 0);
	assert_int_equal(sasl_check_password(h1, "correct horsf"), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(sasl_check_password(h1, ""), -1);

	/* Malformed: each is EINVAL, never a match. */
	bad = strdup(h1);
	bad[strlen(bad) - 5] = '!';
	assert_int_equal(sasl_check_password(bad, "correct horse"), -1);
	assert_int_equal(errno, EINVAL);
	free(bad);
	{
		static const char *m[] = {
			"", "correct horse", "$pbkdf2-sha256$",
			"$pbkdf2-sha1$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
			"$pbkdf2-sha256$999$AAAAAAAAAAAAAAAAAAAAAA==$"
			    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			"$pbkdf2-sha256$100000$$"
			    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			"$pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
			"$pbkdf2-sha256$+100000$AAAAAAAAAAAAAAAAAAAAAA==$"
			    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
			"$pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==",
		};
		size_t i;

		for (i = 0; i < sizeof m / sizeof m[0]; i++) {
			errno = 0;
			if (sasl_check_password(m[i], "x") != -1 ||
			    errno != EINVAL)
				fail_msg("malformed hash %zu accepted", i);
		}
	}
	assert_int_equal(sasl_check_password(NULL, "x"), -1);
	free(h1);
	free(h2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mech_names),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_client_new_refuses),
		cmocka_unit_test(test_plain_tv20),
		cmocka_unit_test(test_plain_authzid),
		cmocka_unit_test(test_plain_withheld_initial),
		cmocka_unit_test(test_login_sequence),
		cmocka_unit_test(test_cram_md5_rfc2195),
		cmocka_unit_test(test_xoauth2_tv22),
		cmocka_unit_test(test_oauthbearer_tv23),
		cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_scram_random_nonce_and_escaping),
		cmocka_unit_test(test_scram_refusals),
		cmocka_unit_test(test_scram_authzid),
		cmocka_unit_test(test_server_plain),
		cmocka_unit_test(test_cram_md5_verify),
		cmocka_unit_test(test_password_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
