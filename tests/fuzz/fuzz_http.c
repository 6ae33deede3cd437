/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c: libFuzzer target for the JSON API's routes
 * (daemon/http_route.c), which read whatever a client on the network
 * sends.  The input is lines: the method, the path, the query (as
 * a=1&b=2), the Content-Type, and the body (the rest, NULs and all).
 * Beyond sanitizer reports, the target aborts when a contract of
 * http_route.h breaks: an error has a status of 400 to 599 and a
 * message; an operation is one JSON object of version 1 naming one of the
 * operations the API may run, with its success status; a link's token
 * lies within the path.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "html.h"
#include "http_route.h"

#define MAX_INPUT (128 * 1024)

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_http: %s: '%s'\n", what, detail);
	abort();
}

struct query {
	const char *s;
	size_t len;
	char value[4096];
};

/* the route copies each value before asking for the next */
static const char *
arg(void *ctx, const char *name)
{
	struct query *q = ctx;

	if (html_form_get(q->s, q->len, name, q->value, sizeof(q->value)) < 0)
		return NULL;
	return q->value;
}

/* the next line of *p (up to end) as a NUL-ended copy into buf */
static void
next_line(const char **p, const char *end, char *buf, size_t cap)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl != NULL ? nl : end) - *p);

	if (n >= cap)
		n = cap - 1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	/* a NUL inside a line ends it, as in a C string from a header */
	*p = nl != NULL ? nl + 1 : end;
}

static void
check_op(const struct http_route *r)
{
	static const char *const ops[] = {"status", "metrics", "report", "list",
	    "add", "get", "done", "snooze", "cancel", "ack"};
	json_t *o;
	const char *op;
	size_t i;

	if (r->line == NULL || strlen(r->line) != r->len)
		fail("operation without its line", "");
	o = json_loads(r->line, 0, NULL);
	if (!json_is_object(o))
		fail("operation not a JSON object", r->line);
	if (json_integer_value(json_object_get(o, "v")) != 1)
		fail("operation not of version 1", r->line);
	op = json_string_value(json_object_get(o, "op"));
	for (i = 0; op != NULL && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i]) == 0)
			break;
	if (op == NULL || i == sizeof(ops) / sizeof(ops[0]))
		fail("an operation the API does not run", r->line);
	if (json_object_get(o, "tag") != NULL)
		fail("a tag passed through", r->line);
	if (r->status != (strcmp(op, "add") == 0 ? 201 : 200))
		fail("wrong status of success", r->line);
	json_decref(o);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	char method[32], path[2048], query[4096], ctype[256];
	struct query q;
	struct http_route r;

	if (size > MAX_INPUT)
		return 0;
	next_line(&p, end, method, sizeof(method));
	next_line(&p, end, path, sizeof(path));
	next_line(&p, end, query, sizeof(query));
	next_line(&p, end, ctype, sizeof(ctype));
	q.s = query;
	q.len = strlen(query);
	(void)http_route(method, path, arg, &q, ctype[0] != '\0' ? ctype : NULL,
	    p, (size_t)(end - p), &r);
	switch (r.kind) {
	case HTTP_ROUTE_ERROR:
		if (r.status < 400 || r.status > 599 || r.message[0] == '\0')
			fail("error without status or message", r.message);
		if (r.line != NULL)
			fail("error with a line", r.line);
		break;
	case HTTP_ROUTE_OP:
		check_op(&r);
		break;
	case HTTP_ROUTE_LINK:
		if (r.token < path || r.token > path + strlen(path))
			fail("token outside the path", path);
		break;
	default:
		fail("unknown kind", path);
	}
	http_route_clear(&r);
	return 0;
}
