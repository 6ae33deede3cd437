/* SPDX-License-Identifier: MIT */
/*
 * test_csv.c: unit test for the client's CSV reader (client/csv.c), what
 * import takes from a spreadsheet or from 'promise export --csv': fields
 * with commas, quotes and line breaks inside quotes, empty fields, and
 * the malformed records it must refuse with a reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "csv.h"

/* the fields of rec as a JSON array text, or NULL with *r set */
static char *
fields_of(const char *rec, int *r, const char **why)
{
	json_t *a = json_array();
	char *text = NULL;

	*why = NULL;
	*r = csv_fields(rec, strlen(rec), a, why);
	if (*r == 0)
		text = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return text;
}

/* rec splits into the fields written as the JSON array want */
static bool
splits(const char *rec, const char *want)
{
	const char *why;
	char *got;
	bool ok;
	int r;

	got = fields_of(rec, &r, &why);
	ok = r == 0 && got != NULL && strcmp(got, want) == 0;
	if (!ok)
		printf(
		    "  '%s': got %s, wanted %s\n", rec, got ? got : "-", want);
	free(got);
	return ok;
}

/* rec is refused, saying something */
static bool
refused(const char *rec)
{
	const char *why;
	char *got;
	int r;

	got = fields_of(rec, &r, &why);
	free(got);
	return r == -EINVAL && why != NULL && why[0] != '\0';
}

static void
test_fields(void)
{
	CHECK(splits("a,b,c", "[\"a\",\"b\",\"c\"]"));
	CHECK(splits("", "[\"\"]"));
	CHECK(splits(",", "[\"\",\"\"]"));
	CHECK(splits("a,,c,", "[\"a\",\"\",\"c\",\"\"]"));
	CHECK(splits("\"x,y\",z", "[\"x,y\",\"z\"]"));
	CHECK(splits("\"say \"\"hi\"\"\"", "[\"say \\\"hi\\\"\"]"));
	CHECK(splits("\"two\nlines\",2", "[\"two\\nlines\",\"2\"]"));
	CHECK(splits("\"\"", "[\"\"]"));
	CHECK(splits("'=1+1,\xc3\x9cmlaut", "[\"'=1+1\",\"\xc3\x9cmlaut\"]"));
	CHECK(refused("\"open"));
	CHECK(refused("a\"b"));
	CHECK(refused("\"q\"x,y"));
	CHECK(refused("a,\"b"));
}

/* the records of text, each line's number after it, joined by '|' */
static bool
records(const char *text, const char *want, int want_end)
{
	char *line = NULL, *rec = NULL, out[512] = "";
	size_t cap = 0, len, lineno = 0, used = 0;
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int r;
	bool ok;

	if (f == NULL)
		return false;
	while ((r = csv_record(f, &lineno, &line, &cap, &rec, &len)) == 1)
		used += (size_t)snprintf(out + used, sizeof(out) - used,
		    "%s%s@%zu", used > 0 ? "|" : "", rec, lineno);
	ok = r == want_end && strcmp(out, want) == 0;
	if (!ok)
		printf("  got '%s' ending %d, wanted '%s' ending %d\n", out, r,
		    want, want_end);
	free(line);
	free(rec);
	fclose(f);
	return ok;
}

static void
test_records(void)
{
	CHECK(records("a,b\r\nc,d\n", "a,b@1|c,d@2", 0));
	CHECK(records("a,b", "a,b@1", 0));
	CHECK(records("\"one\ntwo\",x\ny\n", "\"one\ntwo\",x@2|y@3", 0));
	CHECK(records("\n\nz\n", "@1|@2|z@3", 0));
	CHECK(records("ok\n\"never closed\nstill\n", "ok@1", -EINVAL));
	CHECK(records("", "", 0));
}

int
main(void)
{
	test_fields();
	test_records();
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
