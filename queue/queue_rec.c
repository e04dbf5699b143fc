/* SPDX-License-Identifier: ISC */
/*
 * The envelope record: struct queue_env as bytes, the value of the env
 * database (queue.c keeps the databases, the crash states and the map).
 *
 * Envelope record, version 1. Integers are big-endian; str = len(4) bytes;
 * len 0xffffffff = NULL, no NUL inside; every field checked on decode,
 * trailing bytes rejected:
 *
 *   version(1)=1 flags(4) ret(1) size(8) queued_at(8) next_attempt(8)
 *   sender:str (<= 1024, "" = null sender) envid:str (<= 1024, or NULL)
 *   nrcpt(4) (<= 100000), then per recipient:
 *     addr:str (<= 1024) orcpt:str (<= 1024, or NULL) notify(1) state(1)
 *     attempts(4) first_tempfail(8) last_attempt(8)
 *     reply:str (<= 4096 or NULL; longer replies keep their start)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "queue.h"
#include "queue_int.h"

#define ADDR_MAX	1024
#define NRCPT_MAX	100000
#define RCPT_MIN	34		/* bytes of a recipient, empty strings */
#define REC_VERSION	1
#define STR_NULL	UINT32_MAX

void
queue_rec_int(struct buf *b, uint64_t v, size_t w)
{
	uint8_t t[8];

	be_put(t, v, w);
	buf_add(b, t, w);
}

size_t
queue_rec_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

static void
enc_str(struct buf *b, const char *s, size_t max)
{
	size_t n;

	if (s == NULL) {
		queue_rec_int(b, STR_NULL, 4);
		return;
	}
	n = queue_rec_cut(s, max);
	queue_rec_int(b, n, 4);
	buf_add(b, s, n);
}

/* --- envelopes ---------------------------------------------------------- */

void
queue_env_clear(struct queue_env *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt && e->rcpt != NULL; i++) {
		free(e->rcpt[i].addr);
		free(e->rcpt[i].orcpt);
		free(e->rcpt[i].reply);
	}
	free(e->rcpt);
	free(e->sender);
	free(e->envid);
	memset(e, 0, sizeof *e);
}

void
queue_env_add_rcpt(struct queue_env *e, const char *addr, const char *orcpt,
    unsigned int notify)
{
	struct queue_rcpt *r;

	e->rcpt = xreallocarray(e->rcpt, e->nrcpt + 1, sizeof *e->rcpt);
	r = &e->rcpt[e->nrcpt++];
	memset(r, 0, sizeof *r);
	r->addr = xstrdup(addr);
	r->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
	r->notify = notify;
	r->state = QUEUE_PENDING;
}

/* --- encoding ----------------------------------------------------------- */

/* What encoding would have to invent or cut is refused, not stored. */
int
queue_rec_check(const struct queue_env *e)
{
	size_t i;

	if ((e->sender != NULL && strlen(e->sender) > ADDR_MAX) ||
	    (e->envid != NULL && strlen(e->envid) > ADDR_MAX) ||
	    e->nrcpt > NRCPT_MAX || (e->nrcpt > 0 && e->rcpt == NULL) ||
	    e->ret > QUEUE_RET_HDRS)
		return EINVAL;
	for (i = 0; i < e->nrcpt; i++) {
		const struct queue_rcpt *r = &e->rcpt[i];

		if (r->addr == NULL || strlen(r->addr) > ADDR_MAX ||
		    (r->orcpt != NULL && strlen(r->orcpt) > ADDR_MAX) ||
		    r->notify > 0xff || (unsigned int)r->state > QUEUE_FAILED)
			return EINVAL;
	}
	return 0;
}

void
queue_rec_encode(const struct queue_env *e, struct buf *b)
{
	size_t i;

	queue_rec_int(b, REC_VERSION, 1);
	queue_rec_int(b, e->flags, 4);
	queue_rec_int(b, e->ret, 1);
	queue_rec_int(b, e->size, 8);
	queue_rec_int(b, (uint64_t)e->queued_at, 8);
	queue_rec_int(b, (uint64_t)e->next_attempt, 8);
	enc_str(b, e->sender != NULL ? e->sender : "", ADDR_MAX);
	enc_str(b, e->envid, ADDR_MAX);
	queue_rec_int(b, e->nrcpt, 4);
	for (i = 0; i < e->nrcpt; i++) {
		const struct queue_rcpt *r = &e->rcpt[i];

		enc_str(b, r->addr, ADDR_MAX);
		enc_str(b, r->orcpt, ADDR_MAX);
		queue_rec_int(b, r->notify, 1);
		queue_rec_int(b, (uint64_t)r->state, 1);
		queue_rec_int(b, r->attempts, 4);
		queue_rec_int(b, (uint64_t)r->first_tempfail, 8);
		queue_rec_int(b, (uint64_t)r->last_attempt, 8);
		enc_str(b, r->reply, QUEUE_REPLY_MAX);
	}
}

/* --- decoding ----------------------------------------------------------- */

/* A bounded reader: any short read sets bad and yields zeros from then on. */
struct rd {
	const uint8_t	*p;
	size_t		 n;
	int		 bad;
};

static uint64_t
rd_int(struct rd *r, size_t w)
{
	uint64_t v;

	if (r->bad || r->n < w) {
		r->bad = 1;
		return 0;
	}
	v = be_get(r->p, w);
	r->p += w;
	r->n -= w;
	return v;
}

static char *
rd_str(struct rd *r, size_t max, int nullable)
{
	uint64_t len = rd_int(r, 4);
	char *s;

	if (r->bad)
		return NULL;
	if (len == STR_NULL && nullable)
		return NULL;
	if (len > max || len > r->n || memchr(r->p, '\0', len) != NULL) {
		r->bad = 1;
		return NULL;
	}
	s = xstrndup((const char *)r->p, len);
	r->p += len;
	r->n -= len;
	return s;
}

static void
rd_rcpt(struct rd *r, struct queue_rcpt *rc)
{
	uint64_t st;

	rc->addr = rd_str(r, ADDR_MAX, 0);
	rc->orcpt = rd_str(r, ADDR_MAX, 1);
	rc->notify = (unsigned int)rd_int(r, 1);
	st = rd_int(r, 1);
	rc->attempts = (uint32_t)rd_int(r, 4);
	rc->first_tempfail = (int64_t)rd_int(r, 8);
	rc->last_attempt = (int64_t)rd_int(r, 8);
	rc->reply = rd_str(r, QUEUE_REPLY_MAX, 1);
	if (st > QUEUE_FAILED)
		r->bad = 1;
	else
		rc->state = (enum queue_rcpt_state)st;
}

/*
 * Decodes a record into e (id left 0). 0, or EBADMSG with e cleared. Input
 * is untrusted: lengths are checked against what is left before any use,
 * and nrcpt against the bytes that could hold that many, before allocating.
 */
int
queue_rec_decode(const void *data, size_t len, struct queue_env *e)
{
	struct rd r = { data, len, 0 };
	uint64_t n;
	size_t i;

	memset(e, 0, sizeof *e);
	if (data == NULL || rd_int(&r, 1) != REC_VERSION)
		return EBADMSG;
	e->flags = (unsigned int)rd_int(&r, 4);
	e->ret = (unsigned int)rd_int(&r, 1);
	e->size = rd_int(&r, 8);
	e->queued_at = (int64_t)rd_int(&r, 8);
	e->next_attempt = (int64_t)rd_int(&r, 8);
	e->sender = rd_str(&r, ADDR_MAX, 0);
	e->envid = rd_str(&r, ADDR_MAX, 1);
	n = rd_int(&r, 4);
	if (r.bad || e->ret > QUEUE_RET_HDRS || n > NRCPT_MAX ||
	    n > r.n / RCPT_MIN)
		goto bad;
	if (n > 0)
		e->rcpt = xcalloc((size_t)n, sizeof *e->rcpt);
	e->nrcpt = (size_t)n;
	for (i = 0; i < e->nrcpt && !r.bad; i++)
		rd_rcpt(&r, &e->rcpt[i]);
	if (r.bad || r.n != 0)
		goto bad;
	return 0;
bad:
	queue_env_clear(e);
	return EBADMSG;
}
