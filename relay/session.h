/* SPDX-License-Identifier: ISC */
#ifndef TERN_SESSION_H
#define TERN_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"

struct conf;
struct conf_peer;
struct conf_smarthost;
struct queue;

/* Where a session goes: a smarthost, or the local LMTP server. */
struct target {
	const char		*name;	/* back-off key; NULL: unnamed */
	const char		*host;	/* TCP, or NULL with unix_path */
	int			 port;
	const char		*unix_path;
	const struct conf_peer	*peer;	/* TLS and AUTH; NULL: neither */
	int			 oauth;	/* the secret is an OAuth2 token */
	int			 lmtp;
	const char		*rcpt_as;	/* LMTP: every RCPT is this */
};

void	target_smarthost(struct target *, const struct conf_smarthost *);
/* The [deliver] lmtp target; -1 when lmtp is malformed. */
int	target_lmtp(struct target *, const struct conf *);

/*
 * One connection to one target carrying the messages ids (in order):
 * connect, TLS, AUTH, a transaction per message, QUIT. Outcomes go to the
 * queue as they arrive and are added up in *res. Messages it did not get
 * to (the connection failed) are rescheduled with the target's back-off
 * and no attempt counted.
 */
void	session_run(const struct conf *, struct queue *, const struct target *,
	    const uint64_t *ids, size_t n, relay_report_fn, void *arg,
	    struct relay_result *res);

#endif
