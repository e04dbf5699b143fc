/* SPDX-License-Identifier: ISC */
/*
 * When to deliver, and the delivery itself in a child process: the event
 * loop never blocks on a smarthost, and the child opens its own queue
 * handle (LMDB: one env per process, after fork). One run at a time;
 * requests that arrive meanwhile are folded into the next run. The retry
 * timer is armed for the queue's earliest next attempt and for nothing
 * else: an idle daemon sleeps.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "../relay/relay.h"
#include "jobs.h"
#include "ternd.h"

static void retry_fired(struct ev_timer *, void *);
static void interval_fired(struct ev_timer *, void *);
static void grace_fired(struct ev_timer *, void *);

/* How long SIGTERM lets a run finish its transaction in flight. Beyond
 * it, a stalled smarthost would hold ternd for the engine's deadlines
 * (up to 10 minutes, RFC 5321 4.5.3.2.6), past any service manager's
 * stop timeout and its SIGKILL. */
#define STOP_GRACE_MS	15000

/* Somewhere for mail to go: a smarthost, or the local mailbox for what
 * the inbound side brings. Without either, runs would only spin. */
static int
have_smarthost(const struct ternd *t)
{
	size_t i;

	for (i = 0; i < t->conf->nsmarthosts; i++)
		if (t->conf->smarthosts[i].peer.host != NULL)
			return 1;
	return t->conf->inbound.method != CONF_INBOUND_NONE;
}

void
sched_init(struct ternd *t)
{
	t->retry = ev_timer_new(t->loop, retry_fired, t);
	t->interval = ev_timer_new(t->loop, interval_fired, t);
	t->grace = ev_timer_new(t->loop, grace_fired, t);
}

int
sched_busy(const struct ternd *t)
{
	return t->flush.pid != 0 || t->pull.pid != 0;
}

/* Starts the delivery run now if nothing stops it. */
static void
flush_start(struct ternd *t)
{
	if (t->stopping || t->flush.pid != 0)
		return;
	if (!have_smarthost(t) || t->link == LINK_DOWN) {
		/* Nothing can go out: answer whoever waits, stay asleep. */
		waiters_line(t->flush.next, !have_smarthost(t) ?
		    "no smarthost configured: mail stays queued" :
		    "link is down: mail stays queued (tern up)");
		waiters_done(&t->flush.next, 69);
		t->flush.again = 0;
		return;
	}
	job_start(t, &t->flush, job_flush);
}

void
sched_kick(struct ternd *t)
{
	if (t->flush.pid != 0) {
		t->flush.again = 1;
		return;
	}
	flush_start(t);
}

void
sched_flush(struct ternd *t, const uint64_t *ids, size_t n,
    struct waiter *w)
{
	struct job *j = &t->flush;

	if (n == 0)
		j->force_all = 1;
	else {
		j->ids = xreallocarray(j->ids, j->nids + n, sizeof *j->ids);
		memcpy(j->ids + j->nids, ids, n * sizeof *ids);
		j->nids += n;
	}
	if (w != NULL)
		waiter_add(&j->next, w);
	j->again = 1;
	if (j->pid == 0)
		flush_start(t);
}

void
sched_pull(struct ternd *t, struct waiter *w)
{
	if (w != NULL)
		waiter_add(&t->pull.next, w);
	if (t->pull.pid != 0 || t->stopping) {
		t->pull.again = 1;
		return;
	}
	if (t->conf->inbound.method == CONF_INBOUND_NONE) {
		waiters_line(t->pull.next, "no [inbound] method configured");
		waiters_done(&t->pull.next, 69);	/* as in-process */
		return;
	}
	job_start(t, &t->pull, job_pull);
}

/* The earliest next attempt, as a monotonic deadline; due mail now. */
void
sched_rearm(struct ternd *t)
{
	int64_t next = 0, now = clock_wall();
	uint64_t id;
	ssize_t n;

	ev_timer_stop(t->retry);
	if (t->stopping || t->link == LINK_DOWN || !have_smarthost(t))
		return;
	if ((n = queue_due(t->queue, now, &id, 1, &next)) < 0) {
		log_warnx("%s", queue_error(t->queue));
		return;
	}
	/* Due now: not at once, so a message nothing can move cannot spin
	 * the daemon; a second is nothing for mail. */
	if (n > 0)
		next = now + 1;
	if (next > 0)
		ev_timer_after(t->retry, (next - now) * 1000);
}

static void
retry_fired(struct ev_timer *tm, void *arg)
{
	(void)tm;
	sched_kick(arg);
}

static void
interval_arm(struct ternd *t)
{
	ev_timer_stop(t->interval);
	if (t->conf->inbound.interval > 0 && t->link != LINK_DOWN &&
	    t->conf->inbound.method != CONF_INBOUND_NONE && !t->stopping)
		ev_timer_after(t->interval, t->conf->inbound.interval * 1000);
}

static void
interval_fired(struct ev_timer *tm, void *arg)
{
	struct ternd *t = arg;

	(void)tm;
	sched_pull(t, NULL);
	interval_arm(t);
}

void
sched_link(struct ternd *t, enum link_state st, const char *why)
{
	static const char *const names[] = { "unknown", "up", "down" };

	if (st != t->link) {
		log_info("link %s (%s)", names[st], why);
		queue_meta_set(t->queue, "link", names[st]);
	}
	t->link = st;
	if (st == LINK_DOWN) {
		ev_timer_stop(t->retry);
		ev_timer_stop(t->interval);
		return;
	}
	/* Up: flush and pull now, ignoring back-off, then resume. */
	sched_flush(t, NULL, 0, NULL);
	if (t->conf->inbound.method != CONF_INBOUND_NONE)
		sched_pull(t, NULL);
	interval_arm(t);
}

/* After a job: answer its waiters, run again if asked, re-arm. */
void
sched_job_done(struct ternd *t, struct job *j)
{
	waiters_done(&j->waiters, j->status);
	if (j == &t->pull) {
		log_info("pull finished: exit %d", j->status);
		sched_kick(t);	/* hand what arrived to the mailbox */
	}
	if (j->again || j->next != NULL) {
		j->again = 0;
		if (j == &t->flush)
			flush_start(t);
		else
			sched_pull(t, NULL);
	}
	if (j == &t->flush && t->flush.pid == 0)
		sched_rearm(t);
	if (t->stopping && !sched_busy(t))
		ev_stop(t->loop);
}

void
sched_stop(struct ternd *t)
{
	t->stopping = 1;
	ev_timer_stop(t->retry);
	ev_timer_stop(t->interval);
	/* The children finish the transaction in flight and stop (relay's
	 * SIGTERM handling); we wait for them, then leave. A second signal
	 * (ours when the grace runs out, or the user's) aborts it. */
	job_signal(&t->flush, SIGTERM);
	job_signal(&t->pull, SIGTERM);
	waiters_done(&t->flush.next, 75);
	waiters_done(&t->pull.next, 75);
	if (!sched_busy(t))
		ev_stop(t->loop);
	else if (!ev_timer_armed(t->grace))
		ev_timer_after(t->grace, STOP_GRACE_MS);
}

static void
grace_fired(struct ev_timer *tm, void *arg)
{
	struct ternd *t = arg;

	(void)tm;
	log_info("stopping: the run in flight did not end within %ds; "
	    "aborting it (its mail stays queued)", STOP_GRACE_MS / 1000);
	job_signal(&t->flush, SIGTERM);
	job_signal(&t->pull, SIGTERM);
}
