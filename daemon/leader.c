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
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* a catch-up every this many polls, on the leader */
#define CATCHUP_POLLS 3

struct leader {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	ev_io io;
	ev_timer poll;
	bool leads;
	bool warned;        /* the lock's connection failing, said once */
	bool catch_up;      /* a note said "everything" */
	int polls;          /* since the last catch-up */
	int64_t seen_epoch; /* the last leader a standby saw, to say so once */
	struct store_leadership prev;
	void (*lost)(void *arg);
	void *arg;
};

void
leader_note_each(const char *note,
    void (*cb)(void *arg, const struct leader_note_item *it), void *arg)
{
	struct leader_note_item it;
	const char *p = note, *end;
	size_t n, i;
	bool ok;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		memset(&it, 0, sizeof(it));
		it.kind = n > 0 ? p[0] : '\0';
		ok = false;
		if (it.kind == '*' && n == 1)
			ok = true;
		else if (it.kind == 'p' && n >= 2 && n <= 19) {
			ok = true;
			for (i = 1; i < n; i++) {
				if (p[i] < '0' || p[i] > '9')
					ok = false;
				else
					it.id = it.id * 10 + (p[i] - '0');
			}
			ok = ok && it.id > 0;
		} else if (it.kind == 'd' && n == 33) {
			ok = true;
			for (i = 1; i < n; i++)
				if (!((p[i] >= '0' && p[i] <= '9') ||
				        (p[i] >= 'a' && p[i] <= 'f')))
					ok = false;
			memcpy(it.uid, p + 1, 32);
		}
		if (ok)
			cb(arg, &it);
		p = end;
	}
}

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
item_cb(void *arg, const struct leader_note_item *it)
{
	struct leader *l = arg;
	int r;

	switch (it->kind) {
	case '*':
		l->catch_up = true;
		break;
	case 'p':
		r = store_get(l->st, it->id, arm_cb, l);
		if (r == -ENOENT)
			sched_cancel(l->s, it->id);
		else if (r < 0) {
			log_warnx("promise %" PRId64 " changed elsewhere: %s; "
			          "caught up later",
			    it->id, store_errmsg(l->st));
			l->catch_up = true;
		}
		break;
	case 'd':
		if (l->leads && deliver_adopt(l->dl, it->uid) < 0) {
			log_warnx("delivery %s written elsewhere: %s; taken "
			          "up later",
			    it->uid, store_errmsg(l->st));
			l->catch_up = true;
		}
		break;
	}
}

static void
note_cb(void *arg, const char *note)
{
	log_debug("note from another daemon: %.80s%s", note,
	    strlen(note) > 80 ? "..." : "");
	leader_note_each(note, item_cb, arg);
}

/* the leader's schedule and outbox made whole again from the store */
static void
catch_up(struct leader *l)
{
	int64_t open;
	int r;

	/* within a batch its own changes would be read as committed */
	if (store_in_txn(l->st))
		return;
	l->polls = 0;
	l->catch_up = false;
	if ((r = store_count_open(l->st, &open)) == 0 &&
	    (size_t)open != sched_count(l->s)) {
		log_info("catching up: %" PRId64 " open promises, %zu on the "
		         "schedule; reloading it",
		    open, sched_count(l->s));
		r = sched_reload(l->s);
	}
	if (r == 0 && l->leads)
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
	r = store_lead(l->st);
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
	if (l->catch_up)
		catch_up(l);
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
	ev_timer_init(&l->poll, poll_cb, poll_s, poll_s);
	l->poll.data = l;
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
	free(l);
	return NULL;
}
