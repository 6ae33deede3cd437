/* SPDX-License-Identifier: MIT */
/*
 * auth_session.c: sign-in by email (auth_session.h).  A sign-in secret
 * and a session are rows of the token table like an API token, of kinds
 * "signin" and "session", kept only as hashes.  Requests for a link are
 * limited per address and in all, whether or not the address is known.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "auth_impl.h"
#include "auth_session.h"
#include "event.h"
#include "log.h"
#include "util.h"

int
auth_session_begin(
    struct op_ctx *ctx, const char *signin_secret, char *cookie_out, size_t n)
{
	struct op_caller who;
	char cookie[AUTH_SECRET_LEN + 1], hex[AUTH_HASH_LEN + 1];
	struct token_rec t = {.kind = "session", .name = "web sign-in"};
	int64_t id, sid, now = util_now();
	bool saved = false;
	int r;

	if (n < AUTH_COOKIE_MAX)
		return -EINVAL;
	r = auth_check(
	    ctx, signin_secret, AUTH_PREFIX_SIGNIN, "signin", &who, &id);
	if (r < 0)
		return r;
	if ((r = auth_secret_new(AUTH_PREFIX_SESSION, cookie, sizeof(cookie))) <
	        0 ||
	    (r = auth_secret_hash(cookie, hex)) < 0 ||
	    (r = store_begin(ctx->st)) < 0 ||
	    (r = store_savepoint(ctx->st)) < 0)
		goto out;
	saved = true;
	/* used up first: of two at once, only one gets a session */
	r = store_token_revoke(ctx->st, id, NULL, now);
	if (r == -ENOENT)
		r = -EACCES;
	if (r < 0)
		goto out;
	t.hash = hex;
	t.owner = who.login;
	t.created_at = now;
	t.last_used_at = now;
	t.expires_at = now + AUTH_SESSION_TTL;
	if ((r = store_token_add(ctx->st, &t, &sid)) < 0)
		goto out;
	r = store_release(ctx->st);
	saved = false;
	if (r == 0) {
		log_info("session %lld opened for %s by sign-in link %lld",
		    (long long)sid, who.login, (long long)id);
		util_strlcpy(cookie_out, cookie, n);
	}
out:
	if (saved)
		store_rollback_savepoint(ctx->st);
	explicit_bzero(cookie, sizeof(cookie));
	return r;
}

int
auth_session_check(
    struct op_ctx *ctx, const char *cookie, struct op_caller *out)
{
	return auth_check(
	    ctx, cookie, AUTH_PREFIX_SESSION, "session", out, NULL);
}

int
auth_session_end(struct op_ctx *ctx, const char *cookie)
{
	struct op_caller who;
	int64_t id;
	int r;

	r = auth_check(ctx, cookie, AUTH_PREFIX_SESSION, "session", &who, &id);
	if (r < 0)
		return r;
	if ((r = store_begin(ctx->st)) < 0 ||
	    (r = store_token_revoke(ctx->st, id, NULL, util_now())) < 0)
		return r == -ENOENT ? -EACCES : r;
	log_info("session %lld of %s signed out", (long long)id, who.login);
	return 0;
}

/* whether one more request for a link to address is allowed at now:
 * counted whether or not anyone has the address */
static bool
allowed(struct auth *a, const char *address, int64_t now)
{
	char low[256], hex[AUTH_HASH_LEN + 1];
	struct auth_tries *t;
	size_t i;
	unsigned slot;

	for (i = 0; address[i] != '\0' && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)address[i]);
	low[i] = '\0';
	if (auth_secret_hash(low, hex) < 0)
		return false;
	if (now - a->global_since >= AUTH_TRIES_WINDOW) {
		a->global_since = now;
		a->global_n = 0;
	}
	if (a->global_n >= AUTH_TRIES_GLOBAL)
		return false;
	/* one slot per address by its hash; two addresses in one slot at
	 * once share its count, which errs on the side of fewer messages */
	sscanf(hex, "%4x", &slot);
	t = &a->tries[slot % AUTH_TRIES_SLOTS];
	if (t->key[0] == '\0' || now - t->since >= AUTH_TRIES_WINDOW) {
		memcpy(t->key, hex, sizeof(hex));
		t->since = now;
		t->n = 0;
	}
	if (t->n >= AUTH_TRIES_PER_ADDRESS)
		return false;
	t->n++;
	a->global_n++;
	return true;
}

int
auth_signin_request(struct op_ctx *ctx, const char *address, int64_t now)
{
	char secret[AUTH_SECRET_LEN + 1], hex[AUTH_HASH_LEN + 1], url[2048];
	struct token_rec t = {.kind = "signin", .name = "sign-in link"};
	const struct person *p;
	struct auth *a;
	json_t *base = NULL, *out = NULL;
	int64_t id;
	int r = 0;

	if ((a = auth_get(ctx)) == NULL)
		return -ENOMEM;
	if (!allowed(a, address, now)) {
		log_warnx("sign-in: too many requests for a link lately; "
		          "this one is answered but not sent");
		return 0;
	}
	p = conf_person_by_email(ctx->conf, address);
	if (p == NULL)
		return 0;
	if (ctx->conf->http_base_url == NULL) {
		log_warnx("sign-in: %s asked for a link, but [http] base_url "
		          "is not set to build it from",
		    p->login);
		return 0;
	}
	if ((r = auth_secret_new(AUTH_PREFIX_SIGNIN, secret, sizeof(secret))) <
	        0 ||
	    (r = auth_secret_hash(secret, hex)) < 0)
		goto out;
	t.hash = hex;
	t.owner = p->login;
	t.created_at = now;
	t.expires_at = now + AUTH_SIGNIN_TTL;
	/* what expired a while ago goes as new ones come: the table holds
	 * a few days of sign-ins at the rate allowed */
	if ((r = store_token_prune(ctx->st, now - AUTH_PRUNE_AFTER)) < 0 ||
	    (r = store_token_add(ctx->st, &t, &id)) < 0)
		goto out;
	if ((size_t)snprintf(url, sizeof(url), "%s/signin/%s",
	        ctx->conf->http_base_url, secret) >= sizeof(url)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	base = json_pack("{s:s,s:I,s:{s:s,s:I}}", "event",
	    event_type_name(EVENT_SIGNIN), "occurred_at", (json_int_t)now,
	    "signin", "url", url, "expires_at", (json_int_t)t.expires_at);
	out = json_array();
	if (base == NULL || out == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = deliver_signin(ctx->dl, p->login, base, out)) < 0)
		goto out;
	log_info("sign-in link %lld sent to %s", (long long)id, p->login);
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(url, sizeof(url));
	json_decref(base);
	json_decref(out);
	return r;
}
