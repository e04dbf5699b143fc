/* SPDX-License-Identifier: ISC */
/* Verbs that talk to the smarthost: flush, bounce, check. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "../relay/outcome.h"
#include "../relay/relay.h"
#include "cli.h"

void
cli_print_line(void *arg, const char *line)
{
	(void)arg;
	puts(line);
	fflush(stdout);
}

int
cli_flush_local(struct cli *c, const uint64_t *ids, size_t n)
{
	struct relay_result res;
	struct queue *q = cli_queue(c);
	int lock, rc;

	if ((lock = relay_lock(c->conf->state)) == -1) {
		cli_warnx("flush: cannot lock %s/flush.lock: %s",
		    c->conf->state, strerror(errno));
		return EX_TEMPFAIL;
	}
	rc = relay_run(c->conf, q, ids, n, 1, cli_print_line, NULL, &res);
	close(lock);
	if (rc == -1) {
		cli_warnx("flush: %s", res.error);
		return EX_IOERR;
	}
	if (res.error[0] != '\0')
		cli_warnx("flush: %s", res.error);
	if (res.held > 0)
		cli_warnx("flush: %u held message(s) not sent (tern release "
		    "ID)", res.held);
	return relay_exit_code(&res);
}

int
cmd_flush(struct cli *c, int argc, char **argv)
{
	uint64_t *ids;
	int i, n = 0, rc;

	ids = xcalloc((size_t)argc, sizeof *ids);
	for (i = 1; i < argc; i++) {
		/* --no-wait goes to the daemon as given; alone it has
		 * nobody to trigger, so the flush runs here. */
		if (strcmp(argv[i], "--no-wait") == 0)
			continue;
		if (cli_parse_id(argv[i], &ids[n++]) == -1) {
			free(ids);
			return EX_USAGE;
		}
	}
	cli_conf(c);
	/* Through the daemon when it runs: it owns the deliveries. */
	if (cli_daemon_running(c->conf)) {
		struct buf req = BUF_INIT;

		buf_adds(&req, "flush");
		for (i = 1; i < argc; i++)
			buf_printf(&req, " %s", argv[i]);
		rc = cli_control(c->conf, req.data);
		buf_clear(&req);
		if (rc != -1) {
			free(ids);
			return rc;
		}
	}
	rc = cli_flush_local(c, ids, (size_t)n);
	free(ids);
	return rc;
}

/* tern bounce: every pending recipient fails now; one DSN goes back. */
int
cmd_bounce(struct cli *c, int argc, char **argv)
{
	struct queue_env e = { 0 };
	struct queue *q;
	uint64_t id;
	size_t j;
	int i, rc = 0;

	if (argc < 2) {
		cli_warnx("usage: tern bounce ID...");
		return EX_USAGE;
	}
	q = cli_queue(c);
	for (i = 1; i < argc; i++) {
		if (cli_parse_id(argv[i], &id) == -1) {
			rc = EX_USAGE;
			continue;
		}
		if (queue_get(q, id, &e) == -1) {
			cli_warnx("%s: %s", argv[i], errno == ENOENT ?
			    "no such message in the queue" : queue_error(q));
			rc = errno == ENOENT ? EX_DATAERR : EX_IOERR;
			continue;
		}
		for (j = 0; j < e.nrcpt; j++)
			if (e.rcpt[j].state == QUEUE_PENDING)
				queue_rcpt_set(q, id, (unsigned int)j,
				    QUEUE_FAILED, "550 5.0.0 returned to "
				    "sender by request (tern bounce)", 0,
				    clock_wall());
		queue_env_clear(&e);
		if (outcome_settle(c->conf, q, id, NULL, clock_wall()) == -1) {
			cli_warnx("bounce %s: %s", argv[i], queue_error(q));
			rc = EX_IOERR;
		} else
			printf("%s: bounced\n", argv[i]);
	}
	return rc;
}
