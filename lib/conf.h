/* SPDX-License-Identifier: ISC */
#ifndef TERN_CONF_H
#define TERN_CONF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The configuration: every section and key of the user contract
 * (interface.md, tern.conf(5)). A loaded conf is a plain value: all strings
 * are owned by it and freed by conf_free(). Defaults are filled in by
 * conf_load(), so users never see a NULL where the contract has a default.
 */

enum conf_tls {
	CONF_TLS_STARTTLS = 0,
	CONF_TLS_IMPLICIT,
	CONF_TLS_NONE,
};

enum conf_auth {
	CONF_AUTH_AUTO = 0,
	CONF_AUTH_SCRAM_SHA_256,
	CONF_AUTH_PLAIN,
	CONF_AUTH_LOGIN,
	CONF_AUTH_CRAM_MD5,
	CONF_AUTH_XOAUTH2,
	CONF_AUTH_OAUTHBEARER,
	CONF_AUTH_NONE,
};

enum conf_inbound_method { CONF_INBOUND_NONE = 0, CONF_INBOUND_ATRN,
	CONF_INBOUND_ETRN };
enum conf_deliver_method { CONF_DELIVER_MAILDIR = 0, CONF_DELIVER_LMTP };

/* Where something was set, for messages that name file:line. */
struct conf_where {
	const char	*file;		/* points at conf->path; NULL: default */
	int		 line;
};

/* What it takes to talk to a remote server: [smarthost] and [inbound]. */
struct conf_peer {
	char		*host;		/* NULL: not configured */
	int		 port;		/* resolved default when not set */
	enum conf_tls	 tls;
	char		*ca_file;	/* NULL: system trust store */
	char		*fingerprint;	/* "sha256:hex" lower-case, or NULL */
	enum conf_auth	 auth;
	char		*user;
	char		*password_command;
	char		*password_file;
	struct conf_where where;	/* the section header */
};

struct conf_smarthost {
	char		*name;		/* NULL for the unnamed [smarthost] */
	struct conf_peer peer;
	char		*oauth2_token_url;
	char		*oauth2_client_id;
	char		*oauth2_client_secret_command;
	char		*oauth2_refresh_token_command;
	char		*oauth2_device_url;
	char		*oauth2_scope;
	char		**senders;	/* patterns; named sections only */
	size_t		 nsenders;
};

struct conf_inbound {
	enum conf_inbound_method method;
	struct conf_peer peer;		/* port: 366 atrn, 25 etrn */
	char		**domains;	/* lower-case */
	size_t		 ndomains;
	char		*listen;	/* etrn: "0.0.0.0:25" */
	int64_t		 interval;	/* seconds; 0 = none */
};

struct conf_deliver {
	enum conf_deliver_method method;
	char		*maildir;	/* expanded; default ~/Maildir */
	char		*lmtp;		/* "unix:PATH" or "HOST:PORT" */
	char		*lmtp_user;	/* NULL: the original recipient */
	int		 configured;	/* the [deliver] section was present */
};

struct conf_provider {
	char		*listen;	/* NULL: no provider role */
	char		*odmr_listen;	/* "0.0.0.0:366" */
	char		**domains;
	size_t		 ndomains;
	char		*users_file;
	int64_t		 hold;		/* seconds, default 14d */
};

struct conf {
	char		*path;		/* the file read; NULL: defaults only */
	char		*hostname;
	char		*state;		/* expanded absolute directory */
	char		*from;
	char		**submit;	/* "127.0.0.1:2525", "[::1]:2525", */
	size_t		 nsubmit;	/* "unix:PATH"; none when "off" */
	char		*submit_users;
	uint64_t	 max_message_size;	/* bytes */
	int		 log_syslog;	/* log syslog */
	char		*tls_cert;
	char		*tls_key;

	struct conf_smarthost *smarthosts;	/* unnamed first, if present */
	size_t		 nsmarthosts;

	int64_t		*retry_schedule;	/* seconds */
	size_t		 nretry_schedule;
	int64_t		 give_up;		/* seconds */

	struct conf_inbound	inbound;
	struct conf_deliver	deliver;
	struct conf_provider	provider;
};

/*
 * Picks the configuration file: cli_path (-c) if given; else $TERN_CONFIG;
 * else /etc/tern/tern.conf for root; else $XDG_CONFIG_HOME/tern/tern.conf
 * (~/.config/tern/tern.conf). Returns a malloc'd path. *explicit is set to 1
 * when the path came from -c or $TERN_CONFIG: such a file must exist, while a
 * missing default file just means built-in defaults.
 */
char	*conf_path(const char *cli_path, int *explicit);

/*
 * Reads path (NULL, or a default path that does not exist: built-in
 * defaults only), validates it and fills in every default. On error returns
 * NULL and writes one line "file:line: what is wrong" into err.
 * The caller exits 78 (EX_CONFIG) on NULL.
 */
struct conf *conf_load(const char *path, int must_exist, char *err,
	    size_t errlen);
void	 conf_free(struct conf *);

/*
 * The smarthost for an envelope sender, chosen at send time: the first named
 * section with a matching senders pattern, else the unnamed one. NULL when
 * none applies (nothing is sent). Patterns: "*@work.example",
 * "me@example.org", "*" ; compared case-insensitively on the domain.
 */
const struct conf_smarthost *conf_smarthost_for(const struct conf *,
	    const char *sender);
/* By name (NULL for the unnamed one); NULL when there is none. */
const struct conf_smarthost *conf_smarthost_named(const struct conf *,
	    const char *name);

/*
 * 1 when mailbox (local@domain) is for one of [inbound] domains, compared
 * case-insensitively: the one rule that keeps every inbound path (the ETRN
 * listener, the ATRN session) from relaying.
 */
int	 conf_inbound_domain(const struct conf *, const char *mailbox);

/* Parsers shared with the CLI. Return 0, or -1 for a malformed value. */
int	 conf_parse_duration(const char *, int64_t *seconds);	/* 30s 5m */
int	 conf_parse_size(const char *, uint64_t *bytes);	/* 512K 10M */
int	 conf_parse_bool(const char *, int *yes);	/* yes, no */
/* Formats seconds as the shortest exact duration ("90s", "5m", "2h"). */
char	*conf_fmt_duration(int64_t seconds, char *buf, size_t len);

/* Names for status/check output. */
const char *conf_tls_name(enum conf_tls);
const char *conf_auth_name(enum conf_auth);

#endif
