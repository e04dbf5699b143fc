/* SPDX-License-Identifier: ISC */
/*
 * The delivery runner: due mail, grouped by smarthost (chosen at send time
 * from the sender, interface.md), one connection per smarthost carrying one
 * transaction after another. Every recipient's outcome is committed as its
 * reply arrives (the exactly-once promise); connection-level failures
 * count no attempt and never toward give_up.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "../lib/conf.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../queue/queue.h"
#include "local.h"
#include "outcome.h"
#include "relay.h"
#include "session.h"

volatile sig_atomic_t relay_stop;

int
relay_lock(const char *state)
{
	char *path = xasprintf("%s/flush.lock", state);
	int fd, e;

	mkdir_p(state, 0700);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd != -1 && flock(fd, LOCK_EX) == -1) {
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

struct group {
	const struct conf_smarthost *sh;
	uint64_t	*ids;
	size_t		 n;
};

/* Messages whose every recipient is settled but that were not finished
 * (a crash between the last reply and the bounce): finish them now. */
static int
collect_done(void *arg, const struct queue_env *e)
{
	struct group *g = arg;
	size_t i;

	for (i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == QUEUE_PENDING)
			return 0;
	g->ids = xreallocarray(g->ids, g->n + 1, sizeof *g->ids);
	g->ids[g->n++] = e->id;
	return 0;
}

static void
sweep(const struct conf *cf, struct queue *q)
{
	struct group g = { 0 };
	size_t i;

	if (queue_walk(q, collect_done, &g) == 0)
		for (i = 0; i < g.n; i++)
			outcome_settle(cf, q, g.ids[i], NULL, clock_wall());
	free(g.ids);
}

static struct group *
group_for(struct group **gs, size_t *ngs, const struct conf_smarthost *sh)
{
	size_t i;

	for (i = 0; i < *ngs; i++)
		if ((*gs)[i].sh == sh)
			return &(*gs)[i];
	*gs = xreallocarray(*gs, *ngs + 1, sizeof **gs);
	memset(&(*gs)[*ngs], 0, sizeof **gs);
	(*gs)[*ngs].sh = sh;
	return &(*gs)[(*ngs)++];
}

/* Sorts the chosen ids into one group per smarthost. */
static int
route(const struct conf *cf, struct queue *q, const uint64_t *ids,
    size_t n, struct group **gs, size_t *ngs, struct relay_result *res,
    int explicit)
{
	const struct conf_smarthost *sh;
	struct queue_env e = { 0 };
	struct group *g;
	char id[QUEUE_ID_LEN + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % 64 == 63)
			queue_trim(q);
		if (queue_get(q, ids[i], &e) == -1) {
			if (errno != ENOENT)
				return -1;
			if (explicit) {
				res->missing++;
				snprintf(res->error, sizeof res->error,
				    "%s: no such message in the queue",
				    queue_id_str(ids[i], id));
			}
			continue;
		}
		if (e.flags & QUEUE_F_HELD) {
			res->held++;
			queue_env_clear(&e);
			continue;
		}
		if (e.flags & QUEUE_F_INBOUND) {	/* the local mailbox */
			g = group_for(gs, ngs, NULL);
			g->ids = xreallocarray(g->ids, g->n + 1,
			    sizeof *g->ids);
			g->ids[g->n++] = ids[i];
			queue_env_clear(&e);
			continue;
		}
		sh = conf_smarthost_for(cf, e.sender);
		if (sh == NULL || sh->peer.host == NULL) {
			/* No route now; a new configuration may give one. */
			res->unrouted++;
			queue_schedule(q, ids[i], clock_wall() +
			    outcome_backoff(cf, (unsigned int)-1));
			queue_env_clear(&e);
			continue;
		}
		g = group_for(gs, ngs, sh);
		g->ids = xreallocarray(g->ids, g->n + 1, sizeof *g->ids);
		g->ids[g->n++] = ids[i];
		queue_env_clear(&e);
	}
	return 0;
}

static ssize_t
due_ids(struct queue *q, int force, uint64_t **ids)
{
	size_t cap = 1024;
	ssize_t n;

	for (;;) {
		*ids = xreallocarray(*ids, cap, sizeof **ids);
		n = queue_due(q, force ? INT64_MAX : clock_wall(), *ids, cap,
		    NULL);
		if (n < 0 || (size_t)n < cap)
			return n;
		cap *= 4;
	}
}

static void
record(struct queue *q, const struct relay_result *r)
{
	json_object *o = json_object_new_object();
	char t[32];
	const char *result;

	if (r->unreachable)
		result = "unreachable";
	else if (r->deferred > 0)
		result = "deferred";
	else if (r->failed > 0)
		result = "failed";
	else if (r->sent > 0)
		result = "sent";
	else
		result = "nothing to send";
	json_object_object_add(o, "at", json_object_new_string(
	    time_iso(clock_wall(), t, sizeof t)));
	json_object_object_add(o, "result", json_object_new_string(result));
	json_object_object_add(o, "sent", json_object_new_int(r->sent));
	json_object_object_add(o, "deferred", json_object_new_int(r->deferred));
	json_object_object_add(o, "failed", json_object_new_int(r->failed));
	if (r->error[0] != '\0')
		json_object_object_add(o, "error",
		    json_object_new_string(r->error));
	queue_meta_set(q, "last_flush", json_object_to_json_string(o));
	json_object_put(o);
}

int
relay_run(const struct conf *cf, struct queue *q, const uint64_t *ids,
    size_t nids, int force, relay_report_fn report, void *arg,
    struct relay_result *res)
{
	struct group *gs = NULL;
	uint64_t *due = NULL;
	size_t ngs = 0, i;
	ssize_t n;
	int rc = -1;

	memset(res, 0, sizeof *res);
	sweep(cf, q);
	if (nids == 0) {
		if ((n = due_ids(q, force, &due)) < 0)
			goto fail;
		ids = due;
		nids = (size_t)n;
	}
	if (route(cf, q, ids, nids, &gs, &ngs, res, due == NULL) == -1)
		goto fail;
	queue_trim(q);
	if (res->unrouted > 0 && ngs == 0) {
		snprintf(res->error, sizeof res->error, "no smarthost "
		    "configured for %u message(s): they stay queued",
		    res->unrouted);
		res->unreachable = 1;
	}
	for (i = 0; i < ngs && !relay_stop; i++) {
		struct target tg;

		if (gs[i].sh == NULL) {
			local_run(cf, q, gs[i].ids, gs[i].n, report, arg,
			    res);
			continue;
		}
		target_smarthost(&tg, gs[i].sh);
		session_run(cf, q, &tg, gs[i].ids, gs[i].n, report, arg, res);
	}
	record(q, res);
	rc = 0;
	goto done;
fail:
	snprintf(res->error, sizeof res->error, "%s", queue_error(q));
done:
	for (i = 0; i < ngs; i++)
		free(gs[i].ids);
	free(gs);
	free(due);
	return rc;
}

int
relay_exit_code(const struct relay_result *r)
{
	if (r->unreachable)
		return 69;	/* EX_UNAVAILABLE */
	if (r->deferred > 0 || r->held > 0)
		return 75;	/* EX_TEMPFAIL */
	if (r->failed > 0 || r->missing > 0)
		return 65;	/* EX_DATAERR: refused for good, bounced */
	return 0;
}
