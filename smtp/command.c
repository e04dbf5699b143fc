/* SPDX-License-Identifier: ISC */
/*
 * Server side: one command line into a struct smtp_cmd (RFC 5321 4.1,
 * plus the extension verbs tern's listeners speak). Strict on what could
 * change meaning (NUL, bad parameters, repeated parameters), lenient on
 * what deployed clients get wrong harmlessly (case, "MAIL FROM: <a>",
 * SMTP-04). Knows no session state: 503s are the caller's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

static const struct {
	const char	*name;
	enum smtp_verb	 verb;
} verbs[] = {
	{ "EHLO", SMTP_CMD_EHLO }, { "HELO", SMTP_CMD_HELO },
	{ "LHLO", SMTP_CMD_LHLO }, { "MAIL", SMTP_CMD_MAIL },
	{ "RCPT", SMTP_CMD_RCPT }, { "DATA", SMTP_CMD_DATA },
	{ "RSET", SMTP_CMD_RSET }, { "NOOP", SMTP_CMD_NOOP },
	{ "QUIT", SMTP_CMD_QUIT }, { "VRFY", SMTP_CMD_VRFY },
	{ "AUTH", SMTP_CMD_AUTH }, { "STARTTLS", SMTP_CMD_STARTTLS },
	{ "BDAT", SMTP_CMD_BDAT }, { "ETRN", SMTP_CMD_ETRN },
	{ "ATRN", SMTP_CMD_ATRN },
};

#define SYNTAX	"5.5.4 Syntax error in parameters or arguments"

static int
fail(const char **why, const char *text, int code)
{
	*why = text;
	return code;
}

/* SMTP-05: keyword = alnum *(alnum / "-"); value = printable ASCII except
 * "=" and SP (UTF-8 allowed too, for SMTPUTF8 addresses in ORCPT). */
static int
parse_params(struct smtp_cmd *c, char *p, const char **why)
{
	char *eq, *k;
	size_t i;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (c->nparam == SMTP_CMD_PARAMS_MAX)
			return fail(why, "5.5.4 Too many parameters", 501);
		k = p;
		p += strcspn(p, " ");
		if (*p != '\0')
			*p++ = '\0';
		if ((eq = strchr(k, '=')) != NULL)
			*eq++ = '\0';
		if (*k == '\0' || k[strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-")] != '\0' ||
		    *k == '-')
			return fail(why, "5.5.4 Bad parameter keyword", 501);
		if (eq != NULL && (*eq == '\0' || strchr(eq, '=') != NULL))
			return fail(why, "5.5.4 Bad parameter value", 501);
		for (i = 0; i < c->nparam; i++)
			if (strcasecmp(c->param[i].key, k) == 0)	/* EXT-DSN-1 */
				return fail(why,
				    "5.5.4 Parameter given twice", 501);
		c->param[c->nparam].key = k;
		c->param[c->nparam].value = eq;
		c->nparam++;
	}
	return 0;
}

/*
 * "<path>" at p: "<>" or "<[@route,@route:]mailbox>". The route is
 * ignored (4.1.1.3). A quoted local part may hold ">" and spaces.
 * Returns the character after ">" or NULL.
 */
static char *
parse_path(struct smtp_cmd *c, char *p)
{
	char *start, *colon;
	int quoted = 0;

	if (*p != '<')
		return NULL;
	start = ++p;
	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			break;
	}
	if (*p != '>')
		return NULL;
	*p++ = '\0';
	/* A source route (4.1.1.3) is "@dom,@dom:" before the mailbox: its
	 * domains hold no quotes, so a ':' after a quote is not its end. */
	if (*start == '@' && (colon = strchr(start, ':')) != NULL &&
	    memchr(start, '"', (size_t)(colon - start)) == NULL)
		start = colon + 1;
	if (strlen(start) > 254)	/* 4.5.3.1.3: 256 with the brackets */
		return NULL;
	c->arg = start;
	return p;
}

static int
parse_mail_rcpt(struct smtp_cmd *c, char *p, const char *kw,
    const char **why)
{
	size_t n = strlen(kw);

	if (strncasecmp(p, kw, n) != 0)
		return fail(why, SYNTAX, 501);
	p += n;
	while (*p == ' ')		/* SMTP-04 leniency */
		p++;
	if ((p = parse_path(c, p)) == NULL)
		return fail(why, "5.1.3 Bad address syntax", 501);
	if (*p != '\0' && *p != ' ')
		return fail(why, SYNTAX, 501);
	return parse_params(c, p, why);
}

static int
parse_bdat(struct smtp_cmd *c, char *p, const char **why)
{
	char *end;

	if (*p < '0' || *p > '9' || strlen(p) > 20 + 5)
		return fail(why, SYNTAX, 501);
	errno = 0;
	c->size = strtoull(p, &end, 10);
	if (errno == ERANGE)		/* more than 2^64-1 octets */
		return fail(why, SYNTAX, 501);
	if (*end == ' ' && strcasecmp(end + 1, "LAST") == 0)
		c->last = 1;
	else if (*end != '\0')
		return fail(why, SYNTAX, 501);
	return 0;
}

static int
parse_auth(struct smtp_cmd *c, char *p, const char **why)
{
	char *sp;

	if (*p == '\0')
		return fail(why, SYNTAX, 501);
	c->arg = p;
	if ((sp = strchr(p, ' ')) != NULL) {
		*sp = '\0';
		c->resp = sp + 1;
		if (*c->resp == '\0' || strchr(c->resp, ' ') != NULL)
			return fail(why, SYNTAX, 501);
	}
	return 0;
}

static int
parse_args(struct smtp_cmd *c, char *p, const char **why)
{
	switch (c->verb) {
	case SMTP_CMD_EHLO:
	case SMTP_CMD_HELO:
	case SMTP_CMD_LHLO:
	case SMTP_CMD_VRFY:
	case SMTP_CMD_ETRN:
		if (*p == '\0')
			return fail(why, SYNTAX, 501);
		c->arg = p;
		return 0;
	case SMTP_CMD_ATRN:		/* RFC 2645: optional domain list */
		c->arg = p;
		return 0;
	case SMTP_CMD_NOOP:		/* 4.1.1.9: any argument ignored */
		c->arg = p;
		return 0;
	case SMTP_CMD_DATA:
	case SMTP_CMD_RSET:
	case SMTP_CMD_QUIT:
	case SMTP_CMD_STARTTLS:		/* SMTP-13, TLS-01: 501 */
		return *p == '\0' ? 0 : fail(why, SYNTAX, 501);
	case SMTP_CMD_MAIL:
		return parse_mail_rcpt(c, p, "FROM:", why);
	case SMTP_CMD_RCPT:
		return parse_mail_rcpt(c, p, "TO:", why);
	case SMTP_CMD_AUTH:
		return parse_auth(c, p, why);
	case SMTP_CMD_BDAT:
		return parse_bdat(c, p, why);
	default:
		return fail(why, "5.5.1 Command unrecognized", 500);
	}
}

int
smtp_parse_command(const char *line, size_t len, struct smtp_cmd *c,
    const char **why)
{
	char *p, *end;
	size_t i, n;

	memset(c, 0, offsetof(struct smtp_cmd, line));
	c->line[0] = '\0';
	if (len + 2 > SMTP_CMD_LINE_MAX)
		return fail(why, "5.5.2 Line too long", 500);
	if (memchr(line, '\0', len) != NULL || memchr(line, '\r', len) ||
	    memchr(line, '\n', len))
		return fail(why, "5.5.2 Invalid character in command", 500);
	memcpy(c->line, line, len);
	c->line[len] = '\0';
	/* Trailing spaces are noise some clients add. */
	for (end = c->line + len; end > c->line && end[-1] == ' '; end--)
		end[-1] = '\0';
	p = c->line;
	n = strcspn(p, " ");
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strlen(verbs[i].name) == n &&
		    strncasecmp(p, verbs[i].name, n) == 0)
			c->verb = verbs[i].verb;
	if (c->verb == SMTP_CMD_UNKNOWN)
		return fail(why, "5.5.1 Command unrecognized", 500);
	p += n;
	if (*p == ' ')
		p++;
	return parse_args(c, p, why);
}

int
smtp_cmd_param(const struct smtp_cmd *c, const char *key, const char **value)
{
	size_t i;

	for (i = 0; i < c->nparam; i++) {
		if (strcasecmp(c->param[i].key, key) == 0) {
			*value = c->param[i].value;
			return 1;
		}
	}
	return 0;
}
