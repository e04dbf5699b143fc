/* SPDX-License-Identifier: ISC */
/*
 * tern.conf(5): a line-oriented "key value" file with [section] headers.
 *
 * One table (keys[]) names every key of every section, its value type and
 * where it lands in struct conf. The parser walks the file once: a header
 * closes the previous section (whose cross-key rules are checked then, while
 * the line of every key is still known) and opens the next. Defaults are
 * filled in at the end, so consumers never see a NULL where the contract
 * promises a value. Every error is one line "file:line: reason"; values of
 * secret-bearing keys are never echoed.
 *
 * This file holds the table and the walk; conf_value.c parses and stores
 * one value of each type, conf_check.c holds the rules between keys and the
 * defaults. Also here: freeing a conf, choosing a smarthost, the file path.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

#define LINE_MAX_BYTES	4096
#define FILE_MAX_BYTES	(1024 * 1024)

static const char *const sect_names[S_COUNT] = {
	"top level", "smarthost", "retry", "inbound", "deliver", "provider",
};

#define PEER(S, T) \
	{ S, "host", T_HOST, offsetof(T, peer.host), 0, 0 }, \
	{ S, "port", T_PORT, offsetof(T, peer.port), 0, 0 }, \
	{ S, "tls", T_TLS, offsetof(T, peer.tls), 0, 0 }, \
	{ S, "ca_file", T_PATH, offsetof(T, peer.ca_file), 0, 0 }, \
	{ S, "fingerprint", T_FPR, offsetof(T, peer.fingerprint), 0, 0 }, \
	{ S, "auth", T_AUTH, offsetof(T, peer.auth), 0, 0 }, \
	{ S, "user", T_WORD, offsetof(T, peer.user), 0, 0 }, \
	{ S, "password_command", T_TEXT, offsetof(T, peer.password_command), \
	    0, F_SECRET }, \
	{ S, "password_file", T_PATH, offsetof(T, peer.password_file), 0, \
	    F_SECRET }

#define SH(f)	offsetof(struct conf_smarthost, f)
static const struct key keys[] = {
	{ S_TOP, "hostname", T_HOST, offsetof(struct conf, hostname), 0, 0 },
	{ S_TOP, "state", T_PATH, offsetof(struct conf, state), 0, 0 },
	{ S_TOP, "from", T_ADDR, offsetof(struct conf, from), 0, 0 },
	{ S_TOP, "submit", T_SUBMIT, 0, 0, F_REPEAT },
	{ S_TOP, "submit_users", T_PATH, offsetof(struct conf, submit_users),
	    0, 0 },
	{ S_TOP, "max_message_size", T_SIZE,
	    offsetof(struct conf, max_message_size), 0, 0 },
	{ S_TOP, "log", T_LOG, offsetof(struct conf, log_syslog), 0, 0 },
	{ S_TOP, "tls_cert", T_PATH, offsetof(struct conf, tls_cert), 0, 0 },
	{ S_TOP, "tls_key", T_PATH, offsetof(struct conf, tls_key), 0, 0 },

	PEER(S_SMARTHOST, struct conf_smarthost),
	{ S_SMARTHOST, "oauth2_token_url", T_WORD, SH(oauth2_token_url), 0, 0 },
	{ S_SMARTHOST, "oauth2_client_id", T_WORD, SH(oauth2_client_id), 0, 0 },
	{ S_SMARTHOST, "oauth2_client_secret_command", T_TEXT,
	    SH(oauth2_client_secret_command), 0, F_SECRET },
	{ S_SMARTHOST, "oauth2_refresh_token_command", T_TEXT,
	    SH(oauth2_refresh_token_command), 0, F_SECRET },
	{ S_SMARTHOST, "oauth2_device_url", T_WORD, SH(oauth2_device_url),
	    0, 0 },
	{ S_SMARTHOST, "oauth2_scope", T_TEXT, SH(oauth2_scope), 0, 0 },
	{ S_SMARTHOST, "senders", T_LIST, SH(senders), SH(nsenders),
	    F_REPEAT | F_NAMED },

	{ S_RETRY, "schedule", T_SCHED, 0, 0, 0 },
	{ S_RETRY, "give_up", T_DUR, offsetof(struct conf, give_up), 0, 0 },

	{ S_INBOUND, "method", T_INMETHOD, offsetof(struct conf_inbound,
	    method), 0, 0 },
	PEER(S_INBOUND, struct conf_inbound),
	{ S_INBOUND, "domains", T_LIST, offsetof(struct conf_inbound, domains),
	    offsetof(struct conf_inbound, ndomains), F_REPEAT | F_LOWER },
	{ S_INBOUND, "listen", T_LISTEN, offsetof(struct conf_inbound, listen),
	    0, 0 },
	{ S_INBOUND, "interval", T_DUR, offsetof(struct conf_inbound,
	    interval), 0, 0 },

	{ S_DELIVER, "method", T_DLMETHOD, offsetof(struct conf_deliver,
	    method), 0, 0 },
	{ S_DELIVER, "maildir", T_PATH, offsetof(struct conf_deliver, maildir),
	    0, 0 },
	{ S_DELIVER, "lmtp", T_LISTEN, offsetof(struct conf_deliver, lmtp),
	    0, 0 },
	{ S_DELIVER, "lmtp_user", T_WORD, offsetof(struct conf_deliver,
	    lmtp_user), 0, 0 },

	{ S_PROVIDER, "listen", T_LISTEN, offsetof(struct conf_provider,
	    listen), 0, 0 },
	{ S_PROVIDER, "odmr_listen", T_LISTEN, offsetof(struct conf_provider,
	    odmr_listen), 0, 0 },
	{ S_PROVIDER, "domains", T_LIST, offsetof(struct conf_provider,
	    domains), offsetof(struct conf_provider, ndomains),
	    F_REPEAT | F_LOWER },
	{ S_PROVIDER, "users_file", T_PATH, offsetof(struct conf_provider,
	    users_file), 0, 0 },
	{ S_PROVIDER, "hold", T_DUR, offsetof(struct conf_provider, hold),
	    0, 0 },
};
#define NKEYS	(sizeof keys / sizeof keys[0])

_Static_assert(NKEYS == CONF_NKEYS, "CONF_NKEYS in conf_int.h is stale");

int
conf_failat(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void *
sect_base(struct parser *p)
{
	switch (p->sect) {
	case S_SMARTHOST:
		return &p->c->smarthosts[p->sh];
	case S_INBOUND:
		return &p->c->inbound;
	case S_DELIVER:
		return &p->c->deliver;
	case S_PROVIDER:
		return &p->c->provider;
	default:
		return p->c;
	}
}

int
conf_seen(const struct parser *p, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sect == p->sect && strcmp(keys[i].name, key) == 0)
			return p->seen[i];
	return 0;
}

const char *
conf_sect_label(const struct parser *p, char *buf, size_t len)
{
	const char *name = NULL;

	if (p->sect == S_TOP)
		return "top level";
	if (p->sect == S_SMARTHOST)
		name = p->c->smarthosts[p->sh].name;
	snprintf(buf, len, "[%s%s%s]", sect_names[p->sect], name ? " " : "",
	    name ? name : "");
	return buf;
}

static int
valid_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

static int
open_smarthost(struct parser *p, const char *name)
{
	struct conf *c = p->c;
	struct conf_smarthost *sh;

	for (size_t i = 0; i < c->nsmarthosts; i++) {
		sh = &c->smarthosts[i];
		if ((name == NULL) != (sh->name == NULL) ||
		    (name != NULL && strcmp(name, sh->name) != 0))
			continue;
		return conf_failat(p, p->line, "duplicate section "
		    "[smarthost%s%s] (first at %s:%d)", name ? " " : "",
		    name ? name : "", p->file, sh->peer.where.line);
	}
	c->smarthosts = xreallocarray(c->smarthosts, c->nsmarthosts + 1,
	    sizeof *c->smarthosts);
	sh = &c->smarthosts[c->nsmarthosts];
	memset(sh, 0, sizeof *sh);
	sh->name = name ? xstrdup(name) : NULL;
	sh->peer.where.file = c->path;
	sh->peer.where.line = p->line;
	p->sh = c->nsmarthosts++;
	return 0;
}

/* "[word]" or "[smarthost NAME]"; s is the line without comment. */
static int
header(struct parser *p, char *s)
{
	size_t n = strlen(s);
	char *word, *name, *rest, *save = NULL;
	int i;

	if (s[n - 1] != ']')
		return conf_failat(p, p->line, "malformed section header: "
		    "expected [section] or [smarthost NAME]");
	s[n - 1] = '\0';
	word = strtok_r(s + 1, " \t", &save);
	name = strtok_r(NULL, " \t", &save);
	rest = strtok_r(NULL, " \t", &save);
	if (conf_close_section(p) < 0)
		return -1;
	for (i = S_SMARTHOST; i < S_COUNT; i++)
		if (word != NULL && strcmp(word, sect_names[i]) == 0)
			break;
	if (i == S_COUNT)
		return conf_failat(p, p->line, "unknown section [%s]",
		    word ? word : "");
	if (rest != NULL || (name != NULL && !valid_name(name)))
		return conf_failat(p, p->line, "bad section name: expected "
		    "[smarthost NAME] with NAME of letters, digits, . _ -");
	if (name != NULL && i != S_SMARTHOST)
		return conf_failat(p, p->line, "section [%s] takes no name",
		    word);
	p->sect = (enum sect)i;
	p->hdr = p->line;
	memset(p->seen, 0, sizeof p->seen);
	if (i == S_SMARTHOST)
		return open_smarthost(p, name);
	if (p->sect_seen[i])
		return conf_failat(p, p->line, "duplicate section [%s] (first "
		    "at %s:%d)", word, p->file, p->sect_seen[i]);
	p->sect_seen[i] = p->line;
	if (i == S_INBOUND) {
		p->c->inbound.peer.where.file = p->c->path;
		p->c->inbound.peer.where.line = p->line;
	} else if (i == S_DELIVER)
		p->c->deliver.configured = 1;
	return 0;
}

static int
unknown_key(struct parser *p, const char *k)
{
	char lb[128];
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, k) == 0)
			break;
	return conf_failat(p, p->line, "unknown key '%s' %s%s%s%s%s", k,
	    p->sect == S_TOP ? "at " : "in ", conf_sect_label(p, lb, sizeof lb),
	    i < NKEYS ? " (it belongs in " : "",
	    i < NKEYS ? (keys[i].sect == S_TOP ? "the top level, before any "
	    "section" : sect_names[keys[i].sect]) : "", i < NKEYS ? ")" : "");
}

static int
keyline(struct parser *p, char *s)
{
	const struct key *k = NULL;
	char *v = s + strcspn(s, " \t");
	size_t i;
	int rc;

	if (*v != '\0')
		*v++ = '\0';
	v += strspn(v, " \t");
	for (i = 0; i < NKEYS; i++)
		if (keys[i].sect == p->sect && strcmp(keys[i].name, s) == 0) {
			k = &keys[i];
			break;
		}
	if (k == NULL)
		return unknown_key(p, s);
	if (*v == '\0')
		return conf_failat(p, p->line, "key '%s' needs a value", s);
	if ((k->flags & F_NAMED) && p->c->smarthosts[p->sh].name == NULL)
		return conf_failat(p, p->line, "'%s' is only allowed in a "
		    "named [smarthost NAME] section", s);
	if (p->seen[i] && !(k->flags & F_REPEAT))
		return conf_failat(p, p->line, "duplicate key '%s' (first at "
		    "%s:%d)", s, p->file, p->seen[i]);
	rc = conf_set_value(p, k, sect_base(p), v);
	if (!p->seen[i])
		p->seen[i] = p->line;
	return rc;
}

/* One line, NUL-terminated, without its newline. */
static int
parse_line(struct parser *p, char *s)
{
	char *e;

	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#')
		return 0;
	/* A comment starts at a '#' after whitespace: "key value # why". */
	for (e = s + 1; *e != '\0'; e++)
		if (*e == '#' && (e[-1] == ' ' || e[-1] == '\t')) {
			*e = '\0';
			break;
		}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (*s == '[')
		return header(p, s);
	return keyline(p, s);
}

static int
parse(struct parser *p, char *data, size_t len)
{
	char *s = data, *nl, *end = data + len;

	for (p->line = 1; s < end; p->line++, s = nl + 1) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		if ((size_t)(nl - s) > LINE_MAX_BYTES)
			return conf_failat(p, p->line,
			    "line longer than %d bytes", LINE_MAX_BYTES);
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL)
			return conf_failat(p, p->line,
			    "line contains a NUL byte");
		*nl = '\0';
		if (nl > s && nl[-1] == '\r')	/* CRLF from another editor */
			nl[-1] = '\0';
		if (parse_line(p, s) < 0)
			return -1;
	}
	return conf_close_section(p);
}

/* The whole file, NUL-terminated; NULL with errno on failure. */
static char *
read_file(const char *path, size_t *len)
{
	struct stat st;
	char *data = NULL;
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	data = xmalloc(FILE_MAX_BYTES + 2);
	*len = 0;
	while ((n = read(fd, data + *len, FILE_MAX_BYTES + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		*len += (size_t)n;
		if (*len > FILE_MAX_BYTES) {
			errno = EFBIG;
			goto fail;
		}
	}
	data[*len] = '\0';
	close(fd);
	return data;
fail:
	e = errno;
	free(data);
	close(fd);
	errno = e;
	return NULL;
}

struct conf *
conf_load(const char *path, int must_exist, char *err, size_t errlen)
{
	struct parser p;
	struct conf *c;
	char dummy[1], *data;
	size_t len = 0;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	c = xcalloc(1, sizeof *c);
	c->max_message_size = 50 * 1024 * 1024;
	c->give_up = 5 * 86400;
	c->provider.hold = 14 * 86400;
	memset(&p, 0, sizeof p);
	p.c = c;
	p.err = err;
	p.errlen = errlen;
	if (path != NULL) {
		if ((data = read_file(path, &len)) == NULL) {
			if (errno != ENOENT || must_exist) {
				snprintf(err, errlen, "%s: cannot read: %s",
				    path, strerror(errno));
				goto fail;
			}
		} else {
			c->path = xstrdup(path);
			p.file = c->path;
			if (parse(&p, data, len) < 0) {
				free(data);
				goto fail;
			}
			free(data);
		}
	}
	conf_fill_defaults(c, p.submit_off);
	return c;
fail:
	conf_free(c);
	return NULL;
}

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
peer_free(struct conf_peer *pe)
{
	free(pe->host);
	free(pe->ca_file);
	free(pe->fingerprint);
	free(pe->user);
	free(pe->password_command);
	free(pe->password_file);
}

void
conf_free(struct conf *c)
{
	struct conf_smarthost *sh;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsmarthosts; i++) {
		sh = &c->smarthosts[i];
		free(sh->name);
		peer_free(&sh->peer);
		free(sh->oauth2_token_url);
		free(sh->oauth2_client_id);
		free(sh->oauth2_client_secret_command);
		free(sh->oauth2_refresh_token_command);
		free(sh->oauth2_device_url);
		free(sh->oauth2_scope);
		free_list(sh->senders, sh->nsenders);
	}
	free(c->smarthosts);
	peer_free(&c->inbound.peer);
	free_list(c->inbound.domains, c->inbound.ndomains);
	free(c->inbound.listen);
	free(c->deliver.maildir);
	free(c->deliver.lmtp);
	free(c->deliver.lmtp_user);
	free(c->provider.listen);
	free(c->provider.odmr_listen);
	free_list(c->provider.domains, c->provider.ndomains);
	free(c->provider.users_file);
	free_list(c->submit, c->nsubmit);
	free(c->retry_schedule);
	free(c->path);
	free(c->hostname);
	free(c->state);
	free(c->from);
	free(c->submit_users);
	free(c->tls_cert);
	free(c->tls_key);
	free(c);
}

/* Local part case-sensitive (RFC 5321 2.4), domain case-insensitive. */
static int
sender_match(const char *pat, const char *sender)
{
	const char *pa, *sa;

	if (strcmp(pat, "*") == 0)
		return 1;
	if ((pa = strrchr(pat, '@')) == NULL ||
	    (sa = strrchr(sender, '@')) == NULL)
		return 0;
	if (strcasecmp(pa + 1, sa + 1) != 0)
		return 0;
	if (pa - pat == 1 && pat[0] == '*')
		return 1;
	return pa - pat == sa - sender &&
	    strncmp(pat, sender, (size_t)(pa - pat)) == 0;
}

const struct conf_smarthost *
conf_smarthost_for(const struct conf *c, const char *sender)
{
	const struct conf_smarthost *sh;

	if (sender == NULL)
		sender = "";
	for (size_t i = 0; i < c->nsmarthosts; i++) {
		sh = &c->smarthosts[i];
		for (size_t j = 0; sh->name != NULL && j < sh->nsenders; j++)
			if (sender_match(sh->senders[j], sender))
				return sh;
	}
	sh = conf_smarthost_named(c, NULL);
	return sh != NULL && sh->peer.host != NULL ? sh : NULL;
}

const struct conf_smarthost *
conf_smarthost_named(const struct conf *c, const char *name)
{
	const struct conf_smarthost *sh;

	for (size_t i = 0; i < c->nsmarthosts; i++) {
		sh = &c->smarthosts[i];
		if (name == NULL ? sh->name == NULL :
		    (sh->name != NULL && strcmp(sh->name, name) == 0))
			return sh;
	}
	return NULL;
}

char *
conf_path(const char *cli_path, int *explicit)
{
	const char *e;
	char *h, *r;

	*explicit = 1;
	if (cli_path != NULL)
		return xstrdup(cli_path);
	if ((e = getenv("TERN_CONFIG")) != NULL && *e != '\0')
		return xstrdup(e);
	*explicit = 0;
	if (geteuid() == 0)
		return xstrdup("/etc/tern/tern.conf");
	/* XDG Base Directory: relative values are to be ignored. */
	if ((e = getenv("XDG_CONFIG_HOME")) != NULL && e[0] == '/')
		return xasprintf("%s/tern/tern.conf", e);
	h = conf_home_dir();
	r = xasprintf("%s/.config/tern/tern.conf", h);
	free(h);
	return r;
}

int
conf_inbound_domain(const struct conf *cf, const char *mailbox)
{
	const char *at = strrchr(mailbox, '@');
	size_t i;

	if (at == NULL)
		return 0;
	for (i = 0; i < cf->inbound.ndomains; i++)
		if (strcasecmp(at + 1, cf->inbound.domains[i]) == 0)
			return 1;
	return 0;
}
