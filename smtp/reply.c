/* SPDX-License-Identifier: ISC */
/*
 * SMTP reply parser (RFC 5321 4.2, 4.2.1; RFC 2034 for enhanced codes).
 * Fed one line at a time by the engine's line reader, which already
 * enforces the 512-octet cap; the checks here repeat it so the parser is
 * safe on its own (tests and fuzzing call it directly).
 */
#include <stdio.h>
#include <string.h>

#include "smtp.h"

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->text);
}

void
smtp_reply_reset(struct smtp_reply *r)
{
	r->code = 0;
	r->esc[0] = '\0';
	r->local = 0;
	r->nlines = 0;
	buf_reset(&r->text);
}

void
smtp_reply_clear(struct smtp_reply *r)
{
	buf_clear(&r->text);
	smtp_reply_init(r);
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* 1-3 digits, no leading zero unless the number is 0 (RFC 3463 2);
 * returns the count eaten or 0. */
static size_t
esc_number(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && n < 4 && isdig(p[n]))
		n++;
	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return 0;
	return n;
}

/*
 * EXT-ESC-2: "class.subject.detail" followed by SP or the end of the
 * line, class equal to the reply's first digit. Anything else: no code,
 * and the caller falls back to the basic code.
 */
static void
parse_esc(struct smtp_reply *r, const char *p, size_t len)
{
	size_t i = 0, n;
	int part;

	if (r->code / 100 == 3 || len < 5 || p[0] != '0' + r->code / 100 ||
	    p[1] != '.')
		return;		/* class 2, 4 or 5 only (3463 2) */
	i = 2;
	for (part = 0; part < 2; part++) {
		if ((n = esc_number(p + i, len - i)) == 0)
			return;
		i += n;
		if (part == 0) {
			if (i >= len || p[i] != '.')
				return;
			i++;
		}
	}
	if (i < len && p[i] != ' ' && p[i] != '\t')
		return;
	if (i >= sizeof r->esc)
		return;
	memcpy(r->esc, p, i);
	r->esc[i] = '\0';
}

static void
add_text(struct smtp_reply *r, const char *p, size_t len)
{
	size_t i;

	buf_add(&r->text, "", 0);	/* text.data is never NULL after */
	if (r->nlines > 0)
		buf_addc(&r->text, '\n');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		/* Text is for humans and logs: no control bytes survive. */
		buf_addc(&r->text, (c < 0x20 && c != '\t') || c == 0x7f ?
		    '?' : (char)c);
	}
}

int
smtp_reply_line(struct smtp_reply *r, const char *line, size_t len,
    const char **why)
{
	int code;

	if (len + 2 > SMTP_REPLY_LINE_MAX) {
		*why = "reply line longer than 512 octets";
		return -1;
	}
	if (r->nlines >= SMTP_REPLY_LINES_MAX) {
		*why = "too many lines in one reply";
		return -1;
	}
	if (len < 3 || !isdig(line[0]) || !isdig(line[1]) ||
	    !isdig(line[2]) || (len > 3 && line[3] != ' ' && line[3] != '-')) {
		*why = "malformed reply line";
		return -1;
	}
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	/* 0.4: a first digit outside 2..5 is fatal. */
	if (code < 200 || code > 599) {
		*why = "reply code outside 2xx-5xx";
		return -1;
	}
	if (r->nlines > 0 && code != r->code) {
		*why = "reply code changed inside a multiline reply";
		return -1;
	}
	r->code = code;
	if (r->nlines == 0 && len > 4)
		parse_esc(r, line + 4, len - 4);
	add_text(r, len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
	r->nlines++;
	/* SMTP-11: "code-" continues; "code SP", "code" alone end it. */
	return len > 3 && line[3] == '-' ? 1 : 0;
}

void
smtp_reply_set(struct smtp_reply *r, int code, const char *esc,
    const char *text)
{
	smtp_reply_reset(r);
	r->code = code;
	r->local = 1;
	r->nlines = 1;
	if (esc != NULL) {
		snprintf(r->esc, sizeof r->esc, "%s", esc);
		buf_printf(&r->text, "%s ", esc);
	}
	buf_adds(&r->text, text);
}

void
smtp_reply_format(const struct smtp_reply *r, struct buf *out)
{
	const char *p;

	buf_reset(out);
	buf_printf(out, "%03d", r->code);
	if (r->text.len == 0)
		return;
	buf_addc(out, ' ');
	for (p = r->text.data; *p != '\0'; p++) {
		if (*p == '\n')
			buf_adds(out, " / ");
		else
			buf_addc(out, *p);
	}
}
