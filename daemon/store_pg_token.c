/* SPDX-License-Identifier: MIT */
/*
 * store_pg_token.c: the PostgreSQL backend's table of secrets that stand
 * for a person (API tokens, web sessions, sign-in secrets), found by the
 * hash of the secret on its unique index.
 */
#include <errno.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store.h"
#include "store_pg_impl.h"

#define TOKEN_COLS                                                             \
	"id, kind, hash, owner, name, created_at, coalesce(last_used_at, 0), " \
	"coalesce(expires_at, 0), coalesce(revoked_at, 0)"

/* runs sql and hands each row to cb until it returns non-zero; *ret_rows */
static int
each_token(struct store *base, const char *sql, const struct pg_args *a,
    int (*cb)(void *arg, const struct token_rec *t), void *arg, int *ret_rows)
{
	PGresult *res;
	struct token_rec t;
	int r = 0, i, n;

	if ((res = pg_query(pg_of(base), sql, a, &r)) == NULL)
		return r;
	n = PQntuples(res);
	for (i = 0; i < n && r == 0; i++) {
		t.id = pg_i64(res, i, 0);
		t.kind = pg_text(res, i, 1);
		t.hash = pg_text(res, i, 2);
		t.owner = pg_text(res, i, 3);
		t.name = pg_text(res, i, 4);
		t.created_at = pg_i64(res, i, 5);
		t.last_used_at = pg_i64(res, i, 6);
		t.expires_at = pg_i64(res, i, 7);
		t.revoked_at = pg_i64(res, i, 8);
		r = cb(arg, &t);
	}
	PQclear(res);
	if (ret_rows != NULL)
		*ret_rows = n;
	return r < 0 ? r : 0;
}

int
pg_token_add(struct store *base, const struct token_rec *t, int64_t *ret_id)
{
	struct pg_args a = {0};

	pg_arg_str(&a, t->kind);
	pg_arg_str(&a, t->hash);
	pg_arg_str(&a, t->owner);
	pg_arg_str(&a, t->name);
	pg_arg_i64(&a, t->created_at);
	pg_arg_i64(&a, t->last_used_at);
	pg_arg_i64(&a, t->expires_at);
	return pg_ints(pg_of(base),
	    "INSERT INTO tokens (kind, hash, owner, name, created_at, "
	    "last_used_at, expires_at) VALUES ($1, $2, $3, $4, $5, "
	    "nullif($6::bigint, 0), nullif($7::bigint, 0)) RETURNING id",
	    &a, ret_id, 1);
}

int
pg_token_find(struct store *base, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	struct pg_args a = {0};
	int r, rows = 0;

	pg_arg_str(&a, hash);
	r = each_token(base,
	    "SELECT " TOKEN_COLS " FROM tokens WHERE hash = $1", &a, cb, arg,
	    &rows);
	return r == 0 && rows == 0 ? -ENOENT : r;
}

int
pg_token_list(struct store *base, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	struct pg_args a = {0};

	pg_arg_str(&a, owner);
	pg_arg_i64(&a, now);
	return each_token(base,
	    "SELECT " TOKEN_COLS " FROM tokens "
	    "WHERE ($1::text IS NULL OR owner = $1) "
	    "AND kind IN ('api', 'session') AND revoked_at IS NULL "
	    "AND (expires_at IS NULL OR expires_at > $2) ORDER BY id",
	    &a, cb, arg, NULL);
}

int
pg_token_revoke(struct store *base, int64_t id, const char *owner, int64_t at)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, id);
	pg_arg_str(&a, owner);
	pg_arg_i64(&a, at);
	return pg_exec_one(pg_of(base),
	    "UPDATE tokens SET revoked_at = $3 WHERE id = $1 "
	    "AND ($2::text IS NULL OR owner = $2) AND revoked_at IS NULL",
	    &a);
}

int
pg_token_used(struct store *base, int64_t id, int64_t at)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, at);
	pg_arg_i64(&a, id);
	return pg_exec(pg_of(base),
	    "UPDATE tokens SET last_used_at = $1 WHERE id = $2", &a, NULL);
}

int
pg_token_prune(struct store *base, int64_t before)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, before);
	return pg_exec(pg_of(base),
	    "DELETE FROM tokens WHERE kind IN ('session', 'signin') "
	    "AND expires_at < $1",
	    &a, NULL);
}
