/* SPDX-License-Identifier: MIT */
/*
 * auth_secret.h: the secrets that stand for a person (API tokens, web
 * sessions, one-time sign-in secrets): how one is made, how it looks and
 * the hash the store keeps of it.  A secret is a short prefix naming its
 * kind ("prm_" a token, "prs_" a session, "prl_" a sign-in link) and 32
 * random bytes in URL-safe base64, so a leaked one is recognised by
 * scanners and never mistaken for another kind.  Pure but for
 * auth_secret_new, which reads the kernel's random source.
 */
#ifndef PROMISED_AUTH_SECRET_H
#define PROMISED_AUTH_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_PREFIX_TOKEN "prm_"
#define AUTH_PREFIX_SESSION "prs_"
#define AUTH_PREFIX_SIGNIN "prl_"
/* a secret's random bytes, and its length as text with the prefix */
#define AUTH_SECRET_BYTES 32
#define AUTH_SECRET_LEN (4 + 43)
/* the hash as the store keeps it: SHA-256 in lower-case hex, NUL-ended */
#define AUTH_HASH_LEN 64

/* the secret of prefix (one of the above) and bytes into out (at least
 * AUTH_SECRET_LEN + 1 bytes): 0, or -EINVAL */
int auth_secret_format(const char *prefix,
    const unsigned char bytes[AUTH_SECRET_BYTES], char *out, size_t n);
/* a new random secret of prefix into out: 0, -EINVAL, or the -errno of
 * getrandom */
int auth_secret_new(const char *prefix, char *out, size_t n);
/* whether s has the shape of a secret of prefix: the prefix, then
 * exactly 43 URL-safe base64 characters */
bool auth_secret_ok(const char *s, const char *prefix);
/* the store's hash of secret s into hex (AUTH_HASH_LEN + 1 bytes): 0 or
 * -EIO */
int auth_secret_hash(const char *s, char hex[AUTH_HASH_LEN + 1]);
/*
 * The credentials of an Authorization header value: after the scheme
 * "Bearer" (any case) and blanks, the rest without trailing blanks; a
 * value without the scheme is taken whole.  NULL if nothing is left.
 * Points into value, and *ret_len is the credential's length.
 */
const char *auth_bearer(const char *value, size_t *ret_len);

#endif
