/* SPDX-License-Identifier: ISC */
/* smtp_parse_command(): syntax, case, SMTP-04 leniency, params, caps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "smtp.h"

static struct smtp_cmd c;

static int
parse(const char *line)
{
	const char *why = NULL;
	int rc = smtp_parse_command(line, strlen(line), &c, &why);

	if (rc != 0)
		assert_non_null(why);
	return rc;
}

static void
test_verbs(void **state)
{
	assert_int_equal(parse("ehlo client.example"), 0);
	assert_int_equal(c.verb, SMTP_CMD_EHLO);
	assert_string_equal(c.arg, "client.example");
	assert_int_equal(parse("HeLo x"), 0);
	assert_int_equal(c.verb, SMTP_CMD_HELO);
	assert_int_equal(parse("LHLO x"), 0);
	assert_int_equal(c.verb, SMTP_CMD_LHLO);
	assert_int_equal(parse("data"), 0);
	assert_int_equal(c.verb, SMTP_CMD_DATA);
	assert_int_equal(parse("RSET"), 0);
	assert_int_equal(parse("QUIT"), 0);
	assert_int_equal(parse("StartTLS"), 0);
	assert_int_equal(c.verb, SMTP_CMD_STARTTLS);
	assert_int_equal(parse("NOOP anything at all"), 0);
	assert_int_equal(c.verb, SMTP_CMD_NOOP);
	assert_int_equal(parse("VRFY postmaster"), 0);
	assert_string_equal(c.arg, "postmaster");
	assert_int_equal(parse("ETRN @example.org"), 0);
	assert_string_equal(c.arg, "@example.org");
	assert_int_equal(parse("ATRN"), 0);
	assert_int_equal(c.verb, SMTP_CMD_ATRN);
	assert_int_equal(parse("ATRN a.example,b.example"), 0);
	assert_string_equal(c.arg, "a.example,b.example");
	assert_int_equal(parse("EHLO x   "), 0);	/* trailing spaces */
	assert_string_equal(c.arg, "x");
}

static void
test_errors(void **state)
{
	assert_int_equal(parse("FOO bar"), 500);
	assert_int_equal(parse(""), 500);
	assert_int_equal(parse("MAILX FROM:<a@b>"), 500);
	assert_int_equal(parse("EHLO"), 501);
	assert_int_equal(parse("VRFY"), 501);
	assert_int_equal(parse("ETRN"), 501);
	assert_int_equal(parse("DATA now"), 501);	/* SMTP-13 */
	assert_int_equal(parse("RSET x"), 501);
	assert_int_equal(parse("QUIT x"), 501);
	assert_int_equal(parse("STARTTLS x"), 501);	/* TLS-01 */
	assert_int_equal(smtp_parse_command("NOOP\0x", 6, &c,
	    &(const char *){ NULL }), 500);
	assert_int_equal(parse("NOOP a\rb"), 500);
}

static void
test_mail_rcpt(void **state)
{
	const char *v;

	assert_int_equal(parse("MAIL FROM:<a@b.example>"), 0);
	assert_int_equal(c.verb, SMTP_CMD_MAIL);
	assert_string_equal(c.arg, "a@b.example");
	assert_int_equal(c.nparam, 0);
	assert_int_equal(parse("mail from:<>"), 0);
	assert_string_equal(c.arg, "");
	assert_int_equal(parse("MAIL FROM: <a@b>"), 0);	/* SMTP-04 */
	assert_string_equal(c.arg, "a@b");
	assert_int_equal(parse("RCPT TO:<@r1,@r2:u@d.example>"), 0);
	assert_string_equal(c.arg, "u@d.example");	/* route ignored */
	assert_int_equal(parse("RCPT TO:<postmaster>"), 0);
	assert_string_equal(c.arg, "postmaster");
	assert_int_equal(parse("RCPT TO:<\"a >b\"@d>"), 0);
	assert_string_equal(c.arg, "\"a >b\"@d");
	assert_int_equal(parse("MAIL FROM:a@b"), 501);
	assert_int_equal(parse("MAIL TO:<a@b>"), 501);
	assert_int_equal(parse("MAIL FROM:<a@b"), 501);
	assert_int_equal(parse("MAIL FROM:<a@b>x"), 501);
	assert_int_equal(parse("RCPT FROM:<a@b>"), 501);
	assert_int_equal(parse("MAIL"), 501);

	assert_int_equal(parse("MAIL FROM:<a@b> SIZE=1000 body=8BITMIME "
	    "SMTPUTF8 ENVID=id+20x RET=HDRS"), 0);
	assert_int_equal(c.nparam, 5);
	assert_true(smtp_cmd_param(&c, "BODY", &v));
	assert_string_equal(v, "8BITMIME");
	assert_true(smtp_cmd_param(&c, "smtputf8", &v));
	assert_null(v);
	assert_true(smtp_cmd_param(&c, "envid", &v));
	assert_string_equal(v, "id+20x");
	assert_false(smtp_cmd_param(&c, "AUTH", &v));
	assert_int_equal(parse("RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;a+2Bb@c"), 0);
	assert_true(smtp_cmd_param(&c, "ORCPT", &v));
	assert_string_equal(v, "rfc822;a+2Bb@c");
	assert_int_equal(parse("MAIL FROM:<a@b> SIZE=1 size=2"), 501);
	assert_int_equal(parse("MAIL FROM:<a@b> =x"), 501);
	assert_int_equal(parse("MAIL FROM:<a@b> SI_ZE=1"), 501);
	assert_int_equal(parse("MAIL FROM:<a@b> SIZE="), 501);
	assert_int_equal(parse("MAIL FROM:<a@b> A=b=c"), 501);
}

static void
test_auth_bdat(void **state)
{
	assert_int_equal(parse("AUTH PLAIN AHVzZXIAcGFzcw=="), 0);
	assert_int_equal(c.verb, SMTP_CMD_AUTH);
	assert_string_equal(c.arg, "PLAIN");
	assert_string_equal(c.resp, "AHVzZXIAcGFzcw==");
	assert_int_equal(parse("auth login"), 0);
	assert_string_equal(c.arg, "login");
	assert_null(c.resp);
	assert_int_equal(parse("AUTH PLAIN ="), 0);	/* TV-24 */
	assert_string_equal(c.resp, "=");
	assert_int_equal(parse("AUTH"), 501);
	assert_int_equal(parse("AUTH PLAIN a b"), 501);
	assert_int_equal(parse("BDAT 1000"), 0);
	assert_int_equal(c.size, 1000);
	assert_int_equal(c.last, 0);
	assert_int_equal(parse("bdat 0 last"), 0);
	assert_int_equal(c.size, 0);
	assert_int_equal(c.last, 1);
	assert_int_equal(parse("BDAT x"), 501);
	assert_int_equal(parse("BDAT 10 FIRST"), 501);
	/* fuzz finding: over 2^64-1 must not become 2^64-1 */
	assert_int_equal(parse("BDAT 0000999999999999999000008"), 501);
	assert_int_equal(parse("BDAT 18446744073709551615"), 0);
	assert_int_equal(parse("BDAT 18446744073709551616 LAST"), 501);
}

/* fuzz finding: a ':' after a quote does not end a source route. */
static void
test_route_quote(void **state)
{
	(void)state;
	assert_int_equal(parse("RCPT TO:<@x\":joe@ex\"e:y>"), 0);
	assert_string_equal(c.arg, "@x\":joe@ex\"e:y");
	assert_int_equal(parse("RCPT TO:<@a.example,@b.example:joe@c.example>"),
	    0);
	assert_string_equal(c.arg, "joe@c.example");
}

static void
test_caps(void **state)
{
	char line[SMTP_CMD_LINE_MAX + 16];
	size_t n;

	/* 2 KiB: a long MAIL with parameters is fine up to the cap. */
	strcpy(line, "MAIL FROM:<a@b> ENVID=");
	n = strlen(line);
	memset(line + n, 'x', SMTP_CMD_LINE_MAX - 2 - n);
	line[SMTP_CMD_LINE_MAX - 2] = '\0';
	assert_int_equal(parse(line), 0);
	memset(line + n, 'x', SMTP_CMD_LINE_MAX - 1 - n);
	line[SMTP_CMD_LINE_MAX - 1] = '\0';
	assert_int_equal(parse(line), 500);
	/* A path over 256 octets. */
	strcpy(line, "RCPT TO:<");
	memset(line + 9, 'a', 300);
	strcpy(line + 309, "@b>");
	assert_int_equal(parse(line), 501);
	/* 17 parameters. */
	strcpy(line, "MAIL FROM:<a@b>");
	for (n = 0; n < 17; n++)
		sprintf(line + strlen(line), " P%zu=1", n);
	assert_int_equal(parse(line), 501);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mail_rcpt),
		cmocka_unit_test(test_auth_bdat),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_route_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
