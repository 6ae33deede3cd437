/* SPDX-License-Identifier: MIT */
/*
 * store_pg.c: the PostgreSQL store ([store] backend = postgresql), through
 * libpq: opening and migrating, the batch transaction with a savepoint per
 * request (as SQLite's), the writes of promises and their history, and the
 * backend's table.  The same schema versions as SQLite's
 * (store_pg_schema.c); the reads and the outbox are in store_pg_query.c.
 * Every change is acknowledged only after its COMMIT returned, as on
 * SQLite.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_backend.h"
#include "store_pg_impl.h"
#include "util.h"

/* held while migrating, so that two daemons starting together on one
 * database never both take the same step (any constant of our own) */
#define PG_MIGRATE_LOCK 0x70726f6d /* "prom" */

static const struct store_backend pg_backend;

/* version: 0 for a database without our table yet */
static int
schema_version(struct pg_store *st, int *ret)
{
	int64_t v[1];
	int r;

	if ((r = pg_exec(st,
	         "CREATE TABLE IF NOT EXISTS promised_schema "
	         "(version INTEGER NOT NULL);"
	         "INSERT INTO promised_schema SELECT 0 WHERE NOT EXISTS "
	         "(SELECT 1 FROM promised_schema)",
	         NULL, NULL)) < 0 ||
	    (r = pg_ints(st, "SELECT max(version) FROM promised_schema", NULL,
	         v, 1)) < 0)
		return r;
	*ret = (int)v[0];
	return 0;
}

/* brings the schema up to date, all steps in one transaction under an
 * advisory lock: a crash mid-upgrade leaves the old version whole */
static int
migrate(struct pg_store *st)
{
	struct pg_args a = {0};
	size_t i, n;
	const char *const *steps = store_pg_migrations(&n);
	int version, r;

	if ((r = pg_exec(st, "BEGIN", NULL, NULL)) < 0)
		return r;
	pg_arg_i64(&a, PG_MIGRATE_LOCK);
	if ((r = pg_exec(st, "SELECT pg_advisory_xact_lock($1)", &a, NULL)) <
	        0 ||
	    (r = schema_version(st, &version)) < 0)
		goto out;
	if (version < 0 || (size_t)version > n) {
		snprintf(st->msg, sizeof(st->msg),
		    "database schema version %d is newer than this promised "
		    "knows (%zu)",
		    version, n);
		r = -EPROTO;
		goto out;
	}
	st->migrated_from = (size_t)version < n ? version : -1;
	for (i = (size_t)version; i < n; i++) {
		/* a multi-statement text runs without parameters */
		if ((r = pg_exec(st, steps[i], NULL, NULL)) < 0)
			goto out;
	}
	a.n = 0;
	pg_arg_i64(&a, (int64_t)n);
	if ((r = pg_exec(st, "UPDATE promised_schema SET version = $1", &a,
	         NULL)) < 0 ||
	    (r = pg_exec(st, pg_leader_schema(), NULL, NULL)) < 0)
		goto out;
	r = pg_exec(st, "COMMIT", NULL, NULL);
	st->version = (int)n;
out:
	if (r < 0)
		(void)pg_exec(st, "ROLLBACK", NULL, NULL);
	return r;
}

/*
 * Connecting blocks, once, at start-up, before the daemon serves anyone.
 * Keepalives (libpq's defaults are the kernel's two hours) and a
 * statement timeout bound how long a lost server or a stuck statement
 * can hold the loop later; the conninfo may override any of them.
 */
static int
connect_pg(struct pg_store *st, const char *conninfo)
{
	static const char *const keys[] = {"keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "connect_timeout",
	    "options", "fallback_application_name", "dbname", NULL};
	const char *v[] = {"1", "5", "2", "3", "10",
	    "-c statement_timeout=30000 -c client_min_messages=warning "
	    "-c idle_in_transaction_session_timeout=20000",
	    "promised", conninfo, NULL};

	/* the conninfo comes last and is expanded (dbname may be a whole
	 * connection string or URL): what it sets wins */
	st->conn = PQconnectdbParams(keys, v, 1);
	if (st->conn == NULL)
		return -ENOMEM;
	if (PQstatus(st->conn) != CONNECTION_OK) {
		snprintf(st->msg, sizeof(st->msg), "cannot connect: %s",
		    PQerrorMessage(st->conn));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		return -ECONNREFUSED;
	}
	return 0;
}

static struct store *
pg_close(struct store *base)
{
	struct pg_store *st = pg_of(base);

	if (st == NULL)
		return NULL;
	/* an open batch is rolled back by the server when we go, and the
	 * leader's lock with its connection */
	pg_leader_close(st);
	PQfinish(st->conn);
	free(st->conninfo);
	free(st);
	return NULL;
}

int
store_pg_open(
    struct store **ret, const char *conninfo, char *err, size_t errlen)
{
	struct pg_store *st;
	int64_t v[1];
	int r;

	*ret = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -ENOMEM;
	st->base.be = &pg_backend;
	st->migrated_from = -1;
	if ((st->conninfo = strdup(conninfo)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = connect_pg(st, conninfo)) < 0 || (r = migrate(st)) < 0 ||
	    (r = pg_ints(st, "SELECT coalesce(max(id), 0) FROM promises", NULL,
	         v, 1)) < 0)
		goto out;
	st->max_id = v[0];
	*ret = &st->base;
	return 0;
out:
	util_strlcpy(err, st->msg[0] ? st->msg : strerror(-r), errlen);
	pg_close(&st->base);
	return r;
}

static const char *
pg_errmsg(const struct store *base)
{
	return pg_cof(base)->msg;
}

/* the size of a PostgreSQL database is its administrators' to cap */
static int
pg_set_max_size(struct store *base, int64_t bytes)
{
	(void)base;
	(void)bytes;
	return 0;
}

/* normal: a commit is acknowledged before the server's WAL is flushed, so
 * a crash of the server (not of promised) can lose the latest ones */
static int
pg_set_durability(struct store *base, bool full)
{
	return pg_exec(pg_of(base),
	    full ? "SET synchronous_commit = on"
	         : "SET synchronous_commit = off",
	    NULL, NULL);
}

static int
pg_schema_version(const struct store *base)
{
	return pg_cof(base)->version;
}

static int
pg_schema_migrated_from(const struct store *base)
{
	return pg_cof(base)->migrated_from;
}

static int
pg_begin(struct store *base)
{
	struct pg_store *st = pg_of(base);
	int r;

	if (st->in_txn)
		return 0;
	/* a connection lost since the last batch is made again here:
	 * nothing was pending on it */
	if (PQstatus(st->conn) == CONNECTION_BAD) {
		/* blocks for up to connect_timeout; the loop had nothing it
		 * could do with the database meanwhile anyway */
		PQreset(st->conn);
		if (PQstatus(st->conn) != CONNECTION_OK) {
			snprintf(st->msg, sizeof(st->msg),
			    "lost the connection to PostgreSQL: %s",
			    PQerrorMessage(st->conn));
			st->msg[strcspn(st->msg, "\n")] = '\0';
			return -EIO;
		}
	}
	/* sent with the batch's first statement: a round trip saved */
	st->poisoned = false;
	if ((r = pg_defer(st, NULL, "BEGIN", NULL)) == 0)
		st->in_txn = true;
	return r;
}

static bool
pg_in_txn(const struct store *base)
{
	return pg_cof(base)->in_txn;
}

static int
pg_commit(struct store *base)
{
	struct pg_store *st = pg_of(base);
	PGresult *res = NULL;
	int r = 0;

	if (!st->in_txn)
		return 0;
	st->in_txn = false;
	st->fenced = false;
	/* a request's write failed after it was done: none of the batch is
	 * kept, and the message says why */
	if (!st->poisoned && (r = pg_send_note(st)) == 0)
		res = pg_query(st, "COMMIT", NULL, &r);
	pg_note_clear(st);
	if (res == NULL && r == 0)
		r = -EIO;
	if (st->poisoned) {
		char why[sizeof(st->msg)];

		memcpy(why, st->msg, sizeof(why));
		(void)pg_flush(st);
		memcpy(st->msg, why, sizeof(why));
	}
	/* COMMIT of a transaction that failed answers ROLLBACK: nothing
	 * was kept, and the callers must not say it was */
	if (res == NULL) {
		st->poisoned = false;
		/* a deferred statement that failed had the server skip the
		 * COMMIT: the transaction is still open, and ends here */
		if (PQtransactionStatus(st->conn) == PQTRANS_INERROR ||
		    PQtransactionStatus(st->conn) == PQTRANS_INTRANS)
			(void)pg_exec(st, "ROLLBACK", NULL, NULL);
		return r;
	}
	if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		snprintf(st->msg, sizeof(st->msg),
		    "the transaction was rolled back");
		r = -EIO;
	}
	PQclear(res);
	return r;
}

static int
pg_rollback(struct store *base)
{
	struct pg_store *st = pg_of(base);

	if (!st->in_txn)
		return 0;
	st->in_txn = false;
	st->fenced = false;
	pg_note_clear(st);
	/* a deferred statement that failed would have the server skip the
	 * ROLLBACK sent after it: their results first */
	(void)pg_flush(st);
	st->poisoned = false;
	return pg_exec(st, "ROLLBACK", NULL, NULL);
}

static int
pg_savepoint(struct store *base)
{
	int r = pg_begin(base);

	if (r < 0)
		return r;
	/* a new request: what failed before it is not its failure */
	pg_of(base)->req++;
	/* sent with the request's first statement, whose answer says if it
	 * failed */
	return pg_defer(pg_of(base), "savepoint", "SAVEPOINT req", NULL);
}

static int
pg_release(struct store *base)
{
	struct pg_store *st = pg_of(base);
	int r;

	/* deferred too: a failure of the request's statements read after
	 * this fails the batch's commit (poisoned), and nothing is answered
	 * before the commit.  Sent now, so that the server works on the
	 * request while the next one is read. */
	if ((r = pg_defer(st, "release", "RELEASE req", NULL)) < 0)
		return r;
	if (PQflush(st->conn) < 0) {
		snprintf(
		    st->msg, sizeof(st->msg), "%s", PQerrorMessage(st->conn));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		st->poisoned = true;
	}
	return 0;
}

static int
pg_rollback_savepoint(struct store *base)
{
	struct pg_store *st = pg_of(base);
	int r;

	(void)pg_flush(st);
	r = pg_exec(st, "ROLLBACK TO req", NULL, NULL);

	/* the fence's row lock, if taken in it, went with it */
	st->fenced = false;
	if (r == 0)
		r = pg_exec(st, "RELEASE req", NULL, NULL);
	return r;
}

static void
nudge_to_text(const int64_t *nudge, size_t n, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%lld", i ? "," : "",
		    (long long)nudge[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/*
 * The next promise id, from ids reserved PG_ID_POOL at a time, so that an
 * add need not wait for its INSERT to learn its id.  As with a sequence's
 * own CACHE, the ids a daemon reserved and did not use are skipped.
 */
static int
next_id(struct pg_store *st, int64_t *ret)
{
	struct pg_args a = {0};
	PGresult *res;
	int i, r;

	if (st->next_id >= st->n_ids) {
		pg_arg_i64(&a, PG_ID_POOL);
		res = pg_query_prep(st, "ids",
		    "SELECT nextval(pg_get_serial_sequence('promises', 'id')) "
		    "FROM generate_series(1, $1::int)",
		    &a, &r);
		if (res == NULL)
			return r;
		st->n_ids =
		    PQntuples(res) < PG_ID_POOL ? PQntuples(res) : PG_ID_POOL;
		for (i = 0; i < st->n_ids; i++)
			st->ids[i] = pg_i64(res, i, 0);
		st->next_id = 0;
		PQclear(res);
		if (st->n_ids == 0) {
			snprintf(st->msg, sizeof(st->msg),
			    "no promise id from the sequence");
			return -EIO;
		}
	}
	*ret = st->ids[st->next_id++];
	return 0;
}

static int
pg_add(struct store *base, const struct promise_rec *p, int64_t *ret_id)
{
	struct pg_store *st = pg_of(base);
	char nudge[PROTO_MAX_NUDGES * 21 + 1], asked[PROTO_MAX_NUDGES * 21 + 1];
	struct pg_args a = {0};
	int64_t id = 0;
	int r;

	if ((r = next_id(st, &id)) < 0)
		return r;
	nudge_to_text(p->nudge, p->n_nudge, nudge, sizeof(nudge));
	nudge_to_text(p->asked, p->n_asked, asked, sizeof(asked));
	pg_arg_i64(&a, id);
	pg_arg_str(&a, p->title);
	pg_arg_str(&a, p->owner);
	pg_arg_str(&a, p->for_whom);
	pg_arg_str(&a, p->note);
	pg_arg_i64(&a, p->due_at);
	pg_arg_i64(&a, p->created_at);
	pg_arg_str(&a, p->created_by);
	pg_arg_str(&a, nudge);
	pg_arg_i64(&a, p->escalate_after);
	pg_arg_i64(&a, p->escalation_repeat);
	pg_arg_i64(&a, p->stage);
	pg_arg_str(&a, p->kind);
	pg_arg_str(&a, p->shifted ? asked : NULL);
	/* deferred: its failure, read later, fails the request or, once
	 * the request is done, its batch */
	if ((r = pg_defer(st, "add",
	         "INSERT INTO promises (id, title, owner, for_whom, note, "
	         "due_at, created_at, created_by, nudge, escalate_after, "
	         "escalation_repeat, stage, kind, nudge_asked) VALUES ($1, $2, "
	         "$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
	         &a)) < 0)
		return r;
	*ret_id = id;
	pg_note_promise(st, id);
	if (id > st->max_id)
		st->max_id = id;
	return 0;
}

static int
pg_get(struct store *base, int64_t id,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct pg_args a = {0};
	struct promise_rec p;
	PGresult *res;
	int r;

	pg_arg_i64(&a, id);
	res = pg_query(pg_of(base),
	    "SELECT " PG_PROMISE_COLS " FROM promises WHERE id = $1", &a, &r);
	if (res == NULL)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else {
		pg_read_promise(res, 0, &p);
		cb(arg, &p);
	}
	PQclear(res);
	return r;
}

/* -ENOENT when the guarded UPDATE touched no row */
static int
exec_one(struct pg_store *st, const char *sql, const struct pg_args *a)
{
	int64_t n = 0;
	int r = pg_exec(st, sql, a, &n);

	if (r == 0 && n == 0)
		return -ENOENT;
	return r;
}

static int
pg_settle(struct store *base, int64_t id, enum promise_state state, int64_t at)
{
	struct pg_args a = {0};

	pg_arg_str(&a, pstate_name(state));
	pg_arg_i64(&a, at);
	pg_arg_i64(&a, id);
	pg_note_promise(pg_of(base), id);
	return exec_one(pg_of(base),
	    "UPDATE promises SET state = $1, settled_at = $2 "
	    "WHERE id = $3 AND state = 'open'",
	    &a);
}

static int
pg_snooze(struct store *base, const struct promise_rec *p)
{
	char nudge[PROTO_MAX_NUDGES * 21 + 1], asked[PROTO_MAX_NUDGES * 21 + 1];
	struct pg_args a = {0};

	nudge_to_text(p->nudge, p->n_nudge, nudge, sizeof(nudge));
	nudge_to_text(p->asked, p->n_asked, asked, sizeof(asked));
	pg_arg_i64(&a, p->due_at);
	pg_arg_i64(&a, p->stage);
	pg_arg_str(&a, nudge);
	pg_arg_str(&a, p->shifted ? asked : NULL);
	pg_arg_i64(&a, p->id);
	pg_note_promise(pg_of(base), p->id);
	return exec_one(pg_of(base),
	    "UPDATE promises SET due_at = $1, stage = $2, nudge = $3, "
	    "nudge_asked = $4, snoozes = snoozes + 1 "
	    "WHERE id = $5 AND state = 'open'",
	    &a);
}

static int
pg_set_stage(struct store *base, int64_t id, int32_t stage)
{
	struct pg_args a = {0};
	int r;

	/* a stage moves only where it fired: only the leader's may */
	if ((r = pg_fence_batch(pg_of(base))) < 0)
		return r;
	pg_arg_i64(&a, stage);
	pg_arg_i64(&a, id);
	return exec_one(pg_of(base),
	    "UPDATE promises SET stage = $1 WHERE id = $2 AND state = 'open'",
	    &a);
}

static int
pg_event(struct store *base, int64_t promise_id, int64_t at, const char *actor,
    const char *what, const char *detail)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, promise_id);
	pg_arg_i64(&a, at);
	pg_arg_str(&a, actor);
	pg_arg_str(&a, what);
	pg_arg_str(&a, detail);
	/* history is written within a request's savepoint, whose RELEASE
	 * (or the next statement) reads its answer: no round trip of its
	 * own.  a holds copies of the numbers; the strings are the
	 * caller's, which libpq has copied once this returns. */
	return pg_defer(pg_of(base), "event",
	    "INSERT INTO events (promise_id, at, actor, kind, detail) "
	    "VALUES ($1, $2, $3, $4, $5)",
	    &a);
}

static int
pg_refusal(struct store *base, int64_t promise_id, int64_t at,
    const char *actor, const char *op, int64_t window)
{
	struct pg_store *st = pg_of(base);
	struct pg_args a = {0};
	int64_t n = 0;
	int r;

	pg_arg_i64(&a, promise_id);
	pg_arg_i64(&a, at);
	pg_arg_str(&a, actor);
	pg_arg_i64(&a, window);
	r = pg_exec(st,
	    "UPDATE events SET detail = (coalesce(detail, '{}')::jsonb || "
	    "jsonb_build_object('count', coalesce((detail::jsonb ->> "
	    "'count')::bigint, 1) + 1, 'last_at', $2::bigint))::text "
	    "WHERE id = (SELECT id FROM events WHERE promise_id = $1 AND "
	    "kind = 'refused' AND actor = $3 AND at > $2::bigint - $4::bigint "
	    "ORDER BY id DESC LIMIT 1)",
	    &a, &n);
	if (r < 0 || n > 0)
		return r;
	a.n = 0;
	pg_arg_i64(&a, promise_id);
	pg_arg_i64(&a, at);
	pg_arg_str(&a, actor);
	pg_arg_str(&a, op);
	return pg_exec(st,
	    "INSERT INTO events (promise_id, at, actor, kind, detail) "
	    "VALUES ($1, $2, $3, 'refused', jsonb_build_object('op', $4::text, "
	    "'count', 1, 'last_at', $2::bigint)::text)",
	    &a, NULL);
}

static int
each_event(struct pg_store *st, const char *sql, const struct pg_args *a,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct event_rec e;
	PGresult *res;
	int i, r;

	if ((res = pg_query(st, sql, a, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		e.id = pg_i64(res, i, 0);
		e.promise_id = pg_i64(res, i, 1);
		e.at = pg_i64(res, i, 2);
		e.actor = pg_text(res, i, 3);
		e.what = pg_text(res, i, 4);
		e.detail = pg_text(res, i, 5);
		cb(arg, &e);
	}
	PQclear(res);
	return 0;
}

static int
pg_events(struct store *base, int64_t promise_id,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, promise_id);
	return each_event(pg_of(base),
	    "SELECT id, promise_id, at, actor, kind, detail FROM events "
	    "WHERE promise_id = $1 ORDER BY id",
	    &a, cb, arg);
}

static int
pg_events_latest(struct store *base, int64_t promise_id, int64_t limit,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, promise_id);
	pg_arg_i64(&a, limit);
	/* refusals only where the other events leave room, as on SQLite */
	return each_event(pg_of(base),
	    "SELECT * FROM (SELECT id, promise_id, at, actor, kind, detail "
	    "FROM events WHERE promise_id = $1 ORDER BY kind = 'refused', "
	    "id DESC LIMIT $2) e ORDER BY id DESC",
	    &a, cb, arg);
}

/* the full-text index is an expression index, current with every write */
static bool
pg_fts_behind(const struct store *base)
{
	(void)base;
	return false;
}

static int64_t
pg_max_id(const struct store *base)
{
	return pg_cof(base)->max_id;
}

static int
pg_fts_index(struct store *base, int64_t limit)
{
	(void)base;
	(void)limit;
	return 0;
}

static const struct store_backend pg_backend = {
    .name = "postgresql",
    .close = pg_close,
    .errmsg = pg_errmsg,
    .set_max_size = pg_set_max_size,
    .set_durability = pg_set_durability,
    .schema_version = pg_schema_version,
    .schema_migrated_from = pg_schema_migrated_from,
    .begin = pg_begin,
    .in_txn = pg_in_txn,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_savepoint = pg_rollback_savepoint,
    .add = pg_add,
    .get = pg_get,
    .settle = pg_settle,
    .snooze = pg_snooze,
    .set_stage = pg_set_stage,
    .event = pg_event,
    .refusal = pg_refusal,
    .events = pg_events,
    .events_latest = pg_events_latest,
    .list = pg_list,
    .foreach_open = pg_foreach_open,
    .due_between = pg_due_between,
    .digest_sent = pg_digest_sent,
    .digest_was_sent = pg_digest_was_sent,
    .count_open = pg_count_open,
    .export = pg_export,
    .fts_behind = pg_fts_behind,
    .max_id = pg_max_id,
    .fts_index = pg_fts_index,
    .report = pg_report,
    .report_lateness = pg_report_lateness,
    .sample = pg_sample,
    .counts = pg_counts,
    .owner_counts = pg_owner_counts,
    .metrics = pg_metrics,
    .delivery_add = pg_delivery_add,
    .delivery_held = pg_delivery_held,
    .delivery_sent = pg_delivery_sent,
    .deliveries_sent = pg_deliveries_sent,
    .delivery_retry = pg_delivery_retry,
    .delivery_failed = pg_delivery_failed,
    .foreach_pending_delivery = pg_foreach_pending_delivery,
    .delivery_by_uid = pg_delivery_by_uid,
    .delivery_short = pg_delivery_short,
    .delivery_resolve = pg_delivery_resolve,
    .deliveries = pg_deliveries,
    .delivery_requeue = pg_delivery_requeue,
    .delivery_count = pg_delivery_count,
    .escalated = pg_escalated,
    .ack = pg_ack,
    .acked_until = pg_acked_until,
    .mail_seen = pg_mail_seen,
    .mail_record = pg_mail_record,
    .leadership = pg_leadership,
    .lead = pg_lead,
    .lead_fd = pg_lead_fd,
    .lead_input = pg_lead_input,
    .token_add = pg_token_add,
    .token_find = pg_token_find,
    .token_list = pg_token_list,
    .token_revoke = pg_token_revoke,
    .token_used = pg_token_used,
    .token_prune = pg_token_prune,
};
