/* SPDX-License-Identifier: ISC */
#ifndef TERN_TESTS_PEER_H
#define TERN_TESTS_PEER_H

/*
 * An in-memory peer for transcript tests of the SMTP engine: no sockets,
 * no sleeps. The test plays the server with peer_says(), reads what the
 * engine wrote with peer_sent() (one call = one write), and checks the
 * engine's callbacks, which the peer records as text lines in ev:
 *	ready
 *	rcpt IDX STAGE CODE [ESC] final=0|1
 *	done STAGE CODE
 *	starttls
 *	end KIND STATE after_dot=0|1 CODE
 * Messages queued with peer_queue() are handed to smtp_send() on "ready";
 * when none is left the peer calls smtp_quit() (unless hold is set).
 * Test-only code: compile it by including tests/peer.c in the _test.c.
 */
#include "../lib/buf.h"
#include "../smtp/smtp.h"

#define PEER_QMAX	8

struct peer {
	struct smtp		*smtp;
	struct buf		 ev;		/* callback log, see above */
	struct buf		 trace;		/* "> line" / "< line" */
	struct buf		 sent;		/* last peer_sent() */
	const struct smtp_msg	*q[PEER_QMAX];
	size_t			 nq, qi;
	int			 hold;		/* on ready: do nothing */
	int			 ended;
	enum smtp_end_kind	 end_kind;
	int			 end_after_dot;
	int			 end_code;
};

struct peer *peer_client(const struct smtp_client_opts *);
void	 peer_free(struct peer *);
void	 peer_queue(struct peer *, const struct smtp_msg *);
/* Feeds text to the engine in one input: each '\n' becomes CRLF. */
void	 peer_says(struct peer *, const char *text);
/* Feeds raw bytes in one input. Returns smtp_input()'s value. */
int	 peer_raw(struct peer *, const void *, size_t);
/* Drains the engine's output; the text is valid until the next call. */
const char *peer_sent(struct peer *);
/* Clears the event log. */
void	 peer_clear_ev(struct peer *);

#endif
