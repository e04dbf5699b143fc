/* SPDX-License-Identifier: ISC */
/*
 * The client's mail transaction (RFC 5321 3.3): MAIL, RCPT..., DATA, the
 * body, the final dot; with PIPELINING (RFC 2920) MAIL, every RCPT and
 * DATA go out in one write and the replies are matched strictly by count
 * (EXT-PIPE-3): the states MAIL -> RCPT(xN) -> DATA consume one reply each
 * in both modes; only the enter functions differ (pipelined: the MAIL row
 * writes the whole group, the others write nothing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "smtp_int.h"

/* ---- local checks (nothing is sent for a message that fails them) ---- */

static int
has_ctl(const char *s, int space_ok)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; s != NULL && *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !space_ok))
			return 1;
	return 0;
}

static int
is8(const char *s)
{
	return s != NULL && smtp_8bit(s, strlen(s));
}

/* Returns 0, or fills r with the local refusal. */
static int
local_check(struct smtp *s, const struct smtp_msg *m, struct smtp_reply *r)
{
	int utf8 = m->utf8 || is8(m->from);
	size_t i;
	int bad = has_ctl(m->from, 1) || has_ctl(m->envid, 1) ||
	    has_ctl(m->ret, 0);

	for (i = 0; i < m->nrcpt; i++) {
		const struct smtp_rcpt *rc = &m->rcpt[i];

		bad |= rc->addr == NULL || rc->addr[0] == '\0' ||
		    has_ctl(rc->addr, 1) || has_ctl(rc->notify, 0) ||
		    has_ctl(rc->orcpt, 1);
		utf8 |= is8(rc->addr) || is8(rc->orcpt);
	}
	if (bad) {		/* CR/LF in the envelope = command injection */
		smtp_reply_set(r, 501, "5.1.3", "bad envelope address syntax");
		return -1;
	}
	if (utf8 && !(s->ext & SMTP_EXT_SMTPUTF8)) {	/* EXT-UTF8-4 */
		smtp_reply_set(r, 550, "5.6.7",
		    "server does not offer SMTPUTF8");
		return -1;
	}
	if (smtp_8bit(m->body, m->len) && !(s->ext & SMTP_EXT_8BITMIME)) {
		smtp_reply_set(r, 554, "5.6.3",		/* EXT-8BIT-3 */
		    "8-bit message and server does not offer 8BITMIME");
		return -1;
	}
	if ((s->ext & SMTP_EXT_SIZE) && s->size_max > 0 &&
	    smtp_dot_size(m->body, m->len) > s->size_max) {
		smtp_reply_set(r, 552, "5.3.4",		/* EXT-SIZE-4 */
		    "message larger than the server's SIZE limit");
		return -1;
	}
	return 0;
}

int
smtp_send(struct smtp *s, const struct smtp_msg *m)
{
	struct smtp_reply r;
	size_t i;

	if (s->state != SMTP_ST_READY || s->msg != NULL || m->nrcpt == 0) {
		errno = EINVAL;
		return -1;
	}
	s->msg = m;
	s->rf = xcalloc(m->nrcpt, 1);
	s->idx = 0;
	s->naccepted = 0;
	s->mail_failed = s->lone_dot = s->dot_sent = 0;
	s->pipelined = (s->ext & SMTP_EXT_PIPELINING) != 0;
	s->txstage = SMTP_AT_NONE;
	smtp_reply_reset(&s->txrep);
	smtp_reply_init(&r);
	if (local_check(s, m, &r) < 0) {
		for (i = 0; i < m->nrcpt; i++)
			smtp_result(s, i, SMTP_AT_LOCAL, 1, &r);
		smtp_tx_report(s, SMTP_AT_LOCAL, &r);
		smtp_reply_clear(&r);
		smtp_enter(s, SMTP_ST_READY);
		return 0;
	}
	smtp_reply_clear(&r);
	smtp_enter(s, SMTP_ST_MAIL);
	return 0;
}

/* ---- the commands ---- */

static void
mail_line(struct smtp *s, struct buf *b)
{
	const struct smtp_msg *m = s->msg;
	int eight = smtp_8bit(m->body, m->len);
	int utf8 = m->utf8 || is8(m->from);
	size_t i;

	for (i = 0; i < m->nrcpt; i++)
		utf8 |= is8(m->rcpt[i].addr) || is8(m->rcpt[i].orcpt);
	/* 4.1.1.3 / SMTP-23: only parameters the server advertised. */
	buf_printf(b, "MAIL FROM:<%s>", m->from);
	if (s->ext & SMTP_EXT_SIZE)
		buf_printf(b, " SIZE=%llu",
		    (unsigned long long)smtp_dot_size(m->body, m->len));
	if (eight && (s->ext & SMTP_EXT_8BITMIME))
		buf_adds(b, " BODY=8BITMIME");
	if (utf8 && (s->ext & SMTP_EXT_SMTPUTF8))
		buf_adds(b, " SMTPUTF8");
	if (!(s->ext & SMTP_EXT_DSN))		/* EXT-DSN-5/6 */
		return;
	if (m->ret != NULL)
		buf_printf(b, " RET=%s", m->ret);
	if (m->envid != NULL) {
		buf_adds(b, " ENVID=");
		smtp_xtext_encode(m->envid, b);
	}
}

static void
rcpt_line(struct smtp *s, size_t i, struct buf *b)
{
	const struct smtp_rcpt *rc = &s->msg->rcpt[i];
	const char *semi;

	buf_printf(b, "RCPT TO:<%s>", rc->addr);
	if (!(s->ext & SMTP_EXT_DSN))
		return;
	if (rc->notify != NULL)
		buf_printf(b, " NOTIFY=%s", rc->notify);
	if (rc->orcpt != NULL) {
		/* RFC 3461 4.2: addr-type ";" xtext(address). */
		semi = strchr(rc->orcpt, ';');
		buf_adds(b, " ORCPT=");
		if (semi == NULL) {
			buf_adds(b, "rfc822;");
			smtp_xtext_encode(rc->orcpt, b);
		} else {
			buf_add(b, rc->orcpt, (size_t)(semi - rc->orcpt) + 1);
			smtp_xtext_encode(semi + 1, b);
		}
	}
}

static void
send_buf(struct smtp *s, struct buf *b)
{
	smtp_send_line(s, "%s", b->data);
	buf_reset(b);
}

void
smtp_cl_send_mail(struct smtp *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	mail_line(s, &b);
	send_buf(s, &b);
	if (s->pipelined) {
		/* RFC 2920 3.1: MAIL, RCPT... and DATA (last) in one group. */
		for (i = 0; i < s->msg->nrcpt; i++) {
			rcpt_line(s, i, &b);
			send_buf(s, &b);
		}
		smtp_send_line(s, "DATA");
	}
	buf_clear(&b);
}

void
smtp_cl_on_mail(struct smtp *s, const struct smtp_reply *r)
{
	size_t i;

	if (r->code / 100 != 2) {
		/* FLUSH-4: the MAIL reply settles every recipient. */
		s->mail_failed = 1;
		s->txstage = SMTP_AT_MAIL;
		smtp_reply_copy(&s->txrep, r);
		for (i = 0; i < s->msg->nrcpt; i++)
			smtp_result(s, i, SMTP_AT_MAIL, 1, r);
		if (!s->pipelined) {	/* no transaction is open */
			smtp_tx_report(s, SMTP_AT_MAIL, r);
			smtp_enter(s, SMTP_ST_READY);
			return;
		}
	}
	s->idx = 0;
	smtp_enter(s, SMTP_ST_RCPT);
}

void
smtp_cl_send_rcpt(struct smtp *s)
{
	struct buf b = BUF_INIT;

	if (s->pipelined)
		return;
	rcpt_line(s, s->idx, &b);
	send_buf(s, &b);
	buf_clear(&b);
}

void
smtp_cl_on_rcpt(struct smtp *s, const struct smtp_reply *r)
{
	size_t i = s->idx++;
	int ok = r->code / 100 == 2;

	if (!s->mail_failed) {
		if (ok) {
			s->rf[i] |= RCPT_ACCEPTED;
			s->naccepted++;
		} else {
			s->txstage = SMTP_AT_RCPT;
			smtp_reply_copy(&s->txrep, r);
		}
		smtp_result(s, i, SMTP_AT_RCPT, !ok, r);
	}
	if (s->idx < s->msg->nrcpt)
		smtp_enter(s, SMTP_ST_RCPT);
	else if (s->pipelined || s->naccepted > 0)
		smtp_enter(s, SMTP_ST_DATA);
	else
		smtp_enter(s, SMTP_ST_RSET);	/* FLUSH-5: nobody took it */
}

void
smtp_cl_send_data(struct smtp *s)
{
	if (!s->pipelined)
		smtp_send_line(s, "DATA");
}

void
smtp_cl_on_data(struct smtp *s, const struct smtp_reply *r)
{
	size_t i;

	if (r->code == 354) {
		/* EXT-PIPE-3: 354 with no accepted RCPT gets a lone dot. */
		s->lone_dot = s->mail_failed || s->naccepted == 0;
		smtp_enter(s, SMTP_ST_DOT);
		return;
	}
	if (!s->mail_failed && s->naccepted > 0) {
		for (i = 0; i < s->msg->nrcpt; i++)
			if (s->rf[i] & RCPT_ACCEPTED)
				smtp_result(s, i, SMTP_AT_DATA, 1, r);
		s->txstage = SMTP_AT_DATA;
		smtp_reply_copy(&s->txrep, r);
	}
	smtp_enter(s, SMTP_ST_RSET);	/* EXT-PIPE-3: DATA refused */
}

/* The whole body goes into the output buffer in one piece: the caller
 * writes it in as large blocks as the socket takes. */
void
smtp_cl_send_body(struct smtp *s)
{
	size_t before = s->out.len;

	if (s->lone_dot) {
		smtp_send_line(s, ".");
		return;
	}
	smtp_dot_encode(s->msg->body, s->msg->len, &s->out);
	s->dot_sent = 1;
	if (s->cb.trace != NULL) {
		buf_reset(&s->scratch);
		buf_printf(&s->scratch, "(%zu octets of DATA, then .)",
		    s->out.len - before);
		s->cb.trace(s->arg, SMTP_TRACE_OUT, s->scratch.data);
	}
	s->idx = 0;		/* LMTP: next accepted recipient to settle */
}

/* Next accepted recipient at or after s->idx without a final result. */
static size_t
next_accepted(struct smtp *s)
{
	while (s->idx < s->msg->nrcpt &&
	    (!(s->rf[s->idx] & RCPT_ACCEPTED) || (s->rf[s->idx] & RCPT_FINAL)))
		s->idx++;
	return s->idx;
}

void
smtp_cl_on_dot(struct smtp *s, const struct smtp_reply *r)
{
	size_t i;

	if (s->lone_dot) {
		/* The server must deliver nothing (2920 3.1); its reply
		 * does not change the recipients' results. */
		smtp_tx_report(s, s->txstage, &s->txrep);
		smtp_enter(s, SMTP_ST_READY);
		return;
	}
	if (s->o.lmtp) {
		/* LMTP-05/06: one reply per accepted RCPT, in order. */
		i = next_accepted(s);
		smtp_result(s, i, SMTP_AT_DOT, 1, r);
		if (next_accepted(s) < s->msg->nrcpt)
			return;		/* more replies to come */
	} else {
		for (i = 0; i < s->msg->nrcpt; i++)
			if (!(s->rf[i] & RCPT_FINAL))
				smtp_result(s, i, SMTP_AT_DOT, 1, r);
	}
	smtp_tx_report(s, SMTP_AT_DOT, r);
	smtp_enter(s, SMTP_ST_READY);
}
