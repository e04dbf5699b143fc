/* SPDX-License-Identifier: ISC */
#ifndef TERN_BASE64_H
#define TERN_BASE64_H

#include <stddef.h>

/* Standard alphabet with padding, no line breaks. Returns malloc'd text. */
char	*base64_encode(const void *, size_t);
/*
 * Strict decode (RFC 4648, as RFC 4954 4 wants): any character outside the
 * alphabet, '=' not at the end or wrong padding is an error. Returns a
 * malloc'd buffer (NUL-terminated for convenience) with *outlen, or NULL.
 */
char	*base64_decode(const char *, size_t, size_t *outlen);

#endif
