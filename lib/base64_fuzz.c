/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: base64 (RFC 4648 4). Invariants: the strict decoder
 * accepts only canonical text, so whatever it accepts encodes back to the
 * same characters (RFC 4648 3.5: no non-zero pad bits, no stray '='); any
 * bytes encode to text that decodes back to them.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dec, *enc, *back;
	size_t n, m;

	if ((dec = base64_decode((const char *)data, size, &n)) != NULL) {
		assert(dec[n] == '\0');
		enc = base64_encode(dec, n);
		assert(strlen(enc) == size && memcmp(enc, data, size) == 0);
		free(enc);
		free(dec);
	}
	enc = base64_encode(data, size);
	assert(strlen(enc) == (size + 2) / 3 * 4);
	back = base64_decode(enc, strlen(enc), &m);
	assert(back != NULL && m == size && memcmp(back, data, size) == 0);
	free(back);
	free(enc);
	return 0;
}
