/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the OAuth2 token endpoint's JSON reply (RFC 6749
 * 5.1/5.2, RFC 8628 3.2), which comes from the network. Invariants: a
 * refusal says why in one line; an accepted reply has string fields of at
 * most OAUTH_FIELD_MAX octets without NUL and numbers absent (-1) or
 * clamped to 0..10 years, as oauth.h promises.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "oauth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define TEN_YEARS	((int64_t)10 * 366 * 24 * 3600)

static void
check_str(const char *s)
{
	assert(s == NULL || strlen(s) <= OAUTH_FIELD_MAX);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_reply r;
	char err[256];

	if (size > OAUTH_REPLY_MAX)
		return 0;
	err[0] = '\0';
	if (oauth_parse_reply((const char *)data, size, &r, err,
	    sizeof err) != 0) {
		assert(err[0] != '\0' && strchr(err, '\n') == NULL);
		oauth_reply_clear(&r);
		return 0;
	}
	check_str(r.access_token);
	check_str(r.refresh_token);
	check_str(r.error);
	check_str(r.error_description);
	check_str(r.device_code);
	check_str(r.user_code);
	check_str(r.verification_uri);
	check_str(r.verification_uri_complete);
	assert(r.expires_in == -1 ||
	    (r.expires_in >= 0 && r.expires_in <= TEN_YEARS));
	assert(r.interval == -1 ||
	    (r.interval >= 0 && r.interval <= TEN_YEARS));
	oauth_reply_clear(&r);
	return 0;
}
