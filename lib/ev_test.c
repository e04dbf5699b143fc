/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"

/* What callbacks saw; one per test, reset by setup(). */
static struct rec {
	struct ev_loop	*loop;
	int		 calls;
	unsigned int	 revents[8];
	char		 order[16];	/* one letter per callback, in order */
	int64_t		 when[8];	/* ev_now() at each timer callback */
	struct ev_io	*io[2];
	struct ev_timer	*tm[4];
	int		 fd[4];
	int		 signo;
} r;

static int
setup(void **state)
{
	memset(&r, 0, sizeof r);
	r.fd[0] = r.fd[1] = r.fd[2] = r.fd[3] = -1;
	r.loop = ev_loop_new();
	return 0;
}

static int
teardown(void **state)
{
	int i;

	ev_loop_free(r.loop);
	for (i = 0; i < 4; i++)
		if (r.fd[i] != -1)
			close(r.fd[i]);
	return 0;
}

static void
note(char c)
{
	size_t n = strlen(r.order);

	if (n + 1 < sizeof r.order)
		r.order[n] = c;
}

static void
make_pipe(int *p)
{
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
}

static void
make_socketpair(int *p)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    p), 0);
}

/* --- io --------------------------------------------------------------- */

static void
on_read_free(struct ev_io *w, unsigned int revents, void *arg)
{
	char c;

	r.revents[r.calls++ & 7] = revents;
	assert_int_equal(read(ev_io_fd(w), &c, 1), 1);
	assert_int_equal(c, 'x');
	ev_io_free(w);		/* nothing left: ev_run returns */
}

static void
test_io_read(void **state)
{
	make_pipe(r.fd);
	assert_int_equal(write(r.fd[1], "x", 1), 1);
	assert_non_null(ev_io_new(r.loop, r.fd[0], EV_READ, on_read_free,
	    NULL));
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.revents[0], EV_READ);
}

static void
on_write_once(struct ev_io *w, unsigned int revents, void *arg)
{
	r.revents[r.calls++ & 7] = revents;
	assert_int_equal(write(ev_io_fd(w), "x", 1), 1);
	ev_io_set(w, 0);	/* disarmed: nothing left, ev_run returns */
}

static void
test_io_write(void **state)
{
	char c;

	make_socketpair(r.fd);
	ev_io_new(r.loop, r.fd[0], EV_READ | EV_WRITE, on_write_once, NULL);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 1);
	/* Nothing to read yet: only the wanted, ready event is reported. */
	assert_int_equal(r.revents[0], EV_WRITE);
	assert_int_equal(read(r.fd[1], &c, 1), 1);
}

/* A sends "ping" when writable, then re-arms for reading the reply. */
static void
on_client(struct ev_io *w, unsigned int revents, void *arg)
{
	char buf[8] = "";

	if (revents & EV_WRITE) {
		note('w');
		assert_int_equal(write(ev_io_fd(w), "ping", 4), 4);
		ev_io_set(w, EV_READ);
		return;
	}
	note('r');
	assert_int_equal(read(ev_io_fd(w), buf, sizeof buf), 4);
	assert_string_equal(buf, "pong");
	ev_io_free(w);
}

static void
on_server(struct ev_io *w, unsigned int revents, void *arg)
{
	char buf[8] = "";

	note('s');
	assert_int_equal(revents, EV_READ);
	assert_int_equal(read(ev_io_fd(w), buf, sizeof buf), 4);
	assert_string_equal(buf, "ping");
	assert_int_equal(write(ev_io_fd(w), "pong", 4), 4);
	ev_io_free(w);
}

static void
test_io_rearm(void **state)
{
	make_socketpair(r.fd);
	ev_io_new(r.loop, r.fd[0], EV_WRITE, on_client, NULL);
	ev_io_new(r.loop, r.fd[1], EV_READ, on_server, NULL);
	assert_int_equal(ev_run(r.loop), 0);
	assert_string_equal(r.order, "wsr");
}

static void
on_eof(struct ev_io *w, unsigned int revents, void *arg)
{
	char c;

	r.revents[r.calls++ & 7] = revents;
	assert_int_equal(read(ev_io_fd(w), &c, 1), 0);
	ev_io_free(w);
}

static void
test_io_hangup_is_read(void **state)
{
	make_pipe(r.fd);
	close(r.fd[1]);
	r.fd[1] = -1;
	ev_io_new(r.loop, r.fd[0], EV_READ, on_eof, NULL);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.revents[0], EV_READ | EV_ERROR);
}

/* --- timers ----------------------------------------------------------- */

static void
on_timer(struct ev_timer *t, void *arg)
{
	const char *name = arg;

	r.when[r.calls++ & 7] = clock_mono_ms();
	note(name[0]);
}

static void
test_timers_in_deadline_order(void **state)
{
	int64_t t0 = clock_mono_ms(), due[4] = { 30, 10, 20, 10 };
	const char *names[4] = { "c", "a", "b", "A" };
	int i;

	for (i = 0; i < 4; i++) {
		r.tm[i] = ev_timer_new(r.loop, on_timer, (void *)names[i]);
		ev_timer_at(r.tm[i], t0 + due[i]);
	}
	assert_int_equal(ev_run(r.loop), 0);	/* all fired: none armed */
	/* Ties (a, A at +10) fire in arming order. */
	assert_string_equal(r.order, "aAbc");
	assert_true(r.when[0] >= t0 + 10 && r.when[1] >= t0 + 10);
	assert_true(r.when[2] >= t0 + 20);
	assert_true(r.when[3] >= t0 + 30);
	assert_true(r.when[3] < t0 + 200);	/* and not absurdly late */
	assert_false(ev_timer_armed(r.tm[0]));
}

static void
on_repeat(struct ev_timer *t, void *arg)
{
	int64_t *deadline = arg;

	r.when[r.calls] = clock_mono_ms();
	assert_true(r.when[r.calls] >= *deadline);
	assert_true(ev_now(r.loop) >= *deadline);
	if (++r.calls < 3) {
		*deadline = clock_mono_ms() + 5;
		ev_timer_at(t, *deadline);
	}
}

static void
test_timer_rearm_in_callback(void **state)
{
	static int64_t deadline;

	r.tm[0] = ev_timer_new(r.loop, on_repeat, &deadline);
	deadline = clock_mono_ms() + 5;
	ev_timer_at(r.tm[0], deadline);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 3);
	assert_true(r.when[2] >= r.when[0] + 10);
}

/* A past deadline re-armed from its callback fires next round, not now. */
static void
on_past(struct ev_timer *t, void *arg)
{
	if (++r.calls < 4)
		ev_timer_at(t, 0);
}

static void
test_timer_past_deadline_no_spin(void **state)
{
	uint64_t w0;

	r.tm[0] = ev_timer_new(r.loop, on_past, NULL);
	ev_timer_at(r.tm[0], 0);
	w0 = ev_wakeups(r.loop);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 4);
	assert_int_equal(ev_wakeups(r.loop) - w0, 4);	/* one per round */
}

/* The heap under churn: 64 timers, a third stopped, some re-armed. */
static int64_t stress_last, stress_deadline[64];
static int stress_fired[64];

static void
on_stress(struct ev_timer *t, void *arg)
{
	int i = (int)(intptr_t)arg;

	assert_true(stress_deadline[i] >= stress_last);
	assert_true(ev_now(r.loop) >= stress_deadline[i]);
	stress_last = stress_deadline[i];
	stress_fired[i]++;
	r.calls++;
}

static void
test_timer_heap_order(void **state)
{
	struct ev_timer *t[64];
	int64_t t0 = clock_mono_ms();
	unsigned int seed = 7;
	int i, armed = 0;

	stress_last = 0;
	memset(stress_fired, 0, sizeof stress_fired);
	for (i = 0; i < 64; i++) {
		t[i] = ev_timer_new(r.loop, on_stress, (void *)(intptr_t)i);
		seed = seed * 1103515245 + 12345;
		stress_deadline[i] = t0 + (seed >> 16) % 15;
		ev_timer_at(t[i], stress_deadline[i]);
	}
	for (i = 0; i < 64; i += 3)
		ev_timer_stop(t[i]);
	for (i = 1; i < 64; i += 5) {
		stress_deadline[i] = t0 + 15 - i % 7;
		ev_timer_at(t[i], stress_deadline[i]);
	}
	for (i = 0; i < 64; i++)
		armed += ev_timer_armed(t[i]);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, armed);
	for (i = 0; i < 64; i++)
		assert_int_equal(stress_fired[i],
		    i % 3 != 0 || i % 5 == 1);
}

/* a stops c (due in the same round, later in order) and b (future). */
static void
on_stopper(struct ev_timer *t, void *arg)
{
	note('a');
	ev_timer_stop(r.tm[1]);
	ev_timer_stop(r.tm[2]);
}

static void
test_timer_stop(void **state)
{
	int64_t t0 = clock_mono_ms();

	r.tm[0] = ev_timer_new(r.loop, on_stopper, NULL);
	r.tm[1] = ev_timer_new(r.loop, on_timer, "b");
	r.tm[2] = ev_timer_new(r.loop, on_timer, "c");
	r.tm[3] = ev_timer_new(r.loop, on_timer, "d");
	ev_timer_at(r.tm[0], t0 + 5);
	ev_timer_at(r.tm[1], t0 + 100);
	ev_timer_at(r.tm[2], t0 + 5);
	ev_timer_at(r.tm[3], t0 + 20);
	ev_timer_stop(r.tm[3]);			/* stopped before running */
	assert_true(ev_timer_armed(r.tm[2]));
	assert_false(ev_timer_armed(r.tm[3]));
	assert_int_equal(ev_run(r.loop), 0);
	assert_string_equal(r.order, "a");
	assert_int_equal(ev_wakeups(r.loop), 1);	/* b never woke us */
	assert_true(clock_mono_ms() - t0 < 100);	/* did not wait for b */
}

/* --- freeing from callbacks ------------------------------------------- */

static void
on_free_self(struct ev_io *w, unsigned int revents, void *arg)
{
	r.calls++;
	ev_io_free(w);		/* the byte stays unread: fd still ready */
}

static void
on_stop(struct ev_timer *t, void *arg)
{
	note('t');
	ev_stop(r.loop);
}

static void
test_free_self_in_callback(void **state)
{
	make_pipe(r.fd);
	assert_int_equal(write(r.fd[1], "x", 1), 1);
	ev_io_new(r.loop, r.fd[0], EV_READ, on_free_self, NULL);
	r.tm[0] = ev_timer_new(r.loop, on_stop, NULL);
	ev_timer_after(r.tm[0], 20);	/* keeps rounds going meanwhile */
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.order, "t");
}

/* Whichever of the two ready watchers runs first frees the other. */
static void
on_free_other(struct ev_io *w, unsigned int revents, void *arg)
{
	int me = w == r.io[1];

	note(me ? '1' : '0');
	ev_io_free(r.io[!me]);
	ev_io_free(w);
	ev_timer_free(r.tm[0]);		/* due in this same round */
	ev_timer_free(r.tm[1]);		/* armed for later */
}

static void
test_free_other_in_same_round(void **state)
{
	make_pipe(r.fd);
	make_pipe(r.fd + 2);
	assert_int_equal(write(r.fd[1], "x", 1), 1);
	assert_int_equal(write(r.fd[3], "x", 1), 1);
	r.io[0] = ev_io_new(r.loop, r.fd[0], EV_READ, on_free_other, NULL);
	r.io[1] = ev_io_new(r.loop, r.fd[2], EV_READ, on_free_other, NULL);
	r.tm[0] = ev_timer_new(r.loop, on_timer, "T");
	r.tm[1] = ev_timer_new(r.loop, on_timer, "U");
	ev_timer_at(r.tm[0], 0);
	ev_timer_after(r.tm[1], 10000);
	assert_int_equal(ev_run(r.loop), 0);	/* all gone: returns */
	assert_string_equal(r.order, "0");
	assert_int_equal(ev_wakeups(r.loop), 1);
}

/* A timer frees another timer that is due in the same round. */
static void
on_timer_free_other(struct ev_timer *t, void *arg)
{
	note('a');
	ev_timer_free(r.tm[1]);
	ev_timer_free(t);
}

static void
test_timer_free_in_same_round(void **state)
{
	int64_t t0 = clock_mono_ms();

	r.tm[0] = ev_timer_new(r.loop, on_timer_free_other, NULL);
	r.tm[1] = ev_timer_new(r.loop, on_timer, "b");
	ev_timer_at(r.tm[0], t0 + 2);
	ev_timer_at(r.tm[1], t0 + 2);
	assert_int_equal(ev_run(r.loop), 0);
	assert_string_equal(r.order, "a");
}

/* --- signals, pending work, idleness ---------------------------------- */

static void
on_signal(int signo, void *arg)
{
	r.calls++;
	r.signo = signo;
}

static void
test_signal_delivered_once(void **state)
{
	sigset_t set;

	assert_int_equal(ev_signal(r.loop, SIGUSR1, on_signal, NULL), 0);
	assert_int_equal(ev_signal(r.loop, SIGKILL, on_signal, NULL), -1);
	/* Sent before ev_run(): must wait for the loop, not be lost. */
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	r.tm[0] = ev_timer_new(r.loop, on_stop, NULL);
	ev_timer_after(r.tm[0], 30);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.signo, SIGUSR1);
	/* The loop sleeps on the signalfd: a second run delivers a second. */
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	ev_timer_after(r.tm[0], 20);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 2);
	ev_loop_free(r.loop);
	r.loop = NULL;
	/* Freeing the loop gives the mask back. */
	sigprocmask(SIG_BLOCK, NULL, &set);
	assert_int_equal(sigismember(&set, SIGUSR1), 0);
}

static void
on_pending(struct ev_io *w, unsigned int revents, void *arg)
{
	char c;

	r.revents[r.calls & 7] = revents;
	/* Not a readiness report: the socket really is empty. */
	assert_int_equal(read(ev_io_fd(w), &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	if (++r.calls == 3) {
		ev_io_pending(w, 0);
		ev_io_set(w, 0);
	}
}

static void
test_pending_called_without_readiness(void **state)
{
	struct ev_io *w;

	make_socketpair(r.fd);
	w = ev_io_new(r.loop, r.fd[0], EV_READ, on_pending, NULL);
	ev_io_pending(w, 1);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(r.calls, 3);
	assert_int_equal(r.revents[0], EV_READ);
	assert_int_equal(r.revents[2], EV_READ);
}

static void
test_run_returns_when_nothing_armed(void **state)
{
	struct ev_timer *t;

	assert_int_equal(ev_run(r.loop), 0);
	make_pipe(r.fd);
	ev_io_new(r.loop, r.fd[0], 0, on_free_self, NULL);
	t = ev_timer_new(r.loop, on_timer, "x");
	ev_timer_after(t, 10);
	ev_timer_stop(t);
	assert_int_equal(ev_run(r.loop), 0);
	assert_int_equal(ev_wakeups(r.loop), 0);
	assert_int_equal(r.calls, 0);
	assert_null(ev_io_new(r.loop, -1, EV_READ, on_free_self, NULL));
	assert_int_equal(errno, EINVAL);
}

static void
test_idle_wakes_once(void **state)
{
	int64_t t0;

	make_pipe(r.fd);
	ev_io_new(r.loop, r.fd[0], EV_READ, on_free_self, NULL);
	r.tm[0] = ev_timer_new(r.loop, on_stop, NULL);
	t0 = clock_mono_ms();
	ev_timer_at(r.tm[0], t0 + 200);
	assert_int_equal(ev_run(r.loop), 0);
	/* One sleep of 200 ms and one wake-up: nothing periodic. */
	assert_int_equal(ev_wakeups(r.loop), 1);
	assert_true(clock_mono_ms() - t0 >= 200);
	assert_string_equal(r.order, "t");
	assert_int_equal(r.calls, 0);
}

static void
on_alarm(int signo)
{
}

/* An unrelated handled signal interrupts poll(): EINTR is not an error. */
static void
test_eintr_is_retried(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_value = { 0, 5000 } }, off = { 0 };
	int64_t t0 = clock_mono_ms();

	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);	/* no restart */
	r.tm[0] = ev_timer_new(r.loop, on_stop, NULL);
	ev_timer_at(r.tm[0], t0 + 60);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(ev_run(r.loop), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_string_equal(r.order, "t");
	assert_true(clock_mono_ms() - t0 >= 60);
	assert_int_equal(ev_wakeups(r.loop), 2);	/* EINTR, then due */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_io_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_rearm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_io_hangup_is_read, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timers_in_deadline_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_rearm_in_callback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_timer_past_deadline_no_spin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_heap_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timer_stop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_self_in_callback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_other_in_same_round,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_free_in_same_round,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_delivered_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_pending_called_without_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_run_returns_when_nothing_armed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_wakes_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_eintr_is_retried, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
