/* SPDX-License-Identifier: MIT */
/*
 * sched.c: when each open promise next needs attention.
 *
 * A promise's schedule is a sequence of stages: one nudge per lead time
 * (earliest first), the due notice at the deadline, then escalations at
 * due + escalate_after, repeated every escalation_repeat while it stays
 * open.  The store keeps each promise's next stage; in memory an open
 * promise costs one small item (id, stage, wheel links) in a timing wheel
 * and an id map.  Titles and notes stay in SQLite and are read only when a
 * stage fires.  The wheel runs on wall-clock milliseconds, pumped by one
 * ev_periodic in absolute mode, so clock steps never make a stage early.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "idmap.h"
#include "jsonw.h"
#include "log.h"
#include "sched.h"
#include "util.h"

/* an open promise on the schedule */
struct pitem {
	struct wtimer wt;
	int64_t id;
	int32_t stage;
	bool overdue; /* armed for an escalation: its due notice went out */
};

/* stages fired per loop iteration: a burst of due promises is worked off
 * in slices, each committed on its own, so that clients are answered and
 * deliveries start in between */
#define FIRE_SLICE 256
/* and for at most this long, checked every FIRE_CHECK stages: a stage
 * costs tens of microseconds (a promise read, its history, the outbox
 * rows and their rendering), so 256 of them kept every client waiting
 * for over ten milliseconds */
#define FIRE_BUDGET_MS 1
#define FIRE_CHECK 16

/*
 * Items come from chunks of the pool rather than one malloc each: at a
 * million open promises the allocator's per-block header and rounding
 * would add a fifth to the RAM per promise, and freeing them one by one
 * made shutdown slow.  A free item sits on the free list by wt.next.
 */
#define POOL_CHUNK 4096
struct pchunk {
	struct pchunk *next;
	struct pitem items[POOL_CHUNK];
};

struct sched {
	struct ev_loop *loop;
	struct store *st;
	struct sched_outbox ob;
	struct wheel *pw; /* promise items */
	struct wheel *tw; /* sched_timers of other modules */
	struct idmap items;
	struct pchunk *chunks;
	struct pitem *free_items;
	size_t n_overdue;
	ev_periodic timer;
	int64_t armed_ms; /* when the watcher fires, or -1 */
	/* ids changed in the open batch, to restore if it rolls back */
	int64_t *touched;
	size_t n_touched, cap_touched;
	struct sched_lateness late;
	/* false on a standby of a shared store: nothing fires, neither
	 * stages nor other modules' timers, until it leads */
	bool active;
};

const int64_t sched_lateness_bounds_ms[SCHED_LATENESS_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

/* how long to wait before retrying a stage whose write failed */
#define FIRE_RETRY_MS 5000

static const char *const notice_names[NOTICE_MAX] = {
    [NOTICE_NUDGE] = "nudge",
    [NOTICE_DUE] = "due",
    [NOTICE_ESCALATION] = "escalation",
};

const char *
sched_notice_name(enum sched_notice k)
{
	return (unsigned)k < NOTICE_MAX ? notice_names[k] : "invalid";
}

static int64_t
pitem_key(const void *item)
{
	return ((const struct pitem *)item)->id;
}

void
sched_stage(const struct promise_rec *p, int32_t stage, int64_t *ret_at,
    enum sched_notice *ret_notice)
{
	int32_t n = (int32_t)p->n_nudge;

	if (stage < n) {
		*ret_at = p->due_at - p->nudge[stage];
		*ret_notice = NOTICE_NUDGE;
	} else if (stage == n) {
		*ret_at = p->due_at;
		*ret_notice = NOTICE_DUE;
	} else {
		*ret_at = p->due_at + p->escalate_after +
		    (int64_t)(stage - n - 1) * p->escalation_repeat;
		*ret_notice = NOTICE_ESCALATION;
	}
}

int32_t
sched_first_stage(const struct promise_rec *p, int64_t now)
{
	int32_t k, n = (int32_t)p->n_nudge;

	for (k = 0; k < n; k++)
		if (p->due_at - p->nudge[k] > now)
			break;
	return k;
}

/* the last stage whose time is at or before now (-1 if none) */
static int32_t
last_passed(const struct promise_rec *p, int64_t now)
{
	int32_t n = (int32_t)p->n_nudge;
	int64_t esc0 = p->due_at + p->escalate_after, j;
	int32_t k;

	if (now >= esc0) {
		j = p->escalation_repeat > 0
		    ? (now - esc0) / p->escalation_repeat
		    : 0;
		if (j > INT32_MAX - n - 2)
			j = INT32_MAX - n - 2;
		return n + 1 + (int32_t)j;
	}
	if (now >= p->due_at)
		return n;
	for (k = n - 1; k >= 0; k--)
		if (p->due_at - p->nudge[k] <= now)
			return k;
	return -1;
}

static void
touch(struct sched *s, int64_t id)
{
	int64_t *t;

	if (s->n_touched == s->cap_touched) {
		size_t cap = s->cap_touched ? s->cap_touched * 2 : 64;

		t = realloc(s->touched, cap * sizeof(*t));
		if (t == NULL) {
			/* without the note a rollback cannot restore this
			 * timer; the next restart rebuilds it from the store */
			log_warnx(
			    "sched: out of memory noting promise %" PRId64, id);
			return;
		}
		s->touched = t;
		s->cap_touched = cap;
	}
	s->touched[s->n_touched++] = id;
}

/* re-slots everything if the wall clock went back, so that nothing added
 * from now on lands behind the wheel's clock and fires early */
static void
check_clock(struct sched *s, int64_t now_ms)
{
	if ((uint64_t)now_ms >= wheel_now(s->pw))
		return;
	log_warnx("wall clock stepped back by %" PRIu64 " ms; rescheduling",
	    wheel_now(s->pw) - (uint64_t)now_ms);
	wheel_rebase(s->pw, (uint64_t)now_ms);
	wheel_rebase(s->tw, (uint64_t)now_ms);
}

static int64_t
stage_ms(const struct promise_rec *p, int32_t stage)
{
	int64_t at;
	enum sched_notice notice;

	sched_stage(p, stage, &at, &notice);
	return at * 1000;
}

/* the free list's head as a wt.next link */
static struct wtimer *
free_link(struct sched *s)
{
	return s->free_items != NULL ? &s->free_items->wt : NULL;
}

static struct pitem *
item_alloc(struct sched *s, int64_t id)
{
	struct pchunk *c;
	struct pitem *it;
	size_t i;

	if (s->free_items == NULL) {
		if ((c = malloc(sizeof(*c))) == NULL)
			return NULL;
		c->next = s->chunks;
		s->chunks = c;
		/* threaded so that items are handed out in address order */
		for (i = POOL_CHUNK; i-- > 0;) {
			c->items[i].wt.next = free_link(s);
			s->free_items = &c->items[i];
		}
	}
	it = s->free_items;
	s->free_items = it->wt.next != NULL
	    ? container_of(it->wt.next, struct pitem, wt)
	    : NULL;
	wtimer_init(&it->wt);
	it->id = id;
	it->stage = 0;
	it->overdue = false;
	return it;
}

static void
item_free(struct sched *s, struct pitem *it)
{
	it->wt.next = free_link(s);
	s->free_items = it;
}

/* it now waits for p's stage p->stage */
static void
set_stage(struct sched *s, struct pitem *it, const struct promise_rec *p)
{
	bool overdue = p->stage > (int32_t)p->n_nudge;

	it->stage = p->stage;
	if (overdue != it->overdue) {
		if (overdue)
			s->n_overdue++;
		else
			s->n_overdue--;
		it->overdue = overdue;
	}
}

/* a new item for p, known not to be on the schedule yet */
static int
add_item(struct sched *s, const struct promise_rec *p)
{
	struct pitem *it = item_alloc(s, p->id);
	int64_t at = stage_ms(p, p->stage);

	if (it == NULL)
		return -ENOMEM;
	if (idmap_put(&s->items, it) < 0) {
		item_free(s, it);
		return -ENOMEM;
	}
	set_stage(s, it, p);
	wheel_add(s->pw, &it->wt, at < 0 ? 0 : (uint64_t)at);
	return 0;
}

static int
arm_item(struct sched *s, const struct promise_rec *p)
{
	struct pitem *it = idmap_get(&s->items, p->id);
	int64_t at;

	if (it == NULL)
		return add_item(s, p);
	at = stage_ms(p, p->stage);
	set_stage(s, it, p);
	wheel_add(s->pw, &it->wt, at < 0 ? 0 : (uint64_t)at);
	return 0;
}

static void
drop_item(struct sched *s, int64_t id)
{
	struct pitem *it = idmap_del(&s->items, id);

	if (it == NULL)
		return;
	wheel_del(s->pw, &it->wt);
	if (it->overdue)
		s->n_overdue--;
	item_free(s, it);
}

int
sched_arm(struct sched *s, const struct promise_rec *p)
{
	check_clock(s, util_now_ms());
	touch(s, p->id);
	return arm_item(s, p);
}

void
sched_cancel(struct sched *s, int64_t id)
{
	touch(s, id);
	drop_item(s, id);
}

static int
load_cb(void *arg, const struct promise_rec *p)
{
	return add_item(arg, p);
}

int
sched_load(struct sched *s)
{
	int64_t n;
	int r;

	check_clock(s, util_now_ms());
	/* the map sized once, not doubled (and rehashed) twenty times */
	if ((r = store_count_open(s->st, &n)) < 0 ||
	    (r = idmap_reserve(&s->items, (size_t)n)) < 0)
		return r;
	return store_foreach_open(s->st, load_cb, s);
}

struct fire {
	struct sched *s;
	struct pitem *it;
	int64_t now_ms;
	int r;
	bool open;
	/* lateness of the stages emitted (at most a nudge, the due notice
	 * and an escalation), observed once their savepoint is released */
	int64_t late_ms[3];
	size_t n_late;
};

static void
observe_lateness(struct sched *s, int64_t ms)
{
	size_t i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < SCHED_LATENESS_BUCKETS; i++)
		if (ms <= sched_lateness_bounds_ms[i])
			s->late.le[i]++;
	s->late.count++;
	s->late.sum_ms += (uint64_t)ms;
}

/* records one schedule event in history and the outbox */
static int
emit(struct fire *f, const struct promise_rec *p, int32_t stage)
{
	int64_t at, arg = 0, now = f->now_ms / 1000;
	enum sched_notice notice;
	json_t *out = json_array();
	struct jsonw d = {NULL, 0, 0, false};
	int r;

	sched_stage(p, stage, &at, &notice);
	if (notice == NOTICE_NUDGE)
		arg = p->nudge[stage];
	else if (notice == NOTICE_ESCALATION)
		arg = stage - (int32_t)p->n_nudge;
	if (out == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = f->s->ob.event(f->s->ob.ctx, p, notice, arg, now, out)) < 0)
		goto out;
	/* written by hand, as json_dumps wrote it: one per firing */
	jw_lit(&d, "{\"scheduled_at\":");
	jw_int(&d, at);
	jw_lit(&d, ",\"late_ms\":");
	jw_int(&d, f->now_ms - at * 1000);
	jw_lit(&d, ",\"deliveries\":");
	jw_tree(&d, out);
	if (notice != NOTICE_DUE) {
		jw_lit(
		    &d, notice == NOTICE_NUDGE ? ",\"lead\":" : ",\"repeat\":");
		jw_int(&d, arg);
	}
	jw_put(&d, "}", 1);
	r = d.oom ? -ENOMEM
	          : store_event(f->s->st, p->id, now, "promised",
	                sched_notice_name(notice), d.s);
	if (r == 0 && f->n_late < ARRAY_SIZE(f->late_ms))
		f->late_ms[f->n_late++] = f->now_ms - at * 1000;
out:
	free(d.s);
	json_decref(out);
	return r;
}

static void
fire_cb(void *arg, const struct promise_rec *p)
{
	struct fire *f = arg;
	int64_t now = f->now_ms / 1000;
	int32_t last, n = (int32_t)p->n_nudge;
	struct promise_rec next;
	void *mark;
	size_t i;
	int r;

	f->open = p->state == PSTATE_OPEN;
	if (!f->open)
		return;
	last = last_passed(p, now);
	if (last < p->stage) {
		/* not yet due: the wheel only ever fires late, so this is a
		 * stage changed under it; re-arm for the right time */
		f->r = arm_item(f->s, p);
		return;
	}
	if ((r = store_savepoint(f->s->st)) < 0)
		goto out;
	mark = f->s->ob.mark(f->s->ob.ctx);
	/* After downtime several stages may have passed at once: only the
	 * latest nudge is worth sending, and only while the deadline is
	 * ahead; the due notice and the latest escalation go out once. */
	if (last < n && p->due_at > now)
		r = emit(f, p, last);
	else
		r = 0;
	if (r == 0 && p->stage <= n && last >= n)
		r = emit(f, p, n);
	if (r == 0 && last > n)
		r = emit(f, p, last);
	if (r == 0)
		r = store_set_stage(f->s->st, p->id, last + 1);
	if (r == 0)
		r = store_release(f->s->st);
	if (r < 0) {
		store_rollback_savepoint(f->s->st);
		f->s->ob.unwind(f->s->ob.ctx, mark);
		goto out;
	}
	for (i = 0; i < f->n_late; i++)
		observe_lateness(f->s, f->late_ms[i]);
	next = *p;
	next.stage = last + 1;
	touch(f->s, p->id);
	r = arm_item(f->s, &next);
out:
	f->r = r;
}

static void
fire(struct sched *s, struct pitem *it, int64_t now_ms)
{
	struct fire f = {.s = s, .it = it, .now_ms = now_ms};
	int64_t id = it->id;
	int r;

	r = store_get(s->st, id, fire_cb, &f);
	if (r == -ENOENT || (r == 0 && !f.open)) {
		drop_item(s, id);
		return;
	}
	if (r == 0)
		r = f.r;
	if (r < 0) {
		log_warnx("promise %" PRId64 ": cannot record its schedule "
		          "event: %s; retrying in %d s",
		    id, store_errmsg(s->st), FIRE_RETRY_MS / 1000);
		if (!wtimer_pending(&it->wt))
			wheel_add(
			    s->pw, &it->wt, (uint64_t)(now_ms + FIRE_RETRY_MS));
	}
}

static void
run(struct sched *s)
{
	int64_t now_ms = util_now_ms();
	struct wtimer *wt;
	int n;
	struct sched_timer *t;

	check_clock(s, now_ms);
	wheel_update(s->pw, (uint64_t)now_ms);
	wheel_update(s->tw, (uint64_t)now_ms);
	while ((wt = wheel_get(s->tw)) != NULL) {
		t = container_of(wt, struct sched_timer, wt);
		t->cb(t);
	}
	/* the rest stay expired: wheel_timeout() says 0, so the watcher
	 * comes back at the next iteration */
	for (n = 0; n < FIRE_SLICE && (wt = wheel_get(s->pw)) != NULL;) {
		fire(s, container_of(wt, struct pitem, wt), now_ms);
		if (++n % FIRE_CHECK == 0 &&
		    util_now_ms() - now_ms >= FIRE_BUDGET_MS)
			break;
	}
}

static void
periodic_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct sched *s = w->data;

	(void)loop;
	(void)revents;
	s->armed_ms = -1;
	if (s->active)
		run(s);
}

void
sched_rearm(struct sched *s)
{
	uint64_t a = wheel_timeout(s->pw), b = wheel_timeout(s->tw);
	uint64_t t = a < b ? a : b;
	int64_t at;

	if (t == UINT64_MAX || !s->active) {
		ev_periodic_stop(s->loop, &s->timer);
		s->armed_ms = -1;
		return;
	}
	at = (int64_t)(wheel_now(s->pw) + t);
	if (at == s->armed_ms && ev_is_active(&s->timer))
		return;
	ev_periodic_stop(s->loop, &s->timer);
	/* half a millisecond past the due ms: a double cannot make a stage
	 * fire before its time */
	ev_periodic_set(&s->timer, ((double)at + 0.5) / 1000.0, 0., 0);
	ev_periodic_start(s->loop, &s->timer);
	s->armed_ms = at;
}

static void
restore_cb(void *arg, const struct promise_rec *p)
{
	struct sched *s = arg;

	if (p->state != PSTATE_OPEN)
		drop_item(s, p->id);
	else if (arm_item(s, p) < 0)
		log_warnx("promise %" PRId64 ": out of memory restoring its "
		          "timer",
		    p->id);
}

void
sched_after_commit(struct sched *s, bool ok)
{
	size_t i;
	int r;

	if (!ok) {
		for (i = 0; i < s->n_touched; i++) {
			r = store_get(s->st, s->touched[i], restore_cb, s);
			if (r == -ENOENT)
				drop_item(s, s->touched[i]);
			else if (r < 0)
				log_warnx("promise %" PRId64 ": cannot restore "
				          "its timer: %s",
				    s->touched[i], store_errmsg(s->st));
		}
	}
	s->n_touched = 0;
}

void
sched_timer_add(struct sched *s, struct sched_timer *t, int64_t at_ms)
{
	check_clock(s, util_now_ms());
	wheel_add(s->tw, &t->wt, at_ms < 0 ? 0 : (uint64_t)at_ms);
}

void
sched_timer_del(struct sched *s, struct sched_timer *t)
{
	wheel_del(s->tw, &t->wt);
}

size_t
sched_count(const struct sched *s)
{
	return s->items.count;
}

size_t
sched_overdue(const struct sched *s)
{
	return s->n_overdue;
}

const struct sched_lateness *
sched_lateness(const struct sched *s)
{
	return &s->late;
}

int
sched_open(struct sched **ret, struct ev_loop *loop, struct store *st)
{
	struct sched *s;
	uint64_t now = (uint64_t)util_now_ms();
	int r;

	*ret = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->loop = loop;
	s->st = st;
	s->armed_ms = -1;
	s->active = true;
	idmap_init(&s->items, pitem_key);
	if ((r = wheel_open(&s->pw, now)) < 0 ||
	    (r = wheel_open(&s->tw, now)) < 0) {
		sched_close(s);
		return r;
	}
	ev_periodic_init(&s->timer, periodic_cb, 0., 0., 0);
	s->timer.data = s;
	*ret = s;
	return 0;
}

void
sched_set_outbox(struct sched *s, const struct sched_outbox *ob)
{
	s->ob = *ob;
}

void
sched_set_active(struct sched *s, bool active)
{
	s->active = active;
	if (!active) {
		ev_periodic_stop(s->loop, &s->timer);
		s->armed_ms = -1;
	}
}

bool
sched_active(const struct sched *s)
{
	return s->active;
}

static void
drop_all(struct sched *s)
{
	struct pchunk *c;

	/* the wheel's links go with the items: a new wheel, not unlinked
	 * one by one */
	s->pw = wheel_close(s->pw);
	while ((c = s->chunks) != NULL) {
		s->chunks = c->next;
		free(c);
	}
	s->free_items = NULL;
	idmap_done(&s->items);
	idmap_init(&s->items, pitem_key);
	s->n_overdue = 0;
	s->n_touched = 0;
}

int
sched_reload(struct sched *s)
{
	int r;

	drop_all(s);
	if ((r = wheel_open(&s->pw, (uint64_t)util_now_ms())) < 0)
		return r;
	return sched_load(s);
}

struct sched *
sched_close(struct sched *s)
{
	struct pchunk *c;

	if (s == NULL)
		return NULL;
	ev_periodic_stop(s->loop, &s->timer);
	s->pw = wheel_close(s->pw);
	s->tw = wheel_close(s->tw);
	while ((c = s->chunks) != NULL) {
		s->chunks = c->next;
		free(c);
	}
	idmap_done(&s->items);
	free(s->touched);
	free(s);
	return NULL;
}
