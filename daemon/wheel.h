/* SPDX-License-Identifier: MIT */
/*
 * wheel.h: a hierarchical timing wheel with an intrusive API.
 *
 * Time is an abstract unsigned 64-bit count of milliseconds that the caller
 * advances with wheel_update(); the wheel never reads a clock.  Timers are
 * owned by the caller (embedded in its own structs); the wheel never
 * allocates per timer.  Insert, cancel and re-arm are O(1); each timer
 * cascades at most once per level on its way down.
 */
#ifndef PROMISED_WHEEL_H
#define PROMISED_WHEEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct wtimer {
	struct wtimer *next;
	struct wtimer **pprev; /* NULL when on no list */
	uint64_t expires;      /* absolute ms */
};

struct wheel;

/* sets *ret to a new, empty wheel whose clock reads now; 0 or -ENOMEM */
int wheel_open(struct wheel **ret, uint64_t now);
/* detaches every pending timer (they read as not pending); NULL-safe */
struct wheel *wheel_close(struct wheel *w);

/* marks t as not pending; call once before first use */
void wtimer_init(struct wtimer *t);
/* true while t is in a slot or on the expired list */
bool wtimer_pending(const struct wtimer *t);

/*
 * (re-)arms t to expire at abs; a timer already pending is moved.  A timer
 * whose abs is at or before the wheel's clock goes straight to the expired
 * list and is returned by the next wheel_get().
 */
void wheel_add(struct wheel *w, struct wtimer *t, uint64_t abs);
/* cancels t (okay if on neither the wheel nor the expired list) */
void wheel_del(struct wheel *w, struct wtimer *t);

/*
 * advances the clock to now and moves every timer with expires <= now to
 * the expired list.  A now earlier than the clock is ignored: the clock never
 * runs backwards, so a timer never fires early.
 */
void wheel_update(struct wheel *w, uint64_t now);
/*
 * sets the clock to now, even backwards, and refiles every pending timer by
 * its expiry: for a wall clock that was stepped back
 */
void wheel_rebase(struct wheel *w, uint64_t now);
/* the wheel's clock */
uint64_t wheel_now(const struct wheel *w);
/* removes and returns one expired timer; loop until NULL */
struct wtimer *wheel_get(struct wheel *w);
/*
 * ms from the clock until the next wheel_update() that can expire a timer:
 * 0 if the expired list is non-empty, UINT64_MAX if nothing is pending.
 * Never later than the earliest expiry; it may be earlier (then an update
 * simply expires nothing and a new timeout is asked for).
 */
uint64_t wheel_timeout(struct wheel *w);
/* number of pending timers (in slots or expired) */
size_t wheel_count(const struct wheel *w);
/* verifies internal invariants; prints the first violation to f */
bool wheel_check(struct wheel *w, FILE *f);

#endif
