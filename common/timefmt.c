/* SPDX-License-Identifier: MIT */
/*
 * timefmt.c: the times people type ("tomorrow 17:00", "in 2h", ISO 8601)
 * into epoch seconds, and epoch seconds back into text for people.
 *
 * Calendar arithmetic is done by hand on proleptic Gregorian day numbers so
 * it cannot overflow or fail; the time zone is consulted only through
 * localtime_r, and local wall-clock times are mapped to instants by probing
 * the zone's offsets instead of trusting mktime's tm_isdst guess.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"
#include "timefmt_impl.h"
#include "util.h"

#define SECS_PER_MIN 60
#define SECS_PER_HOUR 3600
#define SECS_PER_DAY 86400

/*
 * Every instant the parsers accept lies in years 0001..9999 UTC, so four
 * digit years suffice and sums of two in-range values cannot overflow.
 */
#define TF_TIME_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TF_TIME_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */
/* No duration is longer than the whole range; now + it stays in int64_t. */
#define TF_DUR_MAX (TF_TIME_MAX - TF_TIME_MIN)

/* the working day ends at 17:00, the default for a date without a time */
#define DEFAULT_SOD (17 * SECS_PER_HOUR)

/* a span of the input, [p, end); all parsers advance p */
struct span {
	const char *p;
	const char *end;
};

/* relative amounts: calendar days, and elapsed seconds */
struct reltime {
	int64_t days;
	int64_t secs;
};

static void
span_init(struct span *sp, const char *s)
{
	sp->p = s;
	sp->end = s + strlen(s);
	while (sp->p < sp->end && ascii_space(*sp->p))
		sp->p++;
	while (sp->end > sp->p && ascii_space(sp->end[-1]))
		sp->end--;
}

static bool
span_done(const struct span *sp)
{
	return sp->p >= sp->end;
}

static size_t
skip_space(struct span *sp)
{
	const char *start = sp->p;

	while (sp->p < sp->end && ascii_space(*sp->p))
		sp->p++;
	return (size_t)(sp->p - start);
}

/* length of the run of letters at p, without consuming it */
static size_t
word_len(const struct span *sp)
{
	const char *q = sp->p;

	while (q < sp->end && ascii_alpha(*q))
		q++;
	return (size_t)(q - sp->p);
}

static size_t
digit_len(const struct span *sp)
{
	const char *q = sp->p;

	while (q < sp->end && ascii_digit(*q))
		q++;
	return (size_t)(q - sp->p);
}

/*
 * Consumes exactly n digits (n <= 4, so no overflow) and fails if more
 * digits follow, so "17:000" is not read as 17:00 plus garbage.
 */
static bool
take_digits(struct span *sp, size_t n, int *ret)
{
	size_t i;
	int v = 0;

	if (digit_len(sp) != n)
		return false;
	for (i = 0; i < n; i++)
		v = v * 10 + (sp->p[i] - '0');
	sp->p += n;
	*ret = v;
	return true;
}

/*
 * Consumes a run of digits as a non-negative number.  Values above
 * TF_DUR_MAX are useless to every caller, so they report overflow while
 * the rest of the run is still consumed.
 */
static int
take_number(struct span *sp, int64_t *ret, bool *big)
{
	int64_t v = 0;

	if (span_done(sp) || !ascii_digit(*sp->p))
		return -EINVAL;
	*big = false;
	for (; sp->p < sp->end && ascii_digit(*sp->p); sp->p++) {
		if (v > TF_DUR_MAX) {
			*big = true;
			continue;
		}
		v = v * 10 + (*sp->p - '0');
	}
	if (v > TF_DUR_MAX)
		*big = true;
	*ret = v;
	return 0;
}

/*
 * Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic
 * Gregorian calendar.  Callers keep y within +-10^12, far from overflow.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* the inverse; valid for every int64_t day count an int64_t time yields */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/*
 * Local wall-clock fields of instant t.  Conversion to time_t is checked
 * because time_t may be narrower than int64_t on some platforms.
 */
int
timefmt_local_tm(int64_t t, struct tm *tm)
{
	time_t tt = (time_t)t;

	if ((int64_t)tt != t || localtime_r(&tt, tm) == NULL)
		return -EINVAL;
	return 0;
}

/* wall clock of a struct tm as seconds on the "as if UTC" civil scale */
static int64_t
tm_civil(const struct tm *tm)
{
	return days_from_civil(
	           (int64_t)tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday) *
	    SECS_PER_DAY +
	    (int64_t)tm->tm_hour * SECS_PER_HOUR +
	    (int64_t)tm->tm_min * SECS_PER_MIN + tm->tm_sec;
}

/* local wall clock of instant t on the civil scale: t plus the UTC offset */
static int
local_civil(int64_t t, int64_t *ret)
{
	struct tm tm;

	if (timefmt_local_tm(t, &tm) != 0)
		return -EINVAL;
	*ret = tm_civil(&tm);
	return 0;
}

static void
add_offset(int64_t *offs, size_t *n, size_t max, int64_t off)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (offs[i] == off)
			return;
	if (*n < max)
		offs[(*n)++] = off;
}

/*
 * Maps local wall-clock time w (civil seconds) to an instant.  Rather than
 * rely on mktime's tm_isdst guess, which differs between libcs and breaks
 * on zones with negative DST (Europe/Dublin) or offset changes without a
 * DST flip (Pacific/Apia 2011), collect the UTC offsets in force within
 * two days either side and try w minus each of them:
 *  - candidates whose local time is w round-trip; if two do, w is
 *    ambiguous (fall-back) and the earlier instant wins;
 *  - if none does, w falls in a gap (spring-forward), and the earliest
 *    candidate whose local time lies after w is w read with the offset
 *    from before the gap, i.e. w moved forward by the gap's length.
 */
static int
local_resolve(int64_t w, int64_t *ret)
{
	static const int64_t probe[] = {-2 * SECS_PER_DAY, -SECS_PER_DAY, 0,
	    SECS_PER_DAY, 2 * SECS_PER_DAY};
	int64_t offs[16], lc, t, best_ok = 0, best_after = 0;
	bool have_ok = false, have_after = false;
	size_t i, n = 0, nprobe;

	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		if (local_civil(w + probe[i], &lc) == 0)
			add_offset(offs, &n, 16, lc - (w + probe[i]));
	/* the offsets at the candidates themselves catch short-lived rules */
	nprobe = n;
	for (i = 0; i < nprobe; i++)
		if (local_civil(w - offs[i], &lc) == 0)
			add_offset(offs, &n, 16, lc - (w - offs[i]));

	for (i = 0; i < n; i++) {
		t = w - offs[i];
		if (local_civil(t, &lc) != 0)
			continue;
		if (lc == w && (!have_ok || t < best_ok)) {
			best_ok = t;
			have_ok = true;
		} else if (lc > w && (!have_after || t < best_after)) {
			best_after = t;
			have_after = true;
		}
	}
	if (have_ok)
		*ret = best_ok;
	else if (have_after)
		*ret = best_after;
	else
		return -EINVAL;
	return 0;
}

/* resolves local day number day at second-of-day sod and checks the range */
static int
local_day_time(int64_t day, int64_t sod, int64_t *ret, const char **errmsg)
{
	int64_t t;

	if (local_resolve(day * SECS_PER_DAY + sod, &t) != 0) {
		*errmsg = "cannot convert local time";
		return -EINVAL;
	}
	if (t < TF_TIME_MIN || t > TF_TIME_MAX) {
		*errmsg = "time out of range";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

int64_t
timefmt_days_from_civil(int64_t y, int m, int d)
{
	return days_from_civil(y, m, d);
}

void
timefmt_civil_from_days(int64_t day, int64_t *y, int *m, int *d)
{
	civil_from_days(day, y, m, d);
}

int
timefmt_weekday(int64_t day)
{
	/* day 0, 1970-01-01, was a Thursday */
	int64_t w = (day + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int
timefmt_local_date(int64_t t, int64_t *day, int64_t *sod)
{
	struct tm tm;
	int64_t d;

	if (timefmt_local_tm(t, &tm) != 0)
		return -EINVAL;
	d = days_from_civil(
	    (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	*day = d;
	*sod = tm_civil(&tm) - d * SECS_PER_DAY;
	return 0;
}

int
timefmt_local_instant(int64_t day, int64_t sod, int64_t *ret)
{
	const char *msg;

	/* day * SECS_PER_DAY below must not overflow */
	if (day < TF_TIME_MIN / SECS_PER_DAY - 2 ||
	    day > TF_TIME_MAX / SECS_PER_DAY + 2 || sod < 0 ||
	    sod > SECS_PER_DAY)
		return -EINVAL;
	return local_day_time(day, sod, ret, &msg);
}

/*
 * Units of relative times and durations.  Days and weeks are kept apart
 * from seconds so that WHEN expressions can count them on the calendar.
 */
struct unit {
	const char *name;
	int64_t secs; /* 0 for calendar units */
	int64_t days;
};

static const struct unit units[] = {
    {"s", 1, 0},
    {"sec", 1, 0},
    {"secs", 1, 0},
    {"second", 1, 0},
    {"seconds", 1, 0},
    {"m", SECS_PER_MIN, 0},
    {"min", SECS_PER_MIN, 0},
    {"mins", SECS_PER_MIN, 0},
    {"minute", SECS_PER_MIN, 0},
    {"minutes", SECS_PER_MIN, 0},
    {"h", SECS_PER_HOUR, 0},
    {"hr", SECS_PER_HOUR, 0},
    {"hrs", SECS_PER_HOUR, 0},
    {"hour", SECS_PER_HOUR, 0},
    {"hours", SECS_PER_HOUR, 0},
    {"d", 0, 1},
    {"day", 0, 1},
    {"days", 0, 1},
    {"w", 0, 7},
    {"wk", 0, 7},
    {"wks", 0, 7},
    {"week", 0, 7},
    {"weeks", 0, 7},
};

/*
 * Parses one or more "<number>[ ]<unit>" terms, optionally separated by
 * blanks, up to the end of sp.  With allow_bare, a lone number with no
 * unit is seconds.  Each sum stays <= TF_DUR_MAX (days in day units).
 */
static int
parse_reltime(
    struct span *sp, bool allow_bare, struct reltime *rt, const char **errmsg)
{
	const struct unit *u;
	int64_t n, amount, limit;
	size_t i, wl;
	bool big, first = true;

	rt->days = 0;
	rt->secs = 0;
	if (span_done(sp)) {
		*errmsg = "missing relative time";
		return -EINVAL;
	}
	while (!span_done(sp)) {
		if (take_number(sp, &n, &big) != 0) {
			*errmsg = "bad relative time";
			return -EINVAL;
		}
		skip_space(sp);
		wl = word_len(sp);
		if (wl == 0) {
			if (allow_bare && first && span_done(sp) && !big) {
				rt->secs = n;
				return 0;
			}
			*errmsg = span_done(sp) || ascii_digit(*sp->p)
			    ? "missing unit in relative time"
			    : "bad relative time";
			return -EINVAL;
		}
		u = NULL;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (ascii_word_is(sp->p, wl, units[i].name))
				u = &units[i];
		if (u == NULL) {
			*errmsg = "unknown unit in relative time";
			return -EINVAL;
		}
		sp->p += wl;
		if (u->secs != 0) {
			limit = TF_DUR_MAX - rt->secs;
			if (big || n > limit / u->secs) {
				*errmsg = "relative time out of range";
				return -EINVAL;
			}
			rt->secs += n * u->secs;
		} else {
			amount = TF_DUR_MAX / SECS_PER_DAY - rt->days;
			if (big || n > amount / u->days) {
				*errmsg = "relative time out of range";
				return -EINVAL;
			}
			rt->days += n * u->days;
		}
		first = false;
		skip_space(sp);
	}
	return 0;
}

/*
 * Time of day: "17:00", "17:00:30", "5pm", "5:30pm", "5 pm", "12am".
 * Stores seconds since midnight.  A blank and a following word other than
 * am/pm are left unconsumed for the caller (an offset such as "Z").
 */
static int
parse_tod(struct span *sp, int64_t *sod, const char **errmsg)
{
	struct span save;
	size_t hl, wl;
	int h = 0, m = 0, s = 0;
	bool colon = false, am = false, pm = false;

	hl = digit_len(sp);
	if (hl == 0) {
		*errmsg = "bad time of day";
		return -EINVAL;
	}
	if (hl > 2 || !take_digits(sp, hl, &h)) {
		*errmsg = "bad hour in time of day";
		return -EINVAL;
	}
	if (!span_done(sp) && *sp->p == ':') {
		sp->p++;
		colon = true;
		if (!take_digits(sp, 2, &m) || m > 59) {
			*errmsg = "bad minute in time of day";
			return -EINVAL;
		}
		if (!span_done(sp) && *sp->p == ':') {
			sp->p++;
			if (!take_digits(sp, 2, &s) || s > 59) {
				*errmsg = "bad second in time of day";
				return -EINVAL;
			}
		}
	}
	save = *sp;
	skip_space(sp);
	wl = word_len(sp);
	if (ascii_word_is(sp->p, wl, "am"))
		am = true;
	else if (ascii_word_is(sp->p, wl, "pm"))
		pm = true;
	if (am || pm)
		sp->p += wl;
	else
		*sp = save;

	if (!colon && !am && !pm) {
		*errmsg = "bad time of day";
		return -EINVAL;
	}
	if (am || pm) {
		/* 12am is midnight and 12pm noon; 0am and 13pm mean nothing */
		if (h < 1 || h > 12) {
			*errmsg = "bad hour in time of day";
			return -EINVAL;
		}
		h = h % 12 + (pm ? 12 : 0);
	} else if (h > 23) {
		*errmsg = "bad hour in time of day";
		return -EINVAL;
	}
	*sod = (int64_t)h * SECS_PER_HOUR + (int64_t)m * SECS_PER_MIN + s;
	return 0;
}

/* "Z", "+01:00", "+0100", "-05": seconds east of UTC */
static int
parse_offset(struct span *sp, int64_t *off, const char **errmsg)
{
	const char *q;
	int sign, h, m = 0;

	if (ascii_lower(*sp->p) == 'z' && word_len(sp) == 1) {
		sp->p++;
		*off = 0;
		return 0;
	}
	if (*sp->p != '+' && *sp->p != '-')
		goto bad;
	sign = *sp->p == '-' ? -1 : 1;
	sp->p++;
	if (digit_len(sp) == 4) {
		/* "+0100": take_digits wants a whole run, so read by hand */
		q = sp->p;
		h = (q[0] - '0') * 10 + (q[1] - '0');
		m = (q[2] - '0') * 10 + (q[3] - '0');
		sp->p += 4;
	} else if (take_digits(sp, 2, &h)) {
		if (!span_done(sp) && *sp->p == ':') {
			sp->p++;
			if (!take_digits(sp, 2, &m))
				goto bad;
		}
	} else
		goto bad;
	if (h > 23 || m > 59)
		goto bad;
	*off = sign * ((int64_t)h * SECS_PER_HOUR + (int64_t)m * SECS_PER_MIN);
	return 0;
bad:
	*errmsg = "bad time zone offset";
	return -EINVAL;
}

/* "2026-11-27", "2026-11-27T17:00", "2026-11-27 5pm +01:00", ... */
static int
parse_iso(struct span *sp, int64_t *ret, const char **errmsg)
{
	int y, mo, d;
	int64_t day, sod = DEFAULT_SOD, off, t;

	if (!take_digits(sp, 4, &y) || span_done(sp) || *sp->p++ != '-' ||
	    !take_digits(sp, 2, &mo) || span_done(sp) || *sp->p++ != '-' ||
	    !take_digits(sp, 2, &d) || y < 1 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo)) {
		*errmsg = "bad date";
		return -EINVAL;
	}
	day = days_from_civil(y, mo, d);
	if (span_done(sp))
		return local_day_time(day, sod, ret, errmsg);

	if (ascii_lower(*sp->p) == 't')
		sp->p++;
	else if (skip_space(sp) == 0) {
		*errmsg = "bad date";
		return -EINVAL;
	}
	if (parse_tod(sp, &sod, errmsg) != 0)
		return -EINVAL;
	skip_space(sp);
	if (span_done(sp))
		return local_day_time(day, sod, ret, errmsg);

	if (parse_offset(sp, &off, errmsg) != 0)
		return -EINVAL;
	/* both terms are small (years 1..9999, |off| < 1 day) */
	t = day * SECS_PER_DAY + sod - off;
	if (t < TF_TIME_MIN || t > TF_TIME_MAX) {
		*errmsg = "time out of range";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/* "+2h", "in 3d": days on the local calendar first, then elapsed time */
static int
parse_relative(struct span *sp, int64_t now, int64_t *ret, const char **errmsg)
{
	struct reltime rt;
	struct tm tm;
	int64_t t = now, today, sod;

	if (parse_reltime(sp, false, &rt, errmsg) != 0)
		return -EINVAL;
	/*
	 * Without days, skip the calendar: re-resolving now's own wall clock
	 * would move a now inside a fall-back hour to its earlier copy.
	 */
	if (rt.days != 0) {
		if (timefmt_local_tm(now, &tm) != 0) {
			*errmsg = "cannot convert local time";
			return -EINVAL;
		}
		today = days_from_civil(
		    (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		sod = tm_civil(&tm) - today * SECS_PER_DAY;
		/* rt.days is bounded by the range, so the day stays small */
		if (local_day_time(today + rt.days, sod, &t, errmsg) != 0)
			return -EINVAL;
	}
	/* t and rt.secs are both bounded by the range: no overflow */
	t += rt.secs;
	if (t > TF_TIME_MAX) {
		*errmsg = "time out of range";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/*
 * "today", "tomorrow" or a weekday, then optionally "[at] TIME".  delta is
 * the day relative to today, -1 for a weekday given in wday (today if the
 * time is still ahead, as at(1) and date -d read it), or -2 for "next"
 * and a weekday, which always skips today.
 */
static int
parse_dayword(struct span *sp, int64_t now, int delta, int wday, int64_t *ret,
    const char **errmsg)
{
	struct tm tm;
	int64_t today, t, sod = DEFAULT_SOD;
	bool strict = delta == -2;
	size_t wl;

	if (!span_done(sp)) {
		if (skip_space(sp) == 0) {
			*errmsg = "unknown time expression";
			return -EINVAL;
		}
		wl = word_len(sp);
		if (ascii_word_is(sp->p, wl, "at")) {
			sp->p += wl;
			skip_space(sp);
		}
		if (parse_tod(sp, &sod, errmsg) != 0)
			return -EINVAL;
	}
	if (timefmt_local_tm(now, &tm) != 0) {
		*errmsg = "cannot convert local time";
		return -EINVAL;
	}
	today = days_from_civil(
	    (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (delta < 0) {
		delta = (wday - tm.tm_wday + 7) % 7;
		if (delta == 0 && !strict) {
			/* "fri 17:00" typed on a Friday at 14:46 is today */
			if (local_day_time(today, sod, &t, errmsg) != 0)
				return -EINVAL;
			if (t > now) {
				*ret = t;
				return 0;
			}
		}
		if (delta == 0)
			delta = 7;
	}
	return local_day_time(today + delta, sod, ret, errmsg);
}

/*
 * A bare time "17:00" or "5pm" is its next occurrence: today if still
 * ahead, else tomorrow, as at(1) reads it.  "today 17:00" stays today.
 */
static int
parse_bare_time(struct span *sp, int64_t now, int64_t *ret, const char **errmsg)
{
	struct tm tm;
	int64_t today, sod, t;

	if (parse_tod(sp, &sod, errmsg) != 0)
		return -EINVAL;
	if (timefmt_local_tm(now, &tm) != 0) {
		*errmsg = "cannot convert local time";
		return -EINVAL;
	}
	today = days_from_civil(
	    (int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (local_day_time(today, sod, &t, errmsg) != 0)
		return -EINVAL;
	if (t <= now && local_day_time(today + 1, sod, &t, errmsg) != 0)
		return -EINVAL;
	*ret = t;
	return 0;
}

static int
parse_epoch(struct span *sp, int64_t *ret, const char **errmsg)
{
	int64_t v;
	bool big;

	if (take_number(sp, &v, &big) != 0) {
		*errmsg = "bad epoch time";
		return -EINVAL;
	}
	if (big || v > TF_TIME_MAX) {
		*errmsg = "time out of range";
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static const struct {
	const char *name;
	int wday;
} wdays[] = {
    {"sun", 0},
    {"sunday", 0},
    {"mon", 1},
    {"monday", 1},
    {"tue", 2},
    {"tues", 2},
    {"tuesday", 2},
    {"wed", 3},
    {"wednesday", 3},
    {"thu", 4},
    {"thur", 4},
    {"thurs", 4},
    {"thursday", 4},
    {"fri", 5},
    {"friday", 5},
    {"sat", 6},
    {"saturday", 6},
};

/* the weekday (0 = Sunday) named by w[0..n), or -1 */
static int
find_wday(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(wdays) / sizeof(wdays[0]); i++)
		if (ascii_word_is(w, n, wdays[i].name))
			return wdays[i].wday;
	return -1;
}

int
timefmt_parse(const char *s, int64_t now, int64_t *ret, const char **errmsg)
{
	struct span sp;
	const char *dummy;
	int64_t t = 0;
	size_t wl;
	int r, wday;

	if (errmsg == NULL)
		errmsg = &dummy;
	if (s == NULL || ret == NULL) {
		*errmsg = "missing time expression";
		return -EINVAL;
	}
	if (now < TF_TIME_MIN || now > TF_TIME_MAX) {
		*errmsg = "current time out of range";
		return -EINVAL;
	}
	/* localtime_r need not notice a changed TZ; tzset makes it */
	tzset();
	span_init(&sp, s);
	if (span_done(&sp)) {
		*errmsg = "empty time expression";
		return -EINVAL;
	}

	wl = word_len(&sp);
	if (*sp.p == '@') {
		sp.p++;
		r = parse_epoch(&sp, &t, errmsg);
	} else if (*sp.p == '+') {
		sp.p++;
		skip_space(&sp);
		r = parse_relative(&sp, now, &t, errmsg);
	} else if (ascii_word_is(sp.p, wl, "in")) {
		sp.p += wl;
		skip_space(&sp);
		r = parse_relative(&sp, now, &t, errmsg);
	} else if (ascii_word_is(sp.p, wl, "now")) {
		sp.p += wl;
		t = now;
		r = 0;
	} else if (ascii_word_is(sp.p, wl, "today")) {
		sp.p += wl;
		r = parse_dayword(&sp, now, 0, 0, &t, errmsg);
	} else if (ascii_word_is(sp.p, wl, "tomorrow")) {
		sp.p += wl;
		r = parse_dayword(&sp, now, 1, 0, &t, errmsg);
	} else if (ascii_word_is(sp.p, wl, "next")) {
		/* "next fri" never means today, whatever the time */
		sp.p += wl;
		wl = skip_space(&sp) > 0 ? word_len(&sp) : 0;
		wday = find_wday(sp.p, wl);
		if (wday < 0) {
			*errmsg = "expected a weekday after next";
			return -EINVAL;
		}
		sp.p += wl;
		r = parse_dayword(&sp, now, -2, wday, &t, errmsg);
	} else if (wl > 0) {
		wday = find_wday(sp.p, wl);
		if (wday < 0) {
			*errmsg = "unknown time expression";
			return -EINVAL;
		}
		sp.p += wl;
		r = parse_dayword(&sp, now, -1, wday, &t, errmsg);
	} else if (digit_len(&sp) == 4 && sp.p + 4 < sp.end && sp.p[4] == '-') {
		r = parse_iso(&sp, &t, errmsg);
	} else if (digit_len(&sp) >= 1 && digit_len(&sp) <= 2) {
		r = parse_bare_time(&sp, now, &t, errmsg);
	} else {
		*errmsg = "unknown time expression";
		return -EINVAL;
	}
	if (r != 0)
		return r;
	if (!span_done(&sp)) {
		*errmsg = "unexpected text after time expression";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

/* duration in [p, end), already trimmed; days here are 86400 s */
static int
parse_duration_span(struct span *sp, int64_t *ret)
{
	struct reltime rt;
	const char *msg;

	if (parse_reltime(sp, true, &rt, &msg) != 0)
		return -EINVAL;
	if (rt.days > (TF_DUR_MAX - rt.secs) / SECS_PER_DAY)
		return -EINVAL;
	*ret = rt.days * SECS_PER_DAY + rt.secs;
	return 0;
}

int
timefmt_parse_duration(const char *s, int64_t *ret)
{
	struct span sp;

	if (s == NULL || ret == NULL)
		return -EINVAL;
	span_init(&sp, s);
	return parse_duration_span(&sp, ret);
}

/*
 * Items are inserted in place, keeping ret sorted descending and unique,
 * so no scratch space is needed and max counts distinct values.  A bad
 * item anywhere wins over "too many"; on error ret holds partial results.
 */
int
timefmt_parse_duration_list(const char *s, int64_t *ret, size_t max)
{
	struct span all, item;
	const char *comma;
	int64_t v;
	size_t n = 0, i, j;
	bool too_many = false;

	if (s == NULL)
		return -EINVAL;
	span_init(&all, s);
	if (span_done(&all) ||
	    ascii_word_is(all.p, (size_t)(all.end - all.p), "none"))
		return 0;
	if (max > INT_MAX)
		max = INT_MAX;
	for (;;) {
		comma = memchr(all.p, ',', (size_t)(all.end - all.p));
		item.p = all.p;
		item.end = comma != NULL ? comma : all.end;
		skip_space(&item);
		while (item.end > item.p && ascii_space(item.end[-1]))
			item.end--;
		if (parse_duration_span(&item, &v) != 0)
			return -EINVAL;
		for (i = 0; i < n && ret[i] > v; i++)
			;
		if (i == n || ret[i] != v) {
			if (n == max) {
				too_many = true;
			} else {
				for (j = n; j > i; j--)
					ret[j] = ret[j - 1];
				ret[i] = v;
				n++;
			}
		}
		if (comma == NULL)
			break;
		all.p = comma + 1;
	}
	return too_many ? -E2BIG : (int)n;
}
