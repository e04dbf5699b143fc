/* SPDX-License-Identifier: ISC */
/*
 * Base64 (RFC 4648 §4), standard alphabet, padded, no line breaks.
 *
 * Decoding is strict because RFC 4954 §4 makes an undecodable AUTH line a
 * 501 5.5.2, and because a lenient decoder lets two different wire strings
 * carry the same credentials. Rejected: any character outside the
 * alphabet (whitespace included), a length that is not a multiple of 4,
 * '=' anywhere but the last one or two positions, and non-zero pad bits
 * (RFC 4648 §3.5 allows a decoder to refuse non-canonical encodings).
 * The empty string decodes to an empty buffer. A lone "=" is an error
 * here: in SMTP AUTH it means "empty response" (RFC 4954 §4) and the
 * caller must recognise it before decoding.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base64.h"
#include "util.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out, *o;
	size_t i;
	uint32_t v;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = o = xmalloc((len + 2) / 3 * 4 + 1);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* 0..63, or -1 for anything outside the alphabet (including '='). */
static int
value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *
base64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out;
	size_t i, n = 0, pad = 0;
	uint32_t v = 0;
	int d[4], k;

	if (len % 4 != 0)
		return NULL;
	if (len > 0 && s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	out = xmalloc(len / 4 * 3 + 1);
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++) {
			d[k] = value((unsigned char)s[i + k]);
			/* '=' is only legal in the trailing pad positions. */
			if (d[k] < 0 && !(i + 4 == len && k >= 4 - (int)pad))
				goto fail;
			if (d[k] < 0)
				d[k] = 0;
		}
		v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 |
		    (uint32_t)d[2] << 6 | (uint32_t)d[3];
		out[n++] = v >> 16 & 0xff;
		out[n++] = v >> 8 & 0xff;
		out[n++] = v & 0xff;
	}
	/* RFC 4648 §3.5: the bits under the padding must be zero. */
	if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
		goto fail;
	n -= pad;
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return (char *)out;
fail:
	free(out);
	return NULL;
}
