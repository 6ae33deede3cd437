/* SPDX-License-Identifier: MIT */
/*
 * test_conf_when.c: checks of the business-time API of daemon/conf.c
 * (conf_when, conf_kind_due, conf_business_before, conf_calendar_of) and of
 * the weekly digest's schedule (digest_slots) over a file loaded with
 * conf_load.
 *
 * The process's own zone is UTC throughout; the people live in New York
 * and Berlin, and the company in Tokyo.  Expected instants are written as
 * wall-clock times in a named zone and converted here with setenv + mktime,
 * never by the code under test, and away from DST gaps and folds.  After
 * every call TZ must be the process's own again.  Prints each failing
 * check and exits non-zero if any failed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "check.h"
#include "digest.h"

#define HOME "UTC"
#define NYC "America/New_York"
#define BER "Europe/Berlin"
#define TYO "Asia/Tokyo"

#define HOUR 3600
#define DAY 86400

static const char config[] =
    "[daemon]\n"
    "socket = /nonexistent/promised.sock\n"
    "database = /nonexistent/promised.db\n"
    "\n"
    "[kind reply]\n"
    "due = 1 business day\n"
    "nudge_before = 2h\n"
    "\n"
    "[kind callback]\n"
    "due = 4 business hours\n"
    "nudge_before = 30m\n"
    "escalation_repeat = 4h\n"
    "\n"
    "[kind later]\n"
    "due = in 14d\n"
    "nudge_before = none\n"
    "escalate_after = 0\n"
    "\n"
    /* people before [calendar]: their holidays must still be the company's */
    "[person ny]\n"
    "timezone = " NYC "\n"
    "\n"
    "[person ber]\n"
    "timezone = " BER "\n"
    "business_hours = Mon-Thu 08:00-16:00\n"
    "\n"
    "[person plain]\n"
    "email = plain@example.com\n"
    "\n"
    "[calendar]\n"
    "timezone = " TYO "\n"
    "business_hours = Mon-Fri 09:00-17:00\n"
    "holidays = 2026-12-25\n"
    "\n"
    "[digest]\n"
    "schedule = Mon 08:00\n";

/* "YYYY-MM-DD HH:MM" as wall-clock time in zone; TZ is HOME again after */
static int64_t
at(const char *zone, const char *s)
{
	struct tm tm;
	time_t t;

	set_tz(zone);
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	        &tm.tm_hour, &tm.tm_min) != 5) {
		fprintf(stderr, "bad test time '%s'\n", s);
		exit(2);
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1) {
		fprintf(stderr, "mktime failed for '%s'\n", s);
		exit(2);
	}
	set_tz(HOME);
	return (int64_t)t;
}

static void
check_i(int64_t got, int64_t want, int line, const char *expr)
{
	nchecks++;
	if (got == want)
		return;
	nfailed++;
	printf("FAIL line %d: %s: expected %lld, got %lld (%+lld s)\n", line,
	    expr, (long long)want, (long long)got, (long long)(got - want));
}

/* TZ is HOME, as set, and the library reads it so */
static void
check_home(int line)
{
	const char *tz = getenv("TZ");
	time_t t = 1800000000;
	struct tm tm;

	nchecks++;
	if (tz != NULL && strcmp(tz, HOME) == 0 &&
	    localtime_r(&t, &tm) != NULL && tm.tm_gmtoff == 0)
		return;
	nfailed++;
	printf("FAIL line %d: TZ not restored: '%s'\n", line,
	    tz != NULL ? tz : "(unset)");
}

#define CHECK_I(got, want) check_i((got), (want), __LINE__, #got)

/* conf_when's result, or -2 on an error; checks TZ came back */
static int64_t
when_at(const struct conf *c, const char *login, const char *text, int64_t now,
    int line)
{
	const char *err = NULL;
	int64_t t = -3;
	int r;

	r = conf_when(c, login, text, now, &t, &err);
	check_home(line);
	if (r < 0) {
		printf("line %d: conf_when(%s, '%s'): %s\n", line,
		    login != NULL ? login : "NULL", text,
		    err != NULL ? err : "(no message)");
		return -2;
	}
	return t;
}

#define WHEN(login, text, now) when_at(c, (login), (text), (now), __LINE__)

static int64_t
kind_due_at(const struct conf *c, const char *kind, const char *login,
    int64_t now, int line)
{
	const struct kind *k = conf_kind(c, kind);
	const char *err = NULL;
	int64_t t = -3;

	if (k == NULL) {
		printf("line %d: no kind '%s'\n", line, kind);
		return -2;
	}
	if (conf_kind_due(c, k, login, now, &t, &err) < 0) {
		printf("line %d: conf_kind_due(%s, %s): %s\n", line, kind,
		    login, err != NULL ? err : "(no message)");
		t = -2;
	}
	check_home(line);
	return t;
}

#define KIND_DUE(kind, login, now)                                             \
	kind_due_at(c, (kind), (login), (now), __LINE__)

static int64_t
before_at(const struct conf *c, const char *login, int64_t t, int line)
{
	int64_t r = conf_business_before(c, login, t);

	check_home(line);
	return r;
}

#define BEFORE(login, t) before_at(c, (login), (t), __LINE__)

static int64_t
morning_at(const struct conf *c, const char *login, int64_t t, int line)
{
	int64_t r = conf_next_morning(c, login, t);

	check_home(line);
	return r;
}

#define MORNING(login, t) morning_at(c, (login), (t), __LINE__)

/* the next business morning, where a one-click snooze moves a deadline */
static void
test_morning(const struct conf *c)
{
	/* ber: Mon-Thu 08:00-16:00 in Berlin; 2026-12-03 is a Thursday */
	check_i(MORNING("ber", at(BER, "2026-12-03 10:00")),
	    at(BER, "2026-12-07 08:00"), __LINE__, "in hours: next day's");
	check_i(MORNING("ber", at(BER, "2026-12-02 07:00")),
	    at(BER, "2026-12-02 08:00"), __LINE__, "before opening: today");
	check_i(MORNING("ber", at(BER, "2026-12-02 18:00")),
	    at(BER, "2026-12-03 08:00"), __LINE__, "after close: tomorrow");
	check_i(MORNING("ber", at(BER, "2026-12-03 16:00")),
	    at(BER, "2026-12-07 08:00"), __LINE__, "at the close");
	/* ny: the company's hours (Tokyo's 09:00-17:00) read in New York;
	 * 2026-12-24 is a Thursday, the 25th a holiday */
	check_i(MORNING("ny", at(NYC, "2026-12-24 12:00")),
	    at(NYC, "2026-12-28 09:00"), __LINE__, "over the holiday");
	/* no [person]: the company's calendar in Tokyo */
	check_i(MORNING("nobody", at(TYO, "2026-12-04 20:00")),
	    at(TYO, "2026-12-07 09:00"), __LINE__, "Friday evening");
}

static void
test_loaded(const struct conf *c)
{
	const struct kind *k;
	const struct calendar *cal;
	const char *zone = "unset";

	k = conf_kind(c, "callback");
	CHECK(k != NULL);
	if (k != NULL) {
		CHECK(
		    k->has_nudge && k->n_nudge == 1 && k->nudge[0] == 30 * 60);
		CHECK(!k->has_escalate_after);
		CHECK(k->has_escalation_repeat &&
		    k->escalation_repeat == 4 * HOUR);
	}
	k = conf_kind(c, "later");
	CHECK(k != NULL && k->has_nudge && k->n_nudge == 0 &&
	    k->has_escalate_after && k->escalate_after == 0);
	CHECK(conf_kind(c, "nope") == NULL);
	CHECK(conf_kind(c, NULL) == NULL);

	CHECK(c->calendar_tz != NULL && strcmp(c->calendar_tz, TYO) == 0);
	CHECK(c->digest_wday == 1 && c->digest_minute == 8 * 60);

	cal = conf_calendar_of(c, "ny", &zone);
	CHECK(zone != NULL && strcmp(zone, NYC) == 0);
	CHECK(cal->n_holidays == 1);
	cal = conf_calendar_of(c, "ber", &zone);
	CHECK(zone != NULL && strcmp(zone, BER) == 0);
	CHECK(cal->n_holidays == 1 && cal->open_min[1] == 8 * 60 &&
	    cal->close_min[1] == 16 * 60 &&
	    cal->open_min[5] >= cal->close_min[5]);
	/* no zone of their own: the company's */
	cal = conf_calendar_of(c, "plain", &zone);
	CHECK(zone != NULL && strcmp(zone, TYO) == 0);
	CHECK(cal != &c->calendar && cal->n_holidays == 1);
	cal = conf_calendar_of(c, "nobody", &zone);
	CHECK(cal == &c->calendar && zone == c->calendar_tz);
	cal = conf_calendar_of(c, NULL, NULL);
	CHECK(cal == &c->calendar);
}

static void
test_when(const struct conf *c)
{
	/* Wed 2026-11-25: 07:00 in New York (before opening), 13:00 in
	 * Berlin (open), 21:00 in Tokyo (closed) */
	int64_t now = at(NYC, "2026-11-25 07:00");
	const char *err = NULL;
	int64_t t = 0;

	CHECK_I(now, at(BER, "2026-11-25 13:00"));

	/* closed: the close of the first business day from the opening */
	CHECK_I(WHEN("ny", "1 business day", now), at(NYC, "2026-11-25 17:00"));
	/* open: the same wall-clock time the next business day */
	CHECK_I(
	    WHEN("ber", "1 business day", now), at(BER, "2026-11-26 13:00"));
	CHECK_I(
	    WHEN("nobody", "1 business day", now), at(TYO, "2026-11-26 17:00"));
	CHECK_I(
	    WHEN("plain", "1 business day", now), at(TYO, "2026-11-26 17:00"));

	CHECK_I(WHEN("ny", "in 4 business hours", now),
	    at(NYC, "2026-11-25 13:00"));
	/* three hours Wednesday, the fourth Thursday from 08:00 */
	CHECK_I(
	    WHEN("ber", "4 business hours", now), at(BER, "2026-11-26 09:00"));

	CHECK_I(WHEN("ny", "eod", now), at(NYC, "2026-11-25 17:00"));
	CHECK_I(WHEN("ber", "EOD", now), at(BER, "2026-11-25 16:00"));
	/* Berlin's week ends Thursday */
	CHECK_I(WHEN("ny", "eow", now), at(NYC, "2026-11-27 17:00"));
	CHECK_I(WHEN("ber", "eow", now), at(BER, "2026-11-26 16:00"));

	/* plain durations are elapsed time, whatever the zone */
	CHECK_I(WHEN("ny", "2h", now), now + 2 * HOUR);
	CHECK_I(WHEN("ber", "3d", now), now + 3 * DAY);
	CHECK_I(WHEN("ber", "90", now), now + 90);

	CHECK_I(WHEN("ny", "tomorrow 10:00", now), at(NYC, "2026-11-26 10:00"));
	CHECK_I(
	    WHEN("ber", "tomorrow 10:00", now), at(BER, "2026-11-26 10:00"));
	CHECK_I(WHEN("ny", "in 2h", now), now + 2 * HOUR);
	CHECK_I(
	    WHEN("ber", "2026-12-01T09:30", now), at(BER, "2026-12-01 09:30"));
	CHECK_I(WHEN("ny", "@1800000000", now), 1800000000);

	/* the company's holiday is everyone's: Fri 2026-12-25 */
	now = at(NYC, "2026-12-24 18:00");
	CHECK_I(WHEN("ny", "1 business day", now), at(NYC, "2026-12-28 17:00"));
	CHECK_I(WHEN("ny", "eod", now), at(NYC, "2026-12-28 17:00"));

	/* Berlin's clocks go forward on 2026-03-29, New York's went on
	 * 2026-03-08: 14 local days are an hour short in Berlin */
	now = at(NYC, "2026-03-20 08:00");
	CHECK_I(KIND_DUE("later", "ny", now), now + 14 * DAY);
	CHECK_I(KIND_DUE("later", "ber", now), now + 14 * DAY - HOUR);
	CHECK_I(KIND_DUE("later", "ber", now), at(BER, "2026-04-03 13:00"));

	now = at(NYC, "2026-11-25 07:00");
	CHECK_I(KIND_DUE("reply", "ny", now), at(NYC, "2026-11-25 17:00"));
	CHECK_I(KIND_DUE("reply", "ber", now), at(BER, "2026-11-26 13:00"));
	CHECK_I(KIND_DUE("callback", "ny", now), at(NYC, "2026-11-25 13:00"));
	CHECK_I(KIND_DUE("callback", "ber", now), at(BER, "2026-11-26 09:00"));

	/* errors: a static message, TZ back */
	CHECK(conf_when(c, "ber", "soonish", now, &t, &err) == -EINVAL &&
	    err != NULL && err[0] != '\0');
	check_home(__LINE__);
	err = NULL;
	CHECK(
	    conf_when(c, "ny", "3 business weeks", now, &t, &err) == -EINVAL &&
	    err != NULL);
	check_home(__LINE__);
	CHECK(conf_when(c, "ny", NULL, now, &t, NULL) == -EINVAL);
	check_home(__LINE__);
}

static void
test_before(const struct conf *c)
{
	int64_t t;

	/* open: t itself */
	t = at(NYC, "2026-11-25 10:00");
	CHECK_I(BEFORE("ny", t), t);
	/* 16:00 New York is 22:00 Berlin: after Berlin's close */
	t = at(NYC, "2026-11-25 16:00");
	CHECK_I(BEFORE("ny", t), t);
	CHECK_I(BEFORE("ber", t), at(BER, "2026-11-25 16:00"));
	/* Saturday: Friday's close, or Thursday's for Berlin */
	t = at(NYC, "2026-11-28 12:00");
	CHECK_I(BEFORE("ny", t), at(NYC, "2026-11-27 17:00"));
	CHECK_I(BEFORE("ber", t), at(BER, "2026-11-26 16:00"));
	/* early Monday morning: back over the weekend */
	t = at(NYC, "2026-11-30 06:00");
	CHECK_I(BEFORE("ny", t), at(NYC, "2026-11-27 17:00"));
	/* the holiday Friday is skipped */
	t = at(NYC, "2026-12-26 12:00");
	CHECK_I(BEFORE("ny", t), at(NYC, "2026-12-24 17:00"));
	CHECK_I(BEFORE("ber", t), at(BER, "2026-12-24 16:00"));
	CHECK_I(BEFORE("nobody", t), at(TYO, "2026-12-24 17:00"));
}

/* the weekly digest's schedule times: calendar days and wall clocks in
 * [calendar] timezone, whatever DST does, and ISO weeks across a year */
static void
test_digest_slots(struct conf *c)
{
	char *zone = c->calendar_tz, week[16];
	int64_t last = 0, next = 0;

	c->calendar_tz = (char *)BER;
	c->digest_wday = 1; /* Monday */
	c->digest_minute = 8 * 60;
	CHECK(digest_slots(c, at(BER, "2026-11-25 12:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK_I(last, at(BER, "2026-11-23 08:00"));
	CHECK_I(next, at(BER, "2026-11-30 08:00"));
	CHECK(strcmp(week, "2026-W48") == 0);
	check_home(__LINE__);
	/* at the time itself it is the latest; a second before, not yet */
	CHECK(digest_slots(c, at(BER, "2026-11-23 08:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK_I(last, at(BER, "2026-11-23 08:00"));
	CHECK(digest_slots(c, at(BER, "2026-11-23 08:00") - 1, &last, &next,
	          week, sizeof(week)) == 0);
	CHECK_I(last, at(BER, "2026-11-16 08:00"));
	CHECK_I(next, at(BER, "2026-11-23 08:00"));
	CHECK(strcmp(week, "2026-W47") == 0);
	/* 2026 has 53 ISO weeks: its 1 January is a Thursday */
	CHECK(digest_slots(c, at(BER, "2027-01-01 12:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK_I(last, at(BER, "2026-12-28 08:00"));
	CHECK(strcmp(week, "2026-W53") == 0);
	CHECK(digest_slots(c, at(BER, "2027-01-04 08:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK(strcmp(week, "2027-W01") == 0);

	/* Sunday 02:30: the spring-forward gap moves it on by the gap ... */
	c->digest_wday = 0;
	c->digest_minute = 2 * 60 + 30;
	CHECK(digest_slots(c, at(BER, "2026-03-29 12:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK_I(last, at(BER, "2026-03-29 03:30"));
	CHECK_I(next, at(BER, "2026-04-05 02:30"));
	CHECK(strcmp(week, "2026-W13") == 0);
	/* ... which is 02:30 CET of a week before plus 7 days; the next
	 * week is then 7 days less an hour away ... */
	CHECK_I(last - 7 * DAY, at(BER, "2026-03-22 02:30"));
	CHECK_I(next - last, 7 * DAY - HOUR);
	/* ... and in the fall-back fold it is the first 02:30 (CEST) */
	CHECK(digest_slots(c, at(BER, "2026-10-25 12:00"), &last, &next, week,
	          sizeof(week)) == 0);
	CHECK_I(last, at(HOME, "2026-10-25 00:30"));
	check_home(__LINE__);

	c->digest_wday = -1;
	CHECK(digest_slots(c, at(BER, "2026-11-25 12:00"), &last, &next, week,
	          sizeof(week)) == -ENOENT);
	c->calendar_tz = zone;
}

/* TZ unset before: unset after, not pinned by the API */
static void
test_unset_tz(const struct conf *c)
{
	int64_t now = at(NYC, "2026-11-25 07:00"), t = 0;
	const char *err = NULL;

	if (unsetenv("TZ") != 0) {
		perror("unsetenv");
		exit(2);
	}
	tzset();
	CHECK(conf_when(c, "ny", "eod", now, &t, &err) == 0);
	CHECK(getenv("TZ") == NULL);
	CHECK(conf_business_before(c, "ber", now) > 0);
	CHECK(getenv("TZ") == NULL);
	set_tz(HOME);
	CHECK_I(t, at(NYC, "2026-11-25 17:00"));
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (f == NULL)
		return -errno;
	if (fputs(text, f) == EOF)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], path[300], err[512];
	struct conf *c = NULL;
	int r, rc = 2;

	set_tz(HOME);
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_conf_when.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/promised.conf", dir);
	if ((r = write_file(path, config)) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		goto out;
	}
	if ((r = conf_load(&c, path, err, sizeof(err))) < 0) {
		fprintf(stderr, "conf_load: %s\n", err);
		goto out;
	}
	check_home(__LINE__);
	test_loaded(c);
	test_when(c);
	test_before(c);
	test_morning(c);
	test_digest_slots(c);
	test_unset_tz(c);
	printf("%d checks, %d failed\n", nchecks, nfailed);
	rc = nfailed == 0 ? 0 : 1;
out:
	conf_free(c);
	(void)unlink(path);
	(void)rmdir(dir);
	return rc;
}
