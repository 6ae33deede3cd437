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

/* what every text reply begins with; the answer keeps its "{" */
#define TEXT_OK "{\"ok\":true,"
#define TEXT_OK_LEN (sizeof(TEXT_OK) - 1)

static int
run_op(struct op_ctx *ctx, const struct op_caller *who, const char *line,
    size_t len, struct http_answer *a, int status, json_t **ret, bool *write)
{
	struct op_session ss = {0};
	struct op_reply rp;
	int r = 0;

	*ret = NULL;
	op_dispatch(ctx, &ss, who, line, len, &rp);
	*write = rp.write;
	if (a != NULL && rp.json == NULL && rp.text.s != NULL &&
	    rp.text.len >= TEXT_OK_LEN &&
	    memcmp(rp.text.s, TEXT_OK, TEXT_OK_LEN) == 0) {
		/* {"ok":true,REST -> {REST} */
		jw_put(&rp.text, "}", 1);
		if (rp.text.oom) {
			r = -ENOMEM;
			goto out;
		}
		memmove(rp.text.s + 1, rp.text.s + TEXT_OK_LEN,
		    rp.text.len - TEXT_OK_LEN);
		http_answer_clear(a);
		a->status = status;
		a->type = HTTP_JSON;
		a->len = rp.text.len - TEXT_OK_LEN + 1;
		a->body = rp.text.s;
		rp.text.s = NULL;
		goto out;
	}
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
out:
	op_reply_clear(&rp);
	op_session_end(ctx, &ss);
	return r;
}

int
http_op_run(struct op_ctx *ctx, const struct op_caller *who, const char *line,
    size_t len, json_t **ret, bool *write)
{
	return run_op(ctx, who, line, len, NULL, 0, ret, write);
}

int
http_op_run_answer(struct op_ctx *ctx, const struct op_caller *who,
    const char *line, size_t len, int status, struct http_answer *a,
    json_t **ret, bool *write)
{
	return run_op(ctx, who, line, len, a, status, ret, write);
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
