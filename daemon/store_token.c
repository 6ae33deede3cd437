/* SPDX-License-Identifier: MIT */
/*
 * store_token.c: the SQLite backend's table of secrets that stand for a
 * person (API tokens, web sessions, sign-in secrets), found by the hash of
 * the secret on its unique index.  Its statements are prepared per call:
 * a few microseconds beside an HTTP exchange, and the store's table of
 * prepared statements stays the promises' own.  It is handed the
 * connection and answers in SQLite's result codes, which store.c maps,
 * so that it needs nothing of store.c.
 */
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "store_impl.h"

#define TOKEN_COLS                                                             \
	"id, kind, hash, owner, name, created_at, coalesce(last_used_at, 0), " \
	"coalesce(expires_at, 0), coalesce(revoked_at, 0)"

static void
bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, v);
}

static void
read_token(sqlite3_stmt *s, struct token_rec *t)
{
	t->id = sqlite3_column_int64(s, 0);
	t->kind = (const char *)sqlite3_column_text(s, 1);
	t->hash = (const char *)sqlite3_column_text(s, 2);
	t->owner = (const char *)sqlite3_column_text(s, 3);
	t->name = (const char *)sqlite3_column_text(s, 4);
	t->created_at = sqlite3_column_int64(s, 5);
	t->last_used_at = sqlite3_column_int64(s, 6);
	t->expires_at = sqlite3_column_int64(s, 7);
	t->revoked_at = sqlite3_column_int64(s, 8);
}

/* steps s through its rows into cb until it returns non-zero (into
 * *ret_cb); finalizes s */
static int
each_token(sqlite3_stmt *s, int (*cb)(void *arg, const struct token_rec *t),
    void *arg, int *ret_cb, int *ret_rows)
{
	struct token_rec t;
	int rc, rows = 0;

	*ret_cb = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_token(s, &t);
		rows++;
		if ((*ret_cb = cb(arg, &t)) != 0) {
			rc = SQLITE_OK;
			break;
		}
	}
	sqlite3_finalize(s);
	if (ret_rows != NULL)
		*ret_rows = rows;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* runs a statement that returns no rows, finalizes it; *ret_changed */
static int
run(sqlite3 *db, sqlite3_stmt *s, int64_t *ret_changed)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_DONE && ret_changed != NULL)
		*ret_changed = sqlite3_changes64(db);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
sqlite_token_add(sqlite3 *db, const struct token_rec *t, int64_t *ret_id)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "INSERT INTO tokens (kind, hash, owner, name, created_at, "
	    "last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	store_bind_text(s, 1, t->kind);
	store_bind_text(s, 2, t->hash);
	store_bind_text(s, 3, t->owner);
	store_bind_text(s, 4, t->name);
	sqlite3_bind_int64(s, 5, t->created_at);
	bind_time(s, 6, t->last_used_at);
	bind_time(s, 7, t->expires_at);
	if ((rc = run(db, s, NULL)) == SQLITE_OK)
		*ret_id = sqlite3_last_insert_rowid(db);
	return rc;
}

int
sqlite_token_find(sqlite3 *db, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg, int *ret_cb,
    int *ret_rows)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	store_bind_text(s, 1, hash);
	return each_token(s, cb, arg, ret_cb, ret_rows);
}

int
sqlite_token_list(sqlite3 *db, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg, int *ret_cb)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "SELECT " TOKEN_COLS " FROM tokens "
	    "WHERE (?1 IS NULL OR owner = ?1) AND kind IN ('api', 'session') "
	    "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > "
	    "?2) "
	    "ORDER BY id",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	store_bind_text(s, 1, owner);
	sqlite3_bind_int64(s, 2, now);
	return each_token(s, cb, arg, ret_cb, NULL);
}

int
sqlite_token_revoke(sqlite3 *db, int64_t id, const char *owner, int64_t at,
    int64_t *ret_changed)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "UPDATE tokens SET revoked_at = ?3 WHERE id = ?1 "
	    "AND (?2 IS NULL OR owner = ?2) AND revoked_at IS NULL",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, owner);
	sqlite3_bind_int64(s, 3, at);
	return run(db, s, ret_changed);
}

int
sqlite_token_used(sqlite3 *db, int64_t id, int64_t at)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "UPDATE tokens SET last_used_at = ? WHERE id = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_int64(s, 2, id);
	return run(db, s, NULL);
}

int
sqlite_token_prune(sqlite3 *db, int64_t before)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db,
	    "DELETE FROM tokens WHERE kind IN ('session', 'signin') "
	    "AND expires_at < ?",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, before);
	return run(db, s, NULL);
}
