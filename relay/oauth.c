/* SPDX-License-Identifier: ISC */
/*
 * OAuth2 access tokens for smarthosts: the reply parser, the 0600 files
 * under <state>/oauth/ (see oauth.h), the cache and the refresh (RFC 6749
 * §6). The HTTPS side and the device login live in oauth_http.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "oauth.h"
#include "oauth_int.h"
#include "secret.h"

#define TEN_YEARS	(10LL * 366 * 86400)
#define IDLE_WARN_S	(80LL * 86400)

/* --- parsing ----------------------------------------------------------- */

static char *
str_field(json_object *o, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) > OAUTH_FIELD_MAX ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;	/* oversized, or an embedded NUL */
	return xstrdup(s);
}

/* Numbers arrive as integers or, from some servers, as strings. */
static int64_t
num_field(json_object *o, const char *key)
{
	json_object *v;
	int64_t n;
	char *end;

	if (!json_object_object_get_ex(o, key, &v))
		return -1;
	if (json_object_is_type(v, json_type_int))
		n = json_object_get_int64(v);	/* saturates */
	else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		n = !(d > 0) ? 0 : d > (double)TEN_YEARS ? TEN_YEARS :
		    (int64_t)d;
	}
	else if (json_object_is_type(v, json_type_string)) {
		errno = 0;
		n = strtoll(json_object_get_string(v), &end, 10);
		if (errno != 0 || *end != '\0' || end ==
		    json_object_get_string(v))
			return -1;
	} else
		return -1;
	return n < 0 ? 0 : n > TEN_YEARS ? TEN_YEARS : n;
}

int
oauth_parse_reply(const char *body, size_t len, struct oauth_reply *r,
    char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o;
	size_t end;

	memset(r, 0, sizeof *r);
	r->expires_in = r->interval = -1;
	if (len > OAUTH_REPLY_MAX || (tok = json_tokener_new()) == NULL) {
		snprintf(err, errlen, "reply too large");
		return -1;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (end < len && (body[end] == ' ' || body[end] == '\t' ||
	    body[end] == '\r' || body[end] == '\n'))
		end++;		/* trailing white space is fine, more is not */
	json_tokener_free(tok);
	if (o == NULL || end != len || !json_object_is_type(o,
	    json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "reply is not a JSON object");
		return -1;
	}
	r->access_token = str_field(o, "access_token");
	r->refresh_token = str_field(o, "refresh_token");
	r->error = str_field(o, "error");
	r->error_description = str_field(o, "error_description");
	r->device_code = str_field(o, "device_code");
	r->user_code = str_field(o, "user_code");
	r->verification_uri = str_field(o, "verification_uri");
	if (r->verification_uri == NULL)	/* Google's name for it */
		r->verification_uri = str_field(o, "verification_url");
	r->verification_uri_complete = str_field(o,
	    "verification_uri_complete");
	r->expires_in = num_field(o, "expires_in");
	r->interval = num_field(o, "interval");
	json_object_put(o);
	return 0;
}

void
oauth_reply_clear(struct oauth_reply *r)
{
	secret_free(r->access_token);
	secret_free(r->refresh_token);
	secret_free(r->device_code);
	free(r->error);
	free(r->error_description);
	free(r->user_code);
	free(r->verification_uri);
	free(r->verification_uri_complete);
	memset(r, 0, sizeof *r);
}

/* --- files ------------------------------------------------------------- */

const char *
oauth_name(const struct conf_smarthost *sh)
{
	return sh->name != NULL ? sh->name : "default";
}

char *
oauth_path(const struct conf *cf, const struct conf_smarthost *sh,
    const char *ext)
{
	char *dir = xasprintf("%s/oauth", cf->state), *p, *c;
	char *name = xstrdup(oauth_name(sh));

	/* A section name is a file name here: nothing that leaves the dir. */
	for (c = name; *c != '\0'; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '-' && *c != '_' &&
		    (*c != '.' || c == name))
			*c = '_';
	mkdir_p(dir, 0700);
	p = xasprintf("%s/%s%s", dir, name, ext);
	free(dir);
	free(name);
	return p;
}

/* tmp, fsync, rename, fsync the directory: the old or the new file
 * survives a crash, never a torn one. 0, or -1 with err. */
static int
write_file(const char *path, const char *data, char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp", path), *dir = xstrdup(path), *sl;
	int fd, rc = -1;

	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		goto fail;
	if (write_all(fd, data, strlen(data)) == -1 || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
		goto fail;
	}
	if ((sl = strrchr(dir, '/')) != NULL)
		*sl = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	rc = 0;
	goto done;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
done:
	free(tmp);
	free(dir);
	return rc;
}

/* The whole (small) file; NULL when missing or unreadable. Wipe it. */
static char *
read_file(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[1024];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return NULL;
	while ((n = read(fd, chunk, sizeof chunk)) > 0 &&
	    b.len < OAUTH_REPLY_MAX)
		buf_add(&b, chunk, (size_t)n);
	explicit_bzero(chunk, sizeof chunk);
	close(fd);
	if (n < 0 || b.data == NULL) {
		if (b.data != NULL)
			explicit_bzero(b.data, b.cap);
		buf_clear(&b);
		return NULL;
	}
	return buf_take(&b);
}

static json_object *
read_json(const char *path)
{
	char *s = read_file(path);
	json_object *o;

	if (s == NULL)
		return NULL;
	o = json_tokener_parse(s);
	secret_free(s);
	if (o != NULL && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static int
write_json(const char *path, json_object *o, char *err, size_t errlen)
{
	const char *s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return write_file(path, s, err, errlen);
}

/* --- status record ----------------------------------------------------- */

enum rec { REC_OK, REC_ERROR, REC_REFUSED, REC_ACCEPTED };

static void
record(const struct conf *cf, const struct conf_smarthost *sh, enum rec what,
    int64_t expires, const char *error)
{
	char *path = oauth_path(cf, sh, ".status"), err[256];
	json_object *o = read_json(path);
	int64_t now = clock_wall();

	if (o == NULL)
		o = json_object_new_object();
	switch (what) {
	case REC_OK:
		json_object_object_add(o, "last_refresh",
		    json_object_new_int64(now));
		json_object_object_add(o, "refresh_used",
		    json_object_new_int64(now));
		json_object_object_add(o, "access_expires",
		    json_object_new_int64(expires));
		json_object_object_del(o, "last_error");
		json_object_object_del(o, "error_at");
		break;
	case REC_ERROR:
	case REC_REFUSED:
		json_object_object_add(o, "last_error",
		    json_object_new_string(error));
		json_object_object_add(o, what == REC_ERROR ? "error_at" :
		    "refused_at", json_object_new_int64(now));
		break;
	case REC_ACCEPTED:
		if (!json_object_object_get_ex(o, "refused_at", NULL))
			goto done;	/* nothing to clear: no write */
		json_object_object_del(o, "refused_at");
		json_object_object_del(o, "last_error");
		break;
	}
	write_json(path, o, err, sizeof err);
done:
	json_object_put(o);
	free(path);
}

void
oauth_note_error(const struct conf *cf, const struct conf_smarthost *sh,
    const char *error)
{
	record(cf, sh, REC_ERROR, 0, error);
}

void
oauth_note_refused(const struct conf *cf, const struct conf_smarthost *sh,
    const char *why)
{
	record(cf, sh, why != NULL ? REC_REFUSED : REC_ACCEPTED, 0, why);
}

static int64_t
json_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	    json_object_get_int64(v) : 0;
}

void
oauth_status_get(const struct conf *cf, const struct conf_smarthost *sh,
    struct oauth_status *st)
{
	char *path;
	json_object *o, *v;
	struct stat sb;

	memset(st, 0, sizeof *st);
	path = oauth_path(cf, sh, ".refresh");
	st->stored_refresh = stat(path, &sb) == 0;
	st->have_refresh = st->stored_refresh ||
	    sh->oauth2_refresh_token_command != NULL;
	free(path);
	path = oauth_path(cf, sh, ".token");
	if ((o = read_json(path)) != NULL) {	/* only the expiry is kept */
		st->have_access = json_object_object_get_ex(o,
		    "access_token", NULL);
		st->access_expires = json_int(o, "expires_at");
		json_object_put(o);
	}
	free(path);
	path = oauth_path(cf, sh, ".status");
	if ((o = read_json(path)) != NULL) {
		st->last_refresh = json_int(o, "last_refresh");
		st->refresh_used = json_int(o, "refresh_used");
		st->error_at = json_int(o, "error_at");
		st->refused_at = json_int(o, "refused_at");
		if (json_object_object_get_ex(o, "last_error", &v))
			snprintf(st->last_error, sizeof st->last_error, "%s",
			    json_object_get_string(v));
		json_object_put(o);
	}
	free(path);
}

int
oauth_status_warning(const struct oauth_status *st, const char *name,
    int64_t now, char *buf, size_t len)
{
	const char *hint = strcmp(name, "default") == 0 ? "" : " ";
	const char *nm = strcmp(name, "default") == 0 ? "" : name;

	if (!st->have_refresh)
		snprintf(buf, len, "no refresh token: run `tern login%s%s`",
		    hint, nm);
	else if (st->refused_at > 0)
		snprintf(buf, len, "token refused by the smarthost: re-run "
		    "`tern login%s%s`", hint, nm);
	else if (st->error_at > 0 && st->last_error[0] != '\0')
		snprintf(buf, len, "%s", st->last_error);
	else if (st->refresh_used > 0 && now - st->refresh_used > IDLE_WARN_S)
		snprintf(buf, len, "refresh token unused for %lld days: it "
		    "lapses after 90 days idle (Microsoft); run `tern flush` "
		    "or `tern login%s%s`", (long long)((now - st->refresh_used)
		    / 86400), hint, nm);
	else
		return 0;
	return 1;
}

/* --- cache and refresh ------------------------------------------------- */

/* The cached access token if it outlives the margin, else NULL. */
static char *
cache_get(const struct conf *cf, const struct conf_smarthost *sh)
{
	char *path = oauth_path(cf, sh, ".token"), *tok = NULL;
	json_object *o = read_json(path), *v;

	free(path);
	if (o == NULL)
		return NULL;
	if (json_int(o, "expires_at") > clock_wall() + OAUTH_MARGIN_S &&
	    json_object_object_get_ex(o, "access_token", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0)
		tok = xstrdup(json_object_get_string(v));
	/* json-c keeps its own copy: wipe it before it is freed. */
	if (json_object_object_get_ex(o, "access_token", &v) &&
	    json_object_is_type(v, json_type_string))
		explicit_bzero((char *)json_object_get_string(v),
		    (size_t)json_object_get_string_len(v));
	json_object_put(o);
	return tok;
}

int
oauth_store(const struct conf *cf, const struct conf_smarthost *sh,
    const struct oauth_reply *r, char *err, size_t errlen)
{
	int64_t life = r->expires_in >= 0 ? r->expires_in :
	    OAUTH_DEFAULT_LIFE_S, expires = clock_wall() + life;
	json_object *o;
	char *path;
	int rc = 0;

	if (r->refresh_token != NULL && r->refresh_token[0] != '\0') {
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s\n", r->refresh_token);
		path = oauth_path(cf, sh, ".refresh");
		rc = write_file(path, b.data, err, errlen);
		explicit_bzero(b.data, b.cap);
		buf_clear(&b);
		free(path);
		if (rc == -1)
			return -1;
	}
	o = json_object_new_object();
	json_object_object_add(o, "access_token",
	    json_object_new_string(r->access_token));
	json_object_object_add(o, "expires_at",
	    json_object_new_int64(expires));
	path = oauth_path(cf, sh, ".token");
	rc = write_json(path, o, err, errlen);
	free(path);
	explicit_bzero((char *)json_object_to_json_string(o),
	    strlen(json_object_to_json_string(o)));
	json_object_put(o);
	record(cf, sh, REC_OK, expires, NULL);
	return rc;
}

/* The refresh token: the stored one (login, rotation), else the command. */
static char *
refresh_token(const struct conf *cf, const struct conf_smarthost *sh,
    char *err, size_t errlen)
{
	char *path = oauth_path(cf, sh, ".refresh"), *s;

	s = read_file(path);
	free(path);
	if (s != NULL) {
		s[strcspn(s, "\r\n")] = '\0';
		if (s[0] != '\0')
			return s;
		secret_free(s);
	}
	if (sh->oauth2_refresh_token_command != NULL)
		return secret_command(sh->oauth2_refresh_token_command,
		    "oauth2_refresh_token_command", err, errlen);
	snprintf(err, errlen, "no OAuth2 refresh token for %s: run `tern "
	    "login%s%s` or set oauth2_refresh_token_command", oauth_name(sh),
	    sh->name ? " " : "", sh->name ? sh->name : "");
	return NULL;
}

char *
oauth_client_secret(const struct conf_smarthost *sh, char *err,
    size_t errlen)
{
	if (sh->oauth2_client_secret_command == NULL)
		return xstrdup("");
	return secret_command(sh->oauth2_client_secret_command,
	    "oauth2_client_secret_command", err, errlen);
}

/* RFC 6749 §6: one refresh_token grant, stored on success. */
static char *
refresh(const struct conf *cf, const struct conf_smarthost *sh, char *err,
    size_t errlen)
{
	struct oauth_reply r = { 0 };
	struct buf form = BUF_INIT, body = BUF_INIT;
	char *rt = NULL, *cs = NULL, *tok = NULL, perr[128];
	long status = 0;
	int parsed;

	if ((rt = refresh_token(cf, sh, err, errlen)) == NULL ||
	    (cs = oauth_client_secret(sh, err, errlen)) == NULL)
		goto done;
	oauth_form_add(&form, "grant_type", "refresh_token");
	oauth_form_add(&form, "refresh_token", rt);
	oauth_form_add(&form, "client_id", sh->oauth2_client_id);
	if (cs[0] != '\0')
		oauth_form_add(&form, "client_secret", cs);
	if (oauth_post(sh->oauth2_token_url, form.data, &status, &body, err,
	    errlen) == -1)
		goto done;
	parsed = oauth_parse_reply(body.data ? body.data : "", body.len, &r,
	    perr, sizeof perr) == 0;
	if (oauth_check_reply(sh, "token refresh", status, parsed, &r, err,
	    errlen) == -1 || oauth_store(cf, sh, &r, err, errlen) == -1)
		goto done;
	tok = r.access_token;
	r.access_token = NULL;
done:
	if (tok == NULL && err[0] != '\0')
		oauth_note_error(cf, sh, err);
	oauth_reply_clear(&r);
	if (form.data != NULL)
		explicit_bzero(form.data, form.cap);
	if (body.data != NULL)
		explicit_bzero(body.data, body.cap);
	buf_clear(&form);
	buf_clear(&body);
	secret_free(rt);
	secret_free(cs);
	return tok;
}

char *
oauth_token(const struct conf *cf, const struct conf_smarthost *sh,
    int force_refresh, int *from_cache, char *err, size_t errlen)
{
	char *path, *tok = NULL;
	int fd;

	if (from_cache != NULL)
		*from_cache = 0;
	err[0] = '\0';
	if (sh->oauth2_token_url == NULL || sh->oauth2_client_id == NULL) {
		snprintf(err, errlen, "smarthost %s: OAuth2 needs "
		    "oauth2_token_url and oauth2_client_id", oauth_name(sh));
		return NULL;
	}
	if (!force_refresh && (tok = cache_get(cf, sh)) != NULL)
		goto cached;
	/* One refresh at a time: a rotated refresh token must not be used
	 * twice (RFC 6749 §10.4). Whoever waited finds the cache fresh. */
	path = oauth_path(cf, sh, ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd != -1 && flock(fd, LOCK_EX) == -1) {
		close(fd);
		fd = -1;
	}
	if (!force_refresh && (tok = cache_get(cf, sh)) != NULL) {
		if (fd != -1)
			close(fd);
		goto cached;
	}
	tok = refresh(cf, sh, err, errlen);
	if (fd != -1)
		close(fd);
	return tok;
cached:
	if (from_cache != NULL)
		*from_cache = 1;
	return tok;
}

char *
oauth_access_token(const struct conf *cf, const struct conf_smarthost *sh,
    int force_refresh, char *err, size_t errlen)
{
	return oauth_token(cf, sh, force_refresh, NULL, err, errlen);
}
