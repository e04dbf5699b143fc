/* SPDX-License-Identifier: ISC */
#ifndef TERN_INJECT_H
#define TERN_INJECT_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct queue;
struct smtp_envelope;

/*
 * Mail that arrived over SMTP into the queue: the submission listener,
 * sendmail -bs, the ETRN callback listener and the ATRN reversed session
 * all end here. Prepends the Received line (RFC 5321 4.4: from the EHLO
 * name and the peer address, with ESMTP/ESMTPS/ESMTPA/ESMTPSA and the TLS
 * clause of RFC 8314 4.3), applies the submission fix-ups for mail the
 * user sends (RFC 6409 8: Date, Message-ID), never for mail relayed in,
 * and commits it (fsync) before the caller may answer 250.
 */
struct inject_src {
	const char	*peer;		/* "[127.0.0.1]" or "localhost" */
	const char	*tls;		/* "TLSv1.3 ..." or NULL */
	int		 submission;	/* the user's own mail: fix-ups */
	int		 inbound;	/* for the local mailbox */
	const char	*proto;		/* NULL: (E)SMTP from env->esmtp */
};

/*
 * A DSN NOTIFY value ("NEVER" or a comma list of SUCCESS, FAILURE, DELAY;
 * any case, RFC 3461 4.1) as QUEUE_NOTIFY_* bits. 0, or -1 when malformed
 * (an unknown word, NEVER with another, empty).
 */
int	inject_notify(const char *, unsigned int *bits);

/*
 * Returns the SMTP reply code for the end of DATA and its text in reply
 * ("2.0.0 Ok: queued as ID", "4.3.1 ..." on a full disk (452), "4.3.0 ..."
 * on another queue error (451)); *id gets the queue id on 250.
 */
int	inject_smtp(const struct conf *, struct queue *,
	    const struct inject_src *, const struct smtp_envelope *,
	    char *reply, size_t replylen, uint64_t *id);

#endif
