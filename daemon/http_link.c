/* SPDX-License-Identifier: MIT */
/*
 * http_link.c: a signed link's page and its action, see http_link.h.
 * Whatever is wrong, the answer is a page a person can read, never a
 * change: the link is verified before anything is looked up, and the
 * promise is read as the recipient, who sees what they may see.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "http_link.h"
#include "http_route.h"
#include "link.h"
#include "msglinks.h"
#include "proto.h"
#include "util.h"
#include "web_page.h"

/* a as a page of one message */
static void
message(struct http_answer *a, int status, const struct web_view *v,
    const char *title, const char *text)
{
	struct jsonw b = {0};

	web_page_message(&b, v, title, text);
	http_answer_clear(a);
	a->status = b.oom ? 500 : status;
	a->type = HTTP_HTML;
	a->body = b.oom ? NULL : b.s;
	a->len = b.oom ? 0 : b.len;
	if (b.oom)
		free(b.s);
}

static void
page(struct http_answer *a, struct jsonw *b)
{
	a->status = b->oom ? 500 : 200;
	a->type = HTTP_HTML;
	a->body = b->oom ? NULL : b->s;
	a->len = b->oom ? 0 : b->len;
	if (b->oom)
		free(b->s);
}

/* o's compact text, o consumed; NULL without memory */
static char *
dump(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

/* the request line of l's action as its recipient, or NULL */
static char *
action_line(const struct conf *c, const struct link *l, int64_t now)
{
	int64_t to;

	switch (l->action) {
	case LINK_KEEP:
		return dump(json_pack(
		    "{sisssI}", "v", 1, "op", "done", "id", (json_int_t)l->id));
	case LINK_ACK:
		return dump(json_pack(
		    "{sisssI}", "v", 1, "op", "ack", "id", (json_int_t)l->id));
	case LINK_SNOOZE:
		/* without a calendar there is no business morning: a day */
		if ((to = conf_next_morning(c, l->recipient, now)) <= now)
			to = now + 86400;
		return dump(json_pack("{sisssIsIss}", "v", 1, "op", "snooze",
		    "id", (json_int_t)l->id, "due_at", (json_int_t)to, "reason",
		    "snoozed to the next business morning from a message"));
	case LINK_OPEN:
	default:
		return NULL;
	}
}

/* the words for a promise that is no longer open */
static void
settled(struct http_answer *a, int status, const struct web_view *v, json_t *p)
{
	const char *state = proto_str(p, "state");
	char text[200];

	snprintf(text, sizeof(text),
	    "Promise #%" PRId64 " is already %s: nothing to do.",
	    (int64_t)json_integer_value(json_object_get(p, "id")),
	    state != NULL ? state : "settled");
	message(a, status, v, "Already settled", text);
}

void
http_link(
    struct op_ctx *ctx, const char *token, bool post, struct http_answer *a)
{
	struct link_keys k = msglinks_keys(ctx->conf);
	struct web_view v = {0};
	struct op_caller who;
	struct link l;
	struct jsonw b = {0};
	json_t *got = NULL, *done = NULL, *p;
	char line[96], *act = NULL;
	const char *state;
	bool write;
	int r;

	memset(a, 0, sizeof(*a));
	v.now = util_now();
	if (k.n == 0) {
		message(
		    a, 404, &v, "Links are off", "This server signs no links.");
		return;
	}
	r = link_verify(&k, token, v.now, &l);
	if (r == -EKEYEXPIRED) {
		message(a, 410, &v, "This link has expired",
		    "Links in messages work for a while only. Nothing was "
		    "changed; the next message about this promise carries "
		    "fresh links.");
		return;
	}
	if (r < 0) {
		message(a, 403, &v, "This link is not valid",
		    "It may have been cut short or changed on its way. "
		    "Nothing was changed.");
		return;
	}
	who.login = l.recipient;
	who.uid = (uid_t)-1;
	who.admin = conf_is_admin(ctx->conf, l.recipient);
	who.via = "link";
	snprintf(line, sizeof(line),
	    "{\"v\":1,\"op\":\"get\",\"id\":%" PRId64 "}", l.id);
	if (http_op_run(ctx, &who, line, strlen(line), &got, &write) < 0)
		goto oom;
	p = json_object_get(got, "promise");
	if (!json_is_true(json_object_get(got, "ok")) || !json_is_object(p)) {
		message(a, 404, &v, "No such promise",
		    "This promise is gone, or no longer yours to see.");
		goto out;
	}
	state = proto_str(p, "state");
	if (l.action == LINK_OPEN) {
		if (post) {
			message(a, 405, &v, "Nothing to do",
			    "This link only shows the promise.");
			goto out;
		}
		web_page_promise(&b, &v, got, NULL);
		page(a, &b);
		goto out;
	}
	if (state == NULL || strcmp(state, "open") != 0) {
		settled(a, post ? 409 : 200, &v, p);
		goto out;
	}
	if (!post) {
		/* a relative action: the token resolves to this very link,
		 * under whatever prefix a proxy serves it */
		web_page_confirm(&b, &v, &l, p, token);
		page(a, &b);
		goto out;
	}
	if ((act = action_line(ctx->conf, &l, v.now)) == NULL)
		goto oom;
	if (http_op_run(ctx, &who, act, strlen(act), &done, &write) < 0)
		goto oom;
	a->write = write;
	if (!json_is_true(json_object_get(done, "ok"))) {
		message(a,
		    http_status_of(
		        proto_str(json_object_get(done, "error"), "code")),
		    &v, "Not done",
		    proto_str(json_object_get(done, "error"), "message"));
		a->write = write;
		goto out;
	}
	v.flash = l.action == LINK_KEEP ? "Marked kept."
	    : l.action == LINK_SNOOZE ? "Snoozed to the next business morning."
	                              : "Escalation acknowledged.";
	json_object_set(got, "promise", json_object_get(done, "promise"));
	web_page_promise(&b, &v, got, NULL);
	page(a, &b);
	a->write = write;
	goto out;
oom:
	http_answer_error(a, 500, "out of memory");
out:
	free(act);
	json_decref(got);
	json_decref(done);
}
