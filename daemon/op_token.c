/* SPDX-License-Identifier: MIT */
/*
 * op_token.c: the operations on the secrets that stand for a person: API
 * tokens made, listed and revoked (sessions of the web page are listed and
 * revoked beside them), and a sign-in link asked for by email address.
 * The store keeps only hashes; a token's secret is in the one reply that
 * creates it and nowhere else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "auth_impl.h"
#include "auth_session.h"
#include "op_impl.h"

/* live API tokens one person may hold, and the length of a name */
#define TOKENS_MAX 50
#define TOKEN_NAME_MAX 64

static json_t *
time_or_null(int64_t t)
{
	return t != 0 ? json_integer(t) : json_null();
}

/* a TOKEN object of PROTOCOL.md; NULL without memory */
static json_t *
token_json(const struct token_rec *t)
{
	return json_pack("{s:I,s:s,s:s,s:s?,s:I,s:o,s:o}", "id",
	    (json_int_t)t->id, "kind", t->kind, "owner", t->owner, "name",
	    t->name, "created_at", (json_int_t)t->created_at, "last_used_at",
	    time_or_null(t->last_used_at), "expires_at",
	    time_or_null(t->expires_at));
}

static int
list_cb(void *arg, const struct token_rec *t)
{
	json_t *o = token_json(t);

	return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

static int
count_cb(void *arg, const struct token_rec *t)
{
	if (strcmp(t->kind, "api") == 0)
		(*(int64_t *)arg)++;
	return 0;
}

enum proto_err
op_token_create(struct req *r)
{
	char secret[AUTH_SECRET_LEN + 1], hex[AUTH_HASH_LEN + 1];
	struct token_rec t = {.kind = "api"};
	int64_t n = 0;
	enum proto_err e;
	int rc;

	e = op_get_text(r, "name", false, TOKEN_NAME_MAX, false, &t.name);
	if (e != PROTO_OK)
		return e;
	rc = store_token_list(r->ctx->st, r->who->login, r->now, count_cb, &n);
	if (rc < 0)
		return op_store_failed(r, rc);
	if (n >= TOKENS_MAX) {
		snprintf(r->err, sizeof(r->err),
		    "%s holds %d tokens already; revoke one first",
		    r->who->login, TOKENS_MAX);
		return PROTO_CONFLICT;
	}
	if (auth_secret_new(AUTH_PREFIX_TOKEN, secret, sizeof(secret)) < 0 ||
	    auth_secret_hash(secret, hex) < 0) {
		snprintf(r->err, sizeof(r->err), "cannot make a secret");
		return PROTO_INTERNAL;
	}
	t.hash = hex;
	t.owner = r->who->login;
	t.created_at = r->now;
	e = PROTO_INTERNAL;
	if ((rc = store_token_add(r->ctx->st, &t, &t.id)) < 0) {
		e = op_store_failed(r, rc);
		goto out;
	}
	r->reply = json_pack("{s:b,s:o,s:s}", "ok", 1, "token", token_json(&t),
	    "secret", secret);
	if (r->reply == NULL)
		goto out;
	snprintf(r->note, sizeof(r->note), "token %lld created for %s%s%s%s",
	    (long long)t.id, r->who->login, t.name ? " ('" : "",
	    t.name ? t.name : "", t.name ? "')" : "");
	e = PROTO_OK;
out:
	explicit_bzero(secret, sizeof(secret));
	return e;
}

enum proto_err
op_token_list(struct req *r)
{
	bool all = false;
	enum proto_err e;
	json_t *arr;
	int rc;

	e = proto_get_bool(r->body, "all", &all, r->err, sizeof(r->err));
	if (e != PROTO_OK)
		return e;
	if (all && !is_admin(r)) {
		snprintf(r->err, sizeof(r->err),
		    "only admins may list everyone's tokens");
		return PROTO_FORBIDDEN;
	}
	if ((arr = json_array()) == NULL)
		return PROTO_INTERNAL;
	rc = store_token_list(
	    r->ctx->st, all ? NULL : r->who->login, r->now, list_cb, arr);
	if (rc < 0) {
		json_decref(arr);
		return rc == -ENOMEM ? PROTO_INTERNAL : op_store_failed(r, rc);
	}
	r->reply = json_pack("{s:b,s:o}", "ok", 1, "tokens", arr);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

enum proto_err
op_token_revoke(struct req *r)
{
	enum proto_err e;
	int64_t id;
	int rc;

	if ((e = op_get_id(r, &id)) != PROTO_OK)
		return e;
	/* someone else's token is answered as one never made */
	rc = store_token_revoke(
	    r->ctx->st, id, is_admin(r) ? NULL : r->who->login, r->now);
	if (rc == -ENOENT) {
		snprintf(
		    r->err, sizeof(r->err), "no token %lld", (long long)id);
		return PROTO_NOT_FOUND;
	}
	if (rc < 0)
		return op_store_failed(r, rc);
	r->reply = proto_ok();
	snprintf(r->note, sizeof(r->note), "token %lld revoked by %s",
	    (long long)id, r->who->login);
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}

enum proto_err
op_signin(struct req *r)
{
	const char *address;
	enum proto_err e;
	int rc;

	e = op_get_text(r, "email", true, 254, false, &address);
	if (e != PROTO_OK)
		return e;
	if ((rc = auth_signin_request(r->ctx, address, r->now)) < 0)
		return rc == -ENOMEM ? PROTO_INTERNAL : op_store_failed(r, rc);
	r->reply = proto_ok();
	return r->reply ? PROTO_OK : PROTO_INTERNAL;
}
