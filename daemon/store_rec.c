/* SPDX-License-Identifier: MIT */
/*
 * store_rec.c: what every store backend shares of its records: the names
 * of a promise's states and of list's filters, as stored and as spoken,
 * and the protocol's form of a history entry.  Below the backends and
 * store_api.c, so that none of them needs another for these.
 */
#include <string.h>

#include <jansson.h>

#include "store.h"

static const char *const pstate_names[PSTATE_MAX] = {
    [PSTATE_OPEN] = "open",
    [PSTATE_KEPT] = "kept",
    [PSTATE_CANCELLED] = "cancelled",
};

static const char *const filter_names[SFILTER_MAX] = {
    [SFILTER_OPEN] = "open",
    [SFILTER_OVERDUE] = "overdue",
    [SFILTER_KEPT] = "kept",
    [SFILTER_CANCELLED] = "cancelled",
    [SFILTER_ALL] = "all",
};

const char *
pstate_name(enum promise_state s)
{
	if ((unsigned)s >= PSTATE_MAX)
		return "invalid";
	return pstate_names[s];
}

enum promise_state
pstate_from_string(const char *s)
{
	int i;

	for (i = 0; i < PSTATE_MAX; i++)
		if (strcmp(s, pstate_names[i]) == 0)
			return (enum promise_state)i;
	return PSTATE_INVALID;
}

enum store_filter
store_filter_from_string(const char *s)
{
	int i;

	for (i = 0; i < SFILTER_MAX; i++)
		if (strcmp(s, filter_names[i]) == 0)
			return (enum store_filter)i;
	return SFILTER_INVALID;
}

json_t *
event_rec_json(const struct event_rec *e)
{
	json_t *detail = NULL;

	if (e->detail != NULL)
		detail = json_loads(e->detail, 0, NULL);
	return json_pack("{s:I,s:s,s:s,s:o}", "at", (json_int_t)e->at, "actor",
	    e->actor, "kind", e->what, "detail", detail ? detail : json_null());
}
