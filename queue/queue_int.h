/* SPDX-License-Identifier: ISC */
#ifndef TERN_QUEUE_INT_H
#define TERN_QUEUE_INT_H

/*
 * Private to queue/: what queue.c (open and writes), queue_read.c (reads)
 * and queue_rec.c (the envelope record, laid out at the top of queue_rec.c)
 * share. Not for other modules; they use queue.h.
 */
#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "queue.h"

/* A stored reply keeps its first QUEUE_REPLY_MAX bytes. */
#define QUEUE_REPLY_MAX	4096

/* LMDB's default maximum key size, so the longest meta key. */
#define QUEUE_KEY_MAX	511

/* The handle; one per process, opened after any fork (queue.c). */
struct queue {
	MDB_env		*env;
	MDB_dbi		 db_env, db_body, db_sched, db_hist, db_meta;
	const char	*call;		/* the call that failed, or NULL */
	int		 temp;
	char		 err[256];
};

/* One operation inside a txn: 0, an errno, or an LMDB code. */
typedef int (*queue_op_fn)(struct queue *, MDB_txn *, void *);

/*
 * Runs op in one txn and commits it (rdonly: aborts after op). On a full
 * map the txn is thrown away, the map doubled and op run again from the
 * start, so op must get everything it writes from arg and the txn. Returns
 * op's result, or the LMDB code of begin/commit.
 */
int	 queue_run(struct queue *, int rdonly, queue_op_fn op, void *arg);

/* Notes call as the one that failed when rc != 0; returns rc. */
int	 queue_lm(struct queue *, const char *call, int rc);

/*
 * Records why (rc is an errno or LMDB code) in the handle's error text
 * and returns -1 with errno set.
 */
int	 queue_fail(struct queue *, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Reads and decodes id's record into e. Returns 0 (the caller clears e),
 * ENOENT, EBADMSG, or an LMDB code.
 */
int	 queue_env_read(struct queue *, MDB_txn *txn, uint64_t id,
	    struct queue_env *e);

/* Big-endian integers of w bytes (w <= 8), so byte order is numeric order. */
static inline void
be_put(uint8_t *p, uint64_t v, size_t w)
{
	while (w-- > 0) {
		p[w] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static inline uint64_t
be_get(const uint8_t *p, size_t w)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

/* Appends v as a big-endian integer of w bytes (w <= 8). */
void	 queue_rec_int(struct buf *, uint64_t v, size_t w);

/* Length of s cut to max bytes, not inside a UTF-8 sequence. */
size_t	 queue_rec_cut(const char *s, size_t max);

/*
 * 0 if e can be encoded as it is, or EINVAL for what encoding would have
 * to invent or cut (an over-long address, a NULL recipient, a bad state).
 */
int	 queue_rec_check(const struct queue_env *e);

/*
 * Appends e's record (id is the key, so not in it) to b. e must have
 * passed queue_rec_check(); a reply longer than QUEUE_REPLY_MAX is cut.
 */
void	 queue_rec_encode(const struct queue_env *e, struct buf *b);

/*
 * Decodes the record data[0..len) into e (id left 0). Returns 0, or
 * EBADMSG with e cleared. The input is untrusted (any bytes are safe); on 0
 * the caller owns e's strings: queue_env_clear().
 */
int	 queue_rec_decode(const void *data, size_t len, struct queue_env *e);

/* queue.c: a message belongs in sched (unheld, a recipient pending); moves
 * its sched entry from (had, old) to what e says (e NULL: remove). */
int	queue_schedulable(const struct queue_env *);
int	queue_sched_move(struct queue *, MDB_txn *, uint64_t id, int had,
	    int64_t old, const struct queue_env *e);

#endif
