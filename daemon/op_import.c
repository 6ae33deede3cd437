/* SPDX-License-Identifier: MIT */
/*
 * op_import.c: import, many promises in one step, all or none, sent in
 * one request or in parts held by the session.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "op_impl.h"
#include "timefmt.h"
#include "util.h"

/* the bytes of requests a session may hold for an import until its
 * last part (and PROTO_IMPORT_MAX promises): all of it is then done in
 * one batch, which holds other requests up meanwhile (about 0.5 s for
 * 10,000 on a 2-core VM) */
#define IMPORT_MAX_BYTES (4 * 1024 * 1024)

/* the bytes of import parts held by all sessions together: a user
 * opening connection after connection must not fill the memory */
#define IMPORT_STAGED_MAX (32 * 1024 * 1024)

void
op_session_end(struct op_ctx *ctx, struct op_session *ss)
{
	size_t i;

	for (i = 0; i < ss->import_parts; i++)
		free(ss->import[i]);
	free(ss->import);
	ss->import = NULL;
	ctx->staged -= ss->import_bytes;
	ss->import_parts = ss->import_items = ss->import_bytes = 0;
}

/*
 * A part of an import with more to come: its promises are held on the
 * session, as text, until the last part, and dropped with it.
 */
static enum proto_err
import_stage(struct req *r, json_t *items)
{
	struct op_session *ss = r->ss;
	struct op_ctx *ctx = r->ctx;
	char **parts, *text;

	if (ctx->staged + r->len > (size_t)IMPORT_STAGED_MAX) {
		snprintf(r->err, sizeof(r->err),
		    "busy: imports under way hold %zu KiB of parts, near the "
		    "%d MiB promised keeps at once; nothing was imported, "
		    "send the import again later",
		    ctx->staged >> 10, IMPORT_STAGED_MAX >> 20);
		return PROTO_UNAVAILABLE;
	}
	parts = realloc(ss->import, (ss->import_parts + 1) * sizeof(*parts));
	if (parts == NULL)
		return PROTO_INTERNAL;
	ss->import = parts;
	if ((text = json_dumps(items, JSON_COMPACT)) == NULL)
		return PROTO_INTERNAL;
	ss->import[ss->import_parts++] = text;
	ss->import_items += json_array_size(items);
	ss->import_bytes += r->len;
	ctx->staged += r->len;
	r->reply = json_pack(
	    "{s:b,s:I}", "ok", 1, "staged", (json_int_t)ss->import_items);
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

	json_array_foreach(items, i, item) {
		r->err[0] = '\0';
		if (!json_is_object(item)) {
			snprintf(r->err, sizeof(r->err), "not an object");
			e = PROTO_INVALID;
		} else if ((e = op_read_new(r, item, &p)) == PROTO_OK &&
		    (e = op_check_owner(r, &p)) == PROTO_OK &&
		    (e = op_resolve_new(r, item, &p)) == PROTO_OK && !ir->dry &&
		    (e = op_create(r, &p, 0, &ch)) == PROTO_OK) {
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
	struct op_session *ss = r->ss;
	json_t *items;
	enum proto_err e;
	size_t i;

	for (i = 0; i < ss->import_parts; i++) {
		if ((items = json_loads(ss->import[i], 0, NULL)) == NULL)
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
 * request comes in parts in one session (a connection), each but the
 * last with "more": true; the last one acts on them all, indexed as one
 * list.
 */
enum proto_err
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
	n = json_array_size(part) + r->ss->import_items;
	if (n > PROTO_IMPORT_MAX ||
	    r->ss->import_bytes + r->len > (size_t)IMPORT_MAX_BYTES) {
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
		if (sched_arm(r->ctx->s, &ir.made[i]) < 0)
			log_warnx("promise %" PRId64 ": out of memory "
			          "scheduling it; it is kept in the database "
			          "and scheduled at the next start",
			    ir.made[i].id);
	r->reply = json_pack("{s:b,s:I,s:O}", "ok", 1, "imported",
	    (json_int_t)ir.n_made, "ids", ir.ids);
	e = r->reply ? PROTO_OK : PROTO_INTERNAL;
out:
	/* the last part, or any failure, ends the import under way */
	op_session_end(r->ctx, r->ss);
keep:
	json_decref(ir.bad);
	json_decref(ir.ids);
	free(ir.made);
	return e;
}
