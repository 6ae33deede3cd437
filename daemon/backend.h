/* SPDX-License-Identifier: MIT */
/*
 * backend.h: what a delivery backend sees: the delivery it is handed, the
 * operations it offers, and how it reports an attempt's end.  Nothing of
 * the store, the schedule or the outbox's bookkeeping: a backend gets a
 * delivery's text, sends it, and says how that went.
 */
#ifndef PROMISED_BACKEND_H
#define PROMISED_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <jansson.h>

#include "conf.h"

/* one delivery as its backend sees it; the outbox owns it */
struct backend_delivery {
	const char *uid;       /* the same on every attempt */
	const char *event;     /* e.g. "promise.due" */
	const char *recipient; /* a login */
	const char *payload;   /* one line of JSON, below */
	/* what the backend made of the payload while it was still parsed
	 * (see render below), for the first attempt only; NULL otherwise.
	 * Freed by rendered_free when the outbox lets go of the delivery */
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
 *   "reply_to"    email only, when replies act ([mail] reply_domain): the
 *                 signed address a reply to it goes to (mailtoken.h)
 *   "links"       with [http] base_url and link_secret_file: the signed
 *                 one-click URLs for the recipient, {"open", "keep"?,
 *                 "snooze"?, "ack"?} (msglinks.h)
 *   "attachments" email only, optional: up to 4 of {"filename",
 *                 "content_type", "text"}, sent after the text as parts of
 *                 a multipart/mixed message (a calendar entry: ics.h)
 * A "promise.signin" has no "promise" but "signin": {"url", "expires_at"}.
 * A "promise.agenda" has no "promise" nor "history" but an "agenda"
 * object, described in agenda.h.
 * A "promise.digest" has no "promise" nor "history" but a "digest" object,
 * described in digest.h.  A "promise.reply", promised's answer to a mail
 * it was handed (op_mail.c), has "reply": {"subject", "text",
 * "in_reply_to"?, "references"?}, "attachments"? and, when it is about
 * one, "promise": {"id"} and "reply_to".
 */

/*
 * A payload taken apart: what renderers work from, whether the payload was
 * just written (payload.h) or read back from its text (a retry, a
 * restart).  The members are JSON text as jansson's JSON_COMPACT writes
 * them (UTF-8, not ASCII-escaped), NULL when the payload has none; the
 * rest is what a one-line summary reads.  Everything is borrowed.
 */
struct payload_parts {
	const char *event;
	/* the recipient's */
	const char *login, *webhook, *timezone;
	/* members as JSON text */
	const char *occurred_at, *level, *repeat, *lead, *promise, *failed,
	    *history, *links;
	/* as numbers, where present */
	bool has_lead;
	int64_t lead_s, occurred;
	/* the promise's, for a summary: id and due_at 0 when absent */
	int64_t id, due_at;
	bool has_due_at;
	const char *title, *owner, *for_whom, *due, *state;
	/* "failed"'s */
	const char *failed_event, *failed_channel, *failed_recipient,
	    *failed_error;
	/* the links' URLs, NULL where absent */
	const char *link_open, *link_keep, *link_snooze, *link_ack;
};

/*
 * The end of an attempt at d, reported from the loop: 0 sent; -EAGAIN (or
 * any other transient -errno) to retry later, after retry_after seconds
 * when the server said so (> 0), else by backoff; -EPERM never to retry;
 * -ENETDOWN when the channel failed rather than this delivery (its relay
 * unreachable, or refusing promised's login): the channel is then down,
 * and its deliveries wait for it without being given up.  error is one
 * line for the outbox and the log, with no secrets in it.  d may be freed
 * before this returns.
 */
typedef void backend_done_fn(
    struct backend_delivery *d, int rc, const char *error, int64_t retry_after);

/* what a backend is given when it opens */
struct backend_host {
	struct ev_loop *loop; /* the main loop, where outcomes are reported */
	backend_done_fn *done;
};

/*
 * A delivery backend.  start() begins sending d without blocking and
 * returns 0, or fails at once with -errno and a one-line reason in err; it
 * must never complete d before it returns.  Completion is reported later,
 * from the loop, through the host's done().
 */
struct backend {
	const char *name;
	int (*start)(struct backend *b, struct backend_delivery *d, char *err,
	    size_t errlen);
	/* optional: called once the row of d is written, with the parts
	 * d->payload was written from (payload.h), so that a burst of new
	 * deliveries is not parsed all over again on its way out.  It may
	 * set d->rendered and d->rendered_free for start to use instead of
	 * the payload text; it must render exactly what start would make of
	 * the text, and do nothing where start would fail */
	void (*render)(struct backend *b, struct backend_delivery *d,
	    const struct payload_parts *parts);
	/* takes the new configuration (c outlives the backend's use of it)
	 * and reopens files (log rotation) */
	int (*reload)(struct backend *b, const struct conf *c);
	void (*free)(struct backend *b);
};

/* the log backend: one JSON line per delivery appended to a file */
int backend_log_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen);
/* email over SMTP (channel "email"), from [smtp] */
int backend_email_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen);
/* signed webhooks (channel "webhook"), from [webhook] */
int backend_webhook_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen);

#endif
