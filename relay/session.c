/* SPDX-License-Identifier: ISC */
/* One smarthost session: the engine's callbacks turned into queue commits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../net/conn.h"
#include "../queue/queue.h"
#include "../sasl/sasl.h"
#include "../smtp/smtp.h"
#include "../tls/tls.h"
#include "oauth.h"
#include "outcome.h"
#include "secret.h"
#include "session.h"

#define CONNECT_TIMEOUT_MS	30000
#define TLS_TIMEOUT_MS		60000

struct sess {
	const struct conf		*cf;
	struct queue			*q;
	const struct target		*tg;
	const uint64_t			*ids;
	size_t				 n, next;
	relay_report_fn			 report;
	void				*arg;
	struct relay_result		*res;
	struct conn			*conn;
	struct tls_config		*tc;
	/* the message in flight */
	int				 busy;
	struct queue_env		 env;
	struct buf			 body;
	struct smtp_rcpt		*rcpt;
	size_t				*map;	/* rcpt -> env.rcpt index */
	char				**notify;
	struct smtp_msg			 msg;
	struct queue_outcome		*out;	/* verdicts, committed at done */
	size_t				 nout;
	unsigned int			 handed;	/* messages settled */
	int				 auth_failed;	/* SMTP_END_AUTH */
	char				 why[512];
};

static const char *
relay_name(const struct sess *s)
{
	return s->conn ? conn_peer(s->conn) : s->tg->host ? s->tg->host :
	    s->tg->unix_path;
}

static char *
notify_text(unsigned int n)
{
	struct buf b = BUF_INIT;

	if (n == 0)
		return NULL;
	if (n & QUEUE_NOTIFY_NEVER)
		return xstrdup("NEVER");
	if (n & QUEUE_NOTIFY_SUCCESS)
		buf_adds(&b, "SUCCESS,");
	if (n & QUEUE_NOTIFY_FAILURE)
		buf_adds(&b, "FAILURE,");
	if (n & QUEUE_NOTIFY_DELAY)
		buf_adds(&b, "DELAY,");
	b.data[--b.len] = '\0';
	return buf_take(&b);
}

static void
msg_release(struct sess *s)
{
	size_t i;

	for (i = 0; i < s->msg.nrcpt; i++)
		free(s->notify[i]);
	for (i = 0; i < s->nout; i++)
		free((char *)s->out[i].reply);
	free(s->out);
	s->out = NULL;
	s->nout = 0;
	free(s->notify);
	free(s->rcpt);
	free(s->map);
	s->notify = NULL;
	s->rcpt = NULL;
	s->map = NULL;
	memset(&s->msg, 0, sizeof s->msg);
	queue_env_clear(&s->env);
	buf_reset(&s->body);
	s->busy = 0;
}

/* Loads one message with its pending recipients; 0, or -1 to skip it. */
static int
msg_load(struct sess *s, uint64_t id)
{
	size_t i, n = 0;

	if (queue_get(s->q, id, &s->env) == -1)
		return -1;
	if (s->env.flags & QUEUE_F_HELD)
		goto skip;
	s->rcpt = xcalloc(s->env.nrcpt, sizeof *s->rcpt);
	s->map = xcalloc(s->env.nrcpt, sizeof *s->map);
	s->notify = xcalloc(s->env.nrcpt, sizeof *s->notify);
	s->out = xcalloc(s->env.nrcpt, sizeof *s->out);
	for (i = 0; i < s->env.nrcpt; i++) {
		if (s->env.rcpt[i].state != QUEUE_PENDING)
			continue;
		s->rcpt[n].addr = s->tg->rcpt_as ? s->tg->rcpt_as :
		    s->env.rcpt[i].addr;
		s->rcpt[n].orcpt = s->env.rcpt[i].orcpt;
		s->notify[n] = notify_text(s->env.rcpt[i].notify);
		s->rcpt[n].notify = s->notify[n];
		s->map[n++] = i;
	}
	s->msg.nrcpt = n;
	if (n == 0 || queue_body(s->q, id, &s->body) == -1)
		goto skip;
	s->msg.from = s->env.sender;
	s->msg.rcpt = s->rcpt;
	s->msg.envid = s->env.envid;
	s->msg.ret = s->env.ret == QUEUE_RET_FULL ? "FULL" :
	    s->env.ret == QUEUE_RET_HDRS ? "HDRS" : NULL;
	s->msg.utf8 = (s->env.flags & QUEUE_F_SMTPUTF8) != 0;
	s->msg.body = s->body.data;
	s->msg.len = s->body.len;
	s->busy = 1;
	return 0;
skip:
	msg_release(s);
	return -1;
}

static void
on_ready(void *arg, struct smtp *smtp)
{
	struct sess *s = arg;

	while (s->next < s->n && !relay_stop) {
		uint64_t id = s->ids[s->next++];

		if (msg_load(s, id) == 0 && smtp_send(smtp, &s->msg) == 0)
			return;
		msg_release(s);
		/* Unreadable or not sendable now: not again at once. */
		queue_schedule(s->q, id, clock_wall() +
		    outcome_backoff(s->cf, 1));
	}
	smtp_quit(smtp);
}

static void
report(struct sess *s, const char *addr, const char *status,
    const char *reply)
{
	char id[QUEUE_ID_LEN + 1], *line;

	line = xasprintf("%s: to=<%s> relay=%s delay=%.1f status=%s (%s)",
	    queue_id_str(s->env.id, id), addr, relay_name(s),
	    (double)(clock_wall() - s->env.queued_at), status, reply);
	/* The caller shows it (tern flush prints, ternd logs), or we log. */
	if (s->report != NULL)
		s->report(s->arg, line);
	else
		log_info("%s", line);
	free(line);
}

static void
on_rcpt(void *arg, const struct smtp_msg *m, const struct smtp_result *r)
{
	static const char *const names[] = { "sent", "deferred", "bounced",
	    "deferred" };
	struct sess *s = arg;
	struct buf text = BUF_INIT;
	enum outcome o;
	enum queue_rcpt_state st;
	size_t i;

	if (!r->final || r->idx >= s->msg.nrcpt)
		return;
	i = s->map[r->idx];
	smtp_reply_format(r->reply, &text);
	o = outcome_of(r->reply->code, r->reply->local);
	st = o == OUTCOME_SENT ? QUEUE_SENT : o == OUTCOME_FAIL ?
	    QUEUE_FAILED : QUEUE_PENDING;
	if (o == OUTCOME_SENT)
		s->res->sent++;
	else if (o == OUTCOME_FAIL)
		s->res->failed++;
	else
		s->res->deferred++;
	report(s, m->rcpt[r->idx].addr, names[o], text.data);
	/* Kept for the commit at the end of the transaction, which follows
	 * the reply that settles it at once. A line lost before then loses
	 * no mail: the verdicts are asked for again. */
	if (o != OUTCOME_RETRY && s->nout < s->env.nrcpt) {
		s->out[s->nout].idx = (unsigned int)i;
		s->out[s->nout].state = st;
		s->out[s->nout].reply = buf_take(&text);
		s->out[s->nout++].tempfail = o == OUTCOME_DEFER;
	}
	buf_clear(&text);
}

static void
on_done(void *arg, const struct smtp_msg *m, enum smtp_stage st,
    const struct smtp_reply *r)
{
	struct sess *s = arg;
	int gone = 0;

	(void)m;
	(void)st;
	(void)r;
	if (!s->busy)
		return;
	/* One durable commit records every verdict of the transaction and,
	 * when all were sent, removes the message (the exactly-once promise:
	 * "sent" and the 250 are committed together). */
	if (s->nout > 0 && queue_record(s->q, s->env.id, s->out, s->nout,
	    clock_wall(), 0, &gone) == -1)
		log_warnx("%s", queue_error(s->q));
	else if (!gone && outcome_settle(s->cf, s->q, s->env.id,
	    relay_name(s), clock_wall()) == -1)
		log_warnx("%s", queue_error(s->q));
	s->res->messages++;
	if (++s->handed % 16 == 0)
		queue_trim(s->q);	/* a flat RSS over a big queue */
	msg_release(s);
}

static void
on_starttls(void *arg, struct smtp *smtp)
{
	struct sess *s = arg;

	(void)smtp;
	conn_want_tls(s->conn, s->tc, s->tg->host);
}

static void
on_end(void *arg, const struct smtp_end *e)
{
	struct sess *s = arg;
	struct buf text = BUF_INIT;

	if (e->kind == SMTP_END_OK)
		return;
	s->auth_failed = e->kind == SMTP_END_AUTH;
	if (e->reply != NULL)
		smtp_reply_format(e->reply, &text);
	snprintf(s->why, sizeof s->why, "%s: %s%s%s", relay_name(s), e->why,
	    text.len ? ": " : "", text.len ? text.data : "");
	if (e->after_dot)
		log_warnx("%s (connection lost after the final dot: the "
		    "message may arrive twice, RFC 5321 6.1)", s->why);
	buf_clear(&text);
}

static void
on_trace(void *arg, int dir, const char *line)
{
	struct sess *s = arg;

	log_debug("%s %c %s", relay_name(s), dir, line);
}

/* Connection-level trouble: no attempt counted, the smarthost backs off. */
static void
postpone(struct sess *s)
{
	struct buf b = BUF_INIT;
	char key[300];
	unsigned int fails = 0;
	int64_t when;
	size_t i;

	snprintf(key, sizeof key, "fail:%s", s->tg->name ? s->tg->name : "");
	if (queue_meta_get(s->q, key, &b) == 0)
		fails = (unsigned int)strtoul(b.data, NULL, 10);
	buf_reset(&b);
	buf_printf(&b, "%u", fails + 1);
	queue_meta_set(s->q, key, b.data);
	buf_clear(&b);
	when = clock_wall() + outcome_backoff(s->cf, fails + 1);
	for (i = s->next; i < s->n; i++)
		queue_schedule(s->q, s->ids[i], when);
	s->res->unreachable = 1;
	snprintf(s->res->error, sizeof s->res->error, "%s", s->why);
	log_warnx("%s; %zu message(s) stay queued", s->why, s->n - s->next);
}

static void
reset_backoff(struct sess *s)
{
	char key[300];
	struct buf b = BUF_INIT;

	snprintf(key, sizeof key, "fail:%s", s->tg->name ? s->tg->name : "");
	if (queue_meta_get(s->q, key, &b) == 0 && strcmp(b.data, "0") != 0)
		queue_meta_set(s->q, key, "0");
	buf_clear(&b);
}

static const struct smtp_cb callbacks = {
	.ready = on_ready, .rcpt = on_rcpt, .done = on_done,
	.starttls = on_starttls, .end = on_end,
};

static int
connect_target(struct sess *s)
{
	const struct target *tg = s->tg;
	const struct conf_peer *p = tg->peer;

	if (p != NULL && p->tls != CONF_TLS_NONE && (s->tc =
	    tls_config_client(p->ca_file, p->fingerprint, s->why,
	    sizeof s->why)) == NULL)
		return -1;
	if (tg->unix_path != NULL)
		s->conn = conn_open_unix(tg->unix_path, s->why, sizeof s->why);
	else
		s->conn = conn_open(tg->host, tg->port, CONNECT_TIMEOUT_MS,
		    s->why, sizeof s->why);
	if (s->conn == NULL)
		return -1;
	s->res->connections++;
	if (p != NULL && p->tls == CONF_TLS_IMPLICIT && conn_tls(s->conn,
	    s->tc, tg->host, TLS_TIMEOUT_MS, s->why, sizeof s->why) == -1)
		return -1;
	return 0;
}

/* Connect, TLS, run the engine. 0 when the session ran, -1 otherwise. */
static int
run(struct sess *s, const char *secret)
{
	const struct conf_peer *p = s->tg->peer;
	struct smtp_client_opts o = { 0 };
	struct sasl_cred cred = { 0 };
	struct smtp_cb cb = callbacks;
	struct smtp *smtp;
	int rc;

	if (connect_target(s) == -1)
		return -1;
	o.helo = s->cf->hostname;
	o.lmtp = s->tg->lmtp;
	o.starttls = p != NULL && p->tls == CONF_TLS_STARTTLS;
	o.tls_active = p != NULL && p->tls == CONF_TLS_IMPLICIT;
	if (secret != NULL) {
		cred.user = p->user;
		cred.secret = secret;
		cred.host = p->host;
		cred.port = p->port;
		o.cred = &cred;
		o.mech = secret_mech(p->auth);
		o.oauth = s->tg->oauth;
		/* Credentials only over TLS, or to loopback (Promises). */
		o.plaintext_ok = host_is_loopback(p->host);
	}
	if (log_verbose())
		cb.trace = on_trace;
	smtp = smtp_client_new(&o, &cb, s);
	rc = conn_run(s->conn, smtp, s->why, sizeof s->why);
	smtp_free(smtp);
	return rc;
}

void
target_smarthost(struct target *tg, const struct conf_smarthost *sh)
{
	memset(tg, 0, sizeof *tg);
	tg->name = sh->name;
	tg->host = sh->peer.host;
	tg->port = sh->peer.port;
	tg->peer = &sh->peer;
	tg->oauth = sh->peer.auth == CONF_AUTH_XOAUTH2 ||
	    sh->peer.auth == CONF_AUTH_OAUTHBEARER ||
	    (sh->peer.auth == CONF_AUTH_AUTO && sh->oauth2_token_url != NULL);
}

int
target_lmtp(struct target *tg, const struct conf *cf)
{
	static char host[256];
	const char *l = cf->deliver.lmtp, *colon;

	memset(tg, 0, sizeof *tg);
	tg->name = "#lmtp";
	tg->lmtp = 1;
	tg->rcpt_as = cf->deliver.lmtp_user;
	if (l == NULL)
		return -1;
	if (strncmp(l, "unix:", 5) == 0) {
		tg->unix_path = l + 5;
		return 0;
	}
	/* HOST:PORT or [v6]:PORT, validated by the config parser */
	if ((colon = strrchr(l, ':')) == NULL ||
	    (size_t)(colon - l) >= sizeof host)
		return -1;
	snprintf(host, sizeof host, "%.*s", (int)(colon - l), l);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	tg->host = host;
	tg->port = atoi(colon + 1);
	return 0;
}

/* The smarthost whose secret tern's own OAuth2 refresh provides, or NULL. */
static const struct conf_smarthost *
oauth_of(const struct conf *cf, const struct target *tg)
{
	const struct conf_smarthost *sh;

	if (tg->lmtp || tg->peer == NULL || (sh = conf_smarthost_named(cf,
	    tg->name)) == NULL || &sh->peer != tg->peer)
		return NULL;
	return sh->oauth2_token_url != NULL ? sh : NULL;
}

/*
 * EXT-AUTH-11: a refused cached token may have been revoked or expired
 * early: refresh it once and run again (1). A fresh token refused too is
 * the user's to fix; the mail is deferred, never bounced (0).
 */
static int
oauth_retry(struct sess *s, const struct conf_smarthost *sh, char **secret,
    int *cached)
{
	char why[sizeof s->why];

	if (!s->auth_failed) {
		if (s->next > 0)	/* got past AUTH */
			oauth_note_refused(s->cf, sh, NULL);
		return 0;
	}
	snprintf(why, sizeof why, "%s", s->why);
	if (*cached && s->next == 0) {
		secret_free(*secret);
		*cached = 0;
		conn_free(s->conn);
		s->conn = NULL;
		tls_config_free(s->tc);
		s->tc = NULL;
		s->auth_failed = 0;
		s->why[0] = '\0';
		if ((*secret = oauth_token(s->cf, sh, 1, NULL, s->why,
		    sizeof s->why)) != NULL)
			return 1;
		snprintf(why, sizeof why, "%s", s->why);
	}
	snprintf(s->why, sizeof s->why, "token refused: re-run `tern login%s%s`"
	    " (%.400s)", sh->name ? " " : "", sh->name ? sh->name : "", why);
	oauth_note_refused(s->cf, sh, s->why);
	return 0;
}

void
session_run(const struct conf *cf, struct queue *q, const struct target *tg,
    const uint64_t *ids, size_t n, relay_report_fn rep, void *arg,
    struct relay_result *res)
{
	struct sess s = { .cf = cf, .q = q, .tg = tg, .ids = ids, .n = n,
	    .report = rep, .arg = arg, .res = res };
	const struct conf_peer *p = tg->peer;
	const struct conf_smarthost *sh = oauth_of(cf, tg);
	char *secret = NULL;
	int cached = 0;

	if (p != NULL && p->user != NULL && p->auth != CONF_AUTH_NONE &&
	    (secret = sh != NULL ? oauth_token(cf, sh, 0, &cached, s.why,
	    sizeof s.why) : secret_load(p, s.why, sizeof s.why)) == NULL)
		goto failed;
again:
	if (run(&s, secret) == -1 && s.why[0] == '\0')
		snprintf(s.why, sizeof s.why, "%s: session failed",
		    relay_name(&s));
	if (sh != NULL && secret != NULL && oauth_retry(&s, sh, &secret,
	    &cached) == 1)
		goto again;
	if (s.busy) {	/* the engine ended mid-message: nothing settled */
		outcome_settle(cf, q, s.env.id, relay_name(&s), clock_wall());
		msg_release(&s);
	}
	if (s.handed > 0)
		reset_backoff(&s);
	if ((s.next >= s.n || relay_stop) && s.why[0] == '\0')
		goto done;	/* all done, or asked to stop: not a failure */
	if (s.why[0] == '\0')
		snprintf(s.why, sizeof s.why, "%s: session ended early",
		    relay_name(&s));
failed:
	if (s.next < s.n || s.handed == 0)
		postpone(&s);
	else
		snprintf(res->error, sizeof res->error, "%s", s.why);
done:
	secret_free(secret);
	conn_free(s.conn);
	tls_config_free(s.tc);
	buf_clear(&s.body);
}
