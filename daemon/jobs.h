/* SPDX-License-Identifier: ISC */
#ifndef TERN_JOBS_H
#define TERN_JOBS_H

#include "ternd.h"

/*
 * Child processes for the work that talks to the network. The child gets a
 * pipe for its report lines (one per recipient, "ID: to=<...> ...") and
 * exits with the verb's exit code; the parent relays both to waiting
 * control clients and logs the lines.
 */
typedef int	(*job_fn)(struct ternd *, struct job *, int fd);

void	job_start(struct ternd *, struct job *, job_fn);
void	job_signal(struct job *, int signo);
/* SIGCHLD: reap finished children; calls sched_job_done(). */
void	jobs_reap(struct ternd *);

/* The children's work. */
int	job_flush(struct ternd *, struct job *, int fd);
int	job_pull(struct ternd *, struct job *, int fd);

#endif
