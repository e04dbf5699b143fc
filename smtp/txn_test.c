/* SPDX-License-Identifier: ISC */
/*
 * Transaction parameters and the body on the wire: dot-stuffing and CR/LF
 * normalisation (TV-10..12), DSN parameters and xtext (§13), 8BITMIME,
 * SMTPUTF8, SIZE, envelope injection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../tests/peer.c"

static struct buf enc_buf;

static const char *
encode(const char *body)
{
	buf_reset(&enc_buf);
	smtp_dot_encode(body, strlen(body), &enc_buf);
	return enc_buf.data;
}

static void
test_dot_vectors(void **state)
{
	assert_string_equal(encode("a\nb"), "a\r\nb\r\n.\r\n");	/* TV-10 */
	assert_string_equal(encode(".hidden\n"), "..hidden\r\n.\r\n");	/* TV-11 */
	assert_string_equal(encode("x\ry\n"), "x\r\ny\r\n.\r\n");	/* TV-12 */
	assert_string_equal(encode("a\r\n.\r\nb\r\n"), "a\r\n..\r\nb\r\n.\r\n");
	assert_string_equal(encode("..\r\n"), "...\r\n.\r\n");
	assert_string_equal(encode("."), "..\r\n.\r\n");
	assert_string_equal(encode(""), ".\r\n");
	/* The smuggling form: the bare LF becomes a real line end, so the
	 * dot after it is stuffed and the terminator is never forged. */
	assert_string_equal(encode("a\n.\r\nMAIL FROM:<e@x>\r\n"),
	    "a\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n");
	assert_string_equal(encode("a\r.\r"), "a\r\n..\r\n.\r\n");
	assert_string_equal(encode("a\r\n\r\n"), "a\r\n\r\n.\r\n");
	assert_int_equal(smtp_dot_size("a\nb", 3), 6);
	assert_int_equal(smtp_dot_size(".x\r\n", 4), 4);
	assert_int_equal(smtp_dot_size("", 0), 0);
	buf_clear(&enc_buf);
}

static void
test_dot_no_lone_cr_lf(void **state)
{
	static const char in[] = "\r\r\n\n\r.\n\r\r.x\rz\n\n";
	struct buf b = BUF_INIT;
	size_t i;

	smtp_dot_encode(in, sizeof in - 1, &b);
	for (i = 0; i < b.len; i++) {
		if (b.data[i] == '\r')
			assert_int_equal(b.data[i + 1], '\n');
		if (b.data[i] == '\n')
			assert_true(i > 0 && b.data[i - 1] == '\r');
	}
	assert_true(b.len >= 5);
	assert_memory_equal(b.data + b.len - 5, "\r\n.\r\n", 5);
	buf_clear(&b);
}

static void
test_xtext(void **state)
{
	struct buf b = BUF_INIT;

	smtp_xtext_encode("a+b=c@example.org", &b);
	assert_string_equal(b.data, "a+2Bb+3Dc@example.org");
	buf_reset(&b);
	smtp_xtext_encode("id with space", &b);
	assert_string_equal(b.data, "id+20with+20space");
	buf_reset(&b);
	smtp_xtext_encode("\xc3\xa9", &b);
	assert_string_equal(b.data, "+C3+A9");
	buf_reset(&b);
	assert_int_equal(smtp_xtext_decode("a+2Bb+3Dc@example.org", &b), 0);
	assert_string_equal(b.data, "a+b=c@example.org");
	buf_reset(&b);
	assert_int_equal(smtp_xtext_decode("a+2b", &b), -1);
	buf_reset(&b);
	assert_int_equal(smtp_xtext_decode("a+2", &b), -1);
	buf_reset(&b);
	assert_int_equal(smtp_xtext_decode("a=b", &b), -1);
	buf_clear(&b);
}

static struct peer *
ready(const char *ehlo)
{
	struct smtp_client_opts o = { 0 };
	struct peer *p;

	o.helo = "n.example";
	p = peer_client(&o);
	p->hold = 1;		/* the test calls smtp_send() itself */
	peer_says(p, "220 mx\n");
	peer_sent(p);
	peer_says(p, ehlo);
	return p;
}

static int
has(struct peer *p, const char *ev)
{
	if (p->ev.data != NULL && strstr(p->ev.data, ev) != NULL)
		return 1;
	print_message("events:\n%s", p->ev.data ? p->ev.data : "");
	return 0;
}

static const struct smtp_rcpt dsn_rcpt[] = {
	{ "a+b=c@example.org", "SUCCESS,FAILURE", "rfc822;a+b=c@example.org" },
	{ "d@example.org", "NEVER", "d@example.org" },
};
static const struct smtp_msg dsn_msg = {
	"me@example.net", dsn_rcpt, 2, "id with space", "HDRS", 0,
	"x\r\n", 3
};

static void
test_dsn_when_offered(void **state)
{
	struct peer *p = ready("250-mx\n250-PIPELINING\n250 DSN\n");

	smtp_send(p->smtp, &dsn_msg);
	assert_string_equal(peer_sent(p),
	    "MAIL FROM:<me@example.net> RET=HDRS ENVID=id+20with+20space\r\n"
	    "RCPT TO:<a+b=c@example.org> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;a+2Bb+3Dc@example.org\r\n"
	    "RCPT TO:<d@example.org> NOTIFY=NEVER ORCPT=rfc822;d@example.org\r\n"
	    "DATA\r\n");
	peer_free(p);
}

static void
test_dsn_not_offered(void **state)
{
	struct peer *p = ready("250-mx\n250 PIPELINING\n");

	smtp_send(p->smtp, &dsn_msg);
	/* EXT-DSN-6: no DSN parameters to a server without DSN. */
	assert_string_equal(peer_sent(p),
	    "MAIL FROM:<me@example.net>\r\nRCPT TO:<a+b=c@example.org>\r\n"
	    "RCPT TO:<d@example.org>\r\nDATA\r\n");
	peer_free(p);
}

static const struct smtp_rcpt one[] = { { "a@x.example", NULL, NULL } };

static void
test_8bit(void **state)
{
	static const struct smtp_msg m = {
		"", one, 1, NULL, NULL, 0, "caf\xc3\xa9\r\n", 7
	};
	struct peer *p = ready("250-mx\n250 SIZE 100\n");

	smtp_send(p->smtp, &m);
	/* EXT-8BIT-3: refused here, nothing on the wire. */
	assert_string_equal(peer_sent(p), "");
	assert_true(has(p, "rcpt 0 local 554 5.6.3 final=1\n"
	    "done local 554\nready\n"));
	assert_string_equal(smtp_state_name(p->smtp), "ready");
	peer_free(p);

	p = ready("250-mx\n250 8BITMIME\n");
	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "MAIL FROM:<> BODY=8BITMIME\r\n");
	peer_free(p);
}

static void
test_smtputf8(void **state)
{
	static const struct smtp_rcpt u[] = { { "j\xc3\xb6@x.example", 0, 0 } };
	static const struct smtp_msg m = {
		"me@x.example", u, 1, NULL, NULL, 0, "hi\r\n", 4
	};
	struct peer *p = ready("250-mx\n250 8BITMIME\n");

	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "");
	assert_true(has(p, "rcpt 0 local 550 5.6.7 final=1\n"));	/* EXT-UTF8-4 */
	peer_free(p);

	p = ready("250-mx\n250-8BITMIME\n250 SMTPUTF8\n");
	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "MAIL FROM:<me@x.example> SMTPUTF8\r\n");
	peer_free(p);
}

static void
test_size_limit(void **state)
{
	static const struct smtp_msg m = {
		"me@x.example", one, 1, NULL, NULL, 0, "0123456789\n", 11
	};
	struct peer *p = ready("250-mx\n250 SIZE 11\n");

	/* 12 octets once the LF is a CRLF: over the fixed limit of 11. */
	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "");
	assert_true(has(p, "rcpt 0 local 552 5.3.4 final=1\n"));
	peer_free(p);

	p = ready("250-mx\n250 SIZE 12\n");
	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "MAIL FROM:<me@x.example> SIZE=12\r\n");
	peer_free(p);
}

static void
test_envelope_injection(void **state)
{
	static const struct smtp_rcpt bad[] = {
		{ "a@x\r\nRCPT TO:<evil@y>", NULL, NULL }
	};
	static const struct smtp_msg m = {
		"me@x.example", bad, 1, NULL, NULL, 0, "hi\r\n", 4
	};
	struct peer *p = ready("250 mx\n");

	smtp_send(p->smtp, &m);
	assert_string_equal(peer_sent(p), "");
	assert_true(has(p, "rcpt 0 local 501 5.1.3 final=1\n"));
	assert_int_equal(smtp_send(p->smtp, &m), 0);
	peer_free(p);
}

static void
test_local_refusals_in_a_row(void **state)
{
	static const struct smtp_msg m8 = {
		"", one, 1, NULL, NULL, 0, "\xff\r\n", 3
	};
	static const struct smtp_msg ok = {
		"", one, 1, NULL, NULL, 0, "ok\r\n", 4
	};
	struct smtp_client_opts o = { 0 };
	struct peer *p;
	int i;

	o.helo = "n.example";
	p = peer_client(&o);
	for (i = 0; i < 5; i++)
		peer_queue(p, &m8);
	peer_queue(p, &ok);
	peer_says(p, "220 mx\n");
	peer_sent(p);
	/* The peer sends the next message from each "ready": five local
	 * refusals, then the good one goes out, without recursion. */
	peer_says(p, "250 mx\n");
	assert_string_equal(peer_sent(p), "MAIL FROM:<>\r\n");
	assert_int_equal(p->qi, 6);
	assert_true(has(p, "done local 554\nready\nrcpt 0 local 554 5.6.3 "
	    "final=1\ndone local 554\nready\n"));
	assert_int_equal(smtp_send(p->smtp, &ok), -1);	/* busy */
	peer_free(p);
}

static void
test_body_with_dots_on_wire(void **state)
{
	static const struct smtp_msg m = {
		"me@x.example", one, 1, NULL, NULL, 0,
		"Subject: d\n\n.\n..\nlast", 21
	};
	struct peer *p = ready("250-mx\n250 PIPELINING\n");

	smtp_send(p->smtp, &m);
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n354 go\n");
	assert_string_equal(peer_sent(p),
	    "Subject: d\r\n\r\n..\r\n...\r\nlast\r\n.\r\n");
	peer_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dot_vectors),
		cmocka_unit_test(test_dot_no_lone_cr_lf),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_dsn_when_offered),
		cmocka_unit_test(test_dsn_not_offered),
		cmocka_unit_test(test_8bit),
		cmocka_unit_test(test_smtputf8),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_envelope_injection),
		cmocka_unit_test(test_local_refusals_in_a_row),
		cmocka_unit_test(test_body_with_dots_on_wire),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
