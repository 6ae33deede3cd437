/* SPDX-License-Identifier: MIT */
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

#include "backend.h"
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
	char *event; /* e.g. "promise.due" */
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
	/* what its backend sees of it, pointing into the above; its
	 * rendering is owned by d */
	struct backend_delivery job;
};

int deliver_open(struct deliver **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, const struct conf *c, char *err, size_t errlen);
/* NULL-safe; deliveries still on their way stay pending in the store */
struct deliver *deliver_close(struct deliver *dl);
int deliver_reload(struct deliver *dl, const struct conf *c);

/*
 * Within the batch: writes the outbox rows for schedule event notice of p
 * (arg: a nudge's lead time, an escalation's repeat number) to everyone it
 * concerns, by every channel that reaches them, queued to start once the
 * batch commits.  Appends {"delivery","to","channel"} for each to out.
 */
int deliver_event(struct deliver *dl, const struct promise_rec *p,
    enum sched_notice notice, int64_t arg, int64_t now, json_t *out);
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
/*
 * Within the batch: writes a sign-in message (base, a "promise.signin"
 * payload) for login by email, else the log, a conversation of its own;
 * appends {"delivery","to","channel"} to out.
 */
int deliver_signin(
    struct deliver *dl, const char *login, json_t *base, json_t *out);
/*
 * Within the batch: writes promised's answer to a mail (base, a
 * "promise.reply" payload, see backend.h) for login by email, else the
 * log; appends {"delivery","to","channel"} for each to out.  With a
 * "promise" {"id"} in base it carries that promise's Reply-To.
 */
int deliver_reply(
    struct deliver *dl, const char *login, json_t *base, json_t *out);
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
/*
 * Several daemons on one store (outbox_adopt.c): a standby writes rows and
 * sends nothing; the leader takes up another daemon's row by its uid, or
 * every pending row it does not hold yet.
 */
void deliver_set_standby(struct deliver *dl, bool standby);
int deliver_adopt(struct deliver *dl, const char *uid);
int deliver_adopt_pending(struct deliver *dl);
/* before the batch commits: writes the outcomes of the deliveries sent
 * since the last one into it, in one statement */
void deliver_before_commit(struct deliver *dl);
/* after the batch: starts what it queued, or drops it on failure */
void deliver_after_commit(struct deliver *dl, bool ok);

/*
 * The end of an attempt at d (backend_done_fn, for d->job): 0 sent; -EAGAIN (or
 * any other transient -errno) to retry later, after retry_after seconds when
 * the server said so (> 0), else by backoff; -EPERM never to retry; -ENETDOWN
 * when the channel failed rather than this delivery (its relay unreachable, or
 * refusing promised's login): the channel is then down, and its deliveries wait
 * for it without being given up.  error is one line for the outbox and the log,
 * with no secrets in it.
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
 * Who deliver_event would tell of schedule stage notice (arg: the nudge's
 * lead, the escalation's repeat) due at at, without writing or sending:
 * appends {"to","channel","zone"?,"level"?} to out, honouring the
 * acknowledgements that will be in force then.
 */
int deliver_plan(struct deliver *dl, const struct promise_rec *p,
    enum sched_notice notice, int64_t arg, int64_t at, json_t *out);

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
