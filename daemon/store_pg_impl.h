/* SPDX-License-Identifier: MIT */
/*
 * store_pg_impl.h: what the PostgreSQL backend's files share: store_pg.c
 * (opening, transactions, the writes of promises and history, the table)
 * over store_pg_query.c (the reads and the outbox) over store_pg_conn.c
 * (running statements) and store_pg_schema.c.  Nothing outside the store
 * includes it.
 */
#ifndef PROMISED_STORE_PG_IMPL_H
#define PROMISED_STORE_PG_IMPL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "leadnote.h"
#include "store.h"
#include "store_backend.h"

/* how many statements a connection keeps prepared (pg_query_prep) */
#define PG_MAX_PREPARED 8
/* deferred statements at most before their results are read */
#define PG_MAX_DEFER 1024
/* promise ids reserved from the sequence at a time */
#define PG_ID_POOL 64

struct pg_store {
	struct store base;
	PGconn *conn;
	bool in_txn;
	bool fenced; /* the open batch holds the leader's row (pg_fence) */
	/* statements sent in pipeline mode, their results unread, and the
	 * request (req, counted by savepoint) each was sent for: a failure
	 * read after its request was done fails the whole batch (poisoned) */
	int deferred;
	int64_t req;
	int64_t deferred_req[PG_MAX_DEFER];
	bool poisoned;
	/* ids reserved from the promises' sequence, not used yet */
	int64_t ids[PG_ID_POOL];
	int n_ids, next_id;
	/* the named statements prepared on the connection of that pid */
	const char *prepared[PG_MAX_PREPARED];
	int n_prepared, prepared_pid;
	int version;
	int migrated_from; /* the version found at open if older, else -1 */
	int64_t max_id;    /* the highest promise id this store has seen */
	char msg[256];
	/* store_pg_leader.c: the leader's lock and LISTEN, on a connection
	 * of their own, made again from conninfo when lost */
	char *conninfo;
	PGconn *lock;
	bool leader;
	bool beat_busy;     /* a beat sent, its answer not read yet */
	bool fenced_out;    /* a firing found another epoch in force */
	double queue_usage; /* of NOTIFY's queue, 0 to 1, at the last beat */
	int64_t epoch;      /* ours, while leader (and after, to say so) */
	int64_t since;
	char host[128];
	/* what the open batch changed (leadnote.h), NOTIFYed with its
	 * COMMIT */
	char note[LEADNOTE_MAX + 1];
	size_t note_len;
};

/* the parameters of one statement, as text (libpq's text format) */
#define PG_MAX_ARGS 32
struct pg_args {
	const char *v[PG_MAX_ARGS];
	char buf[PG_MAX_ARGS][24];
	int n;
};

struct pg_store *pg_of(struct store *base);
const struct pg_store *pg_cof(const struct store *base);
void pg_arg_i64(struct pg_args *a, int64_t v);
/* v borrowed until the statement runs; NULL is SQL NULL */
void pg_arg_str(struct pg_args *a, const char *v);
/* runs sql; the result (caller PQclears) or NULL with the message kept
 * and *ret the -errno */
PGresult *pg_query(
    struct pg_store *st, const char *sql, const struct pg_args *a, int *ret);
/* the same, with sql prepared once a connection as name (a constant
 * string): for the statements every request runs; name NULL as
 * pg_query */
PGresult *pg_query_prep(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a, int *ret);
/* runs sql that returns no rows; *ret_changed (if not NULL): the rows it
 * touched */
int pg_exec(struct pg_store *st, const char *sql, const struct pg_args *a,
    int64_t *ret_changed);
/* sends sql (prepared as name, if not NULL) without waiting for its
 * result, in libpq's pipeline mode: its failure is the answer of the next
 * statement run (or pg_flush) */
int pg_defer(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a);
/* waits for the deferred statements: 0, or the first one's failure */
int pg_flush(struct pg_store *st);
/* a column as an integer (NULL: 0) and as text (NULL: NULL) */
int64_t pg_i64(const PGresult *res, int row, int col);
const char *pg_text(const PGresult *res, int row, int col);
/* runs a one-row query of integers into a[0..n-1] */
int pg_ints(struct pg_store *st, const char *sql, const struct pg_args *a,
    int64_t *v, int n);
/* pg_exec of an UPDATE or DELETE meant for one row: -ENOENT when it
 * touched none */
static inline int
pg_exec_one(struct pg_store *st, const char *sql, const struct pg_args *a)
{
	int64_t n = 0;
	int r = pg_exec(st, sql, a, &n);

	return r == 0 && n == 0 ? -ENOENT : r;
}

/* the promise columns every full read selects, and the reader of them */
#define PG_PROMISE_COLS                                                        \
	"id, title, owner, for_whom, note, created_by, due_at, created_at, "   \
	"coalesce(settled_at, 0), state, nudge, escalate_after, "              \
	"escalation_repeat, stage, snoozes, kind, nudge_asked"
void pg_read_promise(const PGresult *res, int row, struct promise_rec *p);
size_t pg_nudge_from_text(const char *s, int64_t *nudge, size_t max);

/* store_pg_leader.c: the promised_leader table, made with the schema */
const char *pg_leader_schema(void);
/* what the store.h functions of the same name (store_ for pg_) do */
int pg_leadership(struct store *st, struct store_leadership *ret);
int pg_lead(struct store *st, double stale_s);
int pg_lead_fd(const struct store *st);
int pg_lead_input(
    struct store *st, void (*cb)(void *arg, const char *note), void *arg);
/* within a firing's batch: -ESTALE unless this daemon leads, at the
 * epoch the database holds; holds that row until the commit */
int pg_fence(struct pg_store *st);
/* the same, once per batch */
int pg_fence_batch(struct pg_store *st);
/* the open batch changed promise id, delivery uid; forget the notes */
void pg_note_promise(struct pg_store *st, int64_t id);
void pg_note_delivery(struct pg_store *st, const char *uid);
void pg_note_clear(struct pg_store *st);
/* defers the NOTIFY of the batch's note, if any, to go with its COMMIT */
int pg_send_note(struct pg_store *st);
/* closes the lock's connection; the lock goes with it */
void pg_leader_close(struct pg_store *st);
/* store_pg_schema.c: the migrations, each from version i to i + 1 */
const char *const *store_pg_migrations(size_t *ret_n);

/* store_pg_query.c: what the store.h functions of the same name (store_
 * for pg_) do */
int pg_list(struct store *st, enum store_filter f, const char *owner,
    const char *match, int64_t now, int64_t limit,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg);
int pg_foreach_open(struct store *st,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
int pg_due_between(struct store *st, bool kept_too, int64_t from, int64_t to,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
int pg_digest_sent(
    struct store *st, const char *week, const char *manager, int64_t at);
int pg_digest_was_sent(
    struct store *st, const char *week, const char *manager, bool *ret);
int pg_count_open(struct store *st, int64_t *ret);
int pg_export(struct store *st, int64_t after, int64_t limit,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
int pg_report(struct store *st, int64_t since, int64_t now,
    int (*cb)(void *arg, const struct report_row *row), void *arg);
int pg_report_lateness(struct store *st, const char *owner, int64_t since,
    int (*cb)(void *arg, int64_t late), void *arg);
int pg_sample(struct store *st, int64_t since,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
int pg_counts(struct store *st, int64_t now, struct store_counts *ret);
int pg_owner_counts(struct store *st, const char *owner, int64_t now,
    struct store_owner_counts *ret);
int pg_metrics(struct store *st, int64_t now, struct store_metrics *ret);
int pg_delivery_add(struct store *st, const char *uid, int64_t promise_id,
    const char *event, const char *recipient, const char *channel,
    const char *payload, int64_t now, int64_t *ret_id);
int pg_delivery_held(struct store *st, int64_t promise_id,
    const char *recipient, const char *event, int64_t after, bool *ret);
int pg_delivery_sent(struct store *st, int64_t id, int64_t now);
int pg_deliveries_sent(
    struct store *st, const int64_t *ids, size_t n, int64_t now);
int pg_delivery_retry(
    struct store *st, int64_t id, int64_t next_attempt_at, const char *error);
int pg_delivery_failed(struct store *st, int64_t id, const char *error);
int pg_foreach_pending_delivery(struct store *st,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
int pg_delivery_by_uid(struct store *st, const char *uid,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
int pg_delivery_short(struct store *st, const char *uid, size_t *ret);
int pg_delivery_resolve(struct store *st, const char *prefix, char uid[33]);
int pg_deliveries(struct store *st, int64_t promise_id, const char *state,
    int64_t limit, int (*cb)(void *arg, const struct delivery_rec *d),
    void *arg);
int pg_delivery_requeue(struct store *st, int64_t id, int64_t now);
int pg_delivery_count(
    struct store *st, int64_t promise_id, const char *channel, int64_t *ret);
int pg_escalated(struct store *st, int64_t promise_id,
    int (*cb)(void *arg, const char *login), void *arg);
int pg_ack(
    struct store *st, int64_t promise_id, const char *login, int64_t until);
int pg_acked_until(
    struct store *st, int64_t promise_id, const char *login, int64_t *ret);
int pg_mail_seen(struct store *st, const char *key, char **ret_outcome);
int pg_mail_record(struct store *st, const char *key, int64_t at,
    const char *outcome, int64_t forget_before);

/* store_pg_token.c: what the store.h functions of the same name (store_
 * for pg_) do */
int pg_token_add(struct store *st, const struct token_rec *t, int64_t *ret_id);
int pg_token_find(struct store *st, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg);
int pg_token_list(struct store *st, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg);
int pg_token_revoke(
    struct store *st, int64_t id, const char *owner, int64_t at);
int pg_token_used(struct store *st, int64_t id, int64_t at);
int pg_token_prune(struct store *st, int64_t before);

#endif
