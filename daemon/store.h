/* SPDX-License-Identifier: MIT */
/*
 * store.h: promised's durable state, in SQLite (the default) or PostgreSQL,
 * the only module that speaks SQL.  Functions return 0 or -errno (-ENOENT
 * for a missing row, -EIO for a database error, -ENOSPC for a full disk,
 * -EBUSY when locked) and never log; store_errmsg() keeps the database's
 * last message for the caller.
 */
#ifndef PROMISED_STORE_H
#define PROMISED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct store;

enum promise_state {
	PSTATE_OPEN,
	PSTATE_KEPT,
	PSTATE_CANCELLED,
	PSTATE_MAX,
	PSTATE_INVALID = -1,
};

const char *pstate_name(enum promise_state s);
enum promise_state pstate_from_string(const char *s);

/*
 * One promise.  Strings are borrowed from SQLite when handed to a callback
 * (valid for the callback's duration only) and NULL where absent.
 */
struct promise_rec {
	int64_t id;
	const char *title;
	const char *owner;
	const char *for_whom;
	const char *note;
	const char *created_by;
	int64_t due_at;
	int64_t created_at;
	int64_t settled_at; /* 0 while open */
	enum promise_state state;
	int64_t nudge[PROTO_MAX_NUDGES]; /* lead times, descending */
	size_t n_nudge;
	int64_t escalate_after;
	int64_t escalation_repeat;
	int32_t stage; /* the next schedule event: nudges, due, escalations */
	int64_t snoozes;
	const char *kind; /* the [kind] it was made as, or NULL */
	/* business hours moved some nudges earlier: nudge holds the lead
	 * times in force, asked the ones asked for */
	bool shifted;
	int64_t asked[PROTO_MAX_NUDGES];
	size_t n_asked;
};

struct event_rec {
	int64_t id;
	int64_t promise_id;
	int64_t at;
	const char *actor;
	/* what happened: "created", "snoozed", "nudge", "kept", ... (its
	 * "kind" in the protocol) */
	const char *what;
	const char *detail; /* JSON object text or NULL */
};

struct delivery_rec {
	int64_t id;
	const char *uid;
	int64_t promise_id; /* 0: about no one promise (a digest) */
	const char *event;  /* e.g. "promise.due" */
	const char *recipient;
	const char *channel;
	const char *payload;
	const char *state;
	int64_t attempts;
	int64_t next_attempt_at;
	const char *last_error;
	int64_t created_at;
	int64_t sent_at; /* 0 unless sent */
	/* its promise's owner: NULL for a digest, and unless read by
	 * store_deliveries */
	const char *owner;
};

/* what status needs from the database; the counts the schedule and the
 * outbox keep in memory are not read here, so it stays cheap at a million
 * promises */
struct store_counts {
	int64_t next_due; /* 0 if none */
	int64_t deliveries_failed;
};

/* what the metrics exposition reads from the database */
struct store_metrics {
	int64_t promises[PSTATE_MAX]; /* by state */
	int64_t overdue;              /* open with the deadline passed */
	int64_t missed; /* open past the deadline, given a due notice, or
	                   settled at or after the deadline; once each */
	int64_t deliveries_pending;
	int64_t deliveries_sent;
	int64_t deliveries_failed;
};

/* opens (creating and migrating as needed) the database at path; on
 * failure writes the reason into err */
int store_open(struct store **ret, const char *path, char *err, size_t errlen);
/* the same for a PostgreSQL database, by conninfo (a libpq connection
 * string or URL); blocks until connected, once, at start-up */
int store_open_postgresql(
    struct store **ret, const char *conninfo, char *err, size_t errlen);
/* finalizes statements and closes; NULL-safe; returns NULL */
struct store *store_close(struct store *st);
/* the backend, as in [store] backend: "sqlite" or "postgresql" */
const char *store_backend_name(const struct store *st);
/* SQLite's message for the last failure */
const char *store_errmsg(const struct store *st);
/* caps the database at about bytes (0: no cap); a write past it fails
 * with -ENOSPC, as on a full disk */
int store_set_max_size(struct store *st, int64_t bytes);
/* full: every commit is fsynced before it returns; otherwise the WAL is
 * synced only at checkpoints, so a power cut can lose the latest commits */
int store_set_durability(struct store *st, bool full);
/* the schema version in force */
int store_schema_version(const struct store *st);
/* the version store_open found and brought up to date (0: a new database),
 * or -1 if it was current */
int store_schema_migrated_from(const struct store *st);

/*
 * Leadership, where several daemons share one store (PostgreSQL): every
 * one serves, one leader fires.  A store only one daemon uses (SQLite)
 * is always its leader, at epoch 0, and has nothing to watch.
 */
struct store_leadership {
	bool shared;    /* several daemons may use the store */
	bool leader;    /* this daemon fires */
	int64_t epoch;  /* the leader's term, 0 if none yet */
	char host[128]; /* the leader's host, "" if none yet */
	int64_t pid;
	int64_t since; /* when it became leader */
	/* the leader's: how full the database's queue of notes is (0 to
	 * 1), as of its last beat */
	double queue_usage;
};
int store_leadership(struct store *st, struct store_leadership *ret);
/* tries to become the leader: 1 if this daemon is (now or already; the
 * leader's beat sent), 0 if another is, 2 if another held the lock but
 * had not beaten for stale_s (0: never cut off) and was cut off (the
 * message says which), -errno (the lock's connection lost or refused) */
int store_lead(struct store *st, double stale_s);
/* the descriptor that becomes readable with a note from another daemon or
 * the loss of leadership; -1 if none */
int store_lead_fd(const struct store *st);
/* reads what came on it: cb for each note another daemon's commit sent
 * ("p<id>" promises and "d<uid>" deliveries it changed, space separated,
 * or "*" for too many to name); -ECONNRESET when the connection was lost,
 * and leadership with it */
int store_lead_input(
    struct store *st, void (*cb)(void *arg, const char *note), void *arg);

/* transactions: one open batch at a time, with a savepoint per request */
int store_begin(struct store *st);
bool store_in_txn(const struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
int store_savepoint(struct store *st);
int store_release(struct store *st);
int store_rollback_savepoint(struct store *st);

/* inserts p (id, state, settled_at, snoozes ignored); sets *ret_id */
int store_add(struct store *st, const struct promise_rec *p, int64_t *ret_id);
/* calls cb with the promise, strings borrowed; -ENOENT if absent */
int store_get(struct store *st, int64_t id,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg);
/* moves an open promise to state at time at; -ENOENT if absent or settled */
int store_settle(
    struct store *st, int64_t id, enum promise_state state, int64_t at);
/* sets p->due_at, stage, nudge and asked on open promise p->id, counting
 * a snooze */
int store_snooze(struct store *st, const struct promise_rec *p);
int store_set_stage(struct store *st, int64_t id, int32_t stage);
/* appends to a promise's history; detail is JSON object text or NULL */
int store_event(struct store *st, int64_t promise_id, int64_t at,
    const char *actor, const char *what, const char *detail);
/* a refusal of actor on a promise: counted in actor's refused event of
 * the last window seconds ({"op","count","last_at"}), or a new one */
int store_refusal(struct store *st, int64_t promise_id, int64_t at,
    const char *actor, const char *op, int64_t window);
int store_events(struct store *st, int64_t promise_id,
    void (*cb)(void *arg, const struct event_rec *e), void *arg);
/* the latest limit events of a promise, newest first; refusals only
 * where the other events leave room */
int store_events_latest(struct store *st, int64_t promise_id, int64_t limit,
    void (*cb)(void *arg, const struct event_rec *e), void *arg);
/* e as the protocol's EVENT object; NULL on allocation failure */
json_t *event_rec_json(const struct event_rec *e);

enum store_filter {
	SFILTER_OPEN,
	SFILTER_OVERDUE,
	SFILTER_KEPT,
	SFILTER_CANCELLED,
	SFILTER_ALL,
	SFILTER_MAX,
	SFILTER_INVALID = -1,
};
enum store_filter store_filter_from_string(const char *s);

/* promises matching filter (and owner, and the FTS5 query match, if not
 * NULL), by due time, at most limit (0: no limit) */
int store_list(struct store *st, enum store_filter f, const char *owner,
    const char *match, int64_t now, int64_t limit,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg);
/* every open promise in id order, for rebuilding the schedule at start:
 * only id, due_at, stage, nudge, escalate_after and escalation_repeat are
 * read (state reads open; strings are NULL) */
int store_foreach_open(struct store *st,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
/* promises due at or after from and before to, open ones (and kept ones
 * too if kept_too), by due time, until cb returns non-zero (returned) */
int store_due_between(struct store *st, bool kept_too, int64_t from, int64_t to,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
/* records that manager's digest for week ("2026-W48") was written; and
 * whether it was */
int store_digest_sent(
    struct store *st, const char *week, const char *manager, int64_t at);
int store_digest_was_sent(
    struct store *st, const char *week, const char *manager, bool *ret);
/* the number of open promises */
int store_count_open(struct store *st, int64_t *ret);
/* up to limit promises with ids above after, in id order; the number
 * read, or -errno */
int store_export(struct store *st, int64_t after, int64_t limit,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
/* one owner's figures over the promises made since a time (report) */
struct report_row {
	const char *owner; /* borrowed for the callback */
	int64_t made;
	int64_t kept_on_time, kept_late;
	int64_t open, overdue; /* overdue: open with the deadline passed */
	int64_t cancelled_told, cancelled_untold;
	int64_t renegotiated; /* promises snoozed at least once */
	int64_t snoozes;      /* snoozes in all */
};
/*
 * The full-text index (list's for and grep) follows the adds in bulk: an
 * FTS5 insert per add would cost more than the rest of it.  behind says
 * some promises are not indexed yet; index indexes up to limit more (0:
 * all) in the batch transaction.
 */
bool store_fts_behind(const struct store *st);
/* the highest promise id written */
int64_t store_max_id(const struct store *st);
int store_fts_index(struct store *st, int64_t limit);
/* per owner, by login, over promises created at or after since */
int store_report(struct store *st, int64_t since, int64_t now,
    int (*cb)(void *arg, const struct report_row *row), void *arg);
/* how late (s, 0 if on time) each kept promise of owner made since then
 * was, ascending */
int store_report_lateness(struct store *st, const char *owner, int64_t since,
    int (*cb)(void *arg, int64_t late), void *arg);
/* settled promises settled since then, in random order, until cb returns
 * non-zero (1: enough; < 0: an error, returned) */
int store_sample(struct store *st, int64_t since,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
int store_counts(struct store *st, int64_t now, struct store_counts *ret);
/* one owner's open promises, of them overdue, and the next deadline ahead
 * (0 if none) */
struct store_owner_counts {
	int64_t open, overdue, next_due;
};
int store_owner_counts(struct store *st, const char *owner, int64_t now,
    struct store_owner_counts *ret);
int store_metrics(struct store *st, int64_t now, struct store_metrics *ret);

/* adds an outbox row in state pending, due now; sets *ret_id.  A
 * promise_id of 0 is a delivery about no one promise (a digest) */
int store_delivery_add(struct store *st, const char *uid, int64_t promise_id,
    const char *event, const char *recipient, const char *channel,
    const char *payload, int64_t now, int64_t *ret_id);
/* *ret: a delivery of event about the promise to recipient waits, never
 * tried, for a time after `after` (held for the recipient's hours) */
int store_delivery_held(struct store *st, int64_t promise_id,
    const char *recipient, const char *event, int64_t after, bool *ret);
/* records a finished attempt: sent, or failed for good, or retried later */
int store_delivery_sent(struct store *st, int64_t id, int64_t now);
/* marks the n deliveries ids (n > 0) sent at now, in as few statements as
 * the backend can: the outcomes of a loop iteration, written together.  A
 * row gone (only a rolled-back batch leaves one) is skipped. */
int store_deliveries_sent(
    struct store *st, const int64_t *ids, size_t n, int64_t now);
int store_delivery_retry(
    struct store *st, int64_t id, int64_t next_attempt_at, const char *error);
int store_delivery_failed(struct store *st, int64_t id, const char *error);
/* every pending delivery, for resuming the outbox at start */
int store_foreach_pending_delivery(struct store *st,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
/* the delivery with this uid; -ENOENT if none */
int store_delivery_by_uid(struct store *st, const char *uid,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
/* the length of the shortest prefix of uid that no other delivery's uid
 * starts with (uid itself need not be stored) */
int store_delivery_short(struct store *st, const char *uid, size_t *ret);
/* the one delivery uid (into uid[33]) that starts with prefix (lower-case
 * hex); -ENOENT if none, -ENOTUNIQ if several */
int store_delivery_resolve(struct store *st, const char *prefix, char uid[33]);
/* deliveries of one promise (promise_id > 0, oldest first) or of all
 * (newest first), in state (NULL: any), at most limit (0: no limit); cb
 * returns 0 for more, 1 to stop there, or -errno */
int store_deliveries(struct store *st, int64_t promise_id, const char *state,
    int64_t limit, int (*cb)(void *arg, const struct delivery_rec *d),
    void *arg);
/* makes a pending or failed delivery due again now; -ENOENT if sent */
int store_delivery_requeue(struct store *st, int64_t id, int64_t now);
/* how many deliveries of a promise went by channel */
int store_delivery_count(
    struct store *st, int64_t promise_id, const char *channel, int64_t *ret);
/* each person a promise was escalated to, once */
int store_escalated(struct store *st, int64_t promise_id,
    int (*cb)(void *arg, const char *login), void *arg);
/* records that login acknowledged a promise's escalation until until */
int store_ack(
    struct store *st, int64_t promise_id, const char *login, int64_t until);
/* until when login acknowledged it (0: never) */
int store_acked_until(
    struct store *st, int64_t promise_id, const char *login, int64_t *ret);

/*
 * The mails handed in (op "mail"), kept so that a mail delivered twice
 * acts once.  store_mail_seen: what was made of the mail key (the
 * outcome as store_mail_record got it, malloc'd; caller frees), or
 * -ENOENT.  store_mail_record: records it, in the batch like any write,
 * and forgets the mails recorded before forget_before.
 */
#define STORE_MAIL_KEY_MAX 1400
int store_mail_seen(struct store *st, const char *key, char **ret_outcome);
int store_mail_record(struct store *st, const char *key, int64_t at,
    const char *outcome, int64_t forget_before);

/*
 * Secrets that stand for a person: API tokens ("api"), web sessions
 * ("session") and one-time sign-in secrets ("signin").  Only the SHA-256
 * of a secret is kept (hash, 64 lower-case hex digits), never the secret.
 * Strings are borrowed for the callback's duration.
 */
struct token_rec {
	int64_t id;
	const char *kind;
	const char *hash;
	const char *owner;
	const char *name; /* or NULL */
	int64_t created_at;
	int64_t last_used_at; /* 0: never */
	int64_t expires_at;   /* 0: never */
	int64_t revoked_at;   /* 0: not revoked */
};
/* inserts t (id and revoked_at ignored); sets *ret_id */
int store_token_add(
    struct store *st, const struct token_rec *t, int64_t *ret_id);
/* the token with this hash, by its unique index; -ENOENT if none */
int store_token_find(struct store *st, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg);
/* the API tokens and sessions of owner (NULL: everyone's) that are
 * neither revoked nor expired at now, by id */
int store_token_list(struct store *st, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg);
/* revokes token id at at, if it is owner's (NULL: anyone's) and not
 * revoked yet; -ENOENT otherwise, so a secret is revoked once only */
int store_token_revoke(
    struct store *st, int64_t id, const char *owner, int64_t at);
/* records that token id was used at at */
int store_token_used(struct store *st, int64_t id, int64_t at);
/* forgets the sessions and sign-in secrets that expired before before
 * (API tokens are kept, revoked too, for the record) */
int store_token_prune(struct store *st, int64_t before);

/*
 * Online backup into a new file, by SQLite's backup API.  The copy is
 * taken a few pages at a time between batches and is consistent as of its
 * last step; later changes made through this store are mirrored into it
 * by SQLite until then.  One at a time.
 */
struct store_backup;
/* creates path (absolute; -EEXIST if it exists, never followed if a
 * symlink) mode 0600 and prepares the copy; -EALREADY if one is running,
 * -EOPNOTSUPP for a store that is not SQLite's */
int store_backup_open(
    struct store *st, const char *path, struct store_backup **ret);
/* copies up to pages more: 1 when the copy is complete, 0 when pages
 * remain, -EBUSY inside a batch (an uncommitted change must never be
 * copied) or while locked, to try again later; other -errno are fatal */
int store_backup_step(struct store_backup *b, int pages);
/* pages still to copy and in all, as of the last step */
void store_backup_progress(
    const struct store_backup *b, int64_t *ret_remaining, int64_t *ret_total);
/* after step returned 1: closes the file, makes its name durable and frees
 * b; *ret_pages, *ret_bytes.  On failure the file is removed */
int store_backup_finish(
    struct store_backup *b, int64_t *ret_pages, int64_t *ret_bytes);
/* gives the copy up and removes the file; NULL-safe; returns NULL */
struct store_backup *store_backup_abort(struct store_backup *b);

#endif
