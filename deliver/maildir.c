/* SPDX-License-Identifier: ISC */
/*
 * Maildir delivery, the qmail way with the directory fsync modern file
 * systems need (MD-03): the message is delivered at the moment link()
 * succeeds, and durable once new/ is fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/util.h"
#include "maildir.h"

static unsigned long deliveries;	/* Q<n>: deliveries by this process */

static int
ensure_dirs(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	char path[4096];
	size_t i;

	if (mkdir_p(dir, 0700) == -1)
		return -1;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
		if (mkdir(path, 0700) == -1 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* MD-02: <sec>.M<usec>P<pid>Q<n>R<rand>.<host>, host with / and : escaped */
static void
unique_name(const char *hostname, char *out, size_t len)
{
	struct timeval tv;
	unsigned int r = 0;
	struct buf h = BUF_INIT;
	const char *p;

	gettimeofday(&tv, NULL);
	if (getrandom(&r, sizeof r, 0) != sizeof r)
		r = (unsigned int)tv.tv_usec ^ (unsigned int)getpid();
	for (p = hostname; *p != '\0'; p++) {
		if (*p == '/')
			buf_adds(&h, "\\057");
		else if (*p == ':')
			buf_adds(&h, "\\072");
		else
			buf_addc(&h, *p);
	}
	snprintf(out, len, "%lld.M%ldP%ldQ%luR%08x.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++deliveries, r,
	    h.data ? h.data : "localhost");
	buf_clear(&h);
}

/* MD-09: a Delivered-To for the same address already there is a loop. */
static int
is_loop(const char *msg, size_t len, const char *rcpt)
{
	const char *p = msg, *end = msg + len, *eol;
	size_t n = strlen(rcpt);

	while (p < end && (eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (eol - p <= 1)
			break;		/* end of header */
		if ((size_t)(eol - p) > 14 + n &&
		    strncasecmp(p, "Delivered-To:", 13) == 0) {
			const char *v = p + 13;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == '<')
				v++;
			if (strncasecmp(v, rcpt, n) == 0 &&
			    (v[n] == '>' || v[n] == '\r'))
				return 1;
		}
		p = eol + 1;
	}
	return 0;
}

/* The file's content: trace headers, then msg with CRLF turned into LF. */
static void
render(struct buf *b, const char *sender, const char *rcpt, const char *msg,
    size_t len)
{
	size_t i, start = 0;

	buf_printf(b, "Return-Path: <%s>\n", sender);
	if (rcpt != NULL)
		buf_printf(b, "Delivered-To: %s\n", rcpt);
	buf_reserve(b, len);
	for (i = 0; i < len; i++) {
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			buf_add(b, msg + start, i - start);
			start = i + 1;
		}
	}
	buf_add(b, msg + start, len - start);
}

static int
fsync_dir(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
write_tmp(const char *tmp, const struct buf *b)
{
	int fd, e;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write_all(fd, b->data, b->len) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int
maildir_deliver(const char *dir, const char *hostname, const char *sender,
    const char *rcpt, const char *msg, size_t len, char *err, size_t errlen)
{
	char name[512], tmp[4096], dst[4096], newdir[4096];
	struct buf b = BUF_INIT;
	const char *step;
	int e;

	if (rcpt != NULL && is_loop(msg, len, rcpt)) {
		snprintf(err, errlen, "mail loop: already Delivered-To %s",
		    rcpt);
		errno = ELOOP;
		return -1;
	}
	step = "create maildir";
	if (ensure_dirs(dir) == -1)
		goto fail;
	render(&b, sender, rcpt, msg, len);
	unique_name(hostname, name, sizeof name);
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name);
	snprintf(dst, sizeof dst, "%s/new/%s", dir, name);
	snprintf(newdir, sizeof newdir, "%s/new", dir);
	step = "write tmp file";
	if (write_tmp(tmp, &b) == -1)
		goto fail_unlink;
	step = "link into new/";
	if (link(tmp, dst) == -1)
		goto fail_unlink;
	unlink(tmp);
	step = "fsync new/";
	if (fsync_dir(newdir) == -1) {
		/* Not durable: take it back so a retry cannot duplicate. */
		e = errno;
		unlink(dst);
		errno = e;
		goto fail;
	}
	buf_clear(&b);
	return 0;
fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	snprintf(err, errlen, "maildir %s: %s: %s", dir, step, strerror(e));
	buf_clear(&b);
	errno = e;
	return -1;
}
