/* SPDX-License-Identifier: ISC */
#ifndef TERN_BUF_H
#define TERN_BUF_H

#include <stddef.h>

/*
 * A growable byte buffer. A value type: the fields are public, data is
 * always NUL-terminated past len (so text can be used as a C string) and
 * owned by the buffer. BUF_INIT or buf_init() before use, buf_clear() after.
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

#define BUF_INIT { NULL, 0, 0 }

void	 buf_init(struct buf *);
void	 buf_clear(struct buf *);		/* frees; leaves it empty */
void	 buf_reset(struct buf *);		/* len = 0, keeps memory */
void	 buf_reserve(struct buf *, size_t);	/* room for n more bytes */
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void	 buf_consume(struct buf *, size_t);
/* Hands data to the caller (free() it); the buffer is left empty. */
char	*buf_take(struct buf *);

#endif
