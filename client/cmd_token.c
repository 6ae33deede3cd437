/* SPDX-License-Identifier: MIT */
/*
 * cmd_token.c: "promise token create|list|revoke", the API tokens that let
 * promise(1) and scripts act as their owner over HTTP (promise --server),
 * and the web sessions opened by sign-in links, listed and revoked beside
 * them.  A new token's secret is printed once, alone on stdout, so that
 * it can go straight into a file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "cmd.h"
#include "conn.h"
#include "proto.h"
#include "table.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

int
cmd_token_create(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *t;
	const char *secret;
	int status;

	if ((status = check_text("--name", a->name, false)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:s?}", "v", PROTO_VERSION, "op",
	    "token_create", "name", a->name);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	t = json_object_get(reply, "token");
	if ((secret = proto_str(reply, "secret")) == NULL) {
		errmsg("token create: the reply has no secret");
		status = CLI_REFUSED;
		goto out;
	}
	printf("%s\n", secret);
	fprintf(stderr,
	    "token %" PRId64 " created; it is shown this once: keep it in "
	    "a file only you can read (~/.config/promise/token)\n",
	    jint(t, "id", 0));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static const struct table_col token_cols[] = {
    {"ID", 0, true},
    {"KIND", 0, false},
    {"OWNER", 32, false},
    {"CREATED", 0, false},
    {"LAST USED", 0, false},
    {"EXPIRES", 0, false},
    {"NAME", 0, false},
};

/* a time as "2026-11-27 17:00", or "-" for none */
static void
put_when(const json_t *t, const char *key, char *buf, size_t len)
{
	int64_t v = jint(t, key, 0);
	char full[TIMEBUF];

	if (v <= 0) {
		(void)snprintf(buf, len, "-");
		return;
	}
	timefmt_local(v, full, sizeof(full));
	/* "Fri 2026-11-27 17:00 CET": the date and time are enough here */
	(void)snprintf(buf, len, "%.16s", full[3] == ' ' ? full + 4 : full);
}

static void
token_row(const json_t *t, int64_t now, struct table_row *r)
{
	const char *s;

	(void)now;
	(void)snprintf(r->buf[0], 24, "%" PRId64, jint(t, "id", 0));
	r->cell[0] = r->buf[0];
	r->cell[1] = (s = proto_str(t, "kind")) != NULL ? s : "?";
	r->cell[2] = (s = proto_str(t, "owner")) != NULL ? s : "?";
	put_when(t, "created_at", r->buf[3], TABLE_CELL);
	r->cell[3] = r->buf[3];
	put_when(t, "last_used_at", r->buf[4], TABLE_CELL);
	r->cell[4] = r->buf[4];
	put_when(t, "expires_at", r->buf[5], TABLE_CELL);
	r->cell[5] = r->buf[5];
	r->cell[6] = (s = proto_str(t, "name")) != NULL ? s : "-";
}

static const struct table token_table = {
    .cols = token_cols,
    .ncols = ARRAY_SIZE(token_cols),
    .width = 100,
    .last_min = 12,
    .fill = token_row,
};

int
cmd_token_list(const struct cli *cli, const struct args *a)
{
	json_t *req, *reply = NULL, *arr;
	int status;

	req = json_pack("{s:i,s:s,s:b}", "v", PROTO_VERSION, "op", "token_list",
	    "all", a->all);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	arr = json_object_get(reply, "tokens");
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		puts("no tokens");
		goto out;
	}
	table_print(&token_table, arr, util_now());
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

int
cmd_token_revoke(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id;
	int status;

	if (parse_id(a->pos, &id) < 0) {
		status = usage_error(
		    "'%s' is not a token id (want a number, as 'promise token "
		    "list' shows)",
		    a->pos);
		goto out;
	}
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op",
	    "token_revoke", "id", (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	printf("token %" PRId64 " revoked\n", id);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}
