/* SPDX-License-Identifier: MIT */
/*
 * cmd_io.c: import and export.  An import is checked whole, by the client
 * (the file's syntax) and then by the daemon (a dry run), and added all at
 * once or not at all; an export pages through every promise one may see.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "csv.h"
#include "cmd.h"
#include "conn.h"
#include "proto.h"
#include "text.h"
#include "util.h"

/*
 * "promise: line N: MSG" on stderr, and {"line":N,"message":MSG} kept in
 * bad for --json; 0 or -ENOMEM
 */
static int
import_bad(json_t *bad, size_t line, const char *msg)
{
	fprintf(stderr, "promise: line %zu: ", line);
	put_quoted(stderr, msg);
	fputc('\n', stderr);
	return json_array_append_new(bad,
	           json_pack("{s:I,s:s}", "line", (json_int_t)line, "message",
	               msg)) == 0
	    ? 0
	    : -ENOMEM;
}

/* each of a dry run's errors as import_bad; item k is on lines[k] */
static int
put_import_errors(
    json_t *bad, const json_t *errors, const size_t *lines, size_t n_items)
{
	const json_t *e;
	const char *msg;
	size_t i;
	json_int_t k;

	json_array_foreach(errors, i, e) {
		k = json_integer_value(json_object_get(e, "item"));
		msg = json_string_value(json_object_get(e, "message"));
		if (import_bad(bad,
		        k >= 0 && (size_t)k < n_items ? lines[(size_t)k] : 0,
		        msg != NULL ? msg : "invalid") < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The --json document of an import that stops before adding anything: a
 * dry run's verdict, or the refusal naming every bad line.
 */
static int
import_json(const json_t *bad, size_t valid, bool dry, const char *why)
{
	json_t *o;
	int r;

	if (why != NULL)
		o = json_pack("{s:b,s:{s:s,s:s},s:O}", "ok", 0, "error", "code",
		    "invalid", "message", why, "errors", bad);
	else
		o = json_pack("{s:b,s:b,s:I,s:O}", "ok", 1, "dry_run", dry,
		    "valid", (json_int_t)valid, "errors", bad);
	r = o != NULL ? json_print(o) : -ENOMEM;
	json_decref(o);
	return r;
}

/* room in one request for an import part's promises, past its envelope */
#define IMPORT_PART_BYTES (PROTO_MAX_LINE - 256)

/* one request of an import: a part with more to come, or the last */
static int
import_part(
    const struct cli *cli, json_t *part, bool more, bool dry, json_t **ret)
{
	json_t *req;
	int status;

	req = json_pack("{s:i,s:s,s:O}", "v", PROTO_VERSION, "op", "import",
	    "promises", part);
	if (req == NULL ||
	    (more && json_object_set_new(req, "more", json_true()) < 0) ||
	    (dry && json_object_set_new(req, "dry_run", json_true()) < 0))
		status = out_of_memory();
	else
		status = request(cli, req, ret);
	json_decref(req);
	return status;
}

/*
 * Sends items (sizes[i]: item i's bytes in a request) as one import, on
 * one connection, in parts that each fit a request: the daemon holds the
 * parts until the last, then checks (dry) or adds them all as one.  Only
 * the last reply is printed (--json) or returned in *ret.
 */
static int
import_send(const struct cli *cli, const json_t *items, const size_t *sizes,
    bool dry, json_t **ret)
{
	struct cli one = *cli;
	json_t *part = json_array(), *reply = NULL;
	size_t i, bytes = 0;
	int r, status = CLI_OK;

	*ret = NULL;
	one.json = false;
	if (part == NULL) {
		status = out_of_memory();
		goto out;
	}
	if ((r = sock_connect(cli->socket, &one.fd)) < 0) {
		status = unreachable(cli->socket, r);
		goto out;
	}
	for (i = 0; i < json_array_size(items); i++) {
		if (json_array_size(part) > 0 &&
		    bytes + sizes[i] > IMPORT_PART_BYTES) {
			if ((status = import_part(
			         &one, part, true, false, &reply)) != CLI_OK)
				goto out;
			json_decref(reply);
			reply = NULL;
			json_array_clear(part);
			bytes = 0;
		}
		if (json_array_append(part, json_array_get(items, i)) < 0) {
			status = out_of_memory();
			goto out;
		}
		bytes += sizes[i] + 1;
	}
	one.json = cli->json && !dry;
	status = import_part(&one, part, false, dry, ret);
out:
	if (one.fd >= 0)
		close(one.fd);
	json_decref(reply);
	json_decref(part);
	return status;
}

/* what an import file has given so far; item k came from line lines[k] */
struct import_in {
	json_t *items; /* the promise objects to send */
	json_t *bad;   /* {"line":N,"message":TEXT} found by the client */
	size_t *lines, *sizes;
	size_t lineno;
};

/* adds promise o (consumed) from line, or notes why it cannot be sent */
static int
import_item(struct import_in *in, json_t *o, size_t line)
{
	size_t n = json_array_size(in->items), size;

	size = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (size > IMPORT_PART_BYTES) {
		json_decref(o);
		return import_bad(
		    in->bad, line, "longer than a request may be (64 KiB)");
	}
	if (n == PROTO_IMPORT_MAX) {
		json_decref(o);
		errmsg("import: more than %d promises; split the file",
		    PROTO_IMPORT_MAX);
		return -E2BIG;
	}
	in->lines[n] = line;
	in->sizes[n] = size;
	return json_array_append_new(in->items, o) == 0 ? 0 : -ENOMEM;
}

/* a JSON Lines file, whose first non-blank line is first */
static int
import_jsonl(struct import_in *in, FILE *f, char **line, size_t *cap)
{
	json_error_t jerr;
	json_t *o;
	int r;

	/* lines that are not JSON objects never reach the daemon: they are
	 * reported here, by number, with what the daemon finds in the rest */
	for (;;) {
		if ((*line)[strspn(*line, " \t\r\n")] != '\0') {
			o = json_loads(*line, JSON_REJECT_DUPLICATES, &jerr);
			if (!json_is_object(o)) {
				r = import_bad(in->bad, in->lineno,
				    o == NULL ? jerr.text
				              : "not a JSON object");
				json_decref(o);
			} else
				r = import_item(in, o, in->lineno);
			if (r < 0)
				return r;
		}
		if (getline(line, cap, f) == -1)
			return 0;
		in->lineno++;
	}
}

/* the export's columns that describe a promise's past, not a new one */
static const char *const csv_ignored[] = {
    "id", "created_at", "created_by", "state", "settled_at", "snoozes"};
/* the columns that are fields of add, under the same names */
static const char *const csv_fields_add[] = {
    "title", "owner", "for", "note", "kind", "nudge", "due", "due_at"};

static bool
name_in(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* checks a CSV header: every column known, title among them */
static int
csv_header(const json_t *head, size_t line)
{
	const json_t *v;
	const char *s;
	size_t i;
	bool title = false;

	json_array_foreach(head, i, v) {
		s = json_string_value(v);
		title = title || strcmp(s, "title") == 0;
		if (!name_in(s, csv_ignored, ARRAY_SIZE(csv_ignored)) &&
		    !name_in(s, csv_fields_add, ARRAY_SIZE(csv_fields_add))) {
			errmsg(
			    "import: line %zu: unknown column '%s'", line, s);
			return -EINVAL;
		}
	}
	if (!title) {
		errmsg(
		    "import: line %zu: the header has no 'title' column", line);
		return -EINVAL;
	}
	return 0;
}

/*
 * One CSV row as the object add takes: empty cells are left out, an
 * all-digit due_at is the epoch second export writes and any other is a
 * WHEN for the daemon, as "due".  NULL when out of memory.
 */
static json_t *
csv_object(const json_t *head, const json_t *row)
{
	json_t *o = json_object(), *v;
	const char *name, *cell;
	long long t;
	char *end;
	size_t i;

	if (o == NULL)
		return NULL;
	json_array_foreach(head, i, v) {
		name = json_string_value(v);
		cell = json_string_value(json_array_get(row, i));
		if (cell[0] == '\0' ||
		    !name_in(name, csv_fields_add, ARRAY_SIZE(csv_fields_add)))
			continue;
		/* a spreadsheet's guard against formulas is not part of it */
		if (cell[0] == '\'' && cell[1] != '\0' &&
		    strchr(CSV_FORMULA, cell[1]) != NULL)
			cell++;
		if (strcmp(name, "due_at") == 0) {
			errno = 0;
			t = strtoll(cell, &end, 10);
			if (errno == 0 && *end == '\0' && cell[0] >= '0' &&
			    cell[0] <= '9')
				v = json_integer(t);
			else {
				v = json_string(cell);
				name = "due";
			}
		} else
			v = json_string(cell);
		if (json_object_set_new(o, name, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* a CSV file with a header row, the export's columns or add's fields */
static int
import_csv(struct import_in *in, FILE *f, char **line, size_t *cap)
{
	json_t *head = json_array(), *row = NULL, *o;
	const char *why = NULL;
	char *rec = NULL;
	size_t len, start;
	int r = -ENOMEM;

	if (head == NULL)
		goto out;
	/* the header: the first line, already read */
	len = strcspn(*line, "\r\n");
	if ((r = csv_fields(*line, len, head, &why)) < 0) {
		if (r == -EINVAL)
			errmsg("import: line %zu: %s", in->lineno, why);
		goto out;
	}
	if ((r = csv_header(head, in->lineno)) < 0)
		goto out;
	for (;;) {
		start = in->lineno + 1;
		if ((r = csv_record(f, &in->lineno, line, cap, &rec, &len)) <=
		    0) {
			if (r == -EINVAL)
				r = import_bad(in->bad, start,
				    "a quoted field is not closed");
			break;
		}
		if (len == 0)
			continue;
		json_decref(row);
		if ((row = json_array()) == NULL) {
			r = -ENOMEM;
			break;
		}
		r = csv_fields(rec, len, row, &why);
		if (r == -EINVAL)
			r = import_bad(in->bad, start, why);
		else if (r == 0 &&
		    json_array_size(row) != json_array_size(head))
			r = import_bad(in->bad, start,
			    "not as many fields as the header has columns");
		else if (r == 0)
			r = (o = csv_object(head, row)) != NULL
			    ? import_item(in, o, start)
			    : -ENOMEM;
		if (r < 0)
			break;
	}
out:
	free(rec);
	json_decref(row);
	json_decref(head);
	return r;
}

/* the end of an import with bad lines, on stderr and as --json */
static void
import_refused(const struct cli *cli, const json_t *bad, bool dry)
{
	char why[96];
	size_t n = json_array_size(bad);

	(void)snprintf(why, sizeof(why),
	    "import: %zu bad line%s; nothing was imported", n,
	    n == 1 ? "" : "s");
	errmsg("%s", why);
	if (cli->json)
		(void)import_json(bad, 0, dry, why);
}

int
cmd_import(const struct cli *cli, const struct args *a)
{
	struct import_in in = {NULL, NULL, NULL, NULL, 0};
	FILE *f = NULL;
	json_t *reply = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = CLI_REFUSED, r;

	f = strcmp(a->pos, "-") == 0 ? stdin : fopen(a->pos, "r");
	if (f == NULL) {
		errmsg("import: %s: %s", a->pos, strerror(errno));
		status = CLI_USAGE;
		goto out;
	}
	if ((in.items = json_array()) == NULL ||
	    (in.bad = json_array()) == NULL ||
	    (in.lines = calloc(PROTO_IMPORT_MAX, sizeof(*in.lines))) == NULL ||
	    (in.sizes = calloc(PROTO_IMPORT_MAX, sizeof(*in.sizes))) == NULL) {
		status = out_of_memory();
		goto out;
	}
	/* the first line that is not blank tells the format: a JSON object
	 * starts with a brace, a CSV header with a column name */
	while ((len = getline(&line, &cap, f)) != -1) {
		in.lineno++;
		if (line[strspn(line, " \t\r\n")] != '\0')
			break;
	}
	r = 0;
	if (len != -1)
		r = line[strspn(line, " \t")] == '{'
		    ? import_jsonl(&in, f, &line, &cap)
		    : import_csv(&in, f, &line, &cap);
	if (r == -ENOMEM) {
		status = out_of_memory();
		goto out;
	}
	if (r < 0)
		goto out;
	if (ferror(f)) {
		errmsg("import: %s: %s", a->pos, strerror(errno));
		goto out;
	}
	if (json_array_size(in.items) == 0) {
		if (json_array_size(in.bad) == 0)
			errmsg("import: no promises in %s", a->pos);
		else
			import_refused(cli, in.bad, a->dry_run);
		goto out;
	}
	/* first a dry run, so that every bad line is named and nothing is
	 * added while any is */
	if ((status = import_send(cli, in.items, in.sizes, true, &reply)) !=
	    CLI_OK)
		goto out;
	if (put_import_errors(in.bad, json_object_get(reply, "errors"),
	        in.lines, json_array_size(in.items)) < 0) {
		status = out_of_memory();
		goto out;
	}
	if (json_array_size(in.bad) > 0) {
		import_refused(cli, in.bad, a->dry_run);
		status = CLI_REFUSED;
		goto out;
	}
	if (a->dry_run) {
		if (cli->json)
			(void)import_json(
			    in.bad, json_array_size(in.items), true, NULL);
		else
			printf("%zu promises would be imported\n",
			    json_array_size(in.items));
		goto out;
	}
	json_decref(reply);
	reply = NULL;
	if ((status = import_send(cli, in.items, in.sizes, false, &reply)) !=
	        CLI_OK ||
	    reply == NULL)
		goto out;
	printf("%" PRId64 " promises imported\n", jint(reply, "imported", 0));
out:
	if (f != NULL && f != stdin)
		fclose(f);
	free(line);
	free(in.lines);
	free(in.sizes);
	json_decref(in.items);
	json_decref(in.bad);
	json_decref(reply);
	return status;
}

int
cmd_export(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *p, *next, *all = NULL;
	struct cli quiet = *cli;
	int64_t after = 0;
	size_t i;
	char *text;
	int status = CLI_OK;

	quiet.json = false;
	/* --json is one document of every page, whatever the format asked */
	if (cli->json && (all = json_array()) == NULL) {
		status = out_of_memory();
		goto out;
	}
	if (a->csv && all == NULL)
		puts("id,title,owner,for,note,due_at,created_at,created_by,"
		     "state,settled_at,kind,snoozes");
	for (;;) {
		req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op",
		    "export", "after", (json_int_t)after);
		if ((status = request(&quiet, req, &reply)) != CLI_OK)
			goto out;
		json_array_foreach(json_object_get(reply, "promises"), i, p) {
			if (all != NULL) {
				if (json_array_append(all, p) < 0) {
					status = out_of_memory();
					goto out;
				}
				continue;
			}
			if (!a->csv) {
				text = json_dumps(p, JSON_COMPACT);
				if (text == NULL) {
					status = out_of_memory();
					goto out;
				}
				puts(text);
				free(text);
				continue;
			}
			printf("%" PRId64 ",", jint(p, "id", 0));
			put_csv(proto_str(p, "title"));
			putchar(',');
			put_csv(proto_str(p, "owner"));
			putchar(',');
			put_csv(proto_str(p, "for"));
			putchar(',');
			put_csv(proto_str(p, "note"));
			printf(",%" PRId64 ",%" PRId64 ",",
			    jint(p, "due_at", 0), jint(p, "created_at", 0));
			put_csv(proto_str(p, "created_by"));
			putchar(',');
			put_csv(proto_str(p, "state"));
			putchar(',');
			if (json_is_integer(json_object_get(p, "settled_at")))
				printf("%" PRId64, jint(p, "settled_at", 0));
			putchar(',');
			put_csv(proto_str(p, "kind"));
			printf(",%" PRId64 "\n", jint(p, "snoozes", 0));
		}
		next = json_object_get(reply, "next");
		if (!json_is_integer(next))
			break;
		after = json_integer_value(next);
		json_decref(req);
		json_decref(reply);
		req = reply = NULL;
	}
	if (all != NULL) {
		json_decref(reply);
		if ((reply = json_pack(
		         "{s:b,s:O}", "ok", 1, "promises", all)) == NULL)
			status = out_of_memory();
		else
			(void)json_print(reply);
	}
out:
	json_decref(all);
	json_decref(req);
	json_decref(reply);
	return status;
}
