/* SPDX-License-Identifier: MIT */
/*
 * event.c: the names of the outbox's events, in one place.
 */
#include <stddef.h>
#include <string.h>

#include "event.h"

static const char *const names[EVENT_TYPE_MAX] = {
    [EVENT_NUDGE] = EVENT_PREFIX "nudge",
    [EVENT_DUE] = EVENT_PREFIX "due",
    [EVENT_ESCALATION] = EVENT_PREFIX "escalation",
    [EVENT_RESOLVED] = EVENT_PREFIX "resolved",
    [EVENT_UNDELIVERABLE] = EVENT_PREFIX "undeliverable",
    [EVENT_DIGEST] = EVENT_PREFIX "digest",
    [EVENT_SIGNIN] = EVENT_PREFIX "signin",
    [EVENT_REPLY] = EVENT_PREFIX "reply",
    [EVENT_AGENDA] = EVENT_PREFIX "agenda",
};

static const char *const nouns[EVENT_TYPE_MAX] = {
    [EVENT_NUDGE] = "reminder",
    [EVENT_DUE] = "due notice",
    [EVENT_ESCALATION] = "escalation",
    [EVENT_RESOLVED] = "resolution notice",
    [EVENT_REPLY] = "answer to your mail",
};

const char *
event_type_name(enum event_type t)
{
	return (unsigned)t < EVENT_TYPE_MAX ? names[t] : NULL;
}

enum event_type
event_type_of(const char *name)
{
	int i;

	if (name == NULL)
		return EVENT_TYPE_MAX;
	for (i = 0; i < EVENT_TYPE_MAX; i++)
		if (strcmp(name, names[i]) == 0)
			return (enum event_type)i;
	return EVENT_TYPE_MAX;
}

const char *
event_noun(const char *name)
{
	enum event_type t = event_type_of(name);

	return t < EVENT_TYPE_MAX && nouns[t] != NULL ? nouns[t] : "notice";
}
