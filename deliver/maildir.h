/* SPDX-License-Identifier: ISC */
#ifndef TERN_MAILDIR_H
#define TERN_MAILDIR_H

#include <stddef.h>

/*
 * Delivers one message into the maildir dir (protocols.md MD-01..MD-09):
 * creates dir and its tmp/ new/ cur/ (0700) when missing; writes
 * tmp/<unique> exclusively with "Return-Path: <sender>" and
 * "Delivered-To: <rcpt>" prepended and LF line ends (msg is canonical CRLF);
 * fsyncs it, links it into new/ (never overwriting), unlinks the tmp name and
 * fsyncs new/. The message is delivered once this returns 0; on -1 nothing
 * is left in new/ and err says why. rcpt may be NULL (no Delivered-To).
 * A message already carrying "Delivered-To: <rcpt>" is a loop: -1, errno
 * ELOOP.
 */
int	maildir_deliver(const char *dir, const char *hostname,
	    const char *sender, const char *rcpt, const char *msg, size_t len,
	    char *err, size_t errlen);

#endif
