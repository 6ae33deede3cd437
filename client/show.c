/* SPDX-License-Identifier: MIT */
/*
 * show.c: showing a promise: its fields one a line, its history with
 * each event's detail in words, the notices sent about it, and the
 * schedule still ahead of it.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "event.h"
#include "show.h"
#include "text.h"
#include "timefmt.h"

const char *
event_name(const char *s)
{
	static const char prefix[] = EVENT_PREFIX;

	if (s == NULL)
		return "?";
	if (strncmp(s, prefix, sizeof(prefix) - 1) == 0 &&
	    s[sizeof(prefix) - 1] != '\0')
		return s + sizeof(prefix) - 1;
	return s;
}

/*
 * Prints the recipients of an event's "deliveries" list: "dan by email,
 * bob by webhook", or without the channels "dan, bob".
 */
static void
put_recipients(const json_t *list, bool channels)
{
	const json_t *dl;
	const char *s;
	size_t i, n = json_array_size(list);

	if (n == 0) {
		fputs("nobody", stdout);
		return;
	}
	for (i = 0; i < n; i++) {
		dl = json_array_get(list, i);
		if (i > 0)
			fputs(", ", stdout);
		put_str((s = proto_str(dl, "to")) != NULL ? s : "?");
		if (channels && (s = proto_str(dl, "channel")) != NULL) {
			fputs(" by ", stdout);
			put_str(s);
		}
		if (json_is_integer(json_object_get(dl, "held_until")))
			fputs(" (held for their business hours)", stdout);
	}
}

/* ", 3s late" from an event's late_ms, when a second or more */
static void
put_late(const json_t *d)
{
	char dur[32];
	int64_t late = jint(d, "late_ms", 0) / 1000;

	if (late > 0) {
		timefmt_duration(late, dur, sizeof(dur));
		printf(", %s late", dur);
	}
}

/* a short rendering of one event's detail, after its kind */
static void
put_detail(const char *kind, const json_t *d)
{
	char when[TIMEBUF], dur[32], *text;
	const char *s;
	json_t *v, *list;
	int64_t late;

	if (!json_is_object(d) || json_object_size(d) == 0)
		return;
	list = json_object_get(d, "deliveries");
	if (strcmp(kind, "created") == 0 &&
	    json_is_integer(json_object_get(d, "due_at"))) {
		timefmt_local(jint(d, "due_at", 0), when, sizeof(when));
		printf("due %s", when);
		if (json_is_integer(json_object_get(d, "follows")))
			printf(", follows promise %" PRId64,
			    jint(d, "follows", 0));
	} else if (strcmp(kind, "snoozed") == 0) {
		timefmt_local(jint(d, "from", 0), when, sizeof(when));
		printf("from %s", when);
		timefmt_local(jint(d, "to", 0), when, sizeof(when));
		printf(" to %s", when);
		if ((s = proto_str(d, "reason")) != NULL) {
			fputs(", reason: ", stdout);
			put_str(s);
		}
	} else if (strcmp(kind, "cancelled") == 0 &&
	    (s = proto_str(d, "reason")) != NULL) {
		fputs("reason: ", stdout);
		put_str(s);
		if (json_is_true(json_object_get(d, "told_customer")))
			fputs(" (customer told)", stdout);
		else if (json_is_false(json_object_get(d, "told_customer")))
			fputs(" (customer not told)", stdout);
	} else if (strcmp(kind, "kept") == 0) {
		late = jint(d, "late_by", 0);
		if (late > 0) {
			timefmt_duration(late, dur, sizeof(dur));
			printf("%s late", dur);
		} else {
			fputs("on time", stdout);
		}
		if ((s = proto_str(d, "note")) != NULL) {
			fputs(", note: ", stdout);
			put_str(s);
		}
		if (json_is_integer(json_object_get(d, "then")))
			printf(", followed by promise %" PRId64,
			    jint(d, "then", 0));
	} else if (strcmp(kind, "acked") == 0 &&
	    json_is_integer(json_object_get(d, "until"))) {
		timefmt_local(jint(d, "until", 0), when, sizeof(when));
		printf("until %s", when);
	} else if (strcmp(kind, "resolved") == 0 && json_is_array(list)) {
		fputs("notified ", stdout);
		put_recipients(list, false);
	} else if (strcmp(kind, "undeliverable") == 0 &&
	    (s = proto_str(d, "delivery")) != NULL) {
		/* the full id is in the deliveries section below */
		fputs("delivery ", stdout);
		put_text(s, strlen(s), 8);
		if ((s = proto_str(d, "error")) != NULL) {
			fputs(": ", stdout);
			put_str(s);
		}
		if (json_array_size(list) > 0) {
			fputs("; told ", stdout);
			put_recipients(list, true);
		}
	} else if (strcmp(kind, "noted") == 0 &&
	    (s = proto_str(d, "note")) != NULL) {
		put_str(s);
	} else if (strcmp(kind, "refused") == 0 &&
	    (s = proto_str(d, "op")) != NULL) {
		/* a stranger's repeats are counted in one event a day */
		put_str(s);
		if (jint(d, "count", 1) > 1) {
			timefmt_local(
			    jint(d, "last_at", 0), when, sizeof(when));
			printf(", %" PRId64 " times, last %s",
			    jint(d, "count", 1), when);
		}
	} else if (json_is_array(list)) {
		/* nudge, due and escalation */
		fputs("to ", stdout);
		put_recipients(list, true);
		if (json_is_integer(json_object_get(d, "repeat")))
			printf(", repeat %" PRId64, jint(d, "repeat", 0));
		put_late(d);
	} else if ((v = json_object_get(d, "delivery")) != NULL) {
		/* history written before deliveries became a list */
		fputs("delivery ", stdout);
		if (json_is_string(v))
			put_str(json_string_value(v));
		else
			printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (json_is_integer(json_object_get(d, "level")))
			printf(", level %" PRId64, jint(d, "level", 0));
		put_late(d);
	} else if ((text = json_dumps(d, JSON_COMPACT)) != NULL) {
		/* a kind this client does not know yet: show it raw */
		put_str(text);
		free(text);
		return;
	}
	/* done from a link in a message or the web page */
	if ((s = proto_str(d, "via")) != NULL) {
		fputs(" (via ", stdout);
		put_str(s);
		fputs(")", stdout);
	}
}

void
show_promise(const json_t *p, int64_t now)
{
	static const char indent[] = "            ";
	char when[TIMEBUF], dur[32];
	const char *state = proto_str(p, "state"), *s;
	json_t *nudge;
	size_t i, n;
	int64_t t;

	printf("promise %" PRId64 ": ", jint(p, "id", 0));
	put_str((s = proto_str(p, "title")) != NULL ? s : "");
	if (state == NULL)
		state = "?";
	printf("\nstate:      %s", state);
	if (json_is_true(json_object_get(p, "overdue")))
		fputs(", overdue", stdout);
	fputs("\ndue:        ", stdout);
	t = jint(p, "due_at", 0);
	if (strcmp(state, "open") == 0) {
		put_due(t, now);
	} else {
		timefmt_local(t, when, sizeof(when));
		fputs(when, stdout);
	}
	if ((t = jint(p, "settled_at", 0)) != 0) {
		timefmt_local(t, when, sizeof(when));
		printf("\nsettled:    %s", when);
	}
	if ((s = proto_str(p, "for")) != NULL && s[0] != '\0') {
		fputs("\nfor:        ", stdout);
		put_str(s);
	}
	fputs("\nowner:      ", stdout);
	put_str((s = proto_str(p, "owner")) != NULL ? s : "-");
	/* the [kind] gave its deadline, nudges and escalation */
	if ((s = proto_str(p, "kind")) != NULL && s[0] != '\0') {
		fputs("\nkind:       ", stdout);
		put_str(s);
	}
	timefmt_local(jint(p, "created_at", 0), when, sizeof(when));
	printf("\ncreated:    %s by ", when);
	put_str((s = proto_str(p, "created_by")) != NULL ? s : "-");
	nudge = json_object_get(p, "nudge");
	if (json_is_array(nudge)) {
		fputs("\nnudges:     ", stdout);
		n = json_array_size(nudge);
		for (i = 0; i < n; i++) {
			timefmt_duration((int64_t)json_integer_value(
			                     json_array_get(nudge, i)),
			    dur, sizeof(dur));
			printf("%s%s", i > 0 ? ", " : "", dur);
		}
		fputs(n > 0 ? " before" : "none", stdout);
	}
	/* escalation starts at due + escalate_after, so 0 means at once */
	if ((t = jint(p, "escalate_after", -1)) == 0) {
		fputs("\nescalates:  at the deadline", stdout);
	} else if (t > 0) {
		timefmt_duration(t, dur, sizeof(dur));
		printf("\nescalates:  %s after the deadline", dur);
	}
	if ((t = jint(p, "snoozes", 0)) > 0)
		printf(
		    "\nsnoozed:    %" PRId64 " time%s", t, t == 1 ? "" : "s");
	if ((s = proto_str(p, "note")) != NULL) {
		fputs("\nnote:       ", stdout);
		put_indented(s, indent);
	}
	putchar('\n');
}

void
show_history(const json_t *events)
{
	size_t i, n = json_array_size(events), wactor = 5, wkind = 4;
	char when[TIMEBUF];
	const char *s;
	json_t *e, *d;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		e = json_array_get(events, i);
		if ((s = proto_str(e, "actor")) != NULL)
			wactor = max_width(wactor, s, SIZE_MAX);
		if ((s = proto_str(e, "kind")) != NULL)
			wkind = max_width(wkind, s, SIZE_MAX);
	}
	fputs("\nhistory:\n", stdout);
	for (i = 0; i < n; i++) {
		e = json_array_get(events, i);
		timefmt_local(jint(e, "at", 0), when, sizeof(when));
		printf("  %s  ", when);
		put_cell((s = proto_str(e, "actor")) != NULL ? s : "-", wactor,
		    true);
		fputs("  ", stdout);
		s = proto_str(e, "kind");
		d = json_object_get(e, "detail");
		/* no padding before an empty detail: no trailing blanks */
		if (!json_is_object(d) || json_object_size(d) == 0) {
			put_str(s != NULL ? s : "?");
		} else {
			put_cell(s != NULL ? s : "?", wkind, true);
			fputs("  ", stdout);
			put_detail(s != NULL ? s : "", d);
		}
		putchar('\n');
	}
}

/* a delivery's id as people see it: the daemon's shortest unique prefix,
 * which retry takes (the full id is in --json) */
const char *
delivery_id(const json_t *dl)
{
	const char *s = proto_str(dl, "short");

	if (s == NULL)
		s = proto_str(dl, "delivery");
	return s != NULL ? s : "?";
}

void
delivery_when(const json_t *dl, int64_t now, bool label, char *buf, size_t len)
{
	char when[TIMEBUF], rel[RELBUF];
	const char *state = proto_str(dl, "state");
	int64_t t;

	buf[0] = '\0';
	if (state == NULL)
		return;
	if (strcmp(state, "sent") == 0 &&
	    json_is_integer(json_object_get(dl, "sent_at"))) {
		timefmt_local(jint(dl, "sent_at", 0), when, sizeof(when));
		(void)snprintf(buf, len, "%s%s", label ? "sent " : "", when);
	} else if (strcmp(state, "pending") == 0 &&
	    json_is_integer(json_object_get(dl, "next_attempt_at"))) {
		t = jint(dl, "next_attempt_at", 0);
		timefmt_local(t, when, sizeof(when));
		/* a pending delivery past its time is being sent, not late */
		if (t > now)
			timefmt_relative(t, now, rel, sizeof(rel));
		else
			(void)snprintf(rel, sizeof(rel), "now");
		(void)snprintf(
		    buf, len, "%s%s (%s)", label ? "next " : "", when, rel);
	}
}

/* "1 attempt", "3 attempts" */
static void
delivery_attempts(const json_t *dl, char *buf, size_t len)
{
	int64_t n = jint(dl, "attempts", 0);

	(void)snprintf(buf, len, "%" PRId64 " attempt%s", n, n == 1 ? "" : "s");
}

void
show_deliveries(const json_t *dels, int64_t now)
{
	size_t i, n = json_array_size(dels), wid = 0, wev = 0, wto = 0;
	size_t wch = 0, wst = 0, wat = 0;
	char tail[TIMEBUF + RELBUF + 16], att[32];
	const char *s;
	json_t *dl;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		dl = json_array_get(dels, i);
		delivery_attempts(dl, att, sizeof(att));
		wid = max_width(wid, delivery_id(dl), SIZE_MAX);
		wev = max_width(
		    wev, event_name(proto_str(dl, "event")), SIZE_MAX);
		wto = max_width(
		    wto, (s = proto_str(dl, "recipient")) ? s : "?", SIZE_MAX);
		wch = max_width(
		    wch, (s = proto_str(dl, "channel")) ? s : "?", SIZE_MAX);
		wst = max_width(
		    wst, (s = proto_str(dl, "state")) ? s : "?", SIZE_MAX);
		wat = max_width(wat, att, SIZE_MAX);
	}
	fputs("\ndeliveries:\n", stdout);
	for (i = 0; i < n; i++) {
		dl = json_array_get(dels, i);
		delivery_attempts(dl, att, sizeof(att));
		delivery_when(dl, now, true, tail, sizeof(tail));
		fputs("  ", stdout);
		put_cell(delivery_id(dl), wid, true);
		fputs("  ", stdout);
		put_cell(event_name(proto_str(dl, "event")), wev, true);
		fputs("  ", stdout);
		put_cell((s = proto_str(dl, "recipient")) ? s : "?", wto, true);
		fputs("  ", stdout);
		put_cell((s = proto_str(dl, "channel")) ? s : "?", wch, true);
		fputs("  ", stdout);
		put_cell((s = proto_str(dl, "state")) ? s : "?", wst, true);
		fputs("  ", stdout);
		/* no padding before an empty tail: no trailing blanks */
		put_cell(att, wat, tail[0] != '\0');
		if (tail[0] != '\0') {
			fputs("  ", stdout);
			put_str(tail);
		}
		putchar('\n');
		if ((s = proto_str(dl, "last_error")) != NULL && s[0] != '\0') {
			fputs("      last error: ", stdout);
			put_str(s);
			putchar('\n');
		}
	}
}

void
show_schedule(const json_t *sched)
{
	const json_t *st, *to;
	const char *local;
	char when[TIMEBUF];
	size_t i, k;

	puts("schedule:");
	if (json_array_size(sched) == 0)
		puts("  nothing ahead");
	json_array_foreach(sched, i, st) {
		json_array_foreach(json_object_get(st, "to"), k, to) {
			if ((local = proto_str(to, "local")) == NULL) {
				timefmt_local(
				    jint(st, "at", 0), when, sizeof(when));
				local = when;
			}
			printf("  %-28s %-10s ", local, proto_str(st, "kind"));
			put_str(proto_str(to, "to"));
			printf(" by %s", proto_str(to, "channel"));
			if (json_is_integer(json_object_get(to, "level")))
				printf(" (level %" PRId64 ")",
				    jint(to, "level", 0));
			fputs(": ", stdout);
			put_str(proto_str(st, "rule"));
			if (json_is_integer(json_object_get(to, "held_until")))
				fputs(
				    "; held for their business hours", stdout);
			putchar('\n');
		}
	}
}
