/* SPDX-License-Identifier: MIT */
/*
 * http_auth.h: who calls over HTTP.  A trusted reverse proxy's user
 * header (from that proxy's address only; from anyone else it is
 * ignored), else an API token sent as "Authorization: Bearer".  The login
 * found meets the same rules as the socket's caller: admins are the
 * configuration's, and no one is root over HTTP.
 */
#ifndef PROMISED_HTTP_AUTH_H
#define PROMISED_HTTP_AUTH_H

#include <stddef.h>

#include "op.h"

/*
 * peer: the client's address as inet_ntop writes it; user: the value of
 * [http] user_header, or NULL; authorization: that header, or NULL.
 * 0 with *out filled (its login copied into login, len bytes), or
 * -EACCES with why in *why (a static string) for a 401, -EIO (why said)
 * for a 503 when the token store could not be read.
 */
int http_auth(struct op_ctx *ctx, const char *peer, const char *user,
    const char *authorization, char *login, size_t len, struct op_caller *out,
    const char **why);

#endif
