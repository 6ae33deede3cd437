/* SPDX-License-Identifier: MIT */
/*
 * link.h: signed action links, the one-click "keep", "snooze", "ack" and
 * "open" in every message.  A link names a promise, an action, the person
 * it was sent to and when it expires, and carries an HMAC-SHA256 of them
 * keyed with [http] link_secret_file's newest key; any configured key is
 * accepted, so a key can be rotated without breaking the links already
 * sent.  Pure: no I/O, no clock (the caller passes now).
 */
#ifndef PROMISED_LINK_H
#define PROMISED_LINK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum link_action {
	LINK_OPEN,
	LINK_KEEP,
	LINK_SNOOZE,
	LINK_ACK,
	LINK_ACTION_MAX,
	LINK_ACTION_INVALID = -EINVAL,
};

/* "open", "keep", "snooze", "ack" */
const char *link_action_name(enum link_action a);
enum link_action link_action_from(const char *s);

/* how long a link lives unless configured otherwise: 14 days */
#define LINK_DEFAULT_TTL (14 * 86400)
/* a token's length at most, with its NUL */
#define LINK_TOKEN_MAX 256
/* the signing keys: keys[n - 1] is the newest */
struct link_keys {
	char *const *keys;
	size_t n;
};

/* what a verified link says */
struct link {
	int64_t id;
	enum link_action action;
	char recipient[65]; /* a login (util_login_ok) */
	int64_t expires;
};

/*
 * Writes the token of l, signed with the newest key, into out (at least
 * LINK_TOKEN_MAX bytes): URL-safe base64 of the fields, a full stop, and
 * that of the MAC.  0; -EINVAL for a bad field or no key; -EIO if the MAC
 * could not be computed.
 */
int link_sign(
    const struct link_keys *k, const struct link *l, char *out, size_t outlen);

/*
 * Checks token against every key, in constant time per key, and only then
 * reads it: -EBADMSG if it is malformed or no key signed it (a tampered
 * link is the same as garbage to the caller), -EKEYEXPIRED if it is
 * genuine but expired at now (with *ret filled, to say which promise),
 * else 0 with *ret filled.
 */
int link_verify(const struct link_keys *k, const char *token, int64_t now,
    struct link *ret);

/*
 * A tag binding data to purpose ("csrf", ...), keyed with the newest key:
 * URL-safe base64 of HMAC-SHA256 over purpose, a newline and data, into
 * out (at least LINK_TAG_LEN + 1 bytes).  0, -EINVAL without a key, -EIO.
 */
#define LINK_TAG_LEN 43
int link_tag(const struct link_keys *k, const char *purpose, const char *data,
    char *out, size_t outlen);
/* tag is link_tag's for purpose and data under any key; constant time */
bool link_tag_ok(const struct link_keys *k, const char *purpose,
    const char *data, const char *tag);

/*
 * The same tag in a form that survives a change of case, for the local
 * part of an email address (mail servers may lower its case): the first
 * 200 bits of the MAC in base32 (RFC 4648's alphabet, lower case, no
 * padding), LINK_TAG32_LEN characters, into out (at least LINK_TAG32_LEN
 * + 1 bytes).  0, -EINVAL without a key, -EIO.
 */
#define LINK_TAG32_LEN 40
int link_tag32(const struct link_keys *k, const char *purpose, const char *data,
    char *out, size_t outlen);
/* tag is link_tag32's for purpose and data under any key, in any case;
 * constant time */
bool link_tag32_ok(const struct link_keys *k, const char *purpose,
    const char *data, const char *tag);

/* URL-safe base64 without padding of n bytes into out, NUL-ended; the
 * length written, or 0 (and "") if out is too small */
size_t link_b64url(const unsigned char *in, size_t n, char *out, size_t outlen);

#endif
