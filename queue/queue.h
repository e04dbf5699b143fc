/* SPDX-License-Identifier: ISC */
#ifndef TERN_QUEUE_H
#define TERN_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/buf.h"

/*
 * The durable queue, on LMDB. A message is its bytes (canonical CRLF form),
 * its envelope and one state per recipient; a schedule index answers "what
 * is due next". The queue knows nothing of SMTP: replies are opaque text,
 * and what a reply means is decided by the caller.
 *
 * Safe for several processes at once (the daemon, the CLI, many sendmails):
 * every change is one LMDB write transaction, committed with fsync before
 * the call returns. Open one handle per process, after any fork.
 *
 * Errors: functions return 0 or -1 with errno set and queue_error() saying
 * why in words. errno ENOENT: no such message. ENOSPC, EAGAIN, EIO: a
 * temporary condition (disk full, ...) that lost nothing; the caller answers
 * 452 / exits 75. queue_temporary() tells which.
 */

struct queue;

enum queue_rcpt_state {
	QUEUE_PENDING = 0,
	QUEUE_SENT,
	QUEUE_FAILED,
};

/* NOTIFY (RFC 3461): 0 means not given. */
#define QUEUE_NOTIFY_NEVER	0x01
#define QUEUE_NOTIFY_SUCCESS	0x02
#define QUEUE_NOTIFY_FAILURE	0x04
#define QUEUE_NOTIFY_DELAY	0x08

/* RET (RFC 3461): 0 means not given. */
#define QUEUE_RET_FULL		1
#define QUEUE_RET_HDRS		2

/* Message flags. */
#define QUEUE_F_HELD		0x0001	/* hold: not sent until released */
#define QUEUE_F_8BIT		0x0002	/* body has 8-bit octets (8BITMIME) */
#define QUEUE_F_SMTPUTF8	0x0004	/* envelope or header needs SMTPUTF8 */
#define QUEUE_F_INBOUND		0x0008	/* received for local delivery */
#define QUEUE_F_BOUNCED		0x0010	/* the bounce for it was queued */
#define QUEUE_F_BODY_8BITMIME	0x0020	/* submitted with BODY=8BITMIME */

struct queue_rcpt {
	char		*addr;		/* the recipient, as given */
	char		*orcpt;		/* ORCPT "rfc822;..." or NULL */
	unsigned int	 notify;	/* QUEUE_NOTIFY_* */
	enum queue_rcpt_state state;
	uint32_t	 attempts;	/* attempts that reached a server reply */
	int64_t		 first_tempfail;	/* first 4xx from a server; 0 */
	int64_t		 last_attempt;	/* 0: never */
	char		*reply;		/* last server reply, or NULL */
};

struct queue_env {
	uint64_t	 id;		/* assigned by queue_put() */
	char		*sender;	/* "" for the null sender */
	char		*envid;		/* ENVID or NULL */
	unsigned int	 ret;		/* QUEUE_RET_* */
	unsigned int	 flags;		/* QUEUE_F_* */
	uint64_t	 size;		/* bytes stored */
	int64_t		 queued_at;	/* wall-clock seconds */
	int64_t		 next_attempt;	/* wall-clock seconds; 0 = now */
	struct queue_rcpt *rcpt;
	size_t		 nrcpt;
};

/* Frees the strings and the rcpt array; leaves the envelope zeroed. */
void	 queue_env_clear(struct queue_env *);
/* Adds a pending recipient (copies addr and orcpt). */
void	 queue_env_add_rcpt(struct queue_env *, const char *addr,
	    const char *orcpt, unsigned int notify);

/*
 * Opens (creating with mode 0700) the queue under dir: dir/queue/ holds the
 * LMDB files. Repairs what a crash can leave (stale reader slots). NULL with
 * errno set on failure; *why (may be NULL) then points at a static reason.
 */
struct queue *queue_open(const char *dir, const char **why);
void	 queue_close(struct queue *);		/* NULL is fine */
/* Gives back the resident pages of the map a long run has touched (they
 * stay cached by the kernel); for runners that walk a big queue. */
void	 queue_trim(struct queue *);
const char *queue_error(const struct queue *);
int	 queue_temporary(const struct queue *);	/* last error was temporary */

/*
 * Commits a new message in one transaction: envelope, body and schedule
 * entry; assigns env->id (unique, increasing with arrival time) and sets
 * env->size and env->queued_at. When the call returns 0 the message is on
 * disk (fsync). A full map is grown and the commit retried; a full disk is
 * a temporary error that leaves nothing behind.
 */
int	 queue_put(struct queue *, struct queue_env *env, const void *body,
	    size_t len);

/* Reads the envelope (a copy, owned by the caller: queue_env_clear()). */
int	 queue_get(struct queue *, uint64_t id, struct queue_env *out);
/* Appends the message bytes to out. */
int	 queue_body(struct queue *, uint64_t id, struct buf *out);

/*
 * Calls cb for every message in id order with a borrowed envelope valid for
 * the call. A non-zero cb return stops the walk and is returned.
 */
int	 queue_walk(struct queue *,
	    int (*cb)(void *arg, const struct queue_env *), void *arg);

/*
 * Ids of messages due at or before now that are not held and still have a
 * pending recipient, in schedule order, at most max of them. Returns the
 * number found (>= 0) or -1. *next (may be NULL) gets the earliest
 * next_attempt after now of the remaining ones, or 0 when none.
 * With now = INT64_MAX, every unheld message with a pending recipient.
 */
ssize_t	 queue_due(struct queue *, int64_t now, uint64_t *ids, size_t max,
	    int64_t *next);

/*
 * Records the outcome of one attempt for one recipient in one durable
 * commit: state, reply (copied, kept as text), attempts + 1, last_attempt =
 * now; tempfail != 0 sets first_tempfail = now if it was 0.
 */
int	 queue_rcpt_set(struct queue *, uint64_t id, unsigned int idx,
	    enum queue_rcpt_state, const char *reply, int tempfail,
	    int64_t now);
/* One recipient's outcome, for queue_record(). */
struct queue_outcome {
	unsigned int		 idx;
	enum queue_rcpt_state	 state;
	const char		*reply;		/* copied, kept as text */
	int			 tempfail;
};

/*
 * The outcomes of one attempt for several recipients, in one durable
 * commit (each as queue_rcpt_set() would record it). In the same commit:
 * when no recipient is left pending or failed (all sent) the message is
 * removed and *gone set to 1; else, when next > 0 and some recipient is
 * pending, the message is scheduled at next.
 */
int	 queue_record(struct queue *, uint64_t id,
	    const struct queue_outcome *, size_t n, int64_t now, int64_t next,
	    int *gone);
/* Moves the message in the schedule. */
int	 queue_schedule(struct queue *, uint64_t id, int64_t when);
/* Sets or clears flag bits (QUEUE_F_HELD, QUEUE_F_BOUNCED). */
int	 queue_set_flags(struct queue *, uint64_t id, unsigned int set,
	    unsigned int clear);
/* Removes the message, its body, schedule entry and history. */
int	 queue_delete(struct queue *, uint64_t id);

/* History: one line per event ("2026-...Z text"), kept with the message. */
int	 queue_log(struct queue *, uint64_t id, int64_t when,
	    const char *text);
int	 queue_history(struct queue *, uint64_t id,
	    int (*cb)(void *arg, int64_t when, const char *text), void *arg);

/*
 * Small named values for status (last flush, last pull, link state):
 * key and value are text. queue_meta_get appends to out; ENOENT if unset.
 */
int	 queue_meta_set(struct queue *, const char *key, const char *value);
int	 queue_meta_get(struct queue *, const char *key, struct buf *out);

/* Queue ids as text: fixed width, lower-case, sorting like the numbers. */
#define QUEUE_ID_LEN	13
char	*queue_id_str(uint64_t id, char buf[QUEUE_ID_LEN + 1]);
int	 queue_id_parse(const char *s, uint64_t *id);	/* 0 or -1 */

#endif
