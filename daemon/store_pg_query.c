/* SPDX-License-Identifier: MIT */
/*
 * store_pg_query.c: the PostgreSQL store's reads (lists, reports, counts,
 * metrics) and its outbox, each the same query as SQLite's in
 * PostgreSQL's words: FILTER for SQLite's sums of comparisons, jsonb for
 * json_extract, COLLATE "C" where SQLite sorts text bytewise.  A callback
 * sees a row's strings for its own duration only, as on SQLite.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pg_impl.h"
#include "util.h"

#define DELIVERY_COLS                                                          \
	"d.id, d.uid, coalesce(d.promise_id, 0), d.kind, d.recipient, "        \
	"d.channel, d.payload, d.state, d.attempts, d.next_attempt_at, "       \
	"d.last_error, d.created_at, coalesce(d.sent_at, 0)"

/*
 * list's match is the FTS5 query the operations build for SQLite: groups
 * of quoted words, each a prefix ("w"*), joined by AND, each group
 * optionally within one column (for_whom : (...)).  Here each word is a
 * case-blind match at the start of a word (\m) of the column, or of title,
 * customer and note; its regex characters escaped.  Appends to sql;
 * -EINVAL for a query not of that form.
 */
static int
match_sql(const char *m, char *sql, size_t len, struct pg_args *a, char *words,
    size_t wlen)
{
	const char *col;
	size_t off = strlen(sql), w = 0;
	int n;

	while (*m != '\0') {
		col = "title || ' ' || coalesce(for_whom, '') || ' ' || "
		      "coalesce(note, '')";
		if (strncmp(m, " AND ", 5) == 0)
			m += 5;
		if (strncmp(m, "for_whom : ", 11) == 0) {
			col = "coalesce(for_whom, '')";
			m += 11;
		}
		if (*m++ != '(')
			return -EINVAL;
		while (*m == '"') {
			if (a->n >= PG_MAX_ARGS || w + 3 >= wlen)
				return -E2BIG;
			a->v[a->n++] = words + w;
			words[w++] = '\\';
			words[w++] = 'm';
			for (m++; *m != '\0'; m++) {
				if (*m == '"' && m[1] != '"')
					break;
				if (*m == '"')
					m++;
				if (w + 3 >= wlen)
					return -E2BIG;
				/* every ASCII punctuation escaped: none is
				 * then regex syntax */
				if ((unsigned char)*m < 0x80 &&
				    !((*m >= 'a' && *m <= 'z') ||
				        (*m >= 'A' && *m <= 'Z') ||
				        (*m >= '0' && *m <= '9')))
					words[w++] = '\\';
				words[w++] = *m;
			}
			words[w++] = '\0';
			if (strncmp(m, "\"*", 2) != 0)
				return -EINVAL;
			m += 2;
			n = snprintf(sql + off, len - off, " AND (%s) ~* $%d",
			    col, a->n);
			if (n < 0 || (size_t)n >= len - off)
				return -E2BIG;
			off += (size_t)n;
			if (strncmp(m, " AND \"", 6) == 0)
				m += 5;
		}
		if (*m++ != ')')
			return -EINVAL;
	}
	return 0;
}

int
pg_list(struct store *base, enum store_filter f, const char *owner,
    const char *match, int64_t now, int64_t limit,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	static const char *const where[SFILTER_MAX] = {
	    [SFILTER_OPEN] = "state = 'open'",
	    [SFILTER_OVERDUE] = "state = 'open' AND due_at <= $1",
	    [SFILTER_KEPT] = "state = 'kept'",
	    [SFILTER_CANCELLED] = "state = 'cancelled'",
	    [SFILTER_ALL] = "true",
	};
	struct pg_store *st = pg_of(base);
	struct pg_args a = {0};
	struct promise_rec p;
	char sql[2048], *words = NULL;
	PGresult *res;
	size_t wlen, n;
	int i, r = 0;

	if ((unsigned)f >= SFILTER_MAX)
		return -EINVAL;
	pg_arg_i64(&a, now);
	pg_arg_str(&a, owner);
	pg_arg_i64(&a, limit);
	if (limit <= 0)
		a.v[2] = NULL; /* LIMIT NULL: no limit */
	/* $1 named in every filter: libpq leaves its type to the server */
	snprintf(sql, sizeof(sql),
	    "SELECT " PG_PROMISE_COLS " FROM promises WHERE $1::bigint IS NOT "
	    "NULL AND %s AND ($2::text IS NULL OR owner = $2)",
	    where[f]);
	if (match != NULL) {
		wlen = strlen(match) * 2 + 8;
		if ((words = malloc(wlen)) == NULL)
			return -ENOMEM;
		if ((r = match_sql(match, sql, sizeof(sql), &a, words, wlen)) <
		    0) {
			snprintf(
			    st->msg, sizeof(st->msg), "cannot search for that");
			goto out;
		}
	}
	n = strlen(sql);
	if (snprintf(sql + n, sizeof(sql) - n,
	        " ORDER BY due_at, id LIMIT $3") >= (int)(sizeof(sql) - n)) {
		r = -E2BIG;
		goto out;
	}
	if ((res = pg_query(st, sql, &a, &r)) == NULL)
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		pg_read_promise(res, i, &p);
		cb(arg, &p);
	}
	PQclear(res);
out:
	free(words);
	return r;
}

/* the next tab-separated integer of a COPY row at *s; -1 if none */
static int
copy_i64(char **s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(*s, &end, 10);
	if (end == *s || errno != 0 || (*end != '\t' && *end != '\n'))
		return -1;
	*s = *end == '\t' ? end + 1 : end;
	return 0;
}

/* one row of the COPY below: id, due_at, stage, nudge, escalate_after,
 * escalation_repeat, as text, tab-separated */
static int
copy_row(char *row, struct promise_rec *p)
{
	int64_t v[3];
	char *s = row, *tab;

	if (copy_i64(&s, &p->id) < 0 || copy_i64(&s, &p->due_at) < 0 ||
	    copy_i64(&s, &v[0]) < 0 || (tab = strchr(s, '\t')) == NULL)
		return -1;
	p->stage = (int32_t)v[0];
	/* digits and commas only: nothing COPY escapes */
	*tab = '\0';
	p->n_nudge = pg_nudge_from_text(s, p->nudge, PROTO_MAX_NUDGES);
	s = tab + 1;
	if (copy_i64(&s, &v[1]) < 0 || copy_i64(&s, &v[2]) < 0)
		return -1;
	p->escalate_after = v[1];
	p->escalation_repeat = v[2];
	return 0;
}

/*
 * At start a million open promises are read: streamed by COPY, a row at a
 * time, so that they are never all in memory at once, and without the
 * cost of a result per row (libpq's single-row mode took twice as long).
 * The callback must not use the store meanwhile (the schedule's does
 * not).
 */
int
pg_foreach_open(struct store *base,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct pg_store *st = pg_of(base);
	struct promise_rec p;
	PGresult *res;
	char *row;
	int len, r;

	if ((r = pg_flush(st)) < 0)
		return r;
	res = PQexec(st->conn,
	    "COPY (SELECT id, due_at, stage, nudge, escalate_after, "
	    "escalation_repeat FROM promises WHERE state = 'open' "
	    "ORDER BY id) TO STDOUT");
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		util_strlcpy(st->msg,
		    res ? PQresultErrorMessage(res) : PQerrorMessage(st->conn),
		    sizeof(st->msg));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		PQclear(res);
		return -EIO;
	}
	PQclear(res);
	memset(&p, 0, sizeof(p));
	p.state = PSTATE_OPEN;
	/* every row is read, even after a failure, so that the connection
	 * is free for the next statement */
	while ((len = PQgetCopyData(st->conn, &row, 0)) > 0) {
		if (r == 0 && copy_row(row, &p) < 0) {
			snprintf(st->msg, sizeof(st->msg),
			    "an open promise's row could not be read");
			r = -EIO;
		}
		if (r == 0 && (r = cb(arg, &p)) > 0)
			r = 0;
		PQfreemem(row);
	}
	if (len == -2 && r == 0) {
		util_strlcpy(
		    st->msg, PQerrorMessage(st->conn), sizeof(st->msg));
		r = -EIO;
	}
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && r == 0) {
			util_strlcpy(st->msg, PQresultErrorMessage(res),
			    sizeof(st->msg));
			r = -EIO;
		}
		PQclear(res);
	}
	st->msg[strcspn(st->msg, "\n")] = '\0';
	return r;
}

/* hands each row of a promise query to cb until it returns non-zero */
static int
each_promise(struct pg_store *st, const char *sql, const struct pg_args *a,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg, int *ret_rows)
{
	struct promise_rec p;
	PGresult *res;
	int i, r;

	if ((res = pg_query(st, sql, a, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res) && r == 0; i++) {
		pg_read_promise(res, i, &p);
		r = cb(arg, &p);
	}
	if (ret_rows != NULL)
		*ret_rows = i;
	PQclear(res);
	return r;
}

int
pg_due_between(struct store *base, bool kept_too, int64_t from, int64_t to,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, from);
	pg_arg_i64(&a, to);
	return each_promise(pg_of(base),
	    kept_too ? "SELECT " PG_PROMISE_COLS " FROM promises WHERE state "
	               "IN ('open', 'kept') AND due_at >= $1 AND due_at < $2 "
	               "ORDER BY due_at, id"
	             : "SELECT " PG_PROMISE_COLS " FROM promises WHERE state = "
	               "'open' AND due_at >= $1 AND due_at < $2 "
	               "ORDER BY due_at, id",
	    &a, cb, arg, NULL);
}

int
pg_digest_sent(
    struct store *base, const char *week, const char *manager, int64_t at)
{
	struct pg_args a = {0};
	int r;

	pg_arg_str(&a, week);
	pg_arg_str(&a, manager);
	pg_arg_i64(&a, at);
	/* written as a digest or an agenda goes out: by the leader alone */
	if ((r = pg_fence_batch(pg_of(base))) < 0)
		return r;
	return pg_exec(pg_of(base),
	    "INSERT INTO digests (week, manager, at) VALUES ($1, $2, $3)", &a,
	    NULL);
}

int
pg_digest_was_sent(
    struct store *base, const char *week, const char *manager, bool *ret)
{
	struct pg_args a = {0};
	int64_t v[1];
	int r;

	pg_arg_str(&a, week);
	pg_arg_str(&a, manager);
	r = pg_ints(pg_of(base),
	    "SELECT count(*) FROM digests WHERE week = $1 AND manager = $2", &a,
	    v, 1);
	if (r == 0)
		*ret = v[0] > 0;
	return r;
}

int
pg_mail_seen(struct store *base, const char *key, char **ret_outcome)
{
	struct pg_args a = {0};
	PGresult *res;
	const char *v;
	int r;

	*ret_outcome = NULL;
	pg_arg_str(&a, key);
	if ((res = pg_query(pg_of(base),
	         "SELECT outcome FROM mails WHERE key = $1", &a, &r)) == NULL)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else {
		v = pg_text(res, 0, 0);
		*ret_outcome = strdup(v != NULL ? v : "");
		r = *ret_outcome != NULL ? 0 : -ENOMEM;
	}
	PQclear(res);
	return r;
}

int
pg_mail_record(struct store *base, const char *key, int64_t at,
    const char *outcome, int64_t forget_before)
{
	struct pg_args a = {0}, b = {0};
	int r;

	pg_arg_i64(&a, forget_before);
	if ((r = pg_exec(
	         pg_of(base), "DELETE FROM mails WHERE at < $1", &a, NULL)) < 0)
		return r;
	pg_arg_str(&b, key);
	pg_arg_i64(&b, at);
	pg_arg_str(&b, outcome);
	return pg_exec(pg_of(base),
	    "INSERT INTO mails (key, at, outcome) VALUES ($1, $2, $3)", &b,
	    NULL);
}

int
pg_count_open(struct store *base, int64_t *ret)
{
	return pg_ints(pg_of(base),
	    "SELECT count(*) FROM promises WHERE state = 'open'", NULL, ret, 1);
}

/* returns how many rows were read, or -errno */
static int
export_cb_count(struct pg_store *st, const struct pg_args *a,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	int rows = 0,
	    r = each_promise(st,
	        "SELECT " PG_PROMISE_COLS " FROM promises WHERE id > $1 "
	        "ORDER BY id LIMIT $2",
	        a, cb, arg, &rows);

	return r < 0 ? r : rows;
}

int
pg_export(struct store *base, int64_t after, int64_t limit,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, after);
	pg_arg_i64(&a, limit);
	return export_cb_count(pg_of(base), &a, cb, arg);
}

int
pg_report(struct store *base, int64_t since, int64_t now,
    int (*cb)(void *arg, const struct report_row *row), void *arg)
{
	/* a cancellation counts as told when its event says so */
	static const char sql[] =
	    "SELECT owner, count(*), "
	    "count(*) FILTER (WHERE state = 'kept' AND settled_at <= due_at), "
	    "count(*) FILTER (WHERE state = 'kept' AND settled_at > due_at), "
	    "count(*) FILTER (WHERE state = 'open'), "
	    "count(*) FILTER (WHERE state = 'open' AND due_at <= $2), "
	    "count(*) FILTER (WHERE state = 'cancelled' AND EXISTS (SELECT 1 "
	    "FROM events e WHERE e.promise_id = p.id AND e.kind = 'cancelled' "
	    "AND (e.detail::jsonb -> 'told_customer') IN ('true'::jsonb, "
	    "'1'::jsonb))), "
	    "count(*) FILTER (WHERE state = 'cancelled'), "
	    "count(*) FILTER (WHERE snoozes > 0), coalesce(sum(snoozes), 0) "
	    "FROM promises p WHERE created_at >= $1 "
	    "GROUP BY owner ORDER BY owner COLLATE \"C\"";
	struct pg_args a = {0};
	struct report_row row;
	PGresult *res;
	int i, r;

	pg_arg_i64(&a, since);
	pg_arg_i64(&a, now);
	if ((res = pg_query(pg_of(base), sql, &a, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++) {
		row.owner = pg_text(res, i, 0);
		row.made = pg_i64(res, i, 1);
		row.kept_on_time = pg_i64(res, i, 2);
		row.kept_late = pg_i64(res, i, 3);
		row.open = pg_i64(res, i, 4);
		row.overdue = pg_i64(res, i, 5);
		row.cancelled_told = pg_i64(res, i, 6);
		row.cancelled_untold = pg_i64(res, i, 7) - row.cancelled_told;
		row.renegotiated = pg_i64(res, i, 8);
		row.snoozes = pg_i64(res, i, 9);
		if ((r = cb(arg, &row)) < 0)
			break;
	}
	PQclear(res);
	return r < 0 ? r : 0;
}

int
pg_report_lateness(struct store *base, const char *owner, int64_t since,
    int (*cb)(void *arg, int64_t late), void *arg)
{
	struct pg_args a = {0};
	PGresult *res;
	int i, r;

	pg_arg_str(&a, owner);
	pg_arg_i64(&a, since);
	res = pg_query(pg_of(base),
	    "SELECT greatest(settled_at - due_at, 0) FROM promises "
	    "WHERE owner = $1 AND created_at >= $2 AND state = 'kept' "
	    "ORDER BY 1",
	    &a, &r);
	if (res == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++)
		if ((r = cb(arg, pg_i64(res, i, 0))) < 0)
			break;
	PQclear(res);
	return r < 0 ? r : 0;
}

int
pg_sample(struct store *base, int64_t since,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	struct pg_args a = {0};
	int r;

	pg_arg_i64(&a, since);
	r = each_promise(pg_of(base),
	    "SELECT " PG_PROMISE_COLS " FROM promises "
	    "WHERE state <> 'open' AND settled_at >= $1 ORDER BY random()",
	    &a, cb, arg, NULL);
	return r > 0 ? 0 : r;
}

int
pg_counts(struct store *base, int64_t now, struct store_counts *ret)
{
	struct pg_args a = {0};
	int64_t v[2];
	int r;

	memset(ret, 0, sizeof(*ret));
	pg_arg_i64(&a, now);
	r = pg_ints(pg_of(base),
	    "SELECT (SELECT min(due_at) FROM promises WHERE state = 'open' "
	    "AND due_at > $1), (SELECT count(*) FROM deliveries "
	    "WHERE state = 'failed')",
	    &a, v, 2);
	if (r == 0) {
		ret->next_due = v[0];
		ret->deliveries_failed = v[1];
	}
	return r;
}

int
pg_owner_counts(struct store *base, const char *owner, int64_t now,
    struct store_owner_counts *ret)
{
	struct pg_args a = {0};
	int64_t v[3];
	int r;

	memset(ret, 0, sizeof(*ret));
	pg_arg_str(&a, owner);
	pg_arg_i64(&a, now);
	r = pg_ints(pg_of(base),
	    "SELECT count(*), count(*) FILTER (WHERE due_at <= $2), "
	    "min(due_at) FILTER (WHERE due_at > $2) FROM promises "
	    "WHERE owner = $1 AND state = 'open'",
	    &a, v, 3);
	if (r == 0) {
		ret->open = v[0];
		ret->overdue = v[1];
		ret->next_due = v[2];
	}
	return r;
}

/* every count in one statement; each daemon on the database may have
 * changed it, so nothing is remembered between calls */
int
pg_metrics(struct store *base, int64_t now, struct store_metrics *ret)
{
	struct pg_args a = {0};
	int64_t v[8];
	int r;

	memset(ret, 0, sizeof(*ret));
	pg_arg_i64(&a, now);
	r = pg_ints(pg_of(base),
	    "SELECT count(*) FILTER (WHERE state = 'open'), "
	    "count(*) FILTER (WHERE state = 'kept'), "
	    "count(*) FILTER (WHERE state = 'cancelled'), "
	    "count(*) FILTER (WHERE state = 'open' AND due_at <= $1), "
	    "count(*) FILTER (WHERE (state = 'open' AND due_at <= $1) "
	    "OR (state <> 'open' AND settled_at >= due_at) "
	    "OR EXISTS (SELECT 1 FROM events e WHERE e.promise_id = p.id "
	    "AND e.kind = 'due')), "
	    "(SELECT count(*) FROM deliveries WHERE state = 'pending'), "
	    "(SELECT count(*) FROM deliveries WHERE state = 'sent'), "
	    "(SELECT count(*) FROM deliveries WHERE state = 'failed') "
	    "FROM promises p",
	    &a, v, 8);
	if (r == 0) {
		ret->promises[PSTATE_OPEN] = v[0];
		ret->promises[PSTATE_KEPT] = v[1];
		ret->promises[PSTATE_CANCELLED] = v[2];
		ret->overdue = v[3];
		ret->missed = v[4];
		ret->deliveries_pending = v[5];
		ret->deliveries_sent = v[6];
		ret->deliveries_failed = v[7];
	}
	return r;
}

int
pg_delivery_add(struct store *base, const char *uid, int64_t promise_id,
    const char *event, const char *recipient, const char *channel,
    const char *payload, int64_t now, int64_t *ret_id)
{
	struct pg_args a = {0};

	pg_arg_str(&a, uid);
	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, event);
	pg_arg_str(&a, recipient);
	pg_arg_str(&a, channel);
	pg_arg_str(&a, payload);
	pg_arg_i64(&a, now);
	pg_note_delivery(pg_of(base), uid);
	return pg_ints(pg_of(base),
	    "INSERT INTO deliveries (uid, promise_id, kind, recipient, "
	    "channel, payload, next_attempt_at, created_at) VALUES ($1, "
	    "nullif($2::bigint, 0), $3, $4, $5, $6, $7, $7) RETURNING id",
	    &a, ret_id, 1);
}

int
pg_delivery_held(struct store *base, int64_t promise_id, const char *recipient,
    const char *event, int64_t after, bool *ret)
{
	struct pg_args a = {0};
	int64_t v[1];
	int r;

	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, recipient);
	pg_arg_str(&a, event);
	pg_arg_i64(&a, after);
	r = pg_ints(pg_of(base),
	    "SELECT count(*) FROM deliveries WHERE promise_id = $1 AND "
	    "recipient = $2 AND kind = $3 AND state = 'pending' AND "
	    "attempts = 0 AND next_attempt_at > $4",
	    &a, v, 1);
	if (r == 0)
		*ret = v[0] > 0;
	return r;
}

int
pg_delivery_sent(struct store *base, int64_t id, int64_t now)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, now);
	pg_arg_i64(&a, id);
	return pg_exec_one(pg_of(base),
	    "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, "
	    "sent_at = $1, last_error = NULL WHERE id = $2",
	    &a);
}

/* one statement for them all: the ids as an array literal */
int
pg_deliveries_sent(
    struct store *base, const int64_t *ids, size_t n, int64_t now)
{
	struct pg_args a = {0};
	char *list = malloc(n * 21 + 3), *p;
	size_t i;
	int r;

	if (list == NULL)
		return -ENOMEM;
	p = list;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += snprintf(p, 22, "%s%" PRId64, i > 0 ? "," : "", ids[i]);
	*p++ = '}';
	*p = '\0';
	pg_arg_i64(&a, now);
	pg_arg_str(&a, list);
	r = pg_exec(pg_of(base),
	    "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, "
	    "sent_at = $1, last_error = NULL WHERE id = ANY ($2::bigint[])",
	    &a, NULL);
	free(list);
	return r;
}

int
pg_delivery_retry(
    struct store *base, int64_t id, int64_t next_attempt_at, const char *error)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, next_attempt_at);
	pg_arg_str(&a, error);
	pg_arg_i64(&a, id);
	return pg_exec_one(pg_of(base),
	    "UPDATE deliveries SET attempts = attempts + 1, "
	    "next_attempt_at = $1, last_error = $2 WHERE id = $3",
	    &a);
}

int
pg_delivery_failed(struct store *base, int64_t id, const char *error)
{
	struct pg_args a = {0};

	pg_arg_str(&a, error);
	pg_arg_i64(&a, id);
	return pg_exec_one(pg_of(base),
	    "UPDATE deliveries SET state = 'failed', attempts = attempts + 1, "
	    "last_error = $1 WHERE id = $2",
	    &a);
}

/* hands each row to cb until it returns non-zero (above 0: enough) */
static int
each_delivery(struct pg_store *st, const char *sql, const struct pg_args *a,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	struct delivery_rec d;
	PGresult *res;
	int i, r;

	if ((res = pg_query(st, sql, a, &r)) == NULL)
		return r;
	for (i = 0; i < PQntuples(res) && r == 0; i++) {
		d.id = pg_i64(res, i, 0);
		d.uid = pg_text(res, i, 1);
		d.promise_id = pg_i64(res, i, 2);
		d.event = pg_text(res, i, 3);
		d.recipient = pg_text(res, i, 4);
		d.channel = pg_text(res, i, 5);
		d.payload = pg_text(res, i, 6);
		d.state = pg_text(res, i, 7);
		d.attempts = pg_i64(res, i, 8);
		d.next_attempt_at = pg_i64(res, i, 9);
		d.last_error = pg_text(res, i, 10);
		d.created_at = pg_i64(res, i, 11);
		d.sent_at = pg_i64(res, i, 12);
		d.owner = PQnfields(res) > 13 ? pg_text(res, i, 13) : NULL;
		r = cb(arg, &d);
	}
	PQclear(res);
	return r > 0 ? 0 : r;
}

int
pg_foreach_pending_delivery(struct store *base,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	/* a row another daemon is writing the outcome of is skipped, not
	 * waited for: read again at the next catch-up, it is sent by then */
	return each_delivery(pg_of(base),
	    "SELECT " DELIVERY_COLS " FROM deliveries d "
	    "WHERE d.state = 'pending' ORDER BY d.id FOR UPDATE SKIP LOCKED",
	    NULL, cb, arg);
}

/* marks a found row, for by_uid's -ENOENT */
struct found {
	int (*cb)(void *arg, const struct delivery_rec *d);
	void *arg;
	bool seen;
	int r;
};

static int
found_cb(void *arg, const struct delivery_rec *d)
{
	struct found *f = arg;

	f->seen = true;
	f->r = f->cb(f->arg, d);
	return f->r < 0 ? f->r : 1;
}

int
pg_delivery_by_uid(struct store *base, const char *uid,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	struct found f = {cb, arg, false, 0};
	struct pg_args a = {0};
	int r;

	pg_arg_str(&a, uid);
	r = each_delivery(pg_of(base),
	    "SELECT " DELIVERY_COLS " FROM deliveries d WHERE d.uid = $1", &a,
	    found_cb, &f);
	if (r < 0)
		return r;
	return f.seen ? f.r : -ENOENT;
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

int
pg_delivery_short(struct store *base, const char *uid, size_t *ret)
{
	struct pg_args a = {0};
	size_t before, after;
	PGresult *res;
	int r;

	pg_arg_str(&a, uid);
	res = pg_query(pg_of(base),
	    "SELECT (SELECT max(uid) FROM deliveries WHERE uid < $1), "
	    "(SELECT min(uid) FROM deliveries WHERE uid > $1)",
	    &a, &r);
	if (res == NULL)
		return r;
	/* in uid order only the neighbours share the most with it */
	before = common_prefix(uid, pg_text(res, 0, 0));
	after = common_prefix(uid, pg_text(res, 0, 1));
	*ret = (before > after ? before : after) + 1;
	PQclear(res);
	return 0;
}

int
pg_delivery_resolve(struct store *base, const char *prefix, char uid[33])
{
	struct pg_args a = {0};
	const char *v;
	PGresult *res;
	int r;

	pg_arg_str(&a, prefix);
	res = pg_query(pg_of(base),
	    "SELECT uid FROM deliveries WHERE uid >= $1 AND uid < $1 || 'g' "
	    "ORDER BY uid LIMIT 2",
	    &a, &r);
	if (res == NULL)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else if (PQntuples(res) > 1)
		r = -ENOTUNIQ;
	else if ((v = pg_text(res, 0, 0)) == NULL || strlen(v) != 32)
		r = -EIO;
	else
		memcpy(uid, v, 33);
	PQclear(res);
	return r;
}

int
pg_deliveries(struct store *base, int64_t promise_id, const char *state,
    int64_t limit, int (*cb)(void *arg, const struct delivery_rec *d),
    void *arg)
{
	struct pg_args a = {0};
	char sql[768];

	/* one promise's outbox oldest first, the whole outbox newest first;
	 * the owner in the same query */
	snprintf(sql, sizeof(sql),
	    "SELECT " DELIVERY_COLS ", p.owner FROM deliveries d "
	    "LEFT JOIN promises p ON p.id = d.promise_id WHERE %s "
	    "AND ($2::text IS NULL OR d.state = $2) ORDER BY d.id %s LIMIT $3",
	    promise_id > 0 ? "d.promise_id = $1" : "$1::bigint IS NOT NULL",
	    promise_id > 0 ? "ASC" : "DESC");
	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, state);
	pg_arg_i64(&a, limit);
	if (limit <= 0)
		a.v[2] = NULL; /* LIMIT NULL: no limit */
	return each_delivery(pg_of(base), sql, &a, cb, arg);
}

int
pg_delivery_requeue(struct store *base, int64_t id, int64_t now)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, now);
	pg_arg_i64(&a, id);
	return pg_exec_one(pg_of(base),
	    "UPDATE deliveries SET state = 'pending', next_attempt_at = $1 "
	    "WHERE id = $2 AND state IN ('pending', 'failed')",
	    &a);
}

int
pg_delivery_count(
    struct store *base, int64_t promise_id, const char *channel, int64_t *ret)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, channel);
	return pg_ints(pg_of(base),
	    "SELECT count(*) FROM deliveries WHERE promise_id = $1 "
	    "AND channel = $2",
	    &a, ret, 1);
}

int
pg_escalated(struct store *base, int64_t promise_id,
    int (*cb)(void *arg, const char *login), void *arg)
{
	struct pg_args a = {0};
	PGresult *res;
	int i, r;

	pg_arg_i64(&a, promise_id);
	res = pg_query(pg_of(base),
	    "SELECT DISTINCT recipient COLLATE \"C\" FROM deliveries "
	    "WHERE promise_id = $1 AND kind = 'promise.escalation' ORDER BY 1",
	    &a, &r);
	if (res == NULL)
		return r;
	for (i = 0; i < PQntuples(res); i++)
		if ((r = cb(arg, pg_text(res, i, 0))) < 0)
			break;
	PQclear(res);
	return r < 0 ? r : 0;
}

int
pg_ack(struct store *base, int64_t promise_id, const char *login, int64_t until)
{
	struct pg_args a = {0};

	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, login);
	pg_arg_i64(&a, until);
	return pg_exec(pg_of(base),
	    "INSERT INTO acks (promise_id, login, until) VALUES ($1, $2, $3) "
	    "ON CONFLICT (promise_id, login) DO UPDATE SET "
	    "until = excluded.until",
	    &a, NULL);
}

int
pg_acked_until(
    struct store *base, int64_t promise_id, const char *login, int64_t *ret)
{
	struct pg_args a = {0};
	int64_t v[1];
	int r;

	pg_arg_i64(&a, promise_id);
	pg_arg_str(&a, login);
	r = pg_ints(pg_of(base),
	    "SELECT coalesce((SELECT until FROM acks WHERE promise_id = $1 "
	    "AND login = $2), 0)",
	    &a, v, 1);
	if (r == 0)
		*ret = v[0];
	return r;
}
