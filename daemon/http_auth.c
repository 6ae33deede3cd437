/* SPDX-License-Identifier: MIT */
/*
 * http_auth.c: who calls over HTTP, see http_auth.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "auth_token.h"
#include "conf.h"
#include "http_auth.h"
#include "util.h"

/* the token of "Bearer TOKEN", or NULL */
static const char *
bearer(const char *authorization)
{
	if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7))
		return NULL;
	authorization += 7;
	while (*authorization == ' ')
		authorization++;
	return *authorization != '\0' ? authorization : NULL;
}

int
http_auth(struct op_ctx *ctx, const char *peer, const char *user,
    const char *authorization, char *login, size_t len, struct op_caller *out,
    const char **why)
{
	const struct conf *c = ctx->conf;
	const char *tok;
	int r;

	memset(out, 0, sizeof(*out));
	out->uid = (uid_t)-1;
	out->via = "api";
	if (c->http.trusted_proxy != NULL && peer != NULL &&
	    strcmp(peer, c->http.trusted_proxy) == 0 && user != NULL) {
		if (!util_login_ok(user)) {
			*why = "the proxy's user header is not a login";
			return -EACCES;
		}
		util_strlcpy(login, user, len);
		out->login = login;
		out->admin = op_is_admin(c, login, out->uid);
		return 0;
	}
	if ((tok = bearer(authorization)) != NULL) {
		if ((r = auth_token_check(ctx, tok, out)) < 0) {
			*why = r == -EACCES
			    ? "unknown, revoked or expired token"
			    : "the token store cannot be read; "
			      "try again";
			return r == -EACCES ? -EACCES : -EIO;
		}
		util_strlcpy(login, out->login, len);
		out->login = login;
		out->via = "api";
		return 0;
	}
	*why = "sign in: send Authorization: Bearer TOKEN";
	return -EACCES;
}
