/* SPDX-License-Identifier: ISC */
/*
 * The server rows of the engine's table: tern's listeners (submission on
 * 127.0.0.1:2525, the ETRN callback listener), sendmail -bs, and ATRN
 * after the role reversal (RFC 2645 5.3). This file reads command lines
 * (capped: RFC 5321 4.5.3.1.4), answers the commands (4.1.1) in order
 * (RFC 2920 3.2), keeps the envelope of the transaction and asks the
 * caller's callbacks for verdicts. DATA/BDAT content is data.c's, AUTH is
 * srv_auth.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "smtp_int.h"

#define CMD_CAP		SMTP_CMD_LINE_MAX		/* incl. CRLF */
#define AUTH_CAP	(SMTP_AUTH_LINE_MAX + 2)
#define TEXT_MAX	480	/* reply text; the line stays < 512 */

/* ---- replies ---- */

/* "X.Y.Z " at the start of t, X the reply class (RFC 3463 2). */
static int
has_esc(const char *t, int cls)
{
	int part, n;

	if (t[0] != '0' + cls || t[1] != '.')
		return 0;
	t += 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; t[n] >= '0' && t[n] <= '9'; n++)
			;
		if (n < 1 || n > 3 || (n > 1 && t[0] == '0'))
			return 0;
		t += n;
		if (*t != (part == 0 ? '.' : ' ') && !(part == 1 && !*t))
			return 0;
		t++;
	}
	return 1;
}

/*
 * One reply from text that may come from a callback: control characters
 * become '?', the length is capped, and a missing enhanced status code is
 * added (EXT-ESC-1), so nothing the caller says can break the framing.
 */
void
smtp_srv_say(struct smtp *s, int code, const char *text)
{
	char t[TEXT_MAX + 1];
	size_t i;

	snprintf(t, sizeof t, "%s", text != NULL ? text : "");
	for (i = 0; t[i] != '\0'; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			t[i] = '?';
	if (code / 100 == 3 || has_esc(t, code / 100))
		smtp_send_line(s, "%d %s", code, t);
	else
		smtp_send_line(s, "%d %d.0.0 %s", code, code / 100, t);
}

void
smtp_srv_reply(struct smtp *s, int code, const char *text)
{
	smtp_srv_say(s, code, text);
}

/* A refused command; too many of them end the session (a client out of
 * sync, or a scanner). */
void
smtp_srv_error(struct smtp *s, int code, const char *text)
{
	smtp_srv_say(s, code, text);
	if (++s->nerrors >= s->so.max_errors)
		smtp_srv_close(s, SMTP_END_PROTOCOL, 421,
		    "4.7.0 Too many errors, closing connection");
}

/* The last reply (221 or 421, 5321 3.8), then cb->end. text is
 * "X.Y.Z words"; the host name goes after the code (4.2, 3.8). */
void
smtp_srv_close(struct smtp *s, enum smtp_end_kind kind, int code,
    const char *text)
{
	struct smtp_reply r;
	const char *sp = strchr(text, ' ');

	if (s->ended || sp == NULL)
		return;
	smtp_send_line(s, "%d %.*s %s %s", code, (int)(sp - text), text,
	    s->so.hostname, sp + 1);
	smtp_reply_init(&r);
	smtp_reply_set(&r, code, NULL, text);
	smtp_fail(s, kind, kind == SMTP_END_OK ? "quit" : sp + 1, &r);
	smtp_reply_clear(&r);
}

/* ---- session state ---- */

void
smtp_srv_tx_reset(struct smtp *s)
{
	struct smtp_srv_tx *t = &s->tx;
	size_t i;

	free(t->from);
	free(t->envid);
	free(t->ret);
	free(t->auth);
	for (i = 0; i < t->nrcpt; i++) {
		free((char *)t->rcpt[i].addr);
		free((char *)t->rcpt[i].notify);
		free((char *)t->rcpt[i].orcpt);
	}
	free(t->rcpt);
	buf_clear(&t->body);
	memset(t, 0, sizeof *t);
	buf_init(&t->body);
	memset(&s->env, 0, sizeof s->env);
}

/* RFC 3207 4.2 (and smtp_free): forget what the client told us. */
void
smtp_srv_forget(struct smtp *s)
{
	smtp_srv_tx_reset(s);
	smtp_srv_auth_clear(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = 0;
	free(s->auth_user);
	s->auth_user = NULL;
	s->srv_authed = 0;
}

/* Serves what was pipelined while the engine waited for the caller. */
void
smtp_srv_resume(struct smtp *s)
{
	struct buf b = s->pend;

	buf_init(&s->pend);
	s->stop_input = 0;
	if (b.len > 0)
		smtp_feed(s, b.data, b.len);
	buf_clear(&b);
	if (s->eof_pending && !s->ended && s->state != SMTP_ST_SRV_WAIT)
		smtp_fail(s, SMTP_END_EOF, "connection closed by peer", NULL);
}

int
smtp_server_reply(struct smtp *s, int code, const char *text)
{
	if (s->ended || s->state != SMTP_ST_SRV_WAIT || code < 200 ||
	    code > 599) {
		errno = EINVAL;
		return -1;
	}
	if (text == NULL)
		text = code / 100 == 2 ? "2.0.0 Ok: queued" :
		    code / 100 == 4 ? "4.3.0 Try again later" :
		    "5.0.0 Message refused";
	smtp_srv_say(s, code, text);
	smtp_srv_tx_reset(s);
	smtp_enter(s, SMTP_ST_COMMAND);
	if (s->in_feed == 0)
		smtp_srv_resume(s);
	return 0;
}

/* ---- the line reader ---- */

static int
auth_prefix(const struct buf *line, const char *p, size_t n)
{
	char h[5];
	size_t k = 0, i;

	for (i = 0; i < line->len && k < 5; i++)
		h[k++] = line->data[i];
	for (i = 0; i < n && k < 5; i++)
		h[k++] = p[i];
	return k == 5 && strncasecmp(h, "AUTH ", 5) == 0;
}

static void
line_done(struct smtp *s)
{
	size_t len;

	if (s->ldiscard) {
		s->ldiscard = 0;
		smtp_trace(s, SMTP_TRACE_IN, "(overlong line discarded)");
		smtp_srv_auth_end(s);
		smtp_srv_error(s, 500, "5.5.6 Line too long");
		return;
	}
	len = s->line.len - 2;
	s->line.data[len] = '\0';
	smtp_trace(s, SMTP_TRACE_IN, s->line.data);
	smtp_row_line(s, s->line.data, len);
}

/*
 * Command and AUTH lines. Only CRLF ends a line (SMTP-01): a bare LF stays
 * in the line and the parser refuses it. A line over the cap is dropped as
 * it comes, up to its CRLF, so memory stays at the cap whatever the client
 * sends (4.5.3.1.4); AUTH lines may be 12288 octets (RFC 4954 4). Returns
 * after each complete line: the next octets may belong to another row.
 */
size_t
smtp_srv_read_line(struct smtp *s, const char *p, size_t len)
{
	const char *nl;
	size_t i = 0, n, cap;
	char prev;

	while (i < len) {
		nl = memchr(p + i, '\n', len - i);
		n = nl != NULL ? (size_t)(nl - (p + i)) + 1 : len - i;
		prev = n >= 2 ? p[i + n - 2] : s->lastc;
		cap = s->state == SMTP_ST_SRV_AUTH ||
		    auth_prefix(&s->line, p + i, n) ? AUTH_CAP : CMD_CAP;
		if (!s->ldiscard && s->line.len + n > cap) {
			s->ldiscard = 1;
			buf_reset(&s->line);
		}
		if (!s->ldiscard)
			buf_add(&s->line, p + i, n);
		s->lastc = p[i + n - 1];
		i += n;
		if (nl != NULL && prev == '\r') {
			s->lastc = '\0';
			line_done(s);
			buf_reset(&s->line);
			return i;
		}
	}
	return i;
}

/* ---- commands ---- */

void
smtp_srv_send_banner(struct smtp *s)
{
	/* 4.3.1: the greeting names us; no enhanced code (RFC 2034 3). */
	smtp_send_line(s, "220 %s ESMTP tern", s->so.hostname);
	smtp_enter(s, SMTP_ST_COMMAND);
}

/* EHLO/HELO: a new session state like RSET (SMTP-21); AUTH stays. */
static void
hello(struct smtp *s, const struct smtp_cmd *c)
{
	const char *kw[12];
	size_t n = 0, i;

	smtp_srv_tx_reset(s);
	free(s->helo);
	s->helo = xstrdup(c->arg);
	s->esmtp = c->verb == SMTP_CMD_EHLO;
	if (!s->esmtp) {
		smtp_send_line(s, "250 %s", s->so.hostname);
		return;
	}
	kw[n++] = "PIPELINING";
	kw[n++] = "8BITMIME";
	kw[n++] = "SMTPUTF8";
	kw[n++] = "ENHANCEDSTATUSCODES";
	kw[n++] = "DSN";
	kw[n++] = "CHUNKING";
	if (s->so.offer_starttls && !s->tls)	/* TLS-04 */
		kw[n++] = "STARTTLS";
	smtp_send_line(s, "250-%s", s->so.hostname);
	smtp_send_line(s, "250-SIZE %llu", (unsigned long long)s->so.size_max);
	for (i = 0; i < n; i++)
		smtp_send_line(s, "250%c%s", i + 1 == n &&
		    !smtp_srv_auth_offered(s) ? ' ' : '-', kw[i]);
	if (smtp_srv_auth_offered(s))		/* EXT-AUTH-6 */
		smtp_send_line(s, "250 AUTH %s", s->so.auth_mechs);
}

static int
has_ctl(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

static int
is8(const char *p)
{
	return smtp_8bit(p, strlen(p));
}

/* xtext value into a malloc'd string, or NULL (EXT-DSN-2). */
static char *
xtext(const char *v, size_t max)
{
	struct buf b = BUF_INIT;

	if (v == NULL || smtp_xtext_decode(v, &b) < 0 || b.len > max ||
	    has_ctl(b.data != NULL ? b.data : "")) {
		buf_clear(&b);
		return NULL;
	}
	return b.data != NULL ? buf_take(&b) : xstrdup("");
}

/* MAIL parameters (RFC 1870, 6152, 6531, 3461, 4954 5). Returns 0, or
 * the reply code with *why. */
static int
mail_params(struct smtp *s, const struct smtp_cmd *c, const char **why)
{
	struct smtp_srv_tx *t = &s->tx;
	const struct smtp_param *pm;
	unsigned long long size;
	size_t i;

	*why = "5.5.4 Invalid parameter value";
	for (i = 0; i < c->nparam; i++) {
		pm = &c->param[i];
		if (strcasecmp(pm->key, "SIZE") == 0) {
			if (pm->value == NULL || strlen(pm->value) > 20 ||
			    pm->value[strspn(pm->value, "0123456789")])
				return 501;
			size = strtoull(pm->value, NULL, 10);
			if (size > s->so.size_max) {	/* EXT-SIZE-3 */
				*why = "5.3.4 Message size exceeds fixed "
				    "maximum message size";
				return 552;
			}
		} else if (strcasecmp(pm->key, "BODY") == 0) {
			if (pm->value == NULL ||
			    (strcasecmp(pm->value, "7BIT") != 0 &&
			    strcasecmp(pm->value, "8BITMIME") != 0))
				return 501;
			t->body8 = strcasecmp(pm->value, "8BITMIME") == 0;
		} else if (strcasecmp(pm->key, "SMTPUTF8") == 0) {
			if (pm->value != NULL)
				return 501;
			t->utf8 = 1;
		} else if (strcasecmp(pm->key, "RET") == 0) {
			if (pm->value == NULL ||
			    (strcasecmp(pm->value, "FULL") != 0 &&
			    strcasecmp(pm->value, "HDRS") != 0))
				return 501;
			t->ret = xstrdup(pm->value);
		} else if (strcasecmp(pm->key, "ENVID") == 0) {
			if ((t->envid = xtext(pm->value, 100)) == NULL)
				return 501;
		} else if (strcasecmp(pm->key, "AUTH") == 0) {
			/* EXT-AUTH-8: accepted from anyone, kept only
			 * for an authenticated client. */
			free(t->auth);
			t->auth = pm->value != NULL &&
			    strcmp(pm->value, "<>") == 0 ? xstrdup("") :
			    xtext(pm->value, 500);
			if (t->auth == NULL)
				return 501;
		} else {
			/* 4.1.1.11 */
			*why = "5.5.4 Unsupported parameter";
			return 555;
		}
	}
	return 0;
}

/* Applies a callback's verdict; returns 1 when accepted. */
static int
verdict(struct smtp *s, const struct smtp_verdict *v, int ok,
    const char *oktext)
{
	if (v->code == 0 || v->code / 100 == 2) {
		smtp_srv_say(s, v->code ? v->code : ok,
		    v->text[0] ? v->text : oktext);
		return 1;
	}
	if (v->code < 400 || v->code > 599)
		smtp_srv_say(s, 451, "4.3.0 Local error in processing");
	else
		smtp_srv_say(s, v->code, v->text[0] ? v->text : "Refused");
	return 0;
}

static void
mail(struct smtp *s, const struct smtp_cmd *c)
{
	struct smtp_verdict v = { 0, "" };
	const char *why;
	int code;

	if (s->helo == NULL) {			/* SMTP-21 */
		smtp_srv_error(s, 503, "5.5.1 Send EHLO/HELO first");
		return;
	}
	if (s->tx.open) {				/* SMTP-22 */
		smtp_srv_error(s, 503, "5.5.1 Nested MAIL command");
		return;
	}
	if (s->so.auth_required && !s->srv_authed) {	/* SUB-03 */
		smtp_srv_error(s, 530, "5.7.0 Authentication required");
		return;
	}
	smtp_srv_tx_reset(s);		/* 4.1.1.2: clear buffers */
	if (has_ctl(c->arg)) {
		smtp_srv_error(s, 501, "5.1.7 Bad sender address syntax");
		return;
	}
	if ((code = mail_params(s, c, &why)) != 0) {
		smtp_srv_tx_reset(s);		/* no state change */
		smtp_srv_error(s, code, why);
		return;
	}
	if (is8(c->arg) && !s->tx.utf8) {	/* EXT-UTF8-4 */
		smtp_srv_tx_reset(s);
		smtp_srv_error(s, 550, "5.6.7 SMTPUTF8 required for a "
		    "non-ASCII address");
		return;
	}
	if (s->scb.mail_from != NULL)
		s->scb.mail_from(s->arg, s, c->arg, c, &v);
	if (!verdict(s, &v, 250, "2.1.0 Ok")) {
		smtp_srv_tx_reset(s);
		return;
	}
	s->tx.from = xstrdup(c->arg);
	s->tx.open = 1;
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static int
notify_ok(const char *v)
{
	char buf[64], *tok, *save = NULL;
	int never = 0, n = 0;

	if (v == NULL || strlen(v) >= sizeof buf)
		return 0;
	memcpy(buf, v, strlen(v) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save), n++) {
		if (strcasecmp(tok, "NEVER") == 0)
			never = 1;
		else if (strcasecmp(tok, "SUCCESS") != 0 &&
		    strcasecmp(tok, "FAILURE") != 0 &&
		    strcasecmp(tok, "DELAY") != 0)
			return 0;
	}
	return n > 0 && (!never || n == 1) && v[strlen(v) - 1] != ',';
}

/* ORCPT=addr-type;xtext into "type;decoded" (RFC 3461 4.2). */
static char *
orcpt(const char *v)
{
	const char *semi;
	char *dec, *r;

	if (v == NULL || strlen(v) > 500 || (semi = strchr(v, ';')) == NULL ||
	    semi == v)
		return NULL;
	if ((dec = xtext(semi + 1, 500)) == NULL)
		return NULL;
	r = xasprintf("%.*s;%s", (int)(semi - v), v, dec);
	free(dec);
	return r;
}

static int
rcpt_params(const struct smtp_cmd *c, struct smtp_rcpt *r, const char **why)
{
	size_t i;

	*why = "5.5.4 Invalid parameter value";
	for (i = 0; i < c->nparam; i++) {
		const struct smtp_param *pm = &c->param[i];

		if (strcasecmp(pm->key, "NOTIFY") == 0) {
			if (!notify_ok(pm->value))
				return 501;
			r->notify = xstrdup(pm->value);
		} else if (strcasecmp(pm->key, "ORCPT") == 0) {
			if ((r->orcpt = orcpt(pm->value)) == NULL)
				return 501;
		} else {
			*why = "5.5.4 Unsupported parameter";
			return 555;
		}
	}
	return 0;
}

static void
rcpt_free(struct smtp_rcpt *r)
{
	free((char *)r->addr);
	free((char *)r->notify);
	free((char *)r->orcpt);
}

static void
rcpt_keep(struct smtp_srv_tx *t, struct smtp_rcpt *r)
{
	if (t->nrcpt == t->rcptcap) {
		t->rcptcap = t->rcptcap ? t->rcptcap * 2 : 8;
		t->rcpt = xreallocarray(t->rcpt, t->rcptcap, sizeof *t->rcpt);
	}
	t->rcpt[t->nrcpt++] = *r;
}

static void
rcpt(struct smtp *s, const struct smtp_cmd *c)
{
	struct smtp_verdict v = { 0, "" };
	struct smtp_rcpt r = { NULL, NULL, NULL };
	const char *why, *to = c->arg;
	int code;

	if (!s->tx.open) {			/* SMTP-22 */
		smtp_srv_error(s, 503, "5.5.1 Need MAIL command");
		return;
	}
	if (s->tx.nrcpt >= s->so.max_rcpts) {	/* 4.5.3.1.10 */
		smtp_srv_say(s, 452, "4.5.3 Too many recipients");
		return;
	}
	if (*to == '\0' || has_ctl(to)) {
		smtp_srv_error(s, 501, "5.1.3 Bad recipient address "
		    "syntax");
		return;
	}
	if (is8(to) && !s->tx.utf8) {		/* EXT-UTF8-4 */
		smtp_srv_error(s, 553, "5.6.7 SMTPUTF8 required for a "
		    "non-ASCII address");
		return;
	}
	if ((code = rcpt_params(c, &r, &why)) != 0) {
		rcpt_free(&r);
		smtp_srv_error(s, code, why);
		return;
	}
	if (strcasecmp(to, "postmaster") == 0)	/* SMTP-24 */
		to = "postmaster";
	if (s->scb.rcpt_to != NULL)
		s->scb.rcpt_to(s->arg, s, to, c, &v);
	if (!verdict(s, &v, 250, "2.1.5 Ok")) {
		rcpt_free(&r);
		return;
	}
	r.addr = xstrdup(to);
	rcpt_keep(&s->tx, &r);
}

static void
data(struct smtp *s)
{
	if (!s->tx.open) {
		smtp_srv_error(s, 503, "5.5.1 Need MAIL command");
		return;
	}
	if (s->tx.bdat) {				/* EXT-BDAT-2 */
		smtp_srv_error(s, 503, "5.5.1 DATA after BDAT");
		return;
	}
	/* SMTP-30, EXT-PIPE-5: a 354 only after an accepted RCPT. */
	if (s->tx.nrcpt == 0) {
		smtp_srv_say(s, 554, "5.5.1 No valid recipients");
		return;
	}
	smtp_send_line(s, "354 End data with <CR><LF>.<CR><LF>");
	smtp_enter(s, SMTP_ST_SRV_DATA);
}

static void
starttls(struct smtp *s)
{
	if (s->tls) {				/* TLS-04 */
		smtp_srv_error(s, 503, "5.5.1 TLS already active");
		return;
	}
	if (!s->so.offer_starttls) {
		smtp_srv_error(s, 502, "5.5.1 STARTTLS not available");
		return;
	}
	smtp_srv_say(s, 220, "2.0.0 Ready to start TLS");
	/* TLS-05 (CVE-2011-0411): whatever was read after this line is
	 * plaintext injection; it never reaches the TLS session. */
	s->stop_input = 1;
	buf_reset(&s->pend);
	smtp_enter(s, SMTP_ST_SRV_TLS);
	if (s->cb.starttls != NULL)
		s->cb.starttls(s->arg, s);
}

static int
verb_is(const char *line, size_t len, const char *verb)
{
	size_t n = strlen(verb);

	return len >= n && strncasecmp(line, verb, n) == 0 &&
	    (len == n || line[n] == ' ');
}

static void
command(struct smtp *s, const struct smtp_cmd *c)
{
	switch (c->verb) {
	case SMTP_CMD_EHLO:
	case SMTP_CMD_HELO:
		hello(s, c);
		return;
	case SMTP_CMD_MAIL:
		mail(s, c);
		return;
	case SMTP_CMD_RCPT:
		rcpt(s, c);
		return;
	case SMTP_CMD_DATA:
		data(s);
		return;
	case SMTP_CMD_BDAT:
		smtp_srv_bdat_start(s, c);
		return;
	case SMTP_CMD_RSET:			/* SMTP-26 */
		smtp_srv_tx_reset(s);
		smtp_srv_say(s, 250, "2.0.0 Ok");
		return;
	case SMTP_CMD_NOOP:
		smtp_srv_say(s, 250, "2.0.0 Ok");
		return;
	case SMTP_CMD_VRFY:			/* SMTP-27 */
		smtp_srv_say(s, 252, "2.0.0 Cannot VRFY user, but "
		    "will accept message and attempt delivery");
		return;
	case SMTP_CMD_STARTTLS:
		starttls(s);
		return;
	case SMTP_CMD_QUIT:			/* SMTP-28 */
		smtp_srv_close(s, SMTP_END_OK, 221, "2.0.0 Bye");
		return;
	case SMTP_CMD_ETRN:	/* SUB-06, ETRN-06, ODMR-12: never offered */
	case SMTP_CMD_ATRN:
		smtp_srv_error(s, 502, "5.5.1 Command not implemented");
		return;
	default:			/* LHLO: we are no LMTP server */
		smtp_srv_error(s, 500, "5.5.1 Command unrecognized");
		return;
	}
}

void
smtp_srv_on_command(struct smtp *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	const char *why = NULL;
	int rc;

	if (verb_is(line, len, "HELP")) {		/* SMTP-25 */
		smtp_srv_say(s, 214, "2.0.0 See RFC 5321; tern "
		    "speaks EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT "
		    "VRFY STARTTLS AUTH");
		return;
	}
	if (verb_is(line, len, "AUTH")) {	/* may be up to 12288 octets */
		smtp_srv_auth(s, line, len);
		return;
	}
	if ((rc = smtp_parse_command(line, len, &c, &why)) != 0) {
		smtp_srv_error(s, rc, why);
		return;
	}
	command(s, &c);
}

/* ---- ATRN: the customer's side of the role reversal (RFC 2645) ---- */

void
smtp_srv_send_atrn(struct smtp *s)
{
	if (s->atrn_domains != NULL && *s->atrn_domains != '\0')
		smtp_send_line(s, "ATRN %s", s->atrn_domains);
	else
		smtp_send_line(s, "ATRN");
}

void
smtp_srv_on_atrn(struct smtp *s, const struct smtp_reply *r)
{
	struct smtp_server_opts o;
	struct smtp_server_cb cb;

	s->atrn_domains = NULL;
	if (r->code != 250) {	/* 453 no mail, 450/451, 502, 530 */
		smtp_quit_with(s, SMTP_END_REFUSED, "ATRN refused", r);
		return;
	}
	o = s->so;		/* smtp_atrn() kept them */
	cb = s->scb;
	smtp_srv_reverse(s, &o, &cb, s->arg);
}
