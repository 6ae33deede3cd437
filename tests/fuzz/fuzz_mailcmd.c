/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mailcmd.c: libFuzzer target for the reply commands
 * (common/mailcmd.c), which read whatever a stranger's mail says.  The
 * input is handed over with its exact length, NULs and all.  Beyond
 * sanitizer reports, the target aborts when a contract of mailcmd.h
 * breaks: the verb is one of the enum, a refusal has a message, and the
 * words that come out are valid UTF-8 without control characters, runs of
 * spaces or spaces at the ends, and fit their fields.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mailcmd.h"

#define MAX_INPUT (64 * 1024)

static void
fail(const char *what, const char *field)
{
	fprintf(stderr, "fuzz_mailcmd: %s: '%s'\n", what, field);
	abort();
}

/* valid UTF-8 with no control character (a strict decoder's view) */
static bool
clean_utf8(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	while (*s != '\0') {
		if (*s < 0x20 || *s == 0x7f)
			return false;
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 2, cp = *s & 0x1fu;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 3, cp = *s & 0x0fu;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 4, cp = *s & 0x07u;
		else
			return false;
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3fu);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		s += n;
	}
	return true;
}

static void
check_words(const char *s, size_t cap)
{
	size_t n = strlen(s);

	if (n >= cap)
		fail("field overflows", s);
	if (!clean_utf8((const unsigned char *)s))
		fail("not clean UTF-8", s);
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		fail("space at an end", s);
	if (strstr(s, "  ") != NULL)
		fail("run of spaces", s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailcmd c;
	const char *err = NULL;
	char *s;
	int rc;

	if ((s = fuzz_input(data, size, MAX_INPUT, false)) == NULL)
		return 0;
	rc = mailcmd_parse(s, size, &c, &err);
	if (rc != 0 && rc != -EINVAL)
		fail("unexpected return", "");
	if (rc == -EINVAL && err == NULL)
		fail("refused without a message", "");
	if (c.verb != MAILCMD_INVALID &&
	    (c.verb < 0 || c.verb >= MAILCMD_VERB_MAX))
		fail("verb out of range", "");
	if (rc == 0 && c.verb == MAILCMD_INVALID)
		fail("accepted without a verb", "");
	if (rc == 0) {
		check_words(c.text, sizeof(c.text));
		check_words(c.when, sizeof(c.when));
		if (c.verb == MAILCMD_SNOOZE && c.when[0] == '\0')
			fail("snooze without a deadline", c.text);
		if ((c.verb == MAILCMD_CANCEL || c.verb == MAILCMD_TOLD) &&
		    c.text[0] == '\0')
			fail("cancel without a reason", "");
	}
	free(s);
	return 0;
}
