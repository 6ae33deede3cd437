/* SPDX-License-Identifier: MIT */
/*
 * agenda.h: the morning agenda, opt-in per person (agenda = 08:30 in
 * [person NAME]): at that time of each of their business days, in their
 * zone and calendar, one message with their open promises due today and
 * overdue, each with the commands that act on it and, where links are on,
 * its one-click links.  Nothing is sent on a day with nothing due.  Which
 * days were done is recorded in the store with the outbox rows, so an
 * agenda goes once per day however often the daemon restarts, and one
 * missed while it was down goes when it starts, the same day only.
 *
 * The agenda object of a "promise.agenda" payload:
 *   "login"     whose it is
 *   "day"       their local date, "2026-12-04"
 *   "at"        when it was made (UTC seconds)
 *   "until"     the end of their day: everything due before is listed
 *   "count"     how many promises are due today or overdue
 *   "overdue"   how many of them are past due at "at"
 *   "promises"  the first AGENDA_LIST, earliest first: {"id", "title",
 *               "for"?, "due_at", "overdue", "links"? (msglinks.h),
 *               "reply_to"? (its signed reply address, mailtoken.h)}
 */
#ifndef PROMISED_AGENDA_H
#define PROMISED_AGENDA_H

#include "conf.h"
#include "deliver.h"
#include "sched.h"
#include "store.h"

#define AGENDA_LIST 50

struct agenda;

/* arms the agendas of c and writes, into the batch, any owed now; 0 or
 * -ENOMEM */
int agenda_open(struct agenda **ret, struct store *st, struct sched *s,
    struct deliver *dl, const struct conf *c);
/* takes a reloaded configuration (c outlives its use) */
void agenda_reload(struct agenda *ag, const struct conf *c);
/* NULL-safe; returns NULL */
struct agenda *agenda_close(struct agenda *ag);

#endif
