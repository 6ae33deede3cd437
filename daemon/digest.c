/* SPDX-License-Identifier: MIT */
/*
 * digest.c: the weekly digest per manager (see digest.h).
 *
 * One pass over the open promises due before a week from now and one over
 * the promises that came due in the week before serve every manager at
 * once: each row is counted for every manager up its owner's chain.  The
 * rows and the record of which manager got which week's digest are written
 * in one savepoint of the batch, so a digest is either owed or on its way,
 * and a restart sends exactly the ones owed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "event.h"
#include "log.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define WEEK (7 * 86400)
/* after a failure to write the digests, try again this soon (ms) */
#define RETRY_MS 60000

struct digest {
	struct sched_timer timer;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	const struct conf *c;
};

/* one manager's digest in the making */
struct team {
	const char *manager;        /* borrowed from the configuration */
	bool owed;                  /* sending: not yet written this week */
	json_t *overdue, *due_soon; /* the first DIGEST_LIST of each */
	int64_t n_overdue, n_due_soon;
	/* the week before: {"due", "kept_on_time", "kept_late", "open"}, and
	 * the same per owner, login -> object with "owner" too */
	json_t *last;
	json_t *owners;
};

struct run {
	const struct conf *c;
	int64_t now;
	struct team *t;
	size_t n;
	bool owed_only; /* sending: the teams not owed a digest are skipped */
};

/* ---- when ---------------------------------------------------------------- */

/* "2026-W48": the ISO 8601 week of day (weeks start on Monday, and the
 * first holds the year's first Thursday) */
static void
iso_week(int64_t day, char *buf, size_t len)
{
	int64_t thu = day - (timefmt_weekday(day) + 6) % 7 + 3, y;
	int m, d;

	timefmt_civil_from_days(thu, &y, &m, &d);
	snprintf(buf, len, "%04" PRId64 "-W%02" PRId64, y,
	    (thu - timefmt_days_from_civil(y, 1, 1)) / 7 + 1);
}

int
digest_slots(const struct conf *c, int64_t now, int64_t *ret_last,
    int64_t *ret_next, char *week, size_t weeklen)
{
	struct tz_save tz;
	int64_t day, sod, d, last, next;
	int64_t at = (int64_t)c->digest_minute * 60;
	int r;

	if (c->digest_wday < 0)
		return -ENOENT;
	/* by calendar days and wall-clock times, so DST moves nothing */
	if ((r = tz_enter(&tz, c->calendar_tz)) < 0 ||
	    (r = timefmt_local_date(now, &day, &sod)) < 0)
		goto out;
	d = day - (timefmt_weekday(day) - c->digest_wday + 7) % 7;
	if ((r = timefmt_local_instant(d, at, &last)) < 0)
		goto out;
	if (last > now) {
		d -= 7;
		if ((r = timefmt_local_instant(d, at, &last)) < 0)
			goto out;
	}
	if ((r = timefmt_local_instant(d + 7, at, &next)) < 0)
		goto out;
	*ret_last = last;
	*ret_next = next;
	iso_week(d, week, weeklen);
out:
	tz_leave(&tz);
	return r;
}

/* ---- what ---------------------------------------------------------------- */

static struct team *
team_of(const struct run *run, const char *login)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (strcmp(run->t[i].manager, login) == 0)
			return &run->t[i];
	return NULL;
}

/* the figures of a week: none yet */
static json_t *
tally_new(void)
{
	return json_pack("{s:i,s:i,s:i,s:i}", "due", 0, "kept_on_time", 0,
	    "kept_late", 0, "open", 0);
}

static int
team_add(struct run *run, const char *manager)
{
	struct team *t;

	if (manager == NULL || team_of(run, manager) != NULL)
		return 0;
	if ((t = realloc(run->t, (run->n + 1) * sizeof(*t))) == NULL)
		return -ENOMEM;
	run->t = t;
	t = &run->t[run->n];
	memset(t, 0, sizeof(*t));
	t->manager = manager;
	t->overdue = json_array();
	t->due_soon = json_array();
	t->last = tally_new();
	t->owners = json_object();
	run->n++;
	if (t->overdue == NULL || t->due_soon == NULL || t->last == NULL ||
	    t->owners == NULL)
		return -ENOMEM;
	return 0;
}

/* manager alone, or (NULL) everyone who is someone's manager */
static int
run_init(
    struct run *run, const struct conf *c, const char *manager, int64_t now)
{
	size_t i;
	int r;

	memset(run, 0, sizeof(*run));
	run->c = c;
	run->now = now;
	if (manager != NULL)
		return team_add(run, manager);
	for (i = 0; i < c->n_people; i++)
		if ((r = team_add(
		         run, conf_manager_of(c, c->people[i].login))) < 0)
			return r;
	/* the manager of every owner the configuration does not name */
	return team_add(run, c->fallback_manager);
}

static void
run_free(struct run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++) {
		json_decref(run->t[i].overdue);
		json_decref(run->t[i].due_soon);
		json_decref(run->t[i].last);
		json_decref(run->t[i].owners);
	}
	free(run->t);
	run->t = NULL;
	run->n = 0;
}

/* calls fn for the team of every manager above owner; 0 or -errno */
static int
each_team(struct run *run, const struct promise_rec *p,
    int (*fn)(struct team *t, const struct promise_rec *p, int64_t now))
{
	const char *chain[CONF_MAX_CHAIN];
	size_t n = conf_chain(run->c, p->owner, chain, CONF_MAX_CHAIN), i;
	struct team *t;
	int r;

	for (i = 0; i < n; i++) {
		if ((t = team_of(run, chain[i])) != NULL &&
		    (t->owed || !run->owed_only) &&
		    (r = fn(t, p, run->now)) < 0)
			return r;
	}
	return 0;
}

static int
list_add(json_t *list, int64_t *count, const struct promise_rec *p)
{
	json_t *o;

	if ((*count)++ >= DIGEST_LIST)
		return 0;
	o = json_pack("{s:I,s:s,s:s,s:s?,s:I}", "id", (json_int_t)p->id,
	    "title", p->title, "owner", p->owner, "for", p->for_whom, "due_at",
	    (json_int_t)p->due_at);
	return o != NULL && json_array_append_new(list, o) == 0 ? 0 : -ENOMEM;
}

/* an open promise due before a week from now: overdue, or due soon */
static int
ahead_fn(struct team *t, const struct promise_rec *p, int64_t now)
{
	/* as list's overdue: due at or before now */
	if (p->due_at <= now)
		return list_add(t->overdue, &t->n_overdue, p);
	return list_add(t->due_soon, &t->n_due_soon, p);
}

static int
bump(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_integer_set(v, json_integer_value(v) + 1) == 0 ? 0
	                                                           : -ENOMEM;
}

/* a promise that came due in the week before: on time, late or open */
static int
behind_fn(struct team *t, const struct promise_rec *p, int64_t now)
{
	const char *key = p->state == PSTATE_OPEN ? "open"
	    : p->settled_at <= p->due_at          ? "kept_on_time"
	                                          : "kept_late";
	json_t *o = json_object_get(t->owners, p->owner);

	(void)now;
	if (o == NULL) {
		o = tally_new();
		if (o == NULL ||
		    json_object_set_new(o, "owner", json_string(p->owner)) ||
		    json_object_set_new(t->owners, p->owner, o))
			return -ENOMEM;
	}
	return bump(t->last, "due") < 0 || bump(t->last, key) < 0 ||
	        bump(o, "due") < 0 || bump(o, key) < 0
	    ? -ENOMEM
	    : 0;
}

struct scan {
	struct run *run;
	int (*fn)(struct team *t, const struct promise_rec *p, int64_t now);
};

static int
scan_cb(void *arg, const struct promise_rec *p)
{
	struct scan *sc = arg;

	return each_team(sc->run, p, sc->fn);
}

static int
run_scan(struct run *run, struct store *st)
{
	struct scan ahead = {.run = run, .fn = ahead_fn};
	struct scan behind = {.run = run, .fn = behind_fn};
	int r;

	if ((r = store_due_between(
	         st, false, INT64_MIN, run->now + WEEK, scan_cb, &ahead)) < 0)
		return r;
	/* up to and including now, as overdue has it: a promise due this
	 * very second is overdue and came due in the week before */
	return store_due_between(
	    st, true, run->now - WEEK + 1, run->now + 1, scan_cb, &behind);
}

/* a tally's kept_on_time / due, or null when nothing was due */
static json_t *
rate(const json_t *tally)
{
	json_int_t due = json_integer_value(json_object_get(tally, "due"));
	json_int_t on =
	    json_integer_value(json_object_get(tally, "kept_on_time"));

	return due > 0 ? json_real((double)on / (double)due) : json_null();
}

static int
by_owner(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(json_string_value(json_object_get(x, "owner")),
	    json_string_value(json_object_get(y, "owner")));
}

/* the per-owner tallies, each given its rate, as an array by login */
static json_t *
owners_json(struct team *t)
{
	size_t n = json_object_size(t->owners), i = 0;
	json_t **v = calloc(n + 1, sizeof(*v)), *arr = json_array(), *o;
	const char *key;

	if (v == NULL || arr == NULL)
		goto fail;
	json_object_foreach(t->owners, key, o) {
		json_object_set_new(o, "on_time_rate", rate(o));
		v[i++] = o;
	}
	qsort(v, i, sizeof(*v), by_owner);
	for (n = 0; n < i; n++)
		if (json_array_append(arr, v[n]) < 0)
			goto fail;
	free(v);
	return arr;
fail:
	free(v);
	json_decref(arr);
	return NULL;
}

static json_t *
team_json(const struct run *run, struct team *t, const char *week)
{
	json_t *members = json_array(), *owners = owners_json(t), *o = NULL;
	size_t i;

	if (members == NULL || owners == NULL ||
	    json_object_set_new(
	        t->last, "from", json_integer(run->now - WEEK)) ||
	    json_object_set_new(t->last, "to", json_integer(run->now)) ||
	    json_object_set_new(t->last, "on_time_rate", rate(t->last)) ||
	    json_object_set(t->last, "owners", owners))
		goto out;
	for (i = 0; i < run->c->n_people; i++)
		if (conf_manages(run->c, t->manager, run->c->people[i].login) &&
		    json_array_append_new(
		        members, json_string(run->c->people[i].login)) < 0)
			goto out;
	o = json_pack("{s:s,s:I,s:O,s:{s:I,s:O},s:{s:I,s:I,s:O},s:O}",
	    "manager", t->manager, "at", (json_int_t)run->now, "team", members,
	    "overdue", "count", (json_int_t)t->n_overdue, "promises",
	    t->overdue, "due_this_week", "until", (json_int_t)(run->now + WEEK),
	    "count", (json_int_t)t->n_due_soon, "promises", t->due_soon,
	    "last_week", t->last);
	if (o != NULL && week != NULL &&
	    json_object_set_new(o, "week", json_string(week)) < 0) {
		json_decref(o);
		o = NULL;
	}
out:
	json_decref(members);
	json_decref(owners);
	return o;
}

int
digest_build(struct store *st, const struct conf *c, const char *manager,
    int64_t now, json_t **ret)
{
	struct run run;
	int r;

	*ret = NULL;
	if ((r = run_init(&run, c, manager, now)) < 0 ||
	    (r = run_scan(&run, st)) < 0)
		goto out;
	if ((*ret = team_json(&run, &run.t[0], NULL)) == NULL)
		r = -ENOMEM;
out:
	run_free(&run);
	return r;
}

/* ---- sending ------------------------------------------------------------- */

static void
arm(struct digest *dg, int64_t at_ms)
{
	sched_timer_del(dg->s, &dg->timer);
	sched_timer_add(dg->s, &dg->timer, at_ms);
}

/* writes the digests owed for week as of now; the number written, or
 * -errno */
static int
write_owed(struct digest *dg, const char *week, int64_t now)
{
	struct run run;
	json_t *out = json_array(), *d, *payload;
	size_t i, owed = 0;
	bool sent;
	int r;

	if (out == NULL)
		return -ENOMEM;
	if ((r = run_init(&run, dg->c, NULL, now)) < 0)
		goto out;
	for (i = 0; i < run.n; i++) {
		if ((r = store_digest_was_sent(
		         dg->st, week, run.t[i].manager, &sent)) < 0)
			goto out;
		run.t[i].owed = !sent;
		owed += !sent;
	}
	run.owed_only = true;
	if (owed == 0 || (r = run_scan(&run, dg->st)) < 0)
		goto out;
	for (i = 0; i < run.n && r >= 0; i++) {
		if (!run.t[i].owed)
			continue;
		if ((d = team_json(&run, &run.t[i], week)) == NULL) {
			r = -ENOMEM;
			break;
		}
		payload = json_pack("{s:s,s:I,s:o}", "event",
		    event_type_name(EVENT_DIGEST), "occurred_at",
		    (json_int_t)now, "digest", d);
		if (payload == NULL) {
			r = -ENOMEM;
			break;
		}
		r = deliver_digest(
		    dg->dl, run.t[i].manager, payload, week, out);
		json_decref(payload);
		if (r >= 0)
			r = store_digest_sent(
			    dg->st, week, run.t[i].manager, now);
	}
	if (r >= 0)
		r = (int)owed;
out:
	run_free(&run);
	json_decref(out);
	return r;
}

/* writes, into the batch, the digests owed now, and arms the timer for
 * the next schedule time */
static void
send_owed(struct digest *dg)
{
	struct delivery **mark;
	int64_t now = util_now(), last, next;
	char week[16];
	int r;

	sched_timer_del(dg->s, &dg->timer);
	r = digest_slots(dg->c, now, &last, &next, week, sizeof(week));
	if (r == -ENOENT)
		return; /* no schedule */
	if (r < 0) {
		log_warnx("digest: cannot work out the schedule in zone %s",
		    dg->c->calendar_tz ? dg->c->calendar_tz : "(local)");
		arm(dg, util_now_ms() + RETRY_MS);
		return;
	}
	if ((r = store_begin(dg->st)) < 0 ||
	    (r = store_savepoint(dg->st)) < 0) {
		log_warnx("digest for %s: %s; trying again in %d s", week,
		    store_errmsg(dg->st), RETRY_MS / 1000);
		arm(dg, util_now_ms() + RETRY_MS);
		return;
	}
	mark = deliver_mark(dg->dl);
	r = write_owed(dg, week, now);
	if (r < 0) {
		store_rollback_savepoint(dg->st);
		deliver_unwind(dg->dl, mark);
		log_warnx("digest for %s: %s; trying again in %d s", week,
		    r == -ENOMEM ? "out of memory" : store_errmsg(dg->st),
		    RETRY_MS / 1000);
		arm(dg, util_now_ms() + RETRY_MS);
		return;
	}
	if (store_release(dg->st) < 0)
		log_warnx("digest for %s: %s", week, store_errmsg(dg->st));
	else if (r > 0)
		log_info("digest for %s: written for %d manager%s", week, r,
		    r == 1 ? "" : "s");
	arm(dg, next * 1000);
}

static void
timer_cb(struct sched_timer *t)
{
	send_owed(container_of(t, struct digest, timer));
}

int
digest_open(struct digest **ret, struct store *st, struct sched *s,
    struct deliver *dl, const struct conf *c)
{
	struct digest *dg = calloc(1, sizeof(*dg));

	*ret = NULL;
	if (dg == NULL)
		return -ENOMEM;
	wtimer_init(&dg->timer.wt);
	dg->timer.cb = timer_cb;
	dg->st = st;
	dg->s = s;
	dg->dl = dl;
	dg->c = c;
	send_owed(dg);
	*ret = dg;
	return 0;
}

void
digest_reload(struct digest *dg, const struct conf *c)
{
	dg->c = c;
	send_owed(dg);
}

struct digest *
digest_close(struct digest *dg)
{
	if (dg == NULL)
		return NULL;
	sched_timer_del(dg->s, &dg->timer);
	free(dg);
	return NULL;
}
