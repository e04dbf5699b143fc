/* SPDX-License-Identifier: ISC */
#ifndef TERN_QUEUE_INT_H
#define TERN_QUEUE_INT_H

/*
 * Private to queue/: what queue.c (the LMDB side) and queue_rec.c (the
 * envelope record, laid out at the top of queue_rec.c) share. Not for other
 * modules; they use queue.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "queue.h"

/* A stored reply keeps its first QUEUE_REPLY_MAX bytes. */
#define QUEUE_REPLY_MAX	4096

/* Big-endian integers of w bytes (w <= 8), so byte order is numeric order. */
static inline void
be_put(uint8_t *p, uint64_t v, size_t w)
{
	while (w-- > 0) {
		p[w] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static inline uint64_t
be_get(const uint8_t *p, size_t w)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < w; i++)
		v = v << 8 | p[i];
	return v;
}

/* Appends v as a big-endian integer of w bytes (w <= 8). */
void	 queue_rec_int(struct buf *, uint64_t v, size_t w);

/* Length of s cut to max bytes, not inside a UTF-8 sequence. */
size_t	 queue_rec_cut(const char *s, size_t max);

/*
 * 0 if e can be encoded as it is, or EINVAL for what encoding would have
 * to invent or cut (an over-long address, a NULL recipient, a bad state).
 */
int	 queue_rec_check(const struct queue_env *e);

/*
 * Appends e's record (id is the key, so not in it) to b. e must have
 * passed queue_rec_check(); a reply longer than QUEUE_REPLY_MAX is cut.
 */
void	 queue_rec_encode(const struct queue_env *e, struct buf *b);

/*
 * Decodes the record data[0..len) into e (id left 0). Returns 0, or
 * EBADMSG with e cleared. The input is untrusted (any bytes are safe); on 0
 * the caller owns e's strings: queue_env_clear().
 */
int	 queue_rec_decode(const void *data, size_t len, struct queue_env *e);

#endif
