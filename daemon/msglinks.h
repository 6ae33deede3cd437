/* SPDX-License-Identifier: MIT */
/*
 * msglinks.h: the one-click links a message carries, as the payload's
 * "links" object: {"open", "keep", "snooze", "ack"} URLs under [http]
 * base_url, signed for the message's recipient (link.h).  Built when the
 * delivery is written, so every attempt carries the same links.
 */
#ifndef PROMISED_MSGLINKS_H
#define PROMISED_MSGLINKS_H

#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "event.h"
#include "link.h"

/* the keys of c's links; n is 0 when links are off */
struct link_keys msglinks_keys(const struct conf *c);

/*
 * The links for telling login of ev about promise id, expiring link_ttl
 * after now: open for every event, keep and snooze while a promise is
 * open (nudges, due notices, escalations), ack for escalations.  NULL when
 * c has no base_url or no link key, or without memory (the message then
 * goes without links rather than not at all).
 */
json_t *msglinks_for(const struct conf *c, int64_t id, const char *login,
    enum event_type ev, int64_t now);

/* one signed link of a message */
struct msglink {
	enum link_action action;
	char url[1024 + LINK_TOKEN_MAX];
};

/*
 * The links msglinks_for makes, into out[LINK_ACTION_MAX], in the order
 * it makes them; how many: 0 when links are off or one cannot be made.
 */
size_t msglinks_list(const struct conf *c, int64_t id, const char *login,
    enum event_type ev, int64_t now, struct msglink *out);

/* the URL of one signed link into buf; 0 or -errno (links off: -ENOENT) */
int msglinks_url(
    const struct conf *c, const struct link *l, char *buf, size_t len);

#endif
