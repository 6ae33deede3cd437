/* SPDX-License-Identifier: MIT */
/*
 * fuzz_time.c: libFuzzer target for the time expressions people type
 * (common/timefmt.c).  The input, cut at its first NUL as a C caller would
 * see it, is parsed as a WHEN expression against a few fixed "now"s in
 * Europe/Berlin, chosen beside both DST changes, and as a duration and a
 * duration list; every result is formatted again.  Beyond sanitizer
 * reports, the target aborts when a documented contract breaks: accepted
 * instants stay in years 1..9999, ISO output and compact durations parse
 * back to the same value, and lists come out sorted and distinct.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "proto.h"
#include "timefmt.h"

#define TIME_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

/* long enough for any expression worth typing; keeps each run fast */
#define MAX_INPUT 4096

static const int64_t nows[] = {
    1795795199,   /* Fri 2026-11-27 16:59:59 CET, a second before 17:00 */
    1774744200,   /* 2026-03-29 01:30 CET, half an hour before the gap */
    1792888200,   /* 2026-10-25 02:30 CEST, in the hour that repeats */
    -3600,        /* 1969-12-31 23:00 UTC: negative instants */
    253402171200, /* 9999-12-30 13:00 CET: next to the end of the range */
};

/* sizes 1 and 7 make every formatter truncate */
static const size_t buflens[] = {1, 7, 128};

static void
fail(const char *what, const char *input, int64_t a, int64_t b)
{
	fprintf(stderr,
	    "fuzz_time: %s: input '%s': %" PRId64 " vs %" PRId64 "\n", what,
	    input, a, b);
	abort();
}

/* formats an instant every way; durations go through format_duration */
static void
format_all(int64_t t, int64_t now)
{
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(buflens) / sizeof(buflens[0]); i++) {
		/* the canary shows writes beyond the length given */
		memset(buf, 'x', sizeof(buf));
		timefmt_local(t, buf, buflens[i]);
		timefmt_iso_utc(t, buf, buflens[i]);
		timefmt_relative(t, now, buf, buflens[i]);
		if (buflens[i] < sizeof(buf) && buf[buflens[i]] != 'x')
			fail("formatter wrote past its buffer", "", t,
			    (int64_t)buflens[i]);
	}
}

static void
format_duration(int64_t d)
{
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(buflens) / sizeof(buflens[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		timefmt_duration(d, buf, buflens[i]);
		if (buflens[i] < sizeof(buf) && buf[buflens[i]] != 'x')
			fail("duration wrote past its buffer", "", d,
			    (int64_t)buflens[i]);
	}
}

static void
check_when(const char *s, int64_t now)
{
	const char *errmsg = NULL;
	char iso[64];
	int64_t t, back;
	int r;

	r = timefmt_parse(s, now, &t, &errmsg);
	if (r == -EINVAL) {
		if (errmsg == NULL)
			fail("-EINVAL without a message", s, now, 0);
		return;
	}
	if (r != 0)
		fail("unexpected return", s, r, now);
	if (t < TIME_MIN || t > TIME_MAX)
		fail("instant out of range", s, t, now);
	format_all(t, now);
	/* a zone-free ISO instant must mean the same whatever now is */
	timefmt_iso_utc(t, iso, sizeof(iso));
	if (timefmt_parse(iso, now, &back, &errmsg) != 0)
		fail("own ISO output refused", iso, t, now);
	if (back != t)
		fail("ISO round trip", iso, t, back);
}

static void
check_duration(const char *s)
{
	char txt[64];
	int64_t d, back;

	if (timefmt_parse_duration(s, &d) != 0)
		return;
	if (d < 0)
		fail("negative duration", s, d, 0);
	format_duration(d);
	timefmt_duration(d, txt, sizeof(txt));
	if (timefmt_parse_duration(txt, &back) != 0)
		fail("own duration output refused", txt, d, 0);
	if (back != d)
		fail("duration round trip", txt, d, back);
}

static void
check_list(const char *s)
{
	int64_t v[PROTO_MAX_NUDGES];
	int n, i;

	n = timefmt_parse_duration_list(s, v, PROTO_MAX_NUDGES);
	if (n == -EINVAL || n == -E2BIG)
		return;
	if (n < 0 || n > PROTO_MAX_NUDGES)
		fail("list count", s, n, 0);
	for (i = 0; i < n; i++) {
		if (v[i] < 0)
			fail("negative list item", s, v[i], i);
		if (i > 0 && v[i] >= v[i - 1])
			fail("list not descending and distinct", s, v[i - 1],
			    v[i]);
		format_duration(v[i]);
	}
	/* a short array must be refused, never overrun */
	if (n > 1 && timefmt_parse_duration_list(s, v, 1) != -E2BIG)
		fail("list longer than max accepted", s, n, 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* the zone with the DST rules the fixed nows sit next to */
	if (setenv("TZ", "Europe/Berlin", 1) < 0)
		abort();
	tzset();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t i;

	if ((s = fuzz_input(data, size, MAX_INPUT, true)) == NULL)
		return 0;
	for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
		check_when(s, nows[i]);
	check_duration(s);
	check_list(s);
	free(s);
	return 0;
}
