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
#include <jansson.h>

#include "conf.h"
#include "sched.h"
#include "store.h"

struct deliver;

/* one delivery on its way; owned by deliver.c */
struct delivery {
	struct sched_timer retry;
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
	bool fresh;       /* a new row: logged as queued once it commits */
	/* a new escalation's first try waits until then (epoch s), when
	 * the recipient's business hours open; 0: at once */
	int64_t hold_until;
	bool busy;    /* handed to a backend, not yet done */
	bool waiting; /* for its channel (deliver.c's chan) */
	int64_t created_at;
	/* what the channel's backend made of the payload while it was still
	 * parsed (see render below), for the first attempt only; NULL
	 * otherwise.  Owned by d and freed by rendered_free */
	void *rendered;
	void (*rendered_free)(void *rendered);
};

/*
 * The payload: one line of JSON written with the outbox row, so a delivery
 * renders the same on every attempt and after a restart.  Backends read:
 *   "event"       "promise.nudge", "promise.due", "promise.escalation",
 *                 "promise.resolved" or "promise.undeliverable"
 *   "delivery"    the uid (the receivers' idempotency key)
 *   "occurred_at" when the event happened (UTC seconds)
 *   "recipient"   {"login", "email"?, "webhook"?, "timezone"?}
 *   "lead"        nudges: seconds before due
 *   "repeat"      escalations: which repeat (1 = the first)
 *   "level"       escalations: the recipient's place up the chain (1 =
 *                 the owner's manager; 0 = nobody above the owner is
 *                 known, so the owner is told)
 *   "promise"     {"id", "title", "owner", "for"?, "note"?, "due_at", "due"
 *                 (ISO UTC), "created_at", "created_by", "state",
 *                 "snoozes"}
 *   "history"     the promise's latest events, oldest first, at most 10:
 *                 [{"at", "actor", "kind", "detail"}]
 *   "thread"      email only: {"root": "<message-id>", "first": bool}:
 *                 the first email about a promise carries root as its
 *                 Message-ID, later ones refer to it
 *   "failed"      undeliverable only: {"delivery", "event", "recipient",
 *                 "channel", "error"} of the delivery that could not be made
 * A "promise.digest" has no "promise" nor "history" but a "digest" object,
 * described in digest.h.
 */

/*
 * A delivery backend.  start() begins sending d without blocking and
 * returns 0, or fails at once with -errno and a one-line reason in err; it
 * must never complete d before it returns.  Completion is reported later, from
 * the loop, through deliver_done().
 */
struct backend {
	const char *name;
	int (*start)(
	    struct backend *b, struct delivery *d, char *err, size_t errlen);
	/* optional: called once the row of d is written, with the payload
	 * tree d->payload was dumped from, so that a burst of new
	 * deliveries is not parsed all over again on its way out.  It may
	 * set d->rendered and d->rendered_free for start to use instead of
	 * the payload text; it must render exactly what start would make of
	 * the text, and do nothing where start would fail */
	void (*render)(
	    struct backend *b, struct delivery *d, const json_t *payload);
	/* takes the new configuration (c outlives the backend's use of it)
	 * and reopens files (log rotation) */
	int (*reload)(struct backend *b, const struct conf *c);
	void (*free)(struct backend *b);
};

/* the log backend: one JSON line per delivery appended to a file */
int backend_log_open(struct backend **ret, struct ev_loop *loop,
    const struct conf *c, char *err, size_t errlen);
/* email over SMTP (channel "email"), from [smtp]; outcomes come back on
 * loop */
int backend_email_open(struct backend **ret, struct ev_loop *loop,
    const struct conf *c, char *err, size_t errlen);
/* signed webhooks (channel "webhook"), from [webhook]; outcomes come back
 * on loop */
int backend_webhook_open(struct backend **ret, struct ev_loop *loop,
    const struct conf *c, char *err, size_t errlen);

int deliver_open(struct deliver **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, const struct conf *c, char *err, size_t errlen);
/* NULL-safe; deliveries still on their way stay pending in the store */
struct deliver *deliver_close(struct deliver *dl);
int deliver_reload(struct deliver *dl, const struct conf *c);

/*
 * Within the batch: writes the outbox rows for schedule event kind of p
 * (arg: a nudge's lead time, an escalation's repeat number) to everyone it
 * concerns, by every channel that reaches them, queued to start once the
 * batch commits.  Appends {"delivery","to","channel"} for each to out.
 */
int deliver_event(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int64_t arg, int64_t now, json_t *out);
/* within the batch: tells everyone p was escalated to that it is settled */
int deliver_resolved(
    struct deliver *dl, const struct promise_rec *p, int64_t now, json_t *out);
/*
 * Within the batch: writes a digest (base, a "promise.digest" payload) for
 * login by email, else the log; appends {"delivery","to","channel"} for
 * each to out.  The email's Message-ID is made of key (the week) and
 * login: one conversation per manager and week.
 */
int deliver_digest(struct deliver *dl, const char *login, json_t *base,
    const char *key, json_t *out);
/* within the batch: sends delivery uid again now; -ENOENT if unknown,
 * -EALREADY if it was sent; *ret_id its row */
int deliver_retry(
    struct deliver *dl, const char *uid, int64_t now, int64_t *ret_id);
/* a point in the queue of deliveries waiting for the batch, and the undo of
 * everything queued after it, for a request's savepoint rolled back */
struct delivery **deliver_mark(struct deliver *dl);
void deliver_unwind(struct deliver *dl, struct delivery **mark);
/* deliver_event, _mark and _unwind of dl as the schedule calls them */
void deliver_outbox(struct deliver *dl, struct sched_outbox *ret);
/* loads the pending rows of the outbox and starts or schedules them */
int deliver_resume(struct deliver *dl);
/* after the batch: starts what it queued, or drops it on failure */
void deliver_after_commit(struct deliver *dl, bool ok);

/*
 * backends report an attempt's end: 0 sent; -EAGAIN (or any other
 * transient -errno) to retry later, after retry_after seconds when the
 * server said so (> 0), else by backoff; -EPERM never to retry;
 * -ENETDOWN when the channel failed rather than this delivery (its relay
 * unreachable, or refusing promised's login): the channel is then down,
 * and its deliveries wait for it without being given up.  error is one
 * line for the outbox and the log, with no secrets in it.
 */
void deliver_done(
    struct delivery *d, int rc, const char *error, int64_t retry_after);

/*
 * When an escalation due at at reaches login: at, or with [policy]
 * escalate_in_business_hours and business hours for login, the next
 * opening of those hours (their first try is held until then).
 */
int64_t deliver_escalation_at(
    const struct deliver *dl, const char *login, int64_t at);
/*
 * Who deliver_event would tell of schedule stage kind (arg: the nudge's
 * lead, the escalation's repeat) due at at, without writing or sending:
 * appends {"to","channel","zone"?,"level"?} to out, honouring the
 * acknowledgements that will be in force then.
 */
int deliver_plan(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int64_t arg, int64_t at, json_t *out);

/* deliveries handed to a backend and not yet done */
size_t deliver_inflight(const struct deliver *dl);
/* deliveries not yet sent nor given up: queued, under way or waiting to
 * retry (the outbox's pending rows, kept in memory) */
size_t deliver_pending(const struct deliver *dl);
/* for status: {CHANNEL: {"state": "up"|"down"|"off", "waiting": N, and when
 * down "since", "error", "next_try"}} for each channel configured or
 * holding deliveries; NULL when out of memory */
json_t *deliver_channels(const struct deliver *dl);
/* the names of the channels down, comma separated, into buf; how many */
size_t deliver_channels_down(const struct deliver *dl, char *buf, size_t len);

#endif
