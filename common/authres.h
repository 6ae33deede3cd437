/* SPDX-License-Identifier: MIT */
/*
 * authres.h: what an Authentication-Results header (RFC 8601) says of a
 * mail's sender.  The receiving mail server adds one, naming itself (the
 * authserv-id), and removes any that arrive already carrying its name, so
 * the header from the configured server is its own verdict.  Pure.
 */
#ifndef PROMISED_AUTHRES_H
#define PROMISED_AUTHRES_H

#include <stdbool.h>

/*
 * Whether the header value hdr, written by authserv_id (any case), passes
 * a sender of domain from_domain: "dmarc=pass" (for header.from
 * from_domain, when it names one), or "dkim=pass" for a header.d (or
 * header.i) aligned with from_domain: the same, or a parent of it with a
 * dot in it.  Comments and quoted strings are read as RFC 8601 has them.
 */
bool authres_passes(
    const char *hdr, const char *authserv_id, const char *from_domain);

#endif
