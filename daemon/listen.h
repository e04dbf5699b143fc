/* SPDX-License-Identifier: ISC */
#ifndef TERN_LISTEN_H
#define TERN_LISTEN_H

struct ternd;

/*
 * The SMTP listeners: every `submit` address (TCP, IPv6, unix:) and, for
 * ETRN, [inbound] listen. Each accepted connection is a server session of
 * the SMTP engine; a message is committed to the queue before its 250.
 * Returns 0, or -1 when a configured address cannot be bound.
 */
int	listen_init(struct ternd *);
void	listen_close(struct ternd *);

#endif
