/* SPDX-License-Identifier: ISC */
/*
 * The ODMR customer (RFC 2645): AUTH, ATRN, then the server side of the
 * engine on the same connection (and TLS session) for the provider's
 * deliveries. Every message is committed before its 250 (SMTP-40).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../inject/inject.h"
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

static void
on_rcpt_to(void *arg, struct smtp *smtp, const char *to,
    const struct smtp_cmd *cmd, struct smtp_verdict *v)
{
	struct pull *p = arg;

	(void)smtp;
	(void)cmd;
	if (strcasecmp(to, "postmaster") == 0 || conf_inbound_domain(p->cf, to))
		return;
	v->code = 550;		/* never a relay (interface.md) */
	snprintf(v->text, sizeof v->text, "5.7.1 <%s>: not a domain of "
	    "this node", to);
}

static void
on_message(void *arg, struct smtp *smtp, const struct smtp_envelope *env)
{
	struct pull *p = arg;
	struct inject_src src = { .peer = p->peer, .tls = p->tlsinfo,
	    .inbound = 1, .proto = "ESMTP" };
	char reply[256], ids[QUEUE_ID_LEN + 1], *line;
	uint64_t id = 0;
	int code;

	code = inject_smtp(p->cf, p->q, &src, env, reply, sizeof reply, &id);
	/* env lives until the reply: say what came before answering. */
	line = code != 250 ? NULL : xasprintf("%s: from=<%s> nrcpt=%zu "
	    "size=%zu received via ATRN from %s", queue_id_str(id, ids),
	    env->from, env->nrcpt, env->len, p->peer);
	if (code != 250)
		log_warnx("ATRN: message from <%s> refused: %d %s", env->from,
		    code, reply);
	smtp_server_reply(smtp, code, reply);
	if (code != 250)
		return;
	p->res->received++;
	if (++p->got % 64 == 0)
		queue_trim(p->q);	/* a flat RSS over a big pull */
	p->res->ids = xreallocarray(p->res->ids, p->res->nids + 1,
	    sizeof *p->res->ids);
	p->res->ids[p->res->nids++] = id;
	pull_report(p, line);
	free(line);
}

static void
on_server_end(void *arg, const struct smtp_end *e)
{
	struct pull *p = arg;

	/* The provider's QUIT, or its EOF (fetchmail-style), ends it. */
	p->reversed_end = e->kind == SMTP_END_OK || e->kind == SMTP_END_EOF;
	if (!p->reversed_end)
		snprintf(p->res->error, sizeof p->res->error,
		    "%s: reversed session ended: %s", p->peer, e->why);
}

static const struct smtp_server_cb server_cb = {
	.rcpt_to = on_rcpt_to, .message = on_message, .end = on_server_end,
};

static void
on_ready(void *arg, struct smtp *smtp)
{
	struct pull *p = arg;
	struct smtp_server_opts o = { .hostname = p->cf->hostname,
	    .size_max = p->cf->max_message_size, .plaintext_ok = 1 };

	p->tlsinfo = conn_tls_info(p->conn);
	if (smtp_atrn(smtp, p->domains, &o, &server_cb) == -1)
		smtp_quit(smtp);
}

/* One ATRN session; 0 when it ran (whatever ATRN said), -1 otherwise. */
int
atrn_session(struct pull *p)
{
	struct smtp_cb cb = { .ready = on_ready, .end = pull_on_end,
	    .starttls = pull_on_starttls };

	return pull_session(p, &cb);
}
