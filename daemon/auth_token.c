/* SPDX-License-Identifier: MIT */
/*
 * auth_token.c: the check of a secret that stands for a person, an API
 * token or a web session, and what ctx keeps for the checks.  A secret of
 * the wrong shape is refused before the store is asked; a well-formed one
 * is looked up by its hash, so the lookup's time depends on the hash, not
 * on how much of a guess matches a real secret.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_impl.h"
#include "auth_token.h"
#include "log.h"
#include "util.h"

struct auth *
auth_get(struct op_ctx *ctx)
{
	if (ctx->auth == NULL)
		ctx->auth = calloc(1, sizeof(*ctx->auth));
	return ctx->auth;
}

const char *
auth_intern(struct op_ctx *ctx, const char *login)
{
	struct auth *a = auth_get(ctx);
	char **grown, *s;
	size_t i, cap;

	if (a == NULL)
		return NULL;
	for (i = 0; i < a->n_logins; i++)
		if (strcmp(a->logins[i], login) == 0)
			return a->logins[i];
	if (a->n_logins == a->cap_logins) {
		cap = a->cap_logins ? a->cap_logins * 2 : 16;
		grown = realloc(a->logins, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		a->logins = grown;
		a->cap_logins = cap;
	}
	if ((s = strdup(login)) == NULL)
		return NULL;
	a->logins[a->n_logins++] = s;
	return s;
}

bool
auth_is_admin(const struct op_ctx *ctx, const char *login)
{
	/* as the socket decides for a login without root's uid: over HTTP
	 * no one is root, so a token root made is as strong as [daemon]
	 * admins make it */
	return conf_is_admin(ctx->conf, login);
}

void
auth_end(struct op_ctx *ctx)
{
	size_t i;

	if (ctx->auth == NULL)
		return;
	for (i = 0; i < ctx->auth->n_logins; i++)
		free(ctx->auth->logins[i]);
	free(ctx->auth->logins);
	free(ctx->auth);
	ctx->auth = NULL;
}

/* what the check reads of the row */
struct found {
	const char *kind;
	const char *hash;
	int64_t now;
	bool ok;
	int64_t id, last_used_at;
	char owner[72];
};

/* store_token_find's callback: the row, if it is a live secret of the
 * kind asked for */
static int
found_cb(void *arg, const struct token_rec *t)
{
	struct found *f = arg;
	bool same;

	same = t->hash != NULL && strlen(t->hash) == AUTH_HASH_LEN &&
	    CRYPTO_memcmp(t->hash, f->hash, AUTH_HASH_LEN) == 0;
	f->ok = same && strcmp(t->kind, f->kind) == 0 && t->revoked_at == 0 &&
	    (t->expires_at == 0 || t->expires_at > f->now) &&
	    util_strlcpy(f->owner, t->owner, sizeof(f->owner)) <
	        sizeof(f->owner);
	f->id = t->id;
	f->last_used_at = t->last_used_at;
	return 1;
}

int
auth_check(struct op_ctx *ctx, const char *secret, const char *prefix,
    const char *kind, struct op_caller *out, int64_t *ret_id)
{
	char buf[AUTH_SECRET_LEN + 1], hex[AUTH_HASH_LEN + 1];
	struct found f = {.kind = kind, .hash = hex, .now = util_now()};
	const char *p, *login;
	size_t n = 0;
	int r;

	p = auth_bearer(secret, &n);
	if (p == NULL || n != AUTH_SECRET_LEN)
		return -EACCES;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (!auth_secret_ok(buf, prefix))
		return -EACCES;
	r = auth_secret_hash(buf, hex);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		return r;
	r = store_token_find(ctx->st, hex, found_cb, &f);
	if (r == -ENOENT || (r == 0 && !f.ok))
		return -EACCES;
	if (r < 0)
		return r;
	if ((login = auth_intern(ctx, f.owner)) == NULL)
		return -ENOMEM;
	/* into the batch the loop commits anyway: no commit of its own */
	if (f.now - f.last_used_at >= AUTH_USED_EVERY &&
	    ((r = store_begin(ctx->st)) < 0 ||
	        (r = store_token_used(ctx->st, f.id, f.now)) < 0))
		log_warnx("token %lld: cannot record its use: %s",
		    (long long)f.id, store_errmsg(ctx->st));
	out->login = login;
	out->uid = (uid_t)-1;
	out->admin = auth_is_admin(ctx, login);
	out->via = NULL;
	if (ret_id != NULL)
		*ret_id = f.id;
	return 0;
}

int
auth_token_check(struct op_ctx *ctx, const char *bearer, struct op_caller *out)
{
	return auth_check(ctx, bearer, AUTH_PREFIX_TOKEN, "api", out, NULL);
}
