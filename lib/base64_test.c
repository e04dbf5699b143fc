/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base64.h"

/* RFC 4648 §10 test vectors. */
static const struct {
	const char	*plain;
	const char	*b64;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state)
{
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
		s = base64_encode(rfc4648[i].plain, strlen(rfc4648[i].plain));
		assert_string_equal(s, rfc4648[i].b64);
		free(s);
		s = base64_decode(rfc4648[i].b64, strlen(rfc4648[i].b64), &n);
		assert_non_null(s);
		assert_int_equal(n, strlen(rfc4648[i].plain));
		assert_memory_equal(s, rfc4648[i].plain, n);
		assert_int_equal(s[n], '\0');	/* terminated for callers */
		free(s);
	}
}

static void
test_round_trip_random(void **state)
{
	unsigned char data[300];
	char *enc, *dec;
	size_t len, i, n;

	srandom(4648);
	for (len = 0; len <= sizeof data; len++) {
		for (i = 0; i < len; i++)
			data[i] = (unsigned char)random();
		enc = base64_encode(data, len);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
		assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/="), strlen(enc));
		dec = base64_decode(enc, strlen(enc), &n);
		assert_non_null(dec);
		assert_int_equal(n, len);
		if (len > 0)
			assert_memory_equal(dec, data, len);
		free(enc);
		free(dec);
	}
}

/* TV-24 and RFC 4648 §3.3/§3.5: everything a strict decoder refuses. */
static void
test_strict_rejects(void **state)
{
	static const char *bad[] = {
		"AAA=BBB",	/* TV-24: pad not at the end */
		"=AAA",		/* TV-24 */
		"=",		/* AUTH's empty response: caller's business */
		"==",
		"====",
		"Z===",
		"AA==AA==",	/* pad in the middle */
		"Zg=",		/* length not a multiple of 4 */
		"Zg",
		"Zm9vY",
		"Zm9v\n",	/* no whitespace, no line breaks */
		"Zm 9v",
		" Zm9v",
		"Zm9v-_==",	/* base64url alphabet */
		"Zh==",		/* non-zero pad bits */
		"Zm9=",
		"Zm9v*AAA",
	};
	size_t i, n = 99;
	char *s;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (base64_decode(bad[i], strlen(bad[i]), &n) != NULL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* An embedded NUL is outside the alphabet too. */
	assert_null(base64_decode("Zm\0v", 4, &n));
	/* The length is honoured: a valid prefix of a longer string. */
	s = base64_decode("Zm9v!!!!", 4, &n);
	assert_non_null(s);
	assert_int_equal(n, 3);
	free(s);
}

static void
test_decode_length_bounded(void **state)
{
	char *s;
	size_t n;

	s = base64_decode("Zm9vYmFyXXXX", 8, &n);
	assert_non_null(s);
	assert_int_equal(n, 6);
	assert_string_equal(s, "foobar");
	free(s);
	s = base64_decode("", 0, NULL);		/* outlen may be NULL */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_strict_rejects),
		cmocka_unit_test(test_decode_length_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
