/* SPDX-License-Identifier: MIT */
/*
 * bench_load.c: bulk-loads open promises into a new database, to start
 * the daemon on a realistic million and measure what that costs it.
 *
 * Rows are written through the store, so the schema is the daemon's and
 * every promise looks as if op_add had made it: the policy defaults of an
 * empty configuration for escalation, the first stage from
 * sched_first_stage, and a "created" event with the same detail.  Unlike
 * op_add's they carry no nudges, so the load is about deadlines alone.
 * Rows go in transactions of LOAD_BATCH, without the per-request
 * savepoints, since this is a load, not a simulation of clients.
 *
 * Usage: bench_load -d DBPATH GROUP...
 * GROUP is COUNT:START:SPAN[:OWNER]: COUNT promises, the i-th (from 0) due
 * at START + i * SPAN / COUNT (epoch seconds), owned by OWNER ("bench").
 * DBPATH must not exist; it is the output and stays, unless the load
 * fails.  Prints one line of JSON: {"loaded":TOTAL,"seconds":..,"per_s":..}
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

#define ESCALATE_AFTER (7 * 86400)

#define LOAD_BATCH 50000
#define MAX_COUNT 100000000
#define MAX_TOTAL INT64_C(1000000000)
/* 9999-12-31T23:59:59Z, as far as anything here needs to reach */
#define MAX_TIME INT64_C(253402300799)
#define CREATOR "bench"

struct group {
	int64_t count;
	int64_t start;
	int64_t span;
	char owner[72];
};

/*
 * Splits COUNT:START:SPAN[:OWNER] at its colons into g; 0 or -EINVAL
 * after saying why.
 */
static int
parse_group(const char *arg, struct group *g)
{
	static const char *const names[] = {
	    "bench_load: COUNT", "bench_load: START", "bench_load: SPAN"};
	static const int64_t min[] = {1, 1, 0};
	static const int64_t max[] = {MAX_COUNT, MAX_TIME, MAX_TIME};
	int64_t *dst[] = {&g->count, &g->start, &g->span};
	char buf[256], *field, *colon;
	size_t i;
	int r = -EINVAL;

	if (util_strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf)) {
		fprintf(stderr, "bench_load: group '%s': too long\n", arg);
		goto out;
	}
	util_strlcpy(g->owner, CREATOR, sizeof(g->owner));
	field = buf;
	for (i = 0; i < ARRAY_SIZE(dst); i++) {
		colon = strchr(field, ':');
		if (colon == NULL && i + 1 < ARRAY_SIZE(dst)) {
			fprintf(stderr,
			    "bench_load: group '%s': expected "
			    "COUNT:START:SPAN[:OWNER]\n",
			    arg);
			goto out;
		}
		if (colon != NULL)
			*colon = '\0';
		if (bench_parse_i64(names[i], field, min[i], max[i], dst[i]) <
		    0)
			goto out;
		field = colon != NULL ? colon + 1 : NULL;
	}
	if (field != NULL) {
		if (!util_login_ok(field)) {
			fprintf(stderr,
			    "bench_load: group '%s': '%s' is not a "
			    "login name\n",
			    arg, field);
			goto out;
		}
		util_strlcpy(g->owner, field, sizeof(g->owner));
	}
	if (g->start + g->span > MAX_TIME) {
		fprintf(stderr,
		    "bench_load: group '%s': ends after year 9999\n", arg);
		goto out;
	}
	r = 0;
out:
	return r;
}

/* promise seq of the load, due at due, as op_add would store it */
static int
load_one(struct store *st, const struct conf *cf, const char *owner,
    int64_t seq, int64_t due, int64_t now)
{
	struct promise_rec p;
	char title[48], for_whom[32], detail[64];
	int64_t id;
	int r;

	memset(&p, 0, sizeof(p));
	snprintf(title, sizeof(title), "Bench promise %" PRId64, seq);
	snprintf(for_whom, sizeof(for_whom), "Customer %" PRId64, seq);
	p.title = title;
	p.owner = owner;
	p.for_whom = for_whom;
	p.due_at = due;
	p.n_nudge = 0;
	p.created_at = now;
	p.created_by = CREATOR;
	/* a week's grace before any escalation: the firing benches count
	 * due notices, one delivery per promise */
	p.escalate_after = ESCALATE_AFTER;
	p.escalation_repeat = cf->escalation_repeat;
	p.stage = sched_first_stage(&p, now);
	if ((r = store_add(st, &p, &id)) < 0)
		goto out;
	snprintf(detail, sizeof(detail), "{\"due_at\":%" PRId64 "}", due);
	r = store_event(st, id, now, CREATOR, "created", detail);
out:
	return r;
}

/* every group, LOAD_BATCH rows to a transaction; *ret_loaded counts */
static int
load(struct store *st, const struct conf *cf, const struct group *g, size_t ng,
    int64_t *ret_loaded)
{
	int64_t now = util_now(), seq = 0, i;
	size_t k;
	int r = 0;

	for (k = 0; k < ng; k++) {
		for (i = 0; i < g[k].count; i++) {
			/* store_begin is a no-op inside a transaction */
			if ((r = store_begin(st)) < 0)
				goto out;
			seq++;
			if ((r = load_one(st, cf, g[k].owner, seq,
			         g[k].start + i * g[k].span / g[k].count,
			         now)) < 0)
				goto out;
			if (seq % LOAD_BATCH == 0 && (r = store_commit(st)) < 0)
				goto out;
		}
	}
	/* indexed for search as the daemon would have done by now, so that
	 * it does not spend the benchmarks catching up */
	if ((r = store_fts_index(st, 0)) < 0 || (r = store_commit(st)) < 0)
		goto out;
out:
	if (r < 0)
		fprintf(stderr, "bench_load: promise %" PRId64 ": %s: %s\n",
		    seq, strerror(-r), store_errmsg(st));
	else
		*ret_loaded = seq;
	return r;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_load -d DBPATH COUNT:START:SPAN[:OWNER]...\n");
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct conf *cf = NULL;
	struct group *groups = NULL;
	char err[256];
	const char *db = NULL;
	int64_t total = 0, loaded = 0;
	uint64_t t0, ns;
	bool created = false;
	size_t ng = 0, k;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "d:")) != -1) {
		switch (c) {
		case 'd':
			db = optarg;
			break;
		default:
			usage();
			goto out;
		}
	}
	if (db == NULL || optind >= argc) {
		usage();
		goto out;
	}
	ng = (size_t)(argc - optind);
	if ((groups = calloc(ng, sizeof(*groups))) == NULL) {
		fprintf(stderr, "bench_load: out of memory\n");
		goto out;
	}
	for (k = 0; k < ng; k++) {
		if (parse_group(argv[optind + (int)k], &groups[k]) < 0)
			goto out;
		total += groups[k].count;
		if (total > MAX_TOTAL) {
			fprintf(stderr,
			    "bench_load: more than %" PRId64 " promises\n",
			    MAX_TOTAL);
			goto out;
		}
	}
	/* a new database only: a stale -wal beside it would be replayed */
	if (bench_db_absent("bench_load", db) < 0)
		goto out;
	/* the policy defaults, as a daemon with an empty configuration has
	 * them, so they follow conf.c */
	if (conf_load(&cf, "/dev/null", err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_load: defaults: %s\n", err);
		goto out;
	}
	created = true;
	if (store_open(&st, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_load: %s: %s\n", db, err);
		goto out;
	}

	t0 = bench_now_ns();
	if (load(st, cf, groups, ng, &loaded) < 0)
		goto out;
	ns = bench_now_ns() - t0;
	if (loaded != total) {
		fprintf(stderr,
		    "bench_load: loaded %" PRId64 " of %" PRId64 " promises\n",
		    loaded, total);
		goto out;
	}
	printf("{\"loaded\":%" PRId64 ",\"seconds\":%.3f,\"per_s\":%.1f}\n",
	    loaded, bench_seconds(ns), bench_rate((uint64_t)loaded, ns));
	if (fflush(stdout) != 0) {
		perror("bench_load: stdout");
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	/* a half-loaded database would pass for a whole one */
	if (created && rc != 0)
		bench_db_remove("bench_load", db);
	conf_free(cf);
	free(groups);
	return rc;
}
