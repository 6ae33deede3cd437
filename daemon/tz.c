/* SPDX-License-Identifier: MIT */
/*
 * tz.c: switching the process's time zone (see tz.h).  One module, so the
 * emails' times and the business calendar agree on what a zone name is and
 * on how TZ is put back.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tz.h"

#define ZONEINFO "/usr/share/zoneinfo/"
/* what glibc reads when TZ is unset: the same zone, spelled out */
#define TZ_SYSTEM ":/etc/localtime"

bool
tz_zone_ok(const char *zone)
{
	char path[512];
	struct stat sb;
	size_t i;
	int n;

	if (zone == NULL || zone[0] == '\0' || zone[0] == '/' ||
	    strstr(zone, "..") != NULL)
		return false;
	/* the database's own names; also keeps out its other files
	 * (zone.tab, tzdata.zi) and anything TZ would read as POSIX rules */
	for (i = 0; zone[i] != '\0'; i++)
		if (!((zone[i] >= 'A' && zone[i] <= 'Z') ||
		        (zone[i] >= 'a' && zone[i] <= 'z') ||
		        (zone[i] >= '0' && zone[i] <= '9') ||
		        strchr("/_+-", zone[i]) != NULL))
			return false;
	n = snprintf(path, sizeof(path), ZONEINFO "%s", zone);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int
tz_pin(void)
{
	int r = 0;

	if (getenv("TZ") == NULL && setenv("TZ", TZ_SYSTEM, 0) == -1)
		r = -errno;
	tzset();
	return r;
}

int
tz_enter(struct tz_save *s, const char *zone)
{
	const char *old = getenv("TZ");
	int r = 0;

	s->old = NULL;
	s->switched = false;
	if (zone == NULL || !tz_zone_ok(zone))
		goto out;
	/* getenv's string may not survive setenv */
	if (old != NULL && (s->old = strdup(old)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (setenv("TZ", zone, 1) == -1) {
		r = -errno;
		free(s->old);
		s->old = NULL;
		goto out;
	}
	s->switched = true;
out:
	/* also when nothing switched: localtime_r need not notice a TZ
	 * changed since the last tzset, and the caller wants the current */
	tzset();
	return r;
}

void
tz_leave(struct tz_save *s)
{
	if (!s->switched)
		return;
	if (s->old != NULL)
		(void)setenv("TZ", s->old, 1);
	else
		(void)unsetenv("TZ");
	tzset();
	free(s->old);
	s->old = NULL;
	s->switched = false;
}
