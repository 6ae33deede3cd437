/*
 * ctl.c: the control socket server.
 *
 * Each connection reads newline-delimited JSON requests and answers each in
 * order.  Requests run inside the loop's batch transaction, with a
 * savepoint each, a bounded slice of them per user per turn of the
 * loop (conn_work); their replies are held until the loop commits the batch
 * (ctl_after_commit), so "ok" always means committed and one fsync serves
 * every request that arrived in the same iteration.  A bad request costs its
 * sender one error line; the daemon goes on serving everyone else.
 *
 * A backup is the one request answered later than its batch: its reply
 * waits in the queue, pending, while the copy is made a step at a time
 * between batches, and the replies queued behind it wait with it.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "digest.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

/* stop reading from a client owed this much until it reads its replies */
#define OUT_HIGH (1024 * 1024)
#define OUT_LOW (256 * 1024)
#define READ_CHUNK 65536
/* a user's requests in hand are taken up for at most this long per turn
 * of the loop, over all their connections (but one request at least),
 * and everyone's left over from earlier turns for at most TURN_SECONDS: a
 * user sending thousands at once, or asking again and again on many
 * connections, waits their turn instead of holding up everyone else */
#define USER_SLICE 0.01
#define TURN_SECONDS 0.02
/* open files kept for all but clients: the database, its WAL and shared
 * memory, the checkpointer's connection, the delivery log, the listening
 * socket, the loop's own; and two per delivery in flight */
#define FD_RESERVE 32
/* how long accepting pauses when the process is out of descriptors */
#define ACCEPT_PAUSE 0.5
/* pages a backup copies per loop iteration: 4 MiB at SQLite's default
 * page size, a few milliseconds that other clients wait at most */
#define BACKUP_STEP_PAGES 1024
/* one refused event per stranger and promise in this many seconds */
#define REFUSAL_WINDOW (24 * 3600)

struct reply {
	struct reply *next;
	char *line;
	size_t len;
	bool write;   /* a change: replaced by an error if the batch fails */
	bool pending; /* no line yet: the backup is still being written */
	json_t *tag;  /* the request's tag, for that error */
};

/* the backup being written; its reply is held, pending, by the asker */
struct backup {
	struct conn *c;
	struct reply *rp;
	struct store_backup *b;
	char *path;
};

struct conn {
	ev_io rio;
	ev_io wio;
	struct ctl *ctl;
	int fd;
	char login[72];
	uid_t uid;
	struct linebuf in;
	struct reply *rhead, **rtail; /* held for the batch */
	char *out;                    /* ready to write */
	size_t out_len, out_off, out_cap;
	size_t owed; /* bytes held or ready */
	bool reading;
	bool closing; /* close once everything owed is written */
	bool eof;     /* the client sent all it will: close once answered */
	int in_err;   /* an unreadable request after the lines in hand */
	bool dirty;
	ev_tstamp active; /* when its last whole request came in */
	/* an import sent in parts: the promises of each part so far as
	 * compact JSON text (parsed, they would take twenty times the room),
	 * how many, and the size of their requests; no parts when none is
	 * under way */
	char **import;
	size_t import_parts, import_items, import_bytes;
	struct conn *next, **pprev;
	struct conn *dnext;
};

struct ctl {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	const struct conf *conf;
	int fd;
	char *path; /* the socket we created, to unlink */
	ev_io lio;
	ev_timer accept_again; /* after running out of descriptors */
	bool fd_short;         /* logged that, not yet accepted since */
	struct conn *conns;
	size_t n_conns;
	size_t max_conns; /* max_connections, within the open-file limit */
	size_t staged;    /* import_bytes of every connection */
	ev_timer idle;    /* sweeps connections idle past idle_timeout */
	struct conn *dirty;
	int64_t started_at;
	bool shutting_down;
	struct backup *backup;  /* one at a time */
	ev_idle spin;           /* keeps the loop turning while it runs */
	ev_check work;          /* requests left over from the last turn */
	ev_idle work_spin;      /* and the loop turning while any are */
	struct conn *work_next; /* where the next turn's round starts */
	unsigned turn;          /* the loop iteration turn_users is about */
	struct turn_user {
		uid_t uid;
		ev_tstamp spent; /* on the user's requests this turn */
	} * turn_users;
	size_t n_turn_users, cap_turn_users;
	ev_idle fts;        /* indexes new promises when nothing waits */
	ev_timer fts_quiet; /* and only once adds have paused */
	int64_t fts_adds;   /* store_max_id() when last seen */
};

/* what a request changes in the schedule, applied once its savepoint is
 * released */
struct sched_change {
	enum { CHANGE_NONE, CHANGE_ARM, CHANGE_CANCEL } what;
	struct promise_rec p; /* scheduling fields only */
};

struct req {
	struct ctl *ctl;
	struct conn *c;
	json_t *body;
	size_t len; /* of the request line */
	json_t *reply;
	struct jsonw text; /* or the reply as text, without its closing } */
	int64_t now;
	struct sched_change change, change2; /* done --then: two promises */
	struct backup *backup; /* started: the reply comes when it is done */
	int64_t refused;       /* a promise the caller was refused */
	char err[512];
	/* what the change was, for the log once it is in the batch: ops
	 * answer "did it happen?" from the journal */
	char note[256];
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void backup_cancel(struct ctl *ctl, const char *why);

/* ---- who may do what ------------------------------------------------------
 */

static bool
is_admin(const struct req *r)
{
	return r->c->uid == 0 || conf_is_admin(r->ctl->conf, r->c->login);
}

/* a promise is acted on by its owner, the managers above the owner, and
 * admins */
static bool
may_act(const struct req *r, const char *owner)
{
	return strcmp(owner, r->c->login) == 0 || is_admin(r) ||
	    conf_manages(r->ctl->conf, r->c->login, owner);
}

/*
 * Refuses the request; the refusal is recorded in the promise's history
 * once the request's own changes are undone.  Someone who may not act on
 * a promise learns nothing of it, not even that it exists or whose it is:
 * the answer is the one for an id never used.
 */
static enum proto_err
refuse(struct req *r, int64_t id)
{
	snprintf(r->err, sizeof(r->err), "no promise %" PRId64, id);
	r->refused = id;
	return PROTO_NOT_FOUND;
}

/* ---- promises as JSON ---------------------------------------------------- */

/* a PROMISE object is written as text directly, see jsonw.h; everything
 * else that needs one as a json_t parses this text, so there is one
 * encoding */
static void
promise_text(struct jsonw *b, const struct promise_rec *p, int64_t now)
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

static json_t *
promise_json(const struct promise_rec *p, int64_t now)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *o = NULL;

	promise_text(&b, p, now);
	if (!b.oom)
		o = json_loadb(b.s, b.len, 0, NULL);
	free(b.s);
	return o;
}

struct json_cb {
	json_t *val;
	int64_t now;
	struct promise_rec rec; /* scheduling fields of the last row seen */
	char owner[72];         /* and its owner */
	char for_whom[PROTO_MAX_FOR + 1]; /* and customer ("": none) */
	const struct req *filter; /* list: only what this caller may see */
	int64_t limit, n;
};

static void
get_cb(void *arg, const struct promise_rec *p)
{
	struct json_cb *j = arg;

	j->val = promise_json(p, j->now);
	j->rec = *p;
	/* strings are borrowed from the statement: keep none */
	j->rec.title = j->rec.owner = j->rec.for_whom = j->rec.note = NULL;
	j->rec.created_by = j->rec.kind = NULL;
	util_strlcpy(j->owner, p->owner, sizeof(j->owner));
	util_strlcpy(j->for_whom, p->for_whom != NULL ? p->for_whom : "",
	    sizeof(j->for_whom));
}

static void
list_cb(void *arg, const struct promise_rec *p)
{
	struct json_cb *j = arg;

	if (j->filter != NULL && !may_act(j->filter, p->owner))
		return;
	if (j->limit > 0 && j->n >= j->limit)
		return;
	j->n++;
	json_array_append_new(j->val, promise_json(p, j->now));
}

static void
event_cb(void *arg, const struct event_rec *e)
{
	json_array_append_new(arg, event_rec_json(e));
}

static json_t *
delivery_json(const struct delivery_rec *d)
{
	return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s,s:I,s:o,s:s?,s:I,s:o}",
	    "delivery", d->uid, "promise_id",
	    d->promise_id > 0 ? json_integer(d->promise_id) : json_null(),
	    "event", d->kind, "recipient", d->recipient, "channel", d->channel,
	    "state", d->state, "attempts", (json_int_t)d->attempts,
	    "next_attempt_at",
	    strcmp(d->state, "pending") == 0 ? json_integer(d->next_attempt_at)
	                                     : json_null(),
	    "last_error", d->last_error, "created_at",
	    (json_int_t)d->created_at, "sent_at",
	    d->sent_at ? json_integer(d->sent_at) : json_null());
}

/* the fewest hex digits a delivery id is shown with, as git shows ids */
#define DELIVERY_SHORT_MIN 7
/* the fewest a retry may name one by: shorter finds too many to mean one */
#define DELIVERY_PREFIX_MIN 4

/*
 * Sets "short" on delivery d: the shortest prefix of its id that names it
 * alone today, which retry takes in place of the id.
 */
static int
add_short_id(struct req *r, json_t *d)
{
	const char *uid = json_string_value(json_object_get(d, "delivery"));
	size_t n;
	int rc;

	if (uid == NULL)
		return 0;
	if ((rc = store_delivery_short(r->ctl->st, uid, &n)) < 0)
		return rc;
	if (n < DELIVERY_SHORT_MIN)
		n = DELIVERY_SHORT_MIN;
	if (n > strlen(uid))
		n = strlen(uid);
	return json_object_set_new(d, "short", json_stringn(uid, n)) == 0
	    ? 0
	    : -ENOMEM;
}

static int
add_short_ids(struct req *r, json_t *arr)
{
	json_t *d;
	size_t i;
	int rc;

	json_array_foreach(arr, i, d)
	{
		if ((rc = add_short_id(r, d)) < 0)
			return rc;
	}
	return 0;
}

static int
deliveries_cb(void *arg, const struct delivery_rec *d)
{
	json_t *v = delivery_json(d);

	if (v == NULL || json_array_append_new(arg, v) < 0)
		return -ENOMEM;
	return 0;
}

struct seen_deliveries {
	struct req *r;
	json_t *arr;
	int64_t limit, n;
};

static int
seen_deliveries_cb(void *arg, const struct delivery_rec *d)
{
	struct seen_deliveries *sd = arg;

	if (sd->limit > 0 && sd->n >= sd->limit)
		return 1;
	if (d->promise_id == 0) {
		/* a digest: seen by whoever may see its manager's team */
		if (!may_act(sd->r, d->recipient))
			return 0;
	} else if (strcmp(d->recipient, sd->r->c->login) != 0 &&
	    (d->owner == NULL || !may_act(sd->r, d->owner)))
		return 0;
	sd->n++;
	return deliveries_cb(sd->arr, d);
}

/* ---- request handlers ------------------------------------------------------
 */

static enum proto_err
store_failed(struct req *r, int rc)
{
	if (rc == -ENOMEM) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	}
	snprintf(r->err, sizeof(r->err), "database unavailable: %s",
	    store_errmsg(r->ctl->st));
	return PROTO_UNAVAILABLE;
}

/* looks up an open promise's current row into j; maps absence and
 * settled state to errors */
static enum proto_err
load_open(struct req *r, int64_t id, struct json_cb *j)
{
	int rc;

	memset(j, 0, sizeof(*j));
	j->now = r->now;
	rc = store_get(r->ctl->st, id, get_cb, j);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no promise %" PRId64, id);
		return PROTO_NOT_FOUND;
	}
	if (rc < 0)
		return store_failed(r, rc);
	json_decref(j->val);
	j->val = NULL;
	if (!may_act(r, j->owner))
		return refuse(r, id);
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
	int rc = store_get(r->ctl->st, id, get_cb, &j);

	if (rc < 0)
		return store_failed(r, rc);
	if (j.val == NULL)
		return PROTO_INTERNAL;
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "promise", j.val);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static enum proto_err
get_id(struct req *r, int64_t *id)
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
get_text(struct req *r, const char *field, bool required, size_t max,
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

static enum proto_err
get_nudge(struct req *r, struct promise_rec *p)
{
	json_t *v = json_object_get(r->body, "nudge"), *x;
	int64_t tmp[PROTO_MAX_NUDGES], t;
	size_t i, j, n = 0;

	if (v == NULL || json_is_null(v)) {
		memcpy(p->nudge, r->ctl->conf->nudge_before, sizeof(p->nudge));
		p->n_nudge = r->ctl->conf->n_nudge_before;
		return PROTO_OK;
	}
	if (!json_is_array(v) || json_array_size(v) > PROTO_MAX_NUDGES) {
		snprintf(r->err, sizeof(r->err),
		    "field 'nudge': must be an array of at most %d integers",
		    PROTO_MAX_NUDGES);
		return PROTO_INVALID;
	}
	json_array_foreach(v, i, x)
	{
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
		if (t > r->now && conf_keeps_hours(r->ctl->conf, p->owner) &&
		    (at = conf_business_before(r->ctl->conf, p->owner, t)) >=
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
		rc = text != NULL ? conf_when(r->ctl->conf, p->owner, text,
		                        r->now, &p->due_at, &why)
		                  : conf_kind_due(r->ctl->conf, k, p->owner,
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
static enum proto_err
resolve_new(struct req *r, json_t *obj, struct promise_rec *p)
{
	const struct conf *c = r->ctl->conf;
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
static enum proto_err
read_new(struct req *r, json_t *obj, struct promise_rec *p)
{
	json_t *body = r->body;
	enum proto_err e;

	memset(p, 0, sizeof(*p));
	/* the getters read r->body */
	r->body = obj;
	if ((e = get_text(r, "title", true, PROTO_MAX_TITLE, false,
	         &p->title)) != PROTO_OK ||
	    (e = proto_get_str(obj, "kind", false, CONF_KIND_NAME_MAX, &p->kind,
	         r->err, sizeof(r->err))) != PROTO_OK ||
	    (e = get_text(r, "for", false, PROTO_MAX_FOR, false,
	         &p->for_whom)) != PROTO_OK ||
	    (e = get_text(r, "note", false, PROTO_MAX_NOTE, true, &p->note)) !=
	        PROTO_OK ||
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
static enum proto_err
create(struct req *r, struct promise_rec *p, int64_t follows,
    struct sched_change *change)
{
	char detail[96];
	int64_t id;
	int rc;

	p->created_at = r->now;
	p->created_by = r->c->login;
	p->stage = sched_first_stage(p, r->now);
	p->state = PSTATE_OPEN;
	if ((rc = store_add(r->ctl->st, p, &id)) < 0)
		return store_failed(r, rc);
	p->id = id;
	if (follows > 0)
		snprintf(detail, sizeof(detail),
		    "{\"due_at\":%" PRId64 ",\"follows\":%" PRId64 "}",
		    p->due_at, follows);
	else
		snprintf(detail, sizeof(detail), "{\"due_at\":%" PRId64 "}",
		    p->due_at);
	if ((rc = store_event(
	         r->ctl->st, id, r->now, r->c->login, "created", detail)) < 0)
		return store_failed(r, rc);
	change->what = CHANGE_ARM;
	change->p = *p;
	return PROTO_OK;
}

static json_t *plan(struct req *r, const struct promise_rec *p);

/* the owner of new promise p: the caller unless named; naming another
 * is for their managers and admins */
static enum proto_err
check_owner(struct req *r, struct promise_rec *p)
{
	if (p->owner == NULL) {
		p->owner = r->c->login;
		return PROTO_OK;
	}
	if (!util_login_ok(p->owner)) {
		snprintf(r->err, sizeof(r->err),
		    "field 'owner': '%s' is not a login name", p->owner);
		return PROTO_INVALID;
	}
	if (strcmp(p->owner, r->c->login) != 0 && !is_admin(r) &&
	    !conf_manages(r->ctl->conf, r->c->login, p->owner)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not add promises for '%s': only their managers "
		    "and admins may",
		    r->c->login, p->owner);
		log_warnx("client %s: refused adding a promise for '%s'",
		    r->c->login, p->owner);
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
	p->created_by = r->c->login;
	p->state = PSTATE_OPEN;
	p->stage = sched_first_stage(p, r->now);
	if ((sched = plan(r, p)) == NULL)
		return PROTO_INTERNAL;
	r->reply = json_pack("{s:b,s:b,s:o,s:o}", "ok", 1, "dry_run", 1,
	    "promise", promise_json(p, r->now), "schedule", sched);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static enum proto_err
op_add(struct req *r)
{
	struct promise_rec p;
	char due[32];
	bool dry = false;
	enum proto_err e;

	if ((e = read_new(r, r->body, &p)) != PROTO_OK ||
	    (e = check_owner(r, &p)) != PROTO_OK ||
	    (e = resolve_new(r, r->body, &p)) != PROTO_OK ||
	    (e = proto_get_bool(
	         r->body, "dry_run", &dry, r->err, sizeof(r->err))) != PROTO_OK)
		return e;
	if (dry)
		return dry_run(r, &p);
	if ((e = create(r, &p, 0, &r->change)) != PROTO_OK)
		return e;
	timefmt_iso_utc(p.due_at, due, sizeof(due));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": added by '%s' for '%s', due %s", p.id,
	    r->c->login, p.owner, due);
	/* the row just written is p: the reply is made from it, not from a
	 * second read of the row, and as text (see promise_text) */
	jw_lit(&r->text, "{\"ok\":true,\"promise\":");
	promise_text(&r->text, &p, r->now);
	return r->text.oom ? PROTO_INTERNAL : PROTO_OK;
}

/* the promise the request's id names, into j (j->val its PROMISE), if the
 * caller may see it */
static enum proto_err
load_visible(struct req *r, int64_t *id, struct json_cb *j)
{
	enum proto_err e;
	int rc;

	if ((e = get_id(r, id)) != PROTO_OK)
		return e;
	rc = store_get(r->ctl->st, *id, get_cb, j);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no promise %" PRId64, *id);
		return PROTO_NOT_FOUND;
	}
	if (rc < 0)
		return store_failed(r, rc);
	if (!may_act(r, j->owner)) {
		json_decref(j->val);
		j->val = NULL;
		return refuse(r, *id);
	}
	return PROTO_OK;
}

static enum proto_err
op_get(struct req *r)
{
	struct json_cb j = {.now = r->now};
	json_t *events, *deliveries;
	int64_t id;
	enum proto_err e;
	int rc;

	if ((e = load_visible(r, &id, &j)) != PROTO_OK)
		return e;
	events = json_array();
	deliveries = json_array();
	if ((rc = store_events(r->ctl->st, id, event_cb, events)) < 0 ||
	    (rc = store_deliveries(
	         r->ctl->st, id, NULL, 0, deliveries_cb, deliveries)) < 0 ||
	    (rc = add_short_ids(r, deliveries)) < 0) {
		json_decref(j.val);
		json_decref(events);
		json_decref(deliveries);
		return store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o,s:o,s:o}", "ok", 1, "promise", j.val,
	    "events", events, "deliveries", deliveries);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
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

static enum proto_err
op_list(struct req *r)
{
	struct json_cb j = {.now = r->now};
	struct jsonw match = {NULL, 0, 0, false};
	const char *state = "open", *owner = NULL, *for_text = NULL,
	           *grep = NULL;
	int64_t limit = 0;
	enum store_filter f;
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "state", false, 16, &state, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "owner", false, 64, &owner, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_int(r->body, "limit", false, &limit, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = get_text(r, "for", false, PROTO_MAX_FOR, false, &for_text)) !=
	        PROTO_OK ||
	    (e = get_text(r, "grep", false, PROTO_MAX_FOR, false, &grep)) !=
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
	if (owner != NULL && !may_act(r, owner)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not list the promises of '%s': only they, their "
		    "managers and admins may",
		    r->c->login, owner);
		return PROTO_FORBIDDEN;
	}
	if ((j.val = json_array()) == NULL)
		return PROTO_INTERNAL;
	/* without admin rights, one's own and one's reports' only: the
	 * limit then counts what is shown */
	if (!is_admin(r)) {
		j.filter = r;
		j.limit = limit;
		limit = 0;
	}
	/* the index follows the adds: bring it up to date for this search */
	if ((for_text != NULL || grep != NULL) &&
	    (rc = store_fts_index(r->ctl->st, 0)) < 0) {
		json_decref(j.val);
		return store_failed(r, rc);
	}
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
		json_decref(j.val);
		return PROTO_INVALID;
	}
	if (match.oom) {
		free(match.s);
		json_decref(j.val);
		return PROTO_INTERNAL;
	}
	rc = store_list(
	    r->ctl->st, f, owner, match.s, r->now, limit, list_cb, &j);
	free(match.s);
	if (rc < 0) {
		json_decref(j.val);
		return store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "promises", j.val);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
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
	rs->rc = deliver_resolved(rs->r->ctl->dl, p, rs->r->now, out);
	if (rs->rc < 0 || json_array_size(out) == 0)
		goto out;
	detail = json_pack("{s:O}", "deliveries", out);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	rs->rc = text == NULL ? -ENOMEM
	                      : store_event(rs->r->ctl->st, p->id, rs->r->now,
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
	int rc = store_get(r->ctl->st, id, resolve_cb, &rs);

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

	if ((e = get_id(r, &id)) != PROTO_OK ||
	    (e = get_text(r, reason_field, reason_required, max, true, &why)) !=
	        PROTO_OK)
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
	if (then != NULL && (e = read_new(r, then, &next)) != PROTO_OK) {
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
		if ((e = resolve_new(r, then, &next)) != PROTO_OK) {
			then_error(r);
			return e;
		}
		if ((e = create(r, &next, id, &r->change2)) != PROTO_OK)
			return e;
		/* they point into j, gone when the change is applied */
		r->change2.p.owner = r->change2.p.for_whom = NULL;
	}
	if ((rc = store_settle(r->ctl->st, id, to, r->now)) < 0)
		return store_failed(r, rc);
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
	rc = store_event(
	    r->ctl->st, id, r->now, r->c->login, pstate_name(to), text);
	if (rc < 0 || (rc = resolve(r, id)) < 0) {
		e = store_failed(r, rc);
		goto out;
	}
	r->change.what = CHANGE_CANCEL;
	r->change.p.id = id;
	if (then != NULL)
		snprintf(r->note, sizeof(r->note),
		    "promise %" PRId64
		    ": %s by '%s', follow-up promise %" PRId64,
		    id, pstate_name(to), r->c->login, next.id);
	else
		snprintf(r->note, sizeof(r->note),
		    "promise %" PRId64 ": %s by '%s'", id, pstate_name(to),
		    r->c->login);
	if ((e = reply_promise(r, id)) == PROTO_OK && then != NULL &&
	    json_object_set_new(r->reply, "then", promise_json(&next, r->now)) <
	        0)
		e = PROTO_INTERNAL;
out:
	json_decref(detail);
	free(text);
	return e;
}

static enum proto_err
op_done(struct req *r)
{
	return settle(r, PSTATE_KEPT, "note", false, PROTO_MAX_NOTE);
}

static enum proto_err
op_cancel(struct req *r)
{
	return settle(r, PSTATE_CANCELLED, "reason", true, PROTO_MAX_REASON);
}

static enum proto_err
op_snooze(struct req *r)
{
	struct json_cb j;
	const char *reason = NULL;
	json_t *detail;
	char *text, when[32];
	int64_t id, due, old;
	enum proto_err e;
	int rc;

	if ((e = get_id(r, &id)) != PROTO_OK ||
	    (e = get_text(r, "reason", true, PROTO_MAX_REASON, true,
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
	if ((rc = store_snooze(r->ctl->st, &j.rec)) < 0)
		return store_failed(r, rc);
	detail = json_pack("{s:I,s:I,s:s}", "from", (json_int_t)old, "to",
	    (json_int_t)due, "reason", reason);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	if (text == NULL)
		return PROTO_INTERNAL;
	rc = store_event(r->ctl->st, id, r->now, r->c->login, "snoozed", text);
	free(text);
	if (rc < 0)
		return store_failed(r, rc);
	r->change.what = CHANGE_ARM;
	r->change.p = j.rec;
	timefmt_iso_utc(due, when, sizeof(when));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": snoozed by '%s' to %s", id, r->c->login,
	    when);
	return reply_promise(r, id);
}

static enum proto_err
op_ack(struct req *r)
{
	struct json_cb j;
	char detail[64], when[32];
	int64_t id, until;
	enum proto_err e;
	int rc;

	if ((e = get_id(r, &id)) != PROTO_OK ||
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
	if ((rc = store_ack(r->ctl->st, id, r->c->login, until)) < 0 ||
	    (rc = store_event(
	         r->ctl->st, id, r->now, r->c->login, "acked", detail)) < 0)
		return store_failed(r, rc);
	if ((e = reply_promise(r, id)) != PROTO_OK)
		return e;
	json_object_set_new(r->reply, "until", json_integer(until));
	timefmt_iso_utc(until, when, sizeof(when));
	snprintf(r->note, sizeof(r->note),
	    "promise %" PRId64 ": escalations acknowledged by '%s' until %s",
	    id, r->c->login, when);
	return PROTO_OK;
}

static enum proto_err
op_deliveries(struct req *r)
{
	const char *state = NULL;
	int64_t limit = 100;
	json_t *arr;
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "state", false, 16, &state, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_int(r->body, "limit", false, &limit, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (state != NULL && strcmp(state, "all") == 0)
		state = NULL;
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "sent") != 0 && strcmp(state, "failed") != 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'state': '%s' is not one of pending, sent, failed, "
		    "all",
		    state);
		return PROTO_INVALID;
	}
	if (limit < 0) {
		snprintf(r->err, sizeof(r->err), "field 'limit': is negative");
		return PROTO_INVALID;
	}
	if ((arr = json_array()) == NULL)
		return PROTO_INTERNAL;
	if (is_admin(r))
		rc = store_deliveries(
		    r->ctl->st, 0, state, limit, deliveries_cb, arr);
	else {
		/* the rest see what went to them and what concerns promises
		 * they may act on; the limit counts what is shown */
		struct seen_deliveries sd = {
		    .r = r, .arr = arr, .limit = limit};

		rc = store_deliveries(
		    r->ctl->st, 0, state, 0, seen_deliveries_cb, &sd);
	}
	if (rc == 0)
		rc = add_short_ids(r, arr);
	if (rc < 0) {
		json_decref(arr);
		return store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "deliveries", arr);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static int
one_delivery_cb(void *arg, const struct delivery_rec *d)
{
	json_t **ret = arg;

	*ret = delivery_json(d);
	return *ret ? 0 : -ENOMEM;
}

struct delivery_about {
	int64_t promise_id;
	char recipient[128];
};

static int
delivery_about_cb(void *arg, const struct delivery_rec *d)
{
	struct delivery_about *a = arg;

	a->promise_id = d->promise_id;
	util_strlcpy(a->recipient, d->recipient, sizeof(a->recipient));
	return 0;
}

/* a delivery is retried by whoever may act on its promise; a digest by
 * whoever may see its manager's team */
static enum proto_err
delivery_allowed(struct req *r, const char *uid, const char *asked)
{
	struct json_cb j = {.now = r->now};
	struct delivery_about a = {0};
	int64_t pid;
	int rc;

	rc = store_delivery_by_uid(r->ctl->st, uid, delivery_about_cb, &a);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", uid);
		return PROTO_NOT_FOUND;
	}
	if (rc == 0 && a.promise_id == 0) {
		if (may_act(r, a.recipient))
			return PROTO_OK;
		/* as for a promise: a stranger learns nothing of it */
		snprintf(r->err, sizeof(r->err), "no delivery %s", asked);
		return PROTO_NOT_FOUND;
	}
	pid = a.promise_id;
	if (rc < 0 || (rc = store_get(r->ctl->st, pid, get_cb, &j)) < 0)
		return store_failed(r, rc);
	json_decref(j.val);
	if (may_act(r, j.owner))
		return PROTO_OK;
	(void)refuse(r, pid);
	snprintf(r->err, sizeof(r->err), "no delivery %s", asked);
	return PROTO_NOT_FOUND;
}

static enum proto_err
op_retry(struct req *r)
{
	const char *prefix = NULL;
	char uid[33];
	json_t *d = NULL;
	int64_t id;
	size_t n;
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "delivery", true, 32, &prefix, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	n = strlen(prefix);
	if (n < DELIVERY_PREFIX_MIN ||
	    strspn(prefix, "0123456789abcdef") != n) {
		snprintf(r->err, sizeof(r->err),
		    "field 'delivery': must be %d to 32 lower-case hex digits",
		    DELIVERY_PREFIX_MIN);
		return PROTO_INVALID;
	}
	/* a prefix, as git takes one: it must name one delivery */
	rc = store_delivery_resolve(r->ctl->st, prefix, uid);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", prefix);
		return PROTO_NOT_FOUND;
	}
	if (rc == -ENOTUNIQ) {
		snprintf(r->err, sizeof(r->err),
		    "delivery id %s is ambiguous: more than one starts with "
		    "it; "
		    "give more digits",
		    prefix);
		return PROTO_INVALID;
	}
	if (rc < 0)
		return store_failed(r, rc);
	if ((e = delivery_allowed(r, uid, prefix)) != PROTO_OK)
		return e;
	rc = deliver_retry(r->ctl->dl, uid, r->now, &id);
	if (rc == -ENOENT) {
		snprintf(r->err, sizeof(r->err), "no delivery %s", uid);
		return PROTO_NOT_FOUND;
	}
	if (rc == -EALREADY) {
		snprintf(r->err, sizeof(r->err), "delivery %s was already sent",
		    uid);
		return PROTO_CONFLICT;
	}
	if (rc < 0 ||
	    (rc = store_delivery_by_uid(r->ctl->st, uid, one_delivery_cb, &d)) <
	        0)
		return store_failed(r, rc);
	if ((rc = add_short_id(r, d)) < 0) {
		json_decref(d);
		return store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "delivery", d);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* ---- explain ------------------------------------------------------------- */

/* escalation repeats explain shows: they go on while the promise is open */
#define EXPLAIN_REPEATS 3

/* each recipient's "local": the time in their zone, as they will read it */
static void
add_local_times(json_t *to, int64_t at)
{
	struct tz_save tz;
	json_t *o;
	size_t i;
	char buf[64];

	json_array_foreach(to, i, o)
	{
		if (json_object_get(o, "local") != NULL ||
		    tz_enter(
		        &tz, json_string_value(json_object_get(o, "zone"))) < 0)
			continue;
		timefmt_local(at, buf, sizeof(buf));
		tz_leave(&tz);
		json_object_set_new(o, "local", json_string(buf));
	}
}

/* why a nudge comes when it does: its lead, and the lead asked for if
 * business hours moved it */
static void
nudge_rule(struct req *r, const struct promise_rec *p, int64_t lead, int64_t at,
    char *buf, size_t len)
{
	char d[32], a[32];
	size_t i;

	timefmt_duration(lead, d, sizeof(d));
	for (i = 0; p->shifted && i < p->n_asked; i++) {
		if (p->asked[i] == lead)
			break;
		if (conf_business_before(r->ctl->conf, p->owner,
		        p->due_at - p->asked[i]) == at) {
			timefmt_duration(p->asked[i], a, sizeof(a));
			snprintf(buf, len,
			    "nudge %s before the deadline: asked for %s "
			    "before, "
			    "moved into business hours",
			    d, a);
			return;
		}
	}
	snprintf(buf, len, "nudge %s before the deadline", d);
}

/*
 * An escalation that would reach someone outside their business hours
 * waits for the next opening: "held_until" on their entry, and their
 * "local" that time.
 */
static void
hold_escalations(struct req *r, json_t *to, int64_t at)
{
	struct tz_save tz;
	json_t *o;
	int64_t held;
	size_t i;
	char buf[64];

	json_array_foreach(to, i, o)
	{
		held = deliver_escalation_at(r->ctl->dl,
		    json_string_value(json_object_get(o, "to")), at);
		if (held <= at)
			continue;
		json_object_set_new(o, "held_until", json_integer(held));
		if (tz_enter(
		        &tz, json_string_value(json_object_get(o, "zone"))) < 0)
			continue;
		timefmt_local(held, buf, sizeof(buf));
		tz_leave(&tz);
		json_object_set_new(o, "local", json_string(buf));
	}
}

/* appends stage `stage` of p to out: when, what, why and to whom */
static int
plan_stage(
    struct req *r, const struct promise_rec *p, int32_t stage, json_t *out)
{
	int32_t n = (int32_t)p->n_nudge;
	int64_t at, arg = 0;
	enum sched_kind kind;
	char rule[256], d[32];
	json_t *to, *o;
	int rc;

	sched_stage(p, stage, &at, &kind);
	if (kind == SKIND_NUDGE) {
		arg = p->nudge[stage];
		nudge_rule(r, p, arg, at, rule, sizeof(rule));
	} else if (kind == SKIND_DUE) {
		snprintf(rule, sizeof(rule), "due notice at the deadline");
	} else {
		arg = stage - n;
		timefmt_duration(
		    arg == 1 ? p->escalate_after : p->escalation_repeat, d,
		    sizeof(d));
		if (arg == 1)
			snprintf(rule, sizeof(rule),
			    "escalation: %s after the deadline", d);
		else
			snprintf(rule, sizeof(rule),
			    "escalation repeat %" PRId64 ", every %s; up the "
			    "chain one level each %" PRId64 " repeats",
			    arg, d, r->ctl->conf->escalate_up_after);
	}
	if ((to = json_array()) == NULL)
		return -ENOMEM;
	if ((rc = deliver_plan(r->ctl->dl, p, kind, arg, at, to)) < 0) {
		json_decref(to);
		return rc;
	}
	if (kind == SKIND_ESCALATION)
		hold_escalations(r, to, at);
	add_local_times(to, at);
	o = json_pack("{s:I,s:s,s:s,s:o}", "at", (json_int_t)at, "kind",
	    sched_kind_name(kind), "rule", rule, "to", to);
	return o != NULL && json_array_append_new(out, o) == 0 ? 0 : -ENOMEM;
}

/* every stage still ahead of p, and a few escalation repeats */
static json_t *
plan(struct req *r, const struct promise_rec *p)
{
	int32_t i, last = (int32_t)p->n_nudge + EXPLAIN_REPEATS;
	json_t *out = json_array();

	for (i = p->stage; out != NULL && i <= last; i++) {
		if (plan_stage(r, p, i, out) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* the schedule of an open promise, as it stands */
static enum proto_err
op_explain(struct req *r)
{
	struct json_cb j = {.now = r->now};
	json_t *sched;
	int64_t id;
	enum proto_err e;

	if ((e = load_visible(r, &id, &j)) != PROTO_OK)
		return e;
	j.rec.owner = j.owner;
	sched = j.rec.state == PSTATE_OPEN ? plan(r, &j.rec) : json_array();
	r->reply = json_pack(
	    "{s:b,s:o,s:o}", "ok", 1, "promise", j.val, "schedule", sched);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* ---- import and export --------------------------------------------------- */

/* the bytes of requests a connection may hold for an import until its
 * last part (and PROTO_IMPORT_MAX promises): all of it is then done in
 * one batch, which holds other requests up meanwhile (about 0.5 s for
 * 10,000 on a 2-core VM) */
#define IMPORT_MAX_BYTES (4 * 1024 * 1024)
/* promises one export request returns */
#define EXPORT_PAGE 1000

/* the bytes of import parts held by all connections together: a user
 * opening connection after connection must not fill the memory */
#define IMPORT_STAGED_MAX (32 * 1024 * 1024)

/* drops the parts of c's import under way */
static void
import_drop(struct conn *c)
{
	size_t i;

	for (i = 0; i < c->import_parts; i++)
		free(c->import[i]);
	free(c->import);
	c->import = NULL;
	c->ctl->staged -= c->import_bytes;
	c->import_parts = c->import_items = c->import_bytes = 0;
}

/*
 * A part of an import with more to come: its promises are held on the
 * connection, as text, until the last part, and dropped with it.
 */
static enum proto_err
import_stage(struct req *r, json_t *items)
{
	struct conn *c = r->c;
	struct ctl *ctl = r->ctl;
	char **parts, *text;

	if (ctl->staged + r->len > (size_t)IMPORT_STAGED_MAX) {
		snprintf(r->err, sizeof(r->err),
		    "busy: imports under way hold %zu KiB of parts, near the "
		    "%d MiB promised keeps at once; nothing was imported, "
		    "send the import again later",
		    ctl->staged >> 10, IMPORT_STAGED_MAX >> 20);
		return PROTO_UNAVAILABLE;
	}
	parts = realloc(c->import, (c->import_parts + 1) * sizeof(*parts));
	if (parts == NULL)
		return PROTO_INTERNAL;
	c->import = parts;
	if ((text = json_dumps(items, JSON_COMPACT)) == NULL)
		return PROTO_INTERNAL;
	c->import[c->import_parts++] = text;
	c->import_items += json_array_size(items);
	c->import_bytes += r->len;
	ctl->staged += r->len;
	r->reply = json_pack(
	    "{s:b,s:I}", "ok", 1, "staged", (json_int_t)c->import_items);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* an import being checked and written, part after part */
struct import_run {
	bool dry;
	json_t *bad, *ids;
	struct promise_rec *made;
	size_t n_made;
	size_t at; /* the index of the part's first promise in the import */
};

/* checks each promise of items, and unless dry writes it; a bad one is
 * listed, a failure of the store (returned) ends the import */
static enum proto_err
import_items(struct req *r, json_t *items, struct import_run *ir)
{
	struct sched_change ch;
	struct promise_rec p;
	json_t *item;
	enum proto_err e;
	size_t i;

	json_array_foreach(items, i, item)
	{
		r->err[0] = '\0';
		if (!json_is_object(item)) {
			snprintf(r->err, sizeof(r->err), "not an object");
			e = PROTO_INVALID;
		} else if ((e = read_new(r, item, &p)) == PROTO_OK &&
		    (e = check_owner(r, &p)) == PROTO_OK &&
		    (e = resolve_new(r, item, &p)) == PROTO_OK && !ir->dry &&
		    (e = create(r, &p, 0, &ch)) == PROTO_OK) {
			ir->made[ir->n_made++] = ch.p;
			json_array_append_new(ir->ids, json_integer(p.id));
		}
		if (e == PROTO_INTERNAL || e == PROTO_UNAVAILABLE)
			return e; /* the store failed: not the item's fault */
		if (e != PROTO_OK &&
		    json_array_append_new(ir->bad,
		        json_pack("{s:I,s:s}", "item", (json_int_t)(ir->at + i),
		            "message", r->err)) < 0)
			return PROTO_INTERNAL;
	}
	ir->at += json_array_size(items);
	return PROTO_OK;
}

/* the staged parts, one at a time, then the last part */
static enum proto_err
import_all(struct req *r, json_t *last, struct import_run *ir)
{
	struct conn *c = r->c;
	json_t *items;
	enum proto_err e;
	size_t i;

	for (i = 0; i < c->import_parts; i++) {
		if ((items = json_loads(c->import[i], 0, NULL)) == NULL)
			return PROTO_INTERNAL;
		e = import_items(r, items, ir);
		json_decref(items);
		if (e != PROTO_OK)
			return e;
	}
	return import_items(r, last, ir);
}

/*
 * Adds every promise of "promises" (objects as add takes them) in one
 * step: all of them, or with one bad, none.  With dry_run, only checks
 * them and lists every bad one by its index.  An import too big for one
 * request comes in parts on one connection, each but the last with
 * "more": true; the last one acts on them all, indexed as one list.
 */
static enum proto_err
op_import(struct req *r)
{
	json_t *part = json_object_get(r->body, "promises"), *item;
	struct import_run ir = {0};
	size_t i, n;
	bool more = false;
	enum proto_err e;

	if ((e = proto_get_bool(r->body, "dry_run", &ir.dry, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_bool(
	         r->body, "more", &more, r->err, sizeof(r->err))) != PROTO_OK)
		goto out;
	e = PROTO_INVALID;
	if (!json_is_array(part) || json_array_size(part) == 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'promises': must be an array of 1 or more objects");
		goto out;
	}
	n = json_array_size(part) + r->c->import_items;
	if (n > PROTO_IMPORT_MAX ||
	    r->c->import_bytes + r->len > (size_t)IMPORT_MAX_BYTES) {
		snprintf(r->err, sizeof(r->err),
		    "an import may hold at most %d promises in %d MiB of "
		    "requests; nothing was imported",
		    PROTO_IMPORT_MAX, IMPORT_MAX_BYTES >> 20);
		goto out;
	}
	/* a part before the last: nothing is written yet */
	if (more && (e = import_stage(r, part)) == PROTO_OK)
		goto keep;
	if (more)
		goto out;
	e = PROTO_INTERNAL;
	if ((ir.bad = json_array()) == NULL ||
	    (ir.ids = json_array()) == NULL ||
	    (ir.made = calloc(n, sizeof(*ir.made))) == NULL)
		goto out;
	if ((e = import_all(r, part, &ir)) != PROTO_OK)
		goto out;
	if (ir.dry) {
		r->reply = json_pack("{s:b,s:b,s:I,s:O}", "ok", 1, "dry_run", 1,
		    "valid", (json_int_t)(n - json_array_size(ir.bad)),
		    "errors", ir.bad);
		e = r->reply ? PROTO_OK : PROTO_INTERNAL;
		goto out;
	}
	if (json_array_size(ir.bad) > 0) {
		item = json_array_get(ir.bad, 0);
		snprintf(r->err, sizeof(r->err),
		    "%zu of %zu promises are bad, so none was imported; the "
		    "first, item %" PRId64 ": %s",
		    json_array_size(ir.bad), n,
		    (int64_t)json_integer_value(json_object_get(item, "item")),
		    json_string_value(json_object_get(item, "message")));
		e = PROTO_INVALID;
		goto out;
	}
	/* all written: now they may be scheduled */
	for (i = 0; i < ir.n_made; i++)
		if (sched_arm(r->ctl->s, &ir.made[i]) < 0)
			log_warnx("promise %" PRId64 ": out of memory "
			          "scheduling it; it is kept in the database "
			          "and scheduled at the next start",
			    ir.made[i].id);
	r->reply = json_pack("{s:b,s:I,s:O}", "ok", 1, "imported",
	    (json_int_t)ir.n_made, "ids", ir.ids);
	e = r->reply ? PROTO_OK : PROTO_INTERNAL;
out:
	/* the last part, or any failure, ends the import under way */
	import_drop(r->c);
keep:
	json_decref(ir.bad);
	json_decref(ir.ids);
	free(ir.made);
	return e;
}

struct export_cb {
	struct req *r;
	json_t *out;
	int64_t last;
};

static int
export_cb(void *arg, const struct promise_rec *p)
{
	struct export_cb *x = arg;

	x->last = p->id;
	if (!may_act(x->r, p->owner))
		return 0;
	return json_array_append_new(x->out, promise_json(p, x->r->now)) == 0
	    ? 0
	    : -ENOMEM;
}

/* every promise the caller may see, a page at a time in id order */
static enum proto_err
op_export(struct req *r)
{
	struct export_cb x = {.r = r};
	int64_t after = 0;
	enum proto_err e;
	int rc;

	if ((e = proto_get_int(r->body, "after", false, &after, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (after < 0) {
		snprintf(r->err, sizeof(r->err),
		    "field 'after': must be 0 or a promise id");
		return PROTO_INVALID;
	}
	if ((x.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	x.last = after;
	rc = store_export(r->ctl->st, after, EXPORT_PAGE, export_cb, &x);
	if (rc < 0) {
		json_decref(x.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : store_failed(r, rc);
	}
	/* a full page read: there may be more after its last id */
	r->reply = json_pack("{s:b,s:o,s:o}", "ok", 1, "promises", x.out,
	    "next", rc == EXPORT_PAGE ? json_integer(x.last) : json_null());
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* ---- report and sample --------------------------------------------------- */

#define REPORT_DEFAULT_SPAN (30 * 86400)
#define SAMPLE_MAX 100

struct scope {
	struct req *r;
	const char *only; /* one owner */
	const char *team; /* a manager and everyone below */
	int64_t since;
	json_t *out;
	int64_t want; /* sample: how many more */
	int64_t *late;
	size_t n_late, cap_late;
};

/* reads since, owner and team, and checks the caller may see them */
static enum proto_err
read_scope(struct req *r, struct scope *sc)
{
	enum proto_err e;
	const char *who;

	sc->since = r->now - REPORT_DEFAULT_SPAN;
	if ((e = proto_get_int(r->body, "since", false, &sc->since, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "owner", false, 64, &sc->only, r->err,
	         sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "team", false, 64, &sc->team, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (sc->only != NULL && sc->team != NULL) {
		snprintf(r->err, sizeof(r->err),
		    "fields 'owner' and 'team': give one or the other");
		return PROTO_INVALID;
	}
	who = sc->only != NULL ? sc->only : sc->team;
	if (who != NULL && !may_act(r, who)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not see how '%s'%s keeps promises: only they, "
		    "their managers and admins may",
		    r->c->login, who, sc->team != NULL ? "'s team" : "");
		return PROTO_FORBIDDEN;
	}
	return PROTO_OK;
}

/* whether owner's promises are in what the request asks and may see:
 * without a filter, one's own and one's reports' (admins: all) */
static bool
in_scope(const struct scope *sc, const char *owner)
{
	if (sc->only != NULL)
		return strcmp(owner, sc->only) == 0;
	if (sc->team != NULL && strcmp(owner, sc->team) != 0 &&
	    !conf_manages(sc->r->ctl->conf, sc->team, owner))
		return false;
	return may_act(sc->r, owner);
}

static int
late_cb(void *arg, int64_t late)
{
	struct scope *sc = arg;
	int64_t *t;
	size_t cap;

	if (sc->n_late == sc->cap_late) {
		cap = sc->cap_late ? sc->cap_late * 2 : 64;
		if ((t = realloc(sc->late, cap * sizeof(*t))) == NULL)
			return -ENOMEM;
		sc->late = t;
		sc->cap_late = cap;
	}
	sc->late[sc->n_late++] = late;
	return 0;
}

/* the nearest-rank percentile of the ascending lateness list, or null */
static json_t *
percentile(const struct scope *sc, int pct)
{
	size_t k;

	if (sc->n_late == 0)
		return json_null();
	k = (sc->n_late * (size_t)pct + 99) / 100;
	return json_integer(sc->late[k > 0 ? k - 1 : 0]);
}

static int
report_cb(void *arg, const struct report_row *row)
{
	struct scope *sc = arg;
	int64_t due = row->kept_on_time + row->kept_late + row->overdue;
	json_t *o;
	int rc;

	if (!in_scope(sc, row->owner))
		return 0;
	sc->n_late = 0;
	if ((rc = store_report_lateness(
	         sc->r->ctl->st, row->owner, sc->since, late_cb, sc)) < 0)
		return rc;
	o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o}",
	    "owner", row->owner, "made", (json_int_t)row->made, "kept_on_time",
	    (json_int_t)row->kept_on_time, "kept_late",
	    (json_int_t)row->kept_late, "open", (json_int_t)row->open,
	    "overdue", (json_int_t)row->overdue, "cancelled_told",
	    (json_int_t)row->cancelled_told, "cancelled_untold",
	    (json_int_t)row->cancelled_untold, "renegotiated",
	    (json_int_t)row->renegotiated, "snoozes", (json_int_t)row->snoozes,
	    "on_time_rate",
	    due > 0 ? json_real((double)row->kept_on_time / (double)due)
	            : json_null(),
	    "lateness_p50", percentile(sc, 50), "lateness_p90",
	    percentile(sc, 90));
	return o != NULL && json_array_append_new(sc->out, o) == 0 ? 0
	                                                           : -ENOMEM;
}

/*
 * Who keeps their word: per owner, over the promises made since then,
 * how many were kept on time or late, are open or overdue, were cancelled
 * with or without telling the customer, or renegotiated.
 */
static enum proto_err
op_report(struct req *r)
{
	struct scope sc = {.r = r};
	enum proto_err e;
	int rc;

	if ((e = read_scope(r, &sc)) != PROTO_OK)
		return e;
	if ((sc.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	rc = store_report(r->ctl->st, sc.since, r->now, report_cb, &sc);
	free(sc.late);
	if (rc < 0) {
		json_decref(sc.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:I,s:o}", "ok", 1, "since",
	    (json_int_t)sc.since, "owners", sc.out);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static int
sample_cb(void *arg, const struct promise_rec *p)
{
	struct scope *sc = arg;
	json_t *events, *o;
	int rc;

	if (!in_scope(sc, p->owner))
		return 0;
	if ((events = json_array()) == NULL)
		return -ENOMEM;
	if ((rc = store_events(sc->r->ctl->st, p->id, event_cb, events)) < 0) {
		json_decref(events);
		return rc;
	}
	o = json_pack("{s:o,s:o}", "promise", promise_json(p, sc->r->now),
	    "events", events);
	if (o == NULL || json_array_append_new(sc->out, o) < 0)
		return -ENOMEM;
	return --sc->want > 0 ? 0 : 1;
}

/* n settled promises at random, with their history: for calling the
 * customer and asking how it went */
static enum proto_err
op_sample(struct req *r)
{
	struct scope sc = {.r = r};
	enum proto_err e;
	int rc;

	sc.want = 5;
	if ((e = read_scope(r, &sc)) != PROTO_OK ||
	    (e = proto_get_int(r->body, "n", false, &sc.want, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (sc.want < 1 || sc.want > SAMPLE_MAX) {
		snprintf(r->err, sizeof(r->err),
		    "field 'n': must be from 1 to %d", SAMPLE_MAX);
		return PROTO_INVALID;
	}
	if ((sc.out = json_array()) == NULL)
		return PROTO_INTERNAL;
	if ((rc = store_sample(r->ctl->st, sc.since, sample_cb, &sc)) < 0) {
		json_decref(sc.out);
		return rc == -ENOMEM ? PROTO_INTERNAL : store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "promises", sc.out);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

/* a manager's weekly digest as of now, as it would be sent, and when the
 * next one goes out */
static enum proto_err
op_digest(struct req *r)
{
	const char *team = r->c->login;
	json_t *d = NULL;
	int64_t last, next;
	char week[16];
	enum proto_err e;
	int rc;

	if ((e = proto_get_str(r->body, "team", false, 64, &team, r->err,
	         sizeof(r->err))) != PROTO_OK)
		return e;
	if (!may_act(r, team)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not see the digest of '%s''s team: only they, "
		    "their managers and admins may",
		    r->c->login, team);
		return PROTO_FORBIDDEN;
	}
	if ((rc = digest_build(r->ctl->st, r->ctl->conf, team, r->now, &d)) < 0)
		return store_failed(r, rc);
	rc = digest_slots(
	    r->ctl->conf, r->now, &last, &next, week, sizeof(week));
	r->reply = json_pack("{s:b,s:o,s:o}", "ok", 1, "digest", d, "next",
	    rc == 0 ? json_integer(next) : json_null());
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

static enum proto_err
op_status(struct req *r)
{
	struct store_owner_counts o;
	struct store_counts n;
	int rc;

	/* the service's figures are the admins'; anyone else's are their
	 * own promises, so status tells nobody about the others' */
	if (!is_admin(r)) {
		if ((rc = store_owner_counts(
		         r->ctl->st, r->c->login, r->now, &o)) < 0)
			return store_failed(r, rc);
		r->reply = json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:o}", "ok",
		    1, "scope", "own", "version", PROMISED_VERSION,
		    "started_at", (json_int_t)r->ctl->started_at, "uptime",
		    (json_int_t)(r->now - r->ctl->started_at), "open",
		    (json_int_t)o.open, "overdue", (json_int_t)o.overdue,
		    "next_due",
		    o.next_due ? json_integer(o.next_due) : json_null());
		return r->reply ? PROTO_OK : PROTO_INTERNAL;
	}
	if ((rc = store_counts(r->ctl->st, r->now, &n)) < 0)
		return store_failed(r, rc);
	r->reply =
	    json_pack("{s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:o,s:I,s:{s:I,s:I,s:I}}",
	        "ok", 1, "scope", "all", "version", PROMISED_VERSION,
	        "started_at", (json_int_t)r->ctl->started_at, "uptime",
	        (json_int_t)(r->now - r->ctl->started_at), "open",
	        (json_int_t)sched_count(r->ctl->s), "overdue",
	        (json_int_t)sched_overdue(r->ctl->s), "next_due",
	        n.next_due ? json_integer(n.next_due) : json_null(),
	        "scheduled", (json_int_t)sched_count(r->ctl->s), "deliveries",
	        "pending", (json_int_t)deliver_pending(r->ctl->dl), "failed",
	        (json_int_t)n.deliveries_failed, "inflight",
	        (json_int_t)deliver_inflight(r->ctl->dl));
	if (r->reply == NULL ||
	    json_object_set_new(
	        r->reply, "channels", deliver_channels(r->ctl->dl)) < 0)
		return PROTO_INTERNAL;
	return PROTO_OK;
}

/* 'path' for a message, or "the file" when too long to quote whole: a cut
 * one could split a character and spoil the reply's UTF-8 */
static void
name_path(char *buf, size_t len, const char *path)
{
	if (strlen(path) + 3 <= len)
		snprintf(buf, len, "'%s'", path);
	else
		snprintf(buf, len, "the file");
}

/*
 * Starts a backup; the reply is sent once the copy is complete.  Anyone
 * connected may ask for one: who may is a later decision.
 */
static enum proto_err
op_backup(struct req *r)
{
	struct store_backup *b = NULL;
	struct backup *bk;
	const char *path;
	char name[256];
	enum proto_err e;
	int rc;

	if ((e = get_text(r, "path", true, PATH_MAX - 1, false, &path)) !=
	    PROTO_OK)
		return e;
	if (path[0] != '/') {
		snprintf(r->err, sizeof(r->err),
		    "field 'path': must be an absolute path");
		return PROTO_INVALID;
	}
	/* a copy holds everyone's promises */
	if (!is_admin(r)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not take backups: only admins may", r->c->login);
		return PROTO_FORBIDDEN;
	}
	if (r->ctl->backup != NULL) {
		snprintf(r->err, sizeof(r->err),
		    "a backup is already being written; try again when it is "
		    "done");
		return PROTO_UNAVAILABLE;
	}
	name_path(name, sizeof(name), path);
	rc = store_backup_open(r->ctl->st, path, &b);
	switch (rc) {
	case 0:
		break;
	case -EEXIST:
		snprintf(r->err, sizeof(r->err),
		    "%s already exists; a backup never overwrites a file",
		    name);
		return PROTO_CONFLICT;
	case -ENOENT:
	case -ENOTDIR:
	case -ENAMETOOLONG:
	case -ELOOP:
		snprintf(r->err, sizeof(r->err),
		    "field 'path': cannot create %s: %s", name,
		    store_errmsg(r->ctl->st));
		return PROTO_INVALID;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		snprintf(r->err, sizeof(r->err),
		    "promised may not create %s: %s", name,
		    store_errmsg(r->ctl->st));
		return PROTO_FORBIDDEN;
	case -ENOMEM:
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	default:
		snprintf(r->err, sizeof(r->err),
		    "cannot write a backup to %s: %s", name,
		    store_errmsg(r->ctl->st));
		return PROTO_UNAVAILABLE;
	}
	bk = calloc(1, sizeof(*bk));
	if (bk == NULL || (bk->path = strdup(path)) == NULL) {
		free(bk);
		store_backup_abort(b);
		snprintf(r->err, sizeof(r->err), "out of memory");
		return PROTO_INTERNAL;
	}
	bk->b = b;
	r->backup = bk;
	log_info("client %s: writing a backup to %s", r->c->login, name);
	return PROTO_OK;
}

/* seconds in ms as the shortest decimal: 5 -> "0.005", 2500 -> "2.5" */
static void
seconds_text(char *buf, size_t len, uint64_t ms)
{
	size_t n;

	snprintf(buf, len, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* the Prometheus text exposition (format 0.0.4) of the metrics */
static int
write_metrics(FILE *f, struct ctl *ctl, const struct store_metrics *m)
{
	const struct sched_lateness *lt = sched_lateness(ctl->s);
	char le[32];
	size_t i;

	family(f, "promised_open_promises", "gauge",
	    "Promises not yet kept or cancelled.");
	fprintf(f, "promised_open_promises %" PRId64 "\n",
	    m->promises[PSTATE_OPEN]);
	family(f, "promised_overdue_promises", "gauge",
	    "Open promises whose deadline has passed.");
	fprintf(f, "promised_overdue_promises %" PRId64 "\n", m->overdue);
	family(f, "promised_promises_total", "counter",
	    "Promises settled, by how: kept or cancelled.");
	fprintf(f,
	    "promised_promises_total{state=\"kept\"} %" PRId64 "\n"
	    "promised_promises_total{state=\"cancelled\"} %" PRId64 "\n",
	    m->promises[PSTATE_KEPT], m->promises[PSTATE_CANCELLED]);
	family(f, "promised_missed_total", "counter",
	    "Promises that missed their deadline, each counted once: open "
	    "past it, or given a due notice (a later snooze does not uncount "
	    "it), or kept or cancelled at or after it.");
	fprintf(f, "promised_missed_total %" PRId64 "\n", m->missed);
	family(f, "promised_deliveries", "gauge",
	    "Notices in the outbox, by state: pending (being sent or to be "
	    "retried), sent, or failed for good.");
	fprintf(f,
	    "promised_deliveries{state=\"pending\"} %" PRId64 "\n"
	    "promised_deliveries{state=\"sent\"} %" PRId64 "\n"
	    "promised_deliveries{state=\"failed\"} %" PRId64 "\n",
	    m->deliveries_pending, m->deliveries_sent, m->deliveries_failed);
	family(f, "promised_fire_lateness_seconds", "histogram",
	    "How late nudges, due notices and escalations fired after their "
	    "scheduled time, since the daemon started.");
	for (i = 0; i < SCHED_LATENESS_BUCKETS; i++) {
		seconds_text(
		    le, sizeof(le), (uint64_t)sched_lateness_bounds_ms[i]);
		fprintf(f,
		    "promised_fire_lateness_seconds_bucket{le=\"%s\"} "
		    "%" PRIu64 "\n",
		    le, lt->le[i]);
	}
	fprintf(f,
	    "promised_fire_lateness_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "promised_fire_lateness_seconds_sum %" PRIu64 ".%03" PRIu64 "\n"
	    "promised_fire_lateness_seconds_count %" PRIu64 "\n",
	    lt->count, lt->sum_ms / 1000, lt->sum_ms % 1000, lt->count);
	/* the version is digits and dots: nothing in it needs escaping */
	family(f, "promised_build_info", "gauge",
	    "Always 1; the version of the running promised is its label.");
	fprintf(f, "promised_build_info{version=\"%s\"} 1\n", PROMISED_VERSION);
	family(f, "promised_start_time_seconds", "gauge",
	    "When the daemon started, in seconds since the Unix epoch.");
	fprintf(
	    f, "promised_start_time_seconds %" PRId64 "\n", ctl->started_at);
	family(f, "promised_scheduled_timers", "gauge",
	    "Open promises with a timer on the schedule.");
	fprintf(f, "promised_scheduled_timers %zu\n", sched_count(ctl->s));
	return ferror(f) ? -EIO : 0;
}

static enum proto_err
op_metrics(struct req *r)
{
	struct store_metrics m;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	/* the service's figures, everyone's promises counted */
	if (!is_admin(r)) {
		snprintf(r->err, sizeof(r->err),
		    "'%s' may not read the metrics: only admins may",
		    r->c->login);
		return PROTO_FORBIDDEN;
	}
	if ((rc = store_metrics(r->ctl->st, r->now, &m)) < 0)
		return store_failed(r, rc);
	if ((f = open_memstream(&text, &len)) == NULL)
		return PROTO_INTERNAL;
	rc = write_metrics(f, r->ctl, &m);
	if (fclose(f) != 0 || rc < 0) {
		free(text);
		return PROTO_INTERNAL;
	}
	r->reply = json_pack("{s:b,s:s}", "ok", 1, "text", text);
	free(text);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
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
};

/* ---- connections -----------------------------------------------------------
 */

static void
mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dnext = c->ctl->dirty;
	c->ctl->dirty = c;
}

/* true if c has a request in hand that may be taken up now */
static bool
conn_can_work(const struct conn *c)
{
	return !c->closing && !c->ctl->shutting_down && c->owed < OUT_HIGH &&
	    linebuf_has_line(&c->in);
}

/*
 * Reads from c only while it has no request in hand waiting its turn and
 * is owed less than OUT_HIGH: what it sent stays in the socket until it
 * is worked on, so one client holds at most one read of requests here.
 */
static void
update_reading(struct conn *c)
{
	struct ctl *ctl = c->ctl;
	bool want = !c->closing && !c->eof && c->in_err == 0 &&
	    !ctl->shutting_down && !linebuf_has_line(&c->in) &&
	    (c->reading ? c->owed < OUT_HIGH : c->owed < OUT_LOW);

	if (want && !c->reading)
		ev_io_start(ctl->loop, &c->rio);
	else if (!want && c->reading)
		ev_io_stop(ctl->loop, &c->rio);
	c->reading = want;
	if (conn_can_work(c) && !ev_is_active(&ctl->work_spin))
		ev_idle_start(ctl->loop, &ctl->work_spin);
}

static int out_append(struct conn *c, const char *s, size_t len);
static void mark_dirty(struct conn *c);

/*
 * Writes line to c at once if the socket takes it whole, or takes what it
 * can and keeps the rest as output; false if it needs holding (nothing was
 * written).  Never closes c: a broken socket is closed by the next flush.
 */
static bool
send_now(struct conn *c, const char *line, size_t len)
{
	ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == -1)
		return false;
	if ((size_t)n == len)
		return true;
	if (out_append(c, line + n, len - (size_t)n) < 0) {
		/* half a line was sent: the connection cannot go on */
		c->closing = true;
		mark_dirty(c);
		return true;
	}
	c->owed += len - (size_t)n;
	if (!ev_is_active(&c->wio))
		ev_io_start(c->ctl->loop, &c->wio);
	return true;
}

/* completes the text of a reply object lacking its closing brace (tag,
 * closing, newline); the line, or NULL without memory */
static char *
finish_text(struct jsonw *b, json_t *tag, size_t *ret_len)
{
	char *t = NULL;

	if (tag != NULL) {
		t = json_dumps(
		    tag, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
		if (t == NULL)
			return NULL;
		jw_lit(b, ",\"tag\":");
		jw_lit(b, t);
		free(t);
	}
	jw_put(b, "}\n", 2);
	if (b->oom)
		return NULL;
	*ret_len = b->len;
	return b->s;
}

/* holds msg (consumed), or else the text in b (taken), as the next reply
 * on c */
static void
queue_reply(
    struct conn *c, json_t *msg, struct jsonw *b, bool write, json_t *tag)
{
	struct reply *rp = calloc(1, sizeof(*rp));

	if (rp != NULL && msg == NULL && b != NULL && b->s != NULL) {
		if ((rp->line = finish_text(b, tag, &rp->len)) != NULL)
			b->s = NULL; /* the reply's now */
	} else if (rp != NULL && msg != NULL &&
	    (tag == NULL || json_object_set(msg, "tag", tag) == 0))
		rp->line = proto_dump(msg, &rp->len);
	if (b != NULL) {
		free(b->s);
		b->s = NULL;
	}
	if (rp == NULL || rp->line == NULL) {
		/* without memory for a reply the request's answer would go
		 * missing and later replies would be misread: end the
		 * connection instead; any change it made stays committed */
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		free(rp);
		json_decref(msg);
		c->closing = true;
		mark_dirty(c);
		return;
	}
	json_decref(msg);
	/* a reply that waits for no commit and for no earlier reply goes out
	 * now: a status or list is not held up by the batch's fsync */
	if (!write && c->rhead == NULL && c->out_off == c->out_len &&
	    send_now(c, rp->line, rp->len)) {
		free(rp->line);
		free(rp);
		/* the release after the batch still closes it if it is to */
		mark_dirty(c);
		return;
	}
	rp->write = write;
	rp->tag = json_incref(tag);
	*c->rtail = rp;
	c->rtail = &rp->next;
	c->owed += rp->len;
	mark_dirty(c);
}

static void
reply_free(struct reply *rp)
{
	free(rp->line);
	json_decref(rp->tag);
	free(rp);
}

/* holds a pending reply on c for the backup bk, which it starts */
static void
backup_hold(struct conn *c, struct backup *bk, json_t *tag)
{
	struct ctl *ctl = c->ctl;
	struct reply *rp = calloc(1, sizeof(*rp));

	if (rp == NULL) {
		/* as in queue_reply: a missing answer would shift the rest */
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		store_backup_abort(bk->b);
		free(bk->path);
		free(bk);
		c->closing = true;
		mark_dirty(c);
		return;
	}
	rp->pending = true;
	rp->tag = json_incref(tag);
	*c->rtail = rp;
	c->rtail = &rp->next;
	bk->c = c;
	bk->rp = rp;
	ctl->backup = bk;
	ev_idle_start(ctl->loop, &ctl->spin);
}

/* ends the backup, its file removed; its pending reply goes with its
 * connection */
static void
backup_cancel(struct ctl *ctl, const char *why)
{
	struct backup *bk = ctl->backup;

	if (bk == NULL)
		return;
	log_warnx("backup to '%s' abandoned: %s", bk->path, why);
	ctl->backup = NULL;
	ev_idle_stop(ctl->loop, &ctl->spin);
	store_backup_abort(bk->b);
	free(bk->path);
	free(bk);
}

/* gives the finished backup's pending reply its line (msg, consumed) */
static void
backup_done(struct ctl *ctl, json_t *msg)
{
	struct backup *bk = ctl->backup;
	struct reply *rp = bk->rp;
	struct conn *c = bk->c;

	ctl->backup = NULL;
	ev_idle_stop(ctl->loop, &ctl->spin);
	free(bk->path);
	free(bk);
	if (msg != NULL && rp->tag != NULL &&
	    json_object_set(msg, "tag", rp->tag) < 0) {
		json_decref(msg);
		msg = NULL;
	}
	rp->line = msg != NULL ? proto_dump(msg, &rp->len) : NULL;
	json_decref(msg);
	if (rp->line == NULL) {
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		conn_close(c);
		return;
	}
	rp->pending = false;
	c->owed += rp->len;
	mark_dirty(c);
}

/*
 * Copies the next pages of the backup.  Only between batches: the batch
 * holds changes not yet committed, which a backup must never contain.
 * Committed changes made while the copy runs are mirrored into it by
 * SQLite, so it is consistent as of its last step.
 */
static void
backup_run(struct ctl *ctl)
{
	struct backup *bk = ctl->backup;
	int64_t pages = 0, bytes = 0, left, total;
	char name[256], err[384];
	json_t *msg;
	int rc;

	if (bk == NULL || store_in_txn(ctl->st))
		return;
	rc = store_backup_step(bk->b, BACKUP_STEP_PAGES);
	if (rc == 0) {
		store_backup_progress(bk->b, &left, &total);
		log_debug("backup to '%s': %" PRId64 " of %" PRId64
		          " pages copied",
		    bk->path, total - left, total);
		return;
	}
	if (rc == -EBUSY)
		return;
	if (rc == 1)
		rc = store_backup_finish(bk->b, &pages, &bytes);
	else
		store_backup_abort(bk->b);
	bk->b = NULL;
	if (rc == 0) {
		log_info("backup written to '%s': %" PRId64 " pages, %" PRId64
		         " bytes",
		    bk->path, pages, bytes);
		msg = json_pack("{s:b,s:s,s:I,s:I}", "ok", 1, "path", bk->path,
		    "pages", (json_int_t)pages, "bytes", (json_int_t)bytes);
	} else {
		log_warnx("backup to '%s' failed: %s", bk->path,
		    store_errmsg(ctl->st));
		name_path(name, sizeof(name), bk->path);
		snprintf(err, sizeof(err), "backup to %s failed: %s", name,
		    store_errmsg(ctl->st));
		msg = proto_error(
		    rc == -ENOMEM ? PROTO_INTERNAL : PROTO_UNAVAILABLE, err);
	}
	backup_done(ctl, msg);
}

/* promises indexed for search per idle turn: a few milliseconds at most */
#define FTS_SLICE 128
/* seconds without adds before the index catches up: during a burst the
 * adds go first, and a search catches the index up itself */
#define FTS_QUIET 0.5

static void
fts_quiet_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl *ctl = w->data;

	(void)revents;
	ev_timer_stop(loop, w);
	if (store_fts_behind(ctl->st))
		ev_idle_start(loop, &ctl->fts);
}

/* while the loop has nothing else to do, the search index catches up */
static void
fts_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct ctl *ctl = w->data;

	(void)revents;
	if (store_fts_index(ctl->st, FTS_SLICE) < 0) {
		/* tried again after the next commit, and before any search */
		log_warnx("search index: %s", store_errmsg(ctl->st));
		ev_idle_stop(loop, w);
	} else if (!store_fts_behind(ctl->st))
		ev_idle_stop(loop, w);
}

static void
spin_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	/* nothing: being active keeps the loop from blocking, so the
	 * prepare watcher's commit and ctl_after_commit keep coming */
	(void)loop;
	(void)w;
	(void)revents;
}

static void
apply_change(struct ctl *ctl, const struct sched_change *ch)
{
	if (ch->what == CHANGE_ARM) {
		if (sched_arm(ctl->s, &ch->p) < 0)
			log_warnx("promise %" PRId64 ": out of memory "
			          "scheduling it; it is kept in the database "
			          "and scheduled at the next start",
			    ch->p.id);
	} else if (ch->what == CHANGE_CANCEL)
		sched_cancel(ctl->s, ch->p.id);
}

/* a refused action leaves its trace in the promise's history, and
 * changes nothing else; a stranger's repeats count in one event a day,
 * so refusals are no channel to write into someone's history */
static void
record_refusal(struct req *r, const char *op)
{
	int rc = store_savepoint(r->ctl->st);

	if (rc == 0) {
		rc = store_refusal(r->ctl->st, r->refused, r->now, r->c->login,
		    op, REFUSAL_WINDOW);
		if (rc == 0)
			rc = store_release(r->ctl->st);
		else
			store_rollback_savepoint(r->ctl->st);
	}
	if (rc < 0)
		log_warnx("promise %" PRId64 ": cannot record a refusal of "
		          "'%s': %s",
		    r->refused, r->c->login, store_errmsg(r->ctl->st));
}

static void
handle_line(struct conn *c, const char *line, size_t len)
{
	struct req r;
	const struct op *op = NULL;
	const char *name;
	json_t *tag = NULL;
	enum proto_err e;
	size_t i;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ctl = c->ctl;
	r.c = c;
	r.len = len;
	r.now = util_now();
	e = proto_parse_request(
	    line, len, &r.body, &name, r.err, sizeof(r.err));
	if (e != PROTO_OK)
		goto out;
	tag = json_object_get(r.body, "tag");
	for (i = 0; i < ARRAY_SIZE(ops); i++)
		if (strcmp(ops[i].name, name) == 0)
			op = &ops[i];
	if (op == NULL) {
		/* echo a name only whole: a cut one may split a character */
		if (strlen(name) <= 64)
			snprintf(r.err, sizeof(r.err),
			    "field 'op': unknown op '%s'", name);
		else
			snprintf(
			    r.err, sizeof(r.err), "field 'op': unknown op");
		e = PROTO_INVALID;
		goto out;
	}
	if (op->write && (rc = store_savepoint(c->ctl->st)) < 0) {
		e = store_failed(&r, rc);
		goto out;
	}
	e = op->fn(&r);
	if (op->write) {
		if (e == PROTO_OK && (rc = store_release(c->ctl->st)) < 0)
			e = store_failed(&r, rc);
		if (e != PROTO_OK) {
			store_rollback_savepoint(c->ctl->st);
		} else {
			apply_change(c->ctl, &r.change);
			apply_change(c->ctl, &r.change2);
			if (r.note[0] != '\0')
				log_info("%s", r.note);
		}
	}
	if (r.refused > 0)
		record_refusal(&r, name);
out:
	if (e != PROTO_OK) {
		json_decref(r.reply);
		r.reply = proto_error(e, r.err);
		free(r.text.s);
		r.text.s = NULL;
	}
	if (r.backup != NULL)
		backup_hold(c, r.backup, tag);
	else
		queue_reply(c, r.reply, &r.text,
		    op != NULL && op->write && e == PROTO_OK, tag);
	json_decref(r.body);
}

/*
 * The time spent on uid's requests in this turn of the loop, to be added
 * to; NULL without memory to keep count, and then the user is not held
 * back.  The table holds the users served this turn, a handful.
 */
static ev_tstamp *
turn_spent(struct ctl *ctl, uid_t uid)
{
	struct turn_user *tu;
	size_t i, cap;

	if (ctl->turn != ev_iteration(ctl->loop)) {
		ctl->turn = ev_iteration(ctl->loop);
		ctl->n_turn_users = 0;
	}
	for (i = 0; i < ctl->n_turn_users; i++)
		if (ctl->turn_users[i].uid == uid)
			return &ctl->turn_users[i].spent;
	if (ctl->n_turn_users == ctl->cap_turn_users) {
		cap = ctl->cap_turn_users ? 2 * ctl->cap_turn_users : 16;
		tu = realloc(ctl->turn_users, cap * sizeof(*tu));
		if (tu == NULL)
			return NULL;
		ctl->turn_users = tu;
		ctl->cap_turn_users = cap;
	}
	tu = &ctl->turn_users[ctl->n_turn_users++];
	tu->uid = uid;
	tu->spent = 0;
	return &tu->spent;
}

/* true if c's user has had their time this turn */
static bool
user_done(struct conn *c)
{
	ev_tstamp *spent = turn_spent(c->ctl, c->uid);

	return spent != NULL && *spent >= USER_SLICE;
}

/*
 * Takes up c's requests in hand until none is left, its replies pile up
 * past OUT_HIGH, or its user has had USER_SLICE this turn (a user who had
 * nothing yet gets one request at least).  The rest wait for a later
 * turn (work_cb); the lines before an unreadable one, or before the end
 * of the input, are answered before the connection is closed.
 */
static void
conn_work(struct conn *c)
{
	ev_tstamp *spent = turn_spent(c->ctl, c->uid), t0, t;
	char msg[96];
	char *line;
	size_t len;

	while (conn_can_work(c) && (spent == NULL || *spent < USER_SLICE)) {
		t0 = ev_time();
		line = linebuf_next(&c->in, &len);
		if (len > 0)
			handle_line(c, line, len);
		t = ev_time();
		if (spent != NULL)
			*spent += t > t0 ? t - t0 : 1e-6;
	}
	if (!linebuf_has_line(&c->in) && !c->closing && c->in_err != 0) {
		snprintf(msg, sizeof(msg),
		    c->in_err == -E2BIG
		        ? "request line longer than %d bytes"
		        : "out of memory reading a request of %d bytes",
		    PROTO_MAX_LINE);
		queue_reply(c,
		    proto_error(
		        c->in_err == -E2BIG ? PROTO_INVALID : PROTO_INTERNAL,
		        msg),
		    NULL, false, NULL);
		c->closing = true;
	} else if (!linebuf_has_line(&c->in) && !c->closing && c->eof) {
		/* the client is done sending and has its answers */
		c->closing = true;
		mark_dirty(c);
	}
	update_reading(c);
}

/*
 * One turn's work on the requests left over: each connection with some
 * whose user has time left this turn, starting where the last turn
 * stopped, until TURN_SECONDS is spent.  Runs after the loop's poll, so
 * the next prepare commits what it did with the rest of the turn.
 */
static void
work_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct ctl *ctl = w->data;
	ev_tstamp end = ev_time() + TURN_SECONDS;
	struct conn *c, *next;
	bool more = false;
	size_t i, n = ctl->n_conns;

	(void)revents;
	if (!ev_is_active(&ctl->work_spin))
		return;
	c = ctl->work_next != NULL ? ctl->work_next : ctl->conns;
	ctl->work_next = NULL;
	for (i = 0; i < n && c != NULL; i++, c = next) {
		/* taking requests up never closes a connection */
		next = c->next != NULL ? c->next : ctl->conns;
		if (!conn_can_work(c))
			continue;
		if (ev_time() >= end) {
			ctl->work_next = c;
			more = true;
			break;
		}
		if (!user_done(c))
			conn_work(c);
		more = more || conn_can_work(c);
	}
	if (!more)
		ev_idle_stop(loop, &ctl->work_spin);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	char buf[READ_CHUNK];
	ssize_t n;
	int r;

	(void)revents;
	n = read(c->fd, buf, sizeof(buf));
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_debug("client %s: read: %s", c->login, strerror(errno));
		conn_close(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	else if ((r = linebuf_append(&c->in, buf, (size_t)n)) < 0)
		c->in_err = r;
	if (linebuf_has_line(&c->in))
		c->active = ev_now(loop);
	conn_work(c);
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	conn_flush(c);
}

/* writes what is ready; closes the connection when it is finished */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_debug(
			    "client %s: write: %s", c->login, strerror(errno));
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
		c->owed -= (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		ev_io_stop(c->ctl->loop, &c->wio);
		if (c->closing && c->rhead == NULL) {
			conn_close(c);
			return;
		}
	} else if (!ev_is_active(&c->wio))
		ev_io_start(c->ctl->loop, &c->wio);
	update_reading(c);
}

static int
out_append(struct conn *c, const char *s, size_t len)
{
	char *nb;
	size_t cap;

	if (c->out_len + len > c->out_cap) {
		cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (nb == NULL)
			return -ENOMEM;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return 0;
}

/* swaps the reply to a change the batch failed to commit for an error */
static int
reply_refuse(struct conn *c, struct reply *rp)
{
	json_t *msg;
	char *line;
	size_t len;

	msg = proto_error(PROTO_UNAVAILABLE,
	    "the database could not commit this change; nothing was changed, "
	    "try again");
	if (msg != NULL && rp->tag != NULL)
		json_object_set(msg, "tag", rp->tag);
	line = msg != NULL ? proto_dump(msg, &len) : NULL;
	json_decref(msg);
	if (line == NULL)
		return -ENOMEM;
	c->owed = c->owed - rp->len + len;
	free(rp->line);
	rp->line = line;
	rp->len = len;
	return 0;
}

/*
 * After a batch: settles every held reply, failed changes becoming
 * errors, then moves them to the output in order up to the first one
 * still pending (a backup being written); those behind it wait for it.
 */
static void
conn_release(struct conn *c, bool ok)
{
	struct reply *rp;
	bool broken = false;

	for (rp = c->rhead; rp != NULL; rp = rp->next) {
		if (rp->write && !ok && reply_refuse(c, rp) < 0)
			broken = true;
		/* settled: a later batch's outcome is not this reply's */
		rp->write = false;
	}
	while (!broken && (rp = c->rhead) != NULL && !rp->pending) {
		if (out_append(c, rp->line, rp->len) < 0) {
			broken = true;
			break;
		}
		c->rhead = rp->next;
		reply_free(rp);
	}
	if (c->rhead == NULL)
		c->rtail = &c->rhead;
	if (broken) {
		log_warnx(
		    "client %s: out of memory for replies; closing", c->login);
		conn_close(c);
		return;
	}
	conn_flush(c);
}

void
ctl_after_commit(struct ctl *ctl, bool ok)
{
	struct conn *c, *next;

	/* first, so that a backup finishing now is answered now */
	backup_run(ctl);
	if (ctl->st != NULL && store_fts_behind(ctl->st) &&
	    store_max_id(ctl->st) != ctl->fts_adds) {
		/* new promises: wait for a pause in the adds */
		ctl->fts_adds = store_max_id(ctl->st);
		ev_idle_stop(ctl->loop, &ctl->fts);
		ev_timer_stop(ctl->loop, &ctl->fts_quiet);
		ev_timer_again(ctl->loop, &ctl->fts_quiet);
	}
	c = ctl->dirty;
	ctl->dirty = NULL;
	for (; c != NULL; c = next) {
		next = c->dnext;
		c->dirty = false;
		conn_release(c, ok);
	}
}

static void
conn_close(struct conn *c)
{
	struct ctl *ctl = c->ctl;
	struct conn **pp;
	struct reply *rp, *next;

	if (ctl->backup != NULL && ctl->backup->c == c)
		backup_cancel(ctl, "its client is gone");
	ev_io_stop(ctl->loop, &c->rio);
	ev_io_stop(ctl->loop, &c->wio);
	close(c->fd);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	ctl->n_conns--;
	if (ctl->work_next == c)
		ctl->work_next = c->next;
	if (c->dirty) {
		for (pp = &ctl->dirty; *pp != c; pp = &(*pp)->dnext)
			;
		*pp = c->dnext;
	}
	for (rp = c->rhead; rp != NULL; rp = next) {
		next = rp->next;
		reply_free(rp);
	}
	linebuf_free(&c->in);
	free(c->out);
	import_drop(c);
	free(c);
}

/* the caller's login, from the kernel's word on who is connected */
static int
peer_login(int fd, char *buf, size_t len, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	struct passwd pw, *res = NULL;
	char pwbuf[4096];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1)
		return -errno;
	*ret_uid = cred.uid;
	if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL && util_login_ok(res->pw_name))
		util_strlcpy(buf, res->pw_name, len);
	else
		snprintf(buf, len, "uid:%u", (unsigned)cred.uid);
	return 0;
}

/*
 * Closes connections that sent no whole request for idle_timeout and have
 * none that may be taken up now: a client trickling a byte now and then,
 * one reading its replies a little at a time, or one gone quiet, must not
 * hold a connection slot for ever.  One sweep
 * every quarter period over at most max_connections is cheaper than a
 * timer per connection (ev.pod, "Be smart about timeouts").
 */
static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl *ctl = w->data;
	ev_tstamp limit = ev_now(loop) - (ev_tstamp)ctl->conf->idle_timeout;
	struct conn *c, *next;
	static const char bye[] =
	    "{\"ok\":false,\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"connection idle for too long; closed\"}}\n";

	(void)revents;
	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (c->active >= limit || conn_can_work(c) ||
		    (ctl->backup != NULL && ctl->backup->c == c))
			continue;
		log_debug("client %s: idle, closing", c->login);
		/* the reason is a line of its own, never inside another */
		if (c->out_off == c->out_len)
			(void)!send(c->fd, bye, sizeof(bye) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(c);
	}
	w->repeat = (ev_tstamp)ctl->conf->idle_timeout / 4.;
	ev_timer_again(loop, w);
}

/*
 * Out of descriptors (or kernel memory): the connection waits in the
 * backlog, and accepting it again at once would fail again at once, a
 * busy loop.  Accepting pauses instead, till a client has had time to
 * leave; logged once until a connection is accepted again.
 */
static void
accept_pause(struct ctl *ctl, int err)
{
	if (!ctl->fd_short)
		log_warnx("accept: %s, with %zu clients connected; pausing "
		          "new connections (max_connections is %zu)",
		    strerror(err), ctl->n_conns, ctl->max_conns);
	ctl->fd_short = true;
	ev_io_stop(ctl->loop, &ctl->lio);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	ev_timer_set(&ctl->accept_again, ACCEPT_PAUSE, 0.);
	ev_timer_start(ctl->loop, &ctl->accept_again);
}

static void
accept_again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl *ctl = w->data;

	(void)revents;
	if (!ctl->shutting_down)
		ev_io_start(loop, &ctl->lio);
}

/*
 * max_connections, or fewer if the open-file limit would run out first:
 * a client over the cap is told so, one past the limit would only find
 * accept failing.
 */
static void
set_max_conns(struct ctl *ctl)
{
	const struct conf *c = ctl->conf;
	struct rlimit rl;
	rlim_t keep = FD_RESERVE + 2 * (rlim_t)c->concurrency, room;

	ctl->max_conns = (size_t)c->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return;
	room = rl.rlim_cur > keep + 1 ? rl.rlim_cur - keep : 1;
	if ((rlim_t)c->max_connections <= room)
		return;
	ctl->max_conns = (size_t)room;
	log_warnx("max_connections = %" PRId64 " is more than the limit of "
	          "%llu open files allows; at most %zu clients are served",
	    c->max_connections, (unsigned long long)rl.rlim_cur,
	    ctl->max_conns);
}

/* tells a client it is not served (a message of printable ASCII with
 * nothing to escape) and closes its connection */
static void
turn_away(int fd, const char *why)
{
	char line[256];
	int n = snprintf(line, sizeof(line),
	    "{\"ok\":false,\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"%s\"}}\n",
	    why);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/*
 * True (and c's connection turned away) if c's user already holds
 * max_connections_per_user: one user holding every connection would lock
 * everyone else out.  Root and admins may hold more, to mend things.
 * Counting walks the connections, at most max_connections of them.
 */
static bool
over_share(struct ctl *ctl, struct conn *c)
{
	const struct conn *o;
	int64_t n = 0;
	char why[160];

	if (c->uid == 0 || conf_is_admin(ctl->conf, c->login))
		return false;
	for (o = ctl->conns; o != NULL; o = o->next)
		if (o->uid == c->uid)
			n++;
	if (n < ctl->conf->max_connections_per_user)
		return false;
	log_debug("client %s: turned away, holding %" PRId64
	          " connections already",
	    c->login, n);
	/* the login is checked (util_login_ok) or "uid:N": nothing to escape */
	snprintf(why, sizeof(why),
	    "too many connections from '%s' (at most %" PRId64 " per user)",
	    c->login, ctl->conf->max_connections_per_user);
	turn_away(c->fd, why);
	return true;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl *ctl = w->data;
	struct conn *c;
	int fd, i, r;

	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_pause(ctl, errno);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (ctl->fd_short) {
			log_info("accepting connections again");
			ctl->fd_short = false;
		}
		if (ctl->n_conns >= ctl->max_conns) {
			turn_away(fd, "too many connections");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			log_warnx("accept: out of memory");
			close(fd);
			return;
		}
		c->ctl = ctl;
		c->fd = fd;
		c->rtail = &c->rhead;
		linebuf_init(&c->in, PROTO_MAX_LINE);
		if ((r = peer_login(fd, c->login, sizeof(c->login), &c->uid)) <
		    0) {
			log_warnx("accept: cannot tell who connected: %s",
			    strerror(-r));
			linebuf_free(&c->in);
			free(c);
			close(fd);
			continue;
		}
		if (over_share(ctl, c)) {
			linebuf_free(&c->in);
			free(c);
			continue;
		}
		ev_io_init(&c->rio, read_cb, fd, EV_READ);
		ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
		c->rio.data = c->wio.data = c;
		c->next = ctl->conns;
		if (ctl->conns != NULL)
			ctl->conns->pprev = &c->next;
		ctl->conns = c;
		c->pprev = &ctl->conns;
		ctl->n_conns++;
		c->active = ev_now(loop);
		ev_io_start(loop, &c->rio);
		c->reading = true;
	}
}

/* true if something answers on path, i.e. another promised is running */
static bool
socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd == -1)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

static int
listen_on(struct ctl *ctl, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;
	int fd = -1, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &sb) == 0) {
		/* only a socket is ours to replace: a typo in [daemon] socket
		 * must never cost the file it names */
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen,
			    "socket path '%s' is taken by something that is "
			    "not a socket; refusing to replace it",
			    path);
			return -EEXIST;
		}
		if (socket_alive(&sun)) {
			snprintf(err, errlen,
			    "another promised is already listening on '%s'",
			    path);
			return -EADDRINUSE;
		}
		/* a socket file left by a crash answers nobody: replace it */
		if (unlink(path) == -1 && errno != ENOENT) {
			r = -errno;
			goto fail;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		r = -errno;
		goto fail;
	}
	/* created 0660 from the start: never a moment where it is wider */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ? -errno : 0;
	umask(old);
	if (r < 0)
		goto fail;
	if (listen(fd, 128) == -1) {
		r = -errno;
		goto fail;
	}
	if ((ctl->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	ctl->fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(-r));
	if (fd != -1)
		close(fd);
	return r;
}

int
ctl_open(struct ctl **ret, struct ev_loop *loop, const struct conf *c, int fd,
    char *err, size_t errlen)
{
	struct ctl *ctl;
	int r;

	*ret = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->conf = c;
	ctl->fd = fd;
	ctl->started_at = util_now();
	if (fd < 0 && (r = listen_on(ctl, c->socket, err, errlen)) < 0) {
		free(ctl);
		return r;
	}
	ev_init(&ctl->idle, idle_cb);
	ctl->idle.data = ctl;
	ctl->idle.repeat = (ev_tstamp)c->idle_timeout / 4.;
	ev_timer_again(loop, &ctl->idle);
	ev_io_init(&ctl->lio, accept_cb, ctl->fd, EV_READ);
	ctl->lio.data = ctl;
	ev_io_start(loop, &ctl->lio);
	ev_init(&ctl->accept_again, accept_again_cb);
	ctl->accept_again.data = ctl;
	set_max_conns(ctl);
	ev_idle_init(&ctl->spin, spin_cb);
	ev_idle_init(&ctl->work_spin, spin_cb);
	ev_check_init(&ctl->work, work_cb);
	ctl->work.data = ctl;
	ev_check_start(loop, &ctl->work);
	ev_idle_init(&ctl->fts, fts_cb);
	ctl->fts.data = ctl;
	ev_timer_init(&ctl->fts_quiet, fts_quiet_cb, 0., FTS_QUIET);
	ctl->fts_quiet.data = ctl;
	*ret = ctl;
	return 0;
}

void
ctl_attach(
    struct ctl *ctl, struct store *st, struct sched *s, struct deliver *dl)
{
	ctl->st = st;
	ctl->s = s;
	ctl->dl = dl;
}

void
ctl_set_conf(struct ctl *ctl, const struct conf *c)
{
	ctl->conf = c;
	set_max_conns(ctl);
}

void
ctl_shutdown(struct ctl *ctl)
{
	struct conn *c;

	ctl->shutting_down = true;
	ev_io_stop(ctl->loop, &ctl->lio);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	for (c = ctl->conns; c != NULL; c = c->next)
		update_reading(c);
}

bool
ctl_busy(const struct ctl *ctl)
{
	const struct conn *c;

	/* a backup owes its asker a reply */
	if (ctl->backup != NULL)
		return true;
	for (c = ctl->conns; c != NULL; c = c->next)
		if (c->owed > 0)
			return true;
	return false;
}

struct ctl *
ctl_close(struct ctl *ctl)
{
	struct stat sb;

	if (ctl == NULL)
		return NULL;
	backup_cancel(ctl, "promised is stopping");
	ev_timer_stop(ctl->loop, &ctl->idle);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	ev_idle_stop(ctl->loop, &ctl->fts);
	ev_idle_stop(ctl->loop, &ctl->work_spin);
	ev_check_stop(ctl->loop, &ctl->work);
	while (ctl->conns != NULL)
		conn_close(ctl->conns);
	free(ctl->turn_users);
	ev_io_stop(ctl->loop, &ctl->lio);
	if (ctl->fd != -1)
		close(ctl->fd);
	if (ctl->path != NULL) {
		/* ours only while it is still a socket: what was put there
		 * since is not for us to remove */
		if (lstat(ctl->path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			(void)unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
	return NULL;
}
