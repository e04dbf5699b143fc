/* SPDX-License-Identifier: ISC */
/*
 * The server's content readers: DATA (RFC 5321 4.1.1.4, 4.5.2) and BDAT
 * (RFC 3030), and the hand-off of a finished message to the caller.
 *
 * SMTP smuggling (protocols.md §2): end of data is recognised only as
 * CR LF "." CR LF, the first CR LF being a real line end (SM-10). A bare
 * CR or bare LF never starts or ends a line for that purpose (SM-11);
 * the reader keeps reading to the real terminator and then refuses the
 * message with 550 5.6.0. Nothing is "repaired" before the scan, so
 * "<LF>.<CR><LF>" and friends cannot end a message and whatever follows
 * them is content, never commands. BDAT content gets the same checks
 * (SM-13): the next hop may use DATA.
 *
 * The reader is a small state machine fed any number of octets at a time,
 * so the terminator may be split across reads (TV-05). It keeps at most
 * size_max octets; past that, or once the message is known to be refused,
 * it only counts.
 */
#include <stdio.h>
#include <string.h>

#include "smtp_int.h"

enum {
	D_BOL = 0,	/* at the start of a line (after a real CRLF) */
	D_DOT,		/* a line starting with "." */
	D_DOTCR,	/* "." CR at the start of a line */
	D_MID,		/* inside a line */
	D_CR		/* inside a line, a CR not yet known to be a CRLF */
};

/* Content octets (after unstuffing) in the order they arrive. */
static void
keep(struct smtp *s, const char *p, size_t n)
{
	struct smtp_srv_tx *t = &s->tx;

	t->size += n;
	if (t->size > s->so.size_max)
		t->bad |= BAD_SIZE;		/* EXT-SIZE-3 */
	if (t->bad == 0)
		buf_add(&t->body, p, n);
}

static void
line_end(struct smtp *s)
{
	struct smtp_srv_tx *t = &s->tx;

	keep(s, "\r\n", 2);
	t->dstate = D_BOL;
	t->linelen = 0;
}

/* A run of ordinary octets inside a line; returns its length. */
static size_t
run(struct smtp *s, const char *p, size_t len)
{
	struct smtp_srv_tx *t = &s->tx;
	size_t j = 0;

	while (j < len && p[j] != '\r' && p[j] != '\n' && p[j] != '\0')
		j++;
	if (j > 0) {
		keep(s, p, j);
		t->linelen += j;
	} else {
		/* A bare LF (a CR would not be here) or a NUL. */
		t->bad |= p[0] == '\n' ? BAD_BARE : BAD_NUL;
		keep(s, p, 1);
		t->linelen++;
		j = 1;
	}
	if (t->linelen > SMTP_DATA_LINE_MAX)	/* TV-08: never split */
		t->bad |= BAD_LONG;
	return j;
}

/*
 * Feeds content. dots: DATA (leading dots, terminator) or BDAT (raw).
 * Returns the octets used; *end = 1 after CR LF "." CR LF.
 */
static size_t
scan(struct smtp *s, const char *p, size_t len, int dots, int *end)
{
	struct smtp_srv_tx *t = &s->tx;
	size_t i = 0;

	*end = 0;
	while (i < len) {
		switch (t->dstate) {
		case D_BOL:
			t->linelen = 0;
			t->dstate = D_MID;
			if (dots && p[i] == '.') {
				t->dstate = D_DOT;
				i++;
			}
			break;
		case D_DOT:
			if (p[i] == '\r') {
				t->dstate = D_DOTCR;
				i++;
			} else {
				t->dstate = D_MID;	/* 4.5.2: unstuffed */
			}
			break;
		case D_DOTCR:
			if (p[i] == '\n') {
				*end = 1;
				return i + 1;
			}
			t->bad |= BAD_BARE;		/* "." CR x */
			keep(s, "\r", 1);
			t->linelen++;
			t->dstate = D_MID;
			break;
		case D_CR:
			if (p[i] == '\n') {
				line_end(s);
				i++;
				break;
			}
			t->bad |= BAD_BARE;		/* CR x */
			keep(s, "\r", 1);
			t->linelen++;
			t->dstate = D_MID;
			break;
		default:
			if (p[i] == '\r') {
				t->dstate = D_CR;
				i++;
			} else {
				i += run(s, p + i, len - i);
			}
			break;
		}
	}
	return i;
}

static void
reader_reset(struct smtp_srv_tx *t)
{
	buf_reset(&t->body);
	t->size = 0;
	t->bad = 0;
	t->dstate = D_BOL;
	t->linelen = 0;
}

/* The refusal for content that failed a check, most telling first. */
static void
refuse(struct smtp *s)
{
	unsigned int bad = s->tx.bad;
	char t[96];

	if (bad & BAD_BARE)
		smtp_srv_say(s, 550, "5.6.0 Bare CR or LF not allowed in "
		    "message content");
	else if (bad & BAD_SIZE) {
		snprintf(t, sizeof t, "5.3.4 Message exceeds the size limit "
		    "of %llu octets", (unsigned long long)s->so.size_max);
		smtp_srv_say(s, 552, t);
	} else if (bad & BAD_NUL)
		smtp_srv_say(s, 554, "5.6.0 NUL octet in message content");
	else
		smtp_srv_say(s, 554, "5.6.0 Line longer than 998 octets in "
		    "message content");
	smtp_srv_tx_reset(s);
	smtp_enter(s, SMTP_ST_COMMAND);
}

/*
 * A complete, clean message: hand it to the caller, who commits it and
 * answers with smtp_server_reply() (SMTP-40: no 250 before the commit).
 */
static void
finish(struct smtp *s)
{
	struct smtp_srv_tx *t = &s->tx;
	struct smtp_envelope *e = &s->env;
	char trace[64];

	snprintf(trace, sizeof trace, "(%llu octets of %s)",
	    (unsigned long long)t->size, t->bdat ? "BDAT" : "DATA");
	smtp_trace(s, SMTP_TRACE_IN, trace);
	if (t->bad) {
		refuse(s);
		return;
	}
	e->helo = s->helo;
	e->esmtp = s->esmtp;
	e->tls = s->tls;
	e->auth_user = s->auth_user;
	e->auth = s->srv_authed ? t->auth : NULL;	/* EXT-AUTH-8 */
	e->from = t->from;
	e->envid = t->envid;
	e->ret = t->ret;
	e->body8 = t->body8;
	e->utf8 = t->utf8;
	e->chunked = t->bdat;
	e->rcpt = t->rcpt;
	e->nrcpt = t->nrcpt;
	e->body = t->body.data != NULL ? t->body.data : "";
	e->len = t->body.len;
	smtp_enter(s, SMTP_ST_SRV_WAIT);
	if (s->scb.message != NULL)
		s->scb.message(s->arg, s, e);
	else
		smtp_server_reply(s, 451, "4.3.0 No message handler");
}

/* ---- DATA ---- */

void
smtp_srv_data_start(struct smtp *s)
{
	reader_reset(&s->tx);
}

size_t
smtp_srv_data_bytes(struct smtp *s, const char *p, size_t len)
{
	int end;
	size_t n = scan(s, p, len, 1, &end);

	if (end)
		finish(s);
	return n;
}

/* ---- BDAT (RFC 3030 2) ---- */

static void
chunk_done(struct smtp *s)
{
	struct smtp_srv_tx *t = &s->tx;
	char msg[64];

	if (t->chunk_code != 0) {
		smtp_srv_say(s, t->chunk_code, t->chunk_text);
		t->chunk_code = 0;
		smtp_enter(s, SMTP_ST_COMMAND);
		return;
	}
	if (!t->chunk_last) {
		if (t->bad) {	/* fail early; RSET must follow (3030 2) */
			refuse(s);
			return;
		}
		snprintf(msg, sizeof msg, "2.0.0 %llu octets received",
		    (unsigned long long)t->chunk_size);
		smtp_srv_say(s, 250, msg);
		smtp_enter(s, SMTP_ST_COMMAND);
		return;
	}
	/* The content must end in CRLF: a pending CR is bare, a last line
	 * without one gets it (SMTP-32). */
	if (t->dstate == D_CR)
		t->bad |= BAD_BARE;
	else if (t->dstate == D_MID)
		line_end(s);
	finish(s);
}

/*
 * "BDAT n [LAST]": exactly n octets follow. Whatever the verdict on the
 * command, the chunk is read (and swallowed on refusal) before the reply,
 * so the octets are never taken for commands (EXT-BDAT-2). Refused chunks
 * do not count as bad commands: a pipelining client may have many in
 * flight after the first refusal.
 */
void
smtp_srv_bdat_start(struct smtp *s, const struct smtp_cmd *c)
{
	struct smtp_srv_tx *t = &s->tx;

	t->chunk_size = t->chunk_left = c->size;
	t->chunk_last = c->last;
	t->chunk_code = 0;
	if (!t->open) {
		t->chunk_code = 503;
		t->chunk_text = "5.5.1 Need MAIL command";
	} else if (t->nrcpt == 0) {
		t->chunk_code = 554;
		t->chunk_text = "5.5.1 No valid recipients";
	} else if (!t->bdat) {
		t->bdat = 1;	/* no DATA in this transaction now */
		reader_reset(t);
	}
	smtp_enter(s, SMTP_ST_SRV_BDAT);
	if (t->chunk_left == 0)
		chunk_done(s);
}

size_t
smtp_srv_bdat_bytes(struct smtp *s, const char *p, size_t len)
{
	struct smtp_srv_tx *t = &s->tx;
	size_t n = len < t->chunk_left ? len : (size_t)t->chunk_left;
	int end;

	if (t->chunk_code == 0)
		scan(s, p, n, 0, &end);
	t->chunk_left -= n;
	if (t->chunk_left == 0)
		chunk_done(s);
	return n;
}
