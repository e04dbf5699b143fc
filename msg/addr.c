/* SPDX-License-Identifier: ISC */
/*
 * Mailbox syntax (RFC 5321 4.1.2, limits 4.5.3.1), RFC 5322 3.4 address
 * lists (with the obsolete forms of 4.4 that MUAs still write) and UTF-8
 * addresses (RFC 6531 3.3). addr_list() is a small tokenizer plus a parser
 * over its tokens: comments and folding white space vanish in the
 * tokenizer, so the parser only sees words, specials and domain literals.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "addr.h"

/* RFC 5322 3.2.3 atext, ASCII part. */
static int
is_atext(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * Length of the valid UTF-8 sequence (RFC 3629 4) starting at s with at most
 * n octets, or 0 when it is invalid: overlong, surrogate, beyond U+10FFFF,
 * truncated. C1 controls (U+0080..U+009F) count as invalid here, because
 * no address may contain a control character.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned int cp;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp < 0xa0)
		return 0;
	return len;
}

/* Dot-string (RFC 5321 4.1.2) with UTF-8 atext (RFC 6531 3.3). */
static int
check_dotstring(const unsigned char *s, size_t n, int *utf8,
    const char **why)
{
	size_t i, u;

	if (s[0] == '.')
		return *why = "local part starts with '.'", -1;
	if (s[n - 1] == '.')
		return *why = "local part ends with '.'", -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i + 1 < n && s[i + 1] == '.')
				return *why = "'..' in local part", -1;
		} else if (s[i] >= 0x80) {
			if ((u = utf8_len(s + i, n - i)) == 0)
				return *why = "invalid UTF-8", -1;
			*utf8 = 1;
			i += u - 1;
		} else if (s[i] < 0x20 || s[i] == 0x7f)
			return *why = "control character in local part", -1;
		else if (!is_atext(s[i]))
			return *why = "invalid character in local part", -1;
	}
	return 0;
}

/*
 * Quoted-string (RFC 5321 4.1.2: qtextSMTP is %d32-33 / %d35-91 / %d93-126,
 * quoted-pairSMTP is '\' %d32-126; RFC 6531 adds UTF-8 to qtext). Returns
 * the octets it spans including both quotes, or 0 with *why.
 */
static size_t
scan_quoted(const unsigned char *s, size_t n, int *utf8, const char **why)
{
	size_t i, u;

	for (i = 1; i < n; i++) {
		if (s[i] == '"')
			return i + 1;
		if (s[i] == '\\') {
			if (i + 1 >= n)
				break;
			if (s[i + 1] < 0x20 || s[i + 1] > 0x7e)
				return *why = "invalid quoted pair", 0;
			i++;
		} else if (s[i] >= 0x80) {
			if ((u = utf8_len(s + i, n - i)) == 0)
				return *why = "invalid UTF-8", 0;
			*utf8 = 1;
			i += u - 1;
		} else if (s[i] < 0x20 || s[i] == 0x7f)
			return *why = "control character in quoted local part",
			    0;
	}
	return *why = "unbalanced quote", 0;
}

/* Address literal (RFC 5321 4.1.3): [IPv4] or [IPv6:...]. */
static int
check_literal(const char *s, size_t n, const char **why)
{
	char tmp[64];
	unsigned char addr[16];

	if (n < 3 || s[n - 1] != ']')
		return *why = "unbalanced '[' in domain", -1;
	if (n - 2 >= sizeof tmp)
		return *why = "invalid address literal", -1;
	memcpy(tmp, s + 1, n - 2);
	tmp[n - 2] = '\0';
	if (strncasecmp(tmp, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, tmp + 5, addr) != 1)
			return *why = "invalid IPv6 address literal", -1;
	} else if (inet_pton(AF_INET, tmp, addr) != 1)
		return *why = "invalid address literal", -1;
	return 0;
}

/* One LDH label, or a U-label of UTF-8 and LDH octets (RFC 6531 3.3). */
static int
check_label(const unsigned char *s, size_t n, int *utf8, const char **why)
{
	size_t i, u;

	if (n == 0)
		return *why = "empty domain label", -1;
	if (n > 63)
		return *why = "domain label longer than 63 octets", -1;
	if (s[0] == '-')
		return *why = "domain label starts with '-'", -1;
	if (s[n - 1] == '-')
		return *why = "domain label ends with '-'", -1;
	for (i = 0; i < n; i++) {
		if (s[i] >= 0x80) {
			if ((u = utf8_len(s + i, n - i)) == 0)
				return *why = "invalid UTF-8", -1;
			*utf8 = 1;
			i += u - 1;
		} else if (!isalnum(s[i]) && s[i] != '-')
			return *why = "invalid character in domain", -1;
	}
	return 0;
}

static int
check_domain(const char *s, size_t n, int *utf8, const char **why)
{
	const char *dot;
	size_t at = 0, l;

	if (n == 0)
		return *why = "empty domain", -1;
	if (n > ADDR_DOMAIN_MAX)
		return *why = "domain longer than 255 octets", -1;
	if (s[0] == '[')
		return check_literal(s, n, why);
	while (at <= n) {
		dot = memchr(s + at, '.', n - at);
		l = dot != NULL ? (size_t)(dot - (s + at)) : n - at;
		if (check_label((const unsigned char *)s + at, l, utf8,
		    why) == -1)
			return -1;
		at += l + 1;
	}
	return 0;
}

int
addr_check(const char *s, int allow_nodomain, int *flags, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), local;
	const char *at;
	int utf8 = 0;

	if (flags != NULL)
		*flags = 0;
	if (n == 0)
		return *why = "empty address", -1;
	if (u[0] == '"') {
		if ((local = scan_quoted(u, n, &utf8, why)) == 0)
			return -1;
		if (local < n && s[local] != '@')
			return *why = "text after the quoted local part", -1;
	} else {
		at = strchr(s, '@');
		local = at != NULL ? (size_t)(at - s) : n;
		if (local == 0)
			return *why = "empty local part", -1;
		if (check_dotstring(u, local, &utf8, why) == -1)
			return -1;
	}
	if (local > ADDR_LOCAL_MAX)
		return *why = "local part longer than 64 octets", -1;
	if (local == n) {
		if (!allow_nodomain)
			return *why = "missing domain", -1;
	} else if (check_domain(s + local + 1, n - local - 1, &utf8,
	    why) == -1)
		return -1;
	if (n > ADDR_MAX)
		return *why = "address longer than 254 octets", -1;
	if (flags != NULL)
		*flags = (utf8 ? ADDR_UTF8 : 0) |
		    (local == n ? ADDR_NODOMAIN : 0);
	return 0;
}

/* ---- RFC 5322 3.4 address lists -------------------------------------- */

enum tok_kind { T_ATOM, T_QUOTED, T_LITERAL, T_SPECIAL };

struct tok {
	enum tok_kind	 kind;
	char		 c;		/* the character of a T_SPECIAL */
	const char	*p;		/* text (quoted: without the quotes) */
	size_t		 n;
};

struct toks {
	struct tok	*v;
	size_t		 n, cap;
};

static void
tok_add(struct toks *t, enum tok_kind kind, const char *p, size_t n)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
	}
	t->v[t->n++] = (struct tok){ kind, kind == T_SPECIAL ? p[0] : 0,
	    p, n };
}

/* Skips a comment (3.2.2), nested, with quoted pairs; returns its end. */
static size_t
skip_comment(const char *s, size_t len, size_t i, const char **why)
{
	int depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	*why = "unbalanced '(' (comment not closed)";
	return 0;
}

/* Span of the quoted-string or domain literal opening at s[i]. */
static size_t
skip_until(const char *s, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == close)
			return i + 1;
	}
	return 0;
}

static int
tokenize(const char *s, size_t len, struct toks *t, const char **why)
{
	size_t i = 0, e;
	unsigned char c;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;	/* FWS, folded or not */
		} else if (c == '(') {
			if ((i = skip_comment(s, len, i, why)) == 0)
				return -1;
		} else if (c == '"' || c == '[') {
			if ((e = skip_until(s, len, i, c == '"' ? '"' : ']'))
			    == 0)
				return *why = c == '"' ? "unbalanced quote" :
				    "unbalanced '['", -1;
			if (c == '"')
				tok_add(t, T_QUOTED, s + i + 1, e - i - 2);
			else
				tok_add(t, T_LITERAL, s + i, e - i);
			i = e;
		} else if (strchr("<>,:;@.", c) != NULL && c != 0) {
			tok_add(t, T_SPECIAL, s + i, 1);
			i++;
		} else if (c == ')' || c == ']')
			return *why = c == ')' ? "unbalanced ')'" :
			    "unbalanced ']'", -1;
		else if (c < 0x20 || c == 0x7f)
			return *why = "control character in address list", -1;
		else if (c == '\\')
			return *why = "'\\' outside a quoted string", -1;
		else {
			for (e = i; e < len && (is_atext(s[e]) ||
			    (unsigned char)s[e] >= 0x80); e++)
				;
			tok_add(t, T_ATOM, s + i, e - i);
			i = e;
		}
	}
	return 0;
}

static int
is_sp(const struct tok *t, char c)
{
	return t->kind == T_SPECIAL && t->c == c;
}

/* Appends the content of a quoted-string with its quoted pairs undone. */
static void
unquote(struct buf *b, const struct tok *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (t->p[i] == '\\' && i + 1 < t->n)
			i++;
		buf_addc(b, t->p[i]);
	}
}

/*
 * Local part of toks [a, b) into out in RFC 5321 form: when any word was
 * quoted, the decoded text is written bare if it is a valid dot-string and
 * quoted again (only '"' and '\' escaped) otherwise: "john"@x -> john@x,
 * "john doe"@x stays quoted.
 */
static void
local_part(const struct tok *v, size_t a, size_t b, struct buf *out)
{
	struct buf raw = BUF_INIT;
	const char *why;
	int quoted = 0, utf8 = 0;
	size_t i;

	for (i = a; i < b; i++) {
		if (v[i].kind == T_QUOTED) {
			quoted = 1;
			unquote(&raw, &v[i]);
		} else
			buf_add(&raw, v[i].p, v[i].n);
	}
	if (!quoted || (raw.len > 0 && check_dotstring(
	    (const unsigned char *)raw.data, raw.len, &utf8, &why) == 0)) {
		buf_add(out, raw.data, raw.len);
	} else {
		buf_addc(out, '"');
		for (i = 0; i < raw.len; i++) {
			if (raw.data[i] == '"' || raw.data[i] == '\\')
				buf_addc(out, '\\');
			buf_addc(out, raw.data[i]);
		}
		buf_addc(out, '"');
	}
	buf_clear(&raw);
}

/*
 * An addr-spec (3.4.1, obs-local-part and obs-domain of 4.4) from toks
 * [a, b) into out. Two words in a row are a phrase, not an address.
 */
static int
addr_spec(const struct tok *v, size_t a, size_t b, struct buf *out,
    const char **why)
{
	size_t i;
	int word = 0;

	for (i = a; i < b && !is_sp(&v[i], '@'); i++) {
		if (v[i].kind == T_ATOM || v[i].kind == T_QUOTED) {
			if (word)
				return *why = "words without '@' or <address>",
				    -1;
			word = 1;
		} else if (is_sp(&v[i], '.'))
			word = 0;
		else
			return *why = "unexpected character in local part", -1;
	}
	local_part(v, a, i, out);
	if (i == b)
		return 0;
	buf_addc(out, '@');
	for (i++, word = 0; i < b; i++) {
		if (v[i].kind == T_ATOM || v[i].kind == T_LITERAL) {
			if (word)
				return *why = "missing ',' between addresses",
				    -1;
			word = 1;
		} else if (is_sp(&v[i], '.'))
			word = 0;
		else
			return *why = "unexpected character in domain", -1;
		buf_add(out, v[i].p, v[i].n);
	}
	return 0;
}

/*
 * One mailbox (3.4): addr-spec, or [display-name] angle-addr, where the
 * angle-addr may carry an obsolete route "@a,@b:" (4.4) that is dropped
 * (RFC 5321 4.1.1.3: recognise source routes, ignore them).
 */
static int
mailbox(const struct tok *v, size_t a, size_t b, struct buf *out,
    const char **why)
{
	size_t lt, gt;

	for (lt = a; lt < b && !is_sp(&v[lt], '<'); lt++)
		;
	if (lt == b)
		return addr_spec(v, a, b, out, why);
	for (gt = lt + 1; gt < b && !is_sp(&v[gt], '>'); gt++)
		if (is_sp(&v[gt], '<'))
			return *why = "nested '<'", -1;
	if (gt == b)
		return *why = "unbalanced '<'", -1;
	if (gt + 1 != b)
		return *why = "text after '>'", -1;
	a = lt + 1;
	if (a < gt && is_sp(&v[a], '@')) {
		while (a < gt && !is_sp(&v[a], ':'))
			a++;
		if (a == gt)
			return *why = "source route without ':'", -1;
		a++;
	}
	if (a == gt)
		return *why = "empty address '<>'", -1;
	return addr_spec(v, a, gt, out, why);
}

/*
 * End of the element starting at toks[i]: the next ',' or ';' outside
 * angle brackets, or a ':' that opens a group (before any '<').
 */
static size_t
element_end(const struct tok *v, size_t i, size_t n)
{
	int angle = 0, seen_lt = 0;

	for (; i < n; i++) {
		if (is_sp(&v[i], '<'))
			angle = seen_lt = 1;
		else if (is_sp(&v[i], '>'))
			angle = 0;
		else if (!angle && (is_sp(&v[i], ',') || is_sp(&v[i], ';')))
			break;
		else if (!angle && !seen_lt && is_sp(&v[i], ':'))
			break;
	}
	return i;
}

static int
parse_list(const struct tok *v, size_t n, int allow_nodomain,
    int (*cb)(void *, const char *), void *arg, const char **why)
{
	struct buf mb = BUF_INIT;
	size_t i = 0, e;
	int group = 0, rc = 0;

	while (i < n && rc == 0) {
		if (is_sp(&v[i], ',')) {
			i++;
			continue;	/* empty elements (4.4 obs-addr-list) */
		}
		if (is_sp(&v[i], ';')) {
			if (!group) {
				rc = -1, *why = "';' outside a group";
				break;
			}
			group = 0;
			i++;
			continue;
		}
		e = element_end(v, i, n);
		if (e < n && is_sp(&v[e], ':')) {
			if (group) {
				rc = -1, *why = "group inside a group";
				break;
			}
			group = 1;	/* the display name is not an address */
			i = e + 1;
			continue;
		}
		buf_reset(&mb);
		buf_add(&mb, "", 0);	/* a C string even if nothing added */
		if (mailbox(v, i, e, &mb, why) == -1 ||
		    addr_check(mb.data, allow_nodomain, NULL, why) == -1)
			rc = -1;
		else
			rc = cb(arg, mb.data);
		i = e;
	}
	/* A group missing its ';' at the very end is tolerated, as MUAs
	 * write "undisclosed-recipients:" that way. */
	buf_clear(&mb);
	return rc;
}

int
addr_list(const char *s, size_t len, int allow_nodomain,
    int (*cb)(void *arg, const char *mailbox), void *arg, const char **why)
{
	struct toks t = { NULL, 0, 0 };
	int rc;

	if ((rc = tokenize(s, len, &t, why)) == 0)
		rc = parse_list(t.v, t.n, allow_nodomain, cb, arg, why);
	free(t.v);
	return rc;
}

int
addr_one(const char *s, int allow_nodomain, char *out, size_t outlen,
    int *flags, const char **why)
{
	const char *e, *colon;

	if (flags != NULL)
		*flags = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (*s == '<') {
		if (e - s < 2 || e[-1] != '>')
			return *why = "unbalanced '<'", -1;
		s++, e--;
		/* RFC 5321 4.1.1.3: a source route is recognised, ignored. */
		if (*s == '@' && (colon = memchr(s, ':', (size_t)(e - s))))
			s = colon + 1;
	}
	if ((size_t)(e - s) >= outlen)
		return *why = "address too long", -1;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	if (out[0] == '\0')
		return 0;	/* the null sender */
	return addr_check(out, allow_nodomain, flags, why);
}

const char *
addr_domain(const char *mailbox)
{
	/* Per thread, so callers need not free; a domain is <= 255. */
	static _Thread_local char d[ADDR_DOMAIN_MAX + 1];
	const char *at = strrchr(mailbox, '@');
	size_t i;

	if (at == NULL)
		return "";
	strlcpy_t(d, at + 1, sizeof d);
	for (i = 0; d[i] != '\0'; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}
