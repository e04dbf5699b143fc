/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../queue/queue.h"
#include "../smtp/smtp.h"
#include "inject.h"

static void
test_notify(void **state)
{
	unsigned int n = 0;

	(void)state;
	assert_int_equal(inject_notify("NEVER", &n), 0);
	assert_int_equal(n, QUEUE_NOTIFY_NEVER);
	assert_int_equal(inject_notify("success,Failure,delay", &n), 0);
	assert_int_equal(n, QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE |
	    QUEUE_NOTIFY_DELAY);
	assert_int_equal(inject_notify("FAILURE", &n), 0);
	assert_int_equal(n, QUEUE_NOTIFY_FAILURE);
	assert_int_equal(inject_notify("never,success", &n), -1);
	assert_int_equal(inject_notify("", &n), -1);
	assert_int_equal(inject_notify("success,", &n), -1);
	assert_int_equal(inject_notify("sometimes", &n), -1);
	assert_int_equal(inject_notify("SUCCESSFUL", &n), -1);
}

static void
test_inject(void **state)
{
	char dir[] = "/tmp/tern-inject.XXXXXX", err[256], reply[256];
	struct smtp_rcpt r = { "a@x.test", "SUCCESS,FAILURE", NULL };
	struct smtp_envelope env = { .helo = "client.test", .esmtp = 1,
	    .tls = 1, .from = "me@node.test", .rcpt = &r, .nrcpt = 1,
	    .body = "Subject: hi\r\n\r\nbody\r\n", .len = 21 };
	struct inject_src src = { .peer = "[127.0.0.1]", .tls = "TLSv1.3 x",
	    .submission = 1 };
	struct queue_env e = { 0 };
	struct buf b = BUF_INIT;
	struct conf *cf;
	struct queue *q;
	uint64_t id = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(cf = conf_load(NULL, 0, err, sizeof err));
	free(cf->hostname);
	cf->hostname = strdup("node.test");
	assert_non_null(q = queue_open(dir, NULL));
	assert_int_equal(inject_smtp(cf, q, &src, &env, reply, sizeof reply,
	    &id), 250);
	assert_non_null(strstr(reply, "2.0.0 Ok: queued as "));
	assert_int_equal(queue_get(q, id, &e), 0);
	assert_string_equal(e.sender, "me@node.test");
	assert_int_equal(e.rcpt[0].notify, QUEUE_NOTIFY_SUCCESS |
	    QUEUE_NOTIFY_FAILURE);
	assert_int_equal(queue_body(q, id, &b), 0);
	/* Received first (ESMTPS, the TLS clause, FOR the one recipient),
	 * then the submission fix-ups. */
	assert_true(strncmp(b.data, "Received: from client.test ([127.0.0.1])"
	    "\r\n\tby node.test (tern) with ESMTPS\r\n\t(TLSv1.3 x)\r\n\t"
	    "for <a@x.test>;", 88) == 0);
	assert_non_null(strstr(b.data, "\r\nMessage-ID: <"));
	assert_non_null(strstr(b.data, "\r\nDate: "));
	/* Relayed (not submitted) mail gets the trace line only. */
	src.submission = 0;
	src.inbound = 1;
	assert_int_equal(inject_smtp(cf, q, &src, &env, reply, sizeof reply,
	    &id), 250);
	buf_reset(&b);
	queue_env_clear(&e);
	assert_int_equal(queue_get(q, id, &e), 0);
	assert_true(e.flags & QUEUE_F_INBOUND);
	assert_int_equal(queue_body(q, id, &b), 0);
	assert_null(strstr(b.data, "Message-ID"));
	assert_non_null(strstr(b.data, ";\r\n\t"));
	queue_env_clear(&e);
	buf_clear(&b);
	queue_close(q);
	conf_free(cf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_inject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
