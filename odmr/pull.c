/* SPDX-License-Identifier: ISC */
/* A pull: the connection to the provider, the outcome, the status. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../net/conn.h"
#include "../queue/queue.h"
#include "../relay/secret.h"
#include "../sasl/sasl.h"
#include "../smtp/smtp.h"
#include "../tls/tls.h"
#include "odmr_int.h"

/* A provider that ends the reversed session early may still hold mail:
 * pull again, but not forever. */
#define ATRN_ROUNDS_MAX	20

void
pull_report(struct pull *p, const char *line)
{
	if (p->rep != NULL)
		p->rep(p->arg, line);
	else
		log_info("%s", line);
}

void
pull_on_starttls(void *arg, struct smtp *smtp)
{
	struct pull *p = arg;

	(void)smtp;
	conn_want_tls(p->conn, p->tc, p->cf->inbound.peer.host);
}

void
pull_on_end(void *arg, const struct smtp_end *e)
{
	pull_client_end(arg, e);
}

void
pull_client_end(struct pull *p, const struct smtp_end *e)
{
	struct buf t = BUF_INIT;

	p->ended = 1;
	if (e->kind == SMTP_END_OK)
		return;
	if (e->reply != NULL && !e->reply->local) {
		p->res->code = e->reply->code;
		smtp_reply_format(e->reply, &t);
		snprintf(p->res->reply, sizeof p->res->reply, "%s", t.data);
	}
	if (e->kind != SMTP_END_REFUSED || p->res->code == 0)
		snprintf(p->res->error, sizeof p->res->error, "%s: %s%s%s",
		    p->peer, e->why, t.len ? ": " : "", t.len ? t.data : "");
	buf_clear(&t);
}

static int
connect_provider(struct pull *p)
{
	const struct conf_peer *pe = &p->cf->inbound.peer;

	if (pe->tls != CONF_TLS_NONE && (p->tc = tls_config_client(
	    pe->ca_file, pe->fingerprint, p->res->error,
	    sizeof p->res->error)) == NULL)
		return -1;
	if ((p->conn = conn_open(pe->host, pe->port, 30000, p->res->error,
	    sizeof p->res->error)) == NULL)
		return -1;
	snprintf(p->peer, sizeof p->peer, "%s", conn_peer(p->conn));
	if (pe->tls == CONF_TLS_IMPLICIT && conn_tls(p->conn, p->tc,
	    pe->host, 60000, p->res->error, sizeof p->res->error) == -1)
		return -1;
	return 0;
}

int
pull_session(struct pull *p, const struct smtp_cb *cb)
{
	const struct conf_peer *pe = &p->cf->inbound.peer;
	struct smtp_client_opts o = { .helo = p->cf->hostname };
	struct sasl_cred cred = { .user = pe->user, .host = pe->host,
	    .port = pe->port };
	struct smtp *s;
	char *secret = NULL;
	int rc = -1;

	p->got = 0;
	p->ended = p->reversed_end = 0;
	if (pe->user != NULL && pe->auth != CONF_AUTH_NONE &&
	    (secret = secret_load(pe, p->res->error,
	    sizeof p->res->error)) == NULL)
		goto done;
	if (connect_provider(p) == -1)
		goto done;
	o.starttls = pe->tls == CONF_TLS_STARTTLS;
	o.tls_active = pe->tls == CONF_TLS_IMPLICIT;
	if (secret != NULL) {
		cred.secret = secret;
		o.cred = &cred;
		o.mech = secret_mech(pe->auth);
		o.oauth = pe->auth == CONF_AUTH_XOAUTH2 ||
		    pe->auth == CONF_AUTH_OAUTHBEARER;
		o.plaintext_ok = host_is_loopback(pe->host);
	}
	s = smtp_client_new(&o, cb, p);
	rc = conn_run(p->conn, s, p->res->error, sizeof p->res->error);
	p->tlsinfo = NULL;
	smtp_free(s);
	p->res->sessions++;
done:
	secret_free(secret);
	conn_free(p->conn);
	p->conn = NULL;
	tls_config_free(p->tc);
	p->tc = NULL;
	return rc;
}

static void
record(struct queue *q, const struct conf *cf, const struct pull_result *r,
    int rc)
{
	json_object *o = json_object_new_object();
	char t[32];

	json_object_object_add(o, "at", json_object_new_string(
	    time_iso(clock_wall(), t, sizeof t)));
	json_object_object_add(o, "method", json_object_new_string(
	    cf->inbound.method == CONF_INBOUND_ATRN ? "atrn" : "etrn"));
	json_object_object_add(o, "result", json_object_new_string(
	    rc == 0 ? "ok" : rc == 75 ? "deferred" : "failed"));
	json_object_object_add(o, "received",
	    json_object_new_int((int)r->received));
	if (r->reply[0] != '\0')
		json_object_object_add(o, "reply",
		    json_object_new_string(r->reply));
	if (r->error[0] != '\0')
		json_object_object_add(o, "error",
		    json_object_new_string(r->error));
	queue_meta_set(q, "last_pull", json_object_to_json_string(o));
	json_object_put(o);
}

static int
atrn_exit(const struct pull_result *r)
{
	switch (r->code) {
	case 0:		/* never got to ATRN's reply */
		return r->received > 0 && r->error[0] == '\0' ? 0 : 69;
	case 250:
	case 453:	/* ODMR-06: authorised, nothing queued */
		return 0;
	case 450:
	case 451:
		return 75;
	default:
		return 69;
	}
}

static int
atrn_pull(struct pull *p)
{
	struct buf d = BUF_INIT;
	size_t i;
	int round;

	for (i = 0; i < p->cf->inbound.ndomains; i++)
		buf_printf(&d, "%s%s", i ? "," : "", p->cf->inbound.domains[i]);
	p->domains = buf_take(&d);
	for (round = 0; round < ATRN_ROUNDS_MAX; round++) {
		p->res->code = 0;
		p->res->error[0] = '\0';
		if (atrn_session(p) == -1 && p->got == 0)
			break;
		/* 250 and a complete reversed session with mail: maybe
		 * more is waiting; anything else is the answer. */
		if (!p->reversed_end || p->got == 0)
			break;
		p->res->code = 250;
	}
	if (p->res->code == 0 && p->res->received > 0 &&
	    p->res->error[0] == '\0')
		p->res->code = 250;
	free(p->domains);
	p->domains = NULL;
	return atrn_exit(p->res);
}

int
odmr_pull(const struct conf *cf, struct queue *q, relay_report_fn fn,
    void *arg, struct pull_result *res)
{
	struct pull p = { .cf = cf, .q = q, .rep = fn, .arg = arg,
	    .res = res };
	int rc;

	memset(res, 0, sizeof *res);
	if (cf->inbound.method == CONF_INBOUND_ATRN)
		rc = atrn_pull(&p);
	else if (cf->inbound.method == CONF_INBOUND_ETRN)
		rc = etrn_session(&p) == -1 && res->code == 0 ? 69 :
		    p.etrn_worst;
	else {
		snprintf(res->error, sizeof res->error,
		    "no [inbound] method configured");
		return 69;
	}
	record(q, cf, res, rc);
	return rc;
}

void
pull_result_clear(struct pull_result *r)
{
	free(r->ids);
	r->ids = NULL;
	r->nids = 0;
}
