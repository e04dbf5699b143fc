/* SPDX-License-Identifier: ISC */
#ifndef TERN_SMTP_INT_H
#define TERN_SMTP_INT_H

/*
 * Inside the engine: the session struct and the state table, shared by
 * engine.c (table, line reader, deadlines, endings) and the role files
 * (client.c now; server.c later). Not for use outside smtp/.
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
	SMTP_ST_END,
	SMTP_ST_NSTATES
};

/* Per-recipient flags during a transaction. */
#define RCPT_ACCEPTED	0x01
#define RCPT_FINAL	0x02

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
