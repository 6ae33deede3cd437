/* SPDX-License-Identifier: MIT */
/*
 * agenda.c: the morning agenda (see agenda.h).  Shaped as the digest: a
 * timer on the wheel at the next agenda time of anyone, one pass over the
 * open promises due before the end of the latest day among those owed,
 * and a record per person and day (the digests table, keyed
 * "agenda-2026-12-04") written in the same savepoint as the outbox rows,
 * so a day's agenda is either owed or on its way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agenda.h"
#include "event.h"
#include "log.h"
#include "mailtoken.h"
#include "msglinks.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

/* after a failure to write the agendas, try again this soon (ms) */
#define RETRY_MS 60000

struct agenda {
	struct sched_timer timer;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	const struct conf *c;
};

/* one person's agenda in the making */
struct owed {
	const char *login; /* borrowed from the configuration */
	char key[32];      /* "agenda-2026-12-04" */
	int64_t until;     /* the end of their day */
	json_t *list;
	int64_t count, overdue;
};

struct run {
	const struct conf *c;
	int64_t now;
	struct owed *o;
	size_t n;
};

/* ---- when ---------------------------------------------------------------- */

/*
 * p's agenda times around now, in their zone: *today (today's, which may
 * be ahead), *tomorrow, *until (the end of today); *business whether today
 * is one of their business days, and key the day's record.  0 or -errno.
 */
static int
slots(const struct conf *c, const struct person *p, int64_t now, int64_t *today,
    int64_t *tomorrow, int64_t *until, bool *business, char *key, size_t keylen)
{
	const struct calendar *cal;
	const char *zone;
	struct tz_save tz;
	int64_t day, sod, y, at = (int64_t)p->agenda_minute * 60;
	int m, d, r;

	cal = conf_calendar_of(c, p->login, &zone);
	/* by calendar days and wall-clock times, so DST moves nothing */
	if ((r = tz_enter(&tz, zone)) < 0)
		return r;
	if ((r = timefmt_local_date(now, &day, &sod)) < 0 ||
	    (r = timefmt_local_instant(day, at, today)) < 0 ||
	    (r = timefmt_local_instant(day + 1, at, tomorrow)) < 0 ||
	    (r = timefmt_local_instant(day + 1, 0, until)) < 0)
		goto out;
	*business = calendar_is_business_day(cal, *today);
	timefmt_civil_from_days(day, &y, &m, &d);
	snprintf(key, keylen, "agenda-%04" PRId64 "-%02d-%02d", y, m, d);
out:
	tz_leave(&tz);
	return r;
}

/* ---- what ---------------------------------------------------------------- */

static struct owed *
owed_of(const struct run *run, const char *login)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		if (strcmp(run->o[i].login, login) == 0)
			return &run->o[i];
	return NULL;
}

static int
scan_cb(void *arg, const struct promise_rec *p)
{
	struct run *run = arg;
	struct owed *o = owed_of(run, p->owner);
	json_t *item;

	if (o == NULL || p->due_at >= o->until)
		return 0;
	o->count++;
	o->overdue += p->due_at <= run->now;
	if (o->count > AGENDA_LIST)
		return 0;
	item = json_pack("{s:I,s:s,s:s?,s:I,s:b}", "id", (json_int_t)p->id,
	    "title", p->title, "for", p->for_whom, "due_at",
	    (json_int_t)p->due_at, "overdue", p->due_at <= run->now);
	return item != NULL && json_array_append_new(o->list, item) == 0
	    ? 0
	    : -ENOMEM;
}

/* the agenda payload of o, with each promise's links for o's person */
static json_t *
payload_of(const struct run *run, const struct owed *o)
{
	char raddr[MAILTOKEN_ADDR_MAX];
	json_t *item, *links;
	int64_t id;
	size_t i;

	json_array_foreach(o->list, i, item) {
		id = (int64_t)json_integer_value(json_object_get(item, "id"));
		links = msglinks_for(run->c, id, o->login, EVENT_DUE, run->now);
		if (links != NULL &&
		    json_object_set_new(item, "links", links) < 0)
			return NULL;
		/* replies act on each promise: its own signed address */
		if (mailtoken_address(
		        run->c, id, o->login, raddr, sizeof(raddr)) == 0 &&
		    json_object_set_new(item, "reply_to", json_string(raddr)) <
		        0)
			return NULL;
	}
	return json_pack("{s:s,s:I,s:{s:s,s:s,s:I,s:I,s:I,s:I,s:O}}", "event",
	    event_type_name(EVENT_AGENDA), "occurred_at", (json_int_t)run->now,
	    "agenda", "login", o->login, "day", o->key + strlen("agenda-"),
	    "at", (json_int_t)run->now, "until", (json_int_t)o->until, "count",
	    (json_int_t)o->count, "overdue", (json_int_t)o->overdue, "promises",
	    o->list);
}

/* writes the agendas owed in run; the number sent, or -errno */
static int
write_owed(struct agenda *ag, struct run *run)
{
	json_t *out = json_array(), *payload;
	int64_t until = INT64_MIN;
	size_t i;
	int r = 0, sent = 0;

	if (out == NULL)
		return -ENOMEM;
	for (i = 0; i < run->n; i++)
		if (run->o[i].until > until)
			until = run->o[i].until;
	if ((r = store_due_between(
	         ag->st, false, INT64_MIN, until, scan_cb, run)) < 0)
		goto out;
	for (i = 0; i < run->n && r >= 0; i++) {
		/* nothing due: no message, and the day is done all the same */
		if (run->o[i].count > 0) {
			if ((payload = payload_of(run, &run->o[i])) == NULL) {
				r = -ENOMEM;
				break;
			}
			r = deliver_digest(ag->dl, run->o[i].login, payload,
			    run->o[i].key, out);
			json_decref(payload);
			sent += r >= 0;
		}
		if (r >= 0)
			r = store_digest_sent(
			    ag->st, run->o[i].key, run->o[i].login, run->now);
	}
	if (r >= 0)
		r = sent;
out:
	json_decref(out);
	return r;
}

static void
run_free(struct run *run)
{
	size_t i;

	for (i = 0; i < run->n; i++)
		json_decref(run->o[i].list);
	free(run->o);
}

/* ---- sending ------------------------------------------------------------- */

static void
arm(struct agenda *ag, int64_t at_ms)
{
	sched_timer_del(ag->s, &ag->timer);
	sched_timer_add(ag->s, &ag->timer, at_ms);
}

/*
 * Who is owed an agenda now (their time passed today, a business day, not
 * yet done) into run, and in *next when the next agenda time is.  0 or
 * -errno.
 */
static int
find_owed(struct agenda *ag, struct run *run, int64_t *next)
{
	const struct person *p;
	struct owed *o;
	int64_t today, tomorrow, until;
	bool business, sent;
	char key[32];
	size_t i;
	int r;

	*next = INT64_MAX;
	for (i = 0; i < ag->c->n_people; i++) {
		p = &ag->c->people[i];
		if (!p->has_agenda)
			continue;
		if ((r = slots(ag->c, p, run->now, &today, &tomorrow, &until,
		         &business, key, sizeof(key))) < 0) {
			log_warnx("agenda for %s: cannot work out the day in "
			          "their zone",
			    p->login);
			continue;
		}
		if (today > run->now) {
			*next = today < *next ? today : *next;
			continue;
		}
		*next = tomorrow < *next ? tomorrow : *next;
		if (!business)
			continue;
		if ((r = store_digest_was_sent(ag->st, key, p->login, &sent)) <
		    0)
			return r;
		if (sent)
			continue;
		o = realloc(run->o, (run->n + 1) * sizeof(*o));
		if (o == NULL)
			return -ENOMEM;
		run->o = o;
		o = &run->o[run->n];
		memset(o, 0, sizeof(*o));
		if ((o->list = json_array()) == NULL)
			return -ENOMEM;
		run->n++;
		o->login = p->login;
		o->until = until;
		util_strlcpy(o->key, key, sizeof(o->key));
	}
	return 0;
}

/* writes, into the batch, the agendas owed now, and arms the timer for
 * the next agenda time */
static void
send_owed(struct agenda *ag)
{
	struct run run = {.c = ag->c, .now = util_now()};
	struct delivery **mark;
	int64_t next;
	int r;

	sched_timer_del(ag->s, &ag->timer);
	if ((r = find_owed(ag, &run, &next)) < 0)
		goto retry;
	if (run.n > 0) {
		if ((r = store_begin(ag->st)) < 0 ||
		    (r = store_savepoint(ag->st)) < 0)
			goto retry;
		mark = deliver_mark(ag->dl);
		if ((r = write_owed(ag, &run)) < 0) {
			store_rollback_savepoint(ag->st);
			deliver_unwind(ag->dl, mark);
			goto retry;
		}
		if (store_release(ag->st) < 0)
			log_warnx("agenda: %s", store_errmsg(ag->st));
		else if (r > 0)
			log_info("agenda: written for %d %s", r,
			    r == 1 ? "person" : "people");
	}
	run_free(&run);
	if (next != INT64_MAX)
		arm(ag, next * 1000);
	return;
retry:
	log_warnx("agenda: %s; trying again in %d s",
	    r == -ENOMEM ? "out of memory" : store_errmsg(ag->st),
	    RETRY_MS / 1000);
	run_free(&run);
	arm(ag, util_now_ms() + RETRY_MS);
}

static void
timer_cb(struct sched_timer *t)
{
	send_owed(container_of(t, struct agenda, timer));
}

int
agenda_open(struct agenda **ret, struct store *st, struct sched *s,
    struct deliver *dl, const struct conf *c)
{
	struct agenda *ag = calloc(1, sizeof(*ag));

	*ret = NULL;
	if (ag == NULL)
		return -ENOMEM;
	wtimer_init(&ag->timer.wt);
	ag->timer.cb = timer_cb;
	ag->st = st;
	ag->s = s;
	ag->dl = dl;
	ag->c = c;
	send_owed(ag);
	*ret = ag;
	return 0;
}

void
agenda_reload(struct agenda *ag, const struct conf *c)
{
	ag->c = c;
	send_owed(ag);
}

struct agenda *
agenda_close(struct agenda *ag)
{
	if (ag == NULL)
		return NULL;
	sched_timer_del(ag->s, &ag->timer);
	free(ag);
	return NULL;
}
