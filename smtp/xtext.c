/* SPDX-License-Identifier: ISC */
/*
 * xtext (RFC 3461 4) for the DSN parameters ENVID and ORCPT: "!".."~"
 * except "+" and "=" stand for themselves, every other octet is "+XX"
 * with upper-case hex (EXT-DSN-2).
 */
#include "smtp.h"

void
smtp_xtext_encode(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= '!' && *p <= '~' && *p != '+' && *p != '=') {
			buf_addc(out, (char)*p);
			continue;
		}
		buf_addc(out, '+');
		buf_addc(out, hex[*p >> 4]);
		buf_addc(out, hex[*p & 15]);
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;		/* RFC 3461 4: upper-case hex only */
}

int
smtp_xtext_decode(const char *s, struct buf *out)
{
	int hi, lo;

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < '!' || (unsigned char)*s > '~' ||
		    *s == '=')
			return -1;
		if (*s != '+') {
			buf_addc(out, *s);
			continue;
		}
		if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0)
			return -1;
		buf_addc(out, (char)(hi << 4 | lo));
		s += 2;
	}
	return 0;
}
