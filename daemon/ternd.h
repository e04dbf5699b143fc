/* SPDX-License-Identifier: ISC */
#ifndef TERN_TERND_H
#define TERN_TERND_H

#include <stdint.h>
#include <sys/types.h>

#include "../lib/buf.h"

/*
 * ternd's shared state: one event loop, the configuration, the queue, the
 * link, and the one delivery run (a child process) at a time. Pieces:
 * sched.c (when to deliver, the child), control.c (the CLI's socket),
 * link.c (netlink watcher), listen.c (SMTP listeners).
 */

struct conf;
struct queue;
struct ev_loop;
struct ev_io;
struct ev_timer;
struct waiter;

enum link_state { LINK_UNKNOWN, LINK_UP, LINK_DOWN };

/* A child process doing one job (a delivery run, a pull). */
struct job {
	pid_t		 pid;		/* 0: none running */
	struct ev_io	*out;		/* its report lines */
	int		 fd;
	struct buf	 partial;	/* an incomplete line from the pipe */
	int		 status;	/* exit code once reaped */
	struct waiter	*waiters;	/* control clients awaiting this run */
	struct waiter	*next;		/* ... awaiting the next run */
	int		 again;		/* run once more when this one ends */
	int		 force_all;	/* next run: everything, no back-off */
	uint64_t	*ids;		/* next run: these, no back-off */
	size_t		 nids;
	int		 run_force;	/* what the running child was given */
	uint64_t	*run_ids;
	size_t		 run_nids;
};

struct ternd {
	const char	*conf_file;
	int		 verbose;
	struct conf	*conf;
	struct queue	*queue;
	struct ev_loop	*loop;
	enum link_state	 link;
	int		 stopping;	/* SIGTERM: no new work */
	struct ev_timer	*retry;		/* the earliest due retry */
	struct ev_timer	*interval;	/* [inbound] interval */
	struct ev_timer	*grace;		/* stopping: the run in flight's time */
	struct job	 flush;
	struct job	 pull;
	struct ev_io	*control;
	int		 control_fd;
	struct ev_io	*netlink;
	int		 netlink_fd;
};

/* sched.c */
void	sched_init(struct ternd *);
/* New mail or a nudge: deliver now unless the link is down. */
void	sched_kick(struct ternd *);
/* Deliver now ignoring back-off (tern up, tern flush); ids may be NULL. */
void	sched_flush(struct ternd *, const uint64_t *ids, size_t n,
	    struct waiter *);
void	sched_pull(struct ternd *, struct waiter *);
/* Re-arm the retry timer from the queue's earliest next attempt. */
void	sched_rearm(struct ternd *);
void	sched_link(struct ternd *, enum link_state, const char *why);
int	sched_busy(const struct ternd *);
/* Called by jobs.c once a job's child is reaped and its output read. */
void	sched_job_done(struct ternd *, struct job *);
void	sched_stop(struct ternd *);

/* control.c */
int	control_init(struct ternd *);
void	control_close(struct ternd *);
/* A waiting client gets a line, or its exit code and is closed. */
void	waiter_line(struct waiter *, const char *line);
void	waiter_done(struct waiter *, int code);
void	waiters_line(struct waiter *, const char *line);
void	waiter_add(struct waiter **list, struct waiter *);
void	waiters_done(struct waiter **, int code);

/* link.c */
int	link_init(struct ternd *);
void	link_close(struct ternd *);

#endif
