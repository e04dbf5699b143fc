/* SPDX-License-Identifier: ISC */
#ifndef TERN_CONN_H
#define TERN_CONN_H

#include <signal.h>
#include <stddef.h>

struct buf;
struct smtp;
struct tls_config;

/*
 * One outgoing connection driven to the end of an SMTP session: TCP
 * connect with a deadline, optional implicit TLS, and a pump that moves
 * bytes between the socket (through TLS when up) and the engine, honouring
 * the engine's deadlines. For the runs that own their process: `tern
 * flush`, `tern pull`, `tern check` and the daemon's delivery child.
 */
struct conn;

/*
 * Set it (a signal handler may) to end the session in flight now rather
 * than at the engine's deadlines, which are minutes (RFC 5321 4.5.3.2):
 * conn_run() aborts at its next wakeup, so each recipient without a final
 * reply keeps a local 4xx (after the final dot: "status unknown", the
 * window of RFC 5321 6.1), and a connect or TLS handshake gives up.
 */
extern volatile sig_atomic_t conn_abort;

/*
 * Connects to host:port (every address getaddrinfo gives, in order) within
 * timeout_ms each. NULL on failure with err "connect to host[addr]:port:
 * Connection refused" (or the resolver's words).
 */
struct conn	*conn_open(const char *host, int port, int timeout_ms,
		    char *err, size_t errlen);
/* Connects to a unix-domain stream socket (LMTP to Dovecot). */
struct conn	*conn_open_unix(const char *path, char *err, size_t errlen);
void		 conn_free(struct conn *);	/* closes; NULL is fine */

/* "host[addr]:port", for logs (relay=...). */
const char	*conn_peer(const struct conn *);

/*
 * TLS handshake as a client on the connection (implicit TLS, or after
 * STARTTLS's 220), verifying the certificate for servername. 0, or -1 with
 * err naming why (the certificate's problem, a timeout, ...).
 */
int		 conn_tls(struct conn *, struct tls_config *,
		    const char *servername, int timeout_ms, char *err,
		    size_t errlen);
/* "TLSv1.3 ..." after conn_tls, else NULL. Owned by the conn. */
const char	*conn_tls_info(const struct conn *);
/* Appends the peer certificate's description (tls_peer_info()). */
int		 conn_tls_peer(const struct conn *, struct buf *);

/*
 * Ask the pump to do the TLS handshake before feeding the engine again:
 * call it from the engine's starttls callback; conn_run() then runs
 * conn_tls() and smtp_tls_up(), or ends the session on failure.
 */
void		 conn_want_tls(struct conn *, struct tls_config *,
		    const char *servername);

/*
 * Runs the engine on this connection until smtp_done(): writes its output,
 * feeds it input, fires its deadlines (smtp_timeout()) and the EOF. The
 * engine's callbacks run from inside. Returns 0 when the session ended by
 * itself (any outcome: the callbacks said which), -1 when the pump failed
 * (TLS error after STARTTLS) with err set; the engine has then been
 * aborted.
 */
int		 conn_run(struct conn *, struct smtp *, char *err,
		    size_t errlen);

#endif
