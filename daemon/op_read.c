/* SPDX-License-Identifier: MIT */
/*
 * op_read.c: what is known and what will happen, changing nothing:
 * explain, export, report, sample and digest.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "digest.h"
#include "log.h"
#include "op_impl.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

/* ---- explain ------------------------------------------------------------- */

/* escalation repeats explain shows: they go on while the promise is open */
#define EXPLAIN_REPEATS 3

/* each recipient's "local": the time in their zone, as they will read it */
static void
add_local_times(json_t *to, int64_t at)
{
	struct tz_save tz;
	json_t *o;
	size_t i;
	char buf[64];

	json_array_foreach(to, i, o) {
		if (json_object_get(o, "local") != NULL ||
		    tz_enter(
		        &tz, json_string_value(json_object_get(o, "zone"))) < 0)
			continue;
		timefmt_local(at, buf, sizeof(buf));
		tz_leave(&tz);
		json_object_set_new(o, "local", json_string(buf));
	}
}

/* why a nudge comes when it does: its lead, and the lead asked for if
 * business hours moved it */
static void
nudge_rule(struct req *r, const struct promise_rec *p, int64_t lead, int64_t at,
    char *buf, size_t len)
{
	char d[32], a[32];
	size_t i;

	timefmt_duration(lead, d, sizeof(d));
	for (i = 0; p->shifted && i < p->n_asked; i++) {
		if (p->asked[i] == lead)
			break;
		if (conf_business_before(r->ctx->conf, p->owner,
		        p->due_at - p->asked[i]) == at) {
			timefmt_duration(p->asked[i], a, sizeof(a));
			snprintf(buf, len,
			    "nudge %s before the deadline: asked for %s "
			    "before, "
			    "moved into business hours",
			    d, a);
			return;
		}
	}
	snprintf(buf, len, "nudge %s before the deadline", d);
}

/*
 * An escalation that would reach someone outside their business hours
 * waits for the next opening: "held_until" on their entry, and their
 * "local" that time.
 */
static void
hold_escalations(struct req *r, json_t *to, int64_t at)
{
	struct tz_save tz;
	json_t *o;
	int64_t held;
	size_t i;
	char buf[64];

	json_array_foreach(to, i, o) {
		held = deliver_escalation_at(r->ctx->dl,
		    json_string_value(json_object_get(o, "to")), at);
		if (held <= at)
			continue;
		json_object_set_new(o, "held_until", json_integer(held));
		if (tz_enter(
		        &tz, json_string_value(json_object_get(o, "zone"))) < 0)
			continue;
		timefmt_local(held, buf, sizeof(buf));
		tz_leave(&tz);
		json_object_set_new(o, "local", json_string(buf));
	}
}

/* appends stage `stage` of p to out: when, what, why and to whom */
static int
plan_stage(
    struct req *r, const struct promise_rec *p, int32_t stage, json_t *out)
{
	int32_t n = (int32_t)p->n_nudge;
	int64_t at, arg = 0;
	enum sched_notice notice;
	char rule[256], d[32];
	json_t *to, *o;
	int rc;

	sched_stage(p, stage, &at, &notice);
	if (notice == NOTICE_NUDGE) {
		arg = p->nudge[stage];
		nudge_rule(r, p, arg, at, rule, sizeof(rule));
	} else if (notice == NOTICE_DUE) {
		snprintf(rule, sizeof(rule), "due notice at the deadline");
	} else {
		arg = stage - n;
		timefmt_duration(
		    arg == 1 ? p->escalate_after : p->escalation_repeat, d,
		    sizeof(d));
		if (arg == 1)
			snprintf(rule, sizeof(rule),
			    "escalation: %s after the deadline", d);
		else
			snprintf(rule, sizeof(rule),
			    "escalation repeat %" PRId64 ", every %s; up the "
			    "chain one level each %" PRId64 " repeats",
			    arg, d, r->ctx->conf->escalate_up_after);
	}
	if ((to = json_array()) == NULL)
		return -ENOMEM;
	if ((rc = deliver_plan(r->ctx->dl, p, notice, arg, at, to)) < 0) {
		json_decref(to);
		return rc;
	}
	if (notice == NOTICE_ESCALATION)
		hold_escalations(r, to, at);
	add_local_times(to, at);
	o = json_pack("{s:I,s:s,s:s,s:o}", "at", (json_int_t)at, "kind",
	    sched_notice_name(notice), "rule", rule, "to", to);
	return o != NULL && json_array_append_new(out, o) == 0 ? 0 : -ENOMEM;
}

/* every stage still ahead of p, and a few escalation repeats */
json_t *
op_plan(struct req *r, const struct promise_rec *p)
{
	int32_t i, last = (int32_t)p->n_nudge + EXPLAIN_REPEATS;
	json_t *out = json_array();

	for (i = p->stage; out != NULL && i <= last; i++) {
		if (plan_stage(r, p, i, out) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* the schedule of an open promise, as it stands */
enum proto_err
op_explain(struct req *r)
{
	struct json_cb j = {.now = r->now};
	json_t *sched;
	int64_t id;
	enum proto_err e;

	if ((e = op_load_visible(r, &id, &j)) != PROTO_OK)
		return e;
	j.rec.owner = j.owner;
	sched = j.rec.state == PSTATE_OPEN ? op_plan(r, &j.rec) : json_array();
	r->reply = json_pack(
	    "{s:b,s:o,s:o}", "ok", 1, "promise", j.val, "schedule", sched);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* promises one export request returns */
#define EXPORT_PAGE 1000

struct export_cb {
	struct req *r;
	json_t *out;
	int64_t last;
};

static int
export_cb(void *arg, const struct promise_rec *p)
{
	struct export_cb *x = arg;

	x->last = p->id;
	if (!may_act(x->r, p->owner))
		return 0;
	return json_array_append_new(x->out, op_promise_json(p, x->r->now)) == 0
	    ? 0
	    : -ENOMEM;
}

/* every promise the caller may see, a page at a time in id order */
enum proto_err
op_export(struct req *r)
{
	struct export_cb x = {.r = r};
	int64_t after = 0;
	enum proto_err e;
	int rc;

	if ((e = proto_get_int(r->body, "after", false, &after, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (after < 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'after': must be 0 or a promise id");
		return PROTO_INVALID;
	}
	if ((x.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	x.last = after;
	rc = store_export(r->ctx->st, after, EXPORT_PAGE, export_cb, &x);
	if (rc < 0) {
		json_decref(x.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : op_store_failed(r, rc);
	}
	/* a full page read: there may be more after its last id */
	r->reply = json_pack("{s:b,s:o,s:o}", "ok", 1, "promises", x.out,
	    "next", rc == EXPORT_PAGE ? json_integer(x.last) : json_null());
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* ---- report and sample --------------------------------------------------- */

#define REPORT_DEFAULT_SPAN (30 * 86400)
#define SAMPLE_MAX 100

struct scope {
	struct req *r;
	const char *only; /* one owner */
	const char *team; /* a manager and everyone below */
	int64_t since;
	json_t *out;
	int64_t want; /* sample: how many more */
	int64_t *late;
	size_t n_late, cap_late;
};

/* reads since, owner and team, and checks the caller may see them */
static enum proto_err
read_scope(struct req *r, struct scope *sc)
{
	enum proto_err e;
	const char *who;

	sc->since = r->now - REPORT_DEFAULT_SPAN;
	if ((e = proto_get_int(r->body, "since", false, &sc->since, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "owner", false, 64, &sc->only, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "team", false, 64, &sc->team, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (sc->only != NULL && sc->team != NULL) {
		snprintf(r->err, sizeof(r->err),
		    "fields 'owner' and 'team': give one or the other");
		return PROTO_INVALID;
	}
	who = sc->only != NULL ? sc->only : sc->team;
	if (who != NULL && !may_act(r, who)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not see how '%s'%s keeps promises: only they, "
		    "their managers and admins may",
		    r->who->login, who, sc->team != NULL ? "'s team" : "");
		return PROTO_FORBIDDEN;
	}
	return PROTO_OK;
}

/* whether owner's promises are in what the request asks and may see:
 * without a filter, one's own and one's reports' (admins: all) */
static bool
in_scope(const struct scope *sc, const char *owner)
{
	if (sc->only != NULL)
		return strcmp(owner, sc->only) == 0;
	if (sc->team != NULL && strcmp(owner, sc->team) != 0 &&
	    !conf_manages(sc->r->ctx->conf, sc->team, owner))
		return false;
	return may_act(sc->r, owner);
}

static int
late_cb(void *arg, int64_t late)
{
	struct scope *sc = arg;
	int64_t *t;
	size_t cap;

	if (sc->n_late == sc->cap_late) {
		cap = sc->cap_late ? sc->cap_late * 2 : 64;
		if ((t = realloc(sc->late, cap * sizeof(*t))) == NULL)
			return -ENOMEM;
		sc->late = t;
		sc->cap_late = cap;
	}
	sc->late[sc->n_late++] = late;
	return 0;
}

/* the nearest-rank percentile of the ascending lateness list, or null */
static json_t *
percentile(const struct scope *sc, int pct)
{
	size_t k;

	if (sc->n_late == 0)
		return json_null();
	k = (sc->n_late * (size_t)pct + 99) / 100;
	return json_integer(sc->late[k > 0 ? k - 1 : 0]);
}

static int
report_cb(void *arg, const struct report_row *row)
{
	struct scope *sc = arg;
	int64_t due = row->kept_on_time + row->kept_late + row->overdue;
	json_t *o;
	int rc;

	if (!in_scope(sc, row->owner))
		return 0;
	sc->n_late = 0;
	if ((rc = store_report_lateness(
	         sc->r->ctx->st, row->owner, sc->since, late_cb, sc)) < 0)
		return rc;
	o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
	    "owner", row->owner, "made", (json_int_t)row->made, "kept_on_time",
	    (json_int_t)row->kept_on_time, "kept_late",
	    (json_int_t)row->kept_late, "open", (json_int_t)row->open,
	    "overdue", (json_int_t)row->overdue, "cancelled_told",
	    (json_int_t)row->cancelled_told, "cancelled_untold",
	    (json_int_t)row->cancelled_untold, "renegotiated",
	    (json_int_t)row->renegotiated, "snoozes", (json_int_t)row->snoozes,
	    "on_time_rate",
	    due > 0 ? json_real((double)row->kept_on_time / (double)due)
	            : json_null(),
	    "lateness_p50", percentile(sc, 50), "lateness_p90",
	    percentile(sc, 90));
	return o != NULL && json_array_append_new(sc->out, o) == 0 ? 0
	                                                           : -ENOMEM;
}

/*
 * Who keeps their word: per owner, over the promises made since then,
 * how many were kept on time or late, are open or overdue, were cancelled
 * with or without telling the customer, or renegotiated.
 */
enum proto_err
op_report(struct req *r)
{
	struct scope sc = {.r = r};
	enum proto_err e;
	int rc;

	if ((e = read_scope(r, &sc)) != PROTO_OK)
		return e;
	if ((sc.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	rc = store_report(r->ctx->st, sc.since, r->now, report_cb, &sc);
	free(sc.late);
	if (rc < 0) {
		json_decref(sc.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:I,s:o}", "ok", 1, "since",
	    (json_int_t)sc.since, "owners", sc.out);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static int
sample_cb(void *arg, const struct promise_rec *p)
{
	struct scope *sc = arg;
	json_t *events, *o;
	int rc;

	if (!in_scope(sc, p->owner))
		return 0;
	if ((events = json_array()) == NULL)
		return -ENOMEM;
	if ((rc = store_events(sc->r->ctx->st, p->id, op_event_cb, events)) <
	    0) {
		json_decref(events);
		return rc;
	}
	o = json_pack("{s:o,s:o}", "promise", op_promise_json(p, sc->r->now),
	    "events", events);
	if (o == NULL || json_array_append_new(sc->out, o) < 0)
		return -ENOMEM;
	return --sc->want > 0 ? 0 : 1;
}

/* n settled promises at random, with their history: for calling the
 * customer and asking how it went */
enum proto_err
op_sample(struct req *r)
{
	struct scope sc = {.r = r};
	enum proto_err e;
	int rc;

	sc.want = 5;
	if ((e = read_scope(r, &sc)) != PROTO_OK ||
	    (e = proto_get_int(r->body, "n", false, &sc.want, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (sc.want < 1 || sc.want > SAMPLE_MAX) {
		snprintf(r->err, sizeof(r->err),
		    "field 'n': must be from 1 to %d", SAMPLE_MAX);
		return PROTO_INVALID;
	}
	if ((sc.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	if ((rc = store_sample(r->ctx->st, sc.since, sample_cb, &sc)) < 0) {
		json_decref(sc.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "promises", sc.out);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* a manager's weekly digest as of now, as it would be sent, and when the
 * next one goes out */
enum proto_err
op_digest(struct req *r)
{
	const char *team = r->who->login;
	json_t *d = NULL;
	int64_t last, next;
	char week[16];
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "team", false, 64, &team, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (!may_act(r, team)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not see the digest of '%s''s team: only they, "
		    "their managers and admins may",
		    r->who->login, team);
		return PROTO_FORBIDDEN;
	}
	if ((rc = digest_build(r->ctx->st, r->ctx->conf, team, r->now, &d)) < 0)
		return op_store_failed(r, rc);
	rc = digest_slots(
	    r->ctx->conf, r->now, &last, &next, week, sizeof(week));
	r->reply = json_pack("{s:b,s:o,s:o}", "ok", 1, "digest", d, "next",
	    rc == 0 ? json_integer(next) : json_null());
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}
