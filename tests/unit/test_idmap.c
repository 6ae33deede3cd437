/* SPDX-License-Identifier: MIT */
/*
 * test_idmap.c: unit test for the id hash map (daemon/idmap.c).
 *
 * A fixed-seed xorshift stream drives put/get/del against a reference model:
 * a pool of distinct ids and a plain array of item pointers indexed by
 * position in the pool.  After every operation the map must return exactly
 * the model's item for the id touched and agree on count; periodic sweeps
 * compare every pool id, a set of ids never inserted, and the number of
 * occupied slots.  The pools are built to stress backward-shift deletion:
 * sequential ids, ids sharing a home slot, huge and negative ids, and probe
 * runs that wrap past the end of the table.  Only the choice of pools
 * mirrors idmap.c's hash; every check holds whatever the hash is, so a new
 * hash weakens the stress but cannot make the test pass wrongly.
 *
 * Usage: test_idmap [seed]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "idmap.h"
#include "rnd.h"

struct item {
	int64_t id;
	/* padding so ASan can tell a stale pointer from a live neighbour */
	char pad[24];
};

struct model {
	const int64_t *ids; /* the pool, distinct */
	size_t n;
	const int64_t *absent; /* never inserted; must never be found */
	size_t nabsent;
	struct item **held; /* held[k]: the item for ids[k], or NULL */
	size_t count;
};

static unsigned long nops;

static int64_t
item_key(const void *p)
{
	return ((const struct item *)p)->id;
}

/*
 * idmap.c's slot_of, copied only to aim ids at chosen home slots; if the two
 * drift apart the pools stop colliding but the checks stay valid
 */
static size_t
home_of(int64_t id, size_t cap)
{
	uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);

	return (size_t)(h >> 32) & (cap - 1);
}

static bool
contains(const int64_t *ids, size_t n, int64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * appends want distinct ids whose home in a table of cap slots is home,
 * alternating small counting ids and full-range (often negative) ones
 */
static void
add_homed(int64_t *ids, size_t *n, size_t cap, size_t home, size_t want)
{
	static int64_t cursor;
	uint64_t tries = 0;
	int64_t id;

	while (want > 0) {
		id = (tries++ & 1) ? (int64_t)rnd() : cursor++;
		if (home_of(id, cap) != home || contains(ids, *n, id))
			continue;
		ids[(*n)++] = id;
		want--;
	}
}

static int
model_init(struct model *md, const int64_t *ids, size_t n,
    const int64_t *absent, size_t nabsent)
{
	md->ids = ids;
	md->n = n;
	md->absent = absent;
	md->nabsent = nabsent;
	md->count = 0;
	md->held = calloc(n, sizeof(*md->held));
	return md->held == NULL ? -ENOMEM : 0;
}

/* the model owns every item, so freeing through it cannot miss one */
static void
model_free(struct model *md)
{
	size_t k;

	if (md->held != NULL)
		for (k = 0; k < md->n; k++)
			free(md->held[k]);
	free(md->held);
	md->held = NULL;
}

static int
op_put(struct idmap *m, struct model *md, size_t k)
{
	struct item *it;

	nops++;
	if (md->held[k] != NULL) {
		/* putting a present key breaks idmap_put's contract */
		REQUIRE(idmap_get(m, md->ids[k]) == md->held[k]);
		return 0;
	}
	it = calloc(1, sizeof(*it));
	REQUIRE(it != NULL);
	it->id = md->ids[k];
	md->held[k] = it;
	md->count++;
	REQUIRE(idmap_put(m, it) == 0);
	REQUIRE(m->count == md->count);
	REQUIRE(idmap_get(m, it->id) == it);
	return 0;
out:
	return -1;
}

static int
op_del(struct idmap *m, struct model *md, size_t k)
{
	struct item *want = md->held[k];

	nops++;
	REQUIRE(idmap_del(m, md->ids[k]) == want);
	if (want != NULL) {
		free(want);
		md->held[k] = NULL;
		md->count--;
	}
	REQUIRE(m->count == md->count);
	REQUIRE(idmap_get(m, md->ids[k]) == NULL);
	return 0;
out:
	return -1;
}

static int
op_get(struct idmap *m, struct model *md, size_t k)
{
	nops++;
	REQUIRE(idmap_get(m, md->ids[k]) == md->held[k]);
	REQUIRE(m->count == md->count);
	return 0;
out:
	return -1;
}

/* an id never inserted: not found, not deletable, count untouched */
static int
op_absent(struct idmap *m, struct model *md, size_t k)
{
	nops++;
	REQUIRE(idmap_get(m, md->absent[k]) == NULL);
	if (rnd() & 1)
		REQUIRE(idmap_del(m, md->absent[k]) == NULL);
	REQUIRE(m->count == md->count);
	return 0;
out:
	return -1;
}

/*
 * the whole map against the model; a backward shift that strands an item
 * behind a hole shows up here as a pool id that is no longer found
 */
static int
sweep(const struct idmap *m, const struct model *md)
{
	size_t k, used = 0;

	for (k = 0; k < md->n; k++)
		REQUIRE(idmap_get(m, md->ids[k]) == md->held[k]);
	for (k = 0; k < md->nabsent; k++)
		REQUIRE(idmap_get(m, md->absent[k]) == NULL);
	REQUIRE(m->count == md->count);
	REQUIRE((m->cap & (m->cap - 1)) == 0);
	for (k = 0; k < m->cap; k++)
		if (m->slots[k] != NULL)
			used++;
	REQUIRE(used == m->count);
	REQUIRE(m->count * 2 <= m->cap);
	return 0;
out:
	return -1;
}

/*
 * random operations over the pool: put_pct% puts, del_pct% deletes, the
 * rest lookups (one in ten of an absent id); a sweep every sweep_every ops
 */
static int
churn(struct idmap *m, struct model *md, unsigned long ops, unsigned put_pct,
    unsigned del_pct, unsigned long sweep_every)
{
	unsigned long i;
	unsigned r;
	size_t k;

	for (i = 0; i < ops; i++) {
		r = (unsigned)(rnd() % 100);
		k = rnd_below(md->n);
		if (r < put_pct) {
			if (op_put(m, md, k) < 0)
				return -1;
		} else if (r < put_pct + del_pct) {
			if (op_del(m, md, k) < 0)
				return -1;
		} else if (md->nabsent > 0 && rnd() % 10 == 0) {
			if (op_absent(m, md, rnd_below(md->nabsent)) < 0)
				return -1;
		} else if (op_get(m, md, k) < 0)
			return -1;
		if (i % sweep_every == 0 && sweep(m, md) < 0)
			return -1;
	}
	return sweep(m, md);
}

/* empties the map through idmap_del in pool order */
static int
drain(struct idmap *m, struct model *md)
{
	size_t k;

	for (k = 0; k < md->n; k++)
		if (op_del(m, md, k) < 0)
			return -1;
	REQUIRE(m->count == 0);
	return sweep(m, md);
out:
	return -1;
}

/* a map that never held anything answers without a table */
static int
test_empty(void)
{
	struct idmap m;
	int rc = -1;

	check_ctx = "empty";
	idmap_init(&m, item_key);
	REQUIRE(idmap_get(&m, 0) == NULL);
	REQUIRE(idmap_get(&m, INT64_MIN) == NULL);
	REQUIRE(idmap_del(&m, 0) == NULL);
	REQUIRE(idmap_del(&m, -1) == NULL);
	REQUIRE(m.count == 0);
	rc = 0;
out:
	idmap_done(&m);
	return rc;
}

/*
 * small ids plus extremes, from empty through several doublings; 0 and
 * INT64_MIN share a home at every size, as do other multiples of 2^32
 */
static int
test_mixed(void)
{
	static const int64_t special[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX,
	    INT64_MAX - 1, -1, -2, -1000, INT64_C(1) << 32, INT64_C(3) << 32,
	    INT64_C(1) << 40, (INT64_C(1) << 62) + 7, -(INT64_C(1) << 32)};
	enum { NSMALL = 1024, NSPECIAL = sizeof(special) / sizeof(special[0]) };
	static int64_t ids[NSMALL + NSPECIAL], absent[64];
	struct model md = {0};
	struct idmap m;
	size_t k;
	int rc = -1;

	check_ctx = "mixed";
	idmap_init(&m, item_key);
	for (k = 0; k < NSMALL; k++)
		ids[k] = (int64_t)k;
	for (k = 0; k < NSPECIAL; k++)
		ids[NSMALL + k] = special[k];
	for (k = 0; k < 64; k++)
		absent[k] = k < 32 ? NSMALL + (int64_t)k : -3 - (int64_t)k;
	REQUIRE(model_init(&md, ids, NSMALL + NSPECIAL, absent, 64) == 0);
	/* filling phase grows the table; the balanced one churns it */
	if (churn(&m, &md, 20000, 70, 10, 97) < 0 ||
	    churn(&m, &md, 60000, 45, 40, 97) < 0 || drain(&m, &md) < 0)
		goto out;
	rc = 0;
out:
	idmap_done(&m);
	model_free(&md);
	return rc;
}

/*
 * sequential ids as the daemon hands them out, removed in orders that
 * leave holes at every point of the runs the multiplicative hash produces
 */
static int
test_sequential_from(int64_t base)
{
	enum { N = 3000 };
	static int64_t ids[N], absent[2];
	struct model md = {0};
	struct idmap m;
	size_t k;
	int rc = -1;

	idmap_init(&m, item_key);
	for (k = 0; k < N; k++)
		ids[k] = base + (int64_t)k;
	absent[0] = base - 1;
	absent[1] = base > INT64_MAX - N ? INT64_MIN : base + N;
	REQUIRE(model_init(&md, ids, N, absent, 2) == 0);
	for (k = 0; k < N; k++)
		if (op_put(&m, &md, k) < 0)
			goto out;
	if (sweep(&m, &md) < 0)
		goto out;
	/* every third, ascending */
	for (k = 0; k < N; k += 3)
		if (op_del(&m, &md, k) < 0)
			goto out;
	if (sweep(&m, &md) < 0)
		goto out;
	/* back in, descending */
	for (k = N; k-- > 0;)
		if (k % 3 == 0 && op_put(&m, &md, k) < 0)
			goto out;
	/* from the middle outwards */
	for (k = 0; k < N / 2; k++)
		if (op_del(&m, &md, N / 2 + k) < 0 ||
		    op_del(&m, &md, N / 2 - 1 - k) < 0)
			goto out;
	if (sweep(&m, &md) < 0)
		goto out;
	for (k = 0; k < N; k++)
		if (op_put(&m, &md, k) < 0)
			goto out;
	/* descending, the reverse of insertion order */
	for (k = N; k-- > 0;)
		if (op_del(&m, &md, k) < 0)
			goto out;
	if (sweep(&m, &md) < 0)
		goto out;
	rc = 0;
out:
	idmap_done(&m);
	model_free(&md);
	return rc;
}

static int
test_sequential(void)
{
	check_ctx = "sequential from 1";
	if (test_sequential_from(1) < 0)
		return -1;
	check_ctx = "sequential across 0";
	if (test_sequential_from(-1500) < 0)
		return -1;
	/* (uint64_t)id * constant wraps; ids near the top must still work */
	check_ctx = "sequential below INT64_MAX";
	return test_sequential_from(INT64_MAX - 2999);
}

/*
 * a 64-slot table (idmap's first size) kept at most half full by a pool of
 * 32: most ids are homed on the last two slots or the first two, so runs
 * wrap past the end and interleave with items homed at 0 and 1, and every
 * delete lands somewhere inside a long run
 */
static int
test_wrap(void)
{
	enum { CAP = 64, NPOOL = 32, NABSENT = 12 };
	static int64_t ids[NPOOL + NABSENT];
	struct model md = {0};
	struct idmap m;
	size_t n = 0;
	int rc = -1;

	check_ctx = "wrap-around";
	idmap_init(&m, item_key);
	add_homed(ids, &n, CAP, CAP - 1, 8);
	add_homed(ids, &n, CAP, CAP - 2, 6);
	add_homed(ids, &n, CAP, 0, 6);
	add_homed(ids, &n, CAP, 1, 4);
	add_homed(ids, &n, CAP, CAP / 2, 5);
	add_homed(ids, &n, CAP, CAP / 2 + 1, 3);
	/* same homes, never inserted: lookups must cross runs and stop */
	add_homed(ids, &n, CAP, CAP - 1, 4);
	add_homed(ids, &n, CAP, 0, 4);
	add_homed(ids, &n, CAP, CAP / 2, 4);
	REQUIRE(n == NPOOL + NABSENT);
	REQUIRE(model_init(&md, ids, NPOOL, ids + NPOOL, NABSENT) == 0);
	/* dense and sparse phases: long runs, then runs that keep breaking */
	if (churn(&m, &md, 25000, 65, 20, 1) < 0 ||
	    churn(&m, &md, 20000, 40, 45, 1) < 0 ||
	    churn(&m, &md, 15000, 75, 15, 1) < 0)
		goto out;
	if (drain(&m, &md) < 0)
		goto out;
	rc = 0;
out:
	idmap_done(&m);
	model_free(&md);
	return rc;
}

/*
 * the same at 1024 slots, with 300 sequential ids as background so the
 * colliding runs also collide with ordinary neighbours
 */
static int
test_wrap_large(void)
{
	enum { CAP = 1024, NSEQ = 300, NPOOL = NSEQ + 200, NABSENT = 40 };
	static int64_t ids[NPOOL + NABSENT];
	struct model md = {0};
	struct idmap m;
	size_t n, k;
	int rc = -1;

	check_ctx = "wrap-around, large";
	idmap_init(&m, item_key);
	for (n = 0; n < NSEQ; n++)
		ids[n] = 1000000 + (int64_t)n;
	add_homed(ids, &n, CAP, CAP - 1, 50);
	add_homed(ids, &n, CAP, CAP - 3, 40);
	add_homed(ids, &n, CAP, 0, 40);
	add_homed(ids, &n, CAP, 2, 30);
	add_homed(ids, &n, CAP, 500, 40);
	add_homed(ids, &n, CAP, CAP - 1, 20);
	add_homed(ids, &n, CAP, 500, 20);
	REQUIRE(n == NPOOL + NABSENT);
	REQUIRE(model_init(&md, ids, NPOOL, ids + NPOOL, NABSENT) == 0);
	for (k = 0; k < NSEQ; k++)
		if (op_put(&m, &md, k) < 0)
			goto out;
	if (churn(&m, &md, 60000, 55, 30, 31) < 0)
		goto out;
	if (drain(&m, &md) < 0)
		goto out;
	rc = 0;
out:
	idmap_done(&m);
	model_free(&md);
	return rc;
}

int
main(int argc, char **argv)
{
	static int (*const tests[])(void) = {test_empty, test_mixed,
	    test_sequential, test_wrap, test_wrap_large};
	uint64_t seed;
	size_t i;

	if (rnd_seed(argc, argv, "test_idmap", UINT64_C(0x2545f4914f6cdd1d)) !=
	    0)
		return 2;
	seed = rnd_state;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (tests[i]() != 0) {
			fprintf(stderr,
			    "test_idmap: failed (seed %#" PRIx64 ")\n", seed);
			return 1;
		}
	if (nops < 200000) {
		fprintf(stderr, "test_idmap: only %lu operations\n", nops);
		return 1;
	}
	printf(
	    "test_idmap: ok, %lu operations, seed %#" PRIx64 "\n", nops, seed);
	return 0;
}
