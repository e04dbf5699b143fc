/* SPDX-License-Identifier: ISC */
/*
 * tls/ against itself over non-blocking socketpairs, both ends in this
 * process, driven by poll(): a side only runs again when the event it asked
 * for is ready, so a spinning TLS loop would show up as a hang (poll's 5 s
 * limit fails the test). Certificates come from tests/lib/mkca.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"
#include "../lib/buf.h"

#define POLL_MS	5000

static char dir[64];
static char fp[80];			/* "sha256:hex" of server.pem */

static const char *
path(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* The SHA-256 of server.pem's DER, computed by GnuTLS's own x509 code
 * rather than the code under test. */
static int
server_fingerprint(void)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	unsigned char sum[32];
	size_t len = sizeof sum, i;
	int rc;

	if (gnutls_load_file(path("server.pem"), &pem) < 0)
		return -1;
	gnutls_x509_crt_init(&crt);
	rc = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256,
		    sum, &len);
	gnutls_x509_crt_deinit(crt);
	gnutls_free(pem.data);
	if (rc < 0 || len != 32)
		return -1;
	strcpy(fp, "sha256:");
	for (i = 0; i < len; i++)
		snprintf(fp + 7 + 2 * i, 3, "%02x", sum[i]);
	return 0;
}

static int
setup_ca(void **state)
{
	const char *top = getenv("TERN_TOP");
	char cmd[512];

	strcpy(dir, "/tmp/tern-tls.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof cmd, "sh '%s/tests/lib/mkca.sh' '%s'",
	    top != NULL ? top : ".", dir);
	if (system(cmd) != 0)
		return -1;
	return server_fingerprint();
}

static int
teardown_ca(void **state)
{
	static const char *files[] = { "ca.pem", "ca-key.pem", "server.pem",
	    "server-key.pem", "wrong.pem", "wrong-key.pem", "expired.pem",
	    "expired-key.pem", "self.pem", "self-key.pem" };
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(path(files[i]));
	return rmdir(dir);
}

/* One end of a connection: ours (t) or a raw GnuTLS session (raw). */
struct side {
	struct tls		*t;
	gnutls_session_t	 raw;
	gnutls_certificate_credentials_t cred;
	int			 fd;
	int			 rc;	/* last handshake result */
};

struct pair {
	struct tls_config	*ccfg, *scfg;
	struct side		 c, s;
};

static void
sockets(struct pair *p)
{
	int fd[2];

	memset(p, 0, sizeof *p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    fd), 0);
	p->c.fd = fd[0];
	p->s.fd = fd[1];
	p->c.rc = p->s.rc = TLS_WANT_READ;
}

static void
our_client(struct pair *p, const char *ca, const char *pin, const char *name)
{
	char err[256];

	p->ccfg = tls_config_client(ca, pin, err, sizeof err);
	assert_non_null(p->ccfg);
	p->c.t = tls_client(p->ccfg, p->c.fd, name);
	assert_non_null(p->c.t);
}

static void
our_server(struct pair *p, const char *cert, const char *key)
{
	char err[256];

	p->scfg = tls_config_server(path(cert), path(key), err, sizeof err);
	assert_non_null(p->scfg);
	p->s.t = tls_server(p->scfg, p->s.fd);
	assert_non_null(p->s.t);
}

/* A plain GnuTLS peer with its own priority string, to meet old versions. */
static void
raw_peer(struct side *sd, int server, const char *prio)
{
	gnutls_certificate_allocate_credentials(&sd->cred);
	if (server)
		assert_int_equal(gnutls_certificate_set_x509_key_file2(sd->cred,
		    path("server.pem"), path("server-key.pem"),
		    GNUTLS_X509_FMT_PEM, NULL, 0), 0);
	assert_int_equal(gnutls_init(&sd->raw, server ? GNUTLS_SERVER :
	    GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_priority_set_direct(sd->raw, prio, NULL), 0);
	gnutls_credentials_set(sd->raw, GNUTLS_CRD_CERTIFICATE, sd->cred);
	gnutls_transport_set_int(sd->raw, sd->fd);
}

static void
pair_close(struct pair *p)
{
	struct side *sd[2] = { &p->c, &p->s };
	int i;

	for (i = 0; i < 2; i++) {
		tls_free(sd[i]->t);
		if (sd[i]->raw != NULL)
			gnutls_deinit(sd[i]->raw);
		if (sd[i]->cred != NULL)
			gnutls_certificate_free_credentials(sd[i]->cred);
		close(sd[i]->fd);
	}
	tls_config_free(p->ccfg);
	tls_config_free(p->scfg);
}

static int
step(struct side *sd)
{
	int rc;

	if (sd->t != NULL)
		return tls_handshake(sd->t);
	rc = gnutls_handshake(sd->raw);
	if (rc == 0)
		return 0;
	if (rc == GNUTLS_E_AGAIN || !gnutls_error_is_fatal(rc))
		return gnutls_record_get_direction(sd->raw) ? TLS_WANT_WRITE :
		    TLS_WANT_READ;
	return -1;
}

static short
events(int want)
{
	return want == TLS_WANT_WRITE ? POLLOUT : POLLIN;
}

/*
 * Runs both handshakes until each finished or failed. A side that fails
 * shuts its socket, as a real caller closes the connection, so the other
 * sees the alert and then EOF instead of waiting for ever.
 */
static void
handshake(struct pair *p)
{
	struct side *sd[2] = { &p->c, &p->s };
	struct pollfd pfd[2];
	int i, n, rounds;

	for (rounds = 0; rounds < 100; rounds++) {
		for (i = n = 0; i < 2; i++) {
			if (sd[i]->rc != TLS_WANT_READ &&
			    sd[i]->rc != TLS_WANT_WRITE)
				continue;
			sd[i]->rc = step(sd[i]);
			if (sd[i]->rc == -1)
				shutdown(sd[i]->fd, SHUT_RDWR);
			else if (sd[i]->rc != 0) {
				pfd[n].fd = sd[i]->fd;
				pfd[n++].events = events(sd[i]->rc);
			}
		}
		if (n == 0)
			return;
		assert_true(poll(pfd, n, POLL_MS) > 0);
	}
	fail_msg("handshake did not settle in 100 rounds");
}

static void
expect_client_fails(struct pair *p, const char *reason)
{
	handshake(p);
	assert_int_equal(p->c.rc, -1);
	assert_non_null(strstr(tls_error(p->c.t), reason));
	/* The server learns it too (alert or EOF), never "done". */
	assert_int_equal(p->s.rc, -1);
}

static void
test_handshake_ok(void **state)
{
	struct pair p;
	struct buf b = BUF_INIT;
	char *dc, *ds;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	dc = tls_describe(p.c.t);
	assert_string_equal(dc, "none");
	free(dc);
	handshake(&p);
	assert_int_equal(p.c.rc, 0);
	assert_int_equal(p.s.rc, 0);
	assert_string_equal(tls_error(p.c.t), "");
	dc = tls_describe(p.c.t);
	ds = tls_describe(p.s.t);
	assert_string_equal(dc, ds);
	assert_true(strncmp(dc, "TLSv1.3 TLS_", 12) == 0);
	free(dc);
	free(ds);
	assert_int_equal(tls_handshake(p.c.t), 0);	/* idempotent */
	assert_int_equal(tls_peer_info(p.c.t, &b), 0);
	assert_non_null(strstr(b.data, "subject: CN=localhost"));
	assert_non_null(strstr(b.data, "issuer: CN=tern test CA"));
	assert_non_null(strstr(b.data,
	    "names: 'localhost', 'mx.test', '127.0.0.1', '::1'\n"));
	assert_non_null(strstr(b.data, "not after: 20"));
	assert_non_null(strstr(b.data, fp));
	buf_reset(&b);
	/* The server side has no peer certificate: none was asked for. */
	assert_int_equal(tls_peer_info(p.s.t, &b), -1);
	assert_int_equal(b.len, 0);
	buf_clear(&b);
	pair_close(&p);
}

/* The name may be any SAN of the certificate, an IP address too. */
static void
test_other_names_ok(void **state)
{
	static const char *names[] = { "mx.test", "127.0.0.1", "::1", NULL };
	struct pair p;
	int i;

	for (i = 0; names[i] != NULL; i++) {
		sockets(&p);
		our_client(&p, path("ca.pem"), NULL, names[i]);
		our_server(&p, "server.pem", "server-key.pem");
		handshake(&p);
		assert_int_equal(p.c.rc, 0);
		pair_close(&p);
	}
}

static void
test_wrong_name(void **state)
{
	struct pair p;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "wrong.pem", "wrong-key.pem");
	expect_client_fails(&p,
	    "certificate is for 'wrong.test', not 'localhost'");
	pair_close(&p);

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "other.test");
	our_server(&p, "server.pem", "server-key.pem");
	expect_client_fails(&p, "not 'other.test'");
	pair_close(&p);
}

static void
test_unknown_ca(void **state)
{
	struct pair p;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "self.pem", "self-key.pem");
	expect_client_fails(&p,
	    "certificate not trusted: signer not found (self-signed)");
	assert_non_null(strstr(tls_error(p.s.t), "alert"));
	pair_close(&p);
}

/* The system store does not know our test CA. */
static void
test_system_store(void **state)
{
	struct pair p;

	sockets(&p);
	our_client(&p, NULL, NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	expect_client_fails(&p, "signer not found");
	assert_null(strstr(tls_error(p.c.t), "self-signed"));
	pair_close(&p);
}

static void
test_expired(void **state)
{
	struct pair p;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "expired.pem", "expired-key.pem");
	expect_client_fails(&p, "certificate expired on 2020-12-31T23:59:59Z");
	pair_close(&p);
}

static void
test_pin(void **state)
{
	char pin[200], other[80];
	struct pair p;
	size_t i, n;

	/* Matching, lower case as computed. */
	sockets(&p);
	our_client(&p, path("ca.pem"), fp, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.c.rc, 0);
	pair_close(&p);

	/* Matching, in openssl's "SHA256:AB:CD:..." spelling. */
	n = (size_t)snprintf(pin, sizeof pin, "SHA256:");
	for (i = 7; fp[i] != '\0'; i += 2)
		n += (size_t)snprintf(pin + n, sizeof pin - n, "%s%c%c",
		    i > 7 ? ":" : "", toupper((unsigned char)fp[i]),
		    toupper((unsigned char)fp[i + 1]));
	sockets(&p);
	our_client(&p, path("ca.pem"), pin, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.c.rc, 0);
	pair_close(&p);

	/* Mismatching: the error names what the server has. */
	strcpy(other, fp);
	other[7] = other[7] == '0' ? '1' : '0';
	sockets(&p);
	our_client(&p, path("ca.pem"), other, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	snprintf(pin, sizeof pin, "fingerprint mismatch: got %s", fp);
	expect_client_fails(&p, pin);
	pair_close(&p);
}

/* RFC 8314 §5: nothing below TLS 1.2, either way round; 1.2 still works. */
static void
test_versions(void **state)
{
	struct pair p;
	char *d;

	sockets(&p);
	raw_peer(&p.c, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.1");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.c.rc, -1);
	assert_int_equal(p.s.rc, -1);
	assert_string_equal(tls_error(p.s.t),
	    "TLS handshake: peer does not speak TLS 1.2 or newer");
	pair_close(&p);

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	raw_peer(&p.s, 1, "NORMAL:-VERS-ALL:+VERS-TLS1.1");
	handshake(&p);
	assert_int_equal(p.c.rc, -1);
	assert_int_equal(p.s.rc, -1);
	assert_string_equal(tls_error(p.c.t),
	    "TLS handshake: peer does not speak TLS 1.2 or newer");
	pair_close(&p);

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	raw_peer(&p.s, 1, "NORMAL:-VERS-ALL:+VERS-TLS1.2");
	handshake(&p);
	assert_int_equal(p.c.rc, 0);
	d = tls_describe(p.c.t);
	assert_true(strncmp(d, "TLSv1.2 TLS_ECDHE_ECDSA_", 24) == 0);
	free(d);
	pair_close(&p);
}

/* RFC 6066 §3: SNI carries the host name, never an IP literal. */
static void
test_sni(void **state)
{
	static const char *names[] = { "mx.test", "127.0.0.1" };
	char sni[256];
	size_t len;
	unsigned int type;
	struct pair p;
	int i, rc;

	for (i = 0; i < 2; i++) {
		sockets(&p);
		our_client(&p, path("ca.pem"), NULL, names[i]);
		raw_peer(&p.s, 1, "NORMAL");
		handshake(&p);
		assert_int_equal(p.c.rc, 0);
		len = sizeof sni;
		rc = gnutls_server_name_get(p.s.raw, sni, &len, &type, 0);
		if (i == 0) {
			assert_int_equal(rc, 0);
			assert_string_equal(sni, "mx.test");
		} else
			assert_int_equal(rc,
			    GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
		pair_close(&p);
	}
}

/* Half of a bulk transfer: writes out[], reads into in[]. */
struct flow {
	struct side	*sd;
	const char	*out;
	char		*in;
	size_t		 wpos, rpos, len;
	int		 wwant, rwant;	/* last TLS_WANT_*, or 0 */
};

static void
flow_run(struct flow *f)
{
	ssize_t n;

	f->wwant = 0;
	while (f->wpos < f->len) {
		/* After a WANT the same bytes go again: wpos did not move. */
		n = tls_write(f->sd->t, f->out + f->wpos, f->len - f->wpos);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			f->wwant = (int)n;
			break;
		}
		assert_true(n > 0);
		f->wpos += (size_t)n;
	}
	f->rwant = 0;
	while (f->rpos < f->len) {
		n = tls_read(f->sd->t, f->in + f->rpos, f->len - f->rpos);
		if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
			f->rwant = (int)n;
			break;
		}
		assert_true(n > 0);
		f->rpos += (size_t)n;
	}
}

static void
test_bulk(void **state)
{
	const size_t len = 1 << 20;
	struct flow f[2];
	struct pollfd pfd[2];
	struct pair p;
	char *buf[4];
	size_t i;
	int k, n, rounds = 0;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.s.rc, 0);
	for (k = 0; k < 4; k++)
		buf[k] = malloc(len);
	for (i = 0; i < len; i++) {
		buf[0][i] = (char)(i * 7 + i / 251);
		buf[1][i] = (char)(i * 13 + 5);
	}
	f[0] = (struct flow){ &p.c, buf[0], buf[2], 0, 0, len, 0, 0 };
	f[1] = (struct flow){ &p.s, buf[1], buf[3], 0, 0, len, 0, 0 };
	for (;;) {
		for (k = n = 0; k < 2; k++) {
			flow_run(&f[k]);
			if (f[k].wwant == 0 && f[k].rwant == 0)
				continue;
			pfd[n].fd = f[k].sd->fd;
			pfd[n].events = (short)((f[k].wwant ?
			    events(f[k].wwant) : 0) | (f[k].rwant ?
			    events(f[k].rwant) : 0));
			n++;
		}
		if (n == 0)
			break;
		assert_true(poll(pfd, n, POLL_MS) > 0);
		rounds++;
	}
	/* Both sides blocked on a full socket more than once: the WANT path
	 * was exercised, not just the happy one. */
	assert_true(rounds > 2);
	if (getenv("TLS_TEST_VERBOSE") != NULL)
		fprintf(stderr, "bulk: %d poll rounds\n", rounds);
	assert_memory_equal(buf[2], buf[1], len);
	assert_memory_equal(buf[3], buf[0], len);
	for (k = 0; k < 4; k++)
		free(buf[k]);
	pair_close(&p);
}

static void
wait_readable(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	assert_int_equal(poll(&pfd, 1, POLL_MS), 1);
}

/* poll cannot see what GnuTLS decrypted already: tls_pending() can. */
static void
test_pending(void **state)
{
	char out[3000], in[3000];
	struct pollfd pfd;
	struct pair p;
	size_t got;
	ssize_t n;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.s.rc, 0);
	memset(out, 'x', sizeof out);
	assert_int_equal(tls_write(p.c.t, out, sizeof out), sizeof out);
	wait_readable(p.s.fd);
	assert_int_equal(tls_read(p.s.t, in, 100), 100);
	assert_int_equal(tls_pending(p.s.t), sizeof out - 100);
	pfd = (struct pollfd){ p.s.fd, POLLIN, 0 };
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* the socket is empty */
	for (got = 100; tls_pending(p.s.t) > 0; got += (size_t)n) {
		n = tls_read(p.s.t, in + got, 700);
		assert_true(n > 0);
	}
	assert_int_equal(got, sizeof out);
	assert_memory_equal(in, out, sizeof out);
	assert_int_equal(tls_read(p.s.t, in, sizeof in), TLS_WANT_READ);
	pair_close(&p);
}

static void
test_close(void **state)
{
	struct pair p;
	char c;

	/* close_notify: a clean end of stream. */
	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.s.rc, 0);
	assert_int_equal(tls_close(p.c.t), 0);
	wait_readable(p.s.fd);
	assert_int_equal(tls_read(p.s.t, &c, 1), 0);
	assert_int_equal(tls_eof_clean(p.s.t), 1);
	pair_close(&p);

	/* A bare TCP EOF: also 0, but not clean. */
	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	handshake(&p);
	assert_int_equal(p.s.rc, 0);
	shutdown(p.c.fd, SHUT_WR);
	wait_readable(p.s.fd);
	assert_int_equal(tls_read(p.s.t, &c, 1), 0);
	assert_int_equal(tls_eof_clean(p.s.t), 0);
	pair_close(&p);
}

static void
test_config_errors(void **state)
{
	struct tls_config *c;
	char err[256];

	c = tls_config_client(path("nope.pem"), NULL, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "nope.pem: No such file"));
	c = tls_config_client(path("ca.pem"), "sha256:abcd", err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "fingerprint 'sha256:abcd'"));
	c = tls_config_client(path("ca.pem"), "md5:00", err, sizeof err);
	assert_null(c);
	c = tls_config_server(path("server.pem"), path("nokey.pem"), err,
	    sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "nokey.pem"));
	c = tls_config_server(path("server.pem"), path("wrong-key.pem"), err,
	    sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "wrong-key.pem"));
	/* A client policy cannot make a server, nor the other way round. */
	c = tls_config_client(path("ca.pem"), NULL, err, sizeof err);
	assert_non_null(c);
	errno = 0;
	assert_null(tls_server(c, 0));
	assert_int_equal(errno, EINVAL);
	tls_config_free(c);
}

/* A config freed while its connection lives on stays valid (refcount). */
static void
test_config_outlives(void **state)
{
	struct pair p;

	sockets(&p);
	our_client(&p, path("ca.pem"), NULL, "localhost");
	our_server(&p, "server.pem", "server-key.pem");
	tls_config_free(p.ccfg);
	tls_config_free(p.scfg);
	p.ccfg = p.scfg = NULL;
	handshake(&p);
	assert_int_equal(p.c.rc, 0);
	assert_int_equal(p.s.rc, 0);
	pair_close(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_ok),
		cmocka_unit_test(test_other_names_ok),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_unknown_ca),
		cmocka_unit_test(test_system_store),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_outlives),
	};

	return cmocka_run_group_tests(tests, setup_ca, teardown_ca);
}
