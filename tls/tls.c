/* SPDX-License-Identifier: ISC */
/*
 * TLS on GnuTLS over non-blocking sockets. Every GnuTLS call that would
 * block returns GNUTLS_E_AGAIN; gnutls_record_get_direction() then says
 * whether it was reading or writing, and that is what we hand back as
 * TLS_WANT_READ / TLS_WANT_WRITE, so the loop sleeps on the right event and
 * never spins. GNUTLS_E_INTERRUPTED is retried at once.
 *
 * Certificate checks run in a verify callback inside the handshake
 * (chain, RFC 6125 name, pin), so a bad certificate fails the handshake
 * itself, with a bad_certificate alert to the server and our own reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"
#include "../lib/buf.h"
#include "../lib/util.h"

/* RFC 8314 §5 / RFC 8996: TLS 1.2 and 1.3 only. */
#define PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define PIN_LEN		32		/* SHA-256 */
/* Non-fatal results (warning alerts, refused renegotiation) one call may
 * consume before it gives up: each needs a record from the peer, but a peer
 * that sends only those must not keep us in a loop. */
#define MAX_NONFATAL	32

struct tls_config {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t	 prio;
	int			 refs;
	int			 server;
	int			 has_pin;
	unsigned char		 pin[PIN_LEN];
};

struct tls {
	struct tls_config	*cfg;
	gnutls_session_t	 s;
	char			*servername;	/* client's, or NULL */
	int			 done;		/* handshake over */
	int			 verify_failed;	/* err says why */
	int			 eof_clean;
	char			 err[256];
};

static int
fail(struct tls *t, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof t->err, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static int
is_ip(const char *s)
{
	unsigned char a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha256:HEX", colons between bytes allowed. 0, or -1 if malformed. */
static int
parse_pin(const char *s, unsigned char *pin)
{
	size_t n = 0;
	int hi, lo;

	if (strncasecmp(s, "sha256:", 7) != 0)
		return -1;
	for (s += 7; *s != '\0'; ) {
		if (*s == ':' && n > 0) {
			s++;
			continue;
		}
		if (n == PIN_LEN || (hi = hexval(s[0])) < 0 ||
		    (lo = hexval(s[1])) < 0)
			return -1;
		pin[n++] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return n == PIN_LEN ? 0 : -1;
}

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A config with the shared parts; NULL with err filled. */
static struct tls_config *
config_new(int server, char *err, size_t errlen)
{
	struct tls_config *c;
	const char *pos = NULL;
	int rc;

	c = xcalloc(1, sizeof *c);
	c->refs = 1;
	c->server = server;
	if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0) {
		snprintf(err, errlen, "TLS credentials: %s",
		    gnutls_strerror(rc));
		free(c);
		return NULL;
	}
	if ((rc = gnutls_priority_init(&c->prio, PRIORITY, &pos)) < 0) {
		snprintf(err, errlen, "TLS priority at '%s': %s",
		    pos != NULL ? pos : "", gnutls_strerror(rc));
		gnutls_certificate_free_credentials(c->cred);
		free(c);
		return NULL;
	}
	return c;
}

/* A readable file, with the system's words if not (GnuTLS only says
 * "Error while reading file"). */
static int
readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

static int verify_cb(gnutls_session_t);

struct tls_config *
tls_config_client(const char *ca_file, const char *fingerprint, char *err,
    size_t errlen)
{
	struct tls_config *c;
	int rc;

	if ((c = config_new(0, err, errlen)) == NULL)
		return NULL;
	if (fingerprint != NULL) {
		if (parse_pin(fingerprint, c->pin) == -1) {
			snprintf(err, errlen, "fingerprint '%s': expected "
			    "sha256: and 64 hex digits", fingerprint);
			goto fail;
		}
		c->has_pin = 1;
	}
	if (ca_file != NULL) {
		if (readable("CA file", ca_file, err, errlen) == -1)
			goto fail;
		rc = gnutls_certificate_set_x509_trust_file(c->cred, ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			snprintf(err, errlen, "CA file %s: %s", ca_file,
			    rc == 0 ? "no certificates" : gnutls_strerror(rc));
			goto fail;
		}
	} else if ((rc = gnutls_certificate_set_x509_system_trust(c->cred))
	    <= 0) {
		snprintf(err, errlen, "system trust store: %s",
		    rc == 0 ? "no certificates" : gnutls_strerror(rc));
		goto fail;
	}
	gnutls_certificate_set_verify_function(c->cred, verify_cb);
	return c;
fail:
	tls_config_free(c);
	return NULL;
}

struct tls_config *
tls_config_server(const char *cert_file, const char *key_file, char *err,
    size_t errlen)
{
	struct tls_config *c;
	int rc;

	if (readable("certificate", cert_file, err, errlen) == -1 ||
	    readable("key", key_file, err, errlen) == -1)
		return NULL;
	if ((c = config_new(1, err, errlen)) == NULL)
		return NULL;
	rc = gnutls_certificate_set_x509_key_file2(c->cred, cert_file,
	    key_file, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		snprintf(err, errlen, "certificate %s, key %s: %s", cert_file,
		    key_file, gnutls_strerror(rc));
		tls_config_free(c);
		return NULL;
	}
	return c;
}

void
tls_config_free(struct tls_config *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	gnutls_priority_deinit(c->prio);
	gnutls_certificate_free_credentials(c->cred);
	free(c);
}

static struct tls *
session_new(struct tls_config *c, int fd, unsigned int flags)
{
	struct tls *t;
	int rc;

	t = xcalloc(1, sizeof *t);
	/* GNUTLS_NO_SIGNAL: send(MSG_NOSIGNAL), a dead peer is EPIPE, not a
	 * SIGPIPE that kills the daemon. */
	if ((rc = gnutls_init(&t->s, flags | GNUTLS_NO_SIGNAL)) < 0)
		goto fail;
	if ((rc = gnutls_priority_set(t->s, c->prio)) < 0 ||
	    (rc = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) < 0)
		goto fail;
	gnutls_transport_set_int(t->s, fd);
	gnutls_session_set_ptr(t->s, t);
	/* The caller's loop owns every deadline (STYLE: absolute deadlines);
	 * a second clock inside GnuTLS would only disagree with it. */
	gnutls_handshake_set_timeout(t->s, 0);
	c->refs++;
	t->cfg = c;
	return t;
fail:
	if (t->s != NULL)
		gnutls_deinit(t->s);
	free(t);
	errno = rc == GNUTLS_E_MEMORY_ERROR ? ENOMEM : EINVAL;
	return NULL;
}

struct tls *
tls_client(struct tls_config *c, int fd, const char *servername)
{
	struct tls *t;

	if (c->server) {
		errno = EINVAL;
		return NULL;
	}
	if ((t = session_new(c, fd, GNUTLS_CLIENT)) == NULL)
		return NULL;
	if (servername != NULL) {
		t->servername = xstrdup(servername);
		/* RFC 6066 §3: SNI carries host names, never IP literals. */
		if (!is_ip(servername) && gnutls_server_name_set(t->s,
		    GNUTLS_NAME_DNS, servername, strlen(servername)) < 0) {
			tls_free(t);
			errno = EINVAL;
			return NULL;
		}
	}
	return t;
}

struct tls *
tls_server(struct tls_config *c, int fd)
{
	struct tls *t;

	if (!c->server) {
		errno = EINVAL;
		return NULL;
	}
	if ((t = session_new(c, fd, GNUTLS_SERVER)) == NULL)
		return NULL;
	gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_IGNORE);
	return t;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	gnutls_deinit(t->s);
	tls_config_free(t->cfg);
	free(t->servername);
	free(t);
}

/* The peer's leaf certificate, or NULL. The caller deinits it. */
static gnutls_x509_crt_t
peer_leaf(gnutls_session_t s, gnutls_datum_t *der)
{
	const gnutls_datum_t *list;
	gnutls_x509_crt_t crt;
	unsigned int n = 0;

	list = gnutls_certificate_get_peers(s, &n);
	if (list == NULL || n == 0 ||
	    gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
		return NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	if (der != NULL)
		*der = list[0];
	return crt;
}

/* "'a', 'b', '1.2.3.4'": the DNS and IP names, else the CN. */
static void
cert_names(gnutls_x509_crt_t crt, char *out, size_t outlen)
{
	char name[256], ip[INET6_ADDRSTRLEN];
	size_t len, used = 0;
	unsigned int i;
	int type, n = 0;

	out[0] = '\0';
	for (i = 0; used < outlen; i++) {
		len = sizeof name - 1;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &len,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			name[len] = '\0';
		} else if (type == GNUTLS_SAN_IPADDRESS && (len == 4 ||
		    len == 16)) {
			inet_ntop(len == 4 ? AF_INET : AF_INET6, name, ip,
			    sizeof ip);
			strlcpy_t(name, ip, sizeof name);
		} else
			continue;
		used += snprintf(out + used, outlen - used, "%s'%s'",
		    n++ > 0 ? ", " : "", name);
	}
	len = sizeof name;
	if (n == 0 && gnutls_x509_crt_get_dn_by_oid(crt,
	    GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &len) == 0)
		snprintf(out, outlen, "'%s'", name);
	else if (n == 0)
		snprintf(out, outlen, "no name");
}

/* The first reason in status, most basic first: an untrusted chain makes
 * every other finding moot. */
static void
status_reason(struct tls *t, unsigned int st, gnutls_x509_crt_t leaf)
{
	char names[200], when[32];
	gnutls_datum_t out;

	if (st & GNUTLS_CERT_SIGNER_NOT_FOUND)
		fail(t, EPROTO, "certificate not trusted: signer not found%s",
		    leaf != NULL && gnutls_x509_crt_check_issuer(leaf, leaf) ?
		    " (self-signed)" : "");
	else if (st & GNUTLS_CERT_SIGNER_NOT_CA)
		fail(t, EPROTO, "certificate not trusted: signer is not a CA");
	else if (st & GNUTLS_CERT_SIGNATURE_FAILURE)
		fail(t, EPROTO, "certificate not trusted: bad signature");
	else if (st & GNUTLS_CERT_INSECURE_ALGORITHM)
		fail(t, EPROTO, "certificate not trusted: insecure algorithm");
	else if (st & GNUTLS_CERT_REVOKED)
		fail(t, EPROTO, "certificate revoked");
	else if ((st & GNUTLS_CERT_EXPIRED) && leaf != NULL &&
	    gnutls_x509_crt_get_expiration_time(leaf) < time(NULL))
		fail(t, EPROTO, "certificate expired on %s", time_iso(
		    gnutls_x509_crt_get_expiration_time(leaf), when,
		    sizeof when));
	else if (st & GNUTLS_CERT_EXPIRED)
		fail(t, EPROTO, "certificate expired (in the chain)");
	else if (st & GNUTLS_CERT_NOT_ACTIVATED)
		fail(t, EPROTO, "certificate not yet valid");
	else if ((st & GNUTLS_CERT_UNEXPECTED_OWNER) && leaf != NULL) {
		cert_names(leaf, names, sizeof names);
		fail(t, EPROTO, "certificate is for %s, not '%s'", names,
		    t->servername);
	} else if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
		fail(t, EPROTO, "certificate is not for TLS servers");
	else if (gnutls_certificate_verification_status_print(st,
	    GNUTLS_CRT_X509, &out, 0) == 0) {
		fail(t, EPROTO, "certificate not accepted: %s", out.data);
		gnutls_free(out.data);
	} else
		fail(t, EPROTO, "certificate not accepted (status %#x)", st);
}

/* Pin check: SHA-256 of the DER leaf, as `openssl x509 -fingerprint
 * -sha256` prints it. */
static int
check_pin(struct tls *t, const gnutls_datum_t *der)
{
	unsigned char got[PIN_LEN];
	char hexgot[2 * PIN_LEN + 1];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, got) < 0)
		return fail(t, EPROTO, "fingerprint: cannot hash certificate");
	if (memcmp(got, t->cfg->pin, PIN_LEN) == 0)
		return 0;
	hex(got, PIN_LEN, hexgot);
	return fail(t, EPROTO, "fingerprint mismatch: got sha256:%s", hexgot);
}

/* Runs inside gnutls_handshake() once the server's certificate arrived.
 * Nonzero aborts the handshake (GNUTLS_E_CERTIFICATE_ERROR). */
static int
verify_cb(gnutls_session_t s)
{
	struct tls *t = gnutls_session_get_ptr(s);
	gnutls_typed_vdata_st data[2];
	gnutls_x509_crt_t leaf;
	gnutls_datum_t der;
	unsigned int st = 0, n = 0;
	int rc;

	/* RFC 7817 §3 / RFC 6125 §6: the name we were configured with. */
	if (t->servername != NULL) {
		data[n].type = GNUTLS_DT_DNS_HOSTNAME;
		data[n].data = (unsigned char *)t->servername;
		data[n++].size = 0;
	}
	data[n].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[n].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	data[n++].size = 0;
	if ((leaf = peer_leaf(s, &der)) == NULL)
		rc = fail(t, EPROTO, "server sent no usable certificate");
	else if ((rc = gnutls_certificate_verify_peers(s, data, n, &st)) < 0)
		rc = fail(t, EPROTO, "certificate verification: %s",
		    gnutls_strerror(rc));
	else if (st != 0) {
		status_reason(t, st, leaf);
		rc = -1;
	} else if (t->cfg->has_pin)
		rc = check_pin(t, &der);
	if (leaf != NULL)
		gnutls_x509_crt_deinit(leaf);
	t->verify_failed = rc != 0;
	return rc != 0;
}

static int
want(const struct tls *t)
{
	return gnutls_record_get_direction(t->s) ? TLS_WANT_WRITE :
	    TLS_WANT_READ;
}

/* -1 with the reason for a GnuTLS error rc, from operation what. */
static int
io_fail(struct tls *t, int rc, int saved_errno, const char *what)
{
	switch (rc) {
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return fail(t, EPROTO, "%s: peer sent alert: %s", what,
		    gnutls_alert_get_name(gnutls_alert_get(t->s)));
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return fail(t, saved_errno, "%s: %s", what,
		    strerror(saved_errno));
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
		return fail(t, EPROTO, "%s: peer does not speak TLS 1.2 or "
		    "newer", what);
	case GNUTLS_E_PREMATURE_TERMINATION:
		return fail(t, ECONNRESET, "%s: connection closed by peer",
		    what);
	default:
		return fail(t, EPROTO, "%s: %s", what, gnutls_strerror(rc));
	}
}

int
tls_handshake(struct tls *t)
{
	int e, i, rc = 0;

	if (t->done)
		return 0;
	for (i = 0; i < MAX_NONFATAL; i++) {
		rc = gnutls_handshake(t->s);
		if (rc == GNUTLS_E_SUCCESS) {
			t->done = 1;
			return 0;
		}
		if (rc == GNUTLS_E_AGAIN)
			return want(t);
		if (rc != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(rc))
			break;
	}
	e = errno;
	if (rc == GNUTLS_E_CERTIFICATE_ERROR && t->verify_failed)
		errno = EPROTO;		/* t->err already says why */
	else
		io_fail(t, rc, e, "TLS handshake");
	/* Tell the peer why, best effort: the session is dead either way. */
	if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED && rc != GNUTLS_E_PULL_ERROR &&
	    rc != GNUTLS_E_PUSH_ERROR && rc != GNUTLS_E_PREMATURE_TERMINATION) {
		e = errno;
		gnutls_alert_send_appropriate(t->s, rc);
		errno = e;
	}
	return -1;
}

ssize_t
tls_read(struct tls *t, void *p, size_t len)
{
	ssize_t n = 0;
	int i;

	for (i = 0; i < MAX_NONFATAL; i++) {
		n = gnutls_record_recv(t->s, p, len);
		if (n > 0)
			return n;
		if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
			/* A bare TCP EOF is an end too; the protocol above
			 * (SMTP's final dot) tells whether it truncated. */
			t->eof_clean = n == 0;
			return 0;
		}
		if (n == GNUTLS_E_AGAIN)
			return want(t);
		if (n == GNUTLS_E_REHANDSHAKE) {
			/* RFC 5746 aside, we never renegotiate: refuse,
			 * best effort, and read on. */
			gnutls_alert_send(t->s, GNUTLS_AL_WARNING,
			    GNUTLS_A_NO_RENEGOTIATION);
			continue;
		}
		if (n != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(n))
			break;
	}
	return io_fail(t, (int)n, errno, "TLS read");
}

ssize_t
tls_write(struct tls *t, const void *p, size_t len)
{
	ssize_t n;

	if (len == 0)
		return 0;
	do
		n = gnutls_record_send(t->s, p, len);
	while (n == GNUTLS_E_INTERRUPTED);
	if (n >= 0)
		return n;
	if (n == GNUTLS_E_AGAIN)
		return want(t);
	return io_fail(t, (int)n, errno, "TLS write");
}

size_t
tls_pending(struct tls *t)
{
	return gnutls_record_check_pending(t->s);
}

int
tls_close(struct tls *t)
{
	int rc;

	/* RFC 8314 §3.4: close_notify, but no need to wait for the peer's. */
	do
		rc = gnutls_bye(t->s, GNUTLS_SHUT_WR);
	while (rc == GNUTLS_E_INTERRUPTED);
	if (rc == 0)
		return 0;
	if (rc == GNUTLS_E_AGAIN)
		return want(t);
	return io_fail(t, rc, errno, "TLS close");
}

int
tls_eof_clean(const struct tls *t)
{
	return t->eof_clean;
}

const char *
tls_error(const struct tls *t)
{
	return t->err;
}

char *
tls_describe(const struct tls *t)
{
	const char *v, *cs;

	if (!t->done)
		return xstrdup("none");
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->s));
	cs = gnutls_ciphersuite_get(t->s);
	if (v == NULL)
		v = "unknown";
	return xasprintf("%s%s %s", strncmp(v, "TLS1.", 5) == 0 ? "TLSv" : "",
	    strncmp(v, "TLS1.", 5) == 0 ? v + 3 : v,
	    cs != NULL ? cs : "unknown");
}

int
tls_peer_info(const struct tls *t, struct buf *b)
{
	gnutls_x509_crt_t leaf;
	gnutls_datum_t der, dn = { NULL, 0 }, idn = { NULL, 0 };
	unsigned char sum[PIN_LEN];
	char names[512], hexsum[2 * PIN_LEN + 1], nb[32], na[32];
	int rc = -1;

	if ((leaf = peer_leaf(t->s, &der)) == NULL)
		return -1;
	if (gnutls_x509_crt_get_dn3(leaf, &dn, 0) < 0 ||
	    gnutls_x509_crt_get_issuer_dn3(leaf, &idn, 0) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, sum) < 0)
		goto out;
	cert_names(leaf, names, sizeof names);
	hex(sum, PIN_LEN, hexsum);
	buf_printf(b, "subject: %s\nissuer: %s\nnames: %s\n"
	    "not before: %s\nnot after: %s\nfingerprint: sha256:%s\n",
	    (char *)dn.data, (char *)idn.data, names,
	    time_iso(gnutls_x509_crt_get_activation_time(leaf), nb, sizeof nb),
	    time_iso(gnutls_x509_crt_get_expiration_time(leaf), na, sizeof na),
	    hexsum);
	rc = 0;
out:
	gnutls_free(dn.data);
	gnutls_free(idn.data);
	gnutls_x509_crt_deinit(leaf);
	return rc;
}
