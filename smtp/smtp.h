/* SPDX-License-Identifier: ISC */
#ifndef TERN_SMTP_H
#define TERN_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "../sasl/sasl.h"

/*
 * The SMTP/LMTP protocol engine: bytes in, bytes and callbacks out. No
 * sockets, no TLS, no queue in here.
 *
 * I/O model. The caller owns the connection. It feeds every received byte
 * (after TLS decryption) to smtp_input(), and writes out whatever the engine
 * appended to smtp_output() (a lib/buf.h buffer the caller drains with
 * buf_consume() as the socket accepts bytes). The engine tells the caller
 * what happens through the callbacks in struct smtp_cb, always from inside
 * an engine call (smtp_input, smtp_send, smtp_tls_up, smtp_timeout...).
 * Never free the engine from inside a callback: free it after the outer
 * call returns and smtp_done() says 1.
 *
 * Deadlines. smtp_timeout_ms() says how long the engine is willing to wait
 * in its current state (RFC 5321 4.5.3.2), or -1 for no limit (e.g. while
 * the engine waits for the caller). Re-read it after every call into the
 * engine and after every write, arm now + that, and call smtp_timeout()
 * when it expires. The engine never sleeps and never uses signals.
 *
 * Client session (FLUSH-1): greeting -> EHLO (HELO on 500/502; LHLO in
 * LMTP mode) -> [STARTTLS: cb->starttls, the caller handshakes, calls
 * smtp_tls_up(), EHLO again] -> [AUTH via sasl.h] -> cb->ready: the caller
 * calls smtp_send() with one message or smtp_quit() -> per recipient results
 * through cb->rcpt, cb->done per message -> cb->ready again ... -> QUIT ->
 * cb->end. cb->end is called exactly once, on every way out (unless the
 * caller frees the engine first). Do not call smtp_input() from inside a
 * callback.
 *
 * Server session: see "server role" below (smtp_server_new(),
 * smtp_become_server(), smtp_atrn()).
 */

struct smtp;
struct smtp_cmd;

#define SMTP_REPLY_LINE_MAX	512	/* octets incl. code and CRLF, 4.5.3.1.5 */
#define SMTP_REPLY_LINES_MAX	100	/* lines in one reply; more is hostile */
#define SMTP_CMD_LINE_MAX	2048	/* [S] MAIL/RCPT with params (0.2) */

enum smtp_role {
	SMTP_CLIENT,
	SMTP_SERVER
};

/* Extensions from the EHLO/LHLO reply (smtp_ext()). */
#define SMTP_EXT_SIZE		0x0001
#define SMTP_EXT_PIPELINING	0x0002
#define SMTP_EXT_8BITMIME	0x0004
#define SMTP_EXT_SMTPUTF8	0x0008
#define SMTP_EXT_DSN		0x0010
#define SMTP_EXT_ENHANCED	0x0020	/* ENHANCEDSTATUSCODES */
#define SMTP_EXT_CHUNKING	0x0040
#define SMTP_EXT_STARTTLS	0x0080
#define SMTP_EXT_AUTH		0x0100
#define SMTP_EXT_ETRN		0x0200	/* RFC 1985 */
#define SMTP_EXT_ATRN		0x0400	/* RFC 2645 */

/*
 * One complete reply. text holds the text of every line (after "250-" /
 * "250 "), lines separated by '\n', control characters replaced by '?';
 * it includes the enhanced status code when there was one. esc is that
 * code ("2.1.5") when the first line starts with a well-formed one whose
 * class matches the reply code (RFC 2034, read leniently: EXT-ESC-2),
 * else "". local = 1 for a reply the engine made up (a local failure, a
 * lost connection) that never crossed the wire.
 */
struct smtp_reply {
	int		 code;
	char		 esc[12];
	int		 local;
	unsigned int	 nlines;
	struct buf	 text;
};

/*
 * Reply parser, one line at a time (without its CRLF). Returns 1 when the
 * reply needs more lines, 0 when it is complete, -1 on a protocol error
 * (bad syntax, code outside 200..599, code changing between lines, line
 * over SMTP_REPLY_LINE_MAX, more than SMTP_REPLY_LINES_MAX lines) with a
 * static reason in *why. After 0 or -1 call smtp_reply_reset() before the
 * next reply. Memory is bounded by the two caps.
 */
void	 smtp_reply_init(struct smtp_reply *);
void	 smtp_reply_reset(struct smtp_reply *);
void	 smtp_reply_clear(struct smtp_reply *);
int	 smtp_reply_line(struct smtp_reply *, const char *line, size_t len,
	    const char **why);
/* Sets a made-up reply: code, esc (may be NULL) and text; local = 1. */
void	 smtp_reply_set(struct smtp_reply *, int code, const char *esc,
	    const char *text);
/* "550 5.1.1 text" on one line (continuation lines joined by " / "),
 * for logs and the queue's last reply. Written into out (reset first). */
void	 smtp_reply_format(const struct smtp_reply *, struct buf *out);

/* Where in a transaction a reply or a failure happened. */
enum smtp_stage {
	SMTP_AT_NONE = 0,	/* outside a transaction */
	SMTP_AT_LOCAL,		/* refused by the engine, nothing sent */
	SMTP_AT_MAIL,
	SMTP_AT_RCPT,
	SMTP_AT_DATA,
	SMTP_AT_DOT		/* the reply to the final dot (LMTP: per rcpt) */
};

/* How a session ended (struct smtp_end). */
enum smtp_end_kind {
	SMTP_END_OK = 0,	/* QUIT sent, 221 or EOF after it */
	SMTP_END_EOF,		/* the peer closed (smtp_eof()) */
	SMTP_END_421,		/* the server said 421 */
	SMTP_END_TIMEOUT,	/* smtp_timeout() */
	SMTP_END_PROTOCOL,	/* unparsable or oversized input */
	SMTP_END_REFUSED,	/* greeting or EHLO/HELO refused */
	SMTP_END_TLS,		/* STARTTLS required but missing or refused */
	SMTP_END_AUTH,		/* AUTH impossible or refused */
	SMTP_END_ABORT		/* smtp_abort() by the caller */
};

struct smtp_end {
	enum smtp_end_kind	 kind;
	const char		*state;		/* state name where it ended */
	/*
	 * 1 when the final dot of a transaction had been sent and its reply
	 * (LMTP: some of them) never came: the duplicate window, SMTP-42.
	 */
	int			 after_dot;
	const struct smtp_reply	*reply;		/* what was said, or local */
	const char		*why;		/* short reason, static text */
};

struct smtp_rcpt {
	const char	*addr;		/* without <>; must be non-empty */
	const char	*notify;	/* DSN NOTIFY= value as given, or NULL */
	const char	*orcpt;		/* "rfc822;addr" decoded, or NULL */
};

/*
 * One message for smtp_send(). Everything is borrowed and must stay valid
 * until cb->done is called for it. body is the message in canonical form
 * (CRLF lines); a bare CR or LF in it is sent as CRLF anyway (SM-20) and
 * dot-stuffing is the engine's job. The envelope must not contain control
 * characters (a message that does is refused locally with 501 5.1.3).
 */
struct smtp_msg {
	const char		*from;		/* "" for the null sender */
	const struct smtp_rcpt	*rcpt;
	size_t			 nrcpt;
	const char		*envid;		/* DSN ENVID, decoded, or NULL */
	const char		*ret;		/* "FULL", "HDRS" or NULL */
	int			 utf8;		/* headers need SMTPUTF8 */
	const char		*body;
	size_t			 len;
};

/* A per-recipient result: the reply to its RCPT, then (if that was 2xx)
 * the reply that settles it. final = 1 on the call that settles it. */
struct smtp_result {
	size_t			 idx;		/* into msg->rcpt */
	enum smtp_stage		 stage;
	int			 final;
	const struct smtp_reply	*reply;
};

/* Trace directions for cb->trace: a line read, a line written (a body is
 * one summary line), a state change ("ehlo -> auth"). */
#define SMTP_TRACE_IN	'<'
#define SMTP_TRACE_OUT	'>'
#define SMTP_TRACE_STATE '='

/* A server callback's answer: code 0 = accept with the default reply;
 * else a reply code 400..599 and text, ideally starting with an enhanced
 * status code ("5.7.1 relaying denied"); the engine adds "X.0.0" when the
 * text has none (EXT-ESC-1) and replaces control characters. */
struct smtp_verdict {
	int	 code;
	char	 text[SMTP_REPLY_LINE_MAX - 16];
};

/*
 * What the server received, for cb->message. Everything is owned by the
 * engine and valid until smtp_server_reply() (or smtp_free()). body is
 * the content in canonical CRLF form, dot-unstuffed, always ending in
 * CRLF (or empty); it never holds a bare CR, bare LF or NUL (such a
 * message is refused before this point, SM-11).
 */
struct smtp_envelope {
	const char		*helo;		/* EHLO/HELO argument */
	int			 esmtp;		/* EHLO (not HELO) was used */
	int			 tls;		/* TLS active */
	const char		*auth_user;	/* authenticated id, or NULL */
	const char		*auth;		/* MAIL AUTH= (decoded); only when
						 * authenticated, else NULL */
	const char		*from;		/* "" for the null sender */
	const char		*envid;		/* DSN ENVID, decoded, or NULL */
	const char		*ret;		/* RET= as given, or NULL */
	int			 body8;		/* BODY=8BITMIME */
	int			 utf8;		/* SMTPUTF8 */
	int			 chunked;	/* came by BDAT */
	const struct smtp_rcpt	*rcpt;		/* accepted, in RCPT order; */
	size_t			 nrcpt;		/* orcpt "type;decoded" */
	const char		*body;
	size_t			 len;
};

struct smtp_cb {
	/* Client: the session can take a message: call smtp_send() or
	 * smtp_quit(), now or later. */
	void	(*ready)(void *arg, struct smtp *);
	void	(*rcpt)(void *arg, const struct smtp_msg *,
		    const struct smtp_result *);
	/* The transaction is over; every recipient got a final result.
	 * reply is the one that ended it (dot, MAIL, DATA, local). */
	void	(*done)(void *arg, const struct smtp_msg *, enum smtp_stage,
		    const struct smtp_reply *);
	/* STARTTLS got 220: handshake now, then smtp_tls_up(). Input after
	 * the 220 has been thrown away (TLS-05). */
	void	(*starttls)(void *arg, struct smtp *);
	/* The session is over; close the connection after writing any
	 * output still pending. */
	void	(*end)(void *arg, const struct smtp_end *);
	/* One line in or out (without CRLF), AUTH secrets masked. Set it
	 * only when verbose. NULL: no tracing. */
	void	(*trace)(void *arg, int dir, const char *line);
	/* The reply to smtp_etrn(); the engine is ready again after it. */
	void	(*etrn)(void *arg, struct smtp *, const struct smtp_reply *);
};

struct smtp_client_opts {
	const char		*helo;		/* EHLO/LHLO argument (FQDN) */
	int			 lmtp;		/* LHLO; one reply per rcpt */
	int			 starttls;	/* required (TLS-07) */
	int			 tls_active;	/* implicit TLS already up */
	/* AUTH: cred NULL = no AUTH. mech < 0: sasl_choose(). */
	const struct sasl_cred	*cred;		/* borrowed for the session */
	int			 mech;
	int			 oauth;		/* secret is an OAuth2 token */
	int			 plaintext_ok;	/* loopback: PLAIN etc. w/o TLS */
};

/*
 * A client engine waiting for the greeting. opts and cb are copied (the
 * strings they point at are borrowed for the session). Never NULL.
 */
struct smtp *smtp_client_new(const struct smtp_client_opts *,
	    const struct smtp_cb *, void *arg);
void	 smtp_free(struct smtp *);		/* NULL ok */

/* Received bytes. Returns 1 while the session lives, 0 once it ended. */
int	 smtp_input(struct smtp *, const void *data, size_t len);
/* The peer closed the connection (or a read failed). A server waiting
 * for smtp_server_reply() ends after that reply is made. */
void	 smtp_eof(struct smtp *);
/* The deadline armed from smtp_timeout_ms() expired. A server says
 * "421 4.4.2" first. */
void	 smtp_timeout(struct smtp *);
/* Ends the session at once (shutdown): pending results become 451; a
 * server says "421 4.3.2" first (SMTP-29). */
void	 smtp_abort(struct smtp *, const char *why);
/* Milliseconds the current state may wait, or -1 (no deadline). */
long	 smtp_timeout_ms(const struct smtp *);
/* Bytes to send; the caller consumes what it wrote. Owned by the engine. */
struct buf *smtp_output(struct smtp *);
int	 smtp_done(const struct smtp *);	/* 1 after cb->end */

/* The TLS handshake after cb->starttls succeeded: forget the extensions,
 * EHLO again (RFC 3207 4.2). A server forgets the EHLO name, AUTH and the
 * transaction and waits for a command (no new greeting). Returns 0, or
 * -1/EINVAL in the wrong state. */
int	 smtp_tls_up(struct smtp *);
/*
 * In cb->ready (or after it): start one transaction. Returns 0, or -1 with
 * errno EINVAL when the engine is not ready for a message. A message the
 * server cannot take (8-bit without 8BITMIME: 554 5.6.3; UTF-8 without
 * SMTPUTF8: 550 5.6.7; over the SIZE limit: 552 5.3.4) or with a bad
 * envelope gets local results at SMTP_AT_LOCAL, nothing is sent, and the
 * engine is ready again (cb->ready follows).
 */
int	 smtp_send(struct smtp *, const struct smtp_msg *);
/* Send QUIT; cb->end follows with SMTP_END_OK. -1/EINVAL if not ready. */
int	 smtp_quit(struct smtp *);

unsigned int	 smtp_ext(const struct smtp *);	/* SMTP_EXT_* offered */
uint64_t	 smtp_size_max(const struct smtp *);	/* SIZE n, 0: none */
const char	*smtp_auth_mechs(const struct smtp *);	/* EHLO AUTH list */
const char	*smtp_state_name(const struct smtp *);
enum smtp_role	 smtp_role(const struct smtp *);

/*
 * The one masking function for protocol logs: writes line into out,
 * replacing SASL data by "****" ("AUTH PLAIN ****"; a bare response line
 * when in_auth). Used by the trace hook; exported for other logs.
 */
void	 smtp_mask(const char *line, int in_auth, struct buf *out);

/* ---- server role (server.c, data.c, srv_auth.c) ---- */

/*
 * Server session (tern's listeners, sendmail -bs, the ETRN callback
 * listener, ATRN after the role reversal): [220 greeting] -> commands,
 * each answered in order (RFC 2920 3.2: replies are appended to
 * smtp_output() as they are made; write whenever it holds bytes) ->
 * QUIT (221) or 421 -> cb->end. A finished DATA/BDAT message goes to
 * cb->message; the engine then waits for smtp_server_reply() and keeps
 * any pipelined input buffered meanwhile. cb->starttls comes after
 * "220 2.0.0 Ready to start TLS" with the rest of that input discarded
 * (TLS-05): handshake as the server, then smtp_tls_up() (fresh session,
 * RFC 3207 4.2) or smtp_abort(). Every 2xx/4xx/5xx reply but the greeting
 * and EHLO carries an enhanced status code (RFC 2034).
 */
#define SMTP_AUTH_LINE_MAX	12288	/* AUTH exchange lines (4954 4) */
#define SMTP_SRV_SIZE_DEFAULT	(25ULL * 1024 * 1024)
#define SMTP_SRV_RCPTS_DEFAULT	100	/* 4.5.3.1.8 */
#define SMTP_SRV_ERRORS_DEFAULT	10
#define SMTP_DATA_LINE_MAX	998	/* octets without CRLF, 5322 2.1.1 */

/*
 * The server's callbacks. A struct of its own (not more members of struct
 * smtp_cb) so existing positional smtp_cb initialisers stay complete.
 */
struct smtp_server_cb {
	/* MAIL passed the engine's checks (sequence, parameters, SIZE,
	 * AUTH required); from is "" for <>. Leave v alone to accept
	 * ("250 2.1.0"), or set v->code (and v->text) to refuse. NULL:
	 * every sender that passed is accepted. */
	void	(*mail_from)(void *arg, struct smtp *, const char *from,
		    const struct smtp_cmd *, struct smtp_verdict *v);
	/* One RCPT (to is "postmaster" for <postmaster>, SMTP-24). The
	 * caller enforces "only own domains" and "never an open relay".
	 * NULL: every recipient is accepted. */
	void	(*rcpt_to)(void *arg, struct smtp *, const char *to,
		    const struct smtp_cmd *, struct smtp_verdict *v);
	/* AUTH credentials (PLAIN or LOGIN; user and pass 1..255 octets,
	 * no NUL), mech "PLAIN" or "LOGIN". Return 0 (235), 454 (454
	 * 4.7.0, temporary) or -1 (535 5.7.8). NULL: every attempt fails. */
	int	(*auth_check)(void *arg, const char *mech, const char *user,
		    const char *pass);
	/* A complete message that passed the engine's checks. Commit it
	 * durably, then call smtp_server_reply() (now or later; until then
	 * nothing else is answered and smtp_reading() says 0). env is valid
	 * until that call (or smtp_free()). NULL: every message gets 451. */
	void	(*message)(void *arg, struct smtp *,
		    const struct smtp_envelope *env);
	/* "220 2.0.0 Ready to start TLS" is in the output and the rest of
	 * the input is gone (TLS-05): write it, handshake as the server,
	 * then smtp_tls_up() (or smtp_abort() on failure). */
	void	(*starttls)(void *arg, struct smtp *);
	/* As in struct smtp_cb: the session is over (221, 421, EOF...). */
	void	(*end)(void *arg, const struct smtp_end *);
	void	(*trace)(void *arg, int dir, const char *line);
};

struct smtp_server_opts {
	const char	*hostname;	/* greeting and EHLO (FQDN) */
	uint64_t	 size_max;	/* SIZE; 0: SMTP_SRV_SIZE_DEFAULT */
	unsigned int	 max_rcpts;	/* 452 4.5.3 beyond; 0: default */
	unsigned int	 max_errors;	/* bad commands, then 421; 0: default */
	int		 offer_starttls;	/* TLS available (not yet up) */
	int		 tls_active;	/* implicit TLS already up */
	int		 auth_required;	/* MAIL -> 530 5.7.0 until AUTH */
	/* AUTH mechanisms to offer, of "PLAIN LOGIN"; NULL: no AUTH.
	 * Offered only once TLS is active, or at once if plaintext_ok
	 * (a trusted loopback connection), EXT-AUTH-6. */
	const char	*auth_mechs;
	int		 plaintext_ok;
	int		 greeting;	/* send the 220 at start */
};

/*
 * A server engine. opts and cb are copied (the strings stay borrowed for
 * the session). With opts->greeting the 220 is in smtp_output() at once.
 * Never NULL.
 */
struct smtp *smtp_server_new(const struct smtp_server_opts *,
	    const struct smtp_server_cb *, void *arg);
/*
 * ATRN role reversal (RFC 2645 5.3): a client engine that is ready (no
 * transaction) becomes the server on the same connection and TLS state and
 * writes its 220 greeting. STARTTLS and AUTH are never offered after the
 * reversal (C-ODMR-5) whatever opts say; the greeting is always sent.
 * cb replaces the client's callbacks altogether (cb->end now reports the
 * end of the connection; a NULL member stays NULL); the arg given to
 * smtp_client_new() stays. Returns 0, or -1/EINVAL in the wrong state.
 */
int	 smtp_become_server(struct smtp *, const struct smtp_server_opts *,
	    const struct smtp_server_cb *);
/*
 * ODMR customer (RFC 2645 5.2): in cb->ready (or after it), send "ATRN
 * [domains]" (comma-separated, no spaces; NULL or "": all) and wait up to
 * 10 minutes (ODMR-08). On 250 the engine becomes the server as by
 * smtp_become_server(opts, cb). Any other reply (453 no mail, 450, 451, 502,
 * 530...) ends the session after QUIT: the client's cb->end with
 * SMTP_END_REFUSED and that reply. opts and cb are copied; domains and
 * the strings in opts are borrowed for the session. Returns 0, or
 * -1/EINVAL when not ready.
 */
int	 smtp_atrn(struct smtp *, const char *domains,
	    const struct smtp_server_opts *, const struct smtp_server_cb *);
/*
 * ETRN (RFC 1985) in cb->ready (or after it): sends "ETRN arg" (a domain,
 * or "@domain" / "#queue") and hands the reply to cb->etrn; the engine is
 * then ready again (cb->ready). 421 ends the session. arg is borrowed until
 * the reply. Returns 0, or -1/EINVAL when not ready or arg is empty or
 * holds white space.
 */
int	 smtp_etrn(struct smtp *, const char *arg);
/*
 * The answer to cb->message: code 250 once the message is durably
 * committed (SMTP-40), 451/452/554... otherwise; text as in struct
 * smtp_verdict (NULL: a default for the code). Then serves whatever was
 * pipelined behind the message. Returns 0, or -1/EINVAL when no message
 * is waiting (e.g. the session ended meanwhile) or code is not 2xx-5xx.
 */
int	 smtp_server_reply(struct smtp *, int code, const char *text);
/* 0 while the engine wants no input (waiting for smtp_server_reply() or
 * a TLS handshake): stop polling for reading; 1 otherwise. Input given
 * anyway is kept while waiting for the reply (up to 1 MiB, then 421 and
 * the end) and dropped during the handshake (TLS-05). */
int	 smtp_reading(const struct smtp *);
/* The authenticated AUTH identity on a server session, or NULL. */
const char *smtp_auth_user(const struct smtp *);

/* ---- body and parameter encoding (dot.c, xtext.c) ---- */

/*
 * Appends body to out as DATA content: bare CR and bare LF become CRLF
 * (SM-20), a line starting with "." gets one more (RFC 5321 4.5.2), a
 * missing final CRLF is added, then ".\r\n". One pass, one reservation.
 */
void	 smtp_dot_encode(const char *body, size_t len, struct buf *out);
/* The SIZE= value of body (RFC 1870 5): octets after normalisation, without
 * stuffing dots and terminator. */
uint64_t smtp_dot_size(const char *body, size_t len);
/* 1 if any octet of s[0..len) is > 127. */
int	 smtp_8bit(const char *s, size_t len);

/* xtext (RFC 3461 4): appends the encoding of s to out. */
void	 smtp_xtext_encode(const char *s, struct buf *out);
/* Decodes; returns 0, or -1 on a malformed "+XX". */
int	 smtp_xtext_decode(const char *s, struct buf *out);

/* ---- server side: command parser (command.c) ---- */

enum smtp_verb {
	SMTP_CMD_UNKNOWN = 0,
	SMTP_CMD_EHLO, SMTP_CMD_HELO, SMTP_CMD_LHLO, SMTP_CMD_MAIL,
	SMTP_CMD_RCPT, SMTP_CMD_DATA, SMTP_CMD_RSET, SMTP_CMD_NOOP,
	SMTP_CMD_QUIT, SMTP_CMD_VRFY, SMTP_CMD_AUTH, SMTP_CMD_STARTTLS,
	SMTP_CMD_BDAT, SMTP_CMD_ETRN, SMTP_CMD_ATRN
};

#define SMTP_CMD_PARAMS_MAX	16

struct smtp_param {
	const char	*key;		/* as sent; compare case-insensitively */
	const char	*value;		/* NULL when "KEY" had no "=" */
};

/*
 * A parsed command. All pointers point into line[] (a copy), so the struct
 * is a self-contained value. arg: EHLO/HELO/LHLO domain, MAIL/RCPT path
 * without <> and without a source route ("" for <>), VRFY/ETRN/ATRN
 * argument, AUTH mechanism; resp: the AUTH initial response or NULL.
 * BDAT: size and last.
 */
struct smtp_cmd {
	enum smtp_verb		 verb;
	const char		*arg;
	const char		*resp;
	uint64_t		 size;
	int			 last;
	size_t			 nparam;
	struct smtp_param	 param[SMTP_CMD_PARAMS_MAX];
	char			 line[SMTP_CMD_LINE_MAX];
};

/*
 * Parses one command line (without CRLF). Returns 0, or the reply code to
 * send (500: unknown verb, line over SMTP_CMD_LINE_MAX, NUL/CR/LF in it;
 * 501: syntax, incl. a malformed, repeated or 17th parameter) with *why
 * the matching "5.x.y text" (static). Whether a parameter is supported
 * (555) and whether the command fits the session (503) is the caller's.
 * Lenient where practice needs it: verbs and keywords in any case, spaces
 * after "FROM:"/"TO:" (SMTP-04).
 */
int	 smtp_parse_command(const char *line, size_t len, struct smtp_cmd *,
	    const char **why);
/* The value of parameter key (case-insensitive): 1 found, 0 not. */
int	 smtp_cmd_param(const struct smtp_cmd *, const char *key,
	    const char **value);

#endif
