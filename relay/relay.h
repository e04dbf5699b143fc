/* SPDX-License-Identifier: ISC */
#ifndef TERN_RELAY_H
#define TERN_RELAY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct queue;

/*
 * The delivery runner: takes due mail from the queue, carries it to its
 * smarthost over one connection per smarthost (one transaction after
 * another), and records every recipient's outcome in the queue as the
 * reply arrives (2xx sent, 4xx retried on [retry] schedule, 5xx failed and
 * bounced once per message). ternd's scheduler (in a child process) and an
 * in-process `tern flush` both call it. Blocking, with deadlines.
 */

struct relay_result {
	unsigned int	 sent;		/* recipients */
	unsigned int	 deferred;
	unsigned int	 failed;
	unsigned int	 messages;	/* messages handed to a server */
	unsigned int	 connections;
	unsigned int	 unrouted;	/* no smarthost for the sender */
	unsigned int	 held;		/* asked for but held */
	unsigned int	 missing;	/* asked for but not in the queue */
	int		 unreachable;	/* some smarthost could not be used */
	char		 error[512];	/* the last session-level problem */
};

/* One line per recipient outcome, in the log's key=value shape. */
typedef void	(*relay_report_fn)(void *arg, const char *line);

/*
 * nids > 0: deliver exactly those messages now, ignoring back-off.
 * nids == 0: every message due now; force = 1 ignores back-off for all.
 * Returns 0 after it tried (outcomes in *res, also stored as the status
 * record "last_flush"), -1 when the queue failed (res->error says why).
 */
int	relay_run(const struct conf *, struct queue *, const uint64_t *ids,
	    size_t nids, int force, relay_report_fn, void *arg,
	    struct relay_result *res);

/*
 * Set from a SIGTERM handler: the run finishes the transaction in flight,
 * sends QUIT and returns; nothing is lost, nothing is cut mid-message.
 */
extern volatile sig_atomic_t relay_stop;

/*
 * One delivery run at a time per state directory, whoever runs it (the
 * daemon's child or tern flush): two runners could hand the same message
 * to the smarthost twice. Takes state/flush.lock (blocking) and returns
 * its fd to close, or -1 with errno.
 */
int	relay_lock(const char *state);

/* The exit code for `tern flush` (interface.md): 0 all delivered, 75
 * something deferred (or held), 69 a smarthost unreachable, 65 a recipient
 * refused for good (bounced) or an id asked for is not queued. */
int	relay_exit_code(const struct relay_result *);

#endif
