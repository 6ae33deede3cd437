/* SPDX-License-Identifier: MIT */
/*
 * worker.h: a backend's transfers on a thread of their own, with its own
 * libev loop and curlev, so that libcurl (a blocking wait at the end of
 * an SMTP message, or the bulk of the work of a burst of webhooks) never
 * holds up the daemon's loop.
 *
 * The main thread turns a delivery into an item holding copies of all the
 * transfer needs and submits it (worker_submit): items line up on
 * outgoing, and once per loop iteration (kick, a timer due at once) and at
 * the end of each batch of outcomes they move to todo under mu, waking the
 * worker (wake), so a burst costs one lock and one wake-up.  The worker
 * starts each (ops->begin) and keeps it on running; when its transfer ends
 * the backend writes the outcome into the item and calls worker_finish.
 * Finished items move to done under mu once per iteration of the worker's
 * loop (flush), waking the main loop (back), whose callback hands each to
 * ops->report.  An item belongs to whoever holds it: the queues under mu,
 * the worker while it is on running or finished, the main thread
 * otherwise; nothing in it is shared.  The worker never reads anything of
 * the main thread's: what it needs was copied into the item.
 *
 * Stopping (worker_stop) sets stop, wakes the worker and joins it.  After
 * the join everything is the main thread's again, and every item still
 * queued or under way is dropped without being reported: those deliveries
 * stay pending in the store and go out again at start-up.
 */
#ifndef PROMISED_WORKER_H
#define PROMISED_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "curlev.h"

/* linked into a backend's item */
struct work {
	struct work *next, **pprev; /* a queue (pprev NULL) or running */
};

/* a first-in first-out list of items, linked by next */
struct workq {
	struct work *head, **tail;
};

struct worker;

struct worker_ops {
	/*
	 * worker thread: starts item's transfer on worker_curlev(w), whose
	 * done callback ends in worker_finish; 0, or -errno with the
	 * failure written into the item, which then goes back as finished
	 */
	int (*begin)(struct worker *w, struct work *item);
	/* main thread: item's outcome; the callee owns item from here */
	void (*report)(struct worker *w, struct work *item);
	/* optional, main thread, after the join: item was under way and
	 * libcurl is about to let go of it (curlev_close) */
	void (*abandon)(struct work *item);
	/* main thread: frees item unreported; its easy handle too, unless
	 * running (then curlev_close cleaned it up) */
	void (*drop)(struct work *item, bool running);
};

struct worker {
	const struct worker_ops *ops;
	void *owner; /* the backend, for ops */
	pthread_mutex_t mu;
	struct workq todo; /* under mu: handed to the worker */
	struct workq done; /* under mu: handed back to the main thread */
	atomic_bool stop;
	struct ev_loop *loop;  /* the worker's */
	ev_async wake;         /* on loop: todo grew, or stop was set */
	ev_prepare flush;      /* on loop: moves finished to done */
	struct curlev *cv;     /* on loop */
	struct work *running;  /* the worker's: the transfers in cv */
	struct workq finished; /* the worker's: outcomes not yet on done */
	struct ev_loop *main_loop;
	ev_async back;         /* on main_loop: done grew */
	ev_timer kick;         /* on main_loop: moves outgoing to todo */
	struct workq outgoing; /* the main thread's: items not yet on todo */
	pthread_t tid;
	bool mu_ok, started;
};

/*
 * Main thread, before any other thread of the backend's exists: creates
 * the worker's loop and curlev (keeping up to keep idle connections, or
 * libcurl's default for 0) and starts the thread.  Outcomes come back on
 * main_loop.  0 or -errno; either way worker_stop undoes what was made.
 */
int worker_start(struct worker *w, const struct worker_ops *ops, void *owner,
    struct ev_loop *main_loop, long keep);
/* main thread: joins the thread and drops every item it had; idempotent */
void worker_stop(struct worker *w);
/* main thread: hands item over, to start with the next kick; from here
 * it is the worker's until ops->report gets it back, never before this
 * returns */
void worker_submit(struct worker *w, struct work *item);
/* worker thread: item's transfer is over and its outcome written */
void worker_finish(struct worker *w, struct work *item);
/* worker thread: the curlev items run on */
struct curlev *worker_curlev(struct worker *w);
/* any thread: whether the worker has been told to stop (for libcurl's
 * progress callback, to give up a blocking wait) */
bool worker_stopping(struct worker *w);

#endif
