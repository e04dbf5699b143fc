/* SPDX-License-Identifier: ISC */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <syslog.h>

/*
 * Logging to stderr (the default: systemd, runit and terminals all want it)
 * or syslog. Lines about a message start with its queue id, then key=value
 * pairs: "ID: to=<a@b> relay=h[1.2.3.4]:587 delay=1.2 status=sent (250 ok)".
 */
void	log_init(const char *ident, int use_syslog, int verbose);
int	log_verbose(void);
/* id may be NULL for lines about no message. */
void	log_msg(int prio, const char *id, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)", log_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
