/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "queue.h"

/*
 * Some tests reach under the API with LMDB itself, so they know the layout
 * documented at the top of queue.c: sub-database "env", keys id(8)
 * big-endian; "body" keys id(8) chunk(4). The queue handle is closed
 * first: LMDB allows one environment handle per file per process.
 */

struct fx {
	char		 dir[64];
	struct queue	*q;
};

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static int
setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof *fx);
	const char *why;

	strcpy(fx->dir, "/tmp/queue_test.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	if ((fx->q = queue_open(fx->dir, &why)) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	queue_close(fx->q);
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	unsetenv("TERN_QUEUE_MAPSIZE");
	return 0;
}

static void
reopen(struct fx *fx)
{
	queue_close(fx->q);
	fx->q = queue_open(fx->dir, NULL);
	assert_non_null(fx->q);
}

static uint64_t
put_one(struct queue *q, const char *sender, const void *body, size_t len,
    int64_t next, unsigned int flags, int nrcpt)
{
	struct queue_env e = { 0 };
	uint64_t id;
	int i;

	e.sender = xstrdup(sender);
	e.next_attempt = next;
	e.flags = flags;
	for (i = 0; i < nrcpt; i++) {
		char a[32];

		snprintf(a, sizeof a, "r%d@example.org", i);
		queue_env_add_rcpt(&e, a, NULL, 0);
	}
	assert_int_equal(queue_put(q, &e, body, len), 0);
	id = e.id;
	assert_true(id != 0);
	queue_env_clear(&e);
	return id;
}

static uint64_t
put_simple(struct queue *q, int64_t next)
{
	struct queue_env e = { 0 };
	uint64_t id;

	e.sender = xstrdup("s@example.org");
	e.next_attempt = next;
	queue_env_add_rcpt(&e, "r@example.org", NULL, 0);
	assert_int_equal(queue_put(q, &e, "x\r\n", 3), 0);
	id = e.id;
	queue_env_clear(&e);
	return id;
}

static size_t
due_all(struct queue *q, int64_t now, uint64_t *ids, size_t max,
    int64_t *next)
{
	ssize_t n = queue_due(q, now, ids, max, next);

	assert_true(n >= 0);
	return (size_t)n;
}

static int
in_due(struct queue *q, uint64_t id)
{
	uint64_t ids[256];
	size_t i, n = due_all(q, INT64_MAX, ids, 256, NULL);

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

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
static MDB_env *
raw_open(const char *dir)
{
	char path[128];
	MDB_env *env;

	snprintf(path, sizeof path, "%s/queue", dir);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
	return env;
}

static void
raw_put(MDB_txn *txn, const char *db, uint64_t id, const void *v, size_t n)
{
	MDB_dbi dbi;
	uint8_t k[8];
	MDB_val key = { 8, k }, val = { n, (void *)v };
	int i;

	for (i = 7; i >= 0; i--, id >>= 8)
		k[i] = (uint8_t)id;
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
}

static int
count_reader(const char *msg, void *arg)
{
	long pid;

	if (sscanf(msg, " %ld", &pid) == 1)
		(*(int *)arg)++;
	return 0;
}

static int
readers(const char *dir)
{
	MDB_env *env = raw_open(dir);
	int n = 0;

	mdb_reader_list(env, count_reader, &n);
	mdb_env_close(env);
	return n;
}

static void
test_abort(void **state)
{
	struct fx *fx = *state;
	struct queue_env g;
	uint64_t id = put_simple(fx->q, 0);
	int status, i, fd[2];
	pid_t pid, holder;
	char c;

	queue_close(fx->q);
	fx->q = NULL;
	/*
	 * The first process to open an environment resets its reader table,
	 * so a stale slot only matters while someone else keeps it open:
	 * holder does, from before the deaths until the end.
	 */
	assert_int_equal(pipe(fd), 0);
	if ((holder = fork()) == 0) {
		MDB_env *env = raw_open(fx->dir);

		(void)!write(fd[1], "r", 1);
		for (;;)
			pause();
		mdb_env_close(env);
	}
	assert_int_equal(read(fd[0], &c, 1), 1);
	close(fd[0]);
	close(fd[1]);
	for (i = 0; i < 2; i++) {
		if ((pid = fork()) == 0) {
			MDB_env *env = raw_open(fx->dir);
			MDB_txn *txn;

			/* Child 0 dies mid write txn, child 1 mid read txn. */
			if (mdb_txn_begin(env, NULL, i ? MDB_RDONLY : 0,
			    &txn) != 0)
				_exit(1);
			if (i == 0)
				raw_put(txn, "env", 1, "junk", 4);
			raise(SIGKILL);
			_exit(2);
		}
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
	}
	assert_int_equal(readers(fx->dir), 1);	/* the dead reader */
	alarm(60);		/* a lost write lock would hang the put */
	reopen(fx);
	assert_int_equal(queue_get(fx->q, 1, &g), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_get(fx->q, id, &g), 0);
	queue_env_clear(&g);
	assert_true(put_simple(fx->q, 0) > id);
	alarm(0);
	queue_close(fx->q);
	fx->q = NULL;
	assert_int_equal(readers(fx->dir), 0);	/* cleared by queue_open */
	kill(holder, SIGKILL);
	assert_int_equal(waitpid(holder, &status, 0), holder);
	reopen(fx);
}

struct check {
	struct queue	*q;
	size_t		 n;
	uint64_t	 last;
	unsigned char	 seen[8][100];
};

/* Every message whole: envelope decodes, body matches what its sender says. */
static int
check_msg(void *arg, const struct queue_env *e)
{
	struct check *c = arg;
	struct buf b = BUF_INIT;
	char want[64];
	int child, msg;
	size_t i;

	assert_true(e->id > c->last);
	c->last = e->id;
	assert_int_equal(queue_body(c->q, e->id, &b), 0);
	assert_int_equal(b.len, e->size);
	assert_int_equal(sscanf(e->sender, "c%d-m%d@x", &child, &msg), 2);
	snprintf(want, sizeof want, "child %d msg %d\r\n", child, msg);
	assert_true(b.len >= strlen(want));
	assert_memory_equal(b.data, want, strlen(want));
	for (i = strlen(want); i < b.len; i++)
		assert_int_equal((unsigned char)b.data[i], (unsigned char)msg);
	if (child >= 0 && child < 8 && msg >= 0 && msg < 100)
		c->seen[child][msg]++;
	c->n++;
	buf_clear(&b);
	return 0;
}

static void
child_puts(const char *dir, int child, int count, size_t pad)
{
	struct queue *q = queue_open(dir, NULL);
	struct buf b = BUF_INIT;
	char sender[32];
	int m;

	if (q == NULL)
		_exit(1);
	for (m = 0; m < count; m++) {
		buf_reset(&b);
		buf_printf(&b, "child %d msg %d\r\n", child, m % 100);
		while (b.len < pad)
			buf_addc(&b, (char)(m % 100));
		snprintf(sender, sizeof sender, "c%d-m%d@x", child, m % 100);
		if (put_one(q, sender, b.data, b.len, 0, 0, 1) == 0)
			_exit(1);
	}
	queue_close(q);
	_exit(0);
}

static void
test_concurrent(void **state)
{
	struct fx *fx = *state;
	struct check c = { 0 };
	pid_t pid[8];
	int i, j, status;
	int64_t t = clock_mono_ms();

	queue_close(fx->q);
	fx->q = NULL;
	for (i = 0; i < 8; i++) {
		if ((pid[i] = fork()) == 0)
			child_puts(fx->dir, i, 100, 100 + (size_t)i * 3000);
		assert_true(pid[i] > 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	print_message("8 x 100 concurrent puts: %" PRId64 " ms\n",
	    clock_mono_ms() - t);
	reopen(fx);
	c.q = fx->q;
	assert_int_equal(queue_walk(fx->q, check_msg, &c), 0);
	assert_int_equal(c.n, 800);
	for (i = 0; i < 8; i++)
		for (j = 0; j < 100; j++)
			assert_int_equal(c.seen[i][j], 1);
}

/* kill -9 at arbitrary points of a stream of puts leaves old or new state. */
static void
test_kill_during_puts(void **state)
{
	struct fx *fx = *state;
	struct check c = { 0 };
	uint64_t ids[1];
	struct timespec ts = { 0, 0 };
	int round, status;
	pid_t pid;

	queue_close(fx->q);
	fx->q = NULL;
	for (round = 0; round < 5; round++) {
		if ((pid = fork()) == 0)
			child_puts(fx->dir, round, 1000000, 300000);
		ts.tv_nsec = 20000000 + round * 37000000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
	}
	reopen(fx);
	c.q = fx->q;
	memset(c.seen, 0, sizeof c.seen);
	assert_int_equal(queue_walk(fx->q, check_msg, &c), 0);
	print_message("%zu messages survived 5 kills\n", c.n);
	/* The schedule agrees with the envelopes: all are due. */
	assert_int_equal(queue_due(fx->q, INT64_MAX, ids, 0, NULL), 0);
	{
		uint64_t *all = xcalloc(c.n + 1, sizeof *all);

		assert_int_equal(queue_due(fx->q, INT64_MAX, all, c.n + 1,
		    NULL), (ssize_t)c.n);
		free(all);
	}
	assert_true(put_simple(fx->q, 0) > c.last);
}

/*
 * From a 1 MiB map: a second process fills the queue (growing its map), and
 * this one reads it with its old map (MDB_MAP_RESIZED), then grows it more.
 */
static void
test_map_growth(void **state)
{
	struct fx *fx = *state;
	char sub[128], path[160];
	size_t len = 512 * 1024, i;
	char *body = xmalloc(len);
	struct check c = { 0 };
	struct buf b = BUF_INIT;
	uint64_t ids[20];
	struct stat st;
	int status;
	pid_t pid;

	queue_close(fx->q);
	snprintf(sub, sizeof sub, "%s/small", fx->dir);
	setenv("TERN_QUEUE_MAPSIZE", "1048576", 1);
	fx->q = queue_open(sub, NULL);
	assert_non_null(fx->q);
	if ((pid = fork()) == 0)
		child_puts(sub, 0, 20, len);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	c.q = fx->q;
	assert_int_equal(queue_walk(fx->q, check_msg, &c), 0);
	assert_int_equal(c.n, 20);
	for (i = 0; i < 20; i++) {
		memset(body, 'a' + (int)i, len);
		ids[i] = put_one(fx->q, "s@x", body, len, 0, 0, 1);
	}
	for (i = 0; i < 20; i++) {
		buf_reset(&b);
		memset(body, 'a' + (int)i, len);
		assert_int_equal(queue_body(fx->q, ids[i], &b), 0);
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, body, len);
	}
	snprintf(path, sizeof path, "%s/queue/data.mdb", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 20 * 1024 * 1024);	/* grew past 1 MiB */
	assert_int_equal(st.st_mode & 0777, 0600);
	buf_clear(&b);
	free(body);
}

static int
delete_cb(void *arg, const struct queue_env *e)
{
	struct queue *q = arg;

	return queue_delete(q, e->id) == 0 ? 0 : 99;
}

/* cb runs with no txn open, so it may change the queue. */
static int
count_env(void *arg, const struct queue_env *e)
{
	(*(size_t *)arg)++;
	return 0;
}

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
static size_t
write_corrupt(const char *dir, uint64_t good, uint64_t big, uint64_t sch)
{
	static const unsigned char crafted[][40] = {
		{ 2 },					/* version */
		{ 1, 0, 0, 0, 0, 9 },			/* ret 9 */
		/* sender length 0xfffffffe */
		{ 1, [30] = 0xff, [31] = 0xff, [32] = 0xff, [33] = 0xfe },
	};
	MDB_env *env = raw_open(dir);
	unsigned int seed = 7;
	unsigned char *rec, *m;
	MDB_txn *txn;
	MDB_val key, val;
	MDB_dbi dbi;
	uint8_t k[8];
	size_t len, i, gl;
	int j;

	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "env", 0, &dbi), 0);
	for (j = 7; j >= 0; j--)
		k[7 - j] = (uint8_t)(good >> (j * 8));
	key.mv_size = 8;
	key.mv_data = k;
	assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
	len = val.mv_size;
	rec = xmalloc(len);
	memcpy(rec, val.mv_data, len);
	for (i = 0; i < len; i++)
		raw_put(txn, "env", 1000 + i, rec, i);
	m = xmalloc(len);
	for (i = 0; i < 300; i++) {
		memcpy(m, rec, len);
		m[rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
		raw_put(txn, "env", 5000 + i, m, len);
	}
	for (i = 0; i < 100; i++) {
		for (gl = (size_t)rand_r(&seed) % len, j = 0; j < (int)gl; j++)
			m[j] = (unsigned char)rand_r(&seed);
		raw_put(txn, "env", 6000 + i, m, gl);
	}
	for (i = 0; i < 3; i++)
		raw_put(txn, "env", 7000 + i, crafted[i], sizeof crafted[i]);
	rec[13] = 5;				/* size: 1 -> 5 */
	raw_put(txn, "env", big, rec, len);
	raw_put(txn, "env", sch, "junk", 4);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(rec);
	free(m);
	return len;
}

/* Corrupt records give errors, never crashes (ASan watches). */
static void
test_corrupt(void **state)
{
	struct fx *fx = *state;
	uint64_t good = put_one(fx->q, "s@example.org", "b", 1, 0, 0, 3);
	uint64_t big = put_one(fx->q, "s@x", NULL, 0, 0, 0, 1);
	uint64_t sch = put_simple(fx->q, 0);
	struct queue_env g;
	struct buf b = BUF_INIT;
	size_t len, i, n = 0;

	queue_close(fx->q);
	fx->q = NULL;
	len = write_corrupt(fx->dir, good, big, sch);
	reopen(fx);
	for (i = 0; i < len; i++) {
		assert_int_equal(queue_get(fx->q, 1000 + i, &g), -1);
		assert_int_equal(errno, EBADMSG);
		assert_non_null(strstr(queue_error(fx->q), "corrupt"));
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(queue_get(fx->q, 7000 + i, &g), -1);
	for (i = 0; i < 400; i++) {
		if (queue_get(fx->q, (i < 300 ? 5000 : 5700) + i, &g) == 0)
			queue_env_clear(&g);
		else
			assert_int_equal(errno, EBADMSG);
	}
	assert_int_equal(queue_body(fx->q, big, &b), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(b.len, 0);
	/* The walk lists what it can and says that it skipped some. */
	assert_int_equal(queue_walk(fx->q, count_env, &n), -1);
	assert_int_equal(errno, EBADMSG);
	assert_true(n >= 2);
	print_message("walk: %zu listed; %s\n", n, queue_error(fx->q));
	/* A corrupt message can still be removed, schedule entry and all. */
	assert_true(in_due(fx->q, sch));
	assert_int_equal(queue_delete(fx->q, sch), 0);
	assert_false(in_due(fx->q, sch));
	assert_int_equal(queue_get(fx->q, sch, &g), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_get(fx->q, good, &g), 0);
	queue_env_clear(&g);
	buf_clear(&b);
}

/* A body chunk gone missing is an error, not a short message. */
static void
test_missing_chunk(void **state)
{
	struct fx *fx = *state;
	size_t len = 2 * 1024 * 1024 + 100;
	char *body = xcalloc(1, len);
	struct buf b = BUF_INIT;
	uint64_t id = put_one(fx->q, "s@x", body, len, 0, 0, 1);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t k[12] = { 0 };
	MDB_val key = { 12, k };
	int j;

	queue_close(fx->q);
	fx->q = NULL;
	for (j = 0; j < 8; j++)
		k[j] = (uint8_t)(id >> ((7 - j) * 8));
	k[11] = 1;
	env = raw_open(fx->dir);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "body", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	reopen(fx);
	assert_int_equal(queue_body(fx->q, id, &b), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
	free(body);
}

static void
test_full_disk(void **state)
{
	struct fx *fx = *state;
	char mnt[128];
	size_t len = 4 * 1024 * 1024, n = 0;
	char *body = xcalloc(1, len);
	struct queue_env e = { 0 };
	int i;

	queue_close(fx->q);
	fx->q = NULL;
	snprintf(mnt, sizeof mnt, "%s/mnt", fx->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") == -1) {
		print_message("SKIP full-disk test: mount tmpfs: %s\n",
		    strerror(errno));
		free(body);
		skip();
	}
	fx->q = queue_open(mnt, NULL);
	assert_non_null(fx->q);
	for (i = 0; i < 5; i++)
		put_one(fx->q, "s@x", body, 1000, 0, 0, 1);
	e.sender = xstrdup("s@x");
	queue_env_add_rcpt(&e, "r@x", NULL, 0);
	assert_int_equal(queue_put(fx->q, &e, body, len), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(queue_temporary(fx->q), 1);
	print_message("full disk: %s\n", queue_error(fx->q));
	queue_env_clear(&e);
	queue_close(fx->q);
	fx->q = queue_open(mnt, NULL);
	assert_non_null(fx->q);
	assert_int_equal(queue_walk(fx->q, count_env, &n), 0);
	assert_int_equal(n, 5);
	queue_close(fx->q);
	fx->q = NULL;
	if (umount(mnt) == -1)
		umount2(mnt, MNT_DETACH);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcpt_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test(test_id_str),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill_during_puts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walk_writes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_chunk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
