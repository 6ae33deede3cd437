/* SPDX-License-Identifier: MIT */
/*
 * conf.c: loading promised.conf.  inih hands us one key at a time; each is
 * matched against the keys its section knows and parsed at once, so an
 * unknown key or a bad value is reported with the line it stands on.
 * Secrets are read from their files as their keys are met and are never
 * printed.  Relative paths are taken as given, relative to the daemon's
 * working directory, which is what a development checkout wants.
 *
 * What depends on the whole file (per-person calendars, whether a kind's
 * due can be met with the final calendar) is settled after the parse;
 * the loader counts lines itself so those errors name a line too.
 * Single values are parsed in conf_value.c; what the daemon asks of the
 * result is answered in conf_query.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "conf.h"
#include "conf_impl.h"
#include "link.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define MAX_PEOPLE 10000
#define MAX_KINDS 1000

static struct person *
person_get(struct loader *ld, const char *login)
{
	struct conf *c = ld->c;
	struct person *p;
	size_t i;

	for (i = 0; i < c->n_people; i++)
		if (strcmp(c->people[i].login, login) == 0)
			return &c->people[i];
	if (c->n_people == ld->cap_people) {
		size_t cap = ld->cap_people ? ld->cap_people * 2 : 16;

		if (c->n_people == MAX_PEOPLE)
			return NULL;
		if (cap > MAX_PEOPLE)
			cap = MAX_PEOPLE;
		p = realloc(c->people, cap * sizeof(*p));
		if (p == NULL)
			return NULL;
		c->people = p;
		ld->cap_people = cap;
	}
	p = &c->people[c->n_people];
	memset(p, 0, sizeof(*p));
	/* their own hours until the file is read, then the effective ones */
	calendar_init(&p->cal);
	if ((p->login = strdup(login)) == NULL)
		return NULL;
	c->n_people++;
	return p;
}

static int
set_person(
    struct loader *ld, const char *section, const char *name, const char *value)
{
	const char *login = section + strlen("person ");
	struct person *p;
	const char *e;

	if (!util_login_ok(login))
		return conf_bad(
		    ld, "[%s]: '%s' is not a login name", section, login);
	if ((p = person_get(ld, login)) == NULL) {
		if (ld->c->n_people == MAX_PEOPLE)
			return conf_bad(ld, "[%s]: more than %d people",
			    section, MAX_PEOPLE);
		return -ENOMEM;
	}
	if (strcmp(name, "email") == 0) {
		if (!util_email_ok(value))
			return conf_bad(ld,
			    "[%s] email: '%s' is not an address "
			    "like dan@example.com",
			    section, value);
		return conf_set_str(&p->email, value);
	}
	if (strcmp(name, "manager") == 0) {
		if (!util_login_ok(value) || strcmp(value, login) == 0)
			return conf_bad(ld,
			    "[%s] manager: '%s' is not another "
			    "person's login",
			    section, value);
		return conf_set_str(&p->manager, value);
	}
	if (strcmp(name, "webhook") == 0) {
		if (!conf_url_ok(value))
			return conf_bad(ld,
			    "[%s] webhook: '%s' is not an http:// "
			    "or https:// URL",
			    section, value);
		return conf_set_str(&p->webhook, value);
	}
	if (strcmp(name, "webhook_format") == 0) {
		if (strcmp(value, "json") == 0)
			p->webhook_format = WEBHOOK_JSON;
		else if (strcmp(value, "slack") == 0)
			p->webhook_format = WEBHOOK_SLACK;
		else
			return conf_bad(ld,
			    "[%s] webhook_format: '%s' is not json or slack",
			    section, value);
		p->has_webhook_format = true;
		return 0;
	}
	if (strcmp(name, "timezone") == 0) {
		if (!tz_zone_ok(value))
			return conf_bad(ld,
			    "[%s] timezone: '%s' is not a known "
			    "zone like Europe/Berlin",
			    section, value);
		return conf_set_str(&p->timezone, value);
	}
	if (strcmp(name, "agenda") == 0) {
		p->has_agenda = true;
		return conf_set_clock(
		    ld, section, name, value, &p->agenda_minute);
	}
	if (strcmp(name, "business_hours") == 0) {
		if (calendar_set_hours(&p->cal, value, &e) < 0)
			return conf_bad(ld, "[%s] business_hours: '%s': %s",
			    section, value, e);
		p->own_hours = true;
		return 0;
	}
	return conf_bad(ld, "[%s]: unknown key '%s'", section, name);
}

static bool
kind_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return i >= 1 && i <= CONF_KIND_NAME_MAX;
}

/* the kind called name, made on first sight; NULL: out of memory or full */
static struct kind *
kind_get(struct loader *ld, const char *name)
{
	struct conf *c = ld->c;
	struct kind *k;
	struct kind_lines *kl;
	size_t i, cap;

	for (i = 0; i < c->n_kinds; i++)
		if (strcmp(c->kinds[i].name, name) == 0)
			return &c->kinds[i];
	if (c->n_kinds == ld->cap_kinds) {
		if (c->n_kinds == MAX_KINDS)
			return NULL;
		cap = ld->cap_kinds ? ld->cap_kinds * 2 : 8;
		if (cap > MAX_KINDS)
			cap = MAX_KINDS;
		if ((k = realloc(c->kinds, cap * sizeof(*k))) == NULL)
			return NULL;
		c->kinds = k;
		/* cap_kinds grows only once both arrays have */
		if ((kl = realloc(ld->klines, cap * sizeof(*kl))) == NULL)
			return NULL;
		ld->klines = kl;
		ld->cap_kinds = cap;
	}
	k = &c->kinds[c->n_kinds];
	memset(k, 0, sizeof(*k));
	if ((k->name = strdup(name)) == NULL)
		return NULL;
	ld->klines[c->n_kinds].first = ld->line;
	ld->klines[c->n_kinds].due = 0;
	c->n_kinds++;
	return k;
}

static int
set_kind(
    struct loader *ld, const char *section, const char *name, const char *value)
{
	const char *kname = section[4] == ' ' ? section + 5 : "";
	struct kind *k;
	const char *e;
	int64_t t;
	int r;

	if (!kind_name_ok(kname))
		return conf_bad(ld,
		    "[%s]: '%s' is not a kind name (lower-case letters, "
		    "digits and '-', 1 to %d of them)",
		    section, kname, CONF_KIND_NAME_MAX);
	if ((k = kind_get(ld, kname)) == NULL) {
		if (ld->c->n_kinds == MAX_KINDS)
			return conf_bad(
			    ld, "[%s]: more than %d kinds", section, MAX_KINDS);
		return -ENOMEM;
	}
	if (strcmp(name, "due") == 0) {
		/* the syntax now, at its line; whether the final calendar
		 * can meet it once the whole file is read (check_kinds) */
		r = conf_resolve(&ld->c->calendar, ld->c->calendar_tz, value,
		    util_now(), &t, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return conf_bad(
			    ld, "[%s] due: '%s': %s", section, value, e);
		ld->klines[k - ld->c->kinds].due = ld->line;
		return conf_set_str(&k->due, value);
	}
	if (strcmp(name, "nudge_before") == 0) {
		r = timefmt_parse_duration_list(
		    value, k->nudge, PROTO_MAX_NUDGES);
		if (r < 0)
			return conf_bad(ld,
			    "[%s] nudge_before: '%s' is not a list of at "
			    "most %d durations like 24h,1h",
			    section, value, PROTO_MAX_NUDGES);
		k->n_nudge = (size_t)r;
		k->has_nudge = true;
		return 0;
	}
	if (strcmp(name, "escalate_after") == 0) {
		r = conf_set_duration(
		    ld, section, name, value, 0, &k->escalate_after);
		k->has_escalate_after = r == 0;
		return r;
	}
	if (strcmp(name, "escalation_repeat") == 0) {
		r = conf_set_duration(
		    ld, section, name, value, 1, &k->escalation_repeat);
		k->has_escalation_repeat = r == 0;
		return r;
	}
	return conf_bad(ld, "[%s]: unknown key '%s'", section, name);
}

/* "Mon 08:00": a weekday (three letters or whole, any case), a time */
static int
set_digest_schedule(struct loader *ld, const char *value)
{
	static const char *const days[7] = {"sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday"};
	const char *p = value, *w;
	size_t wl;
	int wday, h = 0, m = 0, nd = 0;

	if (strcmp(value, "none") == 0) {
		ld->c->digest_wday = -1;
		ld->c->digest_minute = 0;
		return 0;
	}
	for (w = p; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'); p++)
		;
	wl = (size_t)(p - w);
	for (wday = 0; wday < 7; wday++)
		if ((wl == 3 || wl == strlen(days[wday])) &&
		    strncasecmp(w, days[wday], wl) == 0)
			break;
	if (wday == 7 || (*p != ' ' && *p != '\t'))
		goto bad;
	while (*p == ' ' || *p == '\t')
		p++;
	for (; *p >= '0' && *p <= '9' && nd < 2; p++, nd++)
		h = h * 10 + (*p - '0');
	if (nd == 0 || *p++ != ':')
		goto bad;
	for (nd = 0; *p >= '0' && *p <= '9' && nd < 2; p++, nd++)
		m = m * 10 + (*p - '0');
	if (nd != 2 || *p != '\0' || h > 23 || m > 59)
		goto bad;
	ld->c->digest_wday = wday;
	ld->c->digest_minute = h * 60 + m;
	return 0;
bad:
	return conf_bad(ld,
	    "[digest] schedule: '%s' is not a weekday and a time like "
	    "Mon 08:00, or none",
	    value);
}

static int
set_calendar(struct loader *ld, const char *name, const char *value)
{
	struct conf *c = ld->c;
	char msg[384];
	const char *e;
	int r;

	if (strcmp(name, "timezone") == 0) {
		if (!tz_zone_ok(value))
			return conf_bad(ld,
			    "[calendar] timezone: '%s' is not a known zone "
			    "like Europe/Berlin",
			    value);
		return conf_set_str(&c->calendar_tz, value);
	}
	if (strcmp(name, "business_hours") == 0) {
		if (calendar_set_hours(&c->calendar, value, &e) < 0)
			return conf_bad(ld,
			    "[calendar] business_hours: '%s': %s", value, e);
		return 0;
	}
	/* both add to the holidays: several lines, a file and a list */
	if (strcmp(name, "holidays") == 0) {
		r = calendar_add_holidays(&c->calendar, value, &e);
		if (r == -EINVAL)
			return conf_bad(
			    ld, "[calendar] holidays: '%s': %s", value, e);
		return r;
	}
	if (strcmp(name, "holidays_file") == 0) {
		r = calendar_load_holidays(
		    &c->calendar, value, msg, sizeof(msg));
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return conf_bad(
			    ld, "[calendar] holidays_file: %s", msg);
		return 0;
	}
	return conf_bad(ld, "[calendar]: unknown key '%s'", name);
}

/* returns 0, or -EINVAL with a message in ld->err, or -ENOMEM */
static int
set_key(
    struct loader *ld, const char *section, const char *name, const char *value)
{
	struct conf *c = ld->c;
	size_t n;
	int r;

	if (strncmp(section, "person ", 7) == 0)
		return set_person(ld, section, name, value);
	if (strncmp(section, "kind ", 5) == 0 || strcmp(section, "kind") == 0)
		return set_kind(ld, section, name, value);
	if (strcmp(section, "calendar") == 0) {
		c->calendar_set = true;
		return set_calendar(ld, name, value);
	}
	if (strcmp(section, "http") == 0)
		return conf_set_http(ld, name, value);
	if (strcmp(section, "mail") == 0)
		return conf_set_mail(ld, name, value);
	if (strcmp(section, "digest") == 0) {
		if (strcmp(name, "schedule") == 0)
			return set_digest_schedule(ld, value);
		return conf_bad(ld, "[digest]: unknown key '%s'", name);
	}
	if (strcmp(section, "daemon") == 0) {
		if (strcmp(name, "socket") == 0 ||
		    strcmp(name, "database") == 0) {
			if (value[0] == '\0')
				return conf_bad(
				    ld, "[daemon] %s: must not be empty", name);
			if (name[0] == 's')
				ld->socket_line = ld->line;
			return conf_set_str(
			    name[0] == 's' ? &c->socket : &c->database, value);
		}
		if (strcmp(name, "admins") == 0)
			return conf_set_admins(ld, value);
		if (strcmp(name, "max_connections") == 0)
			return conf_set_count(ld, section, name, value, 1,
			    100000, &c->max_connections);
		if (strcmp(name, "max_connections_per_user") == 0)
			return conf_set_count(ld, section, name, value, 1,
			    100000, &c->max_connections_per_user);
		if (strcmp(name, "idle_timeout") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->idle_timeout);
		if (strcmp(name, "max_database_size") == 0)
			return conf_set_size(
			    ld, section, name, value, &c->max_database_size);
		if (strcmp(name, "durability") == 0) {
			if (strcmp(value, "full") != 0 &&
			    strcmp(value, "normal") != 0)
				return conf_bad(ld,
				    "[daemon] durability: '%s' is not full "
				    "or normal",
				    value);
			c->durability_full = value[0] == 'f';
			return 0;
		}
		if (strcmp(name, "log_level") == 0) {
			enum log_level l = log_level_from_string(value);

			if (l == LOG_LEVEL_INVALID)
				return conf_bad(ld,
				    "[daemon] log_level: '%s' is not "
				    "one of error, warning, info, "
				    "debug",
				    value);
			c->log_level = l;
			return 0;
		}
	} else if (strcmp(section, "policy") == 0) {
		if (strcmp(name, "nudge_before") == 0) {
			r = timefmt_parse_duration_list(
			    value, c->nudge_before, PROTO_MAX_NUDGES);
			if (r < 0)
				return conf_bad(ld,
				    "[policy] nudge_before: '%s' is "
				    "not a list of at most %d "
				    "durations like 24h,1h",
				    value, PROTO_MAX_NUDGES);
			c->n_nudge_before = (size_t)r;
			return 0;
		}
		if (strcmp(name, "escalate_after") == 0)
			return conf_set_duration(
			    ld, section, name, value, 0, &c->escalate_after);
		if (strcmp(name, "escalation_repeat") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->escalation_repeat);
		if (strcmp(name, "escalate_up_after") == 0)
			return conf_set_count(ld, section, name, value, 1, 1000,
			    &c->escalate_up_after);
		if (strcmp(name, "escalate_in_business_hours") == 0) {
			if (strcmp(value, "true") == 0)
				c->escalate_in_hours = true;
			else if (strcmp(value, "false") == 0)
				c->escalate_in_hours = false;
			else
				return conf_bad(ld,
				    "[policy] escalate_in_business_hours: '%s' "
				    "is not true or false",
				    value);
			return 0;
		}
		if (strcmp(name, "fallback_manager") == 0) {
			if (!util_login_ok(value))
				return conf_bad(ld,
				    "[policy] fallback_manager: "
				    "'%s' is not a login name",
				    value);
			return conf_set_str(&c->fallback_manager, value);
		}
	} else if (strcmp(section, "store") == 0) {
		if (strcmp(name, "backend") == 0) {
			if (strcmp(value, "sqlite") != 0 &&
			    strcmp(value, "postgresql") != 0)
				return conf_bad(ld,
				    "[store] backend: '%s' is not sqlite or "
				    "postgresql",
				    value);
			ld->store_line = ld->line;
			c->store_postgresql = value[0] == 'p';
			return 0;
		}
		if (strcmp(name, "conninfo") == 0) {
			if (value[0] == '\0')
				return conf_bad(
				    ld, "[store] conninfo: must not be empty");
			ld->store_line = ld->line;
			return conf_set_str(&c->conninfo, value);
		}
		if (strcmp(name, "leader_poll") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->leader_poll);
	} else if (strcmp(section, "delivery") == 0) {
		if (strcmp(name, "log") == 0)
			return conf_set_str(&c->delivery_log, value);
		if (strcmp(name, "concurrency") == 0)
			return conf_set_count(
			    ld, section, name, value, 1, 1024, &c->concurrency);
		if (strcmp(name, "give_up_after") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->give_up_after);
		if (strcmp(name, "retry_initial") == 0 ||
		    strcmp(name, "retry_max") == 0) {
			ld->retry_line = ld->line;
			return conf_set_duration(ld, section, name, value, 1,
			    name[6] == 'i' ? &c->retry_initial : &c->retry_max);
		}
	} else if (strcmp(section, "smtp") == 0) {
		if (strcmp(name, "url") == 0) {
			if (strncmp(value, "smtp://", 7) != 0 &&
			    strncmp(value, "smtps://", 8) != 0)
				return conf_bad(ld,
				    "[smtp] url: '%s' is not an "
				    "smtp:// or smtps:// URL",
				    value);
			return conf_set_str(&c->smtp_url, value);
		}
		if (strcmp(name, "from") == 0) {
			if (!util_email_ok(value))
				return conf_bad(ld,
				    "[smtp] from: '%s' is not an "
				    "address like "
				    "promised@example.com",
				    value);
			return conf_set_str(&c->smtp_from, value);
		}
		if (strcmp(name, "starttls") == 0) {
			if (strcmp(value, "required") == 0)
				c->smtp_starttls = SMTP_TLS_REQUIRED;
			else if (strcmp(value, "optional") == 0)
				c->smtp_starttls = SMTP_TLS_OPTIONAL;
			else if (strcmp(value, "off") == 0)
				c->smtp_starttls = SMTP_TLS_OFF;
			else
				return conf_bad(ld,
				    "[smtp] starttls: '%s' is not "
				    "one of required, optional, off",
				    value);
			return 0;
		}
		if (strcmp(name, "username") == 0)
			return conf_set_str(&c->smtp_username, value);
		if (strcmp(name, "password_file") == 0)
			return conf_read_secrets(
			    ld, section, name, value, &c->smtp_password, 1, &n);
		if (strcmp(name, "timeout") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->smtp_timeout);
		if (strcmp(name, "ca_file") == 0)
			return conf_set_ca_file(ld, value, &c->smtp_ca_file);
		if (strcmp(name, "tls_verify") == 0) {
			if (strcmp(value, "true") == 0)
				c->smtp_tls_verify = true;
			else if (strcmp(value, "false") == 0)
				c->smtp_tls_verify = false;
			else
				return conf_bad(ld,
				    "[smtp] tls_verify: '%s' is not true or "
				    "false",
				    value);
			return 0;
		}
	} else if (strcmp(section, "webhook") == 0) {
		if (strcmp(name, "format") == 0) {
			if (strcmp(value, "json") == 0)
				c->webhook_format = WEBHOOK_JSON;
			else if (strcmp(value, "slack") == 0)
				c->webhook_format = WEBHOOK_SLACK;
			else
				return conf_bad(ld,
				    "[webhook] format: '%s' is not "
				    "json or slack",
				    value);
			return 0;
		}
		if (strcmp(name, "secret_file") == 0)
			return conf_read_secrets(ld, section, name, value,
			    c->webhook_secrets, 2, &c->n_webhook_secrets);
		if (strcmp(name, "timeout") == 0)
			return conf_set_duration(
			    ld, section, name, value, 1, &c->webhook_timeout);
	} else
		return conf_bad(ld, "unknown section [%s]", section);
	return conf_bad(ld, "[%s]: unknown key '%s'", section, name);
}

/* inih handler: returns nonzero on success */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	int r;

	if (ld->failed)
		return 1; /* inih reports the first failing line only */
	r = conf_seen_add(ld, section, name);
	if (r == -EEXIST)
		r = conf_bad(ld, "[%s] %s: set twice; give each key once",
		    section, name);
	if (r == 0)
		r = set_key(ld, section, name, value);
	if (r == -ENOMEM)
		snprintf(ld->err, sizeof(ld->err), "out of memory");
	ld->failed = r < 0;
	if (ld->failed)
		ld->err_line = ld->line;
	return r == 0;
}

/* the directory holding path, for defaults that live beside each other */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/*
 * inih's fgets: counts what it reads, so a handler knows its line.  inih
 * reads once per line (its line buffer is fixed; realloc is off), so this
 * count and the line numbers inih reports agree.  inih would take the rest
 * of a line too long for its buffer as a line of its own, and a value cut
 * there, so such a line ends the parse with an error of its own.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	char *s = fgets(str, num, ld->f);
	size_t n;
	int ch;

	if (s == NULL)
		return NULL;
	ld->line++;
	n = strlen(s);
	if (n + 1 < (size_t)num || s[n - 1] == '\n')
		return s;
	if ((ch = getc(ld->f)) == EOF)
		return s;
	(void)ungetc(ch, ld->f);
	if (!ld->failed) {
		conf_bad(ld,
		    "line longer than %d bytes (split a long holidays "
		    "list over several lines)",
		    num - 2);
		ld->failed = true;
		ld->err_line = ld->line;
	}
	return NULL;
}

/*
 * Each person's effective calendar: their own hours or the company's,
 * with the company's holidays.  Only now is the company's final, as
 * [calendar] may come after the [person] sections.
 */
static int
build_calendars(struct conf *c)
{
	int open[7], close[7];
	size_t i;

	for (i = 0; i < c->n_people; i++) {
		struct person *p = &c->people[i];

		memcpy(open, p->cal.open_min, sizeof(open));
		memcpy(close, p->cal.close_min, sizeof(close));
		calendar_free(&p->cal);
		if (calendar_copy(&p->cal, &c->calendar) < 0)
			return -ENOMEM;
		if (p->own_hours) {
			memcpy(p->cal.open_min, open, sizeof(open));
			memcpy(p->cal.close_min, close, sizeof(close));
		}
	}
	return 0;
}

/* every kind has a due, and the final company calendar can meet it */
static int
check_kinds(struct loader *ld, char *err, size_t errlen)
{
	struct conf *c = ld->c;
	int64_t now = util_now(), t;
	const char *e;
	size_t i;
	int r;

	for (i = 0; i < c->n_kinds; i++) {
		const struct kind *k = &c->kinds[i];

		if (k->due == NULL) {
			snprintf(err, errlen,
			    "%s:%d: [kind %s]: no due; every kind needs one, "
			    "like due = 1 business day",
			    c->path, ld->klines[i].first, k->name);
			return -EINVAL;
		}
		r = conf_resolve(
		    &c->calendar, c->calendar_tz, k->due, now, &t, &e);
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: [kind %s] due: '%s': %s",
			    c->path, ld->klines[i].due, k->name, k->due, e);
			return r;
		}
		/* every add of this kind would be refused */
		if (t > now + PROTO_MAX_AHEAD) {
			snprintf(err, errlen,
			    "%s:%d: [kind %s] due: '%s' is more than 10 years "
			    "ahead",
			    c->path, ld->klines[i].due, k->name, k->due);
			return -EINVAL;
		}
	}
	return 0;
}

/* checks what no single line can: references between sections */
static int
check_refs(struct conf *c, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < c->n_people; i++) {
		const char *m = c->people[i].manager;

		if (m != NULL && conf_person(c, m) == NULL) {
			snprintf(err, errlen,
			    "%s: [person %s] manager: no [person %s] section "
			    "(a section with no keys counts as none)",
			    c->path, c->people[i].login, m);
			return -EINVAL;
		}
	}
	if (c->fallback_manager != NULL &&
	    conf_person(c, c->fallback_manager) == NULL) {
		snprintf(err, errlen,
		    "%s: [policy] fallback_manager: no [person %s] section "
		    "(a section with no keys counts as none)",
		    c->path, c->fallback_manager);
		return -EINVAL;
	}
	if (c->smtp_url != NULL && c->smtp_from == NULL) {
		snprintf(err, errlen, "%s: [smtp] url is set but from is not",
		    c->path);
		return -EINVAL;
	}
	return 0;
}

/* path with its directory resolved, or NULL where that cannot be
 * (a directory not made yet); returns malloc'd string; caller frees */
static char *
resolved(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real, *out = NULL;
	size_t need;

	if ((dir = dir_of(path)) == NULL)
		return NULL;
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL)
		return NULL;
	need = strlen(real) + strlen(path) + 2;
	if ((out = malloc(need)) != NULL)
		snprintf(
		    out, need, "%s/%s", real, slash != NULL ? slash + 1 : path);
	free(real);
	return out;
}

/* true if a and b name one file, however they are spelled */
static bool
same_path(const char *a, const char *b)
{
	char *ra, *rb;
	bool same;

	if (strcmp(a, b) == 0)
		return true;
	ra = resolved(a);
	rb = resolved(b);
	same = ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
	free(ra);
	free(rb);
	return same;
}

/* the socket replaces what is at its path at start: never the database
 * or the delivery log */
static int
check_paths(struct loader *ld, char *err, size_t errlen)
{
	struct conf *c = ld->c;
	const char *what = NULL;

	if (same_path(c->socket, c->database))
		what = "database";
	else if (same_path(c->socket, c->delivery_log))
		what = "delivery log";
	if (what == NULL)
		return 0;
	snprintf(err, errlen,
	    "%s:%d: [daemon] socket: '%s' is the %s's path; the socket needs "
	    "a path of its own",
	    c->path, ld->socket_line > 0 ? ld->socket_line : 1, c->socket,
	    what);
	return -EINVAL;
}

int
conf_load(struct conf **ret, const char *path, char *err, size_t errlen)
{
	struct loader ld;
	struct conf *c;
	char *dir = NULL;
	size_t need;
	int line, r;

	*ret = NULL;
	memset(&ld, 0, sizeof(ld));
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	ld.c = c;
	c->log_level = LOG_LEVEL_INFO;
	c->max_connections = 1024;
	c->max_connections_per_user = 64;
	c->idle_timeout = 300;
	c->durability_full = true;
	c->nudge_before[0] = 24 * 3600;
	c->nudge_before[1] = 3600;
	c->n_nudge_before = 2;
	c->escalate_after = 0;
	c->escalation_repeat = 24 * 3600;
	c->escalate_up_after = 2;
	c->escalate_in_hours = true;
	c->concurrency = 32;
	c->leader_poll = 10;
	c->give_up_after = 24 * 3600;
	c->retry_initial = 30;
	c->retry_max = 3600;
	c->smtp_starttls = SMTP_TLS_OPTIONAL;
	c->smtp_timeout = 30;
	c->smtp_tls_verify = true;
	c->webhook_format = WEBHOOK_JSON;
	c->webhook_timeout = 10;
	c->link_ttl = LINK_DEFAULT_TTL;
	conf_http_defaults(c);
	calendar_init(&c->calendar);
	c->digest_wday = -1;
	if ((c->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((ld.f = fopen(path, "re")) == NULL) {
		snprintf(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		r = -ENOENT;
		goto out;
	}
	line = ini_parse_stream(read_line, &ld, handler, &ld);
	if (line == -2) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* inih says where the first error is, ours or a syntax error it
	 * found and has no message for */
	if (ld.failed && (line <= 0 || ld.err_line <= line)) {
		snprintf(err, errlen, "%s:%d: %s", path, ld.err_line, ld.err);
		r = -EINVAL;
		goto out;
	}
	if (line > 0) {
		snprintf(err, errlen,
		    "%s:%d: syntax error (expected [section] or key = value)",
		    path, line);
		r = -EINVAL;
		goto out;
	}
	if ((r = check_refs(c, err, errlen)) < 0)
		goto out;
	if (c->retry_max < c->retry_initial) {
		snprintf(err, errlen,
		    "%s:%d: [delivery] retry_max (%llds) is shorter than "
		    "retry_initial (%llds)",
		    path, ld.retry_line, (long long)c->retry_max,
		    (long long)c->retry_initial);
		r = -EINVAL;
		goto out;
	}
	if (build_calendars(c) < 0)
		goto oom;
	if ((r = check_kinds(&ld, err, errlen)) < 0)
		goto out;
	if ((r = conf_check_mail(c, err, errlen)) < 0)
		goto out;
	if ((r = conf_check_http(c, err, errlen)) < 0)
		goto out;
	if (c->socket == NULL &&
	    conf_set_str(&c->socket, PROMISED_DEFAULT_SOCKET))
		goto oom;
	if (c->database == NULL &&
	    conf_set_str(&c->database, PROMISED_DEFAULT_DATABASE))
		goto oom;
	if (c->delivery_log == NULL) {
		/* with no channel configured, deliveries land beside the
		 * database, so nothing due is ever silently dropped */
		dir = dir_of(c->database);
		if (dir == NULL)
			goto oom;
		need = strlen(dir) + sizeof("/deliveries.log");
		c->delivery_log = malloc(need);
		if (c->delivery_log == NULL)
			goto oom;
		snprintf(c->delivery_log, need, "%s/deliveries.log", dir);
	}
	if ((r = check_paths(&ld, err, errlen)) < 0)
		goto out;
	/* one without the other is a half-made change of store */
	if (c->store_postgresql != (c->conninfo != NULL)) {
		snprintf(err, errlen, "%s:%d: [store] %s", path, ld.store_line,
		    c->store_postgresql
		        ? "backend = postgresql needs a conninfo"
		        : "conninfo is for backend = postgresql");
		r = -EINVAL;
		goto out;
	}
	*ret = c;
	c = NULL;
	r = 0;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	r = -ENOMEM;
out:
	if (ld.f != NULL)
		fclose(ld.f);
	free(ld.klines);
	conf_seen_free(&ld);
	free(dir);
	conf_free(c);
	return r;
}

struct conf *
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return NULL;
	free(c->path);
	free(c->socket);
	free(c->database);
	free(c->conninfo);
	free(c->delivery_log);
	free(c->fallback_manager);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->smtp_username);
	free(c->smtp_ca_file);
	conf_free_secret(c->smtp_password);
	for (i = 0; i < c->n_webhook_secrets; i++)
		conf_free_secret(c->webhook_secrets[i]);
	free(c->http_base_url);
	for (i = 0; i < c->n_link_secrets; i++)
		conf_free_secret(c->link_secrets[i]);
	for (i = 0; i < c->n_people; i++) {
		free(c->people[i].login);
		free(c->people[i].email);
		free(c->people[i].manager);
		free(c->people[i].webhook);
		free(c->people[i].timezone);
		calendar_free(&c->people[i].cal);
	}
	free(c->people);
	for (i = 0; i < c->n_kinds; i++) {
		free(c->kinds[i].name);
		free(c->kinds[i].due);
	}
	free(c->kinds);
	conf_mail_free(c);
	conf_http_free(c);
	free(c->calendar_tz);
	calendar_free(&c->calendar);
	for (i = 0; i < c->n_admins; i++)
		free(c->admins[i]);
	free(c->admins);
	free(c);
	return NULL;
}
