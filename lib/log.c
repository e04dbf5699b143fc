/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "tern";
static int log_syslog;
static int log_verbosity;

void
log_init(const char *ident, int use_syslog, int verbose)
{
	log_ident = ident;
	log_syslog = use_syslog;
	log_verbosity = verbose;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_verbose(void)
{
	return log_verbosity;
}

static void
vlog(int prio, const char *id, const char *fmt, va_list ap, int err)
{
	char line[4096];
	size_t n = 0;

	if (prio == LOG_DEBUG && !log_verbosity)
		return;
	if (id != NULL)
		n = (size_t)snprintf(line, sizeof line, "%s: ", id);
	if (n < sizeof line)
		vsnprintf(line + n, sizeof line - n, fmt, ap);
	if (err != 0) {
		n = strlen(line);
		snprintf(line + n, sizeof line - n, ": %s", strerror(err));
	}
	if (log_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	fprintf(stderr, "%s: %s\n", log_ident, line);
}

void
log_msg(int prio, const char *id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, id, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, NULL, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap, 0);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap, e);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap, 0);
	va_end(ap);
}
