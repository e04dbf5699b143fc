/* SPDX-License-Identifier: ISC */
/*
 * A message being injected (sendmail stdin, protocols.md CLI-02/03), turned
 * into the canonical form at once (SM-20): every line ends in CRLF and no
 * other CR or LF exists. Input line ends are LF, CRLF or a lone CR; a lone
 * CR is turned into a CRLF line end (not removed): "a\rb" is two lines, and
 * "a\r\r\n" is "a", then an empty line. Nothing is ever dot-unstuffed.
 *
 * Memory: the canonical bytes live in one buffer sized exactly in a first
 * pass. Header fields are slices of it ("Name: value\r\n" with any folding
 * kept); the body is one slice. Fields added later own their text.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../lib/util.h"
#include "addr.h"
#include "msg.h"

struct field {
	const char	*p;	/* "Name: value\r\n", folding included */
	size_t		 len;
	size_t		 namelen;
	size_t		 off;	/* while parsing: offset into canon */
	char		*own;	/* set when p is our own allocation */
};

struct msg {
	struct buf	 canon;		/* the parsed input, canonical */
	struct field	*f;
	size_t		 nf, capf;
	size_t		 body_off, body_len;
	int		 sep;		/* write an empty line after header */
};

static void
field_add(struct msg *m, size_t at, const char *p, size_t len, size_t nl,
    char *own)
{
	if (m->nf == m->capf) {
		m->capf = m->capf ? m->capf * 2 : 16;
		m->f = xreallocarray(m->f, m->capf, sizeof *m->f);
	}
	memmove(m->f + at + 1, m->f + at, (m->nf - at) * sizeof *m->f);
	m->f[at] = (struct field){ p, len, nl, 0, own };
	m->nf++;
}

/*
 * Length of the field name when line is "Name:" (RFC 5322 2.2: printable
 * ASCII except ':'), also with white space before the colon (the obsolete
 * form of 4.5), else 0.
 */
static size_t
field_name(const char *s, size_t n)
{
	size_t i, nl;

	for (i = 0; i < n && s[i] > 32 && s[i] < 127 && s[i] != ':'; i++)
		;
	nl = i;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return nl > 0 && i < n && s[i] == ':' ? nl : 0;
}

/* Octets of the canonical form: each lone CR or LF grows by one. */
static size_t
canon_size(const char *d, size_t len)
{
	size_t i, n = len + 2;

	for (i = 0; i < len; i++) {
		if (d[i] == '\r' && i + 1 < len && d[i + 1] == '\n')
			i++;
		else if (d[i] == '\r' || d[i] == '\n')
			n++;
	}
	return n;
}

struct line {
	const char	*p;
	size_t		 len;		/* without the line end */
	int		 ended;		/* had a line end in the input */
};

/* Next input line at *pos; returns -1 with err on NUL or an overlong line. */
static int
next_line(const char *d, size_t len, size_t *pos, size_t lineno,
    struct line *l, char *err, size_t errlen)
{
	size_t i = *pos;
	const char *nul;

	while (i < len && d[i] != '\r' && d[i] != '\n')
		i++;
	l->p = d + *pos;
	l->len = i - *pos;
	l->ended = i < len;
	if ((nul = memchr(l->p, '\0', l->len)) != NULL) {
		snprintf(err, errlen, "line %zu: NUL byte in message", lineno);
		return -1;
	}
	if (l->len > MSG_LINE_MAX) {
		snprintf(err, errlen, "line %zu: line longer than %d octets "
		    "(%zu)", lineno, MSG_LINE_MAX, l->len);
		return -1;
	}
	if (i < len && d[i] == '\r' && i + 1 < len && d[i + 1] == '\n')
		i++;
	*pos = i < len ? i + 1 : i;
	return 0;
}

/*
 * Header-section step for one line: 1 when it belongs to the header, 0 when
 * it ends it (empty line: consumed; any other line: begins the body).
 */
static int
header_line(struct msg *m, const struct line *l, int *consumed)
{
	struct buf *c = &m->canon;
	size_t nl;

	*consumed = 1;
	if (l->len == 0)
		return 0;
	if ((l->p[0] == ' ' || l->p[0] == '\t') && m->nf > 0) {
		buf_add(c, l->p, l->len);	/* continuation: 2.2.3 */
		buf_add(c, "\r\n", 2);
		m->f[m->nf - 1].len += l->len + 2;
		return 1;
	}
	if ((nl = field_name(l->p, l->len)) == 0) {
		*consumed = 0;
		return 0;
	}
	/* An offset for now: the buffer is fixed once parsing ends. */
	field_add(m, m->nf, NULL, l->len + 2, nl, NULL);
	m->f[m->nf - 1].off = c->len;
	buf_add(c, l->p, l->len);
	buf_add(c, "\r\n", 2);
	return 1;
}

static int
parse_lines(struct msg *m, const char *d, size_t len, int flags, char *err,
    size_t errlen)
{
	struct line l;
	size_t pos = 0, lineno = 0;
	int in_header = 1, used;

	while (pos < len) {
		if (next_line(d, len, &pos, ++lineno, &l, err, errlen) == -1)
			return -1;
		/* CLI-03: a leading mbox separator is not part of the mail. */
		if (lineno == 1 && (flags & MSG_MBOX_FROM) &&
		    ((l.len >= 5 && memcmp(l.p, "From ", 5) == 0) ||
		    (l.len >= 6 && memcmp(l.p, ">From ", 6) == 0)))
			continue;
		/* CLI-02: without -i a line of one "." ends the input. */
		if ((flags & MSG_DOT_ENDS) && l.len == 1 && l.p[0] == '.')
			break;
		if (in_header) {
			if (header_line(m, &l, &used)) {
				if (!l.ended) {
					snprintf(err, errlen, "message cut off "
					    "inside the header (no final line "
					    "end)");
					return -1;
				}
				continue;
			}
			in_header = 0;
			m->sep = 1;
			m->body_off = m->canon.len;
			if (used)
				continue;
		}
		buf_add(&m->canon, l.p, l.len);
		buf_add(&m->canon, "\r\n", 2);
	}
	if (!in_header)
		m->body_len = m->canon.len - m->body_off;
	return 0;
}

struct msg *
msg_parse(const char *data, size_t len, int flags, char *err, size_t errlen)
{
	struct msg *m = xcalloc(1, sizeof *m);
	size_t i;

	buf_init(&m->canon);
	buf_reserve(&m->canon, canon_size(data, len));
	if (parse_lines(m, data, len, flags, err, errlen) == -1) {
		msg_free(m);
		return NULL;
	}
	for (i = 0; i < m->nf; i++)
		m->f[i].p = m->canon.data + m->f[i].off;
	return m;
}

void
msg_free(struct msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nf; i++)
		free(m->f[i].own);
	free(m->f);
	buf_clear(&m->canon);
	free(m);
}

static int
is_named(const struct field *f, const char *name)
{
	return strlen(name) == f->namelen &&
	    strncasecmp(f->p, name, f->namelen) == 0;
}

static const struct field *
find(const struct msg *m, const char *name, size_t idx)
{
	size_t i;

	for (i = 0; i < m->nf; i++)
		if (is_named(&m->f[i], name) && idx-- == 0)
			return &m->f[i];
	return NULL;
}

size_t
msg_count(const struct msg *m, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < m->nf; i++)
		n += is_named(&m->f[i], name);
	return n;
}

char *
msg_get(const struct msg *m, const char *name, size_t idx)
{
	const struct field *f = find(m, name, idx);
	const char *p, *e;
	struct buf b = BUF_INIT;

	if (f == NULL)
		return NULL;
	p = (const char *)memchr(f->p, ':', f->len) + 1;
	e = f->p + f->len;
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	buf_add(&b, "", 0);
	for (; p < e; p++)	/* 2.2.3: unfolding removes each CRLF */
		if (*p != '\r' && *p != '\n')
			buf_addc(&b, *p);
	return buf_take(&b);
}

size_t
msg_remove(struct msg *m, const char *name)
{
	size_t i, j, n = 0;

	for (i = j = 0; i < m->nf; i++) {
		if (is_named(&m->f[i], name)) {
			free(m->f[i].own);
			n++;
		} else
			m->f[j++] = m->f[i];
	}
	m->nf = j;
	return n;
}

static void
add_field(struct msg *m, size_t at, const char *name, const char *value)
{
	char *s = xasprintf("%s: %s\r\n", name, value);

	field_add(m, at, s, strlen(s), strlen(name), s);
}

void
msg_prepend(struct msg *m, const char *name, const char *value)
{
	add_field(m, 0, name, value);
}

void
msg_append(struct msg *m, const char *name, const char *value)
{
	add_field(m, m->nf, name, value);
}

int
msg_recipients(const struct msg *m, int allow_nodomain,
    int (*cb)(void *, const char *), void *arg, char *err, size_t errlen)
{
	static const char *const plain[] = { "To", "Cc", "Bcc" };
	static const char *const resent[] = { "Resent-To", "Resent-Cc",
	    "Resent-Bcc" };
	const char *const *names = plain;
	const struct field *f;
	const char *why = NULL, *v;
	size_t i, k;
	int rc;

	/* RFC 5322 3.6.6, CLI-04: any Resent- field makes it a resend. */
	for (i = 0; i < m->nf; i++)
		if (m->f[i].namelen > 7 &&
		    strncasecmp(m->f[i].p, "Resent-", 7) == 0)
			names = resent;
	for (i = 0; i < m->nf; i++) {
		f = &m->f[i];
		for (k = 0; k < 3 && !is_named(f, names[k]); k++)
			;
		if (k == 3)
			continue;
		v = (const char *)memchr(f->p, ':', f->len) + 1;
		rc = addr_list(v, (size_t)(f->p + f->len - v), allow_nodomain,
		    cb, arg, &why);
		if (rc == -1) {
			snprintf(err, errlen, "%s: %s", names[k],
			    why != NULL ? why : "refused by the caller");
			return -1;
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Octets of the Q encoding (RFC 2047 4.2) of one character of s. */
static void
q_char(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (isalnum(s[i]) || strchr("!*+-/", s[i]) != NULL)
			buf_addc(b, (char)s[i]);
		else if (s[i] == ' ')
			buf_addc(b, '_');
		else
			buf_printf(b, "=%02X", s[i]);
	}
}

/*
 * A non-ASCII display name as RFC 2047 encoded words (5, rule 3: allowed
 * in a phrase), each at most 75 octets and never splitting a UTF-8
 * character (RFC 2047 5), folded between words.
 */
static void
name_encoded(struct buf *b, const unsigned char *s, size_t n)
{
	struct buf ch = BUF_INIT;
	size_t i = 0, k, start = b->len;

	buf_adds(b, "=?UTF-8?Q?");
	while (i < n) {
		for (k = 1; i + k < n && (s[i + k] & 0xc0) == 0x80; k++)
			;
		buf_reset(&ch);
		q_char(&ch, s + i, k);
		if (b->len - start + ch.len + 2 > 75) {
			buf_adds(b, "?=\r\n =?UTF-8?Q?");
			start = b->len - 10;
		}
		buf_add(b, ch.data, ch.len);
		i += k;
	}
	buf_adds(b, "?=");
	buf_clear(&ch);
}

/* The From: value for msg_fixup(): "Name <addr>", quoted when needed. */
static char *
from_value(const char *fullname, const char *from)
{
	struct buf name = BUF_INIT, b = BUF_INIT;
	int eight = 0, special = 0;
	size_t i, cut = fullname != NULL ? strlen(fullname) : 0;
	unsigned char c;

	if (cut > 256)	/* a sane length, not inside a UTF-8 character */
		for (cut = 256; cut > 0 && (fullname[cut] & 0xc0) == 0x80;)
			cut--;
	/* No control character, CR or LF from -F may reach the header. */
	for (i = 0; i < cut; i++) {
		c = (unsigned char)fullname[i];
		buf_addc(&name, c < 0x20 || c == 0x7f ? ' ' : (char)c);
		eight |= c >= 0x80;
		special |= strchr("()<>[]:;@\\,.\"", c) != NULL;
	}
	if (name.len == 0) {
		buf_adds(&b, from);
	} else if (eight) {
		name_encoded(&b, (const unsigned char *)name.data, name.len);
		buf_printf(&b, " <%s>", from);
	} else if (special || name.data[0] == ' ' ||
	    name.data[name.len - 1] == ' ') {
		buf_addc(&b, '"');	/* RFC 5322 3.2.4 quoted-string */
		for (i = 0; i < name.len; i++) {
			if (name.data[i] == '"' || name.data[i] == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, name.data[i]);
		}
		buf_printf(&b, "\" <%s>", from);
	} else
		buf_printf(&b, "%.*s <%s>", (int)name.len, name.data, from);
	buf_clear(&name);
	return buf_take(&b);
}

/* <YYYYMMDDhhmmss.QUEUEID.RANDOMHEX@hostname>: unique without state. */
static char *
message_id(const struct msg_fixup *fx)
{
	unsigned char rnd[8];
	char hex[17], stamp[16];
	time_t t = (time_t)fx->now;
	struct tm tm;
	uint64_t v;
	size_t i;

	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
		v = (uint64_t)clock_wall_us() ^ (uint64_t)getpid() << 40;
		memcpy(rnd, &v, sizeof rnd);
	}
	for (i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
	return xasprintf("<%s.%s%s%s@%s>", stamp,
	    fx->queue_id != NULL ? fx->queue_id : "",
	    fx->queue_id != NULL ? "." : "", hex,
	    fx->hostname != NULL ? fx->hostname : "localhost");
}

void
msg_fixup(struct msg *m, const struct msg_fixup *fx)
{
	char date[64], *v;

	/* 5322 3.6.3 method 1 and SMTP-73: blind copies stay blind, and
	 * Return-Path is written only at final delivery. */
	msg_remove(m, "Bcc");
	msg_remove(m, "Resent-Bcc");
	msg_remove(m, "Return-Path");
	/* RFC 6409 8.1-8.3: an MSA may add what is missing, only that.
	 * With no address at all (the null sender and no configured from)
	 * there is nothing valid to put in From:, so none is invented. */
	if (msg_count(m, "From") == 0 && fx->from != NULL &&
	    fx->from[0] != '\0') {
		v = from_value(fx->fullname, fx->from);
		msg_append(m, "From", v);
		free(v);
	}
	if (msg_count(m, "Date") == 0) {
		time_rfc5322(fx->now, date, sizeof date);
		msg_append(m, "Date", date);
	}
	if (msg_count(m, "Message-ID") == 0) {
		v = message_id(fx);
		msg_append(m, "Message-ID", v);
		free(v);
	}
}

static int
has_8bit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return 1;
	return 0;
}

int
msg_body_8bit(const struct msg *m)
{
	return has_8bit(m->canon.data + m->body_off, m->body_len);
}

int
msg_header_8bit(const struct msg *m)
{
	size_t i;

	for (i = 0; i < m->nf; i++)
		if (has_8bit(m->f[i].p, m->f[i].len))
			return 1;
	return 0;
}

void
msg_write(const struct msg *m, struct buf *b)
{
	size_t i;

	buf_reserve(b, msg_size(m));
	for (i = 0; i < m->nf; i++)
		buf_add(b, m->f[i].p, m->f[i].len);
	if (m->sep) {
		buf_add(b, "\r\n", 2);
		buf_add(b, m->canon.data + m->body_off, m->body_len);
	}
}

size_t
msg_size(const struct msg *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->nf; i++)
		n += m->f[i].len;
	return n + (m->sep ? 2 + m->body_len : 0);
}
