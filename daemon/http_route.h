/* SPDX-License-Identifier: MIT */
/*
 * http_route.h: an HTTP request of the JSON API (common/openapi.yaml) as
 * the operation it stands for: a request line of the control protocol,
 * the status its success is answered with, and whether it needs a caller
 * (every route but the signed links).  Pure: the method, path, query and
 * body in, a decision out; http.c does the talking.
 */
#ifndef PROMISED_HTTP_ROUTE_H
#define PROMISED_HTTP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

enum http_route_kind {
	HTTP_ROUTE_ERROR, /* answer status with message, do nothing */
	HTTP_ROUTE_OP,    /* run line, answer its reply */
	HTTP_ROUTE_LINK,  /* a signed link: GET shows it, POST acts */
};

struct http_route {
	enum http_route_kind kind;
	int status;        /* ERROR: its status; OP: the one of success */
	char message[200]; /* ERROR: one line for {"error": ...} */
	char *line;        /* OP: the request, malloc'd; http_route_clear */
	size_t len;
	bool explain;      /* OP: a promise shown with explain's schedule too */
	bool metrics;      /* OP: the reply's "text", as Prometheus text */
	const char *token; /* LINK: the token, pointing into the path */
	bool post;         /* LINK: act rather than show */
};

/* a query parameter's decoded value, or NULL if absent */
typedef const char *(*http_arg_fn)(void *ctx, const char *name);

/*
 * Maps method and path (decoded, without the query) with the query's
 * parameters (arg) and the body (body_len bytes, any content, of
 * content_type or NULL) to out, which needs no initialising.  Always
 * fills out; -ENOMEM without memory (out is then a 500 ERROR), else 0.
 */
int http_route(const char *method, const char *path, http_arg_fn arg, void *ctx,
    const char *content_type, const char *body, size_t body_len,
    struct http_route *out);
/* frees what out holds; NULL-safe on out->line */
void http_route_clear(struct http_route *out);

/* the status of an operation's error code ("not_found": 404, ...) */
int http_status_of(const char *code);

#endif
