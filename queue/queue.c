/* SPDX-License-Identifier: ISC */
/*
 * The durable queue, on LMDB.
 *
 * Files: <dir>/queue/data.mdb and lock.mdb (mode 0600) in a 0700 directory.
 * One environment, five named databases; every integer in a key or record
 * is big-endian, so LMDB's byte order is numeric order:
 *
 *   env    id(8)                 -> envelope record (queue_rec.c)
 *   body   id(8) chunk(4)        -> the message bytes, 1 MiB per chunk,
 *                                   chunks 0..n-1 (none for an empty body):
 *                                   a big message needs no huge contiguous
 *                                   run of overflow pages
 *   sched  when(8) id(8)         -> empty. Present exactly when the message
 *                                   is not held and has a pending recipient;
 *                                   when = next_attempt (negative stored as 0)
 *   hist   id(8) seq(4)          -> when(8) text
 *   meta   text                  -> text. "#last_id" holds the last id given
 *                                   out (13 hex digits); queue_meta_set()
 *                                   refuses keys starting with '#'
 *
 * Ids are max(wall-clock microseconds, last id + 1, newest id + 1), chosen
 * inside the write txn, so unique across processes (LMDB has one writer at
 * a time) and sorted by arrival.
 *
 * The envelope record (struct queue_env as bytes) is laid out at the top
 * of queue_rec.c, which encodes it and decodes it, trusting nothing. This
 * file opens the queue and writes new messages, history and status;
 * queue_mod.c changes and removes messages; queue_read.c holds the reads (get,
 * body, walk, due, history, meta_get). They share the handle and the txn
 * runner through queue_int.h.
 *
 * Crash states. Every change is one write txn. LMDB's commit writes the new
 * pages (copy-on-write, never over live ones), fdatasyncs, then writes the
 * meta page that points at the new root through an O_DSYNC descriptor.
 *
 *   step                                  state after kill -9 / power loss
 *   txn begun, records put                old: new pages are unreferenced
 *   commit: data pages written + synced   old: meta still points at old root
 *   commit: meta page written (O_DSYNC)   new, complete
 *   call returns 0                        new, durable
 *
 * So a crash never leaves half a message, a body without its envelope, or a
 * schedule entry without its message. What queue_open() repairs: reader
 * slots of dead processes (mdb_reader_check; a stale reader would pin old
 * pages and make the file grow). A writer killed inside its txn holds a
 * robust mutex that LMDB recovers on the next write.
 *
 * Map size: 64 MiB to start (TERN_QUEUE_MAPSIZE, in bytes, overrides it
 * for tests). MDB_MAP_FULL aborts the txn, doubles the map and reruns the
 * whole operation, up to 1 TiB, then ENOSPC. MDB_MAP_RESIZED (another
 * process grew it) adopts the new size and retries. No txn is ever held
 * across calls, which mdb_env_set_mapsize() requires.
 *
 * One handle per process, opened after any fork: LMDB's locks belong to
 * the process, and a child closing an inherited handle would free the
 * parent's reader slots. Not thread-safe: one thread per handle.
 */
#include <errno.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "queue.h"
#include "queue_int.h"

#define MAP_START	((uint64_t)64 << 20)
#define MAP_MIN		((uint64_t)64 << 10)
#define MAP_CAP		((uint64_t)1 << 40)
#define CHUNK		((size_t)1 << 20)
#define TEXT_MAX	4096
#define TRIES		64
#define LAST_ID		"#last_id"

static char empty[1];

/* In sched exactly when not held and a recipient is still pending. */
int
queue_schedulable(const struct queue_env *e)
{
	size_t i;

	if (e->flags & QUEUE_F_HELD)
		return 0;
	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == QUEUE_PENDING)
			return 1;
	return 0;
}

/* --- errors and the transaction runner ---------------------------------- */

static int
errno_of(int rc)
{
	switch (rc) {
	case MDB_NOTFOUND:
		return ENOENT;
	case MDB_MAP_FULL:
		return ENOSPC;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
	case MDB_TLS_FULL:
		return EAGAIN;
	case MDB_TXN_FULL:
		return EFBIG;
	case MDB_KEYEXIST:
		return EEXIST;
	case MDB_BAD_VALSIZE:
	case MDB_BAD_DBI:
	case MDB_BAD_TXN:
	case MDB_BAD_RSLOT:
	case MDB_INCOMPATIBLE:
		return EINVAL;
	default:
		/* CORRUPTED, PANIC, PAGE_NOTFOUND, ...: the disk let us down. */
		return rc > 0 ? rc : EIO;
	}
}

int
queue_lm(struct queue *q, const char *call, int rc)
{
	if (rc != 0)
		q->call = call;
	return rc;
}

int
queue_fail(struct queue *q, int rc, const char *fmt, ...)
{
	char what[128];
	const char *text;
	va_list ap;
	int e = errno_of(rc);

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (rc == ENOENT || rc == MDB_NOTFOUND)
		text = "not found";
	else if (rc == EBADMSG)
		text = "corrupt record";
	else
		text = mdb_strerror(rc);
	if (q->call != NULL && rc != ENOENT && rc != EBADMSG)
		snprintf(q->err, sizeof q->err, "queue: %s: %s: %s", what,
		    q->call, text);
	else
		snprintf(q->err, sizeof q->err, "queue: %s: %s", what, text);
	q->temp = e == ENOSPC || e == EIO || e == EAGAIN || e == EDQUOT;
	errno = e;
	return -1;
}

static int
grow(struct queue *q)
{
	MDB_envinfo info;
	uint64_t next;

	mdb_env_info(q->env, &info);
	if ((uint64_t)info.me_mapsize >= MAP_CAP)
		return -1;
	next = (uint64_t)info.me_mapsize * 2;
	if (next > MAP_CAP)
		next = MAP_CAP;
	if (next > SIZE_MAX)
		return -1;
	return mdb_env_set_mapsize(q->env, (size_t)next) == 0 ? 0 : -1;
}

/*
 * LMDB reports a write cut short by a full disk as EIO; say what it is
 * when the file system has next to nothing left.
 */
static int
commit_error(struct queue *q, int rc)
{
	struct statvfs sv;
	const char *path;

	if (rc == EIO && mdb_env_get_path(q->env, &path) == 0 &&
	    statvfs(path, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < 4 * CHUNK)
		return ENOSPC;
	return rc;
}

/* Runs op in one txn: queue_int.h says how a full map is retried. */
int
queue_run(struct queue *q, int rdonly, queue_op_fn op, void *arg)
{
	MDB_txn *txn;
	int rc = 0, tries;

	for (tries = 0; tries < TRIES; tries++) {
		q->call = "mdb_txn_begin";
		rc = mdb_txn_begin(q->env, NULL, rdonly ? MDB_RDONLY : 0, &txn);
		if (rc == MDB_MAP_RESIZED) {
			/* Another process grew the map: adopt its size. */
			if (mdb_env_set_mapsize(q->env, 0) != 0)
				return rc;
			continue;
		}
		if (rc != 0)
			return rc;
		q->call = NULL;
		rc = op(q, txn, arg);
		if (rc != 0 || rdonly) {
			mdb_txn_abort(txn);
		} else {
			q->call = "mdb_txn_commit";
			rc = commit_error(q, mdb_txn_commit(txn)); /* frees txn */
		}
		if (rc != MDB_MAP_FULL || rdonly || grow(q) != 0)
			return rc;
	}
	return rc;
}

/* --- open and close ----------------------------------------------------- */

static int
open_dbs(struct queue *q, MDB_txn *txn, void *arg)
{
	static const char *const names[] = { "env", "body", "sched", "hist",
	    "meta" };
	MDB_dbi *dbi[] = { &q->db_env, &q->db_body, &q->db_sched, &q->db_hist,
	    &q->db_meta };
	size_t i;
	int rc;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbi[i])) != 0)
			return queue_lm(q, "mdb_dbi_open", rc);
	return 0;
}

/* At least the start size; never shrinks what the file already uses. */
static int
map_init(struct queue *q)
{
	MDB_envinfo info;
	uint64_t want = MAP_START;
	const char *s;
	char *end;

	if ((s = getenv("TERN_QUEUE_MAPSIZE")) != NULL && *s != '\0') {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno == 0 && *end == '\0' && v >= MAP_MIN && v <= MAP_CAP)
			want = v;
	}
	if (want > SIZE_MAX)
		want = SIZE_MAX;
	mdb_env_info(q->env, &info);
	if ((uint64_t)info.me_mapsize >= want)
		return 0;
	return mdb_env_set_mapsize(q->env, (size_t)want);
}

struct queue *
queue_open(const char *dir, const char **why)
{
	struct queue *q = xcalloc(1, sizeof *q);
	char *path = xasprintf("%s/queue", dir);
	const char *w;
	int rc, dead;

	w = "queue: cannot create the queue directory";
	if (mkdir_p(path, 0700) == -1) {
		rc = errno;
		goto fail;
	}
	w = "queue: cannot create the LMDB environment";
	if ((rc = mdb_env_create(&q->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(q->env, 8)) != 0)
		goto fail;
	w = "queue: cannot open the LMDB environment";
	/* NORDAHEAD: records are small and read at random; the kernel's
	 * readahead would only fill our resident set. */
	if ((rc = mdb_env_open(q->env, path, MDB_NORDAHEAD, 0600)) != 0)
		goto fail;
	w = "queue: cannot clear stale readers";
	if ((rc = mdb_reader_check(q->env, &dead)) != 0)
		goto fail;
	w = "queue: cannot set the map size";
	if ((rc = map_init(q)) != 0)
		goto fail;
	w = "queue: cannot open the databases";
	if ((rc = queue_run(q, 0, open_dbs, NULL)) != 0)
		goto fail;
	free(path);
	if (why != NULL)
		*why = NULL;
	return q;
fail:
	free(path);
	if (q->env != NULL)
		mdb_env_close(q->env);
	free(q);
	if (why != NULL)
		*why = w;
	errno = errno_of(rc);
	return NULL;
}

void
queue_trim(struct queue *q)
{
	char line[4352], path[4096];
	unsigned long lo, hi;
	const char *file;
	size_t n;
	FILE *f;

	/* LMDB does not say where it mapped the file (me_mapaddr is set
	 * only with MDB_FIXEDMAP): the kernel does. The map is read-only
	 * (no MDB_WRITEMAP), so dropping our view of its pages loses
	 * nothing; they stay in the page cache. */
	if (mdb_env_get_path(q->env, &file) != 0 ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return;
	snprintf(path, sizeof path, "%s/data.mdb", file);
	n = strlen(path);
	while (fgets(line, sizeof line, f) != NULL) {
		size_t l = strcspn(line, "\n");

		line[l] = '\0';
		if (l >= n && strcmp(line + l - n, path) == 0 &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	fclose(f);
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	mdb_env_close(q->env);
	free(q);
}

const char *
queue_error(const struct queue *q)
{
	if (q == NULL)
		return "queue: not open";
	return q->err[0] != '\0' ? q->err : "queue: no error";
}

int
queue_temporary(const struct queue *q)
{
	return q != NULL && q->temp;
}

/* --- ids ---------------------------------------------------------------- */

char *
queue_id_str(uint64_t id, char buf[QUEUE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	/* 52 bits of microseconds last until the year 2112. */
	for (i = QUEUE_ID_LEN - 1; i >= 0; i--) {
		buf[i] = hex[id & 0xf];
		id >>= 4;
	}
	buf[QUEUE_ID_LEN] = '\0';
	return buf;
}

int
queue_id_parse(const char *s, uint64_t *id)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < QUEUE_ID_LEN; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = v << 4 | (uint64_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = v << 4 | (uint64_t)(s[i] - 'a' + 10);
		else
			return -1;
	}
	if (s[QUEUE_ID_LEN] != '\0')
		return -1;
	*id = v;
	return 0;
}

/* Chooses the next id inside the write txn and records it in meta. */
static int
id_next(struct queue *q, MDB_txn *txn, uint64_t *id)
{
	MDB_val key = { sizeof LAST_ID - 1, (char *)LAST_ID }, val, k, v;
	MDB_cursor *c;
	char text[QUEUE_ID_LEN + 1];
	uint64_t last = 0, now;
	int rc;

	rc = mdb_get(txn, q->db_meta, &key, &val);
	if (rc == 0 && val.mv_size == QUEUE_ID_LEN) {
		memcpy(text, val.mv_data, QUEUE_ID_LEN);
		text[QUEUE_ID_LEN] = '\0';
		if (queue_id_parse(text, &now) == 0)
			last = now;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return queue_lm(q, "mdb_get", rc);
	/* The newest message too, in case the counter was lost. */
	if ((rc = mdb_cursor_open(txn, q->db_env, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size == 8 && be_get(k.mv_data, 8) > last)
		last = be_get(k.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return queue_lm(q, "mdb_cursor_get", rc);
	now = (uint64_t)clock_wall_us();
	*id = now > last ? now : last + 1;
	queue_id_str(*id, text);
	val.mv_size = QUEUE_ID_LEN;
	val.mv_data = text;
	return queue_lm(q, "mdb_put", mdb_put(txn, q->db_meta, &key, &val, 0));
}

/* --- writes ------------------------------------------------------------- */

/* Moves id in sched from (had, old) to wherever e now belongs, if at all. */
int
queue_sched_move(struct queue *q, MDB_txn *txn, uint64_t id, int had, int64_t old,
    const struct queue_env *e)
{
	uint8_t k[16];
	MDB_val key = { sizeof k, k }, val = { 0, empty };
	int rc;

	be_put(k + 8, id, 8);
	if (had) {
		be_put(k, old > 0 ? (uint64_t)old : 0, 8);
		rc = mdb_del(txn, q->db_sched, &key, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return queue_lm(q, "mdb_del", rc);
	}
	if (e == NULL || !queue_schedulable(e))
		return 0;
	be_put(k, e->next_attempt > 0 ? (uint64_t)e->next_attempt : 0, 8);
	return queue_lm(q, "mdb_put", mdb_put(txn, q->db_sched, &key, &val, 0));
}

struct put_arg {
	const struct queue_env	*env;
	const struct buf	*rec;
	const void		*body;
	size_t			 len;
	uint64_t		 id;
};

static int
put_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct put_arg *a = arg;
	uint8_t k[12];
	MDB_val key = { 8, k }, val;
	size_t off;
	uint32_t n;
	int rc;

	if ((rc = id_next(q, txn, &a->id)) != 0)
		return rc;
	be_put(k, a->id, 8);
	val.mv_size = a->rec->len;
	val.mv_data = a->rec->data;
	rc = mdb_put(txn, q->db_env, &key, &val, MDB_NOOVERWRITE);
	if (rc != 0)
		return queue_lm(q, "mdb_put", rc);
	key.mv_size = 12;
	for (off = 0, n = 0; off < a->len; off += val.mv_size, n++) {
		be_put(k + 8, n, 4);
		val.mv_size = a->len - off < CHUNK ? a->len - off : CHUNK;
		val.mv_data = (char *)a->body + off;
		if ((rc = mdb_put(txn, q->db_body, &key, &val, 0)) != 0)
			return queue_lm(q, "mdb_put", rc);
	}
	return queue_sched_move(q, txn, a->id, 0, 0, a->env);
}

int
queue_put(struct queue *q, struct queue_env *env, const void *body,
    size_t len)
{
	struct buf rec = BUF_INIT;
	struct queue_env tmp;
	struct put_arg a;
	int rc;

	q->call = NULL;
	if ((rc = queue_rec_check(env)) != 0 || (len > 0 && body == NULL))
		return queue_fail(q, EINVAL, "put");
	tmp = *env;			/* shallow: only read for encoding */
	tmp.size = len;
	tmp.queued_at = clock_wall();
	queue_rec_encode(&tmp, &rec);
	a.env = &tmp;
	a.rec = &rec;
	a.body = body;
	a.len = len;
	a.id = 0;
	rc = queue_run(q, 0, put_op, &a);
	buf_clear(&rec);
	if (rc != 0)
		return queue_fail(q, rc, "put");
	env->id = a.id;
	env->size = len;
	env->queued_at = tmp.queued_at;
	return 0;
}

int
queue_env_read(struct queue *q, MDB_txn *txn, uint64_t id,
    struct queue_env *e)
{
	uint8_t k[8];
	MDB_val key = { sizeof k, k }, val;
	int rc;

	be_put(k, id, 8);
	if ((rc = mdb_get(txn, q->db_env, &key, &val)) != 0)
		return rc == MDB_NOTFOUND ? ENOENT : queue_lm(q, "mdb_get", rc);
	if ((rc = queue_rec_decode(val.mv_data, val.mv_size, e)) != 0)
		return rc;
	e->id = id;
	return 0;
}

struct log_arg {
	uint64_t	 id;
	struct buf	 val;
};

static int
log_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct log_arg *a = arg;
	struct queue_env e;
	MDB_cursor *c;
	MDB_val key, val;
	uint8_t k[12], nk[12];
	uint32_t seq = 0;
	int rc;

	if ((rc = queue_env_read(q, txn, a->id, &e)) != 0)
		return rc;
	queue_env_clear(&e);
	/* The last entry of id is just before the first key of id + 1. */
	be_put(nk, a->id + 1, 8);
	be_put(nk + 8, 0, 4);
	if ((rc = mdb_cursor_open(txn, q->db_hist, &c)) != 0)
		return queue_lm(q, "mdb_cursor_open", rc);
	key.mv_size = sizeof nk;
	key.mv_data = nk;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	rc = mdb_cursor_get(c, &key, &val, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && key.mv_size == 12 && be_get(key.mv_data, 8) == a->id)
		seq = (uint32_t)be_get((uint8_t *)key.mv_data + 8, 4) + 1;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return queue_lm(q, "mdb_cursor_get", rc);
	be_put(k, a->id, 8);
	be_put(k + 8, seq, 4);
	key.mv_size = sizeof k;
	key.mv_data = k;
	val.mv_size = a->val.len;
	val.mv_data = a->val.data;
	return queue_lm(q, "mdb_put", mdb_put(txn, q->db_hist, &key, &val, 0));
}

int
queue_log(struct queue *q, uint64_t id, int64_t when, const char *text)
{
	struct log_arg a = { id, BUF_INIT };
	char ids[QUEUE_ID_LEN + 1];
	int rc;

	queue_rec_int(&a.val, (uint64_t)when, 8);
	buf_add(&a.val, text, queue_rec_cut(text, TEXT_MAX));
	rc = queue_run(q, 0, log_op, &a);
	buf_clear(&a.val);
	if (rc != 0)
		return queue_fail(q, rc, "log %s", queue_id_str(id, ids));
	return 0;
}

struct meta_arg {
	const char	*key;
	const char	*value;
};

static int
meta_set_op(struct queue *q, MDB_txn *txn, void *arg)
{
	struct meta_arg *a = arg;
	MDB_val key = { strlen(a->key), (char *)a->key };
	MDB_val val = { strlen(a->value), (char *)a->value };

	if (val.mv_size == 0)
		val.mv_data = empty;
	return queue_lm(q, "mdb_put", mdb_put(txn, q->db_meta, &key, &val, 0));
}

int
queue_meta_set(struct queue *q, const char *key, const char *value)
{
	struct meta_arg a = { key, value };
	size_t n = strlen(key);
	int rc;

	q->call = NULL;
	/* '#' keys are the queue's own, such as the id counter. */
	if (n == 0 || n > QUEUE_KEY_MAX || key[0] == '#')
		return queue_fail(q, EINVAL, "meta_set %.64s", key);
	if ((rc = queue_run(q, 0, meta_set_op, &a)) != 0)
		return queue_fail(q, rc, "meta_set %.64s", key);
	return 0;
}
