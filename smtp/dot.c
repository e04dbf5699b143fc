/* SPDX-License-Identifier: ISC */
/*
 * Outbound DATA content (RFC 5321 4.1.1.4, 4.5.2; protocols.md SM-20/21).
 * The queue keeps canonical CRLF text, but the engine does not trust it:
 * a bare CR or bare LF is sent as CRLF (we pick "turn into CRLF", as
 * qmail-remote does, SM-20 / §12 item 2), so no lone CR or LF ever leaves
 * tern and no "<LF>.<CR><LF>" can be smuggled through us (SM-03).
 */
#include <string.h>

#include "smtp.h"

/*
 * Walks body as lines. For each line calls emit(arg, p, n) for the text
 * (without its end), then emit(arg, NULL, 0) for the line end. A CRLF,
 * a bare LF or a bare CR each end one line; a final unterminated line
 * gets an end too (SMTP-32).
 */
static void
walk(const char *body, size_t len,
    void (*emit)(void *, const char *, size_t), void *arg)
{
	size_t i = 0, start = 0;

	while (i < len) {
		if (body[i] != '\r' && body[i] != '\n') {
			i++;
			continue;
		}
		emit(arg, body + start, i - start);
		emit(arg, NULL, 0);
		if (body[i] == '\r' && i + 1 < len && body[i + 1] == '\n')
			i++;
		start = ++i;
	}
	if (start < len) {
		emit(arg, body + start, len - start);
		emit(arg, NULL, 0);
	}
}

struct enc {
	struct buf	*out;
	int		 bol;		/* at the beginning of a line */
};

static void
emit_stuffed(void *arg, const char *p, size_t n)
{
	struct enc *e = arg;

	if (p == NULL) {
		buf_add(e->out, "\r\n", 2);
		e->bol = 1;
		return;
	}
	/* 4.5.2: a line starting with "." gets one more. */
	if (e->bol && n > 0 && p[0] == '.')
		buf_addc(e->out, '.');
	buf_add(e->out, p, n);
	e->bol = 0;
}

void
smtp_dot_encode(const char *body, size_t len, struct buf *out)
{
	struct enc e = { out, 1 };

	/* One reservation for the usual case: body, a final CRLF, ".CRLF"
	 * and some stuffing; buf grows by doubling beyond that. */
	buf_reserve(out, len + len / 64 + 8);
	walk(body, len, emit_stuffed, &e);
	buf_add(out, ".\r\n", 3);
}

static void
emit_count(void *arg, const char *p, size_t n)
{
	uint64_t *size = arg;

	*size += p == NULL ? 2 : n;
}

uint64_t
smtp_dot_size(const char *body, size_t len)
{
	uint64_t size = 0;

	walk(body, len, emit_count, &size);
	return size;
}

int
smtp_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] > 127)
			return 1;
	return 0;
}
