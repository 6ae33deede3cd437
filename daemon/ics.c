/* SPDX-License-Identifier: MIT */
/*
 * ics.c: a promise as an iCalendar object, see ics.h.  libical does the
 * escaping (commas, semicolons, backslashes and line ends in text) and the
 * folding, so no text of a promise can start a property of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libical/ical.h>

#include "ics.h"
#include "jsonw.h"
#include "proto.h"
#include "util.h"

/* the reminder, this long before the deadline */
#define ALARM_MINUTES 15

static struct icaltimetype
utc_time(int64_t t)
{
	return icaltime_from_timet_with_zone(
	    (time_t)t, 0, icaltimezone_get_utc_timezone());
}

/* "Promised to CUSTOMER by OWNER.", the note, and the promise's number */
static void
put_description(struct jsonw *b, int64_t id, const char *owner,
    const char *whom, const char *note)
{
	jw_lit(b, "Promised");
	if (whom != NULL && whom[0] != '\0') {
		jw_lit(b, " to ");
		jw_lit(b, whom);
	}
	jw_lit(b, " by ");
	jw_lit(b, owner);
	jw_lit(b, ".\n");
	if (note != NULL && note[0] != '\0') {
		jw_lit(b, "\n");
		jw_lit(b, note);
		jw_lit(b, "\n");
	}
	jw_lit(b, "\npromise show ");
	jw_int(b, id);
	jw_put(b, "", 0);
}

static icalcomponent *
make_alarm(const char *title)
{
	struct icaltriggertype tr = {.time = icaltime_null_time(),
	    .duration = icaldurationtype_from_int(-ALARM_MINUTES * 60)};

	return icalcomponent_vanew(ICAL_VALARM_COMPONENT,
	    icalproperty_new_action(ICAL_ACTION_DISPLAY),
	    icalproperty_new_trigger(tr), icalproperty_new_description(title),
	    (void *)0);
}

int
ics_promise(const json_t *promise, int64_t stamp, const char *host,
    const char *url, char **ret)
{
	const char *title = proto_str(promise, "title");
	const char *owner = proto_str(promise, "owner");
	const char *state = proto_str(promise, "state");
	json_t *jid = json_object_get(promise, "id");
	json_t *jdue = json_object_get(promise, "due_at");
	json_t *jsn = json_object_get(promise, "snoozes");
	icalcomponent *cal = NULL, *ev = NULL, *alarm;
	struct jsonw desc = {0};
	char uid[320];
	int64_t id;
	int r = -EINVAL;

	*ret = NULL;
	if (title == NULL || owner == NULL || !json_is_integer(jid) ||
	    !json_is_integer(jdue) || host == NULL)
		goto out;
	id = (int64_t)json_integer_value(jid);
	snprintf(uid, sizeof(uid), "promise-%" PRId64 "@%s", id, host);
	put_description(&desc, id, owner, proto_str(promise, "for"),
	    proto_str(promise, "note"));
	r = -ENOMEM;
	if (desc.oom)
		goto out;
	ev = icalcomponent_vanew(ICAL_VEVENT_COMPONENT,
	    icalproperty_new_uid(uid),
	    icalproperty_new_dtstamp(utc_time(stamp)),
	    icalproperty_new_dtstart(utc_time(json_integer_value(jdue))),
	    icalproperty_new_summary(title),
	    icalproperty_new_description(desc.s),
	    icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT),
	    icalproperty_new_categories("promise"), (void *)0);
	if (ev == NULL)
		goto out;
	/* a cancelled promise's entry says so: a calendar shows it struck */
	icalcomponent_add_property(ev,
	    icalproperty_new_status(
	        state != NULL && strcmp(state, "cancelled") == 0
	            ? ICAL_STATUS_CANCELLED
	            : ICAL_STATUS_CONFIRMED));
	if (json_is_integer(jsn))
		icalcomponent_add_property(ev,
		    icalproperty_new_sequence((int)json_integer_value(jsn)));
	if (url != NULL)
		icalcomponent_add_property(ev, icalproperty_new_url(url));
	if (state == NULL || strcmp(state, "open") == 0) {
		if ((alarm = make_alarm(title)) == NULL)
			goto out;
		icalcomponent_add_component(ev, alarm);
	}
	cal = icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT,
	    icalproperty_new_version("2.0"),
	    icalproperty_new_prodid("-//promised//promised//EN"),
	    icalproperty_new_method(ICAL_METHOD_PUBLISH), (void *)0);
	if (cal == NULL)
		goto out;
	icalcomponent_add_component(cal, ev);
	ev = NULL; /* cal owns it */
	if ((*ret = icalcomponent_as_ical_string_r(cal)) != NULL)
		r = 0;
out:
	if (ev != NULL)
		icalcomponent_free(ev);
	if (cal != NULL)
		icalcomponent_free(cal);
	free(desc.s);
	return r;
}

void
ics_host(const char *domain, char *buf, size_t len)
{
	if (domain != NULL && domain[0] != '\0')
		util_strlcpy(buf, domain, len);
	else if (len == 0 || gethostname(buf, len) != 0 || buf[0] == '\0' ||
	    memchr(buf, '\0', len) == NULL)
		util_strlcpy(buf, "promised", len);
}

json_t *
ics_attachment(
    const json_t *promise, int64_t stamp, const char *host, const char *url)
{
	char name[64], *text = NULL;
	json_t *o;

	if (ics_promise(promise, stamp, host, url, &text) < 0)
		return NULL;
	snprintf(name, sizeof(name), "promise-%" PRId64 ".ics",
	    (int64_t)json_integer_value(json_object_get(promise, "id")));
	o = json_pack("{s:s,s:s,s:s}", "filename", name, "content_type",
	    ICS_MEDIA_TYPE, "text", text);
	free(text);
	return o;
}
