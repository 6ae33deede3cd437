/* SPDX-License-Identifier: MIT */
/*
 * deliver_impl.h: what deliver.c (who hears of what, the backends) and
 * outbox.c (the deliveries on their way) share; nothing else includes it.
 * deliver.c builds on outbox.c, never the reverse.
 */
#ifndef PROMISED_DELIVER_IMPL_H
#define PROMISED_DELIVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deliver.h"
#include "payload.h"

enum channel {
	CH_LOG,
	CH_EMAIL,
	CH_WEBHOOK,
	CH_MAX,
};

/*
 * A channel's state.  One relay carries all of a channel's email, so when
 * it cannot be reached or refuses promised's login, every message would
 * fail alike, none through any fault of its own: the channel is down.  Its
 * deliveries then wait on its list, never given up, and one of them goes
 * out now and then as a probe (backing off like a retry);
 * the first answer that is not "down" brings the channel back and sends
 * all that waited.  A channel with no backend (turned off by a reload)
 * keeps its deliveries waiting the same way until a reload turns it on.
 */
struct chan {
	struct sched_timer probe;
	struct deliver *dl;
	enum channel ch;
	bool down;
	int64_t since;    /* down since (UTC seconds) */
	int64_t next_try; /* the next probe (UTC seconds), 0 if none */
	int64_t failures; /* failed tries while down, for the backoff */
	char error[256];  /* the last one */
	struct delivery *waiting, **waiting_tail; /* linked by qnext */
	size_t n_waiting;
};

struct deliver {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	const struct conf *conf;
	struct backend *b[CH_MAX];
	struct chan chan[CH_MAX];
	struct delivery *all;
	size_t n_all; /* deliveries on all: the outbox's pending rows */
	struct delivery *queued, **queued_tail; /* waiting for the commit */
	struct delivery *ready, **ready_tail;   /* waiting for a slot */
	size_t inflight;
	/* a standby of a shared store: rows are written, never sent; the
	 * leader takes them up (outbox_adopt.c) */
	bool standby;
	/* random bytes for uids, fetched a page at a time: a burst makes
	 * one uid per delivery, and a system call each is a measurable part
	 * of its cost */
	unsigned char rnd[4096];
	size_t rnd_left;
	/* deliveries sent whose outcome is yet to be written (sent), and
	 * those whose outcome is written into the batch about to commit
	 * (flushed), linked by qnext.  Both keep their slot under
	 * [delivery] concurrency until that commit, so that what a crash can
	 * send twice stays bounded by it */
	struct delivery *sent, *flushed;
	int64_t *sent_ids;
	size_t sent_cap;
	/* the payload of the event being written, its buffers kept from
	 * one event to the next */
	struct payload pl;
	/* within the savepoint of d's failure for good: tells whom it
	 * concerns (deliver.c, which builds on this file); 0 or -errno */
	int (*undeliverable)(struct deliver *dl, const struct delivery *d,
	    const char *error, int64_t now);
};

/* "log", "email", "webhook" */
extern const char *const outbox_channel_names[CH_MAX];
/* the channel named name; the log for a name unknown */
enum channel outbox_channel(const char *name);

/* sets up dl's queues and channels */
void outbox_init(struct deliver *dl);
/* drops every delivery dl holds and the channels' timers; their rows stay */
void outbox_fini(struct deliver *dl);

/* a delivery for row r, held by dl; NULL when out of memory */
struct delivery *outbox_delivery_new(
    struct deliver *dl, const struct delivery_rec *r);
/* NULL-safe */
void outbox_delivery_free(struct delivery *d);
/* a new delivery uid into uid[33]; 0 or -errno */
int outbox_new_uid(struct deliver *dl, char uid[33]);
/* d starts once the batch commits */
void outbox_queue(struct deliver *dl, struct delivery *d);
/* pending row r taken up by dl: held for business hours when never tried
 * and due after it was made, then queued when due, else timed; 0 or
 * -ENOMEM */
int outbox_take_up(struct deliver *dl, const struct delivery_rec *r);
/* d waits for its channel to come back (or on) */
void outbox_wait_channel(struct deliver *dl, struct delivery *d);
/* sends everything waiting for c: the channel is up (or on) again */
void outbox_release(struct deliver *dl, struct chan *c);
/* c's next probe at at_ms */
void outbox_probe_at(struct deliver *dl, struct chan *c, int64_t at_ms);
/* starts what waits for a free slot, while slots are free */
void outbox_pump(struct deliver *dl);
/* backend_done_fn: deliver_done for the delivery a backend was handed */
void outbox_done(struct backend_delivery *job, int rc, const char *error,
    int64_t retry_after);

#endif
