/* SPDX-License-Identifier: ISC */
/*
 * The server's DATA/BDAT readers against the smuggling vectors of
 * protocols.md §2 and §13 (TV-01..TV-08): end of data is CR LF "." CR LF
 * only, bare CR/LF is refused after the real terminator, never repaired;
 * the terminator is found whatever the segmentation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "server_peer.h"
#include "smtp_int.h"

#define GO	"354 End data with <CR><LF>.<CR><LF>\r\n"
#define OK	"250 2.0.0 Ok: queued as 1\r\n"
#define BARE	"550 5.6.0 Bare CR or LF not allowed in message content\r\n"

/* A server after EHLO, MAIL, RCPT, DATA and the 354. */
static struct sp *
in_data(void)
{
	struct smtp_server_opts o;
	struct sp *p;

	sp_opts(&o);
	o.size_max = 4000;
	p = sp_new(&o);
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" GO);
	return p;
}

static void
raw(struct sp *p, const char *s)
{
	sp_raw(p, s, strlen(s));
}

/* TV-01..TV-03: plain, empty, unstuffed once. */
static void
test_vectors_ok(void **state)
{
	static const struct { const char *in, *body; } v[] = {
		{ "Hi\r\n.\r\n", "Hi\r\n" },			/* TV-01 */
		{ ".\r\n", "" },				/* TV-02 */
		{ "..x\r\n.\r\n", ".x\r\n" },			/* TV-03 */
		{ "a\r\n..\r\n...\r\n.b.\r\n.\r\n", "a\r\n.\r\n..\r\nb.\r\n" },
		{ "\r\n\r\n.\r\n", "\r\n\r\n" },
		{ "x.\r\n.\r\n", "x.\r\n" },
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sp *p = in_data();

		raw(p, v[i].in);
		assert_string_equal(sp_sent(p), OK);
		assert_int_equal(p->nmsg, 1);
		assert_int_equal(p->body.len, strlen(v[i].body));
		assert_memory_equal(p->body.data, v[i].body, p->body.len);
		sp_free(p);
	}
}

/*
 * TV-04: the classic smuggling payload. The bare-LF dot does not end the
 * message, the MAIL/RCPT/DATA after it are content, the real terminator
 * ends the one message, which is refused; no second message ever.
 */
static void
test_tv04_smuggling(void **state)
{
	static const char *const forms[] = {
		"\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r", "\n.\r",
		"\r.\r\n", "\r.\n",
	};
	struct buf in = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct sp *p = in_data();

		buf_reset(&in);
		buf_printf(&in, "a%sMAIL FROM:<evil@x>\r\nRCPT TO:<b@y>\r\n"
		    "DATA\r\nspoofed\r\n.\r\nNOOP\r\n", forms[i]);
		raw(p, in.data);
		assert_string_equal(sp_sent(p), BARE "250 2.0.0 Ok\r\n");
		assert_int_equal(p->nmsg, 0);
		assert_null(strstr(p->ev.data, "evil"));
		/* The session is intact: the next message goes through. */
		sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\nDATA\nok\n.\n");
		assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n"
		    "250 2.1.5 Ok\r\n" GO OK);
		assert_int_equal(p->nmsg, 1);
		assert_string_equal(p->body.data, "ok\r\n");
		sp_free(p);
	}
	buf_clear(&in);
}

/* TV-06/TV-07 on their own and at the very end of the input: nothing
 * ends, nothing is answered, the engine keeps reading. */
static void
test_not_terminators(void **state)
{
	static const char *const v[] = {
		"a\n.\r\n", "a\r.\r", "a\r\n.\n", "a\n.\n", "a\r\n.\r", "a\n.\r",
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct sp *p = in_data();

		raw(p, v[i]);
		raw(p, "NOOP\r\n");
		assert_string_equal(sp_sent(p), "");
		assert_int_equal(smtp_reading(p->smtp), 1);
		raw(p, "\r\n.\r\n");
		assert_string_equal(sp_sent(p), BARE);
		assert_int_equal(p->nmsg, 0);
		sp_free(p);
	}
}

/* TV-05: the terminator split over reads, and every octet on its own. */
static void
test_tv05_segmentation(void **state)
{
	static const char body[] = "a\r\n..b\r\nc\r\n.\r\nNOOP\r\n";
	struct sp *p = in_data();
	size_t i;

	raw(p, "a\r\n.\r");
	assert_string_equal(sp_sent(p), "");
	raw(p, "\nNOOP\r\n");
	assert_string_equal(sp_sent(p), OK "250 2.0.0 Ok\r\n");
	assert_string_equal(p->body.data, "a\r\n");
	sp_free(p);

	p = in_data();
	for (i = 0; i < sizeof body - 1; i++) {
		sp_raw(p, body + i, 1);
		if (i + 1 < sizeof body - 1 - 6)
			assert_string_equal(sp_sent(p), "");
	}
	assert_string_equal(sp_sent(p), OK "250 2.0.0 Ok\r\n");
	assert_string_equal(p->body.data, "a\r\n.b\r\nc\r\n");
	sp_free(p);

	/* A bare CR split from what follows it is still bare. */
	p = in_data();
	raw(p, "a\r");
	raw(p, "b\r\n.\r");
	raw(p, "\n");
	assert_string_equal(sp_sent(p), BARE);
	sp_free(p);
}

/* TV-08 and SMTP 2.1.1: 998 octets is fine; 999 is read in full, then
 * refused; the line is never split or truncated. */
static void
test_tv08_long_line(void **state)
{
	struct sp *p = in_data();
	char line[1200];

	memset(line, 'x', sizeof line);
	sp_raw(p, line, 998);
	raw(p, "\r\n.\r\n");
	assert_string_equal(sp_sent(p), OK);
	assert_int_equal(p->body.len, 1000);
	sp_free(p);

	p = in_data();
	raw(p, ".");			/* a stuffed dot does not count */
	sp_raw(p, line, 998);
	raw(p, "\r\n.\r\n");
	assert_string_equal(sp_sent(p), OK);
	sp_free(p);

	p = in_data();
	sp_raw(p, line, 999);
	raw(p, "\r\nMAIL FROM:<x@y>\r\n.\r\nNOOP\r\n");
	assert_string_equal(sp_sent(p), "554 5.6.0 Line longer than 998 "
	    "octets in message content\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 0);
	sp_free(p);
}

static void
test_nul(void **state)
{
	static const char in[] = "a\0b\r\n.\r\nNOOP\r\n";
	struct sp *p = in_data();

	sp_raw(p, in, sizeof in - 1);
	assert_string_equal(sp_sent(p), "554 5.6.0 NUL octet in message "
	    "content\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 0);
	sp_free(p);
}

/* EXT-SIZE-3: the real size is counted while reading (content after
 * unstuffing, CRLFs included); over the limit: read to the end, 552. */
static void
test_size(void **state)
{
	struct sp *p = in_data();
	char big[4000];

	memset(big, 'y', sizeof big);
	/* 3 lines of 998 + CRLF = 3000, plus 998 + CRLF = 4000: fits. */
	sp_raw(p, big, 998);
	raw(p, "\r\n");
	sp_raw(p, big, 998);
	raw(p, "\r\n");
	sp_raw(p, big, 998);
	raw(p, "\r\n.");	/* stuffing dot: not counted */
	sp_raw(p, big, 998);
	raw(p, "\r\n.\r\n");
	assert_string_equal(sp_sent(p), OK);
	assert_int_equal(p->body.len, 4000);
	sp_free(p);

	p = in_data();
	sp_raw(p, big, 998);
	raw(p, "\r\n");
	sp_raw(p, big, 998);
	raw(p, "\r\n");
	sp_raw(p, big, 998);
	raw(p, "\r\n");
	sp_raw(p, big, 998);
	raw(p, "\r\nz\r\n");
	/* Memory: the engine stops keeping the body at the limit. */
	assert_true(p->smtp->tx.size == 4003);
	assert_true(p->smtp->tx.body.len <= 4000);
	raw(p, ".\r\nNOOP\r\n");
	assert_string_equal(sp_sent(p), "552 5.3.4 Message exceeds the size "
	    "limit of 4000 octets\r\n250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 0);
	sp_free(p);
}

/* After EHLO, MAIL and RCPT: ready for BDAT. */
static struct sp *
in_tx(void)
{
	struct smtp_server_opts o;
	struct sp *p;

	sp_opts(&o);
	p = sp_new(&o);
	sp_hello(p);
	sp_says(p, "MAIL FROM:<a@x>\nRCPT TO:<b@y>\n");
	assert_string_equal(sp_sent(p), "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	return p;
}

/* SM-13: BDAT content gets the same checks; no terminator in BDAT. */
static void
test_bdat_content(void **state)
{
	struct sp *p = in_tx();

	raw(p, "BDAT 8 LAST\r\na\n.\r\nb\r\nNOOP\r\n");
	assert_string_equal(sp_sent(p), BARE "250 2.0.0 Ok\r\n");
	assert_int_equal(p->nmsg, 0);
	sp_free(p);

	/* A CRLF split over two chunks is a real CRLF. */
	p = in_tx();
	raw(p, "BDAT 2\r\na\r");
	raw(p, "BDAT 4 LAST\r\n\nb\r\n");
	assert_string_equal(sp_sent(p), "250 2.0.0 2 octets received\r\n"
	    OK);
	assert_string_equal(p->body.data, "a\r\nb\r\n");
	sp_free(p);

	/* A CR at the very end is bare. */
	p = in_tx();
	raw(p, "BDAT 2 LAST\r\nx\r");
	assert_string_equal(sp_sent(p), BARE);
	sp_free(p);

	/* ".\r\n" inside a chunk is content: no terminator, no unstuffing. */
	p = in_tx();
	raw(p, "BDAT 4\r\na\r\n.BDAT 3 LAST\r\n\r\nb");
	assert_string_equal(sp_sent(p), "250 2.0.0 4 octets received\r\n" OK);
	assert_string_equal(p->body.data, "a\r\n.\r\nb\r\n");
	sp_free(p);
}

/* While the message is being committed, the rest waits; a message with
 * a bare LF never reaches the caller at all. */
static void
test_pipelined_after_dot(void **state)
{
	struct sp *p = in_data();

	p->hold = 1;
	raw(p, "m1\r\n.\r\nMAIL FROM:<c@x>\r\nRCPT TO:<d@y>\r\nDATA\r\n");
	assert_string_equal(sp_sent(p), "");
	assert_int_equal(p->nmsg, 1);
	raw(p, "m2\r\n.\r\n");
	assert_string_equal(sp_sent(p), "");
	assert_int_equal(smtp_server_reply(p->smtp, 250, NULL), 0);
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued\r\n"
	    "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" GO);
	assert_int_equal(p->nmsg, 2);
	assert_string_equal(p->body.data, "m2\r\n");
	assert_int_equal(smtp_server_reply(p->smtp, 250, NULL), 0);
	assert_string_equal(sp_sent(p), "250 2.0.0 Ok: queued\r\n");
	sp_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_ok),
		cmocka_unit_test(test_tv04_smuggling),
		cmocka_unit_test(test_not_terminators),
		cmocka_unit_test(test_tv05_segmentation),
		cmocka_unit_test(test_tv08_long_line),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bdat_content),
		cmocka_unit_test(test_pipelined_after_dot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
