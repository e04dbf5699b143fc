/* SPDX-License-Identifier: ISC */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include <stddef.h>

/* RFC 5321 4.5.3.1: local-part 64, domain 255, path 256 including <>. */
#define ADDR_LOCAL_MAX	64
#define ADDR_DOMAIN_MAX	255
#define ADDR_MAX	254		/* a mailbox, without the brackets */

#define ADDR_UTF8	0x01		/* non-ASCII: needs SMTPUTF8 */
#define ADDR_NODOMAIN	0x02		/* a bare local part ("root") */

/*
 * Checks one RFC 5321 mailbox "local@domain" (no angle brackets): the local
 * part a dot-string or a quoted-string, the domain a name of LDH labels or
 * an address literal ([192.0.2.1], [IPv6:...]); UTF-8 allowed in both (RFC
 * 6531), which sets ADDR_UTF8 in *flags (flags may be NULL). With
 * allow_nodomain, a mailbox without "@domain" passes and sets ADDR_NODOMAIN.
 * Returns 0, or -1 with *why a constant English reason ("local part longer
 * than 64 octets").
 */
int	addr_check(const char *s, int allow_nodomain, int *flags,
	    const char **why);

/*
 * Parses an RFC 5322 address list (3.4) as found in To/Cc/Bcc header values
 * (already unfolded or not: CRLF + WSP is folding white space) and in
 * sendmail arguments ("a@b, Name <c@d>"): display names, comments (nested),
 * groups ("undisclosed-recipients:;", "team: a@b, c@d;"), quoted local parts
 * and encoded words in display names (left alone). For each mailbox calls
 * cb(arg, mailbox) with the addr-spec in RFC 5321 form: comments and FWS
 * removed, a quoted local part kept quoted only when it needs quotes. The
 * mailbox string is only valid during the call. Each mailbox is checked
 * with addr_check(allow_nodomain); a failing check, unbalanced brackets,
 * quotes or comments make it return -1 with *why naming the problem. A
 * non-zero return of cb stops the parse and is returned.
 * An empty list (or only empty groups) is 0 with no call.
 */
int	addr_list(const char *s, size_t len, int allow_nodomain,
	    int (*cb)(void *arg, const char *mailbox), void *arg,
	    const char **why);

/*
 * Strips optional surrounding white space and one pair of angle brackets
 * from a single address as given to -f or in MAIL FROM, copies it into out
 * and checks it like addr_check(). "" and "<>" give "" (the null sender).
 * Returns 0, or -1 with *why.
 */
int	addr_one(const char *s, int allow_nodomain, char *out, size_t outlen,
	    int *flags, const char **why);

/* Lower-cased domain part of a mailbox (after the last '@'), or "". */
const char *addr_domain(const char *mailbox);

#endif
