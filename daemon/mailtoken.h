/* SPDX-License-Identifier: MIT */
/*
 * mailtoken.h: the Reply-To of promised's email, promise+ID.TOKEN@DOMAIN
 * ([mail] reply_domain), TOKEN a keyed tag (link.h) of the promise and the
 * person the email went to, under [mail] secret_file's newest key, in
 * base32 so that it means the same in any case.  A
 * reply to it acts as that person: only someone who received the mail
 * knows the address.  Any configured key is accepted, so the key can be
 * rotated without breaking the replies to mail already sent.
 */
#ifndef PROMISED_MAILTOKEN_H
#define PROMISED_MAILTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* an address's length at most, with its NUL */
#define MAILTOKEN_ADDR_MAX 320

/*
 * The Reply-To address for login about promise id into buf (at least
 * MAILTOKEN_ADDR_MAX bytes).  0; -ENOENT when replies are off (no
 * reply_domain or no key); -EIO if the tag could not be made.
 */
int mailtoken_address(
    const struct conf *c, int64_t id, const char *login, char *buf, size_t len);

/*
 * Reads address (local@domain) as promise+ID.TOKEN@reply_domain: 0 with
 * *ret_id and ret_token (at least 64 bytes) set, -ENOENT if it is not of
 * that form (nor reply_domain's).
 */
int mailtoken_parse(const struct conf *c, const char *address, int64_t *ret_id,
    char *ret_token, size_t tokenlen);

/* token was made by mailtoken_address for id and login under any key */
bool mailtoken_ok(
    const struct conf *c, int64_t id, const char *login, const char *token);

#endif
