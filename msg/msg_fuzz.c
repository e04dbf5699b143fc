/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the sendmail message parser, with each flag set, then
 * the composer. Invariants on the canonical form (RFC 5322 2.1, 2.3;
 * RFC 5321 2.3.8): CR only in CRLF, LF only after CR, no NUL, lines of at
 * most MSG_LINE_MAX octets, a final CRLF; msg_size() is what msg_write()
 * wrote; parsing the canonical form again writes the same bytes; header
 * values have no CR or LF once unfolded.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_canonical(const struct buf *b)
{
	size_t i, col = 0;

	for (i = 0; i < b->len; i++) {
		char c = b->data[i];

		assert(c != '\0');
		if (c == '\r') {
			assert(i + 1 < b->len && b->data[i + 1] == '\n');
			continue;
		}
		if (c == '\n') {
			assert(i > 0 && b->data[i - 1] == '\r');
			col = 0;
			continue;
		}
		col++;
		assert(col <= MSG_LINE_MAX);
	}
	assert(b->len == 0 || (b->len >= 2 &&
	    memcmp(b->data + b->len - 2, "\r\n", 2) == 0));
}

static int
rcpt_cb(void *arg, const char *m)
{
	const char *why = NULL;

	assert(addr_check(m, 1, NULL, &why) == 0);
	return 0;
}

static void
one(const char *data, size_t size, int flags)
{
	struct buf out = BUF_INIT, again = BUF_INIT;
	struct msg *m, *m2;
	char err[256], *v;

	err[0] = '\0';
	if ((m = msg_parse(data, size, flags, err, sizeof err)) == NULL) {
		assert(err[0] != '\0' && strchr(err, '\n') == NULL);
		return;
	}
	buf_add(&out, "", 0);
	msg_write(m, &out);
	check_canonical(&out);
	assert(msg_size(m) == out.len);
	if ((v = msg_get(m, "Subject", 0)) != NULL) {
		assert(strchr(v, '\r') == NULL && strchr(v, '\n') == NULL);
		free(v);
	}
	(void)msg_recipients(m, 1, rcpt_cb, NULL, err, sizeof err);

	m2 = msg_parse(out.data, out.len, 0, err, sizeof err);
	assert(m2 != NULL);
	buf_add(&again, "", 0);
	msg_write(m2, &again);
	assert(again.len == out.len &&
	    memcmp(again.data, out.data, out.len) == 0);
	msg_free(m2);
	msg_free(m);
	buf_clear(&out);
	buf_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one((const char *)data, size, 0);
	one((const char *)data, size, MSG_DOT_ENDS | MSG_MBOX_FROM);
	return 0;
}
