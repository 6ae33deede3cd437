/* SPDX-License-Identifier: MIT */
/*
 * http_link.h: a signed link of a message, opened over HTTP.  A GET only
 * shows what the link would do (mail scanners open links); the page's
 * button, a POST to the same link, acts as the link's recipient "via
 * link".  A tampered link is refused (403), an expired one too (410),
 * and neither changes anything.
 */
#ifndef PROMISED_HTTP_LINK_H
#define PROMISED_HTTP_LINK_H

#include <stdbool.h>

#include "http_op.h"
#include "op.h"

/* answers the link token into a, as a page */
void http_link(
    struct op_ctx *ctx, const char *token, bool post, struct http_answer *a);

#endif
