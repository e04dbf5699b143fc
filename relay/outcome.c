/* SPDX-License-Identifier: ISC */
/* From replies to queue states: retry, give-up and the one bounce. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../deliver/dsn.h"
#include "../deliver/maildir.h"
#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "outcome.h"

enum outcome
outcome_of(int code, int local)
{
	if (code >= 200 && code < 300)
		return OUTCOME_SENT;
	if (code >= 500 && code < 600)
		return OUTCOME_FAIL;
	/* 4xx from the engine itself: the line broke, nobody judged it. */
	return local ? OUTCOME_RETRY : OUTCOME_DEFER;
}

int64_t
outcome_backoff(const struct conf *cf, unsigned int n)
{
	size_t i;

	if (cf->nretry_schedule == 0)
		return 300;
	i = n == 0 ? 0 : n - 1;
	if (i >= cf->nretry_schedule)
		i = cf->nretry_schedule - 1;
	return cf->retry_schedule[i];
}

int
outcome_gave_up(const struct conf *cf, const struct queue_rcpt *r,
    int64_t now)
{
	return r->state == QUEUE_PENDING && r->first_tempfail > 0 &&
	    now - r->first_tempfail >= cf->give_up;
}

/* Hands a bounce to the local mailbox, or queues it for the sender. */
static int
send_bounce(const struct conf *cf, struct queue *q,
    const struct queue_env *e, const struct buf *dsn)
{
	struct queue_env b = { 0 };
	char err[512];
	int local, rc;
	size_t i;

	/* Bounces of the user's own mail go to the local mailbox when one
	 * is configured (interface.md, Promises); bounces of inbound mail go
	 * back to its sender out there. */
	local = !(e->flags & QUEUE_F_INBOUND) && cf->deliver.configured;
	if (local && cf->deliver.method == CONF_DELIVER_MAILDIR) {
		if (maildir_deliver(cf->deliver.maildir, cf->hostname, "",
		    e->sender, dsn->data, dsn->len, err, sizeof err) == 0)
			return 0;
		log_warnx("bounce to the local maildir failed: %s; "
		    "queueing it instead", err);
	}
	b.sender = xstrdup("");		/* SMTP-60: bounces use <> */
	/* LMTP: queued as inbound mail for the user, delivered like it. */
	if (local)
		b.flags |= QUEUE_F_INBOUND;
	queue_env_add_rcpt(&b, e->sender, NULL, QUEUE_NOTIFY_NEVER);
	for (i = 0; i < dsn->len; i++)
		if ((unsigned char)dsn->data[i] >= 0x80) {
			b.flags |= QUEUE_F_8BIT;
			break;
		}
	rc = queue_put(q, &b, dsn->data, dsn->len);
	queue_env_clear(&b);
	return rc;
}

static int
bounce(const struct conf *cf, struct queue *q, const struct queue_env *e,
    const char *relay, int64_t now)
{
	struct dsn_rcpt *r = xcalloc(e->nrcpt, sizeof *r);
	struct buf body = BUF_INIT, dsn = BUF_INIT;
	struct dsn d = { 0 };
	size_t i, n = 0;
	int rc = -1;

	for (i = 0; i < e->nrcpt; i++) {
		const struct queue_rcpt *qr = &e->rcpt[i];

		if (qr->state != QUEUE_FAILED)
			continue;
		r[n].addr = qr->addr;
		r[n].orcpt = qr->orcpt;
		r[n].action = "failed";
		r[n].diag = qr->reply;
		r[n].remote_mta = qr->attempts > 0 ? relay : NULL;
		r[n].last_attempt = qr->last_attempt;
		n++;
	}
	if (queue_body(q, e->id, &body) == -1)
		goto done;
	d.reporting_mta = cf->hostname;
	d.sender = e->sender;
	d.envid = e->envid;
	d.ret = e->ret;
	d.arrival = e->queued_at;
	d.now = now;
	d.rcpt = r;
	d.nrcpt = n;
	d.orig = body.data;
	d.origlen = body.len;
	d.full_max = 10 << 20;
	dsn_compose(&d, &dsn);
	rc = send_bounce(cf, q, e, &dsn);
done:
	buf_clear(&body);
	buf_clear(&dsn);
	free(r);
	return rc;
}

/* Recipients past give_up fail now, with the last reply kept. */
static void
expire(const struct conf *cf, struct queue *q, struct queue_env *e,
    int64_t now)
{
	char id[QUEUE_ID_LEN + 1], *why;
	size_t i;

	for (i = 0; i < e->nrcpt; i++) {
		if (!outcome_gave_up(cf, &e->rcpt[i], now))
			continue;
		why = xasprintf("%s (gave up after %llds of temporary "
		    "failures)", e->rcpt[i].reply ? e->rcpt[i].reply :
		    "4.4.7", (long long)(now - e->rcpt[i].first_tempfail));
		/* FLUSH-7: the last 4yz's status stands, Action failed. */
		if (queue_rcpt_set(q, e->id, (unsigned int)i, QUEUE_FAILED,
		    why, 0, now) == 0) {
			e->rcpt[i].state = QUEUE_FAILED;
			log_msg(LOG_INFO, queue_id_str(e->id, id),
			    "to=<%s> status=expired (%s)", e->rcpt[i].addr,
			    why);
		}
		free(why);
	}
}

int
outcome_settle(const struct conf *cf, struct queue *q, uint64_t id,
    const char *relay, int64_t now)
{
	struct queue_env e = { 0 };
	unsigned int tries = 0;
	size_t i, pending = 0, failed = 0;
	int rc = -1;

	if (queue_get(q, id, &e) == -1)
		return errno == ENOENT ? 0 : -1;
	expire(cf, q, &e, now);
	for (i = 0; i < e.nrcpt; i++) {
		if (e.rcpt[i].state == QUEUE_PENDING) {
			pending++;
			if (e.rcpt[i].attempts > tries)
				tries = e.rcpt[i].attempts;
		} else if (e.rcpt[i].state == QUEUE_FAILED)
			failed++;
	}
	if (pending > 0) {
		rc = queue_schedule(q, id, now + outcome_backoff(cf,
		    tries ? tries : 1));
		goto done;
	}
	/* Done: one bounce per message (never for <>, SMTP-61), then gone.
	 * A crash between the two can only repeat the bounce, never lose
	 * it: the message stays until the bounce is safe. */
	if (failed > 0 && e.sender[0] != '\0' &&
	    !(e.flags & QUEUE_F_BOUNCED) && bounce(cf, q, &e, relay,
	    now) == -1)
		goto done;
	rc = queue_delete(q, id);
done:
	queue_env_clear(&e);
	return rc;
}
