/* SPDX-License-Identifier: ISC */
/* From an SMTP envelope and body to a durable queue entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../msg/msg.h"
#include "../queue/queue.h"
#include "../smtp/smtp.h"
#include "inject.h"

int
inject_notify(const char *s, unsigned int *bits)
{
	static const struct { const char *w; unsigned int bit; } words[] = {
		{ "NEVER", QUEUE_NOTIFY_NEVER },
		{ "SUCCESS", QUEUE_NOTIFY_SUCCESS },
		{ "FAILURE", QUEUE_NOTIFY_FAILURE },
		{ "DELAY", QUEUE_NOTIFY_DELAY },
	};
	unsigned int n = 0;
	size_t i, l;

	for (;;) {
		l = strcspn(s, ",");
		for (i = 0; i < sizeof words / sizeof words[0]; i++)
			if (l == strlen(words[i].w) &&
			    strncasecmp(s, words[i].w, l) == 0)
				break;
		if (i == sizeof words / sizeof words[0])
			return -1;
		n |= words[i].bit;
		if (s[l] == '\0')
			break;
		s += l + 1;
	}
	/* RFC 3461 4.1: NEVER stands alone. */
	if ((n & QUEUE_NOTIFY_NEVER) && n != QUEUE_NOTIFY_NEVER)
		return -1;
	*bits = n;
	return 0;
}

/* SMTP-71/72: Received: from helo (peer) by us with PROTO [for <one>]; date
 * (FOR names a path only when there is exactly one, RFC 5321 7.2). */
static char *
received(const struct conf *cf, const struct inject_src *src,
    const struct smtp_envelope *env)
{
	char date[64], proto[16], *tls, *rcv;

	time_rfc5322(clock_wall(), date, sizeof date);
	if (src->proto != NULL)
		snprintf(proto, sizeof proto, "%s", src->proto);
	else
		snprintf(proto, sizeof proto, "%s%s%s",
		    env->utf8 ? "UTF8SMTP" : env->esmtp ? "ESMTP" : "SMTP",
		    env->tls ? "S" : "", env->auth_user ? "A" : "");
	tls = src->tls ? xasprintf("\r\n\t(%s)", src->tls) : xstrdup("");
	rcv = xasprintf("from %s (%s)\r\n\tby %s (tern) with %s%s%s%s%s;"
	    "\r\n\t%s", env->helo && *env->helo ? env->helo : "unknown",
	    src->peer, cf->hostname, proto, tls,
	    env->nrcpt == 1 ? "\r\n\tfor <" : "",
	    env->nrcpt == 1 ? env->rcpt[0].addr : "",
	    env->nrcpt == 1 ? ">" : "", date);
	free(tls);
	return rcv;
}

/* The stored bytes: Received, then the message (fixed up if ours). */
static int
compose(const struct conf *cf, const struct inject_src *src,
    const struct smtp_envelope *env, struct buf *out)
{
	struct msg_fixup fx = { 0 };
	struct msg *m;
	char err[256], *rcv;

	rcv = received(cf, src, env);
	if (!src->submission) {
		/* SMTP-80: a relay adds only its trace line. */
		buf_printf(out, "Received: %s\r\n", rcv);
		buf_add(out, env->body, env->len);
		free(rcv);
		return 0;
	}
	if ((m = msg_parse(env->body, env->len, 0, err, sizeof err)) ==
	    NULL) {
		free(rcv);
		return -1;
	}
	fx.hostname = cf->hostname;
	fx.from = env->from[0] != '\0' ? env->from : cf->from;
	fx.now = clock_wall();
	msg_fixup(m, &fx);
	msg_prepend(m, "Received", rcv);
	msg_write(m, out);
	msg_free(m);
	free(rcv);
	return 0;
}

int
inject_smtp(const struct conf *cf, struct queue *q,
    const struct inject_src *src, const struct smtp_envelope *env,
    char *reply, size_t replylen, uint64_t *id)
{
	struct queue_env e = { 0 };
	struct buf body = BUF_INIT;
	char ids[QUEUE_ID_LEN + 1];
	size_t i;
	int code = 250;

	e.sender = xstrdup(env->from);
	e.envid = env->envid ? xstrdup(env->envid) : NULL;
	e.ret = env->ret == NULL ? 0 : strcasecmp(env->ret, "FULL") == 0 ?
	    QUEUE_RET_FULL : QUEUE_RET_HDRS;
	for (i = 0; i < env->nrcpt; i++) {
		unsigned int notify = 0;

		/* The engine checked it (501 otherwise); absent stays 0. */
		if (env->rcpt[i].notify != NULL)
			inject_notify(env->rcpt[i].notify, &notify);
		queue_env_add_rcpt(&e, env->rcpt[i].addr, env->rcpt[i].orcpt,
		    notify);
	}
	if (compose(cf, src, env, &body) == -1) {
		snprintf(reply, replylen, "5.6.0 malformed message");
		code = 554;
		goto done;
	}
	if (smtp_8bit(body.data, body.len))
		e.flags |= QUEUE_F_8BIT;
	if (env->body8)
		e.flags |= QUEUE_F_BODY_8BITMIME;
	if (env->utf8)
		e.flags |= QUEUE_F_SMTPUTF8;
	if (src->inbound)
		e.flags |= QUEUE_F_INBOUND;
	/* SMTP-40: on disk before the 250. */
	if (queue_put(q, &e, body.data, body.len) == -1) {
		code = queue_temporary(q) ? 452 : 451;
		snprintf(reply, replylen, "%s %s", code == 452 ? "4.3.1" :
		    "4.3.0", code == 452 ? "insufficient system storage" :
		    "local error in processing");
		goto done;
	}
	*id = e.id;
	snprintf(reply, replylen, "2.0.0 Ok: queued as %s",
	    queue_id_str(e.id, ids));
done:
	queue_env_clear(&e);
	buf_clear(&body);
	return code;
}
