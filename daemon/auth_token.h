/* SPDX-License-Identifier: MIT */
/*
 * auth_token.h: who calls with an API token.  `promise token create`
 * makes one (the token operations, op_token.c); the store keeps only its
 * hash (auth_secret.h).  A front end other than the control socket (the
 * HTTP listener) turns the token it was given into the caller the
 * operations act for, with the same rules as the socket's.
 */
#ifndef PROMISED_AUTH_TOKEN_H
#define PROMISED_AUTH_TOKEN_H

#include "op.h"

/* a token's last use is written at most this often (s): a check is a
 * read, not a write per request */
#define AUTH_USED_EVERY 60

/*
 * The caller that bearer (a token, or an Authorization header's value
 * "Bearer TOKEN") stands for: 0 with *out filled as the control socket
 * would fill it for the token's owner (admin by [daemon] admins; uid -1,
 * since over HTTP no one is root; via NULL, for the front end to set), -EACCES
 * for anything but a known token neither revoked nor expired, or the store's
 * -errno (-EIO: answer 503).  out->login is kept by ctx and lives as long as
 * it.  The token is found by the hash of it on the store's index and the hashes
 * compared in constant time: the time taken tells nothing of how near a guess
 * came.  Its last use is written into the current batch.
 */
int auth_token_check(
    struct op_ctx *ctx, const char *bearer, struct op_caller *out);

/* frees what ctx keeps for the checks (the logins out->login points to);
 * ctx->auth is NULL after */
void auth_end(struct op_ctx *ctx);

#endif
