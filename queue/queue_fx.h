/* SPDX-License-Identifier: ISC */
#ifndef TERN_QUEUE_FX_H
#define TERN_QUEUE_FX_H

/*
 * The fixture the queue's tests share (queue_test.c: the API;
 * queue_crash_test.c: processes, kills, corruption, a full disk): a fresh
 * queue in a temporary directory per test and small helpers. Test-only.
 */
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

static inline int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

static inline int
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

static inline int
teardown(void **state)
{
	struct fx *fx = *state;

	queue_close(fx->q);
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	unsetenv("TERN_QUEUE_MAPSIZE");
	return 0;
}

static inline void
reopen(struct fx *fx)
{
	queue_close(fx->q);
	fx->q = queue_open(fx->dir, NULL);
	assert_non_null(fx->q);
}

static inline uint64_t
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

static inline uint64_t
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

static inline size_t
due_all(struct queue *q, int64_t now, uint64_t *ids, size_t max,
    int64_t *next)
{
	ssize_t n = queue_due(q, now, ids, max, next);

	assert_true(n >= 0);
	return (size_t)n;
}

static inline int
in_due(struct queue *q, uint64_t id)
{
	uint64_t ids[256];
	size_t i, n = due_all(q, INT64_MAX, ids, 256, NULL);

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* A queue_walk() callback counting envelopes into a size_t. */
static inline int
count_env(void *arg, const struct queue_env *e)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

#endif
