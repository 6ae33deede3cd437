/* SPDX-License-Identifier: MIT */
/*
 * op_impl.h: what the operations' files share, and no front end sees: the
 * request being run, who may act on what, and the helpers more than one
 * group of operations uses.  Each operation reads r->body, fills r->reply
 * (or r->text) or r->err, and returns the reply's error code.
 */
#ifndef PROMISED_OP_IMPL_H
#define PROMISED_OP_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "jsonw.h"
#include "op.h"
#include "proto.h"

/* what a request changes in the schedule, applied once its savepoint is
 * released */
struct sched_change {
	enum { CHANGE_NONE, CHANGE_ARM, CHANGE_CANCEL } what;
	struct promise_rec p; /* scheduling fields only */
};

struct req {
	struct op_ctx *ctx;
	struct op_session *ss;
	const struct op_caller *who;
	json_t *body;
	size_t len; /* of the request line */
	json_t *reply;
	struct jsonw text; /* or the reply as text, without its closing } */
	int64_t now;
	struct sched_change change, change2; /* done --then: two promises */
	bool pending;    /* a backup started: the reply comes when it is done */
	int64_t refused; /* a promise the caller was refused */
	char err[512];
	/* what the change was, for the log once it is in the batch: ops
	 * answer "did it happen?" from the journal */
	char note[256];
};

/* a promise read from the store: as JSON, and what the caller needs of it */
struct json_cb {
	json_t *val;
	int64_t now;
	struct promise_rec rec; /* scheduling fields of the last row seen */
	char owner[72];         /* and its owner */
	char for_whom[PROTO_MAX_FOR + 1]; /* and customer ("": none) */
	const struct req *filter; /* list: only what this caller may see */
	int64_t limit, n;
};

/* ---- who may do what ------------------------------------------------------
 */

static inline bool
is_admin(const struct req *r)
{
	return r->who->admin;
}

/* a promise is acted on by its owner, the managers above the owner, and
 * admins */
static inline bool
may_act(const struct req *r, const char *owner)
{
	return strcmp(owner, r->who->login) == 0 || is_admin(r) ||
	    conf_manages(r->ctx->conf, r->who->login, owner);
}

/*
 * Refuses the request; the refusal is recorded in the promise's history
 * once the request's own changes are undone.  Someone who may not act on
 * a promise learns nothing of it, not even that it exists or whose it is:
 * the answer is the one for an id never used.
 */
enum proto_err op_refuse(struct req *r, int64_t id);

/* ---- shared helpers (op_common.c unless said) ---------------------------- */

/* a PROMISE object as text, the one encoding of it */
void op_promise_text(struct jsonw *b, const struct promise_rec *p, int64_t now);
/* the same parsed; NULL without memory */
json_t *op_promise_json(const struct promise_rec *p, int64_t now);
/* store_get's callback: the row into the struct json_cb arg */
void op_get_cb(void *arg, const struct promise_rec *p);
/* store_events' callback: appends the event to the json array arg */
void op_event_cb(void *arg, const struct event_rec *e);
/* the error for a failed store call's rc, into r->err */
enum proto_err op_store_failed(struct req *r, int rc);
/* appends what the caller did to promise id's history: store_event with
 * detail (JSON object text or NULL) and the caller's "via", if any */
int op_event(struct req *r, int64_t id, const char *what, const char *detail);
/* the request's "id", a positive integer */
enum proto_err op_get_id(struct req *r, int64_t *id);
/* a text field: valid UTF-8, no control characters (but newlines when
 * multiline), nothing invisible, not blank when required */
enum proto_err op_get_text(struct req *r, const char *field, bool required,
    size_t max, bool multiline, const char **ret);

/* the promise the request's "id" names, if the caller may see it */
enum proto_err op_load_visible(struct req *r, int64_t *id, struct json_cb *j);

/* op_promise.c: a new promise as add takes it, read, owned and resolved,
 * then written with its "created" event; the change arms it */
enum proto_err op_read_new(struct req *r, json_t *obj, struct promise_rec *p);
enum proto_err op_check_owner(struct req *r, struct promise_rec *p);
enum proto_err op_resolve_new(
    struct req *r, json_t *obj, struct promise_rec *p);
enum proto_err op_create(struct req *r, struct promise_rec *p, int64_t follows,
    struct sched_change *change);
/* op_read.c: what open promise p will fire, and when; NULL without
 * memory */
json_t *op_plan(struct req *r, const struct promise_rec *p);
/* op_admin.c: a delivery as JSON into the json array arg */
int op_deliveries_cb(void *arg, const struct delivery_rec *d);
/* op_admin.c: each delivery of arr gets its "short" id */
int op_add_short_ids(struct req *r, json_t *arr);

/* ---- the operations ------------------------------------------------------ */

enum proto_err op_add(struct req *r);
enum proto_err op_get(struct req *r);
enum proto_err op_list(struct req *r);
enum proto_err op_done(struct req *r);
enum proto_err op_snooze(struct req *r);
enum proto_err op_cancel(struct req *r);
enum proto_err op_ack(struct req *r);
enum proto_err op_import(struct req *r);
enum proto_err op_explain(struct req *r);
enum proto_err op_export(struct req *r);
enum proto_err op_report(struct req *r);
enum proto_err op_sample(struct req *r);
enum proto_err op_digest(struct req *r);
enum proto_err op_status(struct req *r);
enum proto_err op_deliveries(struct req *r);
enum proto_err op_retry(struct req *r);
enum proto_err op_backup(struct req *r);
enum proto_err op_metrics(struct req *r);
/* op_mail.c */
enum proto_err op_mail(struct req *r);
/* op_token.c */
enum proto_err op_token_create(struct req *r);
enum proto_err op_token_list(struct req *r);
enum proto_err op_token_revoke(struct req *r);
enum proto_err op_signin(struct req *r);

#endif
