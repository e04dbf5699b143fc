/* SPDX-License-Identifier: ISC */
/* Queue inspection and control: status, queue (mailq), show, hold,
 * release, delete. All work with or without a running daemon: they read
 * and write the queue directly, which LMDB makes safe. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "../relay/oauth.h"
#include "cli.h"

static const char *const state_names[] = { "pending", "sent", "failed" };

static int
want_json(int argc, char **argv, const char *verb)
{
	int i, json = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else {
			cli_warnx("usage: tern %s [--json]", verb);
			return -1;
		}
	}
	return json;
}

static json_object *
json_time(int64_t t)
{
	char b[32];

	return t > 0 ? json_object_new_string(time_iso(t, b, sizeof b)) :
	    NULL;
}

static int
has_pending(const struct queue_env *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == QUEUE_PENDING)
			return 1;
	return 0;
}

static int
was_tried(const struct queue_env *e)
{
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].attempts > 0)
			return 1;
	return 0;
}

/* --- status ---------------------------------------------------------- */

struct counts {
	long	 queued, deferred, held, inbound;
	int64_t	 next;
};

static int
count_one(void *arg, const struct queue_env *e)
{
	struct counts *n = arg;
	int64_t when;

	if (!has_pending(e))
		return 0;
	if (e->flags & QUEUE_F_INBOUND) {
		n->inbound++;
		return 0;
	}
	if (e->flags & QUEUE_F_HELD) {
		n->held++;
		return 0;
	}
	n->queued++;
	if (was_tried(e))
		n->deferred++;
	when = e->next_attempt > 0 ? e->next_attempt : e->queued_at;
	if (n->next == 0 || when < n->next)
		n->next = when;
	return 0;
}

/* A status record the daemon keeps in meta as JSON, or null. */
static json_object *
meta_json(struct queue *q, const char *key)
{
	struct buf b = BUF_INIT;
	json_object *o = NULL;

	if (queue_meta_get(q, key, &b) == 0)
		o = json_tokener_parse(b.data);
	buf_clear(&b);
	return o;
}

static char *
meta_text(struct queue *q, const char *key, const char *dflt)
{
	struct buf b = BUF_INIT;

	if (queue_meta_get(q, key, &b) == 0 && b.len > 0)
		return buf_take(&b);
	buf_clear(&b);
	return xstrdup(dflt);
}

/* Per OAuth2 account: what is stored (never a token) and any warning. */
static json_object *
oauth_json(const struct conf *cf)
{
	json_object *a = NULL, *o;
	struct oauth_status os;
	char w[512];
	size_t i;

	for (i = 0; i < cf->nsmarthosts; i++) {
		const struct conf_smarthost *sh = &cf->smarthosts[i];

		if (sh->oauth2_token_url == NULL)
			continue;
		oauth_status_get(cf, sh, &os);
		o = json_object_new_object();
		json_object_object_add(o, "name",
		    json_object_new_string(oauth_name(sh)));
		json_object_object_add(o, "refresh_token", json_object_new_string(
		    os.stored_refresh ? "stored" : os.have_refresh ? "command" :
		    "none"));
		json_object_object_add(o, "access_expires",
		    json_time(os.have_access ? os.access_expires : 0));
		json_object_object_add(o, "last_refresh",
		    json_time(os.last_refresh));
		json_object_object_add(o, "refresh_used",
		    json_time(os.refresh_used));
		json_object_object_add(o, "last_error", os.last_error[0] ?
		    json_object_new_string(os.last_error) : NULL);
		json_object_object_add(o, "warning", oauth_status_warning(&os,
		    oauth_name(sh), clock_wall(), w, sizeof w) ?
		    json_object_new_string(w) : NULL);
		if (a == NULL)
			a = json_object_new_array();
		json_object_array_add(a, o);
	}
	return a;
}

static const char *
field_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v = json_object_object_get(o, key);

	return v != NULL ? json_object_get_string(v) : dflt;
}

static void
oauth_text(json_object *a)
{
	json_object *o;
	size_t i;

	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		o = json_object_array_get_idx(a, i);
		printf("oauth2 %s: refresh token %s, access token until %s, "
		    "refresh token last used %s\n", field_or(o, "name", "-"),
		    field_or(o, "refresh_token", "-"),
		    field_or(o, "access_expires", "-"),
		    field_or(o, "refresh_used", "never"));
		if (json_object_object_get(o, "warning") != NULL)
			printf("  warning: %s\n", field_or(o, "warning", ""));
	}
}

static void
status_text(const struct conf *cf, json_object *st)
{
	json_object *o, *v;
	const char *host;

	printf("daemon:       %s\n", json_object_get_string(
	    json_object_object_get(st, "daemon")));
	printf("link:         %s\n", json_object_get_string(
	    json_object_object_get(st, "link")));
	o = json_object_object_get(st, "outbound");
	printf("outbound:     %d queued, %d deferred, %d held\n",
	    json_object_get_int(json_object_object_get(o, "queued")),
	    json_object_get_int(json_object_object_get(o, "deferred")),
	    json_object_get_int(json_object_object_get(o, "held")));
	o = json_object_object_get(st, "inbound");
	printf("inbound:      %d pending\n",
	    json_object_get_int(json_object_object_get(o, "pending")));
	v = json_object_object_get(st, "next_attempt");
	printf("next attempt: %s\n", v ? json_object_get_string(v) : "-");
	v = json_object_object_get(st, "last_flush");
	printf("last flush:   %s\n", v ? json_object_to_json_string(v) : "-");
	v = json_object_object_get(st, "last_pull");
	printf("last pull:    %s\n", v ? json_object_to_json_string(v) : "-");
	host = json_object_get_string(json_object_object_get(st,
	    "smarthost"));
	if (host == NULL)
		printf("smarthost:    none configured: mail is queued, "
		    "nothing is sent\n");
	else
		printf("smarthost:    %s\n", host);
	oauth_text(json_object_object_get(st, "oauth"));
	(void)cf;
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	struct counts n = { 0 };
	json_object *st, *o;
	struct queue *q;
	struct conf *cf;
	const struct conf_smarthost *sh;
	char *link;
	int json;

	if ((json = want_json(argc, argv, "status")) == -1)
		return EX_USAGE;
	cf = cli_conf(c);
	q = cli_queue(c);
	if (queue_walk(q, count_one, &n) == -1) {
		cli_warnx("status: %s", queue_error(q));
		return EX_IOERR;
	}
	st = json_object_new_object();
	json_object_object_add(st, "daemon", json_object_new_string(
	    cli_daemon_running(cf) ? "running" : "stopped"));
	link = meta_text(q, "link", "unknown");
	json_object_object_add(st, "link", json_object_new_string(link));
	free(link);
	o = json_object_new_object();
	json_object_object_add(o, "queued", json_object_new_int64(n.queued));
	json_object_object_add(o, "deferred",
	    json_object_new_int64(n.deferred));
	json_object_object_add(o, "held", json_object_new_int64(n.held));
	json_object_object_add(st, "outbound", o);
	o = json_object_new_object();
	json_object_object_add(o, "pending", json_object_new_int64(n.inbound));
	json_object_object_add(st, "inbound", o);
	json_object_object_add(st, "next_attempt", json_time(n.next));
	json_object_object_add(st, "last_flush", meta_json(q, "last_flush"));
	json_object_object_add(st, "last_pull", meta_json(q, "last_pull"));
	sh = conf_smarthost_named(cf, NULL);
	json_object_object_add(st, "smarthost", sh && sh->peer.host ?
	    json_object_new_string(sh->peer.host) : NULL);
	if ((o = oauth_json(cf)) != NULL)
		json_object_object_add(st, "oauth", o);
	if (json)
		puts(json_object_to_json_string_ext(st,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		status_text(cf, st);
	json_object_put(st);
	return 0;
}

/* --- queue / mailq ---------------------------------------------------- */

static json_object *
env_json(const struct queue_env *e)
{
	char id[QUEUE_ID_LEN + 1];
	json_object *o, *rs, *r;
	size_t i;

	o = json_object_new_object();
	json_object_object_add(o, "id",
	    json_object_new_string(queue_id_str(e->id, id)));
	json_object_object_add(o, "from", json_object_new_string(e->sender));
	json_object_object_add(o, "size", json_object_new_int64(
	    (int64_t)e->size));
	json_object_object_add(o, "queued_at", json_time(e->queued_at));
	json_object_object_add(o, "held",
	    json_object_new_boolean(e->flags & QUEUE_F_HELD));
	json_object_object_add(o, "next_attempt", has_pending(e) ?
	    json_time(e->next_attempt > 0 ? e->next_attempt : e->queued_at) :
	    NULL);
	rs = json_object_new_array();
	for (i = 0; i < e->nrcpt; i++) {
		r = json_object_new_object();
		json_object_object_add(r, "to",
		    json_object_new_string(e->rcpt[i].addr));
		json_object_object_add(r, "state", json_object_new_string(
		    state_names[e->rcpt[i].state]));
		json_object_object_add(r, "attempts",
		    json_object_new_int64(e->rcpt[i].attempts));
		json_object_object_add(r, "last_reply", e->rcpt[i].reply ?
		    json_object_new_string(e->rcpt[i].reply) : NULL);
		json_object_array_add(rs, r);
	}
	json_object_object_add(o, "recipients", rs);
	return o;
}

static int
list_json(void *arg, const struct queue_env *e)
{
	json_object_array_add(arg, env_json(e));
	return 0;
}

static int
list_text(void *arg, const struct queue_env *e)
{
	char id[QUEUE_ID_LEN + 1], t[32], nx[32];
	size_t i;

	(*(long *)arg)++;
	printf("%s %9llu %s%s <%s>\n", queue_id_str(e->id, id),
	    (unsigned long long)e->size, time_iso(e->queued_at, t, sizeof t),
	    e->flags & QUEUE_F_HELD ? " HELD" : "", e->sender);
	for (i = 0; i < e->nrcpt; i++) {
		const struct queue_rcpt *r = &e->rcpt[i];

		printf("    %-7s <%s> attempts=%u", state_names[r->state],
		    r->addr, r->attempts);
		if (r->state == QUEUE_PENDING && e->next_attempt > 0)
			printf(" next=%s", time_iso(e->next_attempt, nx,
			    sizeof nx));
		if (r->reply != NULL)
			printf(" (%s)", r->reply);
		putchar('\n');
	}
	return 0;
}

int
cmd_queue(struct cli *c, int argc, char **argv)
{
	struct queue *q;
	json_object *a;
	long n = 0;
	int json, rc;

	if ((json = want_json(argc, argv, "queue")) == -1)
		return EX_USAGE;
	q = cli_queue(c);
	if (json) {
		a = json_object_new_array();
		rc = queue_walk(q, list_json, a);
		if (rc == 0)
			puts(json_object_to_json_string_ext(a,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
	} else {
		rc = queue_walk(q, list_text, &n);
		if (rc == 0 && n == 0)
			puts("Mail queue is empty");
	}
	if (rc != 0) {
		cli_warnx("queue: %s", queue_error(q));
		return EX_IOERR;
	}
	return 0;
}
