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
#include "../odmr/odmr.h"
#include "../queue/queue.h"
#include "../relay/relay.h"
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

int
cmd_pull(struct cli *c, int argc, char **argv)
{
	struct pull_result res;
	struct relay_result rr;
	struct conf *cf;
	struct queue *q;
	int rc, lock;

	(void)argv;
	if (argc != 1) {
		cli_warnx("usage: tern pull");
		return EX_USAGE;
	}
	cf = cli_conf(c);
	if ((rc = cli_control(cf, "pull")) != -1)
		return rc;
	if (cf->inbound.method == CONF_INBOUND_ETRN) {
		cli_warnx("pull: ETRN needs ternd's listener for the provider "
		    "to deliver to: start ternd");
		return EX_UNAVAILABLE;
	}
	q = cli_queue(c);
	rc = odmr_pull(cf, q, cli_print_line, NULL, &res);
	printf("pull: %u message(s) received%s%s\n", res.received,
	    res.reply[0] ? "; provider said: " : "", res.reply);
	if (res.error[0] != '\0')
		cli_warnx("pull: %s", res.error);
	/* What arrived goes to the mailbox now. */
	if (res.nids > 0 && (lock = relay_lock(cf->state)) != -1) {
		relay_run(cf, q, res.ids, res.nids, 1, cli_print_line, NULL,
		    &rr);
		close(lock);
		if (rr.deferred > 0)
			cli_warnx("pull: %u message(s) wait for the local "
			    "mailbox", rr.deferred);
	}
	pull_result_clear(&res);
	return rc;
}
