/* SPDX-License-Identifier: ISC */
/*
 * Transcript tests of the server role against an in-memory client: the
 * session, pipelining (RFC 2920), the asynchronous commit before the 250,
 * limits (SIZE, recipients, errors, line length), STARTTLS (TLS-05), AUTH,
 * BDAT, the ATRN role reversal and the idle timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <string.h>

#include "server_peer.h"
#include "smtp_int.h"

#define MIN5	(5L * 60 * 1000)

/*
 * EXT-ESC-1: every 2xx/4xx/5xx reply line carries "X.Y.Z " with X the
 * class, except the greeting and the EHLO/HELO reply (skip_first lines).
 */
static void
assert_esc(const char *out, int skip)
{
	const char *l, *nl;

	for (l = out; *l != '\0'; l = nl + 2) {
		nl = strstr(l, "\r\n");
		assert_non_null(nl);
		if (skip > 0) {
			skip -= l[3] == ' ';
			continue;
		}
		if (l[0] == '3')
			continue;
		if (!(l[4] == l[0] && l[5] == '.' && isdigit((unsigned char)l[6])))
			fail_msg("no enhanced status code: %.*s",
			    (int)(nl - l), l);
	}
}

static struct sp *
server(void)
{
	struct smtp_server_opts o;

	sp_opts(&o);
	return sp_new(&o);
}

static void
test_session(void **state)
{
	struct sp *p = server();
	const char *out;

	assert_int_equal(smtp_role(p->smtp), SMTP_SERVER);
	assert_string_equal(sp_sent(p), "220 node.example.org ESMTP tern\r\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), MIN5);
	sp_says(p, "EHLO client.example\n");
	out = sp_sent(p);
	assert_string_equal(out, "250-node.example.org\r\n250-SIZE 1000\r\n"
	    "250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250 CHUNKING\r\n");
	sp_says(p, "MAIL FROM:<me@client.example>\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n");
	sp_says(p, "RCPT TO:<you@node.example.org>\n");
	assert_string_equal(sp_sent(p), "250 2.1.5 Ok\r\n");
	sp_says(p, "DATA\n");
	assert_string_equal(sp_sent(p),
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	sp_says(p, "Subject: hi\n\nhello\n.\n");
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued as 1\r\n");
	assert_int_equal(p->nmsg, 1);
	assert_string_equal(p->body.data, "Subject: hi\r\n\r\nhello\r\n");
	assert_true(sp_has(&p->env, "helo=client.example esmtp=1 tls=0 "
	    "user=- auth=- envid=- ret=- body8=0 utf8=0 chunked=0"));
	sp_says(p, "VRFY you\nHELP\nNOOP\nRSET\nETRN example.org\nQUIT\n");
	out = sp_sent(p);
	assert_string_equal(out, "252 2.0.0 Cannot VRFY user, but will "
	    "accept message and attempt delivery\r\n"
	    "214 2.0.0 See RFC 5321; tern speaks EHLO HELO MAIL RCPT DATA "
	    "BDAT RSET NOOP QUIT VRFY STARTTLS AUTH\r\n"
	    "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
	    "502 5.5.1 Command not implemented\r\n"
	    "221 2.0.0 node.example.org Bye\r\n");
	assert_esc(out, 0);
	assert_true(sp_has(&p->ev, "mail me@client.example\n"
	    "rcpt you@node.example.org\nmessage from=<me@client.example> "
	    "rcpt=you@node.example.org len=22\nend ok 221\n"));
	assert_true(smtp_done(p->smtp));
	assert_int_equal(p->ended, 1);
	sp_free(p);
}

/* §13: one write of MAIL, RCPT, RCPT, DATA -> four replies in order. */
static void
test_pipelined(void **state)
{
	struct sp *p = server();
	const char *out;

	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nRCPT TO:<c@relay.z>\n"
	    "DATA\n");
	out = sp_sent(p);
	assert_string_equal(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "550 5.7.1 Relaying denied\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	/* EXT-PIPE-2: the body and the next group in one write. */
	sp_says(p, "x\n.\nMAIL FROM:<a@x>\nRCPT TO:<c@relay.z>\nDATA\n"
	    "RSET\n");
	out = sp_sent(p);
	assert_string_equal(out, "250 2.0.0 Ok: queued as 1\r\n"
	    "250 2.1.0 Ok\r\n550 5.7.1 Relaying denied\r\n"
	    "554 5.5.1 No valid recipients\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 1);
	sp_free(p);
}

/* SMTP-40: no 250 before the caller committed; SMTP-42: the 250 goes
 * out before the 221 of a QUIT pipelined behind the dot. */
static void
test_async_reply(void **state)
{
	struct sp *p = server();

	p->hold = 1;
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\n");
	sp_sent(p);
	sp_says(p, "hi\n.\nNOOP\nQUIT\n");
	assert_string_equal(sp_sent(p), "");
	assert_int_equal(p->nmsg, 1);
	assert_int_equal(smtp_reading(p->smtp), 0);
	assert_int_equal(smtp_timeout_ms(p->smtp), -1);
	sp_says(p, "NOOP\n");			/* kept, not answered */
	assert_string_equal(sp_sent(p), "");
	assert_int_equal(smtp_server_reply(p->smtp, 700, "x"), -1);
	assert_int_equal(smtp_server_reply(p->smtp, 250,
	    "2.0.0 Ok: queued as 7"), 0);
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued as 7\r\n"
	    "250 2.0.0 Ok\r\n221 2.0.0 node.example.org Bye\r\n");
	assert_int_equal(p->ended, 1);
	assert_int_equal(p->end_kind, SMTP_END_OK);
	assert_int_equal(smtp_server_reply(p->smtp, 250, NULL), -1);
	sp_free(p);
}

/* A full disk: 452, and the session goes on; text without an enhanced
 * code gets one, control characters cannot break the framing. */
static void
test_async_refusal(void **state)
{
	struct sp *p = server();

	p->hold = 1;
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nhi\n.\n");
	sp_sent(p);
	assert_int_equal(smtp_server_reply(p->smtp, 452,
	    "disk full\r\n250 fake"), 0);
	assert_string_equal(sp_sent(p), "452 4.0.0 disk full??250 fake\r\n");
	assert_int_equal(smtp_reading(p->smtp), 1);
	/* The transaction is gone. */
	sp_says(p, "RCPT TO:<b@y>\n");
	assert_string_equal(sp_sent(p), "503 5.5.1 Need MAIL command\r\n");
	sp_free(p);
}

/* EOF while the caller commits: the reply still counts, then the end. */
static void
test_eof_while_waiting(void **state)
{
	struct sp *p = server();

	p->hold = 1;
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nhi\n.\n");
	sp_sent(p);
	smtp_eof(p->smtp);
	assert_int_equal(p->ended, 0);
	assert_int_equal(smtp_server_reply(p->smtp, 250, NULL), 0);
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued\r\n");
	assert_int_equal(p->ended, 1);
	assert_int_equal(p->end_kind, SMTP_END_EOF);
	sp_free(p);
}

/* smtp_reading() said 0; a client that floods anyway is cut off. */
static void
test_pend_cap(void **state)
{
	struct sp *p = server();
	char *big = xmalloc(64 * 1024);
	int i;

	memset(big, 'x', 64 * 1024);
	p->hold = 1;
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nhi\n.\n");
	sp_sent(p);
	for (i = 0; i < 15; i++)
		sp_raw(p, big, 64 * 1024);
	assert_int_equal(p->ended, 0);
	for (i = 0; i < 2; i++)
		sp_raw(p, big, 64 * 1024);
	assert_int_equal(p->ended, 1);
	assert_string_equal(sp_sent(p), "421 4.5.0 node.example.org Too much "
	    "pipelined input\r\n");
	assert_int_equal(smtp_server_reply(p->smtp, 250, NULL), -1);
	free(big);
	sp_free(p);
}

static void
test_sequence(void **state)
{
	struct smtp_server_opts o;
	struct sp *p;
	const char *out;

	sp_opts(&o);
	o.max_errors = 20;
	p = sp_new(&o);
	sp_sent(p);
	sp_says(p, "MAIL FROM:<a@x>\nNOOP\nRSET\nVRFY x\n");
	out = sp_sent(p);
	assert_string_equal(out, "503 5.5.1 Send EHLO/HELO first\r\n"
	    "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n252 2.0.0 Cannot VRFY user, "
	    "but will accept message and attempt delivery\r\n");
	sp_says(p, "HELO client.example\n");
	assert_string_equal(sp_sent(p), "250 node.example.org\r\n");
	sp_says(p, "RCPT TO:<b@y>\nDATA\nMAIL FROM:<a@x>\nMAIL FROM:<a@x>\n"
	    "DATA\nMAIL FROM:<bad@x>\n");
	assert_string_equal(sp_sent(p), "503 5.5.1 Need MAIL command\r\n"
	    "503 5.5.1 Need MAIL command\r\n250 2.1.0 Ok\r\n"
	    "503 5.5.1 Nested MAIL command\r\n"
	    "554 5.5.1 No valid recipients\r\n"
	    "503 5.5.1 Nested MAIL command\r\n");
	/* EHLO resets the transaction (SMTP-21). */
	sp_says(p, "EHLO again\nMAIL FROM:<bad@x>\nRCPT TO:<postmaster>\n"
	    "MAIL FROM:<>\nRCPT TO:<PostMaster>\nRCPT TO:<>\n");
	out = sp_sent(p);
	assert_non_null(strstr(out, "250 CHUNKING\r\n"
	    "550 5.7.1 Sender refused\r\n503 5.5.1 Need MAIL command\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "501 5.1.3 Bad recipient address syntax\r\n"));
	assert_true(sp_has(&p->ev, "mail \nrcpt postmaster\n"));
	sp_free(p);
}

static void
test_params(void **state)
{
	struct sp *p = server();
	const char *out;

	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x> SIZE=1001\nMAIL FROM:<a@x> FOO=1\n"
	    "MAIL FROM:<a@x> BODY=9BIT\nMAIL FROM:<a@x> RET=ALL\n"
	    "MAIL FROM:<a@x> SIZE=1x\nMAIL FROM:<a@x> ENVID=bad+ZZ\n");
	out = sp_sent(p);
	assert_string_equal(out, "552 5.3.4 Message size exceeds fixed "
	    "maximum message size\r\n555 5.5.4 Unsupported parameter\r\n"
	    "501 5.5.4 Invalid parameter value\r\n"
	    "501 5.5.4 Invalid parameter value\r\n"
	    "501 5.5.4 Invalid parameter value\r\n"
	    "421 4.7.0 node.example.org Too many errors, closing "
	    "connection\r\n");
	/* That was 5 errors: the cap (5) closed the session. */
	assert_int_equal(p->ended, 1);
	sp_free(p);

	p = server();
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=hdrs "
	    "ENVID=id+20one AUTH=<>\n"
	    "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@y\n"
	    "RCPT TO:<c@y> NOTIFY=NEVER,DELAY\nRCPT TO:<c@y> XYZ\n"
	    "RCPT TO:<c@y> NOTIFY=never\nRCPT TO:<d\xc3\xa9@y>\nDATA\n"
	    "x\n.\n");
	out = sp_sent(p);
	assert_string_equal(out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "501 5.5.4 Invalid parameter value\r\n"
	    "555 5.5.4 Unsupported parameter\r\n250 2.1.5 Ok\r\n"
	    "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
	    "250 2.0.0 Ok: queued as 1\r\n");
	assert_true(sp_has(&p->env, "envid=id one ret=hdrs body8=1 utf8=1 "
	    "chunked=0 [b@y notify=SUCCESS,FAILURE orcpt=rfc822;b+x@y] "
	    "[c@y notify=never orcpt=-] [d\xc3\xa9@y notify=- orcpt=-]"));
	/* Not authenticated: AUTH= is not passed on (EXT-AUTH-8). */
	assert_true(sp_has(&p->env, "user=- auth=-"));
	sp_says(p, "MAIL FROM:<\xc3\xa9@x>\nRCPT TO:<b@y>\n");
	assert_string_equal(sp_sent(p), "550 5.6.7 SMTPUTF8 required for a "
	    "non-ASCII address\r\n503 5.5.1 Need MAIL command\r\n");
	sp_free(p);
}

static void
test_limits(void **state)
{
	struct sp *p = server();
	const char *out;

	sp_hello(p);
	/* 4.5.3.1.10: the fourth recipient gets 452, the rest go on. */
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<1@y>\nRCPT TO:<2@y>\n"
	    "RCPT TO:<3@y>\nRCPT TO:<4@y>\nDATA\n");
	out = sp_sent(p);
	assert_non_null(strstr(out, "250 2.1.5 Ok\r\n"
	    "452 4.5.3 Too many recipients\r\n354 "));
	sp_says(p, ".\n");
	assert_true(sp_has(&p->ev, "rcpt=1@y,2@y,3@y len=0\n"));
	sp_free(p);
}

static void
test_error_cap(void **state)
{
	struct sp *p = server();
	const char *out;

	sp_hello(p);
	sp_says(p, "FOO\nBAR\nNOOP\nBAZ\nDATA x\nQUUX\nNOOP\n");
	out = sp_sent(p);
	assert_string_equal(out, "500 5.5.1 Command unrecognized\r\n"
	    "500 5.5.1 Command unrecognized\r\n250 2.0.0 Ok\r\n"
	    "500 5.5.1 Command unrecognized\r\n"
	    "501 5.5.4 Syntax error in parameters or arguments\r\n"
	    "500 5.5.1 Command unrecognized\r\n"
	    "421 4.7.0 node.example.org Too many errors, closing "
	    "connection\r\n");
	assert_int_equal(p->end_kind, SMTP_END_PROTOCOL);
	assert_int_equal(p->end_code, 421);
	assert_int_equal(sp_says(p, "NOOP\n"), 0);
	assert_string_equal(sp_sent(p), "");
	sp_free(p);
}

/* 4.5.3.1.4: a 100 KB line gets 500, the buffer stays at the cap, and
 * the session goes on; also when it comes one octet at a time. */
static void
test_long_line(void **state)
{
	struct sp *p = server();
	size_t n = 100 * 1024, i;
	char *big = xmalloc(n + 2);

	memset(big, 'A', n);
	memcpy(big, "MAIL FROM:<", 11);
	memcpy(big + n, "\r\n", 2);
	sp_hello(p);
	sp_raw(p, big, n + 2);
	sp_says(p, "NOOP\n");
	assert_string_equal(sp_sent(p), "500 5.5.6 Line too long\r\n"
	    "250 2.0.0 Ok\r\n");
	assert_true(p->smtp->line.cap <= 2 * SMTP_CMD_LINE_MAX);
	for (i = 0; i < n + 2; i++)
		sp_raw(p, big + i, 1);
	assert_string_equal(sp_sent(p), "500 5.5.6 Line too long\r\n");
	assert_true(p->smtp->line.cap <= 2 * SMTP_CMD_LINE_MAX);
	/* A CRLF split over two inputs still ends the line. */
	sp_raw(p, "NOOP\r", 5);
	sp_raw(p, "\n", 1);
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok\r\n");
	free(big);
	sp_free(p);
}

static void
test_bad_octets(void **state)
{
	static const char nul[] = "NO\0OP\r\nNOOP\nx\r\nNOOP\r\n";
	struct sp *p = server();

	sp_hello(p);
	/* NUL: 500; a bare LF does not end a command (SMTP-01). */
	sp_raw(p, nul, sizeof nul - 1);
	assert_string_equal(sp_sent(p),
	    "500 5.5.2 Invalid character in command\r\n"
	    "500 5.5.2 Invalid character in command\r\n250 2.0.0 Ok\r\n");
	sp_says(p, "LHLO x\n");
	assert_string_equal(sp_sent(p), "500 5.5.1 Command unrecognized\r\n");
	sp_free(p);
}

static void
test_timeout(void **state)
{
	struct sp *p = server();

	sp_hello(p);
	assert_int_equal(smtp_timeout_ms(p->smtp), MIN5);
	smtp_timeout(p->smtp);
	assert_string_equal(sp_sent(p), "421 4.4.2 node.example.org Timeout, "
	    "closing connection\r\n");
	assert_int_equal(p->end_kind, SMTP_END_TIMEOUT);
	assert_int_equal(p->ended, 1);
	sp_free(p);

	p = server();
	smtp_abort(p->smtp, "shutdown");
	assert_non_null(strstr(sp_sent(p), "421 4.3.2 node.example.org "
	    "Service shutting down\r\n"));
	assert_int_equal(p->end_kind, SMTP_END_ABORT);
	sp_free(p);
}

/* TLS-05: "STARTTLS\r\nNOOP\r\n" in one read: the NOOP is never
 * answered; after the handshake the session starts afresh (TLS-03). */
static void
test_starttls(void **state)
{
	struct smtp_server_opts o;
	struct sp *p;
	const char *out;

	sp_opts(&o);
	o.offer_starttls = 1;
	o.auth_mechs = "PLAIN LOGIN";
	p = sp_new(&o);
	sp_sent(p);
	sp_says(p, "EHLO client.example\n");
	out = sp_sent(p);
	assert_non_null(strstr(out, "250-CHUNKING\r\n250 STARTTLS\r\n"));
	assert_null(strstr(out, "AUTH"));	/* EXT-AUTH-6 */
	sp_says(p, "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0\n");
	assert_string_equal(sp_sent(p), "538 5.7.11 Encryption required for "
	    "requested authentication mechanism\r\n");
	sp_says(p, "STARTTLS\nNOOP\n");
	assert_string_equal(sp_sent(p), "220 2.0.0 Ready to start TLS\r\n");
	assert_true(sp_has(&p->ev, "starttls\n"));
	assert_int_equal(smtp_reading(p->smtp), 0);
	assert_int_equal(smtp_timeout_ms(p->smtp), -1);
	sp_says(p, "NOOP\n");			/* plaintext during handshake */
	assert_int_equal(smtp_tls_up(p->smtp), 0);
	assert_string_equal(sp_sent(p), "");
	assert_int_equal(smtp_tls_up(p->smtp), -1);
	sp_says(p, "MAIL FROM:<a@x>\n");	/* the EHLO was forgotten */
	assert_string_equal(sp_sent(p), "503 5.5.1 Send EHLO/HELO first\r\n");
	sp_says(p, "EHLO client.example\n");
	out = sp_sent(p);
	assert_null(strstr(out, "STARTTLS"));	/* TLS-04 */
	assert_non_null(strstr(out, "250-CHUNKING\r\n250 AUTH PLAIN LOGIN\r\n"));
	sp_says(p, "STARTTLS\n");
	assert_string_equal(sp_sent(p), "503 5.5.1 TLS already active\r\n");
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nx\n.\n");
	sp_sent(p);
	assert_true(sp_has(&p->env, "tls=1"));
	sp_free(p);
}

static struct sp *
auth_server(int required)
{
	struct smtp_server_opts o;

	sp_opts(&o);
	o.tls_active = 1;
	o.auth_mechs = "PLAIN LOGIN";
	o.auth_required = required;
	o.max_errors = 20;
	return sp_new(&o);
}

static void
test_auth_plain(void **state)
{
	struct sp *p = auth_server(1);

	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\n");		/* SUB-03 */
	assert_string_equal(sp_sent(p), "530 5.7.0 Authentication required\r\n");
	/* Bad password, cancel, bad base64 (TV-24), unknown mechanism. */
	sp_says(p, "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAd3Jvbmc=\n"
	    "AUTH PLAIN\n*\nAUTH PLAIN\nAAA=BBB\nAUTH PLAIN =AAA\n"
	    "AUTH CRAM-MD5\nAUTH PLAIN *\nAUTH\n");
	assert_string_equal(sp_sent(p),
	    "535 5.7.8 Authentication credentials invalid\r\n"
	    "334 \r\n501 5.0.0 Authentication cancelled\r\n"
	    "334 \r\n501 5.5.2 Invalid base64 data\r\n"
	    "501 5.5.2 Invalid base64 data\r\n"
	    "504 5.5.4 Unrecognized authentication type\r\n"
	    "501 5.0.0 Authentication cancelled\r\n"
	    "501 5.5.4 Syntax: AUTH mechanism [initial-response]\r\n");
	/* TV-20, then a second AUTH is 503. */
	sp_says(p, "AUTH PLAIN AHVzZXJAZXhhbXBsZS5vcmcAc2VjcmV0\nAUTH PLAIN\n");
	assert_string_equal(sp_sent(p), "235 2.7.0 Authentication "
	    "successful\r\n503 5.5.1 Already authenticated\r\n");
	assert_string_equal(smtp_auth_user(p->smtp), "user@example.org");
	sp_says(p, "MAIL FROM:<a@x> AUTH=user+40example.org\nRCPT TO:<b@y>\n"
	    "DATA\nx\n.\n");
	assert_non_null(strstr(sp_sent(p), "250 2.0.0 Ok: queued as 1\r\n"));
	assert_true(sp_has(&p->env, "user=user@example.org "
	    "auth=user@example.org"));
	/* Secrets never reach the trace. */
	assert_null(strstr(p->trace.data, "c2VjcmV0"));
	assert_null(strstr(p->trace.data, "AAA=BBB"));
	assert_true(sp_has(&p->trace, "< AUTH PLAIN ****\n"));
	sp_free(p);
}

static void
test_auth_login(void **state)
{
	struct sp *p = auth_server(0);

	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nAUTH LOGIN\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n"
	    "503 5.5.1 AUTH not allowed in a mail transaction\r\n");
	sp_says(p, "RSET\nAUTH LOGIN\ndGVtcA==\nc2VjcmV0\n");
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok\r\n"
	    "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
	    "454 4.7.0 Temporary authentication failure\r\n");
	sp_says(p, "AUTH LOGIN dXNlckBleGFtcGxlLm9yZw==\n");
	assert_string_equal(sp_sent(p), "334 UGFzc3dvcmQ6\r\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), MIN5);
	sp_says(p, "c2VjcmV0\n");
	assert_string_equal(sp_sent(p), "235 2.7.0 Authentication "
	    "successful\r\n");
	assert_true(sp_has(&p->ev, "auth LOGIN temp\n"
	    "auth LOGIN user@example.org\n"));
	assert_true(sp_has(&p->trace, "< ****\n"));
	sp_free(p);
}

/* EXT-AUTH-3: response lines up to 12288 octets; longer ones get 500. */
static void
test_auth_long_line(void **state)
{
	struct sp *p = auth_server(0);
	size_t n = 13000;
	char *big = xmalloc(n + 2);

	memset(big, 'A', n);
	memcpy(big + n, "\r\n", 2);
	sp_hello(p);
	sp_says(p, "AUTH PLAIN\n");
	assert_string_equal(sp_sent(p), "334 \r\n");
	sp_raw(p, big, n + 2);
	assert_string_equal(sp_sent(p), "500 5.5.6 Line too long\r\n");
	/* 5000 octets of base64 is no PLAIN message, but it is read. */
	sp_says(p, "AUTH PLAIN\n");
	sp_raw(p, big + n - 5000, 5002);
	assert_string_equal(sp_sent(p), "334 \r\n535 5.7.8 Authentication "
	    "credentials invalid\r\n");
	/* The same as an initial response: past the 2 KiB command cap. */
	memcpy(big + n - 5011, "AUTH PLAIN ", 11);
	sp_raw(p, big + n - 5011, 5013);
	assert_string_equal(sp_sent(p), "535 5.7.8 Authentication "
	    "credentials invalid\r\n");
	memcpy(big, "AUTH PLAIN ", 11);
	sp_raw(p, big, n + 2);
	assert_string_equal(sp_sent(p), "500 5.5.6 Line too long\r\n");
	sp_says(p, "NOOP\n");
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok\r\n");
	free(big);
	sp_free(p);
}

static void
test_bdat(void **state)
{
	struct sp *p = server();
	const char *out;

	sp_hello(p);
	/* Swallowed: the chunk of a refused BDAT is not read as commands
	 * (EXT-BDAT-2). */
	sp_says(p, "BDAT 12\nQUIT\nQUIT\nNOOP\n");
	assert_string_equal(sp_sent(p), "503 5.5.1 Need MAIL command\r\n"
	    "250 2.0.0 Ok\r\n");
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nBDAT 12\nSubject: ");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	sp_says(p, "x\nBDAT 7 LAST\nhello\nNOOP\n");
	out = sp_sent(p);
	assert_string_equal(out, "250 2.0.0 12 octets received\r\n"
	    "250 2.0.0 Ok: queued as 1\r\n250 2.0.0 Ok\r\n");
	assert_string_equal(p->body.data, "Subject: x\r\nhello\r\n");
	assert_true(sp_has(&p->env, "chunked=1"));
	/* BDAT 0 LAST, after chunks; a last line without CRLF gets one. */
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nBDAT 3\nabcBDAT 0 LAST\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "250 2.0.0 3 octets received\r\n250 2.0.0 Ok: queued as 1\r\n");
	assert_string_equal(p->body.data, "abc\r\n");
	/* No DATA after BDAT; no recipients: swallowed. */
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nBDAT 2\nabDATA\nRSET\n"
	    "MAIL FROM:<a@x>\nBDAT 4 LAST\nNOOPRSET\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "250 2.0.0 2 octets received\r\n503 5.5.1 DATA after BDAT\r\n"
	    "250 2.0.0 Ok\r\n250 2.1.0 Ok\r\n"
	    "554 5.5.1 No valid recipients\r\n250 2.0.0 Ok\r\n");
	/* Over the size (1000): the chunk is read, then 552; chunks in
	 * flight behind it are swallowed too. */
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nBDAT 1001\n");
	{
		char big[1001];

		memset(big, 'a', sizeof big);
		sp_raw(p, big, sizeof big);
	}
	sp_says(p, "BDAT 6 LAST\nQUIT\nNOOP\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "552 5.3.4 Message exceeds the size limit of 1000 octets\r\n"
	    "503 5.5.1 Need MAIL command\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 2);
	sp_free(p);
}

/* A client engine (its callbacks record into the same struct sp) that
 * has greeted an ODMR provider and is ready. */
static struct sp *
customer(void)
{
	static const struct smtp_cb ccb = { .end = sp_end, .trace = sp_trace };
	struct smtp_client_opts o = { 0 };
	struct sp *p = xcalloc(1, sizeof *p);

	o.helo = "node.example.org";
	o.mech = -1;
	o.tls_active = 1;
	p->smtp = smtp_client_new(&o, &ccb, p);
	sp_says(p, "220 odmr.example.net ESMTP\n");
	assert_string_equal(sp_sent(p), "EHLO node.example.org\r\n");
	sp_says(p, "250-odmr.example.net\n250-AUTH PLAIN\n250 ATRN\n");
	assert_string_equal(smtp_state_name(p->smtp), "ready");
	return p;
}

/* RFC 2645 / §13: after 250 to ATRN tern greets and serves. */
static void
test_atrn_reversal(void **state)
{
	struct smtp_server_opts o;
	struct sp *p = customer();
	const char *out;

	sp_opts(&o);
	o.greeting = 0;
	o.offer_starttls = 1;			/* ignored: C-ODMR-5 */
	o.auth_mechs = "PLAIN";
	o.plaintext_ok = 1;
	assert_int_equal(smtp_atrn(p->smtp, "example.org", &o, &sp_cb), 0);
	assert_string_equal(sp_sent(p), "ATRN example.org\r\n");
	assert_int_equal(smtp_timeout_ms(p->smtp), 10 * 60 * 1000);
	/* Also the provider's EHLO in the same read as the 250. */
	sp_says(p, "250 OK now reversing the connection\nEHLO odmr\n");
	out = sp_sent(p);
	assert_string_equal(out, "220 node.example.org ESMTP tern\r\n"
	    "250-node.example.org\r\n250-SIZE 1000\r\n250-PIPELINING\r\n"
	    "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n"
	    "250-DSN\r\n250 CHUNKING\r\n");
	assert_int_equal(smtp_role(p->smtp), SMTP_SERVER);
	sp_says(p, "AUTH PLAIN\nSTARTTLS\nATRN\n");
	assert_string_equal(sp_sent(p), "502 5.5.1 AUTH not available\r\n"
	    "503 5.5.1 TLS already active\r\n"
	    "502 5.5.1 Command not implemented\r\n");
	sp_says(p, "MAIL FROM:<x@provider>\nRCPT TO:<me@example.org>\nDATA\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	    "354 End data with <CR><LF>.<CR><LF>\r\n");
	assert_int_equal(p->ended, 0);
	sp_says(p, "hi\n.\nQUIT\n");
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued as 1\r\n"
	    "221 2.0.0 node.example.org Bye\r\n");
	assert_true(sp_has(&p->env, "tls=1"));
	assert_int_equal(p->nmsg, 1);
	assert_int_equal(p->ended, 1);		/* once, the server's end */
	assert_int_equal(p->end_kind, SMTP_END_OK);
	assert_true(sp_has(&p->trace, "= atrn -> banner\n"));
	sp_free(p);
}

static void
test_atrn_no_mail(void **state)
{
	struct smtp_server_opts o;
	struct sp *p = customer();

	sp_opts(&o);
	assert_int_equal(smtp_atrn(p->smtp, NULL, &o, &sp_cb), 0);
	assert_string_equal(sp_sent(p), "ATRN\r\n");
	assert_int_equal(smtp_atrn(p->smtp, NULL, &o, &sp_cb), -1);
	sp_says(p, "453 You have no mail\n");
	assert_string_equal(sp_sent(p), "QUIT\r\n");
	sp_says(p, "221 bye\n");
	assert_int_equal(p->ended, 1);
	assert_int_equal(p->end_kind, SMTP_END_REFUSED);
	assert_int_equal(p->end_code, 453);
	assert_int_equal(smtp_role(p->smtp), SMTP_CLIENT);
	sp_free(p);
}

static void
test_become_server(void **state)
{
	struct smtp_server_opts o;
	struct sp *p = customer();

	sp_opts(&o);
	o.greeting = 0;
	assert_int_equal(smtp_become_server(p->smtp, &o, &sp_cb), 0);
	assert_string_equal(sp_sent(p), "220 node.example.org ESMTP tern\r\n");
	assert_int_equal(smtp_role(p->smtp), SMTP_SERVER);
	assert_int_equal(smtp_become_server(p->smtp, &o, &sp_cb), -1);
	sp_says(p, "QUIT\n");
	assert_string_equal(sp_sent(p), "221 2.0.0 node.example.org Bye\r\n");
	assert_true(sp_has(&p->ev, "end ok 221\n"));
	sp_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_async_reply),
		cmocka_unit_test(test_async_refusal),
		cmocka_unit_test(test_eof_while_waiting),
		cmocka_unit_test(test_pend_cap),
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_bad_octets),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_auth_plain),
		cmocka_unit_test(test_auth_login),
		cmocka_unit_test(test_auth_long_line),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_atrn_reversal),
		cmocka_unit_test(test_atrn_no_mail),
		cmocka_unit_test(test_become_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
