/* SPDX-License-Identifier: MIT */
/*
 * conf_query.c: what the daemon asks of a loaded configuration: people,
 * their managers and chains, admins, kinds, and times in each person's
 * calendar and zone.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "conf_impl.h"
#include "timefmt.h"
#include "tz.h"

/*
 * A WHEN for the conf_when family, in cal and zone (NULL: the daemon's).
 * Plain durations are tried before timefmt_parse, which wants "in 2h".
 */
int
conf_resolve(const struct calendar *cal, const char *zone, const char *text,
    int64_t now, int64_t *ret, const char **err)
{
	struct tz_save tz;
	const char *dummy;
	int64_t d;
	int r;

	if (err == NULL)
		err = &dummy;
	if (text == NULL) {
		*err = "missing time expression";
		return -EINVAL;
	}
	if (tz_enter(&tz, zone) < 0) {
		*err = "out of memory";
		return -ENOMEM;
	}
	if (calendar_when_is_business(text))
		r = calendar_parse_when(cal, text, now, ret, err);
	else if (timefmt_parse_duration(text, &d) == 0) {
		if (now > INT64_MAX - d) {
			*err = "duration out of range";
			r = -EINVAL;
		} else {
			*ret = now + d;
			r = 0;
		}
	} else
		r = timefmt_parse(text, now, ret, err);
	tz_leave(&tz);
	return r;
}

const struct person *
conf_person(const struct conf *c, const char *login)
{
	size_t i;

	if (login == NULL)
		return NULL;
	for (i = 0; i < c->n_people; i++)
		if (strcmp(c->people[i].login, login) == 0)
			return &c->people[i];
	return NULL;
}

const char *
conf_manager_of(const struct conf *c, const char *login)
{
	const struct person *p = conf_person(c, login);

	if (p != NULL && p->manager != NULL)
		return p->manager;
	return c->fallback_manager;
}

size_t
conf_chain(
    const struct conf *c, const char *login, const char **chain, size_t max)
{
	const char *m, *at = login;
	size_t n = 0, i;

	for (; n < max; at = m) {
		m = conf_manager_of(c, at);
		for (i = 0; m != NULL && i < n; i++)
			if (strcmp(chain[i], m) == 0)
				m = NULL; /* a cycle: the chain ends */
		if (m == NULL || strcmp(m, login) == 0)
			break;
		chain[n++] = m;
	}
	return n;
}

bool
conf_manages(const struct conf *c, const char *manager, const char *login)
{
	const char *m = login;
	int depth;

	/* bounded: a cycle in the configuration must not hang a request */
	for (depth = 0; depth < 32; depth++) {
		m = conf_manager_of(c, m);
		if (m == NULL || strcmp(m, login) == 0)
			return false;
		if (strcmp(m, manager) == 0)
			return true;
	}
	return false;
}

bool
conf_is_admin(const struct conf *c, const char *login)
{
	size_t i;

	for (i = 0; i < c->n_admins; i++)
		if (strcmp(c->admins[i], login) == 0)
			return true;
	return false;
}

const struct kind *
conf_kind(const struct conf *c, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < c->n_kinds; i++)
		if (strcmp(c->kinds[i].name, name) == 0)
			return &c->kinds[i];
	return NULL;
}

const struct calendar *
conf_calendar_of(const struct conf *c, const char *login, const char **ret_zone)
{
	const struct person *p = conf_person(c, login);

	if (ret_zone != NULL)
		*ret_zone = p != NULL && p->timezone != NULL ? p->timezone
		                                             : c->calendar_tz;
	return p != NULL ? &p->cal : &c->calendar;
}

int
conf_when(const struct conf *c, const char *login, const char *text,
    int64_t now, int64_t *ret, const char **err)
{
	const struct calendar *cal;
	const char *zone;

	cal = conf_calendar_of(c, login, &zone);
	return conf_resolve(cal, zone, text, now, ret, err);
}

/* f(calendar, t) worked out in login's calendar and zone: computed in the
 * wrong zone it would be wrong, not just late */
static int64_t
in_calendar_of(const struct conf *c, const char *login, int64_t t,
    int64_t (*f)(const struct calendar *, int64_t))
{
	const struct calendar *cal;
	const char *zone;
	struct tz_save tz;
	int64_t r;

	cal = conf_calendar_of(c, login, &zone);
	if (tz_enter(&tz, zone) < 0)
		return -1;
	r = f(cal, t);
	tz_leave(&tz);
	return r;
}

int64_t
conf_business_before(const struct conf *c, const char *login, int64_t t)
{
	return in_calendar_of(c, login, t, calendar_last_open_before);
}

int64_t
conf_business_after(const struct conf *c, const char *login, int64_t t)
{
	return in_calendar_of(c, login, t, calendar_next_open);
}

/* the opening after t's business day, or the next one if t is closed */
static int64_t
next_morning(const struct calendar *cal, int64_t t)
{
	int64_t close;

	if (calendar_is_open(cal, t) && (close = calendar_eod(cal, t)) > t)
		t = close;
	return calendar_next_open(cal, t);
}

int64_t
conf_next_morning(const struct conf *c, const char *login, int64_t t)
{
	return in_calendar_of(c, login, t, next_morning);
}

enum webhook_format
conf_webhook_format(const struct conf *c, const char *login)
{
	const struct person *p = conf_person(c, login);

	return p != NULL && p->has_webhook_format ? p->webhook_format
	                                          : c->webhook_format;
}

bool
conf_keeps_hours(const struct conf *c, const char *login)
{
	const struct person *p = conf_person(c, login);

	return c->calendar_set || (p != NULL && p->own_hours);
}

int
conf_kind_due(const struct conf *c, const struct kind *k, const char *login,
    int64_t now, int64_t *ret, const char **err)
{
	return conf_when(c, login, k->due, now, ret, err);
}
