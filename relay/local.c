/* SPDX-License-Identifier: ISC */
/* Local delivery of inbound mail: maildir here, LMTP through a session. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../deliver/maildir.h"
#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "local.h"
#include "outcome.h"
#include "session.h"

static void
report(relay_report_fn rep, void *arg, const struct queue_env *e,
    const char *rcpt, const char *relay, const char *status,
    const char *text)
{
	char id[QUEUE_ID_LEN + 1], *line;

	line = xasprintf("%s: to=<%s> relay=%s delay=%.1f status=%s (%s)",
	    queue_id_str(e->id, id), rcpt, relay,
	    (double)(clock_wall() - e->queued_at), status, text);
	if (rep != NULL)
		rep(arg, line);
	else
		log_info("%s", line);
	free(line);
}

/* Temporary unless the maildir itself says never (a loop). */
static int
maildir_one(const struct conf *cf, struct queue *q, uint64_t id,
    relay_report_fn rep, void *arg, struct relay_result *res)
{
	struct queue_env e = { 0 };
	struct buf body = BUF_INIT;
	struct queue_outcome *out;
	char err[512], *reply;
	const char *first = NULL;
	enum queue_rcpt_state st;
	size_t i, n = 0;
	int rc, loop, gone = 0;

	if (queue_get(q, id, &e) == -1 || queue_body(q, id, &body) == -1) {
		queue_env_clear(&e);
		buf_clear(&body);
		return -1;
	}
	for (i = 0; i < e.nrcpt && first == NULL; i++)
		if (e.rcpt[i].state == QUEUE_PENDING)
			first = e.rcpt[i].addr;
	rc = first == NULL ? 0 : maildir_deliver(cf->deliver.maildir,
	    cf->hostname, e.sender, first, body.data, body.len, err,
	    sizeof err);
	loop = rc == -1 && errno == ELOOP;
	if (rc == 0)
		reply = xasprintf("250 2.0.0 delivered to maildir %s",
		    cf->deliver.maildir);
	else
		reply = xasprintf("%s %s", loop ? "554 5.4.6" :
		    "451 4.3.0", err);
	st = rc == 0 ? QUEUE_SENT : loop ? QUEUE_FAILED :
	    QUEUE_PENDING;
	/* One copy for all recipients: the mailbox is the user's. */
	out = xcalloc(e.nrcpt, sizeof *out);
	for (i = 0; i < e.nrcpt; i++) {
		if (e.rcpt[i].state != QUEUE_PENDING)
			continue;
		out[n].idx = (unsigned int)i;
		out[n].state = st;
		out[n].reply = reply;
		out[n++].tempfail = st == QUEUE_PENDING;
		report(rep, arg, &e, e.rcpt[i].addr, "maildir",
		    st == QUEUE_SENT ? "sent" : st == QUEUE_FAILED ?
		    "bounced" : "deferred", reply);
		if (st == QUEUE_SENT)
			res->sent++;
		else if (st == QUEUE_FAILED)
			res->failed++;
		else
			res->deferred++;
	}
	/* The outcome and, when delivered, the removal: one commit. */
	rc = n == 0 ? 0 : queue_record(q, id, out, n, clock_wall(), 0, &gone);
	free(out);
	free(reply);
	queue_env_clear(&e);
	buf_clear(&body);
	if (rc == -1)
		return -1;
	return gone ? 0 : outcome_settle(cf, q, id, NULL, clock_wall());
}

void
local_run(const struct conf *cf, struct queue *q, const uint64_t *ids,
    size_t n, relay_report_fn rep, void *arg, struct relay_result *res)
{
	struct target tg;
	size_t i;

	if (n == 0)
		return;
	if (cf->deliver.method == CONF_DELIVER_LMTP) {
		if (target_lmtp(&tg, cf) == -1) {
			snprintf(res->error, sizeof res->error,
			    "[deliver] lmtp is not usable: %s",
			    cf->deliver.lmtp ? cf->deliver.lmtp : "(unset)");
			return;
		}
		session_run(cf, q, &tg, ids, n, rep, arg, res);
		return;
	}
	for (i = 0; i < n && !relay_stop; i++) {
		if (maildir_one(cf, q, ids[i], rep, arg, res) == -1)
			log_warnx("%s", queue_error(q));
		if (i % 64 == 63)
			queue_trim(q);
	}
}
