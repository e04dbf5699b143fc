/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: a whole client session fed arbitrary server bytes,
 * which covers the line reader, the reply parser, every client state and
 * AUTH (sasl.h) with no socket. The first input byte picks the options
 * (LMTP, STARTTLS required or already up, AUTH mechanism, plaintext_ok,
 * how the bytes are cut); the rest is what the server says. The caller
 * sends two messages (the second 8-bit and UTF-8, so it may be refused
 * locally) and then QUITs. Invariants: cb->end exactly once on every way
 * out; every recipient settled once, before cb->done; every byte tern
 * writes is CRLF-terminated lines (no bare CR or LF can leave tern,
 * SM-03/SM-20).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct smtp_rcpt rcpts[] = {
	{ "a@example.org", NULL, NULL },
	{ "b@example.net", "SUCCESS,FAILURE", "rfc822;b@example.net" },
};

static const char body1[] = "Subject: hi\r\n\r\nline\r\n.\r\n..x\r\nend";
static const char body2[] = "Subject: caf\xc3\xa9\r\n\r\n\xc3\xa9t\xc3\xa9\n";

static const struct smtp_msg msgs[2] = {
	{ "sender@example.org", rcpts, 2, "env+2Bid", "HDRS", 0,
	    body1, sizeof body1 - 1 },
	{ "s\xc3\xa9@example.org", rcpts, 1, NULL, NULL, 1,
	    body2, sizeof body2 - 1 },
};

struct run {
	int		 readies, ends, tls_wanted;
	int		 settled[2];	/* per rcpt of the message in flight */
	int		 sent;		/* index of the message in flight */
	int		 in_flight;
};

static void
on_ready(void *arg, struct smtp *s)
{
	struct run *r = arg;

	assert(!r->in_flight);
	if (r->readies++ < 2) {
		r->sent = r->readies - 1;
		memset(r->settled, 0, sizeof r->settled);
		/* A local refusal settles everything inside smtp_send(). */
		r->in_flight = 1;
		if (smtp_send(s, &msgs[r->sent]) != 0)
			r->in_flight = 0;
		return;
	}
	assert(smtp_quit(s) == 0);
}

static void
on_rcpt(void *arg, const struct smtp_msg *m, const struct smtp_result *res)
{
	struct run *r = arg;

	assert(r->in_flight && m == &msgs[r->sent]);
	assert(res->idx < m->nrcpt);
	assert(res->reply != NULL);
	assert(res->reply->code >= 200 && res->reply->code <= 599);
	assert(!r->settled[res->idx]);
	if (res->final)
		r->settled[res->idx] = 1;
}

static void
on_done(void *arg, const struct smtp_msg *m, enum smtp_stage st,
    const struct smtp_reply *rep)
{
	struct run *r = arg;
	size_t i;

	assert(r->in_flight && m == &msgs[r->sent]);
	for (i = 0; i < m->nrcpt; i++)
		assert(r->settled[i]);
	r->in_flight = 0;
}

static void
on_starttls(void *arg, struct smtp *s)
{
	struct run *r = arg;

	r->tls_wanted = 1;	/* "handshake" after smtp_input returns */
}

static void
on_end(void *arg, const struct smtp_end *e)
{
	struct run *r = arg;

	assert(e->state != NULL && e->why != NULL);
	r->ends++;
}

/* What tern wrote: nothing but whole CRLF lines. */
static void
drain(struct smtp *s)
{
	struct buf *out = smtp_output(s);
	size_t i;

	for (i = 0; i < out->len; i++) {
		if (out->data[i] == '\r')
			assert(i + 1 < out->len && out->data[i + 1] == '\n');
		if (out->data[i] == '\n')
			assert(i > 0 && out->data[i - 1] == '\r');
	}
	assert(out->len == 0 || out->data[out->len - 1] == '\n');
	buf_consume(out, out->len);
}

static void
feed(struct smtp *s, struct run *r, const char *p, size_t len)
{
	int live;

	live = smtp_input(s, p, len);
	assert(live == !smtp_done(s));
	drain(s);
	if (r->tls_wanted && !smtp_done(s)) {
		r->tls_wanted = 0;
		assert(smtp_tls_up(s) == 0);
		drain(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sasl_cred cred = { "user", "secret", NULL,
	    "smtp.example.org", 587 };
	struct smtp_client_opts o = { "client.example.org", 0, 0, 0, NULL,
	    -1, 0, 0 };
	struct smtp_cb cb = { 0 };
	struct run r = { 0 };
	struct smtp *s;
	const char *p, *end, *nl;
	unsigned int mode, mech;

	if (size < 1)
		return 0;
	mode = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	o.lmtp = mode & 1;
	o.starttls = (mode >> 1) & 1;
	o.tls_active = (mode >> 2) & 1;
	o.plaintext_ok = (mode >> 6) & 1;
	mech = (mode >> 3) & 7;		/* 0..5 a mechanism, 6 auto, 7 none */
	if (mech != 7) {
		o.cred = &cred;
		o.mech = mech == 6 ? -1 : (int)mech;
		o.oauth = mech == SASL_XOAUTH2 || mech == SASL_OAUTHBEARER;
	}
	cb.ready = on_ready;
	cb.rcpt = on_rcpt;
	cb.done = on_done;
	cb.starttls = on_starttls;
	cb.end = on_end;

	s = smtp_client_new(&o, &cb, &r);
	drain(s);
	while (p < end && !smtp_done(s)) {
		/* Line by line, or (mode bit 7) in 7-byte pieces. */
		if (mode & 0x80) {
			nl = end - p > 7 ? p + 6 : end - 1;
		} else if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			nl = end - 1;
		}
		feed(s, &r, p, (size_t)(nl - p) + 1);
		p = nl + 1;
	}
	if (!smtp_done(s)) {
		if (mode & 0x20)
			smtp_timeout(s);
		else
			smtp_eof(s);
		drain(s);
	}
	assert(smtp_done(s));
	assert(r.ends == 1);
	assert(!r.in_flight);
	assert(smtp_input(s, "250 x\r\n", 7) == 0);
	assert(r.ends == 1);
	smtp_free(s);
	return 0;
}
