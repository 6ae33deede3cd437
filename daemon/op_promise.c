/* SPDX-License-Identifier: MIT */
/*
 * op_promise.c: a promise's life: add, get, list, done (with its
 * follow-up), cancel, snooze and ack.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ics.h"
#include "log.h"
#include "msglinks.h"
#include "op_impl.h"
#include "timefmt.h"
#include "util.h"

/* looks up an open promise's current row into j; maps absence and
 * settled state to errors */
static enum proto_err
load_open(struct req *r, int64_t id, struct json_cb *j)
{
	int rc;

	memset(j, 0, sizeof(*j));
	j->now = r->now;
	rc = store_get(r->ctx->st, id, op_get_cb, j);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no promise %" PRId64, id);
		return PROTO_NOT_FOUND;
	}
	if (rc < 0)
		return op_store_failed(r, rc);
	json_decref(j->val);
	j->val = NULL;
	if (!may_act(r, j->owner))
		return op_refuse(r, id);
	if (j->rec.state != PSTATE_OPEN) {
		snprintf(r->err, sizeof(r->err),
		    "promise %" PRId64 " is already %s", id,
		    pstate_name(j->rec.state));
		return PROTO_CONFLICT;
	}
	return PROTO_OK;
}

/* replies {"ok":true,"promise":...} with the promise as stored now */
static enum proto_err
reply_promise(struct req *r, int64_t id)
{
	struct json_cb j = {.now = r->now};
	int rc = store_get(r->ctx->st, id, op_get_cb, &j);

	if (rc < 0)
		return op_store_failed(r, rc);
	if (j.val == NULL)
		return PROTO_INTERNAL;
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "promise", j.val);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* a due time must be ahead, and not absurdly far */
static enum proto_err
check_due(struct req *r, int64_t due)
{
	if (due <= r->now) {
		snprintf(r->err, sizeof(r->err),
		    "field 'due_at': %" PRId64 " is in the past", due);
		return PROTO_INVALID;
	}
	if (due > r->now + PROTO_MAX_AHEAD) {
		snprintf(r->err, sizeof(r->err),
		    "field 'due_at': more than 10 years ahead");
		return PROTO_INVALID;
	}
	return PROTO_OK;
}

static enum proto_err
get_nudge(struct req *r, struct promise_rec *p)
{
	json_t *v = json_object_get(r->body, "nudge"), *x;
	int64_t tmp[PROTO_MAX_NUDGES], t;
	size_t i, j, n = 0;

	if (v == NULL || json_is_null(v)) {
		memcpy(p->nudge, r->ctx->conf->nudge_before, sizeof(p->nudge));
		p->n_nudge = r->ctx->conf->n_nudge_before;
		return PROTO_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > PROTO_MAX_NUDGES) {
		snprintf(r->err, sizeof(r->err),
		    "field 'nudge': must be an array of at most %d integers",
		    PROTO_MAX_NUDGES);
		return PROTO_INVALID;
	}
	json_array_foreach(v, i, x) {
		if (!json_is_integer(x) || json_integer_value(x) < 1 ||
		    json_integer_value(x) > 366 * 86400) {
			snprintf(r->err, sizeof(r->err),
			    "field 'nudge': item %zu must be seconds from 1 "
			    "to 366 days",
			    i);
			return PROTO_INVALID;
		}
		t = (int64_t)json_integer_value(x);
		/* keep them descending and distinct, as the schedule needs */
		for (j = n; j > 0 && tmp[j - 1] < t; j--)
			tmp[j] = tmp[j - 1];
		if (j > 0 && tmp[j - 1] == t) {
			memmove(&tmp[j], &tmp[j + 1], (n - j) * sizeof(*tmp));
			continue;
		}
		tmp[j] = t;
		n++;
	}
	memcpy(p->nudge, tmp, n * sizeof(*tmp));
	p->n_nudge = n;
	return PROTO_OK;
}

/*
 * Moves nudges that would land outside the owner's business hours earlier,
 * to the last business moment before, so they come while the owner can
 * still act: p->nudge becomes the lead times in force, p->asked keeps what
 * was asked for if any moved.  Only for owners who keep business hours.
 */
static void
shift_nudges(struct req *r, struct promise_rec *p)
{
	int64_t asked[PROTO_MAX_NUDGES], t, at, lead;
	size_t i, j, n = p->shifted ? p->n_asked : p->n_nudge;

	memcpy(asked, p->shifted ? p->asked : p->nudge, sizeof(asked));
	p->shifted = false;
	p->n_asked = 0;
	p->n_nudge = 0;
	for (i = 0; i < n; i++) {
		lead = asked[i];
		t = p->due_at - lead;
		if (t > r->now && conf_keeps_hours(r->ctx->conf, p->owner) &&
		    (at = conf_business_before(r->ctx->conf, p->owner, t)) >=
		        0 &&
		    at < t && at > r->now) {
			lead = p->due_at - at;
			p->shifted = true;
		}
		/* descending and distinct, as the schedule needs: two leads
		 * may land on the same business moment */
		for (j = p->n_nudge; j > 0 && p->nudge[j - 1] < lead; j--)
			;
		if (j > 0 && p->nudge[j - 1] == lead)
			continue;
		memmove(&p->nudge[j + 1], &p->nudge[j],
		    (p->n_nudge - j) * sizeof(*p->nudge));
		p->nudge[j] = lead;
		p->n_nudge++;
	}
	if (p->shifted) {
		memcpy(p->asked, asked, sizeof(asked));
		p->n_asked = n;
	}
}

/* when p is due: due_at if obj gives it, else its "due" text, else its
 * kind's; all in the owner's calendar and zone */
static enum proto_err
resolve_due(
    struct req *r, json_t *obj, const struct kind *k, struct promise_rec *p)
{
	const char *text = NULL, *why = NULL;
	enum proto_err e;
	int rc;

	if (json_object_get(obj, "due_at") != NULL)
		e = proto_get_int(
		    obj, "due_at", true, &p->due_at, r->err, sizeof(r->err));
	else if ((e = proto_get_str(obj, "due", false, 200, &text, r->err,
	              sizeof(r->err))) != PROTO_OK)
		return e;
	else if (text != NULL || k != NULL) {
		rc = text != NULL ? conf_when(r->ctx->conf, p->owner, text,
		                        r->now, &p->due_at, &why)
		                  : conf_kind_due(r->ctx->conf, k, p->owner,
		                        r->now, &p->due_at, &why);
		if (rc < 0) {
			snprintf(r->err, sizeof(r->err), "field '%s': %s",
			    text != NULL ? "due" : "kind",
			    why != NULL ? why : "cannot be worked out");
			return rc == -ENOMEM ? PROTO_INTERNAL : PROTO_INVALID;
		}
	} else {
		snprintf(r->err, sizeof(r->err),
		    "field 'due_at': required (or 'due', or a 'kind' with a "
		    "due)");
		return PROTO_INVALID;
	}
	return e != PROTO_OK ? e : check_due(r, p->due_at);
}

/*
 * Works out what p (read by read_new, owner set) takes from its kind, the
 * policy and the owner's calendar: the deadline, nudges, escalation.
 */
enum proto_err
op_resolve_new(struct req *r, json_t *obj, struct promise_rec *p)
{
	const struct conf *c = r->ctx->conf;
	const struct kind *k = NULL;
	enum proto_err e;

	if (p->kind != NULL && (k = conf_kind(c, p->kind)) == NULL) {
		snprintf(r->err, sizeof(r->err),
		    "field 'kind': no kind '%.64s' in the configuration",
		    p->kind);
		return PROTO_INVALID;
	}
	if ((e = resolve_due(r, obj, k, p)) != PROTO_OK)
		return e;
	if (k != NULL && k->has_nudge &&
	    json_object_get(obj, "nudge") == NULL) {
		memcpy(p->nudge, k->nudge, sizeof(p->nudge));
		p->n_nudge = k->n_nudge;
	}
	p->escalate_after = k != NULL && k->has_escalate_after
	    ? k->escalate_after
	    : c->escalate_after;
	p->escalation_repeat = k != NULL && k->has_escalation_repeat
	    ? k->escalation_repeat
	    : c->escalation_repeat;
	shift_nudges(r, p);
	return PROTO_OK;
}

/*
 * Reads a new promise's fields from obj (the request itself, or done's
 * "then") into p; owner is left NULL unless obj names one, and the
 * deadline for resolve_new.  Strings are borrowed from obj.
 */
enum proto_err
op_read_new(struct req *r, json_t *obj, struct promise_rec *p)
{
	json_t *body = r->body;
	enum proto_err e;

	memset(p, 0, sizeof(*p));
	/* the getters read r->body */
	r->body = obj;
	if ((e = op_get_text(r, "title", true, PROTO_MAX_TITLE, false,
	         &p->title)) != PROTO_OK ||
	    (e = proto_get_str(obj, "kind", false, CONF_KIND_NAME_MAX, &p->kind,
	         r->err, sizeof(r->err))) != PROTO_OK ||
	    (e = op_get_text(r, "for", false, PROTO_MAX_FOR, false,
	         &p->for_whom)) != PROTO_OK ||
	    (e = op_get_text(r, "note", false, PROTO_MAX_NOTE, true,
	         &p->note)) != PROTO_OK ||
	    (e = proto_get_str(obj, "owner", false, 64, &p->owner, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = get_nudge(r, p)) != PROTO_OK)
		goto out;
out:
	r->body = body;
	return e;
}

/* writes p (owner checked) as a new promise, following promise follows
 * if not 0; sets p->id and schedules it with change */
enum proto_err
op_create(struct req *r, struct promise_rec *p, int64_t follows,
    struct sched_change *change)
{
	char detail[96];
	int64_t id;
	int rc;

	p->created_at = r->now;
	p->created_by = r->who->login;
	p->stage = sched_first_stage(p, r->now);
	p->state = PSTATE_OPEN;
	if ((rc = store_add(r->ctx->st, p, &id)) < 0)
		return op_store_failed(r, rc);
	p->id = id;
	if (follows > 0)
		snprintf(detail, sizeof(detail),
		    "{\"due_at\":%" PRId64 ",\"follows\":%" PRId64 "}",
		    p->due_at, follows);
	else
		snprintf(detail, sizeof(detail), "{\"due_at\":%" PRId64 "}",
		    p->due_at);
	if ((rc = op_event(r, id, "created", detail)) < 0)
		return op_store_failed(r, rc);
	change->what = CHANGE_ARM;
	change->p = *p;
	return PROTO_OK;
}

/* the owner of new promise p: the caller unless named; naming another
 * is for their managers and admins */
enum proto_err
op_check_owner(struct req *r, struct promise_rec *p)
{
	if (p->owner == NULL) {
		p->owner = r->who->login;
		return PROTO_OK;
	}
	if (!util_login_ok(p->owner)) {
		snprintf(r->err, sizeof(r->err),
		    "field 'owner': '%s' is not a login name", p->owner);
		return PROTO_INVALID;
	}
	if (strcmp(p->owner, r->who->login) != 0 && !is_admin(r) &&
	    !conf_manages(r->ctx->conf, r->who->login, p->owner)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not add promises for '%s': only their managers "
		    "and admins may",
		    r->who->login, p->owner);
		log_warnx("client %s: refused adding a promise for '%s'",
		    r->who->login, p->owner);
		return PROTO_FORBIDDEN;
	}
	return PROTO_OK;
}

/* what add would make of p, and its schedule, with nothing written */
static enum proto_err
dry_run(struct req *r, struct promise_rec *p)
{
	json_t *sched;

	p->created_at = r->now;
	p->created_by = r->who->login;
	p->state = PSTATE_OPEN;
	p->stage = sched_first_stage(p, r->now);
	if ((sched = op_plan(r, p)) == NULL)
		return PROTO_INTERNAL;
	r->reply = json_pack("{s:b,s:b,s:o,s:o}", "ok", 1, "dry_run", 1,
	    "promise", op_promise_json(p, r->now), "schedule", sched);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

enum proto_err
op_add(struct req *r)
{
	struct promise_rec p;
	char due[32];
	bool dry = false;
	enum proto_err e;

	if ((e = op_read_new(r, r->body, &p)) != PROTO_OK ||
	    (e = op_check_owner(r, &p)) != PROTO_OK ||
	    (e = op_resolve_new(r, r->body, &p)) != PROTO_OK ||
	    (e = proto_get_bool(
	         r->body, "dry_run", &dry, r->err, sizeof(r->err))) != PROTO_OK)
		return e;
	if (dry)
		return dry_run(r, &p);
	if ((e = op_create(r, &p, 0, &r->change)) != PROTO_OK)
		return e;
	timefmt_iso_utc(p.due_at, due, sizeof(due));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": added by '%s' for '%s', due %s", p.id,
	    r->who->login, p.owner, due);
	/* the row just written is p: the reply is made from it, not from a
	 * second read of the row, and as text (see promise_text) */
	jw_lit(&r->text, "{\"ok\":true,\"promise\":");
	op_promise_text(&r->text, &p, r->now);
	return r->text.oom ? PROTO_INTERNAL : PROTO_OK;
}

/* get's "ics": the promise as a calendar entry, its link opening it */
static enum proto_err
add_ics(struct req *r, int64_t id)
{
	json_t *links = msglinks_for(
	    r->ctx->conf, id, r->who->login, EVENT_RESOLVED, r->now);
	char host[256], *text = NULL;
	int rc;

	ics_host(r->ctx->conf->mail.reply_domain, host, sizeof(host));
	rc = ics_promise(json_object_get(r->reply, "promise"), r->now, host,
	    proto_str(links, "open"), &text);
	json_decref(links);
	if (rc < 0 ||
	    json_object_set_new(r->reply, "ics", json_string(text)) < 0) {
		free(text);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	}
	free(text);
	return PROTO_OK;
}

enum proto_err
op_get(struct req *r)
{
	struct json_cb j = {.now = r->now};
	json_t *events, *deliveries, *ics;
	int64_t id;
	enum proto_err e;
	int rc;

	ics = json_object_get(r->body, "ics");
	if (ics != NULL && !json_is_boolean(ics)) {
		snprintf(r->err, sizeof(r->err), "ics must be true or false");
		return PROTO_INVALID;
	}
	if ((e = op_load_visible(r, &id, &j)) != PROTO_OK)
		return e;
	events = json_array();
	deliveries = json_array();
	if ((rc = store_events(r->ctx->st, id, op_event_cb, events)) < 0 ||
	    (rc = store_deliveries(
	         r->ctx->st, id, NULL, 0, op_deliveries_cb, deliveries)) < 0 ||
	    (rc = op_add_short_ids(r, deliveries)) < 0) {
		json_decref(j.val);
		json_decref(events);
		json_decref(deliveries);
		return op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o,s:o,s:o}", "ok", 1, "promise", j.val,
	    "events", events, "deliveries", deliveries);
	if (r->reply == NULL)
		return PROTO_INTERNAL;
	if (json_is_true(ics))
		return add_ics(r, id);
	return PROTO_OK;
}

/* a listing, written as text into b as add's reply is: a tree of each
 * promise, dumped again, was most of what a list cost */
struct list_out {
	struct jsonw *b;
	const struct req *filter; /* only what this caller may see */
	int64_t now, limit, n;
	int64_t skip;  /* the first so many are passed over */
	int64_t total; /* all that matched, shown or not */
};

static void
list_cb(void *arg, const struct promise_rec *p)
{
	struct list_out *j = arg;

	if (j->filter != NULL && !may_act(j->filter, p->owner))
		return;
	if (j->total++ < j->skip || (j->limit > 0 && j->n >= j->limit))
		return;
	if (j->n++ > 0)
		jw_put(j->b, ",", 1);
	op_promise_text(j->b, p, j->now);
}

/* what separates the words of a search */
#define FTS_BLANKS " \t\n\r\v\f"

/*
 * Appends to b an FTS5 query for every word of text as a prefix, within
 * column col if not NULL.  Each word is a quoted string, so nothing a
 * person types is query syntax.  -EINVAL if text has no word.
 */
static int
fts_words(struct jsonw *b, const char *col, const char *text)
{
	const char *w, *q;
	size_t n;
	int words = 0;

	if (b->len > 0)
		jw_lit(b, " AND ");
	if (col != NULL) {
		jw_lit(b, col);
		jw_lit(b, " : ");
	}
	jw_put(b, "(", 1);
	for (w = text; *w != '\0'; w += n) {
		w += strspn(w, FTS_BLANKS);
		if ((n = strcspn(w, FTS_BLANKS)) == 0)
			break;
		jw_lit(b, words++ ? " AND \"" : "\"");
		for (q = w; q < w + n; q++) {
			jw_put(b, q, 1);
			if (*q == '"')
				jw_put(b, "\"", 1); /* "" inside a string */
		}
		jw_lit(b, "\"*");
	}
	jw_put(b, ")", 1);
	return words > 0 ? 0 : -EINVAL;
}

enum proto_err
op_list(struct req *r)
{
	struct list_out j = {.b = &r->text, .now = r->now};
	struct jsonw match = {NULL, 0, 0, false};
	const char *state = "open", *owner = NULL, *for_text = NULL,
	           *grep = NULL;
	int64_t limit = 0, offset = 0;
	const json_t *total = json_object_get(r->body, "total");
	enum store_filter f;
	enum proto_err e;
	int rc;

	if (total != NULL && !json_is_boolean(total)) {
		snprintf(r->err, sizeof(r->err),
		    "field 'total': must be true or false");
		return PROTO_INVALID;
	}
	if ((e = proto_get_str(r->body, "state", false, 16, &state, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "owner", false, 64, &owner, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_int(r->body, "limit", false, &limit, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_int(r->body, "offset", false, &offset, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = op_get_text(r, "for", false, PROTO_MAX_FOR, false,
	         &for_text)) != PROTO_OK ||
	    (e = op_get_text(r, "grep", false, PROTO_MAX_FOR, false, &grep)) !=
	        PROTO_OK)
		return e;
	f = store_filter_from_string(state);
	if (f == SFILTER_INVALID) {
		snprintf(r->err, sizeof(r->err),
		    "field 'state': '%s' is not one of open, overdue, kept, "
		    "cancelled, all",
		    state);
		return PROTO_INVALID;
	}
	if (limit < 0) {
		snprintf(r->err, sizeof(r->err), "field 'limit': is negative");
		return PROTO_INVALID;
	}
	if (offset < 0) {
		snprintf(r->err, sizeof(r->err), "field 'offset': is negative");
		return PROTO_INVALID;
	}
	if (owner != NULL && !may_act(r, owner)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not list the promises of '%s': only they, their "
		    "managers and admins may",
		    r->who->login, owner);
		return PROTO_FORBIDDEN;
	}
	/* without admin rights, one's own and one's reports' only: the
	 * limit then counts what is shown.  Passing over and counting are
	 * done here too, so the store reads only what an admin's page
	 * needs, or all that matches when the total is asked. */
	j.skip = offset;
	j.limit = limit;
	if (!is_admin(r))
		j.filter = r;
	if (j.filter != NULL || json_is_true(total) ||
	    limit > INT64_MAX - offset)
		limit = 0;
	else if (limit > 0)
		limit += offset;
	/* the index follows the adds: bring it up to date for this search */
	if ((for_text != NULL || grep != NULL) &&
	    (rc = store_fts_index(r->ctx->st, 0)) < 0)
		return op_store_failed(r, rc);
	/* words are what fts_words splits on, so a field of blanks of any
	 * kind is told apart before it becomes an empty query */
	if ((for_text != NULL &&
	        fts_words(&match, "for_whom", for_text) == -EINVAL) ||
	    (grep != NULL && fts_words(&match, NULL, grep) == -EINVAL)) {
		snprintf(r->err, sizeof(r->err), "field '%s': has no words",
		    for_text != NULL &&
		            for_text[strspn(for_text, FTS_BLANKS)] == '\0'
		        ? "for"
		        : "grep");
		free(match.s);
		return PROTO_INVALID;
	}
	if (match.oom) {
		free(match.s);
		return PROTO_INTERNAL;
	}
	jw_lit(&r->text, "{\"ok\":true,\"promises\":[");
	rc = store_list(
	    r->ctx->st, f, owner, match.s, r->now, limit, list_cb, &j);
	free(match.s);
	if (rc < 0)
		return op_store_failed(r, rc);
	jw_put(&r->text, "]", 1);
	if (json_is_true(total))
		jw_printf(&r->text, ",\"total\":%" PRId64, j.total);
	return r->text.oom ? PROTO_INTERNAL : PROTO_OK;
}

struct resolve {
	struct req *r;
	int rc;
};

static void
resolve_cb(void *arg, const struct promise_rec *p)
{
	struct resolve *rs = arg;
	json_t *out = json_array(), *detail = NULL;
	char *text = NULL;

	if (out == NULL) {
		rs->rc = -ENOMEM;
		return;
	}
	rs->rc = deliver_resolved(rs->r->ctx->dl, p, rs->r->now, out);
	if (rs->rc < 0 || json_array_size(out) == 0)
		goto out;
	detail = json_pack("{s:O}", "deliveries", out);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	rs->rc = text == NULL ? -ENOMEM
	                      : store_event(rs->r->ctx->st, p->id, rs->r->now,
	                            "promised", "resolved", text);
out:
	free(text);
	json_decref(detail);
	json_decref(out);
}

/* tells everyone who was told of a settled promise's escalation */
static int
resolve(struct req *r, int64_t id)
{
	struct resolve rs = {.r = r};
	int rc = store_get(r->ctx->st, id, resolve_cb, &rs);

	return rc < 0 ? rc : rs.rc;
}

/* done and cancel: settle an open promise and record why */
/* says where a bad field was: in the follow-up */
static void
then_error(struct req *r)
{
	char where[sizeof(r->err) + 8];

	/* messages are far shorter than err, so nothing is cut */
	snprintf(where, sizeof(where), "then: %s", r->err);
	util_strlcpy(r->err, where, sizeof(r->err));
}

/*
 * Settles promise "id" as to, with the reason the request gives.  done may
 * carry "then", a follow-up promise for the same owner and customer, made
 * in the same step and linked both ways in history; cancel may carry
 * "told_customer", whether the customer was told.
 */
static enum proto_err
settle(struct req *r, enum promise_state to, const char *reason_field,
    bool reason_required, size_t max)
{
	struct json_cb j;
	struct promise_rec next;
	const char *why = NULL;
	json_t *detail = NULL, *then = json_object_get(r->body, "then");
	char *text = NULL;
	int64_t id;
	bool told = false;
	enum proto_err e;
	int rc;

	if ((e = op_get_id(r, &id)) != PROTO_OK ||
	    (e = op_get_text(r, reason_field, reason_required, max, true,
	         &why)) != PROTO_OK)
		return e;
	if (to == PSTATE_CANCELLED &&
	    (e = proto_get_bool(r->body, "told_customer", &told, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (then != NULL && (to != PSTATE_KEPT || !json_is_object(then))) {
		snprintf(r->err, sizeof(r->err), "field 'then': %s",
		    to == PSTATE_KEPT ? "must be an object (the follow-up)"
		                      : "only done opens a follow-up");
		return PROTO_INVALID;
	}
	if (then != NULL && (e = op_read_new(r, then, &next)) != PROTO_OK) {
		then_error(r);
		return e;
	}
	if ((e = load_open(r, id, &j)) != PROTO_OK)
		return e;
	if (then != NULL) {
		/* the follow-up is the same owner's, for the same customer
		 * unless it says otherwise */
		next.owner = j.owner;
		if (next.for_whom == NULL && j.for_whom[0] != '\0')
			next.for_whom = j.for_whom;
		if ((e = op_resolve_new(r, then, &next)) != PROTO_OK) {
			then_error(r);
			return e;
		}
		if ((e = op_create(r, &next, id, &r->change2)) != PROTO_OK)
			return e;
		/* they point into j, gone when the change is applied */
		r->change2.p.owner = r->change2.p.for_whom = NULL;
	}
	if ((rc = store_settle(r->ctx->st, id, to, r->now)) < 0)
		return op_store_failed(r, rc);
	e = PROTO_INTERNAL;
	if ((detail = json_pack("{s:s?}", reason_field, why)) == NULL)
		goto out;
	if (to == PSTATE_KEPT &&
	    json_object_set_new(detail, "late_by",
	        json_integer(
	            r->now > j.rec.due_at ? r->now - j.rec.due_at : 0)) < 0)
		goto out;
	if (then != NULL &&
	    json_object_set_new(detail, "then", json_integer(next.id)) < 0)
		goto out;
	if (to == PSTATE_CANCELLED &&
	    json_object_set_new(detail, "told_customer", json_boolean(told)) <
	        0)
		goto out;
	if ((text = json_dumps(detail, JSON_COMPACT)) == NULL)
		goto out;
	rc = op_event(r, id, pstate_name(to), text);
	if (rc < 0 || (rc = resolve(r, id)) < 0) {
		e = op_store_failed(r, rc);
		goto out;
	}
	r->change.what = CHANGE_CANCEL;
	r->change.p.id = id;
	if (then != NULL)
		snprintf(r->note, sizeof(r->note),
		    "promise %" PRId64
		    ": %s by '%s', follow-up promise %" PRId64,
		    id, pstate_name(to), r->who->login, next.id);
	else
		snprintf(r->note, sizeof(r->note),
		    "promise %" PRId64 ": %s by '%s'", id, pstate_name(to),
		    r->who->login);
	if ((e = reply_promise(r, id)) == PROTO_OK && then != NULL &&
	    json_object_set_new(
	        r->reply, "then", op_promise_json(&next, r->now)) < 0)
		e = PROTO_INTERNAL;
out:
	json_decref(detail);
	free(text);
	return e;
}

enum proto_err
op_done(struct req *r)
{
	return settle(r, PSTATE_KEPT, "note", false, PROTO_MAX_NOTE);
}

enum proto_err
op_cancel(struct req *r)
{
	return settle(r, PSTATE_CANCELLED, "reason", true, PROTO_MAX_REASON);
}

enum proto_err
op_snooze(struct req *r)
{
	struct json_cb j;
	const char *reason = NULL;
	json_t *detail;
	char *text, when[32];
	int64_t id, due, old;
	enum proto_err e;
	int rc;

	if ((e = op_get_id(r, &id)) != PROTO_OK ||
	    (e = op_get_text(r, "reason", true, PROTO_MAX_REASON, true,
	         &reason)) != PROTO_OK ||
	    (e = load_open(r, id, &j)) != PROTO_OK)
		return e;
	old = j.rec.due_at;
	/* the new deadline in the owner's calendar; nudges follow it, moved
	 * into business hours afresh from the lead times asked for */
	j.rec.owner = j.owner;
	if ((e = resolve_due(r, r->body, NULL, &j.rec)) != PROTO_OK)
		return e;
	due = j.rec.due_at;
	shift_nudges(r, &j.rec);
	j.rec.owner = NULL;
	j.rec.stage = sched_first_stage(&j.rec, r->now);
	if ((rc = store_snooze(r->ctx->st, &j.rec)) < 0)
		return op_store_failed(r, rc);
	detail = json_pack("{s:I,s:I,s:s}", "from", (json_int_t)old, "to",
	    (json_int_t)due, "reason", reason);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	if (text == NULL)
		return PROTO_INTERNAL;
	rc = op_event(r, id, "snoozed", text);
	free(text);
	if (rc < 0)
		return op_store_failed(r, rc);
	r->change.what = CHANGE_ARM;
	r->change.p = j.rec;
	timefmt_iso_utc(due, when, sizeof(when));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": snoozed by '%s' to %s", id, r->who->login,
	    when);
	return reply_promise(r, id);
}

enum proto_err
op_ack(struct req *r)
{
	struct json_cb j;
	char detail[64], when[32];
	int64_t id, until;
	enum proto_err e;
	int rc;

	if ((e = op_get_id(r, &id)) != PROTO_OK ||
	    (e = load_open(r, id, &j)) != PROTO_OK)
		return e;
	/* the stage is the next to fire: past the first escalation only
	 * once one went out (a snooze starts the schedule again) */
	if (j.rec.stage < (int32_t)j.rec.n_nudge + 2) {
		snprintf(r->err, sizeof(r->err),
		    "promise %" PRId64 " has not been escalated: there is no "
		    "escalation to acknowledge",
		    id);
		return PROTO_CONFLICT;
	}
	until = r->now + j.rec.escalation_repeat;
	snprintf(detail, sizeof(detail), "{\"until\":%" PRId64 "}", until);
	if ((rc = store_ack(r->ctx->st, id, r->who->login, until)) < 0 ||
	    (rc = op_event(r, id, "acked", detail)) < 0)
		return op_store_failed(r, rc);
	if ((e = reply_promise(r, id)) != PROTO_OK)
		return e;
	json_object_set_new(r->reply, "until", json_integer(until));
	timefmt_iso_utc(until, when, sizeof(when));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": escalations acknowledged by '%s' until %s",
	    id, r->who->login, when);
	return PROTO_OK;
}
