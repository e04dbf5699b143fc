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
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "util.h"

#define LINE_MAX_BYTES	4096
#define FILE_MAX_BYTES	(1024 * 1024)

enum sect { S_TOP, S_SMARTHOST, S_RETRY, S_INBOUND, S_DELIVER, S_PROVIDER,
	S_COUNT };

static const char *const sect_names[S_COUNT] = {
	"top level", "smarthost", "retry", "inbound", "deliver", "provider",
};

enum vtype {
	T_WORD,		/* one token, case-sensitive */
	T_TEXT,		/* the rest of the line: commands, scopes */
	T_HOST,		/* host name or address */
	T_ADDR,		/* local@domain */
	T_PATH,		/* absolute, or ~/ expanded */
	T_PORT,
	T_TLS, T_AUTH, T_INMETHOD, T_DLMETHOD, T_LOG,
	T_DUR, T_SIZE, T_SCHED,
	T_LIST,		/* space-separated, a repeated line appends */
	T_SUBMIT,	/* repeatable listen address, or "off" */
	T_LISTEN,	/* HOST:PORT, [v6]:PORT, unix:/path */
	T_FPR,		/* sha256:hex */
};

#define F_SECRET	0x01	/* never echo the value */
#define F_REPEAT	0x02	/* may appear on several lines */
#define F_LOWER		0x04	/* list items are domains: lower-cased */
#define F_NAMED		0x08	/* only in a named [smarthost NAME] */

struct key {
	enum sect	 sect;
	const char	*name;
	enum vtype	 type;
	size_t		 off;	/* into the section's struct */
	size_t		 off2;	/* list count */
	int		 flags;
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

struct parser {
	struct conf	*c;
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
	enum sect	 sect;
	size_t		 sh;		/* index of the current smarthost */
	int		 hdr;		/* line of the current header; 0: top */
	int		 seen[NKEYS];	/* line each key was set in this section */
	int		 sect_seen[S_COUNT];
	int		 submit_off;	/* line of "submit off" */
	int		 submit_addr;	/* line of the first submit address */
};

static int
failat(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
failat(struct parser *p, int line, const char *fmt, ...)
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

/* "bad value 'x' for 'key': expected ..." without echoing secrets. */
static int
bad(struct parser *p, const struct key *k, const char *v, const char *why)
{
	if (k->flags & F_SECRET)
		return failat(p, p->line, "bad value for '%s' (not shown): %s",
		    k->name, why);
	return failat(p, p->line, "bad value '%s' for '%s': %s", v, k->name,
	    why);
}

static char *
home_dir(void)
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
static char *
expand_path(const char *v)
{
	char *h, *r;

	if (v[0] == '~' && (v[1] == '\0' || v[1] == '/')) {
		h = home_dir();
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
		if ((path = expand_path(v + 5)) == NULL)
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

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
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
			return failat(p, p->line, "'submit off' cannot be "
			    "combined with a listen address (at %s:%d)",
			    p->file, p->submit_addr);
		p->submit_off = p->line;
		return 0;
	}
	if (p->submit_off)
		return failat(p, p->line, "submit address given after "
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
set_value(struct parser *p, const struct key *k, void *base, const char *v)
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
		if ((s = expand_path(v)) == NULL)
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

/* The line where key was set in the current section, 0 if it was not. */
static int
seen(const struct parser *p, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sect == p->sect && strcmp(keys[i].name, key) == 0)
			return p->seen[i];
	return 0;
}

static const char *
sect_label(const struct parser *p, char *buf, size_t len)
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
missing(struct parser *p, const char *key, const char *why)
{
	char lb[128];

	return failat(p, p->hdr, "%s: missing required key '%s'%s",
	    sect_label(p, lb, sizeof lb), key, why);
}

/* RFC 8314 / contract: plaintext only to loopback. */
static int
check_peer(struct parser *p, const struct conf_peer *pe)
{
	if (pe->tls == CONF_TLS_NONE && pe->host != NULL &&
	    !host_is_loopback(pe->host))
		return failat(p, seen(p, "tls"), "'tls none' is refused for "
		    "host '%s': plaintext is only allowed to loopback",
		    pe->host);
	if (pe->password_command != NULL && pe->password_file != NULL)
		return failat(p, seen(p, "password_file"), "password_file and "
		    "password_command are exclusive (command at %s:%d)",
		    p->file, seen(p, "password_command"));
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
		return failat(p, seen(p, "auth"), "'auth none' is not possible "
		    "with 'method atrn': ATRN requires AUTH (RFC 2645)");
	if (in->peer.user == NULL)
		return missing(p, "user", " (ATRN requires AUTH)");
	return 0;
}

/* Rules between keys of one section, checked when the section ends. */
static int
close_section(struct parser *p)
{
	struct conf *c = p->c;

	switch (p->sect) {
	case S_TOP:
		if ((c->tls_cert == NULL) != (c->tls_key == NULL))
			return failat(p, seen(p, c->tls_cert ? "tls_cert" :
			    "tls_key"), "tls_cert and tls_key go together: "
			    "missing '%s'", c->tls_cert ? "tls_key" :
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
		return failat(p, p->line, "duplicate section [smarthost%s%s] "
		    "(first at %s:%d)", name ? " " : "", name ? name : "",
		    p->file, sh->peer.where.line);
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
		return failat(p, p->line, "malformed section header: "
		    "expected [section] or [smarthost NAME]");
	s[n - 1] = '\0';
	word = strtok_r(s + 1, " \t", &save);
	name = strtok_r(NULL, " \t", &save);
	rest = strtok_r(NULL, " \t", &save);
	if (close_section(p) < 0)
		return -1;
	for (i = S_SMARTHOST; i < S_COUNT; i++)
		if (word != NULL && strcmp(word, sect_names[i]) == 0)
			break;
	if (i == S_COUNT)
		return failat(p, p->line, "unknown section [%s]",
		    word ? word : "");
	if (rest != NULL || (name != NULL && !valid_name(name)))
		return failat(p, p->line, "bad section name: expected "
		    "[smarthost NAME] with NAME of letters, digits, . _ -");
	if (name != NULL && i != S_SMARTHOST)
		return failat(p, p->line, "section [%s] takes no name", word);
	p->sect = (enum sect)i;
	p->hdr = p->line;
	memset(p->seen, 0, sizeof p->seen);
	if (i == S_SMARTHOST)
		return open_smarthost(p, name);
	if (p->sect_seen[i])
		return failat(p, p->line, "duplicate section [%s] (first at "
		    "%s:%d)", word, p->file, p->sect_seen[i]);
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
	return failat(p, p->line, "unknown key '%s' %s%s%s%s%s", k,
	    p->sect == S_TOP ? "at " : "in ", sect_label(p, lb, sizeof lb), i < NKEYS ? " (it belongs in " : "",
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
		return failat(p, p->line, "key '%s' needs a value", s);
	if ((k->flags & F_NAMED) && p->c->smarthosts[p->sh].name == NULL)
		return failat(p, p->line, "'%s' is only allowed in a named "
		    "[smarthost NAME] section", s);
	if (p->seen[i] && !(k->flags & F_REPEAT))
		return failat(p, p->line, "duplicate key '%s' (first at %s:%d)",
		    s, p->file, p->seen[i]);
	if (k->type == T_SUBMIT)
		rc = set_submit(p, k, v);
	else if (k->type == T_SCHED)
		rc = set_schedule(p, k, v);
	else if (k->type == T_LIST)
		rc = set_list(p, k, sect_base(p), v);
	else
		rc = set_value(p, k, sect_base(p), v);
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
			return failat(p, p->line, "line longer than %d bytes",
			    LINE_MAX_BYTES);
		if (memchr(s, '\0', (size_t)(nl - s)) != NULL)
			return failat(p, p->line, "line contains a NUL byte");
		*nl = '\0';
		if (nl > s && nl[-1] == '\r')	/* CRLF from another editor */
			nl[-1] = '\0';
		if (parse_line(p, s) < 0)
			return -1;
	}
	return close_section(p);
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
	h = home_dir();
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

static void
fill_defaults(struct conf *c, int submit_off)
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
		c->deliver.maildir = expand_path("~/Maildir");
	if (c->provider.odmr_listen == NULL)
		c->provider.odmr_listen = xstrdup("0.0.0.0:366");
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
	fill_defaults(c, p.submit_off);
	return c;
fail:
	conf_free(c);
	return NULL;
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
	h = home_dir();
	r = xasprintf("%s/.config/tern/tern.conf", h);
	free(h);
	return r;
}
