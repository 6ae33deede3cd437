/* SPDX-License-Identifier: MIT */
/*
 * auth_impl.h: what the files of who calls (auth_token.c, auth_session.c,
 * op_token.c) share and no front end sees: the state kept in op_ctx for
 * them, and the check of a secret of any kind.
 */
#ifndef PROMISED_AUTH_IMPL_H
#define PROMISED_AUTH_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "auth_secret.h"
#include "op.h"

/* sign-in requests remembered per address, and allowed in a window */
#define AUTH_TRIES_SLOTS 256
#define AUTH_TRIES_PER_ADDRESS 3
#define AUTH_TRIES_GLOBAL 60
#define AUTH_TRIES_WINDOW (15 * 60)

struct auth_tries {
	char key[AUTH_HASH_LEN + 1]; /* the address's hash; "" unused */
	int64_t since;               /* the window's start */
	unsigned n;
};

struct auth {
	/* every login a check has named, so out->login outlives the row it
	 * was read from: as many as there are people with secrets */
	char **logins;
	size_t n_logins, cap_logins;
	struct auth_tries tries[AUTH_TRIES_SLOTS];
	int64_t global_since;
	unsigned global_n;
};

/* ctx's state, made when first needed; NULL without memory */
struct auth *auth_get(struct op_ctx *ctx);
/* login as kept by ctx (the same pointer for the same login); NULL
 * without memory */
const char *auth_intern(struct op_ctx *ctx, const char *login);
/* whether login may do what only admins may, as the control socket
 * decides it for the user of that name */
bool auth_is_admin(const struct op_ctx *ctx, const char *login);
/*
 * auth_token_check for a secret of prefix and kind ("api", "session"):
 * the same answers; *ret_id (if not NULL) the row
 */
int auth_check(struct op_ctx *ctx, const char *secret, const char *prefix,
    const char *kind, struct op_caller *out, int64_t *ret_id);

#endif
