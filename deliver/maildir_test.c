/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir.h"

static int
count(const char *dir, const char *sub, char *name, size_t len)
{
	char path[4096];
	struct dirent *d;
	DIR *dp;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	if ((dp = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (name != NULL)
			snprintf(name, len, "%s/%s", path, d->d_name);
		n++;
	}
	closedir(dp);
	return n;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = malloc(1 << 20);

	assert_non_null(f);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	b[*len] = '\0';
	return b;
}

static void
test_deliver_creates_and_converts(void **state)
{
	char dir[] = "/tmp/tern-md.XXXXXX", md[4200], file[4400], err[256];
	const char msg[] = "Subject: hi\r\n\r\nline\r\n.dot\r\n";
	size_t len;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(md, sizeof md, "%s/Maildir", dir);
	assert_int_equal(maildir_deliver(md, "host/with:colon", "s@x",
	    "me@node", msg, sizeof msg - 1, err, sizeof err), 0);
	assert_int_equal(count(md, "new", file, sizeof file), 1);
	assert_int_equal(count(md, "tmp", NULL, 0), 0);
	assert_int_equal(count(md, "cur", NULL, 0), 0);
	assert_non_null(strstr(file, "host\\057with\\072colon"));
	got = slurp(file, &len);
	assert_string_equal(got, "Return-Path: <s@x>\nDelivered-To: me@node\n"
	    "Subject: hi\n\nline\n.dot\n");
	free(got);
	/* Two more deliveries: distinct names. */
	assert_int_equal(maildir_deliver(md, "h", "", NULL, msg,
	    sizeof msg - 1, err, sizeof err), 0);
	assert_int_equal(maildir_deliver(md, "h", "", NULL, msg,
	    sizeof msg - 1, err, sizeof err), 0);
	assert_int_equal(count(md, "new", NULL, 0), 3);
}

static void
test_loop_refused(void **state)
{
	char dir[] = "/tmp/tern-md.XXXXXX", err[256];
	const char msg[] = "Delivered-To: me@node\r\nSubject: x\r\n\r\nb\r\n";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(maildir_deliver(dir, "h", "s@x", "me@node", msg,
	    sizeof msg - 1, err, sizeof err), -1);
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(err, "loop"));
	assert_int_equal(count(dir, "new", NULL, 0), -1);
}

static void
test_unwritable(void **state)
{
	char dir[] = "/tmp/tern-md.XXXXXX", md[4200], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(md, sizeof md, "%s/file", dir);
	fclose(fopen(md, "w"));		/* a file where the maildir goes */
	strcat(md, "/Maildir");
	assert_int_equal(maildir_deliver(md, "h", "s@x", NULL, "x\r\n", 3,
	    err, sizeof err), -1);
	assert_non_null(strstr(err, "create maildir"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver_creates_and_converts),
		cmocka_unit_test(test_loop_refused),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
