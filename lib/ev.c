/* SPDX-License-Identifier: ISC */
/*
 * The event loop (see ev.h for the contract).
 *
 * Io watchers live in an array in creation order; each round rebuilds the
 * pollfd array from the live ones that want something, so there is no
 * separate registration to keep in sync. Armed timers sit in a binary
 * min-heap keyed on (deadline, arming sequence): the poll timeout is the
 * top's deadline minus now, and ties fire in arming order. A daemon has
 * tens of watchers, so the O(n) pollfd rebuild costs less than its
 * bookkeeping would.
 *
 * Deferred reaping: inside ev_run() nothing is ever removed from the io
 * array or freed; ev_*_free() marks the watcher dead and the end of the
 * round frees it (outside ev_run(), at once). Dispatch loops index the
 * array afresh each step (a callback may grow it) and skip dead watchers,
 * and due timers are first moved to a fire list so that stopping or
 * freeing one that is due in the same round is seen before it is called.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"

struct ev_io {
	struct ev_loop	*loop;
	int		 fd;
	unsigned int	 events;
	int		 pending;
	int		 dead;
	long		 pfd;		/* in loop->pfd this round, or -1 */
	void		(*cb)(struct ev_io *, unsigned int, void *);
	void		*arg;
};

struct ev_timer {
	struct ev_loop	*loop;
	int64_t		 deadline;
	uint64_t	 seq;		/* arming order, breaks ties */
	size_t		 hidx;		/* heap index + 1; 0 when unarmed */
	int		 firing;	/* on this round's fire list */
	int		 dead;
	struct ev_timer	*prev, *next;	/* loop->timers, or loop->dead */
	void		(*cb)(struct ev_timer *, void *);
	void		*arg;
};

struct ev_loop {
	struct ev_io	**ios;
	size_t		  nio, capio;
	struct pollfd	 *pfd;
	size_t		  cappfd;
	struct ev_timer	**heap;
	size_t		  nheap, capheap;
	struct ev_timer	**fire;
	size_t		  capfire;
	struct ev_timer	 *timers;	/* every live timer */
	struct ev_timer	 *dead;		/* freed during this round */
	uint64_t	  seq;
	int64_t		  now;
	uint64_t	  wakeups;
	int		  running, stop, reap;
	int		  sigfd;
	sigset_t	  sigset;	/* what the signalfd reads */
	sigset_t	  unblock;	/* what we blocked, to give back */
	struct {
		void	(*cb)(int, void *);
		void	 *arg;
	}		  sigs[NSIG];
};

/* Returns arr (of elements of size sz) grown to hold at least need. */
static void *
grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return arr;
	*cap = need < 16 ? 16 : need * 2;
	return xreallocarray(arr, *cap, sz);
}

struct ev_loop *
ev_loop_new(void)
{
	struct ev_loop *l = xcalloc(1, sizeof *l);

	l->sigfd = -1;
	sigemptyset(&l->sigset);
	sigemptyset(&l->unblock);
	l->now = clock_mono_ms();
	return l;
}

static void
timers_free(struct ev_timer *t)
{
	struct ev_timer *next;

	for (; t != NULL; t = next) {
		next = t->next;
		free(t);
	}
}

void
ev_loop_free(struct ev_loop *l)
{
	struct signalfd_siginfo si;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nio; i++)
		free(l->ios[i]);
	timers_free(l->timers);
	timers_free(l->dead);
	if (l->sigfd != -1) {
		/* Nobody listens any more: drop what is queued, unblock. */
		while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
			;
		close(l->sigfd);
		sigprocmask(SIG_UNBLOCK, &l->unblock, NULL);
	}
	free(l->ios);
	free(l->pfd);
	free(l->heap);
	free(l->fire);
	free(l);
}

void
ev_stop(struct ev_loop *l)
{
	l->stop = 1;
}

int64_t
ev_now(struct ev_loop *l)
{
	if (!l->running)
		l->now = clock_mono_ms();
	return l->now;
}

uint64_t
ev_wakeups(const struct ev_loop *l)
{
	return l->wakeups;
}

/* Frees the watchers marked dead; never while a round iterates them. */
static void
reap(struct ev_loop *l)
{
	size_t i, j = 0;

	if (!l->reap && l->dead == NULL)
		return;
	for (i = 0; i < l->nio; i++) {
		if (l->ios[i]->dead) {
			free(l->ios[i]);
			continue;
		}
		l->ios[j++] = l->ios[i];
	}
	l->nio = j;
	timers_free(l->dead);
	l->dead = NULL;
	l->reap = 0;
}

/* --- io watchers ------------------------------------------------------ */

struct ev_io *
ev_io_new(struct ev_loop *l, int fd, unsigned int events,
    void (*cb)(struct ev_io *, unsigned int, void *), void *arg)
{
	struct ev_io *w;

	if (fd < 0 || cb == NULL) {
		errno = EINVAL;
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->loop = l;
	w->fd = fd;
	w->events = events & (EV_READ | EV_WRITE);
	w->pfd = -1;
	w->cb = cb;
	w->arg = arg;
	l->ios = grow(l->ios, &l->capio, l->nio + 1, sizeof *l->ios);
	l->ios[l->nio++] = w;
	return w;
}

void
ev_io_set(struct ev_io *w, unsigned int events)
{
	if (!w->dead)
		w->events = events & (EV_READ | EV_WRITE);
}

void
ev_io_pending(struct ev_io *w, int pending)
{
	if (!w->dead)
		w->pending = pending != 0;
}

int
ev_io_fd(const struct ev_io *w)
{
	return w->fd;
}

void
ev_io_free(struct ev_io *w)
{
	struct ev_loop *l;

	if (w == NULL || w->dead)
		return;
	l = w->loop;
	w->dead = 1;
	w->events = 0;
	w->pending = 0;
	l->reap = 1;
	if (!l->running)
		reap(l);
}

/* --- timers: a min-heap on (deadline, seq) ---------------------------- */

static int
before(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->deadline < b->deadline ||
	    (a->deadline == b->deadline && a->seq < b->seq);
}

static void
heap_put(struct ev_loop *l, size_t i, struct ev_timer *t)
{
	l->heap[i] = t;
	t->hidx = i + 1;
}

static void
heap_up(struct ev_loop *l, size_t i)
{
	struct ev_timer *t = l->heap[i];

	while (i > 0 && before(t, l->heap[(i - 1) / 2])) {
		heap_put(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_put(l, i, t);
}

static void
heap_down(struct ev_loop *l, size_t i)
{
	struct ev_timer *t = l->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < l->nheap) {
		if (c + 1 < l->nheap && before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l->heap[c], t))
			break;
		heap_put(l, i, l->heap[c]);
		i = c;
	}
	heap_put(l, i, t);
}

static void
heap_remove(struct ev_loop *l, struct ev_timer *t)
{
	size_t i = t->hidx - 1;
	struct ev_timer *last = l->heap[--l->nheap];

	t->hidx = 0;
	if (last == t)
		return;
	heap_put(l, i, last);
	heap_up(l, i);
	heap_down(l, last->hidx - 1);
}

struct ev_timer *
ev_timer_new(struct ev_loop *l, void (*cb)(struct ev_timer *, void *),
    void *arg)
{
	struct ev_timer *t = xcalloc(1, sizeof *t);

	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	t->next = l->timers;
	if (l->timers != NULL)
		l->timers->prev = t;
	l->timers = t;
	return t;
}

void
ev_timer_stop(struct ev_timer *t)
{
	if (t->hidx != 0)
		heap_remove(t->loop, t);
	t->firing = 0;
}

void
ev_timer_at(struct ev_timer *t, int64_t deadline_ms)
{
	struct ev_loop *l = t->loop;

	if (t->dead)
		return;
	ev_timer_stop(t);
	t->deadline = deadline_ms;
	t->seq = ++l->seq;
	l->heap = grow(l->heap, &l->capheap, l->nheap + 1, sizeof *l->heap);
	l->heap[l->nheap++] = t;
	heap_up(l, l->nheap - 1);
}

void
ev_timer_after(struct ev_timer *t, int64_t ms)
{
	ev_timer_at(t, clock_mono_ms() + ms);
}

int
ev_timer_armed(const struct ev_timer *t)
{
	return t->hidx != 0;
}

void
ev_timer_free(struct ev_timer *t)
{
	struct ev_loop *l;

	if (t == NULL || t->dead)
		return;
	l = t->loop;
	ev_timer_stop(t);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		l->timers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	/* It may sit on this round's fire list: free after the round. */
	t->dead = 1;
	t->next = l->dead;
	l->dead = t;
	if (!l->running)
		reap(l);
}

/* --- signals ---------------------------------------------------------- */

static void
on_signalfd(struct ev_io *w, unsigned int revents, void *arg)
{
	struct ev_loop *l = arg;
	struct signalfd_siginfo si;
	int signo;

	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		signo = (int)si.ssi_signo;
		if (signo > 0 && signo < NSIG && l->sigs[signo].cb != NULL)
			l->sigs[signo].cb(signo, l->sigs[signo].arg);
	}
}

int
ev_signal(struct ev_loop *l, int signo, void (*cb)(int, void *), void *arg)
{
	sigset_t one, old, set;
	int fd;

	if (signo <= 0 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || cb == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* Blocked first, so from here on the signal waits for the fd. */
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, &old) == -1)
		return -1;
	set = l->sigset;
	sigaddset(&set, signo);
	if ((fd = signalfd(l->sigfd, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	if (sigismember(&old, signo) != 1)
		sigaddset(&l->unblock, signo);
	l->sigset = set;
	if (l->sigfd == -1) {
		l->sigfd = fd;
		ev_io_new(l, fd, EV_READ, on_signalfd, l);
	}
	l->sigs[signo].cb = cb;
	l->sigs[signo].arg = arg;
	return 0;
}

/* --- the round -------------------------------------------------------- */

/* Fills loop->pfd; returns how many, *pending when any io has work. */
static nfds_t
pfd_build(struct ev_loop *l, int *pending)
{
	struct ev_io *w;
	nfds_t n = 0;
	size_t i;

	l->pfd = grow(l->pfd, &l->cappfd, l->nio, sizeof *l->pfd);
	*pending = 0;
	for (i = 0; i < l->nio; i++) {
		w = l->ios[i];
		w->pfd = -1;
		*pending |= w->pending;
		if (w->events == 0)
			continue;
		l->pfd[n].fd = w->fd;
		l->pfd[n].events = ((w->events & EV_READ) ? POLLIN : 0) |
		    ((w->events & EV_WRITE) ? POLLOUT : 0);
		l->pfd[n].revents = 0;
		w->pfd = (long)n++;
	}
	return n;
}

/* Until the earliest deadline; 0 with pending work; -1: no timer. */
static int
poll_timeout(struct ev_loop *l, int pending)
{
	int64_t d;

	if (pending)
		return 0;
	if (l->nheap == 0)
		return -1;
	/*
	 * clock_mono_ms() truncates and poll() rounds its sleep up, so
	 * waking after d ms finds ev_now() >= deadline: one wake-up per
	 * due timer, never an early one followed by a retry.
	 */
	d = l->heap[0]->deadline - clock_mono_ms();
	return d <= 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

static unsigned int
revents_of(const struct ev_loop *l, const struct ev_io *w)
{
	unsigned int rev = 0;
	short r;

	if (w->pfd >= 0 && w->events != 0) {
		r = l->pfd[w->pfd].revents;
		rev |= (r & POLLIN) ? EV_READ : 0;
		rev |= (r & POLLOUT) ? EV_WRITE : 0;
		rev &= w->events;
		/* Readers must see EOF or the error from read(). */
		if (r & (POLLHUP | POLLERR | POLLNVAL))
			rev |= EV_READ | EV_ERROR | (w->events & EV_WRITE);
	}
	if (w->pending)
		rev |= EV_READ;
	return rev;
}

static void
dispatch_io(struct ev_loop *l, size_t nio)
{
	struct ev_io *w;
	unsigned int rev;
	size_t i;

	/* Watchers created during the round (index >= nio) wait. */
	for (i = 0; i < nio; i++) {
		w = l->ios[i];
		if (w->dead || (rev = revents_of(l, w)) == 0)
			continue;
		w->cb(w, rev, w->arg);
	}
}

static void
dispatch_timers(struct ev_loop *l)
{
	struct ev_timer *t;
	size_t i, n = 0;

	while (l->nheap > 0 && l->heap[0]->deadline <= l->now) {
		t = l->heap[0];
		heap_remove(l, t);
		t->firing = 1;
		l->fire = grow(l->fire, &l->capfire, n + 1, sizeof *l->fire);
		l->fire[n++] = t;
	}
	for (i = 0; i < n; i++) {
		t = l->fire[i];
		if (!t->firing || t->dead)
			continue;	/* stopped, re-armed or freed since */
		t->firing = 0;
		t->cb(t, t->arg);
	}
}

int
ev_run(struct ev_loop *l)
{
	nfds_t n;
	size_t nio;
	int pending, err, rc = 0;

	if (l->running) {
		errno = EBUSY;
		return -1;
	}
	l->running = 1;
	l->stop = 0;
	while (!l->stop) {
		n = pfd_build(l, &pending);
		if (n == 0 && !pending && l->nheap == 0)
			break;		/* nothing left to wait for */
		nio = l->nio;
		rc = poll(l->pfd, n, poll_timeout(l, pending));
		l->wakeups++;
		if (rc == -1 && errno != EINTR) {
			err = errno;
			reap(l);
			errno = err;
			break;
		}
		rc = 0;
		l->now = clock_mono_ms();
		dispatch_io(l, nio);
		dispatch_timers(l);
		reap(l);
	}
	l->running = 0;
	return rc == -1 ? -1 : 0;
}
