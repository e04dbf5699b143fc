/* SPDX-License-Identifier: ISC */
#ifndef TERN_ODMR_H
#define TERN_ODMR_H

#include <stddef.h>
#include <stdint.h>

#include "../relay/relay.h"

struct conf;
struct queue;

/*
 * Pulling the user's inbound mail from the provider, by the configured
 * [inbound] method:
 * - atrn (RFC 2645): connect, TLS, AUTH, "ATRN d1,d2"; on 250 the roles
 *   reverse on the same connection and TLS session and the provider's
 *   mail is received with the server side of the engine, each message
 *   committed to the queue (for the local mailbox) before its 250.
 *   Repeats while the provider keeps delivering, until it says 453 (no
 *   mail), within a bound.
 * - etrn (RFC 1985): connect, TLS, AUTH if configured, one "ETRN domain"
 *   per domain; the provider then delivers to our listener, later.
 */
struct pull_result {
	unsigned int	 received;	/* messages committed (atrn) */
	unsigned int	 sessions;
	int		 code;		/* last ATRN / ETRN reply code */
	char		 reply[512];	/* ... and its text */
	char		 error[512];	/* a session-level problem */
	uint64_t	*ids;		/* the received messages */
	size_t		 nids;
};

/*
 * Runs one pull. Report lines (one per message received, one per ETRN
 * reply) go to fn. Records the "last_pull" status. Returns the exit code
 * for `tern pull`: 0 (mail received, or none waiting), 75 (the provider
 * said try later: 450, 451, 458), 69 (unreachable, TLS or AUTH refused,
 * ATRN/ETRN not offered or refused for good).
 */
int	odmr_pull(const struct conf *, struct queue *, relay_report_fn fn,
	    void *arg, struct pull_result *);
void	pull_result_clear(struct pull_result *);

#endif
