/* SPDX-License-Identifier: MIT */
/*
 * test_ics.c: unit test for daemon/ics.c.  Every calendar it makes is
 * parsed back with libical and must say what the promise says: one
 * VEVENT with the UID, the deadline as DTSTART in UTC, the title and the
 * description with every character kept (commas, semicolons, backslashes,
 * line ends, UTF-8), SEQUENCE from the snoozes, and a status and reminder
 * that follow the state.  No text of a promise may add a property or a
 * line of its own, and no line is longer than 75 octets.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libical/ical.h>

#include "check.h"
#include "ics.h"

#define DUE 1796223600 /* 2026-12-02T15:00:00Z */
#define STAMP 1796000000

static const char *const nasty_title =
    "Send Müller the quote; then call, back\\ \r\nATTENDEE:mailto:x@evil";
/* as it comes back: iCalendar text has line ends, but no CR of its own */
static const char *const nasty_back =
    "Send Müller the quote; then call, back\\ \nATTENDEE:mailto:x@evil";

/* every line ends in CRLF and has at most 75 octets */
static bool
lines_ok(const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL || nl == s || nl[-1] != '\r')
			return false;
		if (nl - 1 - s > 75)
			return false;
	}
	return true;
}

static int
count_props(icalcomponent *c, icalproperty_kind k)
{
	return icalcomponent_count_properties(c, k);
}

static void
test_open(void)
{
	json_t *p = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:I}", "id",
	    (json_int_t)42, "title", nasty_title, "owner", "alice", "for",
	    "Müller GmbH, Köln", "note", "line one\nline two; with, commas",
	    "due_at", (json_int_t)DUE, "state", "open", "snoozes",
	    (json_int_t)3);
	icalcomponent *cal = NULL, *ev, *alarm;
	icaltimetype t;
	char *text = NULL;
	const char *d;

	check_ctx = "open promise";
	REQUIRE(p != NULL);
	REQUIRE(ics_promise(p, STAMP, "example.com", "https://p.example/x",
	            &text) == 0);
	CHECK(strncmp(text, "BEGIN:VCALENDAR\r\n", 17) == 0);
	CHECK(lines_ok(text));
	CHECK(strstr(text, "\nATTENDEE") == NULL);
	REQUIRE((cal = icalparser_parse_string(text)) != NULL);
	CHECK(icalcomponent_isa(cal) == ICAL_VCALENDAR_COMPONENT);
	CHECK(icalcomponent_get_method(cal) == ICAL_METHOD_PUBLISH);
	CHECK(icalcomponent_count_components(cal, ICAL_VEVENT_COMPONENT) == 1);
	REQUIRE((ev = icalcomponent_get_first_component(
	             cal, ICAL_VEVENT_COMPONENT)) != NULL);
	CHECK(strcmp(icalcomponent_get_uid(ev), "promise-42@example.com") == 0);
	CHECK(strcmp(icalcomponent_get_summary(ev), nasty_back) == 0);
	t = icalcomponent_get_dtstart(ev);
	CHECK(icaltime_is_utc(t));
	CHECK(icaltime_as_timet(t) == DUE);
	CHECK(icaltime_as_timet(icalcomponent_get_dtstamp(ev)) == STAMP);
	/* an instant: no end, and no time blocked */
	CHECK(count_props(ev, ICAL_DTEND_PROPERTY) == 0);
	CHECK(count_props(ev, ICAL_ATTENDEE_PROPERTY) == 0);
	CHECK(icalcomponent_get_sequence(ev) == 3);
	CHECK(icalcomponent_get_status(ev) == ICAL_STATUS_CONFIRMED);
	REQUIRE((d = icalcomponent_get_description(ev)) != NULL);
	CHECK(strstr(d, "Promised to Müller GmbH, Köln by alice.\n") == d);
	CHECK(strstr(d, "\nline one\nline two; with, commas\n") != NULL);
	CHECK(strstr(d, "promise show 42") != NULL);
	CHECK(strcmp(icalproperty_get_url(icalcomponent_get_first_property(
	                 ev, ICAL_URL_PROPERTY)),
	          "https://p.example/x") == 0);
	REQUIRE((alarm = icalcomponent_get_first_component(
	             ev, ICAL_VALARM_COMPONENT)) != NULL);
	CHECK(
	    icaldurationtype_as_int(icalproperty_get_trigger(
	        icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY))
	                                .duration) == -15 * 60);
out:
	if (cal != NULL)
		icalcomponent_free(cal);
	free(text);
	json_decref(p);
	check_ctx = "";
}

static void
test_settled_and_bare(void)
{
	json_t *p = json_pack("{s:I,s:s,s:s,s:I,s:s}", "id", (json_int_t)7,
	    "title", "x", "owner", "bob", "due_at", (json_int_t)DUE, "state",
	    "cancelled");
	icalcomponent *cal = NULL, *ev;
	char *text = NULL;

	check_ctx = "cancelled, no customer, note nor url";
	REQUIRE(p != NULL);
	REQUIRE(ics_promise(p, STAMP, "h", NULL, &text) == 0);
	REQUIRE((cal = icalparser_parse_string(text)) != NULL);
	REQUIRE((ev = icalcomponent_get_first_component(
	             cal, ICAL_VEVENT_COMPONENT)) != NULL);
	CHECK(icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED);
	CHECK(icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT) ==
	    NULL);
	CHECK(count_props(ev, ICAL_URL_PROPERTY) == 0);
	CHECK(strcmp(icalcomponent_get_description(ev),
	          "Promised by bob.\n\npromise show 7") == 0);
out:
	if (cal != NULL)
		icalcomponent_free(cal);
	free(text);
	json_decref(p);
	check_ctx = "";
}

static void
test_long_title(void)
{
	char title[3000];
	json_t *p = NULL;
	icalcomponent *cal = NULL, *ev;
	char *text = NULL;
	size_t i;

	/* multi-byte characters across the fold points */
	for (i = 0; i + 2 < sizeof(title); i += 2)
		memcpy(title + i, "é", 2);
	title[i] = '\0';
	check_ctx = "a long title";
	p = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)1, "title", title,
	    "owner", "o", "due_at", (json_int_t)DUE);
	REQUIRE(p != NULL);
	REQUIRE(ics_promise(p, STAMP, "h", NULL, &text) == 0);
	CHECK(lines_ok(text));
	REQUIRE((cal = icalparser_parse_string(text)) != NULL);
	REQUIRE((ev = icalcomponent_get_first_component(
	             cal, ICAL_VEVENT_COMPONENT)) != NULL);
	CHECK(strcmp(icalcomponent_get_summary(ev), title) == 0);
out:
	if (cal != NULL)
		icalcomponent_free(cal);
	free(text);
	json_decref(p);
	check_ctx = "";
}

static void
test_refused(void)
{
	json_t *p = json_pack(
	    "{s:I,s:s,s:s}", "id", (json_int_t)1, "title", "t", "owner", "o");
	char *text = (char *)"untouched";

	check_ctx = "no due_at";
	REQUIRE(p != NULL);
	CHECK(ics_promise(p, STAMP, "h", NULL, &text) == -EINVAL);
	CHECK(text == NULL);
out:
	json_decref(p);
	check_ctx = "";
}

/* the attachment email takes: its name, media type and the same text */
static void
test_attachment(void)
{
	json_t *p = json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)42,
	    "title", "t", "owner", "o", "due_at", (json_int_t)DUE);
	json_t *a = NULL;
	char *text = NULL;

	check_ctx = "attachment";
	REQUIRE(p != NULL);
	REQUIRE((a = ics_attachment(p, STAMP, "h", NULL)) != NULL);
	REQUIRE(ics_promise(p, STAMP, "h", NULL, &text) == 0);
	CHECK(strcmp(json_string_value(json_object_get(a, "filename")),
	          "promise-42.ics") == 0);
	CHECK(strcmp(json_string_value(json_object_get(a, "content_type")),
	          ICS_MEDIA_TYPE) == 0);
	CHECK(strcmp(json_string_value(json_object_get(a, "text")), text) == 0);
out:
	free(text);
	json_decref(a);
	json_decref(p);
	check_ctx = "";
}

int
main(void)
{
	test_open();
	test_settled_and_bare();
	test_long_title();
	test_refused();
	test_attachment();
	printf("test_ics: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed > 0 ? 1 : 0;
}
