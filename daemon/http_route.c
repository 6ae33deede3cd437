/* SPDX-License-Identifier: MIT */
/*
 * http_route.c: the JSON API's routes as operations, see http_route.h.
 * What the body says goes to the operation as it is (the operation checks
 * every field, as for the socket), but the operation itself, the version
 * and the promise's id come from the method and path alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "http_route.h"
#include "util.h"

#define API "/v1/promises"

static int
fail(struct http_route *out, int status, const char *msg)
{
	out->kind = HTTP_ROUTE_ERROR;
	out->status = status;
	snprintf(out->message, sizeof(out->message), "%s", msg);
	return 0;
}

/* a promise id of the path: 1 to 18 digits, not 0 */
static bool
path_id(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;
	size_t i;

	if (n == 0 || n > 18)
		return false;
	for (i = 0; i < n; i++) {
		if (!ascii_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return v > 0;
}

/* a whole number of the query, at least 0 */
static bool
arg_int(const char *s, json_int_t *ret)
{
	json_int_t v = 0;

	if (*s == '\0' || strlen(s) > 18)
		return false;
	for (; *s != '\0'; s++) {
		if (!ascii_digit(*s))
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

/* copies the query's parameters named in strs (as strings) and ints (as
 * numbers) into req; false (out filled) for a bad number */
static bool
take_args(struct http_route *out, json_t *req, http_arg_fn arg, void *ctx,
    const char *const *strs, const char *const *ints)
{
	const char *v;
	json_int_t n;
	char msg[120];

	for (; strs != NULL && *strs != NULL; strs++)
		if ((v = arg(ctx, *strs)) != NULL &&
		    json_object_set_new(req, *strs, json_string(v)) < 0)
			return fail(out, 400, "invalid text in the query"),
			       false;
	for (; ints != NULL && *ints != NULL; ints++) {
		if ((v = arg(ctx, *ints)) == NULL)
			continue;
		if (!arg_int(v, &n)) {
			snprintf(msg, sizeof(msg),
			    "query parameter '%s': not a whole number", *ints);
			fail(out, 400, msg);
			return false;
		}
		if (json_object_set_new(req, *ints, json_integer(n)) < 0)
			return fail(out, 500, "out of memory"), false;
	}
	return true;
}

/* the body as the request's object: {} when empty; false (out filled) if
 * it is not a JSON object sent as one */
static bool
take_body(struct http_route *out, json_t **ret, const char *content_type,
    const char *body, size_t len)
{
	json_error_t e;
	char msg[200];
	size_t n;

	*ret = NULL;
	/* a form of another site can post text but not JSON without asking
	 * first (CORS): with a proxy's sign-on in the browser, only JSON
	 * proves the request was meant */
	n = content_type != NULL ? strcspn(content_type, "; \t") : 0;
	if (content_type == NULL || n != 16 ||
	    strncasecmp(content_type, "application/json", 16) != 0) {
		fail(out, 415,
		    "send the body as Content-Type: application/json");
		return false;
	}
	if (len == 0) {
		*ret = json_object();
		if (*ret == NULL)
			fail(out, 500, "out of memory");
		return *ret != NULL;
	}
	*ret = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (*ret == NULL) {
		snprintf(msg, sizeof(msg), "the body is not JSON: %s", e.text);
		fail(out, 400, msg);
		return false;
	}
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		fail(out, 400, "the body is not a JSON object");
		return false;
	}
	/* a tag is the socket's way to match replies, meaningless here */
	json_object_del(*ret, "tag");
	return true;
}

/* out becomes the operation req (consumed) */
static int
op(struct http_route *out, json_t *req, const char *name, int status)
{
	if (req == NULL || json_object_set_new(req, "v", json_integer(1)) < 0 ||
	    json_object_set_new(req, "op", json_string(name)) < 0 ||
	    (out->line = json_dumps(req, JSON_COMPACT)) == NULL) {
		json_decref(req);
		fail(out, 500, "out of memory");
		return -ENOMEM;
	}
	json_decref(req);
	out->kind = HTTP_ROUTE_OP;
	out->status = status;
	out->len = strlen(out->line);
	return 0;
}

/* /v1/promises/{id}[/{action}] */
static int
route_promise(struct http_route *out, bool get, bool post, const char *rest,
    const char *content_type, const char *body, size_t len)
{
	static const char *const acts[] = {"done", "snooze", "cancel", "ack"};
	const char *slash = strchr(rest, '/');
	size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	json_t *req = NULL;
	int64_t id;
	size_t i;

	if (!path_id(rest, n, &id))
		return fail(out, 404,
		    "no such path: a promise's id is a "
		    "positive whole number");
	if (slash == NULL) {
		if (!get)
			return fail(out, 405, "use GET for a promise");
		out->explain = true;
		return op(
		    out, json_pack("{sI}", "id", (json_int_t)id), "get", 200);
	}
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		if (strcmp(slash + 1, acts[i]) != 0)
			continue;
		if (!post)
			return fail(out, 405, "use POST for an action");
		if (!take_body(out, &req, content_type, body, len))
			return 0;
		if (json_object_set_new(req, "id", json_integer(id)) < 0) {
			json_decref(req);
			return fail(out, 500, "out of memory");
		}
		return op(out, req, acts[i], 200);
	}
	return fail(out, 404, "no such action: done, snooze, cancel or ack");
}

int
http_route(const char *method, const char *path, http_arg_fn arg, void *ctx,
    const char *content_type, const char *body, size_t body_len,
    struct http_route *out)
{
	static const char *const list_s[] = {
	    "state", "owner", "for", "grep", NULL};
	static const char *const list_i[] = {"limit", NULL};
	static const char *const report_s[] = {"owner", "team", NULL};
	static const char *const report_i[] = {"since", NULL};
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0;
	json_t *req = NULL;

	memset(out, 0, sizeof(*out));
	if (!get && !post)
		return fail(out, 405, "only GET and POST are answered");
	if (strncmp(path, "/l/", 3) == 0) {
		out->kind = HTTP_ROUTE_LINK;
		out->token = path + 3;
		out->post = post;
		return 0;
	}
	if (strcmp(path, "/v1/status") == 0 || strcmp(path, "/metrics") == 0) {
		if (!get)
			return fail(out, 405, "use GET");
		out->metrics = path[1] == 'm';
		return op(out, json_object(),
		    out->metrics ? "metrics" : "status", 200);
	}
	if (strcmp(path, "/v1/report") == 0) {
		if (!get)
			return fail(out, 405, "use GET");
		if ((req = json_object()) == NULL)
			return fail(out, 500, "out of memory"), -ENOMEM;
		if (!take_args(out, req, arg, ctx, report_s, report_i)) {
			json_decref(req);
			return 0;
		}
		return op(out, req, "report", 200);
	}
	if (strcmp(path, API) == 0) {
		if (post) {
			if (!take_body(out, &req, content_type, body, body_len))
				return 0;
			return op(out, req, "add", 201);
		}
		if ((req = json_object()) == NULL)
			return fail(out, 500, "out of memory"), -ENOMEM;
		if (!take_args(out, req, arg, ctx, list_s, list_i)) {
			json_decref(req);
			return 0;
		}
		return op(out, req, "list", 200);
	}
	if (strncmp(path, API "/", sizeof(API)) == 0)
		return route_promise(out, get, post, path + sizeof(API),
		    content_type, body, body_len);
	return fail(out, 404, "no such path");
}

void
http_route_clear(struct http_route *out)
{
	free(out->line);
	out->line = NULL;
}

int
http_status_of(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
	    {"invalid", 400},
	    {"forbidden", 403},
	    {"not_found", 404},
	    {"conflict", 409},
	    {"unavailable", 503},
	};
	size_t i;

	for (i = 0; code != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i].code) == 0)
			return map[i].status;
	return 500;
}
