/* SPDX-License-Identifier: MIT */
/*
 * web_page.c: the pages of the web side, see web_page.h.  Each page is a
 * plain document: a heading, a table or a list, and forms whose buttons
 * post back.  Every value from a reply goes through html_text; numbers
 * and our own words are the only markup written raw.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "proto.h"
#include "timefmt.h"
#include "web_page.h"

#define MAX_OWNERS 200 /* owners grouped on the team page */

static int64_t
jint(const json_t *o, const char *key, int64_t def)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static void
put_csrf(struct jsonw *b, const struct web_view *v)
{
	if (v->csrf == NULL)
		return;
	jw_lit(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(b, v->csrf);
	jw_lit(b, "\">");
}

static void
put_flash(struct jsonw *b, const struct web_view *v)
{
	if (v->flash == NULL)
		return;
	jw_lit(b,
	    v->flash_bad ? "<p class=\"flash bad\" role=\"alert\">"
	                 : "<p class=\"flash\" role=\"status\">");
	html_text(b, v->flash);
	jw_lit(b, "</p>");
}

/* "Fri 2026-11-27 17:00 CET" and, while it matters, "in 2h" or "3h
 * overdue" */
static void
put_when(struct jsonw *b, int64_t t, int64_t now, bool hint)
{
	char when[96], rel[64], iso[32];

	timefmt_local(t, when, sizeof(when));
	timefmt_iso_utc(t, iso, sizeof(iso));
	jw_printf(b, "<time datetime=\"%s\">", iso);
	html_text(b, when);
	jw_lit(b, "</time>");
	if (hint) {
		timefmt_relative(t, now, rel, sizeof(rel));
		jw_lit(b,
		    t < now ? " <span class=\"hint late\">"
		            : " <span class=\"hint\">");
		html_text(b, rel);
		jw_lit(b, "</span>");
	}
}

/* one promise in a list: its title linked, customer, owner and due */
static void
put_row(
    struct jsonw *b, const struct web_view *v, const json_t *p, bool show_owner)
{
	const char *s;
	int64_t id = jint(p, "id", 0);
	bool over = json_is_true(json_object_get(p, "overdue"));

	jw_printf(b, "<li class=\"promise%s\"><a href=\"/p/%" PRId64 "\">",
	    over ? " overdue" : "", id);
	html_text(b, proto_str(p, "title"));
	jw_lit(b, "</a><div class=\"meta\">");
	jw_printf(b, "#%" PRId64, id);
	if ((s = proto_str(p, "for")) != NULL) {
		jw_lit(b, " &middot; for ");
		html_text(b, s);
	}
	if (show_owner && (s = proto_str(p, "owner")) != NULL) {
		jw_lit(b, " &middot; ");
		html_text(b, s);
	}
	jw_lit(b, " &middot; due ");
	put_when(b, jint(p, "due_at", 0), v->now,
	    strcmp(proto_str(p, "state") ? proto_str(p, "state") : "",
	        "open") == 0);
	jw_lit(b, "</div>");
	if (v->csrf != NULL && proto_str(p, "state") != NULL &&
	    strcmp(proto_str(p, "state"), "open") == 0) {
		jw_printf(b,
		    "<form method=\"post\" action=\"/p/%" PRId64
		    "/done\" class=\"inline\">",
		    id);
		put_csrf(b, v);
		jw_lit(b, "<button type=\"submit\">Kept</button></form>");
	}
	jw_lit(b, "</li>");
}

static void
put_add_form(struct jsonw *b, const struct web_view *v)
{
	jw_lit(b,
	    "<section><h2>Add a promise</h2>"
	    "<form method=\"post\" action=\"/add\" class=\"stack\">");
	put_csrf(b, v);
	jw_lit(b,
	    "<label>What<input name=\"title\" required maxlength=\"500\" "
	    "placeholder=\"Send Acme the demo invite\"></label>"
	    "<label>For whom<input name=\"for\" maxlength=\"200\" "
	    "placeholder=\"Acme\"></label>"
	    "<label>Due<input name=\"due\" required maxlength=\"200\" "
	    "placeholder=\"tomorrow 17:00, in 2 business days, eod\">"
	    "</label>"
	    "<label>Note<textarea name=\"note\" maxlength=\"4000\" "
	    "rows=\"3\"></textarea></label>"
	    "<button type=\"submit\">Add</button></form></section>");
}

/* n with a comma between thousands: "100,000" */
static void
put_num(struct jsonw *b, int64_t n)
{
	char d[24];
	int len, i;

	if (n < 0) {
		jw_put(b, "-", 1);
		n = n == INT64_MIN ? INT64_MAX : -n;
	}
	len = snprintf(d, sizeof(d), "%" PRId64, n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			jw_put(b, ",", 1);
		jw_put(b, d + i, 1);
	}
}

int64_t
web_page_number(const char *text, int64_t per_page, int64_t *offset)
{
	int64_t page = 0;
	size_t i;

	for (i = 0; text != NULL && text[i] >= '0' && text[i] <= '9'; i++)
		if ((page = page * 10 + (text[i] - '0')) > INT32_MAX)
			break;
	if (text == NULL || i == 0 || text[i] != '\0' || page < 1 ||
	    per_page < 1 || page > INT32_MAX / per_page)
		page = 1;
	*offset = (page - 1) * per_page;
	return page;
}

void
web_page_count(struct jsonw *b, const struct web_pager *pg, const char *noun)
{
	int64_t first = (pg->page - 1) * pg->per_page;

	jw_lit(b, "<p class=\"summary\">");
	put_num(b, pg->total);
	jw_put(b, " ", 1);
	html_text(b, noun);
	if (pg->shown > 0 && pg->shown < pg->total) {
		jw_lit(b, "; showing ");
		put_num(b, first + 1);
		jw_lit(b, "&ndash;");
		put_num(b, first + pg->shown);
	} else if (pg->shown == 0 && pg->total > 0) {
		/* a page past the end, from an old link */
		jw_lit(b, "; none on this page");
	}
	jw_lit(b, ".</p>");
}

void
web_page_pager(struct jsonw *b, const struct web_pager *pg)
{
	bool prev = pg->page > 1,
	     next = pg->page * pg->per_page < pg->total && pg->shown > 0;

	if (!prev && !next)
		return;
	jw_lit(b, "<nav class=\"pager\" aria-label=\"Pages\">");
	if (prev) {
		jw_lit(b, "<a rel=\"prev\" href=\"");
		html_text(b, pg->path);
		/* past the end: back to the last page there is */
		jw_printf(b, "?page=%" PRId64 "\">Previous page</a> ",
		    pg->shown > 0 || pg->total == 0
		        ? pg->page - 1
		        : (pg->total + pg->per_page - 1) / pg->per_page);
	}
	if (next) {
		jw_lit(b, "<a rel=\"next\" href=\"");
		html_text(b, pg->path);
		jw_printf(b, "?page=%" PRId64 "\">Next page</a>", pg->page + 1);
	}
	jw_lit(b, "</nav>");
}

void
web_page_home(struct jsonw *b, const struct web_view *v, json_t *list,
    const struct web_pager *pg)
{
	size_t i, n = json_array_size(list), over = 0;

	html_begin(b, "My promises", v->login);
	put_flash(b, v);
	for (i = 0; i < n; i++)
		if (json_is_true(
		        json_object_get(json_array_get(list, i), "overdue")))
			over++;
	jw_lit(b, "<h1>My promises</h1>");
	if (pg->total == 0)
		jw_lit(b, "<p class=\"summary\">Nothing open.</p>");
	else
		web_page_count(b, pg, "open");
	if (over > 0) {
		jw_lit(b, "<p class=\"summary\">");
		put_num(b, (int64_t)over);
		jw_lit(b,
		    n < (size_t)pg->total ? " overdue on this page.</p>"
		                          : " overdue.</p>");
	}
	if (n > 0) {
		jw_lit(b, "<ul class=\"promises\">");
		/* overdue first: the list comes by due time, so the overdue
		 * lead already, but say it with two passes, not trust */
		for (i = 0; i < n; i++)
			if (json_is_true(json_object_get(
			        json_array_get(list, i), "overdue")))
				put_row(b, v, json_array_get(list, i), false);
		for (i = 0; i < n; i++)
			if (!json_is_true(json_object_get(
			        json_array_get(list, i), "overdue")))
				put_row(b, v, json_array_get(list, i), false);
		jw_lit(b, "</ul>");
	}
	web_page_pager(b, pg);
	put_add_form(b, v);
	if (v->csrf != NULL) {
		jw_lit(b,
		    "<form method=\"post\" action=\"/signout\" "
		    "class=\"inline\">");
		put_csrf(b, v);
		jw_lit(b,
		    "<button type=\"submit\" class=\"quiet\">Sign "
		    "out</button></form>");
	}
	html_end(b);
}

/* an event's detail in a few words */
static void
put_detail(struct jsonw *b, const char *kind, const json_t *d, int64_t now)
{
	const char *s;
	int64_t t;
	char dur[64];

	if (strcmp(kind, "created") == 0 && (t = jint(d, "due_at", 0)) > 0) {
		jw_lit(b, "due ");
		put_when(b, t, now, false);
	} else if (strcmp(kind, "snoozed") == 0) {
		if ((t = jint(d, "to", 0)) > 0) {
			jw_lit(b, "to ");
			put_when(b, t, now, false);
		}
		if ((s = proto_str(d, "reason")) != NULL) {
			jw_lit(b, ": ");
			html_text(b, s);
		}
	} else if (strcmp(kind, "kept") == 0) {
		if ((t = jint(d, "late_by", 0)) >= 60) {
			timefmt_duration(t - t % 60, dur, sizeof(dur));
			html_text(b, dur);
			jw_lit(b, " late");
		} else
			jw_lit(b, "on time");
		if ((s = proto_str(d, "note")) != NULL) {
			jw_lit(b, ": ");
			html_text(b, s);
		}
	} else if (strcmp(kind, "cancelled") == 0 &&
	    (s = proto_str(d, "reason")) != NULL) {
		html_text(b, s);
		if (json_is_true(json_object_get(d, "told_customer")))
			jw_lit(b, " (customer told)");
	} else if (strcmp(kind, "acked") == 0 &&
	    (t = jint(d, "until", 0)) > 0) {
		jw_lit(b, "repeats paused until ");
		put_when(b, t, now, false);
	} else if (strcmp(kind, "refused") == 0 &&
	    (s = proto_str(d, "op")) != NULL) {
		html_text(b, s);
		if ((t = jint(d, "count", 1)) > 1)
			jw_printf(b, ", %" PRId64 " times", t);
	}
	if ((s = proto_str(d, "via")) != NULL) {
		jw_lit(b, " <span class=\"via\">via ");
		html_text(b, s);
		jw_lit(b, "</span>");
	}
}

static void
put_history(struct jsonw *b, const struct web_view *v, const json_t *events)
{
	const json_t *e, *d;
	json_t *parsed;
	const char *kind;
	size_t i;

	jw_lit(b, "<section><h2>History</h2><ol class=\"history\">");
	for (i = 0; i < json_array_size(events); i++) {
		e = json_array_get(events, i);
		if ((kind = proto_str(e, "kind")) == NULL)
			continue;
		parsed = NULL;
		d = json_object_get(e, "detail");
		if (json_is_string(d))
			d = parsed = json_loads(json_string_value(d), 0, NULL);
		jw_lit(b, "<li>");
		put_when(b, jint(e, "at", 0), v->now, false);
		jw_lit(b, " <b>");
		html_text(b, kind);
		jw_lit(b, "</b> by ");
		html_text(
		    b, proto_str(e, "actor") ? proto_str(e, "actor") : "?");
		jw_lit(b, " <span class=\"detail\">");
		put_detail(b, kind, d, v->now);
		jw_lit(b, "</span></li>");
		json_decref(parsed);
	}
	jw_lit(b, "</ol></section>");
}

static void
put_schedule(struct jsonw *b, const struct web_view *v, const json_t *sched)
{
	const json_t *e, *to;
	const char *s;
	size_t i, j;

	if (json_array_size(sched) == 0)
		return;
	jw_lit(b,
	    "<section><h2>What happens next</h2>"
	    "<ol class=\"schedule\">");
	for (i = 0; i < json_array_size(sched); i++) {
		e = json_array_get(sched, i);
		jw_lit(b, "<li>");
		put_when(b, jint(e, "at", 0), v->now, true);
		jw_lit(b, " <b>");
		html_text(b, proto_str(e, "kind"));
		jw_lit(b, "</b>");
		to = json_object_get(e, "to");
		for (j = 0; j < json_array_size(to); j++) {
			jw_lit(b, j == 0 ? " to " : ", ");
			html_text(b, proto_str(json_array_get(to, j), "to"));
			if ((s = proto_str(json_array_get(to, j), "channel")) !=
			    NULL) {
				jw_lit(b, " by ");
				html_text(b, s);
			}
		}
		if ((s = proto_str(e, "rule")) != NULL) {
			jw_lit(b, " <span class=\"detail\">");
			html_text(b, s);
			jw_lit(b, "</span>");
		}
		jw_lit(b, "</li>");
	}
	jw_lit(b, "</ol></section>");
}

/* the forms of an open promise */
static void
put_actions(struct jsonw *b, const struct web_view *v, int64_t id)
{
	jw_lit(b, "<section class=\"actions\"><h2>Act</h2>");
	jw_printf(b,
	    "<form method=\"post\" action=\"/p/%" PRId64
	    "/done\" class=\"stack\">",
	    id);
	put_csrf(b, v);
	jw_lit(b,
	    "<label>Note (optional)<input name=\"note\" "
	    "maxlength=\"4000\"></label>"
	    "<button type=\"submit\">Mark it kept</button></form>");
	jw_printf(b,
	    "<form method=\"post\" action=\"/p/%" PRId64
	    "/snooze\" class=\"stack\">",
	    id);
	put_csrf(b, v);
	jw_lit(b,
	    "<label>New deadline<input name=\"due\" required "
	    "maxlength=\"200\" placeholder=\"tomorrow 10:00, in 1 "
	    "business day\"></label>"
	    "<label>Why<input name=\"reason\" required "
	    "maxlength=\"1000\"></label>"
	    "<button type=\"submit\">Snooze</button></form>");
	jw_printf(b,
	    "<form method=\"post\" action=\"/p/%" PRId64
	    "/cancel\" class=\"stack\">",
	    id);
	put_csrf(b, v);
	jw_lit(b,
	    "<label>Why<input name=\"reason\" required "
	    "maxlength=\"1000\"></label>"
	    "<label class=\"check\"><input type=\"checkbox\" "
	    "name=\"told_customer\" value=\"1\"> The customer was "
	    "told</label>"
	    "<button type=\"submit\" class=\"danger\">Cancel it</button>"
	    "</form>");
	jw_printf(b,
	    "<form method=\"post\" action=\"/p/%" PRId64
	    "/ack\" class=\"stack\">",
	    id);
	put_csrf(b, v);
	jw_lit(b,
	    "<button type=\"submit\" class=\"quiet\">Acknowledge the "
	    "escalation</button></form></section>");
}

/* the facts of a promise as a definition list */
static void
put_facts(struct jsonw *b, const struct web_view *v, const json_t *p)
{
	const char *s, *state = proto_str(p, "state");
	bool open = state != NULL && strcmp(state, "open") == 0;

	jw_lit(b, "<dl class=\"facts\"><dt>State</dt><dd>");
	html_text(b, state != NULL ? state : "?");
	if (json_is_true(json_object_get(p, "overdue")))
		jw_lit(b, " <span class=\"hint late\">overdue</span>");
	jw_lit(b, "</dd>");
	if ((s = proto_str(p, "for")) != NULL) {
		jw_lit(b, "<dt>For</dt><dd>");
		html_text(b, s);
		jw_lit(b, "</dd>");
	}
	jw_lit(b, "<dt>Owner</dt><dd>");
	html_text(b, proto_str(p, "owner"));
	jw_lit(b, "</dd><dt>Due</dt><dd>");
	put_when(b, jint(p, "due_at", 0), v->now, open);
	jw_lit(b, "</dd>");
	if (jint(p, "snoozes", 0) > 0)
		jw_printf(b, "<dt>Snoozed</dt><dd>%" PRId64 " times</dd>",
		    jint(p, "snoozes", 0));
	if ((s = proto_str(p, "note")) != NULL && s[0] != '\0') {
		jw_lit(b, "<dt>Note</dt><dd class=\"note\">");
		html_text(b, s);
		jw_lit(b, "</dd>");
	}
	jw_lit(b, "</dl>");
}

void
web_page_promise(
    struct jsonw *b, const struct web_view *v, json_t *get, json_t *schedule)
{
	const json_t *p = json_object_get(get, "promise");
	const char *state = proto_str(p, "state");
	char title[64];

	snprintf(title, sizeof(title), "Promise %" PRId64, jint(p, "id", 0));
	html_begin(b, title, v->login);
	put_flash(b, v);
	jw_lit(b, "<h1>");
	html_text(b, proto_str(p, "title"));
	jw_printf(b, " <span class=\"id\">#%" PRId64 "</span></h1>",
	    jint(p, "id", 0));
	put_facts(b, v, p);
	if (state != NULL && strcmp(state, "open") == 0 && v->csrf != NULL)
		put_actions(b, v, jint(p, "id", 0));
	put_schedule(b, v, schedule);
	put_history(b, v, json_object_get(get, "events"));
	html_end(b);
}

/* the distinct owners of list, in the order met; how many */
static size_t
owners_of(const json_t *list, const char **out, size_t max)
{
	size_t i, j, n = 0;
	const char *o;

	for (i = 0; i < json_array_size(list); i++) {
		if ((o = proto_str(json_array_get(list, i), "owner")) == NULL)
			continue;
		for (j = 0; j < n && strcmp(out[j], o) != 0; j++)
			;
		if (j == n && n < max)
			out[n++] = o;
	}
	return n;
}

/* "60%", or "-" for a null rate */
static void
put_rate(struct jsonw *b, const json_t *rate)
{
	if (json_is_number(rate))
		jw_printf(b, "%.0f%%", json_number_value(rate) * 100.0);
	else
		jw_lit(b, "-");
}

static void
put_last_week(struct jsonw *b, const json_t *lw)
{
	const json_t *owners = json_object_get(lw, "owners"), *o;
	size_t i;

	jw_lit(b, "<section><h2>Last week</h2>");
	if (jint(lw, "due", 0) == 0) {
		jw_lit(b, "<p>No promise came due.</p></section>");
		return;
	}
	jw_printf(b,
	    "<p>%" PRId64 " came due: %" PRId64 " kept on time, %" PRId64
	    " kept late, %" PRId64 " still open; on time: ",
	    jint(lw, "due", 0), jint(lw, "kept_on_time", 0),
	    jint(lw, "kept_late", 0), jint(lw, "open", 0));
	put_rate(b, json_object_get(lw, "on_time_rate"));
	jw_lit(b,
	    ".</p><table><thead><tr><th>Owner</th><th>Due</th>"
	    "<th>On time</th><th>Late</th><th>Open</th>"
	    "<th>Rate</th></tr></thead><tbody>");
	for (i = 0; i < json_array_size(owners); i++) {
		o = json_array_get(owners, i);
		jw_lit(b, "<tr><td>");
		html_text(b, proto_str(o, "owner"));
		jw_printf(b,
		    "</td><td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64
		    "</td><td>%" PRId64 "</td><td>",
		    jint(o, "due", 0), jint(o, "kept_on_time", 0),
		    jint(o, "kept_late", 0), jint(o, "open", 0));
		put_rate(b, json_object_get(o, "on_time_rate"));
		jw_lit(b, "</td></tr>");
	}
	jw_lit(b, "</tbody></table></section>");
}

void
web_page_team(struct jsonw *b, const struct web_view *v, json_t *overdue,
    const struct web_pager *pg, json_t *digest)
{
	const char *owners[MAX_OWNERS], *o;
	const json_t *p, *week;
	size_t i, j, n = owners_of(overdue, owners, MAX_OWNERS), k;

	html_begin(b, "My team", v->login);
	put_flash(b, v);
	jw_lit(b, "<h1>My team</h1><section><h2>Overdue</h2>");
	if (pg->total == 0)
		jw_lit(b, "<p>Nothing overdue.</p>");
	else
		web_page_count(b, pg, "overdue");
	for (i = 0; i < n; i++) {
		for (k = 0, j = 0; j < json_array_size(overdue); j++)
			if ((o = proto_str(json_array_get(overdue, j),
			         "owner")) != NULL &&
			    strcmp(o, owners[i]) == 0)
				k++;
		jw_lit(b, "<h3>");
		html_text(b, owners[i]);
		jw_printf(b, " <span class=\"count\">%zu</span></h3>", k);
		jw_lit(b, "<ul class=\"promises\">");
		for (j = 0; j < json_array_size(overdue); j++) {
			p = json_array_get(overdue, j);
			if ((o = proto_str(p, "owner")) != NULL &&
			    strcmp(o, owners[i]) == 0)
				put_row(b, v, p, false);
		}
		jw_lit(b, "</ul>");
	}
	web_page_pager(b, pg);
	jw_lit(b, "</section>");
	if (digest != NULL) {
		put_last_week(b, json_object_get(digest, "last_week"));
		week = json_object_get(digest, "due_this_week");
		jw_printf(b,
		    "<section><h2>Due in the coming week</h2>"
		    "<p>%" PRId64 " due.</p><ul class=\"promises\">",
		    jint(week, "count", 0));
		for (j = 0;
		     j < json_array_size(json_object_get(week, "promises"));
		     j++)
			put_row(b, v,
			    json_array_get(
			        json_object_get(week, "promises"), j),
			    true);
		jw_lit(b, "</ul></section>");
	}
	html_end(b);
}

static const char *
action_words(enum link_action a)
{
	switch (a) {
	case LINK_KEEP:
		return "Mark it kept";
	case LINK_SNOOZE:
		return "Snooze it to the next business morning";
	case LINK_ACK:
		return "Acknowledge the escalation";
	case LINK_OPEN:
	default:
		return "Open it";
	}
}

void
web_page_confirm(struct jsonw *b, const struct web_view *v,
    const struct link *l, json_t *promise, const char *action_url)
{
	html_begin(b, action_words(l->action), NULL);
	put_flash(b, v);
	jw_lit(b, "<h1>");
	html_text(b, action_words(l->action));
	jw_lit(b, "?</h1><p class=\"subject\">");
	html_text(b, proto_str(promise, "title"));
	jw_printf(b, " <span class=\"id\">#%" PRId64 "</span></p>", l->id);
	put_facts(b, v, promise);
	jw_lit(b, "<form method=\"post\" action=\"");
	html_text(b, action_url);
	jw_lit(b, "\" class=\"stack\"><button type=\"submit\">");
	html_text(b, action_words(l->action));
	jw_lit(b, "</button></form><p class=\"detail\">As ");
	html_text(b, l->recipient);
	jw_lit(b, ". Nothing changes until you press the button.</p>");
	html_end(b);
}

void
web_page_message(struct jsonw *b, const struct web_view *v, const char *title,
    const char *text)
{
	html_begin(b, title, v->login);
	put_flash(b, v);
	jw_lit(b, "<h1>");
	html_text(b, title);
	jw_lit(b, "</h1><p>");
	html_text(b, text);
	jw_lit(b, "</p><p><a href=\"/\">To my promises</a></p>");
	html_end(b);
}

void
web_page_signin(struct jsonw *b, const struct web_view *v, bool sent)
{
	html_begin(b, "Sign in", NULL);
	put_flash(b, v);
	jw_lit(b, "<h1>Sign in</h1>");
	if (sent) {
		jw_lit(b,
		    "<p>If that address belongs to someone here, a "
		    "sign-in link is on its way to it. The link works "
		    "once, for 15 minutes.</p>");
		html_end(b);
		return;
	}
	jw_lit(b,
	    "<p>We send you a link to sign in with.</p>"
	    "<form method=\"post\" action=\"/signin\" class=\"stack\">"
	    "<label>Your email address<input name=\"email\" "
	    "type=\"email\" required maxlength=\"254\" "
	    "autocomplete=\"email\"></label>"
	    "<button type=\"submit\">Send me a link</button></form>");
	html_end(b);
}

void
web_page_signin_link(
    struct jsonw *b, const struct web_view *v, const char *action_url)
{
	html_begin(b, "Sign in", NULL);
	put_flash(b, v);
	jw_lit(b,
	    "<h1>Sign in</h1><p>Press the button to sign in on this "
	    "device. The link works once.</p>"
	    "<form method=\"post\" action=\"");
	html_text(b, action_url);
	jw_lit(b,
	    "\" class=\"stack\"><button type=\"submit\">Sign in</button>"
	    "</form>");
	html_end(b);
}
