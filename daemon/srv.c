/* SPDX-License-Identifier: ISC */
/* Server sessions on the event loop: socket, TLS, engine, queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../inject/inject.h"
#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "../sasl/sasl.h"
#include "../smtp/smtp.h"
#include "../tls/tls.h"
#include "srv.h"
#include "ternd.h"

struct srv {
	struct ternd	*t;
	int		 fd;
	struct ev_io	*io;
	struct ev_timer	*timer;
	struct tls	*tls;
	struct tls_config *tc;
	struct smtp	*smtp;
	char		 peer[INET6_ADDRSTRLEN + 2];
	char		*tlsinfo;
	int		 trusted;	/* loopback or the unix socket */
	int		 inbound;
	int		 handshake;	/* STARTTLS handshake in progress */
	int		 closing;
	struct srv	*next, *prev;
};

static struct srv *sessions;

static void srv_io(struct ev_io *, unsigned int, void *);

static void
srv_free(struct srv *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ev_io_free(s->io);
	ev_timer_free(s->timer);
	if (s->tls != NULL) {
		tls_close(s->tls);
		tls_free(s->tls);
	}
	close(s->fd);
	smtp_free(s->smtp);
	free(s->tlsinfo);
	free(s);
}

/* --- engine callbacks --------------------------------------------------- */

static void
on_rcpt_to(void *arg, struct smtp *smtp, const char *to,
    const struct smtp_cmd *cmd, struct smtp_verdict *v)
{
	struct srv *s = arg;

	(void)smtp;
	(void)cmd;
	/* Never a relay: only the domains we pull for (interface.md). */
	if (!s->inbound || strcasecmp(to, "postmaster") == 0 ||
	    conf_inbound_domain(s->t->conf, to))
		return;
	v->code = 550;
	snprintf(v->text, sizeof v->text, "5.7.1 <%s>: relay access denied",
	    to);
}

/* submit_users: "user:salted-hash" lines (sasl_hash_password()). */
static int
on_auth(void *arg, const char *mech, const char *user, const char *pass)
{
	struct srv *s = arg;
	char line[1024], *colon;
	FILE *f;
	int rc = -1;

	(void)mech;
	if (s->t->conf->submit_users == NULL ||
	    (f = fopen(s->t->conf->submit_users, "re")) == NULL)
		return 454;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		if (strcmp(line, user) == 0) {
			rc = sasl_check_password(colon + 1, pass) == 0 ? 0 : -1;
			break;
		}
	}
	explicit_bzero(line, sizeof line);
	fclose(f);
	return rc;
}

static void
on_message(void *arg, struct smtp *smtp, const struct smtp_envelope *env)
{
	struct srv *s = arg;
	struct inject_src src = { .peer = s->peer, .tls = s->tlsinfo,
	    .submission = !s->inbound, .inbound = s->inbound };
	char reply[256], ids[QUEUE_ID_LEN + 1];
	uint64_t id = 0;
	int code;

	code = inject_smtp(s->t->conf, s->t->queue, &src, env, reply,
	    sizeof reply, &id);
	if (code == 250)
		log_msg(LOG_INFO, queue_id_str(id, ids), "from=<%s> size=%zu "
		    "nrcpt=%zu client=%s%s", env->from, env->len, env->nrcpt,
		    s->peer, env->auth_user ? " sasl=yes" : "");
	else
		log_warnx("message from %s refused: %d %s", s->peer, code,
		    reply);
	smtp_server_reply(smtp, code, reply);
	if (code == 250)
		sched_kick(s->t);
}

static void
on_starttls(void *arg, struct smtp *smtp)
{
	struct srv *s = arg;

	(void)smtp;
	if ((s->tls = tls_server(s->tc, s->fd)) == NULL) {
		smtp_abort(s->smtp, "TLS unavailable");
		return;
	}
	s->handshake = 1;
}

static void
on_end(void *arg, const struct smtp_end *e)
{
	struct srv *s = arg;

	(void)e;
	s->closing = 1;
}

static const struct smtp_server_cb callbacks = {
	.rcpt_to = on_rcpt_to, .auth_check = on_auth,
	.message = on_message, .starttls = on_starttls, .end = on_end,
};

/* --- I/O ------------------------------------------------------------------ */

/* Writes what the engine has; 0 done or waiting, -1 the peer is gone. */
static int
flush_out(struct srv *s, int *want_write)
{
	struct buf *out = smtp_output(s->smtp);
	ssize_t n;

	*want_write = 0;
	while (out->len > 0) {
		if (s->tls != NULL && !s->handshake)
			n = tls_write(s->tls, out->data, out->len);
		else if ((n = write(s->fd, out->data, out->len)) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			n = TLS_WANT_WRITE;
		if (n == TLS_WANT_WRITE || n == TLS_WANT_READ) {
			*want_write = n == TLS_WANT_WRITE;
			return 0;
		}
		if (n < 0)
			return -1;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

static int
do_handshake(struct srv *s, unsigned int *ev)
{
	int rc = tls_handshake(s->tls);

	if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
		*ev = rc == TLS_WANT_READ ? EV_READ : EV_WRITE;
		return 1;
	}
	if (rc == -1) {
		log_warnx("TLS handshake with %s failed: %s", s->peer,
		    tls_error(s->tls));
		return -1;
	}
	s->handshake = 0;
	s->tlsinfo = tls_describe(s->tls);
	smtp_tls_up(s->smtp);
	return 0;
}

/* Brings the watcher and the deadline in line with the engine's state. */
static void
pump(struct srv *s)
{
	unsigned int ev = 0;
	int ww;
	long ms;

	/* The "220 Ready to start TLS" goes out in plaintext first. */
	if (s->handshake && smtp_output(s->smtp)->len > 0) {
		if (flush_out(s, &ww) == -1) {
			srv_free(s);
			return;
		}
		if (smtp_output(s->smtp)->len > 0) {
			ev_io_set(s->io, EV_WRITE);
			return;
		}
	}
	if (s->handshake) {
		switch (do_handshake(s, &ev)) {
		case 1:
			ev_io_set(s->io, ev);
			return;
		case -1:
			srv_free(s);
			return;
		}
	}
	if (flush_out(s, &ww) == -1 || (s->closing &&
	    smtp_output(s->smtp)->len == 0)) {
		srv_free(s);
		return;
	}
	if (smtp_reading(s->smtp) && !s->closing)
		ev |= EV_READ;
	if (ww || smtp_output(s->smtp)->len > 0)
		ev |= EV_WRITE;
	ev_io_set(s->io, ev);
	ev_io_pending(s->io, s->tls != NULL && !s->handshake &&
	    tls_pending(s->tls) > 0 && smtp_reading(s->smtp));
	ms = smtp_timeout_ms(s->smtp);
	if (ms >= 0)
		ev_timer_after(s->timer, ms);
	else
		ev_timer_stop(s->timer);
}

static void
srv_io(struct ev_io *io, unsigned int revents, void *arg)
{
	struct srv *s = arg;
	char b[16384];
	ssize_t n;

	(void)io;
	if (!s->handshake && (revents & EV_READ) && smtp_reading(s->smtp)) {
		if (s->tls != NULL)
			n = tls_read(s->tls, b, sizeof b);
		else if ((n = read(s->fd, b, sizeof b)) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			n = TLS_WANT_READ;
		if (n > 0)
			smtp_input(s->smtp, b, (size_t)n);
		else if (n == 0 || n == -1)
			smtp_eof(s->smtp);
	}
	pump(s);
}

static void
srv_timeout(struct ev_timer *tm, void *arg)
{
	struct srv *s = arg;

	(void)tm;
	smtp_timeout(s->smtp);
	pump(s);
}

static int
is_loopback(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)sa;
		char ip[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
		snprintf(out, len, "[%s]", ip);
		return IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) &&
		    a->sin6_addr.s6_addr[12] == 127);
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)sa;
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
		snprintf(out, len, "[%s]", ip);
		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	snprintf(out, len, "[unknown]");
	return 0;
}

void
srv_start(struct ternd *t, int fd, const struct sockaddr *peer, int inbound,
    struct tls_config *tc)
{
	static const char refuse[] = "554 5.7.1 local clients only "
	    "(no submit_users configured)\r\n";
	const struct conf *cf = t->conf;
	struct smtp_server_opts o = { 0 };
	struct srv *s = xcalloc(1, sizeof *s);

	s->t = t;
	s->fd = fd;
	s->inbound = inbound;
	s->tc = tc;
	if (peer == NULL) {
		snprintf(s->peer, sizeof s->peer, "localhost");
		s->trusted = 1;
	} else
		s->trusted = is_loopback(peer, s->peer, sizeof s->peer);
	/* Never an open relay: strangers must authenticate over TLS. */
	if (!s->trusted && !inbound && cf->submit_users == NULL) {
		log_warnx("refused %s: not local and no submit_users",
		    s->peer);
		(void)!write(fd, refuse, sizeof refuse - 1);
		close(fd);
		free(s);
		return;
	}
	o.hostname = cf->hostname;
	o.size_max = cf->max_message_size;
	o.offer_starttls = tc != NULL;
	o.auth_required = !s->trusted && !inbound;
	o.auth_mechs = cf->submit_users != NULL && !inbound ? "PLAIN LOGIN" :
	    NULL;
	o.plaintext_ok = s->trusted;
	o.greeting = 1;
	s->smtp = smtp_server_new(&o, &callbacks, s);
	s->io = ev_io_new(t->loop, fd, EV_READ, srv_io, s);
	s->timer = ev_timer_new(t->loop, srv_timeout, s);
	s->next = sessions;
	if (sessions != NULL)
		sessions->prev = s;
	sessions = s;
	pump(s);
}

void
srv_stop_all(void)
{
	struct srv *s, *n;

	for (s = sessions; s != NULL; s = n) {
		n = s->next;
		smtp_abort(s->smtp, "shutting down");
		pump(s);
	}
}
