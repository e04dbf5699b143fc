/* SPDX-License-Identifier: ISC */
/* The in-memory peer (tests/peer.h). Included by smtp/ tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "peer.h"

static const char *const peer_stage[] = {
	"none", "local", "mail", "rcpt", "data", "dot"
};
static const char *const peer_kind[] = {
	"ok", "eof", "421", "timeout", "protocol", "refused", "tls", "auth",
	"abort"
};

static void
peer_on_ready(void *arg, struct smtp *s)
{
	struct peer *p = arg;

	buf_adds(&p->ev, "ready\n");
	if (p->hold)
		return;
	if (p->qi < p->nq)
		smtp_send(s, p->q[p->qi++]);
	else
		smtp_quit(s);
}

static void
peer_on_rcpt(void *arg, const struct smtp_msg *m, const struct smtp_result *r)
{
	struct peer *p = arg;

	buf_printf(&p->ev, "rcpt %zu %s %d%s%s final=%d\n", r->idx,
	    peer_stage[r->stage], r->reply->code, r->reply->esc[0] ? " " : "",
	    r->reply->esc, r->final);
}

static void
peer_on_done(void *arg, const struct smtp_msg *m, enum smtp_stage st,
    const struct smtp_reply *r)
{
	struct peer *p = arg;

	buf_printf(&p->ev, "done %s %d\n", peer_stage[st], r->code);
}

static void
peer_on_starttls(void *arg, struct smtp *s)
{
	struct peer *p = arg;

	buf_adds(&p->ev, "starttls\n");
}

static void
peer_on_end(void *arg, const struct smtp_end *e)
{
	struct peer *p = arg;

	p->ended++;
	p->end_kind = e->kind;
	p->end_after_dot = e->after_dot;
	p->end_code = e->reply != NULL ? e->reply->code : 0;
	buf_printf(&p->ev, "end %s %s after_dot=%d %d\n", peer_kind[e->kind],
	    e->state, e->after_dot, p->end_code);
}

static void
peer_on_trace(void *arg, int dir, const char *line)
{
	struct peer *p = arg;

	buf_printf(&p->trace, "%c %s\n", dir, line);
}

struct peer *
peer_client(const struct smtp_client_opts *o)
{
	static const struct smtp_cb cb = {
		.ready = peer_on_ready, .rcpt = peer_on_rcpt,
		.done = peer_on_done, .starttls = peer_on_starttls,
		.end = peer_on_end, .trace = peer_on_trace,
	};
	struct peer *p = xcalloc(1, sizeof *p);

	p->smtp = smtp_client_new(o, &cb, p);
	return p;
}

void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	smtp_free(p->smtp);
	buf_clear(&p->ev);
	buf_clear(&p->trace);
	buf_clear(&p->sent);
	free(p);
}

void
peer_queue(struct peer *p, const struct smtp_msg *m)
{
	if (p->nq < PEER_QMAX)
		p->q[p->nq++] = m;
}

int
peer_raw(struct peer *p, const void *data, size_t len)
{
	return smtp_input(p->smtp, data, len);
}

void
peer_says(struct peer *p, const char *text)
{
	struct buf b = BUF_INIT;

	for (; *text != '\0'; text++) {
		if (*text == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *text);
	}
	smtp_input(p->smtp, b.data, b.len);
	buf_clear(&b);
}

const char *
peer_sent(struct peer *p)
{
	struct buf *out = smtp_output(p->smtp);

	buf_reset(&p->sent);
	buf_add(&p->sent, out->data != NULL ? out->data : "", out->len);
	buf_consume(out, out->len);
	return p->sent.data;
}

void
peer_clear_ev(struct peer *p)
{
	buf_reset(&p->ev);
}
