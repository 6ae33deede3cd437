/* SPDX-License-Identifier: MIT */
/*
 * digest.h: the weekly digest.  At [digest] schedule, a weekday and a time
 * in [calendar] timezone, every manager is sent how their team stands: the
 * promises overdue now, the ones due in the coming week, and how the week
 * before went.  Which digests were written is kept in the store by week,
 * so a restart neither repeats one nor skips one the daemon was down for.
 *
 * The digest object, as in a "promise.digest" payload and the digest
 * request's reply:
 *   "manager"        the login it is for
 *   "at"             the time it is as of (UTC seconds)
 *   "week"           sent digests only: the ISO week of the schedule time
 *                    it is for, "2026-W48"
 *   "team"           the logins of the configuration below the manager
 *   "overdue"        {"count", "promises": [...]}: open and past due
 *   "due_this_week"  {"until", "count", "promises": [...]}: open and due
 *                    from "at" to a week later
 *   "last_week"      {"from", "to", "due", "kept_on_time", "kept_late",
 *                    "open", "on_time_rate", "owners": [...]}: the
 *                    promises whose deadline fell in the week up to and
 *                    including "at", as overdue counts it (cancelled ones
 *                    aside), and the same per owner
 * Each promise listed is {"id", "title", "owner", "for"?, "due_at"}, the
 * earliest due first, at most DIGEST_LIST of them; count counts them all.
 * "on_time_rate" is kept_on_time / due, or null when nothing was due.
 */
#ifndef PROMISED_DIGEST_H
#define PROMISED_DIGEST_H

#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "deliver.h"
#include "sched.h"
#include "store.h"

#define DIGEST_LIST 25

struct digest;

/* arms the schedule of c and writes, into the batch, any digest owed now
 * (the latest schedule time passed and not yet sent); 0 or -errno */
int digest_open(struct digest **ret, struct store *st, struct sched *s,
    struct deliver *dl, const struct conf *c);
/* NULL-safe; returns NULL */
struct digest *digest_close(struct digest *dg);
/* takes a reloaded configuration (c outlives its use): re-arms for its
 * schedule and writes what it owes now, e.g. to a new manager */
void digest_reload(struct digest *dg, const struct conf *c);

/* manager's digest as of now into *ret (a new reference); 0 or -errno */
int digest_build(struct store *st, const struct conf *c, const char *manager,
    int64_t now, json_t **ret);

/*
 * The schedule times around now: *ret_last the latest at or before now,
 * *ret_next the one after it, and week[] (at least 9 bytes) the ISO week
 * of *ret_last, all in [calendar] timezone.  -ENOENT when c schedules no
 * digest.
 */
int digest_slots(const struct conf *c, int64_t now, int64_t *ret_last,
    int64_t *ret_next, char *week, size_t weeklen);

#endif
