/* SPDX-License-Identifier: ISC */
/*
 * Link detection without polling (Linux): a netlink route socket wakes us
 * when routes or links change; we then look whether a default route
 * exists (IPv4 or IPv6) and act as `tern up` / `tern down` on a change.
 * Hooks (tern up/down) remain for finer policy.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/ev.h"
#include "../lib/log.h"
#include "ternd.h"

/* A default route in the main table: "00000000" destination in v4,
 * "::/0" in v6 (/proc's text is what `ip route` shows, without parsing
 * binary dumps). Only read when netlink says something changed. */
static int
has_default_route(void)
{
	char line[512], iface[64];
	unsigned long dst, flags;
	FILE *f;
	int found = 0;

	if ((f = fopen("/proc/net/route", "re")) != NULL) {
		while (!found && fgets(line, sizeof line, f) != NULL)
			if (sscanf(line, "%63s %lx %*x %lx", iface, &dst,
			    &flags) == 3 && dst == 0 && (flags & 1) &&
			    strcmp(iface, "lo") != 0)
				found = 1;	/* RTF_UP */
		fclose(f);
	}
	if (!found && (f = fopen("/proc/net/ipv6_route", "re")) != NULL) {
		while (!found && fgets(line, sizeof line, f) != NULL) {
			char d[40], name[64];
			unsigned int plen;
			if (sscanf(line, "%39s %x %*s %*s %*s %*s %*s %*s %*s "
			    "%63s", d, &plen, name) == 3 && plen == 0 &&
			    strcmp(d, "00000000000000000000000000000000") == 0 &&
			    strcmp(name, "lo") != 0)
				found = 1;
		}
		fclose(f);
	}
	return found;
}

static void
evaluate(struct ternd *t, const char *why)
{
	enum link_state st = has_default_route() ? LINK_UP : LINK_DOWN;

	if (st != t->link)
		sched_link(t, st, why);
}

static void
netlink_readable(struct ev_io *io, unsigned int ev, void *arg)
{
	struct ternd *t = arg;
	char b[8192];
	ssize_t n;
	int changed = 0;

	(void)io;
	(void)ev;
	/* Drain everything queued; one evaluation per wake-up. */
	while ((n = recv(t->netlink_fd, b, sizeof b, MSG_DONTWAIT)) > 0)
		changed = 1;
	if (n < 0 && errno == ENOBUFS)
		changed = 1;	/* overrun: we lost events, look again */
	if (changed)
		evaluate(t, "route change");
}

int
link_init(struct ternd *t)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
	    .nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    NETLINK_ROUTE);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		log_warn("netlink unavailable; the link is known only from "
		    "tern up/down");
		if (fd != -1)
			close(fd);
		t->netlink_fd = -1;
		return -1;
	}
	t->netlink_fd = fd;
	t->netlink = ev_io_new(t->loop, fd, EV_READ, netlink_readable, t);
	t->link = has_default_route() ? LINK_UP : LINK_DOWN;
	return 0;
}

void
link_close(struct ternd *t)
{
	if (t->netlink != NULL) {
		ev_io_free(t->netlink);
		close(t->netlink_fd);
		t->netlink = NULL;
	}
}
