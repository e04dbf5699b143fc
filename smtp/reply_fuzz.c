/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the reply parser, fed a server's bytes line by line
 * (LF ends a line, a CR before it is dropped, as the engine's line reader
 * does). Invariants on each complete reply: the code is 200..599 (RFC 5321
 * 4.2: the first digit is 2-5 on the wire), the text holds no control
 * byte but the '\n' between lines, esc is empty or of the reply's class
 * (RFC 3463 2), and the one-line form has no CR or LF and parses back to
 * itself when it fits in one line (4.5.3.1.5).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_done(const struct smtp_reply *r)
{
	struct smtp_reply again;
	struct buf one = BUF_INIT, two = BUF_INIT;
	const char *why = NULL;
	size_t i;

	assert(r->code >= 200 && r->code <= 599);
	assert(r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
	assert(r->local == 0);
	for (i = 0; i < r->text.len; i++) {
		unsigned char c = (unsigned char)r->text.data[i];

		assert(c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	assert(r->esc[0] == '\0' || r->esc[0] == '0' + r->code / 100);
	assert(r->esc[0] == '\0' ||
	    strncmp(r->text.data, r->esc, strlen(r->esc)) == 0);

	smtp_reply_format(r, &one);
	assert(memchr(one.data, '\r', one.len) == NULL);
	assert(memchr(one.data, '\n', one.len) == NULL);
	assert(strlen(one.data) == one.len);
	if (one.len + 2 <= SMTP_REPLY_LINE_MAX) {
		smtp_reply_init(&again);
		assert(smtp_reply_line(&again, one.data, one.len, &why) == 0);
		assert(again.code == r->code);
		assert(strcmp(again.esc, r->esc) == 0);
		smtp_reply_format(&again, &two);
		assert(two.len == one.len &&
		    memcmp(two.data, one.data, one.len) == 0);
		smtp_reply_clear(&again);
	}
	buf_clear(&one);
	buf_clear(&two);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct smtp_reply r;
	const char *why;
	size_t len;
	int rc;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		why = NULL;
		rc = smtp_reply_line(&r, p, len, &why);
		assert(rc >= -1 && rc <= 1);
		if (rc == -1)
			assert(why != NULL && *why != '\0');
		if (rc == 0)
			check_done(&r);
		if (rc != 1)
			smtp_reply_reset(&r);
		p = nl != NULL ? nl + 1 : end;
	}
	smtp_reply_clear(&r);
	return 0;
}
