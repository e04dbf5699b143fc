/* SPDX-License-Identifier: ISC */
#ifndef TERN_UTIL_H
#define TERN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Allocation that cannot fail: on ENOMEM these print one line and exit 71
 * (EX_OSERR). A mail node that cannot allocate a few bytes has no safe way
 * to go on, and every caller checking for NULL would only repeat that.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Wall-clock seconds since the epoch, and microseconds. */
int64_t	 clock_wall(void);
int64_t	 clock_wall_us(void);
/* Monotonic milliseconds: for deadlines and delays, never stored. */
int64_t	 clock_mono_ms(void);

/* "2026-12-04T17:00:00Z" into buf (at least 21 bytes); returns buf. */
char	*time_iso(int64_t t, char *buf, size_t len);
/* RFC 5322 date with numeric zone ("Fri, 04 Dec 2026 17:00:00 +0000"). */
char	*time_rfc5322(int64_t t, char *buf, size_t len);

/*
 * Writes all of buf to fd, retrying on EINTR and short writes.
 * Returns 0, or -1 with errno set.
 */
int	 write_all(int fd, const void *buf, size_t len);

/* mkdir -p with mode for each created component. 0, or -1 + errno. */
int	 mkdir_p(const char *path, unsigned int mode);

/* 1 when s is a loopback host name or address (localhost, 127/8, ::1). */
int	 host_is_loopback(const char *s);

/* strlcpy semantics: returns strlen(src); truncates, always terminates. */
size_t	 strlcpy_t(char *dst, const char *src, size_t size);

#endif
