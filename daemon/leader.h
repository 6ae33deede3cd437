/* SPDX-License-Identifier: MIT */
/*
 * leader.h: which of several daemons on one shared store fires.  Every
 * daemon serves; the leader (store_lead) runs the schedule and the
 * outbox, the others stand by, keep their schedule current from the
 * leader's and each other's notes, and try for the lead every poll.
 */
#ifndef PROMISED_LEADER_H
#define PROMISED_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include <ev.h>

#include "deliver.h"
#include "sched.h"
#include "store.h"

struct leader;

/*
 * Before the schedule is loaded: tries for the lead once, and sets the
 * schedule and the outbox firing or standing by as it went.  lost is
 * called (from the loop) when this daemon led and lost its lock: it has
 * stopped firing by then, and should exit, to come back as a standby.
 */
int leader_open(struct leader **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, struct deliver *dl, double poll_s, void (*lost)(void *arg),
    void *arg);
/* NULL-safe; returns NULL */
struct leader *leader_close(struct leader *l);
bool leader_leads(const struct leader *l);

#endif
