/* SPDX-License-Identifier: MIT */
/*
 * bench_wheel.c: the daemon's timing wheel (daemon/wheel.c) against
 * libev's ev_timer heap, the obvious alternative it has to beat.
 *
 * Each contestant gets n timers in one array, with the same fixed-seed
 * expiries spread uniformly over a span, and is timed on three phases:
 * inserting all of them, cancelling all of them, and (re-inserted with
 * the same expiries) expiring all of them.  wheel_day repeats the wheel's
 * run over a day, advanced a second at a time as the daemon's ev_periodic
 * would, so timers cascade down the levels and that cost shows.
 *
 * Usage: bench_wheel [-n N]
 * Prints one line of JSON with ns per timer for each phase:
 *   {"n":N,"wheel":{"insert_ns":..,"cancel_ns":..,"expire_ns":..},
 *    "ev_timer":{...},"wheel_day":{...}}
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "bench_util.h"
#include "util.h"
#include "wheel.h"

#define DEFAULT_N 1000000
/* beyond this the arrays alone pass several GB */
#define MAX_N 50000000
#define SPAN_MS UINT64_C(2000)
#define DAY_MS UINT64_C(86400000)
#define DAY_STEP_MS UINT64_C(1000)
/* past the last ev_timer's expiry, so one ev_run can fire them all */
#define EV_SLACK_MS UINT64_C(50)
#define EV_MAX_RUNS 1000
#define MAX_SLEEPS 1000
#define SEED UINT64_C(0x9e3779b97f4a7c15)

struct phase {
	uint64_t insert_ns;
	uint64_t cancel_ns;
	uint64_t expire_ns;
};

/* offsets from now in [1, span] ms: 0 would skip the wheel's slots */
static void
fill_offsets(uint32_t *off, size_t n, uint64_t span, uint64_t seed)
{
	uint64_t state = seed;
	size_t i;

	for (i = 0; i < n; i++)
		off[i] = (uint32_t)(1 + bench_rnd(&state) % span);
}

/*
 * the wheel: insert, cancel, re-insert untimed, then advance the clock to
 * the end of span in steps of step ms, draining the expired list after
 * each, all timed as the expiry phase
 */
static int
run_wheel(struct wtimer *t, const uint32_t *off, size_t n, uint64_t span,
    uint64_t step, struct phase *ret)
{
	struct wheel *w = NULL;
	uint64_t now = (uint64_t)util_now_ms(), at, end, count = 0, t0;
	size_t i;
	int r;

	if ((r = wheel_open(&w, now)) < 0) {
		fprintf(stderr, "bench_wheel: wheel_open: %s\n", strerror(-r));
		goto out;
	}
	for (i = 0; i < n; i++)
		wtimer_init(&t[i]);

	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		wheel_add(w, &t[i], now + off[i]);
	ret->insert_ns = bench_now_ns() - t0;
	if (wheel_count(w) != n) {
		fprintf(stderr, "bench_wheel: wheel holds %zu of %zu timers\n",
		    wheel_count(w), n);
		r = -1;
		goto out;
	}

	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		wheel_del(w, &t[i]);
	ret->cancel_ns = bench_now_ns() - t0;
	if (wheel_count(w) != 0) {
		fprintf(stderr, "bench_wheel: %zu timers left after cancel\n",
		    wheel_count(w));
		r = -1;
		goto out;
	}

	for (i = 0; i < n; i++)
		wheel_add(w, &t[i], now + off[i]);
	end = now + span;
	t0 = bench_now_ns();
	/* one more than n is enough to tell a timer fired twice */
	for (at = now; at < end && count <= n;) {
		at = end - at > step ? at + step : end;
		wheel_update(w, at);
		while (count <= n && wheel_get(w) != NULL)
			count++;
	}
	ret->expire_ns = bench_now_ns() - t0;
	if (count != n || wheel_count(w) != 0) {
		fprintf(stderr,
		    "bench_wheel: wheel expired %" PRIu64 " of %zu timers, "
		    "%zu left\n",
		    count, n, wheel_count(w));
		r = -1;
		goto out;
	}
	r = 0;
out:
	wheel_close(w);
	return r;
}

static void
ev_fired(struct ev_loop *loop, ev_timer *w, int revents)
{
	uint64_t *fired = ev_userdata(loop);

	(void)w;
	(void)revents;
	(*fired)++;
}

static size_t
ev_active_count(ev_timer *t, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (ev_is_active(&t[i]))
			k++;
	return k;
}

/* sleeps until the monotonic clock reads at least until_ns */
static void
sleep_until(uint64_t until_ns)
{
	struct timespec ts;
	uint64_t now, left;
	int i;

	/* bounded: each round sleeps what is left, EINTR at worst repeats */
	for (i = 0; i < MAX_SLEEPS && (now = bench_now_ns()) < until_ns; i++) {
		left = until_ns - now;
		ts.tv_sec = (time_t)(left / UINT64_C(1000000000));
		ts.tv_nsec = (long)(left % UINT64_C(1000000000));
		nanosleep(&ts, NULL);
	}
}

/*
 * libev: the same three phases.  Its timers only fire from ev_run after
 * real time passed, so the expiry phase sleeps (untimed) past the last
 * expiry and then times the ev_run calls that fire them all.
 */
static int
run_ev(ev_timer *t, const uint32_t *off, size_t n, uint64_t span,
    struct phase *ret)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	uint64_t fired = 0, t0, base;
	size_t i, k;
	int runs, r;

	if (loop == NULL) {
		fprintf(stderr, "bench_wheel: ev_loop_new failed\n");
		r = -1;
		goto out;
	}
	ev_set_userdata(loop, &fired);
	for (i = 0; i < n; i++)
		ev_timer_init(&t[i], ev_fired, (double)off[i] / 1000.0, 0.0);
	ev_now_update(loop);

	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		ev_timer_start(loop, &t[i]);
	ret->insert_ns = bench_now_ns() - t0;
	if ((k = ev_active_count(t, n)) != n) {
		fprintf(
		    stderr, "bench_wheel: %zu of %zu ev_timers active\n", k, n);
		r = -1;
		goto out;
	}

	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		ev_timer_stop(loop, &t[i]);
	ret->cancel_ns = bench_now_ns() - t0;
	if ((k = ev_active_count(t, n)) != 0) {
		fprintf(stderr, "bench_wheel: %zu ev_timers left active\n", k);
		r = -1;
		goto out;
	}

	/* a stopped ev_timer keeps its relative expiry: the same offsets,
	 * counted from a fresh now */
	ev_now_update(loop);
	base = bench_now_ns();
	for (i = 0; i < n; i++)
		ev_timer_start(loop, &t[i]);
	sleep_until(base + (span + EV_SLACK_MS) * UINT64_C(1000000));
	t0 = bench_now_ns();
	for (runs = 0; fired < n && runs < EV_MAX_RUNS; runs++)
		ev_run(loop, EVRUN_NOWAIT);
	ret->expire_ns = bench_now_ns() - t0;
	if (fired != n) {
		fprintf(stderr,
		    "bench_wheel: %" PRIu64 " of %zu ev_timers fired in %d "
		    "ev_run calls\n",
		    fired, n, runs);
		r = -1;
		goto out;
	}
	r = 0;
out:
	if (loop != NULL) {
		for (i = 0; i < n; i++)
			ev_timer_stop(loop, &t[i]);
		ev_loop_destroy(loop);
	}
	return r;
}

static void
print_phase(const char *name, const struct phase *p, size_t n)
{
	printf("\"%s\":{\"insert_ns\":%.1f,\"cancel_ns\":%.1f,"
	       "\"expire_ns\":%.1f}",
	    name, bench_per_op(p->insert_ns, n), bench_per_op(p->cancel_ns, n),
	    bench_per_op(p->expire_ns, n));
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_wheel [-n N]\n");
}

int
main(int argc, char **argv)
{
	struct phase wp, ep, dp;
	struct wtimer *wt = NULL;
	ev_timer *et = NULL;
	uint32_t *off = NULL, *day = NULL;
	int64_t v = DEFAULT_N;
	size_t n;
	int c, rc = 1;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		switch (c) {
		case 'n':
			if (bench_parse_i64(
			        "bench_wheel: -n", optarg, 1, MAX_N, &v) < 0)
				goto out;
			break;
		default:
			usage();
			goto out;
		}
	}
	if (optind != argc) {
		usage();
		goto out;
	}
	n = (size_t)v;
	wt = calloc(n, sizeof(*wt));
	et = calloc(n, sizeof(*et));
	off = calloc(n, sizeof(*off));
	day = calloc(n, sizeof(*day));
	if (wt == NULL || et == NULL || off == NULL || day == NULL) {
		fprintf(
		    stderr, "bench_wheel: out of memory for %zu timers\n", n);
		goto out;
	}
	fill_offsets(off, n, SPAN_MS, SEED);
	fill_offsets(day, n, DAY_MS, SEED);

	if (run_wheel(wt, off, n, SPAN_MS, SPAN_MS, &wp) < 0 ||
	    run_ev(et, off, n, SPAN_MS, &ep) < 0 ||
	    run_wheel(wt, day, n, DAY_MS, DAY_STEP_MS, &dp) < 0)
		goto out;

	printf("{\"n\":%zu,", n);
	print_phase("wheel", &wp, n);
	putchar(',');
	print_phase("ev_timer", &ep, n);
	putchar(',');
	print_phase("wheel_day", &dp, n);
	printf("}\n");
	if (fflush(stdout) != 0) {
		perror("bench_wheel: stdout");
		goto out;
	}
	rc = 0;
out:
	free(wt);
	free(et);
	free(off);
	free(day);
	return rc;
}
