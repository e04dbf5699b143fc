/* SPDX-License-Identifier: ISC */
/*
 * Transcript tests of the client engine against the in-memory peer:
 * session flow, pipelining, transactions, errors, timeouts, LMTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "../tests/peer.c"

#define EHLO_FULL \
	"250-mx.example.org hello\n250-PIPELINING\n250-SIZE 1000\n" \
	"250-8BITMIME\n250-DSN\n250-ENHANCEDSTATUSCODES\n250 SMTPUTF8\n"
#define EHLO_PLAIN "250-mx.example.org\n250 SIZE\n"

static const struct smtp_rcpt rcpt3[] = {
	{ "a@x.example", NULL, NULL },
	{ "b@x.example", NULL, NULL },
	{ "c@x.example", NULL, NULL },
};
static const struct smtp_msg msg3 = {
	"me@here.example", rcpt3, 3, NULL, NULL, 0, "Subject: t\r\n\r\nhi\r\n",
	18
};
static const struct smtp_msg msg1 = {
	"me@here.example", rcpt3, 1, NULL, NULL, 0, "hi\r\n", 4
};

static struct peer *
client(int lmtp)
{
	struct smtp_client_opts o = { 0 };

	o.helo = "node.example.net";
	o.lmtp = lmtp;
	o.mech = -1;
	return peer_client(&o);
}

/* Greeting and EHLO; the engine is then ready (peer acts on ready). */
static void
hello(struct peer *p, const char *ehlo_reply)
{
	assert_string_equal(peer_sent(p), "");	/* 4.3.1: wait for 220 */
	assert_int_equal(smtp_timeout_ms(p->smtp), 5 * 60 * 1000);
	peer_says(p, "220 mx.example.org ESMTP\n");
	assert_string_equal(peer_sent(p), "EHLO node.example.net\r\n");
	peer_says(p, ehlo_reply);
}

static int
has(struct peer *p, const char *ev)
{
	if (p->ev.data != NULL && strstr(p->ev.data, ev) != NULL)
		return 1;
	print_message("events:\n%s", p->ev.data ? p->ev.data : "");
	return 0;
}

static void
test_no_pipelining(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, EHLO_PLAIN);
	assert_true(smtp_ext(p->smtp) & SMTP_EXT_SIZE);
	assert_int_equal(smtp_size_max(p->smtp), 0);
	assert_int_equal(smtp_role(p->smtp), SMTP_CLIENT);
	assert_string_equal(peer_sent(p), "MAIL FROM:<me@here.example> SIZE=4\r\n");
	peer_says(p, "250 ok\n");
	assert_string_equal(peer_sent(p), "RCPT TO:<a@x.example>\r\n");
	peer_says(p, "250 ok\n");
	assert_string_equal(peer_sent(p), "DATA\r\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), 2 * 60 * 1000);
	peer_says(p, "354 go\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), 3 * 60 * 1000);
	assert_string_equal(peer_sent(p), "hi\r\n.\r\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), 10 * 60 * 1000);
	peer_says(p, "250 queued as X\n");
	assert_true(has(p, "rcpt 0 rcpt 250 final=0\nrcpt 0 dot 250 final=1\n"
	    "done dot 250\nready\n"));
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_says(p, "221 bye\n");
	assert_true(has(p, "end ok quit after_dot=0 221"));
	assert_int_equal(p->ended, 1);
	assert_true(smtp_done(p->smtp));
	peer_free(p);
}

static void
test_pipelining(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg3);
	peer_queue(p, &msg1);
	hello(p, EHLO_FULL);
	assert_int_equal(smtp_size_max(p->smtp), 1000);
	/* EXT-PIPE-3: one write, replies matched by count. */
	assert_string_equal(peer_sent(p),
	    "MAIL FROM:<me@here.example> SIZE=18\r\n"
	    "RCPT TO:<a@x.example>\r\nRCPT TO:<b@x.example>\r\n"
	    "RCPT TO:<c@x.example>\r\nDATA\r\n");
	peer_says(p, "250 2.1.0 ok\n250 2.1.5 ok\n"
	    "550-5.1.1 no such\n550 5.1.1 user\n452 4.5.3 too many\n");
	assert_string_equal(peer_sent(p), "");
	peer_says(p, "354 go\n");
	assert_string_equal(peer_sent(p), "Subject: t\r\n\r\nhi\r\n.\r\n");
	peer_says(p, "250 2.0.0 ok\n");
	assert_true(has(p, "rcpt 0 rcpt 250 2.1.5 final=0\n"
	    "rcpt 1 rcpt 550 5.1.1 final=1\nrcpt 2 rcpt 452 4.5.3 final=1\n"
	    "rcpt 0 dot 250 2.0.0 final=1\ndone dot 250\nready\n"));
	/* The next message on the same session, no RSET in between. */
	assert_string_equal(peer_sent(p),
	    "MAIL FROM:<me@here.example> SIZE=4\r\n"
	    "RCPT TO:<a@x.example>\r\nDATA\r\n");
	peer_free(p);
}

static void
test_all_refused_lone_dot(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg3);
	hello(p, EHLO_FULL);
	peer_sent(p);
	peer_says(p, "250 ok\n550 no\n550 no\n450 later\n354 go\n");
	/* EXT-PIPE-3: a lone dot, no content. */
	assert_string_equal(peer_sent(p), ".\r\n");
	peer_says(p, "554 no valid recipients\n");
	assert_true(has(p, "rcpt 2 rcpt 450 final=1\ndone rcpt 450\nready\n"));
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_free(p);
}

static void
test_data_refused_rset(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg3);
	hello(p, EHLO_FULL);
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n550 no\n250 ok\n451 4.3.0 try later\n");
	assert_string_equal(peer_sent(p), "RSET\r\n");
	peer_says(p, "250 flushed\n");
	assert_true(has(p, "rcpt 0 data 451 4.3.0 final=1\n"
	    "rcpt 2 data 451 4.3.0 final=1\ndone data 451\nready\n"));
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_free(p);
}

static void
test_no_rcpt_without_pipelining_rset(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, EHLO_PLAIN);
	peer_sent(p);
	peer_says(p, "250 ok\n");
	peer_sent(p);
	peer_says(p, "550 5.1.1 unknown\n");
	/* FLUSH-5: nobody accepted, so no DATA at all. */
	assert_string_equal(peer_sent(p), "RSET\r\n");
	peer_says(p, "250 ok\n");
	assert_true(has(p, "rcpt 0 rcpt 550 5.1.1 final=1\ndone rcpt 550\n"));
	peer_free(p);
}

static void
test_mail_refused(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg3);
	hello(p, EHLO_PLAIN);
	peer_sent(p);
	peer_says(p, "553 5.1.8 bad sender\n");
	assert_true(has(p, "rcpt 0 mail 553 5.1.8 final=1\n"
	    "rcpt 1 mail 553 5.1.8 final=1\nrcpt 2 mail 553 5.1.8 final=1\n"
	    "done mail 553\nready\n"));
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_free(p);
}

/* ETRN (RFC 1985): each reply goes to cb->etrn and the engine is ready
 * again; 421 ends the session. Own callbacks: the peer has no etrn hook. */
struct etrn_log {
	int	 ready;
	int	 codes[4];
	int	 n;
	int	 ended;
};

static void
etrn_ready(void *arg, struct smtp *s)
{
	struct etrn_log *l = arg;

	(void)s;
	l->ready++;
}

static void
etrn_reply(void *arg, struct smtp *s, const struct smtp_reply *r)
{
	struct etrn_log *l = arg;

	(void)s;
	if (l->n < 4)
		l->codes[l->n++] = r->code;
}

static void
etrn_end(void *arg, const struct smtp_end *e)
{
	struct etrn_log *l = arg;

	l->ended = e->kind == SMTP_END_421 ? 421 : 1;
}

static const char *
drain(struct smtp *s, struct buf *b)
{
	buf_reset(b);
	buf_add(b, smtp_output(s)->data, smtp_output(s)->len);
	buf_consume(smtp_output(s), smtp_output(s)->len);
	return b->data ? b->data : "";
}

static void
say(struct smtp *s, const char *text)
{
	smtp_input(s, text, strlen(text));
}

static void
test_etrn(void **state)
{
	struct smtp_client_opts o = { .helo = "node.example.net" };
	struct smtp_cb cb = { .ready = etrn_ready, .etrn = etrn_reply,
	    .end = etrn_end };
	struct etrn_log l = { 0 };
	struct buf b = BUF_INIT;
	struct smtp *s;

	(void)state;
	s = smtp_client_new(&o, &cb, &l);
	say(s, "220 mx ESMTP\r\n");
	assert_string_equal(drain(s, &b), "EHLO node.example.net\r\n");
	say(s, "250-mx\r\n250 ETRN\r\n");
	assert_int_equal(l.ready, 1);
	assert_int_equal(smtp_etrn(s, "bad domain"), -1);
	assert_int_equal(smtp_etrn(s, "home.example"), 0);
	assert_string_equal(drain(s, &b), "ETRN home.example\r\n");
	assert_int_equal(smtp_etrn(s, "x.example"), -1);	/* busy */
	say(s, "250 Queuing started\r\n");
	assert_int_equal(l.n, 1);
	assert_int_equal(l.codes[0], 250);
	assert_int_equal(l.ready, 2);
	assert_int_equal(smtp_etrn(s, "other.example"), 0);
	drain(s, &b);
	say(s, "459 <other.example>: service unavailable\r\n");
	assert_int_equal(l.codes[1], 459);
	assert_int_equal(l.ready, 3);
	assert_int_equal(smtp_etrn(s, "@third.example"), 0);
	assert_string_equal(drain(s, &b), "ETRN @third.example\r\n");
	say(s, "421 shutting down\r\n");
	assert_int_equal(l.ended, 421);
	assert_int_equal(l.n, 2);
	buf_clear(&b);
	smtp_free(s);
}

static void
test_helo_fallback(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, "502 5.5.1 EHLO not implemented\n");
	assert_string_equal(peer_sent(p), "HELO node.example.net\r\n");
	peer_says(p, "250 hi\n");
	assert_int_equal(smtp_ext(p->smtp), 0);
	assert_string_equal(peer_sent(p), "MAIL FROM:<me@here.example>\r\n");
	peer_free(p);
}

static void
test_greeting_refused(void **state)
{
	struct peer *p = client(0);

	peer_says(p, "554 no service\n");
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	peer_says(p, "221 bye\n");
	assert_true(has(p, "end refused quit after_dot=0 554"));
	peer_free(p);
}

static void
test_421_mid_session(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg3);
	hello(p, EHLO_FULL);
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n421 4.3.2 shutting down\n");
	assert_true(has(p, "rcpt 0 rcpt 250 final=0\n"
	    "rcpt 0 rcpt 421 4.3.2 final=1\n"
	    "rcpt 1 rcpt 421 4.3.2 final=1\nrcpt 2 rcpt 421 4.3.2 final=1\n"
	    "done rcpt 421\n"
	    "end 421 rcpt after_dot=0 421\n"));
	assert_int_equal(p->ended, 1);
	assert_int_equal(peer_raw(p, "250 ok\r\n", 8), 0);
	assert_int_equal(p->ended, 1);
	peer_free(p);
}

static void
test_eof_after_dot(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, EHLO_FULL);
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n354 go\n");
	assert_string_equal(peer_sent(p), "hi\r\n.\r\n");
	smtp_eof(p->smtp);
	/* SMTP-42: the caller must know this is the duplicate window. */
	assert_true(has(p, "rcpt 0 dot 451 4.4.2 final=1\ndone dot 451\n"
	    "end eof dot after_dot=1 451\n"));
	assert_int_equal(p->end_after_dot, 1);
	peer_free(p);
}

static void
test_eof_before_dot(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, EHLO_FULL);
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n");
	smtp_eof(p->smtp);
	assert_true(has(p, "rcpt 0 data 451 4.4.2 final=1\n"
	    "done data 451\nend eof data after_dot=0"));
	peer_free(p);
}

static void
test_timeouts(void **state)
{
	struct peer *p = client(0);

	p->hold = 1;
	hello(p, EHLO_PLAIN);
	assert_string_equal(smtp_state_name(p->smtp), "ready");
	assert_int_equal(smtp_timeout_ms(p->smtp), -1);	/* our turn */
	smtp_send(p->smtp, &msg1);
	assert_int_equal(smtp_timeout_ms(p->smtp), 5 * 60 * 1000);
	peer_says(p, "250 ok\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), 5 * 60 * 1000);
	smtp_timeout(p->smtp);
	assert_true(has(p, "rcpt 0 rcpt 451 4.4.2 final=1\n"
	    "done rcpt 451\nend timeout rcpt after_dot=0"));
	peer_free(p);

	/* A timeout while waiting for the 221 is a clean end. */
	p = client(0);
	hello(p, EHLO_PLAIN);
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	smtp_timeout(p->smtp);
	assert_true(has(p, "end ok quit"));
	peer_free(p);
}

static void
test_lmtp(void **state)
{
	static const struct smtp_rcpt r[] = {
		{ "a@x", NULL, NULL }, { "b@x", NULL, NULL },
		{ "a@x", NULL, NULL },
	};
	static const struct smtp_msg m = {
		"s@y", r, 3, NULL, NULL, 0, "x\r\n", 3
	};
	struct peer *p = client(1);

	peer_queue(p, &m);
	peer_says(p, "220 lmtp ready\n");
	assert_string_equal(peer_sent(p), "LHLO node.example.net\r\n");
	peer_says(p, "250-lmtp\n250-PIPELINING\n250 ENHANCEDSTATUSCODES\n");
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n550 no\n250 ok\n354 go\n");
	assert_string_equal(peer_sent(p), "x\r\n.\r\n");
	/* §13 vector: two replies, for the first and third RCPT. */
	peer_says(p, "250 2.0.0 a delivered\n");
	assert_false(has(p, "done"));
	peer_says(p, "452 4.2.2 a over quota\n");
	assert_true(has(p, "rcpt 1 rcpt 550 final=1\n"
	    "rcpt 2 rcpt 250 final=0\nrcpt 0 dot 250 2.0.0 final=1\nrcpt 2 dot 452 4.2.2 final=1\n"
	    "done dot 452\nready\n"));
	peer_free(p);
}

static void
test_lmtp_eof_partial(void **state)
{
	static const struct smtp_rcpt r[] = {
		{ "a@x", NULL, NULL }, { "b@x", NULL, NULL },
	};
	static const struct smtp_msg m = {
		"s@y", r, 2, NULL, NULL, 0, "x\r\n", 3
	};
	struct peer *p = client(1);

	peer_queue(p, &m);
	peer_says(p, "220 lmtp\n");
	peer_says(p, "250-lmtp\n250 PIPELINING\n");
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n250 ok\n354 go\n");
	peer_sent(p);			/* the body and the dot leave */
	peer_says(p, "250 a done\n");
	smtp_eof(p->smtp);
	/* LMTP-06: a keeps its 250, only b becomes 451, after the dot. */
	assert_true(has(p, "rcpt 0 dot 250 final=1\nrcpt 1 dot 451 4.4.2 "
	    "final=1\ndone dot 451\nend eof dot after_dot=1"));
	peer_free(p);
}

/* A line lost while the body is still ours to write is not SMTP-42's
 * window: the server cannot have the message. */
static void
test_eof_body_unsent(void **state)
{
	struct peer *p = client(0);

	peer_queue(p, &msg1);
	hello(p, "250-mx\n250 PIPELINING\n");
	peer_sent(p);
	peer_says(p, "250 ok\n250 ok\n354 go\n");
	smtp_eof(p->smtp);		/* nothing of the body was written */
	assert_true(has(p, "after_dot=0"));
	peer_free(p);
}

static void
test_lmtp_no_helo_fallback(void **state)
{
	struct peer *p = client(1);

	peer_says(p, "220 lmtp\n");
	peer_sent(p);
	peer_says(p, "500 what\n");
	assert_string_equal(peer_sent(p), "QUIT\r\n");
	smtp_eof(p->smtp);
	assert_int_equal(p->end_kind, SMTP_END_REFUSED);
	peer_free(p);
}

static void
test_bad_input_ends_session(void **state)
{
	static const char *const bad[] = {
		"hello\r\n", "220\n", "199 weird\r\n", "600 x\r\n",
		"220-a\r\n230 b\r\n", "22\r\n", "220x\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct peer *p = client(0);

		assert_int_equal(peer_raw(p, bad[i], strlen(bad[i])), 0);
		assert_int_equal(p->end_kind, SMTP_END_PROTOCOL);
		assert_int_equal(p->ended, 1);
		peer_free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_pipelining),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_all_refused_lone_dot),
		cmocka_unit_test(test_data_refused_rset),
		cmocka_unit_test(test_no_rcpt_without_pipelining_rset),
		cmocka_unit_test(test_mail_refused),
		cmocka_unit_test(test_helo_fallback),
		cmocka_unit_test(test_etrn),
		cmocka_unit_test(test_greeting_refused),
		cmocka_unit_test(test_421_mid_session),
		cmocka_unit_test(test_eof_after_dot),
		cmocka_unit_test(test_eof_before_dot),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_lmtp),
		cmocka_unit_test(test_lmtp_eof_partial),
		cmocka_unit_test(test_eof_body_unsent),
		cmocka_unit_test(test_lmtp_no_helo_fallback),
		cmocka_unit_test(test_bad_input_ends_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
