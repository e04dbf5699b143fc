/* SPDX-License-Identifier: ISC */
/*
 * The HTTPS side of OAuth2 (libcurl): form POSTs to the token and device
 * endpoints, what their replies mean (RFC 6749 §5.2), and the device
 * authorization grant for `tern login` (RFC 8628).
 */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "oauth.h"
#include "oauth_int.h"
#include "secret.h"

#define DEVICE_DEFAULT_INTERVAL	5	/* RFC 8628 §3.2 */
#define DEVICE_DEFAULT_LIFE	1800

/*
 * libcurl is loaded when OAuth2 needs it, not linked: it brings some twenty
 * libraries (OpenSSL's libcrypto, Kerberos, LDAP, ...) that every sendmail
 * process would otherwise map and relocate, and every daemon carry, while
 * only an OAuth2 token refresh ever uses them.
 */
struct curl_api {
	CURL		*(*init)(void);
	CURLcode	 (*setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*perform)(CURL *);
	CURLcode	 (*getinfo)(CURL *, CURLINFO, ...);
	void		 (*cleanup)(CURL *);
	const char	*(*strerror)(CURLcode);
};

static const struct curl_api *
curl_api(char *err, size_t errlen)
{
	static struct curl_api api;
	static int loaded;
	void *h;

	if (loaded)
		return &api;
	if ((h = dlopen(TERN_LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "cannot load %s: %s", TERN_LIBCURL,
		    dlerror());
		return NULL;
	}
	*(void **)&api.init = dlsym(h, "curl_easy_init");
	*(void **)&api.setopt = dlsym(h, "curl_easy_setopt");
	*(void **)&api.perform = dlsym(h, "curl_easy_perform");
	*(void **)&api.getinfo = dlsym(h, "curl_easy_getinfo");
	*(void **)&api.cleanup = dlsym(h, "curl_easy_cleanup");
	*(void **)&api.strerror = dlsym(h, "curl_easy_strerror");
	if (!api.init || !api.setopt || !api.perform || !api.getinfo ||
	    !api.cleanup || !api.strerror) {
		snprintf(err, errlen, "%s lacks the curl_easy API",
		    TERN_LIBCURL);
		return NULL;
	}
	loaded = 1;
	return &api;
}

/* application/x-www-form-urlencoded: RFC 3986 unreserved kept. */
static void
form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			buf_addc(b, (char)c);
			continue;
		}
		buf_addc(b, '%');
		buf_addc(b, hex[c >> 4]);
		buf_addc(b, hex[c & 15]);
	}
}

void
oauth_form_add(struct buf *b, const char *key, const char *value)
{
	if (b->len > 0)
		buf_addc(b, '&');
	form_escape(b, key);
	buf_addc(b, '=');
	form_escape(b, value);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + n > OAUTH_REPLY_MAX)
		return 0;	/* curl fails the transfer: a reply that big
				 * is not a token reply */
	buf_add(b, p, n * size);
	return n * size;
}

/* The CA bundle curl(1) would use from the environment; NULL: system. */
static const char *
ca_bundle(void)
{
	const char *s;

	if ((s = getenv("CURL_CA_BUNDLE")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("SSL_CERT_FILE")) != NULL && *s != '\0')
		return s;
	return NULL;
}

int
oauth_post(const char *url, const char *form, long *status,
    struct buf *out, char *err, size_t errlen)
{
	const struct curl_api *cu;
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;

	*status = 0;
	if ((cu = curl_api(err, errlen)) == NULL)
		return -1;
	if ((c = cu->init()) == NULL) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	cu->setopt(c, CURLOPT_URL, url);
	/* Tokens only over verified HTTPS; never follow a redirect with
	 * the form (it holds the refresh token and the client secret). */
	cu->setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	cu->setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	cu->setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	cu->setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_bundle() != NULL)
		cu->setopt(c, CURLOPT_CAINFO, ca_bundle());
	cu->setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu->setopt(c, CURLOPT_CONNECTTIMEOUT, (long)
	    OAUTH_CONNECT_TIMEOUT_S);
	cu->setopt(c, CURLOPT_TIMEOUT, (long)OAUTH_TIMEOUT_S);
	cu->setopt(c, CURLOPT_POSTFIELDS, form);
	cu->setopt(c, CURLOPT_USERAGENT, "tern");
	cu->setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	cu->setopt(c, CURLOPT_WRITEDATA, out);
	cu->setopt(c, CURLOPT_ERRORBUFFER, cerr);
	rc = cu->perform(c);
	if (rc == CURLE_OK)
		cu->getinfo(c, CURLINFO_RESPONSE_CODE, status);
	cu->cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr :
		    cu->strerror(rc));
		return -1;
	}
	return 0;
}

/* Server text for our messages: printable ASCII, bounded. */
static const char *
clean(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

int
oauth_check_reply(const struct conf_smarthost *sh, const char *what,
    long status, int parsed, const struct oauth_reply *r, char *err,
    size_t errlen)
{
	struct buf b = BUF_INIT;
	char e[64], d[200];

	if (status == 200 && parsed && r->access_token != NULL &&
	    r->access_token[0] != '\0')
		return 0;
	if (parsed && r->error != NULL && status < 500) {	/* §5.2 */
		buf_printf(&b, "%s failed: %s", what, clean(r->error, e,
		    sizeof e));
		if (r->error_description != NULL)
			buf_printf(&b, " (%s)", clean(r->error_description, d,
			    sizeof d));
		if (strcmp(r->error, "invalid_grant") == 0)
			buf_printf(&b, ": re-run `tern login%s%s`",
			    sh->name ? " " : "", sh->name ? sh->name : "");
		else if (strcmp(r->error, "invalid_client") == 0 ||
		    strcmp(r->error, "unauthorized_client") == 0)
			buf_adds(&b, ": check oauth2_client_id and "
			    "oauth2_client_secret_command");
		snprintf(err, errlen, "%s", b.data);
		buf_clear(&b);
		return -1;
	}
	if (status == 200 && parsed)
		snprintf(err, errlen, "%s failed: the reply from %s has no "
		    "access_token", what, sh->oauth2_token_url);
	else
		snprintf(err, errlen, "%s failed: HTTP %ld from %s%s%s", what,
		    status, sh->oauth2_token_url, !parsed ?
		    " (the reply is not JSON)" : r->error ? ": " : "",
		    parsed && r->error ? clean(r->error, e, sizeof e) : "");
	return -1;
}

/* --- RFC 8628 device login -------------------------------------------- */

static void
sleep_s(int64_t s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = 0 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One POST, its reply parsed into r. 0, or -1 with err (transport). */
static int
post_parse(const char *url, struct buf *form, long *status,
    struct oauth_reply *r, int *parsed, char *err, size_t errlen)
{
	struct buf body = BUF_INIT;
	char perr[128];
	int rc;

	oauth_reply_clear(r);
	rc = oauth_post(url, form->data, status, &body, err, errlen);
	if (rc == 0)
		*parsed = oauth_parse_reply(body.data ? body.data : "",
		    body.len, r, perr, sizeof perr) == 0;
	if (body.data != NULL)
		explicit_bzero(body.data, body.cap);
	buf_clear(&body);
	return rc;
}

/* §3.1-3.3: the device code, and what the user is told. */
static int
device_start(const struct conf_smarthost *sh, const char *cs, FILE *out,
    struct oauth_reply *dev, char *err, size_t errlen)
{
	struct buf form = BUF_INIT;
	char u[512], c[128];
	long status;
	int parsed = 0, rc;

	oauth_form_add(&form, "client_id", sh->oauth2_client_id);
	if (sh->oauth2_scope != NULL)
		oauth_form_add(&form, "scope", sh->oauth2_scope);
	if (cs[0] != '\0')	/* Google wants it here too */
		oauth_form_add(&form, "client_secret", cs);
	rc = post_parse(sh->oauth2_device_url, &form, &status, dev, &parsed,
	    err, errlen);
	explicit_bzero(form.data, form.cap);
	buf_clear(&form);
	if (rc == -1)
		return -1;
	if (status != 200 || !parsed || dev->device_code == NULL ||
	    dev->user_code == NULL || dev->verification_uri == NULL) {
		if (parsed && dev->error != NULL)
			snprintf(err, errlen, "device authorization failed: "
			    "%s%s%s%s", clean(dev->error, c, sizeof c),
			    dev->error_description ? " (" : "",
			    dev->error_description ? clean(
			    dev->error_description, u, sizeof u) : "",
			    dev->error_description ? ")" : "");
		else
			snprintf(err, errlen, "device authorization failed: "
			    "HTTP %ld from %s%s", status, sh->oauth2_device_url,
			    parsed ? " (no device_code, user_code or "
			    "verification_uri)" : " (the reply is not JSON)");
		return -1;
	}
	fprintf(out, "To sign in, open %s\nand enter the code: %s\n",
	    clean(dev->verification_uri, u, sizeof u),
	    clean(dev->user_code, c, sizeof c));
	if (dev->verification_uri_complete != NULL)
		fprintf(out, "(or open %s)\n", clean(
		    dev->verification_uri_complete, u, sizeof u));
	fprintf(out, "Waiting for the approval...\n");
	fflush(out);
	return 0;
}

/* §3.4-3.5: polls until approved (0) or refused/expired (-1). */
static int
device_poll(const struct conf_smarthost *sh, const char *cs,
    const struct oauth_reply *dev, struct oauth_reply *r, char *err,
    size_t errlen)
{
	int64_t interval = dev->interval > 0 ? dev->interval :
	    DEVICE_DEFAULT_INTERVAL;
	int64_t deadline = clock_wall() + (dev->expires_in > 0 ?
	    dev->expires_in : DEVICE_DEFAULT_LIFE);
	struct buf form = BUF_INIT;
	long status;
	int parsed, rc = -1;

	oauth_form_add(&form, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	oauth_form_add(&form, "device_code", dev->device_code);
	oauth_form_add(&form, "client_id", sh->oauth2_client_id);
	if (cs[0] != '\0')
		oauth_form_add(&form, "client_secret", cs);
	for (;;) {
		if (clock_wall() + interval > deadline) {
			snprintf(err, errlen, "device login failed: the code "
			    "expired before it was approved; run `tern login` "
			    "again");
			break;
		}
		sleep_s(interval);
		parsed = 0;
		if (post_parse(sh->oauth2_token_url, &form, &status, r,
		    &parsed, err, errlen) == -1)
			break;
		if (parsed && r->error != NULL &&
		    strcmp(r->error, "authorization_pending") == 0)
			continue;
		if (parsed && r->error != NULL &&
		    strcmp(r->error, "slow_down") == 0) {
			interval += 5;	/* §3.5 */
			continue;
		}
		if (parsed && r->error != NULL &&
		    strcmp(r->error, "access_denied") == 0)
			snprintf(err, errlen, "device login refused: "
			    "access_denied (the sign-in was declined)");
		else if (parsed && r->error != NULL &&
		    strcmp(r->error, "expired_token") == 0)
			snprintf(err, errlen, "device login failed: "
			    "expired_token (the code expired); run `tern "
			    "login` again");
		else if (oauth_check_reply(sh, "device login", status, parsed,
		    r, err, errlen) == 0)
			rc = 0;
		break;
	}
	explicit_bzero(form.data, form.cap);
	buf_clear(&form);
	return rc;
}

int
oauth_login(const struct conf *cf, const struct conf_smarthost *sh,
    FILE *out, char *err, size_t errlen)
{
	struct oauth_reply dev = { 0 }, r = { 0 };
	char *cs = NULL, *path;
	int rc = -1;

	err[0] = '\0';
	if (sh->oauth2_device_url == NULL || sh->oauth2_token_url == NULL ||
	    sh->oauth2_client_id == NULL) {
		snprintf(err, errlen, "smarthost %s: `tern login` needs "
		    "oauth2_device_url, oauth2_token_url and oauth2_client_id",
		    oauth_name(sh));
		return -1;
	}
	if ((cs = oauth_client_secret(sh, err, errlen)) == NULL ||
	    device_start(sh, cs, out, &dev, err, errlen) == -1 ||
	    device_poll(sh, cs, &dev, &r, err, errlen) == -1)
		goto done;
	if (r.refresh_token == NULL || r.refresh_token[0] == '\0') {
		snprintf(err, errlen, "device login: the server issued no "
		    "refresh token (does oauth2_scope ask for offline "
		    "access?)");
		goto done;
	}
	if (oauth_store(cf, sh, &r, err, errlen) == -1)
		goto done;
	oauth_note_refused(cf, sh, NULL);
	path = oauth_path(cf, sh, ".refresh");
	fprintf(out, "Signed in: refresh token stored in %s\n", path);
	free(path);
	rc = 0;
done:
	if (rc == -1 && err[0] != '\0')
		oauth_note_error(cf, sh, err);
	oauth_reply_clear(&dev);
	oauth_reply_clear(&r);
	secret_free(cs);
	return rc;
}
