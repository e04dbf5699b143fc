/* SPDX-License-Identifier: ISC */
#ifndef TERN_SMTP_INT_H
#define TERN_SMTP_INT_H

/*
 * Inside the engine: the session struct and the state table, shared by
 * engine.c (table, line reader, deadlines, endings) and the role files
 * (client.c, txn.c; server.c, data.c, srv_auth.c). Not for use outside
 * smtp/.
 */
#include "smtp.h"

enum smtp_state {
	SMTP_ST_GREETING = 0,	/* [C] waiting for 220 */
	SMTP_ST_EHLO,
	SMTP_ST_HELO,
	SMTP_ST_STARTTLS,
	SMTP_ST_TLS,		/* [C] the caller does the handshake */
	SMTP_ST_AUTH,
	SMTP_ST_READY,		/* [C] the caller picks a message */
	SMTP_ST_MAIL,
	SMTP_ST_RCPT,
	SMTP_ST_DATA,
	SMTP_ST_DOT,		/* body sent; reply(ies) to the final dot */
	SMTP_ST_RSET,
	SMTP_ST_QUIT,
	SMTP_ST_ATRN,		/* [C] ATRN sent; 250 reverses the roles */
	SMTP_ST_ETRN,		/* [C] ETRN sent; the reply goes to cb */
	SMTP_ST_BANNER,		/* [S] send the 220 */
	SMTP_ST_COMMAND,	/* [S] waiting for a command */
	SMTP_ST_SRV_AUTH,	/* [S] waiting for an AUTH response line */
	SMTP_ST_SRV_DATA,	/* [S] reading DATA content */
	SMTP_ST_SRV_BDAT,	/* [S] reading (or swallowing) a BDAT chunk */
	SMTP_ST_SRV_WAIT,	/* [S] the caller commits the message */
	SMTP_ST_SRV_TLS,	/* [S] the caller does the handshake */
	SMTP_ST_END,
	SMTP_ST_NSTATES
};

/* Per-recipient flags during a transaction. */
#define RCPT_ACCEPTED	0x01
#define RCPT_FINAL	0x02

/* Server: why a message is refused after its content (data.c). */
#define BAD_BARE	0x01	/* bare CR or LF: 550 5.6.0 (SM-11) */
#define BAD_NUL		0x02	/* NUL: 554 5.6.0 */
#define BAD_LONG	0x04	/* line over 998 octets: 554 5.6.0 (TV-08) */
#define BAD_SIZE	0x08	/* over size_max: 552 5.3.4 */

/* Server: the transaction being received (server.c, data.c). */
struct smtp_srv_tx {
	int			 open;		/* MAIL accepted */
	char			*from;
	char			*envid;
	char			*ret;
	char			*auth;		/* MAIL AUTH=, decoded */
	int			 body8, utf8;
	struct smtp_rcpt	*rcpt;		/* strings owned */
	size_t			 nrcpt, rcptcap;
	int			 bdat;		/* BDAT used: no DATA now */
	/* content reader */
	struct buf		 body;
	uint64_t		 size;		/* content octets seen */
	unsigned int		 bad;		/* BAD_* */
	int			 dstate;	/* data.c */
	size_t			 linelen;
	uint64_t		 chunk_size;	/* BDAT n */
	uint64_t		 chunk_left;	/* octets of it still to come */
	int			 chunk_last;
	int			 chunk_code;	/* 0, or the refusal after it */
	const char		*chunk_text;
};

struct smtp {
	enum smtp_state		 state;
	enum smtp_role		 role;
	struct smtp_cb		 cb;
	void			*arg;
	struct smtp_client_opts	 o;

	struct buf		 out;		/* pending output */
	struct buf		 line;		/* partial input line, capped */
	size_t			 linecap;	/* incl. CRLF */
	struct smtp_reply	 rep;		/* reply being read */
	int			 stop_input;	/* drop the rest of this input */
	struct buf		 scratch;	/* line being sent / traced */
	struct buf		 tracebuf;

	unsigned int		 ext;
	uint64_t		 size_max;
	char			*mechs;		/* EHLO AUTH list or NULL */
	int			 tls;
	int			 authed;

	struct sasl		*sasl;
	char			*auth_pending;	/* initial response, 2-step */
	int			 auth_cancelled;

	/* transaction */
	const struct smtp_msg	*msg;
	unsigned char		*rf;		/* RCPT_* per recipient */
	size_t			 idx;		/* next RCPT reply */
	size_t			 naccepted;
	int			 pipelined;	/* this transaction */
	int			 mail_failed;
	int			 lone_dot;
	int			 dot_sent;
	enum smtp_stage		 txstage;	/* what decided the message */
	struct smtp_reply	 txrep;

	/* ending */
	int			 ended;
	enum smtp_end_kind	 endkind;	/* used by the QUIT path */
	const char		*endwhy;
	struct smtp_reply	 endrep;
	int			 in_ready, ready_again;

	/* server role */
	struct smtp_server_opts	 so;
	struct smtp_server_cb	 scb;
	const char		*atrn_domains;	/* borrowed until the reply */
	const char		*etrn_arg;	/* borrowed until the reply */
	struct buf		 pend;		/* input kept while not reading */
	int			 in_feed;	/* inside smtp_feed() */
	int			 eof_pending;	/* EOF while waiting for the caller */
	int			 ldiscard;	/* overlong line: skip to CRLF */
	char			 lastc;		/* last octet of the line so far */
	char			*helo;
	int			 esmtp;
	int			 srv_authed;
	char			*auth_user;
	char			*auth_mech;	/* exchange in progress */
	char			*auth_login;	/* LOGIN: the user name */
	unsigned int		 nerrors;
	struct smtp_srv_tx	 tx;
	struct smtp_envelope	 env;
};

/* engine.c */
void	smtp_enter(struct smtp *, enum smtp_state);
void	smtp_send_line(struct smtp *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_trace(struct smtp *, int dir, const char *line);
void	smtp_result(struct smtp *, size_t idx, enum smtp_stage, int final,
	    const struct smtp_reply *);
void	smtp_tx_report(struct smtp *, enum smtp_stage,
	    const struct smtp_reply *);
void	smtp_quit_with(struct smtp *, enum smtp_end_kind, const char *why,
	    const struct smtp_reply *);
void	smtp_fail(struct smtp *, enum smtp_end_kind, const char *why,
	    const struct smtp_reply *);
void	smtp_reply_copy(struct smtp_reply *, const struct smtp_reply *);

/* engine.c: the server's input (the row decides lines or raw octets) */
void	smtp_feed(struct smtp *, const char *, size_t);
void	smtp_row_line(struct smtp *, const char *line, size_t len);

/* server.c: the server rows and their helpers */
void	smtp_srv_send_banner(struct smtp *);
size_t	smtp_srv_read_line(struct smtp *, const char *, size_t);
void	smtp_srv_on_command(struct smtp *, const char *, size_t);
void	smtp_srv_reply(struct smtp *, int code, const char *esc_text);
void	smtp_srv_error(struct smtp *, int code, const char *esc_text);
void	smtp_srv_close(struct smtp *, enum smtp_end_kind, int code,
	    const char *text);
void	smtp_srv_tx_reset(struct smtp *);
void	smtp_srv_forget(struct smtp *);
void	smtp_srv_resume(struct smtp *);
void	smtp_srv_say(struct smtp *, int code, const char *text);
void	smtp_srv_reverse(struct smtp *, const struct smtp_server_opts *,
	    const struct smtp_server_cb *, void *arg);
void	smtp_cl_send_etrn(struct smtp *);
void	smtp_cl_on_etrn(struct smtp *, const struct smtp_reply *);
void	smtp_srv_send_atrn(struct smtp *);
void	smtp_srv_on_atrn(struct smtp *, const struct smtp_reply *);
/* data.c */
void	smtp_srv_data_start(struct smtp *);
size_t	smtp_srv_data_bytes(struct smtp *, const char *, size_t);
void	smtp_srv_bdat_start(struct smtp *, const struct smtp_cmd *);
size_t	smtp_srv_bdat_bytes(struct smtp *, const char *, size_t);
/* srv_auth.c */
int	smtp_srv_auth_offered(const struct smtp *);
void	smtp_srv_auth(struct smtp *, const char *line, size_t len);
void	smtp_srv_on_auth_line(struct smtp *, const char *, size_t);
void	smtp_srv_auth_end(struct smtp *);
void	smtp_srv_auth_clear(struct smtp *);

/* client.c: the client rows of the table */
void	smtp_cl_send_ehlo(struct smtp *);
void	smtp_cl_on_greeting(struct smtp *, const struct smtp_reply *);
void	smtp_cl_on_ehlo(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_helo(struct smtp *);
void	smtp_cl_on_helo(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_starttls(struct smtp *);
void	smtp_cl_on_starttls(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_auth(struct smtp *);
void	smtp_cl_on_auth(struct smtp *, const struct smtp_reply *);
void	smtp_cl_enter_ready(struct smtp *);
void	smtp_cl_send_mail(struct smtp *);
void	smtp_cl_on_mail(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_rcpt(struct smtp *);
void	smtp_cl_on_rcpt(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_data(struct smtp *);
void	smtp_cl_on_data(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_body(struct smtp *);
void	smtp_cl_on_dot(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_rset(struct smtp *);
void	smtp_cl_on_rset(struct smtp *, const struct smtp_reply *);
void	smtp_cl_send_quit(struct smtp *);
void	smtp_cl_on_quit(struct smtp *, const struct smtp_reply *);

#endif
