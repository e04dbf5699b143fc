/* SPDX-License-Identifier: ISC */
/* The reply parser, directly and through the engine's line reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../tests/peer.c"

/* Feeds "\n"-separated lines; returns the last smtp_reply_line() value. */
static int
feed(struct smtp_reply *r, const char *text, const char **why)
{
	const char *nl;
	int rc = -1;

	*why = NULL;
	while ((nl = strchr(text, '\n')) != NULL) {
		rc = smtp_reply_line(r, text, (size_t)(nl - text), why);
		if (rc <= 0)
			return rc;
		text = nl + 1;
	}
	return rc;
}

static void
test_multiline(void **state)
{
	struct smtp_reply r;
	const char *why;

	smtp_reply_init(&r);
	assert_int_equal(feed(&r, "250-mx.example\n250-SIZE 10\n", &why), 1);
	assert_int_equal(feed(&r, "250 8BITMIME\n", &why), 0);
	assert_int_equal(r.code, 250);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.text.data, "mx.example\nSIZE 10\n8BITMIME");
	assert_string_equal(r.esc, "");
	smtp_reply_reset(&r);
	/* SMTP-11: a changed code is an error, not a new reply. */
	assert_int_equal(feed(&r, "250-a\n251 b\n", &why), -1);
	assert_non_null(why);
	smtp_reply_clear(&r);
}

static void
test_bare_code(void **state)
{
	struct smtp_reply r;
	const char *why;

	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_line(&r, "250", 3, &why), 0);
	assert_int_equal(r.code, 250);
	assert_string_equal(r.text.data, "");
	smtp_reply_reset(&r);
	assert_int_equal(smtp_reply_line(&r, "354 ", 4, &why), 0);
	assert_int_equal(r.code, 354);
	smtp_reply_clear(&r);
}

static void
test_enhanced(void **state)
{
	static const struct { const char *line, *esc; } v[] = {
		{ "250 2.1.5 ok", "2.1.5" },
		{ "550 5.7.11 encryption", "5.7.11" },
		{ "550 5.1.1", "5.1.1" },
		{ "250 200.1.5 no", "" },
		{ "550 4.1.1 wrong class", "" },
		{ "550 5.01.1 leading zero", "" },
		{ "550 5.1.1234 too long", "" },
		{ "550 5.1.1x glued", "" },
		{ "550 5.1 short", "" },
		{ "354 3.0.0 never on 3xx", "" },
	};
	struct smtp_reply r;
	const char *why;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		smtp_reply_reset(&r);
		assert_int_equal(smtp_reply_line(&r, v[i].line,
		    strlen(v[i].line), &why), 0);
		assert_string_equal(r.esc, v[i].esc);
		assert_int_equal(r.code, atoi(v[i].line));
	}
	smtp_reply_clear(&r);
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "25", "abc", "2500 x", "250x", "099 x", "600 x", "199 x",
		"-250 x", "25a x",
	};
	struct smtp_reply r;
	const char *why;
	size_t i;

	smtp_reply_init(&r);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		smtp_reply_reset(&r);
		why = NULL;
		assert_int_equal(smtp_reply_line(&r, bad[i], strlen(bad[i]),
		    &why), -1);
		assert_non_null(why);
	}
	/* Control bytes never reach the text. */
	smtp_reply_reset(&r);
	assert_int_equal(smtp_reply_line(&r, "250 a\0b\x1b", 8, &why), 0);
	assert_string_equal(r.text.data, "a?b?");
	smtp_reply_clear(&r);
}

static void
test_line_caps(void **state)
{
	char line[600];
	struct smtp_reply r;
	const char *why;
	int i, rc = 1;

	smtp_reply_init(&r);
	memset(line, 'x', sizeof line);
	memcpy(line, "250 ", 4);
	assert_int_equal(smtp_reply_line(&r, line, 510, &why), 0);
	smtp_reply_reset(&r);
	assert_int_equal(smtp_reply_line(&r, line, 511, &why), -1);
	smtp_reply_reset(&r);
	memcpy(line, "250-", 4);
	for (i = 0; i < 1000 && rc == 1; i++)
		rc = smtp_reply_line(&r, line, 100, &why);
	assert_int_equal(rc, -1);
	assert_int_equal(i, SMTP_REPLY_LINES_MAX + 1);
	assert_true(r.text.len < SMTP_REPLY_LINES_MAX * SMTP_REPLY_LINE_MAX);
	smtp_reply_clear(&r);
}

static struct peer *
client(void)
{
	struct smtp_client_opts o = { 0 };

	o.helo = "n.example";
	return peer_client(&o);
}

static void
test_engine_long_line(void **state)
{
	static char big[100 * 1024];
	struct peer *p = client();
	size_t i;
	int rc = 1;

	/* A 100 KB single line: refused after 512 octets, fed in pieces. */
	memset(big, 'x', sizeof big);
	memcpy(big, "220 ", 4);
	for (i = 0; i < sizeof big && rc; i += 4096)
		rc = peer_raw(p, big + i, 4096);
	assert_int_equal(rc, 0);
	assert_int_equal(p->end_kind, SMTP_END_PROTOCOL);
	assert_string_equal(p->ev.data, "end protocol greeting after_dot=0 "
	    "451\n");
	peer_free(p);
}

static void
test_engine_huge_reply(void **state)
{
	struct buf b = BUF_INIT;
	struct peer *p = client();
	int i;

	/* 100 KB of well-formed continuation lines in one read. */
	for (i = 0; i < 2200; i++)
		buf_adds(&b, "220-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	assert_true(b.len >= 100 * 1000);
	assert_int_equal(peer_raw(p, b.data, b.len), 0);
	assert_int_equal(p->end_kind, SMTP_END_PROTOCOL);
	buf_clear(&b);
	peer_free(p);
}

static void
test_engine_split_reads(void **state)
{
	static const char g[] = "220-mx\r\n220 ready\r\n";
	struct peer *p = client();
	size_t i;

	/* Any segmentation gives the same result. */
	for (i = 0; i < sizeof g - 1; i++)
		peer_raw(p, g + i, 1);
	assert_string_equal(peer_sent(p), "EHLO n.example\r\n");
	peer_free(p);
}

static void
test_format(void **state)
{
	struct smtp_reply r;
	struct buf b = BUF_INIT;
	const char *why;

	smtp_reply_init(&r);
	smtp_reply_line(&r, "550-5.1.1 no", 12, &why);
	smtp_reply_line(&r, "550 5.1.1 such user", 19, &why);
	smtp_reply_format(&r, &b);
	assert_string_equal(b.data, "550 5.1.1 no / 5.1.1 such user");
	smtp_reply_set(&r, 554, "5.6.3", "conversion");
	smtp_reply_format(&r, &b);
	assert_string_equal(b.data, "554 5.6.3 conversion");
	assert_int_equal(r.local, 1);
	buf_clear(&b);
	smtp_reply_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_bare_code),
		cmocka_unit_test(test_enhanced),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_line_caps),
		cmocka_unit_test(test_engine_long_line),
		cmocka_unit_test(test_engine_huge_reply),
		cmocka_unit_test(test_engine_split_reads),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
