/* SPDX-License-Identifier: MIT */
/*
 * cmd_admin.c: the commands that look after the service: deliveries,
 * retry, status, backup, metrics.
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
#include "proto.h"
#include "show.h"
#include "table.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

/* deliveries has more columns than list; the last error takes what is left */
#define DTABLE_WIDTH 140
#define DID_LEN 32 /* a full delivery id */
#define DID_MIN 4  /* the shortest prefix the daemon takes for one */
#define DERROR_MIN_WIDTH 20
/* the daemon's page size when no --limit is given (PROTOCOL.md) */
#define DELIVERIES_DEFAULT_LIMIT 100

static const struct table_col deliveries_cols[] = {
    {.head = "DELIVERY"},
    {.head = "PROMISE", .right = true},
    {.head = "EVENT"},
    {.head = "TO", .cap = OWNER_MAX_WIDTH},
    {.head = "CHANNEL"},
    {.head = "STATE"},
    {.head = "ATTEMPTS", .right = true},
    {.head = "NEXT/SENT"},
    {.head = "LAST ERROR"},
};

_Static_assert(ARRAY_SIZE(deliveries_cols) <= TABLE_MAX_COLS,
    "deliveries has more columns than a table takes");
_Static_assert(DID_LEN + 1 <= TABLE_CELL && TIMEBUF + RELBUF + 8 <= TABLE_CELL,
    "a deliveries cell must fit a table's");

/* a row of deliveries: DELIVERY ... NEXT/SENT, LAST ERROR */
static void
deliveries_row(const json_t *dl, int64_t now, struct table_row *r)
{
	const char *s;

	/* ids are hex, so bytes are columns */
	(void)snprintf(r->buf[0], DID_LEN + 1, "%s", delivery_id(dl));
	r->cell[0] = r->buf[0];
	/* a digest is about no one promise */
	if (jint(dl, "promise_id", 0) > 0)
		(void)snprintf(
		    r->buf[1], 24, "%" PRId64, jint(dl, "promise_id", 0));
	else
		(void)snprintf(r->buf[1], 24, "-");
	r->cell[1] = r->buf[1];
	r->cell[2] = event_name(proto_str(dl, "event"));
	r->cell[3] = (s = proto_str(dl, "recipient")) != NULL ? s : "?";
	r->cell[4] = (s = proto_str(dl, "channel")) != NULL ? s : "?";
	r->cell[5] = (s = proto_str(dl, "state")) != NULL ? s : "?";
	(void)snprintf(r->buf[6], 24, "%" PRId64, jint(dl, "attempts", 0));
	r->cell[6] = r->buf[6];
	delivery_when(dl, now, false, r->buf[7], TIMEBUF + RELBUF + 8);
	if (r->buf[7][0] == '\0')
		(void)snprintf(r->buf[7], TIMEBUF + RELBUF + 8, "-");
	r->cell[7] = r->buf[7];
	r->cell[8] =
	    (s = proto_str(dl, "last_error")) != NULL && s[0] != '\0' ? s : "-";
}

static const struct table deliveries_table = {
    .cols = deliveries_cols,
    .ncols = ARRAY_SIZE(deliveries_cols),
    .width = DTABLE_WIDTH,
    .last_min = DERROR_MIN_WIDTH,
    .fill = deliveries_row,
};

int
cmd_deliveries(const struct cli *cli, const struct args *a)
{
	static const char *const states[] = {
	    "pending", "sent", "failed", "all"};
	json_t *req = NULL, *reply = NULL, *lim = NULL, *arr;
	const char *state = a->state;
	int64_t limit = DELIVERIES_DEFAULT_LIMIT;
	size_t i, n;
	int status;

	if (state != NULL) {
		for (i = 0; i < ARRAY_SIZE(states); i++)
			if (strcmp(state, states[i]) == 0)
				break;
		if (i == ARRAY_SIZE(states)) {
			status = usage_error("--state '%s': want pending, "
			                     "sent, failed or all",
			    state);
			goto out;
		}
	}
	if (a->failed) {
		if (state != NULL && strcmp(state, "failed") != 0) {
			status =
			    usage_error("deliveries: --failed and "
			                "--state '%s' contradict each other",
			        state);
			goto out;
		}
		state = "failed";
	}
	if (a->limit != NULL) {
		if ((status = parse_limit(a->limit, &limit)) != CLI_OK)
			goto out;
		if ((lim = json_integer((json_int_t)limit)) == NULL) {
			status = out_of_memory();
			goto out;
		}
	}
	/* "o*" takes lim's reference, also on failure */
	req = json_pack("{s:i,s:s,s:s*,s:o*}", "v", PROTO_VERSION, "op",
	    "deliveries", "state", state, "limit", lim);
	lim = NULL;
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	arr = json_object_get(reply, "deliveries");
	n = json_array_size(arr);
	if (n == 0) {
		if (state == NULL || strcmp(state, "all") == 0)
			puts("no deliveries");
		else
			printf("no %s deliveries\n", state);
		goto out;
	}
	table_print(&deliveries_table, arr, util_now());
	/* a full page may hide older ones; say so where scripts won't parse */
	if (limit > 0 && n >= (size_t)limit)
		errmsg("showing the newest %zu deliveries, there may be more "
		       "(--limit 0 shows all)",
		    n);
out:
	json_decref(reply);
	json_decref(req);
	json_decref(lim);
	return status;
}

int
cmd_retry(const struct cli *cli, const struct args *a)
{
	char id[DID_LEN + 1];
	json_t *req = NULL, *reply = NULL;
	const char *s;
	size_t i;
	int status;

	/* any prefix that names one delivery, as git takes an object's */
	for (i = 0; i < DID_LEN && a->pos[i] != '\0'; i++) {
		if (a->pos[i] >= '0' && a->pos[i] <= '9')
			id[i] = a->pos[i];
		else if (a->pos[i] >= 'a' && a->pos[i] <= 'f')
			id[i] = a->pos[i];
		else if (a->pos[i] >= 'A' && a->pos[i] <= 'F')
			id[i] = (char)(a->pos[i] - 'A' + 'a');
		else
			break;
	}
	if (i < DID_MIN || a->pos[i] != '\0') {
		status = usage_error("retry: '%s' is not a delivery id (want "
		                     "%d to %d hex digits, as 'promise "
		                     "deliveries' or 'promise show ID' shows)",
		    a->pos, DID_MIN, DID_LEN);
		goto out;
	}
	id[i] = '\0';
	req = json_pack(
	    "{s:i,s:s,s:s}", "v", PROTO_VERSION, "op", "retry", "delivery", id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	s = proto_str(json_object_get(reply, "delivery"), "delivery");
	fputs("delivery ", stdout);
	put_str(s != NULL ? s : id);
	fputs(" queued to be sent again\n", stdout);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* a line for each channel that is not simply up: the one place an
 * operator sees that email is down, and that nothing was lost for it */
static void
put_channels(const json_t *channels)
{
	const char *name, *state;
	const json_t *c;
	char when[TIMEBUF], next[TIMEBUF], label[32];

	json_object_foreach((json_t *)channels, name, c) {
		state = proto_str(c, "state");
		if (state == NULL || strcmp(state, "up") == 0)
			continue;
		snprintf(label, sizeof(label), "%s:", name);
		if (strcmp(state, "down") == 0) {
			timefmt_local(jint(c, "since", 0), when, sizeof(when));
			timefmt_local(
			    jint(c, "next_try", 0), next, sizeof(next));
			printf("%-12s down since %s, %" PRId64
			       " waiting, next try %s: %s\n",
			    label, when, jint(c, "waiting", 0), next,
			    proto_str(c, "error") ? proto_str(c, "error")
			                          : "?");
		} else {
			printf("%-12s %s, %" PRId64 " waiting\n", label, state,
			    jint(c, "waiting", 0));
		}
	}
}

/* who fires, and for daemons sharing a store, which leads */
static void
put_role(json_t *reply)
{
	json_t *l = json_object_get(reply, "leader");
	const char *role = proto_str(reply, "role"), *host;

	if (role == NULL)
		return;
	if (!json_is_object(l)) {
		fputs("role:        ", stdout);
		put_str(role);
		putchar('\n');
		return;
	}
	host = proto_str(l, "host");
	fputs("role:        ", stdout);
	put_str(role);
	fputs(" (leader: ", stdout);
	put_str(host != NULL ? host : "?");
	printf(" pid %" PRId64 ", epoch %" PRId64 ")\n", jint(l, "pid", 0),
	    jint(l, "epoch", 0));
}

int
cmd_status(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *d;
	char when[TIMEBUF], dur[32];
	const char *s;
	int64_t up, now;
	bool own;
	int status;

	(void)a;
	req = json_pack("{s:i,s:s}", "v", PROTO_VERSION, "op", "status");
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	now = util_now();
	s = proto_str(reply, "version");
	printf("version:     %s\n", s != NULL ? s : "?");
	/* seconds of uptime are noise once it runs to minutes */
	up = jint(reply, "uptime", 0);
	timefmt_duration(up >= 60 ? up - up % 60 : up, dur, sizeof(dur));
	timefmt_local(jint(reply, "started_at", now - up), when, sizeof(when));
	printf("uptime:      %s (since %s)\n", dur, when);
	/* an admin sees the service's figures, anyone else their own */
	own = (s = proto_str(reply, "scope")) != NULL && strcmp(s, "own") == 0;
	printf("open:        %" PRId64 "%s\n", jint(reply, "open", 0),
	    own ? " (yours)" : "");
	printf("overdue:     %" PRId64 "%s\n", jint(reply, "overdue", 0),
	    own ? " (yours)" : "");
	fputs("next due:    ", stdout);
	if (json_is_integer(json_object_get(reply, "next_due")))
		put_due(jint(reply, "next_due", 0), now);
	else
		fputs("none", stdout);
	putchar('\n');
	if (own)
		goto out;
	printf("scheduled:   %" PRId64 "\n", jint(reply, "scheduled", 0));
	if ((s = proto_str(reply, "store")) != NULL)
		printf("store:       %s\n", s);
	put_role(reply);
	d = json_object_get(reply, "deliveries");
	printf("deliveries:  %" PRId64 " pending, %" PRId64 " failed, %" PRId64
	       " in flight\n",
	    jint(d, "pending", 0), jint(d, "failed", 0),
	    jint(d, "inflight", 0));
	put_channels(json_object_get(reply, "channels"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/*
 * FILE made absolute through the real path of its directory: the daemon
 * has a working directory of its own.  Returns an exit status.
 */
static int
absolute_path(const char *file, char *buf, size_t len)
{
	char dir[PATH_MAX], *real = NULL;
	const char *slash = strrchr(file, '/'), *base;
	int n, status;

	if (slash == NULL) {
		util_strlcpy(dir, ".", sizeof(dir));
		base = file;
	} else if (slash == file) {
		util_strlcpy(dir, "/", sizeof(dir));
		base = file + 1;
	} else if ((size_t)(slash - file) < sizeof(dir)) {
		memcpy(dir, file, (size_t)(slash - file));
		dir[slash - file] = '\0';
		base = slash + 1;
	} else {
		return usage_error("backup: '%s': file name too long", file);
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return usage_error("backup: '%s' is a directory; name the file "
		                   "to write",
		    file);
	if ((real = realpath(dir, NULL)) == NULL) {
		errmsg("backup: directory '%s': %s", dir, strerror(errno));
		status = CLI_REFUSED;
		goto out;
	}
	n = snprintf(
	    buf, len, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
	if (n < 0 || (size_t)n >= len) {
		status = usage_error("backup: '%s': file name too long", file);
		goto out;
	}
	status = CLI_OK;
out:
	free(real);
	return status;
}

int
cmd_backup(const struct cli *cli, const struct args *a)
{
	char path[PATH_MAX];
	json_t *req = NULL, *reply = NULL;
	const char *s;
	int status;

	if ((status = check_text("FILE", a->pos, false)) != CLI_OK ||
	    (status = absolute_path(a->pos, path, sizeof(path))) != CLI_OK)
		goto out;
	req = json_pack(
	    "{s:i,s:s,s:s}", "v", PROTO_VERSION, "op", "backup", "path", path);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	s = proto_str(reply, "path");
	fputs("backup written to ", stdout);
	put_str(s != NULL ? s : path);
	printf(" (%" PRId64 " pages, %" PRId64 " bytes)\n",
	    jint(reply, "pages", 0), jint(reply, "bytes", 0));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_metrics(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	const char *text;
	int status;

	(void)a;
	req = json_pack("{s:i,s:s}", "v", PROTO_VERSION, "op", "metrics");
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	/* verbatim: the exposition format is the daemon's to get right */
	if ((text = proto_str(reply, "text")) == NULL) {
		errmsg("metrics: the reply has no text");
		status = CLI_REFUSED;
		goto out;
	}
	fputs(text, stdout);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}
