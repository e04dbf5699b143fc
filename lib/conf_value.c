/* SPDX-License-Identifier: ISC */
/*
 * tern.conf(5) values: one parser per value type (durations, sizes, words,
 * paths, hosts, listen addresses, fingerprints, lists), and the store of a
 * parsed value where the key table (conf.c) says it lands. A value is
 * judged on its own here; rules between keys are in conf_check.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"
#include "util.h"

/* "bad value 'x' for 'key': expected ..." without echoing secrets. */
static int
bad(struct parser *p, const struct key *k, const char *v, const char *why)
{
	if (k->flags & F_SECRET)
		return conf_failat(p, p->line,
		    "bad value for '%s' (not shown): %s", k->name, why);
	return conf_failat(p, p->line, "bad value '%s' for '%s': %s", v,
	    k->name, why);
}

char *
conf_home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h != '\0')
		return xstrdup(h);
	if ((pw = getpwuid(geteuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return xstrdup("/");
}

/* "~" and "~/x" become $HOME and $HOME/x; NULL unless absolute after. */
char *
conf_expand_path(const char *v)
{
	char *h, *r;

	if (v[0] == '~' && (v[1] == '\0' || v[1] == '/')) {
		h = conf_home_dir();
		r = xasprintf("%s%s", h, v + 1);
		free(h);
		return r;
	}
	if (v[0] != '/')
		return NULL;
	return xstrdup(v);
}

static int
has_space(const char *v)
{
	return strpbrk(v, " \t") != NULL;
}

static int
valid_domain(const char *d)
{
	if (*d == '\0' || *d == '.' || *d == '-')
		return 0;
	for (; *d != '\0'; d++)
		if (!isalnum((unsigned char)*d) && *d != '.' && *d != '-' &&
		    *d != '_')
			return 0;
	return 1;
}

static int
parse_port(const char *v)
{
	char *end;
	long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 65535)
		return -1;
	return (int)n;
}

/*
 * HOST:PORT, [v6]:PORT or unix:/abs/path (unix:~/ expands). Returns the
 * value to store, or NULL with *why set.
 */
static char *
parse_listen(const char *v, const char **why)
{
	const char *colon, *host;
	char *path, *r, v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t hl;

	*why = "expected HOST:PORT, [IPv6]:PORT or unix:/absolute/path";
	if (strncmp(v, "unix:", 5) == 0) {
		if ((path = conf_expand_path(v + 5)) == NULL)
			return NULL;
		if (strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
			*why = "unix socket path too long";
			free(path);
			return NULL;
		}
		r = xasprintf("unix:%s", path);
		free(path);
		return r;
	}
	if ((colon = strrchr(v, ':')) == NULL || parse_port(colon + 1) < 0)
		return NULL;
	host = v;
	hl = (size_t)(colon - v);
	if (*v == '[') {
		if (hl < 3 || v[hl - 1] != ']' || hl - 2 >= sizeof v6)
			return NULL;
		memcpy(v6, v + 1, hl - 2);
		v6[hl - 2] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1)
			return NULL;
		return xstrdup(v);
	}
	if (hl == 0 || memchr(host, ':', hl) != NULL)
		return NULL;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '.' &&
		    host[i] != '-' && host[i] != '_')
			return NULL;
	return xstrdup(v);
}

/* A name, an IPv4 address, or an IPv6 address with or without brackets. */
static int
valid_host(const char *v)
{
	char v6[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	size_t n = strlen(v);

	if (valid_domain(v))
		return 1;
	if (v[0] == '[' && n > 2 && v[n - 1] == ']' && n - 2 < sizeof v6) {
		memcpy(v6, v + 1, n - 2);
		v6[n - 2] = '\0';
		v = v6;
	}
	return inet_pton(AF_INET6, v, &a6) == 1;
}

/* sha256: + 64 hex digits, optionally colon-separated byte pairs. */
static char *
parse_fingerprint(const char *v)
{
	char hex[65];
	size_t n = 0;
	const char *s;

	if (strncasecmp(v, "sha256:", 7) != 0)
		return NULL;
	for (s = v + 7; *s != '\0'; s++) {
		if (*s == ':') {
			/* only between pairs: "ab:cd", never "a:bc" or "ab::" */
			if (n == 0 || n % 2 != 0 || s[1] == '\0' || s[1] == ':')
				return NULL;
			continue;
		}
		if (!isxdigit((unsigned char)*s) || n == 64)
			return NULL;
		hex[n++] = (char)tolower((unsigned char)*s);
	}
	if (n != 64)
		return NULL;
	/* Colons, if any, must separate every pair, not just some. */
	if (strchr(v + 7, ':') != NULL && strlen(v + 7) != 64 + 31)
		return NULL;
	hex[n] = '\0';
	return xasprintf("sha256:%s", hex);
}

static int
word_of(const char *v, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0)
			return i;
	return -1;
}

static const char *const tls_words[] = { "starttls", "implicit", "none" };
static const char *const auth_words[] = { "auto", "scram-sha-256", "plain",
	"login", "cram-md5", "xoauth2", "oauthbearer", "none" };
static const char *const inmethod_words[] = { "none", "atrn", "etrn" };
static const char *const dlmethod_words[] = { "maildir", "lmtp" };
static const char *const log_words[] = { "stderr", "syslog" };
static const char *const bool_words[] = { "no", "yes" };

const char *
conf_tls_name(enum conf_tls t)
{
	return (unsigned)t < 3 ? tls_words[t] : "?";
}

const char *
conf_auth_name(enum conf_auth a)
{
	return (unsigned)a < 8 ? auth_words[a] : "?";
}

/* Why a duration is malformed, or NULL when *out holds it in seconds. */
static const char *
duration(const char *v, int64_t *out)
{
	static const struct { char u; int64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	int64_t n = 0;
	const char *s = v;

	if (!isdigit((unsigned char)*s))
		return "expected a number and a unit (30s, 5m, 2h, 5d, 1w)";
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (INT64_MAX - (*s - '0')) / 10)
			return "too large";
		n = n * 10 + (*s - '0');
	}
	if (*s == '\0')
		return "missing unit (s, m, h, d or w)";
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (*s != units[i].u)
			continue;
		if (s[1] != '\0')
			break;
		if (n > INT64_MAX / units[i].mul)
			return "too large";
		*out = n * units[i].mul;
		return NULL;
	}
	return "unknown unit (expected s, m, h, d or w)";
}

static const char *
size_of(const char *v, uint64_t *out)
{
	uint64_t n = 0, mul = 1;
	const char *s = v;

	if (!isdigit((unsigned char)*s))
		return "expected a size (512K, 10M, 1G, or bytes)";
	for (; isdigit((unsigned char)*s); s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return "too large";
		n = n * 10 + (uint64_t)(*s - '0');
	}
	switch (tolower((unsigned char)*s)) {
	case '\0':
		break;
	case 'k':
		mul = 1024;
		break;
	case 'm':
		mul = 1024 * 1024;
		break;
	case 'g':
		mul = 1024 * 1024 * 1024;
		break;
	default:
		return "unknown unit (expected K, M or G)";
	}
	if (*s != '\0' && s[1] != '\0')
		return "unknown unit (expected K, M or G)";
	if (n > UINT64_MAX / mul)
		return "too large";
	*out = n * mul;
	return NULL;
}

int
conf_parse_duration(const char *v, int64_t *seconds)
{
	int64_t n;

	if (v == NULL || duration(v, &n) != NULL)
		return -1;
	*seconds = n;
	return 0;
}

/* Booleans are yes/no, in any case; no key takes one yet. */
int
conf_parse_bool(const char *v, int *yes)
{
	int i;

	if (v == NULL || (i = word_of(v, bool_words, 2)) < 0)
		return -1;
	*yes = i;
	return 0;
}

int
conf_parse_size(const char *v, uint64_t *bytes)
{
	uint64_t n;

	if (v == NULL || size_of(v, &n) != NULL)
		return -1;
	*bytes = n;
	return 0;
}

char *
conf_fmt_duration(int64_t s, char *buf, size_t len)
{
	static const struct { char u; int64_t mul; } units[] = {
		{ 'w', 604800 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 },
	};

	for (size_t i = 0; s != 0 && i < sizeof units / sizeof units[0]; i++)
		if (s % units[i].mul == 0) {
			snprintf(buf, len, "%lld%c",
			    (long long)(s / units[i].mul), units[i].u);
			return buf;
		}
	snprintf(buf, len, "%llds", (long long)s);
	return buf;
}

static void
list_add(char ***list, size_t *n, const char *v)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(v);
}

/* "*", "*@domain" or "local@domain". */
static int
valid_sender(const char *v)
{
	const char *at = strrchr(v, '@');

	if (strcmp(v, "*") == 0)
		return 1;
	return at != NULL && at != v && valid_domain(at + 1);
}

static int
set_list(struct parser *p, const struct key *k, void *base, const char *v)
{
	char ***list = (char ***)((char *)base + k->off);
	size_t *n = (size_t *)((char *)base + k->off2);
	char *copy = xstrdup(v), *tok, *save = NULL;
	int rc = 0;

	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (k->flags & F_LOWER) {
			for (char *s = tok; *s != '\0'; s++)
				*s = (char)tolower((unsigned char)*s);
			if (!valid_domain(tok)) {
				rc = bad(p, k, tok, "expected a domain name");
				break;
			}
		} else if (!valid_sender(tok)) {
			rc = bad(p, k, tok,
			    "expected *, *@domain or local@domain");
			break;
		}
		list_add(list, n, tok);
	}
	free(copy);
	return rc;
}

static int
set_schedule(struct parser *p, const struct key *k, const char *v)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	const char *why;
	int64_t d;
	int rc = 0;

	for (tok = strtok_r(copy, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if ((why = duration(tok, &d)) == NULL && d == 0)
			why = "a retry wait must be longer than 0s";
		if (why != NULL) {
			rc = bad(p, k, tok, why);
			break;
		}
		p->c->retry_schedule = xreallocarray(p->c->retry_schedule,
		    p->c->nretry_schedule + 1, sizeof d);
		p->c->retry_schedule[p->c->nretry_schedule++] = d;
	}
	free(copy);
	return rc;
}

static int
set_submit(struct parser *p, const struct key *k, const char *v)
{
	struct conf *c = p->c;
	const char *why;
	char *s;

	if (strcasecmp(v, "off") == 0) {
		if (p->submit_addr)
			return conf_failat(p, p->line, "'submit off' cannot be "
			    "combined with a listen address (at %s:%d)",
			    p->file, p->submit_addr);
		p->submit_off = p->line;
		return 0;
	}
	if (p->submit_off)
		return conf_failat(p, p->line, "submit address given after "
		    "'submit off' (at %s:%d)", p->file, p->submit_off);
	if ((s = parse_listen(v, &why)) == NULL)
		return bad(p, k, v, why);
	if (!p->submit_addr)
		p->submit_addr = p->line;
	c->submit = xreallocarray(c->submit, c->nsubmit + 1, sizeof s);
	c->submit[c->nsubmit++] = s;
	return 0;
}

static int
set_enum(struct parser *p, const struct key *k, void *dst, const char *v)
{
	static const struct { const char *const *w; int n; const char *e; }
	    e[] = {
		[T_TLS] = { tls_words, 3, "expected starttls, implicit or none" },
		[T_AUTH] = { auth_words, 8, "expected auto, scram-sha-256, "
		    "plain, login, cram-md5, xoauth2, oauthbearer or none" },
		[T_INMETHOD] = { inmethod_words, 3,
		    "expected atrn, etrn or none" },
		[T_DLMETHOD] = { dlmethod_words, 2, "expected maildir or lmtp" },
		[T_LOG] = { log_words, 2, "expected stderr or syslog" },
	};
	int i = word_of(v, e[k->type].w, e[k->type].n);

	if (i < 0)
		return bad(p, k, v, e[k->type].e);
	switch (k->type) {
	case T_TLS:
		*(enum conf_tls *)dst = (enum conf_tls)i;
		break;
	case T_AUTH:
		*(enum conf_auth *)dst = (enum conf_auth)i;
		break;
	case T_INMETHOD:
		*(enum conf_inbound_method *)dst = (enum conf_inbound_method)i;
		break;
	case T_DLMETHOD:
		*(enum conf_deliver_method *)dst = (enum conf_deliver_method)i;
		break;
	default:
		*(int *)dst = i;
		break;
	}
	return 0;
}

/* Scalar values: one word unless T_TEXT, stored at base + k->off. */
static int
set_scalar(struct parser *p, const struct key *k, void *base, const char *v)
{
	void *dst = (char *)base + k->off;
	const char *why;
	char *s = NULL;
	int port;

	if (k->type != T_TEXT && has_space(v))
		return bad(p, k, v, "expected a single value");
	switch (k->type) {
	case T_TEXT:
	case T_WORD:
		s = xstrdup(v);
		break;
	case T_HOST:
		if (!valid_host(v))
			return bad(p, k, v, "expected a host name or address");
		s = xstrdup(v);
		break;
	case T_ADDR:
		if (!valid_sender(v) || strchr(v, '*') != NULL)
			return bad(p, k, v, "expected an address local@domain");
		s = xstrdup(v);
		break;
	case T_PATH:
		if ((s = conf_expand_path(v)) == NULL)
			return bad(p, k, v, "expected an absolute path or ~/path");
		break;
	case T_PORT:
		if ((port = parse_port(v)) < 0)
			return bad(p, k, v, "expected a port number 1..65535");
		*(int *)dst = port;
		return 0;
	case T_DUR:
		if ((why = duration(v, (int64_t *)dst)) != NULL)
			return bad(p, k, v, why);
		return 0;
	case T_SIZE:
		if ((why = size_of(v, (uint64_t *)dst)) != NULL)
			return bad(p, k, v, why);
		if (*(uint64_t *)dst == 0)
			return bad(p, k, v, "must be larger than 0");
		return 0;
	case T_LISTEN:
		if ((s = parse_listen(v, &why)) == NULL)
			return bad(p, k, v, why);
		break;
	case T_FPR:
		if ((s = parse_fingerprint(v)) == NULL)
			return bad(p, k, v, "expected sha256: and 64 hex digits");
		break;
	default:
		return set_enum(p, k, dst, v);
	}
	*(char **)dst = s;
	return 0;
}

int
conf_set_value(struct parser *p, const struct key *k, void *base,
    const char *v)
{
	switch (k->type) {
	case T_SUBMIT:
		return set_submit(p, k, v);
	case T_SCHED:
		return set_schedule(p, k, v);
	case T_LIST:
		return set_list(p, k, base, v);
	default:
		return set_scalar(p, k, base, v);
	}
}
