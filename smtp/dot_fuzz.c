/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: DATA content encoding (RFC 5321 4.5.2, protocols.md
 * SM-20/21). Invariants: the output has no bare CR or LF (so no
 * "<LF>.<CR><LF>" can be smuggled through tern, SM-03), ends with
 * CRLF.CRLF (just ".CRLF" for an empty body), holds no line "." before
 * the end, smtp_dot_size() counts the normalised body, and removing the
 * terminator and one leading dot per line gives back the body with every
 * CRLF, bare CR and bare LF made CRLF and a final CRLF added.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The body as the engine means to send it, before stuffing. */
static void
normalise(const char *p, size_t len, struct buf *out)
{
	size_t i;
	int bol = 1;

	for (i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			buf_add(out, "\r\n", 2);
			if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			bol = 1;
			continue;
		}
		buf_addc(out, p[i]);
		bol = 0;
	}
	if (!bol)
		buf_add(out, "\r\n", 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct buf enc = BUF_INIT, norm = BUF_INIT, back = BUF_INIT;
	size_t i, start;

	buf_add(&enc, "", 0);
	buf_add(&norm, "", 0);
	buf_add(&back, "", 0);
	smtp_dot_encode(body, size, &enc);
	normalise(body, size, &norm);
	assert(smtp_dot_size(body, size) == norm.len);

	for (i = 0; i < enc.len; i++) {
		if (enc.data[i] == '\r')
			assert(i + 1 < enc.len && enc.data[i + 1] == '\n');
		if (enc.data[i] == '\n')
			assert(i > 0 && enc.data[i - 1] == '\r');
	}
	if (norm.len == 0) {
		assert(enc.len == 3 && memcmp(enc.data, ".\r\n", 3) == 0);
	} else {
		assert(enc.len >= 5 &&
		    memcmp(enc.data + enc.len - 5, "\r\n.\r\n", 5) == 0);
	}

	/* Un-stuff line by line up to the terminator, the receiver's job. */
	for (start = 0; start < enc.len; ) {
		const char *nl = memchr(enc.data + start, '\n',
		    enc.len - start);
		size_t end = (size_t)(nl - enc.data) + 1;

		assert(nl != NULL);
		if (end - start == 3 && enc.data[start] == '.') {
			assert(end == enc.len);	/* the only "." line */
			break;
		}
		if (enc.data[start] == '.')
			start++;
		buf_add(&back, enc.data + start, end - start);
		start = end;
	}
	assert(back.len == norm.len &&
	    memcmp(back.data, norm.data, norm.len) == 0);
	buf_clear(&enc);
	buf_clear(&norm);
	buf_clear(&back);
	return 0;
}
