/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the envelope record decoder (queue_rec.c), which reads
 * whatever the disk holds. Invariants: decoding any bytes is safe; what
 * decodes passes queue_rec_check(), encodes to exactly the same bytes
 * (the format has one encoding per envelope) and decodes again to the
 * same envelope.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../lib/buf.h"
#include "queue.h"
#include "queue_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static void
same_env(const struct queue_env *a, const struct queue_env *b)
{
	size_t i;

	assert(same_str(a->sender, b->sender) && same_str(a->envid, b->envid));
	assert(a->ret == b->ret && a->flags == b->flags && a->size == b->size);
	assert(a->queued_at == b->queued_at);
	assert(a->next_attempt == b->next_attempt && a->nrcpt == b->nrcpt);
	for (i = 0; i < a->nrcpt; i++) {
		const struct queue_rcpt *x = &a->rcpt[i], *y = &b->rcpt[i];

		assert(same_str(x->addr, y->addr));
		assert(same_str(x->orcpt, y->orcpt));
		assert(same_str(x->reply, y->reply));
		assert(x->notify == y->notify && x->state == y->state);
		assert(x->attempts == y->attempts);
		assert(x->first_tempfail == y->first_tempfail);
		assert(x->last_attempt == y->last_attempt);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_env e, e2;
	struct buf b = BUF_INIT;
	int rc;

	memset(&e, 0xa5, sizeof e);	/* the decoder must not trust it */
	if ((rc = queue_rec_decode(data, size, &e)) != 0) {
		assert(rc == EBADMSG);
		assert(e.rcpt == NULL && e.sender == NULL && e.nrcpt == 0);
		return 0;
	}
	assert(e.id == 0 && e.sender != NULL);
	assert(queue_rec_check(&e) == 0);
	queue_rec_encode(&e, &b);
	assert(b.len == size && memcmp(b.data, data, size) == 0);
	assert(queue_rec_decode(b.data, b.len, &e2) == 0);
	same_env(&e, &e2);
	queue_env_clear(&e2);
	queue_env_clear(&e);
	buf_clear(&b);
	return 0;
}
