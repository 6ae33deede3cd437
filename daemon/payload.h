/* SPDX-License-Identifier: MIT */
/*
 * payload.h: a delivery's payload (its contract is in backend.h) written
 * by hand, once per event, in the very bytes jansson's json_dumps wrote
 * (JSON_COMPACT | JSON_ENSURE_ASCII, members in the order they were set):
 * receivers may sign or compare them.  The members every recipient shares
 * are written once; each recipient's payload is that head plus their own
 * members.  The parts it was written from are kept for the backends'
 * renderers (struct payload_parts), so nothing is parsed again.  Pure: the
 * caller reads the store and hands the rows in.
 */
#ifndef PROMISED_PAYLOAD_H
#define PROMISED_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "backend.h"
#include "jsonw.h"
#include "msglinks.h"
#include "store.h"

/* history events carried in a payload */
#define PAYLOAD_HISTORY 10

/* one recipient's own members */
struct payload_to {
	const char *uid;
	const char *login, *email, *webhook, *timezone; /* NULL: null */
	const struct msglink *links;                    /* n_links of them */
	size_t n_links;
	const char *thread_root; /* email: the thread's root, NULL if none */
	bool thread_first;
	const char *reply_to; /* NULL: none */
};

/* reusable from one event to the next; zeroed to start with */
struct payload {
	struct payload_parts parts; /* pointing into the below */
	struct jsonw head;          /* "{" and the shared members, ASCII */
	struct jsonw promise, history, failed, links; /* UTF-8 members */
	struct jsonw item[PAYLOAD_HISTORY];
	size_t n_item;
	struct jsonw text; /* the payload payload_write wrote last */
	bool has_level;
	int64_t level;
	bool tree;    /* begun from a tree: no parts */
	bool members; /* head holds a member */
	char due[32], occurred[24], repeat[24], lead[24], levelbuf[24];
};

/* NULL-safe; frees what pl holds, leaving it zeroed */
void payload_fini(struct payload *pl);

/* starts the payload of event about p, occurred at now.  The parts
 * borrow p's strings and the strings handed in below: they must outlive
 * the payloads written.  0 or -ENOMEM */
int payload_begin(struct payload *pl, const struct promise_rec *p,
    const char *event, int64_t now);
/* one of the promise's latest events, newest first, at most
 * PAYLOAD_HISTORY (store_events_latest's callback: arg is pl) */
void payload_history_cb(void *arg, const struct event_rec *e);
/* the extras some events carry, after the history */
void payload_set_lead(struct payload *pl, int64_t lead);
void payload_set_repeat(struct payload *pl, int64_t repeat);
int payload_set_failed(struct payload *pl, const char *uid, const char *event,
    const char *recipient, const char *channel, const char *error);
/* the members all recipients share are all there: writes the head */
int payload_seal(struct payload *pl);
/* the recipient's place up the chain, for the payloads written next */
void payload_set_level(struct payload *pl, int64_t level);

/* starts a payload from base (a digest, sign-in, reply or agenda), written
 * as jansson writes it; such payloads have no parts.  0 or -ENOMEM */
int payload_begin_tree(struct payload *pl, const json_t *base);

/* writes to's payload into pl->text and points pl->parts at to's members;
 * 0 or -ENOMEM */
int payload_write(struct payload *pl, const struct payload_to *to);

/* a history event as JSON text (UTF-8), as event_rec_json and
 * json_dumps(JSON_COMPACT) would write it; 0 or -ENOMEM */
int payload_event_json(struct jsonw *b, const struct event_rec *e);

#endif
