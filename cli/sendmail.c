/* SPDX-License-Identifier: ISC */
/*
 * The sendmail face: read a message on stdin, commit it to the queue, exit
 * 0 only once it is on disk (protocols.md CLI-01..12). Flags follow Postfix
 * and sendmail 8; a bad address or message is 65 with one line naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../inject/inject.h"
#include "../lib/util.h"
#include "../msg/addr.h"
#include "../msg/msg.h"
#include "../queue/queue.h"
#include "cli.h"

enum sm_mode { SM_DELIVER, SM_PRINT, SM_QUEUE_RUN, SM_NOOP, SM_SMTP };

struct sm {
	enum sm_mode	 mode;
	int		 from_headers;	/* -t */
	int		 dot_ends;	/* no -i / -oi */
	const char	*sender;	/* -f / -r */
	const char	*fullname;	/* -F */
	unsigned int	 notify;	/* -N */
	unsigned int	 ret;		/* -R */
	const char	*envid;		/* -V */
	int		 body8;		/* -B 8BITMIME */
	int		 verbose;
	char		**rcpt_args;
	int		 nrcpt_args;
	/* collected */
	const struct conf *conf;
	struct queue_env env;
	int		 utf8;
	char		 err[512];
};

/* An option's value: attached ("-fme@x") or the next argument. */
static const char *
optval(int argc, char **argv, int *i, const char *attached)
{
	if (*attached != '\0')
		return attached;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int
valued_flag(struct sm *sm, char f, const char *v)
{
	switch (f) {
	case 'f':
	case 'r':
		sm->sender = v;
		return 0;
	case 'F':
		sm->fullname = v;
		return 0;
	case 'N':
		return inject_notify(v, &sm->notify);
	case 'R':
		if (strcasecmp(v, "full") == 0)
			sm->ret = QUEUE_RET_FULL;
		else if (strcasecmp(v, "hdrs") == 0)
			sm->ret = QUEUE_RET_HDRS;
		else
			return -1;
		return 0;
	case 'V':
		sm->envid = v;
		return strlen(v) <= 100 ? 0 : -1;	/* RFC 3461 4.4 */
	case 'B':
		if (strcasecmp(v, "8BITMIME") == 0)
			sm->body8 = 1;
		else if (strcasecmp(v, "7BIT") != 0)
			return -1;
		return 0;
	default:	/* -h hops, -L tag, -O opt=val, -X file, -C file: ignored */
		return 0;
	}
}

/* -o options: only -oi matters; error modes and the rest are accepted. */
static void
o_flag(struct sm *sm, const char *o)
{
	if (strcmp(o, "i") == 0 || strcmp(o, "itrue") == 0)
		sm->dot_ends = 0;
}

static int
b_flag(struct sm *sm, const char *b)
{
	if (strcmp(b, "m") == 0)
		sm->mode = SM_DELIVER;
	else if (strcmp(b, "p") == 0)
		sm->mode = SM_PRINT;
	else if (strcmp(b, "s") == 0)
		sm->mode = SM_SMTP;
	else if (strcmp(b, "i") == 0)
		sm->mode = SM_NOOP;
	else
		return -1;
	return 0;
}

static int
one_flag(struct sm *sm, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;

	switch (a[1]) {
	case 't': sm->from_headers = 1; return a[2] == '\0' ? 0 : -1;
	case 'i': sm->dot_ends = 0; return a[2] == '\0' ? 0 : -1;
	case 'v': sm->verbose++; return 0;
	case 'q': sm->mode = SM_QUEUE_RUN; return 0;
	case 'I': sm->mode = SM_NOOP; return 0;
	case 'b': return b_flag(sm, a + 2);
	case 'o':	/* "-oi", or "-o i" */
		if ((v = optval(argc, argv, i, a + 2)) == NULL)
			return -1;
		o_flag(sm, v);
		return 0;
	case 'A': case 'U': case 'G': case 'm': case 'n': case 'd':
		return 0;	/* CLI-09: accepted and ignored */
	case 'f': case 'r': case 'F': case 'N': case 'R': case 'V':
	case 'B': case 'h': case 'L': case 'O': case 'X': case 'C':
		if ((v = optval(argc, argv, i, a + 2)) == NULL)
			return -1;
		return valued_flag(sm, a[1], v);
	default:
		return -1;
	}
}

static int
parse_args(struct sm *sm, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			break;
		if (one_flag(sm, argc, argv, &i) == -1) {
			cli_warnx("sendmail: bad or incomplete option '%s'",
			    argv[i]);
			return -1;
		}
	}
	sm->rcpt_args = argv + i;
	sm->nrcpt_args = argc - i;
	return 0;
}

/* Adds a recipient once, qualifying a bare local part with our host name. */
static int
add_rcpt(void *arg, const char *mailbox)
{
	struct sm *sm = arg;
	char *addr;
	size_t i;
	int flags = 0;
	const char *why;

	if (strchr(mailbox, '@') == NULL)
		addr = xasprintf("%s@%s", mailbox, sm->conf->hostname);
	else
		addr = xstrdup(mailbox);
	if (addr_check(addr, 0, &flags, &why) == -1) {
		snprintf(sm->err, sizeof sm->err, "bad recipient <%s>: %s",
		    addr, why);
		free(addr);
		return -1;
	}
	if (flags & ADDR_UTF8)
		sm->utf8 = 1;
	for (i = 0; i < sm->env.nrcpt; i++)
		if (strcmp(sm->env.rcpt[i].addr, addr) == 0)
			break;
	if (i == sm->env.nrcpt)
		queue_env_add_rcpt(&sm->env, addr, NULL, sm->notify);
	free(addr);
	return 0;
}

static int
arg_rcpts(struct sm *sm)
{
	const char *why = NULL;
	int i, rc;

	for (i = 0; i < sm->nrcpt_args; i++) {
		const char *a = sm->rcpt_args[i];

		sm->err[0] = '\0';
		rc = addr_list(a, strlen(a), 1, add_rcpt, sm, &why);
		if (rc != 0) {
			if (sm->err[0] == '\0')
				snprintf(sm->err, sizeof sm->err,
				    "bad recipient '%s': %s", a,
				    why ? why : "unparsable");
			return -1;
		}
	}
	return 0;
}

static int
set_sender(struct sm *sm)
{
	char addr[ADDR_MAX + 1];
	const char *why;
	int flags = 0;

	if (sm->sender == NULL) {
		sm->env.sender = xstrdup(sm->conf->from);
		return 0;
	}
	if (addr_one(sm->sender, 1, addr, sizeof addr, &flags, &why) == -1) {
		snprintf(sm->err, sizeof sm->err, "bad sender '%s': %s",
		    sm->sender, why);
		return -1;
	}
	if (flags & ADDR_UTF8)
		sm->utf8 = 1;
	if (addr[0] != '\0' && (flags & ADDR_NODOMAIN))
		sm->env.sender = xasprintf("%s@%s", addr, sm->conf->hostname);
	else
		sm->env.sender = xstrdup(addr);
	return 0;
}

/* Reads stdin whole, refusing early past the size limit. */
static int
read_input(struct sm *sm, struct buf *in)
{
	uint64_t max = sm->conf->max_message_size;
	ssize_t n;

	for (;;) {
		buf_reserve(in, 65536);
		n = read(STDIN_FILENO, in->data + in->len, 65536);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(sm->err, sizeof sm->err,
			    "reading the message: %s", strerror(errno));
			return EX_IOERR;
		}
		in->len += (size_t)n;
		in->data[in->len] = '\0';
		if (max > 0 && in->len > max) {
			snprintf(sm->err, sizeof sm->err, "message larger "
			    "than max_message_size (%llu bytes)",
			    (unsigned long long)max);
			return EX_DATAERR;
		}
	}
	return 0;
}

static void
add_received(struct sm *sm, struct msg *m)
{
	char date[64], *v;

	time_rfc5322(clock_wall(), date, sizeof date);
	/* SMTP-72: a local injection says who, not from where. */
	v = xasprintf("by %s (tern, from userid %u); %s",
	    sm->conf->hostname, (unsigned int)getuid(), date);
	msg_prepend(m, "Received", v);
	free(v);
}

/* Parse, fix up and render the message into out; 0 or an exit code. */
static int
compose(struct sm *sm, const struct buf *in, struct buf *out)
{
	struct msg_fixup fx = { 0 };
	struct msg *m;
	int rc = 0;

	m = msg_parse(in->data ? in->data : "", in->len,
	    (sm->dot_ends ? MSG_DOT_ENDS : 0) | MSG_MBOX_FROM, sm->err,
	    sizeof sm->err);
	if (m == NULL)
		return EX_DATAERR;
	if (sm->from_headers && msg_recipients(m, 1, add_rcpt, sm, sm->err,
	    sizeof sm->err) == -1) {
		rc = EX_DATAERR;
		goto done;
	}
	if (sm->env.nrcpt == 0) {
		snprintf(sm->err, sizeof sm->err, sm->from_headers ?
		    "no recipients in the To, Cc or Bcc header fields" :
		    "no recipients given");
		rc = sm->from_headers ? EX_DATAERR : EX_USAGE;
		goto done;
	}
	fx.hostname = sm->conf->hostname;
	fx.from = sm->env.sender[0] != '\0' ? sm->env.sender : sm->conf->from;
	fx.fullname = sm->fullname;
	fx.now = clock_wall();
	msg_fixup(m, &fx);
	add_received(sm, m);
	if (msg_body_8bit(m))
		sm->env.flags |= QUEUE_F_8BIT;
	if (msg_header_8bit(m) || sm->utf8)
		sm->env.flags |= QUEUE_F_SMTPUTF8;
	msg_write(m, out);
	if (sm->conf->max_message_size > 0 &&
	    out->len > sm->conf->max_message_size) {
		snprintf(sm->err, sizeof sm->err, "message larger than "
		    "max_message_size (%zu > %llu bytes)", out->len,
		    (unsigned long long)sm->conf->max_message_size);
		rc = EX_DATAERR;
	}
done:
	msg_free(m);
	return rc;
}

static int
enqueue(struct cli *c, struct sm *sm, const struct buf *body)
{
	struct queue *q = cli_queue(c);
	char id[QUEUE_ID_LEN + 1];

	if (queue_put(q, &sm->env, body->data, body->len) == -1) {
		cli_warnx("sendmail: cannot queue the message: %s",
		    queue_error(q));
		return queue_temporary(q) ? EX_TEMPFAIL : EX_IOERR;
	}
	if (sm->verbose)
		cli_warnx("queued as %s", queue_id_str(sm->env.id, id));
	cli_nudge(sm->conf);
	return 0;
}

static int
deliver(struct cli *c, struct sm *sm)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	int rc;

	sm->conf = cli_conf(c);
	if ((rc = set_sender(sm)) != 0 || (rc = arg_rcpts(sm)) != 0) {
		rc = EX_DATAERR;
		goto fail;
	}
	if ((rc = read_input(sm, &in)) != 0 || (rc = compose(sm, &in,
	    &out)) != 0)
		goto fail;
	if (sm->envid != NULL)
		sm->env.envid = xstrdup(sm->envid);
	sm->env.ret = sm->ret;
	if (sm->body8)
		sm->env.flags |= QUEUE_F_BODY_8BITMIME;
	rc = enqueue(c, sm, &out);
	goto done;
fail:
	cli_warnx("sendmail: %s", sm->err);
done:
	buf_clear(&in);
	buf_clear(&out);
	return rc;
}

int
cmd_sendmail(struct cli *c, int argc, char **argv)
{
	struct sm sm = { .dot_ends = 1 };
	int rc;

	if (parse_args(&sm, argc, argv) == -1)
		return EX_USAGE;
	switch (sm.mode) {
	case SM_NOOP:
		return 0;
	case SM_PRINT:
		return cmd_queue(c, 1, argv);
	case SM_QUEUE_RUN:
		return cli_run_queue(c);
	case SM_SMTP:
		return cli_smtp_stdio(c);
	default:
		break;
	}
	rc = deliver(c, &sm);
	queue_env_clear(&sm.env);
	return rc;
}
