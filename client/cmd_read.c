/* SPDX-License-Identifier: MIT */
/*
 * cmd_read.c: the commands that read what promised knows and report on
 * it: explain, report, sample, digest.
 */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cli.h"
#include "cmd.h"
#include "conn.h"
#include "csv.h"
#include "proto.h"
#include "show.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

int
cmd_explain(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op", "explain",
	    "id", (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	show_promise(json_object_get(reply, "promise"), util_now());
	show_schedule(json_object_get(reply, "schedule"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* the scope fields report and sample share */
static json_t *
scope_request(const char *op, const struct args *a, int64_t since)
{
	return json_pack("{s:i,s:s,s:o*,s:s*,s:s*}", "v", PROTO_VERSION, "op",
	    op, "since", since > 0 ? json_integer(since) : NULL, "owner",
	    a->owner, "team", a->team);
}

/* "12m" or "-" for a lateness in seconds */
static void
put_late_cell(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		snprintf(buf, len, "-");
	else
		timefmt_duration(json_integer_value(v), buf, len);
}

/* "60%" or "-" for an on_time_rate */
static void
put_rate_cell(const json_t *rate, char *buf, size_t len)
{
	if (json_is_number(rate))
		snprintf(buf, len, "%.0f%%", 100.0 * json_number_value(rate));
	else
		snprintf(buf, len, "-");
}

int
cmd_report(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *row, *rate;
	char p50[32], p90[32], pct[16];
	int64_t since;
	size_t i;
	int status;

	if ((status = parse_since(a, &since)) != CLI_OK)
		goto out;
	if (a->owner != NULL && a->team != NULL) {
		status = usage_error("report: --owner or --team, not both");
		goto out;
	}
	req = scope_request("report", a, since);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	if (a->csv)
		puts("owner,made,kept_on_time,kept_late,open,overdue,"
		     "cancelled_told,cancelled_untold,renegotiated,snoozes,"
		     "on_time_rate,lateness_p50_s,lateness_p90_s");
	else
		printf("%-16s %5s %7s %5s %5s %7s %11s %12s %7s %8s %8s\n",
		    "OWNER", "MADE", "ON TIME", "LATE", "OPEN", "OVERDUE",
		    "CANCELLED", "RENEGOTIATED", "ON-TIME", "P50 LATE",
		    "P90 LATE");
	json_array_foreach(json_object_get(reply, "owners"), i, row) {
		rate = json_object_get(row, "on_time_rate");
		if (a->csv) {
			put_csv(proto_str(row, "owner"));
			printf(",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			       ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			       ",%" PRId64 ",",
			    jint(row, "made", 0), jint(row, "kept_on_time", 0),
			    jint(row, "kept_late", 0), jint(row, "open", 0),
			    jint(row, "overdue", 0),
			    jint(row, "cancelled_told", 0),
			    jint(row, "cancelled_untold", 0),
			    jint(row, "renegotiated", 0),
			    jint(row, "snoozes", 0));
			if (json_is_number(rate))
				printf("%.3f", json_number_value(rate));
			putchar(',');
			if (json_is_integer(
			        json_object_get(row, "lateness_p50")))
				printf(
				    "%" PRId64, jint(row, "lateness_p50", 0));
			putchar(',');
			if (json_is_integer(
			        json_object_get(row, "lateness_p90")))
				printf(
				    "%" PRId64, jint(row, "lateness_p90", 0));
			putchar('\n');
			continue;
		}
		put_late_cell(
		    json_object_get(row, "lateness_p50"), p50, sizeof(p50));
		put_late_cell(
		    json_object_get(row, "lateness_p90"), p90, sizeof(p90));
		put_rate_cell(rate, pct, sizeof(pct));
		printf("%-16.16s %5" PRId64 " %7" PRId64 " %5" PRId64
		       " %5" PRId64 " %7" PRId64 " %5" PRId64 " told %2" PRId64
		       " not %5" PRId64 " %7s %8s %8s\n",
		    proto_str(row, "owner"), jint(row, "made", 0),
		    jint(row, "kept_on_time", 0), jint(row, "kept_late", 0),
		    jint(row, "open", 0), jint(row, "overdue", 0),
		    jint(row, "cancelled_told", 0),
		    jint(row, "cancelled_untold", 0),
		    jint(row, "renegotiated", 0), pct, p50, p90);
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_sample(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *item;
	int64_t since, n, now;
	size_t i;
	char *end;
	int status;

	errno = 0;
	n = strtoll(a->pos, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 100) {
		status = usage_error("sample: N must be from 1 to 100");
		goto out;
	}
	if ((status = parse_since(a, &since)) != CLI_OK)
		goto out;
	if (a->owner != NULL && a->team != NULL) {
		status = usage_error("sample: --owner or --team, not both");
		goto out;
	}
	if ((req = scope_request("sample", a, since)) == NULL ||
	    json_object_set_new(req, "n", json_integer(n)) < 0) {
		status = out_of_memory();
		goto out;
	}
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	now = util_now();
	json_array_foreach(json_object_get(reply, "promises"), i, item) {
		if (i > 0)
			putchar('\n');
		show_promise(json_object_get(item, "promise"), now);
		show_history(json_object_get(item, "events"));
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* the columns the lines of a digest share */
struct dwidth {
	size_t id, owner;
};

static void
dwidth_add(struct dwidth *w, const json_t *list)
{
	char id[24];
	const json_t *o;
	const char *s;
	size_t i;

	json_array_foreach(list, i, o) {
		(void)snprintf(id, sizeof(id), "%" PRId64, jint(o, "id", 0));
		w->id = max_width(w->id, id, SIZE_MAX);
		s = proto_str(o, "owner");
		w->owner =
		    max_width(w->owner, s != NULL ? s : "-", OWNER_MAX_WIDTH);
	}
}

/* "Overdue: 2" and a line per promise: id, owner, due, title, customer */
static void
put_digest_list(
    const char *label, const json_t *sec, const struct dwidth *w, int64_t at)
{
	const json_t *list = json_object_get(sec, "promises"), *o;
	int64_t count = jint(sec, "count", 0);
	char id[24];
	const char *s;
	size_t i;

	printf("%s: %" PRId64 "\n", label, count);
	json_array_foreach(list, i, o) {
		(void)snprintf(id, sizeof(id), "%" PRId64, jint(o, "id", 0));
		fputs("  ", stdout);
		put_cell(id, w->id, true);
		fputs("  ", stdout);
		put_cell((s = proto_str(o, "owner")) != NULL ? s : "-",
		    w->owner, true);
		fputs("  ", stdout);
		put_due(jint(o, "due_at", 0), at);
		fputs("  ", stdout);
		put_str((s = proto_str(o, "title")) != NULL ? s : "");
		if ((s = proto_str(o, "for")) != NULL && s[0] != '\0') {
			fputs(" (for ", stdout);
			put_str(s);
			putchar(')');
		}
		putchar('\n');
	}
	if (count > (int64_t)json_array_size(list))
		printf("  ... and %" PRId64 " more\n",
		    count - (int64_t)json_array_size(list));
}

/* "5 due: 3 kept on time, 1 kept late, 1 still open; 60% on time" */
static void
put_tally(const json_t *t)
{
	const json_t *rate = json_object_get(t, "on_time_rate");
	char pct[16];

	printf("%" PRId64 " due: %" PRId64 " kept on time, %" PRId64
	       " kept late, %" PRId64 " still open",
	    jint(t, "due", 0), jint(t, "kept_on_time", 0),
	    jint(t, "kept_late", 0), jint(t, "open", 0));
	if (json_is_number(rate)) {
		put_rate_cell(rate, pct, sizeof(pct));
		printf("; %s on time", pct);
	}
	putchar('\n');
}

/* "Digest for boss's team as of ...; next sent ..." and "Team: ..." */
static void
put_digest_head(const json_t *d, const json_t *next)
{
	char when[TIMEBUF];
	const json_t *team = json_object_get(d, "team"), *m;
	const char *s;
	size_t i;

	fputs("Digest for ", stdout);
	put_str((s = proto_str(d, "manager")) != NULL ? s : "?");
	timefmt_local(jint(d, "at", 0), when, sizeof(when));
	printf("'s team as of %s; ", when);
	if (json_is_integer(next)) {
		timefmt_local(json_integer_value(next), when, sizeof(when));
		printf("next sent %s\n", when);
	} else {
		puts("no schedule");
	}
	fputs("Team: ", stdout);
	if (json_array_size(team) == 0)
		fputs("nobody", stdout);
	json_array_foreach(team, i, m) {
		if (i > 0)
			fputs(", ", stdout);
		put_str(json_is_string(m) ? json_string_value(m) : "?");
	}
	putchar('\n');
}

static void
show_digest(const json_t *d, const json_t *next)
{
	const json_t *over = json_object_get(d, "overdue");
	const json_t *soon = json_object_get(d, "due_this_week");
	const json_t *last = json_object_get(d, "last_week"), *o;
	struct dwidth w = {0, 0};
	int64_t at = jint(d, "at", 0);
	const char *s;
	size_t i;

	dwidth_add(&w, json_object_get(over, "promises"));
	dwidth_add(&w, json_object_get(soon, "promises"));
	json_array_foreach(json_object_get(last, "owners"), i, o) {
		s = proto_str(o, "owner");
		w.owner =
		    max_width(w.owner, s != NULL ? s : "?", OWNER_MAX_WIDTH);
	}
	put_digest_head(d, next);
	put_digest_list("Overdue", over, &w, at);
	put_digest_list("Due this week", soon, &w, at);
	if (jint(last, "due", 0) == 0) {
		puts("Last week: nothing came due");
		return;
	}
	fputs("Last week: ", stdout);
	put_tally(last);
	json_array_foreach(json_object_get(last, "owners"), i, o) {
		fputs("  ", stdout);
		put_cell((s = proto_str(o, "owner")) != NULL ? s : "?", w.owner,
		    true);
		fputs("  ", stdout);
		put_tally(o);
	}
}

int
cmd_digest(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int status;

	if ((status = check_text("--team", a->team, false)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:s*}", "v", PROTO_VERSION, "op", "digest",
	    "team", a->team);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	show_digest(
	    json_object_get(reply, "digest"), json_object_get(reply, "next"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}
