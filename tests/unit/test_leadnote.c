/* SPDX-License-Identifier: MIT */
/*
 * test_leadnote.c: the notes daemons on a shared store send each other:
 * items written and read back, the note that overflows into "*", and
 * what a stranger's NOTIFY may hold skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "leadnote.h"

#define UID "0123456789abcdef0123456789abcdef"

struct seen {
	char text[LEADNOTE_MAX + 1];
	size_t len;
	int n;
};

/* the items read, written again */
static void
collect(void *arg, const struct leadnote_item *it)
{
	struct seen *s = arg;

	CHECK(leadnote_add(s->text, &s->len, it) == 0);
	s->n++;
}

static void
reads(const char *note, const char *want, int n)
{
	struct seen s = {.len = 0};

	leadnote_each(note, collect, &s);
	check_ctx = note;
	CHECK(strcmp(s.text, want) == 0);
	CHECK(s.n == n);
	check_ctx = "";
}

static void
test_roundtrip(void)
{
	char buf[LEADNOTE_MAX + 1] = "";
	size_t len = 0;
	struct leadnote_item p = {.kind = 'p', .id = 42},
	                     d = {.kind = 'd', .uid = UID};

	CHECK(leadnote_add(buf, &len, &p) == 0);
	CHECK(leadnote_add(buf, &len, &d) == 0);
	CHECK(strcmp(buf, "p42 d" UID) == 0 && len == strlen(buf));
	reads(buf, buf, 2);
	p.id = 0;
	CHECK(leadnote_add(buf, &len, &p) == -EINVAL);
	d.uid[3] = 'G';
	CHECK(leadnote_add(buf, &len, &d) == -EINVAL);
	CHECK(strcmp(buf, "p42 d" UID) == 0);
}

static void
test_overflow(void)
{
	char buf[LEADNOTE_MAX + 1] = "";
	size_t len = 0;
	struct leadnote_item p = {.kind = 'p'};
	int i, r = 0;

	for (i = 1; i < 100000 && r == 0; i++) {
		p.id = 1000000000 + i;
		r = leadnote_add(buf, &len, &p);
		CHECK(len <= LEADNOTE_MAX && strlen(buf) == len);
	}
	CHECK(r == -ENOSPC);
	CHECK(strcmp(buf, "*") == 0 && len == 1);
	/* "*" stays so */
	CHECK(leadnote_add(buf, &len, &p) == 0 && strcmp(buf, "*") == 0);
	reads(buf, "*", 1);
}

static void
test_strangers(void)
{
	reads("", "", 0);
	reads("   ", "", 0);
	reads("p1  p2", "p1 p2", 2);
	reads("p0 p01 p-1 p1x p 12 x1 p9999999999999999999", "", 0);
	reads("p999999999999999999", "p999999999999999999", 1);
	reads("d" UID "0 d" UID " dABCDEF", "d" UID, 1);
	reads("** * p7", "*", 2);
	reads("p3\tp4 p5", "p5", 1);
}

int
main(void)
{
	test_roundtrip();
	test_overflow();
	test_strangers();
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed != 0;
}
