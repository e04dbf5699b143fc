/* SPDX-License-Identifier: ISC */
/*
 * The SMTP listeners: every `submit` address (TCP, IPv6, unix:) and the
 * ETRN callback listener ([inbound] listen). Each connection is a server
 * session (srv.c). Never an open relay: a client not on loopback (or the
 * unix socket) is refused unless submit_users lets it authenticate over
 * TLS; the ETRN listener takes only recipients in [inbound] domains.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../lib/conf.h"
#include "../lib/ev.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../tls/tls.h"
#include "listen.h"
#include "srv.h"
#include "ternd.h"

struct listener {
	struct ternd	*t;
	int		 fd;
	struct ev_io	*io;
	int		 inbound;
	int		 is_unix;
	char		*path;		/* unix: to unlink */
	struct listener	*next;
};

static struct listener *listeners;
static struct tls_config *server_tls;

static void
on_accept(struct ev_io *io, unsigned int ev, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd;

	(void)io;
	(void)ev;
	if ((fd = accept4(l->fd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("accept");
		return;
	}
	srv_start(l->t, fd, l->is_unix ? NULL : (struct sockaddr *)&ss,
	    l->inbound, server_tls);
}

static int
bind_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	old = umask(0117);	/* the user and their group's MUAs */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(old);
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

/* "HOST:PORT" or "[V6]:PORT" (validated by the config parser). */
static int
bind_tcp(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res;
	char host[256];
	const char *colon = strrchr(addr, ':');
	int fd, one = 1, rc;

	if (colon == NULL || (size_t)(colon - addr) >= sizeof host) {
		errno = EINVAL;
		return -1;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	if ((rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints,
	    &res)) != 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd != -1) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (res->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
			rc = errno;
			close(fd);
			fd = -1;
			errno = rc;
		}
	}
	freeaddrinfo(res);
	return fd;
}

static int
add_listener(struct ternd *t, const char *addr, int inbound)
{
	struct listener *l;
	int is_unix = strncmp(addr, "unix:", 5) == 0, fd;

	fd = is_unix ? bind_unix(addr + 5) : bind_tcp(addr);
	if (fd == -1 || listen(fd, 128) == -1) {
		log_warn("cannot listen on %s", addr);
		if (fd != -1)
			close(fd);
		return -1;
	}
	l = xcalloc(1, sizeof *l);
	l->t = t;
	l->fd = fd;
	l->inbound = inbound;
	l->is_unix = is_unix;
	l->path = is_unix ? xstrdup(addr + 5) : NULL;
	l->io = ev_io_new(t->loop, fd, EV_READ, on_accept, l);
	l->next = listeners;
	listeners = l;
	log_info("listening on %s%s", addr, inbound ? " (ETRN deliveries)" :
	    "");
	return 0;
}

int
listen_init(struct ternd *t)
{
	const struct conf *cf = t->conf;
	char err[512];
	size_t i;

	if (cf->tls_cert != NULL && (server_tls = tls_config_server(
	    cf->tls_cert, cf->tls_key, err, sizeof err)) == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	for (i = 0; i < cf->nsubmit; i++)
		if (add_listener(t, cf->submit[i], 0) == -1)
			return -1;
	if (cf->inbound.method == CONF_INBOUND_ETRN &&
	    add_listener(t, cf->inbound.listen, 1) == -1)
		return -1;
	return 0;
}

void
listen_close(struct ternd *t)
{
	struct listener *l;

	(void)t;
	while ((l = listeners) != NULL) {
		listeners = l->next;
		ev_io_free(l->io);
		close(l->fd);
		if (l->path != NULL)
			unlink(l->path);
		free(l->path);
		free(l);
	}
	/* Sessions hold their own reference to the TLS config. */
	tls_config_free(server_tls);
	server_tls = NULL;
}
