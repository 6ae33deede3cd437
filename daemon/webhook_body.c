/* SPDX-License-Identifier: MIT */
/*
 * webhook_body.c: the body of a webhook, see webhook_body.h.  The JSON
 * event is the bytes jansson wrote of it before (members in the same
 * order, strings through jw_jstr), so receivers see no difference.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jsonw.h"
#include "proto.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"
#include "webhook_body.h"

/* the members copied into our own event, after event, delivery and
 * recipient, in this order; the same as webhook_read's text[] */
static const char *const copied[WEBHOOK_MEMBERS] = {"occurred_at", "level",
    "repeat", "lead", "promise", "failed", "history", "links"};

/* where the parts keep copied[i] */
static const char **
copied_part(struct payload_parts *pp, size_t i)
{
	const char **slot[WEBHOOK_MEMBERS] = {&pp->occurred_at, &pp->level,
	    &pp->repeat, &pp->lead, &pp->promise, &pp->failed, &pp->history,
	    &pp->links};

	return slot[i];
}

static const char *
copied_value(const struct payload_parts *pp, size_t i)
{
	const char *v[WEBHOOK_MEMBERS] = {pp->occurred_at, pp->level,
	    pp->repeat, pp->lead, pp->promise, pp->failed, pp->history,
	    pp->links};

	return v[i];
}

int
webhook_read(struct webhook_read *r, const json_t *p)
{
	struct payload_parts *pp = &r->parts;
	const json_t *rcpt = json_object_get(p, "recipient");
	const json_t *pr = json_object_get(p, "promise");
	const json_t *failed = json_object_get(p, "failed");
	const json_t *links = json_object_get(p, "links");
	const json_t *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	pp->event = proto_str(p, "event");
	pp->login = json_is_string(rcpt) ? json_string_value(rcpt)
	                                 : proto_str(rcpt, "login");
	pp->webhook = proto_str(rcpt, "webhook");
	pp->timezone = proto_str(rcpt, "timezone");
	for (i = 0; i < WEBHOOK_MEMBERS; i++) {
		if ((v = json_object_get(p, copied[i])) == NULL)
			continue;
		r->text[i] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (r->text[i] == NULL)
			return -ENOMEM;
		*copied_part(pp, i) = r->text[i];
	}
	v = json_object_get(p, "lead");
	pp->has_lead = json_is_integer(v);
	pp->lead_s = json_integer_value(v);
	pp->occurred = json_integer_value(json_object_get(p, "occurred_at"));
	pp->id = json_integer_value(json_object_get(pr, "id"));
	v = json_object_get(pr, "due_at");
	pp->has_due_at = json_is_integer(v);
	pp->due_at = json_integer_value(v);
	pp->title = proto_str(pr, "title");
	pp->owner = proto_str(pr, "owner");
	pp->for_whom = proto_str(pr, "for");
	pp->due = proto_str(pr, "due");
	pp->state = proto_str(pr, "state");
	pp->failed_event = proto_str(failed, "event");
	pp->failed_channel = proto_str(failed, "channel");
	pp->failed_recipient = proto_str(failed, "recipient");
	pp->failed_error = proto_str(failed, "error");
	pp->link_open = proto_str(links, "open");
	pp->link_keep = proto_str(links, "keep");
	pp->link_snooze = proto_str(links, "snooze");
	pp->link_ack = proto_str(links, "ack");
	return 0;
}

void
webhook_read_free(struct webhook_read *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < WEBHOOK_MEMBERS; i++)
		free(r->text[i]);
	memset(r, 0, sizeof(*r));
}

int
webhook_body_json(const char *uid, const struct payload_parts *pp, char **ret)
{
	struct jsonw b = {NULL, 0, 0, false};
	const char *v;
	size_t i;

	jw_lit(&b, "{\"event\":");
	jw_jstr(&b, pp->event, false);
	jw_lit(&b, ",\"delivery\":");
	jw_jstr(&b, uid, false);
	if (pp->login != NULL) {
		jw_lit(&b, ",\"recipient\":");
		jw_jstr(&b, pp->login, false);
	}
	for (i = 0; i < WEBHOOK_MEMBERS; i++) {
		if ((v = copied_value(pp, i)) == NULL)
			continue;
		jw_lit(&b, ",\"");
		jw_lit(&b, copied[i]);
		jw_lit(&b, "\":");
		jw_lit(&b, v);
	}
	jw_put(&b, "}", 1);
	if (b.oom) {
		free(b.s);
		*ret = NULL;
		return -ENOMEM;
	}
	*ret = b.s;
	return 0;
}

/* Slack's three control characters, which would otherwise let a title
 * such as "<!channel>" ping everyone; malloc'd, or NULL */
static char *
slack_escape(const char *s)
{
	size_t len = 1;
	const char *p;
	char *out, *q;

	for (p = s; *p != '\0'; p++)
		len += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (p = s, q = out; *p != '\0'; p++) {
		if (*p == '&') {
			memcpy(q, "&amp;", 5);
			q += 5;
		} else if (*p == '<' || *p == '>') {
			memcpy(q, *p == '<' ? "&lt;" : "&gt;", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return out;
}

/* writes the human line for the event into f: "[promise 42] Due in 1h:
 * Send Acme the demo invite (for Acme, owner dan)" */
static void
slack_line(FILE *f, const struct payload_parts *pp)
{
	const char *title = pp->title != NULL ? pp->title : "(untitled)";
	enum event_type t = event_type_of(pp->event);
	const char *s;
	struct tz_save tz;
	int64_t lead;
	char span[32], when[64];

	fprintf(f, "[promise %" PRId64 "] ", pp->id);
	if (t == EVENT_UNDELIVERABLE) {
		fprintf(f, "Could not deliver the %s for '%s'",
		    event_noun(pp->failed_event), title);
		if ((s = pp->failed_channel) != NULL)
			fprintf(f, " via %s", s);
		/* not in the documented payload yet; named when present */
		if ((s = pp->failed_recipient) != NULL)
			fprintf(f, " to %s", s);
		s = pp->failed_error;
		fprintf(f, ": %s", s != NULL ? s : "unknown error");
		return;
	}
	if (t == EVENT_NUDGE) {
		lead = pp->has_lead ? pp->lead_s : pp->due_at - pp->occurred;
		timefmt_duration(lead, span, sizeof(span));
		if (lead > 0)
			fprintf(f, "Due in %s: ", span);
		else
			fprintf(f, "Due now: ");
	} else if (t == EVENT_DUE)
		fprintf(f, "Due now: ");
	else if (t == EVENT_ESCALATION) {
		/* in the recipient's zone, as their email says it */
		if (pp->has_due_at && tz_enter(&tz, pp->timezone) == 0) {
			timefmt_local(pp->due_at, when, sizeof(when));
			tz_leave(&tz);
			fprintf(f, "Overdue since %s: ", when);
		} else
			fprintf(f, "Overdue since %s: ",
			    pp->due != NULL ? pp->due : "its due time");
	} else if (t == EVENT_RESOLVED)
		fprintf(f, "Resolved: ");
	else
		fprintf(f, "%s: ", pp->event);
	fprintf(f, "%s (", title);
	if (pp->for_whom != NULL)
		fprintf(f, "for %s, ", pp->for_whom);
	fprintf(f, "owner %s)", pp->owner != NULL ? pp->owner : "unknown");
	if (t == EVENT_RESOLVED && pp->state != NULL)
		fprintf(f, ", %s", pp->state);
}

/* the payload's one-click links as Slack's <URL|label>, after the escaped
 * line: a URL is ours (base_url's characters are checked at load), but
 * one holding anything Slack reads is left out rather than escaped */
static void
slack_links(FILE *f, const struct payload_parts *pp)
{
	static const char *const labels[] = {"Mark kept",
	    "Snooze to the next business morning", "Acknowledge", "Open"};
	const char *urls[] = {
	    pp->link_keep, pp->link_snooze, pp->link_ack, pp->link_open};
	const char *url, *sep = "\n";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(urls); i++) {
		url = urls[i];
		if (url == NULL || strpbrk(url, "<>|& \n") != NULL)
			continue;
		fprintf(f, "%s<%s|%s>", sep, url, labels[i]);
		sep = " | ";
	}
}

int
webhook_body_slack(const struct payload_parts *pp, char **ret)
{
	struct jsonw b = {NULL, 0, 0, false};
	char *line = NULL, *text = NULL, *esc = NULL;
	size_t len = 0;
	FILE *f;
	int r = -ENOMEM;

	*ret = NULL;
	if ((f = open_memstream(&line, &len)) == NULL)
		return -errno;
	slack_line(f, pp);
	if (fclose(f) != 0 || line == NULL)
		goto out;
	if ((esc = slack_escape(line)) == NULL)
		goto out;
	if ((f = open_memstream(&text, &len)) == NULL) {
		r = -errno;
		goto out;
	}
	fputs(esc, f);
	slack_links(f, pp);
	if (fclose(f) != 0 || text == NULL)
		goto out;
	/* every piece is UTF-8: the payload's, checked on input */
	jw_lit(&b, "{\"text\":");
	jw_jstr(&b, text, false);
	jw_put(&b, "}", 1);
	if (b.oom)
		goto out;
	*ret = b.s;
	b.s = NULL;
	r = 0;
out:
	free(b.s);
	free(esc);
	free(text);
	free(line);
	return r;
}
