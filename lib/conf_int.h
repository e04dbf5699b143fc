/* SPDX-License-Identifier: ISC */
#ifndef TERN_CONF_INT_H
#define TERN_CONF_INT_H

/*
 * Private to the conf module: what conf.c (the key table and the walk over
 * the file), conf_value.c (one value of each type) and conf_check.c (rules
 * between keys, and defaults) share. Other modules use conf.h.
 */
#include <stddef.h>

#include "conf.h"

enum sect { S_TOP, S_SMARTHOST, S_RETRY, S_INBOUND, S_DELIVER, S_PROVIDER,
	S_COUNT };

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

/* One row of the key table in conf.c. */
struct key {
	enum sect	 sect;
	const char	*name;
	enum vtype	 type;
	size_t		 off;	/* into the section's struct */
	size_t		 off2;	/* list count */
	int		 flags;
};

/* Rows in conf.c's key table; conf.c asserts that they agree. */
#define CONF_NKEYS	49

/* The state of one conf_load(): where we are and what was seen where. */
struct parser {
	struct conf	*c;
	const char	*file;
	int		 line;
	char		*err;
	size_t		 errlen;
	enum sect	 sect;
	size_t		 sh;		/* index of the current smarthost */
	int		 hdr;		/* line of the current header; 0: top */
	int		 seen[CONF_NKEYS];	/* line of each key set here */
	int		 sect_seen[S_COUNT];
	int		 submit_off;	/* line of "submit off" */
	int		 submit_addr;	/* line of the first submit address */
};

/* conf.c */

/* Writes "file:line: " and the message into p->err; returns -1. */
int	 conf_failat(struct parser *p, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The line where key was set in the current section, 0 if it was not. */
int	 conf_seen(const struct parser *p, const char *key);
/* "top level", "[inbound]", "[smarthost work]": in buf, or a constant. */
const char *conf_sect_label(const struct parser *p, char *buf, size_t len);

/* conf_value.c */

/* $HOME, else the passwd entry's directory, else "/"; malloc'd. */
char	*conf_home_dir(void);
/*
 * "~" and "~/x" become $HOME and $HOME/x, an absolute path is copied;
 * malloc'd, or NULL for anything else (a relative path).
 */
char	*conf_expand_path(const char *v);
/*
 * Parses v as key k's type and stores it at base + k->off (lists and
 * counts at k->off2; submit and schedule go straight into p->c). Returns
 * 0, or -1 with "file:line: why" in p->err; a secret is never echoed.
 */
int	 conf_set_value(struct parser *p, const struct key *k, void *base,
	    const char *v);

/* conf_check.c */

/*
 * Rules between keys of the section p is in, checked when it ends, while
 * every key's line is known. 0, or -1 with the reason in p->err.
 */
int	 conf_close_section(struct parser *p);
/* Fills in every default the contract promises; submit_off: "submit off". */
void	 conf_fill_defaults(struct conf *c, int submit_off);

#endif
