/* SPDX-License-Identifier: ISC */
/*
 * ternd: the daemon. One event loop: listeners, the control socket, the
 * netlink watcher, the retry timer and signals; deliveries and pulls run
 * in child processes. It owns its state directory (an flock: one daemon
 * per state) and sleeps when there is nothing to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "jobs.h"
#include "listen.h"
#include "srv.h"
#include "ternd.h"

static int
usage(void)
{
	fprintf(stderr, "usage: ternd [-c FILE] [-v]\n");
	return EX_USAGE;
}

static struct conf *
load(const char *file)
{
	char err[1024];
	char *path;
	struct conf *cf;
	int must;

	path = conf_path(file, &must);
	cf = conf_load(path, must, err, sizeof err);
	free(path);
	if (cf == NULL)
		log_warnx("%s", err);
	return cf;
}

/* One daemon per state directory: an exclusive flock held for life. */
static int
lock_state(const struct conf *cf)
{
	char *path;
	int fd;

	if (mkdir_p(cf->state, 0700) == -1) {
		log_warn("cannot create state directory %s", cf->state);
		return -1;
	}
	path = xasprintf("%s/ternd.lock", cf->state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd == -1) {
		log_warn("cannot open %s/ternd.lock", cf->state);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("another ternd is running for %s",
			    cf->state);
		else
			log_warn("cannot lock %s/ternd.lock", cf->state);
		close(fd);
		return -2;
	}
	return fd;
}

static void
announce(const struct ternd *t)
{
	static const char *const names[] = { "unknown", "up", "down" };
	const struct conf_smarthost *sh = conf_smarthost_named(t->conf, NULL);

	log_info("started: state=%s config=%s link=%s", t->conf->state,
	    t->conf->path ? t->conf->path : "(built-in defaults)",
	    names[t->link]);
	if ((sh == NULL || sh->peer.host == NULL) && t->conf->nsmarthosts == 0)
		log_info("no smarthost configured: mail is queued, nothing "
		    "is sent");
}

static void
on_signal(int sig, void *arg)
{
	struct ternd *t = arg;
	struct conf *next;

	switch (sig) {
	case SIGCHLD:
		jobs_reap(t);
		return;
	case SIGHUP:
		/* A bad new file is logged and the old one kept. */
		if ((next = load(t->conf_file)) == NULL) {
			log_warnx("configuration not reloaded; keeping the "
			    "old one");
			return;
		}
		if (strcmp(next->state, t->conf->state) != 0) {
			log_warnx("state cannot change on reload; restart "
			    "ternd (keeping the old configuration)");
			conf_free(next);
			return;
		}
		listen_close(t);
		conf_free(t->conf);
		t->conf = next;
		listen_init(t);
		log_info("configuration reloaded");
		sched_rearm(t);
		return;
	default:
		if (t->stopping) {
			/* Again: abort the run in flight now (its mail
			 * stays queued), as the grace timer would. */
			job_signal(&t->flush, SIGTERM);
			job_signal(&t->pull, SIGTERM);
			return;
		}
		log_info("stopping on signal %d", sig);
		listen_close(t);
		srv_stop_all();
		sched_stop(t);
	}
}

static int
setup(struct ternd *t)
{
	const char *why = NULL;

	if ((t->queue = queue_open(t->conf->state, &why)) == NULL) {
		log_warnx("cannot open the queue in %s: %s", t->conf->state,
		    why ? why : strerror(errno));
		return EX_CANTCREAT;
	}
	t->loop = ev_loop_new();
	signal(SIGPIPE, SIG_IGN);
	ev_signal(t->loop, SIGTERM, on_signal, t);
	ev_signal(t->loop, SIGINT, on_signal, t);
	ev_signal(t->loop, SIGHUP, on_signal, t);
	ev_signal(t->loop, SIGCHLD, on_signal, t);
	if (control_init(t) == -1)
		return EX_CANTCREAT;
	link_init(t);
	if (listen_init(t) == -1)
		return EX_UNAVAILABLE;
	sched_init(t);
	queue_meta_set(t->queue, "link", t->link == LINK_UP ? "up" :
	    t->link == LINK_DOWN ? "down" : "unknown");
	return 0;
}

static void
teardown(struct ternd *t)
{
	listen_close(t);
	control_close(t);
	link_close(t);
	ev_loop_free(t->loop);
	queue_close(t->queue);
	free(t->flush.ids);
	free(t->flush.run_ids);
	free(t->pull.ids);
	free(t->pull.run_ids);
	buf_clear(&t->flush.partial);
	buf_clear(&t->pull.partial);
	conf_free(t->conf);
}

int
main(int argc, char **argv)
{
	struct ternd t = { .control_fd = -1, .netlink_fd = -1 };
	int c, rc, lockfd;

	while ((c = getopt(argc, argv, "c:v")) != -1) {
		if (c == 'c')
			t.conf_file = optarg;
		else if (c == 'v')
			t.verbose++;
		else
			return usage();
	}
	if (optind != argc)
		return usage();
	log_init("ternd", 0, t.verbose);
	if ((t.conf = load(t.conf_file)) == NULL)
		return EX_CONFIG;
	log_init("ternd", t.conf->log_syslog, t.verbose);
	if ((lockfd = lock_state(t.conf)) < 0) {
		conf_free(t.conf);
		return lockfd == -2 ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	if ((rc = setup(&t)) == 0) {
		announce(&t);
		/* Whatever is due goes out now, the rest on its timer. */
		if (t.link != LINK_DOWN)
			sched_kick(&t);
		if (ev_run(t.loop) == -1) {
			log_warn("event loop");
			rc = EX_SOFTWARE;
		}
	}
	teardown(&t);
	close(lockfd);
	return rc;
}
