/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "msg.h"

static struct msg *
parse(const char *s, int flags)
{
	char err[128];
	struct msg *m = msg_parse(s, strlen(s), flags, err, sizeof err);

	if (m == NULL)
		fail_msg("refused: %s", err);
	return m;
}

/* The canonical bytes of m, as a string (freed by the caller). */
static char *
out(const struct msg *m)
{
	struct buf b = BUF_INIT;

	msg_write(m, &b);
	assert_int_equal(b.len, msg_size(m));
	buf_addc(&b, '\0');
	return buf_take(&b);
}

static void
expect_canon(const char *in, int flags, const char *want)
{
	struct msg *m = parse(in, flags);
	char *o = out(m);

	assert_string_equal(o, want);
	free(o);
	msg_free(m);
}

static void
expect_refused(const char *in, size_t len, int flags, const char *want)
{
	char err[128] = "";

	assert_null(msg_parse(in, len, flags, err, sizeof err));
	assert_string_equal(err, want);
}

static void
test_lf_crlf_identical(void **state)
{
	const char *want = "From: a@b.example\r\nSubject: hi\r\n\r\n"
	    "line 1\r\n\r\nline 3\r\n";

	expect_canon("From: a@b.example\nSubject: hi\n\nline 1\n\nline 3\n",
	    0, want);
	expect_canon("From: a@b.example\r\nSubject: hi\r\n\r\nline 1\r\n\r\n"
	    "line 3\r\n", 0, want);
	/* mixed ends too */
	expect_canon("From: a@b.example\r\nSubject: hi\n\r\nline 1\n\r\n"
	    "line 3\r\n", 0, want);
}

/* SM-20: a lone CR is a line end and becomes CRLF; no bare CR survives. */
static void
test_lone_cr(void **state)
{
	expect_canon("Subject: x\r\rbody\rmore\r", 0,
	    "Subject: x\r\n\r\nbody\r\nmore\r\n");
	expect_canon("S: x\n\na\r\r\nb\n", 0, "S: x\r\n\r\na\r\n\r\nb\r\n");
}

static void
test_final_line_gets_crlf(void **state)
{
	expect_canon("S: x\n\nlast", 0, "S: x\r\n\r\nlast\r\n");
	expect_canon("S: x\n\n", 0, "S: x\r\n\r\n");
	expect_canon("", 0, "");
	expect_canon("no header here", 0, "\r\nno header here\r\n");
}

static void
test_header_only(void **state)
{
	struct msg *m = parse("From: a@b.example\nTo: c@d.example\n", 0);
	char *o = out(m);

	/* no blank line is invented when there was none and no body */
	assert_string_equal(o, "From: a@b.example\r\nTo: c@d.example\r\n");
	assert_int_equal(msg_count(m, "to"), 1);
	free(o);
	msg_free(m);
}

/* Postfix-like: a line that is not a field ends the header. */
static void
test_non_header_line_ends_header(void **state)
{
	struct msg *m = parse("Subject: x\nthis is the body\nTo: y@z.example\n",
	    0);
	char *o = out(m);

	assert_string_equal(o, "Subject: x\r\n\r\nthis is the body\r\n"
	    "To: y@z.example\r\n");
	assert_int_equal(msg_count(m, "To"), 0);
	free(o);
	msg_free(m);
	/* a leading continuation line has nothing to continue */
	expect_canon(" indented\n", 0, "\r\n indented\r\n");
	/* obsolete "Name :" is still a field (RFC 5322 4.5) */
	m = parse("Subject : old\n\nb\n", 0);
	assert_int_equal(msg_count(m, "subject"), 1);
	msg_free(m);
}

static void
test_folding(void **state)
{
	struct msg *m = parse("To: a@b.example,\n\tc@d.example,\n"
	    "  e@f.example\nSubject:   spaced  \n\nbody\n", 0);
	char *v, *o;

	v = msg_get(m, "TO", 0);
	assert_string_equal(v, "a@b.example,\tc@d.example,  e@f.example");
	free(v);
	v = msg_get(m, "subject", 0);
	assert_string_equal(v, "spaced  ");
	free(v);
	assert_null(msg_get(m, "subject", 1));
	assert_null(msg_get(m, "Cc", 0));
	o = out(m);	/* folding kept byte for byte */
	assert_string_equal(o, "To: a@b.example,\r\n\tc@d.example,\r\n"
	    "  e@f.example\r\nSubject:   spaced  \r\n\r\nbody\r\n");
	free(o);
	msg_free(m);
}

static void
test_dots(void **state)
{
	const char *in = "S: x\n\na\n..\n.x\n.\nafter\n";

	/* CLI-02 with -i: every dot line is text, never unstuffed */
	expect_canon(in, 0, "S: x\r\n\r\na\r\n..\r\n.x\r\n.\r\nafter\r\n");
	/* without -i a lone "." ends the input; ".." and ".x" are kept */
	expect_canon(in, MSG_DOT_ENDS, "S: x\r\n\r\na\r\n..\r\n.x\r\n");
	expect_canon("S: x\n.\n", MSG_DOT_ENDS, "S: x\r\n");
	expect_canon("S: x\n\nb\n.", MSG_DOT_ENDS, "S: x\r\n\r\nb\r\n");
	expect_canon("S: x\n\nb\r\n.\r\nmore", MSG_DOT_ENDS,
	    "S: x\r\n\r\nb\r\n");
	expect_canon("S: x\n\n. \n", MSG_DOT_ENDS, "S: x\r\n\r\n. \r\n");
}

static void
test_mbox_from(void **state)
{
	const char *in = "From a@b.example Mon Jan  1 00:00:00 2024\n"
	    "Subject: x\n\nFrom here on\n";

	expect_canon(in, MSG_MBOX_FROM, "Subject: x\r\n\r\nFrom here on\r\n");
	expect_canon(">From a@b Mon\nS: x\n", MSG_MBOX_FROM, "S: x\r\n");
	/* without the flag the line is not a field, so it starts the body */
	expect_canon(in, 0, "\r\nFrom a@b.example Mon Jan  1 00:00:00 2024\r\n"
	    "Subject: x\r\n\r\nFrom here on\r\n");
}

static void
test_refusals(void **state)
{
	static const char nul[] = "S: x\n\nab\nc\0d\n";
	char *big;
	size_t i;

	expect_refused(nul, sizeof nul - 1, 0,
	    "line 4: NUL byte in message");
	expect_refused("A: 1\nB: 2\nC:\0\n", 13, 0,
	    "line 3: NUL byte in message");
	expect_refused("Subject: x\nTo: y@z.example", 26, 0,
	    "message cut off inside the header (no final line end)");

	/* 998 is fine, 999 is not; line numbers count input lines */
	big = xmalloc(1048576 + 64);
	strcpy(big, "S: x\n\n1\n2\n3\n6\n");
	i = strlen(big);
	memset(big + i, 'x', 998);
	strcpy(big + i + 998, "\n");
	msg_free(parse(big, 0));
	memset(big + i, 'x', 999);
	strcpy(big + i + 999, "\n");
	expect_refused(big, strlen(big), 0,
	    "line 7: line longer than 998 octets (999)");
	memset(big + i, 'x', 1048576);
	strcpy(big + i + 1048576, "\r\n");
	expect_refused(big, strlen(big), 0,
	    "line 7: line longer than 998 octets (1048576)");
	/* a long line in the header, without any line end */
	memset(big, 'h', 5000);
	expect_refused(big, 5000, 0,
	    "line 1: line longer than 998 octets (5000)");
	free(big);
}

static int
collect(void *arg, const char *mb)
{
	struct buf *b = arg;

	if (b->len > 0)
		buf_addc(b, '|');
	buf_adds(b, mb);
	return 0;
}

static void
expect_rcpts(const char *in, const char *want)
{
	struct msg *m = parse(in, 0);
	struct buf b = BUF_INIT;
	char err[128];

	buf_adds(&b, "");
	if (msg_recipients(m, 0, collect, &b, err, sizeof err) != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(b.data, want);
	buf_clear(&b);
	msg_free(m);
}

static void
test_recipients(void **state)
{
	struct msg *m;
	char err[128];
	struct buf b = BUF_INIT;

	expect_rcpts("From: me@x.example\nTo: A <a@b.example>, c@d.example\n"
	    "Cc: e@f.example\nBcc: hidden@g.example\nSubject: s\n\nTo: no@x\n",
	    "a@b.example|c@d.example|e@f.example|hidden@g.example");
	/* CLI-04: any Resent- field switches to the Resent- recipients */
	expect_rcpts("To: old@b.example\nResent-From: me@x.example\n"
	    "Resent-To: new@b.example\nResent-Bcc: blind@b.example\n\n",
	    "new@b.example|blind@b.example");
	expect_rcpts("To: old@b.example\nResent-Date: Mon, 1 Jan 2024 "
	    "00:00:00 +0000\n\n", "");
	expect_rcpts("To: undisclosed-recipients:;\nCc: team: a@b.example,\n"
	    " c@d.example;\n\n", "a@b.example|c@d.example");

	m = parse("To: a@b.example\nCc: broken <x@y.example\n\n", 0);
	buf_adds(&b, "");
	assert_int_equal(msg_recipients(m, 0, collect, &b, err, sizeof err),
	    -1);
	assert_string_equal(err, "Cc: unbalanced '<'");
	buf_clear(&b);
	msg_free(m);
}

static const struct msg_fixup fx0 = {
	"node.example.org", "me@node.example.org", NULL, 1700000000, "Q1"
};

static void
test_fixup_adds_missing(void **state)
{
	struct msg *m = parse("Subject: s\nBcc: x@y.example\n"
	    "Resent-Bcc: z@y.example\nReturn-Path: <old@x>\n\nbody\n", 0);
	regex_t re;
	char *v, *o;

	msg_fixup(m, &fx0);
	assert_int_equal(msg_count(m, "Bcc"), 0);
	assert_int_equal(msg_count(m, "Resent-Bcc"), 0);
	assert_int_equal(msg_count(m, "Return-Path"), 0);
	v = msg_get(m, "From", 0);
	assert_string_equal(v, "me@node.example.org");
	free(v);
	v = msg_get(m, "Date", 0);
	assert_int_equal(regcomp(&re, "^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} "
	    "[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}$",
	    REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, v, 0, NULL, 0), 0);
	regfree(&re);
	free(v);
	v = msg_get(m, "Message-ID", 0);
	assert_int_equal(regcomp(&re, "^<20231114221320\\.Q1\\.[0-9a-f]{16}"
	    "@node\\.example\\.org>$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, v, 0, NULL, 0), 0);
	regfree(&re);
	free(v);
	o = out(m);
	assert_non_null(strstr(o, "Subject: s\r\nFrom: me@node.example.org"
	    "\r\nDate: "));
	assert_non_null(strstr(o, "\r\n\r\nbody\r\n"));
	free(o);
	msg_free(m);
}

static void
test_fixup_keeps_present(void **state)
{
	const char *in = "From: Someone <s@x.example>\nDate: Mon, 01 Jan 2024 "
	    "00:00:00 +0000\nmessage-id: <keep@x.example>\n\nb\n";
	struct msg *m = parse(in, 0);
	char *o;

	msg_fixup(m, &fx0);
	o = out(m);
	assert_string_equal(o, "From: Someone <s@x.example>\r\nDate: Mon, 01 "
	    "Jan 2024 00:00:00 +0000\r\nmessage-id: <keep@x.example>\r\n\r\n"
	    "b\r\n");
	free(o);
	msg_free(m);
}

static void
expect_from(const char *fullname, const char *want)
{
	struct msg_fixup fx = fx0;
	struct msg *m = parse("Subject: s\n\n", 0);
	char *v;

	fx.fullname = fullname;
	msg_fixup(m, &fx);
	v = msg_get(m, "From", 0);
	assert_string_equal(v, want);
	free(v);
	msg_free(m);
}

static void
test_fixup_from_names(void **state)
{
	struct msg *m1, *m2;
	char *a, *b;

	expect_from("Cron Daemon", "Cron Daemon <me@node.example.org>");
	expect_from("Doe, John", "\"Doe, John\" <me@node.example.org>");
	expect_from("A \"q\" B.", "\"A \\\"q\\\" B.\" <me@node.example.org>");
	expect_from("", "me@node.example.org");
	expect_from("Jörg", "=?UTF-8?Q?J=C3=B6rg?= <me@node.example.org>");
	/* a newline in -F must not inject a header field */
	expect_from("x\nBcc: evil@x",
	    "\"x Bcc: evil@x\" <me@node.example.org>");

	/* two Message-IDs made in the same second still differ */
	m1 = parse("S: s\n\n", 0);
	m2 = parse("S: s\n\n", 0);
	msg_fixup(m1, &fx0);
	msg_fixup(m2, &fx0);
	a = msg_get(m1, "Message-ID", 0);
	b = msg_get(m2, "Message-ID", 0);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	msg_free(m1);
	msg_free(m2);
}

static void
test_8bit(void **state)
{
	struct msg *m = parse("Subject: plain\n\nbody caf\xc3\xa9\n", 0);

	assert_int_equal(msg_body_8bit(m), 1);
	assert_int_equal(msg_header_8bit(m), 0);
	msg_free(m);
	m = parse("Subject: caf\xc3\xa9\n\nascii body\n", 0);
	assert_int_equal(msg_body_8bit(m), 0);
	assert_int_equal(msg_header_8bit(m), 1);
	msg_free(m);
	m = parse("Subject: x\n", 0);
	assert_int_equal(msg_body_8bit(m), 0);
	msg_free(m);
}

static void
test_edit_fields(void **state)
{
	struct msg *m = parse("B: 2\nb: 3\n\nbody\n", 0);
	char *o;

	msg_prepend(m, "Received", "by node (tern); Mon, 1 Jan 2024");
	msg_append(m, "X-Last", "z");
	assert_int_equal(msg_remove(m, "B"), 2);
	assert_int_equal(msg_remove(m, "B"), 0);
	o = out(m);
	assert_string_equal(o, "Received: by node (tern); Mon, 1 Jan 2024\r\n"
	    "X-Last: z\r\n\r\nbody\r\n");
	free(o);
	msg_free(m);
	/* a message with only a body gains a header and keeps its blank */
	m = parse("\nbody\n", 0);
	msg_append(m, "Subject", "s");
	o = out(m);
	assert_string_equal(o, "Subject: s\r\n\r\nbody\r\n");
	free(o);
	msg_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lf_crlf_identical),
		cmocka_unit_test(test_lone_cr),
		cmocka_unit_test(test_final_line_gets_crlf),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_non_header_line_ends_header),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_dots),
		cmocka_unit_test(test_mbox_from),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_recipients),
		cmocka_unit_test(test_fixup_adds_missing),
		cmocka_unit_test(test_fixup_keeps_present),
		cmocka_unit_test(test_fixup_from_names),
		cmocka_unit_test(test_8bit),
		cmocka_unit_test(test_edit_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
