/* SPDX-License-Identifier: ISC */
#ifndef TERN_SMTP_SERVER_PEER_H
#define TERN_SMTP_SERVER_PEER_H

/*
 * Test-only: an in-memory client for transcript tests of the server role
 * (smtp/server_test.c, smtp/data_test.c). No sockets, no sleeps. The test
 * plays the client with sp_says() ('\n' becomes CRLF) or sp_raw(), reads
 * the engine's replies with sp_sent(), and checks the callbacks, recorded
 * as lines in ev:
 *	mail FROM
 *	rcpt TO
 *	auth MECH USER
 *	message from=<F> rcpt=A[,B...] len=N
 *	starttls
 *	end KIND CODE
 * Recipients containing "relay" get 550 5.7.1, a sender "bad@..." gets
 * 550 5.7.1; AUTH accepts user@example.org / secret, "temp" gets 454.
 * With hold set, cb->message does not answer: the test calls
 * smtp_server_reply() itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "smtp.h"

struct sp {
	struct smtp		*smtp;
	struct buf		 ev;
	struct buf		 trace;
	struct buf		 sent;
	struct buf		 body;		/* the last message's body */
	struct buf		 env;		/* its DSN details */
	int			 hold;
	int			 nmsg;
	int			 ended;
	enum smtp_end_kind	 end_kind;
	int			 end_code;
};

static const char *const sp_kind[] = {
	"ok", "eof", "421", "timeout", "protocol", "refused", "tls", "auth",
	"abort"
};

static void
sp_mail(void *arg, struct smtp *s, const char *from,
    const struct smtp_cmd *c, struct smtp_verdict *v)
{
	struct sp *p = arg;

	buf_printf(&p->ev, "mail %s\n", from);
	if (strncmp(from, "bad@", 4) == 0) {
		v->code = 550;
		snprintf(v->text, sizeof v->text, "5.7.1 Sender refused");
	}
}

static void
sp_rcpt(void *arg, struct smtp *s, const char *to,
    const struct smtp_cmd *c, struct smtp_verdict *v)
{
	struct sp *p = arg;

	buf_printf(&p->ev, "rcpt %s\n", to);
	if (strstr(to, "relay") != NULL) {
		v->code = 550;
		snprintf(v->text, sizeof v->text, "5.7.1 Relaying denied");
	}
}

static int
sp_auth(void *arg, const char *mech, const char *user, const char *pass)
{
	struct sp *p = arg;

	buf_printf(&p->ev, "auth %s %s\n", mech, user);
	if (strcmp(user, "temp") == 0)
		return 454;
	return strcmp(user, "user@example.org") == 0 &&
	    strcmp(pass, "secret") == 0 ? 0 : -1;
}

static void
sp_message(void *arg, struct smtp *s, const struct smtp_envelope *e)
{
	struct sp *p = arg;
	size_t i;

	p->nmsg++;
	buf_reset(&p->body);
	buf_add(&p->body, e->body, e->len);
	buf_printf(&p->ev, "message from=<%s> rcpt=", e->from);
	buf_reset(&p->env);
	buf_printf(&p->env, "helo=%s esmtp=%d tls=%d user=%s auth=%s "
	    "envid=%s ret=%s body8=%d utf8=%d chunked=%d", e->helo, e->esmtp,
	    e->tls, e->auth_user ? e->auth_user : "-",
	    e->auth ? e->auth : "-", e->envid ? e->envid : "-",
	    e->ret ? e->ret : "-", e->body8, e->utf8, e->chunked);
	for (i = 0; i < e->nrcpt; i++) {
		buf_printf(&p->ev, "%s%s", i ? "," : "", e->rcpt[i].addr);
		buf_printf(&p->env, " [%s notify=%s orcpt=%s]",
		    e->rcpt[i].addr,
		    e->rcpt[i].notify ? e->rcpt[i].notify : "-",
		    e->rcpt[i].orcpt ? e->rcpt[i].orcpt : "-");
	}
	buf_printf(&p->ev, " len=%zu\n", e->len);
	if (!p->hold)
		smtp_server_reply(s, 250, "2.0.0 Ok: queued as 1");
}

static void
sp_starttls(void *arg, struct smtp *s)
{
	struct sp *p = arg;

	buf_adds(&p->ev, "starttls\n");
}

static void
sp_end(void *arg, const struct smtp_end *e)
{
	struct sp *p = arg;

	p->ended++;
	p->end_kind = e->kind;
	p->end_code = e->reply != NULL ? e->reply->code : 0;
	buf_printf(&p->ev, "end %s %d\n", sp_kind[e->kind], p->end_code);
}

static void
sp_trace(void *arg, int dir, const char *line)
{
	struct sp *p = arg;

	buf_printf(&p->trace, "%c %s\n", dir, line);
}

static const struct smtp_server_cb sp_cb = {
	.mail_from = sp_mail, .rcpt_to = sp_rcpt, .auth_check = sp_auth,
	.message = sp_message, .starttls = sp_starttls, .end = sp_end,
	.trace = sp_trace,
};

static inline void
sp_opts(struct smtp_server_opts *o)
{
	memset(o, 0, sizeof *o);
	o->hostname = "node.example.org";
	o->size_max = 1000;
	o->max_rcpts = 3;
	o->max_errors = 5;
	o->greeting = 1;
}

static inline struct sp *
sp_new(const struct smtp_server_opts *o)
{
	struct sp *p = xcalloc(1, sizeof *p);

	p->smtp = smtp_server_new(o, &sp_cb, p);
	return p;
}

/* Frees the peer; the engine too unless keep (it belongs to another). */
static inline void
sp_release(struct sp *p, int keep)
{
	if (!keep)
		smtp_free(p->smtp);
	buf_clear(&p->ev);
	buf_clear(&p->trace);
	buf_clear(&p->sent);
	buf_clear(&p->body);
	buf_clear(&p->env);
	free(p);
}

static inline void
sp_free(struct sp *p)
{
	sp_release(p, 0);
}

static inline int
sp_raw(struct sp *p, const void *data, size_t len)
{
	return smtp_input(p->smtp, data, len);
}

static inline int
sp_says(struct sp *p, const char *text)
{
	struct buf b = BUF_INIT;
	int rc;

	for (; *text != '\0'; text++) {
		if (*text == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *text);
	}
	rc = smtp_input(p->smtp, b.data, b.len);
	buf_clear(&b);
	return rc;
}

/* Everything the engine wrote since the last call. */
static inline const char *
sp_sent(struct sp *p)
{
	struct buf *out = smtp_output(p->smtp);

	buf_reset(&p->sent);
	buf_add(&p->sent, out->data != NULL ? out->data : "", out->len);
	buf_consume(out, out->len);
	return p->sent.data;
}

/* EHLO and drain its reply. */
static inline void
sp_hello(struct sp *p)
{
	sp_sent(p);
	sp_says(p, "EHLO client.example\n");
	sp_sent(p);
}

static inline int
sp_has(const struct buf *b, const char *s)
{
	if (b->data != NULL && strstr(b->data, s) != NULL)
		return 1;
	fprintf(stderr, "missing \"%s\" in:\n%s\n", s,
	    b->data ? b->data : "");
	return 0;
}

#endif
