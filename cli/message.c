/* SPDX-License-Identifier: ISC */
/* Verbs on single messages: show, hold, release, delete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "cli.h"

static const char *const state_names[] = { "pending", "sent", "failed" };

static int
print_event(void *arg, int64_t when, const char *text)
{
	char t[32];

	(void)arg;
	printf("  %s %s\n", time_iso(when, t, sizeof t), text);
	return 0;
}

/* The header section of the stored (CRLF) message, printed with LF. */
static void
print_header(const struct buf *b)
{
	const char *p = b->data, *end = b->data + b->len, *eol;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (eol - p <= 1)	/* the empty line: body follows */
			break;
		printf("  %.*s\n", (int)(eol - p - (eol[-1] == '\r')), p);
		p = eol + 1;
	}
}

static void
print_env(const struct queue_env *e)
{
	char id[QUEUE_ID_LEN + 1], t[32];
	size_t i;

	printf("id:        %s\n", queue_id_str(e->id, id));
	printf("from:      <%s>\n", e->sender);
	printf("size:      %llu\n", (unsigned long long)e->size);
	printf("queued_at: %s\n", time_iso(e->queued_at, t, sizeof t));
	printf("held:      %s\n", e->flags & QUEUE_F_HELD ? "yes" : "no");
	if (e->envid != NULL)
		printf("envid:     %s\n", e->envid);
	if (e->ret != 0)
		printf("ret:       %s\n", e->ret == QUEUE_RET_FULL ? "full" :
		    "hdrs");
	printf("flags:    %s%s%s%s\n", e->flags & QUEUE_F_8BIT ? " 8bit" : "",
	    e->flags & QUEUE_F_SMTPUTF8 ? " smtputf8" : "",
	    e->flags & QUEUE_F_INBOUND ? " inbound" : " outbound",
	    e->flags & QUEUE_F_BOUNCED ? " bounced" : "");
	for (i = 0; i < e->nrcpt; i++) {
		const struct queue_rcpt *r = &e->rcpt[i];

		printf("to:        <%s> %s attempts=%u%s%s%s\n", r->addr,
		    state_names[r->state], r->attempts,
		    r->reply ? " (" : "", r->reply ? r->reply : "",
		    r->reply ? ")" : "");
	}
}

int
cmd_show(struct cli *c, int argc, char **argv)
{
	struct queue_env e = { 0 };
	struct buf b = BUF_INIT;
	struct queue *q;
	const char *arg;
	uint64_t id;
	int rc = 0, raw;

	raw = argc == 3 && strcmp(argv[1], "--raw") == 0;
	if (argc != 2 + raw) {
		cli_warnx("usage: tern show [--raw] ID");
		return EX_USAGE;
	}
	arg = argv[1 + raw];
	if (cli_parse_id(arg, &id) == -1)
		return EX_USAGE;
	q = cli_queue(c);
	if (queue_get(q, id, &e) == -1 || queue_body(q, id, &b) == -1) {
		cli_warnx("show %s: %s", arg, errno == ENOENT ?
		    "no such message in the queue" : queue_error(q));
		rc = errno == ENOENT ? EX_DATAERR : EX_IOERR;
		goto done;
	}
	if (raw) {	/* the stored bytes exactly, as postcat -q does */
		if (fwrite(b.data, 1, b.len, stdout) != b.len)
			rc = EX_IOERR;
		goto done;
	}
	print_env(&e);
	printf("header:\n");
	print_header(&b);
	printf("history:\n");
	if (queue_history(q, id, print_event, NULL) == -1)
		rc = EX_IOERR;
done:
	queue_env_clear(&e);
	buf_clear(&b);
	return rc;
}

enum op { OP_HOLD, OP_RELEASE, OP_DELETE };

static int
each_id(struct cli *c, int argc, char **argv, enum op op)
{
	static const char *const names[] = { "hold", "release", "delete" };
	struct queue *q;
	uint64_t id;
	int i, r, rc = 0;

	if (argc < 2) {
		cli_warnx("usage: tern %s ID...", names[op]);
		return EX_USAGE;
	}
	q = cli_queue(c);
	for (i = 1; i < argc; i++) {
		if (cli_parse_id(argv[i], &id) == -1) {
			rc = EX_USAGE;
			continue;
		}
		if (op == OP_DELETE)
			r = queue_delete(q, id);
		else
			r = queue_set_flags(q, id,
			    op == OP_HOLD ? QUEUE_F_HELD : 0,
			    op == OP_RELEASE ? QUEUE_F_HELD : 0);
		if (r == 0) {
			if (op != OP_DELETE)
				queue_log(q, id, clock_wall(), names[op]);
			continue;
		}
		if (errno == ENOENT) {
			cli_warnx("%s: no such message in the queue", argv[i]);
			rc = rc ? rc : EX_DATAERR;
		} else {
			cli_warnx("%s %s: %s", names[op], argv[i],
			    queue_error(q));
			rc = queue_temporary(q) ? EX_TEMPFAIL : EX_IOERR;
		}
	}
	if (rc == 0 && op == OP_RELEASE)
		cli_nudge(c->conf);
	return rc;
}

int
cmd_hold(struct cli *c, int argc, char **argv)
{
	return each_id(c, argc, argv, OP_HOLD);
}

int
cmd_release(struct cli *c, int argc, char **argv)
{
	return each_id(c, argc, argv, OP_RELEASE);
}

int
cmd_delete(struct cli *c, int argc, char **argv)
{
	return each_id(c, argc, argv, OP_DELETE);
}
