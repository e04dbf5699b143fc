/* SPDX-License-Identifier: ISC */
/*
 * tern.conf(5) as a whole: the rules between keys of a section, checked
 * when the section ends (conf.c calls in at each header and at the end of
 * the file, while the line of every key is still known), and the defaults
 * filled in after the file, so consumers never see a NULL where the
 * contract promises a value.
 */
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

/* --- rules between keys ------------------------------------------------- */

static int
missing(struct parser *p, const char *key, const char *why)
{
	char lb[128];

	return conf_failat(p, p->hdr, "%s: missing required key '%s'%s",
	    conf_sect_label(p, lb, sizeof lb), key, why);
}

/* RFC 8314 / contract: plaintext only to loopback. */
static int
check_peer(struct parser *p, const struct conf_peer *pe)
{
	if (pe->tls == CONF_TLS_NONE && pe->host != NULL &&
	    !host_is_loopback(pe->host))
		return conf_failat(p, conf_seen(p, "tls"), "'tls none' is "
		    "refused for host '%s': plaintext is only allowed to "
		    "loopback", pe->host);
	if (pe->password_command != NULL && pe->password_file != NULL)
		return conf_failat(p, conf_seen(p, "password_file"),
		    "password_file and password_command are exclusive "
		    "(command at %s:%d)", p->file,
		    conf_seen(p, "password_command"));
	return 0;
}

static int
close_smarthost(struct parser *p, const struct conf_smarthost *sh)
{
	int any;

	if (check_peer(p, &sh->peer) < 0)
		return -1;
	if (sh->name != NULL && sh->nsenders == 0)
		return missing(p, "senders", " (which senders use it)");
	if (sh->name != NULL && sh->peer.host == NULL)
		return missing(p, "host", "");
	any = sh->oauth2_token_url || sh->oauth2_client_id ||
	    sh->oauth2_client_secret_command ||
	    sh->oauth2_refresh_token_command || sh->oauth2_device_url ||
	    sh->oauth2_scope;
	if (any && sh->oauth2_token_url == NULL)
		return missing(p, "oauth2_token_url", " (other oauth2_* keys "
		    "are set)");
	if (any && sh->oauth2_client_id == NULL)
		return missing(p, "oauth2_client_id", " (other oauth2_* keys "
		    "are set)");
	return 0;
}

static int
close_inbound(struct parser *p, const struct conf_inbound *in)
{
	if (check_peer(p, &in->peer) < 0)
		return -1;
	if (in->method == CONF_INBOUND_NONE)
		return 0;
	if (in->peer.host == NULL)
		return missing(p, "host", " (the provider's server)");
	if (in->ndomains == 0)
		return missing(p, "domains", " (the domains to request)");
	if (in->method != CONF_INBOUND_ATRN)
		return 0;
	/* RFC 2645 4: ATRN is only accepted from an authenticated client. */
	if (in->peer.auth == CONF_AUTH_NONE)
		return conf_failat(p, conf_seen(p, "auth"), "'auth none' is "
		    "not possible with 'method atrn': ATRN requires AUTH "
		    "(RFC 2645)");
	if (in->peer.user == NULL)
		return missing(p, "user", " (ATRN requires AUTH)");
	return 0;
}

/* The section's own rules; the [retry] keys have none between them. */
int
conf_close_section(struct parser *p)
{
	struct conf *c = p->c;

	switch (p->sect) {
	case S_TOP:
		if ((c->tls_cert == NULL) != (c->tls_key == NULL))
			return conf_failat(p, conf_seen(p, c->tls_cert ?
			    "tls_cert" : "tls_key"), "tls_cert and tls_key go "
			    "together: missing '%s'", c->tls_cert ? "tls_key" :
			    "tls_cert");
		return 0;
	case S_SMARTHOST:
		return close_smarthost(p, &c->smarthosts[p->sh]);
	case S_INBOUND:
		return close_inbound(p, &c->inbound);
	case S_DELIVER:
		if (c->deliver.method == CONF_DELIVER_LMTP &&
		    c->deliver.lmtp == NULL)
			return missing(p, "lmtp", " (method lmtp)");
		return 0;
	case S_PROVIDER:
		if (c->provider.listen != NULL && c->provider.ndomains == 0)
			return missing(p, "domains", " (listen is set)");
		if (c->provider.listen != NULL && !c->provider.users_file)
			return missing(p, "users_file", " (listen is set)");
		return 0;
	default:
		return 0;
	}
}

/* --- defaults ----------------------------------------------------------- */

/*
 * The system's FQDN: gethostname(), and if that has no dot, the canonical
 * name from getaddrinfo() (usually /etc/hosts, so it works offline). A name
 * that stays dotless is used as it is.
 */
static char *
system_fqdn(void)
{
	struct addrinfo hints, *ai = NULL;
	char name[256];
	char *r;

	if (gethostname(name, sizeof name) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof name - 1] = '\0';
	if (strchr(name, '.') != NULL)
		return xstrdup(name);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.') != NULL)
		r = xstrdup(ai->ai_canonname);
	else
		r = xstrdup(name);
	if (ai != NULL)
		freeaddrinfo(ai);
	return r;
}

static char *
default_state(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	char *h, *r;

	if (geteuid() == 0)
		return xstrdup("/var/lib/tern");
	/* XDG Base Directory: relative values are to be ignored. */
	if (x != NULL && x[0] == '/')
		return xasprintf("%s/tern", x);
	h = conf_home_dir();
	r = xasprintf("%s/.local/state/tern", h);
	free(h);
	return r;
}

static char *
default_from(const char *hostname)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if ((u == NULL || *u == '\0') && (pw = getpwuid(geteuid())) != NULL)
		u = pw->pw_name;
	if (u == NULL || *u == '\0')
		u = geteuid() == 0 ? "root" : "user";
	return xasprintf("%s@%s", u, hostname);
}

static void
peer_port(struct conf_peer *pe, int dflt)
{
	if (pe->port == 0)
		pe->port = pe->tls == CONF_TLS_IMPLICIT ? 465 : dflt;
}

void
conf_fill_defaults(struct conf *c, int submit_off)
{
	static const int64_t sched[] = { 60, 300, 900, 1800, 3600 };
	struct conf_smarthost tmp;
	size_t i;

	if (c->hostname == NULL)
		c->hostname = system_fqdn();
	if (c->state == NULL)
		c->state = default_state();
	if (c->from == NULL)
		c->from = default_from(c->hostname);
	if (c->nsubmit == 0 && !submit_off) {
		c->submit = xcalloc(1, sizeof *c->submit);
		c->submit[c->nsubmit++] = xstrdup("127.0.0.1:2525");
	}
	if (c->nretry_schedule == 0) {
		c->retry_schedule = xmalloc(sizeof sched);
		memcpy(c->retry_schedule, sched, sizeof sched);
		c->nretry_schedule = sizeof sched / sizeof sched[0];
	}
	for (i = 0; i < c->nsmarthosts; i++)
		peer_port(&c->smarthosts[i].peer, 587);
	/* The unnamed [smarthost] goes first, wherever it was in the file. */
	for (i = 0; i < c->nsmarthosts; i++)
		if (c->smarthosts[i].name == NULL && i > 0) {
			tmp = c->smarthosts[i];
			memmove(&c->smarthosts[1], &c->smarthosts[0],
			    i * sizeof tmp);
			c->smarthosts[0] = tmp;
			break;
		}
	if (c->inbound.peer.port == 0)
		c->inbound.peer.port =
		    c->inbound.method == CONF_INBOUND_ATRN ? 366 : 25;
	if (c->inbound.listen == NULL)
		c->inbound.listen = xstrdup("0.0.0.0:25");
	if (c->deliver.maildir == NULL)
		c->deliver.maildir = conf_expand_path("~/Maildir");
	if (c->provider.odmr_listen == NULL)
		c->provider.odmr_listen = xstrdup("0.0.0.0:366");
}
