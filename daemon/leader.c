/* SPDX-License-Identifier: MIT */
/*
 * leader.c: one daemon fires, the others stand by.  The lock and its
 * epoch are the store's (store_pg_leader.c); this is the daemon's side:
 * a standby tries for the lock every poll, and on winning rebuilds its
 * schedule from the store and takes up the pending outbox, so what came
 * due meanwhile fires now, late, and once (each stage moves only in the
 * commit that fired it).  The leader learns of the others' changes from
 * their notes and, since notes can be lost, from a catch-up every few
 * polls.  A leader that loses its lock stops firing at once and says so.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "leader.h"
#include "leadnote.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* a leader that has not beaten for this many polls is cut off */
#define STALE_POLLS 3
/* a catch-up every this many polls, on the leader */
#define CATCHUP_POLLS 3
/* items of notes applied per loop iteration (a query each), so a flood
 * of notes holds no client up; and queued at most, beyond which a
 * catch-up reads everything instead */
#define WORK_SLICE 32
#define QUEUE_MAX 65536

struct leader {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	ev_io io;
	ev_timer poll;
	ev_timer work;           /* the queue not yet applied */
	struct leadnote_item *q; /* a ring */
	size_t q_head, q_n, q_cap;
	ev_tstamp caught_up; /* the last catch-up */
	double stale_s;      /* a leader silent this long is cut off */
	bool leads;
	bool warned;        /* the lock's connection failing, said once */
	bool queue_warned;  /* the notes' queue filling, said once */
	bool catch_up;      /* a note said "everything" */
	int polls;          /* since the last catch-up */
	int64_t seen_epoch; /* the last leader a standby saw, to say so once */
	struct store_leadership prev;
	void (*lost)(void *arg);
	void *arg;
};

static void
arm_cb(void *arg, const struct promise_rec *p)
{
	struct leader *l = arg;

	if (p->state != PSTATE_OPEN)
		sched_cancel(l->s, p->id);
	else if (sched_arm(l->s, p) < 0)
		log_warnx(
		    "promise %" PRId64 ": out of memory scheduling it", p->id);
}

static void
apply(struct leader *l, const struct leadnote_item *it)
{
	int r;

	if (it->kind == 'p') {
		r = store_get(l->st, it->id, arm_cb, l);
		if (r == -ENOENT)
			sched_cancel(l->s, it->id);
		else if (r < 0) {
			log_warnx("promise %" PRId64 " changed elsewhere: %s; "
			          "caught up later",
			    it->id, store_errmsg(l->st));
			l->catch_up = true;
		}
	} else if (l->leads && deliver_adopt(l->dl, it->uid) < 0) {
		log_warnx("delivery %s written elsewhere: %s; taken up later",
		    it->uid, store_errmsg(l->st));
		l->catch_up = true;
	}
}

static int
enqueue(struct leader *l, const struct leadnote_item *it)
{
	struct leadnote_item *q;
	size_t cap, i;

	if (l->q_n == l->q_cap) {
		if (l->q_cap >= QUEUE_MAX)
			return -ENOSPC;
		cap = l->q_cap ? l->q_cap * 2 : 64;
		if ((q = malloc(cap * sizeof(*q))) == NULL)
			return -ENOMEM;
		for (i = 0; i < l->q_n; i++)
			q[i] = l->q[(l->q_head + i) % l->q_cap];
		free(l->q);
		l->q = q;
		l->q_cap = cap;
		l->q_head = 0;
	}
	l->q[(l->q_head + l->q_n++) % l->q_cap] = *it;
	return 0;
}

static void
item_cb(void *arg, const struct leadnote_item *it)
{
	struct leader *l = arg;

	/* a standby reads everything again when it leads, not before */
	if (it->kind == '*')
		l->catch_up = l->leads;
	else if (enqueue(l, it) < 0)
		l->catch_up = l->leads;
}

static void
note_cb(void *arg, const char *note)
{
	log_debug("note from another daemon: %.80s%s", note,
	    strlen(note) > 80 ? "..." : "");
	leadnote_each(note, item_cb, arg);
}

/* the leader's schedule and outbox made whole again from the store */
static void
catch_up(struct leader *l)
{
	int64_t open;
	int r;

	/* a standby reads everything again when it leads */
	if (!l->leads) {
		l->catch_up = false;
		return;
	}
	/* within a batch its own changes would be read as committed */
	if (store_in_txn(l->st))
		return;
	l->caught_up = ev_now(l->loop);
	l->polls = 0;
	l->catch_up = false;
	if ((r = store_count_open(l->st, &open)) == 0 &&
	    (size_t)open != sched_count(l->s)) {
		log_info("catching up: %" PRId64 " open promises, %zu on the "
		         "schedule; reloading it",
		    open, sched_count(l->s));
		r = sched_reload(l->s);
	}
	if (r == 0)
		r = deliver_adopt_pending(l->dl);
	if (r < 0) {
		log_warnx("catching up: %s",
		    r == -ENOMEM ? "out of memory" : store_errmsg(l->st));
		l->catch_up = true;
	}
}

static void
watch(struct leader *l)
{
	int fd = store_lead_fd(l->st);

	if (ev_is_active(&l->io) && l->io.fd == fd)
		return;
	ev_io_stop(l->loop, &l->io);
	if (fd >= 0) {
		ev_io_set(&l->io, fd, EV_READ);
		ev_io_start(l->loop, &l->io);
	}
}

static void
promote(struct leader *l, bool at_start)
{
	struct store_leadership me;
	char why[256];
	int r;

	l->leads = true;
	if (l->prev.epoch > 0)
		snprintf(why, sizeof(why),
		    "the lock of the leader before (%s, pid %" PRId64
		    ", epoch %" PRId64 ") was free: its session ended",
		    l->prev.host, l->prev.pid, l->prev.epoch);
	else
		snprintf(why, sizeof(why), "no other daemon held the lock");
	if (store_leadership(l->st, &me) < 0)
		me.epoch = 0;
	log_info("leader at epoch %" PRId64 ": %s", me.epoch, why);
	deliver_set_standby(l->dl, false);
	sched_set_active(l->s, true);
	if (at_start)
		return;
	/* after the epoch is ours: whatever the last leader fired is
	 * committed by now, or can no longer be */
	if ((r = sched_reload(l->s)) < 0 ||
	    (r = deliver_adopt_pending(l->dl)) < 0) {
		log_warnx("loading the schedule as leader: %s; caught up "
		          "later",
		    r == -ENOMEM ? "out of memory" : store_errmsg(l->st));
		l->catch_up = true;
	}
	log_info("leading: %zu open promises on the schedule, %zu "
	         "deliveries pending",
	    sched_count(l->s), deliver_pending(l->dl));
}

static void
try_lead(struct leader *l, bool at_start)
{
	int r;

	if (!l->leads && store_leadership(l->st, &l->prev) < 0)
		memset(&l->prev, 0, sizeof(l->prev));
	r = store_lead(l->st, l->stale_s);
	if (r == 2) {
		/* a leader hung with its session alive: cut off, and the
		 * lock is free for this try */
		log_warnx("standby: %s; taking the lead", store_errmsg(l->st));
		r = store_lead(l->st, 0);
	}
	watch(l);
	if (r < 0) {
		if (!l->warned)
			log_warnx("cannot try for the lead: %s; trying again "
			          "every poll",
			    store_errmsg(l->st));
		l->warned = true;
		return;
	}
	l->warned = false;
	if (r == 1 && !l->leads) {
		promote(l, at_start);
		return;
	}
	if (r == 0 && l->prev.epoch != l->seen_epoch) {
		l->seen_epoch = l->prev.epoch;
		log_info("standby: %s (pid %" PRId64 ") leads at epoch "
		         "%" PRId64,
		    l->prev.host, l->prev.pid, l->prev.epoch);
	}
}

static void
lose(struct leader *l)
{
	/* first of all: nothing more fires here */
	sched_set_active(l->s, false);
	deliver_set_standby(l->dl, true);
	l->leads = false;
	log_errorx("lost the leader's lock (%s): stopped firing; another "
	           "daemon takes the lead",
	    store_errmsg(l->st));
	ev_timer_stop(l->loop, &l->poll);
	l->lost(l->arg);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct leader *l = w->data;

	(void)revents;
	if (store_lead_input(l->st, note_cb, l) < 0) {
		ev_io_stop(loop, w);
		if (l->leads)
			lose(l);
		else
			log_warnx("standby: %s; connecting again at the next "
			          "poll",
			    store_errmsg(l->st));
		return;
	}
	if (!ev_is_active(&l->work))
		ev_timer_start(loop, &l->work);
}

/* the queue applied a slice at a time, a slice per loop iteration */
static void
work_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct leader *l = w->data;
	size_t i;

	(void)revents;
	for (i = 0; i < WORK_SLICE && l->q_n > 0; i++) {
		apply(l, &l->q[l->q_head]);
		l->q_head = (l->q_head + 1) % l->q_cap;
		l->q_n--;
	}
	if (l->q_n > 0) {
		ev_timer_start(loop, w);
		return;
	}
	/* at most once a poll: at a million promises a reload takes a
	 * second or two */
	if (l->catch_up && ev_now(loop) - l->caught_up >= l->poll.repeat)
		catch_up(l);
}

/* said when the queue of notes fills past half, and again once it has
 * come down */
static void
warn_queue(struct leader *l)
{
	struct store_leadership me;

	if (store_leadership(l->st, &me) < 0)
		return;
	if (me.queue_usage >= 0.5 && !l->queue_warned) {
		log_warnx("PostgreSQL's queue of notes is %.0f%% full: a "
		          "daemon on this database has stopped reading them "
		          "(stopped or hung?); when it is full, every commit "
		          "fails",
		    me.queue_usage * 100);
		l->queue_warned = true;
	} else if (me.queue_usage < 0.25 && l->queue_warned) {
		log_info("PostgreSQL's queue of notes is %.0f%% full again",
		    me.queue_usage * 100);
		l->queue_warned = false;
	}
}

static void
poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct leader *l = w->data;

	(void)loop;
	(void)revents;
	if (!l->leads) {
		try_lead(l, false);
		return;
	}
	/* the beat, which also finds a connection gone */
	if (store_lead(l->st, 0) < 0) {
		lose(l);
		return;
	}
	warn_queue(l);
	if (l->catch_up || ++l->polls >= CATCHUP_POLLS)
		catch_up(l);
}

int
leader_open(struct leader **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, struct deliver *dl, double poll_s, void (*lost)(void *arg),
    void *arg)
{
	struct leader *l = calloc(1, sizeof(*l));

	*ret = NULL;
	if (l == NULL)
		return -ENOMEM;
	l->loop = loop;
	l->st = st;
	l->s = s;
	l->dl = dl;
	l->lost = lost;
	l->arg = arg;
	ev_io_init(&l->io, io_cb, -1, EV_READ);
	l->io.data = l;
	l->stale_s = STALE_POLLS * poll_s;
	ev_timer_init(&l->poll, poll_cb, poll_s, poll_s);
	l->poll.data = l;
	ev_timer_init(&l->work, work_cb, 0., 0.);
	l->work.data = l;
	/* a standby until the lock says otherwise */
	sched_set_active(s, false);
	deliver_set_standby(dl, true);
	try_lead(l, true);
	ev_timer_start(loop, &l->poll);
	*ret = l;
	return 0;
}

bool
leader_leads(const struct leader *l)
{
	return l != NULL && l->leads;
}

struct leader *
leader_close(struct leader *l)
{
	if (l == NULL)
		return NULL;
	ev_io_stop(l->loop, &l->io);
	ev_timer_stop(l->loop, &l->poll);
	ev_timer_stop(l->loop, &l->work);
	free(l->q);
	free(l);
	return NULL;
}
