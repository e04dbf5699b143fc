/* SPDX-License-Identifier: ISC */
/*
 * Reads of the durable queue: one envelope, a body, the whole queue (walk),
 * what is due, a message's history, meta values. The layout and the crash
 * states are at the top of queue.c. Every read is one read-only txn run by
 * queue_run(); whatever a callback gets has been copied out of the map
 * first, because LMDB values die with their txn.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "queue.h"
#include "queue_int.h"

#define WALK_BATCH	128

struct meta_get_arg {
	const char	*key;
	struct buf	*out;
};

static int
meta_get_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct meta_get_arg *a = arg;
	MDB_val key = { strlen(a->key), (char *)a->key }, val;
	int rc;

	if ((rc = mdb_get(txn, q->db_meta, &key, &val)) != 0)
		return rc == MDB_NOTFOUND ? ENOENT : queue_lm(q, "mdb_get", rc);
	buf_add(a->out, val.mv_data, val.mv_size);
	return 0;
}

int
queue_meta_get(struct queue *q, const char *key, struct buf *out)
{
	struct meta_get_arg a = { key, out };
	size_t n = strlen(key);
	int rc;

	q->call = NULL;
	if (n == 0 || n > QUEUE_KEY_MAX)
		return queue_fail(q, EINVAL, "meta_get %.64s", key);
	if ((rc = queue_run(q, 1, meta_get_op, &a)) != 0)
		return queue_fail(q, rc, "meta_get %.64s", key);
	return 0;
}

struct get_arg {
	uint64_t	 id;
	struct queue_env *env;
	struct buf	*out;
};

static int
get_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct get_arg *a = arg;

	return queue_env_read(q, txn, a->id, a->env);
}

int
queue_get(struct queue *q, uint64_t id, struct queue_env *out)
{
	struct get_arg a = { id, out, NULL };
	char ids[QUEUE_ID_LEN + 1];
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = queue_run(q, 1, get_op, &a)) != 0)
		return queue_fail(q, rc, "get %s", queue_id_str(id, ids));
	return 0;
}

/* Appends chunks 0..n-1; they must add up to the size in the envelope. */
static int
body_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct get_arg *a = arg;
	struct queue_env e;
	MDB_cursor *c;
	MDB_val key, val;
	uint8_t k[12];
	uint64_t size, got = 0;
	uint32_t n = 0;
	int rc;

	if ((rc = queue_env_read(q, txn, a->id, &e)) != 0)
		return rc;
	size = e.size;
	queue_env_clear(&e);
	if (size > SIZE_MAX - a->out->len - 1)
		return EBADMSG;
	buf_reserve(a->out, (size_t)size);
	be_put(k, a->id, 8);
	be_put(k + 8, 0, 4);
	if ((rc = mdb_cursor_open(txn, q->db_body, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	key.mv_size = sizeof k;
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT), n++) {
		if (key.mv_size != 12 || be_get(key.mv_data, 8) != a->id)
			break;
		if (be_get((uint8_t *)key.mv_data + 8, 4) != n ||
		    val.mv_size > size - got) {
			rc = EBADMSG;
			break;
		}
		buf_add(a->out, val.mv_data, val.mv_size);
		got += val.mv_size;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc == EBADMSG ? rc : queue_lm(q, "mdb_cursor_get", rc);
	return got == size ? 0 : EBADMSG;
}

int
queue_body(struct queue *q, uint64_t id, struct buf *out)
{
	struct get_arg a = { id, NULL, out };
	char ids[QUEUE_ID_LEN + 1];
	size_t len = out->len;
	int rc;

	if ((rc = queue_run(q, 1, body_op, &a)) != 0) {
		if (out->data != NULL) {
			out->len = len;		/* nothing half-appended */
			out->data[len] = '\0';
		}
		return queue_fail(q, rc, "body %s", queue_id_str(id, ids));
	}
	return 0;
}

/*
 * The walk reads WALK_BATCH envelopes per read txn and calls cb with no
 * txn open, so cb may call any queue function (even delete the message).
 * A record that does not decode is skipped and reported at the end.
 */
struct walk {
	uint64_t	 from;
	int		 more;
	size_t		 n, bad;
	uint64_t	 bad_id;
	struct queue_env env[WALK_BATCH];
};

static int
walk_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct walk *w = arg;
	MDB_cursor *c;
	MDB_val key, val;
	uint8_t k[8];
	uint64_t id;
	int rc;

	w->more = 0;
	be_put(k, w->from, 8);
	if ((rc = mdb_cursor_open(txn, q->db_env, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	key.mv_size = sizeof k;
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		id = key.mv_size == 8 ? be_get(key.mv_data, 8) : 0;
		if (w->n == WALK_BATCH) {
			w->more = 1;
			w->from = id;
			break;
		}
		if (key.mv_size == 8 && queue_rec_decode(val.mv_data,
		    val.mv_size, &w->env[w->n]) == 0)
			w->env[w->n++].id = id;
		else if (w->bad++ == 0)
			w->bad_id = id;
	}
	mdb_cursor_close(c);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	return queue_lm(q, "mdb_cursor_get", rc);
}

int
queue_walk(struct queue *q, int (*cb)(void *, const struct queue_env *),
    void *arg)
{
	struct walk *w = xcalloc(1, sizeof *w);
	char ids[QUEUE_ID_LEN + 1];
	size_t i;
	int rc = 0, ret = 0;

	do {
		w->n = 0;
		rc = queue_run(q, 1, walk_op, w);
		for (i = 0; i < w->n; i++) {
			if (rc == 0 && ret == 0)
				ret = cb(arg, &w->env[i]);
			queue_env_clear(&w->env[i]);
		}
	} while (rc == 0 && ret == 0 && w->more);
	if (rc != 0)
		ret = queue_fail(q, rc, "walk");
	else if (ret == 0 && w->bad > 0) {
		q->call = NULL;
		ret = queue_fail(q, EBADMSG, "walk: %zu skipped, first %s",
		    w->bad, queue_id_str(w->bad_id, ids));
	}
	free(w);
	return ret;
}

struct due_arg {
	int64_t		 now;
	uint64_t	*ids;
	size_t		 max, n;
	int64_t		 next;
};

static int
due_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct due_arg *a = arg;
	MDB_cursor *c;
	MDB_val key, val;
	int64_t when;
	int rc;

	a->n = 0;
	a->next = 0;
	if ((rc = mdb_cursor_open(txn, q->db_sched, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 16)
			continue;
		when = (int64_t)(be_get(key.mv_data, 8) & INT64_MAX);
		if (when <= a->now && a->n < a->max) {
			a->ids[a->n++] = be_get((uint8_t *)key.mv_data + 8, 8);
			continue;
		}
		/* Due ones left over (max reached) are due now. */
		a->next = when > a->now ? when : a->now;
		if (a->next <= 0)
			a->next = 1;
		break;
	}
	mdb_cursor_close(c);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	return queue_lm(q, "mdb_cursor_get", rc);
}

ssize_t
queue_due(struct queue *q, int64_t now, uint64_t *ids, size_t max,
    int64_t *next)
{
	struct due_arg a = { now, ids, max, 0, 0 };
	int rc;

	if ((rc = queue_run(q, 1, due_op, &a)) != 0)
		return queue_fail(q, rc, "due");
	if (next != NULL)
		*next = a.next;
	return (ssize_t)a.n;
}

struct hist_arg {
	uint64_t	 id;
	struct buf	 all;		/* when(8) len(4) text, repeated */
};

static int
hist_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct hist_arg *a = arg;
	struct queue_env e;
	MDB_cursor *c;
	MDB_val key, val;
	uint8_t k[12];
	int rc;

	buf_reset(&a->all);
	if ((rc = queue_env_read(q, txn, a->id, &e)) != 0)
		return rc;
	queue_env_clear(&e);
	be_put(k, a->id, 8);
	be_put(k + 8, 0, 4);
	if ((rc = mdb_cursor_open(txn, q->db_hist, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	key.mv_size = sizeof k;
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 12 || be_get(key.mv_data, 8) != a->id)
			break;
		if (val.mv_size < 8)
			continue;
		buf_add(&a->all, val.mv_data, 8);
		queue_rec_int(&a->all, val.mv_size - 8, 4);
		buf_add(&a->all, (uint8_t *)val.mv_data + 8, val.mv_size - 8);
	}
	mdb_cursor_close(c);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	return queue_lm(q, "mdb_cursor_get", rc);
}

int
queue_history(struct queue *q, uint64_t id,
    int (*cb)(void *, int64_t, const char *), void *arg)
{
	struct hist_arg a = { id, BUF_INIT };
	char ids[QUEUE_ID_LEN + 1], *text;
	size_t off = 0, n;
	int64_t when;
	int rc, ret = 0;

	/* Copied out first: cb runs with no txn open. */
	if ((rc = queue_run(q, 1, hist_op, &a)) != 0) {
		buf_clear(&a.all);
		return queue_fail(q, rc, "history %s", queue_id_str(id, ids));
	}
	while (ret == 0 && off + 12 <= a.all.len) {
		when = (int64_t)be_get((uint8_t *)a.all.data + off, 8);
		n = (size_t)be_get((uint8_t *)a.all.data + off + 8, 4);
		text = xstrndup(a.all.data + off + 12, n);
		ret = cb(arg, when, text);
		free(text);
		off += 12 + n;
	}
	buf_clear(&a.all);
	return ret;
}
