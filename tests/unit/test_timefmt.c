/* SPDX-License-Identifier: MIT */
/*
 * test_timefmt.c: table-driven checks of common/timefmt.c.
 *
 * Every case fixes its own time zone (setenv + tzset) and its own "now", so
 * the result does not depend on the machine's clock or zone.  Parse results
 * are compared as UTC ISO text, which timefmt_iso_utc is itself pinned to
 * by epoch values taken from date(1).  Prints each failing case and exits
 * non-zero if any failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "check.h"

/* fixed "now" values; the comment gives the local wall clock */
#define NOW_UTC 1795600800LL   /* Wed 2026-11-25 10:00 UTC */
#define NOW_BSPR 1774688400LL  /* Sat 2026-03-28 10:00 CET */
#define NOW_BSPR2 1774661400LL /* Sat 2026-03-28 02:30 CET */
#define NOW_BFAL 1792836000LL  /* Sat 2026-10-24 12:00 CEST */
#define NOW_BFAL2 1792801800LL /* Sat 2026-10-24 02:30 CEST */
#define NOW_BFAL3 1792891800LL /* Sun 2026-10-25 02:30 CET, second copy */
#define NOW_NSPR 1772892000LL  /* Sat 2026-03-07 09:00 EST */
#define NOW_NFAL 1793462400LL  /* Sat 2026-10-31 12:00 EDT */
#define NOW_FRI 1795790760LL   /* Fri 2026-11-27 14:46 UTC */
#define NOW_2026 1767225600LL  /* 2026-01-01T00:00:00Z */
#define NOW_2011 1325030400LL  /* 2011-12-28T00:00:00Z */

#define UTC "UTC"
#define BER "Europe/Berlin"
#define NYC "America/New_York"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void
fail(const char *what, const char *in, const char *want, const char *got)
{
	nfailed++;
	printf("FAIL %s '%s': expected '%s', got '%s'\n", what, in, want, got);
}

/* want is UTC ISO text, or NULL when err is the expected error message */
struct parse_case {
	const char *tz;
	int64_t now;
	const char *in;
	const char *want;
	const char *err;
};

static const struct parse_case parse_cases[] = {
    /* ISO 8601, local (UTC here) and with offsets */
    {UTC, NOW_UTC, "2026-11-27T17:00", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27 17:00", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27t17:00:30", "2026-11-27T17:00:30Z", NULL},
    {UTC, NOW_UTC, "2026-11-27T17:00Z", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27 17:00 z", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27T17:00+01:00", "2026-11-27T16:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27T17:00+0100", "2026-11-27T16:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27T17:00-05", "2026-11-27T22:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27T17:00:30-05:30", "2026-11-27T22:30:30Z", NULL},
    {UTC, NOW_UTC, "2026-11-27", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2026-11-27 5pm", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, " \t2026-11-27T17:00Z \n", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2024-02-29", "2024-02-29T17:00:00Z", NULL},
    {UTC, NOW_UTC, "2000-01-01T00:00", "2000-01-01T00:00:00Z", NULL},
    {UTC, NOW_UTC, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", NULL},
    {BER, NOW_UTC, "2026-11-27", "2026-11-27T16:00:00Z", NULL},
    {BER, NOW_UTC, "2026-07-03T17:00", "2026-07-03T15:00:00Z", NULL},
    {NYC, NOW_UTC, "2026-11-27T17:00", "2026-11-27T22:00:00Z", NULL},
    {NYC, NOW_UTC, "2026-11-27T17:00Z", "2026-11-27T17:00:00Z", NULL},

    /* relative */
    {UTC, NOW_UTC, "+2h", "2026-11-25T12:00:00Z", NULL},
    {UTC, NOW_UTC, "+90m", "2026-11-25T11:30:00Z", NULL},
    {UTC, NOW_UTC, "+ 15 min", "2026-11-25T10:15:00Z", NULL},
    {UTC, NOW_UTC, "in 90m", "2026-11-25T11:30:00Z", NULL},
    {UTC, NOW_UTC, "IN 3D", "2026-11-28T10:00:00Z", NULL},
    {UTC, NOW_UTC, "in 1w", "2026-12-02T10:00:00Z", NULL},
    {UTC, NOW_UTC, "in 2h30m", "2026-11-25T12:30:00Z", NULL},
    {UTC, NOW_UTC, "in 1h 30m", "2026-11-25T11:30:00Z", NULL},
    {UTC, NOW_UTC, "in 2 hours", "2026-11-25T12:00:00Z", NULL},
    {UTC, NOW_UTC, "in 1 day 2 hours", "2026-11-26T12:00:00Z", NULL},
    {UTC, NOW_UTC, "in 2 weeks", "2026-12-09T10:00:00Z", NULL},
    {UTC, NOW_UTC, "in 45s", "2026-11-25T10:00:45Z", NULL},
    {UTC, NOW_UTC, "in 1 minute", "2026-11-25T10:01:00Z", NULL},
    {UTC, NOW_UTC, "in 0m", "2026-11-25T10:00:00Z", NULL},
    {UTC, NOW_UTC, "now", "2026-11-25T10:00:00Z", NULL},

    /* today, tomorrow, weekdays (now is a Wednesday) */
    {UTC, NOW_UTC, "today", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "today 17:00", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "today 9:00", "2026-11-25T09:00:00Z", NULL},
    {UTC, NOW_UTC, "tomorrow", "2026-11-26T17:00:00Z", NULL},
    {UTC, NOW_UTC, "tomorrow 17:00", "2026-11-26T17:00:00Z", NULL},
    {UTC, NOW_UTC, "Tomorrow at 9am", "2026-11-26T09:00:00Z", NULL},
    {UTC, NOW_UTC, "fri", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "fri 17:00", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "Friday 9:30", "2026-11-27T09:30:00Z", NULL},
    /* today's weekday is today while the time is still ahead */
    {UTC, NOW_UTC, "wed", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "wed 10:00:01", "2026-11-25T10:00:01Z", NULL},
    {UTC, NOW_UTC, "WEDNESDAY 10:00", "2026-12-02T10:00:00Z", NULL},
    {UTC, NOW_UTC, "wed 9:59", "2026-12-02T09:59:00Z", NULL},
    {UTC, NOW_FRI, "fri 17:00", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_FRI, "friday", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_FRI, "fri 14:00", "2026-12-04T14:00:00Z", NULL},
    {UTC, NOW_FRI, "next fri 17:00", "2026-12-04T17:00:00Z", NULL},
    {BER, NOW_FRI, "fri 17:00", "2026-11-27T16:00:00Z", NULL},
    {UTC, NOW_UTC, "thurs 5pm", "2026-11-26T17:00:00Z", NULL},
    {UTC, NOW_UTC, "tue", "2026-12-01T17:00:00Z", NULL},
    {UTC, NOW_UTC, "sun 12am", "2026-11-29T00:00:00Z", NULL},
    {UTC, NOW_UTC, "sat at 12pm", "2026-11-28T12:00:00Z", NULL},
    {UTC, NOW_UTC, "monday", "2026-11-30T17:00:00Z", NULL},

    /* "next WEEKDAY" is the bare weekday, except that it skips today */
    {UTC, NOW_UTC, "next friday", "2026-11-27T17:00:00Z", NULL},
    {UTC, NOW_UTC, "next fri 9:30", "2026-11-27T09:30:00Z", NULL},
    {UTC, NOW_UTC, "Next Monday 10:00", "2026-11-30T10:00:00Z", NULL},
    {UTC, NOW_UTC, "next\tmon at 5pm", "2026-11-30T17:00:00Z", NULL},
    {UTC, NOW_UTC, "next wed", "2026-12-02T17:00:00Z", NULL},
    {UTC, NOW_UTC, "next thu", "2026-11-26T17:00:00Z", NULL},
    {BER, NOW_BSPR, "next sun 2:30am", "2026-03-29T01:30:00Z", NULL},
    {NYC, NOW_NFAL, "next sunday 1:30am", "2026-11-01T05:30:00Z", NULL},

    /* bare times: the next occurrence */
    {UTC, NOW_UTC, "17:00", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "17:00:30", "2026-11-25T17:00:30Z", NULL},
    {UTC, NOW_UTC, "9:00", "2026-11-26T09:00:00Z", NULL},
    {UTC, NOW_UTC, "10:00", "2026-11-26T10:00:00Z", NULL},
    {UTC, NOW_UTC, "10:00:01", "2026-11-25T10:00:01Z", NULL},
    {UTC, NOW_UTC, "5pm", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "5:30pm", "2026-11-25T17:30:00Z", NULL},
    {UTC, NOW_UTC, "5 PM", "2026-11-25T17:00:00Z", NULL},
    {UTC, NOW_UTC, "12am", "2026-11-26T00:00:00Z", NULL},
    {UTC, NOW_UTC, "12:15pm", "2026-11-25T12:15:00Z", NULL},

    /* epoch */
    {UTC, NOW_UTC, "@1800000000", "2027-01-15T08:00:00Z", NULL},
    {UTC, NOW_UTC, " @0 ", "1970-01-01T00:00:00Z", NULL},
    {BER, NOW_UTC, "@1800000000", "2027-01-15T08:00:00Z", NULL},

    /* Berlin spring forward: 2026-03-29 02:00 CET -> 03:00 CEST */
    {BER, NOW_BSPR, "in 1d", "2026-03-29T08:00:00Z", NULL},
    {BER, NOW_BSPR, "+1d", "2026-03-29T08:00:00Z", NULL},
    {BER, NOW_BSPR, "+24h", "2026-03-29T09:00:00Z", NULL},
    {BER, NOW_BSPR, "in 1w", "2026-04-04T08:00:00Z", NULL},
    {BER, NOW_BSPR, "in 1d2h", "2026-03-29T10:00:00Z", NULL},
    {BER, NOW_BSPR, "tomorrow 17:00", "2026-03-29T15:00:00Z", NULL},
    {BER, NOW_BSPR, "tomorrow", "2026-03-29T15:00:00Z", NULL},
    {BER, NOW_BSPR, "tomorrow 02:30", "2026-03-29T01:30:00Z", NULL},
    {BER, NOW_BSPR, "sun 2:30am", "2026-03-29T01:30:00Z", NULL},
    {BER, NOW_BSPR, "17:00", "2026-03-28T16:00:00Z", NULL},
    {BER, NOW_BSPR, "2026-03-29", "2026-03-29T15:00:00Z", NULL},
    {BER, NOW_BSPR, "2026-03-29 01:59:59", "2026-03-29T00:59:59Z", NULL},
    {BER, NOW_BSPR, "2026-03-29 02:00", "2026-03-29T01:00:00Z", NULL},
    {BER, NOW_BSPR, "2026-03-29 02:30", "2026-03-29T01:30:00Z", NULL},
    {BER, NOW_BSPR, "2026-03-29 02:59:59", "2026-03-29T01:59:59Z", NULL},
    {BER, NOW_BSPR, "2026-03-29 03:00", "2026-03-29T01:00:00Z", NULL},
    {BER, NOW_BSPR, "2026-03-29T02:30+01:00", "2026-03-29T01:30:00Z", NULL},
    {BER, NOW_BSPR2, "in 1d", "2026-03-29T01:30:00Z", NULL},
    {BER, NOW_BSPR2, "in 1d1h", "2026-03-29T02:30:00Z", NULL},

    /* Berlin fall back: 2026-10-25 03:00 CEST -> 02:00 CET */
    {BER, NOW_BFAL, "in 1d", "2026-10-25T11:00:00Z", NULL},
    {BER, NOW_BFAL, "+24h", "2026-10-25T10:00:00Z", NULL},
    {BER, NOW_BFAL, "tomorrow 17:00", "2026-10-25T16:00:00Z", NULL},
    {BER, NOW_BFAL, "tomorrow 02:30", "2026-10-25T00:30:00Z", NULL},
    {BER, NOW_BFAL, "mon 9:00", "2026-10-26T08:00:00Z", NULL},
    {BER, NOW_BFAL, "2026-10-25 01:59", "2026-10-24T23:59:00Z", NULL},
    {BER, NOW_BFAL, "2026-10-25 02:00", "2026-10-25T00:00:00Z", NULL},
    {BER, NOW_BFAL, "2026-10-25 02:30", "2026-10-25T00:30:00Z", NULL},
    {BER, NOW_BFAL, "2026-10-25 02:59:59", "2026-10-25T00:59:59Z", NULL},
    {BER, NOW_BFAL, "2026-10-25 03:00", "2026-10-25T02:00:00Z", NULL},
    {BER, NOW_BFAL, "2026-10-25T02:30+01:00", "2026-10-25T01:30:00Z", NULL},
    {BER, NOW_BFAL2, "in 1d", "2026-10-25T00:30:00Z", NULL},
    {BER, NOW_BFAL3, "in 1d", "2026-10-26T01:30:00Z", NULL},
    {BER, NOW_BFAL3, "in 30m", "2026-10-25T02:00:00Z", NULL},
    {BER, NOW_BFAL3, "+1h", "2026-10-25T02:30:00Z", NULL},
    {BER, NOW_BFAL3, "today 02:30", "2026-10-25T00:30:00Z", NULL},

    /* New York spring forward: 2026-03-08 02:00 EST -> 03:00 EDT */
    {NYC, NOW_NSPR, "in 1d", "2026-03-08T13:00:00Z", NULL},
    {NYC, NOW_NSPR, "+24h", "2026-03-08T14:00:00Z", NULL},
    {NYC, NOW_NSPR, "tomorrow 17:00", "2026-03-08T21:00:00Z", NULL},
    {NYC, NOW_NSPR, "tomorrow 2:30am", "2026-03-08T07:30:00Z", NULL},
    {NYC, NOW_NSPR, "2026-03-08 01:59", "2026-03-08T06:59:00Z", NULL},
    {NYC, NOW_NSPR, "2026-03-08 02:30", "2026-03-08T07:30:00Z", NULL},
    {NYC, NOW_NSPR, "2026-03-08 03:00", "2026-03-08T07:00:00Z", NULL},

    /* New York fall back: 2026-11-01 02:00 EDT -> 01:00 EST */
    {NYC, NOW_NFAL, "in 1d", "2026-11-01T17:00:00Z", NULL},
    {NYC, NOW_NFAL, "+24h", "2026-11-01T16:00:00Z", NULL},
    {NYC, NOW_NFAL, "in 1w", "2026-11-07T17:00:00Z", NULL},
    {NYC, NOW_NFAL, "tomorrow 17:00", "2026-11-01T22:00:00Z", NULL},
    {NYC, NOW_NFAL, "tomorrow 1:30am", "2026-11-01T05:30:00Z", NULL},
    {NYC, NOW_NFAL, "2026-11-01 00:59", "2026-11-01T04:59:00Z", NULL},
    {NYC, NOW_NFAL, "2026-11-01 01:30", "2026-11-01T05:30:00Z", NULL},
    {NYC, NOW_NFAL, "2026-11-01 01:30-05:00", "2026-11-01T06:30:00Z", NULL},
    {NYC, NOW_NFAL, "2026-11-01 02:00", "2026-11-01T07:00:00Z", NULL},

    /* zones where mktime's tm_isdst guess goes wrong */
    {"Europe/Dublin", NOW_2026, "2026-03-29 01:30", "2026-03-29T01:30:00Z",
        NULL},
    {"Europe/Dublin", NOW_2026, "2026-10-25 01:30", "2026-10-25T00:30:00Z",
        NULL},
    {"Australia/Lord_Howe", NOW_2026, "2026-10-04 02:15",
        "2026-10-03T15:45:00Z", NULL},
    {"Australia/Lord_Howe", NOW_2026, "2026-04-05 01:45",
        "2026-04-04T14:45:00Z", NULL},
    {"Pacific/Apia", NOW_2011, "2011-12-29 23:00", "2011-12-30T09:00:00Z",
        NULL},
    {"Pacific/Apia", NOW_2011, "2011-12-30 12:00", "2011-12-30T22:00:00Z",
        NULL},

    /* bad input */
    {UTC, NOW_UTC, "", NULL, "empty time expression"},
    {UTC, NOW_UTC, " \t ", NULL, "empty time expression"},
    {UTC, NOW_UTC, "soon", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "next", NULL, "expected a weekday after next"},
    {UTC, NOW_UTC, "next week", NULL, "expected a weekday after next"},
    {UTC, NOW_UTC, "next 17:00", NULL, "expected a weekday after next"},
    {UTC, NOW_UTC, "next next fri", NULL, "expected a weekday after next"},
    {UTC, NOW_UTC, "nextfri", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "next fri 25:00", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "next fri please", NULL, "bad time of day"},
    {UTC, NOW_UTC, "-5m", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "tomorrow17:00", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "2026/11/27", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "1700", NULL, "unknown time expression"},
    {UTC, NOW_UTC, "2026-13-01", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-00-10", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-02-29", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-11-31", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-1-05", NULL, "bad date"},
    {UTC, NOW_UTC, "0000-01-01", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-11-27X17:00", NULL, "bad date"},
    {UTC, NOW_UTC, "2026-11-27T25:00", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "2026-11-27T17:60", NULL, "bad minute in time of day"},
    {UTC, NOW_UTC, "2026-11-27T17:00:60", NULL, "bad second in time of day"},
    {UTC, NOW_UTC, "2026-11-27T", NULL, "bad time of day"},
    {UTC, NOW_UTC, "2026-11-27T17:00+25:00", NULL, "bad time zone offset"},
    {UTC, NOW_UTC, "2026-11-27T17:00+01:0", NULL, "bad time zone offset"},
    {UTC, NOW_UTC, "2026-11-27T17:00+1", NULL, "bad time zone offset"},
    {UTC, NOW_UTC, "2026-11-27T17:00+01:60", NULL, "bad time zone offset"},
    {UTC, NOW_UTC, "2026-11-27T17:00 CET", NULL, "bad time zone offset"},
    {UTC, NOW_UTC, "2026-11-27T17:00Z x", NULL,
        "unexpected text after time expression"},
    {UTC, NOW_UTC, "2026-11-27T17:00+01:00:00", NULL,
        "unexpected text after time expression"},
    {UTC, NOW_UTC, "9999-12-31T23:59:59-01:00", NULL, "time out of range"},
    {UTC, NOW_UTC, "17", NULL, "bad time of day"},
    {UTC, NOW_UTC, "17:5", NULL, "bad minute in time of day"},
    {UTC, NOW_UTC, "17:000", NULL, "bad minute in time of day"},
    {UTC, NOW_UTC, "24:00", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "13pm", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "0am", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "17:00pm", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "tomorrow 17:00 please", NULL,
        "unexpected text after time expression"},
    {UTC, NOW_UTC, "tomorrow at", NULL, "bad time of day"},
    {UTC, NOW_UTC, "fri 25:00", NULL, "bad hour in time of day"},
    {UTC, NOW_UTC, "fri noon", NULL, "bad time of day"},
    {UTC, NOW_UTC, "now!", NULL, "unexpected text after time expression"},
    {UTC, NOW_UTC, "+2", NULL, "missing unit in relative time"},
    {UTC, NOW_UTC, "in 2 3h", NULL, "missing unit in relative time"},
    {UTC, NOW_UTC, "in 3 fortnights", NULL, "unknown unit in relative time"},
    {UTC, NOW_UTC, "in", NULL, "missing relative time"},
    {UTC, NOW_UTC, "+", NULL, "missing relative time"},
    {UTC, NOW_UTC, "in -3d", NULL, "bad relative time"},
    {UTC, NOW_UTC, "in 1.5h", NULL, "bad relative time"},
    {UTC, NOW_UTC, "+2h,", NULL, "bad relative time"},
    {UTC, NOW_UTC, "in 99999999999999999999d", NULL,
        "relative time out of range"},
    {UTC, NOW_UTC, "in 9223372036854775807s", NULL,
        "relative time out of range"},
    {UTC, NOW_UTC, "in 10000000w", NULL, "relative time out of range"},
    {UTC, NOW_UTC, "in 3000000d", NULL, "time out of range"},
    {UTC, NOW_UTC, "+300000000000s", NULL, "time out of range"},
    {UTC, NOW_UTC, "@", NULL, "bad epoch time"},
    {UTC, NOW_UTC, "@-1", NULL, "bad epoch time"},
    {UTC, NOW_UTC, "@12x", NULL, "unexpected text after time expression"},
    {UTC, NOW_UTC, "@253402300800", NULL, "time out of range"},
    {UTC, NOW_UTC, "@99999999999999999999999", NULL, "time out of range"},
    {UTC, INT64_MAX, "+1h", NULL, "current time out of range"},
    {UTC, INT64_MIN, "tomorrow", NULL, "current time out of range"},
};

static void
test_parse(void)
{
	const struct parse_case *c;
	const char *msg;
	char got[64];
	int64_t t;
	size_t i;
	int r;

	for (i = 0; i < NELEM(parse_cases); i++) {
		c = &parse_cases[i];
		nchecks++;
		set_tz(c->tz);
		t = 0;
		msg = NULL;
		r = timefmt_parse(c->in, c->now, &t, &msg);
		if (c->want != NULL) {
			if (r != 0) {
				fail("parse", c->in, c->want,
				    msg != NULL ? msg : "(null errmsg)");
				continue;
			}
			timefmt_iso_utc(t, got, sizeof(got));
			if (strcmp(got, c->want) != 0)
				fail("parse", c->in, c->want, got);
		} else {
			if (r != -EINVAL) {
				timefmt_iso_utc(t, got, sizeof(got));
				fail("parse", c->in, c->err,
				    r == 0 ? got : "wrong error code");
				continue;
			}
			if (msg == NULL || strcmp(msg, c->err) != 0)
				fail("parse", c->in, c->err,
				    msg != NULL ? msg : "(null errmsg)");
		}
	}

	/* a NULL errmsg pointer is allowed */
	nchecks++;
	set_tz(UTC);
	if (timefmt_parse("bogus", NOW_UTC, &t, NULL) != -EINVAL)
		fail("parse", "bogus with NULL errmsg", "-EINVAL", "other");
}

struct dur_case {
	const char *in;
	int64_t want; /* -1: must fail */
};

static const struct dur_case dur_cases[] = {
    {"90", 90},
    {"90s", 90},
    {"15m", 900},
    {"2h", 7200},
    {"1h30m", 5400},
    {" 1H 30M ", 5400},
    {"3d", 259200},
    {"1w", 604800},
    {"1d12h", 129600},
    {"2 hours", 7200},
    {"45 sec", 45},
    {"0", 0},
    {"0s", 0},
    {"315537897599s", 315537897599LL},
    {"", -1},
    {"   ", -1},
    {"-5m", -1},
    {"+5m", -1},
    {"1h30", -1},
    {"5x", -1},
    {"1.5h", -1},
    {"h", -1},
    {"5 m m", -1},
    {"1h,", -1},
    {"99999999999999999999", -1},
    {"9223372036854775807", -1},
    {"315537897600s", -1},
    {"99999999999w", -1},
    {"3652059d1h", -1},
};

static void
test_duration(void)
{
	const struct dur_case *c;
	char want[32], got[32];
	int64_t v;
	size_t i;
	int r;

	for (i = 0; i < NELEM(dur_cases); i++) {
		c = &dur_cases[i];
		nchecks++;
		v = -12345;
		r = timefmt_parse_duration(c->in, &v);
		if (c->want < 0)
			(void)snprintf(want, sizeof(want), "-EINVAL");
		else
			(void)snprintf(
			    want, sizeof(want), "%lld", (long long)c->want);
		if (r != 0)
			(void)snprintf(got, sizeof(got), "error %d", r);
		else
			(void)snprintf(got, sizeof(got), "%lld", (long long)v);
		if (c->want < 0 ? r != -EINVAL : r != 0 || v != c->want)
			fail("duration", c->in, want, got);
	}
}

struct list_case {
	const char *in;
	size_t max;
	int want;        /* count or -errno */
	int64_t vals[4]; /* the first want entries */
};

static const struct list_case list_cases[] = {
    {"24h,1h", 4, 2, {86400, 3600}},
    {"1h,24h", 4, 2, {86400, 3600}},
    {" 1h , 1h ,60m", 4, 1, {3600}},
    {"15m,1h,1d,0", 4, 4, {86400, 3600, 900, 0}},
    {"1H", 1, 1, {3600}},
    {"1h,1h,2h", 2, 2, {7200, 3600}},
    {"", 4, 0, {0}},
    {"  ", 4, 0, {0}},
    {"none", 4, 0, {0}},
    {" NONE ", 0, 0, {0}},
    {"1h,2h,3h", 2, -E2BIG, {0}},
    {"1h", 0, -E2BIG, {0}},
    {"1h,,2h", 4, -EINVAL, {0}},
    {"1h,2x", 4, -EINVAL, {0}},
    {"1h,2h,3h,bad", 2, -EINVAL, {0}},
    {",", 4, -EINVAL, {0}},
    {"1h,", 4, -EINVAL, {0}},
    {"none,1h", 4, -EINVAL, {0}},
    {"-1h", 4, -EINVAL, {0}},
};

static void
test_duration_list(void)
{
	const struct list_case *c;
	char want[128], got[128];
	int64_t vals[4];
	size_t i, pos;
	int j, r;
	int bad;

	for (i = 0; i < NELEM(list_cases); i++) {
		c = &list_cases[i];
		nchecks++;
		r = timefmt_parse_duration_list(c->in, vals, c->max);
		bad = r != c->want;
		for (j = 0; !bad && j < r; j++)
			bad = vals[j] != c->vals[j];
		if (!bad)
			continue;
		pos = (size_t)snprintf(want, sizeof(want), "%d:", c->want);
		for (j = 0; j < c->want; j++)
			pos += (size_t)snprintf(want + pos, sizeof(want) - pos,
			    " %lld", (long long)c->vals[j]);
		pos = (size_t)snprintf(got, sizeof(got), "%d:", r);
		for (j = 0; j < r && j < 4; j++)
			pos += (size_t)snprintf(got + pos, sizeof(got) - pos,
			    " %lld", (long long)vals[j]);
		fail("duration list", c->in, want, got);
	}
}

/* timefmt_duration, timefmt_iso_utc and truncation */
struct fmt_case {
	int kind; /* 0 duration, 1 iso_utc, 2 local, 3 relative */
	const char *tz;
	int64_t t;
	int64_t now;
	size_t len;
	const char *want;
};

static const struct fmt_case fmt_cases[] = {
    {0, UTC, 0, 0, 32, "0s"},
    {0, UTC, 45, 0, 32, "45s"},
    {0, UTC, 3600, 0, 32, "1h"},
    {0, UTC, 5400, 0, 32, "1h30m"},
    {0, UTC, 259200, 0, 32, "3d"},
    {0, UTC, 604800, 0, 32, "7d"},
    {0, UTC, 90061, 0, 32, "1d1h1m1s"},
    {0, UTC, -90, 0, 32, "-1m30s"},
    {0, UTC, INT64_MIN, 0, 32, "-106751991167300d15h30m8s"},
    {0, UTC, 5400, 0, 3, "1h"},
    {0, UTC, 5400, 0, 1, ""},

    /* epoch values from date -u -d ... +%s */
    {1, UTC, 0, 0, 32, "1970-01-01T00:00:00Z"},
    {1, UTC, -1, 0, 32, "1969-12-31T23:59:59Z"},
    {1, UTC, 951825600, 0, 32, "2000-02-29T12:00:00Z"},
    {1, UTC, 1795600800, 0, 32, "2026-11-25T10:00:00Z"},
    {1, UTC, 1800000000, 0, 32, "2027-01-15T08:00:00Z"},
    {1, UTC, 253402300799, 0, 32, "9999-12-31T23:59:59Z"},
    {1, UTC, -62135596800, 0, 32, "0001-01-01T00:00:00Z"},
    {1, UTC, 0, 0, 11, "1970-01-01"},

    {2, UTC, 1795600800, 0, 64, "Wed 2026-11-25 10:00 UTC"},
    {2, BER, 1795795200, 0, 64, "Fri 2026-11-27 17:00 CET"},
    {2, BER, 1795795230, 0, 64, "Fri 2026-11-27 17:00:30 CET"},
    {2, BER, 1783090800, 0, 64, "Fri 2026-07-03 17:00 CEST"},
    {2, NYC, 1793511000, 0, 64, "Sun 2026-11-01 01:30 EDT"},
    {2, NYC, 1793514600, 0, 64, "Sun 2026-11-01 01:30 EST"},
    {2, BER, 1795795200, 0, 4, "Fri"},

    {3, UTC, NOW_UTC, NOW_UTC, 32, "now"},
    {3, UTC, NOW_UTC + 1, NOW_UTC, 32, "now"},
    {3, UTC, NOW_UTC - 1, NOW_UTC, 32, "now"},
    {3, UTC, NOW_UTC + 2, NOW_UTC, 32, "in 2s"},
    {3, UTC, NOW_UTC + 55, NOW_UTC, 32, "in 55s"},
    {3, UTC, NOW_UTC + 59, NOW_UTC, 32, "in 59s"},
    {3, UTC, NOW_UTC - 20, NOW_UTC, 32, "20s overdue"},
    {3, UTC, NOW_UTC - 59, NOW_UTC, 32, "59s overdue"},
    {3, UTC, NOW_UTC + 60, NOW_UTC, 32, "in 1m"},
    {3, UTC, NOW_UTC + 359, NOW_UTC, 32, "in 5m"},
    {3, UTC, NOW_UTC + 3599, NOW_UTC, 32, "in 59m"},
    {3, UTC, NOW_UTC + 3600, NOW_UTC, 32, "in 1h"},
    {3, UTC, NOW_UTC + 2 * 3600 + 59 * 60, NOW_UTC, 32, "in 2h"},
    {3, UTC, NOW_UTC + 48 * 3600 - 1, NOW_UTC, 32, "in 47h"},
    {3, UTC, NOW_UTC + 48 * 3600, NOW_UTC, 32, "in 2d"},
    {3, UTC, NOW_UTC + 4 * 86400 - 1, NOW_UTC, 32, "in 3d"},
    {3, UTC, NOW_UTC - 60, NOW_UTC, 32, "1m overdue"},
    {3, UTC, NOW_UTC - 45 * 60, NOW_UTC, 32, "45m overdue"},
    {3, UTC, NOW_UTC - 3 * 3600, NOW_UTC, 32, "3h overdue"},
    {3, UTC, NOW_UTC - 3 * 86400, NOW_UTC, 32, "3d overdue"},
    {3, UTC, INT64_MAX, INT64_MIN, 32, "in 213503982334601d"},
    {3, UTC, INT64_MIN, INT64_MAX, 32, "213503982334601d overdue"},
    {3, UTC, NOW_UTC + 7200, NOW_UTC, 5, "in 2"},
    {3, UTC, NOW_UTC - 7200, NOW_UTC, 3, "2h"},
};

static void
test_format(void)
{
	static const char *const what[] = {
	    "duration fmt", "iso_utc", "local", "relative"};
	const struct fmt_case *c;
	char buf[64], in[64];
	size_t i;

	for (i = 0; i < NELEM(fmt_cases); i++) {
		c = &fmt_cases[i];
		nchecks++;
		set_tz(c->tz);
		/* poison, so a missing terminator shows up as a mismatch */
		memset(buf, 'X', sizeof(buf));
		switch (c->kind) {
		case 0:
			timefmt_duration(c->t, buf, c->len);
			break;
		case 1:
			timefmt_iso_utc(c->t, buf, c->len);
			break;
		case 2:
			timefmt_local(c->t, buf, c->len);
			break;
		default:
			timefmt_relative(c->t, c->now, buf, c->len);
			break;
		}
		buf[sizeof(buf) - 1] = '\0';
		(void)snprintf(in, sizeof(in), "%lld (now %lld, len %zu)",
		    (long long)c->t, (long long)c->now, c->len);
		if (strcmp(buf, c->want) != 0)
			fail(what[c->kind], in, c->want, buf);
	}

	/* len 0 must not touch the buffer */
	nchecks++;
	memset(buf, 'X', sizeof(buf));
	timefmt_duration(60, buf, 0);
	timefmt_iso_utc(0, buf, 0);
	timefmt_local(0, buf, 0);
	timefmt_relative(0, 0, buf, 0);
	if (buf[0] != 'X')
		fail("len 0", "all formatters", "untouched", "written");

	/* a time no zone code handles still formats, as UTC */
	nchecks++;
	set_tz(BER);
	timefmt_local(INT64_MAX, buf, sizeof(buf));
	if (strcmp(buf, "292277026596-12-04T15:30:07Z") != 0)
		fail("local", "INT64_MAX", "292277026596-12-04T15:30:07Z", buf);
}

int
main(void)
{
	test_parse();
	test_duration();
	test_duration_list();
	test_format();
	printf("%d cases, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
