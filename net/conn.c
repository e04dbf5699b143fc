/* SPDX-License-Identifier: ISC */
/*
 * Outgoing connections for the SMTP client engine. Non-blocking socket and
 * TLS, poll() on absolute monotonic deadlines: nothing spins, nothing
 * sleeps longer than the engine allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "../smtp/smtp.h"
#include "../tls/tls.h"
#include "conn.h"

struct conn {
	int		 fd;
	struct tls	*tls;
	char		*peer;		/* host[addr]:port */
	char		*tlsinfo;
	/* a STARTTLS handshake asked for by the engine */
	struct tls_config *want_cfg;
	char		*want_name;
	int		 want;
};

volatile sig_atomic_t conn_abort;

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		left = deadline - clock_mono_ms();
		if (conn_abort) {
			errno = ECANCELED;
			return -1;
		}
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* One address: non-blocking connect finished within the deadline. */
static int
try_connect(const struct addrinfo *ai, int timeout_ms)
{
	int fd, one = 1, e = 0;
	socklen_t len = sizeof e;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		if (wait_fd(fd, POLLOUT, clock_mono_ms() + timeout_ms) == -1)
			goto fail;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			goto fail;
		if (e != 0) {
			errno = e;
			goto fail;
		}
	}
	/* Small command writes must not wait for delayed ACKs (bench.md). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

struct conn *
conn_open(const char *host, int port, int timeout_ms, char *err,
    size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char portstr[16], addr[INET6_ADDRSTRLEN] = "?";
	struct conn *c;
	int fd = -1, rc, e = 0;

	snprintf(portstr, sizeof portstr, "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "connect to %s:%d: %s", host, port,
		    gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		void *sa = ai->ai_family == AF_INET6 ?
		    (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
		    (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		inet_ntop(ai->ai_family, sa, addr, sizeof addr);
		if ((fd = try_connect(ai, timeout_ms)) != -1)
			break;
		e = errno;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "connect to %s[%s]:%d: %s", host, addr,
		    port, strerror(e));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->peer = xasprintf("%s[%s]:%d", host, addr, port);
	return c;
}

struct conn *
conn_open_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct conn *c;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "connect to unix:%s: path too long",
		    path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, (struct sockaddr *)&sun,
	    sizeof sun) == -1) {
		snprintf(err, errlen, "connect to unix:%s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->peer = xasprintf("unix:%s", path);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->tls != NULL) {
		tls_close(c->tls);	/* best effort close_notify, TLS-13 */
		tls_free(c->tls);
	}
	close(c->fd);
	free(c->peer);
	free(c->tlsinfo);
	free(c->want_name);
	free(c);
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

const char *
conn_tls_info(const struct conn *c)
{
	return c->tlsinfo;
}

int
conn_tls_peer(const struct conn *c, struct buf *b)
{
	return c->tls != NULL ? tls_peer_info(c->tls, b) : -1;
}

int
conn_tls(struct conn *c, struct tls_config *cfg, const char *servername,
    int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int rc;

	if ((c->tls = tls_client(cfg, c->fd, servername)) == NULL) {
		snprintf(err, errlen, "TLS: %s", strerror(errno));
		return -1;
	}
	while ((rc = tls_handshake(c->tls)) != 0) {
		if (rc == -1) {
			snprintf(err, errlen, "TLS with %s: %s", c->peer,
			    tls_error(c->tls));
			return -1;
		}
		if (wait_fd(c->fd, rc == TLS_WANT_READ ? POLLIN : POLLOUT,
		    deadline) == -1) {
			snprintf(err, errlen, "TLS with %s: handshake: %s",
			    c->peer, strerror(errno));
			return -1;
		}
	}
	c->tlsinfo = tls_describe(c->tls);
	return 0;
}

void
conn_want_tls(struct conn *c, struct tls_config *cfg, const char *name)
{
	c->want = 1;
	c->want_cfg = cfg;
	free(c->want_name);
	c->want_name = name ? xstrdup(name) : NULL;
}

/* Writes what it can of the engine's output. 0, TLS_WANT_*, or -1. */
static int
pump_out(struct conn *c, struct buf *out)
{
	ssize_t n;

	while (out->len > 0) {
		if (c->tls != NULL)
			n = tls_write(c->tls, out->data, out->len);
		/* MSG_NOSIGNAL: a peer that reset the line is EPIPE here,
		 * not a SIGPIPE that kills `tern flush` before it reports
		 * (the daemon ignores SIGPIPE; the CLI does not). */
		else if ((n = send(c->fd, out->data, out->len,
		    MSG_NOSIGNAL)) == -1 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			n = TLS_WANT_WRITE;
		else if (n == -1 && errno == EINTR)
			continue;
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE)
			return (int)n;
		if (n < 0)
			return -1;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

/* Reads once and feeds the engine. 1 fed, 0 would block, -1 EOF/error. */
static int
pump_in(struct conn *c, struct smtp *s)
{
	char b[16384];
	ssize_t n;

	if (c->tls != NULL)
		n = tls_read(c->tls, b, sizeof b);
	else if ((n = read(c->fd, b, sizeof b)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		n = TLS_WANT_READ;
	if (n == TLS_WANT_READ || n == TLS_WANT_WRITE)
		return 0;
	if (n <= 0) {
		smtp_eof(s);
		return -1;
	}
	smtp_input(s, b, (size_t)n);
	return 1;
}

/* The handshake the engine asked for after STARTTLS's 220. */
static int
do_starttls(struct conn *c, struct smtp *s, char *err, size_t errlen)
{
	c->want = 0;
	if (conn_tls(c, c->want_cfg, c->want_name, 300000, err,
	    errlen) == -1) {
		smtp_abort(s, "TLS handshake failed");
		return -1;
	}
	smtp_tls_up(s);
	return 0;
}

int
conn_run(struct conn *c, struct smtp *s, char *err, size_t errlen)
{
	struct pollfd p = { .fd = c->fd };
	int64_t deadline = -1;
	long ms;
	int w, n, aborted = 0;

	while (!smtp_done(s)) {
		if (conn_abort && !aborted) {
			aborted = 1;	/* once: a server role says 421 */
			smtp_abort(s, "aborted: tern is stopping");
			continue;
		}
		if (c->want && do_starttls(c, s, err, errlen) == -1)
			return -1;
		if ((w = pump_out(c, smtp_output(s))) == -1) {
			smtp_eof(s);	/* write failed: the peer is gone */
			continue;
		}
		/* GnuTLS may hold decrypted bytes poll cannot see. */
		if (c->tls != NULL && tls_pending(c->tls) > 0) {
			pump_in(c, s);
			continue;
		}
		ms = smtp_timeout_ms(s);
		deadline = ms < 0 ? -1 : clock_mono_ms() + ms;
		p.events = POLLIN | (w == TLS_WANT_WRITE ? POLLOUT : 0);
		n = poll(&p, 1, ms < 0 ? -1 : (int)ms);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0 && deadline >= 0 && clock_mono_ms() >= deadline) {
			smtp_timeout(s);
			continue;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			pump_in(c, s);
	}
	/* Anything the engine said last (QUIT) goes out best effort. */
	pump_out(c, smtp_output(s));
	return 0;
}
