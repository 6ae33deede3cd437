/* SPDX-License-Identifier: MIT */
/*
 * check.h: what the unit tests share: failure counting, one check that
 * prints the failing line (CHECK goes on, REQUIRE leaves the function), and
 * switching the process's time zone.  Each test prints its own summary from
 * nchecks and nfailed.
 */
#ifndef PROMISED_TEST_CHECK_H
#define PROMISED_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int nchecks;
static int nfailed;
/* what the test is doing now, named in a failure; "" when nothing to add */
static const char *check_ctx = "";

static inline int
check(int ok, int line, const char *what)
{
	nchecks++;
	if (ok)
		return 1;
	nfailed++;
	if (check_ctx[0] != '\0')
		printf("FAIL line %d: %s: %s\n", line, check_ctx, what);
	else
		printf("FAIL line %d: %s\n", line, what);
	return 0;
}

#define CHECK(c) check((c), __LINE__, #c)

/*
 * a check the rest of the function stands on (a pointer it will follow, a
 * state it will build on): on failure, also leave through the `out` label
 */
#define REQUIRE(c)                                                             \
	do {                                                                   \
		if (!check((c), __LINE__, #c))                                 \
			goto out;                                              \
	} while (0)

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
