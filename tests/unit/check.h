/* SPDX-License-Identifier: MIT */
/*
 * check.h: what the unit tests share: failure counting, one check that
 * prints the failing line, and switching the process's time zone.  Each
 * test prints its own summary from nchecks and nfailed.
 */
#ifndef PROMISED_TEST_CHECK_H
#define PROMISED_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int nchecks;
static int nfailed;

static inline void
check(int ok, int line, const char *what)
{
	nchecks++;
	if (ok)
		return;
	nfailed++;
	printf("FAIL line %d: %s\n", line, what);
}

#define CHECK(c) check((c), __LINE__, #c)

/* makes tz the local zone, or ends the test: nothing after would hold */
static inline void
set_tz(const char *tz)
{
	if (setenv("TZ", tz, 1) != 0) {
		perror("setenv");
		exit(2);
	}
	tzset();
}

#endif
