/* SPDX-License-Identifier: ISC */
#ifndef TERN_EV_H
#define TERN_EV_H

#include <stdint.h>

/*
 * The event loop: single-threaded, one poll() per round, no periodic
 * wake-ups ever. poll() sleeps until an fd is ready, a signal arrives or
 * the earliest armed timer is due (timers are absolute CLOCK_MONOTONIC
 * deadlines in milliseconds); with no timer armed it sleeps with -1.
 * An idle daemon therefore wakes only when something happens
 * (interface.md, "Quiet when idle").
 *
 * One round: poll(); then io callbacks (in creation order); then due
 * timers (by deadline, ties in arming order); then watchers freed during
 * the round are reaped. Every callback runs in loop context, never in a
 * signal handler.
 *
 * Watchers belong to their loop and are freed with ev_*_free(), which is
 * safe from inside any callback, their own included: a freed watcher is
 * marked dead, is never called again (even if its fd is ready or its
 * deadline due in the same round) and its memory goes after the round.
 * Callbacks must not call ev_loop_free() or ev_run().
 */

#define EV_READ		0x1
#define EV_WRITE	0x2
#define EV_ERROR	0x4	/* POLLERR/HUP/NVAL; always with EV_READ */

struct ev_loop;
struct ev_io;
struct ev_timer;

/* A new loop; never NULL (allocation failure exits, see util.h). */
struct ev_loop	*ev_loop_new(void);

/*
 * Frees the loop and every watcher still registered on it (pointers to
 * them become invalid), closes the signalfd and unblocks the signals that
 * ev_signal() blocked. Not from a callback. NULL is fine.
 */
void		 ev_loop_free(struct ev_loop *);

/*
 * Runs rounds until ev_stop() is called or nothing is left to wait for:
 * no io watcher with events or pending work, no armed timer and no signal
 * registered. Returns 0, or -1 + errno when poll() fails (EINTR is
 * retried, never returned) or when called from a callback (EBUSY).
 */
int		 ev_run(struct ev_loop *);

/*
 * Makes ev_run() return once the current round is over (callbacks
 * already due in this round still run). A stop before ev_run() is
 * forgotten: each ev_run() starts afresh.
 */
void		 ev_stop(struct ev_loop *);

/*
 * The monotonic time in ms (clock_mono_ms()) cached when this round's
 * poll() returned; outside ev_run() it is read afresh.
 */
int64_t		 ev_now(struct ev_loop *);

/*
 * How many times poll() has returned on this loop (every round counts
 * one, EINTR included). Lets tests prove that an idle loop sleeps.
 */
uint64_t	 ev_wakeups(const struct ev_loop *);

/*
 * Watches fd for events (EV_READ|EV_WRITE, 0 for none yet). cb gets the
 * ready events masked by what is wanted, plus EV_READ|EV_ERROR on hang-up
 * or error so a reader sees EOF or the error from read(). The fd stays
 * the caller's: close it after ev_io_free(), never before. Returns NULL
 * with EINVAL when fd < 0 or cb is NULL.
 */
struct ev_io	*ev_io_new(struct ev_loop *, int fd, unsigned int events,
		    void (*cb)(struct ev_io *, unsigned int revents, void *arg),
		    void *arg);

/* Replaces the wanted events, e.g. EV_WRITE after TLS_WANT_WRITE. */
void		 ev_io_set(struct ev_io *, unsigned int events);

/*
 * Pending work that poll() cannot see: bytes GnuTLS has already
 * decrypted (tls_pending()) are no longer in the socket, so poll() would
 * sleep on them. While pending is non-zero the loop does not sleep: each
 * round polls with timeout 0 (other fds and due timers still get their
 * turn) and calls cb with EV_READ whether the fd is ready or not. The
 * callback clears it once drained. Set inside a round, it is honoured
 * from the next round.
 */
void		 ev_io_pending(struct ev_io *, int pending);

int		 ev_io_fd(const struct ev_io *);

/* Stops watching and frees (deferred inside a round, see above). NULL ok. */
void		 ev_io_free(struct ev_io *);

/* A new, unarmed timer; never NULL. */
struct ev_timer	*ev_timer_new(struct ev_loop *,
		    void (*cb)(struct ev_timer *, void *arg), void *arg);

/*
 * Arms (or re-arms) the timer for an absolute clock_mono_ms() deadline.
 * cb runs once, in the first round whose ev_now() is >= deadline, and
 * never earlier. A deadline already past fires in the next round (even
 * when armed from a callback of this round, so a re-arming timer cannot
 * spin inside one round).
 */
void		 ev_timer_at(struct ev_timer *, int64_t deadline_ms);

/*
 * ev_timer_at(clock_mono_ms() + ms): measured from the real now, not the
 * round's cached ev_now(), so slow callbacks do not shorten the delay.
 */
void		 ev_timer_after(struct ev_timer *, int64_t ms);

/* Disarms; a timer due in this round but not yet called is not called. */
void		 ev_timer_stop(struct ev_timer *);

int		 ev_timer_armed(const struct ev_timer *);

/* Disarms and frees (deferred inside a round). NULL ok. */
void		 ev_timer_free(struct ev_timer *);

/*
 * Delivers signo to cb in loop context. The signal is blocked with
 * sigprocmask() and read from a signalfd, so it wakes poll(), is never
 * lost between rounds and has no handler races. As with any standard
 * signal, several sends before the loop reads may arrive as one.
 * Registering signo again replaces cb. Use from one loop per process;
 * children exec'd later inherit the blocked mask and should reset it.
 * Returns 0, or -1 + errno (EINVAL for SIGKILL, SIGSTOP or out of range).
 */
int		 ev_signal(struct ev_loop *, int signo,
		    void (*cb)(int signo, void *arg), void *arg);

#endif
