/* SPDX-License-Identifier: MIT */
/*
 * cmd_promise.c: the commands that make and settle promises and look at
 * them: add, list, show, done, snooze, cancel, ack.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cli.h"
#include "cmd.h"
#include "conn.h"
#include "proto.h"
#include "show.h"
#include "table.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

/* list aims at this many columns, whatever the terminal */
#define TABLE_WIDTH 120
#define TITLE_MIN_WIDTH 20
#define FOR_MAX_WIDTH 24
#define NUDGE_MAX_SECS (366LL * 86400)

int
cmd_add(const struct cli *cli, const struct args *a)
{
	int64_t nudge[PROTO_MAX_NUDGES], due = 0, now = util_now();
	const char *due_text = NULL;
	json_t *req = NULL, *nj = NULL, *reply = NULL, *p;
	int i, n, status;

	if (a->due == NULL && a->kind == NULL) {
		status =
		    usage_error("add: --due WHEN or --kind NAME is required");
		goto out;
	}
	if (a->pos[0] == '\0') {
		status = usage_error("add: TITLE must not be empty");
		goto out;
	}
	if ((status = check_text("TITLE", a->pos, false)) != CLI_OK ||
	    (status = check_text("--for", a->forwho, false)) != CLI_OK ||
	    (status = check_text("--owner", a->owner, false)) != CLI_OK ||
	    (status = check_text("--note", a->note, true)) != CLI_OK ||
	    (status = check_text("--kind", a->kind, false)) != CLI_OK ||
	    (status = due_field(a->due, now, &due, &due_text)) != CLI_OK)
		goto out;
	if (a->nudge != NULL) {
		n = timefmt_parse_duration_list(
		    a->nudge, nudge, PROTO_MAX_NUDGES);
		if (n == -E2BIG) {
			status = usage_error("--nudge '%s': at most %d times",
			    a->nudge, PROTO_MAX_NUDGES);
			goto out;
		}
		if (n < 0) {
			status = usage_error("--nudge '%s': want durations "
			                     "like '24h,1h', or 'none'",
			    a->nudge);
			goto out;
		}
		if ((nj = json_array()) == NULL) {
			status = out_of_memory();
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (nudge[i] < 1 || nudge[i] > NUDGE_MAX_SECS) {
				status = usage_error("--nudge '%s': each must "
				                     "be from 1s to 366d",
				    a->nudge);
				goto out;
			}
			if (json_array_append_new(nj, json_integer(nudge[i])) <
			    0) {
				status = out_of_memory();
				goto out;
			}
		}
	}
	/* "o*" takes nj's reference, also on failure */
	req = json_pack("{s:i,s:s,s:s,s:o*,s:s*,s:s*,s:s*,s:s*,s:s*,s:o*,s:o*}",
	    "v", PROTO_VERSION, "op", "add", "title", a->pos, "due_at",
	    due > 0 ? json_integer(due) : NULL, "due", due_text, "kind",
	    a->kind, "for", a->forwho, "owner", a->owner, "note", a->note,
	    "nudge", nj, "dry_run", a->dry_run ? json_true() : NULL);
	nj = NULL;
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	p = json_object_get(reply, "promise");
	if (a->dry_run) {
		fputs("dry run, nothing added: ", stdout);
		show_promise(p, util_now());
		show_schedule(json_object_get(reply, "schedule"));
		goto out;
	}
	printf("promise %" PRId64 " added: due ", jint(p, "id", 0));
	put_due(jint(p, "due_at", due), util_now());
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	json_decref(nj);
	return status;
}

static const struct table_col list_cols[] = {
    {.head = "ID", .right = true},
    {.head = "DUE"},
    {.head = "WHEN"},
    {.head = "OWNER", .cap = OWNER_MAX_WIDTH},
    {.head = "FOR", .cap = FOR_MAX_WIDTH},
    {.head = "TITLE"},
};

_Static_assert(ARRAY_SIZE(list_cols) <= TABLE_MAX_COLS,
    "list has more columns than a table takes");
_Static_assert(TIMEBUF <= TABLE_CELL && RELBUF <= TABLE_CELL,
    "a list cell must fit a table's");

/* a row of list: ID, DUE, WHEN, OWNER, FOR, TITLE */
static void
list_row(const json_t *p, int64_t now, struct table_row *r)
{
	const char *state = proto_str(p, "state"), *s;
	int64_t due = jint(p, "due_at", 0);

	(void)snprintf(r->buf[0], 24, "%" PRId64, jint(p, "id", 0));
	r->cell[0] = r->buf[0];
	timefmt_local(due, r->buf[1], TIMEBUF);
	r->cell[1] = r->buf[1];
	/* a settled promise has no deadline left to count down to */
	if (state != NULL && strcmp(state, "open") != 0)
		(void)snprintf(r->buf[2], RELBUF, "%s", state);
	else
		timefmt_relative(due, now, r->buf[2], RELBUF);
	r->cell[2] = r->buf[2];
	r->cell[3] = (s = proto_str(p, "owner")) != NULL ? s : "-";
	r->cell[4] =
	    (s = proto_str(p, "for")) != NULL && s[0] != '\0' ? s : "-";
	r->cell[5] = (s = proto_str(p, "title")) != NULL ? s : "";
}

static const struct table list_table = {
    .cols = list_cols,
    .ncols = ARRAY_SIZE(list_cols),
    .width = TABLE_WIDTH,
    .last_min = TITLE_MIN_WIDTH,
    .fill = list_row,
};

int
cmd_list(const struct cli *cli, const struct args *a)
{
	static const char *const states[] = {
	    "open", "overdue", "kept", "cancelled", "all"};
	json_t *req = NULL, *reply = NULL, *arr;
	size_t i;
	int status;

	if (a->state != NULL) {
		for (i = 0; i < ARRAY_SIZE(states); i++)
			if (strcmp(a->state, states[i]) == 0)
				break;
		if (i == ARRAY_SIZE(states)) {
			status = usage_error("--state '%s': want open, "
			                     "overdue, kept, cancelled or all",
			    a->state);
			goto out;
		}
	}
	if ((status = check_text("--owner", a->owner, false)) != CLI_OK ||
	    (status = check_text("--for", a->forwho, false)) != CLI_OK ||
	    (status = check_text("--grep", a->grep, false)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:s*,s:s*,s:s*,s:s*}", "v", PROTO_VERSION,
	    "op", "list", "state", a->state, "owner", a->owner, "for",
	    a->forwho, "grep", a->grep);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	arr = json_object_get(reply, "promises");
	if (json_array_size(arr) == 0) {
		if (a->state == NULL || strcmp(a->state, "all") != 0)
			printf("no %s promises",
			    a->state != NULL ? a->state : "open");
		else
			printf("no promises");
		if (a->owner != NULL) {
			printf(" for ");
			put_str(a->owner);
		}
		putchar('\n');
		goto out;
	}
	table_print(&list_table, arr, util_now());
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* an iCalendar object, CRLF lines as RFC 5545 has them */
static int
put_ics(const char *ics)
{
	if (ics == NULL) {
		errmsg("show: the reply has no calendar entry (is promised "
		       "older than this client?)");
		return CLI_REFUSED;
	}
	if (fputs(ics, stdout) == EOF || fflush(stdout) == EOF) {
		errmsg("show: writing the calendar entry: %s", strerror(errno));
		return CLI_REFUSED;
	}
	return CLI_OK;
}

int
cmd_show(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id, now;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I,s:b}", "v", PROTO_VERSION, "op", "get",
	    "id", (json_int_t)id, "ics", a->ics);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	if (a->ics) {
		/* the daemon's text as it is: a calendar reads it, not a
		 * terminal */
		status = put_ics(proto_str(reply, "ics"));
		goto out;
	}
	now = util_now();
	show_promise(json_object_get(reply, "promise"), now);
	show_history(json_object_get(reply, "events"));
	show_deliveries(json_object_get(reply, "deliveries"), now);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* "promise 42 kept: TITLE" */
static void
put_settled(const json_t *p, const char *what)
{
	const char *title = proto_str(p, "title");

	printf("promise %" PRId64 " %s: ", jint(p, "id", 0), what);
	put_str(title != NULL ? title : "");
	putchar('\n');
}

int
cmd_done(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *then = NULL, *p;
	int64_t id, due = 0, now = util_now();
	int status;

	if ((status = get_id(a, &id)) != CLI_OK ||
	    (status = check_text("--note", a->note, true)) != CLI_OK)
		goto out;
	if ((a->due != NULL || a->forwho != NULL) && a->then == NULL) {
		status = usage_error("done: --due and --for describe the "
		                     "follow-up: give --then TITLE too");
		goto out;
	}
	if (a->then != NULL) {
		if (a->due == NULL) {
			status = usage_error("done: --then needs --due WHEN");
			goto out;
		}
		if ((status = check_text("--then", a->then, false)) != CLI_OK ||
		    (status = check_text("--for", a->forwho, false)) !=
		        CLI_OK ||
		    (status = parse_due(a->due, now, &due)) != CLI_OK)
			goto out;
		then = json_pack("{s:s,s:I,s:s*}", "title", a->then, "due_at",
		    (json_int_t)due, "for", a->forwho);
	}
	req = json_pack("{s:i,s:s,s:I,s:s*,s:o*}", "v", PROTO_VERSION, "op",
	    "done", "id", (json_int_t)id, "note", a->note, "then", then);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	put_settled(json_object_get(reply, "promise"), "kept");
	if ((p = json_object_get(reply, "then")) != NULL) {
		printf("promise %" PRId64 " added: due ", jint(p, "id", 0));
		put_due(jint(p, "due_at", due), util_now());
		putchar('\n');
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_snooze(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *p;
	const char *due_text = NULL;
	int64_t id, due, now = util_now();
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	if (a->due == NULL) {
		status = usage_error("snooze: --due WHEN is required");
		goto out;
	}
	if ((status = check_reason("snooze", a)) != CLI_OK ||
	    (status = due_field(a->due, now, &due, &due_text)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I,s:o*,s:s*,s:s}", "v", PROTO_VERSION, "op",
	    "snooze", "id", (json_int_t)id, "due_at",
	    due > 0 ? json_integer(due) : NULL, "due", due_text, "reason",
	    a->reason);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	p = json_object_get(reply, "promise");
	printf("promise %" PRId64 " snoozed: due ", jint(p, "id", id));
	put_due(jint(p, "due_at", due), util_now());
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_cancel(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK ||
	    (status = check_reason("cancel", a)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I,s:s,s:b}", "v", PROTO_VERSION, "op",
	    "cancel", "id", (json_int_t)id, "reason", a->reason,
	    "told_customer", a->told);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	put_settled(json_object_get(reply, "promise"), "cancelled");
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_ack(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	char when[TIMEBUF];
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op", "ack", "id",
	    (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	printf("promise %" PRId64 ": escalations to you paused",
	    jint(json_object_get(reply, "promise"), "id", id));
	if (json_is_integer(json_object_get(reply, "until"))) {
		timefmt_local(jint(reply, "until", 0), when, sizeof(when));
		printf(" until %s", when);
	}
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	return status;
}
