/* SPDX-License-Identifier: MIT */
/*
 * sched.h: the schedule of every open promise, between the store, the
 * timing wheel and one libev watcher.  It decides when a promise's next
 * nudge, due notice or escalation happens; deliver.c decides how.
 */
#ifndef PROMISED_SCHED_H
#define PROMISED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "store.h"
#include "wheel.h"

struct sched;

/* what a schedule stage tells: a nudge, the due notice or an escalation */
enum sched_notice {
	NOTICE_NUDGE,
	NOTICE_DUE,
	NOTICE_ESCALATION,
	NOTICE_MAX,
};

/* "nudge", "due", "escalation" */
const char *sched_notice_name(enum sched_notice k);

/*
 * A one-shot timer on the schedule's wheel for other modules (delivery
 * retries); cb runs from the loop, with the batch transaction available.
 */
struct sched_timer {
	struct wtimer wt;
	void (*cb)(struct sched_timer *t);
};

int sched_open(struct sched **ret, struct ev_loop *loop, struct store *st);
/* NULL-safe; returns NULL */
struct sched *sched_close(struct sched *s);

/*
 * The outbox as the schedule sees it, handed in by whoever holds both: the
 * outbox builds on the schedule (its retry timers), never the reverse.
 */
struct sched_outbox {
	void *ctx;
	/* within the batch: the deliveries of notice of p (arg: a nudge's
	 * lead, an escalation's repeat), queued for the commit;
	 * appends {"delivery","to","channel"} for each to out */
	int (*event)(void *ctx, const struct promise_rec *p,
	    enum sched_notice notice, int64_t arg, int64_t now, json_t *out);
	/* a point in the queue, and the undo of everything queued after it,
	 * for a savepoint rolled back */
	void *(*mark)(void *ctx);
	void (*unwind)(void *ctx, void *mark);
};
/* ob is copied; until then nothing fires */
void sched_set_outbox(struct sched *s, const struct sched_outbox *ob);

/* rebuilds the schedule from every open promise in the store */
int sched_load(struct sched *s);

/*
 * A standby of a store several daemons share keeps its schedule but fires
 * nothing (stages, nor other modules' timers) until made active.
 */
void sched_set_active(struct sched *s, bool active);
bool sched_active(const struct sched *s);
/* drops every item and rebuilds the schedule from the store: a new
 * leader's, which missed what the others changed meanwhile */
int sched_reload(struct sched *s);

/* the time (s) and notice of schedule event `stage` of p */
void sched_stage(const struct promise_rec *p, int32_t stage, int64_t *ret_at,
    enum sched_notice *ret_notice);
/* the first stage still ahead of now: nudges already past are skipped */
int32_t sched_first_stage(const struct promise_rec *p, int64_t now);

/* (re-)arms p's timer for p->stage; p must be open.  Part of the batch:
 * undone by sched_after_commit(false) */
int sched_arm(struct sched *s, const struct promise_rec *p);
/* drops id's timer (settled promise); part of the batch */
void sched_cancel(struct sched *s, int64_t id);

void sched_timer_add(struct sched *s, struct sched_timer *t, int64_t at_ms);
void sched_timer_del(struct sched *s, struct sched_timer *t);

/* after the batch: on failure, restores timers from the store */
void sched_after_commit(struct sched *s, bool ok);
/* re-arms the loop's watcher for the earliest timer; call before blocking */
void sched_rearm(struct sched *s);
/* promises on the schedule, i.e. open */
size_t sched_count(const struct sched *s);
/* of those, the ones whose due notice went out and that are still open */
size_t sched_overdue(const struct sched *s);

/*
 * How late schedule stages fired since start, for the metrics: le[i]
 * counts the stages at most sched_lateness_bounds_ms[i] late (so it is
 * cumulative), count all of them, sum_ms their lateness added up.
 */
#define SCHED_LATENESS_BUCKETS 11
extern const int64_t sched_lateness_bounds_ms[SCHED_LATENESS_BUCKETS];
struct sched_lateness {
	uint64_t le[SCHED_LATENESS_BUCKETS];
	uint64_t count;
	uint64_t sum_ms;
};
const struct sched_lateness *sched_lateness(const struct sched *s);

#endif
