/* SPDX-License-Identifier: MIT */
/*
 * timefmt_show.c: epoch seconds back into text for people: durations,
 * local times, ISO 8601 in UTC, and "in 2h" / "3d overdue".
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "timefmt.h"
#include "timefmt_impl.h"

#define SECS_PER_MIN 60
#define SECS_PER_HOUR 3600
#define SECS_PER_DAY 86400

static const char *const wday_abbr[7] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* floor division, so instants before 1970 land on the right day */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void
timefmt_duration(int64_t secs, char *buf, size_t len)
{
	char tmp[64];
	uint64_t mag, d, h, m, s;
	size_t pos = 0;

	if (buf == NULL || len == 0)
		return;
	/* unsigned negation keeps INT64_MIN well defined */
	mag = secs < 0 ? 0 - (uint64_t)secs : (uint64_t)secs;
	d = mag / SECS_PER_DAY;
	h = mag % SECS_PER_DAY / SECS_PER_HOUR;
	m = mag % SECS_PER_HOUR / SECS_PER_MIN;
	s = mag % SECS_PER_MIN;
	/* tmp fits "-" plus every unit of the largest magnitude */
	if (secs < 0)
		tmp[pos++] = '-';
	tmp[pos] = '\0';
	if (d != 0)
		pos += (size_t)snprintf(tmp + pos, sizeof(tmp) - pos, "%llud",
		    (unsigned long long)d);
	if (h != 0)
		pos += (size_t)snprintf(tmp + pos, sizeof(tmp) - pos, "%lluh",
		    (unsigned long long)h);
	if (m != 0)
		pos += (size_t)snprintf(tmp + pos, sizeof(tmp) - pos, "%llum",
		    (unsigned long long)m);
	if (s != 0 || mag == 0)
		(void)snprintf(tmp + pos, sizeof(tmp) - pos, "%llus",
		    (unsigned long long)s);
	(void)snprintf(buf, len, "%s", tmp);
}

void
timefmt_local(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	char zone[64], sec[16] = "";

	if (buf == NULL || len == 0)
		return;
	/* no tzset() here: a table of thousands of rows would re-read the
	 * zone file for each; timefmt_parse or the caller has run it */
	if (timefmt_local_tm(t, &tm) != 0 || tm.tm_wday < 0 || tm.tm_wday > 6) {
		/* beyond what the zone code handles: UTC is still exact */
		timefmt_iso_utc(t, buf, len);
		return;
	}
	/* %Z, not tm_zone: it is standard; strftime returns 0 on failure */
	if (strftime(zone, sizeof(zone), " %Z", &tm) <= 1)
		zone[0] = '\0';
	/* reminders are set to the minute; show seconds only when they exist */
	if (tm.tm_sec != 0)
		(void)snprintf(sec, sizeof(sec), ":%02d", tm.tm_sec);
	/* own weekday table: %a follows the locale, our output should not */
	(void)snprintf(buf, len, "%s %04lld-%02d-%02d %02d:%02d%s%s",
	    wday_abbr[tm.tm_wday], (long long)tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, sec, zone);
}

void
timefmt_iso_utc(int64_t t, char *buf, size_t len)
{
	int64_t day, sod, y;
	int m, d;

	if (buf == NULL || len == 0)
		return;
	day = floor_div(t, SECS_PER_DAY);
	sod = t - day * SECS_PER_DAY;
	timefmt_civil_from_days(day, &y, &m, &d);
	(void)snprintf(buf, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
	    (long long)y, m, d, (int)(sod / SECS_PER_HOUR),
	    (int)(sod % SECS_PER_HOUR / SECS_PER_MIN),
	    (int)(sod % SECS_PER_MIN));
}

void
timefmt_relative(int64_t t, int64_t now, char *buf, size_t len)
{
	uint64_t mag, v;
	const char *unit;
	bool future = t >= now;

	if (buf == NULL || len == 0)
		return;
	/* the true difference always fits in uint64_t; wraparound gives it */
	mag =
	    future ? (uint64_t)t - (uint64_t)now : (uint64_t)now - (uint64_t)t;
	/* "now" only while the moment is here: 55 s is worth waiting for */
	if (mag < 2) {
		(void)snprintf(buf, len, "now");
		return;
	}
	if (mag < SECS_PER_MIN) {
		v = mag;
		unit = "s";
	} else if (mag < SECS_PER_HOUR) {
		v = mag / SECS_PER_MIN;
		unit = "m";
	} else if (mag < 48 * SECS_PER_HOUR) {
		v = mag / SECS_PER_HOUR;
		unit = "h";
	} else {
		v = mag / SECS_PER_DAY;
		unit = "d";
	}
	if (future)
		(void)snprintf(
		    buf, len, "in %llu%s", (unsigned long long)v, unit);
	else
		(void)snprintf(
		    buf, len, "%llu%s overdue", (unsigned long long)v, unit);
}
