/* SPDX-License-Identifier: ISC */
/*
 * The client rows of the engine's table: tern toward the smarthost
 * (FLUSH-1) and toward an LMTP server (RFC 2033). Each send_* is a row's
 * enter (it may write a command), each on_* consumes the reply to it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/util.h"
#include "smtp_int.h"

/* ---- greeting, EHLO/HELO/LHLO ---- */

void
smtp_cl_on_greeting(struct smtp *s, const struct smtp_reply *r)
{
	if (r->code != 220) {		/* 554: no service here (4.3.1) */
		smtp_quit_with(s, SMTP_END_REFUSED, "greeting refused", r);
		return;
	}
	smtp_enter(s, SMTP_ST_EHLO);
}

void
smtp_cl_send_ehlo(struct smtp *s)
{
	smtp_send_line(s, "%s %s", s->o.lmtp ? "LHLO" : "EHLO", s->o.helo);
}

static int
keyword(const char *line, size_t len, const char *kw, const char **rest)
{
	size_t n = strlen(kw);

	if (len < n || strncasecmp(line, kw, n) != 0)
		return 0;
	if (len > n && line[n] != ' ' && line[n] != '=')
		return 0;
	*rest = line + n + (len > n);
	return 1;
}

static void
ehlo_line(struct smtp *s, const char *l, size_t len)
{
	static const struct { const char *kw; unsigned int bit; } kws[] = {
		{ "PIPELINING", SMTP_EXT_PIPELINING },
		{ "8BITMIME", SMTP_EXT_8BITMIME },
		{ "SMTPUTF8", SMTP_EXT_SMTPUTF8 },
		{ "DSN", SMTP_EXT_DSN },
		{ "ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCED },
		{ "CHUNKING", SMTP_EXT_CHUNKING },
		{ "STARTTLS", SMTP_EXT_STARTTLS },
		{ "ETRN", SMTP_EXT_ETRN },
		{ "ATRN", SMTP_EXT_ATRN },
	};
	const char *rest;
	size_t i;

	for (i = 0; i < sizeof kws / sizeof kws[0]; i++)
		if (keyword(l, len, kws[i].kw, &rest))
			s->ext |= kws[i].bit;
	if (keyword(l, len, "SIZE", &rest)) {
		/* RFC 1870 4: "SIZE" alone or "SIZE 0": no fixed limit. */
		s->ext |= SMTP_EXT_SIZE;
		s->size_max = strtoull(rest, NULL, 10);
	}
	/* "AUTH=" is the pre-4954 form some servers still add; the
	 * standard "AUTH " line wins when both are there. */
	if (keyword(l, len, "AUTH", &rest) &&
	    (l[4] == ' ' || s->mechs == NULL)) {
		s->ext |= SMTP_EXT_AUTH;
		free(s->mechs);
		s->mechs = xstrndup(rest, len - (size_t)(rest - l));
	}
}

/* RFC 5321 4.1.1.1: the first line greets, each further one is a
 * keyword with parameters; keywords in any case. */
static void
parse_ehlo(struct smtp *s, const struct smtp_reply *r)
{
	const char *p = r->text.data, *nl;

	s->ext = 0;
	s->size_max = 0;
	free(s->mechs);
	s->mechs = NULL;
	if (p == NULL || (p = strchr(p, '\n')) == NULL)
		return;
	for (p++; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		ehlo_line(s, p, (size_t)(nl - p));
	}
}

/* After a successful EHLO: STARTTLS, then AUTH, then mail. */
static void
after_hello(struct smtp *s)
{
	if (s->o.starttls && !s->tls) {
		if (!(s->ext & SMTP_EXT_STARTTLS)) {
			/* TLS-07: never a silent plaintext fallback. */
			smtp_quit_with(s, SMTP_END_TLS,
			    "STARTTLS required but not offered", NULL);
			return;
		}
		smtp_enter(s, SMTP_ST_STARTTLS);
		return;
	}
	if (s->o.cred != NULL && !s->authed) {
		smtp_enter(s, SMTP_ST_AUTH);
		return;
	}
	smtp_enter(s, SMTP_ST_READY);
}

void
smtp_cl_on_ehlo(struct smtp *s, const struct smtp_reply *r)
{
	if (r->code == 250) {
		parse_ehlo(s, r);
		after_hello(s);
	} else if ((r->code == 500 || r->code == 502) && !s->o.lmtp) {
		smtp_enter(s, SMTP_ST_HELO);	/* 4.1.1.1 fallback */
	} else {
		smtp_quit_with(s, SMTP_END_REFUSED, "EHLO refused", r);
	}
}

void
smtp_cl_send_helo(struct smtp *s)
{
	smtp_send_line(s, "HELO %s", s->o.helo);
}

void
smtp_cl_on_helo(struct smtp *s, const struct smtp_reply *r)
{
	if (r->code != 250) {
		smtp_quit_with(s, SMTP_END_REFUSED, "HELO refused", r);
		return;
	}
	s->ext = 0;
	after_hello(s);
}

/* ---- STARTTLS (RFC 3207) ---- */

void
smtp_cl_send_starttls(struct smtp *s)
{
	smtp_send_line(s, "STARTTLS");
}

void
smtp_cl_on_starttls(struct smtp *s, const struct smtp_reply *r)
{
	if (r->code != 220) {		/* 454, 501: requeue, no fallback */
		smtp_quit_with(s, SMTP_END_TLS, "STARTTLS refused", r);
		return;
	}
	/* TLS-05 (client mirror of CVE-2011-0411): whatever came after
	 * the 220 in plaintext is an injection; drop it. */
	s->stop_input = 1;
	smtp_enter(s, SMTP_ST_TLS);
	if (s->cb.starttls != NULL)
		s->cb.starttls(s->arg, s);
}

/* ---- AUTH (RFC 4954) through sasl.h ---- */

static int
advertised(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; p != NULL && *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncasecmp(p, name, n) == 0 &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static void
auth_fail(struct smtp *s, const char *why)
{
	struct smtp_reply r;

	smtp_reply_init(&r);
	smtp_reply_set(&r, 530, "5.7.0", why);
	smtp_quit_with(s, SMTP_END_AUTH, why, &r);
	smtp_reply_clear(&r);
}

static int
choose_mech(struct smtp *s, enum sasl_mech *mech)
{
	int clear_ok = s->tls || s->o.plaintext_ok;

	if (!(s->ext & SMTP_EXT_AUTH)) {
		auth_fail(s, "AUTH not offered by the server");
		return -1;
	}
	if (s->o.mech < 0) {
		if (sasl_choose(s->mechs, s->o.oauth, clear_ok, mech) == 0)
			return 0;
		auth_fail(s, "no usable AUTH mechanism offered");
		return -1;
	}
	*mech = (enum sasl_mech)s->o.mech;
	if (!advertised(s->mechs, sasl_mech_name(*mech))) {
		auth_fail(s, "configured AUTH mechanism not offered");
		return -1;
	}
	/* EXT-AUTH-6: never a reusable secret in clear. */
	if (sasl_mech_plaintext(*mech) && !clear_ok) {
		auth_fail(s, "refusing plaintext AUTH without TLS");
		return -1;
	}
	return 0;
}

void
smtp_cl_send_auth(struct smtp *s)
{
	enum sasl_mech mech;
	const char *name;
	char *resp = NULL;

	if (choose_mech(s, &mech) < 0)
		return;
	name = sasl_mech_name(mech);
	if ((s->sasl = sasl_client_new(mech, s->o.cred)) == NULL ||
	    sasl_client_start(s->sasl, &resp) < 0) {
		auth_fail(s, "credentials unusable for this mechanism");
		return;
	}
	s->auth_cancelled = 0;
	/* EXT-AUTH-3: the initial response only if the line fits 512. */
	if (resp != NULL && 5 + strlen(name) + 1 + strlen(resp) + 2 <=
	    SMTP_REPLY_LINE_MAX) {
		smtp_send_line(s, "AUTH %s %s", name, resp);
		free(resp);
		return;
	}
	s->auth_pending = resp;		/* sent on the first "334 " */
	smtp_send_line(s, "AUTH %s", name);
}

static void
auth_done(struct smtp *s, const struct smtp_reply *r)
{
	int rc = sasl_client_finish(s->sasl);

	sasl_free(s->sasl);
	s->sasl = NULL;
	if (rc < 0) {		/* SCRAM: the server never proved itself */
		smtp_quit_with(s, SMTP_END_AUTH,
		    "server did not prove its identity", r);
		return;
	}
	s->authed = 1;
	after_hello(s);
}

void
smtp_cl_on_auth(struct smtp *s, const struct smtp_reply *r)
{
	char *resp = NULL;

	if (r->code == 235) {
		auth_done(s, r);
		return;
	}
	if (r->code != 334 || s->auth_cancelled) {
		/* 535/534/504: configuration; 454: transient (FLUSH-3). */
		free(s->auth_pending);
		s->auth_pending = NULL;
		sasl_free(s->sasl);
		s->sasl = NULL;
		smtp_quit_with(s, SMTP_END_AUTH, "AUTH refused", r);
		return;
	}
	if (s->auth_pending != NULL) {
		smtp_send_line(s, "%s", s->auth_pending);
		free(s->auth_pending);
		s->auth_pending = NULL;
		return;
	}
	/* The challenge is the text of "334 <base64>" (EXT-AUTH-2). */
	if (sasl_client_step(s->sasl, r->text.data ? r->text.data : "",
	    &resp) < 0) {
		s->auth_cancelled = 1;	/* a local error: cancel, 501 next */
		smtp_send_line(s, "*");
		return;
	}
	if (strcmp(resp, "*") == 0)
		s->auth_cancelled = 1;
	smtp_send_line(s, "%s", resp);
	free(resp);
}

/* ---- between transactions ---- */

/*
 * cb->ready may call smtp_send(), which may refuse the message locally and
 * come back here: a trampoline instead of recursion, so a long run of
 * locally refused messages does not grow the stack.
 */
void
smtp_cl_enter_ready(struct smtp *s)
{
	if (s->in_ready) {
		s->ready_again = 1;
		return;
	}
	s->in_ready = 1;
	do {
		s->ready_again = 0;
		if (s->cb.ready != NULL)
			s->cb.ready(s->arg, s);
	} while (s->ready_again && s->state == SMTP_ST_READY && !s->ended);
	s->in_ready = 0;
}

void
smtp_cl_send_rset(struct smtp *s)
{
	smtp_send_line(s, "RSET");
}

void
smtp_cl_on_rset(struct smtp *s, const struct smtp_reply *r)
{
	struct smtp_reply keep;

	smtp_reply_init(&keep);
	smtp_reply_copy(&keep, &s->txrep);
	if (r->code / 100 != 2) {
		smtp_tx_report(s, s->txstage, &keep);
		smtp_quit_with(s, SMTP_END_PROTOCOL, "RSET refused", r);
	} else {
		smtp_tx_report(s, s->txstage, &keep);
		smtp_enter(s, SMTP_ST_READY);
	}
	smtp_reply_clear(&keep);
}

void
smtp_cl_send_quit(struct smtp *s)
{
	smtp_send_line(s, "QUIT");
}

void
smtp_cl_on_quit(struct smtp *s, const struct smtp_reply *r)
{
	/* 4.1.1.10: any reply to QUIT ends it. A clean QUIT reports the
	 * 221; otherwise endrep keeps why we were leaving. */
	if (s->endkind == SMTP_END_OK)
		smtp_reply_copy(&s->endrep, r);
	smtp_fail(s, s->endkind, s->endwhy, &s->endrep);
}

/* ---- ETRN (RFC 1985): one request, its reply to the caller ---- */

void
smtp_cl_send_etrn(struct smtp *s)
{
	smtp_send_line(s, "ETRN %s", s->etrn_arg);
}

/* Any other reply is the caller's to judge (250-253 started, 251 nothing
 * waiting, 458 later, 459 not allowed, ...); the session stays ready. */
void
smtp_cl_on_etrn(struct smtp *s, const struct smtp_reply *r)
{
	/* A 421 never gets here: the engine ends the session on it. */
	s->etrn_arg = NULL;
	if (s->cb.etrn != NULL)
		s->cb.etrn(s->arg, s, r);
	if (!s->ended && s->state == SMTP_ST_ETRN)
		smtp_enter(s, SMTP_ST_READY);
}
