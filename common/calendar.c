/* SPDX-License-Identifier: MIT */
/*
 * calendar.c: business hours and holidays, and deadlines counted in them.
 *
 * Dates are proleptic Gregorian day numbers from timefmt, so stepping a
 * day is plain integer arithmetic on the local calendar and cannot drift
 * by an hour across DST; a day's opening and closing instants come from
 * timefmt_local_instant, which applies timefmt's gap and fold rules.  Each
 * business day is the half-open span [open, close) of instants, and the
 * spans of different days never overlap (a close is at most 24:00, the
 * next day's midnight), so walking days in order walks time in order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "timefmt.h"
#include "util.h"

#define MINS_PER_DAY 1440
#define SECS_PER_MIN 60
#define SECS_PER_HOUR 3600
#define SECS_PER_DAY 86400

/* the default hours: Monday to Friday, 09:00-17:00 */
#define DEFAULT_OPEN (9 * 60)
#define DEFAULT_CLOSE (17 * 60)

/* digits beyond this only mean "too big"; keeps v * 10 + 9 in range */
#define NUMBER_CAP 1000000000000LL

static const char *const day_abbr[7] = {
    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_full[7] = {"sunday", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday"};

static const char *
skip_space(const char *p)
{
	while (ascii_space(*p))
		p++;
	return p;
}

static size_t
word_len(const char *p)
{
	size_t n = 0;

	while (ascii_alpha(p[n]))
		n++;
	return n;
}

/*
 * The hours of weekday wd; false if closed.  The struct is public, so
 * values out of range are read as closed rather than trusted.
 */
static bool
hours_of(const struct calendar *c, int wd, int *open, int *close)
{
	*open = c->open_min[wd];
	*close = c->close_min[wd];
	return *open >= 0 && *close <= MINS_PER_DAY && *open < *close;
}

static bool
is_holiday(const struct calendar *c, int64_t day)
{
	size_t lo = 0, hi = c->n_holidays, mid;
	int64_t y;
	int32_t key;
	int m, d;

	if (c->n_holidays == 0)
		return false;
	timefmt_civil_from_days(day, &y, &m, &d);
	if (y < 1 || y > 9999)
		return false;
	key = (int32_t)(y * 10000 + m * 100 + d);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->holidays[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n_holidays && c->holidays[lo] == key;
}

static bool
business_date(const struct calendar *c, int64_t day)
{
	int open, close;

	return hours_of(c, timefmt_weekday(day), &open, &close) &&
	    !is_holiday(c, day);
}

/*
 * The open span [*open, *close) of local day; false if the day is closed,
 * the zone cannot convert it, or DST squeezes the hours to nothing (hours
 * that lie wholly inside a spring-forward gap).
 */
static bool
day_span(const struct calendar *c, int64_t day, int64_t *open, int64_t *close)
{
	int o, cl;

	if (!hours_of(c, timefmt_weekday(day), &o, &cl) || is_holiday(c, day))
		return false;
	if (timefmt_local_instant(day, (int64_t)o * SECS_PER_MIN, open) != 0 ||
	    timefmt_local_instant(day, (int64_t)cl * SECS_PER_MIN, close) != 0)
		return false;
	return *close > *open;
}

void
calendar_init(struct calendar *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < 7; i++) {
		c->open_min[i] = i >= 1 && i <= 5 ? DEFAULT_OPEN : 0;
		c->close_min[i] = i >= 1 && i <= 5 ? DEFAULT_CLOSE : 0;
	}
	c->holidays = NULL;
	c->n_holidays = 0;
	c->cap_holidays = 0;
}

void
calendar_free(struct calendar *c)
{
	if (c == NULL)
		return;
	free(c->holidays);
	c->holidays = NULL;
	c->n_holidays = 0;
	c->cap_holidays = 0;
}

int
calendar_copy(struct calendar *dst, const struct calendar *src)
{
	int32_t *h = NULL;

	if (dst == NULL || src == NULL)
		return -EINVAL;
	if (dst == src)
		return 0;
	if (src->n_holidays > 0) {
		/* n_holidays came from an allocation, so the size fits */
		h = malloc(src->n_holidays * sizeof(*h));
		if (h == NULL) {
			calendar_init(dst);
			return -ENOMEM;
		}
		memcpy(h, src->holidays, src->n_holidays * sizeof(*h));
	}
	*dst = *src;
	dst->holidays = h;
	dst->cap_holidays = src->n_holidays;
	return 0;
}

/* a day name, three letters or full, at *pp; the weekday or -1 */
static int
take_day(const char **pp)
{
	size_t n = word_len(*pp);
	char abbr[4];
	int i;

	for (i = 0; i < 7; i++) {
		abbr[0] = ascii_lower(day_abbr[i][0]);
		abbr[1] = day_abbr[i][1];
		abbr[2] = day_abbr[i][2];
		abbr[3] = '\0';
		if (ascii_word_is(*pp, n, abbr) ||
		    ascii_word_is(*pp, n, day_full[i])) {
			*pp += n;
			return i;
		}
	}
	return -1;
}

/* "9:00", "09:00", "24:00" at *pp into minutes since midnight */
static int
take_hhmm(const char **pp, int *mins)
{
	const char *p = *pp;
	int h = 0, m;
	size_t n = 0;

	while (ascii_digit(*p) && n < 3) {
		h = h * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n == 0 || n > 2 || *p != ':')
		return -EINVAL;
	p++;
	if (!ascii_digit(p[0]) || !ascii_digit(p[1]) || ascii_digit(p[2]))
		return -EINVAL;
	m = (p[0] - '0') * 10 + (p[1] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return -EINVAL;
	*pp = p + 2;
	*mins = h * 60 + m;
	return 0;
}

/*
 * The spec is a run of items separated by blanks or commas: day names and
 * day ranges collect into a pending set, and an "HH:MM-HH:MM" item gives
 * that set its hours.  So "Mon,Wed 08:00-12:00, Fri 09:00-15:00" needs no
 * grammar for which comma separates what.
 */
int
calendar_set_hours(struct calendar *c, const char *spec, const char **err)
{
	int open[7] = {0}, close[7] = {0}, a, b, o, cl, i;
	bool pending[7] = {false}, seen[7] = {false}, have_pending = false;
	const char *p, *q, *dummy;
	size_t wl;

	if (err == NULL)
		err = &dummy;
	if (c == NULL || spec == NULL) {
		*err = "missing business hours";
		return -EINVAL;
	}
	p = skip_space(spec);
	if (*p == '\0') {
		*err = "empty business hours";
		return -EINVAL;
	}
	wl = word_len(p);
	if (ascii_word_is(p, wl, "closed") && *skip_space(p + wl) == '\0')
		p += wl;
	for (;;) {
		while (ascii_space(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (ascii_alpha(*p)) {
			a = take_day(&p);
			if (a < 0) {
				*err = "unknown day name in business hours";
				return -EINVAL;
			}
			b = a;
			q = skip_space(p);
			if (*q == '-') {
				q = skip_space(q + 1);
				b = take_day(&q);
				if (b < 0) {
					*err = "unknown day name in business "
					       "hours";
					return -EINVAL;
				}
				p = q;
			}
			/* a range may wrap past Sunday: "Sat-Mon" */
			for (i = a;; i = (i + 1) % 7) {
				if (pending[i] || seen[i]) {
					*err = "day named twice in business "
					       "hours";
					return -EINVAL;
				}
				pending[i] = true;
				if (i == b)
					break;
			}
			have_pending = true;
		} else if (ascii_digit(*p)) {
			if (!have_pending) {
				*err = "hours without days in business hours";
				return -EINVAL;
			}
			if (take_hhmm(&p, &o) != 0) {
				*err = "bad time in business hours";
				return -EINVAL;
			}
			p = skip_space(p);
			if (*p != '-') {
				*err = "expected open-close times in business "
				       "hours";
				return -EINVAL;
			}
			p = skip_space(p + 1);
			if (take_hhmm(&p, &cl) != 0) {
				*err = "bad time in business hours";
				return -EINVAL;
			}
			if (cl <= o) {
				*err = "closing time not after opening time";
				return -EINVAL;
			}
			for (i = 0; i < 7; i++) {
				if (!pending[i])
					continue;
				open[i] = o;
				close[i] = cl;
				seen[i] = true;
				pending[i] = false;
			}
			have_pending = false;
		} else {
			*err = "unexpected character in business hours";
			return -EINVAL;
		}
		/* "Mon09:00-17:00" or "09:00-17:00x" */
		if (*p != '\0' && *p != ',' && !ascii_space(*p)) {
			*err = "unexpected character in business hours";
			return -EINVAL;
		}
	}
	if (have_pending) {
		*err = "days without hours in business hours";
		return -EINVAL;
	}
	for (i = 0; i < 7; i++) {
		c->open_min[i] = open[i];
		c->close_min[i] = close[i];
	}
	return 0;
}

static int
cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* adds v[0..n) to the holiday set; on -ENOMEM the set is unchanged */
static int
holidays_merge(struct calendar *c, const int32_t *v, size_t n)
{
	int32_t *h;
	size_t need, cap, i, k;

	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof(*h) - c->n_holidays)
		return -ENOMEM;
	need = c->n_holidays + n;
	if (need > c->cap_holidays) {
		cap = c->cap_holidays < 16 ? 16 : c->cap_holidays;
		while (cap < need)
			cap = cap > SIZE_MAX / sizeof(*h) / 2 ? need : cap * 2;
		h = realloc(c->holidays, cap * sizeof(*h));
		if (h == NULL)
			return -ENOMEM;
		c->holidays = h;
		c->cap_holidays = cap;
	}
	memcpy(c->holidays + c->n_holidays, v, n * sizeof(*v));
	qsort(c->holidays, need, sizeof(*c->holidays), cmp_i32);
	for (i = 0, k = 0; i < need; i++)
		if (k == 0 || c->holidays[k - 1] != c->holidays[i])
			c->holidays[k++] = c->holidays[i];
	c->n_holidays = k;
	return 0;
}

/* a growable list of YYYYMMDD values, owned by its user */
struct datelist {
	int32_t *v;
	size_t n, cap;
};

static int
datelist_push(struct datelist *l, int32_t x)
{
	int32_t *v;
	size_t cap;

	if (l->n == l->cap) {
		if (l->cap > SIZE_MAX / sizeof(*v) / 2)
			return -ENOMEM;
		cap = l->cap == 0 ? 16 : l->cap * 2;
		v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

/* exactly "YYYY-MM-DD" in p[0..n), a real date in years 1..9999 */
static int
parse_date(const char *p, size_t n, int32_t *ymd, const char **err)
{
	static const char shape[] = "dddd-dd-dd";
	int64_t day, yy;
	int y, m, d, mm, dd;
	size_t i;

	if (n != sizeof(shape) - 1)
		goto bad;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? !ascii_digit(p[i]) : p[i] != shape[i])
			goto bad;
	y = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
	    (p[3] - '0');
	m = (p[5] - '0') * 10 + (p[6] - '0');
	d = (p[8] - '0') * 10 + (p[9] - '0');
	/* a day number round trip rejects 02-30 without a month table */
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > 31)
		goto nosuch;
	day = timefmt_days_from_civil(y, m, d);
	timefmt_civil_from_days(day, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		goto nosuch;
	*ymd = (int32_t)(y * 10000 + m * 100 + d);
	return 0;
bad:
	*err = "bad holiday date, expected YYYY-MM-DD";
	return -EINVAL;
nosuch:
	*err = "no such holiday date";
	return -EINVAL;
}

int
calendar_add_holidays(struct calendar *c, const char *list, const char **err)
{
	struct datelist l = {NULL, 0, 0};
	const char *p, *q, *dummy;
	int32_t ymd;
	int r;

	if (err == NULL)
		err = &dummy;
	if (c == NULL || list == NULL) {
		*err = "missing holiday list";
		return -EINVAL;
	}
	/* collect first, so a bad item anywhere leaves the set alone */
	for (p = list;;) {
		while (ascii_space(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (q = p; *q != '\0' && *q != ',' && !ascii_space(*q); q++)
			;
		r = parse_date(p, (size_t)(q - p), &ymd, err);
		if (r != 0)
			goto out;
		r = datelist_push(&l, ymd);
		if (r != 0) {
			*err = "out of memory";
			goto out;
		}
		p = q;
	}
	r = holidays_merge(c, l.v, l.n);
	if (r != 0)
		*err = "out of memory";
out:
	free(l.v);
	return r;
}

int
calendar_load_holidays(
    struct calendar *c, const char *path, char *err, size_t errlen)
{
	static const char bom[] = "\xEF\xBB\xBF";
	struct datelist l = {NULL, 0, 0};
	char *line = NULL;
	const char *p, *end, *hash, *msg;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int32_t ymd;
	FILE *f = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (c == NULL || path == NULL)
		return -EINVAL;
	f = fopen(path, "r");
	if (f == NULL) {
		r = -errno;
		if (err != NULL)
			(void)snprintf(
			    err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	for (;;) {
		errno = 0;
		len = getline(&line, &cap, f);
		if (len < 0)
			break;
		lineno++;
		p = line;
		end = line + len;
		if (lineno == 1 && len >= 3 && memcmp(p, bom, 3) == 0)
			p += 3;
		/* explicit ends: a NUL inside a line must not hide the rest */
		hash = memchr(p, '#', (size_t)(end - p));
		if (hash != NULL)
			end = hash;
		while (p < end && ascii_space(*p))
			p++;
		while (end > p && ascii_space(end[-1]))
			end--;
		if (p == end)
			continue;
		r = parse_date(p, (size_t)(end - p), &ymd, &msg);
		if (r == 0) {
			r = datelist_push(&l, ymd);
			msg = "out of memory";
		}
		if (r != 0) {
			if (err != NULL)
				(void)snprintf(err, errlen, "%s:%zu: %s", path,
				    lineno, msg);
			goto out;
		}
	}
	if (ferror(f)) {
		r = errno != 0 ? -errno : -EIO;
		if (err != NULL)
			(void)snprintf(
			    err, errlen, "%s: %s", path, strerror(-r));
		goto out;
	}
	r = holidays_merge(c, l.v, l.n);
	if (r != 0 && err != NULL)
		(void)snprintf(err, errlen, "%s: out of memory", path);
out:
	if (f != NULL)
		(void)fclose(f);
	free(line);
	free(l.v);
	return r;
}

bool
calendar_is_business_day(const struct calendar *c, int64_t t)
{
	int64_t day, sod;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return false;
	return business_date(c, day);
}

bool
calendar_is_open(const struct calendar *c, int64_t t)
{
	int64_t day, sod, open, close;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return false;
	return day_span(c, day, &open, &close) && open <= t && t < close;
}

int64_t
calendar_next_open(const struct calendar *c, int64_t t)
{
	int64_t day, sod, open, close, i;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return -1;
	for (i = 0; i <= CAL_SEARCH_DAYS; i++)
		if (day_span(c, day + i, &open, &close) && close > t)
			return open > t ? open : t;
	return -1;
}

int64_t
calendar_last_open_before(const struct calendar *c, int64_t t)
{
	int64_t day, sod, open, close, i;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return -1;
	for (i = 0; i <= CAL_SEARCH_DAYS; i++) {
		if (!day_span(c, day - i, &open, &close) || open > t)
			continue;
		return t < close ? t : close;
	}
	return -1;
}

int64_t
calendar_add_hours(const struct calendar *c, int64_t t, int64_t secs)
{
	int64_t cur, day, first, sod, open, close;

	if (c == NULL || secs < 0)
		return -1;
	cur = calendar_next_open(c, t);
	if (cur == -1 || timefmt_local_date(cur, &first, &sod) != 0)
		return -1;
	for (day = first; day - first <= CAL_MAX_DAYS; day++) {
		if (!day_span(c, day, &open, &close) || close <= cur)
			continue;
		if (open > cur)
			cur = open;
		if (secs <= close - cur)
			return cur + secs;
		secs -= close - cur;
		cur = close;
	}
	return -1;
}

int64_t
calendar_add_days(const struct calendar *c, int64_t t, int64_t n)
{
	int64_t start, first, sod, day, open, close, r, count = 0;
	bool was_open;

	if (c == NULL || n < 0 || n > CAL_MAX_DAYS)
		return -1;
	was_open = calendar_is_open(c, t);
	start = was_open ? t : calendar_next_open(c, t);
	if (start == -1 || n == 0)
		return start;
	if (timefmt_local_date(start, &first, &sod) != 0)
		return -1;
	/*
	 * Open: the days after today count from one.  Closed: the day of
	 * the next opening is the first.
	 */
	for (day = was_open ? first + 1 : first; day - first <= CAL_MAX_DAYS;
	     day++) {
		if (!day_span(c, day, &open, &close) || ++count < n)
			continue;
		if (!was_open)
			return close;
		if (timefmt_local_instant(day, sod, &r) != 0)
			return -1;
		return r < open ? open : r > close ? close : r;
	}
	return -1;
}

int64_t
calendar_eod(const struct calendar *c, int64_t t)
{
	int64_t day, sod, open, close, i;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return -1;
	for (i = 0; i <= CAL_SEARCH_DAYS; i++)
		if (day_span(c, day + i, &open, &close) && close > t)
			return close;
	return -1;
}

int64_t
calendar_eow(const struct calendar *c, int64_t t)
{
	int64_t day, sod, monday, wk, d, open, close;

	if (c == NULL || timefmt_local_date(t, &day, &sod) != 0)
		return -1;
	monday = day - (timefmt_weekday(day) + 6) % 7;
	for (wk = monday; wk - monday <= CAL_SEARCH_DAYS; wk += 7) {
		for (d = wk + 6; d >= wk; d--) {
			if (!day_span(c, d, &open, &close))
				continue;
			if (close > t)
				return close;
			break;
		}
	}
	return -1;
}

enum bkind { BK_DAYS, BK_SECS, BK_EOD, BK_EOW };

static const struct {
	const char *name;
	enum bkind kind;
	int64_t mult;
} bunits[] = {
    {"day", BK_DAYS, 1},
    {"days", BK_DAYS, 1},
    {"h", BK_SECS, SECS_PER_HOUR},
    {"hr", BK_SECS, SECS_PER_HOUR},
    {"hrs", BK_SECS, SECS_PER_HOUR},
    {"hour", BK_SECS, SECS_PER_HOUR},
    {"hours", BK_SECS, SECS_PER_HOUR},
    {"m", BK_SECS, SECS_PER_MIN},
    {"min", BK_SECS, SECS_PER_MIN},
    {"mins", BK_SECS, SECS_PER_MIN},
    {"minute", BK_SECS, SECS_PER_MIN},
    {"minutes", BK_SECS, SECS_PER_MIN},
};

/*
 * Recognises "[in] N business UNIT", "eod" and "eow".  Returns 0 if s is
 * none of them (timefmt's business), 1 with *kind and *n (days or
 * seconds) set, or -EINVAL with *err when s is one of them but malformed:
 * once "business" or "eod" is seen, an error here says more than
 * timefmt's "unknown time expression" would.
 */
static int
classify(const char *s, enum bkind *kind, int64_t *n, const char **err)
{
	const char *p = skip_space(s);
	int64_t v = 0, limit;
	size_t wl, i;
	bool big = false;

	wl = word_len(p);
	if (ascii_word_is(p, wl, "eod") || ascii_word_is(p, wl, "eow")) {
		*kind = ascii_lower(p[2]) == 'd' ? BK_EOD : BK_EOW;
		*n = 0;
		p += wl;
		goto end;
	}
	if (ascii_word_is(p, wl, "in")) {
		if (!ascii_space(p[wl]))
			return 0;
		p = skip_space(p + wl);
	}
	if (!ascii_digit(*p))
		return 0;
	for (; ascii_digit(*p); p++) {
		if (v >= NUMBER_CAP)
			big = true;
		else
			v = v * 10 + (*p - '0');
	}
	p = skip_space(p);
	wl = word_len(p);
	if (!ascii_word_is(p, wl, "business"))
		return 0;
	p = skip_space(p + wl);
	wl = word_len(p);
	if (wl == 0) {
		*err = "missing unit in business time";
		return -EINVAL;
	}
	for (i = 0; i < sizeof(bunits) / sizeof(bunits[0]); i++)
		if (ascii_word_is(p, wl, bunits[i].name))
			break;
	if (i == sizeof(bunits) / sizeof(bunits[0])) {
		*err = "unknown unit in business time";
		return -EINVAL;
	}
	p += wl;
	limit = bunits[i].kind == BK_DAYS ? CAL_MAX_DAYS
	                                  : CAL_MAX_DAYS * SECS_PER_DAY;
	if (big || v > limit / bunits[i].mult) {
		*err = "business time out of range";
		return -EINVAL;
	}
	*kind = bunits[i].kind;
	*n = v * bunits[i].mult;
end:
	if (*skip_space(p) != '\0') {
		*err = "unexpected text after time expression";
		return -EINVAL;
	}
	return 1;
}

int
calendar_parse_when(const struct calendar *c, const char *s, int64_t now,
    int64_t *ret, const char **err)
{
	enum bkind kind;
	const char *dummy;
	int64_t n, t;
	int r;

	if (err == NULL)
		err = &dummy;
	if (c == NULL || s == NULL || ret == NULL) {
		*err = "missing time expression";
		return -EINVAL;
	}
	r = classify(s, &kind, &n, err);
	if (r == 0)
		return timefmt_parse(s, now, ret, err);
	if (r < 0)
		return r;
	switch (kind) {
	case BK_DAYS:
		t = calendar_add_days(c, now, n);
		break;
	case BK_SECS:
		t = calendar_add_hours(c, now, n);
		break;
	case BK_EOD:
		t = calendar_eod(c, now);
		break;
	default:
		t = calendar_eow(c, now);
		break;
	}
	if (t == -1) {
		*err = "no business hours in reach";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

bool
calendar_when_is_business(const char *s)
{
	enum bkind kind;
	const char *msg;
	int64_t n;

	return s != NULL && classify(s, &kind, &n, &msg) != 0;
}

/* appends to a bounded buffer, truncating; pos counts what fitted */
struct out {
	char *buf;
	size_t len, pos;
};

static void
out_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->pos + 1 >= o->len)
		return;
	if (n > o->len - 1 - o->pos)
		n = o->len - 1 - o->pos;
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
	o->buf[o->pos] = '\0';
}

static void
out_hhmm(struct out *o, int mins)
{
	char tmp[16];

	(void)snprintf(tmp, sizeof(tmp), "%02d:%02d", mins / 60, mins % 60);
	out_str(o, tmp);
}

void
calendar_format_hours(const struct calendar *c, char *buf, size_t len)
{
	struct out o = {buf, len, 0};
	bool done[7] = {false}, same[7];
	int k, j, end, open, close, o2, c2;
	bool any = false, first;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	if (c == NULL)
		return;
	/* k runs Monday first; the weekday is (k + 1) % 7 */
	for (k = 0; k < 7; k++) {
		if (done[k] || !hours_of(c, (k + 1) % 7, &open, &close))
			continue;
		for (j = k; j < 7; j++)
			same[j] = !done[j] &&
			    hours_of(c, (j + 1) % 7, &o2, &c2) && o2 == open &&
			    c2 == close;
		if (any)
			out_str(&o, ", ");
		any = true;
		first = true;
		j = k;
		while (j < 7) {
			if (!same[j]) {
				j++;
				continue;
			}
			/* a run of neighbouring days becomes "Mon-Fri" */
			for (end = j; end + 1 < 7 && same[end + 1]; end++)
				;
			if (!first)
				out_str(&o, ",");
			first = false;
			out_str(&o, day_abbr[(j + 1) % 7]);
			if (end > j) {
				out_str(&o, "-");
				out_str(&o, day_abbr[(end + 1) % 7]);
			}
			for (; j <= end; j++)
				done[j] = true;
		}
		out_str(&o, " ");
		out_hhmm(&o, open);
		out_str(&o, "-");
		out_hhmm(&o, close);
	}
	if (!any)
		out_str(&o, "closed");
}
