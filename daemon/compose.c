/* SPDX-License-Identifier: MIT */
/*
 * compose.c: an email made of a delivery's payload, see compose.h.  The
 * subject and body are written in the recipient's zone; mime.c turns them
 * into safe headers and quoted-printable.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "mime.h"
#include "proto.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define HIST_TEXT 200 /* bytes of a reason or note in one history line */
/* attachments: how many, and how long a filename and a media type; short
 * enough that their part headers need no folding */
#define ATTACH_MAX 4
#define ATTACH_NAME 40
#define ATTACH_TYPE 60

/* an integer member into *v; false (and *v untouched) when there is none */
static bool
jint(const json_t *o, const char *key, int64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return false;
	*v = (int64_t)json_integer_value(j);
	return true;
}

/* a filename that goes into a header as it is: letters, digits, . - _ */
static bool
attach_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > ATTACH_NAME || s[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!ascii_alpha(s[i]) && !ascii_digit(s[i]) &&
		    strchr(".-_", s[i]) == NULL)
			return false;
	return true;
}

/* a media type with parameters, unquoted: "text/calendar; method=PUBLISH" */
static bool
attach_type_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > ATTACH_TYPE || strchr(s, '/') == NULL)
		return false;
	for (i = 0; i < n; i++)
		if (!ascii_alpha(s[i]) && !ascii_digit(s[i]) &&
		    strchr("/+.-_;= ", s[i]) == NULL)
			return false;
	return true;
}

/* the payload's "attachments" into m; NULL, or why they cannot go */
static const char *
parse_attachments(json_t *root, struct mail *m)
{
	json_t *a = json_object_get(root, "attachments"), *it;
	const char *name, *type;
	size_t i;

	if (a == NULL)
		return NULL;
	if (!json_is_array(a) || json_array_size(a) > ATTACH_MAX)
		return "the payload's attachments are not a list of at most 4";
	json_array_foreach(a, i, it) {
		name = proto_str(it, "filename");
		type = proto_str(it, "content_type");
		if (name == NULL || !attach_name_ok(name))
			return "an attachment's filename is missing or not "
			       "letters, digits, '.', '-' and '_' (at most 40)";
		if (type == NULL || !attach_type_ok(type))
			return "an attachment's content_type is missing or not "
			       "a plain media type";
		if (!json_is_string(json_object_get(it, "text")))
			return "an attachment has no text";
	}
	m->attachments = json_array_size(a) > 0 ? a : NULL;
	return NULL;
}

/* reads the payload into m; NULL, or why it cannot make an email */
const char *
compose_parse(json_t *root, struct mail *m, int64_t now)
{
	json_t *rcpt, *p, *th;
	const char *ev;

	memset(m, 0, sizeof(*m));
	m->event = EVENT_TYPE_MAX;
	if (!json_is_object(root))
		return "the payload is not a JSON object";
	if ((ev = proto_str(root, "event")) == NULL)
		return "the payload has no event";
	if ((m->event = event_type_of(ev)) == EVENT_TYPE_MAX)
		return "the payload's event is not one email knows";
	rcpt = json_object_get(root, "recipient");
	if ((m->to = proto_str(rcpt, "email")) == NULL)
		return "the recipient has no email address";
	m->login = proto_str(rcpt, "login");
	m->zone = proto_str(rcpt, "timezone");
	m->reply_to = proto_str(root, "reply_to");
	if (m->reply_to != NULL && !util_email_ok(m->reply_to))
		return "the payload's reply_to is not an address";
	if (m->event == EVENT_REPLY) {
		m->reply = json_object_get(root, "reply");
		if (proto_str(m->reply, "subject") == NULL ||
		    proto_str(m->reply, "text") == NULL)
			return "the payload's reply lacks subject or text";
		(void)jint(json_object_get(root, "promise"), "id", &m->id);
		m->title = "";
		return parse_attachments(root, m);
	}
	if (m->event == EVENT_DIGEST) {
		/* about a team, not one promise */
		m->digest = json_object_get(root, "digest");
		if (!json_is_object(m->digest) ||
		    (m->owner = proto_str(m->digest, "manager")) == NULL ||
		    !jint(m->digest, "at", &m->due_at))
			return "the payload's digest lacks manager or at";
		m->title = "";
		goto thread;
	}
	if (m->event == EVENT_AGENDA) {
		/* about a person's day, not one promise */
		m->agenda = json_object_get(root, "agenda");
		if (!json_is_object(m->agenda) ||
		    (m->owner = proto_str(m->agenda, "login")) == NULL ||
		    !jint(m->agenda, "at", &m->due_at) ||
		    !json_is_array(json_object_get(m->agenda, "promises")))
			return "the payload's agenda lacks login, at or "
			       "promises";
		m->title = "";
		goto thread;
	}
	if (m->event == EVENT_SIGNIN) {
		p = json_object_get(root, "signin");
		if ((m->url = proto_str(p, "url")) == NULL ||
		    !jint(p, "expires_at", &m->due_at) || m->login == NULL)
			return "the payload's signin lacks url or expires_at";
		m->title = "";
		m->owner = m->login;
		goto thread;
	}
	p = json_object_get(root, "promise");
	if (!jint(p, "id", &m->id) ||
	    (m->title = proto_str(p, "title")) == NULL ||
	    (m->owner = proto_str(p, "owner")) == NULL ||
	    !jint(p, "due_at", &m->due_at))
		return "the payload's promise lacks id, title, owner or due_at";
	m->whom = proto_str(p, "for");
	m->note = proto_str(p, "note");
	m->state = proto_str(p, "state");
	(void)jint(p, "snoozes", &m->snoozes);
	if (!jint(root, "occurred_at", &m->occurred_at))
		m->occurred_at = now;
	if (!jint(root, "lead", &m->lead))
		m->lead = m->due_at - m->occurred_at;
	if (m->lead < 0)
		m->lead = 0;
	(void)jint(root, "repeat", &m->repeat);
	(void)jint(root, "level", &m->level);
	m->history = json_object_get(root, "history");
	if (!json_is_array(m->history))
		m->history = NULL;
	m->links = json_object_get(root, "links");
	if (!json_is_object(m->links))
		m->links = NULL;
	m->failed = json_object_get(root, "failed");
	if (!json_is_object(m->failed))
		m->failed = NULL;
	if (m->event == EVENT_UNDELIVERABLE && m->failed == NULL)
		return "the payload says nothing of the failed delivery";
thread:
	if ((th = json_object_get(root, "thread")) != NULL) {
		m->root = proto_str(th, "root");
		if (m->root == NULL || !mime_msgid_ok(m->root))
			return "the payload's thread.root is not a message id";
		m->first = json_is_true(json_object_get(th, "first"));
	}
	return parse_attachments(root, m);
}

/* the login of whoever an undeliverable notice is about */
static const char *
failed_who(const struct mail *m)
{
	const char *who = proto_str(m->failed, "recipient");

	return who != NULL ? who : m->owner;
}

/* a section's count, or 0 */
static int64_t
dcount(const struct mail *m, const char *section)
{
	int64_t n = 0;

	(void)jint(json_object_get(m->digest, section), "count", &n);
	return n;
}

/* "60%", or "" when the rate is null */
static void
percent(const json_t *rate, char *buf, size_t len)
{
	buf[0] = '\0';
	if (json_is_number(rate))
		snprintf(buf, len, "%.0f%%", json_number_value(rate) * 100.0);
}

static void
digest_subject(struct jsonw *b, const struct mail *m)
{
	const char *week = proto_str(m->digest, "week");
	char pct[16];

	percent(json_object_get(
	            json_object_get(m->digest, "last_week"), "on_time_rate"),
	    pct, sizeof(pct));
	jw_lit(b, "[digest");
	if (week != NULL) {
		jw_lit(b, " ");
		mime_line_max(b, week, 16);
	}
	jw_printf(b,
	    "] %" PRId64 " overdue, %" PRId64 " due this week, %s%s "
	    "last week",
	    dcount(m, "overdue"), dcount(m, "due_this_week"),
	    pct[0] ? pct : "nothing due", pct[0] ? " on time" : "");
}

static void
compose_subject(struct jsonw *b, const struct mail *m)
{
	char dur[64];

	if (m->event == EVENT_DIGEST) {
		digest_subject(b, m);
		return;
	}
	if (m->event == EVENT_SIGNIN) {
		jw_lit(b, "Your sign-in link for promised");
		return;
	}
	if (m->event == EVENT_AGENDA) {
		compose_agenda_subject(b, m);
		return;
	}
	jw_printf(b, "[promise %" PRId64 "] ", m->id);
	switch (m->event) {
	case EVENT_NUDGE:
		timefmt_duration(m->lead, dur, sizeof(dur));
		jw_printf(b, "Due in %s: %s", dur, m->title);
		break;
	case EVENT_DUE:
		jw_printf(b, "Due now: %s", m->title);
		break;
	case EVENT_ESCALATION:
		jw_printf(b, "Overdue: %s (owner %s)", m->title, m->owner);
		break;
	case EVENT_RESOLVED:
		jw_printf(b, "Resolved: %s", m->title);
		break;
	case EVENT_UNDELIVERABLE:
	default:
		jw_printf(b, "Could not reach %s: %s", failed_who(m), m->title);
		break;
	}
}

/* " to dan, boss": who a notice went to, from detail's "deliveries" */
static void
put_told(struct jsonw *b, const json_t *det)
{
	const json_t *list = json_object_get(det, "deliveries");
	const char *to, *prev;
	size_t i, j, shown = 0;

	for (i = 0; i < json_array_size(list); i++) {
		to = proto_str(json_array_get(list, i), "to");
		if (to == NULL)
			continue;
		/* one person told by email and webhook is named once */
		for (j = 0; j < i; j++) {
			prev = proto_str(json_array_get(list, j), "to");
			if (prev != NULL && strcmp(prev, to) == 0)
				break;
		}
		if (j < i)
			continue;
		if (shown == 5) {
			jw_lit(b, ", ...");
			break;
		}
		jw_lit(b, shown++ == 0 ? " to " : ", ");
		mime_line_max(b, to, 64);
	}
}

/* who acted, and how when not by the command line: "dan via link" */
static void
put_actor(struct jsonw *b, const char *actor, const json_t *det)
{
	const char *via = proto_str(det, "via");

	mime_line(b, actor);
	if (via != NULL) {
		jw_lit(b, " via ");
		mime_line_max(b, via, 16);
	}
}

/* one history event in words, after its time */
static void
put_event(
    struct jsonw *b, const char *kind, const char *actor, const json_t *det)
{
	const char *why;
	char t[96];
	int64_t v;

	if (actor == NULL)
		actor = "?";
	if (strcmp(kind, "created") == 0) {
		jw_lit(b, "created by ");
		put_actor(b, actor, det);
		if (jint(det, "due_at", &v)) {
			timefmt_local(v, t, sizeof(t));
			jw_printf(b, ", due %s", t);
		}
	} else if (strcmp(kind, "snoozed") == 0) {
		jw_lit(b, "snoozed by ");
		put_actor(b, actor, det);
		if (jint(det, "to", &v)) {
			timefmt_local(v, t, sizeof(t));
			jw_printf(b, " to %s", t);
		}
		if ((why = proto_str(det, "reason")) != NULL) {
			jw_lit(b, ": ");
			mime_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "nudge") == 0) {
		jw_lit(b, "reminder sent");
		put_told(b, det);
	} else if (strcmp(kind, "due") == 0) {
		jw_lit(b, "due notice sent");
		put_told(b, det);
	} else if (strcmp(kind, "escalation") == 0) {
		jw_lit(b, "escalated");
		put_told(b, det);
		if (jint(det, "repeat", &v) && v > 1)
			jw_printf(b, " (repeat %" PRId64 ")", v);
	} else if (strcmp(kind, "kept") == 0) {
		jw_lit(b, "kept by ");
		put_actor(b, actor, det);
		if (jint(det, "late_by", &v) && v >= 60) {
			timefmt_duration(v - v % 60, t, sizeof(t));
			jw_printf(b, ", %s late", t);
		}
		if ((why = proto_str(det, "note")) != NULL) {
			jw_lit(b, ": ");
			mime_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "cancelled") == 0) {
		jw_lit(b, "cancelled by ");
		put_actor(b, actor, det);
		if ((why = proto_str(det, "reason")) != NULL) {
			jw_lit(b, ": ");
			mime_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "acked") == 0) {
		jw_lit(b, "escalation acknowledged by ");
		put_actor(b, actor, det);
		if (jint(det, "until", &v)) {
			timefmt_local(v, t, sizeof(t));
			jw_printf(b, ", repeats paused until %s", t);
		}
	} else if (strcmp(kind, "resolved") == 0) {
		jw_lit(b, "resolved notice sent");
		put_told(b, det);
	} else if (strcmp(kind, "undeliverable") == 0) {
		jw_lit(b, "a message could not be delivered");
		if ((why = proto_str(det, "error")) != NULL) {
			jw_lit(b, ": ");
			mime_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "refused") == 0) {
		jw_lit(b, "refused to ");
		mime_line(b, actor);
		if (jint(det, "count", &v) && v > 1)
			jw_printf(b, " (%" PRId64 " times)", v);
	} else {
		mime_line_max(b, kind, 64);
		jw_lit(b, " by ");
		mime_line(b, actor);
	}
}

static void
put_history(struct jsonw *b, const struct mail *m)
{
	json_t *e, *det, *parsed;
	const char *kind;
	char t[96];
	int64_t at;
	size_t i;

	if (m->history == NULL || json_array_size(m->history) == 0)
		return;
	jw_lit(b, "\nHistory:\n");
	for (i = 0; i < json_array_size(m->history); i++) {
		e = json_array_get(m->history, i);
		if ((kind = proto_str(e, "kind")) == NULL ||
		    !jint(e, "at", &at))
			continue;
		/* the store keeps detail as JSON text; accept both forms */
		parsed = NULL;
		det = json_object_get(e, "detail");
		if (json_is_string(det))
			det = parsed =
			    json_loads(json_string_value(det), 0, NULL);
		timefmt_local(at, t, sizeof(t));
		jw_printf(b, "  %s  ", t);
		put_event(b, kind, proto_str(e, "actor"), det);
		jw_lit(b, "\n");
		json_decref(parsed);
	}
}

/* the settling event of a resolved promise: the latest kept or cancelled */
static const json_t *
settled_event(const struct mail *m)
{
	const json_t *found = NULL;
	const char *kind;
	json_t *e;
	size_t i;

	if (m->history == NULL)
		return NULL;
	for (i = 0; i < json_array_size(m->history); i++) {
		e = json_array_get(m->history, i);
		kind = proto_str(e, "kind");
		if (kind != NULL &&
		    (strcmp(kind, "kept") == 0 ||
		        strcmp(kind, "cancelled") == 0))
			found = e;
	}
	return found;
}

/* "Your promise 42" to its owner, "Promise 42, owned by dan," to others */
static void
put_opener(struct jsonw *b, const struct mail *m)
{
	if (m->login != NULL && strcmp(m->login, m->owner) == 0)
		jw_printf(b, "Your promise %" PRId64, m->id);
	else {
		jw_printf(b, "Promise %" PRId64 ", owned by ", m->id);
		mime_line(b, m->owner);
		jw_lit(b, ",");
	}
}

static void
put_resolved(struct jsonw *b, const struct mail *m)
{
	const json_t *e = settled_event(m), *told;
	json_t *det = NULL;
	const char *kind, *why;
	char t[96];
	int64_t v;

	put_opener(b, m);
	if (e == NULL) {
		jw_lit(b, " is settled");
		if (m->state != NULL) {
			jw_lit(b, ": ");
			mime_line_max(b, m->state, 32);
		}
		jw_lit(b, ".\n");
		goto out;
	}
	kind = proto_str(e, "kind");
	det = json_object_get(e, "detail");
	det = json_is_string(det) ? json_loads(json_string_value(det), 0, NULL)
	                          : json_incref(det);
	jw_printf(b, " was %s by ", kind);
	put_actor(b,
	    proto_str(e, "actor") != NULL ? proto_str(e, "actor") : "?", det);
	if (jint(e, "at", &v)) {
		timefmt_local(v, t, sizeof(t));
		jw_printf(b, " on %s", t);
	}
	if (jint(det, "late_by", &v) && v >= 60) {
		timefmt_duration(v - v % 60, t, sizeof(t));
		jw_printf(b, ", %s late", t);
	}
	jw_lit(b, ".\n");
	/* what the manager most wants to know of a promise given up */
	told = json_object_get(det, "told_customer");
	if (strcmp(kind, "cancelled") == 0 && json_is_boolean(told))
		jw_lit(b,
		    json_is_true(told)
		        ? "The customer was told it is cancelled.\n"
		        : "The customer was not told it is cancelled.\n");
	why = strcmp(kind, "kept") == 0 ? proto_str(det, "note")
	                                : proto_str(det, "reason");
	if (why != NULL) {
		jw_lit(b, strcmp(kind, "kept") == 0 ? "Their note: " : "Why: ");
		mime_block(b, why, "  ");
		jw_lit(b, "\n");
	}
out:
	jw_lit(b, "No more reminders will be sent about it.\n");
	json_decref(det);
}

static void
put_undeliverable(struct jsonw *b, const struct mail *m)
{
	const char *err = proto_str(m->failed, "error");
	const char *ch = proto_str(m->failed, "channel");

	jw_printf(b,
	    "promised could not deliver the %s about promise %" PRId64 " to ",
	    event_noun(proto_str(m->failed, "event")), m->id);
	mime_line(b, failed_who(m));
	if (ch != NULL) {
		jw_lit(b, " by ");
		mime_line_max(b, ch, 32);
	}
	jw_lit(b, ", and has stopped trying.\n");
	if (err != NULL) {
		jw_lit(b, "The error was:\n  ");
		mime_line_max(b, err, 900);
		jw_lit(b, "\n");
	}
	jw_lit(b, "Please make sure ");
	mime_line(b, failed_who(m));
	jw_lit(b, " knows about it.\n");
}

/* "What you can do:" and the commands, with what each is for, aligned */
static void
put_command_table(
    struct jsonw *b, char (*cmd)[96], const char *const *what, int n)
{
	int w = 0, len;

	for (int i = 0; i < n; i++)
		if ((len = (int)strlen(cmd[i])) > w)
			w = len;
	jw_lit(b, "\nWhat you can do:\n");
	for (int i = 0; i < n; i++)
		jw_printf(b, "  %-*s  %s\n", w, cmd[i], what[i]);
}

static void
put_commands(struct jsonw *b, const struct mail *m)
{
	char cmd[4][96];
	const char *what[4];
	int n = 0;

	if (m->event == EVENT_NUDGE || m->event == EVENT_DUE ||
	    m->event == EVENT_ESCALATION) {
		snprintf(
		    cmd[n], sizeof(cmd[n]), "promise done %" PRId64, m->id);
		what[n++] = "it is kept";
		snprintf(cmd[n], sizeof(cmd[n]),
		    "promise snooze %" PRId64 " --due WHEN --reason TEXT",
		    m->id);
		what[n++] = "move the deadline, saying why";
	}
	if (m->event == EVENT_ESCALATION) {
		snprintf(cmd[n], sizeof(cmd[n]), "promise ack %" PRId64, m->id);
		what[n++] = "pause these repeats to you for one period";
	}
	snprintf(cmd[n], sizeof(cmd[n]), "promise show %" PRId64, m->id);
	what[n++] = "the promise and its history";
	put_command_table(b, cmd, what, n);
}

/* the one-click links, each on a line of its own: a long URL wrapped by
 * a mail client stops working */
static void
put_links(struct jsonw *b, const struct mail *m)
{
	static const struct {
		const char *key, *what;
	} rows[] = {
	    {"keep", "Mark it kept:"},
	    {"snooze", "Snooze it to the next business morning:"},
	    {"ack", "Acknowledge the escalation (pause the repeats):"},
	    {"open", "Open it in the browser:"},
	};
	const char *url;
	size_t i;

	if (m->links == NULL)
		return;
	jw_lit(b, "\nIn one click:\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if ((url = proto_str(m->links, rows[i].key)) == NULL)
			continue;
		jw_printf(b, "  %s\n    ", rows[i].what);
		mime_line_max(b, url, 2000);
		jw_lit(b, "\n");
	}
}

/* one section of a digest: its count and the promises it lists */
static void
put_digest_list(struct jsonw *b, const struct mail *m, const char *section,
    const char *name)
{
	const json_t *sec = json_object_get(m->digest, section);
	const json_t *list = json_object_get(sec, "promises"), *e;
	char due[96], rel[64];
	int64_t n = dcount(m, section), id, at;
	size_t i;

	jw_printf(b, "\n%s: %" PRId64 "\n", name, n);
	for (i = 0; i < json_array_size(list); i++) {
		e = json_array_get(list, i);
		if (!jint(e, "id", &id) || !jint(e, "due_at", &at) ||
		    proto_str(e, "title") == NULL ||
		    proto_str(e, "owner") == NULL)
			continue;
		timefmt_local(at, due, sizeof(due));
		timefmt_relative(at, m->due_at, rel, sizeof(rel));
		jw_printf(b, "  %-6" PRId64 " ", id);
		mime_line_max(b, proto_str(e, "owner"), 64);
		jw_printf(b, ", due %s (%s)\n         ", due, rel);
		mime_line_max(b, proto_str(e, "title"), 200);
		if (proto_str(e, "for") != NULL) {
			jw_lit(b, " (for ");
			mime_line_max(b, proto_str(e, "for"), 100);
			jw_lit(b, ")");
		}
		jw_lit(b, "\n");
	}
	if (n > (int64_t)json_array_size(list))
		jw_printf(b, "  ... and %" PRId64 " more.\n",
		    n - (int64_t)json_array_size(list));
}

/* "5 came due: 3 kept on time, 1 kept late, 1 still open" */
static void
put_tally(struct jsonw *b, const json_t *o)
{
	int64_t due = 0, on = 0, late = 0, open = 0;
	char pct[16];

	(void)jint(o, "due", &due);
	(void)jint(o, "kept_on_time", &on);
	(void)jint(o, "kept_late", &late);
	(void)jint(o, "open", &open);
	percent(json_object_get(o, "on_time_rate"), pct, sizeof(pct));
	jw_printf(b,
	    "%" PRId64 " due: %" PRId64 " kept on time, %" PRId64
	    " kept late, %" PRId64 " still open",
	    due, on, late, open);
	if (pct[0])
		jw_printf(b, "; %s on time", pct);
}

static void
put_digest(struct jsonw *b, const struct mail *m)
{
	const json_t *team = json_object_get(m->digest, "team");
	const json_t *last = json_object_get(m->digest, "last_week");
	const json_t *owners = json_object_get(last, "owners"), *o;
	char t[96], cmd[3][96];
	const char *what[3] = {"the overdue promises", "who keeps their word",
	    "this digest, as of now"};
	int64_t due = 0;
	size_t i;

	timefmt_local(m->due_at, t, sizeof(t));
	jw_printf(b, "How your team stands, as of %s.\n", t);
	if (json_array_size(team) > 0) {
		jw_lit(b, "Team: ");
		for (i = 0; i < json_array_size(team); i++) {
			if (i > 0)
				jw_lit(b, ", ");
			if (i == 20) {
				jw_printf(b, "and %zu more",
				    json_array_size(team) - i);
				break;
			}
			mime_line_max(
			    b, json_string_value(json_array_get(team, i)), 64);
		}
		jw_lit(b, "\n");
	}
	put_digest_list(b, m, "overdue", "Overdue now");
	put_digest_list(b, m, "due_this_week", "Due in the coming week");
	(void)jint(last, "due", &due);
	jw_lit(b, "\nLast week: ");
	if (due == 0) {
		jw_lit(b, "no promise came due.\n");
	} else {
		put_tally(b, last);
		jw_lit(b, ".\n");
		for (i = 0; i < json_array_size(owners); i++) {
			o = json_array_get(owners, i);
			if (proto_str(o, "owner") == NULL)
				continue;
			jw_lit(b, "  ");
			mime_line_max(b, proto_str(o, "owner"), 64);
			jw_lit(b, ": ");
			put_tally(b, o);
			jw_lit(b, "\n");
		}
	}
	snprintf(cmd[0], sizeof(cmd[0]), "promise list --state overdue");
	snprintf(
	    cmd[1], sizeof(cmd[1]), "promise report --team %.64s", m->owner);
	snprintf(cmd[2], sizeof(cmd[2]), "promise digest");
	put_command_table(b, cmd, what, 3);
}

/* a sign-in link, asked for on the web page with this address */
static void
put_signin(struct jsonw *b, const struct mail *m)
{
	char t[96];

	timefmt_local(m->due_at, t, sizeof(t));
	jw_lit(b, "Someone, most likely you, asked to sign in to promised as ");
	mime_line(b, m->login);
	jw_lit(b, ".\n\nSign in with this link; it works once, until ");
	jw_printf(b, "%s:\n\n    ", t);
	mime_line_max(b, m->url, 2000);
	jw_lit(b,
	    "\n\nIf it was not you, ignore this message: nothing "
	    "happens without the link.\n");
}

/* the body in the current (the recipient's) time zone, '\n' line ends */
static void
compose_body(struct jsonw *b, const struct mail *m, const char *uid)
{
	char due[96], rel[64], dur[64];

	if (m->event == EVENT_DIGEST || m->event == EVENT_SIGNIN ||
	    m->event == EVENT_AGENDA) {
		if (m->event == EVENT_DIGEST)
			put_digest(b, m);
		else if (m->event == EVENT_AGENDA)
			compose_agenda_body(b, m);
		else
			put_signin(b, m);
		jw_printf(b, "\n-- \npromised, delivery %s\n", uid);
		return;
	}
	timefmt_local(m->due_at, due, sizeof(due));
	timefmt_relative(m->due_at, m->occurred_at, rel, sizeof(rel));
	switch (m->event) {
	case EVENT_NUDGE:
		timefmt_duration(m->lead, dur, sizeof(dur));
		put_opener(b, m);
		jw_printf(b, " is due in %s.\n", dur);
		break;
	case EVENT_DUE:
		put_opener(b, m);
		jw_lit(b, " is due now.\n");
		break;
	case EVENT_ESCALATION:
		put_opener(b, m);
		/* rel says "2h overdue", or "now" within the first minute */
		if (m->occurred_at - m->due_at >= 60)
			jw_printf(b, " is %s and not marked done.\n", rel);
		else
			jw_lit(b, " is due now and not marked done.\n");
		/* level 0: deliver.c found no manager and tells the owner */
		if (m->level <= 0) {
			jw_lit(b, "No manager is known for ");
			mime_line(b, m->owner);
			jw_lit(b, ", so the escalation comes to the owner.");
		} else if (m->level == 1) {
			jw_lit(b, "You are told as ");
			mime_line(b, m->owner);
			jw_lit(b, "'s manager.");
		} else {
			jw_printf(b,
			    "You are told as the manager %" PRId64
			    " levels above ",
			    m->level);
			mime_line(b, m->owner);
			jw_lit(b, ".");
		}
		if (m->repeat > 1)
			jw_printf(
			    b, " This is reminder %" PRId64 ".", m->repeat);
		jw_lit(b, "\n");
		break;
	case EVENT_RESOLVED:
		put_resolved(b, m);
		break;
	case EVENT_UNDELIVERABLE:
	default:
		put_undeliverable(b, m);
		break;
	}

	jw_lit(b, "\n  What:    ");
	mime_line(b, m->title);
	if (m->whom != NULL) {
		jw_lit(b, "\n  For:     ");
		mime_line(b, m->whom);
	}
	jw_lit(b, "\n  Owner:   ");
	mime_line(b, m->owner);
	jw_printf(b, "\n  Due:     %s", due);
	if (m->event != EVENT_RESOLVED)
		jw_printf(b, " (%s)", rel);
	if (m->state != NULL && m->event == EVENT_RESOLVED) {
		jw_lit(b, "\n  State:   ");
		mime_line_max(b, m->state, 32);
	}
	if (m->snoozes > 0)
		jw_printf(b, "\n  Snoozed: %" PRId64 " time%s", m->snoozes,
		    m->snoozes == 1 ? "" : "s");
	if (m->note != NULL && m->note[0] != '\0') {
		jw_lit(b, "\n  Note:    ");
		mime_block(b, m->note, "           ");
	}
	jw_lit(b, "\n");
	put_history(b, m);
	put_links(b, m);
	put_commands(b, m);
	jw_printf(b, "\n-- \npromised, delivery %s\n", uid);
}

/*
 * The whole message, CRLF line ends.  Date is the time of composing, not
 * occurred_at: it says when the message entered the mail system, and a
 * retry hours later with an old Date would sort wrongly and look forged;
 * the body names the event's times, and the Message-ID stays the same.
 * Date and the body's times are in the recipient's zone.
 */
int
compose_message(struct jsonw *msg, const struct mail *m, const char *uid,
    const char *from, int64_t now)
{
	struct jsonw subj = {0}, body = {0};
	struct tz_save tz;
	char date[64], mid[320];
	int r;

	if (m->event == EVENT_REPLY)
		return compose_reply(msg, m, uid, from, now);
	if ((r = tz_enter(&tz, m->zone)) < 0)
		goto out;
	mime_date(now, date, sizeof(date));
	compose_subject(&subj, m);
	jw_put(&subj, "", 0);
	compose_body(&body, m, uid);
	tz_leave(&tz);

	mime_message_id(mid, sizeof(mid), uid, m->id, m->root, m->first, from);

	mime_header(msg, "Date", date);
	mime_header(msg, "From", from);
	mime_header(msg, "To", m->to);
	if (m->reply_to != NULL)
		mime_header(msg, "Reply-To", m->reply_to);
	mime_header_text(msg, "Subject", subj.oom ? "" : subj.s);
	mime_header(msg, "Message-ID", mid);
	if (m->root != NULL && !m->first) {
		mime_header(msg, "In-Reply-To", m->root);
		mime_header(msg, "References", m->root);
	}
	/* RFC 3834: no vacation replies to a daemon */
	compose_content(msg, m, uid, &body, "auto-generated");
	if (subj.oom || body.oom || msg->oom)
		r = -ENOMEM;
out:
	free(subj.s);
	free(body.s);
	return r;
}
