/*
 * deliver.h: the outbox.  A schedule event becomes a delivery row in the
 * same transaction that records it; once that commits, the delivery is
 * handed to a backend, whose completion is written back to the row.  Rows
 * still pending at start-up are sent again: delivery is at least once, and
 * the delivery's uid stays the same on every attempt.
 */
#ifndef PROMISED_DELIVER_H
#define PROMISED_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "conf.h"
#include "sched.h"
#include "store.h"

struct deliver;

/* one delivery on its way; owned by deliver.c */
struct delivery {
	struct sched_timer retry; /* first: the timer casts back */
	struct deliver *dl;
	struct delivery *next, **pprev; /* every delivery deliver.c holds */
	struct delivery *qnext;         /* waiting for the batch to commit */
	int64_t id;
	char uid[33];
	int64_t promise_id;
	char *kind; /* event type, e.g. "promise.due" */
	char *recipient;
	char *channel;
	char *payload;    /* one line of JSON */
	int64_t attempts; /* finished attempts before this one */
};

/*
 * A delivery backend.  start() begins sending d without blocking and
 * returns 0, or fails at once with -errno; it must never complete d before
 * it returns.  Completion is reported later, from the loop, through
 * deliver_done().
 */
struct backend {
	const char *name;
	int (*start)(struct backend *b, struct delivery *d);
	/* reopens files after a reload (log rotation) */
	int (*reload)(struct backend *b, const struct conf *c);
	void (*free)(struct backend *b);
};

/* the log backend: one JSON line per delivery appended to a file */
int backend_log_open(struct backend **ret, struct ev_loop *loop,
    const struct conf *c, char *err, size_t errlen);

int deliver_open(struct deliver **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, const struct conf *c, char *err, size_t errlen);
/* NULL-safe; deliveries still on their way stay pending in the store */
struct deliver *deliver_close(struct deliver *dl);
int deliver_reload(struct deliver *dl, const struct conf *c);

/*
 * Within the batch: writes the outbox row for schedule event kind (level is
 * the escalation level) of p and queues it to start once the batch
 * commits.  Writes the delivery's uid into uid.
 */
int deliver_enqueue(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int level, int64_t now, char uid[33]);
/* a point in the queue of deliveries waiting for the batch, and the undo of
 * everything queued after it, for a request's savepoint rolled back */
struct delivery **deliver_mark(struct deliver *dl);
void deliver_unwind(struct deliver *dl, struct delivery **mark);
/* loads the pending rows of the outbox and starts or schedules them */
int deliver_resume(struct deliver *dl);
/* after the batch: starts what it queued, or drops it on failure */
void deliver_after_commit(struct deliver *dl, bool ok);

/* backends report an attempt's end: 0 sent, -EAGAIN (or any other
 * transient -errno) to retry later, -EPERM never to retry */
void deliver_done(struct delivery *d, int rc, const char *error);

/* deliveries handed to a backend and not yet done */
size_t deliver_inflight(const struct deliver *dl);

#endif
