/* SPDX-License-Identifier: MIT */
/*
 * bench_sqlite.c: the ceiling on the daemon's acknowledged adds, i.e.
 * what the store alone can write when nothing else (socket, parsing,
 * replies, the wheel) costs anything.
 *
 * Each add makes the store calls op_promise.c's op_add makes, inside its
 * own savepoint as op.c wraps every write request: store_add of a record
 * built as op_add builds it (the policy defaults of an empty
 * configuration, the first stage from sched_first_stage), store_event of
 * the "created" event with the same detail: the inserts every add must
 * make, nothing more.  Adds are grouped B to a
 * transaction, as the loop's group commit would group B concurrent
 * requests.  The database is opened by store_open, so the schema and the
 * pragmas (WAL, synchronous) are the daemon's own; -s picks the
 * durability setting as [daemon] durability does.
 *
 * Usage: bench_sqlite -d DIR [-n N] [-b BATCH] [-s full|normal]
 * Writes DIR/ceiling.db (removed at the end, with its -wal and -shm) and
 * prints one line of JSON:
 *   {"n":N,"batch":B,"seconds":..,"per_s":..,"synchronous":"full"}
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "conf.h"
#include "sched.h"
#include "store.h"
#include "util.h"

#define DEFAULT_N 200000
#define DEFAULT_BATCH 64
#define MAX_N 100000000
#define MAX_BATCH 1000000
#define DAY 86400
#define ACTOR "bench"

/* one add, as op_add and the request wrapper around it make it */
static int
add_one(struct store *st, const struct conf *cf, int64_t i, int64_t now)
{
	struct promise_rec p;
	char title[64], for_whom[32], detail[64];
	int64_t id;
	int r;

	memset(&p, 0, sizeof(p));
	snprintf(
	    title, sizeof(title), "Bench promise %08" PRId64 ": send quote", i);
	snprintf(for_whom, sizeof(for_whom), "Customer %" PRId64, i);
	p.title = title;
	p.owner = ACTOR;
	p.for_whom = for_whom;
	/* due a month out and later, spread over a year: far enough that
	 * every default nudge is still ahead */
	p.due_at = now + 30 * DAY + i % (365 * DAY);
	memcpy(p.nudge, cf->nudge_before, sizeof(p.nudge));
	p.n_nudge = cf->n_nudge_before;
	p.created_at = now;
	p.created_by = ACTOR;
	p.escalate_after = cf->escalate_after;
	p.escalation_repeat = cf->escalation_repeat;
	p.stage = sched_first_stage(&p, now);

	if ((r = store_savepoint(st)) < 0)
		goto out;
	if ((r = store_add(st, &p, &id)) < 0)
		goto out;
	snprintf(detail, sizeof(detail), "{\"due_at\":%" PRId64 "}", p.due_at);
	if ((r = store_event(st, id, now, ACTOR, "created", detail)) < 0)
		goto out;
	r = store_release(st);
out:
	return r;
}

/* n adds, batch to a transaction; *ret_ns is the time they took */
static int
run(struct store *st, const struct conf *cf, int64_t n, int64_t batch,
    uint64_t *ret_ns)
{
	int64_t i, j = 0, now = util_now();
	uint64_t t0 = bench_now_ns();
	int r = 0;

	for (i = 0; i < n; i += batch) {
		j = i;
		if ((r = store_begin(st)) < 0)
			goto out;
		for (; j < n && j < i + batch; j++)
			if ((r = add_one(st, cf, j, now)) < 0)
				goto out;
		if ((r = store_commit(st)) < 0)
			goto out;
	}
	*ret_ns = bench_now_ns() - t0;
out:
	if (r < 0)
		fprintf(stderr, "bench_sqlite: add %" PRId64 ": %s: %s\n", j,
		    strerror(-r), store_errmsg(st));
	return r;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_sqlite -d DIR [-n N] [-b BATCH] [-s full|normal]\n");
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct conf *cf = NULL;
	char db[PATH_MAX], err[256];
	const char *dir = NULL;
	int64_t n = DEFAULT_N, batch = DEFAULT_BATCH;
	uint64_t ns = 0;
	bool created = false, full = true;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "d:n:b:s:")) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			if (bench_parse_i64(
			        "bench_sqlite: -n", optarg, 1, MAX_N, &n) < 0)
				goto out;
			break;
		case 'b':
			if (bench_parse_i64("bench_sqlite: -b", optarg, 1,
			        MAX_BATCH, &batch) < 0)
				goto out;
			break;
		case 's':
			if (strcmp(optarg, "full") != 0 &&
			    strcmp(optarg, "normal") != 0) {
				usage();
				goto out;
			}
			full = optarg[0] == 'f';
			break;
		default:
			usage();
			goto out;
		}
	}
	if (dir == NULL || optind != argc) {
		usage();
		goto out;
	}
	if ((size_t)snprintf(db, sizeof(db), "%s/ceiling.db", dir) >=
	    sizeof(db)) {
		fprintf(stderr, "bench_sqlite: %s: path too long\n", dir);
		goto out;
	}
	/* never measure (or later delete) a database that is not ours */
	if (bench_db_absent("bench_sqlite", db) < 0)
		goto out;
	/* the policy defaults, as a daemon with an empty configuration has
	 * them, so they follow conf.c */
	if (conf_load(&cf, "/dev/null", err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_sqlite: defaults: %s\n", err);
		goto out;
	}
	created = true;
	if (store_open(&st, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_sqlite: %s: %s\n", db, err);
		goto out;
	}
	if (store_set_durability(st, full) < 0) {
		fprintf(
		    stderr, "bench_sqlite: durability: %s\n", store_errmsg(st));
		goto out;
	}

	if (run(st, cf, n, batch, &ns) < 0)
		goto out;

	printf("{\"n\":%" PRId64 ",\"batch\":%" PRId64 ",\"seconds\":%.3f,"
	       "\"per_s\":%.1f,\"synchronous\":\"%s\"}\n",
	    n, batch, bench_seconds(ns), bench_rate((uint64_t)n, ns),
	    full ? "full" : "normal");
	if (fflush(stdout) != 0) {
		perror("bench_sqlite: stdout");
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	if (created)
		bench_db_remove("bench_sqlite", db);
	conf_free(cf);
	return rc;
}
