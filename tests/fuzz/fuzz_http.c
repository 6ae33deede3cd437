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
 * lies within the path.  The web side's pure readers run on the same
 * input: the body as a form (each field the pages post, decoded no longer
 * than it was sent, with no NUL) and the query line as a Cookie header
 * (a value found is nonempty, of cookie octets only, and in the header).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "html.h"
#include "http_route.h"
#include "http_web.h"

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

/* the web side's form fields and session cookie, from the same input */
static void
check_web(const char *body, size_t len, const char *cookie_header)
{
	static const char *const names[] = {"csrf", "title", "for", "due",
	    "note", "reason", "told_customer", "email"};
	char *out = malloc(len + 1), value[64];
	size_t i;

	if (out == NULL)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (html_form_get(body, len, names[i], out, len + 1) == 0 &&
		    strlen(out) > len)
			fail("a field decoded longer than sent", names[i]);
	free(out);
	if (html_cookie_get(
	        cookie_header, "promised_session", value, sizeof(value)) == 0) {
		if (value[0] == '\0' || strstr(cookie_header, value) == NULL)
			fail("a cookie not in its header", cookie_header);
		for (i = 0; value[i] != '\0'; i++)
			if (value[i] <= ' ' || value[i] > '~' ||
			    strchr("\";,\\", value[i]) != NULL)
				fail("a cookie of a bad octet", value);
	}
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
	(void)http_web_path(path);
	check_web(p, (size_t)(end - p), query);
	return 0;
}
