/* SPDX-License-Identifier: MIT */
/*
 * webhook_body.h: what a webhook POSTs, made from a payload's parts
 * (backend.h): our own JSON event, or Slack's and Mattermost's {"text"}
 * line.  Pure; the parts come from the outbox as it writes a payload, or
 * from reading a payload's text back (a retry, a restart), and give the
 * same bytes either way.
 */
#ifndef PROMISED_WEBHOOK_BODY_H
#define PROMISED_WEBHOOK_BODY_H

#include <jansson.h>

#include "backend.h"

/* the members of a payload read back, owned for its parts */
#define WEBHOOK_MEMBERS 8
struct webhook_read {
	struct payload_parts parts; /* borrowing from the tree and text[] */
	char *text[WEBHOOK_MEMBERS];
};

/*
 * Takes payload p (a parsed payload text, which must outlive r) apart into
 * r->parts; 0, or -ENOMEM (r then needs webhook_read_free all the same).
 */
int webhook_read(struct webhook_read *r, const json_t *p);
/* NULL-safe */
void webhook_read_free(struct webhook_read *r);

/*
 * Our own event body: the recipient as the login alone (the rest of that
 * object is address book, and its webhook URL may hold a token), no
 * "thread" (email's business).  *ret is malloc'd; 0 or -ENOMEM.
 */
int webhook_body_json(
    const char *uid, const struct payload_parts *pp, char **ret);
/* {"text": line} for Slack and Mattermost; *ret is malloc'd; 0 or -errno */
int webhook_body_slack(const struct payload_parts *pp, char **ret);

#endif
