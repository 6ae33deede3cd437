/* SPDX-License-Identifier: MIT */
/*
 * test_calendar.c: checks of common/calendar.c.
 *
 * Each group of checks fixes its own time zone (setenv + tzset), so the
 * results do not depend on the machine's zone or clock.  Expected instants
 * are written as local wall-clock times and converted with mktime, not by
 * the code under test; they avoid DST gaps and folds, where mktime's
 * reading varies, except where a comment derives the instant by hand.
 * Prints each failing check and exits non-zero if any failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "check.h"
#include "timefmt.h"

#define UTC "UTC"
#define BER "Europe/Berlin"
#define NYC "America/New_York"
#define LAX "America/Los_Angeles"

#define HOUR 3600
#define DAY 86400

/* "YYYY-MM-DD HH:MM[:SS]" read as local time in the current zone */
static int64_t
lt(const char *s)
{
	struct tm tm;
	time_t t;
	int sec = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	        &tm.tm_hour, &tm.tm_min, &sec) < 5) {
		fprintf(stderr, "bad test time '%s'\n", s);
		exit(2);
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1) {
		fprintf(stderr, "mktime failed for '%s'\n", s);
		exit(2);
	}
	return (int64_t)t;
}

/* "Mon 2026-11-30 09:00:00 CET" or "none" for -1 */
static void
show(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == -1) {
		(void)snprintf(buf, len, "none");
		return;
	}
	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		(void)snprintf(buf, len, "@%lld", (long long)t);
}

/* got must be the instant of local time want, or -1 when want is NULL */
static void
check_t(int64_t got, const char *want, int line, const char *expr)
{
	char g[64], w[64];
	int64_t wt = want != NULL ? lt(want) : -1;

	nchecks++;
	if (got == wt)
		return;
	nfailed++;
	show(got, g, sizeof(g));
	show(wt, w, sizeof(w));
	printf("FAIL line %d: %s: expected %s, got %s\n", line, expr, w, g);
}

static void
check_i(int64_t got, int64_t want, int line, const char *expr)
{
	char g[64], w[64];

	nchecks++;
	if (got == want)
		return;
	nfailed++;
	show(got, g, sizeof(g));
	show(want, w, sizeof(w));
	printf("FAIL line %d: %s: expected %s, got %s\n", line, expr, w, g);
}

static void
check_s(const char *got, const char *want, int line, const char *expr)
{
	nchecks++;
	if (got != NULL && strcmp(got, want) == 0)
		return;
	nfailed++;
	printf("FAIL line %d: %s: expected '%s', got '%s'\n", line, expr, want,
	    got != NULL ? got : "(null)");
}

#define CHECK_T(got, want) check_t((got), (want), __LINE__, #got)
#define CHECK_I(got, want) check_i((got), (want), __LINE__, #got)
#define CHECK_S(got, want) check_s((got), (want), __LINE__, #got)

static void
set_hours(struct calendar *c, const char *spec)
{
	const char *err = NULL;

	if (calendar_set_hours(c, spec, &err) != 0) {
		fprintf(stderr, "cannot set hours '%s': %s\n", spec, err);
		exit(2);
	}
}

static void
add_holidays(struct calendar *c, const char *list)
{
	const char *err = NULL;

	if (calendar_add_holidays(c, list, &err) != 0) {
		fprintf(stderr, "cannot add holidays '%s': %s\n", list, err);
		exit(2);
	}
}

/* the hours of weekday wd as "HH:MM-HH:MM" or "closed" */
static const char *
day_hours(const struct calendar *c, int wd, char *buf, size_t len)
{
	if (c->open_min[wd] >= c->close_min[wd])
		(void)snprintf(buf, len, "closed");
	else
		(void)snprintf(buf, len, "%02d:%02d-%02d:%02d",
		    c->open_min[wd] / 60, c->open_min[wd] % 60,
		    c->close_min[wd] / 60, c->close_min[wd] % 60);
	return buf;
}

/* want: the hours of Sunday to Saturday, "" for closed */
static void
check_hours(const struct calendar *c, const char *const want[7], int line,
    const char *spec)
{
	char buf[32], what[160];
	int i;

	for (i = 0; i < 7; i++) {
		day_hours(c, i, buf, sizeof(buf));
		(void)snprintf(
		    what, sizeof(what), "hours '%s' day %d", spec, i);
		check_s(
		    buf, want[i][0] != '\0' ? want[i] : "closed", line, what);
	}
}

struct hours_case {
	const char *spec;
	const char *want[7]; /* Sunday first */
	const char *fmt;     /* calendar_format_hours */
};

static const struct hours_case hours_cases[] = {
    {"Mon-Fri 09:00-17:30",
        {"", "09:00-17:30", "09:00-17:30", "09:00-17:30", "09:00-17:30",
            "09:00-17:30", ""},
        "Mon-Fri 09:00-17:30"},
    {"Mon-Thu 09:00-17:30, Fri 09:00-15:00",
        {"", "09:00-17:30", "09:00-17:30", "09:00-17:30", "09:00-17:30",
            "09:00-15:00", ""},
        "Mon-Thu 09:00-17:30, Fri 09:00-15:00"},
    {"Mon,Wed,Fri 08:00-12:00",
        {"", "08:00-12:00", "", "08:00-12:00", "", "08:00-12:00", ""},
        "Mon,Wed,Fri 08:00-12:00"},
    {"Sat 10:00-14:00", {"", "", "", "", "", "", "10:00-14:00"},
        "Sat 10:00-14:00"},
    {" saturday 10:00-14:00 ", {"", "", "", "", "", "", "10:00-14:00"},
        "Sat 10:00-14:00"},
    {"MONDAY-friday 9:00-17:00",
        {"", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00",
            "09:00-17:00", ""},
        "Mon-Fri 09:00-17:00"},
    {"Mon - Fri 09:00 - 17:00 ,Sat 10:00-14:00",
        {"", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00",
            "09:00-17:00", "10:00-14:00"},
        "Mon-Fri 09:00-17:00, Sat 10:00-14:00"},
    {"Fri-Mon 10:00-24:00",
        {"10:00-24:00", "10:00-24:00", "", "", "", "10:00-24:00",
            "10:00-24:00"},
        "Mon,Fri-Sun 10:00-24:00"},
    {"sun-thu 08:00-16:00",
        {"08:00-16:00", "08:00-16:00", "08:00-16:00", "08:00-16:00",
            "08:00-16:00", "", ""},
        "Mon-Thu,Sun 08:00-16:00"},
    {"Mon 00:00-24:00 Tue,Thu 07:30-12:00 Wed 07:30-12:00",
        {"", "00:00-24:00", "07:30-12:00", "07:30-12:00", "07:30-12:00", "",
            ""},
        "Mon 00:00-24:00, Tue-Thu 07:30-12:00"},
    {"closed", {"", "", "", "", "", "", ""}, "closed"},
    {" CLOSED ", {"", "", "", "", "", "", ""}, "closed"},
};

struct bad_hours_case {
	const char *spec;
	const char *err;
};

static const struct bad_hours_case bad_hours_cases[] = {
    {"", "empty business hours"},
    {"   ", "empty business hours"},
    {"Mon-Fry 09:00-17:00", "unknown day name in business hours"},
    {"Mo 09:00-17:00", "unknown day name in business hours"},
    {"Tues 09:00-17:00", "unknown day name in business hours"},
    {"closed Mon 09:00-17:00", "unknown day name in business hours"},
    {"Mon-Fri", "days without hours in business hours"},
    {"Mon-Fri 09:00-17:00, Sat", "days without hours in business hours"},
    {"09:00-17:00", "hours without days in business hours"},
    {"Mon 09:00-12:00 13:00-17:00", "hours without days in business hours"},
    {"Mon-Fri 17:00-09:00", "closing time not after opening time"},
    {"Mon 09:00-09:00", "closing time not after opening time"},
    {"Mon 24:00-24:00", "closing time not after opening time"},
    {"Mon 25:00-26:00", "bad time in business hours"},
    {"Mon 09:00-24:30", "bad time in business hours"},
    {"Mon 09:60-17:00", "bad time in business hours"},
    {"Mon 9-17", "bad time in business hours"},
    {"Mon 9:0-17:00", "bad time in business hours"},
    {"Mon 009:00-17:00", "bad time in business hours"},
    {"Mon 09:00", "expected open-close times in business hours"},
    {"Mon 09:00 17:00", "expected open-close times in business hours"},
    {"Mon-Fri 09:00-17:00, Fri 10:00-12:00",
        "day named twice in business hours"},
    {"Mon,Mon 09:00-17:00", "day named twice in business hours"},
    {"Sat-Sat 09:00-17:00, Sun-Sat 10:00-11:00",
        "day named twice in business hours"},
    {"Mon 09:00-17:00x", "unexpected character in business hours"},
    {"Mon;Tue 09:00-17:00", "unexpected character in business hours"},
    {"Mon09:00-17:00", "unexpected character in business hours"},
    {"Mon-Fri 09:00-17:00; Sat 10:00-12:00",
        "unexpected character in business hours"},
};

static void
test_hours(void)
{
	struct calendar c, back;
	const char *err;
	char buf[128];
	size_t i;
	int r;

	calendar_init(&c);
	/* the default */
	{
		static const char *const def[7] = {"", "09:00-17:00",
		    "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00",
		    ""};
		check_hours(&c, def, __LINE__, "(default)");
		calendar_format_hours(&c, buf, sizeof(buf));
		CHECK_S(buf, "Mon-Fri 09:00-17:00");
	}
	for (i = 0; i < sizeof(hours_cases) / sizeof(hours_cases[0]); i++) {
		const struct hours_case *hc = &hours_cases[i];

		/* start from other hours: days not named must close */
		calendar_init(&c);
		set_hours(&c, "Sun-Sat 01:00-02:00");
		err = NULL;
		r = calendar_set_hours(&c, hc->spec, &err);
		check(r == 0, __LINE__, hc->spec);
		if (r != 0) {
			printf("  error: %s\n", err != NULL ? err : "(null)");
			continue;
		}
		check_hours(&c, hc->want, __LINE__, hc->spec);
		calendar_format_hours(&c, buf, sizeof(buf));
		check_s(buf, hc->fmt, __LINE__, hc->spec);
		/* the formatted text reads back as the same hours */
		calendar_init(&back);
		err = NULL;
		r = calendar_set_hours(&back, buf, &err);
		check(r == 0 &&
		        memcmp(back.open_min, c.open_min, sizeof(c.open_min)) ==
		            0 &&
		        memcmp(back.close_min, c.close_min,
		            sizeof(c.close_min)) == 0,
		    __LINE__, buf);
	}

	for (i = 0; i < sizeof(bad_hours_cases) / sizeof(bad_hours_cases[0]);
	     i++) {
		const struct bad_hours_case *bc = &bad_hours_cases[i];
		static const char *const keep[7] = {
		    "", "08:00-12:00", "", "", "", "", ""};

		calendar_init(&c);
		set_hours(&c, "Mon 08:00-12:00");
		err = NULL;
		r = calendar_set_hours(&c, bc->spec, &err);
		check(r == -EINVAL, __LINE__, bc->spec);
		check_s(err, bc->err, __LINE__, bc->spec);
		/* a bad spec leaves the hours as they were */
		check_hours(&c, keep, __LINE__, bc->spec);
	}
	CHECK(calendar_set_hours(&c, NULL, NULL) == -EINVAL);
	CHECK(calendar_set_hours(&c, "Mon", NULL) == -EINVAL);

	/* truncation keeps a terminated prefix */
	calendar_init(&c);
	memset(buf, 'X', sizeof(buf));
	calendar_format_hours(&c, buf, 8);
	CHECK_S(buf, "Mon-Fri");
	memset(buf, 'X', sizeof(buf));
	calendar_format_hours(&c, buf, 1);
	CHECK_S(buf, "");
	buf[0] = 'X';
	calendar_format_hours(&c, buf, 0);
	CHECK(buf[0] == 'X');
	calendar_free(&c);
}

static void
test_holidays(void)
{
	static const int32_t want4[] = {20261224, 20261225, 20261226, 20261231};
	struct calendar c, d;
	char path[] = "/tmp/test_calendar.XXXXXX", err[512], want[600];
	const char *msg;
	FILE *f;
	int fd, r;

	set_tz(UTC);
	calendar_init(&c);
	msg = NULL;
	CHECK(calendar_add_holidays(&c, "2026-12-25, 2026-12-26", &msg) == 0);
	CHECK(c.n_holidays == 2);
	CHECK(calendar_add_holidays(
	          &c, " 2026-12-24\t2026-12-25,2026-12-31 ", &msg) == 0);
	CHECK(
	    c.n_holidays == 4 && memcmp(c.holidays, want4, sizeof(want4)) == 0);
	CHECK(calendar_add_holidays(&c, "", &msg) == 0 && c.n_holidays == 4);
	CHECK(calendar_add_holidays(&c, " , ", &msg) == 0 && c.n_holidays == 4);

	/* all or nothing: a bad item leaves the set as it was */
	msg = NULL;
	r = calendar_add_holidays(&c, "2027-01-01, 2026-13-01", &msg);
	CHECK(r == -EINVAL);
	CHECK_S(msg, "no such holiday date");
	CHECK(c.n_holidays == 4);
	r = calendar_add_holidays(&c, "2026-02-29", &msg);
	CHECK(r == -EINVAL);
	CHECK_S(msg, "no such holiday date");
	r = calendar_add_holidays(&c, "2028-02-29", &msg);
	CHECK(r == 0 && c.n_holidays == 5);
	r = calendar_add_holidays(&c, "2026/12/25", &msg);
	CHECK(r == -EINVAL);
	CHECK_S(msg, "bad holiday date, expected YYYY-MM-DD");
	r = calendar_add_holidays(&c, "2026-12-25x", &msg);
	CHECK_S(msg, "bad holiday date, expected YYYY-MM-DD");
	r = calendar_add_holidays(&c, "2026-1-05", &msg);
	CHECK_S(msg, "bad holiday date, expected YYYY-MM-DD");
	r = calendar_add_holidays(&c, "0000-01-01", &msg);
	CHECK_S(msg, "no such holiday date");
	CHECK(c.n_holidays == 5);

	CHECK(calendar_is_business_day(&c, lt("2026-12-23 12:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-12-24 12:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-12-25 00:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-12-25 23:59:59")));
	CHECK(calendar_is_business_day(&c, lt("2026-12-28 00:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-12-27 12:00"))); /* Sun */
	CHECK(!calendar_is_open(&c, lt("2026-12-24 10:00")));

	/* a deep copy outlives its source */
	CHECK(calendar_copy(&d, &c) == 0);
	calendar_free(&c);
	calendar_free(&c);
	calendar_free(NULL);
	CHECK(d.n_holidays == 5 && d.holidays != NULL &&
	    d.holidays[0] == 20261224);
	CHECK(!calendar_is_business_day(&d, lt("2026-12-31 12:00")));
	calendar_free(&d);
	CHECK(d.holidays == NULL && d.n_holidays == 0);

	/* a file: BOM, CRLF, comments, blanks, duplicates */
	calendar_init(&c);
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		exit(2);
	}
	fputs("\xEF\xBB\xBF# holidays 2026\r\n"
	      "2026-12-25\r\n"
	      "\n"
	      "   2026-12-26   # Boxing Day\n"
	      "\t# indented comment\n"
	      "2026-12-25\n"
	      "2027-01-01",
	    f);
	if (fclose(f) != 0) {
		perror("fclose");
		exit(2);
	}
	err[0] = 'X';
	r = calendar_load_holidays(&c, path, err, sizeof(err));
	CHECK(r == 0);
	CHECK_S(err, "");
	CHECK(c.n_holidays == 3 && c.holidays[0] == 20261225 &&
	    c.holidays[1] == 20261226 && c.holidays[2] == 20270101);

	/* a bad line names PATH:LINE and adds nothing */
	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs("2027-12-24\n# ok\n2027-12-32\n2027-12-31\n", f);
	if (fclose(f) != 0) {
		perror("fclose");
		exit(2);
	}
	r = calendar_load_holidays(&c, path, err, sizeof(err));
	CHECK(r == -EINVAL);
	(void)snprintf(want, sizeof(want), "%s:3: no such holiday date", path);
	CHECK_S(err, want);
	CHECK(c.n_holidays == 3);

	f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		exit(2);
	}
	fputs("2027-12-24\n\n2027-12-25 2027-12-26\n", f);
	if (fclose(f) != 0) {
		perror("fclose");
		exit(2);
	}
	r = calendar_load_holidays(&c, path, err, sizeof(err));
	CHECK(r == -EINVAL);
	(void)snprintf(want, sizeof(want),
	    "%s:3: bad holiday date, expected YYYY-MM-DD", path);
	CHECK_S(err, want);
	/* a short buffer still gets a terminated prefix */
	r = calendar_load_holidays(&c, path, err, 5);
	CHECK(r == -EINVAL && strlen(err) == 4);
	CHECK(calendar_load_holidays(&c, path, NULL, 0) == -EINVAL);
	CHECK(c.n_holidays == 3);

	if (unlink(path) != 0)
		perror(path);
	r = calendar_load_holidays(&c, path, err, sizeof(err));
	CHECK(r == -ENOENT);
	CHECK(
	    strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':');
	CHECK(c.n_holidays == 3);
	calendar_free(&c);
}

/* the default Mon-Fri 09:00-17:00 calendar in UTC, with Christmas */
static void
test_open(void)
{
	struct calendar c;

	set_tz(UTC);
	calendar_init(&c);
	/* 2026-11-25 is a Wednesday */
	CHECK(!calendar_is_open(&c, lt("2026-11-25 08:59:59")));
	CHECK(calendar_is_open(&c, lt("2026-11-25 09:00")));
	CHECK(calendar_is_open(&c, lt("2026-11-25 16:59:59")));
	CHECK(!calendar_is_open(&c, lt("2026-11-25 17:00")));
	CHECK(!calendar_is_open(&c, lt("2026-11-25 00:00")));
	CHECK(!calendar_is_open(&c, lt("2026-11-28 12:00"))); /* Sat */
	CHECK(!calendar_is_open(&c, lt("2026-11-29 12:00"))); /* Sun */
	CHECK(calendar_is_open(&c, lt("2026-11-30 09:00")));  /* Mon */
	CHECK(calendar_is_business_day(&c, lt("2026-11-25 23:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-11-28 12:00")));
	CHECK(!calendar_is_open(NULL, lt("2026-11-25 12:00")));

	/* next_open */
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-25 10:00")), "2026-11-25 10:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-25 08:00")), "2026-11-25 09:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-25 17:00")), "2026-11-26 09:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-27 17:00")), "2026-11-30 09:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-28 12:00")), "2026-11-30 09:00");
	CHECK_T(calendar_next_open(&c, lt("2026-11-29 23:59:59")),
	    "2026-11-30 09:00");

	/* last_open_before */
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 10:00")),
	    "2026-11-25 10:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 17:00")),
	    "2026-11-25 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 21:00")),
	    "2026-11-25 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 08:00")),
	    "2026-11-24 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-28 12:00")),
	    "2026-11-27 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-30 08:59")),
	    "2026-11-27 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-30 09:00")),
	    "2026-11-30 09:00");

	/* holidays: Thu 12-24 is open, Fri 12-25 and Thu 12-31 are not */
	add_holidays(&c, "2026-12-25 2026-12-31 2027-01-01");
	CHECK(!calendar_is_open(&c, lt("2026-12-25 12:00")));
	CHECK_T(
	    calendar_next_open(&c, lt("2026-12-24 17:00")), "2026-12-28 09:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-12-30 17:00")), "2027-01-04 09:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-12-28 08:00")),
	    "2026-12-24 17:00");
	CHECK_T(calendar_last_open_before(&c, lt("2027-01-01 12:00")),
	    "2026-12-30 17:00");

	/* no business hours at all: nothing in reach */
	set_hours(&c, "closed");
	CHECK_T(calendar_next_open(&c, lt("2026-11-25 10:00")), NULL);
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 10:00")), NULL);
	CHECK(!calendar_is_open(&c, lt("2026-11-25 10:00")));
	CHECK(!calendar_is_business_day(&c, lt("2026-11-25 10:00")));

	/* Saturdays only: the search crosses whole weeks both ways */
	set_hours(&c, "Sat 10:00-14:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-11-25 10:00")), "2026-11-28 10:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-25 10:00")),
	    "2026-11-21 14:00");
	calendar_free(&c);
}

static void
test_add_hours(void)
{
	struct calendar c;

	set_tz(UTC);
	calendar_init(&c);
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 10:00"), 2 * HOUR),
	    "2026-11-25 12:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 10:00"), 0),
	    "2026-11-25 10:00");
	/* landing exactly on a close stays there */
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 16:00"), HOUR),
	    "2026-11-25 17:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 16:00"), HOUR + 1),
	    "2026-11-26 09:00:01");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 16:00"), 2 * HOUR),
	    "2026-11-26 10:00");
	/* nights and weekends */
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 20:00"), 30 * 60),
	    "2026-11-26 09:30");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-27 16:00"), 2 * HOUR),
	    "2026-11-30 10:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-28 12:00"), 0),
	    "2026-11-30 09:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-28 12:00"), HOUR),
	    "2026-11-30 10:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-28 12:00"), 8 * HOUR),
	    "2026-11-30 17:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-28 12:00"), 8 * HOUR + 1),
	    "2026-12-01 09:00:01");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-30 09:00"), 40 * HOUR),
	    "2026-12-04 17:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-30 09:00"), 41 * HOUR),
	    "2026-12-07 10:00");
	/* holidays */
	add_holidays(&c, "2026-12-25");
	CHECK_T(calendar_add_hours(&c, lt("2026-12-24 16:00"), 2 * HOUR),
	    "2026-12-28 10:00");
	/* impossible */
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 10:00"), -1), NULL);
	CHECK_T(
	    calendar_add_hours(&c, lt("2026-11-25 10:00"), INT64_MAX), NULL);
	CHECK_T(calendar_add_hours(NULL, lt("2026-11-25 10:00"), 1), NULL);

	/* round the clock: 24:00 and 00:00 join without a gap */
	set_hours(&c, "Mon-Sun 00:00-24:00");
	/* drops the holidays; the hours stay and c stays usable */
	calendar_free(&c);
	CHECK_I(calendar_add_hours(&c, lt("2026-11-25 10:00"), 3 * DAY),
	    lt("2026-11-25 10:00") + 3 * DAY);
	CHECK(calendar_is_open(&c, lt("2026-11-25 00:00")));
	CHECK(calendar_is_open(&c, lt("2026-11-25 23:59:59")));
	set_hours(&c, "closed");
	CHECK_T(calendar_add_hours(&c, lt("2026-11-25 10:00"), HOUR), NULL);
	calendar_free(&c);
}

static void
test_add_days(void)
{
	struct calendar c;

	set_tz(UTC);
	calendar_init(&c);
	/* the examples of the design */
	CHECK_T(calendar_add_days(&c, lt("2026-11-28 12:00"), 1),
	    "2026-11-30 17:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-27 16:00"), 1),
	    "2026-11-30 16:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-30 08:00"), 1),
	    "2026-11-30 17:00");
	/* more */
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), 1),
	    "2026-11-26 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), 2),
	    "2026-11-27 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), 5),
	    "2026-12-02 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-28 12:00"), 2),
	    "2026-12-01 17:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-30 18:00"), 1),
	    "2026-12-01 17:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 17:00"), 1),
	    "2026-11-26 17:00");
	/* n == 0: no business time passes */
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), 0),
	    "2026-11-25 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-28 12:00"), 0),
	    "2026-11-30 09:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), -1), NULL);
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), INT64_MAX), NULL);
	/* holidays are skipped */
	add_holidays(&c, "2026-12-25");
	CHECK_T(calendar_add_days(&c, lt("2026-12-24 10:00"), 1),
	    "2026-12-28 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-12-24 18:00"), 1),
	    "2026-12-28 17:00");
	/* the same time of day, kept within the target day's hours */
	set_hours(&c, "Mon-Thu 09:00-17:30, Fri 10:00-15:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-26 16:00"), 1),
	    "2026-11-27 15:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-26 09:30"), 1),
	    "2026-11-27 10:00");
	CHECK_T(calendar_add_days(&c, lt("2026-11-27 14:00"), 1),
	    "2026-11-30 14:00");
	set_hours(&c, "closed");
	CHECK_T(calendar_add_days(&c, lt("2026-11-25 10:00"), 1), NULL);
	calendar_free(&c);
}

static void
test_eod_eow(void)
{
	struct calendar c;

	set_tz(UTC);
	calendar_init(&c);
	CHECK_T(calendar_eod(&c, lt("2026-11-25 10:00")), "2026-11-25 17:00");
	CHECK_T(calendar_eod(&c, lt("2026-11-25 08:00")), "2026-11-25 17:00");
	CHECK_T(
	    calendar_eod(&c, lt("2026-11-25 16:59:59")), "2026-11-25 17:00");
	CHECK_T(calendar_eod(&c, lt("2026-11-25 17:00")), "2026-11-26 17:00");
	CHECK_T(calendar_eod(&c, lt("2026-11-27 18:00")), "2026-11-30 17:00");
	CHECK_T(calendar_eod(&c, lt("2026-11-28 12:00")), "2026-11-30 17:00");

	CHECK_T(calendar_eow(&c, lt("2026-11-23 00:00")), "2026-11-27 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-11-25 10:00")), "2026-11-27 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-11-27 16:00")), "2026-11-27 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-11-27 17:00")), "2026-12-04 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-11-28 12:00")), "2026-12-04 17:00");
	/* Sunday ends the week that began on Monday the 23rd */
	CHECK_T(calendar_eow(&c, lt("2026-11-29 12:00")), "2026-12-04 17:00");

	add_holidays(&c, "2026-12-25");
	CHECK_T(calendar_eod(&c, lt("2026-12-24 18:00")), "2026-12-28 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-12-23 10:00")), "2026-12-24 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-12-24 17:30")), "2027-01-01 17:00");

	set_hours(&c, "Mon-Fri 09:00-17:00, Sat 10:00-14:00");
	CHECK_T(calendar_eow(&c, lt("2026-11-27 18:00")), "2026-11-28 14:00");
	CHECK_T(calendar_eod(&c, lt("2026-11-27 18:00")), "2026-11-28 14:00");
	/* a week whose only business day is a holiday is skipped */
	set_hours(&c, "Fri 09:00-17:00");
	CHECK_T(calendar_eow(&c, lt("2026-12-21 10:00")), "2027-01-01 17:00");
	set_hours(&c, "closed");
	CHECK_T(calendar_eod(&c, lt("2026-11-25 10:00")), NULL);
	CHECK_T(calendar_eow(&c, lt("2026-11-25 10:00")), NULL);
	calendar_free(&c);
}

struct when_case {
	const char *in;
	const char *want; /* local time, or NULL when err is expected */
	const char *err;
};

/* now is Wed 2026-11-25 10:00 UTC */
static const struct when_case when_cases[] = {
    {"in 1 business day", "2026-11-26 10:00", NULL},
    {"in 2 business days", "2026-11-27 10:00", NULL},
    {"in 3 business days", "2026-11-30 10:00", NULL},
    {"1 business day", "2026-11-26 10:00", NULL},
    {"  In 1 Business Day  ", "2026-11-26 10:00", NULL},
    {"in 4 business hours", "2026-11-25 14:00", NULL},
    {"IN 8 BUSINESS HOURS", "2026-11-26 10:00", NULL},
    {"in 2 business hrs", "2026-11-25 12:00", NULL},
    {"in 1 business h", "2026-11-25 11:00", NULL},
    {"4 business hours", "2026-11-25 14:00", NULL},
    {"in 30 business minutes", "2026-11-25 10:30", NULL},
    {"in 90 business mins", "2026-11-25 11:30", NULL},
    {"in 0 business hours", "2026-11-25 10:00", NULL},
    {"in\t2\tbusiness\tdays", "2026-11-27 10:00", NULL},
    {"in 2business days", "2026-11-27 10:00", NULL},
    {"eod", "2026-11-25 17:00", NULL},
    {" EOD ", "2026-11-25 17:00", NULL},
    {"eow", "2026-11-27 17:00", NULL},
    {"Eow", "2026-11-27 17:00", NULL},
    /* the rest is timefmt's */
    {"tomorrow 17:00", "2026-11-26 17:00", NULL},
    {"next fri", "2026-11-27 17:00", NULL},
    {"in 2h", "2026-11-25 12:00", NULL},
    {"in 2 days", "2026-11-27 10:00", NULL},
    {"2026-12-01", "2026-12-01 17:00", NULL},
    {"soon", NULL, "unknown time expression"},
    {"business", NULL, "unknown time expression"},
    {"", NULL, "empty time expression"},
    /* business, but broken */
    {"in 2 business", NULL, "missing unit in business time"},
    {"in 2 business 3", NULL, "missing unit in business time"},
    {"in 2 business weeks", NULL, "unknown unit in business time"},
    {"in 2 business days please", NULL,
        "unexpected text after time expression"},
    {"eod please", NULL, "unexpected text after time expression"},
    {"eow 17:00", NULL, "unexpected text after time expression"},
    {"in 3661 business days", NULL, "business time out of range"},
    {"in 99999999999999999999 business hours", NULL,
        "business time out of range"},
};

static void
test_parse_when(void)
{
	struct calendar c;
	const struct when_case *wc;
	const char *err;
	int64_t now, t;
	size_t i;
	int r;

	set_tz(UTC);
	calendar_init(&c);
	now = lt("2026-11-25 10:00");
	for (i = 0; i < sizeof(when_cases) / sizeof(when_cases[0]); i++) {
		wc = &when_cases[i];
		t = -1;
		err = NULL;
		r = calendar_parse_when(&c, wc->in, now, &t, &err);
		if (wc->want != NULL) {
			check(r == 0, __LINE__, wc->in);
			if (r != 0)
				printf("  error: %s\n",
				    err != NULL ? err : "(null)");
			else
				check_t(t, wc->want, __LINE__, wc->in);
		} else {
			check(r == -EINVAL, __LINE__, wc->in);
			check_s(err, wc->err, __LINE__, wc->in);
		}
	}
	CHECK(calendar_when_is_business("eod"));
	CHECK(calendar_when_is_business(" EOW "));
	CHECK(calendar_when_is_business("eod please"));
	CHECK(calendar_when_is_business("in 2 business days"));
	CHECK(calendar_when_is_business("2 business hours"));
	CHECK(calendar_when_is_business("in 2 business weeks"));
	CHECK(!calendar_when_is_business("in 2 days"));
	CHECK(!calendar_when_is_business("tomorrow"));
	CHECK(!calendar_when_is_business("eodx"));
	CHECK(!calendar_when_is_business("business"));
	CHECK(!calendar_when_is_business("in business days"));
	CHECK(!calendar_when_is_business(""));
	CHECK(!calendar_when_is_business(NULL));
	CHECK(calendar_parse_when(&c, "eod", now, &t, NULL) == 0);
	CHECK(calendar_parse_when(&c, NULL, now, &t, NULL) == -EINVAL);

	set_hours(&c, "closed");
	err = NULL;
	CHECK(calendar_parse_when(&c, "eod", now, &t, &err) == -EINVAL);
	CHECK_S(err, "no business hours in reach");
	CHECK(calendar_parse_when(&c, "in 1 business hour", now, &t, &err) ==
	    -EINVAL);
	CHECK_S(err, "no business hours in reach");
	/* plain times need no business hours */
	CHECK(calendar_parse_when(&c, "in 1h", now, &t, &err) == 0 &&
	    t == now + HOUR);
	calendar_free(&c);
}

static void
test_dst_berlin(void)
{
	struct calendar c;
	int64_t t, open;

	set_tz(BER);
	calendar_init(&c);
	/* spring forward 2026-03-29 02:00 CET -> 03:00 CEST (a Sunday) */
	t = lt("2026-03-27 10:30"); /* Fri, CET */
	CHECK_T(calendar_add_days(&c, t, 1), "2026-03-30 10:30");
	/* the same wall clock, so an hour short of three days */
	CHECK_I(calendar_add_days(&c, t, 1), t + 3 * DAY - HOUR);
	CHECK_T(calendar_add_days(&c, lt("2026-03-27 18:00"), 1),
	    "2026-03-30 17:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-03-27 16:00"), 2 * HOUR),
	    "2026-03-30 10:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-03-28 12:00")), "2026-03-30 09:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-03-30 08:00")),
	    "2026-03-27 17:00");
	CHECK_T(calendar_eod(&c, lt("2026-03-28 12:00")), "2026-03-30 17:00");
	CHECK_T(calendar_eow(&c, lt("2026-03-28 12:00")), "2026-04-03 17:00");
	CHECK(calendar_is_open(&c, lt("2026-03-30 09:00")));
	CHECK(!calendar_is_open(&c, lt("2026-03-30 08:59")));

	/* fall back 2026-10-25 03:00 CEST -> 02:00 CET (a Sunday) */
	t = lt("2026-10-23 10:30"); /* Fri, CEST */
	CHECK_T(calendar_add_days(&c, t, 1), "2026-10-26 10:30");
	CHECK_I(calendar_add_days(&c, t, 1), t + 3 * DAY + HOUR);
	CHECK_T(calendar_add_days(&c, t, 6), "2026-11-02 10:30");
	CHECK_T(calendar_add_hours(&c, lt("2026-10-23 16:00"), 2 * HOUR),
	    "2026-10-26 10:00");
	CHECK_T(calendar_eow(&c, lt("2026-10-24 12:00")), "2026-10-30 17:00");

	/* hours on the change days themselves */
	set_hours(&c, "Sun 01:00-04:00");
	/* 01:00 CET to 04:00 CEST is two hours of real time */
	open = lt("2026-03-29 01:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-03-28 12:00")), "2026-03-29 01:00");
	CHECK_T(calendar_add_hours(&c, open, 2 * HOUR), "2026-03-29 04:00");
	CHECK_T(
	    calendar_add_hours(&c, open, 2 * HOUR + 1), "2026-04-05 01:00:01");
	CHECK_T(calendar_eod(&c, open), "2026-03-29 04:00");
	/* 01:00 CEST to 04:00 CET is four */
	open = lt("2026-10-25 01:00");
	CHECK_T(calendar_add_hours(&c, open, 4 * HOUR), "2026-10-25 04:00");
	CHECK_T(
	    calendar_add_hours(&c, open, 4 * HOUR + 1), "2026-11-01 01:00:01");
	CHECK(
	    calendar_is_open(&c, lt("2026-10-25 01:00") + 3 * HOUR + 30 * 60));

	/* an opening inside the gap moves forward by the gap: 03:30 CEST */
	set_hours(&c, "Sun 02:30-05:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-03-28 12:00")), "2026-03-29 03:30");
	CHECK(!calendar_is_open(&c, lt("2026-03-29 03:29")));
	/*
	 * An ambiguous opening takes the earlier 02:30, in CEST: an hour
	 * after 01:30 CEST.  Open until 05:00 CET, three and a half hours.
	 */
	open = lt("2026-10-25 01:30") + HOUR;
	CHECK_I(calendar_next_open(&c, lt("2026-10-24 12:00")), open);
	CHECK_T(calendar_add_hours(&c, open, 3 * HOUR + 30 * 60),
	    "2026-10-25 05:00");
	CHECK_T(calendar_eod(&c, open), "2026-10-25 05:00");
	calendar_free(&c);
}

static void
test_dst_new_york(void)
{
	struct calendar c;
	int64_t t;

	set_tz(NYC);
	calendar_init(&c);
	/* spring forward 2026-03-08 02:00 EST -> 03:00 EDT (a Sunday) */
	t = lt("2026-03-06 15:00"); /* Fri, EST */
	CHECK_T(calendar_add_days(&c, t, 1), "2026-03-09 15:00");
	CHECK_I(calendar_add_days(&c, t, 1), t + 3 * DAY - HOUR);
	CHECK_T(calendar_add_days(&c, lt("2026-03-07 12:00"), 1),
	    "2026-03-09 17:00");
	CHECK_T(calendar_add_hours(&c, lt("2026-03-06 16:00"), 4 * HOUR),
	    "2026-03-09 12:00");
	CHECK_T(calendar_eod(&c, lt("2026-03-06 17:30")), "2026-03-09 17:00");
	/* fall back 2026-11-01 02:00 EDT -> 01:00 EST (a Sunday) */
	t = lt("2026-10-30 15:00"); /* Fri, EDT */
	CHECK_T(calendar_add_days(&c, t, 1), "2026-11-02 15:00");
	CHECK_I(calendar_add_days(&c, t, 1), t + 3 * DAY + HOUR);
	CHECK_T(calendar_add_hours(&c, lt("2026-10-30 16:00"), 4 * HOUR),
	    "2026-11-02 12:00");
	CHECK_T(
	    calendar_next_open(&c, lt("2026-10-31 12:00")), "2026-11-02 09:00");
	CHECK_T(calendar_last_open_before(&c, lt("2026-11-02 08:00")),
	    "2026-10-30 17:00");
	calendar_free(&c);
}

/* one instant, two zones: the same calendar reads it locally in each */
static void
test_zones(void)
{
	struct calendar c;
	int64_t t, u, next;

	calendar_init(&c);
	set_tz(BER);
	t = lt("2026-11-25 10:00"); /* Wed 09:00 UTC, 01:00 PST */
	u = lt("2026-11-25 18:00"); /* Wed 17:00 UTC, 09:00 PST */
	CHECK(calendar_is_open(&c, t));
	CHECK(!calendar_is_open(&c, u));
	CHECK_T(calendar_eod(&c, t), "2026-11-25 17:00");

	set_tz(LAX);
	CHECK(!calendar_is_open(&c, t));
	CHECK(calendar_is_open(&c, u));
	CHECK_T(calendar_next_open(&c, t), "2026-11-25 09:00");
	CHECK_I(calendar_next_open(&c, t), u);
	CHECK_T(calendar_eod(&c, t), "2026-11-25 17:00");
	next = calendar_add_hours(&c, t, HOUR);
	CHECK_T(next, "2026-11-25 10:00");

	/* and back: nothing was cached from the other zone */
	set_tz(BER);
	CHECK(calendar_is_open(&c, t));
	CHECK_T(calendar_add_hours(&c, t, HOUR), "2026-11-25 11:00");
	calendar_free(&c);
}

int
main(void)
{
	test_hours();
	test_holidays();
	test_open();
	test_add_hours();
	test_add_days();
	test_eod_eow();
	test_parse_when();
	test_dst_berlin();
	test_dst_new_york();
	test_zones();
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
