/* SPDX-License-Identifier: ISC */
/*
 * Transcript tests: STARTTLS (TLS-05 client mirror) and AUTH through the
 * real sasl/ mechanisms, with trace masking.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../tests/peer.c"

static struct sasl_cred cred = { "user@example.org", "secret", NULL, NULL, 0 };

static struct peer *
client(int starttls, int mech, const struct sasl_cred *c)
{
	struct smtp_client_opts o = { 0 };

	o.helo = "node.example.net";
	o.starttls = starttls;
	o.tls_active = !starttls;
	o.cred = c;
	o.mech = mech;
	o.oauth = c != NULL && mech >= 0 && sasl_mech_oauth(mech);
	return peer_client(&o);
}

static int
has(const struct buf *b, const char *s)
{
	if (b->data != NULL && strstr(b->data, s) != NULL)
		return 1;
	print_message("log:\n%s", b->data ? b->data : "");
	return 0;
}

static void
greet(struct peer *p, const char *ehlo)
{
	peer_says(p, "220 mx ESMTP\n");
	assert_string_equal(peer_sent(p), "EHLO node.example.net\r\n");
	peer_says(p, ehlo);
}

static void
test_starttls(void **state)
{
	static const char after[] =
	    "220 2.0.0 go ahead\r\n250 injected\r\n250-evil\r\n";
	struct peer *p = client(1, -1, NULL);

	p->hold = 1;
	greet(p, "250-mx\n250-SIZE 5\n250-AUTH PLAIN\n250 STARTTLS\n");
	assert_string_equal(peer_sent(p), "STARTTLS\r\n");
	/* TLS-05: what follows the 220 in the same read is dropped. */
	peer_raw(p, after, sizeof after - 1);
	assert_true(has(&p->ev, "starttls\n"));
	assert_false(p->ended);
	assert_string_equal(smtp_state_name(p->smtp), "tls");
	assert_int_equal(smtp_timeout_ms(p->smtp), -1);
	assert_string_equal(peer_sent(p), "");
	assert_int_equal(smtp_tls_up(p->smtp), 0);
	/* RFC 3207 4.2: old extensions forgotten, EHLO again. */
	assert_int_equal(smtp_ext(p->smtp), 0);
	assert_null(smtp_auth_mechs(p->smtp));
	assert_string_equal(peer_sent(p), "EHLO node.example.net\r\n");
	peer_says(p, "250-mx\n250 8BITMIME\n");
	assert_int_equal(smtp_ext(p->smtp), SMTP_EXT_8BITMIME);
	assert_true(has(&p->ev, "starttls\nready\n"));
	assert_int_equal(smtp_tls_up(p->smtp), -1);
	peer_free(p);
}

static void
test_starttls_missing_or_refused(void **state)
{
	struct peer *p = client(1, -1, NULL);

	greet(p, "250-mx\n250 AUTH PLAIN\n");
	/* TLS-07: no plaintext fallback. */
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_says(p, "221 bye\n");
	assert_int_equal(p->end_kind, SMTP_END_TLS);
	peer_free(p);

	p = client(1, -1, NULL);
	greet(p, "250-mx\n250 STARTTLS\n");
	peer_sent(p);
	peer_says(p, "454 4.7.0 TLS not available\n");
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	smtp_eof(p->smtp);
	assert_int_equal(p->end_kind, SMTP_END_TLS);
	assert_int_equal(p->end_code, 454);
	peer_free(p);
}

static void
test_auth_plain(void **state)
{
	struct peer *p = client(0, -1, &cred);

	p->hold = 1;
	greet(p, "250-mx\n250 AUTH LOGIN PLAIN CRAM-MD5x\n");
	/* TV-20, with the initial response (auth=auto picks PLAIN). */
	assert_string_equal(peer_sent(p),
	    "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0\r\n");
	peer_says(p, "235 2.7.0 ok\n");
	assert_true(has(&p->ev, "ready\n"));
	/* One masking function: the secret never reaches the trace. */
	assert_true(has(&p->trace, "> AUTH PLAIN ****\n"));
	assert_false(strstr(p->trace.data, "AHVz") != NULL);
	peer_free(p);
}

static void
test_auth_login(void **state)
{
	struct peer *p = client(0, SASL_LOGIN, &cred);

	p->hold = 1;
	greet(p, "250-mx\n250 AUTH PLAIN LOGIN\n");
	assert_string_equal(peer_sent(p), "AUTH LOGIN\r\n");
	peer_says(p, "334 VXNlcm5hbWU6\n");		/* TV-21 */
	assert_string_equal(peer_sent(p), "dXNlckBleGFtcGxlLm9yZw==\r\n");
	peer_says(p, "334 UGFzc3dvcmQ6\n");
	assert_string_equal(peer_sent(p), "c2VjcmV0\r\n");
	peer_says(p, "235 2.7.0 ok\n");
	assert_true(has(&p->ev, "ready\n"));
	assert_true(has(&p->trace, "> AUTH LOGIN\n< 334 VXNlcm5hbWU6\n"
	    "> ****\n"));
	assert_false(strstr(p->trace.data, "c2VjcmV0") != NULL);
	peer_free(p);
}

static void
test_auth_xoauth2_error(void **state)
{
	static struct sasl_cred c = { "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", NULL, NULL, 0 };
	struct peer *p = client(0, SASL_XOAUTH2, &c);

	greet(p, "250-mx\n250 AUTH XOAUTH2\n");
	assert_string_equal(peer_sent(p), "AUTH XOAUTH2 dXNlcj1zb21ldXNlckBleGF"
	    "tcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhk"
	    "SFJoZG1semRHRXVZMjl0Q2cBAQ==\r\n");		/* TV-22 */
	/* {"status":"401"} */
	peer_says(p, "334 eyJzdGF0dXMiOiI0MDEifQ==\n");
	assert_string_equal(peer_sent(p), "\r\n");	/* EXT-AUTH-11 */
	peer_says(p, "535-5.7.8 Username and Password\n535 5.7.8 not accepted\n");
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_says(p, "221 bye\n");
	assert_int_equal(p->end_kind, SMTP_END_AUTH);
	assert_int_equal(p->end_code, 535);
	peer_free(p);
}

static void
test_auth_oauthbearer_error(void **state)
{
	static struct sasl_cred c = { "user@example.org", "TOKEN",
	    "user@example.org", "smtp.example.org", 465 };
	struct peer *p = client(0, SASL_OAUTHBEARER, &c);

	greet(p, "250-mx\n250 AUTH OAUTHBEARER\n");
	assert_string_equal(peer_sent(p), "AUTH OAUTHBEARER bixhPXVzZXJAZXhhbX"
	    "BsZS5vcmcsAWhvc3Q9c210cC5leGFtcGxlLm9yZwFwb3J0PTQ2NQFhdXRoPUJlYX"
	    "JlciBUT0tFTgEB\r\n");			/* TV-23 */
	peer_says(p, "334 eyJzdGF0dXMiOiI0MDEifQ==\n");
	assert_string_equal(peer_sent(p), "AQ==\r\n");	/* RFC 7628 3.2.3 */
	peer_says(p, "535 5.7.8 no\n");
	assert_int_equal(smtp_auth_mechs(p->smtp) != NULL, 1);
	smtp_eof(p->smtp);
	assert_int_equal(p->end_kind, SMTP_END_AUTH);
	peer_free(p);
}

static void
test_auth_long_initial_response(void **state)
{
	static char tok[600];
	struct sasl_cred c = { "u@example.org", tok, NULL, NULL, 0 };
	struct peer *p;
	const char *out;
	char *resp;

	memset(tok, 'T', sizeof tok - 1);
	p = client(0, SASL_XOAUTH2, &c);
	p->hold = 1;
	greet(p, "250-mx\n250 AUTH XOAUTH2\n");
	/* EXT-AUTH-3: the line would pass 512 octets, so two steps. */
	assert_string_equal(peer_sent(p), "AUTH XOAUTH2\r\n");
	peer_says(p, "334 \n");
	out = peer_sent(p);
	assert_true(strlen(out) > 512);
	resp = strndup(out, strlen(out) - 2);
	assert_null(strchr(resp, ' '));
	assert_string_equal(out + strlen(out) - 2, "\r\n");
	free(resp);
	peer_says(p, "235 ok\n");
	assert_true(has(&p->ev, "ready\n"));
	peer_free(p);
}

static void
test_auth_local_error_cancels(void **state)
{
	struct peer *p = client(0, SASL_LOGIN, &cred);

	greet(p, "250-mx\n250 AUTH LOGIN\n");
	peer_sent(p);
	peer_says(p, "334 VXNlcm5hbWU6\n");
	peer_sent(p);
	peer_says(p, "334 UGFzc3dvcmQ6\n");
	peer_sent(p);
	/* A third challenge is a mechanism error: cancel with "*". */
	peer_says(p, "334 Pz8/\n");
	assert_string_equal(peer_sent(p), "*\r\n");
	peer_says(p, "501 5.7.0 cancelled\n");
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	smtp_eof(p->smtp);
	assert_int_equal(p->end_kind, SMTP_END_AUTH);
	assert_int_equal(p->end_code, 501);
	peer_free(p);
}

static void
test_auth_refuses_plaintext_in_clear(void **state)
{
	struct smtp_client_opts o = { 0 };
	struct peer *p;

	o.helo = "n";
	o.cred = &cred;
	o.mech = SASL_PLAIN;
	p = peer_client(&o);
	peer_says(p, "220 mx\n");
	peer_sent(p);
	peer_says(p, "250-mx\n250 AUTH PLAIN\n");
	/* EXT-AUTH-6: no TLS, not loopback: nothing secret is sent. */
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	smtp_eof(p->smtp);
	assert_int_equal(p->end_kind, SMTP_END_AUTH);
	peer_free(p);
}

static void
test_mask(void **state)
{
	struct buf b = BUF_INIT;

	smtp_mask("AUTH PLAIN AHVz", 0, &b);
	assert_string_equal(b.data, "AUTH PLAIN ****");
	smtp_mask("AUTH LOGIN", 1, &b);
	assert_string_equal(b.data, "AUTH LOGIN");
	smtp_mask("c2VjcmV0", 1, &b);
	assert_string_equal(b.data, "****");
	smtp_mask("*", 1, &b);
	assert_string_equal(b.data, "*");
	smtp_mask("MAIL FROM:<a@b>", 0, &b);
	assert_string_equal(b.data, "MAIL FROM:<a@b>");
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_starttls_missing_or_refused),
		cmocka_unit_test(test_auth_plain),
		cmocka_unit_test(test_auth_login),
		cmocka_unit_test(test_auth_xoauth2_error),
		cmocka_unit_test(test_auth_oauthbearer_error),
		cmocka_unit_test(test_auth_long_initial_response),
		cmocka_unit_test(test_auth_local_error_cancels),
		cmocka_unit_test(test_auth_refuses_plaintext_in_clear),
		cmocka_unit_test(test_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
