/* SPDX-License-Identifier: ISC */
/*
 * tern check: the configuration is valid (it loaded), and every smarthost
 * (and the inbound provider) answers: connect, TLS with the certificate's
 * details, the extensions it offers, AUTH. Sends no mail, prints no secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../net/conn.h"
#include "../relay/oauth.h"
#include "../relay/secret.h"
#include "../sasl/sasl.h"
#include "../smtp/smtp.h"
#include "../tls/tls.h"
#include "cli.h"

struct probe {
	struct conn		*conn;
	struct tls_config	*tc;
	const char		*host;
	int			 ready;		/* got to the point of mail */
	unsigned int		 ext;
	uint64_t		 size;
	char			*mechs;
	char			 why[512];
};

static void
on_ready(void *arg, struct smtp *s)
{
	struct probe *p = arg;

	p->ready = 1;
	p->ext = smtp_ext(s);
	p->size = smtp_size_max(s);
	free(p->mechs);
	p->mechs = smtp_auth_mechs(s) ? xstrdup(smtp_auth_mechs(s)) : NULL;
	smtp_quit(s);
}

static void
on_starttls(void *arg, struct smtp *s)
{
	struct probe *p = arg;

	(void)s;
	conn_want_tls(p->conn, p->tc, p->host);
}

static void
on_end(void *arg, const struct smtp_end *e)
{
	struct probe *p = arg;
	struct buf t = BUF_INIT;

	if (e->kind == SMTP_END_OK)
		return;
	if (e->reply != NULL)
		smtp_reply_format(e->reply, &t);
	snprintf(p->why, sizeof p->why, "%s%s%s", e->why, t.len ? ": " : "",
	    t.len ? t.data : "");
	buf_clear(&t);
}

static void
print_ext(const struct probe *p)
{
	static const struct { unsigned int bit; const char *name; } x[] = {
		{ SMTP_EXT_PIPELINING, "PIPELINING" },
		{ SMTP_EXT_SIZE, "SIZE" }, { SMTP_EXT_8BITMIME, "8BITMIME" },
		{ SMTP_EXT_SMTPUTF8, "SMTPUTF8" }, { SMTP_EXT_DSN, "DSN" },
		{ SMTP_EXT_ENHANCED, "ENHANCEDSTATUSCODES" },
		{ SMTP_EXT_CHUNKING, "CHUNKING" },
	};
	size_t i;

	printf("  extensions:");
	for (i = 0; i < sizeof x / sizeof x[0]; i++)
		if (p->ext & x[i].bit)
			printf(" %s", x[i].name);
	if (p->size > 0)
		printf(" (SIZE %llu)", (unsigned long long)p->size);
	printf("\n  auth offered: %s\n", p->mechs ? p->mechs : "(none)");
}

static void
print_tls(const struct probe *p)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	if (conn_tls_info(p->conn) == NULL) {
		printf("  tls: none\n");
		return;
	}
	printf("  tls: %s, certificate verified\n", conn_tls_info(p->conn));
	if (conn_tls_peer(p->conn, &b) == 0)
		for (line = strtok_r(b.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			printf("    %s\n", line);
	buf_clear(&b);
}

static int
probe_run(struct probe *p, const struct conf *cf, const struct conf_peer *pe,
    const char *secret, int oauth)
{
	struct smtp_cb cb = { .ready = on_ready, .starttls = on_starttls,
	    .end = on_end };
	struct smtp_client_opts o = { .helo = cf->hostname };
	struct sasl_cred cred = { .user = pe->user, .secret = secret,
	    .host = pe->host, .port = pe->port };
	struct smtp *s;

	if (pe->tls != CONF_TLS_NONE && (p->tc = tls_config_client(
	    pe->ca_file, pe->fingerprint, p->why, sizeof p->why)) == NULL)
		return -1;
	if ((p->conn = conn_open(pe->host, pe->port, 30000, p->why,
	    sizeof p->why)) == NULL)
		return -1;
	printf("  connected: %s\n", conn_peer(p->conn));
	if (pe->tls == CONF_TLS_IMPLICIT && conn_tls(p->conn, p->tc,
	    pe->host, 60000, p->why, sizeof p->why) == -1)
		return -1;
	o.starttls = pe->tls == CONF_TLS_STARTTLS;
	o.tls_active = pe->tls == CONF_TLS_IMPLICIT;
	if (secret != NULL) {
		o.cred = &cred;
		o.mech = secret_mech(pe->auth);
		o.oauth = oauth || pe->auth == CONF_AUTH_XOAUTH2 ||
		    pe->auth == CONF_AUTH_OAUTHBEARER;
		o.plaintext_ok = host_is_loopback(pe->host);
	}
	s = smtp_client_new(&o, &cb, p);
	conn_run(p->conn, s, p->why, sizeof p->why);
	smtp_free(s);
	return p->ready ? 0 : -1;
}

/* The OAuth2 account behind a smarthost: what is stored, any warning. */
static void
print_oauth(const struct conf *cf, const struct conf_smarthost *sh)
{
	struct oauth_status st;
	char t[32], w[512];

	oauth_status_get(cf, sh, &st);
	printf("  oauth2: refresh token %s", st.stored_refresh ? "stored" :
	    st.have_refresh ? "from oauth2_refresh_token_command" : "missing");
	if (st.have_access)
		printf(", access token until %s", time_iso(st.access_expires,
		    t, sizeof t));
	printf(", refresh token last used %s\n", st.refresh_used > 0 ?
	    time_iso(st.refresh_used, t, sizeof t) : "never");
	if (oauth_status_warning(&st, oauth_name(sh), clock_wall(), w,
	    sizeof w))
		printf("  warning: %s\n", w);
}

/* One server: 0 if all is well, -1 after printing what is wrong. */
static int
check_peer(const struct conf *cf, const char *label,
    const struct conf_peer *pe, const struct conf_smarthost *sh)
{
	struct probe p = { .host = pe->host };
	char *secret = NULL;
	int rc = -1;

	printf("%s: %s port %d, tls %s, auth %s%s%s\n", label, pe->host,
	    pe->port, conf_tls_name(pe->tls), conf_auth_name(pe->auth),
	    pe->user ? ", user " : "", pe->user ? pe->user : "");
	if (sh != NULL && sh->oauth2_token_url == NULL)
		sh = NULL;
	if (pe->user != NULL && pe->auth != CONF_AUTH_NONE &&
	    (secret = sh != NULL ? oauth_access_token(cf, sh, 0, p.why,
	    sizeof p.why) : secret_load(pe, p.why, sizeof p.why)) == NULL) {
		if (sh != NULL)
			print_oauth(cf, sh);
		goto done;
	}
	if (sh != NULL)
		print_oauth(cf, sh);
	rc = probe_run(&p, cf, pe, secret, sh != NULL);
	if (p.conn != NULL)
		print_tls(&p);
	if (p.ready) {
		print_ext(&p);
		printf("  auth: %s\n", secret ? "accepted" : "not used");
	}
done:
	if (rc == -1)
		printf("  FAILED: %s\n", p.why[0] ? p.why : "session failed");
	else
		printf("  ok\n");
	secret_free(secret);
	conn_free(p.conn);
	tls_config_free(p.tc);
	free(p.mechs);
	return rc;
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	struct conf *cf;
	char label[300];
	size_t i;
	int bad = 0, any = 0;

	(void)argv;
	if (argc != 1) {
		cli_warnx("usage: tern check");
		return EX_USAGE;
	}
	cf = cli_conf(c);
	printf("configuration: %s: ok\n", cf->path ? cf->path :
	    "built-in defaults");
	for (i = 0; i < cf->nsmarthosts; i++) {
		const struct conf_smarthost *sh = &cf->smarthosts[i];

		if (sh->peer.host == NULL)
			continue;
		any = 1;
		snprintf(label, sizeof label, "smarthost%s%s",
		    sh->name ? " " : "", sh->name ? sh->name : "");
		bad |= check_peer(cf, label, &sh->peer, sh) == -1;
	}
	if (!any)
		printf("smarthost: none configured: mail is queued, nothing "
		    "is sent\n");
	if (cf->inbound.method != CONF_INBOUND_NONE)
		bad |= check_peer(cf, "inbound", &cf->inbound.peer,
		    NULL) == -1;
	return bad ? EX_UNAVAILABLE : 0;
}
