/* SPDX-License-Identifier: MIT */
/*
 * wheel.c: the hierarchical timing wheel that holds every promise's next
 * deadline.  Expiry is exact (a timer never fires before its ms, and fires
 * in the first wheel_update() that reaches it), because reminders are meant
 * to fire, not to be cancelled, so the kernel's trade of precision for cheap
 * cancels buys us nothing.  Pure code: no clock, no libev, no logging.
 *
 * Layout.  The clock and every expiry are 64-bit ms.  A timer sits at the
 * level given by the highest bit in which its expiry differs from the clock,
 * in the slot given by its expiry's 6 bits at that level:
 *
 *	level	bits	slot width	holds expiries roughly within
 *	0	 0-5	1 ms		64 ms
 *	1	 6-11	64 ms		4.1 s
 *	2	12-17	4.1 s		4.4 min
 *	3	18-23	4.4 min		4.7 h
 *	4	24-29	4.7 h		12.4 days
 *	5	30-35	12.4 days	2.2 years
 *	6	36-41	2.2 years	139 years
 *	7	42-47	139 years	8900 years
 *	8-10	48-63	...		the rest of uint64_t
 *
 * Eight levels would cover any real deadline; the last three cost 1.5 KB
 * and remove the "beyond the horizon" case altogether, so a garbage or
 * UINT64_MAX expiry is filed like any other and no timer ever cycles.
 *
 * Invariant (wheel_check() verifies it): a timer in a slot expires after the
 * clock, and at its level the expiry's higher bits equal the clock's while
 * its slot number is greater than the clock's.  So slots never wrap, the
 * lowest bit of a level's bitmap is its earliest slot, every timer in a
 * lower level expires before any in a higher one, and a timer on the
 * expired list is exactly a pending timer with expires <= clock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "wheel.h"

#define WHEEL_BITS 6u
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_MASK ((uint64_t)WHEEL_SLOTS - 1)
#define WHEEL_LEVELS ((64u + WHEEL_BITS - 1) / WHEEL_BITS)

/* a bitmap per level must fit one uint64_t for the ctz/clz scans */
_Static_assert(WHEEL_SLOTS <= 64, "slot bitmap wider than 64 bits");
/* callers embed struct wtimer in every promise; keep it three words */
_Static_assert(sizeof(struct wtimer) == 2 * sizeof(void *) + sizeof(uint64_t),
    "struct wtimer grew");

struct wheel {
	uint64_t now;
	size_t count;                 /* pending: in slots or expired */
	uint64_t used[WHEEL_LEVELS];  /* bit s set iff slot[l][s] != NULL */
	struct wtimer *expired;       /* due, in the order they fell due */
	struct wtimer **expired_tail; /* &last->next, or &expired */
	struct wtimer *slot[WHEEL_LEVELS][WHEEL_SLOTS];
};

/* index of the highest set bit; x must be non-zero */
static unsigned
fls64(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

/* the level for an expiry after now; equal values have no level */
static unsigned
wheel_level(uint64_t now, uint64_t expires)
{
	return fls64(now ^ expires) / WHEEL_BITS;
}

static unsigned
wheel_slot(unsigned level, uint64_t expires)
{
	return (unsigned)((expires >> (level * WHEEL_BITS)) & WHEEL_MASK);
}

/* bits 0..n inclusive; 2 << 63 wraps to 0, so n == 63 gives all ones */
static uint64_t
bits_upto(unsigned n)
{
	return ((uint64_t)2 << n) - 1;
}

static void
expired_append(struct wheel *w, struct wtimer *t)
{
	t->next = NULL;
	t->pprev = w->expired_tail;
	*w->expired_tail = t;
	w->expired_tail = &t->next;
}

/*
 * files t by t->expires against the clock.  Inserting at the slot's head
 * keeps this O(1); order within a slot is irrelevant since the whole slot is
 * emptied at once.
 */
static void
wheel_file(struct wheel *w, struct wtimer *t)
{
	struct wtimer **head;
	unsigned l, s;

	if (t->expires <= w->now) {
		expired_append(w, t);
		return;
	}
	l = wheel_level(w->now, t->expires);
	s = wheel_slot(l, t->expires);
	head = &w->slot[l][s];
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
	w->used[l] |= (uint64_t)1 << s;
}

/* takes a pending t off its slot or the expired list */
static void
wheel_unlink(struct wheel *w, struct wtimer *t)
{
	unsigned l, s;

	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	else if (w->expired_tail == &t->next)
		w->expired_tail = t->pprev;
	/* by the invariant, expires > now means t was in a slot */
	if (t->expires > w->now) {
		l = wheel_level(w->now, t->expires);
		s = wheel_slot(l, t->expires);
		if (w->slot[l][s] == NULL)
			w->used[l] &= ~((uint64_t)1 << s);
	}
	t->next = NULL;
	t->pprev = NULL;
}

int
wheel_open(struct wheel **ret, uint64_t now)
{
	struct wheel *w;
	int r = 0;

	*ret = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		r = -ENOMEM;
		goto out;
	}
	w->now = now;
	w->expired_tail = &w->expired;
	*ret = w;
out:
	return r;
}

/* resets every timer so wtimer_pending() reads false after the wheel dies */
static void
list_detach(struct wtimer *t)
{
	struct wtimer *next;

	for (; t != NULL; t = next) {
		next = t->next;
		t->next = NULL;
		t->pprev = NULL;
	}
}

struct wheel *
wheel_close(struct wheel *w)
{
	unsigned l, s;

	if (w == NULL)
		return NULL;
	for (l = 0; l < WHEEL_LEVELS; l++)
		for (s = 0; s < WHEEL_SLOTS; s++)
			list_detach(w->slot[l][s]);
	list_detach(w->expired);
	free(w);
	return NULL;
}

void
wtimer_init(struct wtimer *t)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expires = 0;
}

bool
wtimer_pending(const struct wtimer *t)
{
	return t->pprev != NULL;
}

void
wheel_add(struct wheel *w, struct wtimer *t, uint64_t abs)
{
	/* unlink first: it finds t's slot from the old expiry */
	if (wtimer_pending(t))
		wheel_unlink(w, t);
	else
		w->count++;
	t->expires = abs;
	wheel_file(w, t);
}

void
wheel_del(struct wheel *w, struct wtimer *t)
{
	if (!wtimer_pending(t))
		return;
	wheel_unlink(w, t);
	w->count--;
}

/*
 * Let top be the level of the highest bit that changes between the old and
 * the new clock.  Below top, the clock has left the block whose higher bits
 * every timer there shares, so all of those timers are due.  At top, slots
 * after the old clock's up to the new clock's are passed: those before the
 * new clock's slot are due, and the one at it is refiled, landing on the
 * expired list or strictly below top.  Above top nothing changes.  So one
 * update visits each passed slot once, whatever the jump, and refiling never
 * lands in a slot still to be visited: levels are walked upwards and only
 * level top refiles, into levels already done.  Walking upwards also puts
 * due timers on the expired list in order of their slots' start times.
 */
void
wheel_update(struct wheel *w, uint64_t now)
{
	struct wtimer *t, *next;
	uint64_t due, old;
	unsigned l, s, top;

	if (now <= w->now)
		return;
	old = w->now;
	top = wheel_level(old, now);
	w->now = now;
	for (l = 0; l <= top; l++) {
		due = w->used[l];
		if (l == top)
			due &= bits_upto(wheel_slot(l, now)) &
			    ~bits_upto(wheel_slot(l, old));
		while (due != 0) {
			s = (unsigned)__builtin_ctzll(due);
			due &= due - 1;
			t = w->slot[l][s];
			w->slot[l][s] = NULL;
			w->used[l] &= ~((uint64_t)1 << s);
			for (; t != NULL; t = next) {
				next = t->next;
				wheel_file(w, t);
			}
		}
	}
}

/*
 * Refiling every timer costs O(n), which is acceptable for what calls it: a
 * wall clock stepped backwards, a rare event.  The expired list is kept
 * first so timers already due keep their order.
 */
void
wheel_rebase(struct wheel *w, uint64_t now)
{
	struct wtimer *all = NULL, **tail = &all, *t, *next;
	unsigned l, s;

	if (w->expired != NULL) {
		all = w->expired;
		tail = w->expired_tail;
	}

	for (l = 0; l < WHEEL_LEVELS; l++) {
		for (s = 0; s < WHEEL_SLOTS; s++) {
			if (w->slot[l][s] == NULL)
				continue;
			*tail = w->slot[l][s];
			for (t = w->slot[l][s]; t->next != NULL; t = t->next)
				;
			tail = &t->next;
			w->slot[l][s] = NULL;
		}
		w->used[l] = 0;
	}
	*tail = NULL;
	w->expired = NULL;
	w->expired_tail = &w->expired;
	w->now = now;
	for (t = all; t != NULL; t = next) {
		next = t->next;
		wheel_file(w, t);
	}
}

uint64_t
wheel_now(const struct wheel *w)
{
	return w->now;
}

struct wtimer *
wheel_get(struct wheel *w)
{
	struct wtimer *t = w->expired;

	if (t == NULL)
		return NULL;
	w->expired = t->next;
	if (t->next != NULL)
		t->next->pprev = &w->expired;
	else
		w->expired_tail = &w->expired;
	t->next = NULL;
	t->pprev = NULL;
	w->count--;
	return t;
}

/*
 * The lowest non-empty level holds the earliest timers, and its lowest
 * non-empty slot s (greater than the clock's, by the invariant) cannot
 * expire before the clock's higher bits with s in place and zeros below.
 * That is exact at level 0; above it the update it asks for cascades the
 * slot one level down or more, at most once per level per timer.  The
 * result is at least 1 when nothing is expired, so it never asks for a
 * useless immediate wake-up.
 */
uint64_t
wheel_timeout(struct wheel *w)
{
	uint64_t first, hi;
	unsigned l, s, shift;

	if (w->expired != NULL)
		return 0;
	for (l = 0; l < WHEEL_LEVELS; l++) {
		if (w->used[l] == 0)
			continue;
		s = (unsigned)__builtin_ctzll(w->used[l]);
		shift = l * WHEEL_BITS;
		/* shift <= 60, so neither shift below reaches 64 */
		hi = (w->now >> shift) & ~WHEEL_MASK;
		first = (hi | s) << shift;
		return first - w->now;
	}
	return UINT64_MAX;
}

size_t
wheel_count(const struct wheel *w)
{
	return w->count;
}

__attribute__((format(printf, 2, 0))) static void
check_vsay(FILE *f, const char *fmt, va_list ap)
{
	if (f != NULL) {
		vfprintf(f, fmt, ap);
		fputc('\n', f);
	}
}

__attribute__((format(printf, 2, 3))) static bool
check_fail(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vsay(f, fmt, ap);
	va_end(ap);
	return false;
}

__attribute__((format(printf, 2, 3))) static struct wtimer **
check_fail_list(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vsay(f, fmt, ap);
	va_end(ap);
	return NULL;
}

/*
 * walks one list, counting into *n, and checks its back links; in_slot says
 * whether it is a slot at level l, slot s (so must match expiry and clock),
 * or the expired list (so must be due).  Returns &last->next, where the
 * list's tail pointer must point, or NULL once a check has failed.
 */
static struct wtimer **
check_list(struct wheel *w, FILE *f, struct wtimer **head, bool in_slot,
    unsigned l, unsigned s, size_t *n)
{
	struct wtimer *t, **pprev = head;
	unsigned tl, ts;

	for (t = *head; t != NULL; t = t->next) {
		/* bounds the walk should a list have become a cycle */
		if (++*n > w->count)
			return check_fail_list(f,
			    "wheel: more timers than the count of %zu",
			    w->count);
		if (t->pprev != pprev)
			return check_fail_list(f, "wheel: bad back link on %s",
			    in_slot ? "a slot" : "the expired list");
		pprev = &t->next;
		if (!in_slot) {
			if (t->expires > w->now)
				return check_fail_list(f,
				    "wheel: timer due at %" PRIu64
				    " is on the expired list at clock "
				    "%" PRIu64,
				    t->expires, w->now);
			continue;
		}
		if (t->expires <= w->now)
			return check_fail_list(f,
			    "wheel: timer due at %" PRIu64
			    " is still in level %u slot %u at clock %" PRIu64,
			    t->expires, l, s, w->now);
		tl = wheel_level(w->now, t->expires);
		ts = wheel_slot(tl, t->expires);
		if (tl != l || ts != s)
			return check_fail_list(f,
			    "wheel: timer due at %" PRIu64
			    " is in level %u slot %u but belongs in level %u "
			    "slot %u at clock %" PRIu64,
			    t->expires, l, s, tl, ts, w->now);
	}
	return pprev;
}

bool
wheel_check(struct wheel *w, FILE *f)
{
	struct wtimer **tail;
	size_t n = 0;
	unsigned l, s;
	bool used;

	for (l = 0; l < WHEEL_LEVELS; l++) {
		for (s = 0; s < WHEEL_SLOTS; s++) {
			used = (w->used[l] >> s) & 1;
			if (used != (w->slot[l][s] != NULL))
				return check_fail(f,
				    "wheel: level %u slot %u is %s but its "
				    "bitmap bit is %s",
				    l, s, used ? "empty" : "non-empty",
				    used ? "set" : "clear");
			if (!check_list(w, f, &w->slot[l][s], true, l, s, &n))
				return false;
		}
	}
	tail = check_list(w, f, &w->expired, false, 0, 0, &n);
	if (tail == NULL)
		return false;
	if (w->expired_tail != tail)
		return check_fail(f, "wheel: expired list tail is stale");
	if (n != w->count)
		return check_fail(
		    f, "wheel: count is %zu but %zu timers found", w->count, n);
	return true;
}
