/* SPDX-License-Identifier: MIT */
/*
 * event.h: the events of the outbox, from "promise.nudge" to
 * "promise.digest": one enum and the one table of the names that
 * payloads, outbox rows and the protocol carry.
 */
#ifndef PROMISED_EVENT_H
#define PROMISED_EVENT_H

enum event_type {
	EVENT_NUDGE,
	EVENT_DUE,
	EVENT_ESCALATION,
	EVENT_RESOLVED,
	EVENT_UNDELIVERABLE,
	EVENT_DIGEST,
	EVENT_SIGNIN, /* a one-time sign-in link for the web page */
	EVENT_REPLY,  /* promised's answer to a mail it was handed */
	EVENT_AGENDA, /* a person's morning agenda (agenda.h) */
	EVENT_TYPE_MAX,
};

/* what every event's name starts with */
#define EVENT_PREFIX "promise."

/* "promise.due" for EVENT_DUE; NULL out of range */
const char *event_type_name(enum event_type t);
/* the event called name; EVENT_TYPE_MAX for NULL or a name unknown */
enum event_type event_type_of(const char *name);
/* what a person calls the event called name, for "could not deliver the
 * ...": "reminder", "due notice", "escalation", "resolution notice", or
 * "notice" for any other */
const char *event_noun(const char *name);

#endif
