/* SPDX-License-Identifier: MIT */
/*
 * bench_pg.c: the ceiling on the daemon's acknowledged adds on the
 * PostgreSQL store, i.e. what libpq and the server alone can write when
 * nothing of the daemon (socket, parsing, replies, the wheel, a statement
 * per call) costs anything.
 *
 * Each add writes the rows op_add writes: a promise built as op_add builds
 * it (the policy defaults of an empty configuration, the first stage from
 * sched_first_stage) and its "created" event with the same detail.  Adds
 * are grouped B to a transaction, as the loop's group commit would group
 * B concurrent requests, and each transaction is one statement: a
 * multi-row INSERT of the promises whose RETURNING feeds the multi-row
 * INSERT of their events.  The transactions go through libpq's pipeline
 * mode, up to DEPTH of them sent before the first one's results are read,
 * so that no round trip is waited for alone.
 *
 * The tables must exist: made by a daemon started once on the database.
 * Usage: bench_pg -c CONNINFO [-n N] [-b BATCH] [-p DEPTH] [-s full|normal]
 * prints one line of JSON:
 *   {"n":N,"batch":B,"depth":D,"seconds":..,"per_s":..}
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bench_util.h"
#include "conf.h"
#include "sched.h"
#include "util.h"

#define DEFAULT_N 50000
#define DEFAULT_BATCH 64
#define DEFAULT_DEPTH 4
#define MAX_N 100000000
/* 10 parameters a row, and PostgreSQL takes at most 65,535 */
#define MAX_BATCH 6000
#define MAX_DEPTH 64
#define COLS 10
#define DAY 86400
#define ACTOR "bench"
/* the text of one value; the longest is the title */
#define VAL_MAX 64

struct ceiling {
	PGconn *conn;
	const struct conf *cf;
	int64_t batch, now;
	char nudge[PROTO_MAX_NUDGES * 21 + 1];
	/* the values of one batch, as text, and pointers to them */
	char (*val)[VAL_MAX];
	const char **v;
};

/* the statement for k rows: promises, then their events off RETURNING */
static char *
batch_sql(int64_t k)
{
	static const char head[] =
	    "WITH p AS (INSERT INTO promises (title, owner, for_whom, due_at, "
	    "created_at, created_by, nudge, escalate_after, "
	    "escalation_repeat, stage) VALUES ";
	static const char tail[] =
	    " RETURNING id, due_at, created_at) INSERT INTO events "
	    "(promise_id, at, actor, kind, detail) SELECT id, created_at, "
	    "'" ACTOR "', 'created', '{\"due_at\":' || due_at || '}' FROM p";
	size_t cap = sizeof(head) + sizeof(tail) + (size_t)k * COLS * 12, off;
	char *s = malloc(cap);
	int64_t i, j;
	int w;

	if (s == NULL)
		return NULL;
	off = util_strlcpy(s, head, cap);
	for (i = 0; i < k; i++) {
		for (j = 0; j < COLS; j++) {
			w = snprintf(s + off, cap - off, "%s$%" PRId64 "%s",
			    j == 0 ? (i ? ",(" : "(") : ",", i * COLS + j + 1,
			    j == COLS - 1 ? "::bigint)" : "");
			off += (size_t)w;
		}
	}
	util_strlcpy(s + off, tail, cap - off);
	return s;
}

/* the values of rows first .. first + k - 1, as bench_sqlite's */
static void
fill(struct ceiling *c, int64_t first, int64_t k)
{
	struct promise_rec p;
	int64_t i;
	char(*v)[VAL_MAX];

	for (i = 0; i < k; i++) {
		v = c->val + i * COLS;
		memset(&p, 0, sizeof(p));
		p.due_at = c->now + 30 * DAY + (first + i) % (365 * DAY);
		memcpy(p.nudge, c->cf->nudge_before, sizeof(p.nudge));
		p.n_nudge = c->cf->n_nudge_before;
		p.created_at = c->now;
		p.escalate_after = c->cf->escalate_after;
		p.escalation_repeat = c->cf->escalation_repeat;
		snprintf(v[0], VAL_MAX,
		    "Bench promise %08" PRId64 ": send quote", first + i);
		util_strlcpy(v[1], ACTOR, VAL_MAX);
		snprintf(v[2], VAL_MAX, "Customer %" PRId64, first + i);
		snprintf(v[3], VAL_MAX, "%" PRId64, p.due_at);
		snprintf(v[4], VAL_MAX, "%" PRId64, p.created_at);
		util_strlcpy(v[5], ACTOR, VAL_MAX);
		util_strlcpy(v[6], c->nudge, VAL_MAX);
		snprintf(v[7], VAL_MAX, "%" PRId64, p.escalate_after);
		snprintf(v[8], VAL_MAX, "%" PRId64, p.escalation_repeat);
		snprintf(
		    v[9], VAL_MAX, "%" PRId32, sched_first_stage(&p, c->now));
	}
}

/* one transaction into the pipeline: BEGIN, the rows, COMMIT, a sync */
static int
send_batch(struct ceiling *c, int64_t first, int64_t k, const char *sql)
{
	fill(c, first, k);
	if (!PQsendQueryParams(c->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	if (k == c->batch) {
		if (!PQsendQueryPrepared(
		        c->conn, "batch", (int)(k * COLS), c->v, NULL, NULL, 0))
			return -1;
	} else if (!PQsendQueryParams(c->conn, sql, (int)(k * COLS), NULL, c->v,
	               NULL, NULL, 0))
		return -1;
	if (!PQsendQueryParams(
	        c->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c->conn))
		return -1;
	return 0;
}

/* the results of the oldest transaction sent, up to its sync */
static int
read_batch(struct ceiling *c)
{
	PGresult *res;
	ExecStatusType s;
	int r = 0;

	for (;;) {
		/* NULL ends one statement's results, unless the
		 * connection is gone */
		if ((res = PQgetResult(c->conn)) == NULL) {
			if (PQstatus(c->conn) == CONNECTION_BAD)
				return -1;
			continue;
		}
		s = PQresultStatus(res);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			return r;
		}
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && r == 0) {
			fprintf(
			    stderr, "bench_pg: %s", PQresultErrorMessage(res));
			r = -1;
		}
		PQclear(res);
	}
}

static int
run(struct ceiling *c, int64_t n, int64_t depth, uint64_t *ret_ns)
{
	int64_t sent = 0, inflight = 0, k;
	char *sql = NULL, *last = NULL;
	uint64_t t0;
	PGresult *res;
	int r = -1;

	if ((sql = batch_sql(c->batch)) == NULL ||
	    (n % c->batch && (last = batch_sql(n % c->batch)) == NULL)) {
		fprintf(stderr, "bench_pg: out of memory\n");
		goto out;
	}
	res = PQprepare(c->conn, "batch", sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_pg: %s", PQresultErrorMessage(res));
		PQclear(res);
		goto out;
	}
	PQclear(res);
	if (!PQenterPipelineMode(c->conn))
		goto fail;
	t0 = bench_now_ns();
	while (sent < n || inflight > 0) {
		while (sent < n && inflight < depth) {
			k = n - sent < c->batch ? n - sent : c->batch;
			if (send_batch(c, sent, k, last) < 0)
				goto fail;
			sent += k;
			inflight++;
		}
		if (PQflush(c->conn) < 0)
			goto fail;
		if (read_batch(c) < 0)
			goto out;
		inflight--;
	}
	*ret_ns = bench_now_ns() - t0;
	r = 0;
	goto out;
fail:
	fprintf(stderr, "bench_pg: %s", PQerrorMessage(c->conn));
out:
	free(sql);
	free(last);
	return r;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_pg -c CONNINFO [-n N] [-b BATCH] "
	    "[-p DEPTH] [-s full|normal]\n");
}

int
main(int argc, char **argv)
{
	struct ceiling c;
	struct conf *cf = NULL;
	const char *conninfo = NULL, *sync = "on";
	char err[256];
	int64_t n = DEFAULT_N, depth = DEFAULT_DEPTH, i;
	uint64_t ns = 0;
	size_t off = 0;
	int opt, rc = 1, w;

	memset(&c, 0, sizeof(c));
	c.batch = DEFAULT_BATCH;
	while ((opt = getopt(argc, argv, "c:n:b:p:s:")) != -1) {
		switch (opt) {
		case 'c':
			conninfo = optarg;
			break;
		case 'n':
			if (bench_parse_i64(
			        "bench_pg: -n", optarg, 1, MAX_N, &n) < 0)
				goto out;
			break;
		case 'b':
			if (bench_parse_i64("bench_pg: -b", optarg, 1,
			        MAX_BATCH, &c.batch) < 0)
				goto out;
			break;
		case 'p':
			if (bench_parse_i64("bench_pg: -p", optarg, 1,
			        MAX_DEPTH, &depth) < 0)
				goto out;
			break;
		case 's':
			if (strcmp(optarg, "full") != 0 &&
			    strcmp(optarg, "normal") != 0) {
				usage();
				goto out;
			}
			sync = optarg[0] == 'f' ? "on" : "off";
			break;
		default:
			usage();
			goto out;
		}
	}
	if (conninfo == NULL || optind != argc) {
		usage();
		goto out;
	}
	/* the policy defaults, as a daemon with an empty configuration has
	 * them, so they follow conf.c */
	if (conf_load(&cf, "/dev/null", err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_pg: defaults: %s\n", err);
		goto out;
	}
	c.cf = cf;
	c.now = util_now();
	/* as the PostgreSQL store writes a nudge list */
	c.nudge[0] = '\0';
	for (i = 0; i < (int64_t)cf->n_nudge_before; i++) {
		w = snprintf(c.nudge + off, sizeof(c.nudge) - off, "%s%" PRId64,
		    i ? "," : "", cf->nudge_before[i]);
		if (w < 0 || (size_t)w >= sizeof(c.nudge) - off)
			break;
		off += (size_t)w;
	}
	c.val = calloc((size_t)c.batch * COLS, sizeof(*c.val));
	c.v = calloc((size_t)c.batch * COLS, sizeof(*c.v));
	if (c.val == NULL || c.v == NULL) {
		fprintf(stderr, "bench_pg: out of memory\n");
		goto out;
	}
	for (i = 0; i < c.batch * COLS; i++)
		c.v[i] = c.val[i];
	c.conn = PQconnectdb(conninfo);
	if (c.conn == NULL || PQstatus(c.conn) != CONNECTION_OK) {
		fprintf(stderr, "bench_pg: %s",
		    c.conn ? PQerrorMessage(c.conn) : "out of memory\n");
		goto out;
	}
	{
		const char *params[1] = {sync};
		PGresult *res = PQexecParams(c.conn,
		    "SELECT set_config('synchronous_commit', $1, false)", 1,
		    NULL, params, NULL, NULL, 0);

		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			fprintf(
			    stderr, "bench_pg: %s", PQresultErrorMessage(res));
			PQclear(res);
			goto out;
		}
		PQclear(res);
	}
	if (run(&c, n, depth, &ns) < 0)
		goto out;
	printf("{\"n\":%" PRId64 ",\"batch\":%" PRId64 ",\"depth\":%" PRId64
	       ",\"seconds\":%.3f,\"per_s\":%.1f,\"synchronous_commit\":"
	       "\"%s\"}\n",
	    n, c.batch, depth, bench_seconds(ns), bench_rate((uint64_t)n, ns),
	    sync);
	if (fflush(stdout) != 0) {
		perror("bench_pg: stdout");
		goto out;
	}
	rc = 0;
out:
	PQfinish(c.conn);
	free(c.val);
	free(c.v);
	conf_free(cf);
	return rc;
}
