/* SPDX-License-Identifier: MIT */
/*
 * conf_value.c: the loader's tools for single values: the first problem's
 * message, durations, sizes, counts, URLs, files of secrets and CA
 * certificates, the list of admins, and the keys already set.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_impl.h"
#include "timefmt.h"
#include "util.h"

#define MAX_SECRET 4096

int
conf_set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (s == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int
conf_set_clock(struct loader *ld, const char *section, const char *name,
    const char *value, int *minute)
{
	const char *p = value;
	int h = 0, m = 0, nd;

	for (nd = 0; ascii_digit(*p) && nd < 2; p++, nd++)
		h = h * 10 + (*p - '0');
	if (nd == 0 || *p++ != ':')
		goto bad;
	for (nd = 0; ascii_digit(*p) && nd < 2; p++, nd++)
		m = m * 10 + (*p - '0');
	if (nd != 2 || *p != '\0' || h > 23 || m > 59)
		goto bad;
	*minute = h * 60 + m;
	return 0;
bad:
	return conf_bad(ld, "[%s] %s: '%s' is not a time of day like 08:30",
	    section, name, value);
}

/* records the first problem's message; returns -EINVAL */
int
conf_bad(struct loader *ld, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ld->err, sizeof(ld->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* a file of CA certificates: read now, so a typo fails --check-config and
 * a reload rather than every email later */
int
conf_set_ca_file(struct loader *ld, const char *value, char **dst)
{
	FILE *f;

	if (value[0] != '/')
		return conf_bad(
		    ld, "[smtp] ca_file: '%s' is not an absolute path", value);
	if ((f = fopen(value, "re")) == NULL)
		return conf_bad(
		    ld, "[smtp] ca_file: '%s': %s", value, strerror(errno));
	fclose(f);
	return conf_set_str(dst, value);
}

int
conf_set_duration(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t *dst)
{
	int64_t d;

	if (timefmt_parse_duration(value, &d) < 0)
		return conf_bad(ld,
		    "[%s] %s: '%s' is not a duration like 0, 30m or 2h",
		    section, name, value);
	if (d < min)
		return conf_bad(ld, "[%s] %s: '%s' is shorter than %llds",
		    section, name, value, (long long)min);
	*dst = d;
	return 0;
}

/* "0" (no limit), "5000000", "500K", "100M", "2G": bytes */
int
conf_set_size(struct loader *ld, const char *section, const char *name,
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
		return conf_bad(ld,
		    "[%s] %s: '%s' is not a size like 0, 500M or 2G", section,
		    name, value);
	*dst = (int64_t)v * mul;
	return 0;
}

int
conf_set_count(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t max, int64_t *dst)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		return conf_bad(ld,
		    "[%s] %s: '%s' is not a whole number from %lld "
		    "to %lld",
		    section, name, value, (long long)min, (long long)max);
	*dst = v;
	return 0;
}

bool
conf_url_ok(const char *s)
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
void
conf_free_secret(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * reads up to max non-empty lines of a secret file into out[]; the file
 * holds nothing else, so surrounding whitespace is dropped
 */
int
conf_read_secrets(struct loader *ld, const char *section, const char *name,
    const char *path, char **out, size_t max, size_t *ret_n)
{
	char buf[MAX_SECRET + 1], *line, *save = NULL, *e;
	FILE *f;
	size_t len, n = 0;
	int r = 0;

	/* a repeated key replaces, never adds to, what came before */
	for (len = 0; len < max; len++) {
		conf_free_secret(out[len]);
		out[len] = NULL;
	}
	f = fopen(path, "re");
	if (f == NULL)
		return conf_bad(ld, "[%s] %s: cannot read '%s': %s", section,
		    name, path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f) || !feof(f)) {
		r = conf_bad(ld,
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
			r = conf_bad(ld,
			    "[%s] %s: '%s' holds more than %zu secrets",
			    section, name, path, max);
			goto out;
		}
		if ((r = conf_set_str(&out[n], line)) < 0)
			goto out;
		n++;
	}
	if (n == 0) {
		r = conf_bad(ld, "[%s] %s: '%s' is empty", section, name, path);
		goto out;
	}
	*ret_n = n;
out:
	explicit_bzero(buf, sizeof(buf));
	fclose(f);
	return r;
}

/* "alice, bob carol": logins separated by commas and/or spaces */
int
conf_set_admins(struct loader *ld, const char *value)
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
			r = conf_bad(ld,
			    "[daemon] admins: '%s' is not a login name", tok);
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
int
conf_seen_add(struct loader *ld, const char *section, const char *name)
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

void
conf_seen_free(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->cap_seen; i++)
		free(ld->seen[i]);
	free(ld->seen);
}
