/* SPDX-License-Identifier: ISC */
#ifndef TERN_MSG_H
#define TERN_MSG_H

#include <stddef.h>

#include "../lib/buf.h"

/*
 * An RFC 5322 message being injected: the header fields as a list (kept
 * byte for byte, folding included) and the body. Its canonical form, the one
 * the queue stores and SMTP sends before dot-stuffing, has every line ended
 * by CRLF and no other CR or LF.
 */
struct msg;

#define MSG_DOT_ENDS	0x01	/* sendmail without -i: a lone "." line ends */
#define MSG_MBOX_FROM	0x02	/* drop a leading mbox "From " line */

/* Every line is at most this long without its CRLF (RFC 5322 2.1.1). */
#define MSG_LINE_MAX	998

/*
 * Parses raw input: lines ended by LF, CRLF or a lone CR (a lone CR is a
 * line end too: it never survives into the canonical form); a final line
 * without an end gets one. The header section ends at the first empty line;
 * a line that is neither a header field ("Name: value", name printable
 * ASCII without ':') nor a continuation (starting with SP or HTAB) also ends
 * it and begins the body (an empty line is then inserted, as Postfix does).
 * A message of headers only is fine.
 * Refused, returning NULL with one line in err naming the line number:
 * a NUL byte; a line over MSG_LINE_MAX octets; input that ends in the middle
 * of the header section without a final line end (cut off).
 */
struct msg *msg_parse(const char *data, size_t len, int flags, char *err,
	    size_t errlen);
void	 msg_free(struct msg *);

/* Number of fields named name (case-insensitive). */
size_t	 msg_count(const struct msg *, const char *name);
/*
 * The value of the idx-th field named name, unfolded (CRLF removed, WSP
 * kept), leading white space trimmed; malloc'd, NULL when absent.
 */
char	*msg_get(const struct msg *, const char *name, size_t idx);
/* Removes every field named name; returns how many. */
size_t	 msg_remove(struct msg *, const char *name);
/* Adds "name: value" at the top (prepend) or the end of the header. */
void	 msg_prepend(struct msg *, const char *name, const char *value);
void	 msg_append(struct msg *, const char *name, const char *value);

/*
 * Recipients for sendmail -t: from Resent-To/Cc/Bcc when any Resent-
 * field is present, else from To/Cc/Bcc (RFC 5322 3.6.6). cb is called per
 * mailbox as with addr_list(). Returns 0, or -1 with err naming the field
 * and the reason.
 */
int	 msg_recipients(const struct msg *, int allow_nodomain,
	    int (*cb)(void *, const char *), void *arg, char *err,
	    size_t errlen);

struct msg_fixup {
	const char	*hostname;	/* domain of the Message-ID */
	const char	*from;		/* address for a generated From: */
	const char	*fullname;	/* -F, or NULL */
	long long	 now;		/* for Date: */
	const char	*queue_id;	/* goes into the Message-ID; may be NULL */
};

/*
 * Submission fix-ups (RFC 6409 8, protocols.md CLI-12): adds Date (numeric
 * zone), Message-ID (<unique@hostname>) and From ("fullname <from>") when
 * missing; removes Bcc, Resent-Bcc and Return-Path.
 */
void	 msg_fixup(struct msg *, const struct msg_fixup *);

/* 1 when any octet > 127 appears in the body / in the header. */
int	 msg_body_8bit(const struct msg *);
int	 msg_header_8bit(const struct msg *);

/* Appends the canonical bytes (header, empty line if a body, body). */
void	 msg_write(const struct msg *, struct buf *);
/* Size of the canonical bytes. */
size_t	 msg_size(const struct msg *);

#endif
