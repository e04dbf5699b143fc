/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "addr.h"

/* "x" repeated n times, in a static buffer per slot. */
static const char *
rep(int slot, char c, size_t n, const char *suffix)
{
	static char b[4][600];

	memset(b[slot], c, n);
	strcpy(b[slot] + n, suffix);
	return b[slot];
}

/* A domain of n octets: labels of 63 with dots, then a short one. */
static const char *
domain_of(int slot, size_t n)
{
	static char b[2][300];
	size_t i;

	for (i = 0; i < n; i++)
		b[slot][i] = (i % 64 == 63) ? '.' : 'a';
	b[slot][n] = '\0';
	if (b[slot][n - 1] == '.')
		b[slot][n - 1] = 'b';
	return b[slot];
}

struct good {
	const char	*a;
	int		 nodomain;
	int		 flags;
};

static void
test_check_valid(void **state)
{
	static const struct good v[] = {
		{ "user@example.org", 0, 0 },
		{ "first.last@example.org", 0, 0 },
		{ "a!#$%&'*+-/=?^_`{|}~z@example.org", 0, 0 },
		{ "\"john doe\"@example.org", 0, 0 },
		{ "\"a\\\"b\"@example.org", 0, 0 },
		{ "\"\"@example.org", 0, 0 },
		{ "user@[192.0.2.1]", 0, 0 },
		{ "user@[IPv6:2001:db8::1]", 0, 0 },
		{ "user@[ipv6:::1]", 0, 0 },
		{ "user@localhost", 0, 0 },
		{ "user@a-b.c-d.example", 0, 0 },
		{ "user@123.example", 0, 0 },
		{ "δοκιμή@παράδειγμα.δοκιμή", 0, ADDR_UTF8 },
		{ "用户@例子.广告", 0, ADDR_UTF8 },
		{ "user@bücher.example", 0, ADDR_UTF8 },
		{ "\"Zoë x\"@example.org", 0, ADDR_UTF8 },
		{ "root", 1, ADDR_NODOMAIN },
		{ "\"the root\"", 1, ADDR_NODOMAIN },
		{ "postmaster", 1, ADDR_NODOMAIN },
	};
	const char *why = NULL;
	size_t i;
	int fl;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		fl = -1;
		if (addr_check(v[i].a, v[i].nodomain, &fl, &why) != 0)
			fail_msg("%s refused: %s", v[i].a, why);
		assert_int_equal(fl, v[i].flags);
	}
	/* flags may be NULL */
	assert_int_equal(addr_check("a@b.c", 0, NULL, &why), 0);
}

struct bad {
	const char	*a;
	const char	*why;
};

static void
test_check_invalid(void **state)
{
	static const struct bad v[] = {
		{ "", "empty address" },
		{ "@example.org", "empty local part" },
		{ "user", "missing domain" },
		{ "user@", "empty domain" },
		{ ".user@example.org", "local part starts with '.'" },
		{ "user.@example.org", "local part ends with '.'" },
		{ "a..b@example.org", "'..' in local part" },
		{ "a b@example.org", "invalid character in local part" },
		{ "a(b)@example.org", "invalid character in local part" },
		{ "a\tb@example.org", "control character in local part" },
		{ "\"abc@example.org", "unbalanced quote" },
		{ "\"a\"b@example.org", "text after the quoted local part" },
		{ "\"a\x01\"@example.org",
		    "control character in quoted local part" },
		{ "\"a\\\x01\"@example.org", "invalid quoted pair" },
		{ "user@-example.org", "domain label starts with '-'" },
		{ "user@example-.org", "domain label ends with '-'" },
		{ "user@example..org", "empty domain label" },
		{ "user@example.org.", "empty domain label" },
		{ "user@.example.org", "empty domain label" },
		{ "user@exa_mple.org", "invalid character in domain" },
		{ "user@b@c", "invalid character in domain" },
		{ "user@[192.0.2.256]", "invalid address literal" },
		{ "user@[IPv6:2001:db8::g]", "invalid IPv6 address literal" },
		{ "user@[192.0.2.1", "unbalanced '[' in domain" },
		{ "user@[foo:bar]", "invalid address literal" },
		{ "\xff@example.org", "invalid UTF-8" },
		{ "a\xc3@example.org", "invalid UTF-8" },
		{ "\xc0\xaf@example.org", "invalid UTF-8" },	/* overlong */
		{ "\xed\xa0\x80@x.example", "invalid UTF-8" },	/* surrogate */
		{ "\xc2\x85@example.org", "invalid UTF-8" },	/* C1 control */
		{ "user@b\xe4r.example", "invalid UTF-8" },	/* Latin-1 */
		{ "\"\xe9\"@example.org", "invalid UTF-8" },
	};
	const char *why;
	size_t i;
	int fl;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		why = NULL;
		fl = 99;
		if (addr_check(v[i].a, 0, &fl, &why) != -1)
			fail_msg("%s accepted", v[i].a);
		assert_non_null(why);
		if (strcmp(why, v[i].why) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", v[i].a, why,
			    v[i].why);
		assert_int_equal(fl, 0);
	}
}

/* RFC 5321 4.5.3.1: local 64, domain 255, the whole mailbox 254. */
static void
test_check_limits(void **state)
{
	char a[700];
	const char *why = NULL;

	assert_int_equal(addr_check(rep(0, 'l', 64, "@example.org"), 0, NULL,
	    &why), 0);
	assert_int_equal(addr_check(rep(0, 'l', 65, "@example.org"), 0, NULL,
	    &why), -1);
	assert_string_equal(why, "local part longer than 64 octets");
	assert_int_equal(addr_check(rep(1, 'x', 65, ""), 1, NULL, &why), -1);

	/* label of 63 is fine, 64 is not */
	snprintf(a, sizeof a, "u@%s.org", rep(2, 'd', 63, ""));
	assert_int_equal(addr_check(a, 0, NULL, &why), 0);
	snprintf(a, sizeof a, "u@%s.org", rep(2, 'd', 64, ""));
	assert_int_equal(addr_check(a, 0, NULL, &why), -1);
	assert_string_equal(why, "domain label longer than 63 octets");

	/* a 255-octet domain passes the domain rule but the mailbox is then
	 * over 254; a 256-octet domain fails the domain rule */
	snprintf(a, sizeof a, "u@%s", domain_of(0, 255));
	assert_int_equal(strlen(a), 257);
	assert_int_equal(addr_check(a, 0, NULL, &why), -1);
	assert_string_equal(why, "address longer than 254 octets");
	snprintf(a, sizeof a, "u@%s", domain_of(0, 256));
	assert_int_equal(addr_check(a, 0, NULL, &why), -1);
	assert_string_equal(why, "domain longer than 255 octets");

	/* exactly 254 passes, 255 does not */
	snprintf(a, sizeof a, "u@%s", domain_of(1, 252));
	assert_int_equal(strlen(a), 254);
	assert_int_equal(addr_check(a, 0, NULL, &why), 0);
	snprintf(a, sizeof a, "uu@%s", domain_of(1, 252));
	assert_int_equal(addr_check(a, 0, NULL, &why), -1);
	assert_string_equal(why, "address longer than 254 octets");
}

/* ---- lists ---- */

struct got {
	char	 a[16][300];
	int	 n;
	int	 stop_at;	/* return 7 at this call, 0: never */
};

static int
collect(void *arg, const char *mb)
{
	struct got *g = arg;

	assert_true(g->n < 16);
	snprintf(g->a[g->n++], sizeof g->a[0], "%s", mb);
	return g->stop_at != 0 && g->n == g->stop_at ? 7 : 0;
}

static int
list(struct got *g, const char *s, int nodomain, const char **why)
{
	memset(g, 0, sizeof *g);
	return addr_list(s, strlen(s), nodomain, collect, g, why);
}

/* The expected mailboxes, "|"-separated. */
static void
expect_list(const char *s, int nodomain, const char *want)
{
	struct got g;
	struct buf b = BUF_INIT;
	const char *why = NULL;
	int i;

	if (list(&g, s, nodomain, &why) != 0)
		fail_msg("[%s] refused: %s", s, why);
	for (i = 0; i < g.n; i++) {
		if (i > 0)
			buf_addc(&b, '|');
		buf_adds(&b, g.a[i]);
	}
	buf_addc(&b, '\0');
	if (strcmp(b.data, want) != 0)
		fail_msg("[%s]: got [%s], want [%s]", s, b.data, want);
	buf_clear(&b);
}

static void
expect_list_error(const char *s, int nodomain, const char *want)
{
	struct got g;
	const char *why = NULL;

	if (list(&g, s, nodomain, &why) != -1)
		fail_msg("[%s] accepted", s);
	assert_non_null(why);
	if (strcmp(why, want) != 0)
		fail_msg("[%s]: got \"%s\", want \"%s\"", s, why, want);
}

static void
test_list_forms(void **state)
{
	expect_list("a@b.example", 0, "a@b.example");
	expect_list("Name <a@b.example>", 0, "a@b.example");
	expect_list("\"Doe, John\" <j@x.example>, k@y.example", 0,
	    "j@x.example|k@y.example");
	expect_list("a@b.example (comment (nested) \\) here)", 0,
	    "a@b.example");
	expect_list("(lead) a (in) @ (mid) b.example", 0, "a@b.example");
	expect_list("a@b.example, c@d.example", 0, "a@b.example|c@d.example");
	expect_list("a@b.example,c@d.example,,", 0, "a@b.example|c@d.example");
	expect_list(" , ,a@b.example, ,", 0, "a@b.example");
	expect_list("", 0, "");
	expect_list("  (only a comment) ", 0, "");
	expect_list("Mr. J. Doe <j@x.example>", 0, "j@x.example");
	expect_list("<a@b.example>", 0, "a@b.example");
	expect_list("a@[192.0.2.1]", 0, "a@[192.0.2.1]");
	expect_list("x <a@[IPv6:::1]>", 0, "a@[IPv6:::1]");
}

static void
test_list_groups(void **state)
{
	expect_list("undisclosed-recipients:;", 0, "");
	expect_list("undisclosed-recipients:", 0, "");
	expect_list("team: a@b.example, Bo <c@d.example>;", 0,
	    "a@b.example|c@d.example");
	expect_list("team: a@b.example;, x@y.example", 0,
	    "a@b.example|x@y.example");
	expect_list("one:;, two: t@w.example; three:;", 0, "t@w.example");
	expect_list_error("a: b: c@d.example;;", 0, "group inside a group");
	expect_list_error("a@b.example;", 0, "';' outside a group");
}

static void
test_list_folding_encoded(void **state)
{
	expect_list("Ann <a@b.example>,\r\n\tBob <c@d.example>,\r\n"
	    " e@f.example", 0, "a@b.example|c@d.example|e@f.example");
	expect_list("=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <jm@x.example>", 0,
	    "jm@x.example");
	expect_list("=?UTF-8?B?SsO2cmc=?= <j@x.example>, "
	    "\"=?utf-8?q?a,b?=\" <k@x.example>", 0, "j@x.example|k@x.example");
	expect_list("Jörg <jörg@bücher.example>", 0, "jörg@bücher.example");
}

static void
test_list_quoted_route(void **state)
{
	expect_list("\"john doe\"@example.org", 0, "\"john doe\"@example.org");
	expect_list("\"john\"@example.org", 0, "john@example.org");
	expect_list("\"john.doe\"@example.org", 0, "john.doe@example.org");
	expect_list("\"john..doe\"@example.org", 0,
	    "\"john..doe\"@example.org");
	expect_list("\"a\\\"b\"@example.org", 0, "\"a\\\"b\"@example.org");
	expect_list("\"a\\b\"@example.org", 0, "ab@example.org");
	expect_list("\"a b\".c@example.org", 0, "\"a b.c\"@example.org");
	expect_list("<@r1.example,@r2.example:a@b.example>", 0, "a@b.example");
	expect_list("Name <@relay.example:a@b.example>, c@d.example", 0,
	    "a@b.example|c@d.example");
	expect_list_error("<@relay.example a@b.example>", 0,
	    "source route without ':'");
}

static void
test_list_nodomain(void **state)
{
	expect_list("root", 1, "root");
	expect_list("root, Admin <admin>, a@b.example", 1,
	    "root|admin|a@b.example");
	expect_list_error("root", 0, "missing domain");
	expect_list_error("Admin <admin>", 0, "missing domain");
}

static void
test_list_errors(void **state)
{
	expect_list_error("\"unclosed <a@b.example>", 0, "unbalanced quote");
	expect_list_error("a@b.example (open", 0,
	    "unbalanced '(' (comment not closed)");
	expect_list_error("a@b.example )", 0, "unbalanced ')'");
	expect_list_error("Name <a@b.example", 0, "unbalanced '<'");
	expect_list_error("Name a@b.example>", 0,
	    "words without '@' or <address>");
	expect_list_error("Name <a@b.example> x", 0, "text after '>'");
	expect_list_error("Name <<a@b.example>>", 0, "nested '<'");
	expect_list_error("John Doe", 1, "words without '@' or <address>");
	expect_list_error("a@b.example c@d.example", 0,
	    "missing ',' between addresses");
	expect_list_error("<>", 0, "empty address '<>'");
	expect_list_error("a@-b.example", 0, "domain label starts with '-'");
	expect_list_error("x@y.example, \xff@b.example", 0, "invalid UTF-8");
	expect_list_error("a@b.example\x01", 0,
	    "control character in address list");
	expect_list_error("[a]@b.example", 0,
	    "unexpected character in local part");
}

static void
test_list_callback_stops(void **state)
{
	struct got g;
	const char *why = NULL;
	const char *s = "a@b.example, c@d.example, e@f.example";

	memset(&g, 0, sizeof g);
	g.stop_at = 2;
	assert_int_equal(addr_list(s, strlen(s), 0, collect, &g, &why), 7);
	assert_int_equal(g.n, 2);
	/* len bounds the input: no NUL needed */
	memset(&g, 0, sizeof g);
	assert_int_equal(addr_list(s, 11, 0, collect, &g, &why), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.a[0], "a@b.example");
}

static void
test_one(void **state)
{
	char out[ADDR_MAX + 1];
	const char *why = NULL;
	int fl;

	assert_int_equal(addr_one("  <a@b.example> ", 0, out, sizeof out, &fl,
	    &why), 0);
	assert_string_equal(out, "a@b.example");
	assert_int_equal(addr_one("a@b.example", 0, out, sizeof out, &fl,
	    &why), 0);
	assert_string_equal(out, "a@b.example");
	assert_int_equal(addr_one("<>", 0, out, sizeof out, &fl, &why), 0);
	assert_string_equal(out, "");
	assert_int_equal(addr_one("", 0, out, sizeof out, &fl, &why), 0);
	assert_string_equal(out, "");
	assert_int_equal(addr_one("<@r.example:a@b.example>", 0, out,
	    sizeof out, &fl, &why), 0);
	assert_string_equal(out, "a@b.example");
	assert_int_equal(addr_one("root", 1, out, sizeof out, &fl, &why), 0);
	assert_int_equal(fl, ADDR_NODOMAIN);
	assert_int_equal(addr_one("δ@π.example", 0, out, sizeof out, &fl,
	    &why), 0);
	assert_int_equal(fl, ADDR_UTF8);
	assert_int_equal(addr_one("root", 0, out, sizeof out, &fl, &why), -1);
	assert_string_equal(why, "missing domain");
	assert_int_equal(addr_one("<a@b.example", 0, out, sizeof out, &fl,
	    &why), -1);
	assert_string_equal(why, "unbalanced '<'");
	assert_int_equal(addr_one("a@b.example", 0, out, 5, &fl, &why), -1);
	assert_string_equal(why, "address too long");
}

static void
test_domain(void **state)
{
	assert_string_equal(addr_domain("User@Example.ORG"), "example.org");
	assert_string_equal(addr_domain("\"a@b\"@X.example"), "x.example");
	assert_string_equal(addr_domain("root"), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_valid),
		cmocka_unit_test(test_check_invalid),
		cmocka_unit_test(test_check_limits),
		cmocka_unit_test(test_list_forms),
		cmocka_unit_test(test_list_groups),
		cmocka_unit_test(test_list_folding_encoded),
		cmocka_unit_test(test_list_quoted_route),
		cmocka_unit_test(test_list_nodomain),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_list_callback_stops),
		cmocka_unit_test(test_one),
		cmocka_unit_test(test_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
