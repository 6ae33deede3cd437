/* SPDX-License-Identifier: MIT */
/*
 * calendar.h: business hours and holidays, and the deadlines people state
 * in them ("in 2 business days", "eod").
 *
 * Everything is computed in the process's current time zone, read through
 * localtime_r only: the daemon points TZ at a person's zone (and runs
 * tzset) around calls, and nothing here caches the zone or calls tzset.
 * Days are stepped on the local calendar, so a business day keeps its
 * wall-clock hours across DST changes.  An opening or closing time that
 * falls in a DST gap moves forward by the gap, an ambiguous one takes the
 * earlier instant, as in timefmt_parse.
 *
 * Open time is half-open: a day is open from its opening instant up to,
 * not including, its closing instant.  Searches for an opening look at
 * most CAL_SEARCH_DAYS ahead (or back); sums of business time span at most
 * CAL_MAX_DAYS calendar days.  Functions returning an instant give -1 when
 * there is none in reach (no business hours at all, only holidays, or an
 * instant the zone code cannot convert).
 */
#ifndef PROMISED_CALENDAR_H
#define PROMISED_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAL_SEARCH_DAYS 400
#define CAL_MAX_DAYS 3660

struct calendar {
	/*
	 * Business hours per weekday (0 = Sunday) in minutes since local
	 * midnight, 0..1440; open >= close means closed that day.
	 */
	int open_min[7], close_min[7];
	int32_t *holidays; /* sorted, unique, as YYYYMMDD; owned */
	size_t n_holidays, cap_holidays;
};

/* Mon-Fri 09:00-17:00, no holidays */
void calendar_init(struct calendar *c);

/* frees the holidays; NULL-safe, leaves c fit for calendar_init */
void calendar_free(struct calendar *c);

/*
 * Deep copy into dst, whose old contents are not freed.  Returns 0, or
 * -ENOMEM leaving dst as after calendar_init.
 */
int calendar_copy(struct calendar *dst, const struct calendar *src);

/*
 * Replaces the hours: "Mon-Fri 09:00-17:30", "Mon-Thu 09:00-17:30, Fri
 * 09:00-15:00", "Mon,Wed,Fri 08:00-12:00", "Sat-Sun 10:00-14:00" (ranges
 * may wrap past Sunday), or "closed" for none.  Days not named are closed;
 * day names are English, three letters or full, any case; hours are H:MM
 * or HH:MM, close after open, 24:00 allowed as a close.  Returns 0, or
 * -EINVAL with c unchanged and *err a static lower-case message.
 */
int calendar_set_hours(struct calendar *c, const char *spec, const char **err);

/*
 * Adds "2026-12-25, 2026-12-26" (comma- or blank-separated) to the
 * holidays; "" adds none.  All or nothing: returns 0, or -EINVAL with *err
 * set, or -ENOMEM, and then c is unchanged.
 */
int calendar_add_holidays(
    struct calendar *c, const char *list, const char **err);

/*
 * Adds the holidays in a file: one YYYY-MM-DD per line, blank lines and
 * "#" comments (whole-line or trailing) ignored, CRLF and a UTF-8 BOM
 * accepted.  All or nothing: returns 0, or -EINVAL ("PATH:LINE: message"
 * in err), -errno from reading ("PATH: strerror") or -ENOMEM.
 */
int calendar_load_holidays(
    struct calendar *c, const char *path, char *err, size_t errlen);

/* the local date of t has hours and is not a holiday */
bool calendar_is_business_day(const struct calendar *c, int64_t t);

/* t lies within the hours of its business day: open <= t < close */
bool calendar_is_open(const struct calendar *c, int64_t t);

/* the first open moment >= t (t itself if open), or -1 */
int64_t calendar_next_open(const struct calendar *c, int64_t t);

/*
 * t if open, else the latest close at or before t, or -1.  For moving a
 * nudge that would land outside business hours earlier.
 */
int64_t calendar_last_open_before(const struct calendar *c, int64_t t);

/*
 * t plus secs >= 0 of open time: snaps to calendar_next_open, then spends
 * open time day by day; a sum ending exactly on a close is that close.
 * -1 if secs < 0 or it cannot be done within CAL_MAX_DAYS.
 */
int64_t calendar_add_hours(const struct calendar *c, int64_t t, int64_t secs);

/*
 * "In n business days".  If t is open: the same wall-clock time on the
 * nth following business day, kept within that day's hours (a time after
 * its close gives the close, before its opening the opening).  If t is
 * closed: the close of the nth business day counting the day of the next
 * opening as the first (Sat + 1 is Monday's close, Mon 08:00 + 1 is
 * Monday's close).  n == 0 spends no business time, like
 * calendar_add_hours(c, t, 0): t if open, else the next opening.  -1 if
 * n < 0 or no such day lies within CAL_MAX_DAYS.
 */
int64_t calendar_add_days(const struct calendar *c, int64_t t, int64_t n);

/*
 * End of the business day: the close of t's local date if that is a
 * business day and t is before its close, else the next business day's.
 */
int64_t calendar_eod(const struct calendar *c, int64_t t);

/*
 * End of the business week: the close of the last business day of t's
 * week (Monday to Sunday) if it is after t, else that of the next week
 * which has a business day.
 */
int64_t calendar_eow(const struct calendar *c, int64_t t);

/*
 * WHEN with a calendar: "in 2 business days", "in 4 business hours", "in
 * 30 business minutes" (also "1 business day" without "in", as config
 * defaults say it; units day(s), hour(s)/hr(s)/h, minute(s)/min(s)/m),
 * "eod" and "eow", any case.  Anything else goes to timefmt_parse (which,
 * unlike the rest of this module, runs tzset).
 * Returns 0 and sets *ret, or -EINVAL with *err a static lower-case
 * message.
 */
int calendar_parse_when(const struct calendar *c, const char *s, int64_t now,
    int64_t *ret, const char **err);

/* s is a business-calendar expression, for calendar_parse_when only */
bool calendar_when_is_business(const char *s);

/*
 * "Mon-Fri 09:00-17:30, Sat 10:00-14:00": days with equal hours grouped,
 * Monday first, "closed" if none; calendar_set_hours reads it back.
 * Truncates to fit len.
 */
void calendar_format_hours(const struct calendar *c, char *buf, size_t len);

#endif
