/* SPDX-License-Identifier: MIT */
/*
 * tz.h: making a zone the process's local time zone for a while.
 *
 * localtime_r, mktime and everything built on them (timefmt, calendar)
 * read the process's one zone, TZ.  The main thread switches it to a
 * person's zone around a computation and back, with nothing else of its
 * own in between.  Other threads (the mail thread's libcurl: proxy
 * variables, the resolver) may read the environment meanwhile, which is
 * safe only because tz_pin() made TZ always set before they started:
 * setting it then replaces one entry in place (glibc keeps the old
 * string) and never moves or shrinks the array a concurrent getenv()
 * walks.
 */
#ifndef PROMISED_TZ_H
#define PROMISED_TZ_H

#include <stdbool.h>

/* TZ as it was before tz_enter() */
struct tz_save {
	char *old; /* NULL when TZ was unset */
	bool switched;
};

/*
 * zone names a file of the zone database, like Europe/Berlin.  TZ takes
 * POSIX rules too, and an unknown name silently means UTC, so only such
 * names are ever put in TZ.
 */
bool tz_zone_ok(const char *zone);

/*
 * Once at start, before any thread exists and before any local time is
 * computed: an unset TZ becomes the zone glibc falls back on anyway, so
 * that tz_enter() and tz_leave() never add or remove an environment
 * variable.  Idempotent.  Returns 0 or -errno.
 */
int tz_pin(void);

/*
 * Makes zone the local time zone until tz_leave(s); NULL or a name
 * tz_zone_ok() refuses leaves the daemon's own (and still runs tzset).
 * Main thread only, and nothing else may switch in between.  Returns 0 or
 * -errno, and then nothing was switched; either way tz_leave(s) is safe.
 */
int tz_enter(struct tz_save *s, const char *zone);

/* restores TZ exactly as tz_enter found it */
void tz_leave(struct tz_save *s);

#endif
