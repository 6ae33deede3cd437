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
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define MAX_PEOPLE 10000
#define MAX_KINDS 1000
#define MAX_SECRET 4096

/* where a [kind] section's keys stand, for errors found after the parse */
struct kind_lines {
	int first; /* its first key */
	int due;   /* its due key, or 0 */
};

struct loader {
	struct conf *c;
	FILE *f;
	int line; /* the line inih last read */
	char err[512];
	int err_line; /* where err stands */
	bool failed;
	size_t cap_people;
	struct kind_lines *klines; /* parallel to c->kinds */
	size_t cap_kinds;
	int socket_line; /* where [daemon] socket stands, or 0 */
	/* "section\nkey" of every key set so far, open addressing */
	char **seen;
	size_t cap_seen, n_seen;
	int retry_line; /* where the later of retry_initial, retry_max is */
};

static int
set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int bad(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* records the first problem's message; returns -EINVAL */
static int
bad(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, sizeof(ld->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* a file of CA certificates: read now, so a typo fails --check-config and
 * a reload rather than every email later */
static int
set_ca_file(struct loader *ld, const char *value, char **dst)
{
	FILE *f;

	if (value[0] != '/')
		return bad(
		    ld, "[smtp] ca_file: '%s' is not an absolute path", value);
	if ((f = fopen(value, "re")) == NULL)
		return bad(
		    ld, "[smtp] ca_file: '%s': %s", value, strerror(errno));
	fclose(f);
	return set_str(dst, value);
}

static int
set_duration(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t *dst)
{
	int64_t d;

	if (timefmt_parse_duration(value, &d) < 0)
		return bad(ld,
		    "[%s] %s: '%s' is not a duration like 0, 30m or 2h",
		    section, name, value);
	if (d < min)
		return bad(ld, "[%s] %s: '%s' is shorter than %llds", section,
		    name, value, (long long)min);
	*dst = d;
	return 0;
}

/* "0" (no limit), "5000000", "500K", "100M", "2G": bytes */
static int
set_size(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t *dst)
{
	char *end;
	long long v;
	int64_t mul = 1;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (*end == 'K' || *end == 'k')
		mul = 1024;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		mul = 1024 * 1024 * 1024;
	if (mul > 1)
		end++;
	if (errno != 0 || end == value || *end != '\0' || v < 0 ||
	    v > INT64_MAX / mul)
		return bad(ld, "[%s] %s: '%s' is not a size like 0, 500M or 2G",
		    section, name, value);
	*dst = (int64_t)v * mul;
	return 0;
}

static int
set_count(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t max, int64_t *dst)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return bad(ld,
		    "[%s] %s: '%s' is not a whole number from %lld "
		    "to %lld",
		    section, name, value, (long long)min, (long long)max);
	*dst = v;
	return 0;
}

static bool
url_ok(const char *s)
{
	size_t i;

	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

/* frees a secret after wiping it, so it does not linger in freed memory */
static void
free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * reads up to max non-empty lines of a secret file into out[]; the file
 * holds nothing else, so surrounding whitespace is dropped
 */
static int
read_secrets(struct loader *ld, const char *section, const char *name,
    const char *path, char **out, size_t max, size_t *ret_n)
{
	char buf[MAX_SECRET + 1], *line, *save = NULL, *e;
	FILE *f;
	size_t len, n = 0;
	int r = 0;

	/* a repeated key replaces, never adds to, what came before */
	for (len = 0; len < max; len++) {
		free_secret(out[len]);
		out[len] = NULL;
	}
	f = fopen(path, "re");
	if (f == NULL)
		return bad(ld, "[%s] %s: cannot read '%s': %s", section, name,
		    path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f) || !feof(f)) {
		r = bad(ld,
		    "[%s] %s: '%s' is unreadable or longer than %d "
		    "bytes",
		    section, name, path, MAX_SECRET);
		goto out;
	}
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		e = line + strlen(line);
		while (e > line &&
		    (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (*line == '\0')
			continue;
		if (n == max) {
			r = bad(ld, "[%s] %s: '%s' holds more than %zu secrets",
			    section, name, path, max);
			goto out;
		}
		if ((r = set_str(&out[n], line)) < 0)
			goto out;
		n++;
	}
	if (n == 0) {
		r = bad(ld, "[%s] %s: '%s' is empty", section, name, path);
		goto out;
	}
	*ret_n = n;
out:
	explicit_bzero(buf, sizeof(buf));
	fclose(f);
	return r;
}

/* "alice, bob carol": logins separated by commas and/or spaces */
static int
set_admins(struct loader *ld, const char *value)
{
	struct conf *c = ld->c;
	char *copy, *tok, *save = NULL, **v;
	size_t i;
	int r = 0;

	for (i = 0; i < c->n_admins; i++)
		free(c->admins[i]);
	free(c->admins);
	c->admins = NULL;
	c->n_admins = 0;
	if ((copy = strdup(value)) == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!util_login_ok(tok)) {
			r = bad(ld, "[daemon] admins: '%s' is not a login name",
			    tok);
			break;
		}
		v = realloc(c->admins, (c->n_admins + 1) * sizeof(*v));
		if (v == NULL) {
			r = -ENOMEM;
			break;
		}
		c->admins = v;
		if ((c->admins[c->n_admins] = strdup(tok)) == NULL) {
			r = -ENOMEM;
			break;
		}
		c->n_admins++;
	}
	free(copy);
	return r;
}

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
		return bad(
		    ld, "[%s]: '%s' is not a login name", section, login);
	if ((p = person_get(ld, login)) == NULL) {
		if (ld->c->n_people == MAX_PEOPLE)
			return bad(ld, "[%s]: more than %d people", section,
			    MAX_PEOPLE);
		return -ENOMEM;
	}
	if (strcmp(name, "email") == 0) {
		if (!util_email_ok(value))
			return bad(ld,
			    "[%s] email: '%s' is not an address "
			    "like dan@example.com",
			    section, value);
		return set_str(&p->email, value);
	}
	if (strcmp(name, "manager") == 0) {
		if (!util_login_ok(value) || strcmp(value, login) == 0)
			return bad(ld,
			    "[%s] manager: '%s' is not another "
			    "person's login",
			    section, value);
		return set_str(&p->manager, value);
	}
	if (strcmp(name, "webhook") == 0) {
		if (!url_ok(value))
			return bad(ld,
			    "[%s] webhook: '%s' is not an http:// "
			    "or https:// URL",
			    section, value);
		return set_str(&p->webhook, value);
	}
	if (strcmp(name, "webhook_format") == 0) {
		if (strcmp(value, "json") == 0)
			p->webhook_format = WEBHOOK_JSON;
		else if (strcmp(value, "slack") == 0)
			p->webhook_format = WEBHOOK_SLACK;
		else
			return bad(ld,
			    "[%s] webhook_format: '%s' is not json or slack",
			    section, value);
		p->has_webhook_format = true;
		return 0;
	}
	if (strcmp(name, "timezone") == 0) {
		if (!tz_zone_ok(value))
			return bad(ld,
			    "[%s] timezone: '%s' is not a known "
			    "zone like Europe/Berlin",
			    section, value);
		return set_str(&p->timezone, value);
	}
	if (strcmp(name, "business_hours") == 0) {
		if (calendar_set_hours(&p->cal, value, &e) < 0)
			return bad(ld, "[%s] business_hours: '%s': %s", section,
			    value, e);
		p->own_hours = true;
		return 0;
	}
	return bad(ld, "[%s]: unknown key '%s'", section, name);
}

/*
 * A WHEN for the conf_when family, in cal and zone (NULL: the daemon's).
 * Plain durations are tried before timefmt_parse, which wants "in 2h".
 */
static int
resolve(const struct calendar *cal, const char *zone, const char *text,
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
		return bad(ld,
		    "[%s]: '%s' is not a kind name (lower-case letters, "
		    "digits and '-', 1 to %d of them)",
		    section, kname, CONF_KIND_NAME_MAX);
	if ((k = kind_get(ld, kname)) == NULL) {
		if (ld->c->n_kinds == MAX_KINDS)
			return bad(
			    ld, "[%s]: more than %d kinds", section, MAX_KINDS);
		return -ENOMEM;
	}
	if (strcmp(name, "due") == 0) {
		/* the syntax now, at its line; whether the final calendar
		 * can meet it once the whole file is read (check_kinds) */
		r = resolve(&ld->c->calendar, ld->c->calendar_tz, value,
		    util_now(), &t, &e);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return bad(ld, "[%s] due: '%s': %s", section, value, e);
		ld->klines[k - ld->c->kinds].due = ld->line;
		return set_str(&k->due, value);
	}
	if (strcmp(name, "nudge_before") == 0) {
		r = timefmt_parse_duration_list(
		    value, k->nudge, PROTO_MAX_NUDGES);
		if (r < 0)
			return bad(ld,
			    "[%s] nudge_before: '%s' is not a list of at "
			    "most %d durations like 24h,1h",
			    section, value, PROTO_MAX_NUDGES);
		k->n_nudge = (size_t)r;
		k->has_nudge = true;
		return 0;
	}
	if (strcmp(name, "escalate_after") == 0) {
		r = set_duration(
		    ld, section, name, value, 0, &k->escalate_after);
		k->has_escalate_after = r == 0;
		return r;
	}
	if (strcmp(name, "escalation_repeat") == 0) {
		r = set_duration(
		    ld, section, name, value, 1, &k->escalation_repeat);
		k->has_escalation_repeat = r == 0;
		return r;
	}
	return bad(ld, "[%s]: unknown key '%s'", section, name);
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
	return bad(ld,
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
			return bad(ld,
			    "[calendar] timezone: '%s' is not a known zone "
			    "like Europe/Berlin",
			    value);
		return set_str(&c->calendar_tz, value);
	}
	if (strcmp(name, "business_hours") == 0) {
		if (calendar_set_hours(&c->calendar, value, &e) < 0)
			return bad(ld, "[calendar] business_hours: '%s': %s",
			    value, e);
		return 0;
	}
	/* both add to the holidays: several lines, a file and a list */
	if (strcmp(name, "holidays") == 0) {
		r = calendar_add_holidays(&c->calendar, value, &e);
		if (r == -EINVAL)
			return bad(
			    ld, "[calendar] holidays: '%s': %s", value, e);
		return r;
	}
	if (strcmp(name, "holidays_file") == 0) {
		r = calendar_load_holidays(
		    &c->calendar, value, msg, sizeof(msg));
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return bad(ld, "[calendar] holidays_file: %s", msg);
		return 0;
	}
	return bad(ld, "[calendar]: unknown key '%s'", name);
}

/* FNV-1a */
static size_t
seen_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static int
seen_grow(struct loader *ld)
{
	size_t cap = ld->cap_seen ? ld->cap_seen * 2 : 64, i, j;
	char **t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (i = 0; i < ld->cap_seen; i++) {
		if (ld->seen[i] == NULL)
			continue;
		for (j = seen_hash(ld->seen[i]) & (cap - 1); t[j] != NULL;
		     j = (j + 1) & (cap - 1))
			;
		t[j] = ld->seen[i];
	}
	free(ld->seen);
	ld->seen = t;
	ld->cap_seen = cap;
	return 0;
}

/*
 * A key given twice in a section would leave one of the two silently
 * ignored: refused, as a typo is.  Holidays alone add up over lines.
 * Returns 0, -EEXIST if seen before, or -ENOMEM.
 */
static int
seen_add(struct loader *ld, const char *section, const char *name)
{
	size_t need = strlen(section) + strlen(name) + 2, j;
	char *k;

	if (strcmp(section, "calendar") == 0 &&
	    (strcmp(name, "holidays") == 0 ||
	        strcmp(name, "holidays_file") == 0))
		return 0;
	/* at most half full */
	if ((ld->n_seen + 1) * 2 > ld->cap_seen && seen_grow(ld) < 0)
		return -ENOMEM;
	if ((k = malloc(need)) == NULL)
		return -ENOMEM;
	snprintf(k, need, "%s\n%s", section, name);
	for (j = seen_hash(k) & (ld->cap_seen - 1); ld->seen[j] != NULL;
	     j = (j + 1) & (ld->cap_seen - 1))
		if (strcmp(ld->seen[j], k) == 0) {
			free(k);
			return -EEXIST;
		}
	ld->seen[j] = k;
	ld->n_seen++;
	return 0;
}

static void
seen_free(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->cap_seen; i++)
		free(ld->seen[i]);
	free(ld->seen);
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
	if (strcmp(section, "digest") == 0) {
		if (strcmp(name, "schedule") == 0)
			return set_digest_schedule(ld, value);
		return bad(ld, "[digest]: unknown key '%s'", name);
	}
	if (strcmp(section, "daemon") == 0) {
		if (strcmp(name, "socket") == 0 ||
		    strcmp(name, "database") == 0) {
			if (value[0] == '\0')
				return bad(
				    ld, "[daemon] %s: must not be empty", name);
			if (name[0] == 's')
				ld->socket_line = ld->line;
			return set_str(
			    name[0] == 's' ? &c->socket : &c->database, value);
		}
		if (strcmp(name, "admins") == 0)
			return set_admins(ld, value);
		if (strcmp(name, "max_connections") == 0)
			return set_count(ld, section, name, value, 1, 100000,
			    &c->max_connections);
		if (strcmp(name, "max_connections_per_user") == 0)
			return set_count(ld, section, name, value, 1, 100000,
			    &c->max_connections_per_user);
		if (strcmp(name, "idle_timeout") == 0)
			return set_duration(
			    ld, section, name, value, 1, &c->idle_timeout);
		if (strcmp(name, "max_database_size") == 0)
			return set_size(
			    ld, section, name, value, &c->max_database_size);
		if (strcmp(name, "durability") == 0) {
			if (strcmp(value, "full") != 0 &&
			    strcmp(value, "normal") != 0)
				return bad(ld,
				    "[daemon] durability: '%s' is not full "
				    "or normal",
				    value);
			c->durability_full = value[0] == 'f';
			return 0;
		}
		if (strcmp(name, "log_level") == 0) {
			enum log_level l = log_level_from_string(value);

			if (l == LOG_LEVEL_INVALID)
				return bad(ld,
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
				return bad(ld,
				    "[policy] nudge_before: '%s' is "
				    "not a list of at most %d "
				    "durations like 24h,1h",
				    value, PROTO_MAX_NUDGES);
			c->n_nudge_before = (size_t)r;
			return 0;
		}
		if (strcmp(name, "escalate_after") == 0)
			return set_duration(
			    ld, section, name, value, 0, &c->escalate_after);
		if (strcmp(name, "escalation_repeat") == 0)
			return set_duration(
			    ld, section, name, value, 1, &c->escalation_repeat);
		if (strcmp(name, "escalate_up_after") == 0)
			return set_count(ld, section, name, value, 1, 1000,
			    &c->escalate_up_after);
		if (strcmp(name, "escalate_in_business_hours") == 0) {
			if (strcmp(value, "true") == 0)
				c->escalate_in_hours = true;
			else if (strcmp(value, "false") == 0)
				c->escalate_in_hours = false;
			else
				return bad(ld,
				    "[policy] escalate_in_business_hours: '%s' "
				    "is not true or false",
				    value);
			return 0;
		}
		if (strcmp(name, "fallback_manager") == 0) {
			if (!util_login_ok(value))
				return bad(ld,
				    "[policy] fallback_manager: "
				    "'%s' is not a login name",
				    value);
			return set_str(&c->fallback_manager, value);
		}
	} else if (strcmp(section, "delivery") == 0) {
		if (strcmp(name, "log") == 0)
			return set_str(&c->delivery_log, value);
		if (strcmp(name, "concurrency") == 0)
			return set_count(
			    ld, section, name, value, 1, 1024, &c->concurrency);
		if (strcmp(name, "give_up_after") == 0)
			return set_duration(
			    ld, section, name, value, 1, &c->give_up_after);
		if (strcmp(name, "retry_initial") == 0 ||
		    strcmp(name, "retry_max") == 0) {
			ld->retry_line = ld->line;
			return set_duration(ld, section, name, value, 1,
			    name[6] == 'i' ? &c->retry_initial : &c->retry_max);
		}
	} else if (strcmp(section, "smtp") == 0) {
		if (strcmp(name, "url") == 0) {
			if (strncmp(value, "smtp://", 7) != 0 &&
			    strncmp(value, "smtps://", 8) != 0)
				return bad(ld,
				    "[smtp] url: '%s' is not an "
				    "smtp:// or smtps:// URL",
				    value);
			return set_str(&c->smtp_url, value);
		}
		if (strcmp(name, "from") == 0) {
			if (!util_email_ok(value))
				return bad(ld,
				    "[smtp] from: '%s' is not an "
				    "address like "
				    "promised@example.com",
				    value);
			return set_str(&c->smtp_from, value);
		}
		if (strcmp(name, "starttls") == 0) {
			if (strcmp(value, "required") == 0)
				c->smtp_starttls = SMTP_TLS_REQUIRED;
			else if (strcmp(value, "optional") == 0)
				c->smtp_starttls = SMTP_TLS_OPTIONAL;
			else if (strcmp(value, "off") == 0)
				c->smtp_starttls = SMTP_TLS_OFF;
			else
				return bad(ld,
				    "[smtp] starttls: '%s' is not "
				    "one of required, optional, off",
				    value);
			return 0;
		}
		if (strcmp(name, "username") == 0)
			return set_str(&c->smtp_username, value);
		if (strcmp(name, "password_file") == 0)
			return read_secrets(
			    ld, section, name, value, &c->smtp_password, 1, &n);
		if (strcmp(name, "timeout") == 0)
			return set_duration(
			    ld, section, name, value, 1, &c->smtp_timeout);
		if (strcmp(name, "ca_file") == 0)
			return set_ca_file(ld, value, &c->smtp_ca_file);
		if (strcmp(name, "tls_verify") == 0) {
			if (strcmp(value, "true") == 0)
				c->smtp_tls_verify = true;
			else if (strcmp(value, "false") == 0)
				c->smtp_tls_verify = false;
			else
				return bad(ld,
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
				return bad(ld,
				    "[webhook] format: '%s' is not "
				    "json or slack",
				    value);
			return 0;
		}
		if (strcmp(name, "secret_file") == 0)
			return read_secrets(ld, section, name, value,
			    c->webhook_secrets, 2, &c->n_webhook_secrets);
		if (strcmp(name, "timeout") == 0)
			return set_duration(
			    ld, section, name, value, 1, &c->webhook_timeout);
	} else
		return bad(ld, "unknown section [%s]", section);
	return bad(ld, "[%s]: unknown key '%s'", section, name);
}

/* inih handler: returns nonzero on success */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	int r;

	if (ld->failed)
		return 1; /* inih reports the first failing line only */
	r = seen_add(ld, section, name);
	if (r == -EEXIST)
		r = bad(ld, "[%s] %s: set twice; give each key once", section,
		    name);
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
		bad(ld,
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
		r = resolve(&c->calendar, c->calendar_tz, k->due, now, &t, &e);
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
	return resolve(cal, zone, text, now, ret, err);
}

int64_t
conf_business_before(const struct conf *c, const char *login, int64_t t)
{
	const struct calendar *cal;
	const char *zone;
	struct tz_save tz;
	int64_t r;

	cal = conf_calendar_of(c, login, &zone);
	/* computed in the wrong zone it would be wrong, not just late */
	if (tz_enter(&tz, zone) < 0)
		return -1;
	r = calendar_last_open_before(cal, t);
	tz_leave(&tz);
	return r;
}

int64_t
conf_business_after(const struct conf *c, const char *login, int64_t t)
{
	const struct calendar *cal;
	const char *zone;
	struct tz_save tz;
	int64_t r;

	cal = conf_calendar_of(c, login, &zone);
	if (tz_enter(&tz, zone) < 0)
		return -1;
	r = calendar_next_open(cal, t);
	tz_leave(&tz);
	return r;
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
	c->give_up_after = 24 * 3600;
	c->retry_initial = 30;
	c->retry_max = 3600;
	c->smtp_starttls = SMTP_TLS_OPTIONAL;
	c->smtp_timeout = 30;
	c->smtp_tls_verify = true;
	c->webhook_format = WEBHOOK_JSON;
	c->webhook_timeout = 10;
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
	if (c->socket == NULL && set_str(&c->socket, PROMISED_DEFAULT_SOCKET))
		goto oom;
	if (c->database == NULL &&
	    set_str(&c->database, PROMISED_DEFAULT_DATABASE))
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
	seen_free(&ld);
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
	free(c->delivery_log);
	free(c->fallback_manager);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->smtp_username);
	free(c->smtp_ca_file);
	free_secret(c->smtp_password);
	for (i = 0; i < c->n_webhook_secrets; i++)
		free_secret(c->webhook_secrets[i]);
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
	free(c->calendar_tz);
	calendar_free(&c->calendar);
	for (i = 0; i < c->n_admins; i++)
		free(c->admins[i]);
	free(c->admins);
	free(c);
	return NULL;
}
