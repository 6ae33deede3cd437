/* SPDX-License-Identifier: MIT */
/*
 * auth_session.h: sign-in by email, for people without single sign-on.
 * The sign-in page asks for an address; the "signin" operation (op_token.c)
 * sends a person with that email a one-time link, BASE_URL/signin/SECRET,
 * good for AUTH_SIGNIN_TTL and once; the link opens a web session, a
 * cookie that stands for the person like an API token does, listed and
 * revoked with `promise token`.
 *
 * For the HTTP side:
 *   - GET /signin/SECRET shows a page with one button (mail scanners open
 *     links; a GET must not use the secret up); its POST calls
 *     auth_session_begin and sets the cookie.
 *   - The cookie: Set-Cookie: AUTH_SESSION_COOKIE=VALUE; Path=/;
 *     HttpOnly; SameSite=Lax; Max-Age=AUTH_SESSION_TTL, and Secure when
 *     the page is served over TLS (by libmicrohttpd or behind a proxy
 *     whose base_url is https).  Signing out calls auth_session_end and
 *     sets the cookie again with Max-Age=0.
 */
#ifndef PROMISED_AUTH_SESSION_H
#define PROMISED_AUTH_SESSION_H

#include <stddef.h>

#include "op.h"

#define AUTH_SESSION_COOKIE "promised_session"
/* a sign-in link lives 15 minutes, a session 14 days */
#define AUTH_SIGNIN_TTL (15 * 60)
#define AUTH_SESSION_TTL (14 * 86400)
/* expired sessions and sign-in secrets are forgotten after this long */
#define AUTH_PRUNE_AFTER (7 * 86400)
/* a cookie's value, with its NUL */
#define AUTH_COOKIE_MAX 64

/*
 * Turns a sign-in link's secret into a session: the secret is used up
 * and the session's cookie value written into cookie_out (n at least
 * AUTH_COOKIE_MAX).  0; -EACCES for a secret unknown, used, expired or
 * malformed; the store's -errno.  Both changes go into the batch the loop
 * commits next; should that commit fail, the cookie stands for nothing
 * and the link still works.
 */
int auth_session_begin(
    struct op_ctx *ctx, const char *signin_secret, char *cookie_out, size_t n);

/* the caller a session cookie stands for: as auth_token_check */
int auth_session_check(
    struct op_ctx *ctx, const char *cookie, struct op_caller *out);

/* signs the session of cookie out (revokes it): 0, or -EACCES if it
 * stands for no one */
int auth_session_end(struct op_ctx *ctx, const char *cookie);

/*
 * Within the request's savepoint: if a configured person has address as
 * their email, a sign-in secret for them and the promise.signin message
 * with its link.  0 whether or not anyone has that address, and also when
 * the address or everyone asked too often lately (AUTH_TRIES_*), so the
 * answer tells nothing of who is known; the store's -errno.
 */
int auth_signin_request(struct op_ctx *ctx, const char *address, int64_t now);

#endif
