/* SPDX-License-Identifier: ISC */
/* Talking to a running ternd over its control socket; up, down, pull. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "cli.h"

/*
 * Sends one request line and prints the answer lines ("L text") on
 * stdout; returns the exit code of the final "E n", or -1 when no daemon
 * listens (the caller then works in-process).
 */
int
cli_control(const struct conf *cf, const char *req)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct buf in = BUF_INIT;
	char b[4096], *nl;
	ssize_t n;
	int fd, rc = EX_SOFTWARE;

	if ((size_t)snprintf(sun.sun_path, sizeof sun.sun_path,
	    "%s/control.sock", cf->state) >= sizeof sun.sun_path)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    write_all(fd, req, strlen(req)) == -1 ||
	    write_all(fd, "\n", 1) == -1) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, b, sizeof b)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		buf_add(&in, b, (size_t)n);
		while ((nl = memchr(in.data, '\n', in.len)) != NULL) {
			*nl = '\0';
			if (in.data[0] == 'L' && in.data[1] == ' ') {
				puts(in.data + 2);
				fflush(stdout);
			} else if (in.data[0] == 'E' && in.data[1] == ' ')
				rc = atoi(in.data + 2);
			buf_consume(&in, (size_t)(nl - in.data) + 1);
		}
	}
	buf_clear(&in);
	close(fd);
	return rc;
}

static int
link_verb(struct cli *c, int argc, const char *what)
{
	struct conf *cf;
	struct queue *q;
	int rc;

	if (argc != 1) {
		cli_warnx("usage: tern %s", what);
		return EX_USAGE;
	}
	cf = cli_conf(c);
	if ((rc = cli_control(cf, what)) != -1)
		return rc;
	/* No daemon: remember the state for status; hooks must not fail,
	 * and they must return at once, so nothing is delivered here. */
	q = cli_queue(c);
	queue_meta_set(q, "link", what);
	cli_warnx("ternd is not running for %s: link recorded as %s, "
	    "nothing sent (tern flush delivers in-process)", cf->state, what);
	return 0;
}

int
cmd_up(struct cli *c, int argc, char **argv)
{
	(void)argv;
	return link_verb(c, argc, "up");
}

int
cmd_down(struct cli *c, int argc, char **argv)
{
	(void)argv;
	return link_verb(c, argc, "down");
}
