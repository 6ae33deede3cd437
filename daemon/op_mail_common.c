/* SPDX-License-Identifier: MIT */
/*
 * op_mail_common.c: what the two ways mail comes in share (op_mail.h):
 * answering a mail in its thread, acting as a person "via email", and the
 * reply that tells promise mail-in what became of the mail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "op_mail.h"

static const char *const outcomes[] = {
    [MAIL_ACTED] = "acted",
    [MAIL_NOTED] = "noted",
    [MAIL_MADE] = "made",
    [MAIL_REFUSED] = "refused",
    [MAIL_UNKNOWN] = "unknown",
    [MAIL_IGNORED] = "ignored",
};

enum proto_err
op_mail_reply(struct req *r, enum mail_outcome o, const char *reason,
    int64_t id, json_t *answers)
{
	r->reply = json_pack("{s:b,s:s,s:s?,s:O}", "ok", 1, "outcome",
	    outcomes[o], "reason", reason, "answers", answers);
	if (r->reply != NULL && id > 0)
		json_object_set_new(r->reply, "promise", json_integer(id));
	return r->reply != NULL ? PROTO_OK : PROTO_INTERNAL;
}

int
op_mail_answer(struct req *r, const struct inmail *m, const char *login,
    int64_t id, const char *text, json_t *attachments, json_t *answers)
{
	json_t *base;
	int rc;

	base = json_pack("{s:s,s:I,s:{s:s,s:s,s:s?,s:s?}}", "event",
	    event_type_name(EVENT_REPLY), "occurred_at", (json_int_t)r->now,
	    "reply", "subject", m->subject[0] != '\0' ? m->subject : "promised",
	    "text", text, "in_reply_to", m->parent[0] ? m->parent : NULL,
	    "references", m->references);
	if (base == NULL)
		return -ENOMEM;
	if (id > 0 &&
	    json_object_set_new(base, "promise",
	        json_pack("{s:I}", "id", (json_int_t)id)) < 0) {
		json_decref(base);
		return -ENOMEM;
	}
	if (attachments != NULL &&
	    json_object_set(base, "attachments", attachments) < 0) {
		json_decref(base);
		return -ENOMEM;
	}
	rc = deliver_reply(r->ctx->dl, login, base, answers);
	json_decref(base);
	return rc;
}

enum proto_err
op_mail_act(struct req *r, const char *login, json_t *body,
    enum proto_err (*fn)(struct req *), json_t **ret_reply, char *err,
    size_t errlen)
{
	struct op_caller who = {
	    login, (uid_t)-1, conf_is_admin(r->ctx->conf, login), "email"};
	struct delivery **mark = deliver_mark(r->ctx->dl);
	struct req sub;
	enum proto_err e;
	int rc;

	*ret_reply = NULL;
	memset(&sub, 0, sizeof(sub));
	sub.ctx = r->ctx;
	sub.ss = r->ss;
	sub.who = &who;
	sub.body = body;
	sub.len = r->len;
	sub.now = r->now;
	if ((rc = store_savepoint(r->ctx->st)) < 0) {
		e = op_store_failed(&sub, rc);
		goto out;
	}
	e = fn(&sub);
	if (e == PROTO_OK && (rc = store_release(r->ctx->st)) < 0)
		e = op_store_failed(&sub, rc);
	if (e != PROTO_OK) {
		store_rollback_savepoint(r->ctx->st);
		deliver_unwind(r->ctx->dl, mark);
		goto out;
	}
	r->change = sub.change;
	r->change2 = sub.change2;
	memcpy(r->note, sub.note, sizeof(r->note));
	if (sub.reply != NULL)
		*ret_reply = json_incref(sub.reply);
	else if (sub.text.s != NULL) {
		/* a reply written as text lacks its closing brace */
		jw_lit(&sub.text, "}");
		*ret_reply = sub.text.oom
		    ? NULL
		    : json_loadb(sub.text.s, sub.text.len, 0, NULL);
	}
out:
	if (e != PROTO_OK)
		snprintf(err, errlen, "%s",
		    sub.err[0] ? sub.err : proto_err_code(e));
	json_decref(sub.reply);
	free(sub.text.s);
	return e;
}
