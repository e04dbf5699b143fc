/* SPDX-License-Identifier: ISC */
/* The queue API: round trips, limits, ids, schedule, states, history. */
#include "queue_fx.h"

static void
test_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct queue_env e = { 0 }, g;
	struct buf b = BUF_INIT;
	char body[600];
	int64_t t0 = clock_wall();
	size_t i;

	for (i = 0; i < sizeof body; i++)
		body[i] = (char)(i & 0xff);	/* every octet, NUL too */
	e.sender = xstrdup("");
	e.envid = xstrdup("ENV+2Bid");
	e.ret = QUEUE_RET_HDRS;
	e.flags = QUEUE_F_8BIT | QUEUE_F_SMTPUTF8;
	e.next_attempt = 12345;
	queue_env_add_rcpt(&e, "jörg@bücher.example", "utf-8;jörg@bücher.example",
	    QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE);
	queue_env_add_rcpt(&e, "plain@example.org", NULL, 0);
	assert_int_equal(queue_put(fx->q, &e, body, sizeof body), 0);
	assert_int_equal(e.size, sizeof body);
	assert_true(e.queued_at >= t0 && e.queued_at <= clock_wall());

	assert_int_equal(queue_get(fx->q, e.id, &g), 0);
	assert_int_equal(g.id, e.id);
	assert_string_equal(g.sender, "");
	assert_string_equal(g.envid, "ENV+2Bid");
	assert_int_equal(g.ret, QUEUE_RET_HDRS);
	assert_int_equal(g.flags, QUEUE_F_8BIT | QUEUE_F_SMTPUTF8);
	assert_int_equal(g.size, sizeof body);
	assert_int_equal(g.queued_at, e.queued_at);
	assert_int_equal(g.next_attempt, 12345);
	assert_int_equal(g.nrcpt, 2);
	assert_string_equal(g.rcpt[0].addr, "jörg@bücher.example");
	assert_string_equal(g.rcpt[0].orcpt, "utf-8;jörg@bücher.example");
	assert_int_equal(g.rcpt[0].notify,
	    QUEUE_NOTIFY_SUCCESS | QUEUE_NOTIFY_FAILURE);
	assert_string_equal(g.rcpt[1].addr, "plain@example.org");
	assert_null(g.rcpt[1].orcpt);
	for (i = 0; i < 2; i++) {
		assert_int_equal(g.rcpt[i].state, QUEUE_PENDING);
		assert_int_equal(g.rcpt[i].attempts, 0);
		assert_int_equal(g.rcpt[i].first_tempfail, 0);
		assert_int_equal(g.rcpt[i].last_attempt, 0);
		assert_null(g.rcpt[i].reply);
	}
	buf_adds(&b, "pre");			/* queue_body appends */
	assert_int_equal(queue_body(fx->q, e.id, &b), 0);
	assert_int_equal(b.len, 3 + sizeof body);
	assert_memory_equal(b.data, "pre", 3);
	assert_memory_equal(b.data + 3, body, sizeof body);
	queue_env_clear(&g);
	queue_env_clear(&e);

	/* Empty body, no envid. */
	e.sender = xstrdup("a@example.org");
	queue_env_add_rcpt(&e, "b@example.org", NULL, 0);
	assert_int_equal(queue_put(fx->q, &e, NULL, 0), 0);
	assert_int_equal(queue_get(fx->q, e.id, &g), 0);
	assert_null(g.envid);
	assert_int_equal(g.size, 0);
	buf_reset(&b);
	assert_int_equal(queue_body(fx->q, e.id, &b), 0);
	assert_int_equal(b.len, 0);
	queue_env_clear(&g);
	queue_env_clear(&e);
	buf_clear(&b);
}

static void
test_limits(void **state)
{
	struct fx *fx = *state;
	struct queue_env e = { 0 };
	char *longaddr = xmalloc(1026);

	memset(longaddr, 'a', 1025);
	longaddr[1025] = '\0';
	e.sender = xstrdup("s@example.org");
	queue_env_add_rcpt(&e, longaddr, NULL, 0);
	assert_int_equal(queue_put(fx->q, &e, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_temporary(fx->q), 0);
	longaddr[1024] = '\0';			/* 1024 is allowed */
	free(e.rcpt[0].addr);
	e.rcpt[0].addr = xstrdup(longaddr);
	assert_int_equal(queue_put(fx->q, &e, "x", 1), 0);
	queue_env_clear(&e);
	free(longaddr);
}

static void
test_big_body(void **state)
{
	struct fx *fx = *state;
	size_t len = 10 * 1024 * 1024 + 17, i;
	unsigned char *body = xmalloc(len);
	struct buf b = BUF_INIT;
	unsigned int seed = 42;
	uint64_t id;
	int64_t t;

	for (i = 0; i < len; i++)
		body[i] = (unsigned char)rand_r(&seed);
	t = clock_mono_ms();
	id = put_one(fx->q, "s@example.org", body, len, 0, 0, 1);
	print_message("10 MiB put: %" PRId64 " ms\n", clock_mono_ms() - t);
	reopen(fx);
	assert_int_equal(queue_body(fx->q, id, &b), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, body, len);
	buf_clear(&b);
	free(body);
}

static int
collect_ids(void *arg, const struct queue_env *e)
{
	struct buf *b = arg;

	buf_add(b, &e->id, sizeof e->id);
	return 0;
}

static void
test_ids(void **state)
{
	struct fx *fx = *state;
	uint64_t ids[2000], got;
	struct buf b = BUF_INIT;
	int64_t t = clock_mono_ms();
	size_t i;

	for (i = 0; i < 2000; i++) {
		ids[i] = put_simple(fx->q, 0);
		if (i > 0)
			assert_true(ids[i] > ids[i - 1]);
	}
	print_message("2000 puts: %" PRId64 " ms\n", clock_mono_ms() - t);
	assert_int_equal(queue_walk(fx->q, collect_ids, &b), 0);
	assert_int_equal(b.len, sizeof ids);
	for (i = 0; i < 2000; i++) {
		memcpy(&got, b.data + i * sizeof got, sizeof got);
		assert_int_equal(got, ids[i]);	/* walk is in id order */
	}
	buf_clear(&b);
}

static void
test_due(void **state)
{
	struct fx *fx = *state;
	uint64_t a, bb, c, d, ids[8];
	int64_t next;
	size_t n;

	a = put_simple(fx->q, 300);
	bb = put_simple(fx->q, 100);
	c = put_simple(fx->q, 200);
	d = put_simple(fx->q, 0);
	n = due_all(fx->q, 150, ids, 8, &next);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], d);
	assert_int_equal(ids[1], bb);
	assert_int_equal(next, 200);
	n = due_all(fx->q, INT64_MAX, ids, 8, &next);
	assert_int_equal(n, 4);
	assert_int_equal(ids[0], d);
	assert_int_equal(ids[1], bb);
	assert_int_equal(ids[2], c);
	assert_int_equal(ids[3], a);
	assert_int_equal(next, 0);
	/* max reached with due ones left: next says "now". */
	n = due_all(fx->q, 150, ids, 1, &next);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], d);
	assert_int_equal(next, 150);
	n = due_all(fx->q, 50, ids, 8, &next);
	assert_int_equal(n, 1);
	assert_int_equal(next, 100);
	assert_int_equal(queue_schedule(fx->q, bb, 400), 0);
	n = due_all(fx->q, 250, ids, 8, &next);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], d);
	assert_int_equal(ids[1], c);
	assert_int_equal(next, 300);
	assert_int_equal(queue_schedule(fx->q, 12345, 1), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_hold(void **state)
{
	struct fx *fx = *state;
	struct queue_env g;
	uint64_t id = put_simple(fx->q, 0), other = put_simple(fx->q, 0);

	assert_true(in_due(fx->q, id));
	assert_int_equal(queue_set_flags(fx->q, id, QUEUE_F_HELD, 0), 0);
	assert_false(in_due(fx->q, id));
	assert_true(in_due(fx->q, other));
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_true(g.flags & QUEUE_F_HELD);
	queue_env_clear(&g);
	/* Rescheduling a held message must not put it back. */
	assert_int_equal(queue_schedule(fx->q, id, 5), 0);
	assert_false(in_due(fx->q, id));
	assert_int_equal(queue_set_flags(fx->q, id, QUEUE_F_BOUNCED, 0), 0);
	assert_false(in_due(fx->q, id));
	assert_int_equal(queue_set_flags(fx->q, id, 0, QUEUE_F_HELD), 0);
	assert_true(in_due(fx->q, id));
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_int_equal(g.flags, QUEUE_F_BOUNCED);
	assert_int_equal(g.next_attempt, 5);
	queue_env_clear(&g);
	/* Held at put time: never scheduled. */
	id = put_one(fx->q, "s@x", "b", 1, 0, QUEUE_F_HELD, 1);
	assert_false(in_due(fx->q, id));
}

static void
test_rcpt_set(void **state)
{
	struct fx *fx = *state;
	struct queue_env g;
	uint64_t id = put_one(fx->q, "s@x", "b", 1, 0, 0, 2);
	char *longreply = xmalloc(5001);

	assert_int_equal(queue_rcpt_set(fx->q, id, 0, QUEUE_PENDING,
	    "451 try later", 1, 1000), 0);
	assert_int_equal(queue_rcpt_set(fx->q, id, 0, QUEUE_PENDING,
	    "452 full", 1, 2000), 0);
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_int_equal(g.rcpt[0].attempts, 2);
	assert_int_equal(g.rcpt[0].first_tempfail, 1000);	/* once */
	assert_int_equal(g.rcpt[0].last_attempt, 2000);
	assert_string_equal(g.rcpt[0].reply, "452 full");
	assert_int_equal(g.rcpt[1].attempts, 0);
	queue_env_clear(&g);
	assert_true(in_due(fx->q, id));
	assert_int_equal(queue_rcpt_set(fx->q, id, 0, QUEUE_SENT, "250 ok", 0,
	    3000), 0);
	assert_true(in_due(fx->q, id));		/* rcpt 1 still pending */
	memset(longreply, '5', 5000);
	longreply[5000] = '\0';
	assert_int_equal(queue_rcpt_set(fx->q, id, 1, QUEUE_FAILED, longreply,
	    0, 3000), 0);
	assert_false(in_due(fx->q, id));	/* nothing pending left */
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_int_equal(g.rcpt[0].state, QUEUE_SENT);
	assert_int_equal(g.rcpt[0].attempts, 3);
	assert_int_equal(g.rcpt[0].first_tempfail, 1000);
	assert_int_equal(g.rcpt[1].state, QUEUE_FAILED);
	assert_int_equal(g.rcpt[1].first_tempfail, 0);
	assert_int_equal(strlen(g.rcpt[1].reply), 4096);
	assert_memory_equal(g.rcpt[1].reply, longreply, 4096);
	queue_env_clear(&g);
	/* Released or rescheduled: still nothing to send. */
	assert_int_equal(queue_set_flags(fx->q, id, 0, QUEUE_F_HELD), 0);
	assert_int_equal(queue_schedule(fx->q, id, 0), 0);
	assert_false(in_due(fx->q, id));
	/* Back to pending puts it back. */
	assert_int_equal(queue_rcpt_set(fx->q, id, 1, QUEUE_PENDING, NULL, 0,
	    4000), 0);
	assert_true(in_due(fx->q, id));
	assert_int_equal(queue_rcpt_set(fx->q, id, 2, QUEUE_SENT, "x", 0, 1),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_rcpt_set(fx->q, id + 1, 0, QUEUE_SENT, "x", 0,
	    1), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(queue_error(fx->q), "not found"));
	free(longreply);
}

static int
count_hist(void *arg, int64_t when, const char *text)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_record(void **state)
{
	struct fx *fx = *state;
	struct queue_outcome o[2] = {
		{ 0, QUEUE_SENT, "250 ok", 0 },
		{ 1, QUEUE_PENDING, "451 later", 1 },
	};
	struct queue_env g;
	struct buf b = BUF_INIT;
	uint64_t id = put_one(fx->q, "s@x", "b", 1, 0, 0, 2);
	int gone = -1;

	/* One sent, one deferred: kept, rescheduled, both recorded. */
	assert_int_equal(queue_record(fx->q, id, o, 2, 1000, 5000, &gone), 0);
	assert_int_equal(gone, 0);
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_int_equal(g.rcpt[0].state, QUEUE_SENT);
	assert_int_equal(g.rcpt[1].state, QUEUE_PENDING);
	assert_int_equal(g.rcpt[1].first_tempfail, 1000);
	assert_int_equal(g.rcpt[1].attempts, 1);
	assert_int_equal(g.next_attempt, 5000);
	queue_env_clear(&g);
	/* The last one sent: gone in the same commit, body and all. */
	o[0].idx = 1;
	assert_int_equal(queue_record(fx->q, id, o, 1, 2000, 0, &gone), 0);
	assert_int_equal(gone, 1);
	assert_int_equal(queue_get(fx->q, id, &g), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_body(fx->q, id, &b), -1);
	assert_false(in_due(fx->q, id));
	/* A failed recipient keeps the message (for its bounce). */
	id = put_one(fx->q, "s@x", "b", 1, 0, 0, 1);
	o[0].idx = 0;
	o[0].state = QUEUE_FAILED;
	assert_int_equal(queue_record(fx->q, id, o, 1, 3000, 9000, &gone), 0);
	assert_int_equal(gone, 0);
	assert_false(in_due(fx->q, id));
	assert_int_equal(queue_record(fx->q, 12345, o, 1, 3000, 0, &gone), -1);
	assert_int_equal(errno, ENOENT);
	buf_clear(&b);
}

static void
test_delete(void **state)
{
	struct fx *fx = *state;
	struct queue_env g;
	struct buf b = BUF_INIT;
	uint64_t id = put_one(fx->q, "s@x", "body one", 8, 0, 0, 1);
	uint64_t keep = put_one(fx->q, "s@x", "body two", 8, 0, 0, 1);
	int n = 0;

	assert_int_equal(queue_log(fx->q, id, 1, "queued"), 0);
	assert_int_equal(queue_log(fx->q, keep, 1, "queued"), 0);
	assert_int_equal(queue_log(fx->q, keep, 2, "deferred"), 0);
	assert_int_equal(queue_delete(fx->q, id), 0);
	assert_int_equal(queue_get(fx->q, id, &g), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_body(fx->q, id, &b), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_history(fx->q, id, count_hist, &n), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(in_due(fx->q, id));
	assert_int_equal(queue_delete(fx->q, id), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_temporary(fx->q), 0);
	/* The neighbour is untouched. */
	assert_int_equal(queue_body(fx->q, keep, &b), 0);
	assert_string_equal(b.data, "body two");
	assert_int_equal(queue_history(fx->q, keep, count_hist, &n), 0);
	assert_int_equal(n, 2);
	assert_true(in_due(fx->q, keep));
	buf_clear(&b);
}

static int
hist_cb(void *arg, int64_t when, const char *text)
{
	struct buf *b = arg;

	buf_printf(b, "%" PRId64 " %s|", when, text);
	return 0;
}

static int
hist_stop(void *arg, int64_t when, const char *text)
{
	return 7;
}

static void
test_history(void **state)
{
	struct fx *fx = *state;
	struct buf b = BUF_INIT;
	uint64_t id = put_simple(fx->q, 0), other = put_simple(fx->q, 0);

	assert_int_equal(queue_log(fx->q, id, 30, "queued"), 0);
	assert_int_equal(queue_log(fx->q, other, 5, "other"), 0);
	assert_int_equal(queue_log(fx->q, id, 10, "deferred (451 ä)"), 0);
	assert_int_equal(queue_log(fx->q, id, 20, "sent"), 0);
	assert_int_equal(queue_history(fx->q, id, hist_cb, &b), 0);
	/* In the order logged, not by time. */
	assert_string_equal(b.data, "30 queued|10 deferred (451 ä)|20 sent|");
	assert_int_equal(queue_history(fx->q, id, hist_stop, NULL), 7);
	assert_int_equal(queue_log(fx->q, 99, 1, "x"), -1);
	assert_int_equal(errno, ENOENT);
	buf_clear(&b);
}

static void
test_meta(void **state)
{
	struct fx *fx = *state;
	struct buf b = BUF_INIT;

	assert_int_equal(queue_meta_get(fx->q, "last_flush", &b), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_meta_set(fx->q, "last_flush", "ok 1"), 0);
	assert_int_equal(queue_meta_set(fx->q, "link", ""), 0);
	assert_int_equal(queue_meta_set(fx->q, "last_flush", "failed 2"), 0);
	buf_adds(&b, ">");
	assert_int_equal(queue_meta_get(fx->q, "last_flush", &b), 0);
	assert_string_equal(b.data, ">failed 2");
	buf_reset(&b);
	assert_int_equal(queue_meta_get(fx->q, "link", &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(queue_meta_set(fx->q, "#last_id", "0"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(queue_meta_set(fx->q, "", "x"), -1);
	buf_clear(&b);
}

static void
test_id_str(void **state)
{
	static const char *const bad[] = { "", "123456789abc", "123456789abcde",
	    "123456789ABCD", "123456789abcg", " 23456789abcd", "+23456789abcd",
	    "123456789abc\n", "0x3456789abcd" };
	char s[QUEUE_ID_LEN + 1];
	uint64_t v, got;
	size_t i;

	assert_string_equal(queue_id_str(1, s), "0000000000001");
	assert_string_equal(queue_id_str(0xfedcba9876543, s), "fedcba9876543");
	for (i = 0; i < 1000; i++) {
		v = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) &
		    (((uint64_t)1 << 52) - 1);
		queue_id_str(v, s);
		assert_int_equal(strlen(s), QUEUE_ID_LEN);
		assert_int_equal(queue_id_parse(s, &got), 0);
		assert_int_equal(got, v);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(queue_id_parse(bad[i], &got), -1);
}

static void
test_reopen(void **state)
{
	struct fx *fx = *state;
	struct queue_env g;
	struct buf b = BUF_INIT;
	uint64_t id = put_one(fx->q, "s@x", "persist", 7, 77, 0, 2), id2;

	assert_int_equal(queue_rcpt_set(fx->q, id, 1, QUEUE_SENT, "250 ok", 0,
	    9), 0);
	assert_int_equal(queue_log(fx->q, id, 9, "sent"), 0);
	assert_int_equal(queue_meta_set(fx->q, "k", "v"), 0);
	reopen(fx);
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	assert_int_equal(g.next_attempt, 77);
	assert_int_equal(g.rcpt[1].state, QUEUE_SENT);
	assert_string_equal(g.rcpt[1].reply, "250 ok");
	queue_env_clear(&g);
	assert_int_equal(queue_body(fx->q, id, &b), 0);
	assert_string_equal(b.data, "persist");
	buf_reset(&b);
	assert_int_equal(queue_history(fx->q, id, hist_cb, &b), 0);
	assert_string_equal(b.data, "9 sent|");
	buf_reset(&b);
	assert_int_equal(queue_meta_get(fx->q, "k", &b), 0);
	assert_string_equal(b.data, "v");
	assert_true(in_due(fx->q, id));
	id2 = put_simple(fx->q, 0);
	assert_true(id2 > id);
	buf_clear(&b);
}

/* Opens the queue's LMDB environment directly, as a second program would. */
static int
delete_cb(void *arg, const struct queue_env *e)
{
	struct queue *q = arg;

	return queue_delete(q, e->id) == 0 ? 0 : 99;
}

/* cb runs with no txn open, so it may change the queue. */
static void
test_walk_writes(void **state)
{
	struct fx *fx = *state;
	size_t i, n = 0;

	for (i = 0; i < 300; i++)
		put_simple(fx->q, 0);
	assert_int_equal(queue_walk(fx->q, delete_cb, fx->q), 0);
	assert_int_equal(queue_walk(fx->q, count_env, &n), 0);
	assert_int_equal(n, 0);
	assert_false(in_due(fx->q, 0));
	assert_int_equal(queue_due(fx->q, INT64_MAX, NULL, 0, NULL), 0);
}

/*
 * Writes corrupt records under the queue's feet, beside good (a valid
 * message): every truncation of good's record at ids 1000.., 300 random
 * byte edits at 5000.., 100 garbage records at 6000.., three crafted ones
 * at 7000..; big gets good's record claiming 5 body bytes it lacks and sch
 * (scheduled) gets junk. Returns the length of good's record.
 */

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_due, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rcpt_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup,
		    teardown),
		cmocka_unit_test(test_id_str),
		cmocka_unit_test_setup_teardown(test_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walk_writes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
