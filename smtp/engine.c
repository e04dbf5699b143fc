/* SPDX-License-Identifier: ISC */
/*
 * The engine core: one table drives every role. Entering a state may send
 * a line (the row's enter); the row's handler consumes the next reply
 * (client rows), or the next command line or raw octets (server rows: the
 * row's on_bytes reads, its on_line handles a line). Only smtp_enter()
 * writes s->state. This file also owns the line reader (with its cap, RFC
 * 5321 4.5.3.1), the deadlines (4.5.3.2), tracing with AUTH masking, and
 * every way a session ends.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "smtp_int.h"

#define MIN	(60L * 1000)

static const struct row {
	const char	*name;
	enum smtp_role	 role;
	long		 timeout;	/* ms, -1: none (4.5.3.2) */
	void		(*enter)(struct smtp *);
	void		(*on_reply)(struct smtp *, const struct smtp_reply *);
	/* server rows: consume input octets, return how many were used;
	 * NULL: not reading now (input is kept in s->pend) */
	size_t		(*on_bytes)(struct smtp *, const char *, size_t);
	void		(*on_line)(struct smtp *, const char *, size_t);
} rows[SMTP_ST_NSTATES] = {
	[SMTP_ST_GREETING] = { "greeting", SMTP_CLIENT, 5 * MIN,
	    NULL, smtp_cl_on_greeting },
	[SMTP_ST_EHLO] = { "ehlo", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_ehlo, smtp_cl_on_ehlo },
	[SMTP_ST_HELO] = { "helo", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_helo, smtp_cl_on_helo },
	[SMTP_ST_STARTTLS] = { "starttls", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_starttls, smtp_cl_on_starttls },
	[SMTP_ST_TLS] = { "tls", SMTP_CLIENT, -1, NULL, NULL },
	[SMTP_ST_AUTH] = { "auth", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_auth, smtp_cl_on_auth },
	[SMTP_ST_READY] = { "ready", SMTP_CLIENT, -1,
	    smtp_cl_enter_ready, NULL },
	[SMTP_ST_MAIL] = { "mail", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_mail, smtp_cl_on_mail },
	[SMTP_ST_RCPT] = { "rcpt", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_rcpt, smtp_cl_on_rcpt },
	[SMTP_ST_DATA] = { "data", SMTP_CLIENT, 2 * MIN,
	    smtp_cl_send_data, smtp_cl_on_data },
	[SMTP_ST_DOT] = { "dot", SMTP_CLIENT, 10 * MIN,
	    smtp_cl_send_body, smtp_cl_on_dot },
	[SMTP_ST_RSET] = { "rset", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_rset, smtp_cl_on_rset },
	[SMTP_ST_QUIT] = { "quit", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_quit, smtp_cl_on_quit },
	/* 4.5.3.2.7: the server waits at least 5 minutes for the client,
	 * also between DATA blocks; its own waits have no deadline. */
	[SMTP_ST_ATRN] = { "atrn", SMTP_CLIENT, 10 * MIN,	/* ODMR-08 */
	    smtp_srv_send_atrn, smtp_srv_on_atrn },
	[SMTP_ST_ETRN] = { "etrn", SMTP_CLIENT, 5 * MIN,
	    smtp_cl_send_etrn, smtp_cl_on_etrn },
	[SMTP_ST_BANNER] = { "banner", SMTP_SERVER, 5 * MIN,
	    smtp_srv_send_banner, NULL, NULL, NULL },
	[SMTP_ST_COMMAND] = { "command", SMTP_SERVER, 5 * MIN,
	    NULL, NULL, smtp_srv_read_line, smtp_srv_on_command },
	[SMTP_ST_SRV_AUTH] = { "srv-auth", SMTP_SERVER, 5 * MIN,
	    NULL, NULL, smtp_srv_read_line, smtp_srv_on_auth_line },
	[SMTP_ST_SRV_DATA] = { "srv-data", SMTP_SERVER, 5 * MIN,
	    smtp_srv_data_start, NULL, smtp_srv_data_bytes, NULL },
	[SMTP_ST_SRV_BDAT] = { "srv-bdat", SMTP_SERVER, 5 * MIN,
	    NULL, NULL, smtp_srv_bdat_bytes, NULL },
	[SMTP_ST_SRV_WAIT] = { "srv-wait", SMTP_SERVER, -1,
	    NULL, NULL, NULL, NULL },
	[SMTP_ST_SRV_TLS] = { "srv-tls", SMTP_SERVER, -1,
	    NULL, NULL, NULL, NULL },
	[SMTP_ST_END] = { "end", SMTP_CLIENT, -1, NULL, NULL },
};

static struct smtp *
engine_new(const struct smtp_cb *cb, void *arg)
{
	struct smtp *s = xcalloc(1, sizeof *s);

	s->cb = *cb;
	s->arg = arg;
	s->linecap = SMTP_REPLY_LINE_MAX;
	buf_init(&s->out);
	buf_init(&s->line);
	buf_init(&s->scratch);
	buf_init(&s->tracebuf);
	buf_init(&s->pend);
	buf_init(&s->tx.body);
	smtp_reply_init(&s->rep);
	smtp_reply_init(&s->txrep);
	smtp_reply_init(&s->endrep);
	return s;
}

struct smtp *
smtp_client_new(const struct smtp_client_opts *o, const struct smtp_cb *cb,
    void *arg)
{
	struct smtp *s = engine_new(cb, arg);

	s->role = SMTP_CLIENT;
	s->o = *o;
	s->tls = o->tls_active;
	s->state = SMTP_ST_GREETING;	/* RFC 5321 4.3.1: wait for it */
	return s;
}

/* The server's options and callbacks; they replace any client ones. */
static void
server_opts(struct smtp *s, const struct smtp_server_opts *o,
    const struct smtp_server_cb *cb, void *arg)
{
	s->scb = *cb;
	memset(&s->cb, 0, sizeof s->cb);
	s->cb.end = cb->end;
	s->cb.starttls = cb->starttls;
	s->cb.trace = cb->trace;
	s->arg = arg;
	s->so = *o;
	if (s->so.hostname == NULL)
		s->so.hostname = "localhost";
	if (s->so.size_max == 0)
		s->so.size_max = SMTP_SRV_SIZE_DEFAULT;
	if (s->so.max_rcpts == 0)
		s->so.max_rcpts = SMTP_SRV_RCPTS_DEFAULT;
	if (s->so.max_errors == 0)
		s->so.max_errors = SMTP_SRV_ERRORS_DEFAULT;
}

struct smtp *
smtp_server_new(const struct smtp_server_opts *o,
    const struct smtp_server_cb *cb, void *arg)
{
	static const struct smtp_cb none;
	struct smtp *s = engine_new(&none, arg);

	server_opts(s, o, cb, arg);
	s->role = SMTP_SERVER;
	s->tls = o->tls_active;
	s->state = SMTP_ST_COMMAND;
	if (o->greeting)
		smtp_enter(s, SMTP_ST_BANNER);
	return s;
}

/* RFC 2645 5.3: same connection, same TLS, now the server; greet. */
void
smtp_srv_reverse(struct smtp *s, const struct smtp_server_opts *o,
    const struct smtp_server_cb *cb, void *arg)
{
	server_opts(s, o, cb, arg);
	/* C-ODMR-5: no STARTTLS and no AUTH after the reversal. */
	s->so.offer_starttls = 0;
	s->so.auth_mechs = NULL;
	s->so.tls_active = s->tls;
	s->ext = 0;
	free(s->mechs);
	s->mechs = NULL;
	smtp_enter(s, SMTP_ST_BANNER);
}

int
smtp_become_server(struct smtp *s, const struct smtp_server_opts *o,
    const struct smtp_server_cb *cb)
{
	if (s->role != SMTP_CLIENT || s->msg != NULL || s->ended ||
	    s->state != SMTP_ST_READY) {
		errno = EINVAL;
		return -1;
	}
	smtp_srv_reverse(s, o, cb, s->arg);
	return 0;
}

int
smtp_atrn(struct smtp *s, const char *domains,
    const struct smtp_server_opts *o, const struct smtp_server_cb *cb)
{
	if (s->role != SMTP_CLIENT || s->msg != NULL || s->ended ||
	    s->state != SMTP_ST_READY) {
		errno = EINVAL;
		return -1;
	}
	s->so = *o;		/* kept for the reversal */
	s->scb = *cb;
	s->atrn_domains = domains;
	smtp_enter(s, SMTP_ST_ATRN);
	return 0;
}

int
smtp_etrn(struct smtp *s, const char *arg)
{
	if (s->role != SMTP_CLIENT || s->msg != NULL || s->ended ||
	    s->state != SMTP_ST_READY || arg == NULL || *arg == '\0' ||
	    strpbrk(arg, " \t\r\n") != NULL) {
		errno = EINVAL;
		return -1;
	}
	s->etrn_arg = arg;
	smtp_enter(s, SMTP_ST_ETRN);
	return 0;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	buf_clear(&s->out);
	buf_clear(&s->line);
	buf_clear(&s->scratch);
	buf_clear(&s->tracebuf);
	smtp_reply_clear(&s->rep);
	smtp_reply_clear(&s->txrep);
	smtp_reply_clear(&s->endrep);
	sasl_free(s->sasl);
	free(s->auth_pending);
	free(s->mechs);
	free(s->rf);
	smtp_srv_forget(s);
	buf_clear(&s->tx.body);
	buf_clear(&s->pend);
	free(s);
}

void
smtp_enter(struct smtp *s, enum smtp_state st)
{
	enum smtp_state old = s->state;

	s->state = st;
	/* The role follows the row: ATRN turns a client into a server on
	 * the same connection (RFC 2645 5.3) just by entering a server row. */
	if (st != SMTP_ST_END)
		s->role = rows[st].role;
	if (s->cb.trace != NULL) {
		buf_reset(&s->tracebuf);
		buf_printf(&s->tracebuf, "%s -> %s", rows[old].name,
		    rows[st].name);
		s->cb.trace(s->arg, SMTP_TRACE_STATE, s->tracebuf.data);
	}
	if (rows[st].enter != NULL)
		rows[st].enter(s);
}

void
smtp_mask(const char *line, int in_auth, struct buf *out)
{
	const char *sp;

	buf_reset(out);
	if (strncasecmp(line, "AUTH ", 5) == 0) {
		/* "AUTH MECH [initial-response]": keep the mechanism. */
		sp = strchr(line + 5, ' ');
		if (sp == NULL) {
			buf_adds(out, line);
			return;
		}
		buf_add(out, line, (size_t)(sp - line));
		buf_adds(out, " ****");
		return;
	}
	if (in_auth && strcmp(line, "*") != 0) {
		buf_adds(out, "****");
		return;
	}
	buf_adds(out, line);
}

void
smtp_trace(struct smtp *s, int dir, const char *line)
{
	if (s->cb.trace == NULL)
		return;
	smtp_mask(line, (s->state == SMTP_ST_AUTH && dir == SMTP_TRACE_OUT) ||
	    (s->state == SMTP_ST_SRV_AUTH && dir == SMTP_TRACE_IN),
	    &s->tracebuf);
	s->cb.trace(s->arg, dir, s->tracebuf.data);
}

void
smtp_send_line(struct smtp *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	buf_reset(&s->scratch);
	buf_reserve(&s->scratch, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(s->scratch.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->scratch.len = (size_t)n;
	smtp_trace(s, SMTP_TRACE_OUT, s->scratch.data);
	buf_add(&s->out, s->scratch.data, s->scratch.len);
	buf_add(&s->out, "\r\n", 2);
}

void
smtp_reply_copy(struct smtp_reply *dst, const struct smtp_reply *src)
{
	smtp_reply_reset(dst);
	dst->code = src->code;
	memcpy(dst->esc, src->esc, sizeof dst->esc);
	dst->local = src->local;
	dst->nlines = src->nlines;
	buf_add(&dst->text, src->text.data ? src->text.data : "",
	    src->text.len);
}

void
smtp_result(struct smtp *s, size_t idx, enum smtp_stage st, int final,
    const struct smtp_reply *r)
{
	struct smtp_result res = { idx, st, final, r };

	if (final)
		s->rf[idx] |= RCPT_FINAL;
	if (s->cb.rcpt != NULL)
		s->cb.rcpt(s->arg, s->msg, &res);
}

/* The transaction is over: report it and forget it. */
void
smtp_tx_report(struct smtp *s, enum smtp_stage st, const struct smtp_reply *r)
{
	const struct smtp_msg *m = s->msg;

	free(s->rf);
	s->rf = NULL;
	s->msg = NULL;
	if (m != NULL && s->cb.done != NULL)
		s->cb.done(s->arg, m, st, r);
}

static void
end_session(struct smtp *s, enum smtp_end_kind kind, const char *why,
    const struct smtp_reply *r, int after_dot)
{
	struct smtp_end e;

	e.kind = kind;
	e.state = rows[s->state].name;
	e.after_dot = after_dot;
	e.reply = r;
	e.why = why;
	s->ended = 1;
	s->stop_input = 1;
	smtp_enter(s, SMTP_ST_END);
	if (s->cb.end != NULL)
		s->cb.end(s->arg, &e);
}

/* Remember how the session ends, say QUIT, end on its reply (or EOF). */
void
smtp_quit_with(struct smtp *s, enum smtp_end_kind kind, const char *why,
    const struct smtp_reply *r)
{
	s->endkind = kind;
	s->endwhy = why;
	if (r != NULL)
		smtp_reply_copy(&s->endrep, r);
	else
		smtp_reply_set(&s->endrep, kind == SMTP_END_OK ? 221 : 451,
		    kind == SMTP_END_OK ? "2.0.0" : "4.0.0", why);
	smtp_enter(s, SMTP_ST_QUIT);
}

static enum smtp_stage
stage_of(enum smtp_state st)
{
	switch (st) {
	case SMTP_ST_MAIL:	return SMTP_AT_MAIL;
	case SMTP_ST_RCPT:	return SMTP_AT_RCPT;
	case SMTP_ST_DATA:	return SMTP_AT_DATA;
	case SMTP_ST_DOT:	return SMTP_AT_DOT;
	default:		return SMTP_AT_NONE;
	}
}

/*
 * The session dies now. Every recipient of an open transaction still
 * without a final result gets one: the 421 itself, or a local 451 (SMTP-29:
 * an unexpected close counts as 451). after_dot marks the SMTP-42 window.
 */
void
smtp_fail(struct smtp *s, enum smtp_end_kind kind, const char *why,
    const struct smtp_reply *r)
{
	struct smtp_reply loc;
	enum smtp_stage st = stage_of(s->state);
	int after_dot = 0;
	size_t i;

	if (s->ended)
		return;
	if (s->state == SMTP_ST_QUIT) {	/* we were leaving anyway */
		end_session(s, s->endkind, s->endwhy, &s->endrep, 0);
		return;
	}
	smtp_reply_init(&loc);
	/* SMTP-42: only once the final dot has left us (the caller drained
	 * the output) can the server have the message. */
	after_dot = s->state == SMTP_ST_DOT && s->dot_sent && s->out.len == 0;
	if (r == NULL || r->code != 421)
		smtp_reply_set(&loc, 451, "4.4.2", after_dot ?
		    "connection lost after the final dot: status unknown" :
		    why);
	else
		smtp_reply_copy(&loc, r);
	if (s->msg != NULL) {
		for (i = 0; i < s->msg->nrcpt; i++)
			if (!(s->rf[i] & RCPT_FINAL))
				smtp_result(s, i, st, 1, &loc);
		free(s->rf);
		s->rf = NULL;
		if (s->cb.done != NULL)
			s->cb.done(s->arg, s->msg, st, &loc);
		s->msg = NULL;
	}
	end_session(s, kind, why, r != NULL ? r : &loc, after_dot);
	smtp_reply_clear(&loc);
}

static void
dispatch(struct smtp *s, const char *line, size_t len)
{
	const char *why = NULL;
	int rc;

	rc = smtp_reply_line(&s->rep, line, len, &why);
	if (rc == 1)
		return;
	if (rc < 0) {
		smtp_fail(s, SMTP_END_PROTOCOL, why, NULL);
		return;
	}
	if (s->rep.code == 421 && s->state != SMTP_ST_QUIT) {
		/* 5321 3.8: 421 may answer anything; the server is gone. */
		smtp_fail(s, SMTP_END_421, "server closing (421)", &s->rep);
	} else if (rows[s->state].on_reply == NULL) {
		smtp_fail(s, SMTP_END_PROTOCOL, "unexpected reply", &s->rep);
	} else {
		rows[s->state].on_reply(s, &s->rep);
	}
	smtp_reply_reset(&s->rep);
}

/*
 * Splits input into CRLF lines, at most linecap octets each, so memory
 * stays bounded whatever the peer sends. A bare LF is a protocol error
 * (SMTP-01), not a line end. A handler may set stop_input (STARTTLS 220,
 * end of session): the rest of this input is dropped (TLS-05).
 */
int
smtp_input(struct smtp *s, const void *data, size_t len)
{
	const char *p = data, *nl;
	size_t n;

	s->stop_input = s->ended;
	if (s->role == SMTP_SERVER && !s->ended) {
		smtp_feed(s, p, len);
		return !s->ended;
	}
	while (len > 0 && !s->stop_input) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		if (s->line.len + n > s->linecap) {
			smtp_fail(s, SMTP_END_PROTOCOL,
			    "reply line longer than 512 octets", NULL);
			break;
		}
		buf_add(&s->line, p, n);
		p += n;
		len -= n;
		if (nl == NULL)
			break;
		if (s->line.len < 2 || s->line.data[s->line.len - 2] != '\r') {
			smtp_fail(s, SMTP_END_PROTOCOL, "bare LF in input",
			    NULL);
			break;
		}
		s->line.len -= 2;
		s->line.data[s->line.len] = '\0';
		smtp_trace(s, SMTP_TRACE_IN, s->line.data);
		dispatch(s, s->line.data, s->line.len);
		buf_reset(&s->line);
		if (s->role == SMTP_SERVER && !s->stop_input) {
			/* ATRN reversed the roles (RFC 2645 5.3): what
			 * follows are commands to the new server. */
			smtp_feed(s, p, len);
			return !s->ended;
		}
	}
	if (s->stop_input)
		buf_reset(&s->line);
	return !s->ended;
}

/* ---- server input ---- */

/* The row reads: a line for command states, raw octets for DATA/BDAT. */
void
smtp_row_line(struct smtp *s, const char *line, size_t len)
{
	if (rows[s->state].on_line != NULL)
		rows[s->state].on_line(s, line, len);
}

#define PEND_MAX	(1024 * 1024)

/*
 * Server input: each row takes what it can; a row that does not read
 * (the caller commits a message, or does a TLS handshake) leaves the rest
 * in s->pend for smtp_srv_resume(): pipelined commands are answered only
 * after the reply they follow (RFC 2920 3.2, SMTP-42). A handler may set
 * stop_input (STARTTLS, end of session): the rest is dropped (TLS-05).
 */
void
smtp_feed(struct smtp *s, const char *p, size_t len)
{
	size_t n;

	s->in_feed++;
	while (len > 0 && !s->stop_input && !s->ended) {
		if (rows[s->state].on_bytes == NULL) {
			if (s->state == SMTP_ST_SRV_TLS)
				break;	/* never for the new session */
			if (s->pend.len + len > PEND_MAX) {
				smtp_srv_close(s, SMTP_END_PROTOCOL, 421,
				    "4.5.0 Too much pipelined input");
				break;
			}
			buf_add(&s->pend, p, len);
			break;
		}
		n = rows[s->state].on_bytes(s, p, len);
		p += n;
		len -= n;
	}
	if (s->stop_input)
		buf_reset(&s->line);
	s->in_feed--;
}

int
smtp_reading(const struct smtp *s)
{
	return !s->ended && (s->role == SMTP_CLIENT ||
	    rows[s->state].on_bytes != NULL);
}

void
smtp_eof(struct smtp *s)
{
	if (s->role == SMTP_SERVER && s->state == SMTP_ST_SRV_WAIT) {
		s->eof_pending = 1;	/* the caller's reply still counts */
		return;
	}
	smtp_fail(s, SMTP_END_EOF, "connection closed by peer", NULL);
}

void
smtp_timeout(struct smtp *s)
{
	if (s->role == SMTP_SERVER && !s->ended) {
		smtp_srv_close(s, SMTP_END_TIMEOUT, 421,
		    "4.4.2 Timeout, closing connection");
		return;
	}
	smtp_fail(s, SMTP_END_TIMEOUT, "timeout", NULL);
}

void
smtp_abort(struct smtp *s, const char *why)
{
	if (s->role == SMTP_SERVER && !s->ended) {
		smtp_srv_close(s, SMTP_END_ABORT, 421,
		    "4.3.2 Service shutting down");
		return;
	}
	smtp_fail(s, SMTP_END_ABORT, why, NULL);
}

long
smtp_timeout_ms(const struct smtp *s)
{
	/* 4.5.3.2.5: while the body is still going out, each block gets
	 * 3 minutes; once it is all written, 10 for the reply (.2.6). */
	if (s->state == SMTP_ST_DOT && s->out.len > 0)
		return 3 * MIN;
	return rows[s->state].timeout;
}

struct buf *
smtp_output(struct smtp *s)
{
	return &s->out;
}

int
smtp_done(const struct smtp *s)
{
	return s->ended;
}

unsigned int
smtp_ext(const struct smtp *s)
{
	return s->ext;
}

uint64_t
smtp_size_max(const struct smtp *s)
{
	return s->size_max;
}

const char *
smtp_auth_mechs(const struct smtp *s)
{
	return s->mechs;
}

const char *
smtp_state_name(const struct smtp *s)
{
	return rows[s->state].name;
}

enum smtp_role
smtp_role(const struct smtp *s)
{
	return s->role;
}

const char *
smtp_auth_user(const struct smtp *s)
{
	return s->auth_user;
}

int
smtp_tls_up(struct smtp *s)
{
	if (s->state == SMTP_ST_SRV_TLS) {
		/* RFC 3207 4.2: the server forgets the EHLO name and all
		 * else it learned; the client speaks first (EHLO). */
		s->tls = 1;
		s->so.offer_starttls = 0;
		smtp_srv_forget(s);
		smtp_enter(s, SMTP_ST_COMMAND);
		return 0;
	}
	if (s->state != SMTP_ST_TLS) {
		errno = EINVAL;
		return -1;
	}
	/* RFC 3207 4.2: forget everything learned in plaintext. */
	s->tls = 1;
	s->ext = 0;
	s->size_max = 0;
	free(s->mechs);
	s->mechs = NULL;
	smtp_enter(s, SMTP_ST_EHLO);
	return 0;
}

int
smtp_quit(struct smtp *s)
{
	if (s->state != SMTP_ST_READY) {
		errno = EINVAL;
		return -1;
	}
	smtp_quit_with(s, SMTP_END_OK, "quit", NULL);
	return 0;
}
