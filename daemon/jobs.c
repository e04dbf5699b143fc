/* SPDX-License-Identifier: ISC */
/* Child processes for deliveries and pulls, and their report pipes. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../net/conn.h"
#include "../queue/queue.h"
#include "../odmr/odmr.h"
#include "../relay/relay.h"
#include "jobs.h"
#include "ternd.h"

/* Lines from the child: log them and hand them to the waiting clients. */
static void
job_lines(struct job *j, const char *data, size_t len)
{
	char *nl;

	buf_add(&j->partial, data, len);
	while ((nl = memchr(j->partial.data, '\n', j->partial.len)) != NULL) {
		*nl = '\0';
		log_info("%s", j->partial.data);
		waiters_line(j->waiters, j->partial.data);
		buf_consume(&j->partial, (size_t)(nl - j->partial.data) + 1);
	}
}

static void
job_close_pipe(struct job *j)
{
	ev_io_free(j->out);
	j->out = NULL;
	if (j->fd != -1)
		close(j->fd);
	j->fd = -1;
}

/* Reads what the pipe has; 1 at EOF. */
static int
job_drain(struct job *j)
{
	char b[4096];
	ssize_t n;

	while ((n = read(j->fd, b, sizeof b)) > 0)
		job_lines(j, b, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		return 1;
	return 0;
}

static void
job_readable(struct ev_io *io, unsigned int ev, void *arg)
{
	struct job *j = arg;

	(void)io;
	(void)ev;
	if (job_drain(j))
		job_close_pipe(j);
}

static void
child_term(int sig)
{
	(void)sig;
	/* The first: finish the transaction in flight, then quit. A second
	 * (ternd's stop grace ran out): end the session now; what it had
	 * not finished stays queued. */
	if (relay_stop)
		conn_abort = 1;
	relay_stop = 1;
}

void
job_start(struct ternd *t, struct job *j, job_fn fn)
{
	int p[2];
	pid_t pid;
	sigset_t none;

	/* This run answers the clients that asked for it. */
	j->waiters = j->next;
	j->next = NULL;
	free(j->run_ids);
	j->run_ids = j->ids;
	j->run_nids = j->nids;
	j->run_force = j->force_all;
	j->ids = NULL;
	j->nids = 0;
	j->force_all = 0;
	j->again = 0;
	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		log_warn("cannot start a child");
		waiters_done(&j->waiters, EX_OSERR);
		return;
	}
	if (pid == 0) {
		/* Nothing of the daemon's may outlive it in the child: the
		 * state lock, listening sockets, the control socket and the
		 * parent's LMDB handle would keep a restarted ternd out. */
		close_range(3, (unsigned int)p[1] - 1, 0);
		close_range((unsigned int)p[1] + 1, ~0U, 0);
		signal(SIGTERM, child_term);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		/* If ternd dies (kill -9), stop after the transaction in
		 * flight rather than run on unsupervised. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			relay_stop = 1;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		_exit(fn(t, j, p[1]));
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->pid = pid;
	j->fd = p[0];
	buf_reset(&j->partial);
	j->out = ev_io_new(t->loop, j->fd, EV_READ, job_readable, j);
}

void
job_signal(struct job *j, int signo)
{
	if (j->pid > 0)
		kill(j->pid, signo);
}

static void
job_finish(struct ternd *t, struct job *j, int st)
{
	if (j->out != NULL) {
		/* The child is gone, so the pipe ends: read it to the end. */
		fcntl(j->fd, F_SETFL, 0);
		job_drain(j);
		job_close_pipe(j);
	}
	j->pid = 0;
	j->status = WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
	if (!WIFEXITED(st))
		log_warnx("child killed by signal %d", WTERMSIG(st));
	sched_job_done(t, j);
}

void
jobs_reap(struct ternd *t)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == t->flush.pid)
			job_finish(t, &t->flush, st);
		else if (pid == t->pull.pid)
			job_finish(t, &t->pull, st);
	}
}

static void
write_line(void *arg, const char *line)
{
	int fd = *(int *)arg;

	write_all(fd, line, strlen(line));
	write_all(fd, "\n", 1);
}

/* In the child: its own queue handle, the delivery lock, one run. */
int
job_flush(struct ternd *t, struct job *j, int fd)
{
	struct relay_result res;
	struct queue *q;
	const char *why = NULL;
	int lock, rc;

	if ((q = queue_open(t->conf->state, &why)) == NULL) {
		log_warnx("delivery: cannot open the queue: %s",
		    why ? why : strerror(errno));
		return EX_TEMPFAIL;
	}
	if ((lock = relay_lock(t->conf->state)) == -1)
		return EX_TEMPFAIL;
	rc = relay_run(t->conf, q, j->run_ids, j->run_nids, j->run_force,
	    write_line, &fd, &res);
	if (res.error[0] != '\0')
		write_line(&fd, res.error);
	/* Our own handle; the parent's (t->queue) is never touched here. */
	queue_close(q);
	close(lock);
	return rc == -1 ? EX_IOERR : relay_exit_code(&res);
}

/* In the child: one pull; what arrives is delivered by the next run. */
int
job_pull(struct ternd *t, struct job *j, int fd)
{
	struct pull_result res;
	struct queue *q;
	const char *why = NULL;
	char line[1200];
	int rc;

	(void)j;
	if ((q = queue_open(t->conf->state, &why)) == NULL) {
		log_warnx("pull: cannot open the queue: %s",
		    why ? why : strerror(errno));
		return EX_TEMPFAIL;
	}
	rc = odmr_pull(t->conf, q, write_line, &fd, &res);
	snprintf(line, sizeof line, "pull: %u message(s) received%s%s%s%s",
	    res.received, res.reply[0] ? "; provider said: " : "", res.reply,
	    res.error[0] ? "; " : "", res.error);
	write_line(&fd, line);
	pull_result_clear(&res);
	queue_close(q);
	return rc;
}
