/* SPDX-License-Identifier: MIT */
/*
 * http_op.c: one operation for an HTTP request (http_op.h).  The hot
 * replies of the operations are text written by hand for the socket; an
 * HTTP answer reshapes them, so they are read back as JSON here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_op.h"

int
http_op_run(struct op_ctx *ctx, const struct op_caller *who, const char *line,
    size_t len, json_t **ret, bool *write)
{
	struct op_session ss = {0};
	struct op_reply rp;
	int r = 0;

	*ret = NULL;
	op_dispatch(ctx, &ss, who, line, len, &rp);
	*write = rp.write;
	if (rp.json != NULL) {
		*ret = rp.json;
		rp.json = NULL;
	} else if (rp.text.s != NULL) {
		jw_put(&rp.text, "}", 1);
		if (!rp.text.oom)
			*ret = json_loadb(rp.text.s, rp.text.len, 0, NULL);
	}
	if (*ret == NULL)
		r = -ENOMEM;
	op_reply_clear(&rp);
	op_session_end(ctx, &ss);
	return r;
}

bool
http_answer_json(struct http_answer *a, int status, json_t *o)
{
	a->status = status;
	a->type = HTTP_JSON;
	a->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (a->body == NULL) {
		a->status = 500;
		a->len = 0;
		return false;
	}
	a->len = strlen(a->body);
	return true;
}

void
http_answer_error(struct http_answer *a, int status, const char *msg)
{
	free(a->body);
	a->body = NULL;
	(void)http_answer_json(a, status, json_pack("{ss}", "error", msg));
}

void
http_answer_clear(struct http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
	free(a->location);
	a->location = NULL;
	free(a->cookie);
	a->cookie = NULL;
}
