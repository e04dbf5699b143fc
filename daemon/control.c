/* SPDX-License-Identifier: ISC */
/*
 * The control socket (state/control.sock, 0600): the CLI's way in. A
 * client writes one line, "nudge", "flush [--no-wait] [ID...]", "pull",
 * "up", "down" or "status"; the daemon answers with lines "L <text>" and
 * ends with "E <exit code>" (nudge: no answer). flush and pull answer when
 * the run they started is over, with one line per recipient.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "ternd.h"

#define REQUEST_MAX	8192

struct waiter {
	struct ternd	*t;
	int		 fd;
	struct ev_io	*io;
	struct buf	 in;
	struct waiter	*next;	/* in a job's list */
	int		 closed;
};

static void
waiter_free(struct waiter *w)
{
	ev_io_free(w->io);
	close(w->fd);
	buf_clear(&w->in);
	free(w);
}

void
waiter_add(struct waiter **list, struct waiter *w)
{
	w->next = *list;
	*list = w;
}

void
waiter_line(struct waiter *w, const char *line)
{
	struct buf b = BUF_INIT;

	/* Blocking write on a local socket: the CLI reads as we go. A CLI
	 * that went away gives EPIPE (ignored), never a stall. */
	buf_printf(&b, "L %s\n", line);
	if (!w->closed && write_all(w->fd, b.data, b.len) == -1)
		w->closed = 1;
	buf_clear(&b);
}

void
waiter_done(struct waiter *w, int code)
{
	char b[32];
	int n = snprintf(b, sizeof b, "E %d\n", code);

	if (!w->closed)
		write_all(w->fd, b, (size_t)n);
	waiter_free(w);
}

void
waiters_line(struct waiter *w, const char *line)
{
	for (; w != NULL; w = w->next)
		waiter_line(w, line);
}

void
waiters_done(struct waiter **list, int code)
{
	struct waiter *w, *n;

	for (w = *list; w != NULL; w = n) {
		n = w->next;
		waiter_done(w, code);
	}
	*list = NULL;
}

static void
do_flush(struct ternd *t, struct waiter *w, char *args)
{
	uint64_t *ids = NULL;
	size_t n = 0;
	char *tok, *save = NULL;
	int nowait = 0;

	for (tok = strtok_r(args, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (strcmp(tok, "--no-wait") == 0) {
			nowait = 1;
			continue;
		}
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		if (queue_id_parse(tok, &ids[n++]) == -1) {
			waiter_line(w, "bad queue id");
			waiter_done(w, EX_USAGE);
			free(ids);
			return;
		}
	}
	sched_flush(t, ids, n, nowait ? NULL : w);
	free(ids);
	if (nowait)
		waiter_done(w, 0);
}

static void
do_status(struct ternd *t, struct waiter *w)
{
	static const char *const names[] = { "unknown", "up", "down" };
	char b[128];

	snprintf(b, sizeof b, "link %s", names[t->link]);
	waiter_line(w, b);
	snprintf(b, sizeof b, "delivering %s", t->flush.pid ? "yes" : "no");
	waiter_line(w, b);
	waiter_done(w, 0);
}

/* One request line; the waiter is answered now or handed to a job. */
static void
request(struct ternd *t, struct waiter *w, char *line)
{
	char *args = strchr(line, ' ');

	if (args != NULL)
		*args++ = '\0';
	else
		args = line + strlen(line);
	if (strcmp(line, "nudge") == 0) {
		waiter_free(w);
		sched_kick(t);
	} else if (strcmp(line, "flush") == 0)
		do_flush(t, w, args);
	else if (strcmp(line, "pull") == 0)
		sched_pull(t, w);
	else if (strcmp(line, "up") == 0) {
		waiter_done(w, 0);
		sched_link(t, LINK_UP, "tern up");
	} else if (strcmp(line, "down") == 0) {
		waiter_done(w, 0);
		sched_link(t, LINK_DOWN, "tern down");
	} else if (strcmp(line, "status") == 0)
		do_status(t, w);
	else {
		waiter_line(w, "unknown request");
		waiter_done(w, EX_USAGE);
	}
}

static void
client_readable(struct ev_io *io, unsigned int ev, void *arg)
{
	struct waiter *w = arg;
	char b[1024], *nl;
	ssize_t n;

	(void)ev;
	n = read(w->fd, b, sizeof b);
	if (n <= 0 || w->in.len + (size_t)n > REQUEST_MAX) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		waiter_free(w);
		return;
	}
	buf_add(&w->in, b, (size_t)n);
	if ((nl = memchr(w->in.data, '\n', w->in.len)) == NULL)
		return;
	*nl = '\0';
	/* One request per connection: stop reading, answer later, with
	 * blocking writes bounded by a timeout so a stuck client cannot
	 * stall the daemon. */
	ev_io_set(io, 0);
	fcntl(w->fd, F_SETFL, 0);
	setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){ 5, 0 },
	    sizeof(struct timeval));
	request(w->t, w, w->in.data);
}

static void
control_accept(struct ev_io *io, unsigned int ev, void *arg)
{
	struct ternd *t = arg;
	struct waiter *w;
	int fd;

	(void)io;
	(void)ev;
	if ((fd = accept4(t->control_fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1)
		return;
	w = xcalloc(1, sizeof *w);
	w->t = t;
	w->fd = fd;
	w->io = ev_io_new(t->loop, fd, EV_READ, client_readable, w);
}

int
control_init(struct ternd *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%s/control.sock", t->conf->state) >= sizeof sun.sun_path) {
		log_warnx("control socket path too long: %s/control.sock",
		    t->conf->state);
		return -1;
	}
	/* We hold the state lock: a leftover socket is ours to replace. */
	unlink(sun.sun_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 64) == -1) {
		umask(old);
		log_warn("control socket %s", sun.sun_path);
		close(fd);
		return -1;
	}
	umask(old);
	t->control_fd = fd;
	t->control = ev_io_new(t->loop, fd, EV_READ, control_accept, t);
	return 0;
}

void
control_close(struct ternd *t)
{
	char *path;

	if (t->control == NULL)
		return;
	ev_io_free(t->control);
	close(t->control_fd);
	path = xasprintf("%s/control.sock", t->conf->state);
	unlink(path);
	free(path);
	t->control = NULL;
}
