/* SPDX-License-Identifier: ISC */
/* Secrets from a command or a file; never logged, wiped after use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../sasl/sasl.h"
#include "secret.h"

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Cuts at the first line end; the rest is wiped. */
static char *
first_line(struct buf *b)
{
	size_t n = strcspn(b->data ? b->data : "", "\r\n");
	char *s = xstrndup(b->data ? b->data : "", n);

	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	buf_clear(b);
	return s;
}

char *
secret_command(const char *cmd, const char *what, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t n;
	FILE *f;
	int st;

	if ((f = popen(cmd, "re")) == NULL) {
		snprintf(err, errlen, "%s: cannot run: %s", what,
		    strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 65536)
		buf_add(&b, chunk, n);
	explicit_bzero(chunk, sizeof chunk);
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errlen, "%s failed (exit status %d)", what,
		    st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st));
		first_line(&b);		/* only to wipe */
		return NULL;
	}
	if (b.len == 0) {
		snprintf(err, errlen, "%s printed nothing", what);
		return NULL;
	}
	return first_line(&b);
}

static char *
from_file(const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	struct stat st;
	char chunk[512];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "password_file %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "password_file %s: mode %04o is too "
		    "open; it must be 0600 or stricter", path,
		    (unsigned int)(st.st_mode & 07777));
		close(fd);
		return NULL;
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < 65536)
		buf_add(&b, chunk, (size_t)n);
	explicit_bzero(chunk, sizeof chunk);
	close(fd);
	return first_line(&b);
}

char *
secret_load(const struct conf_peer *p, char *err, size_t errlen)
{
	if (p->password_command != NULL)
		return secret_command(p->password_command,
		    "password_command", err, errlen);
	if (p->password_file != NULL)
		return from_file(p->password_file, err, errlen);
	return xstrdup("");
}

int
secret_mech(int conf_auth)
{
	static const int mech[] = {
		[CONF_AUTH_AUTO] = -1,
		[CONF_AUTH_SCRAM_SHA_256] = SASL_SCRAM_SHA_256,
		[CONF_AUTH_PLAIN] = SASL_PLAIN,
		[CONF_AUTH_LOGIN] = SASL_LOGIN,
		[CONF_AUTH_CRAM_MD5] = SASL_CRAM_MD5,
		[CONF_AUTH_XOAUTH2] = SASL_XOAUTH2,
		[CONF_AUTH_OAUTHBEARER] = SASL_OAUTHBEARER,
		[CONF_AUTH_NONE] = -1,
	};

	if (conf_auth < 0 || (size_t)conf_auth >= sizeof mech / sizeof mech[0])
		return -1;
	return mech[conf_auth];
}
