/* SPDX-License-Identifier: MIT */
/*
 * compose_agenda.c: the words of a morning agenda (agenda.h): a line of
 * counts for the subject, and in the body each promise with its deadline,
 * the commands that act on it, and its one-click links when it has them.
 * Pure, as compose.c; text from people goes through mime_line_max.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#include "compose.h"
#include "mime.h"
#include "proto.h"
#include "timefmt.h"

static int64_t
aint(const json_t *o, const char *key)
{
	const json_t *j = json_object_get(o, key);

	return json_is_integer(j) ? (int64_t)json_integer_value(j) : 0;
}

void
compose_agenda_subject(struct jsonw *b, const struct mail *m)
{
	int64_t n = aint(m->agenda, "count"), late = aint(m->agenda, "overdue");

	jw_printf(b, "Today: %" PRId64 " promise%s due", n, n == 1 ? "" : "s");
	if (late > 0)
		jw_printf(b, ", %" PRId64 " overdue", late);
}

/* one promise: its line, its deadline, what acts on it */
static void
put_item(struct jsonw *b, const json_t *e, int64_t at)
{
	static const struct {
		const char *key, *what;
	} links[] = {{"keep", "kept"}, {"snooze", "snooze"}, {"open", "open"}};
	const json_t *l = json_object_get(e, "links");
	char due[96], rel[64];
	int64_t id = aint(e, "id"), due_at = aint(e, "due_at");
	const char *url, *reply = proto_str(e, "reply_to");
	size_t i;

	timefmt_local(due_at, due, sizeof(due));
	timefmt_relative(due_at, at, rel, sizeof(rel));
	jw_printf(b, "\n  %" PRId64 "  ", id);
	mime_line_max(b, proto_str(e, "title"), 200);
	if (proto_str(e, "for") != NULL) {
		jw_lit(b, " (for ");
		mime_line_max(b, proto_str(e, "for"), 100);
		jw_lit(b, ")");
	}
	jw_printf(b, "\n      due %s (%s)\n", due, rel);
	jw_printf(b,
	    "      promise done %" PRId64 "  |  promise snooze %" PRId64
	    " --due WHEN --reason TEXT\n",
	    id, id);
	if (reply != NULL) {
		/* the reply address of this promise (mail in) */
		jw_lit(b, "      or reply to ");
		mime_line_max(b, reply, 320);
		jw_lit(b, ": done, snooze WHEN, cancel REASON\n");
	}
	for (i = 0; l != NULL && i < sizeof(links) / sizeof(links[0]); i++) {
		if ((url = proto_str(l, links[i].key)) == NULL)
			continue;
		jw_printf(b, "      %-7s ", links[i].what);
		mime_line_max(b, url, 2000);
		jw_lit(b, "\n");
	}
}

void
compose_agenda_body(struct jsonw *b, const struct mail *m)
{
	const json_t *list = json_object_get(m->agenda, "promises"), *e;
	int64_t n = aint(m->agenda, "count"), late = aint(m->agenda, "overdue");
	char now[96];
	size_t i;

	timefmt_local(m->due_at, now, sizeof(now));
	jw_lit(b, "Good morning, ");
	mime_line_max(b, m->owner, 64);
	jw_printf(b,
	    ". Your open promises due today or overdue, as of %s: %" PRId64
	    " (%" PRId64 " overdue).\n",
	    now, n, late);
	json_array_foreach(list, i, e)
		if (json_is_object(e) &&
		    json_is_integer(json_object_get(e, "id")) &&
		    proto_str(e, "title") != NULL)
			put_item(b, e, m->due_at);
	if (n > (int64_t)json_array_size(list))
		jw_printf(b, "\n  ... and %" PRId64 " more: promise list\n",
		    n - (int64_t)json_array_size(list));
}
