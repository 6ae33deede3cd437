/* SPDX-License-Identifier: MIT */
/*
 * test_wheel.c: unit test for the timing wheel (daemon/wheel.c).
 *
 * Directed cases pin down the edges of the contract in wheel.h.  The
 * randomised part drives the wheel and a plain array model with one
 * fixed-seed stream of adds, cancels, re-arms and clock steps, and after
 * every step demands that the wheel fired exactly the model's set: nothing
 * early, nothing late, nothing twice.  wheel_check() runs after every step.
 * The clock is a plain integer; no real time passes.
 *
 * Usage: test_wheel [seed]
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "rnd.h"
#include "wheel.h"

#define DAY_MS (UINT64_C(86400000))
#define YEAR_MS (365 * DAY_MS)

static unsigned
rnd_pct(void)
{
	return (unsigned)(rnd() % 100);
}

/*
 * a value in [0, max], log-uniform-ish: pick a bit width first, so 3 ms and
 * 3 years are both common whatever max is
 */
static uint64_t
rnd_log(uint64_t max)
{
	unsigned nb, bits;
	uint64_t v;

	if (max == 0)
		return 0;
	nb = 64u - (unsigned)__builtin_clzll(max);
	bits = (unsigned)(rnd() % (nb + 1));
	v = bits == 64 ? rnd() : rnd() & ((UINT64_C(1) << bits) - 1);
	/* v > max implies max < UINT64_MAX, so max + 1 cannot wrap */
	return v <= max ? v : v % (max + 1);
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* -------- directed cases -------- */

/* add at or before the clock: expired at once, returned in add order */
static int
test_immediate(void)
{
	struct wheel *w = NULL;
	struct wtimer a, b, c;
	int rc = -1;

	REQUIRE(wheel_open(&w, 1000) == 0);
	wtimer_init(&a);
	wtimer_init(&b);
	wtimer_init(&c);
	REQUIRE(!wtimer_pending(&a));
	REQUIRE(wheel_timeout(w) == UINT64_MAX);
	wheel_add(w, &a, 1000);
	wheel_add(w, &b, 0);
	wheel_add(w, &c, 999);
	REQUIRE(wtimer_pending(&a) && wtimer_pending(&b) && wtimer_pending(&c));
	REQUIRE(wheel_count(w) == 3);
	REQUIRE(wheel_timeout(w) == 0);
	REQUIRE(wheel_check(w, stderr));
	REQUIRE(wheel_get(w) == &a);
	REQUIRE(!wtimer_pending(&a));
	REQUIRE(wheel_get(w) == &b);
	REQUIRE(wheel_get(w) == &c);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_count(w) == 0);
	REQUIRE(wheel_timeout(w) == UINT64_MAX);
	REQUIRE(wheel_check(w, stderr));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/* cancelling a timer that is not pending changes nothing */
static int
test_del_idle(void)
{
	struct wheel *w = NULL;
	struct wtimer a, b;
	int rc = -1;

	REQUIRE(wheel_open(&w, 0) == 0);
	wtimer_init(&a);
	wtimer_init(&b);
	wheel_add(w, &b, 50);
	wheel_del(w, &a);
	REQUIRE(wheel_count(w) == 1);
	REQUIRE(wheel_check(w, stderr));
	wheel_add(w, &a, 10);
	wheel_del(w, &a);
	wheel_del(w, &a);
	REQUIRE(!wtimer_pending(&a));
	REQUIRE(wheel_count(w) == 1);
	REQUIRE(wheel_timeout(w) == 50);
	/* a fired and collected timer is idle too */
	wheel_update(w, 50);
	REQUIRE(wheel_get(w) == &b);
	wheel_del(w, &b);
	REQUIRE(wheel_count(w) == 0);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_check(w, stderr));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/* re-arming moves a pending timer, from a slot or from the expired list */
static int
test_rearm(void)
{
	struct wheel *w = NULL;
	struct wtimer a, b, c;
	int rc = -1;

	REQUIRE(wheel_open(&w, 0) == 0);
	wtimer_init(&a);
	wtimer_init(&b);
	wtimer_init(&c);
	wheel_add(w, &a, 100000);
	wheel_add(w, &a, 50);
	REQUIRE(wheel_count(w) == 1);
	REQUIRE(wheel_timeout(w) == 50);
	REQUIRE(wheel_check(w, stderr));
	wheel_update(w, 49);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, 50);
	REQUIRE(wheel_get(w) == &a);
	REQUIRE(wheel_get(w) == NULL);

	/* later, not sooner: must not fire at the old time */
	wheel_add(w, &a, 60);
	wheel_add(w, &a, 7000);
	wheel_update(w, 6999);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_check(w, stderr));
	wheel_update(w, 7000);
	REQUIRE(wheel_get(w) == &a);

	/* off the expired list's tail, then append again: tail must follow */
	wheel_add(w, &a, 1);
	wheel_add(w, &b, 2);
	wheel_add(w, &b, 9000);
	REQUIRE(wheel_check(w, stderr));
	wheel_add(w, &c, 3);
	REQUIRE(wheel_check(w, stderr));
	REQUIRE(wheel_get(w) == &a);
	REQUIRE(wheel_get(w) == &c);
	REQUIRE(wheel_get(w) == NULL);
	/* and from the head of a two-entry list */
	wheel_add(w, &a, 4);
	wheel_add(w, &c, 5);
	wheel_add(w, &a, 8000);
	REQUIRE(wheel_check(w, stderr));
	REQUIRE(wheel_get(w) == &c);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_count(w) == 2);
	wheel_update(w, 9000);
	REQUIRE(wheel_get(w) == &a);
	REQUIRE(wheel_get(w) == &b);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_check(w, stderr));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/* a clock stepped back is ignored and fires nothing */
static int
test_backward(void)
{
	struct wheel *w = NULL;
	struct wtimer a;
	int rc = -1;

	REQUIRE(wheel_open(&w, 5000) == 0);
	wtimer_init(&a);
	wheel_add(w, &a, 5010);
	wheel_update(w, 4000);
	REQUIRE(wheel_now(w) == 5000);
	wheel_update(w, 0);
	REQUIRE(wheel_now(w) == 5000);
	REQUIRE(wheel_get(w) == NULL);
	REQUIRE(wheel_timeout(w) == 10);
	REQUIRE(wheel_check(w, stderr));
	wheel_update(w, 5009);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, 5005);
	REQUIRE(wheel_now(w) == 5009);
	wheel_update(w, 5010);
	REQUIRE(wheel_get(w) == &a);
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/*
 * one jump over many levels fires exactly the due timers and leaves the
 * rest correctly filed
 */
static int
test_huge_jump(void)
{
	static const uint64_t rel[] = {1, 63, 64, 100, 4095, 4096, 10000,
	    DAY_MS, 30 * DAY_MS, YEAR_MS, 100 * YEAR_MS, 10000 * YEAR_MS,
	    UINT64_C(1) << 50, UINT64_C(1) << 62};
	enum { N = sizeof(rel) / sizeof(rel[0]) };
	const uint64_t base = UINT64_C(1700000000000);
	struct wheel *w = NULL;
	struct wtimer t[N], *got;
	uint64_t jump;
	size_t i, fired = 0;
	int rc = -1;

	REQUIRE(wheel_open(&w, base) == 0);
	for (i = 0; i < N; i++) {
		wtimer_init(&t[i]);
		wheel_add(w, &t[i], base + rel[i]);
	}
	REQUIRE(wheel_check(w, stderr));
	jump = 200 * YEAR_MS;
	wheel_update(w, base + jump);
	REQUIRE(wheel_check(w, stderr));
	while ((got = wheel_get(w)) != NULL) {
		i = (size_t)(got - t);
		REQUIRE(i < N);
		REQUIRE(rel[i] <= jump);
		fired++;
	}
	for (i = 0; i < N; i++)
		REQUIRE(wtimer_pending(&t[i]) == (rel[i] > jump));
	REQUIRE(fired == 11);
	/* to the end of time: everything left is due */
	wheel_update(w, UINT64_MAX);
	while (wheel_get(w) != NULL)
		fired++;
	REQUIRE(fired == N);
	REQUIRE(wheel_count(w) == 0);
	REQUIRE(wheel_timeout(w) == UINT64_MAX);
	REQUIRE(wheel_check(w, stderr));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/*
 * expiries far beyond any eight-level wheel (2^48 ms and up, to UINT64_MAX)
 * still fire exactly: stepping by wheel_timeout() never overshoots, so each
 * fires with the clock equal to its expiry
 */
static int
test_far(void)
{
	static const uint64_t abs[] = {UINT64_C(1) << 48,
	    (UINT64_C(1) << 48) + 1, UINT64_C(0x0123456789abcdef),
	    UINT64_C(1) << 63, UINT64_MAX - 64, UINT64_MAX - 1, UINT64_MAX};
	enum { N = sizeof(abs) / sizeof(abs[0]) };
	struct wheel *w = NULL;
	struct wtimer t[N], *got;
	size_t i, fired = 0, steps = 0;
	uint64_t to;
	int rc = -1;

	REQUIRE(wheel_open(&w, 12345) == 0);
	/* added in reverse to show that order of adding does not matter */
	for (i = N; i-- > 0;) {
		wtimer_init(&t[i]);
		wheel_add(w, &t[i], abs[i]);
	}
	REQUIRE(wheel_check(w, stderr));
	while (wheel_count(w) > 0) {
		to = wheel_timeout(w);
		REQUIRE(to > 0 && to != UINT64_MAX);
		wheel_update(w, wheel_now(w) + to);
		REQUIRE(wheel_check(w, stderr));
		while ((got = wheel_get(w)) != NULL) {
			i = (size_t)(got - t);
			REQUIRE(i == fired);
			REQUIRE(got->expires == wheel_now(w));
			fired++;
		}
		REQUIRE(++steps < 12 * N);
	}
	REQUIRE(fired == N);
	/* at the end of time, anything added is already due */
	wheel_add(w, &t[0], UINT64_MAX);
	REQUIRE(wheel_timeout(w) == 0);
	REQUIRE(wheel_get(w) == &t[0]);
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/* wheel_close() detaches slotted and expired timers alike */
static int
test_close(void)
{
	struct wheel *w = NULL;
	struct wtimer a, b, c;
	int rc = -1;

	REQUIRE(wheel_close(NULL) == NULL);
	REQUIRE(wheel_open(&w, 0) == 0);
	wtimer_init(&a);
	wtimer_init(&b);
	wtimer_init(&c);
	wheel_add(w, &a, 10);
	wheel_add(w, &b, 10);
	wheel_add(w, &c, 0);
	w = wheel_close(w);
	REQUIRE(w == NULL);
	REQUIRE(
	    !wtimer_pending(&a) && !wtimer_pending(&b) && !wtimer_pending(&c));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

/* wheel_check() notices a timer whose expiry changed behind its back */
static int
test_check_detects(void)
{
	struct wheel *w = NULL;
	struct wtimer a;
	FILE *null = NULL;
	int rc = -1;

	null = fopen("/dev/null", "w");
	REQUIRE(null != NULL);
	REQUIRE(wheel_open(&w, 0) == 0);
	wtimer_init(&a);
	wheel_add(w, &a, 100);
	REQUIRE(wheel_check(w, null));
	a.expires = 5000;
	REQUIRE(!wheel_check(w, null));
	a.expires = 100;
	REQUIRE(wheel_check(w, null));
	rc = 0;
out:
	wheel_close(w);
	if (null != NULL)
		fclose(null);
	return rc;
}

/* -------- randomised against a model -------- */

struct rcfg {
	const char *name;
	uint64_t start;       /* initial clock */
	uint64_t min_timeout; /* relative, for adds in the future */
	uint64_t max_timeout;
	uint64_t max_step;   /* ordinary clock step */
	uint64_t huge;       /* a huge step is up to this */
	unsigned pct_huge;   /* of steps */
	unsigned pct_back;   /* of steps: go backwards (ignored) */
	unsigned pct_follow; /* of steps: go to now + wheel_timeout() */
	unsigned pct_past;   /* of adds: at or before the clock */
	unsigned pct_cancel; /* of operations on a pending timer */
	unsigned pct_rearm;  /* of operations on a pending timer */
	unsigned pct_step;   /* of operations: a clock step */
	size_t ntimers;
	unsigned long ops;
	bool close_pending; /* end with wheel_close() on a full wheel */
};

struct mtimer {
	struct wtimer wt; /* first, so a struct wtimer * converts back */
	uint64_t expires; /* the model's copy */
	bool armed;
	bool immediate; /* armed at or before the clock */
};

struct model {
	struct mtimer *m;
	size_t n;
	size_t armed;
	uint64_t last_fired; /* latest expiry fired by an earlier step */
};

static void
model_arm(
    struct wheel *w, struct model *md, struct mtimer *m, const struct rcfg *c)
{
	uint64_t now = wheel_now(w), abs;

	if (rnd_pct() < c->pct_past)
		abs = now - rnd_log(now);
	else
		abs = sat_add(now,
		    c->min_timeout + rnd_log(c->max_timeout - c->min_timeout));
	if (!m->armed)
		md->armed++;
	m->armed = true;
	m->expires = abs;
	m->immediate = abs <= now;
	wheel_add(w, &m->wt, abs);
}

/*
 * wheel_timeout() against the model's earliest expiry: 0 iff something is
 * due, never later than the earliest, UINT64_MAX iff nothing is pending
 */
static int
check_timeout(struct wheel *w, const struct model *md)
{
	uint64_t to, now = wheel_now(w), earliest = UINT64_MAX;
	bool any = false;
	size_t i;
	int rc = -1;

	for (i = 0; i < md->n; i++) {
		if (!md->m[i].armed)
			continue;
		any = true;
		if (md->m[i].expires < earliest)
			earliest = md->m[i].expires;
	}
	to = wheel_timeout(w);
	if (!any) {
		REQUIRE(to == UINT64_MAX);
	} else if (earliest <= now) {
		REQUIRE(to == 0);
	} else {
		REQUIRE(to > 0);
		REQUIRE(to <= earliest - now);
	}
	REQUIRE(wheel_count(w) == md->armed);
	rc = 0;
out:
	return rc;
}

/*
 * drains the expired list after the clock moved from prev to its present
 * value and compares with the model; exact demands each fired timer's
 * expiry equal the clock (true when stepping by wheel_timeout())
 */
static int
check_fired(struct wheel *w, struct model *md, uint64_t prev, bool exact,
    size_t *nfired)
{
	uint64_t now = wheel_now(w), step_max = md->last_fired;
	struct wtimer *t;
	struct mtimer *m;
	size_t i;
	int rc = -1;

	while ((t = wheel_get(w)) != NULL) {
		i = (size_t)((struct mtimer *)(void *)t - md->m);
		REQUIRE(i < md->n);
		m = &md->m[i];
		REQUIRE(!wtimer_pending(t));
		/* nothing twice, nothing unarmed */
		REQUIRE(m->armed);
		REQUIRE(t->expires == m->expires);
		/* not early */
		REQUIRE(m->expires <= now);
		if (!m->immediate) {
			/* not late: it would have fired by the earlier step */
			REQUIRE(m->expires > prev);
			REQUIRE(!exact || m->expires == now);
			/* global order across steps */
			REQUIRE(m->expires >= md->last_fired);
			if (m->expires > step_max)
				step_max = m->expires;
		}
		m->armed = false;
		md->armed--;
		(*nfired)++;
	}
	md->last_fired = step_max;
	/* the fired set is the model's due set: none due left behind */
	for (i = 0; i < md->n; i++) {
		m = &md->m[i];
		REQUIRE(wtimer_pending(&m->wt) == m->armed);
		REQUIRE(!m->armed || m->expires > now);
	}
	REQUIRE(wheel_check(w, stderr));
	REQUIRE(check_timeout(w, md) == 0);
	rc = 0;
out:
	return rc;
}

static int
check_randomized(const struct rcfg *c, unsigned long *nops)
{
	struct wheel *w = NULL;
	struct model md = {0};
	struct mtimer *m;
	size_t i, nfired = 0, before, steps;
	uint64_t now, prev, to, target;
	unsigned long op;
	bool exact;
	int rc = -1;

	md.n = c->ntimers;
	md.m = calloc(md.n, sizeof(*md.m));
	REQUIRE(md.m != NULL);
	for (i = 0; i < md.n; i++)
		wtimer_init(&md.m[i].wt);
	REQUIRE(wheel_open(&w, c->start) == 0);
	for (op = 0; op < c->ops; op++) {
		now = wheel_now(w);
		if (rnd_pct() >= c->pct_step) {
			m = &md.m[rnd() % md.n];
			if (!m->armed) {
				model_arm(w, &md, m, c);
			} else {
				unsigned p = rnd_pct();

				if (p < c->pct_cancel) {
					wheel_del(w, &m->wt);
					m->armed = false;
					md.armed--;
				} else if (p < c->pct_cancel + c->pct_rearm) {
					model_arm(w, &md, m, c);
				}
			}
			REQUIRE(wtimer_pending(&m->wt) == m->armed);
			REQUIRE(check_timeout(w, &md) == 0);
			continue;
		}
		exact = false;
		if (rnd_pct() < c->pct_follow) {
			to = wheel_timeout(w);
			target = to == UINT64_MAX ? now : now + to;
			exact = true;
		} else if (rnd_pct() < c->pct_back) {
			target = now - rnd_log(now);
		} else if (rnd_pct() < c->pct_huge) {
			target = sat_add(now, rnd_log(c->huge));
		} else {
			target = sat_add(now, rnd_log(c->max_step));
		}
		prev = now;
		wheel_update(w, target);
		REQUIRE(wheel_now(w) == (target > prev ? target : prev));
		REQUIRE(check_fired(w, &md, prev, exact, &nfired) == 0);
	}
	*nops += c->ops;

	if (c->close_pending) {
		w = wheel_close(w);
		for (i = 0; i < md.n; i++)
			REQUIRE(!wtimer_pending(&md.m[i].wt));
		rc = 0;
		goto out;
	}

	/*
	 * drain by stepping to now + wheel_timeout(): every step makes progress
	 * (a timer fires or a slot moves down a level), so this ends within
	 * about one step per level per timer, and each fires exactly on time
	 */
	before = md.armed;
	steps = 0;
	while (wheel_count(w) > 0) {
		now = wheel_now(w);
		to = wheel_timeout(w);
		REQUIRE(to != UINT64_MAX);
		wheel_update(w, now + to);
		REQUIRE(check_fired(w, &md, now, true, &nfired) == 0);
		REQUIRE(++steps <= 12 * before + 1);
	}
	REQUIRE(md.armed == 0);
	REQUIRE(wheel_timeout(w) == UINT64_MAX);
	REQUIRE(wheel_get(w) == NULL);
	printf("test_wheel: %-12s %lu ops, %zu fired, %zu drain steps for "
	       "%zu timers\n",
	    c->name, c->ops, nfired, steps, before);
	rc = 0;
out:
	wheel_close(w);
	free(md.m);
	return rc;
}

static const struct rcfg cfgs[] = {
    {
        .name = "small",
        .max_timeout = 100,
        .max_step = 10,
        .pct_follow = 10,
        .pct_back = 5,
        .pct_past = 5,
        .pct_cancel = 20,
        .pct_rearm = 20,
        .pct_step = 40,
        .ntimers = 64,
        .ops = 20000,
    },
    {
        .name = "seconds",
        .start = UINT64_C(1700000000000),
        .max_timeout = 60000,
        .max_step = 1000,
        .pct_follow = 20,
        .pct_cancel = 10,
        .pct_rearm = 30,
        .pct_step = 30,
        .ntimers = 256,
        .ops = 20000,
    },
    {
        .name = "years",
        .start = UINT64_C(1700000000000),
        .max_timeout = 4 * YEAR_MS,
        .max_step = DAY_MS,
        .huge = 10 * YEAR_MS,
        .pct_huge = 5,
        .pct_follow = 30,
        .pct_back = 5,
        .pct_past = 2,
        .pct_cancel = 10,
        .pct_rearm = 10,
        .pct_step = 40,
        .ntimers = 256,
        .ops = 20000,
    },
    {
        .name = "no-cancel",
        .min_timeout = 1,
        .max_timeout = 10000000,
        .max_step = 100000,
        .pct_follow = 50,
        .pct_step = 50,
        .ntimers = 128,
        .ops = 15000,
    },
    {
        .name = "full-range",
        .start = UINT64_C(1700000000000),
        .max_timeout = UINT64_MAX,
        .max_step = UINT64_C(1) << 36,
        .huge = UINT64_C(1) << 52,
        .pct_huge = 10,
        .pct_follow = 40,
        .pct_back = 5,
        .pct_past = 5,
        .pct_cancel = 15,
        .pct_rearm = 15,
        .pct_step = 40,
        .ntimers = 128,
        .ops = 15000,
    },
    {
        .name = "end-of-time",
        .start = UINT64_MAX - (UINT64_C(1) << 36),
        .max_timeout = UINT64_C(1) << 40,
        .max_step = UINT64_C(1) << 20,
        .huge = UINT64_C(1) << 32,
        .pct_huge = 1,
        .pct_follow = 20,
        .pct_cancel = 20,
        .pct_rearm = 20,
        .pct_step = 40,
        .ntimers = 64,
        .ops = 10000,
    },
    {
        .name = "churn",
        .max_timeout = 5000,
        .max_step = 100,
        .pct_follow = 10,
        .pct_back = 5,
        .pct_past = 10,
        .pct_cancel = 40,
        .pct_rearm = 50,
        .pct_step = 20,
        .ntimers = 512,
        .ops = 20000,
    },
    {
        .name = "close-full",
        .max_timeout = YEAR_MS,
        .max_step = 60000,
        .pct_cancel = 10,
        .pct_rearm = 10,
        .pct_step = 30,
        .ntimers = 256,
        .ops = 5000,
        .close_pending = true,
    },
};

/*
 * wheel_rebase() after a wall clock stepped back: timers keep their
 * absolute expiries, a timer added behind the old clock but ahead of the new
 * one waits for its time instead of firing at once, and even a timer that
 * was due but not yet collected waits for the clock to reach it again.
 */
static int
test_rebase(void)
{
	struct wheel *w = NULL;
	struct wtimer due, near, far, late;
	uint64_t t0 = 10 * DAY_MS;
	int rc = -1;

	REQUIRE(wheel_open(&w, t0) == 0);
	wtimer_init(&due);
	wtimer_init(&near);
	wtimer_init(&far);
	wtimer_init(&late);
	wheel_add(w, &due, t0 - 5);           /* already due */
	wheel_add(w, &near, t0 + 1000);       /* in a low level */
	wheel_add(w, &far, t0 + 30 * DAY_MS); /* in a high level */
	/* the clock steps back an hour */
	wheel_rebase(w, t0 - 3600000);
	REQUIRE(wheel_now(w) == t0 - 3600000);
	REQUIRE(wheel_check(w, stderr));
	REQUIRE(wheel_count(w) == 3);
	/* now behind the old clock, yet still in the future */
	wheel_add(w, &late, t0 - 60000);
	REQUIRE(wheel_check(w, stderr));
	wheel_update(w, t0 - 3600000);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 - 60001);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 - 60000);
	REQUIRE(wheel_get(w) == &late);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 - 6);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 - 5);
	REQUIRE(wheel_get(w) == &due);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 + 999);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 + 1000);
	REQUIRE(wheel_get(w) == &near);
	wheel_update(w, t0 + 30 * DAY_MS - 1);
	REQUIRE(wheel_get(w) == NULL);
	wheel_update(w, t0 + 30 * DAY_MS);
	REQUIRE(wheel_get(w) == &far);
	REQUIRE(wheel_count(w) == 0);
	/* forward works too, firing what the jump passed */
	wheel_add(w, &near, t0 + 31 * DAY_MS);
	wheel_rebase(w, t0 + 32 * DAY_MS);
	REQUIRE(wheel_get(w) == &near);
	REQUIRE(wheel_check(w, stderr));
	rc = 0;
out:
	wheel_close(w);
	return rc;
}

int
main(int argc, char **argv)
{
	static int (*const directed[])(void) = {test_immediate, test_del_idle,
	    test_rearm, test_backward, test_huge_jump, test_far, test_close,
	    test_check_detects, test_rebase};
	unsigned long nops = 0;
	size_t i;

	if (rnd_seed(argc, argv, "test_wheel", UINT64_C(0x9e3779b97f4a7c15)) !=
	    0)
		return 2;
	printf("test_wheel: seed %#" PRIx64 "\n", rnd_state);

	for (i = 0; i < sizeof(directed) / sizeof(directed[0]); i++)
		if (directed[i]() != 0)
			return 1;
	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		if (check_randomized(&cfgs[i], &nops) != 0) {
			fprintf(stderr, "test_wheel: config '%s' failed\n",
			    cfgs[i].name);
			return 1;
		}
	}
	printf("test_wheel: ok, %lu random operations\n", nops);
	return 0;
}
