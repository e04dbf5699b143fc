/* SPDX-License-Identifier: ISC */
/* OAuth2 reply parsing, reply meaning, the token cache and status
 * warnings; no network (the HTTPS side is tests/integration/60-oauth2.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "oauth.h"
#include "oauth_int.h"
#include "secret.h"

static int
parse(const char *s, struct oauth_reply *r)
{
	char err[128];

	return oauth_parse_reply(s, strlen(s), r, err, sizeof err);
}

static void
test_success(void **state)
{
	struct oauth_reply r;

	assert_int_equal(parse("{\"access_token\":\"ya29.abc\","
	    "\"token_type\":\"Bearer\",\"expires_in\":3599,"
	    "\"scope\":\"https://mail.google.com/\"}\r\n", &r), 0);
	assert_string_equal(r.access_token, "ya29.abc");
	assert_null(r.refresh_token);
	assert_null(r.error);
	assert_int_equal(r.expires_in, 3599);
	assert_int_equal(r.interval, -1);
	oauth_reply_clear(&r);
	assert_null(r.access_token);
}

static void
test_rotation(void **state)
{
	struct oauth_reply r;

	/* Microsoft sends expires_in as a number, some servers a string. */
	assert_int_equal(parse("{\"access_token\":\"A2\",\"refresh_token\":"
	    "\"R2\",\"expires_in\":\"4000\"}", &r), 0);
	assert_string_equal(r.access_token, "A2");
	assert_string_equal(r.refresh_token, "R2");
	assert_int_equal(r.expires_in, 4000);
	oauth_reply_clear(&r);
}

static void
test_error_reply(void **state)
{
	struct conf_smarthost sh = { .name = "work",
	    .oauth2_token_url = "https://t.example/token" };
	struct oauth_reply r;
	char err[512];

	assert_int_equal(parse("{\"error\":\"invalid_grant\","
	    "\"error_description\":\"Token has been expired or revoked.\"}",
	    &r), 0);
	assert_string_equal(r.error, "invalid_grant");
	assert_null(r.access_token);
	assert_int_equal(oauth_check_reply(&sh, "token refresh", 400, 1, &r,
	    err, sizeof err), -1);
	assert_string_equal(err, "token refresh failed: invalid_grant (Token "
	    "has been expired or revoked.): re-run `tern login work`");
	oauth_reply_clear(&r);
	sh.name = NULL;
	assert_int_equal(parse("{\"error\":\"invalid_grant\"}", &r), 0);
	oauth_check_reply(&sh, "token refresh", 400, 1, &r, err, sizeof err);
	assert_string_equal(err, "token refresh failed: invalid_grant: "
	    "re-run `tern login`");
	oauth_reply_clear(&r);
	/* Control characters from the server never reach a log line. */
	assert_int_equal(parse("{\"error\":\"invalid_client\","
	    "\"error_description\":\"bad\\r\\nclient\"}", &r), 0);
	oauth_check_reply(&sh, "token refresh", 401, 1, &r, err, sizeof err);
	assert_string_equal(err, "token refresh failed: invalid_client "
	    "(bad??client): check oauth2_client_id and "
	    "oauth2_client_secret_command");
	oauth_reply_clear(&r);
}

static void
test_garbage(void **state)
{
	struct conf_smarthost sh = {
	    .oauth2_token_url = "https://t.example/token" };
	static const char *const bad[] = { "", "<html>502 Bad Gateway</html>",
	    "{\"access_token\":", "[\"access_token\"]", "\"x\"", "42",
	    "{\"access_token\":\"a\"} trailing", "{\"a\":1}{\"b\":2}", "null" };
	struct oauth_reply r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(parse(bad[i], &r), -1);
		assert_null(r.access_token);
	}
	/* Not NUL-terminated: only len bytes count. */
	assert_int_equal(oauth_parse_reply("{\"access_token\":\"a\"}XX", 20,
	    &r, err, sizeof err), 0);
	assert_string_equal(r.access_token, "a");
	oauth_reply_clear(&r);
	oauth_check_reply(&sh, "token refresh", 502, 0, &r, err, sizeof err);
	assert_string_equal(err, "token refresh failed: HTTP 502 from "
	    "https://t.example/token (the reply is not JSON)");
	/* A 5xx names the status even with a JSON error in it. */
	assert_int_equal(parse("{\"error\":\"server_error\"}", &r), 0);
	oauth_check_reply(&sh, "token refresh", 503, 1, &r, err, sizeof err);
	assert_string_equal(err, "token refresh failed: HTTP 503 from "
	    "https://t.example/token: server_error");
	oauth_reply_clear(&r);
}

static void
test_missing_fields(void **state)
{
	struct conf_smarthost sh = {
	    .oauth2_token_url = "https://t.example/token" };
	struct oauth_reply r;
	char err[256];

	assert_int_equal(parse("{\"token_type\":\"Bearer\"}", &r), 0);
	assert_null(r.access_token);
	assert_int_equal(r.expires_in, -1);
	assert_int_equal(oauth_check_reply(&sh, "token refresh", 200, 1, &r,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "has no access_token"));
	oauth_reply_clear(&r);
	/* Wrong types count as absent. */
	assert_int_equal(parse("{\"access_token\":42,\"expires_in\":[1],"
	    "\"refresh_token\":null,\"error\":{}}", &r), 0);
	assert_null(r.access_token);
	assert_null(r.refresh_token);
	assert_null(r.error);
	assert_int_equal(r.expires_in, -1);
	oauth_reply_clear(&r);
	/* An empty access token is no token. */
	assert_int_equal(parse("{\"access_token\":\"\"}", &r), 0);
	assert_int_equal(oauth_check_reply(&sh, "token refresh", 200, 1, &r,
	    err, sizeof err), -1);
	oauth_reply_clear(&r);
	/* Google's device reply says verification_url. */
	assert_int_equal(parse("{\"device_code\":\"D\",\"user_code\":"
	    "\"ABC-DEF\",\"verification_url\":\"https://g.co/device\","
	    "\"interval\":5,\"expires_in\":1800}", &r), 0);
	assert_string_equal(r.verification_uri, "https://g.co/device");
	assert_int_equal(r.interval, 5);
	oauth_reply_clear(&r);
}

static void
test_huge_values(void **state)
{
	struct oauth_reply r;
	struct buf b = BUF_INIT;
	char err[128];
	size_t i;

	assert_int_equal(parse("{\"access_token\":\"a\",\"expires_in\":"
	    "99999999999999999999999,\"interval\":-5}", &r), 0);
	assert_true(r.expires_in >= 0 && r.expires_in <= 10LL * 366 * 86400);
	assert_int_equal(r.interval, 0);
	oauth_reply_clear(&r);
	assert_int_equal(parse("{\"access_token\":\"a\",\"expires_in\":"
	    "\"-99999999999999999999\"}", &r), 0);
	assert_int_equal(r.expires_in, -1);	/* out of range: absent */
	oauth_reply_clear(&r);
	/* A token longer than the cap is refused, not truncated. */
	buf_adds(&b, "{\"access_token\":\"");
	for (i = 0; i < OAUTH_FIELD_MAX + 1; i++)
		buf_addc(&b, 'x');
	buf_adds(&b, "\"}");
	assert_int_equal(oauth_parse_reply(b.data, b.len, &r, err,
	    sizeof err), 0);
	assert_null(r.access_token);
	oauth_reply_clear(&r);
	buf_reset(&b);
	buf_adds(&b, "{\"access_token\":\"a\",\"pad\":\"");
	for (i = 0; i < OAUTH_REPLY_MAX; i++)
		buf_addc(&b, 'y');
	buf_adds(&b, "\"}");
	assert_int_equal(oauth_parse_reply(b.data, b.len, &r, err,
	    sizeof err), -1);
	buf_clear(&b);
	/* Embedded NUL in a token: refused. */
	assert_int_equal(parse("{\"access_token\":\"a\\u0000b\"}", &r), 0);
	assert_null(r.access_token);
	oauth_reply_clear(&r);
}

/* The cache and the store, in a private state directory. */
static void
test_store_and_cache(void **state)
{
	char dir[] = "/tmp/oauth_test.XXXXXX", err[256], *tok, *p;
	struct conf cf = { 0 };
	struct conf_smarthost sh = { .name = "work",
	    .oauth2_token_url = "https://127.0.0.1:1/token",
	    .oauth2_client_id = "cid" };
	struct oauth_reply r = { 0 };
	struct oauth_status st;
	struct stat sb;
	int cached = 0;

	assert_non_null(mkdtemp(dir));
	cf.state = dir;
	r.access_token = xstrdup("ACCESS1");
	r.refresh_token = xstrdup("REFRESH1");
	r.expires_in = 3600;
	assert_int_equal(oauth_store(&cf, &sh, &r, err, sizeof err), 0);
	oauth_reply_clear(&r);
	p = oauth_path(&cf, &sh, ".refresh");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(p);
	tok = oauth_token(&cf, &sh, 0, &cached, err, sizeof err);
	assert_non_null(tok);
	assert_string_equal(tok, "ACCESS1");
	assert_int_equal(cached, 1);
	secret_free(tok);
	oauth_status_get(&cf, &sh, &st);
	assert_true(st.have_refresh && st.stored_refresh && st.have_access);
	assert_true(st.access_expires > clock_wall() + 3500);
	assert_true(st.refresh_used > 0);
	/* Nearly expired: refreshed, which fails here (nothing listens). */
	r.access_token = xstrdup("ACCESS2");
	r.expires_in = 30;
	assert_int_equal(oauth_store(&cf, &sh, &r, err, sizeof err), 0);
	oauth_reply_clear(&r);
	tok = oauth_token(&cf, &sh, 0, &cached, err, sizeof err);
	assert_null(tok);
	assert_int_equal(cached, 0);
	assert_non_null(strstr(err, "https://127.0.0.1:1/token"));
	assert_null(strstr(err, "REFRESH1"));
	oauth_status_get(&cf, &sh, &st);
	assert_true(st.error_at > 0);
	p = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
	free(p);
}

static void
test_warnings(void **state)
{
	struct oauth_status st = { .have_refresh = 1 };
	int64_t now = 200LL * 86400;
	char w[256];

	st.refresh_used = now - 10 * 86400;
	assert_int_equal(oauth_status_warning(&st, "work", now, w, sizeof w),
	    0);
	st.refresh_used = now - 81 * 86400;
	assert_int_equal(oauth_status_warning(&st, "work", now, w, sizeof w),
	    1);
	assert_non_null(strstr(w, "unused for 81 days"));
	st.refused_at = now;
	oauth_status_warning(&st, "work", now, w, sizeof w);
	assert_non_null(strstr(w, "re-run `tern login work`"));
	st.have_refresh = 0;
	oauth_status_warning(&st, "default", now, w, sizeof w);
	assert_string_equal(w, "no refresh token: run `tern login`");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_store_and_cache),
		cmocka_unit_test(test_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
