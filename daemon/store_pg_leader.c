/* SPDX-License-Identifier: MIT */
/*
 * store_pg_leader.c: several daemons on one PostgreSQL database.  Every
 * one serves its socket through its own connection; one of them, the
 * leader, fires.  It is the daemon whose dedicated second connection holds
 * a session-level advisory lock: PostgreSQL frees it when that session
 * ends, however the daemon went.  Taking it bumps the epoch in the
 * promised_leader row in the same transaction, and every firing commits
 * only while that row still holds the leader's epoch (read FOR SHARE, so a
 * new leader's bump waits for a firing under way and a firing after the
 * bump fails): a leader paused past the loss of its lock cannot fire.
 *
 * The same connection LISTENs: each batch that changed promises or the
 * outbox NOTIFYs the ids and uids it touched, in its own transaction, so
 * the leader learns of what came in through the others once it is
 * committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "leadnote.h"
#include "store.h"
#include "store_backend.h"
#include "store_pg_impl.h"
#include "util.h"

/* the leader's lock (any constant of our own) */
#define PG_LEAD_LOCK 0x70726f6e /* "pron" */
/* the channel the batches' notes go out on */
#define PG_CHANNEL "promised"

/*
 * The lock's session is cut by the server when this end is gone for long
 * (its keepalives: 5 + 2 * 3 s), and this end notices a lost server
 * sooner (1 + 1 * 3 s): a leader cut off stops firing before another can
 * take the lock.  Both hold within the default poll of 10 s.
 */
static const char *const lock_keys[] = {"keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
    "connect_timeout", "options", "fallback_application_name", "dbname", NULL};
static const char *const lock_values[] = {"1", "1", "1", "3", "4000", "5",
    "-c statement_timeout=10000 -c lock_timeout=5000 "
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 "
    "-c tcp_keepalives_count=3 -c tcp_user_timeout=11000 "
    "-c client_min_messages=warning",
    "promised", NULL, NULL};

const char *
pg_leader_schema(void)
{
	/* the beat in a table of its own: the leader's row is held FOR
	 * SHARE by every firing batch, which an UPDATE of it would wait
	 * for */
	return "CREATE TABLE IF NOT EXISTS promised_leader ("
	       "id INTEGER PRIMARY KEY CHECK (id = 1), "
	       "epoch BIGINT NOT NULL, host TEXT NOT NULL, "
	       "pid BIGINT NOT NULL, since BIGINT NOT NULL);"
	       "CREATE TABLE IF NOT EXISTS promised_beat ("
	       "id INTEGER PRIMARY KEY CHECK (id = 1), "
	       "epoch BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL)";
}

/* the lock connection gone, and leadership with it */
static void
drop_lock(struct pg_store *st)
{
	PQfinish(st->lock);
	st->lock = NULL;
	st->leader = false;
	st->beat_busy = false;
}

static int
lock_exec(struct pg_store *st, const char *sql, int n, const char *const *v,
    PGresult **ret)
{
	PGresult *res = PQexecParams(st->lock, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);

	if (res != NULL && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)) {
		if (ret != NULL)
			*ret = res;
		else
			PQclear(res);
		return 0;
	}
	snprintf(st->msg, sizeof(st->msg), "leader's connection: %s",
	    res ? PQresultErrorMessage(res) : PQerrorMessage(st->lock));
	st->msg[strcspn(st->msg, "\n")] = '\0';
	PQclear(res);
	if (PQstatus(st->lock) == CONNECTION_BAD) {
		drop_lock(st);
		return -ECONNRESET;
	}
	return -EIO;
}

/* connects and LISTENs; 1 if connected now, 0 if it was */
static int
lock_connect(struct pg_store *st)
{
	const char *v[ARRAY_SIZE(lock_values)];
	int r;

	if (st->lock != NULL && PQstatus(st->lock) == CONNECTION_OK)
		return 0;
	drop_lock(st);
	memcpy(v, lock_values, sizeof(v));
	v[ARRAY_SIZE(v) - 2] = st->conninfo;
	if ((st->lock = PQconnectdbParams(lock_keys, v, 1)) == NULL)
		return -ENOMEM;
	if (PQstatus(st->lock) != CONNECTION_OK) {
		snprintf(st->msg, sizeof(st->msg),
		    "leader's connection: cannot connect: %s",
		    PQerrorMessage(st->lock));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		drop_lock(st);
		return -ECONNREFUSED;
	}
	if ((r = lock_exec(st, "LISTEN " PG_CHANNEL, 0, NULL, NULL)) < 0 ||
	    PQsetnonblocking(st->lock, 1) != 0) {
		drop_lock(st);
		return r < 0 ? r : -EIO;
	}
	return 1;
}

static const char *
beat_sql(const struct pg_store *st, char *buf, size_t len)
{
	snprintf(buf, len,
	    "INSERT INTO promised_beat (id, epoch, at) VALUES (1, %lld, "
	    "extract(epoch FROM clock_timestamp())) ON CONFLICT (id) DO "
	    "UPDATE SET epoch = excluded.epoch, at = excluded.at",
	    (long long)st->epoch);
	return buf;
}

/* with the lock held: the next epoch, ours, committed with our name */
static int
take_epoch(struct pg_store *st)
{
	char host[256] = "", pid[24], now[24], sql[256];
	const char *v[] = {host, pid, now};
	PGresult *res = NULL;
	int r;

	if (gethostname(host, sizeof(host) - 1) == -1)
		util_strlcpy(host, "unknown", sizeof(host));
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(now, sizeof(now), "%lld", (long long)util_now());
	/* the bump waits (lock_timeout at most) for firings of the last
	 * leader still under way: they hold its row FOR SHARE */
	if ((r = lock_exec(st,
	         "INSERT INTO promised_leader (id, epoch, host, pid, since) "
	         "VALUES (1, 1, $1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
	         "epoch = promised_leader.epoch + 1, host = $1, pid = $2, "
	         "since = $3 RETURNING epoch",
	         3, v, &res)) < 0)
		return r;
	st->epoch = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	st->since = util_now();
	util_strlcpy(st->host, host, sizeof(st->host));
	PQclear(res);
	return lock_exec(st, beat_sql(st, sql, sizeof(sql)), 0, NULL, NULL);
}

/*
 * The leader's sign of life, every poll, sent without waiting for the
 * answer (pg_lead_input reads it): a standby cuts off a leader whose
 * session holds the lock but whose beat stopped (a process stopped or
 * stuck, its host and connection alive).
 */
static int
beat(struct pg_store *st)
{
	char sql[320];
	size_t n;

	if (st->lock == NULL)
		return -ECONNRESET;
	/* with how full the notes' queue is: a daemon that stops reading
	 * its notes (a standby stopped) keeps it from being trimmed */
	n = strlen(beat_sql(st, sql, sizeof(sql)));
	snprintf(
	    sql + n, sizeof(sql) - n, "; SELECT pg_notification_queue_usage()");
	/* the last one still on its way: the keepalives judge that */
	if (st->beat_busy)
		return 1;
	if (!PQsendQuery(st->lock, sql) || PQflush(st->lock) < 0) {
		snprintf(st->msg, sizeof(st->msg),
		    "leader's connection lost: %s", PQerrorMessage(st->lock));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		drop_lock(st);
		return -ECONNRESET;
	}
	st->beat_busy = true;
	return 1;
}

/*
 * Standing by: the lock is held; by a leader still beating?  One whose
 * beat is older than stale_s has its lock session ended, so that the
 * next try takes the lock.  2 when it was, else 0.
 */
static int
cut_stale(struct pg_store *st, double stale_s, const char *key)
{
	const char *v[] = {key};
	PGresult *res = NULL;
	char pid[24];
	const char *pv[] = {pid};
	double age;
	int r;

	if ((r = lock_exec(st,
	         "SELECT l.pid, extract(epoch FROM clock_timestamp()) - b.at "
	         "FROM pg_locks l JOIN promised_beat b ON b.id = 1 "
	         "JOIN promised_leader e ON e.id = 1 AND e.epoch = b.epoch "
	         "WHERE l.locktype = 'advisory' AND l.classid = 0 AND "
	         "l.objid = $1::bigint AND l.objsubid = 1 AND l.granted AND "
	         "l.database = (SELECT oid FROM pg_database WHERE datname = "
	         "current_database())",
	         1, v, &res)) < 0)
		return r;
	age = PQntuples(res) == 1 ? strtod(PQgetvalue(res, 0, 1), NULL) : 0;
	util_strlcpy(
	    pid, PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "", sizeof(pid));
	PQclear(res);
	if (age <= stale_s)
		return 0;
	if ((r = lock_exec(
	         st, "SELECT pg_terminate_backend($1::int)", 1, pv, NULL)) < 0)
		return r;
	snprintf(st->msg, sizeof(st->msg),
	    "the leader's beat stopped %.0f s ago: its lock session (server "
	    "pid %s) was ended",
	    age, pid);
	return 2;
}

int
pg_lead(struct store *base, double stale_s)
{
	struct pg_store *st = pg_of(base);
	char key[24];
	const char *v[] = {key};
	PGresult *res = NULL;
	bool got;
	int r;

	if (st->leader && st->fenced_out) {
		snprintf(st->msg, sizeof(st->msg),
		    "fenced: epoch %lld is no longer the database's",
		    (long long)st->epoch);
		return -ESTALE;
	}
	if (st->leader)
		return beat(st);
	if ((r = lock_connect(st)) < 0)
		return r;
	(void)PQsetnonblocking(st->lock, 0);
	snprintf(key, sizeof(key), "%d", PG_LEAD_LOCK);
	if ((r = lock_exec(st, "SELECT pg_try_advisory_lock($1)", 1, v, &res)) <
	    0)
		goto out;
	got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!got) {
		r = stale_s > 0 ? cut_stale(st, stale_s, key) : 0;
		goto out;
	}
	if ((r = take_epoch(st)) < 0) {
		/* never half a leader: the lock goes back */
		if (st->lock != NULL)
			(void)lock_exec(
			    st, "SELECT pg_advisory_unlock($1)", 1, v, NULL);
		goto out;
	}
	st->leader = true;
	r = 1;
out:
	if (st->lock != NULL)
		(void)PQsetnonblocking(st->lock, 1);
	return r;
}

int
pg_lead_fd(const struct store *base)
{
	const struct pg_store *st = pg_cof(base);

	return st->lock != NULL ? PQsocket(st->lock) : -1;
}

int
pg_lead_input(
    struct store *base, void (*cb)(void *arg, const char *note), void *arg)
{
	struct pg_store *st = pg_of(base);
	PGresult *res;
	PGnotify *n;
	int self = PQbackendPID(st->conn), r = 0;

	if (st->lock == NULL)
		return -ENOTCONN;
	if (!PQconsumeInput(st->lock) || PQstatus(st->lock) != CONNECTION_OK) {
		snprintf(st->msg, sizeof(st->msg),
		    "leader's connection lost: %s", PQerrorMessage(st->lock));
		st->msg[strcspn(st->msg, "\n")] = '\0';
		drop_lock(st);
		return -ECONNRESET;
	}
	while ((n = PQnotifies(st->lock)) != NULL) {
		/* our own batches' notes tell us nothing new */
		if (n->be_pid != self)
			cb(arg, n->extra);
		PQfreemem(n);
	}
	/* the beat's answer, once whole */
	while (st->beat_busy && !PQisBusy(st->lock)) {
		if ((res = PQgetResult(st->lock)) == NULL) {
			st->beat_busy = false;
			break;
		}
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1)
			st->queue_usage = strtod(PQgetvalue(res, 0, 0), NULL);
		else if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(st->msg, sizeof(st->msg), "leader's beat: %s",
			    PQresultErrorMessage(res));
			st->msg[strcspn(st->msg, "\n")] = '\0';
			r = -EIO;
		}
		PQclear(res);
	}
	/* a beat refused (the server ending us, a timeout) is the lock's
	 * session in doubt: given up */
	if (r < 0)
		drop_lock(st);
	return r;
}

int
pg_leadership(struct store *base, struct store_leadership *ret)
{
	struct pg_store *st = pg_of(base);
	PGresult *res;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->shared = true;
	ret->leader = st->leader;
	ret->queue_usage = st->queue_usage;
	if (st->leader) {
		ret->epoch = st->epoch;
		ret->pid = (int64_t)getpid();
		ret->since = st->since;
		util_strlcpy(ret->host, st->host, sizeof(ret->host));
		return 0;
	}
	if ((res = pg_query(st,
	         "SELECT epoch, host, pid, since FROM promised_leader", NULL,
	         &r)) == NULL)
		return r;
	if (PQntuples(res) == 1) {
		ret->epoch = pg_i64(res, 0, 0);
		util_strlcpy(ret->host, pg_text(res, 0, 1), sizeof(ret->host));
		ret->pid = pg_i64(res, 0, 2);
		ret->since = pg_i64(res, 0, 3);
	}
	PQclear(res);
	return 0;
}

int
pg_fence(struct pg_store *st)
{
	int64_t v[1];
	int r;

	if (!st->leader) {
		snprintf(st->msg, sizeof(st->msg),
		    "no longer the leader (epoch %lld): nothing fires here",
		    (long long)st->epoch);
		return -ESTALE;
	}
	/* held until the batch commits: a new leader's bump waits for it */
	if ((r = pg_ints(st,
	         "SELECT coalesce((SELECT epoch FROM promised_leader WHERE "
	         "id = 1 FOR SHARE), 0)",
	         NULL, v, 1)) < 0)
		return r;
	if (v[0] != st->epoch) {
		snprintf(st->msg, sizeof(st->msg),
		    "fenced: epoch %lld leads now, not ours (%lld)",
		    (long long)v[0], (long long)st->epoch);
		/* the next beat gives the lead up */
		st->fenced_out = true;
		return -ESTALE;
	}
	return 0;
}

int
pg_fence_batch(struct pg_store *st)
{
	int r;

	if (st->fenced)
		return 0;
	if ((r = pg_fence(st)) == 0)
		st->fenced = true;
	return r;
}

/* ---- the notes a batch sends at its commit ------------------------------ */

void
pg_note_promise(struct pg_store *st, int64_t id)
{
	struct leadnote_item it = {.kind = 'p', .id = id};

	/* too many for one note: it says "everything" */
	(void)leadnote_add(st->note, &st->note_len, &it);
}

void
pg_note_delivery(struct pg_store *st, const char *uid)
{
	struct leadnote_item it = {.kind = 'd'};

	util_strlcpy(it.uid, uid, sizeof(it.uid));
	(void)leadnote_add(st->note, &st->note_len, &it);
}

void
pg_note_clear(struct pg_store *st)
{
	st->note[0] = '\0';
	st->note_len = 0;
}

/*
 * The batch's note, sent before its COMMIT in the same round trip:
 * NOTIFY is transactional, so the others hear of exactly what committed.
 */
int
pg_send_note(struct pg_store *st)
{
	struct pg_args a = {0};

	if (st->note_len == 0)
		return 0;
	pg_arg_str(&a, st->note);
	return pg_defer(
	    st, "notify", "SELECT pg_notify('" PG_CHANNEL "', $1)", &a);
}

void
pg_leader_close(struct pg_store *st)
{
	drop_lock(st);
}
