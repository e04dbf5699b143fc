/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the server's command parser on one line. Invariants:
 * a line holding NUL, CR or LF is refused with 500 (RFC 5321 2.3.8 and
 * 4.1.1.4: a bare CR or LF must never be read as a line end, the
 * smuggling defence, SMTP-03); every answer is 0, 500 or 501 with a
 * "5.x.y" text (RFC 3463); on 0 every pointer lies inside the copy in
 * cmd.line, parameters are well-formed and unique (RFC 3461 4: no
 * parameter twice), a BDAT size is the number written (RFC 3030 2), and a
 * MAIL/RCPT rebuilt from the parsed path and parameters parses back to
 * the same thing.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
inside(const struct smtp_cmd *c, const char *p)
{
	return p >= c->line && p < c->line + sizeof c->line &&
	    memchr(p, '\0', (size_t)(c->line + sizeof c->line - p)) != NULL;
}

static void
check_params(const struct smtp_cmd *c)
{
	const char *v;
	size_t i, j;

	assert(c->nparam <= SMTP_CMD_PARAMS_MAX);
	for (i = 0; i < c->nparam; i++) {
		assert(inside(c, c->param[i].key));
		assert(c->param[i].key[0] != '\0' && c->param[i].key[0] != '-');
		assert(c->param[i].value == NULL ||
		    (inside(c, c->param[i].value) &&
		    c->param[i].value[0] != '\0'));
		for (j = 0; j < i; j++)
			assert(strcasecmp(c->param[i].key,
			    c->param[j].key) != 0);
		assert(smtp_cmd_param(c, c->param[i].key, &v) == 1 &&
		    v == c->param[i].value);
	}
}

/* "MAIL FROM:<arg> k=v ..." again, with the source route gone. */
static void
check_rebuilt(const struct smtp_cmd *c)
{
	static struct smtp_cmd again;
	struct buf b = BUF_INIT;
	const char *why = NULL;
	size_t i;

	if (c->arg[0] == '@')	/* "<@a:@b:c>" loses one route per parse */
		return;
	buf_printf(&b, "%s:<%s>", c->verb == SMTP_CMD_MAIL ? "MAIL FROM" :
	    "RCPT TO", c->arg);
	for (i = 0; i < c->nparam; i++) {
		buf_printf(&b, " %s", c->param[i].key);
		if (c->param[i].value != NULL)
			buf_printf(&b, "=%s", c->param[i].value);
	}
	if (b.len + 2 <= SMTP_CMD_LINE_MAX) {
		assert(smtp_parse_command(b.data, b.len, &again, &why) == 0);
		assert(again.verb == c->verb);
		assert(strcmp(again.arg, c->arg) == 0);
		assert(again.nparam == c->nparam);
	}
	buf_clear(&b);
}

static void
check_bdat(const struct smtp_cmd *c)
{
	char num[32];
	const char *p = c->line + 5;	/* after "BDAT " */

	while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		p++;
	snprintf(num, sizeof num, "%" PRIu64, c->size);
	assert(strncmp(p, num, strlen(num)) == 0);
	assert(p[strlen(num)] == '\0' || p[strlen(num)] == ' ');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_cmd c;	/* 2 KiB: off the stack */
	const char *line = (const char *)data, *why = NULL;
	int rc;

	rc = smtp_parse_command(line, size, &c, &why);
	assert(rc == 0 || rc == 500 || rc == 501);
	if (memchr(line, '\0', size) != NULL ||
	    memchr(line, '\r', size) != NULL ||
	    memchr(line, '\n', size) != NULL)
		assert(rc == 500);
	if (rc != 0) {
		assert(why != NULL && why[0] == '5' && why[1] == '.');
		return 0;
	}
	assert(c.verb != SMTP_CMD_UNKNOWN);
	assert(strlen(c.line) <= size);
	assert(c.arg == NULL || inside(&c, c.arg));
	assert(c.resp == NULL || inside(&c, c.resp));
	check_params(&c);
	if (c.verb == SMTP_CMD_MAIL || c.verb == SMTP_CMD_RCPT) {
		assert(c.arg != NULL && strlen(c.arg) <= 254);
		check_rebuilt(&c);
	}
	if (c.verb == SMTP_CMD_BDAT)
		check_bdat(&c);
	return 0;
}
