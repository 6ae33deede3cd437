/* SPDX-License-Identifier: MIT */
/*
 * op_admin.c: the service and its outbox: status, metrics, backup, and the
 * deliveries with their retry.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "op_impl.h"
#include "timefmt.h"
#include "util.h"

/* pages a backup copies per loop iteration: 4 MiB at SQLite's default
 * page size, a few milliseconds that other clients wait at most */
#define BACKUP_STEP_PAGES 1024

/* the backup being written; its reply is held, pending, by the front end */
struct op_backup {
	struct store_backup *b;
	char *path;
};

static json_t *
delivery_json(const struct delivery_rec *d)
{
	return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:I,s:o,s:s?,s:I,s:o}",
	    "delivery", d->uid, "promise_id",
	    d->promise_id > 0 ? json_integer(d->promise_id) : json_null(),
	    "event", d->event, "recipient", d->recipient, "channel", d->channel,
	    "state", d->state, "attempts", (json_int_t)d->attempts,
	    "next_attempt_at",
	    strcmp(d->state, "pending") == 0 ? json_integer(d->next_attempt_at)
	                                     : json_null(),
	    "last_error", d->last_error, "created_at",
	    (json_int_t)d->created_at, "sent_at",
	    d->sent_at ? json_integer(d->sent_at) : json_null());
}

/* the fewest hex digits a delivery id is shown with, as git shows ids */
#define DELIVERY_SHORT_MIN 7
/* the fewest a retry may name one by: shorter finds too many to mean one */
#define DELIVERY_PREFIX_MIN 4

/*
 * Sets "short" on delivery d: the shortest prefix of its id that names it
 * alone today, which retry takes in place of the id.
 */
static int
add_short_id(struct req *r, json_t *d)
{
	const char *uid = json_string_value(json_object_get(d, "delivery"));
	size_t n;
	int rc;

	if (uid == NULL)
		return 0;
	if ((rc = store_delivery_short(r->ctx->st, uid, &n)) < 0)
		return rc;
	if (n < DELIVERY_SHORT_MIN)
		n = DELIVERY_SHORT_MIN;
	if (n > strlen(uid))
		n = strlen(uid);
	return json_object_set_new(d, "short", json_stringn(uid, n)) == 0
	    ? 0
	    : -ENOMEM;
}

int
op_add_short_ids(struct req *r, json_t *arr)
{
	json_t *d;
	size_t i;
	int rc;

	json_array_foreach(arr, i, d) {
		if ((rc = add_short_id(r, d)) < 0)
			return rc;
	}
	return 0;
}

int
op_deliveries_cb(void *arg, const struct delivery_rec *d)
{
	json_t *v = delivery_json(d);

	if (v == NULL || json_array_append_new(arg, v) < 0)
		return -ENOMEM;
	return 0;
}

struct seen_deliveries {
	struct req *r;
	json_t *arr;
	int64_t limit, n;
};

static int
seen_deliveries_cb(void *arg, const struct delivery_rec *d)
{
	struct seen_deliveries *sd = arg;

	if (sd->limit > 0 && sd->n >= sd->limit)
		return 1;
	if (d->promise_id == 0) {
		/* a digest: seen by whoever may see its manager's team */
		if (!may_act(sd->r, d->recipient))
			return 0;
	} else if (strcmp(d->recipient, sd->r->who->login) != 0 &&
	    (d->owner == NULL || !may_act(sd->r, d->owner)))
		return 0;
	sd->n++;
	return op_deliveries_cb(sd->arr, d);
}

enum proto_err
op_deliveries(struct req *r)
{
	const char *state = NULL;
	int64_t limit = 100;
	json_t *arr;
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "state", false, 16, &state, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_int(r->body, "limit", false, &limit, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (state != NULL && strcmp(state, "all") == 0)
		state = NULL;
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "sent") != 0 && strcmp(state, "failed") != 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'state': '%s' is not one of pending, sent, failed, "
		    "all",
		    state);
		return PROTO_INVALID;
	}
	if (limit < 0) {
		snprintf(r->err, sizeof(r->err), "field 'limit': is negative");
		return PROTO_INVALID;
	}
	if ((arr = json_array()) == NULL)
		return PROTO_INTERNAL;
	if (is_admin(r))
		rc = store_deliveries(
		    r->ctx->st, 0, state, limit, op_deliveries_cb, arr);
	else {
		/* the rest see what went to them and what concerns promises
		 * they may act on; the limit counts what is shown */
		struct seen_deliveries sd = {
		    .r = r, .arr = arr, .limit = limit};

		rc = store_deliveries(
		    r->ctx->st, 0, state, 0, seen_deliveries_cb, &sd);
	}
	if (rc == 0)
		rc = op_add_short_ids(r, arr);
	if (rc < 0) {
		json_decref(arr);
		return op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "deliveries", arr);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static int
one_delivery_cb(void *arg, const struct delivery_rec *d)
{
	json_t **ret = arg;

	*ret = delivery_json(d);
	return *ret ? 0 : -ENOMEM;
}

struct delivery_about {
	int64_t promise_id;
	char recipient[128];
};

static int
delivery_about_cb(void *arg, const struct delivery_rec *d)
{
	struct delivery_about *a = arg;

	a->promise_id = d->promise_id;
	util_strlcpy(a->recipient, d->recipient, sizeof(a->recipient));
	return 0;
}

/* a delivery is retried by whoever may act on its promise; a digest by
 * whoever may see its manager's team */
static enum proto_err
delivery_allowed(struct req *r, const char *uid, const char *asked)
{
	struct json_cb j = {.now = r->now};
	struct delivery_about a = {0};
	int64_t pid;
	int rc;

	rc = store_delivery_by_uid(r->ctx->st, uid, delivery_about_cb, &a);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", uid);
		return PROTO_NOT_FOUND;
	}
	if (rc == 0 && a.promise_id == 0) {
		if (may_act(r, a.recipient))
			return PROTO_OK;
		/* as for a promise: a stranger learns nothing of it */
		snprintf(r->err, sizeof(r->err), "no delivery %s", asked);
		return PROTO_NOT_FOUND;
	}
	pid = a.promise_id;
	if (rc < 0 || (rc = store_get(r->ctx->st, pid, op_get_cb, &j)) < 0)
		return op_store_failed(r, rc);
	json_decref(j.val);
	if (may_act(r, j.owner))
		return PROTO_OK;
	(void)op_refuse(r, pid);
	snprintf(r->err, sizeof(r->err), "no delivery %s", asked);
	return PROTO_NOT_FOUND;
}

enum proto_err
op_retry(struct req *r)
{
	const char *prefix = NULL;
	char uid[33];
	json_t *d = NULL;
	int64_t id;
	size_t n;
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "delivery", true, 32, &prefix, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	n = strlen(prefix);
	if (n < DELIVERY_PREFIX_MIN ||
	    strspn(prefix, "0123456789abcdef") != n) {
		snprintf(r->err, sizeof(r->err),
		    "field 'delivery': must be %d to 32 lower-case hex digits",
		    DELIVERY_PREFIX_MIN);
		return PROTO_INVALID;
	}
	/* a prefix, as git takes one: it must name one delivery */
	rc = store_delivery_resolve(r->ctx->st, prefix, uid);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", prefix);
		return PROTO_NOT_FOUND;
	}
	if (rc == -ENOTUNIQ) {
		snprintf(r->err, sizeof(r->err),
		    "delivery id %s is ambiguous: more than one starts with "
		    "it; "
		    "give more digits",
		    prefix);
		return PROTO_INVALID;
	}
	if (rc < 0)
		return op_store_failed(r, rc);
	if ((e = delivery_allowed(r, uid, prefix)) != PROTO_OK)
		return e;
	rc = deliver_retry(r->ctx->dl, uid, r->now, &id);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", uid);
		return PROTO_NOT_FOUND;
	}
	if (rc == -EALREADY) {
		snprintf(r->err, sizeof(r->err), "delivery %s was already sent",
		    uid);
		return PROTO_CONFLICT;
	}
	if (rc < 0 ||
	    (rc = store_delivery_by_uid(r->ctx->st, uid, one_delivery_cb, &d)) <
	        0)
		return op_store_failed(r, rc);
	if ((rc = add_short_id(r, d)) < 0) {
		json_decref(d);
		return op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "delivery", d);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* who fires: this daemon (the leader) or another (a standby), and for a
 * store several daemons share, the leader's host, pid and epoch */
static enum proto_err
add_role(struct req *r)
{
	struct store_leadership l;
	json_t *o;
	int rc;

	if ((rc = store_leadership(r->ctx->st, &l)) < 0)
		return op_store_failed(r, rc);
	if (json_object_set_new(r->reply, "role",
	        json_string(l.leader ? "leader" : "standby")) < 0)
		return PROTO_INTERNAL;
	if (!l.shared)
		return PROTO_OK;
	o = l.epoch > 0 ? json_pack("{s:s,s:I,s:I,s:I}", "host", l.host, "pid",
	                      (json_int_t)l.pid, "epoch", (json_int_t)l.epoch,
	                      "since", (json_int_t)l.since)
	                : json_null();
	if (o == NULL || json_object_set_new(r->reply, "leader", o) < 0)
		return PROTO_INTERNAL;
	return PROTO_OK;
}

enum proto_err
op_status(struct req *r)
{
	struct store_owner_counts o;
	struct store_counts n;
	int rc;

	/* the service's figures are the admins'; anyone else's are their
	 * own promises, so status tells nobody about the others' */
	if (!is_admin(r)) {
		if ((rc = store_owner_counts(
		         r->ctx->st, r->who->login, r->now, &o)) < 0)
			return op_store_failed(r, rc);
		r->reply = json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:o}", "ok",
		    1, "scope", "own", "version", PROMISED_VERSION,
		    "started_at", (json_int_t)r->ctx->started_at, "uptime",
		    (json_int_t)(r->now - r->ctx->started_at), "open",
		    (json_int_t)o.open, "overdue", (json_int_t)o.overdue,
		    "next_due",
		    o.next_due ? json_integer(o.next_due) : json_null());
		return r->reply ? PROTO_OK : PROTO_INTERNAL;
	}
	if ((rc = store_counts(r->ctx->st, r->now, &n)) < 0)
		return op_store_failed(r, rc);
	r->reply =
	    json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:I,s:{s:I,s:I,s:I}}",
	        "ok", 1, "scope", "all", "version", PROMISED_VERSION,
	        "started_at", (json_int_t)r->ctx->started_at, "uptime",
	        (json_int_t)(r->now - r->ctx->started_at), "open",
	        (json_int_t)sched_count(r->ctx->s), "overdue",
	        (json_int_t)sched_overdue(r->ctx->s), "next_due",
	        n.next_due ? json_integer(n.next_due) : json_null(),
	        "scheduled", (json_int_t)sched_count(r->ctx->s), "deliveries",
	        "pending", (json_int_t)deliver_pending(r->ctx->dl), "failed",
	        (json_int_t)n.deliveries_failed, "inflight",
	        (json_int_t)deliver_inflight(r->ctx->dl));
	if (r->reply == NULL ||
	    json_object_set_new(
	        r->reply, "channels", deliver_channels(r->ctx->dl)) < 0 ||
	    json_object_set_new(r->reply, "store",
	        json_string(store_backend_name(r->ctx->st))) < 0)
		return PROTO_INTERNAL;
	return add_role(r);
}

/* 'path' for a message, or "the file" when too long to quote whole: a cut
 * one could split a character and spoil the reply's UTF-8 */
static void
name_path(char *buf, size_t len, const char *path)
{
	if (strlen(path) + 3 <= len)
		snprintf(buf, len, "'%s'", path);
	else
		snprintf(buf, len, "the file");
}

/*
 * Starts a backup; the reply is sent once the copy is complete.  Anyone
 * connected may ask for one: who may is a later decision.
 */
enum proto_err
op_backup(struct req *r)
{
	struct store_backup *b = NULL;
	struct op_backup *bk;
	const char *path;
	char name[256];
	enum proto_err e;
	int rc;

	if ((e = op_get_text(r, "path", true, PATH_MAX - 1, false, &path)) !=
	    PROTO_OK)
		return e;
	if (path[0] != '/') {
		snprintf(r->err, sizeof(r->err),
		    "field 'path': must be an absolute path");
		return PROTO_INVALID;
	}
	/* a copy holds everyone's promises */
	if (!is_admin(r)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not take backups: only admins may",
		    r->who->login);
		return PROTO_FORBIDDEN;
	}
	if (r->ctx->backup != NULL) {
		snprintf(r->err, sizeof(r->err),
		    "a backup is already being written; try again when it is "
		    "done");
		return PROTO_UNAVAILABLE;
	}
	name_path(name, sizeof(name), path);
	rc = store_backup_open(r->ctx->st, path, &b);
	switch (rc) {
	case 0:
		break;
	case -EEXIST:
		snprintf(r->err, sizeof(r->err),
		    "%s already exists; a backup never overwrites a file",
		    name);
		return PROTO_CONFLICT;
	case -ENOENT:
	case -ENOTDIR:
	case -ENAMETOOLONG:
	case -ELOOP:
		snprintf(r->err, sizeof(r->err),
		    "field 'path': cannot create %s: %s", name,
		    store_errmsg(r->ctx->st));
		return PROTO_INVALID;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		snprintf(r->err, sizeof(r->err),
		    "promised may not create %s: %s", name,
		    store_errmsg(r->ctx->st));
		return PROTO_FORBIDDEN;
	case -ENOMEM:
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	case -EOPNOTSUPP:
		snprintf(r->err, sizeof(r->err),
		    "backup copies an SQLite store; back a PostgreSQL store up "
		    "with pg_dump");
		return PROTO_UNAVAILABLE;
	default:
		snprintf(r->err, sizeof(r->err),
		    "cannot write a backup to %s: %s", name,
		    store_errmsg(r->ctx->st));
		return PROTO_UNAVAILABLE;
	}
	bk = calloc(1, sizeof(*bk));
	if (bk == NULL || (bk->path = strdup(path)) == NULL) {
		free(bk);
		store_backup_abort(b);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	}
	bk->b = b;
	r->ctx->backup = bk;
	r->pending = true;
	log_info("client %s: writing a backup to %s", r->who->login, name);
	return PROTO_OK;
}

/* seconds in ms as the shortest decimal: 5 -> "0.005", 2500 -> "2.5" */
static void
seconds_text(char *buf, size_t len, uint64_t ms)
{
	size_t n;

	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* the Prometheus text exposition (format 0.0.4) of the metrics */
/* a label value as the exposition format wants it */
static void
put_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
write_role(FILE *f, const struct store_leadership *l)
{
	family(f, "promised_leader", "gauge",
	    "1 if this daemon fires (the leader), 0 if it stands by.");
	fprintf(f, "promised_leader %d\n", l->leader ? 1 : 0);
	if (!l->shared)
		return;
	family(f, "promised_leader_epoch", "gauge",
	    "The epoch of the leader of the daemons sharing the store.");
	fprintf(f, "promised_leader_epoch %" PRId64 "\n", l->epoch);
	family(f, "promised_leader_info", "gauge",
	    "Always 1; the leader's host and pid are its labels.");
	fputs("promised_leader_info{host=\"", f);
	put_label(f, l->host);
	fprintf(f, "\",pid=\"%" PRId64 "\"} 1\n", l->pid);
}

static int
write_metrics(FILE *f, const struct op_ctx *ctx, const struct store_metrics *m,
    const struct store_leadership *l)
{
	const struct sched_lateness *lt = sched_lateness(ctx->s);
	char le[32];
	size_t i;

	family(f, "promised_open_promises", "gauge",
	    "Promises not yet kept or cancelled.");
	fprintf(f, "promised_open_promises %" PRId64 "\n",
	    m->promises[PSTATE_OPEN]);
	family(f, "promised_overdue_promises", "gauge",
	    "Open promises whose deadline has passed.");
	fprintf(f, "promised_overdue_promises %" PRId64 "\n", m->overdue);
	family(f, "promised_promises_total", "counter",
	    "Promises settled, by how: kept or cancelled.");
	fprintf(f,
	    "promised_promises_total{state=\"kept\"} %" PRId64 "\n"
	    "promised_promises_total{state=\"cancelled\"} %" PRId64 "\n",
	    m->promises[PSTATE_KEPT], m->promises[PSTATE_CANCELLED]);
	family(f, "promised_missed_total", "counter",
	    "Promises that missed their deadline, each counted once: open "
	    "past it, or given a due notice (a later snooze does not uncount "
	    "it), or kept or cancelled at or after it.");
	fprintf(f, "promised_missed_total %" PRId64 "\n", m->missed);
	family(f, "promised_deliveries", "gauge",
	    "Notices in the outbox, by state: pending (being sent or to be "
	    "retried), sent, or failed for good.");
	fprintf(f,
	    "promised_deliveries{state=\"pending\"} %" PRId64 "\n"
	    "promised_deliveries{state=\"sent\"} %" PRId64 "\n"
	    "promised_deliveries{state=\"failed\"} %" PRId64 "\n",
	    m->deliveries_pending, m->deliveries_sent, m->deliveries_failed);
	family(f, "promised_fire_lateness_seconds", "histogram",
	    "How late nudges, due notices and escalations fired after their "
	    "scheduled time, since the daemon started.");
	for (i = 0; i < SCHED_LATENESS_BUCKETS; i++) {
		seconds_text(
		    le, sizeof(le), (uint64_t)sched_lateness_bounds_ms[i]);
		fprintf(f,
		    "promised_fire_lateness_seconds_bucket{le=\"%s\"} "
		    "%" PRIu64 "\n",
		    le, lt->le[i]);
	}
	fprintf(f,
	    "promised_fire_lateness_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "promised_fire_lateness_seconds_sum %" PRIu64 ".%03" PRIu64 "\n"
	    "promised_fire_lateness_seconds_count %" PRIu64 "\n",
	    lt->count, lt->sum_ms / 1000, lt->sum_ms % 1000, lt->count);
	/* the version is digits and dots: nothing in it needs escaping */
	family(f, "promised_build_info", "gauge",
	    "Always 1; the version of the running promised is its label.");
	fprintf(f, "promised_build_info{version=\"%s\"} 1\n", PROMISED_VERSION);
	family(f, "promised_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the Unix epoch.");
	fprintf(
	    f, "promised_start_time_seconds %" PRId64 "\n", ctx->started_at);
	family(f, "promised_scheduled_timers", "gauge",
	    "Open promises with a timer on the schedule.");
	fprintf(f, "promised_scheduled_timers %zu\n", sched_count(ctx->s));
	write_role(f, l);
	return ferror(f) ? -EIO : 0;
}

enum proto_err
op_metrics(struct req *r)
{
	struct store_leadership l;
	struct store_metrics m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	/* the service's figures, everyone's promises counted */
	if (!is_admin(r)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not read the metrics: only admins may",
		    r->who->login);
		return PROTO_FORBIDDEN;
	}
	if ((rc = store_metrics(r->ctx->st, r->now, &m)) < 0 ||
	    (rc = store_leadership(r->ctx->st, &l)) < 0)
		return op_store_failed(r, rc);
	if ((f = open_memstream(&text, &len)) == NULL)
		return PROTO_INTERNAL;
	rc = write_metrics(f, r->ctx, &m, &l);
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return PROTO_INTERNAL;
	}
	r->reply = json_pack("{s:b,s:s}", "ok", 1, "text", text);
	free(text);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

void
op_backup_cancel(struct op_ctx *ctx, const char *why)
{
	struct op_backup *bk = ctx->backup;

	if (bk == NULL)
		return;
	if (why != NULL)
		log_warnx("backup to '%s' abandoned: %s", bk->path, why);
	ctx->backup = NULL;
	store_backup_abort(bk->b);
	free(bk->path);
	free(bk);
}

/* Committed changes made while the copy runs are mirrored into it by
 * SQLite, so it is consistent as of its last step. */
int
op_backup_step(struct op_ctx *ctx, json_t **ret_msg)
{
	struct op_backup *bk = ctx->backup;
	int64_t pages = 0, bytes = 0, left, total;
	char name[256], err[384];
	int rc;

	*ret_msg = NULL;
	if (bk == NULL || store_in_txn(ctx->st))
		return 0;
	rc = store_backup_step(bk->b, BACKUP_STEP_PAGES);
	if (rc == 0) {
		store_backup_progress(bk->b, &left, &total);
		log_debug("backup to '%s': %" PRId64 " of %" PRId64
		          " pages copied",
		    bk->path, total - left, total);
		return 0;
	}
	if (rc == -EBUSY)
		return 0;
	if (rc == 1)
		rc = store_backup_finish(bk->b, &pages, &bytes);
	else
		store_backup_abort(bk->b);
	bk->b = NULL;
	if (rc == 0) {
		log_info("backup written to '%s': %" PRId64 " pages, %" PRId64
		         " bytes",
		    bk->path, pages, bytes);
		*ret_msg =
		    json_pack("{s:b,s:s,s:I,s:I}", "ok", 1, "path", bk->path,
		        "pages", (json_int_t)pages, "bytes", (json_int_t)bytes);
	} else {
		log_warnx("backup to '%s' failed: %s", bk->path,
		    store_errmsg(ctx->st));
		name_path(name, sizeof(name), bk->path);
		snprintf(err, sizeof(err), "backup to %s failed: %s", name,
		    store_errmsg(ctx->st));
		*ret_msg = proto_error(
		    rc == -ENOMEM ? PROTO_INTERNAL : PROTO_UNAVAILABLE, err);
	}
	ctx->backup = NULL;
	free(bk->path);
	free(bk);
	return 1;
}
