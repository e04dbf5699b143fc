/* SPDX-License-Identifier: ISC */
/*
 * Changes to queued messages: recipient outcomes, the schedule, flags,
 * removal, and queue_record()'s all-in-one commit. Each is one write txn
 * run by queue_run(), so the crash states of queue.c's table hold here too.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "queue.h"
#include "queue_int.h"

enum mod_kind { MOD_RCPT, MOD_SCHED, MOD_FLAGS };

struct mod {
	enum mod_kind	 kind;
	uint64_t	 id;
	unsigned int	 idx, set, clear;
	enum queue_rcpt_state st;
	const char	*reply;
	int		 tempfail;
	int64_t		 when;
};

static int
mod_apply(struct queue_env *e, const struct mod *m)
{
	struct queue_rcpt *r;

	switch (m->kind) {
	case MOD_RCPT:
		if (m->idx >= e->nrcpt || (unsigned int)m->st > QUEUE_FAILED)
			return EINVAL;
		r = &e->rcpt[m->idx];
		r->state = m->st;
		free(r->reply);
		r->reply = m->reply != NULL ? xstrndup(m->reply,
		    queue_rec_cut(m->reply, QUEUE_REPLY_MAX)) : NULL;
		r->attempts++;
		r->last_attempt = m->when;
		if (m->tempfail && r->first_tempfail == 0)
			r->first_tempfail = m->when;
		return 0;
	case MOD_SCHED:
		e->next_attempt = m->when;
		return 0;
	case MOD_FLAGS:
		e->flags = (e->flags & ~m->clear) | m->set;
		return 0;
	}
	return EINVAL;
}

/* Stores a changed envelope and moves its schedule entry to match. */
static int
env_write(struct queue *q, MDB_txn *txn, uint64_t id,
    const struct queue_env *e, int had, int64_t old)
{
	struct buf rec = BUF_INIT;
	uint8_t k[8];
	MDB_val key = { sizeof k, k }, val;
	int rc;

	queue_rec_encode(e, &rec);
	be_put(k, id, 8);
	val.mv_size = rec.len;
	val.mv_data = rec.data;
	if ((rc = mdb_put(txn, q->db_env, &key, &val, 0)) != 0)
		queue_lm(q, "mdb_put", rc);
	else
		rc = queue_sched_move(q, txn, id, had, old, e);
	buf_clear(&rec);
	return rc;
}

static int
mod_op(struct queue *q, MDB_txn *txn, void *arg)
{
	const struct mod *m = arg;
	struct queue_env e;
	int64_t old;
	int rc, had;

	if ((rc = queue_env_read(q, txn, m->id, &e)) != 0)
		return rc;
	had = queue_schedulable(&e);
	old = e.next_attempt;
	if ((rc = mod_apply(&e, m)) == 0)
		rc = env_write(q, txn, m->id, &e, had, old);
	queue_env_clear(&e);
	return rc;
}

static int
modify(struct queue *q, struct mod *m, const char *what)
{
	char ids[QUEUE_ID_LEN + 1];
	int rc;

	if ((rc = queue_run(q, 0, mod_op, m)) != 0)
		return queue_fail(q, rc, "%s %s", what,
		    queue_id_str(m->id, ids));
	return 0;
}

int
queue_rcpt_set(struct queue *q, uint64_t id, unsigned int idx,
    enum queue_rcpt_state st, const char *reply, int tempfail, int64_t now)
{
	struct mod m = { .kind = MOD_RCPT, .id = id, .idx = idx, .st = st,
	    .reply = reply, .tempfail = tempfail, .when = now };

	return modify(q, &m, "rcpt_set");
}

int
queue_schedule(struct queue *q, uint64_t id, int64_t when)
{
	struct mod m = { .kind = MOD_SCHED, .id = id, .when = when };

	return modify(q, &m, "schedule");
}

int
queue_set_flags(struct queue *q, uint64_t id, unsigned int set,
    unsigned int clear)
{
	struct mod m = { .kind = MOD_FLAGS, .id = id, .set = set,
	    .clear = clear };

	return modify(q, &m, "set_flags");
}

/*
 * Deletes every key in dbi whose first 8 bytes are id (klen 16: id is the
 * second half, for sched). Seeks again after each delete: simple and
 * correct whatever the cursor does after mdb_cursor_del.
 */
static int
del_prefix(struct queue *q, MDB_txn *txn, MDB_dbi dbi, uint64_t id,
    size_t off)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint8_t p[8];
	int rc, op = off == 0 ? MDB_SET_RANGE : MDB_FIRST;

	be_put(p, id, 8);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	k.mv_size = sizeof p;
	k.mv_data = p;
	while ((rc = mdb_cursor_get(c, &k, &v, (MDB_cursor_op)op)) == 0) {
		if (k.mv_size < off + 8 ||
		    memcmp((uint8_t *)k.mv_data + off, p, 8) != 0) {
			if (off == 0)
				break;
			op = MDB_NEXT;
			continue;
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		k.mv_size = sizeof p;
		k.mv_data = p;
		op = off == 0 ? MDB_SET_RANGE : MDB_FIRST;
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND || rc == 0)
		return 0;
	return queue_lm(q, "mdb_cursor_del", rc);
}

static int
del_op(struct queue *q, MDB_txn *txn, void *arg)
{
	const uint64_t *id = arg;
	struct queue_env e;
	uint8_t k[8];
	MDB_val key = { sizeof k, k };
	int rc;

	rc = queue_env_read(q, txn, *id, &e);
	if (rc == 0) {
		rc = queue_sched_move(q, txn, *id, queue_schedulable(&e), e.next_attempt,
		    NULL);
		queue_env_clear(&e);
	} else if (rc == EBADMSG) {
		/* A corrupt record must still be removable: scan sched. */
		rc = del_prefix(q, txn, q->db_sched, *id, 8);
	}
	if (rc != 0)
		return rc;
	be_put(k, *id, 8);
	if ((rc = mdb_del(txn, q->db_env, &key, NULL)) != 0)
		return queue_lm(q, "mdb_del", rc);
	if ((rc = del_prefix(q, txn, q->db_body, *id, 0)) != 0)
		return rc;
	return del_prefix(q, txn, q->db_hist, *id, 0);
}

int
queue_delete(struct queue *q, uint64_t id)
{
	char ids[QUEUE_ID_LEN + 1];
	int rc;

	if ((rc = queue_run(q, 0, del_op, &id)) != 0)
		return queue_fail(q, rc, "delete %s", queue_id_str(id, ids));
	return 0;
}

struct rec_arg {
	uint64_t			 id;
	const struct queue_outcome	*o;
	size_t				 n;
	int64_t				 now, next;
	int				 gone;
};

static int
all_sent(const struct queue_env *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state != QUEUE_SENT)
			return 0;
	return 1;
}

/* queue_record(): the recipients' states, then delete or reschedule. */
static int
rec_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct rec_arg *a = arg;
	struct queue_env e;
	struct mod m = { .kind = MOD_RCPT, .id = a->id, .when = a->now };
	size_t i;
	int rc, had;
	int64_t old;

	a->gone = 0;
	if ((rc = queue_env_read(q, txn, a->id, &e)) != 0)
		return rc;
	had = queue_schedulable(&e);
	old = e.next_attempt;
	for (i = 0, rc = 0; i < a->n && rc == 0; i++) {
		m.idx = a->o[i].idx;
		m.st = a->o[i].state;
		m.reply = a->o[i].reply;
		m.tempfail = a->o[i].tempfail;
		rc = mod_apply(&e, &m);
	}
	if (rc == 0 && all_sent(&e)) {
		queue_env_clear(&e);
		a->gone = 1;
		return del_op(q, txn, &a->id);
	}
	if (rc == 0 && a->next > 0 && queue_schedulable(&e))
		e.next_attempt = a->next;
	if (rc == 0)
		rc = env_write(q, txn, a->id, &e, had, old);
	queue_env_clear(&e);
	return rc;
}

int
queue_record(struct queue *q, uint64_t id, const struct queue_outcome *o,
    size_t n, int64_t now, int64_t next, int *gone)
{
	struct rec_arg a = { .id = id, .o = o, .n = n, .now = now,
	    .next = next };
	char ids[QUEUE_ID_LEN + 1];
	int rc;

	if ((rc = queue_run(q, 0, rec_op, &a)) != 0)
		return queue_fail(q, rc, "record %s", queue_id_str(id, ids));
	if (gone != NULL)
		*gone = a.gone;
	return 0;
}

