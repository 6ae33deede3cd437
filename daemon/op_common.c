/* SPDX-License-Identifier: MIT */
/*
 * op_common.c: what the operations' files share, and nothing of any one
 * operation: refusing a stranger, a promise as JSON, reading the common
 * fields of a request, and looking up the promise it names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "op_impl.h"
#include "util.h"

/* ---- who may do what ------------------------------------------------------
 */

/*
 * Refuses the request; the refusal is recorded in the promise's history
 * once the request's own changes are undone.  Someone who may not act on
 * a promise learns nothing of it, not even that it exists or whose it is:
 * the answer is the one for an id never used.
 */
enum proto_err
op_refuse(struct req *r, int64_t id)
{
	snprintf(r->err, sizeof(r->err), "no promise %" PRId64, id);
	r->refused = id;
	return PROTO_NOT_FOUND;
}

/* ---- promises as JSON ---------------------------------------------------- */

/* a PROMISE object is written as text directly, see jsonw.h; everything
 * else that needs one as a json_t parses this text, so there is one
 * encoding */
void
op_promise_text(struct jsonw *b, const struct promise_rec *p, int64_t now)
{
	size_t i;

	jw_lit(b, "{\"id\":");
	jw_int(b, p->id);
	jw_lit(b, ",\"title\":");
	jw_str(b, p->title);
	jw_lit(b, ",\"owner\":");
	jw_str(b, p->owner);
	jw_lit(b, ",\"for\":");
	jw_str(b, p->for_whom);
	jw_lit(b, ",\"note\":");
	jw_str(b, p->note);
	jw_lit(b, ",\"due_at\":");
	jw_int(b, p->due_at);
	jw_lit(b, ",\"created_at\":");
	jw_int(b, p->created_at);
	jw_lit(b, ",\"created_by\":");
	jw_str(b, p->created_by);
	jw_lit(b, ",\"state\":");
	jw_str(b, pstate_name(p->state));
	jw_lit(b, ",\"settled_at\":");
	if (p->state == PSTATE_OPEN)
		jw_lit(b, "null");
	else
		jw_int(b, p->settled_at);
	jw_lit(b, ",\"nudge\":[");
	for (i = 0; i < p->n_nudge; i++) {
		if (i > 0)
			jw_put(b, ",", 1);
		jw_int(b, p->nudge[i]);
	}
	jw_lit(b, "],\"escalate_after\":");
	jw_int(b, p->escalate_after);
	jw_lit(b, ",\"snoozes\":");
	jw_int(b, p->snoozes);
	jw_lit(b, ",\"kind\":");
	jw_str(b, p->kind);
	jw_lit(b,
	    p->state == PSTATE_OPEN && p->due_at <= now
	        ? ",\"overdue\":true}"
	        : ",\"overdue\":false}");
}

json_t *
op_promise_json(const struct promise_rec *p, int64_t now)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *o = NULL;

	op_promise_text(&b, p, now);
	if (!b.oom)
		o = json_loadb(b.s, b.len, 0, NULL);
	free(b.s);
	return o;
}

void
op_get_cb(void *arg, const struct promise_rec *p)
{
	struct json_cb *j = arg;

	j->val = op_promise_json(p, j->now);
	j->rec = *p;
	/* strings are borrowed from the statement: keep none */
	j->rec.title = j->rec.owner = j->rec.for_whom = j->rec.note = NULL;
	j->rec.created_by = j->rec.kind = NULL;
	util_strlcpy(j->owner, p->owner, sizeof(j->owner));
	util_strlcpy(j->for_whom, p->for_whom != NULL ? p->for_whom : "",
	    sizeof(j->for_whom));
}

void
op_event_cb(void *arg, const struct event_rec *e)
{
	json_array_append_new(arg, event_rec_json(e));
}

/* ---- request handlers ------------------------------------------------------
 */

enum proto_err
op_store_failed(struct req *r, int rc)
{
	if (rc == -ENOMEM) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	}
	snprintf(r->err, sizeof(r->err), "database unavailable: %s",
	    store_errmsg(r->ctx->st));
	return PROTO_UNAVAILABLE;
}

enum proto_err
op_get_id(struct req *r, int64_t *id)
{
	enum proto_err e;

	e = proto_get_int(r->body, "id", true, id, r->err, sizeof(r->err));
	if (e == PROTO_OK && *id <= 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'id': must be a positive integer");
		return PROTO_INVALID;
	}
	return e;
}

enum proto_err
op_get_text(struct req *r, const char *field, bool required, size_t max,
    bool multiline, const char **ret)
{
	enum proto_err e;
	uint32_t hidden;

	e = proto_get_str(
	    r->body, field, required, max, ret, r->err, sizeof(r->err));
	if (e != PROTO_OK || *ret == NULL)
		return e;
	if (!util_text_ok(*ret, multiline)) {
		snprintf(r->err, sizeof(r->err),
		    "field '%s': contains control characters or invalid UTF-8",
		    field);
		return PROTO_INVALID;
	}
	/* shown to others in lists, histories and email subjects, where
	 * such a character could make text read as something else */
	if ((hidden = util_text_hidden(*ret)) != 0) {
		snprintf(r->err, sizeof(r->err),
		    "field '%s': contains U+%04" PRIX32
		    ", an invisible or text-direction character",
		    field, hidden);
		return PROTO_INVALID;
	}
	if (required && strspn(*ret, " \t\n") == strlen(*ret)) {
		snprintf(r->err, sizeof(r->err), "field '%s': is empty", field);
		return PROTO_INVALID;
	}
	return PROTO_OK;
}

/* the promise the request's id names, into j (j->val its PROMISE), if the
 * caller may see it */
enum proto_err
op_load_visible(struct req *r, int64_t *id, struct json_cb *j)
{
	enum proto_err e;
	int rc;

	if ((e = op_get_id(r, id)) != PROTO_OK)
		return e;
	rc = store_get(r->ctx->st, *id, op_get_cb, j);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no promise %" PRId64, *id);
		return PROTO_NOT_FOUND;
	}
	if (rc < 0)
		return op_store_failed(r, rc);
	if (!may_act(r, j->owner)) {
		json_decref(j->val);
		j->val = NULL;
		return op_refuse(r, *id);
	}
	return PROTO_OK;
}

int
op_event(struct req *r, int64_t id, const char *what, const char *detail)
{
	json_t *o = NULL;
	char *text = NULL;
	int rc = -ENOMEM;

	if (r->who->via == NULL)
		return store_event(
		    r->ctx->st, id, r->now, r->who->login, what, detail);
	o = detail != NULL ? json_loads(detail, 0, NULL) : json_object();
	if (!json_is_object(o) ||
	    json_object_set_new(o, "via", json_string(r->who->via)) < 0 ||
	    (text = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	rc = store_event(r->ctx->st, id, r->now, r->who->login, what, text);
out:
	free(text);
	json_decref(o);
	return rc;
}
