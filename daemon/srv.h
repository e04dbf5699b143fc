/* SPDX-License-Identifier: ISC */
#ifndef TERN_SRV_H
#define TERN_SRV_H

struct sockaddr;
struct ternd;
struct tls_config;

/*
 * One accepted SMTP connection, served by the engine's server side on the
 * event loop: non-blocking socket and TLS, the engine's deadlines as a
 * timer, each message committed to the queue before its 250. peer NULL is
 * the unix socket (trusted like loopback). inbound: the ETRN callback
 * listener (recipients only in [inbound] domains; mail for the mailbox).
 */
void	srv_start(struct ternd *, int fd, const struct sockaddr *peer,
	    int inbound, struct tls_config *);
/* Shutdown: every session says 421 and closes. */
void	srv_stop_all(void);

#endif
