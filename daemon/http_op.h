/* SPDX-License-Identifier: MIT */
/*
 * http_op.h: what the HTTP side shares: an answer (status, type, body)
 * and one operation run for an HTTP request, its reply as a JSON object.
 */
#ifndef PROMISED_HTTP_OP_H
#define PROMISED_HTTP_OP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "op.h"

/* what a request is answered with */
struct http_answer {
	int status;
	const char *type; /* a static Content-Type */
	char *body;       /* malloc'd */
	size_t len;
	/* a change: sent once its batch commits; if that fails, the
	 * answer becomes a 503 of the same type */
	bool write;
	/* the web side's: a redirect's Location and a Set-Cookie, malloc'd
	 * or NULL; http_answer_clear frees them */
	char *location;
	char *cookie;
};

#define HTTP_JSON "application/json"
#define HTTP_HTML "text/html; charset=utf-8"
#define HTTP_TEXT "text/plain; version=0.0.4; charset=utf-8"

/*
 * Runs the request line for who and gives its reply as an object
 * ({"ok":true,...} or {"ok":false,"error":{...}}) in *ret, and whether it
 * made a change.  0, or -ENOMEM (nothing in *ret).
 */
int http_op_run(struct op_ctx *ctx, const struct op_caller *who,
    const char *line, size_t len, json_t **ret, bool *write);

/*
 * As http_op_run, but a success the operation wrote as text (the hot
 * replies: {"ok":true,...) becomes a's body as it is, less "ok", with
 * status: no parse into objects and back.  *ret is then NULL, and it is
 * anything else as http_op_run gives it.  0, or -ENOMEM.
 */
int http_op_run_answer(struct op_ctx *ctx, const struct op_caller *who,
    const char *line, size_t len, int status, struct http_answer *a,
    json_t **ret, bool *write);

/* a's body becomes the JSON text of o (consumed); false without memory */
bool http_answer_json(struct http_answer *a, int status, json_t *o);
/* a becomes {"error": msg} with status */
void http_answer_error(struct http_answer *a, int status, const char *msg);
/* frees a's body, location and cookie */
void http_answer_clear(struct http_answer *a);

#endif
