/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "dsn.h"

static void
test_status_of(void **state)
{
	char st[16];

	(void)state;
	assert_string_equal(dsn_status_of("550 5.1.1 no such user", st,
	    sizeof st), "5.1.1");
	assert_string_equal(dsn_status_of("550-5.7.1 policy\n550 5.7.1 x",
	    st, sizeof st), "5.7.1");
	/* class disagrees with the code: not trusted */
	assert_string_equal(dsn_status_of("550 4.1.1 odd", st, sizeof st),
	    "5.0.0");
	assert_string_equal(dsn_status_of("451 try later", st, sizeof st),
	    "4.0.0");
	assert_string_equal(dsn_status_of(NULL, st, sizeof st), "5.0.0");
}

static const char orig[] = "From: me@node\r\nSubject: hi\r\n\r\nbody line\r\n";

static void
compose(struct buf *b, unsigned int ret, const char *action)
{
	struct dsn_rcpt r[2] = {
		{ .addr = "bad@x.test", .action = action,
		  .remote_mta = "smtp.test",
		  .diag = "550-5.1.1 no\n550 5.1.1 such user",
		  .orcpt = "rfc822;bad@x.test" },
		{ .addr = "also@x.test", .action = action,
		  .status = "5.3.4", .diag = NULL },
	};
	struct dsn d = {
		.reporting_mta = "node.test", .sender = "me@node",
		.envid = "env 1", .ret = ret, .arrival = 1700000000,
		.now = 1700000100, .rcpt = r, .nrcpt = 2, .orig = orig,
		.origlen = sizeof orig - 1,
	};

	dsn_compose(&d, b);
}

static void
test_compose_failed_full(void **state)
{
	struct buf b = BUF_INIT;
	const char *p;

	(void)state;
	compose(&b, 0, "failed");
	assert_non_null(strstr(b.data, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(b.data, "To: <me@node>\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	assert_non_null(strstr(b.data, "Reporting-MTA: dns; node.test\r\n"));
	assert_non_null(strstr(b.data, "Original-Envelope-Id: env 1\r\n"));
	assert_non_null(strstr(b.data, "Arrival-Date: "));
	assert_non_null(strstr(b.data, "\r\nOriginal-Recipient: "
	    "rfc822;bad@x.test\r\nFinal-Recipient: rfc822; bad@x.test\r\n"
	    "Action: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; smtp.test\r\n"
	    "Diagnostic-Code: smtp; 550-5.1.1 no\r\n 550 5.1.1 such user\r\n"));
	assert_non_null(strstr(b.data, "Final-Recipient: rfc822; also@x.test"
	    "\r\nAction: failed\r\nStatus: 5.3.4\r\n"));
	assert_non_null(strstr(b.data, "Content-Type: message/rfc822\r\n\r\n"
	    "From: me@node\r\nSubject: hi\r\n\r\nbody line\r\n"));
	/* canonical: no bare LF anywhere */
	for (p = b.data; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > b.data && p[-1] == '\r');
	/* the closing boundary ends it */
	assert_non_null(strstr(b.data + b.len - 40, "--\r\n"));
	buf_clear(&b);
}

static void
test_compose_hdrs_only(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	compose(&b, 2, "failed");
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\r\n"
	    "\r\nFrom: me@node\r\nSubject: hi\r\n"));
	assert_null(strstr(b.data, "body line"));
	buf_clear(&b);
	compose(&b, 0, "delayed");
	assert_non_null(strstr(b.data, "Subject: Delivery Status"));
	assert_null(strstr(b.data, "body line"));
	buf_clear(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_of),
		cmocka_unit_test(test_compose_failed_full),
		cmocka_unit_test(test_compose_hdrs_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
