/* SPDX-License-Identifier: MIT */
/*
 * test_auth_session.c: who a secret stands for (daemon/auth_token.c,
 * auth_session.c) against a real SQLite store in a temporary directory:
 * a sign-in secret opens a session once, and not when expired, revoked or
 * of another kind; the session's cookie names its owner, not as an API
 * token, and stops working when signed out; an admin's token makes an
 * admin caller and no one is root; malformed credentials never reach the
 * store; the last use of a token is written once a minute, not per check,
 * and only into the batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_secret.h"
#include "auth_session.h"
#include "auth_token.h"
#include "check.h"
#include "conf.h"
#include "store.h"
#include "util.h"

static const char config[] = "[daemon]\n"
                             "socket = /nonexistent/promised.sock\n"
                             "database = /nonexistent/promised.db\n"
                             "admins = boss\n";

/* a secret of prefix and kind for owner, stored as the daemon would; 0 */
static int
make_secret(struct store *st, const char *prefix, const char *kind,
    const char *owner, int64_t expires, char out[AUTH_SECRET_LEN + 1],
    int64_t *ret_id)
{
	char hex[AUTH_HASH_LEN + 1];
	struct token_rec t = {.kind = kind, .owner = owner};
	int r;

	if ((r = auth_secret_new(prefix, out, AUTH_SECRET_LEN + 1)) < 0 ||
	    (r = auth_secret_hash(out, hex)) < 0)
		return r;
	t.hash = hex;
	t.created_at = util_now();
	t.expires_at = expires;
	if ((r = store_begin(st)) < 0 ||
	    (r = store_token_add(st, &t, ret_id)) < 0)
		return r;
	return store_commit(st);
}

static int
used_cb(void *arg, const struct token_rec *t)
{
	*(int64_t *)arg = t->last_used_at;
	return 0;
}

static int64_t
last_used(struct store *st, const char *secret)
{
	char hex[AUTH_HASH_LEN + 1];
	int64_t v = -1;

	if (auth_secret_hash(secret, hex) < 0 ||
	    store_token_find(st, hex, used_cb, &v) < 0)
		return -1;
	return v;
}

static void
test_sessions(struct op_ctx *ctx)
{
	char link[AUTH_SECRET_LEN + 1], old[AUTH_SECRET_LEN + 1];
	char cookie[AUTH_COOKIE_MAX], again[AUTH_COOKIE_MAX];
	struct op_caller who;
	int64_t id, now = util_now();

	REQUIRE(make_secret(ctx->st, AUTH_PREFIX_SIGNIN, "signin", "dan",
	            now + AUTH_SIGNIN_TTL, link, &id) == 0);
	CHECK(auth_session_begin(ctx, link, cookie, 8) == -EINVAL);
	REQUIRE(auth_session_begin(ctx, link, cookie, sizeof(cookie)) == 0);
	CHECK(store_commit(ctx->st) == 0);
	CHECK(auth_secret_ok(cookie, AUTH_PREFIX_SESSION));
	/* once only */
	CHECK(auth_session_begin(ctx, link, again, sizeof(again)) == -EACCES);
	memset(&who, 0, sizeof(who));
	CHECK(auth_session_check(ctx, cookie, &who) == 0);
	CHECK(who.login != NULL && strcmp(who.login, "dan") == 0);
	CHECK(!who.admin && who.uid == (uid_t)-1 && who.via == NULL);
	/* a session is no API token, a sign-in link no session */
	CHECK(auth_token_check(ctx, cookie, &who) == -EACCES);
	CHECK(auth_session_check(ctx, link, &who) == -EACCES);
	/* signed out: gone */
	CHECK(auth_session_end(ctx, cookie) == 0);
	CHECK(store_commit(ctx->st) == 0);
	CHECK(auth_session_check(ctx, cookie, &who) == -EACCES);
	CHECK(auth_session_end(ctx, cookie) == -EACCES);
	/* an expired link opens nothing */
	REQUIRE(make_secret(ctx->st, AUTH_PREFIX_SIGNIN, "signin", "dan",
	            now - 1, old, &id) == 0);
	CHECK(auth_session_begin(ctx, old, again, sizeof(again)) == -EACCES);
out:
	if (store_in_txn(ctx->st))
		store_commit(ctx->st);
}

static void
test_tokens(struct op_ctx *ctx)
{
	char tok[AUTH_SECRET_LEN + 1], boss[AUTH_SECRET_LEN + 1];
	char bearer[AUTH_SECRET_LEN + 16], bad[AUTH_SECRET_LEN + 1];
	struct op_caller who, who2;
	int64_t id, t0;

	REQUIRE(make_secret(ctx->st, AUTH_PREFIX_TOKEN, "api", "dan", 0, tok,
	            &id) == 0);
	REQUIRE(make_secret(ctx->st, AUTH_PREFIX_TOKEN, "api", "boss", 0, boss,
	            &id) == 0);
	snprintf(bearer, sizeof(bearer), "Bearer  %s ", tok);
	CHECK(auth_token_check(ctx, bearer, &who) == 0);
	CHECK(strcmp(who.login, "dan") == 0 && !who.admin);
	/* the first check wrote the use into a batch, left for the loop */
	CHECK(store_in_txn(ctx->st));
	CHECK(store_commit(ctx->st) == 0);
	t0 = last_used(ctx->st, tok);
	CHECK(t0 > 0);
	/* the next, within the minute, writes nothing */
	CHECK(auth_token_check(ctx, tok, &who2) == 0);
	CHECK(!store_in_txn(ctx->st));
	CHECK(who2.login == who.login);
	CHECK(auth_token_check(ctx, boss, &who) == 0);
	CHECK(strcmp(who.login, "boss") == 0 && who.admin);
	CHECK(who.uid == (uid_t)-1);
	CHECK(store_commit(ctx->st) == 0);
	/* a changed character, a short one, garbage: refused */
	memcpy(bad, tok, sizeof(bad));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	CHECK(auth_token_check(ctx, bad, &who) == -EACCES);
	bad[10] = '\0';
	CHECK(auth_token_check(ctx, bad, &who) == -EACCES);
	CHECK(auth_token_check(ctx, "Bearer", &who) == -EACCES);
	CHECK(auth_token_check(ctx, NULL, &who) == -EACCES);
	/* revoked: refused */
	CHECK(store_begin(ctx->st) == 0);
	CHECK(store_token_revoke(ctx->st, id, "dan", util_now()) == -ENOENT);
	CHECK(store_token_revoke(ctx->st, id, NULL, util_now()) == 0);
	CHECK(store_commit(ctx->st) == 0);
	CHECK(auth_token_check(ctx, boss, &who) == -EACCES);
out:
	if (store_in_txn(ctx->st))
		store_commit(ctx->st);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], conf_path[300], db[300], err[512];
	struct op_ctx ctx = {0};
	struct conf *c = NULL;
	FILE *f;
	int rc = 2;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/test_auth_session.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(conf_path, sizeof(conf_path), "%s/promised.conf", dir);
	snprintf(db, sizeof(db), "%s/promised.db", dir);
	if ((f = fopen(conf_path, "w")) == NULL || fputs(config, f) == EOF ||
	    fclose(f) != 0) {
		perror(conf_path);
		goto out;
	}
	if (conf_load(&c, conf_path, err, sizeof(err)) < 0 ||
	    store_open(&ctx.st, db, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	ctx.conf = c;
	test_sessions(&ctx);
	test_tokens(&ctx);
	printf("test_auth_session: %d checks, %d failed\n", nchecks, nfailed);
	rc = nfailed == 0 ? 0 : 1;
out:
	auth_end(&ctx);
	store_close(ctx.st);
	conf_free(c);
	(void)unlink(conf_path);
	(void)unlink(db);
	snprintf(conf_path, sizeof(conf_path), "%s/promised.db-wal", dir);
	(void)unlink(conf_path);
	snprintf(conf_path, sizeof(conf_path), "%s/promised.db-shm", dir);
	(void)unlink(conf_path);
	(void)rmdir(dir);
	return rc;
}
