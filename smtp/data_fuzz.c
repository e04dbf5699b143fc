/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: a whole server session fed arbitrary client bytes:
 * the command reader, every server state, AUTH, DATA and BDAT content.
 * The first input byte picks the options (STARTTLS offered or TLS up,
 * AUTH offered and required, a small SIZE and recipient limit, replying
 * to a message from inside the callback or after the input, how the
 * bytes are cut); the rest is what the client says. Invariants: every
 * byte the server writes is part of a CRLF line starting "ddd " or "ddd-"
 * (RFC 5321 4.2); a message handed over has at least one recipient and
 * canonical content (CRLF only, no NUL, a final CRLF: SM-11), within the
 * size limit; cb->end comes exactly once.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct run {
	unsigned int	 mode;
	int		 ends, tls_wanted, waiting, messages;
	uint64_t	 size_max;
};

static void
on_rcpt(void *arg, struct smtp *s, const char *to, const struct smtp_cmd *c,
    struct smtp_verdict *v)
{
	if (to[0] == 'x') {
		v->code = 550;
		strcpy(v->text, "5.1.1 no such user");
	}
}

static int
on_auth(void *arg, const char *mech, const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);

	assert(ul >= 1 && ul <= 255 && pl >= 1 && pl <= 255);
	if (strcmp(user, "tmp") == 0)
		return 454;
	return strcmp(user, "user") == 0 && strcmp(pass, "pass") == 0 ? 0 : -1;
}

static void
on_message(void *arg, struct smtp *s, const struct smtp_envelope *e)
{
	struct run *r = arg;
	size_t i;

	assert(e->from != NULL && e->nrcpt >= 1 && e->rcpt != NULL);
	assert(e->len <= r->size_max);
	for (i = 0; i < e->len; i++) {
		assert(e->body[i] != '\0');
		if (e->body[i] == '\r')
			assert(i + 1 < e->len && e->body[i + 1] == '\n');
		if (e->body[i] == '\n')
			assert(i > 0 && e->body[i - 1] == '\r');
	}
	assert(e->len == 0 || e->body[e->len - 1] == '\n');
	r->messages++;
	if (r->mode & 0x40)
		assert(smtp_server_reply(s, r->messages % 3 ? 250 : 451,
		    NULL) == 0);
	else
		r->waiting = 1;
}

static void
on_starttls(void *arg, struct smtp *s)
{
	((struct run *)arg)->tls_wanted = 1;
}

static void
on_end(void *arg, const struct smtp_end *e)
{
	((struct run *)arg)->ends++;
}

/* Replies only: whole CRLF lines, each "ddd" then SP, "-" or the end. */
static void
drain(struct smtp *s)
{
	struct buf *out = smtp_output(s);
	size_t i = 0, n;
	const char *nl, *l;

	while (i < out->len) {
		l = out->data + i;
		nl = memchr(l, '\n', out->len - i);
		assert(nl != NULL && nl > l && nl[-1] == '\r');
		n = (size_t)(nl - l) + 1;
		assert(n >= 5 && l[0] >= '2' && l[0] <= '5' &&
		    l[1] >= '0' && l[1] <= '9' && l[2] >= '0' && l[2] <= '9');
		assert(n == 5 || l[3] == ' ' || l[3] == '-');
		assert(memchr(l, '\r', n - 2) == NULL);
		assert(n <= SMTP_REPLY_LINE_MAX);
		i += n;
	}
	buf_consume(out, out->len);
}

static void
after_input(struct smtp *s, struct run *r)
{
	drain(s);
	if (r->waiting && !smtp_done(s)) {
		r->waiting = 0;
		assert(smtp_server_reply(s, 250, NULL) == 0);
		drain(s);
	}
	if (r->tls_wanted && !smtp_done(s)) {
		r->tls_wanted = 0;
		assert(smtp_tls_up(s) == 0);
		drain(s);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_server_opts o;
	struct smtp_server_cb cb;
	struct run r;
	struct smtp *s;
	const char *p, *end, *nl;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof o);
	memset(&cb, 0, sizeof cb);
	memset(&r, 0, sizeof r);
	r.mode = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	o.hostname = "mx.example.org";
	o.greeting = 1;
	o.offer_starttls = r.mode & 1;
	o.tls_active = (r.mode >> 1) & 1;
	o.auth_required = (r.mode >> 2) & 1;
	o.auth_mechs = r.mode & 8 ? "PLAIN LOGIN" : NULL;
	o.plaintext_ok = (r.mode >> 4) & 1;
	if (r.mode & 0x20) {
		o.size_max = 200;
		o.max_rcpts = 3;
		o.max_errors = 3;
	}
	r.size_max = o.size_max != 0 ? o.size_max : SMTP_SRV_SIZE_DEFAULT;
	cb.rcpt_to = on_rcpt;
	cb.auth_check = on_auth;
	cb.message = on_message;
	cb.starttls = on_starttls;
	cb.end = on_end;

	s = smtp_server_new(&o, &cb, &r);
	drain(s);
	while (p < end && !smtp_done(s)) {
		/* Line by line, or (mode bit 7) in 5-byte pieces. */
		if (r.mode & 0x80)
			nl = end - p > 5 ? p + 4 : end - 1;
		else if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end - 1;
		(void)smtp_input(s, p, (size_t)(nl - p) + 1);
		after_input(s, &r);
		p = nl + 1;
	}
	if (!smtp_done(s)) {
		smtp_eof(s);
		after_input(s, &r);
	}
	assert(smtp_done(s));
	assert(r.ends == 1);
	smtp_free(s);
	return 0;
}
