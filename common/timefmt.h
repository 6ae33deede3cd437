/* SPDX-License-Identifier: MIT */
/*
 * timefmt.h: parsing and formatting of the times people type and read.
 *
 * All instants are int64_t seconds since the Unix epoch (UTC).  Local time
 * means the process's time zone (TZ, via tzset/localtime_r/mktime), so the
 * client interprets "tomorrow 17:00" in the caller's own zone.
 */
#ifndef PROMISED_TIMEFMT_H
#define PROMISED_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a WHEN expression relative to now.  Accepted forms:
 *   ISO 8601 "2026-11-27T17:00", "2026-11-27 17:00", with optional ":SS" and
 *     an optional offset "Z", "+01:00", "+0100", "-05"; without an offset
 *     it is local time.  A date alone "2026-11-27" means 17:00 local, the
 *     end of a working day, as in "by Friday".
 *   relative "+2h", "+90m", "in 90m", "in 3d", "in 1w", "in 2h30m",
 *     units s, m, h, d, w (also "min", "hour(s)", "day(s)", "week(s)");
 *     d and w count calendar days in local time (same wall-clock time,
 *     correct across DST), s, m and h count elapsed time.
 *   "today 17:00", "tomorrow 17:00", "tomorrow" (17:00), a weekday name or
 *     abbreviation "fri 17:00", "friday" (the next such day strictly after
 *     today, 17:00 if no time), the same with "next" ("next fri 10:00",
 *     "next monday", no different from "fri 10:00" and "monday"), times
 *     "17:00", "5pm", "5:30pm", "17:00:30".
 *   "@1800000000": epoch seconds.
 * Local times that do not exist (spring-forward gap) move forward by the
 * gap; ambiguous ones (fall-back) take the earlier instant.
 * Returns 0 and sets *ret, or -EINVAL and sets *errmsg to a static
 * lower-case message naming the problem.  Does not refuse past times.
 */
int timefmt_parse(
    const char *s, int64_t now, int64_t *ret, const char **errmsg);

/*
 * Local calendar helpers for code that does its own date arithmetic (the
 * business calendar).  A day is a proleptic Gregorian day number, 0 being
 * 1970-01-01; stepping it by one is one local calendar day whatever the
 * DST rules do.  sod is the wall-clock seconds since local midnight.
 */
int64_t timefmt_days_from_civil(int64_t y, int m, int d);
/* the weekday of a day number, 0 = Sunday */
int timefmt_weekday(int64_t day);
void timefmt_civil_from_days(int64_t day, int64_t *y, int *m, int *d);

/*
 * The local date and wall-clock time of instant t, via localtime_r only
 * (no tzset).  Returns 0 or -EINVAL.
 */
int timefmt_local_date(int64_t t, int64_t *day, int64_t *sod);

/*
 * The instant of wall clock sod (0..86400; 86400 is the next midnight) on
 * local day, by the same rules as timefmt_parse: a time in a gap moves
 * forward by the gap, an ambiguous one takes the earlier instant.  Returns
 * 0, or -EINVAL outside years 1..9999 or when the zone cannot say.
 */
int timefmt_local_instant(int64_t day, int64_t sod, int64_t *ret);

/*
 * Parses a duration "90", "90s", "15m", "2h", "1h30m", "3d", "1w" (a bare
 * number is seconds) into seconds >= 0.  Returns 0 or -EINVAL.
 */
int timefmt_parse_duration(const char *s, int64_t *ret);

/*
 * Parses a comma-separated duration list "24h,1h" into at most max entries,
 * sorted descending with duplicates removed.  "" and "none" give 0 entries.
 * Returns the number of entries, or -EINVAL (bad item) / -E2BIG (too many).
 */
int timefmt_parse_duration_list(const char *s, int64_t *ret, size_t max);

/* formats a duration compactly: "1h30m", "3d", "45s", "0s" into buf */
void timefmt_duration(int64_t secs, char *buf, size_t len);

/* "Fri 2026-11-27 17:00 CET" in local time; call tzset() once first */
void timefmt_local(int64_t t, char *buf, size_t len);

/* "2026-11-27T16:00:00Z" */
void timefmt_iso_utc(int64_t t, char *buf, size_t len);

/*
 * "in 55s", "in 2h", "in 3d", "now" (under 2 s either way), "20s overdue",
 * "3d overdue": largest unit, floor
 */
void timefmt_relative(int64_t t, int64_t now, char *buf, size_t len);

#endif
