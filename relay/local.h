/* SPDX-License-Identifier: ISC */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"

struct conf;
struct queue;

/*
 * Hands inbound messages (QUEUE_F_INBOUND) to the local mailbox of
 * [deliver]: a maildir (one copy per message: this is a single-user node)
 * or LMTP (one reply per recipient). A local temporary failure (Dovecot
 * down, disk full) keeps the message queued on the retry schedule; a
 * permanent one fails the recipient and bounces to the original sender
 * through the smarthost.
 */
void	local_run(const struct conf *, struct queue *, const uint64_t *ids,
	    size_t n, relay_report_fn, void *arg, struct relay_result *res);

#endif
