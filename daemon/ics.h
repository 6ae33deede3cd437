/* SPDX-License-Identifier: MIT */
/*
 * ics.h: a promise as an iCalendar object (RFC 5545), made with libical,
 * so that its deadline lands in a calendar: one VEVENT at the deadline,
 * without an end (an instant), transparent to free/busy, with a reminder
 * 15 minutes ahead.  Its UID names the promise and SEQUENCE counts the
 * snoozes, so a calendar that took an earlier copy replaces it when the
 * deadline moves.  Pure: no I/O.
 */
#ifndef PROMISED_ICS_H
#define PROMISED_ICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* the media type of the text, for an attachment */
#define ICS_MEDIA_TYPE "text/calendar; charset=UTF-8; method=PUBLISH"

/*
 * The VCALENDAR for promise (a promise object as the protocol has it:
 * "id", "title", "owner", "due_at", and "for", "note", "state", "snoozes"
 * when known) into *ret, CRLF lines folded at 75 octets, to be freed with
 * free().  stamp is DTSTAMP (when the text is made); host the right-hand
 * side of the UID; url, if not NULL, where the promise can be seen.  0;
 * -EINVAL when promise lacks a member it needs; -ENOMEM.
 */
int ics_promise(const json_t *promise, int64_t stamp, const char *host,
    const char *url, char **ret);

/*
 * The same as an email attachment ("attachments" in backend.h):
 * {"filename": "promise-ID.ics", "content_type": ICS_MEDIA_TYPE, "text"}.
 * A new reference, or NULL (no memory, or promise lacks what it needs).
 */
json_t *ics_attachment(
    const json_t *promise, int64_t stamp, const char *host, const char *url);

/*
 * The right-hand side of a promise's UID into buf: domain ([mail]
 * reply_domain) when set, else the host's name, else "promised", so that
 * the same promise has the same UID in every copy this host makes.
 */
void ics_host(const char *domain, char *buf, size_t len);

#endif
