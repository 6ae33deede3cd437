/* SPDX-License-Identifier: MIT */
/*
 * store_pg_schema.c: the PostgreSQL store's schema, as migrations that
 * follow SQLite's (store.c) step for step, so that a schema version means
 * the same tables on both.  Where SQLite needed a trick (writable_schema)
 * PostgreSQL says it directly (ALTER TABLE); the steps with nothing to do
 * here are kept as steps, so versions line up.  uid is compared in the
 * "C" collation: delivery prefixes are found by range, as on SQLite.
 */
#include <stddef.h>

#include "store_pg_impl.h"

static const char *const pg_migrations[] = {
    /* 1: promises, their history and the delivery outbox */
    "CREATE TABLE promises ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  owner TEXT NOT NULL,"
    "  for_whom TEXT,"
    "  note TEXT,"
    "  due_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (state IN ('open', 'kept', 'cancelled')),"
    "  settled_at BIGINT,"
    "  nudge TEXT NOT NULL DEFAULT '',"
    "  escalate_after BIGINT NOT NULL DEFAULT 0,"
    "  escalation_repeat BIGINT NOT NULL DEFAULT 86400,"
    "  stage INTEGER NOT NULL DEFAULT 0,"
    "  snoozes BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX promises_state_due ON promises (state, due_at);"
    "CREATE INDEX promises_owner ON promises (owner, state, due_at);"
    "CREATE TABLE events ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  promise_id BIGINT NOT NULL REFERENCES promises (id),"
    "  at BIGINT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  detail TEXT);"
    "CREATE INDEX events_promise ON events (promise_id, id);"
    "CREATE TABLE deliveries ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  uid TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    "  promise_id BIGINT NOT NULL REFERENCES promises (id),"
    "  kind TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending'"
    "    CHECK (state IN ('pending', 'sent', 'failed')),"
    "  attempts BIGINT NOT NULL DEFAULT 0,"
    "  next_attempt_at BIGINT NOT NULL,"
    "  last_error TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  sent_at BIGINT);"
    "CREATE INDEX deliveries_pending ON deliveries (state, next_attempt_at);",
    /* 2: managers' acknowledgements of escalations; deliveries by promise */
    "CREATE TABLE acks ("
    "  promise_id BIGINT NOT NULL REFERENCES promises (id),"
    "  login TEXT NOT NULL,"
    "  until BIGINT NOT NULL,"
    "  PRIMARY KEY (promise_id, login));"
    "CREATE INDEX deliveries_promise ON deliveries (promise_id, id);",
    /* 3: SQLite's CHECKs rewritten for speed; PostgreSQL's are fine */
    "SELECT 1;",
    /* 4: what the schedule is rebuilt from at start */
    "CREATE INDEX promises_sched ON promises (id) INCLUDE (due_at, stage, "
    "nudge, escalate_after, escalation_repeat) WHERE state = 'open';",
    /* 5: the kind a promise was made as, and the nudge lead times asked
     * for when business hours moved some (NULL: none moved) */
    "ALTER TABLE promises ADD COLUMN kind TEXT;"
    "ALTER TABLE promises ADD COLUMN nudge_asked TEXT;",
    /* 6: SQLite's full-text index; list's for and grep scan the open
     * promises here instead (store_pg_query.c) */
    "SELECT 1;",
    /* 7: weekly digests: a delivery about no one promise, and which
     * digests were written */
    "ALTER TABLE deliveries ALTER COLUMN promise_id DROP NOT NULL;"
    "CREATE TABLE digests ("
    "  week TEXT NOT NULL,"
    "  manager TEXT NOT NULL,"
    "  at BIGINT NOT NULL,"
    "  PRIMARY KEY (week, manager));",
    /* 8: the mails handed in, with what was made of them */
    "CREATE TABLE mails ("
    "  key TEXT COLLATE \"C\" PRIMARY KEY,"
    "  at BIGINT NOT NULL,"
    "  outcome TEXT NOT NULL);"
    "CREATE INDEX mails_at ON mails (at);",
    /* 9: API tokens, web sessions and sign-in secrets, by their hash
     * (store_pg_token.c) */
    "CREATE TABLE tokens ("
    "  id BIGSERIAL PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('api', 'session', 'signin')),"
    "  hash TEXT NOT NULL UNIQUE,"
    "  owner TEXT NOT NULL,"
    "  name TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  last_used_at BIGINT,"
    "  expires_at BIGINT,"
    "  revoked_at BIGINT);"
    "CREATE INDEX tokens_owner ON tokens (owner, id);",
    /* 10: the outbox's indexes by state hold the rows still to send or
     * given up on, not the sent ones, which a burst otherwise moved
     * from one end of (state, next_attempt_at) to the other */
    "DROP INDEX deliveries_pending;"
    "CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) "
    "WHERE state = 'pending';"
    "CREATE INDEX deliveries_failed ON deliveries (id) "
    "WHERE state = 'failed';",
};

const char *const *
store_pg_migrations(size_t *ret_n)
{
	*ret_n = sizeof(pg_migrations) / sizeof(pg_migrations[0]);
	return pg_migrations;
}
