/* SPDX-License-Identifier: ISC */
/*
 * ternd: the daemon. For now it owns the state directory (one daemon per
 * state, by an flock), keeps the queue open and follows the contract's
 * signals; the event loop, listeners and scheduler build on this.
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
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"

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
announce(const struct conf *cf)
{
	const struct conf_smarthost *sh = conf_smarthost_named(cf, NULL);

	log_info("started: state=%s config=%s", cf->state,
	    cf->path ? cf->path : "(built-in defaults)");
	if (sh == NULL || sh->peer.host == NULL)
		log_info("no smarthost configured: mail is queued, nothing "
		    "is sent");
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *why = NULL;
	struct conf *cf, *next;
	struct queue *q;
	sigset_t set;
	int c, sig, verbose = 0, lockfd;

	while ((c = getopt(argc, argv, "c:v")) != -1) {
		if (c == 'c')
			file = optarg;
		else if (c == 'v')
			verbose++;
		else
			return usage();
	}
	if (optind != argc)
		return usage();
	log_init("ternd", 0, verbose);
	if ((cf = load(file)) == NULL)
		return EX_CONFIG;
	log_init("ternd", cf->log_syslog, verbose);
	if ((lockfd = lock_state(cf)) < 0) {
		conf_free(cf);
		return lockfd == -2 ? EX_TEMPFAIL : EX_CANTCREAT;
	}
	if ((q = queue_open(cf->state, &why)) == NULL) {
		log_warnx("cannot open the queue in %s: %s", cf->state,
		    why ? why : strerror(errno));
		conf_free(cf);
		return EX_CANTCREAT;
	}
	queue_meta_set(q, "link", "unknown");
	announce(cf);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		/* A bad new file is logged and the old one kept. */
		if ((next = load(file)) == NULL) {
			log_warnx("configuration not reloaded; keeping the "
			    "old one");
			continue;
		}
		conf_free(cf);
		cf = next;
		log_info("configuration reloaded");
	}
	log_info("stopping on signal %d", sig);
	queue_close(q);
	conf_free(cf);
	close(lockfd);
	return 0;
}
