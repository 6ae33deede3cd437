/* SPDX-License-Identifier: MIT */
/*
 * args.c: the checks of argument values that several commands share,
 * made here where the message can quote what was typed.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "calendar.h"
#include "args.h"
#include "cli.h"
#include "proto.h"
#include "timefmt.h"
#include "util.h"

int
parse_id(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	if (*s == '#')
		s++;
	/* strtoll would take blanks and signs; an id has neither */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int
get_id(const struct args *a, int64_t *ret)
{
	if (parse_id(a->pos, ret) < 0)
		return usage_error("'%s' is not a promise id (want a number, "
		                   "as in 42)",
		    a->pos);
	return CLI_OK;
}

/*
 * Parses a --due WHEN in the caller's zone and refuses past and absurdly
 * far times here, where the message can quote what was typed.
 */
int
parse_due(const char *s, int64_t now, int64_t *ret)
{
	char when[TIMEBUF];
	const char *why;

	if (timefmt_parse(s, now, ret, &why) < 0)
		return usage_error("--due '%s': %s", s, why);
	timefmt_local(*ret, when, sizeof(when));
	if (*ret <= now)
		return usage_error("--due '%s': is in the past (%s)", s, when);
	if (*ret - now > PROTO_MAX_AHEAD)
		return usage_error("--due '%s': is more than 10 years ahead "
		                   "(%s)",
		    s, when);
	return CLI_OK;
}

/* the request must carry valid UTF-8; the daemon judges the rest */
int
check_text(const char *what, const char *s, bool allow_newline)
{
	if (s != NULL && !util_text_ok(s, allow_newline))
		return usage_error("%s: not UTF-8 text, or has control "
		                   "characters",
		    what);
	return CLI_OK;
}

int
check_reason(const char *cmd, const struct args *a)
{
	if (a->reason == NULL)
		return usage_error("%s: --reason TEXT is required", cmd);
	if (a->reason[0] == '\0')
		return usage_error("%s: --reason must not be empty", cmd);
	return check_text("--reason", a->reason, true);
}

/*
 * A deadline for the daemon: "due_at" for what we can parse here, or the
 * text itself ("due") for business-calendar forms ("1 business day",
 * "eod"), which only the daemon can resolve with the owner's calendar.
 * Neither when s is NULL.
 */
int
due_field(const char *s, int64_t now, int64_t *ret, const char **ret_text)
{
	*ret = 0;
	*ret_text = NULL;
	if (s == NULL)
		return CLI_OK;
	if (calendar_when_is_business(s)) {
		*ret_text = s;
		return check_text("--due", s, false);
	}
	return parse_due(s, now, ret);
}

int
parse_since(const struct args *a, int64_t *ret)
{
	int64_t d;

	*ret = 0;
	if (a->since == NULL)
		return CLI_OK;
	if (timefmt_parse_duration(a->since, &d) < 0 || d < 1)
		return usage_error(
		    "--since '%s': want a duration like '30d' or "
		    "'2w'",
		    a->since);
	*ret = util_now() - d;
	return CLI_OK;
}

/* "--limit N": N >= 0; 0 or a usage error's exit status */
int
parse_limit(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	/* strtoll would take blanks and signs; a count has neither */
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*ret = v;
	return CLI_OK;
bad:
	return usage_error("--limit '%s': want a number, 0 for no limit", s);
}
