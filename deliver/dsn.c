/* SPDX-License-Identifier: ISC */
/* Bounces: RFC 3464 delivery status notifications in RFC 6522 reports. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../lib/util.h"
#include "dsn.h"

#define RET_HDRS	2	/* QUEUE_RET_HDRS; dsn/ does not include queue/ */

char *
dsn_status_of(const char *reply, char *out, size_t len)
{
	const char *p = reply;
	int a, b, c, n = 0;

	if (reply == NULL || !isdigit((unsigned char)reply[0])) {
		snprintf(out, len, "5.0.0");
		return out;
	}
	p = reply + 3;
	while (*p == ' ' || *p == '-')
		p++;
	/* RFC 3463 2: class.subject.detail, class equal to the reply's. */
	if (sscanf(p, "%1d.%3d.%3d%n", &a, &b, &c, &n) == 3 && n > 0 &&
	    a == reply[0] - '0' && (a == 2 || a == 4 || a == 5)) {
		snprintf(out, len, "%d.%d.%d", a, b, c);
		return out;
	}
	snprintf(out, len, "%c.0.0", reply[0] >= '2' && reply[0] <= '5' ?
	    reply[0] : '5');
	return out;
}

/* The reply for people: one line, ASCII. */
static void
add_diag_text(struct buf *b, const char *diag)
{
	const char *p;

	if (diag == NULL) {
		buf_adds(b, "no reply");
		return;
	}
	for (p = diag; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		buf_addc(b, *p == '\n' ? ' ' :
		    (unsigned char)*p < 0x80 ? *p : '?');
	}
}

/* Header-safe copy of the server's reply: one line, continuation folded. */
static void
add_diag(struct buf *b, const char *diag)
{
	const char *p;

	buf_adds(b, "Diagnostic-Code: smtp; ");
	for (p = diag; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n') {
			if (p[1] != '\0')
				buf_adds(b, "\r\n ");	/* DSN-05 */
			continue;
		}
		buf_addc(b, (unsigned char)*p < 0x80 ? *p : '?');
	}
	buf_adds(b, "\r\n");
}

static void
add_rcpt_block(struct buf *b, const struct dsn_rcpt *r)
{
	char st[16], date[64];

	buf_adds(b, "\r\n");
	if (r->orcpt != NULL)
		buf_printf(b, "Original-Recipient: %s\r\n", r->orcpt);
	buf_printf(b, "Final-Recipient: rfc822; %s\r\n", r->addr);
	buf_printf(b, "Action: %s\r\n", r->action);
	buf_printf(b, "Status: %s\r\n", r->status ? r->status :
	    dsn_status_of(r->diag, st, sizeof st));
	if (r->remote_mta != NULL)
		buf_printf(b, "Remote-MTA: dns; %s\r\n", r->remote_mta);
	if (r->diag != NULL)
		add_diag(b, r->diag);
	if (r->last_attempt > 0)
		buf_printf(b, "Last-Attempt-Date: %s\r\n",
		    time_rfc5322(r->last_attempt, date, sizeof date));
}

static void
add_text_part(struct buf *b, const struct dsn *d, const char *bnd)
{
	size_t i;

	buf_printf(b, "--%s\r\nContent-Type: text/plain; charset=us-ascii"
	    "\r\n\r\n", bnd);
	buf_printf(b, "This is the mail system at host %s.\r\n\r\n",
	    d->reporting_mta);
	buf_adds(b, "Your message could not be delivered to one or more "
	    "recipients.\r\nIt is attached below.\r\n\r\n");
	for (i = 0; i < d->nrcpt; i++) {
		buf_printf(b, "<%s>: %s", d->rcpt[i].addr, d->rcpt[i].action);
		if (d->rcpt[i].remote_mta != NULL)
			buf_printf(b, " (%s said: ", d->rcpt[i].remote_mta);
		else
			buf_adds(b, " (");
		add_diag_text(b, d->rcpt[i].diag);
		buf_adds(b, ")\r\n");
	}
	buf_adds(b, "\r\n");
}

static void
add_status_part(struct buf *b, const struct dsn *d, const char *bnd)
{
	char date[64];
	size_t i;

	buf_printf(b, "--%s\r\nContent-Type: message/delivery-status\r\n"
	    "\r\n", bnd);
	/* DSN-04: the per-message block. */
	if (d->envid != NULL)
		buf_printf(b, "Original-Envelope-Id: %s\r\n", d->envid);
	buf_printf(b, "Reporting-MTA: dns; %s\r\n", d->reporting_mta);
	if (d->arrival > 0)
		buf_printf(b, "Arrival-Date: %s\r\n",
		    time_rfc5322(d->arrival, date, sizeof date));
	for (i = 0; i < d->nrcpt; i++)
		add_rcpt_block(b, &d->rcpt[i]);
	buf_adds(b, "\r\n");
}

static size_t
header_len(const char *m, size_t len)
{
	const char *e;

	if (len >= 2 && m[0] == '\r' && m[1] == '\n')
		return 0;
	e = memmem(m, len, "\r\n\r\n", 4);
	return e ? (size_t)(e - m) + 2 : len;
}

static int
any_failed(const struct dsn *d)
{
	size_t i;

	for (i = 0; i < d->nrcpt; i++)
		if (strcmp(d->rcpt[i].action, "failed") == 0)
			return 1;
	return 0;
}

static void
add_original(struct buf *b, const struct dsn *d, const char *bnd)
{
	int full, eightbit = 0;
	size_t i, n;

	/* DSN-03: the whole message for failures unless RET=HDRS or huge. */
	full = d->ret != RET_HDRS && any_failed(d) &&
	    (d->full_max == 0 || d->origlen <= d->full_max);
	n = full ? d->origlen : header_len(d->orig, d->origlen);
	for (i = 0; i < n; i++)
		if ((unsigned char)d->orig[i] >= 0x80)
			eightbit = 1;
	buf_printf(b, "--%s\r\nContent-Type: %s\r\n", bnd,
	    full ? "message/rfc822" : "text/rfc822-headers");
	if (eightbit)
		buf_adds(b, "Content-Transfer-Encoding: 8bit\r\n");
	buf_adds(b, "\r\n");
	buf_add(b, d->orig, n);
	if (n < 2 || d->orig[n - 2] != '\r' || d->orig[n - 1] != '\n')
		buf_adds(b, "\r\n");
}

void
dsn_compose(const struct dsn *d, struct buf *out)
{
	char date[64], bnd[64];
	uint64_t r = 0;

	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (uint64_t)d->now ^ (uint64_t)clock_wall_us();
	snprintf(bnd, sizeof bnd, "=_tern_%016llx", (unsigned long long)r);
	buf_printf(out, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n",
	    d->reporting_mta);
	buf_printf(out, "To: <%s>\r\n", d->sender);
	buf_printf(out, "Subject: %s\r\n", any_failed(d) ?
	    "Undelivered Mail Returned to Sender" :
	    "Delivery Status Notification");
	buf_printf(out, "Date: %s\r\n", time_rfc5322(d->now, date,
	    sizeof date));
	buf_printf(out, "Message-ID: <%lld.dsn.%016llx@%s>\r\n",
	    (long long)d->now, (unsigned long long)r, d->reporting_mta);
	buf_adds(out, "Auto-Submitted: auto-replied\r\n");
	buf_adds(out, "MIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", bnd);
	buf_adds(out, "This is a MIME-encapsulated message.\r\n\r\n");
	add_text_part(out, d, bnd);
	add_status_part(out, d, bnd);
	add_original(out, d, bnd);
	buf_printf(out, "--%s--\r\n", bnd);
}
