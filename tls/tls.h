/* SPDX-License-Identifier: ISC */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

/*
 * TLS on GnuTLS for non-blocking sockets. This module knows no SMTP and never
 * blocks: every call that would wait returns TLS_WANT_READ or TLS_WANT_WRITE
 * and the caller re-arms its poll() for exactly that, then calls again.
 *
 * Two objects: a struct tls_config (credentials and policy, shared by many
 * connections, made once per configuration load) and a struct tls (one
 * connection over a socket the caller owns). TLS 1.2 is the minimum both ways
 * (RFC 8314 §5). A client verifies the server certificate inside the
 * handshake: chain, host name (RFC 6125/7817) and, when set, the SHA-256 pin
 * of the leaf certificate; the handshake fails with a reason otherwise, and
 * there is no way to "continue anyway" (RFC 8314 §5.2).
 *
 * Single-threaded: a config and its connections belong to one thread.
 */

/* Negative, so they never collide with a byte count. */
#define TLS_WANT_READ	(-2)	/* poll for POLLIN, then call again */
#define TLS_WANT_WRITE	(-3)	/* poll for POLLOUT, then again */

struct tls_config;			/* fields live in tls.c */
struct tls;				/* fields live in tls.c */

/*
 * A client policy. ca_file is a PEM bundle of trust anchors; NULL means the
 * system trust store. fingerprint is NULL or "sha256:HEX" (64 hex digits,
 * either case, colons between bytes allowed): the SHA-256 of the server's
 * DER leaf certificate, checked in addition to the chain and name.
 * Returns a config with one reference, or NULL with the reason in err
 * (unreadable or empty CA file, malformed fingerprint, no system store).
 * The strings are copied.
 */
struct tls_config *tls_config_client(const char *ca_file,
		    const char *fingerprint, char *err, size_t errlen);

/*
 * A server policy: PEM certificate (the leaf first, then any intermediates)
 * and its private key. Client certificates are not requested. Returns a
 * config with one reference, or NULL with the reason (file, GnuTLS's words)
 * in err.
 */
struct tls_config *tls_config_server(const char *cert_file,
		    const char *key_file, char *err, size_t errlen);

/*
 * Drops the caller's reference. Every struct tls made from the config holds
 * its own reference, so a config may be freed (say, on reload) while its
 * connections live on. NULL is fine.
 */
void		tls_config_free(struct tls_config *);

/*
 * A client connection on fd, which must be a connected, non-blocking stream
 * socket. servername is the configured host the certificate must be for: a
 * DNS name (also sent as SNI, RFC 6066 §3) or an IP literal (matched against
 * the certificate's IP addresses, no SNI). NULL skips the name check and is
 * only for pin-only or test setups; every real caller passes the host.
 * STARTTLS (RFC 3207 §4.2, TLS-05): the caller must have thrown away every
 * plaintext byte it had buffered from fd before creating the object; the
 * first byte GnuTLS reads must be the peer's first TLS byte.
 * Nothing is sent until tls_handshake(). The fd stays the caller's.
 * Returns NULL (errno set) only when GnuTLS cannot allocate a session.
 */
struct tls	*tls_client(struct tls_config *, int fd,
		    const char *servername);

/*
 * A server connection on fd (connected, non-blocking). Same STARTTLS rule as
 * tls_client(): plaintext already read past the STARTTLS line is discarded
 * by the caller, never handed on. Returns NULL (errno set) only on ENOMEM.
 */
struct tls	*tls_server(struct tls_config *, int fd);

/* Frees the session; does not send close_notify and does not close fd.
 * NULL is fine. */
void		tls_free(struct tls *);

/*
 * Drives the handshake. Returns 0 when done (and, for a client, the server
 * certificate verified), TLS_WANT_READ / TLS_WANT_WRITE, or -1 with
 * tls_error() saying why, e.g. "certificate not trusted: signer not found",
 * "certificate is for 'a.example', not 'b.example'", "certificate expired
 * on 2020-12-31T23:59:59Z", "fingerprint mismatch: got sha256:...", or the
 * peer's alert. After -1 the connection is dead: free it and close fd.
 */
int		tls_handshake(struct tls *);

/*
 * Reads up to len (> 0) decrypted bytes. Returns >0 bytes read, 0 at end of
 * stream, TLS_WANT_READ / TLS_WANT_WRITE (TLS 1.3 may need to write, e.g. a
 * key update reply), or -1 with tls_error(). End of stream is either the
 * peer's close_notify or a bare TCP EOF; tls_eof_clean() tells which.
 * Before sleeping in poll(), call again while tls_pending() > 0: poll cannot
 * see bytes GnuTLS has already decrypted.
 */
ssize_t		tls_read(struct tls *, void *, size_t len);

/*
 * Writes up to len bytes as TLS records. Returns the count taken (>0, may be
 * less than len: call again with the rest), TLS_WANT_READ / TLS_WANT_WRITE,
 * or -1 with tls_error(). After TLS_WANT_*, the next tls_write() must pass
 * the same bytes again (GnuTLS holds the encrypted record and sends it
 * then); only then may the queue move on. len 0 returns 0.
 */
ssize_t		tls_write(struct tls *, const void *, size_t len);

/* Decrypted bytes GnuTLS holds that tls_read() returns without I/O. */
size_t		tls_pending(struct tls *);

/*
 * Sends close_notify (RFC 8446 §6.1, RFC 8314 §3.4) without waiting for the
 * peer's. Returns 0 when sent, TLS_WANT_WRITE (call again when writable, or
 * give up: best effort), or -1 with tls_error(). Does not close fd.
 */
int		tls_close(struct tls *);

/* 1 if the last end of stream was the peer's close_notify, 0 if TCP EOF. */
int		tls_eof_clean(const struct tls *);

/* Why the last failing call failed; "" when nothing failed. Owned by t. */
const char	*tls_error(const struct tls *);

/*
 * The negotiated protocol and cipher suite, "TLSv1.3 TLS_AES_256_GCM_SHA384",
 * for logs and the Received tls clause (RFC 8314 §4.3). A new string the
 * caller frees; "none" before the handshake finished.
 */
char		*tls_describe(const struct tls *);

/*
 * Appends a description of the peer's leaf certificate to b, one
 * "key: value" line each: subject, issuer, names (DNS and IP), not before,
 * not after (ISO 8601 UTC), fingerprint (sha256:HEX, the pin syntax of
 * tls_config_client).
 * For `tern check`. Returns 0, or -1 when the peer sent no certificate or it
 * cannot be parsed (b then unchanged).
 */
int		tls_peer_info(const struct tls *, struct buf *b);

#endif
