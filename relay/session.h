/* SPDX-License-Identifier: ISC */
#ifndef TERN_SESSION_H
#define TERN_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"

struct conf;
struct conf_smarthost;
struct queue;

/*
 * One connection to one smarthost carrying the messages ids (in order):
 * connect, TLS, AUTH, a transaction per message, QUIT. Outcomes go to the
 * queue as they arrive and are added up in *res. Messages it did not get
 * to (the connection failed) are rescheduled with the smarthost's back-off
 * and no attempt counted.
 */
void	session_run(const struct conf *, struct queue *,
	    const struct conf_smarthost *, const uint64_t *ids, size_t n,
	    relay_report_fn, void *arg, struct relay_result *res);

#endif
