/* SPDX-License-Identifier: MIT */
/*
 * store.c: the SQLite database behind promised.  It is the source of truth:
 * the wheel in memory is rebuilt from it at every start.  The schema is
 * versioned with PRAGMA user_version and migrated forward on open; every
 * statement is prepared once and reused.  Writes happen inside the batch
 * transaction the daemon commits once per loop iteration (group commit),
 * with a savepoint around each request so one failure spoils no other.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_backend.h"
#include "store_impl.h"
#include "timefmt.h"
#include "util.h"

/* Each entry moves the schema from version i to i + 1. */
static const char *const migrations[] = {
    /* 1: promises, their history and the delivery outbox */
    "CREATE TABLE promises ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  title TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  for_whom TEXT,"
    "  note TEXT,"
    "  due_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (state IN ('open', 'kept', 'cancelled')),"
    "  settled_at INTEGER,"
    "  nudge TEXT NOT NULL DEFAULT '',"
    "  escalate_after INTEGER NOT NULL DEFAULT 0,"
    "  escalation_repeat INTEGER NOT NULL DEFAULT 86400,"
    "  stage INTEGER NOT NULL DEFAULT 0,"
    "  snoozes INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX promises_state_due ON promises (state, due_at);"
    "CREATE INDEX promises_owner ON promises (owner, state, due_at);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  promise_id INTEGER NOT NULL REFERENCES promises (id),"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE INDEX events_promise ON events (promise_id, id);"
    "CREATE TABLE deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL UNIQUE,"
    "  promise_id INTEGER NOT NULL REFERENCES promises (id),"
    "  kind TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'sent', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  sent_at INTEGER);"
    "CREATE INDEX deliveries_pending ON deliveries (state, next_attempt_at);",
    /* 2: managers' acknowledgements of escalations; deliveries by promise */
    "CREATE TABLE acks ("
    "  promise_id INTEGER NOT NULL REFERENCES promises (id),"
    "  login TEXT NOT NULL,"
    "  until INTEGER NOT NULL,"
    "  PRIMARY KEY (promise_id, login));"
    "CREATE INDEX deliveries_promise ON deliveries (promise_id, id);",
    /* 3: the state CHECKs as comparisons: an IN list built a temporary
     * table on every insert and update (SQLite's documented procedure
     * for changing a constraint, which leaves the rows as they are; the
     * schema version is bumped with every step) */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql, "
    "'CHECK (state IN (''open'', ''kept'', ''cancelled''))', "
    "'CHECK (state = ''open'' OR state = ''kept'' OR "
    "state = ''cancelled'')') WHERE type = 'table' AND name = 'promises';"
    "UPDATE sqlite_schema SET sql = replace(sql, "
    "'CHECK (state IN (''pending'', ''sent'', ''failed''))', "
    "'CHECK (state = ''pending'' OR state = ''sent'' OR "
    "state = ''failed'')') WHERE type = 'table' AND name = 'deliveries';"
    "PRAGMA writable_schema = OFF;",
    /* 4: what the schedule is rebuilt from at start, for open promises
     * only and in id order, so that start-up reads one compact index
     * instead of every row and every title */
    "CREATE INDEX IF NOT EXISTS promises_sched ON promises (id, due_at, stage, "
    "nudge, "
    "escalate_after, escalation_repeat) WHERE state = 'open';",
    /* 5: the kind a promise was made as, and the nudge lead times asked
     * for when business hours moved some (NULL: none moved) */
    "ALTER TABLE promises ADD COLUMN kind TEXT;"
    "ALTER TABLE promises ADD COLUMN nudge_asked TEXT;",
    /* 6: full-text search over titles, customers and notes (FTS5 with
     * the text in promises).  Rows are indexed behind the adds, in bulk,
     * by store_fts_index: an FTS5 insert per add, in small transactions,
     * cost four times the rest of the add.  fts_mark says how far. */
    "CREATE VIRTUAL TABLE promises_fts USING fts5(title, for_whom, note, "
    "content = 'promises', content_rowid = 'id');"
    "CREATE TABLE fts_mark (upto INTEGER NOT NULL);"
    "INSERT INTO fts_mark VALUES (0);",
    /* 7: weekly digests: a delivery about no one promise (promise_id
     * NULL; dropping a NOT NULL is among the changes SQLite's writable
     * schema allows, as in 3), and which digests were written, so that
     * each manager gets one per week whatever the restarts */
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql, "
    "'promise_id INTEGER NOT NULL REFERENCES promises (id)', "
    "'promise_id INTEGER REFERENCES promises (id)') "
    "WHERE type = 'table' AND name = 'deliveries';"
    "PRAGMA writable_schema = OFF;"
    "CREATE TABLE digests ("
    "  week TEXT NOT NULL,"
    "  manager TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (week, manager));",
    /* 8: the mails handed in, by recipient and Message-ID, with what was
     * made of them, so that the mail server's second delivery of a mail
     * whose answer it never got acts no second time (store_mail.c) */
    "CREATE TABLE mails ("
    "  key TEXT PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX mails_at ON mails (at);",
    /* 9: API tokens, web sessions and sign-in secrets, by their hash
     * (store_token.c) */
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('api', 'session', 'signin')),"
    "  hash TEXT NOT NULL UNIQUE,"
    "  owner TEXT NOT NULL,"
    "  name TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER,"
    "  expires_at INTEGER,"
    "  revoked_at INTEGER);"
    "CREATE INDEX tokens_owner ON tokens (owner, id);",
    /* 10: the outbox's indexes by state hold the rows still to send or
     * given up on, not the sent ones: a sent row used to move from one
     * end of (state, next_attempt_at) to the other, and a burst of
     * deliveries wrote out six pages of that index per commit */
    "DROP INDEX deliveries_pending;"
    "CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) "
    "WHERE state = 'pending';"
    "CREATE INDEX deliveries_failed ON deliveries (id) "
    "WHERE state = 'failed';",
};

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ADD,
	ST_GET,
	ST_SETTLE,
	ST_SNOOZE,
	ST_SET_STAGE,
	ST_EVENT,
	ST_REFUSAL_AGAIN,
	ST_REFUSAL,
	ST_EVENTS,
	ST_EVENTS_LATEST,
	ST_EVENTS_NEWEST,
	ST_OPEN_ALL,
	ST_COUNT_OPEN,
	ST_COUNT_OVERDUE,
	ST_NEXT_DUE,
	ST_COUNT_DELIVERIES,
	ST_COUNT_OWNER,
	ST_DELIVERY_ADD,
	ST_DELIVERY_SENT,
	ST_DELIVERY_RETRY,
	ST_DELIVERY_FAILED,
	ST_DELIVERY_PENDING,
	ST_DELIVERY_COUNT,
	ST_DELIVERY_HELD,
	ST_ESCALATED,
	ST_ACK,
	ST_ACKED_UNTIL,
	ST_DELIVERY_BY_UID,
	ST_DELIVERY_NEIGHBOURS,
	ST_DELIVERY_PREFIX,
	ST_DELIVERY_REQUEUE,
	ST_COUNT_BY_STATE,
	ST_COUNT_MISSED,
	ST_COUNT_DELIVERY_STATES,
	ST_FTS_UPTO,
	ST_FTS_NEXT,
	ST_FTS_INDEX,
	ST_FTS_MARK,
	ST_MAX_ID,
	ST_DIGEST_SENT,
	ST_DIGEST_WAS_SENT,
	ST_MAX,
};

#define PROMISE_COLS                                                           \
	"id, title, owner, for_whom, note, created_by, due_at, created_at, "   \
	"coalesce(settled_at, 0), state, nudge, escalate_after, "              \
	"escalation_repeat, stage, snoozes, kind, nudge_asked"

#define DELIVERY_COLS                                                          \
	"id, uid, coalesce(promise_id, 0), kind, recipient, channel, "         \
	"payload, state, "                                                     \
	"attempts, next_attempt_at, last_error, created_at, "                  \
	"coalesce(sent_at, 0)"
/* the same, with the owner of the delivery's promise (NULL for a digest) */
#define DELIVERY_OWNER_COLS                                                    \
	"d.id, d.uid, coalesce(d.promise_id, 0), d.kind, d.recipient, "        \
	"d.channel, d.payload, d.state, d.attempts, d.next_attempt_at, "       \
	"d.last_error, d.created_at, coalesce(d.sent_at, 0), p.owner"

static const char *const stmt_sql[ST_MAX] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
    [ST_ADD] = "INSERT INTO promises (title, owner, for_whom, note, "
               "due_at, created_at, created_by, nudge, escalate_after, "
               "escalation_repeat, stage, kind, nudge_asked) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_GET] = "SELECT " PROMISE_COLS " FROM promises WHERE id = ?",
    [ST_SETTLE] = "UPDATE promises SET state = ?, settled_at = ? "
                  "WHERE id = ? AND state = 'open'",
    [ST_SNOOZE] = "UPDATE promises SET due_at = ?, stage = ?, nudge = ?, "
                  "nudge_asked = ?, snoozes = snoozes + 1 "
                  "WHERE id = ? AND state = 'open'",
    [ST_SET_STAGE] = "UPDATE promises SET stage = ? "
                     "WHERE id = ? AND state = 'open'",
    [ST_EVENT] = "INSERT INTO events (promise_id, at, actor, kind, detail) "
                 "VALUES (?, ?, ?, ?, ?)",
    [ST_EVENTS] = "SELECT id, promise_id, at, actor, kind, detail "
                  "FROM events WHERE promise_id = ? ORDER BY id",
    /* refusals are the one kind of event a stranger can cause: the
     * others come first, so a flood of them never pushes out the
     * owner's and managers' own */
    [ST_EVENTS_LATEST] = "SELECT * FROM (SELECT id, promise_id, at, actor, "
                         "kind, detail FROM events WHERE promise_id = ? "
                         "ORDER BY kind = 'refused', id DESC LIMIT ?) "
                         "ORDER BY id DESC",
    /* the newest alone, straight off events_promise: no sort */
    [ST_EVENTS_NEWEST] = "SELECT id, promise_id, at, actor, kind, detail "
                         "FROM events WHERE promise_id = ? "
                         "ORDER BY id DESC LIMIT ?",
    [ST_REFUSAL_AGAIN] =
        "UPDATE events SET detail = json_set(coalesce(detail, '{}'), "
        "'$.count', coalesce(json_extract(detail, '$.count'), 1) + 1, "
        "'$.last_at', ?2) "
        "WHERE id = (SELECT id FROM events WHERE promise_id = ?1 AND "
        "kind = 'refused' AND actor = ?3 AND at > ?2 - ?4 "
        "ORDER BY id DESC LIMIT 1)",
    [ST_REFUSAL] = "INSERT INTO events (promise_id, at, actor, kind, detail) "
                   "VALUES (?1, ?2, ?3, 'refused', json_object('op', ?4, "
                   "'count', 1, 'last_at', ?2))",
    [ST_FTS_UPTO] = "SELECT upto FROM fts_mark",
    [ST_FTS_NEXT] = "SELECT coalesce((SELECT id FROM promises WHERE id > ?1 "
                    "ORDER BY id LIMIT 1 OFFSET ?2), ?3)",
    [ST_FTS_INDEX] = "INSERT INTO promises_fts (rowid, title, for_whom, "
                     "note) SELECT id, title, for_whom, note FROM promises "
                     "WHERE id > ?1 AND id <= ?2",
    [ST_FTS_MARK] = "UPDATE fts_mark SET upto = ?",
    [ST_MAX_ID] = "SELECT coalesce(max(id), 0) FROM promises",
    [ST_DIGEST_SENT] = "INSERT INTO digests (week, manager, at) "
                       "VALUES (?, ?, ?)",
    [ST_DIGEST_WAS_SENT] = "SELECT 1 FROM digests "
                           "WHERE week = ? AND manager = ?",
    [ST_OPEN_ALL] = "SELECT id, due_at, stage, nudge, escalate_after, "
                    "escalation_repeat FROM promises INDEXED BY "
                    "promises_sched WHERE state = 'open' ORDER BY id",
    [ST_COUNT_OPEN] = "SELECT count(*) FROM promises WHERE state = 'open'",
    [ST_COUNT_OVERDUE] = "SELECT count(*) FROM promises "
                         "WHERE state = 'open' AND due_at <= ?",
    [ST_NEXT_DUE] = "SELECT min(due_at) FROM promises "
                    "WHERE state = 'open' AND due_at > ?",
    [ST_COUNT_DELIVERIES] = "SELECT count(*) FROM deliveries "
                            "WHERE state = 'failed'",
    /* on promises_owner (owner, state, due_at) */
    [ST_COUNT_OWNER] = "SELECT count(*), coalesce(sum(due_at <= ?2), 0), "
                       "min(CASE WHEN due_at > ?2 THEN due_at END) "
                       "FROM promises WHERE owner = ?1 AND state = 'open'",
    [ST_DELIVERY_ADD] = "INSERT INTO deliveries (uid, promise_id, kind, "
                        "recipient, channel, payload, next_attempt_at, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_DELIVERY_SENT] = "UPDATE deliveries SET state = 'sent', "
                         "attempts = attempts + 1, sent_at = ?, "
                         "last_error = NULL WHERE id = ?",
    [ST_DELIVERY_RETRY] = "UPDATE deliveries SET attempts = attempts + 1, "
                          "next_attempt_at = ?, last_error = ? "
                          "WHERE id = ?",
    [ST_DELIVERY_FAILED] = "UPDATE deliveries SET state = 'failed', "
                           "attempts = attempts + 1, last_error = ? "
                           "WHERE id = ?",
    [ST_DELIVERY_PENDING] = "SELECT " DELIVERY_COLS " FROM deliveries "
                            "WHERE state = 'pending' ORDER BY id",
    [ST_DELIVERY_COUNT] = "SELECT count(*) FROM deliveries "
                          "WHERE promise_id = ? AND channel = ?",
    [ST_DELIVERY_HELD] = "SELECT count(*) FROM deliveries "
                         "WHERE promise_id = ? AND recipient = ? "
                         "AND kind = ? AND state = 'pending' "
                         "AND attempts = 0 AND next_attempt_at > ?",
    [ST_ESCALATED] = "SELECT DISTINCT recipient FROM deliveries "
                     "WHERE promise_id = ? AND kind = 'promise.escalation' "
                     "ORDER BY recipient",
    [ST_ACK] = "INSERT INTO acks (promise_id, login, until) VALUES (?, ?, ?) "
               "ON CONFLICT (promise_id, login) DO UPDATE SET "
               "until = excluded.until",
    [ST_ACKED_UNTIL] = "SELECT until FROM acks "
                       "WHERE promise_id = ? AND login = ?",
    [ST_DELIVERY_BY_UID] =
        "SELECT " DELIVERY_COLS " FROM deliveries WHERE uid = ?",
    /* uids are lower-case hex, so 'g' sorts after every uid that starts
     * with the prefix; both walk the uid index */
    [ST_DELIVERY_NEIGHBOURS] =
        "SELECT (SELECT max(uid) FROM deliveries WHERE uid < ?1), "
        "(SELECT min(uid) FROM deliveries WHERE uid > ?1)",
    [ST_DELIVERY_PREFIX] = "SELECT uid FROM deliveries "
                           "WHERE uid >= ?1 AND uid < ?1 || 'g' "
                           "ORDER BY uid LIMIT 2",
    [ST_DELIVERY_REQUEUE] = "UPDATE deliveries SET state = 'pending', "
                            "next_attempt_at = ? WHERE id = ? "
                            "AND state IN ('pending', 'failed')",
    [ST_COUNT_BY_STATE] = "SELECT state, count(*) FROM promises "
                          "GROUP BY state",
    /* a due event keeps a promise counted after a snooze moves its
     * deadline ahead again, so the count never goes down */
    [ST_COUNT_MISSED] = "SELECT count(*) FROM promises p "
                        "WHERE (state = 'open' AND due_at <= ?1) "
                        "OR (state <> 'open' AND settled_at >= due_at) "
                        "OR EXISTS (SELECT 1 FROM events e "
                        "WHERE e.promise_id = p.id AND e.kind = 'due')",
    /* on the partial indexes: the sent ones are the rest */
    [ST_COUNT_DELIVERY_STATES] =
        "SELECT 'pending', count(*) FROM deliveries WHERE state = 'pending' "
        "UNION ALL SELECT 'failed', count(*) FROM deliveries "
        "WHERE state = 'failed' UNION ALL SELECT 'sent', "
        "(SELECT count(*) FROM deliveries) - "
        "(SELECT count(*) FROM deliveries WHERE state = 'pending') - "
        "(SELECT count(*) FROM deliveries WHERE state = 'failed')",
};

/* WAL frames after which the log is copied back into the database */
#define CKPT_FRAMES 1000

/*
 * Copying the write-ahead log back into the database (a checkpoint) takes
 * a thousand page writes and two fsyncs; SQLite would do it inside the
 * commit that crosses the threshold, stalling the loop for milliseconds.
 * This thread does it instead, on its own connection, while the loop goes
 * on writing: WAL lets a checkpoint run beside a writer.
 */
struct ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sqlite3 *db; /* the thread's own connection */
	bool running, want, stop;
};

struct sqlite_store {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_MAX];
	/* list's statements by filter, owner given, match given: prepared
	 * when first used */
	sqlite3_stmt *list[SFILTER_MAX][2][2];
	bool in_txn;
	int version;
	int migrated_from; /* the version found at open if older, else -1 */
	struct store_backup_slot backup;
	struct ckpt ck;
	/* the full-text index covers ids up to fts_upto (as committed:
	 * fts_done); ids up to max_id exist */
	int64_t fts_upto, fts_done, max_id;
	/* the last metrics counted, at metrics_at (seconds) with the
	 * database as sqlite3_total_changes64 said then */
	struct store_metrics metrics;
	int64_t metrics_at;
	sqlite3_int64 metrics_changes;
	char msg[256];
};

static struct sqlite_store *
sq(struct store *base)
{
	return base ? container_of(base, struct sqlite_store, base) : NULL;
}

static const struct sqlite_store *
csq(const struct store *base)
{
	return container_of(base, const struct sqlite_store, base);
}

static struct store *sqlite_close(struct store *base);
static void ckpt_start(struct sqlite_store *st, const char *path);
static int query_ints(struct sqlite_store *st, enum stmt which,
    const int64_t *bind, int64_t *a, int64_t *b);

int
store_map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EINVAL;
	case SQLITE_READONLY:
		return -EROFS;
	default:
		return -EIO;
	}
}

/* records SQLite's message for rc and maps it */
static int
fail(struct sqlite_store *st, int rc)
{
	util_strlcpy(st->msg, sqlite3_errmsg(st->db), sizeof(st->msg));
	return store_map_rc(rc);
}

/* runs a statement that returns no rows, then resets it */
static int
step_done(struct sqlite_store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	int r = rc == SQLITE_DONE ? 0 : fail(st, rc);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* tells every connection, this one too, that the schema changed */
static int
bump_schema(struct sqlite_store *st)
{
	sqlite3_stmt *s = NULL;
	char sql[64];
	int rc;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA schema_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld",
		    (long long)sqlite3_column_int64(s, 0) + 1);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK)
		return rc;
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

/* brings the schema up to date: 1 if it took a step, 0 if none, or
 * -errno */
static int
migrate(struct sqlite_store *st)
{
	sqlite3_stmt *s = NULL;
	char sql[64];
	int rc, version, r = 0;
	size_t i;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		r = fail(st, rc);
		goto out;
	}
	version = sqlite3_column_int(s, 0);
	/* a statement still stepping would hold the migration's locks */
	sqlite3_finalize(s);
	s = NULL;
	if (version < 0 || (size_t)version > ARRAY_SIZE(migrations)) {
		snprintf(st->msg, sizeof(st->msg),
		    "database schema version %d is newer than this promised "
		    "knows (%zu)",
		    version, ARRAY_SIZE(migrations));
		r = -EPROTO;
		goto out;
	}
	st->migrated_from =
	    (size_t)version < ARRAY_SIZE(migrations) ? version : -1;
	for (i = (size_t)version; i < ARRAY_SIZE(migrations); i++) {
		/* each step is atomic, so a crash mid-upgrade leaves a
		 * consistent older version that is retried next start */
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu", i + 1);
		if ((rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL,
		         NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(st->db, migrations[i], NULL, NULL,
		         NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL)) !=
		        SQLITE_OK ||
		    (rc = bump_schema(st)) != SQLITE_OK ||
		    (rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)) !=
		        SQLITE_OK) {
			r = fail(st, rc);
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			goto out;
		}
		r = 1;
	}
	st->version = (int)ARRAY_SIZE(migrations);
out:
	sqlite3_finalize(s);
	return r;
}

/* opens st->db at path with the pragmas every connection needs */
static int
connect_db(struct sqlite_store *st, const char *path)
{
	static bool configured;
	int rc;

	/* SQLite's running count of its memory took a global mutex around
	 * every allocation, a few per statement, and nothing reads it.  It
	 * can be turned off only before SQLite's first use (the store is the
	 * first); after that the call is refused and changes nothing. */
	if (!configured) {
		(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		configured = true;
	}
	rc = sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK)
		return st->db ? fail(st, rc) : -ENOMEM;
	/* FULL: an acknowledgement must survive power loss, not just a
	 * crash of the daemon */
	rc = sqlite3_exec(st->db,
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA foreign_keys = ON;"
	    "PRAGMA busy_timeout = 250;",
	    NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

/* a database that cannot take a write would start "ready" and then
 * refuse every change: find that out now, while it can stop the start */
static int
check_writable(struct sqlite_store *st)
{
	int rc;

	if (sqlite3_db_readonly(st->db, "main") == 1) {
		snprintf(st->msg, sizeof(st->msg),
		    "the database is read-only (its file or directory is not "
		    "writable)");
		return -EROFS;
	}
	if ((rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) !=
	    SQLITE_OK) {
		snprintf(st->msg, sizeof(st->msg),
		    "the database cannot be written: %s",
		    sqlite3_errmsg(st->db));
		return store_map_rc(rc);
	}
	(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return 0;
}

int
store_sqlite_open(
    struct store **ret, const char *path, char *err, size_t errlen)
{
	struct sqlite_store *st;
	int rc, r;
	size_t i;

	*ret = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -ENOMEM;
	st->base.be = &store_sqlite_backend;
	st->migrated_from = -1;
	if ((r = connect_db(st, path)) < 0 || (r = check_writable(st)) < 0 ||
	    (r = migrate(st)) < 0)
		goto out;
	/* after an upgrade, a new connection: one that edited the schema
	 * table directly must not go on with the schema it had parsed */
	if (r > 0) {
		sqlite3_close(st->db);
		st->db = NULL;
		if ((r = connect_db(st, path)) < 0)
			goto out;
	}
	for (i = 0; i < ST_MAX; i++) {
		if (stmt_sql[i] == NULL) {
			snprintf(st->msg, sizeof(st->msg),
			    "statement %zu has no SQL", i);
			r = -EINVAL;
			goto out;
		}
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = fail(st, rc);
			goto out;
		}
	}
	if ((r = query_ints(st, ST_FTS_UPTO, NULL, &st->fts_upto, NULL)) < 0 ||
	    (r = query_ints(st, ST_MAX_ID, NULL, &st->max_id, NULL)) < 0)
		goto out;
	st->fts_done = st->fts_upto;
	ckpt_start(st, path);
	*ret = &st->base;
	return 0;
out:
	util_strlcpy(err, st->msg[0] ? st->msg : strerror(-r), errlen);
	sqlite_close(&st->base);
	return r;
}

static void *
ckpt_main(void *arg)
{
	struct ckpt *ck = arg;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&ck->mu);
		while (!ck->want && !ck->stop)
			pthread_cond_wait(&ck->cv, &ck->mu);
		ck->want = false;
		stop = ck->stop;
		pthread_mutex_unlock(&ck->mu);
		if (stop)
			break;
		/* PASSIVE: copies what no reader needs, never waits; whatever
		 * is left goes at the next signal or at close */
		(void)sqlite3_wal_checkpoint_v2(
		    ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	return NULL;
}

/* after each commit, in the loop's thread: wake the checkpointer */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct ckpt *ck = arg;

	(void)db;
	(void)name;
	if (frames >= CKPT_FRAMES) {
		pthread_mutex_lock(&ck->mu);
		ck->want = true;
		pthread_cond_signal(&ck->cv);
		pthread_mutex_unlock(&ck->mu);
	}
	return SQLITE_OK;
}

/* starts the checkpointer; without it SQLite checkpoints in the commit */
static void
ckpt_start(struct sqlite_store *st, const char *path)
{
	struct ckpt *ck = &st->ck;

	if (sqlite3_open_v2(path, &ck->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK ||
	    sqlite3_exec(ck->db, "PRAGMA synchronous = FULL", NULL, NULL,
	        NULL) != SQLITE_OK ||
	    pthread_mutex_init(&ck->mu, NULL) != 0)
		goto fail;
	if (pthread_cond_init(&ck->cv, NULL) != 0) {
		pthread_mutex_destroy(&ck->mu);
		goto fail;
	}
	if (pthread_create(&ck->thread, NULL, ckpt_main, ck) != 0) {
		pthread_cond_destroy(&ck->cv);
		pthread_mutex_destroy(&ck->mu);
		goto fail;
	}
	ck->running = true;
	/* replaces SQLite's own checkpoint-in-commit */
	sqlite3_wal_hook(st->db, wal_hook, ck);
	return;
fail:
	sqlite3_close(ck->db);
	ck->db = NULL;
}

static void
ckpt_stop(struct sqlite_store *st)
{
	struct ckpt *ck = &st->ck;

	if (!ck->running)
		return;
	sqlite3_wal_hook(st->db, NULL, NULL);
	pthread_mutex_lock(&ck->mu);
	ck->stop = true;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
	pthread_join(ck->thread, NULL);
	pthread_cond_destroy(&ck->cv);
	pthread_mutex_destroy(&ck->mu);
	sqlite3_close(ck->db);
	ck->db = NULL;
	ck->running = false;
}

static struct store *
sqlite_close(struct store *base)
{
	struct sqlite_store *st = sq(base);
	size_t i;

	if (st == NULL)
		return NULL;
	ckpt_stop(st);
	/* an unfinished backup would keep the database from closing */
	if (st->backup.b != NULL)
		st->backup.b = st->backup.abort(st->backup.b);
	if (st->db != NULL && st->in_txn)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(st->stmt[i]);
	for (i = 0; i < SFILTER_MAX * 4; i++)
		sqlite3_finalize(st->list[i / 4][i / 2 % 2][i % 2]);
	/* sqlite3_close (not _v2) so a leaked statement shows as an error */
	sqlite3_close(st->db);
	free(st);
	return NULL;
}

static const char *
sqlite_errmsg(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->msg;
}

static int
sqlite_set_max_size(struct store *base, int64_t bytes)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = NULL;
	char sql[64];
	int64_t page = 4096;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		page = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* SQLite's own ceiling stands for "no cap" */
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    bytes > 0 ? (long long)(bytes / page + 1) : 4294967294LL);
	rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		r = fail(st, rc);
	return r;
}

static int
sqlite_set_durability(struct store *base, bool full)
{
	struct sqlite_store *st = sq(base);
	int rc = sqlite3_exec(st->db,
	    full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

static int
sqlite_schema_version(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->version;
}

static int
sqlite_schema_migrated_from(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->migrated_from;
}

static int
sqlite_begin(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int r;

	if (st->in_txn)
		return 0;
	r = step_done(st, st->stmt[ST_BEGIN]);
	if (r == 0)
		st->in_txn = true;
	return r;
}

static bool
sqlite_in_txn(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->in_txn;
}

static int
sqlite_commit(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int r;

	if (!st->in_txn)
		return 0;
	r = step_done(st, st->stmt[ST_COMMIT]);
	if (r < 0) {
		/* a failed COMMIT may leave the transaction open */
		if (!sqlite3_get_autocommit(st->db))
			step_done(st, st->stmt[ST_ROLLBACK]);
		st->fts_upto = st->fts_done;
	} else
		st->fts_done = st->fts_upto;
	st->in_txn = false;
	return r;
}

static int
sqlite_rollback(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int r = 0;

	if (st->in_txn && !sqlite3_get_autocommit(st->db))
		r = step_done(st, st->stmt[ST_ROLLBACK]);
	st->fts_upto = st->fts_done;
	st->in_txn = false;
	return r;
}

static int
sqlite_savepoint(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int r = sqlite_begin(&st->base);

	if (r < 0)
		return r;
	return step_done(st, st->stmt[ST_SAVEPOINT]);
}

static int
sqlite_release(struct store *base)
{
	struct sqlite_store *st = sq(base);

	return step_done(st, st->stmt[ST_RELEASE]);
}

static int
sqlite_rollback_savepoint(struct store *base)
{
	struct sqlite_store *st = sq(base);
	int r = step_done(st, st->stmt[ST_ROLLBACK_TO]);

	/* ROLLBACK TO keeps the savepoint open: release it as well */
	if (r == 0)
		r = step_done(st, st->stmt[ST_RELEASE]);
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

/* reads nudge text written by nudge_to_text; bad entries are dropped */
static size_t
nudge_from_text(const char *s, int64_t *nudge, size_t max)
{
	int r;

	if (s == NULL)
		return 0;
	r = timefmt_parse_duration_list(s, nudge, max);
	return r < 0 ? 0 : (size_t)r;
}

static void
read_promise(sqlite3_stmt *s, struct promise_rec *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	p->title = col_text(s, 1);
	p->owner = col_text(s, 2);
	p->for_whom = col_text(s, 3);
	p->note = col_text(s, 4);
	p->created_by = col_text(s, 5);
	p->due_at = sqlite3_column_int64(s, 6);
	p->created_at = sqlite3_column_int64(s, 7);
	p->settled_at = sqlite3_column_int64(s, 8);
	p->state = pstate_from_string(col_text(s, 9) ? col_text(s, 9) : "");
	p->n_nudge =
	    nudge_from_text(col_text(s, 10), p->nudge, PROTO_MAX_NUDGES);
	p->escalate_after = sqlite3_column_int64(s, 11);
	p->escalation_repeat = sqlite3_column_int64(s, 12);
	p->stage = sqlite3_column_int(s, 13);
	p->snoozes = sqlite3_column_int64(s, 14);
	p->kind = col_text(s, 15);
	p->shifted = col_text(s, 16) != NULL;
	p->n_asked = p->shifted
	    ? nudge_from_text(col_text(s, 16), p->asked, PROTO_MAX_NUDGES)
	    : 0;
}

static int
sqlite_add(struct store *base, const struct promise_rec *p, int64_t *ret_id)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_ADD];
	char nudge[PROTO_MAX_NUDGES * 21 + 1], asked[PROTO_MAX_NUDGES * 21 + 1];
	int r;

	nudge_to_text(p->nudge, p->n_nudge, nudge, sizeof(nudge));
	nudge_to_text(p->asked, p->n_asked, asked, sizeof(asked));
	store_bind_text(s, 1, p->title);
	store_bind_text(s, 2, p->owner);
	store_bind_text(s, 3, p->for_whom);
	store_bind_text(s, 4, p->note);
	sqlite3_bind_int64(s, 5, p->due_at);
	sqlite3_bind_int64(s, 6, p->created_at);
	store_bind_text(s, 7, p->created_by);
	store_bind_text(s, 8, nudge);
	sqlite3_bind_int64(s, 9, p->escalate_after);
	sqlite3_bind_int64(s, 10, p->escalation_repeat);
	sqlite3_bind_int(s, 11, p->stage);
	store_bind_text(s, 12, p->kind);
	store_bind_text(s, 13, p->shifted ? asked : NULL);
	r = step_done(st, s);
	if (r == 0) {
		*ret_id = sqlite3_last_insert_rowid(st->db);
		if (*ret_id > st->max_id)
			st->max_id = *ret_id;
	}
	return r;
}

static int
sqlite_get(struct store *base, int64_t id,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_GET];
	struct promise_rec p;
	int rc, r;

	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_promise(s, &p);
		cb(arg, &p);
		r = 0;
	} else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

/* -ENOENT when the guarded UPDATE touched no row */
static int
changed_one(struct sqlite_store *st, int r)
{
	if (r == 0 && sqlite3_changes(st->db) == 0)
		return -ENOENT;
	return r;
}

static int
sqlite_settle(
    struct store *base, int64_t id, enum promise_state state, int64_t at)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_SETTLE];

	store_bind_text(s, 1, pstate_name(state));
	sqlite3_bind_int64(s, 2, at);
	sqlite3_bind_int64(s, 3, id);
	return changed_one(st, step_done(st, s));
}

static int
sqlite_snooze(struct store *base, const struct promise_rec *p)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_SNOOZE];
	char nudge[PROTO_MAX_NUDGES * 21 + 1], asked[PROTO_MAX_NUDGES * 21 + 1];

	nudge_to_text(p->nudge, p->n_nudge, nudge, sizeof(nudge));
	nudge_to_text(p->asked, p->n_asked, asked, sizeof(asked));
	sqlite3_bind_int64(s, 1, p->due_at);
	sqlite3_bind_int(s, 2, p->stage);
	store_bind_text(s, 3, nudge);
	store_bind_text(s, 4, p->shifted ? asked : NULL);
	sqlite3_bind_int64(s, 5, p->id);
	return changed_one(st, step_done(st, s));
}

static int
sqlite_set_stage(struct store *base, int64_t id, int32_t stage)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_SET_STAGE];

	sqlite3_bind_int(s, 1, stage);
	sqlite3_bind_int64(s, 2, id);
	return changed_one(st, step_done(st, s));
}

static int
sqlite_event(struct store *base, int64_t promise_id, int64_t at,
    const char *actor, const char *what, const char *detail)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_EVENT];

	sqlite3_bind_int64(s, 1, promise_id);
	sqlite3_bind_int64(s, 2, at);
	store_bind_text(s, 3, actor);
	store_bind_text(s, 4, what);
	store_bind_text(s, 5, detail);
	return step_done(st, s);
}

static int
sqlite_refusal(struct store *base, int64_t promise_id, int64_t at,
    const char *actor, const char *op, int64_t window)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_REFUSAL_AGAIN];
	int r;

	sqlite3_bind_int64(s, 1, promise_id);
	sqlite3_bind_int64(s, 2, at);
	store_bind_text(s, 3, actor);
	sqlite3_bind_int64(s, 4, window);
	if ((r = step_done(st, s)) < 0 || sqlite3_changes(st->db) > 0)
		return r;
	s = st->stmt[ST_REFUSAL];
	sqlite3_bind_int64(s, 1, promise_id);
	sqlite3_bind_int64(s, 2, at);
	store_bind_text(s, 3, actor);
	store_bind_text(s, 4, op);
	return step_done(st, s);
}

/* hands cb each row of an events query s (bound), then resets it */
static int
step_events(struct sqlite_store *st, sqlite3_stmt *s,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct event_rec e;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		e.id = sqlite3_column_int64(s, 0);
		e.promise_id = sqlite3_column_int64(s, 1);
		e.at = sqlite3_column_int64(s, 2);
		e.actor = col_text(s, 3);
		e.what = col_text(s, 4);
		e.detail = col_text(s, 5);
		cb(arg, &e);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail(st, rc);
}

static int
sqlite_events(struct store *base, int64_t promise_id,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_EVENTS];

	sqlite3_bind_int64(s, 1, promise_id);
	return step_events(st, s, cb, arg);
}

/*
 * The newest events are the answer unless the limit cuts them short with a
 * refusal among them: then the others come first (ST_EVENTS_LATEST, which
 * sorts).  Firing asks for every promise it fires, most of them never
 * refused, so the newest are looked at first, off the index.
 */
static int
sqlite_events_latest(struct store *base, int64_t promise_id, int64_t limit,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_EVENTS_NEWEST];
	const char *kind;
	bool refused = false;
	int64_t n = 0;
	int rc;

	sqlite3_bind_int64(s, 1, promise_id);
	sqlite3_bind_int64(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		n++;
		kind = col_text(s, 4);
		if (kind != NULL && strcmp(kind, "refused") == 0)
			refused = true;
	}
	if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return fail(st, rc);
	}
	sqlite3_reset(s);
	if (!refused || n < limit)
		return step_events(st, s, cb, arg);
	s = st->stmt[ST_EVENTS_LATEST];
	sqlite3_bind_int64(s, 1, promise_id);
	sqlite3_bind_int64(s, 2, limit);
	return step_events(st, s, cb, arg);
}

static int
sqlite_list(struct store *base, enum store_filter f, const char *owner,
    const char *match, int64_t now, int64_t limit,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	static const char *const where[SFILTER_MAX] = {
	    [SFILTER_OPEN] = "state = 'open'",
	    [SFILTER_OVERDUE] = "state = 'open' AND due_at <= ?1",
	    [SFILTER_KEPT] = "state = 'kept'",
	    [SFILTER_CANCELLED] = "state = 'cancelled'",
	    [SFILTER_ALL] = "1",
	};
	char sql[768];
	sqlite3_stmt **ps, *s;
	struct promise_rec p;
	int rc, r = 0;

	if ((unsigned)f >= SFILTER_MAX)
		return -EINVAL;
	/* the filter set is small and fixed, so the text is never user data.
	 * Each shape is prepared once: preparing was half of what a list
	 * cost while a burst fired and status and list were asked in turn */
	ps = &st->list[f][owner != NULL][match != NULL];
	if (*ps == NULL) {
		snprintf(sql, sizeof(sql),
		    "SELECT " PROMISE_COLS " FROM promises WHERE %s%s%s "
		    "ORDER BY due_at, id LIMIT ?3",
		    where[f], owner ? " AND owner = ?2" : "",
		    match ? " AND id IN (SELECT rowid FROM promises_fts "
		            "WHERE promises_fts MATCH ?4)"
		          : "");
		rc = sqlite3_prepare_v3(
		    st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ps, NULL);
		if (rc != SQLITE_OK)
			return fail(st, rc);
	}
	s = *ps;
	sqlite3_bind_int64(s, 1, now);
	if (owner)
		store_bind_text(s, 2, owner);
	sqlite3_bind_int64(s, 3, limit > 0 ? limit : -1);
	if (match)
		store_bind_text(s, 4, match);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_promise(s, &p);
		cb(arg, &p);
	}
	if (rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
sqlite_due_between(struct store *base, bool kept_too, int64_t from, int64_t to,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = NULL;
	struct promise_rec p;
	int rc, r = 0;

	/* one range of promises_state_due per state */
	rc = sqlite3_prepare_v2(st->db,
	    kept_too ? "SELECT " PROMISE_COLS " FROM promises WHERE state IN "
	               "('open', 'kept') AND due_at >= ?1 AND due_at < ?2 "
	               "ORDER BY due_at, id"
	             : "SELECT " PROMISE_COLS " FROM promises WHERE state = "
	               "'open' AND due_at >= ?1 AND due_at < ?2 "
	               "ORDER BY due_at, id",
	    -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_promise(s, &p);
		r = cb(arg, &p);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

static int
sqlite_digest_sent(
    struct store *base, const char *week, const char *manager, int64_t at)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DIGEST_SENT];

	store_bind_text(s, 1, week);
	store_bind_text(s, 2, manager);
	sqlite3_bind_int64(s, 3, at);
	return step_done(st, s);
}

static int
sqlite_digest_was_sent(
    struct store *base, const char *week, const char *manager, bool *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DIGEST_WAS_SENT];
	int rc, r = 0;

	store_bind_text(s, 1, week);
	store_bind_text(s, 2, manager);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*ret = rc == SQLITE_ROW;
	else
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
sqlite_foreach_open(struct store *base,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_OPEN_ALL];
	struct promise_rec p;
	int rc, r = 0;

	memset(&p, 0, sizeof(p));
	p.state = PSTATE_OPEN;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		p.id = sqlite3_column_int64(s, 0);
		p.due_at = sqlite3_column_int64(s, 1);
		p.stage = sqlite3_column_int(s, 2);
		p.n_nudge =
		    nudge_from_text(col_text(s, 3), p.nudge, PROTO_MAX_NUDGES);
		p.escalate_after = sqlite3_column_int64(s, 4);
		p.escalation_repeat = sqlite3_column_int64(s, 5);
		if ((r = cb(arg, &p)) < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_export(struct store *base, int64_t after, int64_t limit,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	static const char sql[] = "SELECT " PROMISE_COLS " FROM promises "
	                          "WHERE id > ?1 ORDER BY id LIMIT ?2";
	struct promise_rec p;
	sqlite3_stmt *s = NULL;
	int rc, r = 0, n = 0;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_promise(s, &p);
		n++;
		if ((r = cb(arg, &p)) < 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? n : fail(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

static int
sqlite_report(struct store *base, int64_t since, int64_t now,
    int (*cb)(void *arg, const struct report_row *row), void *arg)
{
	struct sqlite_store *st = sq(base);

	/* a cancellation counts as told when its event says so */
	static const char sql[] =
	    "SELECT owner, count(*), "
	    "coalesce(sum(state = 'kept' AND settled_at <= due_at), 0), "
	    "coalesce(sum(state = 'kept' AND settled_at > due_at), 0), "
	    "coalesce(sum(state = 'open'), 0), "
	    "coalesce(sum(state = 'open' AND due_at <= ?2), 0), "
	    "coalesce(sum(state = 'cancelled' AND EXISTS (SELECT 1 FROM events "
	    "e WHERE e.promise_id = p.id AND e.kind = 'cancelled' AND "
	    "json_extract(e.detail, '$.told_customer') = 1)), 0), "
	    "coalesce(sum(state = 'cancelled'), 0), "
	    "coalesce(sum(snoozes > 0), 0), coalesce(sum(snoozes), 0) "
	    "FROM promises p WHERE created_at >= ?1 "
	    "GROUP BY owner ORDER BY owner";
	struct report_row row;
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, now);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		row.owner = col_text(s, 0);
		row.made = sqlite3_column_int64(s, 1);
		row.kept_on_time = sqlite3_column_int64(s, 2);
		row.kept_late = sqlite3_column_int64(s, 3);
		row.open = sqlite3_column_int64(s, 4);
		row.overdue = sqlite3_column_int64(s, 5);
		row.cancelled_told = sqlite3_column_int64(s, 6);
		row.cancelled_untold =
		    sqlite3_column_int64(s, 7) - row.cancelled_told;
		row.renegotiated = sqlite3_column_int64(s, 8);
		row.snoozes = sqlite3_column_int64(s, 9);
		if ((r = cb(arg, &row)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		r = fail(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

static int
sqlite_report_lateness(struct store *base, const char *owner, int64_t since,
    int (*cb)(void *arg, int64_t late), void *arg)
{
	struct sqlite_store *st = sq(base);
	static const char sql[] =
	    "SELECT max(settled_at - due_at, 0) FROM promises "
	    "WHERE owner = ?1 AND created_at >= ?2 AND state = 'kept' "
	    "ORDER BY 1";
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	store_bind_text(s, 1, owner);
	sqlite3_bind_int64(s, 2, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = cb(arg, sqlite3_column_int64(s, 0))) < 0)
			goto out;
	if (rc != SQLITE_DONE)
		r = fail(st, rc);
out:
	sqlite3_finalize(s);
	return r;
}

static int
sqlite_sample(struct store *base, int64_t since,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct sqlite_store *st = sq(base);
	static const char sql[] =
	    "SELECT " PROMISE_COLS " FROM promises "
	    "WHERE state != 'open' AND settled_at >= ?1 ORDER BY random()";
	struct promise_rec p;
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	if ((rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL)) != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	sqlite3_bind_int64(s, 1, since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_promise(s, &p);
		/* 1 from the callback: it has all it wants */
		if ((r = cb(arg, &p)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	if (r > 0)
		r = 0;
out:
	sqlite3_finalize(s);
	return r;
}

static int64_t
sqlite_max_id(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->max_id;
}

static bool
sqlite_fts_behind(const struct store *base)
{
	const struct sqlite_store *st = csq(base);

	return st->max_id > st->fts_upto;
}

static int
sqlite_fts_index(struct store *base, int64_t limit)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s;
	int64_t to = st->max_id;
	int rc, r;

	if (!sqlite_fts_behind(&st->base))
		return 0;
	if ((r = sqlite_savepoint(&st->base)) < 0)
		return r;
	if (limit > 0) {
		/* the limit-th id past the mark, or all there are */
		s = st->stmt[ST_FTS_NEXT];
		sqlite3_bind_int64(s, 1, st->fts_upto);
		sqlite3_bind_int64(s, 2, limit - 1);
		sqlite3_bind_int64(s, 3, st->max_id);
		if ((rc = sqlite3_step(s)) == SQLITE_ROW)
			to = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW) {
			r = fail(st, rc);
			goto out;
		}
	}
	s = st->stmt[ST_FTS_INDEX];
	sqlite3_bind_int64(s, 1, st->fts_upto);
	sqlite3_bind_int64(s, 2, to);
	if ((r = step_done(st, s)) < 0)
		goto out;
	s = st->stmt[ST_FTS_MARK];
	sqlite3_bind_int64(s, 1, to);
	if ((r = step_done(st, s)) < 0)
		goto out;
	r = sqlite_release(&st->base);
out:
	if (r < 0)
		sqlite_rollback_savepoint(&st->base);
	else
		st->fts_upto = to;
	return r;
}

/* runs a one-row, one-or-two-column query with an optional int bind */
static int
query_ints(struct sqlite_store *st, enum stmt which, const int64_t *bind,
    int64_t *a, int64_t *b)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc, r = 0;

	if (bind)
		sqlite3_bind_int64(s, 1, *bind);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*a = sqlite3_column_int64(s, 0);
		if (b)
			*b = sqlite3_column_int64(s, 1);
	} else
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_count_open(struct store *base, int64_t *ret)
{
	struct sqlite_store *st = sq(base);

	return query_ints(st, ST_COUNT_OPEN, NULL, ret, NULL);
}

static int
sqlite_counts(struct store *base, int64_t now, struct store_counts *ret)
{
	struct sqlite_store *st = sq(base);
	int r;

	memset(ret, 0, sizeof(*ret));
	if ((r = query_ints(st, ST_NEXT_DUE, &now, &ret->next_due, NULL)) < 0 ||
	    (r = query_ints(st, ST_COUNT_DELIVERIES, NULL,
	         &ret->deliveries_failed, NULL)) < 0)
		return r;
	return 0;
}

static int
sqlite_owner_counts(struct store *base, const char *owner, int64_t now,
    struct store_owner_counts *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_COUNT_OWNER];
	int rc, r = 0;

	memset(ret, 0, sizeof(*ret));
	store_bind_text(s, 1, owner);
	sqlite3_bind_int64(s, 2, now);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ret->open = sqlite3_column_int64(s, 0);
		ret->overdue = sqlite3_column_int64(s, 1);
		ret->next_due = sqlite3_column_int64(s, 2); /* NULL: 0 */
	} else
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
sqlite_delivery_add(struct store *base, const char *uid, int64_t promise_id,
    const char *event, const char *recipient, const char *channel,
    const char *payload, int64_t now, int64_t *ret_id)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_ADD];
	int r;

	store_bind_text(s, 1, uid);
	if (promise_id > 0)
		sqlite3_bind_int64(s, 2, promise_id);
	else
		sqlite3_bind_null(s, 2);
	store_bind_text(s, 3, event);
	store_bind_text(s, 4, recipient);
	store_bind_text(s, 5, channel);
	store_bind_text(s, 6, payload);
	sqlite3_bind_int64(s, 7, now);
	sqlite3_bind_int64(s, 8, now);
	r = step_done(st, s);
	if (r == 0)
		*ret_id = sqlite3_last_insert_rowid(st->db);
	return r;
}

static int
sqlite_delivery_sent(struct store *base, int64_t id, int64_t now)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_SENT];

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return changed_one(st, step_done(st, s));
}

/* a row each: an IN list of ids cost SQLite an ephemeral table per
 * statement, more than the few prepared steps of an iteration's outcomes */
static int
sqlite_deliveries_sent(
    struct store *base, const int64_t *ids, size_t n, int64_t now)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_SENT];
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		sqlite3_bind_int64(s, 1, now);
		sqlite3_bind_int64(s, 2, ids[i]);
		r = step_done(st, s);
	}
	return r;
}

static int
sqlite_delivery_retry(
    struct store *base, int64_t id, int64_t next_attempt_at, const char *error)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_RETRY];

	sqlite3_bind_int64(s, 1, next_attempt_at);
	store_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, id);
	return changed_one(st, step_done(st, s));
}

static int
sqlite_delivery_failed(struct store *base, int64_t id, const char *error)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_FAILED];

	store_bind_text(s, 1, error);
	sqlite3_bind_int64(s, 2, id);
	return changed_one(st, step_done(st, s));
}

static void
read_delivery(sqlite3_stmt *s, struct delivery_rec *d)
{
	d->id = sqlite3_column_int64(s, 0);
	d->uid = col_text(s, 1);
	d->promise_id = sqlite3_column_int64(s, 2);
	d->event = col_text(s, 3);
	d->recipient = col_text(s, 4);
	d->channel = col_text(s, 5);
	d->payload = col_text(s, 6);
	d->state = col_text(s, 7);
	d->attempts = sqlite3_column_int64(s, 8);
	d->next_attempt_at = sqlite3_column_int64(s, 9);
	d->last_error = col_text(s, 10);
	d->created_at = sqlite3_column_int64(s, 11);
	d->sent_at = sqlite3_column_int64(s, 12);
	d->owner = sqlite3_column_count(s) > 13 ? col_text(s, 13) : NULL;
}

/* steps s to the end, or until cb returns other than 0 (above 0: it has
 * seen enough), handing each row to cb; resets s */
static int
each_delivery(struct sqlite_store *st, sqlite3_stmt *s,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	struct delivery_rec d;
	int rc, r = 0;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_delivery(s, &d);
		if ((r = cb(arg, &d)) != 0)
			break;
	}
	if (r > 0)
		r = 0;
	else if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_foreach_pending_delivery(struct store *base,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	struct sqlite_store *st = sq(base);

	return each_delivery(st, st->stmt[ST_DELIVERY_PENDING], cb, arg);
}

static int
sqlite_delivery_by_uid(struct store *base, const char *uid,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_BY_UID];
	struct delivery_rec d;
	int rc, r;

	store_bind_text(s, 1, uid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		read_delivery(s, &d);
		r = cb(arg, &d);
	} else
		r = rc == SQLITE_DONE ? -ENOENT : fail(st, rc);
	sqlite3_reset(s);
	return r;
}

/* how many leading characters a and b share (b may be NULL) */
static size_t
common_prefix(const char *a, const char *b)
{
	size_t n = 0;

	if (b == NULL)
		return 0;
	while (a[n] != '\0' && a[n] == b[n])
		n++;
	return n;
}

static int
sqlite_delivery_short(struct store *base, const char *uid, size_t *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_NEIGHBOURS];
	size_t before, after;
	int rc, r = 0;

	store_bind_text(s, 1, uid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/* in uid order only the neighbours share the most with it */
		before = common_prefix(uid, col_text(s, 0));
		after = common_prefix(uid, col_text(s, 1));
		*ret = (before > after ? before : after) + 1;
	} else
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_delivery_resolve(struct store *base, const char *prefix, char uid[33])
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_PREFIX];
	const char *v;
	int rc, r = -ENOENT;

	store_bind_text(s, 1, prefix);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (r == 0) {
			r = -ENOTUNIQ;
			break;
		}
		v = col_text(s, 0);
		if (v == NULL || strlen(v) != 32) {
			r = -EIO;
			break;
		}
		memcpy(uid, v, 33);
		r = 0;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_deliveries(struct store *base, int64_t promise_id, const char *state,
    int64_t limit, int (*cb)(void *arg, const struct delivery_rec *d),
    void *arg)
{
	struct sqlite_store *st = sq(base);
	char sql[512];
	sqlite3_stmt *s = NULL;
	int rc, r;

	/* one promise's outbox reads oldest first, the whole outbox newest
	 * first: the order each view is read in.  The owner comes in the same
	 * query, so a caller filtering by it looks nothing up per row. */
	snprintf(sql, sizeof(sql),
	    "SELECT " DELIVERY_OWNER_COLS " FROM deliveries d "
	    "LEFT JOIN promises p ON p.id = d.promise_id WHERE %s%s "
	    "ORDER BY d.id %s LIMIT ?3",
	    promise_id > 0 ? "d.promise_id = ?1" : "1",
	    /* a literal state, so that the partial indexes serve it */
	    state == NULL                       ? ""
	        : strcmp(state, "pending") == 0 ? " AND d.state = 'pending'"
	        : strcmp(state, "failed") == 0  ? " AND d.state = 'failed'"
	                                        : " AND d.state = ?2",
	    promise_id > 0 ? "ASC" : "DESC");
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		r = fail(st, rc);
		goto out;
	}
	sqlite3_bind_int64(s, 1, promise_id);
	if (state)
		store_bind_text(s, 2, state);
	sqlite3_bind_int64(s, 3, limit > 0 ? limit : -1);
	r = each_delivery(st, s, cb, arg);
out:
	sqlite3_finalize(s);
	return r;
}

static int
sqlite_delivery_requeue(struct store *base, int64_t id, int64_t now)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_REQUEUE];

	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, id);
	return changed_one(st, step_done(st, s));
}

static int
sqlite_delivery_count(
    struct store *base, int64_t promise_id, const char *channel, int64_t *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_COUNT];
	int rc, r = 0;

	sqlite3_bind_int64(s, 1, promise_id);
	store_bind_text(s, 2, channel);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
sqlite_delivery_held(struct store *base, int64_t promise_id,
    const char *recipient, const char *event, int64_t after, bool *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_DELIVERY_HELD];
	int rc, r = 0;

	sqlite3_bind_int64(s, 1, promise_id);
	store_bind_text(s, 2, recipient);
	store_bind_text(s, 3, event);
	sqlite3_bind_int64(s, 4, after);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0) > 0;
	else
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
sqlite_escalated(struct store *base, int64_t promise_id,
    int (*cb)(void *arg, const char *login), void *arg)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_ESCALATED];
	int rc, r = 0;

	sqlite3_bind_int64(s, 1, promise_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((r = cb(arg, col_text(s, 0))) < 0)
			break;
	if (r == 0 && rc != SQLITE_DONE)
		r = fail(st, rc);
	sqlite3_reset(s);
	return r;
}

static int
sqlite_ack(
    struct store *base, int64_t promise_id, const char *login, int64_t until)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_ACK];

	sqlite3_bind_int64(s, 1, promise_id);
	store_bind_text(s, 2, login);
	sqlite3_bind_int64(s, 3, until);
	return step_done(st, s);
}

static int
sqlite_acked_until(
    struct store *base, int64_t promise_id, const char *login, int64_t *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_stmt *s = st->stmt[ST_ACKED_UNTIL];
	int rc, r = 0;

	sqlite3_bind_int64(s, 1, promise_id);
	store_bind_text(s, 2, login);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(s, 0);
	else if (rc == SQLITE_DONE)
		*ret = 0;
	else
		r = fail(st, rc);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

/* steps a two-column (text, count) query, handing each row to cb */
static int
query_groups(struct sqlite_store *st, enum stmt which,
    void (*cb)(void *arg, const char *key, int64_t n), void *arg)
{
	sqlite3_stmt *s = st->stmt[which];
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		cb(arg, col_text(s, 0) ? col_text(s, 0) : "",
		    sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail(st, rc);
}

static void
promise_group_cb(void *arg, const char *key, int64_t n)
{
	struct store_metrics *m = arg;
	enum promise_state ps = pstate_from_string(key);

	if (ps != PSTATE_INVALID)
		m->promises[ps] = n;
}

static void
delivery_group_cb(void *arg, const char *key, int64_t n)
{
	struct store_metrics *m = arg;

	if (strcmp(key, "pending") == 0)
		m->deliveries_pending = n;
	else if (strcmp(key, "sent") == 0)
		m->deliveries_sent = n;
	else if (strcmp(key, "failed") == 0)
		m->deliveries_failed = n;
}

/*
 * Counting reads every promise and outbox row: repeated within the same
 * second with nothing changed since (any row written, even if rolled
 * back, counts as a change), the last count is the answer, so asking
 * for metrics again and again costs nothing more.
 */
static int
sqlite_metrics(struct store *base, int64_t now, struct store_metrics *ret)
{
	struct sqlite_store *st = sq(base);
	sqlite3_int64 changes = sqlite3_total_changes64(st->db);
	int r;

	if (st->metrics_at == now && st->metrics_changes == changes) {
		*ret = st->metrics;
		return 0;
	}
	memset(ret, 0, sizeof(*ret));
	if ((r = query_groups(st, ST_COUNT_BY_STATE, promise_group_cb, ret)) <
	        0 ||
	    (r = query_ints(st, ST_COUNT_OVERDUE, &now, &ret->overdue, NULL)) <
	        0 ||
	    (r = query_ints(st, ST_COUNT_MISSED, &now, &ret->missed, NULL)) <
	        0 ||
	    (r = query_groups(
	         st, ST_COUNT_DELIVERY_STATES, delivery_group_cb, ret)) < 0)
		return r;
	st->metrics = *ret;
	st->metrics_at = now;
	st->metrics_changes = changes;
	return 0;
}

/* ---- secrets that stand for a person (store_token.c) -------------------- */

static int
sq_token_add(struct store *base, const struct token_rec *t, int64_t *ret_id)
{
	struct sqlite_store *st = sq(base);
	int rc = sqlite_token_add(st->db, t, ret_id);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

static int
sq_token_find(struct store *base, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	struct sqlite_store *st = sq(base);
	int rc, r = 0, rows = 0;

	rc = sqlite_token_find(st->db, hash, cb, arg, &r, &rows);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	if (r < 0)
		return r;
	return rows == 0 ? -ENOENT : 0;
}

static int
sq_token_list(struct store *base, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	struct sqlite_store *st = sq(base);
	int rc, r = 0;

	rc = sqlite_token_list(st->db, owner, now, cb, arg, &r);
	if (rc != SQLITE_OK)
		return fail(st, rc);
	return r < 0 ? r : 0;
}

static int
sq_token_revoke(struct store *base, int64_t id, const char *owner, int64_t at)
{
	struct sqlite_store *st = sq(base);
	int64_t n = 0;
	int rc = sqlite_token_revoke(st->db, id, owner, at, &n);

	if (rc != SQLITE_OK)
		return fail(st, rc);
	return n == 0 ? -ENOENT : 0;
}

static int
sq_token_used(struct store *base, int64_t id, int64_t at)
{
	struct sqlite_store *st = sq(base);
	int rc = sqlite_token_used(st->db, id, at);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

static int
sq_token_prune(struct store *base, int64_t before)
{
	struct sqlite_store *st = sq(base);
	int rc = sqlite_token_prune(st->db, before);

	return rc == SQLITE_OK ? 0 : fail(st, rc);
}

/* ---- for the store's own files (store_impl.h) -------------------------- */

sqlite3 *
store_db(struct store *base)
{
	/* NULL for another backend's store: the backup is SQLite's alone */
	return base->be == &store_sqlite_backend ? sq(base)->db : NULL;
}

bool
store_in_batch(const struct store *base)
{
	return csq(base)->in_txn;
}

struct store_backup_slot *
store_backup_slot(struct store *base)
{
	return &sq(base)->backup;
}

void
store_set_errmsg(struct store *base, const char *msg)
{
	util_strlcpy(sq(base)->msg, msg, sizeof(sq(base)->msg));
}

static int
sqlite_mail_seen(struct store *base, const char *key, char **ret_outcome)
{
	int rc = store_mail_seen_db(sq(base)->db, key, ret_outcome);

	return rc > 0 ? fail(sq(base), rc) : rc;
}

static int
sqlite_mail_record(struct store *base, const char *key, int64_t at,
    const char *outcome, int64_t forget_before)
{
	int rc =
	    store_mail_record_db(sq(base)->db, key, at, outcome, forget_before);

	return rc > 0 ? fail(sq(base), rc) : rc;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .close = sqlite_close,
    .errmsg = sqlite_errmsg,
    .set_max_size = sqlite_set_max_size,
    .set_durability = sqlite_set_durability,
    .schema_version = sqlite_schema_version,
    .schema_migrated_from = sqlite_schema_migrated_from,
    .begin = sqlite_begin,
    .in_txn = sqlite_in_txn,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .savepoint = sqlite_savepoint,
    .release = sqlite_release,
    .rollback_savepoint = sqlite_rollback_savepoint,
    .add = sqlite_add,
    .get = sqlite_get,
    .settle = sqlite_settle,
    .snooze = sqlite_snooze,
    .set_stage = sqlite_set_stage,
    .event = sqlite_event,
    .refusal = sqlite_refusal,
    .events = sqlite_events,
    .events_latest = sqlite_events_latest,
    .list = sqlite_list,
    .foreach_open = sqlite_foreach_open,
    .due_between = sqlite_due_between,
    .digest_sent = sqlite_digest_sent,
    .digest_was_sent = sqlite_digest_was_sent,
    .count_open = sqlite_count_open,
    .export = sqlite_export,
    .fts_behind = sqlite_fts_behind,
    .max_id = sqlite_max_id,
    .fts_index = sqlite_fts_index,
    .report = sqlite_report,
    .report_lateness = sqlite_report_lateness,
    .sample = sqlite_sample,
    .counts = sqlite_counts,
    .owner_counts = sqlite_owner_counts,
    .metrics = sqlite_metrics,
    .delivery_add = sqlite_delivery_add,
    .delivery_held = sqlite_delivery_held,
    .delivery_sent = sqlite_delivery_sent,
    .deliveries_sent = sqlite_deliveries_sent,
    .delivery_retry = sqlite_delivery_retry,
    .delivery_failed = sqlite_delivery_failed,
    .foreach_pending_delivery = sqlite_foreach_pending_delivery,
    .delivery_by_uid = sqlite_delivery_by_uid,
    .delivery_short = sqlite_delivery_short,
    .delivery_resolve = sqlite_delivery_resolve,
    .deliveries = sqlite_deliveries,
    .delivery_requeue = sqlite_delivery_requeue,
    .delivery_count = sqlite_delivery_count,
    .escalated = sqlite_escalated,
    .ack = sqlite_ack,
    .acked_until = sqlite_acked_until,
    .mail_seen = sqlite_mail_seen,
    .mail_record = sqlite_mail_record,
    .token_add = sq_token_add,
    .token_find = sq_token_find,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .token_used = sq_token_used,
    .token_prune = sq_token_prune,
};
