/* SPDX-License-Identifier: ISC */
/*
 * The queue under stress: a writer killed mid-transaction, concurrent
 * writers from forked processes, map growth, corrupt records, a full disk.
 */
#include "queue_fx.h"

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
		cmocka_unit_test_setup_teardown(test_abort, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill_during_puts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_map_growth, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_chunk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
