/* SPDX-License-Identifier: MIT */
/*
 * show.h: showing a promise: its fields, its history, the notices sent
 * about it and the schedule still ahead.  Private to the client.
 */
#ifndef PROMISE_SHOW_H
#define PROMISE_SHOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* the promise object p, one field a line */
void show_promise(const json_t *p, int64_t now);
/* the "history:" section from a list of events */
void show_history(const json_t *events);
/* the "deliveries:" section of show: one line each, the error below */
void show_deliveries(const json_t *dels, int64_t now);
/* the schedule of explain and add --dry-run, one line per recipient */
void show_schedule(const json_t *sched);

/* "promise.due" is "due": every event of the outbox has the prefix */
const char *event_name(const char *s);
/* a delivery's id as people see it: the daemon's shortest unique prefix */
const char *delivery_id(const json_t *dl);
/* "sent Tue 2026-11-24 09:00 CET", "next Tue ... (in 4m)", or "" */
void delivery_when(
    const json_t *dl, int64_t now, bool label, char *buf, size_t len);

#endif
