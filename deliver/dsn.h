/* SPDX-License-Identifier: ISC */
#ifndef TERN_DSN_H
#define TERN_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"

/* One recipient's block of a delivery status notification (RFC 3464 2.3). */
struct dsn_rcpt {
	const char	*addr;		/* Final-Recipient */
	const char	*orcpt;		/* "rfc822;x@y" or NULL */
	const char	*action;	/* "failed", "delayed", "delivered", ... */
	const char	*status;	/* "5.1.1"; NULL: derived from diag */
	const char	*remote_mta;	/* the smarthost name, or NULL */
	const char	*diag;		/* the server's reply verbatim, or NULL */
	int64_t		 last_attempt;	/* 0: not given */
};

struct dsn {
	const char	*reporting_mta;	/* our FQDN */
	const char	*sender;	/* the original envelope sender */
	const char	*envid;		/* ENVID (xtext-decoded) or NULL */
	unsigned int	 ret;		/* QUEUE_RET_FULL/HDRS or 0 */
	int64_t		 arrival;
	int64_t		 now;
	const struct dsn_rcpt *rcpt;
	size_t		 nrcpt;
	const char	*orig;		/* the original message, canonical */
	size_t		 origlen;
	size_t		 full_max;	/* return full content up to this size */
};

/*
 * Composes an RFC 3464 report (multipart/report; report-type=
 * delivery-status, RFC 6522) in canonical CRLF form into out: a text part,
 * the message/delivery-status part, and the original message
 * (message/rfc822, when ret is FULL or not given, the action is "failed"
 * and it fits full_max) or its header (text/rfc822-headers). Header:
 * From MAILER-DAEMON@reporting_mta, To the sender, Auto-Submitted:
 * auto-replied (RFC 3834 5.2), Date, Message-ID, MIME-Version.
 * The caller never composes one for a null sender (RFC 3461 5.2).
 */
void	dsn_compose(const struct dsn *, struct buf *out);

/*
 * The status code for a reply: its enhanced status code when the class
 * agrees with the reply code ("550 5.1.1 ..."), else "<class>.0.0".
 * Writes into out (at least 16 bytes) and returns out.
 */
char	*dsn_status_of(const char *reply, char *out, size_t len);

#endif
