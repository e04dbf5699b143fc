/* SPDX-License-Identifier: ISC */
#ifndef TERN_OUTCOME_H
#define TERN_OUTCOME_H

#include <stdint.h>

struct conf;
struct queue;
struct queue_env;
struct queue_rcpt;

/* What a final reply means for one recipient (protocols.md FLUSH-5/6). */
enum outcome {
	OUTCOME_SENT,		/* 2xx from the server */
	OUTCOME_DEFER,		/* 4xx from the server: counts toward give_up */
	OUTCOME_FAIL,		/* 5xx, from the server or a local refusal */
	OUTCOME_RETRY		/* no server verdict (lost line): no count */
};

enum outcome outcome_of(int code, int local);

/* Wait after the n-th failed attempt (n >= 1): [retry] schedule, the last
 * value repeating. */
int64_t	outcome_backoff(const struct conf *, unsigned int n);

/* 1 when a pending recipient's first 4xx is older than give_up. Time
 * without a server verdict never counts (first_tempfail is set only by a
 * server's 4xx). */
int	outcome_gave_up(const struct conf *, const struct queue_rcpt *,
	    int64_t now);

/*
 * After an attempt on a message: fails recipients past give_up, then
 * either reschedules it (pending left: now + back-off by its attempts) or
 * finishes it (bounce for failed recipients unless the sender is <>, then
 * delete). relay is the smarthost name for the bounce's Remote-MTA, or
 * NULL. Returns 0, or -1 on a queue error.
 */
int	outcome_settle(const struct conf *, struct queue *, uint64_t id,
	    const char *relay, int64_t now);

#endif
