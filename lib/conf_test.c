/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

static char dir[64];
static char err[512];

static int
setup(void **state)
{
	strlcpy_t(dir, "/tmp/tern-conf-XXXXXX", sizeof dir);
	if (mkdtemp(dir) == NULL)
		return -1;
	setenv("HOME", dir, 1);
	setenv("USER", "tester", 1);
	unsetenv("TERN_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("XDG_STATE_HOME");
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Writes text (len bytes, or strlen) to dir/name; returns the path. */
static char *
put(const char *name, const char *text, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fwrite(text, 1, len ? len : strlen(text), f);
	fclose(f);
	return path;
}

static struct conf *
load_ok(const char *text)
{
	char *path = put("ok.conf", text, 0);
	struct conf *c = conf_load(path, 1, err, sizeof err);

	if (c == NULL)
		fail_msg("unexpected error: %s", err);
	free(path);
	return c;
}

/* Asserts the load fails with "DIR/bad.conf:LINE: ...WORD...". */
static void
load_err(const char *text, int line, const char *word)
{
	char *path = put("bad.conf", text, 0);
	char *prefix = xasprintf("%s:%d: ", path, line);
	struct conf *c = conf_load(path, 1, err, sizeof err);

	if (c != NULL)
		fail_msg("accepted: %s", text);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, word) == NULL)
		fail_msg("got \"%s\", want prefix \"%s\" and \"%s\"", err,
		    prefix, word);
	assert_null(strchr(err, '\n'));
	free(prefix);
	free(path);
}

static void
check_defaults(const struct conf *c)
{
	char *s;

	assert_non_null(c->hostname);
	assert_true(c->hostname[0] != '\0');
	if (geteuid() == 0)
		assert_string_equal(c->state, "/var/lib/tern");
	s = xasprintf("tester@%s", c->hostname);
	assert_string_equal(c->from, s);
	free(s);
	assert_int_equal(c->nsubmit, 1);
	assert_string_equal(c->submit[0], "127.0.0.1:2525");
	assert_null(c->submit_users);
	assert_int_equal(c->max_message_size, 50 * 1024 * 1024);
	assert_int_equal(c->log_syslog, 0);
	assert_null(c->tls_cert);
	assert_int_equal(c->nsmarthosts, 0);
	assert_null(conf_smarthost_for(c, "me@example.org"));
	assert_int_equal(c->nretry_schedule, 5);
	assert_int_equal(c->retry_schedule[0], 60);
	assert_int_equal(c->retry_schedule[4], 3600);
	assert_int_equal(c->give_up, 5 * 86400);
	assert_int_equal(c->inbound.method, CONF_INBOUND_NONE);
	assert_int_equal(c->inbound.peer.port, 25);
	assert_string_equal(c->inbound.listen, "0.0.0.0:25");
	assert_int_equal(c->deliver.method, CONF_DELIVER_MAILDIR);
	s = xasprintf("%s/Maildir", dir);
	assert_string_equal(c->deliver.maildir, s);
	free(s);
	assert_int_equal(c->deliver.configured, 0);
	assert_null(c->provider.listen);
	assert_string_equal(c->provider.odmr_listen, "0.0.0.0:366");
	assert_int_equal(c->provider.hold, 14 * 86400);
}

static void
test_defaults_no_file(void **state)
{
	struct conf *c = conf_load(NULL, 0, err, sizeof err);
	char *missing = xasprintf("%s/nope/tern.conf", dir);

	assert_non_null(c);
	assert_null(c->path);
	check_defaults(c);
	conf_free(c);

	c = conf_load(missing, 0, err, sizeof err);
	assert_non_null(c);
	assert_null(c->path);
	check_defaults(c);
	conf_free(c);

	/* An empty file, or only comments, is the defaults too. */
	c = load_ok("# nothing\n\n   \t\n# more\n");
	assert_non_null(c->path);
	check_defaults(c);
	conf_free(c);
	free(missing);
}

static void
test_missing_and_unreadable(void **state)
{
	char *missing = xasprintf("%s/missing.conf", dir);
	char *want = xasprintf("%s: cannot read: No such file or directory",
	    missing);
	char *path;

	assert_null(conf_load(missing, 1, err, sizeof err));
	assert_string_equal(err, want);
	free(want);

	want = xasprintf("%s: cannot read: Is a directory", dir);
	assert_null(conf_load(dir, 0, err, sizeof err));
	assert_string_equal(err, want);
	free(want);

	if (geteuid() != 0) {	/* root reads anything */
		path = put("secret.conf", "log syslog\n", 0);
		chmod(path, 0);
		assert_null(conf_load(path, 0, err, sizeof err));
		assert_non_null(strstr(err, "cannot read: Permission denied"));
		free(path);
	}
	free(missing);
}

static const char full[] =
    "# every key of every section\n"
    "hostname node.example.org\n"
    "state ~/st   # trailing comment\n"
    "from Me@Example.org\n"
    "submit 127.0.0.1:2525\n"
    "submit [::1]:2525\n"
    "submit unix:~/submit.sock\n"
    "submit_users /etc/tern/users\n"
    "max_message_size 10m\n"
    "log SysLog\n"
    "tls_cert /etc/ssl/node.pem\n"
    "tls_key /etc/ssl/node.key\n"
    "\n"
    "[smarthost work]\n"
    "host smtp.work.example\n"
    "tls implicit\n"
    "senders *@work.example boss@Example.ORG\n"
    "senders  alias@work2.example\n"
    "auth xoauth2\n"
    "user me@work.example\n"
    "oauth2_token_url https://login.work.example/token\n"
    "oauth2_client_id abc-123\n"
    "oauth2_client_secret_command pass show work/secret\n"
    "oauth2_refresh_token_command pass show work/refresh\n"
    "oauth2_device_url https://login.work.example/device\n"
    "oauth2_scope https://outlook.office.com/SMTP.Send offline_access\n"
    "[smarthost]\n"
    "host mail.example.org\n"
    "port 2587\n"
    "tls starttls\n"
    "ca_file ~/ca.pem\n"
    "fingerprint sha256:AB:cd:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
    "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89\n"
    "auth SCRAM-SHA-256\n"
    "user me\n"
    "password_command pass show mail   # the password\n"
    "[smarthost lo]\n"
    "host 127.0.0.1\n"
    "tls none\n"
    "auth none\n"
    "password_file ~/pw\n"
    "senders *\n"
    "[retry]\n"
    "schedule 30s 2m 1h\n"
    "give_up 3d\n"
    "[inbound]\n"
    "method ATRN\n"
    "host odmr.example.net\n"
    "tls implicit\n"
    "ca_file /etc/ssl/p.pem\n"
    "fingerprint sha256:" "0123456789abcdef0123456789abcdef"
    "0123456789ABCDEF0123456789abcdef\n"
    "auth plain\n"
    "user node\n"
    "password_file /root/pw\n"
    "domains Example.org\n"
    "domains example.net mail.example.org\n"
    "listen 0.0.0.0:2525\n"
    "interval 15m\n"
    "[deliver]\n"
    "method lmtp\n"
    "maildir ~/Mail\n"
    "lmtp unix:/run/dovecot/lmtp\n"
    "lmtp_user me\n"
    "[provider]\n"
    "listen [::]:25\n"
    "odmr_listen 0.0.0.0:1366\n"
    "domains example.org\n"
    "users_file /etc/tern/odmr-users\n"
    "hold 2w\n";

static void
check_full_top(const struct conf *c)
{
	char *s;

	assert_string_equal(c->hostname, "node.example.org");
	s = xasprintf("%s/st", dir);
	assert_string_equal(c->state, s);
	free(s);
	assert_string_equal(c->from, "Me@Example.org");
	assert_int_equal(c->nsubmit, 3);
	assert_string_equal(c->submit[1], "[::1]:2525");
	s = xasprintf("unix:%s/submit.sock", dir);
	assert_string_equal(c->submit[2], s);
	free(s);
	assert_string_equal(c->submit_users, "/etc/tern/users");
	assert_int_equal(c->max_message_size, 10 * 1024 * 1024);
	assert_int_equal(c->log_syslog, 1);
	assert_string_equal(c->tls_cert, "/etc/ssl/node.pem");
	assert_string_equal(c->tls_key, "/etc/ssl/node.key");
	assert_int_equal(c->nretry_schedule, 3);
	assert_int_equal(c->retry_schedule[0], 30);
	assert_int_equal(c->retry_schedule[1], 120);
	assert_int_equal(c->retry_schedule[2], 3600);
	assert_int_equal(c->give_up, 3 * 86400);
}

static void
check_full_smarthosts(const struct conf *c)
{
	const struct conf_smarthost *u = &c->smarthosts[0], *w;
	char *s;

	assert_int_equal(c->nsmarthosts, 3);
	/* The unnamed one comes first although it was second in the file. */
	assert_null(u->name);
	assert_int_equal(u->peer.where.line, 27);
	assert_ptr_equal(u->peer.where.file, c->path);
	assert_string_equal(u->peer.host, "mail.example.org");
	assert_int_equal(u->peer.port, 2587);
	assert_int_equal(u->peer.tls, CONF_TLS_STARTTLS);
	s = xasprintf("%s/ca.pem", dir);
	assert_string_equal(u->peer.ca_file, s);
	free(s);
	assert_string_equal(u->peer.fingerprint, "sha256:abcdef0123456789"
	    "abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_int_equal(u->peer.auth, CONF_AUTH_SCRAM_SHA_256);
	assert_string_equal(u->peer.user, "me");
	assert_string_equal(u->peer.password_command, "pass show mail");
	assert_int_equal(u->nsenders, 0);

	w = conf_smarthost_named(c, "work");
	assert_non_null(w);
	assert_string_equal(w->name, "work");
	assert_int_equal(w->peer.port, 465);	/* implicit default */
	assert_int_equal(w->peer.tls, CONF_TLS_IMPLICIT);
	assert_int_equal(w->peer.auth, CONF_AUTH_XOAUTH2);
	assert_int_equal(w->nsenders, 3);
	assert_string_equal(w->senders[1], "boss@Example.ORG");
	assert_string_equal(w->senders[2], "alias@work2.example");
	assert_string_equal(w->oauth2_token_url,
	    "https://login.work.example/token");
	assert_string_equal(w->oauth2_client_id, "abc-123");
	assert_string_equal(w->oauth2_client_secret_command,
	    "pass show work/secret");
	assert_string_equal(w->oauth2_refresh_token_command,
	    "pass show work/refresh");
	assert_string_equal(w->oauth2_device_url,
	    "https://login.work.example/device");
	assert_string_equal(w->oauth2_scope,
	    "https://outlook.office.com/SMTP.Send offline_access");

	w = conf_smarthost_named(c, "lo");
	assert_non_null(w);
	assert_int_equal(w->peer.tls, CONF_TLS_NONE);
	assert_int_equal(w->peer.port, 587);
	assert_int_equal(w->peer.auth, CONF_AUTH_NONE);
	s = xasprintf("%s/pw", dir);
	assert_string_equal(w->peer.password_file, s);
	free(s);
}

static void
check_full_rest(const struct conf *c)
{
	const struct conf_inbound *in = &c->inbound;
	char *s;

	assert_int_equal(in->method, CONF_INBOUND_ATRN);
	assert_string_equal(in->peer.host, "odmr.example.net");
	assert_int_equal(in->peer.port, 366);	/* atrn, whatever the tls */
	assert_int_equal(in->peer.tls, CONF_TLS_IMPLICIT);
	assert_string_equal(in->peer.ca_file, "/etc/ssl/p.pem");
	assert_string_equal(in->peer.fingerprint, "sha256:0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(in->peer.auth, CONF_AUTH_PLAIN);
	assert_string_equal(in->peer.user, "node");
	assert_string_equal(in->peer.password_file, "/root/pw");
	assert_int_equal(in->ndomains, 3);
	assert_string_equal(in->domains[0], "example.org");
	assert_string_equal(in->domains[2], "mail.example.org");
	assert_string_equal(in->listen, "0.0.0.0:2525");
	assert_int_equal(in->interval, 900);

	assert_int_equal(c->deliver.configured, 1);
	assert_int_equal(c->deliver.method, CONF_DELIVER_LMTP);
	s = xasprintf("%s/Mail", dir);
	assert_string_equal(c->deliver.maildir, s);
	free(s);
	assert_string_equal(c->deliver.lmtp, "unix:/run/dovecot/lmtp");
	assert_string_equal(c->deliver.lmtp_user, "me");

	assert_string_equal(c->provider.listen, "[::]:25");
	assert_string_equal(c->provider.odmr_listen, "0.0.0.0:1366");
	assert_int_equal(c->provider.ndomains, 1);
	assert_string_equal(c->provider.domains[0], "example.org");
	assert_string_equal(c->provider.users_file, "/etc/tern/odmr-users");
	assert_int_equal(c->provider.hold, 14 * 86400);
}

static void
test_full_file(void **state)
{
	struct conf *c = load_ok(full);
	char *crlf;
	size_t n = 0;

	check_full_top(c);
	check_full_smarthosts(c);
	check_full_rest(c);
	conf_free(c);

	/* CRLF line endings are read the same way. */
	crlf = xmalloc(sizeof full * 2);
	for (const char *p = full; *p != '\0'; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	crlf[n] = '\0';
	c = load_ok(crlf);
	check_full_top(c);
	check_full_smarthosts(c);
	check_full_rest(c);
	conf_free(c);
	free(crlf);
}

struct bad { const char *text; int line; const char *word; };

static const struct bad bads[] = {
	/* syntax and structure */
	{ "log stderr\n[mystery]\n", 2, "unknown section [mystery]" },
	{ "[retry\n", 1, "malformed section header" },
	{ "[retry x]\n", 1, "takes no name" },
	{ "[smarthost a b]\n", 1, "bad section name" },
	{ "[retry]\n[retry]\n", 2, "duplicate section [retry] (first at" },
	{ "[smarthost]\nhost a.example\n[smarthost]\n", 3,
	    "duplicate section [smarthost]" },
	{ "[smarthost w]\nhost a.example\nsenders *\n[smarthost w]\n", 4,
	    "duplicate section [smarthost w]" },
	{ "colour blue\n", 1, "unknown key 'colour' at top level" },
	{ "[smarthost]\nhostname x\n", 2,
	    "unknown key 'hostname' in [smarthost]" },
	{ "[retry]\nhost x\n", 2, "unknown key 'host' in [retry]" },
	{ "log\n", 1, "key 'log' needs a value" },
	{ "# x\n[smarthost]\nhost a.example\n\nhost b.example\n", 5,
	    "duplicate key 'host' (first at " },
	{ "log stderr\nlog syslog\n", 2, "duplicate key 'log'" },
	{ "[retry]\nschedule 1m\nschedule 2m\n", 3, "duplicate key" },
	/* bad values */
	{ "log file\n", 1, "bad value 'file' for 'log'" },
	{ "max_message_size 10X\n", 1, "'max_message_size'" },
	{ "max_message_size 0\n", 1, "larger than 0" },
	{ "state var/tern\n", 1, "absolute path" },
	{ "state ~user/x\n", 1, "absolute path" },
	{ "hostname two words\n", 1, "single value" },
	{ "from nobody\n", 1, "bad value 'nobody' for 'from'" },
	{ "submit 2525\n", 1, "HOST:PORT" },
	{ "submit 127.0.0.1:0\n", 1, "bad value '127.0.0.1:0'" },
	{ "submit 127.0.0.1:65536\n", 1, "for 'submit'" },
	{ "submit ::1:25\n", 1, "[IPv6]:PORT" },
	{ "submit [zz]:25\n", 1, "bad value" },
	{ "submit unix:rel/sock\n", 1, "bad value" },
	{ "submit off\nsubmit 127.0.0.1:25\n", 2, "'submit off'" },
	{ "submit 127.0.0.1:25\nsubmit off\n", 2, "cannot be combined" },
	{ "[smarthost]\nport 0\n", 2, "1..65535" },
	{ "[smarthost]\nport 70000\n", 2, "bad value '70000' for 'port'" },
	{ "[smarthost]\nport 25x\n", 2, "port" },
	{ "[smarthost]\ntls ssl\n", 2, "expected starttls, implicit or none" },
	{ "[smarthost]\nauth digest-md5\n", 2, "bad value 'digest-md5'" },
	{ "[smarthost]\nfingerprint sha1:abcd\n", 2, "'fingerprint'" },
	{ "[smarthost]\nfingerprint sha256:abcd\n", 2, "64 hex" },
	{ "[smarthost]\nfingerprint sha256:" "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdeg\n", 2, "fingerprint" },
	{ "[smarthost]\nfingerprint sha256:0:123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef\n", 2, "fingerprint" },
	{ "[retry]\nschedule 1m 5\n", 2, "missing unit" },
	{ "[retry]\nschedule 1m 0s\n", 2, "longer than 0s" },
	{ "[retry]\ngive_up 5x\n", 2, "unknown unit" },
	{ "[retry]\ngive_up 99999999999999999999s\n", 2, "too large" },
	{ "[inbound]\nmethod pop3\n", 2, "expected atrn, etrn or none" },
	{ "[inbound]\ndomains bad!domain\n", 2, "domain" },
	{ "[deliver]\nmethod mbox\n", 2, "maildir or lmtp" },
	{ "[deliver]\nlmtp localhost\n", 2, "bad value 'localhost'" },
	{ "[provider]\nhold forever\n", 2, "'hold'" },
	/* missing required keys and rules between keys */
	{ "[inbound]\nmethod atrn\ndomains e.org\nuser u\n", 1,
	    "missing required key 'host'" },
	{ "[inbound]\nmethod etrn\nhost mx.e.org\n", 1,
	    "missing required key 'domains'" },
	{ "[inbound]\nmethod atrn\nhost h.e\ndomains e.org\nuser u\n"
	    "auth none\n", 6, "ATRN requires AUTH" },
	{ "[inbound]\nmethod atrn\nhost h.e\ndomains e.org\n", 1,
	    "missing required key 'user'" },
	{ "x 1\n", 1, "unknown key 'x'" },
	{ "[deliver]\nmethod lmtp\n", 1, "missing required key 'lmtp'" },
	{ "[smarthost w]\nhost a.example\n", 1,
	    "missing required key 'senders'" },
	{ "[smarthost w]\nsenders *@w.example\n", 1,
	    "missing required key 'host'" },
	{ "[smarthost]\nsenders *@w.example\n", 2, "named [smarthost NAME]" },
	{ "[smarthost]\nhost a.example\noauth2_token_url https://t/\n", 1,
	    "missing required key 'oauth2_client_id'" },
	{ "[smarthost]\noauth2_client_id x\n", 1, "'oauth2_token_url'" },
	{ "[smarthost]\nhost mail.example.org\ntls none\n", 3,
	    "'tls none' is refused" },
	{ "[inbound]\ntls none\nhost 10.0.0.1\n", 2, "loopback" },
	{ "[smarthost]\npassword_command a\npassword_file /x\n", 3,
	    "exclusive" },
	{ "tls_cert /a.pem\n", 1, "missing 'tls_key'" },
	{ "[provider]\nlisten 0.0.0.0:25\nusers_file /u\n", 1,
	    "missing required key 'domains'" },
	{ "[provider]\nlisten 0.0.0.0:25\ndomains e.org\n", 1,
	    "missing required key 'users_file'" },
};

static void
test_errors(void **state)
{
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++)
		load_err(bads[i].text, bads[i].line, bads[i].word);
}

static void
test_long_line_and_nul(void **state)
{
	char *text = xmalloc(8192), *path, *prefix;
	struct conf *c;

	/* 4096 bytes is allowed (a comment), 4097 is not. */
	text[0] = '#';
	memset(text + 1, 'x', 4095);
	strlcpy_t(text + 4096, "\nlog syslog\n", 64);
	c = load_ok(text);
	assert_int_equal(c->log_syslog, 1);
	conf_free(c);
	strlcpy_t(text, "log syslog\n#", 8192);
	memset(text + 12, 'x', 4096);
	text[12 + 4096] = '\0';
	load_err(text, 2, "longer than 4096");

	path = put("nul.conf", "log syslog\nlog\0 stderr\n", 23);
	assert_null(conf_load(path, 1, err, sizeof err));
	prefix = xasprintf("%s:2: ", path);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	assert_non_null(strstr(err, "NUL"));
	free(prefix);
	free(path);
	free(text);
}

static void
test_secrets_not_echoed(void **state)
{
	load_err("[smarthost]\npassword_file s3cr3t-value\n", 2,
	    "'password_file' (not shown)");
	assert_null(strstr(err, "s3cr3t"));
	load_err("[smarthost]\npassword_command echo s3cr3t\n"
	    "password_command echo other\n", 3, "duplicate key");
	assert_null(strstr(err, "s3cr3t"));
	assert_null(strstr(err, "other"));
	load_err("[smarthost]\noauth2_client_secret_command echo s3cr3t\n", 1,
	    "oauth2_token_url");
	assert_null(strstr(err, "s3cr3t"));
}

static void
test_durations_and_sizes(void **state)
{
	static const struct { const char *s; int64_t v; } dok[] = {
		{ "0s", 0 }, { "30s", 30 }, { "5m", 300 }, { "2h", 7200 },
		{ "5d", 432000 }, { "1w", 604800 }, { "007s", 7 },
		{ "9223372036854775807s", INT64_MAX },
	};
	static const char *const dbad[] = { "", "5", "5x", "s", "-5s", "+5s",
	    "5 s", "5ss", "1h30m", "5M", "9223372036854775808s",
	    "15250284452472w", "99999999999999999999999s" };
	static const struct { const char *s; uint64_t v; } sok[] = {
		{ "0", 0 }, { "512", 512 }, { "512K", 524288 },
		{ "512k", 524288 }, { "10M", 10485760 }, { "1G", 1073741824 },
		{ "1g", 1073741824 }, { "18446744073709551615", UINT64_MAX },
	};
	static const char *const sbad[] = { "", "K", "10T", "10MB", "-1",
	    " 1", "18446744073709551616", "17179869184G" };
	char b[32];
	int64_t d = -1;
	uint64_t z = 1;

	for (size_t i = 0; i < sizeof dok / sizeof dok[0]; i++) {
		assert_int_equal(conf_parse_duration(dok[i].s, &d), 0);
		assert_int_equal(d, dok[i].v);
	}
	d = 42;
	for (size_t i = 0; i < sizeof dbad / sizeof dbad[0]; i++)
		if (conf_parse_duration(dbad[i], &d) != -1)
			fail_msg("duration '%s' accepted", dbad[i]);
	assert_int_equal(d, 42);
	for (size_t i = 0; i < sizeof sok / sizeof sok[0]; i++) {
		assert_int_equal(conf_parse_size(sok[i].s, &z), 0);
		assert_true(z == sok[i].v);
	}
	for (size_t i = 0; i < sizeof sbad / sizeof sbad[0]; i++)
		if (conf_parse_size(sbad[i], &z) != -1)
			fail_msg("size '%s' accepted", sbad[i]);
	assert_int_equal(conf_parse_duration(NULL, &d), -1);
	{
		int y = -1;

		assert_int_equal(conf_parse_bool("YES", &y), 0);
		assert_int_equal(y, 1);
		assert_int_equal(conf_parse_bool("no", &y), 0);
		assert_int_equal(y, 0);
		assert_int_equal(conf_parse_bool("true", &y), -1);
		assert_int_equal(conf_parse_bool("", &y), -1);
	}

	assert_string_equal(conf_fmt_duration(0, b, sizeof b), "0s");
	assert_string_equal(conf_fmt_duration(90, b, sizeof b), "90s");
	assert_string_equal(conf_fmt_duration(300, b, sizeof b), "5m");
	assert_string_equal(conf_fmt_duration(7200, b, sizeof b), "2h");
	assert_string_equal(conf_fmt_duration(5 * 86400, b, sizeof b), "5d");
	assert_string_equal(conf_fmt_duration(14 * 86400, b, sizeof b), "2w");
	assert_string_equal(conf_fmt_duration(3660, b, sizeof b), "61m");
	assert_string_equal(conf_tls_name(CONF_TLS_IMPLICIT), "implicit");
	assert_string_equal(conf_auth_name(CONF_AUTH_CRAM_MD5), "cram-md5");
	assert_string_equal(conf_auth_name(CONF_AUTH_NONE), "none");
}

static void
test_home_expansion(void **state)
{
	struct conf *c;

	setenv("HOME", "/home/someone", 1);
	c = load_ok("state ~/s\n[deliver]\nmaildir ~\n");
	assert_string_equal(c->state, "/home/someone/s");
	assert_string_equal(c->deliver.maildir, "/home/someone");
	assert_int_equal(c->deliver.configured, 1);
	assert_int_equal(c->deliver.method, CONF_DELIVER_MAILDIR);
	conf_free(c);
	/* ~ only counts at the start of the value. */
	c = load_ok("[smarthost]\nhost h.example\n"
	    "password_command cat ~/pw\n");
	assert_string_equal(c->smarthosts[0].peer.password_command,
	    "cat ~/pw");
	conf_free(c);
	setenv("HOME", dir, 1);
}

static void
test_submit(void **state)
{
	struct conf *c = load_ok("submit 127.0.0.1:2525\n"
	    "submit   [::1]:2526 # v6\nsubmit localhost:25\n");

	assert_int_equal(c->nsubmit, 3);
	assert_string_equal(c->submit[0], "127.0.0.1:2525");
	assert_string_equal(c->submit[1], "[::1]:2526");
	assert_string_equal(c->submit[2], "localhost:25");
	conf_free(c);
	c = load_ok("submit OFF\n");
	assert_int_equal(c->nsubmit, 0);
	conf_free(c);
}

static void
test_routing(void **state)
{
	struct conf *c = load_ok(
	    "[smarthost work]\nhost w.example\nsenders *@Work.Example\n"
	    "[smarthost]\nhost main.example\n"
	    "[smarthost me]\nhost m.example\nsenders me@example.org\n");
	const struct conf_smarthost *sh;

	assert_string_equal(c->smarthosts[0].peer.host, "main.example");
	sh = conf_smarthost_for(c, "anyone@work.EXAMPLE");
	assert_non_null(sh);
	assert_string_equal(sh->name, "work");
	assert_string_equal(conf_smarthost_for(c, "me@EXAMPLE.org")->name,
	    "me");
	/* Local parts are case-sensitive; no match falls to the unnamed. */
	assert_null(conf_smarthost_for(c, "Me@example.org")->name);
	assert_null(conf_smarthost_for(c, "x@sub.work.example")->name);
	assert_null(conf_smarthost_for(c, "")->name);
	assert_null(conf_smarthost_for(c, NULL)->name);
	assert_string_equal(conf_smarthost_named(c, NULL)->peer.host,
	    "main.example");
	assert_null(conf_smarthost_named(c, "nope"));
	conf_free(c);

	/* An unnamed section without host does not count. */
	c = load_ok("[smarthost]\nport 25\n"
	    "[smarthost all]\nhost a.example\nsenders a@b.example\n");
	assert_null(conf_smarthost_for(c, "x@y.example"));
	assert_string_equal(conf_smarthost_for(c, "a@B.example")->name,
	    "all");
	assert_non_null(conf_smarthost_named(c, NULL));
	conf_free(c);

	/* "*" takes everything, null sender included. */
	c = load_ok("[smarthost any]\nhost a.example\nsenders *\n");
	assert_string_equal(conf_smarthost_for(c, "")->name, "any");
	assert_string_equal(conf_smarthost_for(c, "x@y")->name, "any");
	conf_free(c);
}

/* Runs body as an unprivileged user in a child; returns its exit code. */
static int
as_nobody(int (*body)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(99);
		_exit(body());
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

/* Exit codes name the check that failed. */
static int
path_order_user(void)
{
	int ex;
	char *p;
	struct conf *c;

	setenv("HOME", "/h", 1);
	setenv("XDG_CONFIG_HOME", "/x", 1);
	p = conf_path(NULL, &ex);
	if (strcmp(p, "/x/tern/tern.conf") != 0 || ex != 0)
		return 1;
	free(p);
	setenv("XDG_CONFIG_HOME", "relative", 1);
	p = conf_path(NULL, &ex);
	if (strcmp(p, "/h/.config/tern/tern.conf") != 0 || ex != 0)
		return 2;
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("HOME");	/* falls back to the password database */
	p = conf_path(NULL, &ex);
	if (p[0] != '/' || strstr(p, "/.config/tern/tern.conf") == NULL)
		return 3;
	free(p);
	setenv("HOME", "/h", 1);
	setenv("XDG_STATE_HOME", "/xs", 1);
	if ((c = conf_load(NULL, 0, NULL, 0)) == NULL ||
	    strcmp(c->state, "/xs/tern") != 0)
		return 4;
	conf_free(c);
	unsetenv("XDG_STATE_HOME");
	if ((c = conf_load(NULL, 0, NULL, 0)) == NULL ||
	    strcmp(c->state, "/h/.local/state/tern") != 0)
		return 5;
	conf_free(c);
	return 0;
}

static void
test_conf_path(void **state)
{
	int ex = -1;
	char *p;

	p = conf_path("/cli.conf", &ex);
	assert_string_equal(p, "/cli.conf");
	assert_int_equal(ex, 1);
	free(p);
	setenv("TERN_CONFIG", "/env.conf", 1);
	setenv("XDG_CONFIG_HOME", "/x", 1);
	p = conf_path("/cli.conf", &ex);
	assert_string_equal(p, "/cli.conf");
	free(p);
	p = conf_path(NULL, &ex);
	assert_string_equal(p, "/env.conf");
	assert_int_equal(ex, 1);
	free(p);
	setenv("TERN_CONFIG", "", 1);	/* empty counts as unset */
	p = conf_path(NULL, &ex);
	assert_int_equal(ex, 0);
	if (geteuid() == 0)
		assert_string_equal(p, "/etc/tern/tern.conf");
	else
		assert_string_equal(p, "/x/tern/tern.conf");
	free(p);
	unsetenv("TERN_CONFIG");
	assert_int_equal(as_nobody(path_order_user), 0);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", dir, 1);
}

static void
test_example_file(void **state)
{
	const char *top = getenv("TERN_TOP");
	char *path = xasprintf("%s/examples/tern.conf", top ? top : ".");
	struct conf *c = conf_load(path, 1, err, sizeof err);

	if (c == NULL)
		fail_msg("examples/tern.conf: %s", err);
	assert_non_null(c->path);
	assert_non_null(conf_smarthost_named(c, NULL));
	assert_non_null(conf_smarthost_named(c, "work"));
	assert_int_equal(c->deliver.configured, 1);
	conf_free(c);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_no_file),
		cmocka_unit_test(test_missing_and_unreadable),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_durations_and_sizes),
		cmocka_unit_test(test_home_expansion),
		cmocka_unit_test(test_submit),
		cmocka_unit_test(test_routing),
		cmocka_unit_test(test_conf_path),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
