/* SPDX-License-Identifier: ISC */
/* What every verb shares: configuration, the queue, the daemon's presence. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/conf.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "cli.h"

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("tern: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct conf *
cli_conf(struct cli *c)
{
	char err[1024];
	char *path;
	int must;

	if (c->conf != NULL)
		return c->conf;
	path = conf_path(c->conf_file, &must);
	c->conf = conf_load(path, must, err, sizeof err);
	free(path);
	if (c->conf == NULL) {
		cli_warnx("%s", err);
		exit(EX_CONFIG);
	}
	return c->conf;
}

struct queue *
cli_queue(struct cli *c)
{
	const char *why = NULL;
	struct conf *cf = cli_conf(c);
	int e;

	if (c->queue != NULL)
		return c->queue;
	if ((c->queue = queue_open(cf->state, &why)) == NULL) {
		e = errno;
		cli_warnx("cannot open the queue in %s: %s", cf->state,
		    why != NULL ? why : strerror(e));
		exit(e == ENOSPC || e == EAGAIN || e == EIO ? EX_TEMPFAIL :
		    EX_CANTCREAT);
	}
	return c->queue;
}

void
cli_done(struct cli *c)
{
	queue_close(c->queue);
	c->queue = NULL;
	conf_free(c->conf);
	c->conf = NULL;
}

/* The daemon holds an exclusive flock on state/ternd.lock while it runs. */
int
cli_daemon_running(const struct conf *cf)
{
	char *path = xasprintf("%s/ternd.lock", cf->state);
	int fd, running = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		if (flock(fd, LOCK_SH | LOCK_NB) == -1 &&
		    errno == EWOULDBLOCK)
			running = 1;
		close(fd);
	}
	free(path);
	return running;
}

void
cli_nudge(const struct conf *cf)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static const char line[] = "nudge\n";
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%s/control.sock", cf->state) >= sizeof sun.sun_path)
		return;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return;
	/* Best effort: mail is committed already; the daemon's next wake-up
	 * finds it even when this fails. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0)
		(void)!write(fd, line, sizeof line - 1);
	close(fd);
}

int
cli_parse_id(const char *arg, uint64_t *id)
{
	if (queue_id_parse(arg, id) == 0)
		return 0;
	cli_warnx("'%s' is not a queue id (%d hex digits)", arg,
	    QUEUE_ID_LEN);
	return -1;
}

int
cli_run_queue(struct cli *c)
{
	struct conf *cf = cli_conf(c);

	if (cli_daemon_running(cf)) {
		cli_nudge(cf);
		return 0;
	}
	return cli_flush_local(c, NULL, 0);
}
