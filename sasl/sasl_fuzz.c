/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: SASL as fed by a hostile server or client. The first
 * byte picks the case: a client mechanism (RFC 4954 4: every 334 challenge
 * goes to sasl_client_step(); the rest of the input is the challenges,
 * one per line), the PLAIN server decoder (RFC 4616 2), or CRAM-MD5
 * verification (RFC 2195). Invariants: a client response is "*", "" or
 * valid base64; PLAIN gives user and password of 1..255 octets without
 * NUL, and encoding them again decodes to the same pair.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/base64.h"
#include "../lib/buf.h"
#include "sasl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_b64(const char *resp)
{
	size_t n;
	char *d;

	if (resp[0] == '\0' || strcmp(resp, "*") == 0)
		return;
	d = base64_decode(resp, strlen(resp), &n);
	assert(d != NULL);
	free(d);
}

static void
client(enum sasl_mech mech, const char *p, const char *end)
{
	static const struct sasl_cred cred = { "user@example.org",
	    "pencil", NULL, "smtp.example.org", 587 };
	struct sasl *sa;
	char *resp = NULL, *ch;
	const char *nl;

	if ((sa = sasl_client_new(mech, &cred)) == NULL)
		return;
	sasl_test_nonce(sa, "rOprNGfwEbeRWgbNEkqO");
	assert(sasl_client_start(sa, &resp) == 0);
	if (resp != NULL)
		check_b64(resp);
	free(resp);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ch = strndup(p, (size_t)(nl - p));
		resp = NULL;
		if (sasl_client_step(sa, ch, &resp) == 0) {
			assert(resp != NULL);
			check_b64(resp);
		} else {
			assert(sasl_error(sa) != NULL);
		}
		free(resp);
		free(ch);
		p = nl + 1;
	}
	(void)sasl_client_finish(sa);
	sasl_free(sa);
}

static void
server_plain(const char *p, const char *end)
{
	char *b64 = strndup(p, (size_t)(end - p)), *user, *pass, *enc;
	char *u2, *p2;
	struct buf raw = BUF_INIT;
	size_t ul, pl;

	if (sasl_server_plain(b64, &user, &pass) == 0) {
		ul = strlen(user);
		pl = strlen(pass);
		assert(ul >= 1 && ul <= 255 && pl >= 1 && pl <= 255);
		buf_add(&raw, "", 1);
		buf_add(&raw, user, ul + 1);
		buf_add(&raw, pass, pl);
		enc = base64_encode(raw.data, raw.len);
		assert(sasl_server_plain(enc, &u2, &p2) == 0);
		assert(strcmp(u2, user) == 0 && strcmp(p2, pass) == 0);
		free(u2);
		free(p2);
		free(enc);
		free(user);
		free(pass);
		buf_clear(&raw);
	}
	free(b64);
}

static void
cram_verify(const char *p, const char *end)
{
	char *b64 = strndup(p, (size_t)(end - p)), *user = NULL;

	if (sasl_cram_md5_verify("<1896.697170952@postoffice.example.net>",
	    b64, "tanstaaftanstaaf", &user) == 0) {
		assert(user != NULL);
		free(user);
	}
	free(b64);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	const char *end = (const char *)data + size;
	unsigned int pick;

	if (size < 1)
		return 0;
	pick = data[0] % (SASL_NMECH + 2);
	if (pick < SASL_NMECH)
		client((enum sasl_mech)pick, p, end);
	else if (pick == SASL_NMECH)
		server_plain(p, end);
	else
		cram_verify(p, end);
	return 0;
}
