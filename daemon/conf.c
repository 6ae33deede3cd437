/*
 * conf.c: loading promised.conf.  inih hands us one key at a time; each is
 * matched against a table of known keys and parsed at once, so an unknown
 * key or a bad value is reported with the line it stands on.  Defaults are
 * set before parsing; relative paths are taken as given, relative to the
 * daemon's working directory, which is what a development checkout wants.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf.h"
#include "timefmt.h"
#include "util.h"

struct loader {
	struct conf *c;
	char err[512];
	bool failed;
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

/* returns 0, or -EINVAL with a message in ld->err */
static int
set_key(
    struct loader *ld, const char *section, const char *name, const char *value)
{
	struct conf *c = ld->c;
	int64_t d;
	int n;

	if (strcmp(section, "daemon") == 0) {
		if (strcmp(name, "socket") == 0 ||
		    strcmp(name, "database") == 0) {
			if (value[0] == '\0') {
				snprintf(ld->err, sizeof(ld->err),
				    "[daemon] %s: must not be empty", name);
				return -EINVAL;
			}
			return set_str(
			    name[0] == 's' ? &c->socket : &c->database, value);
		}
		if (strcmp(name, "log_level") == 0) {
			enum log_level l = log_level_from_string(value);

			if (l == LOG_LEVEL_INVALID) {
				snprintf(ld->err, sizeof(ld->err),
				    "[daemon] log_level: '%s' is not one of "
				    "error, warning, info, debug",
				    value);
				return -EINVAL;
			}
			c->log_level = l;
			return 0;
		}
	} else if (strcmp(section, "policy") == 0) {
		if (strcmp(name, "nudge_before") == 0) {
			n = timefmt_parse_duration_list(
			    value, c->nudge_before, PROTO_MAX_NUDGES);
			if (n < 0) {
				snprintf(ld->err, sizeof(ld->err),
				    "[policy] nudge_before: '%s' is not a list "
				    "of at most %d durations like 24h,1h",
				    value, PROTO_MAX_NUDGES);
				return -EINVAL;
			}
			c->n_nudge_before = (size_t)n;
			return 0;
		}
		if (strcmp(name, "escalate_after") == 0 ||
		    strcmp(name, "escalation_repeat") == 0) {
			if (timefmt_parse_duration(value, &d) < 0) {
				snprintf(ld->err, sizeof(ld->err),
				    "[policy] %s: '%s' is not a duration like "
				    "0, 30m or 2h",
				    name, value);
				return -EINVAL;
			}
			if (strcmp(name, "escalate_after") == 0)
				c->escalate_after = d;
			else if (d < 60) {
				snprintf(ld->err, sizeof(ld->err),
				    "[policy] escalation_repeat: '%s' is "
				    "shorter than a minute",
				    value);
				return -EINVAL;
			} else
				c->escalation_repeat = d;
			return 0;
		}
	} else if (strcmp(section, "delivery") == 0) {
		if (strcmp(name, "log") == 0)
			return set_str(&c->delivery_log, value);
	} else {
		snprintf(
		    ld->err, sizeof(ld->err), "unknown section [%s]", section);
		return -EINVAL;
	}
	snprintf(
	    ld->err, sizeof(ld->err), "[%s]: unknown key '%s'", section, name);
	return -EINVAL;
}

/* inih handler: returns nonzero on success */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	int r;

	if (ld->failed)
		return 1; /* inih reports the first failing line only */
	r = set_key(ld, section, name, value);
	if (r == -ENOMEM)
		snprintf(ld->err, sizeof(ld->err), "out of memory");
	ld->failed = r < 0;
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
	c->nudge_before[0] = 24 * 3600;
	c->nudge_before[1] = 3600;
	c->n_nudge_before = 2;
	c->escalate_after = 0;
	c->escalation_repeat = 24 * 3600;
	if ((c->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	line = ini_parse(path, handler, &ld);
	if (line == -1) {
		snprintf(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		r = -ENOENT;
		goto out;
	}
	if (line == -2) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (line > 0) {
		/* inih reports a syntax error with no message of ours */
		snprintf(err, errlen, "%s:%d: %s", path, line,
		    ld.err[0] ? ld.err
		              : "syntax error (expected "
		                "[section] or key = value)");
		r = -EINVAL;
		goto out;
	}
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
	*ret = c;
	c = NULL;
	r = 0;
	goto out;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	r = -ENOMEM;
out:
	free(dir);
	conf_free(c);
	return r;
}

struct conf *
conf_free(struct conf *c)
{
	if (c == NULL)
		return NULL;
	free(c->path);
	free(c->socket);
	free(c->database);
	free(c->delivery_log);
	free(c);
	return NULL;
}
