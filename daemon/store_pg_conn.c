/* SPDX-License-Identifier: MIT */
/*
 * store_pg_conn.c: running one statement of the PostgreSQL store through
 * libpq, with its parameters as text, and reading the columns back.  A
 * failure keeps PostgreSQL's message and maps its SQLSTATE to the -errno
 * store.h promises.
 *
 * The calls block: the store's interface is synchronous (its callers run
 * inside the loop's batch transaction), so a statement is waited for as a
 * SQLite step is.  libpq's keepalives and the server's statement_timeout,
 * set at connection (store_pg.c), bound how long a dead network can hold
 * the loop.  The writes whose answer the caller needs not at once are
 * deferred (pg_defer): sent in libpq's pipeline mode and their results
 * read with the next statement that is waited for, so that a batch of
 * adds costs about one round trip, not four an add.  The statements every
 * request runs are prepared once a connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pg_impl.h"
#include "timefmt.h"
#include "util.h"

struct pg_store *
pg_of(struct store *base)
{
	return base ? container_of(base, struct pg_store, base) : NULL;
}

const struct pg_store *
pg_cof(const struct store *base)
{
	return container_of(base, const struct pg_store, base);
}

void
pg_arg_i64(struct pg_args *a, int64_t v)
{
	if (a->n >= PG_MAX_ARGS)
		return;
	snprintf(a->buf[a->n], sizeof(a->buf[a->n]), "%lld", (long long)v);
	a->v[a->n] = a->buf[a->n];
	a->n++;
}

void
pg_arg_str(struct pg_args *a, const char *v)
{
	if (a->n >= PG_MAX_ARGS)
		return;
	a->v[a->n++] = v;
}

/* -errno for a failed result, by its SQLSTATE class */
static int
map_state(const PGresult *res, const PGconn *conn)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn) == CONNECTION_BAD)
		return -ECONNRESET;
	if (s == NULL)
		return -EIO;
	if (strncmp(s, "23", 2) == 0) /* integrity constraint violation */
		return -EINVAL;
	if (strcmp(s, "53100") == 0) /* disk full */
		return -ENOSPC;
	if (strncmp(s, "53", 2) == 0) /* out of memory, too many connections */
		return -ENOMEM;
	if (strncmp(s, "40", 2) == 0 || strcmp(s, "55P03") == 0)
		return -EBUSY; /* serialization, deadlock, lock not available */
	if (strcmp(s, "25006") == 0) /* read-only transaction */
		return -EROFS;
	return -EIO;
}

/* keeps msg as the store's message, without libpq's trailing newline */
static void
keep_msg(struct pg_store *st, const char *msg)
{
	size_t n;

	util_strlcpy(st->msg, msg && msg[0] ? msg : "PostgreSQL failed",
	    sizeof(st->msg));
	n = strlen(st->msg);
	while (n > 0 && (st->msg[n - 1] == '\n' || st->msg[n - 1] == ' '))
		st->msg[--n] = '\0';
}

/* the deferred statements' libpq message, or ours when there is none */
static void
pipe_failed(struct pg_store *st, int *ret)
{
	keep_msg(st, PQerrorMessage(st->conn));
	*ret = PQstatus(st->conn) == CONNECTION_BAD ? -EIO : -ENOMEM;
}

/*
 * A named statement is prepared once a connection (the first time it is
 * run on it), so that the server parses and plans it once: the hot
 * statements of every request.  Prepared outside any pipeline, so that
 * a name is known prepared only once the server said so.
 */
static int
prepare(struct pg_store *st, const char *name, const char *sql)
{
	PGresult *res;
	int i, r;

	if (PQbackendPID(st->conn) != st->prepared_pid) {
		st->n_prepared = 0;
		st->prepared_pid = PQbackendPID(st->conn);
	}
	for (i = 0; i < st->n_prepared; i++)
		if (strcmp(st->prepared[i], name) == 0)
			return 0;
	if (st->n_prepared >= PG_MAX_PREPARED)
		return 1;
	if ((r = pg_flush(st)) < 0)
		return r;
	res = PQprepare(st->conn, name, sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		keep_msg(st,
		    res ? PQresultErrorMessage(res) : PQerrorMessage(st->conn));
		r = res ? map_state(res, st->conn) : -ENOMEM;
		PQclear(res);
		return r == -ECONNRESET ? -EIO : r;
	}
	PQclear(res);
	st->prepared[st->n_prepared++] = name;
	return 0;
}

/* sends one statement into the pipeline: the prepared one if named */
static bool
send_one(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a)
{
	if (name != NULL)
		return PQsendQueryPrepared(st->conn, name, a ? a->n : 0,
		    a ? a->v : NULL, NULL, NULL, 0);
	return PQsendQueryParams(
	    st->conn, sql, a ? a->n : 0, NULL, a ? a->v : NULL, NULL, NULL, 0);
}

int
pg_defer(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a)
{
	int r;

	if (name != NULL && (r = prepare(st, name, sql)) != 0) {
		if (r < 0)
			return r;
		name = NULL;
	}
	if (st->deferred >= PG_MAX_DEFER && (r = pg_flush(st)) < 0)
		return r;
	if (st->deferred == 0 && !PQenterPipelineMode(st->conn)) {
		pipe_failed(st, &r);
		return r;
	}
	if (!send_one(st, name, sql, a)) {
		pipe_failed(st, &r);
		/* what was sent before is still owed its results */
		if (st->deferred > 0)
			(void)pg_flush(st);
		else
			(void)PQexitPipelineMode(st->conn);
		return r;
	}
	st->deferred_req[st->deferred++] = st->req;
	return 0;
}

/*
 * Ends the pipeline: a sync, then the result of each deferred statement
 * and, when sql is not NULL, of sql sent after them.  The first failure
 * is the answer (the statements after it were skipped by the server); on
 * success sql's result, or NULL for none.
 */
static PGresult *
pipe_end(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a, int *ret)
{
	PGresult *res, *last = NULL;
	ExecStatusType s;
	int n = st->deferred, n_deferred = st->deferred, i, r = 0;

	st->deferred = 0;
	if (sql != NULL && send_one(st, name, sql, a))
		n++;
	else if (sql != NULL)
		pipe_failed(st, &r);
	if (!PQpipelineSync(st->conn)) {
		pipe_failed(st, ret);
		return NULL;
	}
	for (i = 0; i <= n; i++) {
		/* each statement's result is followed by a NULL; the sync's
		 * by none */
		while ((res = PQgetResult(st->conn)) != NULL) {
			s = PQresultStatus(res);
			if (s == PGRES_PIPELINE_SYNC) {
				PQclear(res);
				break;
			}
			if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
				if (i == n - 1 && sql != NULL && r == 0) {
					PQclear(last);
					last = res;
					continue;
				}
			} else if (s != PGRES_PIPELINE_ABORTED && r == 0) {
				keep_msg(st, PQresultErrorMessage(res));
				r = map_state(res, st->conn);
				/* its request was answered ok (to be
				 * confirmed by the commit): the commit
				 * must fail */
				if (i < n_deferred &&
				    st->deferred_req[i] != st->req)
					st->poisoned = true;
			}
			PQclear(res);
		}
		if (res == NULL && PQstatus(st->conn) == CONNECTION_BAD) {
			if (r == 0)
				pipe_failed(st, &r);
			break;
		}
	}
	(void)PQexitPipelineMode(st->conn);
	if (r == -ECONNRESET)
		r = -EIO;
	if (r < 0) {
		PQclear(last);
		last = NULL;
	}
	*ret = r;
	return last;
}

int
pg_flush(struct pg_store *st)
{
	int r = 0;

	if (st->deferred > 0)
		(void)pipe_end(st, NULL, NULL, NULL, &r);
	return r;
}

PGresult *
pg_query_prep(struct pg_store *st, const char *name, const char *sql,
    const struct pg_args *a, int *ret)
{
	PGresult *res;
	ExecStatusType s;

	/* a connection lost since: made again (blocking for up to
	 * connect_timeout) where no transaction was open on it to lose */
	if (st->deferred == 0 && !st->in_txn &&
	    PQstatus(st->conn) == CONNECTION_BAD)
		PQreset(st->conn);
	if (name != NULL && (*ret = prepare(st, name, sql)) != 0) {
		if (*ret < 0)
			return NULL;
		name = NULL;
	}
	/* the deferred statements and this one, in one round trip; a text of
	 * several statements needs the simple protocol, outside a pipeline */
	if (st->deferred > 0) {
		if (a != NULL || name != NULL || strchr(sql, ';') == NULL)
			return pipe_end(st, name, sql, a, ret);
		if ((*ret = pg_flush(st)) < 0)
			return NULL;
	}
	/* without parameters, the simple protocol: a migration's text holds
	 * several statements, which the extended one refuses */
	if (name != NULL)
		res = PQexecPrepared(st->conn, name, a ? a->n : 0,
		    a ? a->v : NULL, NULL, NULL, 0);
	else if (a == NULL)
		res = PQexec(st->conn, sql);
	else
		res = PQexecParams(
		    st->conn, sql, a->n, NULL, a->v, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (res != NULL && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)) {
		*ret = 0;
		return res;
	}
	keep_msg(
	    st, res ? PQresultErrorMessage(res) : PQerrorMessage(st->conn));
	*ret = res ? map_state(res, st->conn) : -ENOMEM;
	if (*ret == -ECONNRESET)
		*ret = -EIO;
	PQclear(res);
	return NULL;
}

PGresult *
pg_query(
    struct pg_store *st, const char *sql, const struct pg_args *a, int *ret)
{
	return pg_query_prep(st, NULL, sql, a, ret);
}

int
pg_exec(struct pg_store *st, const char *sql, const struct pg_args *a,
    int64_t *ret_changed)
{
	PGresult *res;
	const char *n;
	int r;

	if ((res = pg_query(st, sql, a, &r)) == NULL)
		return r;
	if (ret_changed != NULL) {
		n = PQcmdTuples(res);
		*ret_changed = n[0] ? strtoll(n, NULL, 10) : 0;
	}
	PQclear(res);
	return 0;
}

int64_t
pg_i64(const PGresult *res, int row, int col)
{
	const char *v;

	if (PQgetisnull(res, row, col))
		return 0;
	v = PQgetvalue(res, row, col);
	/* a boolean, from a comparison in the select list */
	if (v[0] == 't' || v[0] == 'f')
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

const char *
pg_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

int
pg_ints(struct pg_store *st, const char *sql, const struct pg_args *a,
    int64_t *v, int n)
{
	PGresult *res;
	int i, r;

	if ((res = pg_query(st, sql, a, &r)) == NULL)
		return r;
	if (PQntuples(res) != 1 || PQnfields(res) < n) {
		keep_msg(st, "a one-row query returned no row");
		r = -EIO;
		goto out;
	}
	for (i = 0; i < n; i++)
		v[i] = pg_i64(res, 0, i);
out:
	PQclear(res);
	return r;
}

size_t
pg_nudge_from_text(const char *s, int64_t *nudge, size_t max)
{
	int r;

	if (s == NULL)
		return 0;
	r = timefmt_parse_duration_list(s, nudge, max);
	return r < 0 ? 0 : (size_t)r;
}

void
pg_read_promise(const PGresult *res, int row, struct promise_rec *p)
{
	const char *state = pg_text(res, row, 9);

	memset(p, 0, sizeof(*p));
	p->id = pg_i64(res, row, 0);
	p->title = pg_text(res, row, 1);
	p->owner = pg_text(res, row, 2);
	p->for_whom = pg_text(res, row, 3);
	p->note = pg_text(res, row, 4);
	p->created_by = pg_text(res, row, 5);
	p->due_at = pg_i64(res, row, 6);
	p->created_at = pg_i64(res, row, 7);
	p->settled_at = pg_i64(res, row, 8);
	p->state = pstate_from_string(state ? state : "");
	p->n_nudge = pg_nudge_from_text(
	    pg_text(res, row, 10), p->nudge, PROTO_MAX_NUDGES);
	p->escalate_after = pg_i64(res, row, 11);
	p->escalation_repeat = pg_i64(res, row, 12);
	p->stage = (int32_t)pg_i64(res, row, 13);
	p->snoozes = pg_i64(res, row, 14);
	p->kind = pg_text(res, row, 15);
	p->shifted = pg_text(res, row, 16) != NULL;
	p->n_asked = p->shifted ? pg_nudge_from_text(pg_text(res, row, 16),
	                              p->asked, PROTO_MAX_NUDGES)
	                        : 0;
}
