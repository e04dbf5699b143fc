/* SPDX-License-Identifier: ISC */
/*
 * ETRN (RFC 1985): ask the provider to start a delivery run for each of
 * our domains. The mail comes later, over a new connection to ternd's
 * inbound listener; here we only send the requests and read the replies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../net/conn.h"
#include "../smtp/smtp.h"
#include "odmr_int.h"

/* protocols.md ETRN-02/03/05: 250-253 started or nothing waiting, 458
 * later, the rest (459 not allowed, 50x, 530) is ours to fix. */
static int
etrn_exit(int code)
{
	if (code >= 250 && code <= 253)
		return 0;
	if (code == 458 || (code >= 400 && code < 500 && code != 459))
		return 75;
	return 69;
}

static void
on_ready(void *arg, struct smtp *smtp)
{
	struct pull *p = arg;
	const struct conf_inbound *in = &p->cf->inbound;

	/* ETRN-03: the server must offer it; without, say so and leave. */
	if (p->etrn_next == 0 && !(smtp_ext(smtp) & SMTP_EXT_ETRN)) {
		snprintf(p->res->error, sizeof p->res->error,
		    "%s does not offer ETRN", p->peer);
		p->etrn_worst = 69;
		smtp_quit(smtp);
		return;
	}
	if (p->etrn_next < in->ndomains &&
	    smtp_etrn(smtp, in->domains[p->etrn_next++]) == 0)
		return;
	smtp_quit(smtp);
}

static void
on_etrn(void *arg, struct smtp *smtp, const struct smtp_reply *r)
{
	struct pull *p = arg;
	struct buf t = BUF_INIT;
	char *line;
	int rc = etrn_exit(r->code);

	(void)smtp;
	smtp_reply_format(r, &t);
	p->res->code = r->code;
	snprintf(p->res->reply, sizeof p->res->reply, "%s", t.data);
	line = xasprintf("ETRN %s: %s", p->cf->inbound.domains[
	    p->etrn_next - 1], t.data);
	pull_report(p, line);
	free(line);
	if (rc > p->etrn_worst)
		p->etrn_worst = rc;
	buf_clear(&t);
}

int
etrn_session(struct pull *p)
{
	struct smtp_cb cb = { .ready = on_ready, .etrn = on_etrn,
	    .end = pull_on_end, .starttls = pull_on_starttls };
	int rc;

	p->etrn_next = 0;
	p->etrn_worst = 0;
	rc = pull_session(p, &cb);
	if (rc == -1 || p->res->error[0] != '\0')
		p->etrn_worst = p->etrn_worst ? p->etrn_worst : 69;
	return rc;
}
