/* SPDX-License-Identifier: ISC */
/*
 * sendmail -bs: an SMTP session on standard input and output (Alpine and
 * friends), the same server engine as the listener, for a trusted local
 * user: no TLS, no AUTH; each message committed before its 250.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../inject/inject.h"
#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../smtp/smtp.h"
#include "cli.h"

struct bs {
	struct cli	*c;
	int		 failed;
};

static void
on_message(void *arg, struct smtp *smtp, const struct smtp_envelope *env)
{
	struct bs *b = arg;
	struct inject_src src = { .peer = "localhost (sendmail -bs)",
	    .submission = 1, .proto = "ESMTP" };
	char reply[256];
	uint64_t id;
	int code;

	code = inject_smtp(b->c->conf, cli_queue(b->c), &src, env, reply,
	    sizeof reply, &id);
	if (code != 250)
		b->failed = 1;
	smtp_server_reply(smtp, code, reply);
}

static int
flush_stdout(struct smtp *s)
{
	struct buf *out = smtp_output(s);

	if (out->len > 0 && write_all(STDOUT_FILENO, out->data, out->len) == -1)
		return -1;
	buf_reset(out);
	return 0;
}

int
cli_smtp_stdio(struct cli *c)
{
	struct smtp_server_cb cb = { .message = on_message };
	struct smtp_server_opts o = { .plaintext_ok = 1, .greeting = 1 };
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	struct bs b = { .c = c };
	struct smtp *s;
	char in[16384];
	ssize_t n;
	long ms;
	int rc = 0;

	cli_conf(c);
	cli_queue(c);		/* fail early, before the greeting */
	o.hostname = c->conf->hostname;
	o.size_max = c->conf->max_message_size;
	s = smtp_server_new(&o, &cb, &b);
	while (!smtp_done(s)) {
		if (flush_stdout(s) == -1) {
			rc = EX_IOERR;
			break;
		}
		ms = smtp_timeout_ms(s);
		if ((n = poll(&p, 1, ms < 0 ? -1 : (int)ms)) == 0) {
			smtp_timeout(s);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if ((n = read(STDIN_FILENO, in, sizeof in)) > 0)
			smtp_input(s, in, (size_t)n);
		else if (n == 0 || errno != EINTR)
			smtp_eof(s);
	}
	flush_stdout(s);
	smtp_free(s);
	if (rc == 0 && b.failed)
		rc = EX_TEMPFAIL;
	cli_nudge(c->conf);
	return rc;
}
