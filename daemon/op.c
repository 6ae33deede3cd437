/* SPDX-License-Identifier: MIT */
/*
 * op.c: one request through its operation (op_dispatch): the table of
 * operations, the savepoint around a change, the schedule changed once it
 * is in, and a refusal recorded.  The operations are in op_promise.c (a
 * promise's life), op_import.c, op_read.c (what is known and what will
 * happen), op_admin.c (the service and its outbox) and op_token.c (the
 * secrets that stand for a person); what they share is in op_common.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "op_impl.h"
#include "util.h"

/* one refused event per stranger and promise in this many seconds */
#define REFUSAL_WINDOW (24 * 3600)

bool
op_is_admin(const struct conf *c, const char *login, uid_t uid)
{
	return uid == 0 || conf_is_admin(c, login);
}

static const struct op {
	const char *name;
	bool write;
	enum proto_err (*fn)(struct req *r);
} ops[] = {
    {"add", true, op_add},
    {"get", false, op_get},
    {"list", false, op_list},
    {"done", true, op_done},
    {"snooze", true, op_snooze},
    {"cancel", true, op_cancel},
    {"status", false, op_status},
    {"ack", true, op_ack},
    {"deliveries", false, op_deliveries},
    {"retry", true, op_retry},
    {"backup", false, op_backup},
    {"metrics", false, op_metrics},
    {"report", false, op_report},
    {"explain", false, op_explain},
    {"import", true, op_import},
    {"export", false, op_export},
    {"sample", false, op_sample},
    {"digest", false, op_digest},
    {"mail", true, op_mail},
    {"token_create", true, op_token_create},
    {"token_list", false, op_token_list},
    {"token_revoke", true, op_token_revoke},
    {"signin", true, op_signin},
};

static void
apply_change(struct op_ctx *ctx, const struct sched_change *ch)
{
	if (ch->what == CHANGE_ARM) {
		if (sched_arm(ctx->s, &ch->p) < 0)
			log_warnx("promise %" PRId64 ": out of memory "
			          "scheduling it; it is kept in the database "
			          "and scheduled at the next start",
			    ch->p.id);
	} else if (ch->what == CHANGE_CANCEL)
		sched_cancel(ctx->s, ch->p.id);
}

/* a refused action leaves its trace in the promise's history, and
 * changes nothing else; a stranger's repeats count in one event a day,
 * so refusals are no channel to write into someone's history */
static void
record_refusal(struct req *r, const char *op)
{
	int rc = store_savepoint(r->ctx->st);

	if (rc == 0) {
		rc = store_refusal(r->ctx->st, r->refused, r->now,
		    r->who->login, op, REFUSAL_WINDOW);
		if (rc == 0)
			rc = store_release(r->ctx->st);
		else
			store_rollback_savepoint(r->ctx->st);
	}
	if (rc < 0)
		log_warnx("promise %" PRId64 ": cannot record a refusal of "
		          "'%s': %s",
		    r->refused, r->who->login, store_errmsg(r->ctx->st));
}

/* the operation op names, or NULL with the error in r->err */
static const struct op *
find_op(struct req *r, const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i].name, name) == 0)
			return &ops[i];
	/* echo a name only whole: a cut one may split a character */
	if (strlen(name) <= 64)
		snprintf(r->err, sizeof(r->err), "field 'op': unknown op '%s'",
		    name);
	else
		snprintf(r->err, sizeof(r->err), "field 'op': unknown op");
	return NULL;
}

/* runs op on r, a change inside a savepoint of its own */
static enum proto_err
run_op(struct req *r, const struct op *op)
{
	enum proto_err e;
	int rc;

	if (op->write && (rc = store_savepoint(r->ctx->st)) < 0)
		return op_store_failed(r, rc);
	e = op->fn(r);
	if (!op->write)
		return e;
	if (e == PROTO_OK && (rc = store_release(r->ctx->st)) < 0)
		e = op_store_failed(r, rc);
	if (e != PROTO_OK) {
		store_rollback_savepoint(r->ctx->st);
	} else {
		apply_change(r->ctx, &r->change);
		apply_change(r->ctx, &r->change2);
		if (r->note[0] != '\0')
			log_info("%s", r->note);
	}
	return e;
}

void
op_dispatch(struct op_ctx *ctx, struct op_session *ss,
    const struct op_caller *who, const char *line, size_t len,
    struct op_reply *rp)
{
	struct req r;
	const struct op *op = NULL;
	const char *name;
	enum proto_err e;

	memset(&r, 0, sizeof(r));
	memset(rp, 0, sizeof(*rp));
	r.ctx = ctx;
	r.ss = ss;
	r.who = who;
	r.len = len;
	r.now = util_now();
	e = proto_parse_request(
	    line, len, &r.body, &name, r.err, sizeof(r.err));
	if (e != PROTO_OK)
		goto out;
	rp->tag = json_incref(json_object_get(r.body, "tag"));
	if ((op = find_op(&r, name)) == NULL) {
		e = PROTO_INVALID;
		goto out;
	}
	e = run_op(&r, op);
	if (r.refused > 0)
		record_refusal(&r, name);
out:
	if (e != PROTO_OK) {
		json_decref(r.reply);
		r.reply = proto_error(e, r.err);
		free(r.text.s);
		r.text.s = NULL;
		r.pending = false;
	}
	rp->json = r.reply;
	rp->text = r.text;
	rp->write = op != NULL && op->write && e == PROTO_OK;
	rp->pending = r.pending;
	json_decref(r.body);
}

void
op_reply_clear(struct op_reply *rp)
{
	json_decref(rp->json);
	rp->json = NULL;
	free(rp->text.s);
	rp->text.s = NULL;
	rp->text.len = rp->text.cap = 0;
	json_decref(rp->tag);
	rp->tag = NULL;
}
