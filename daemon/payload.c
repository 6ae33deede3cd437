/* SPDX-License-Identifier: MIT */
/*
 * payload.c: a delivery's payload written by hand, see payload.h.  Where
 * jansson wrote it before, the bytes are the same: strings through
 * jw_jstr, members in the order they used to be set on the tree, a
 * history event's detail copied when it is already what jansson would
 * write of it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "payload.h"
#include "timefmt.h"

void
payload_fini(struct payload *pl)
{
	size_t i;

	if (pl == NULL)
		return;
	free(pl->head.s);
	free(pl->promise.s);
	free(pl->history.s);
	free(pl->failed.s);
	free(pl->links.s);
	free(pl->text.s);
	for (i = 0; i < PAYLOAD_HISTORY; i++)
		free(pl->item[i].s);
	memset(pl, 0, sizeof(*pl));
}

static void
reset(struct payload *pl)
{
	jw_reset(&pl->head);
	jw_reset(&pl->promise);
	jw_reset(&pl->history);
	jw_reset(&pl->failed);
	jw_reset(&pl->links);
	jw_reset(&pl->text);
	pl->n_item = 0;
	pl->has_level = false;
	pl->tree = false;
	pl->members = false;
	memset(&pl->parts, 0, sizeof(pl->parts));
}

/* "name": s or null, UTF-8 */
static void
member_str(struct jsonw *b, const char *sep, const char *name, const char *s)
{
	jw_lit(b, sep);
	jw_jstr(b, name, false);
	jw_put(b, ":", 1);
	if (s != NULL)
		jw_jstr(b, s, false);
	else
		jw_lit(b, "null");
}

static void
member_int(struct jsonw *b, const char *name, int64_t v)
{
	jw_put(b, ",\"", 2);
	jw_lit(b, name);
	jw_put(b, "\":", 2);
	jw_int(b, v);
}

int
payload_begin(struct payload *pl, const struct promise_rec *p,
    const char *event, int64_t now)
{
	struct jsonw *b = &pl->promise;
	struct payload_parts *pp = &pl->parts;

	reset(pl);
	timefmt_iso_utc(p->due_at, pl->due, sizeof(pl->due));
	snprintf(pl->occurred, sizeof(pl->occurred), "%" PRId64, now);
	jw_lit(b, "{\"id\":");
	jw_int(b, p->id);
	member_str(b, ",", "title", p->title);
	member_str(b, ",", "owner", p->owner);
	member_str(b, ",", "for", p->for_whom);
	member_str(b, ",", "note", p->note);
	member_int(b, "due_at", p->due_at);
	member_str(b, ",", "due", pl->due);
	member_int(b, "created_at", p->created_at);
	member_str(b, ",", "created_by", p->created_by);
	member_str(b, ",", "state", pstate_name(p->state));
	member_int(b, "snoozes", p->snoozes);
	jw_put(b, "}", 1);
	pp->event = event;
	pp->occurred_at = pl->occurred;
	pp->occurred = now;
	pp->promise = b->s;
	pp->id = p->id;
	pp->due_at = p->due_at;
	pp->has_due_at = true;
	pp->title = p->title;
	pp->owner = p->owner;
	pp->for_whom = p->for_whom;
	pp->due = pl->due;
	pp->state = pstate_name(p->state);
	return b->oom ? -ENOMEM : 0;
}

/*
 * Whether detail (JSON text) is exactly what jansson writes of it with
 * JSON_COMPACT: an object or array of ASCII strings without escapes,
 * integers and literals, no space.  The daemon writes its details that
 * way; anything else (a real, an escape, UTF-8) goes through jansson.
 */
static bool
detail_canonical(const char *s)
{
	const char *digits = NULL;
	bool in_str = false;
	int depth = 0;

	if (*s != '{' && *s != '[')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (in_str) {
			if (ch == '"')
				in_str = false;
			else if (ch < 0x20 || ch >= 0x80 || ch == '\\')
				return false;
			continue;
		}
		if (ch >= '0' && ch <= '9') {
			if (digits == NULL)
				digits = s;
			else if (*digits == '0' || s - digits >= 18)
				return false;
			continue;
		}
		digits = NULL;
		switch (ch) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0 && s[1] != '\0')
				return false;
			break;
		case '-':
			if (s[1] < '1' || s[1] > '9')
				return false;
			break;
		case ':':
		case ',':
			break;
		case 't':
		case 'f':
		case 'n':
			if (strncmp(s, "true", 4) == 0)
				s += 3;
			else if (strncmp(s, "false", 5) == 0)
				s += 4;
			else if (strncmp(s, "null", 4) == 0)
				s += 3;
			else
				return false;
			break;
		default:
			return false;
		}
	}
	return depth == 0 && !in_str;
}

/* detail as event_rec_json carries it, in UTF-8 */
static void
put_detail(struct jsonw *b, const char *detail)
{
	json_t *d;
	char *text;

	if (detail == NULL) {
		jw_lit(b, "null");
		return;
	}
	if (detail_canonical(detail)) {
		jw_lit(b, detail);
		return;
	}
	d = json_loads(detail, 0, NULL);
	text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	if (d != NULL && text == NULL)
		b->oom = true;
	jw_lit(b, text != NULL ? text : "null");
	free(text);
	json_decref(d);
}

int
payload_event_json(struct jsonw *b, const struct event_rec *e)
{
	jw_lit(b, "{\"at\":");
	jw_int(b, e->at);
	member_str(b, ",", "actor", e->actor);
	member_str(b, ",", "kind", e->what);
	jw_lit(b, ",\"detail\":");
	put_detail(b, e->detail);
	jw_put(b, "}", 1);
	return b->oom ? -ENOMEM : 0;
}

void
payload_history_cb(void *arg, const struct event_rec *e)
{
	struct payload *pl = arg;
	struct jsonw *b;

	if (pl->n_item >= PAYLOAD_HISTORY)
		return;
	b = &pl->item[pl->n_item++];
	jw_reset(b);
	(void)payload_event_json(b, e);
}

void
payload_set_lead(struct payload *pl, int64_t lead)
{
	snprintf(pl->lead, sizeof(pl->lead), "%" PRId64, lead);
	pl->parts.lead = pl->lead;
	pl->parts.lead_s = lead;
	pl->parts.has_lead = true;
}

void
payload_set_repeat(struct payload *pl, int64_t repeat)
{
	snprintf(pl->repeat, sizeof(pl->repeat), "%" PRId64, repeat);
	pl->parts.repeat = pl->repeat;
}

void
payload_set_level(struct payload *pl, int64_t level)
{
	pl->has_level = true;
	pl->level = level;
	snprintf(pl->levelbuf, sizeof(pl->levelbuf), "%" PRId64, level);
	pl->parts.level = pl->levelbuf;
}

int
payload_set_failed(struct payload *pl, const char *uid, const char *event,
    const char *recipient, const char *channel, const char *error)
{
	struct jsonw *b = &pl->failed;
	struct payload_parts *pp = &pl->parts;

	/* json_pack, which wrote it before, left it out for a NULL */
	if (uid == NULL || event == NULL || recipient == NULL ||
	    channel == NULL || error == NULL)
		return 0;
	member_str(b, "{", "delivery", uid);
	member_str(b, ",", "event", event);
	member_str(b, ",", "recipient", recipient);
	member_str(b, ",", "channel", channel);
	member_str(b, ",", "error", error);
	jw_put(b, "}", 1);
	pp->failed = b->s;
	pp->failed_event = event;
	pp->failed_recipient = recipient;
	pp->failed_channel = channel;
	pp->failed_error = error;
	return b->oom ? -ENOMEM : 0;
}

int
payload_seal(struct payload *pl)
{
	struct jsonw *h = &pl->head;
	struct payload_parts *pp = &pl->parts;
	size_t i;

	/* the rows came newest first; the history is oldest first */
	jw_put(&pl->history, "[", 1);
	for (i = pl->n_item; i-- > 0;) {
		if (pl->item[i].oom)
			return -ENOMEM;
		jw_put(&pl->history, pl->item[i].s, pl->item[i].len);
		if (i > 0)
			jw_put(&pl->history, ",", 1);
	}
	jw_put(&pl->history, "]", 1);
	pp->history = pl->history.s;
	jw_lit(h, "{\"event\":");
	jw_jstr(h, pp->event, true);
	jw_lit(h, ",\"occurred_at\":");
	jw_lit(h, pp->occurred_at);
	jw_lit(h, ",\"promise\":");
	jw_put_ascii(h, pl->promise.s, pl->promise.len);
	jw_lit(h, ",\"history\":");
	jw_put_ascii(h, pl->history.s, pl->history.len);
	if (pp->failed != NULL) {
		jw_lit(h, ",\"failed\":");
		jw_put_ascii(h, pl->failed.s, pl->failed.len);
	}
	if (pp->repeat != NULL) {
		jw_lit(h, ",\"repeat\":");
		jw_lit(h, pp->repeat);
	}
	if (pp->lead != NULL) {
		jw_lit(h, ",\"lead\":");
		jw_lit(h, pp->lead);
	}
	pl->members = true;
	return h->oom || pl->history.oom || pl->promise.oom ? -ENOMEM : 0;
}

int
payload_begin_tree(struct payload *pl, const json_t *base)
{
	char *text;
	size_t len;

	reset(pl);
	pl->tree = true;
	pl->parts.event = json_string_value(json_object_get(base, "event"));
	text = json_dumps(base, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL)
		return -ENOMEM;
	/* all but the closing brace: the recipient's members follow */
	len = strlen(text);
	jw_put(&pl->head, text, len > 0 ? len - 1 : 0);
	pl->members = len > 2;
	free(text);
	return pl->head.oom ? -ENOMEM : 0;
}

/* the links' object, UTF-8, and their URLs in the parts */
static void
put_links(struct payload *pl, const struct payload_to *to)
{
	struct payload_parts *pp = &pl->parts;
	const char *sep = "{";
	size_t i;

	jw_reset(&pl->links);
	for (i = 0; i < to->n_links; i++) {
		member_str(&pl->links, sep,
		    link_action_name(to->links[i].action), to->links[i].url);
		sep = ",";
		switch (to->links[i].action) {
		case LINK_OPEN:
			pp->link_open = to->links[i].url;
			break;
		case LINK_KEEP:
			pp->link_keep = to->links[i].url;
			break;
		case LINK_SNOOZE:
			pp->link_snooze = to->links[i].url;
			break;
		case LINK_ACK:
			pp->link_ack = to->links[i].url;
			break;
		default:
			break;
		}
	}
	jw_put(&pl->links, "}", 1);
	pp->links = pl->links.s;
}

/* "name": s or null, ASCII */
static void
member_astr(struct jsonw *b, const char *sep, const char *name, const char *s)
{
	jw_lit(b, sep);
	jw_jstr(b, name, true);
	jw_put(b, ":", 1);
	if (s != NULL)
		jw_jstr(b, s, true);
	else
		jw_lit(b, "null");
}

int
payload_write(struct payload *pl, const struct payload_to *to)
{
	struct jsonw *t = &pl->text;
	struct payload_parts *pp = &pl->parts;

	jw_reset(t);
	jw_put(t, pl->head.s, pl->head.len);
	if (pl->members)
		jw_put(t, ",", 1);
	if (pl->has_level) {
		jw_lit(t, "\"level\":");
		jw_int(t, pl->level);
		jw_put(t, ",", 1);
	}
	member_astr(t, "", "delivery", to->uid);
	member_astr(t, ",\"recipient\":{", "login", to->login);
	member_astr(t, ",", "email", to->email);
	member_astr(t, ",", "webhook", to->webhook);
	member_astr(t, ",", "timezone", to->timezone);
	jw_put(t, "}", 1);
	pp->login = to->login;
	pp->webhook = to->webhook;
	pp->timezone = to->timezone;
	pp->links = pp->link_open = pp->link_keep = pp->link_snooze =
	    pp->link_ack = NULL;
	if (to->n_links > 0) {
		put_links(pl, to);
		jw_lit(t, ",\"links\":");
		jw_put_ascii(t, pl->links.s, pl->links.len);
	}
	if (to->thread_root != NULL) {
		member_astr(t, ",\"thread\":{", "root", to->thread_root);
		jw_lit(t,
		    to->thread_first ? ",\"first\":true}"
		                     : ",\"first\":false}");
	}
	if (to->reply_to != NULL)
		member_astr(t, ",", "reply_to", to->reply_to);
	jw_put(t, "}", 1);
	return t->oom || pl->links.oom ? -ENOMEM : 0;
}
