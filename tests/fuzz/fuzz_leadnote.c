/* SPDX-License-Identifier: MIT */
/*
 * fuzz_leadnote.c: libFuzzer target for the notes daemons on a shared
 * store read from their LISTEN channel (daemon/leadnote.c), which anyone
 * with access to the database can NOTIFY on: the input as a note.  Beyond
 * sanitizer reports, the target aborts when a contract breaks: every item
 * read is well-formed (a 'p' id above 0, a 'd' uid of 32 lower-case hex
 * digits), and the items written again make a note within the bound that
 * reads back as the same items.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "leadnote.h"

#define MAX_INPUT 16384

struct out {
	char text[LEADNOTE_MAX + 1];
	size_t len;
	size_t n;
	const struct leadnote_item *want;
	size_t n_want;
	struct leadnote_item items[LEADNOTE_MAX];
	bool full;
};

static void
check_item(const struct leadnote_item *it)
{
	size_t i;

	if (it->kind == 'p' && it->id <= 0)
		abort();
	if (it->kind == 'd') {
		if (strlen(it->uid) != 32)
			abort();
		for (i = 0; i < 32; i++)
			if (!strchr("0123456789abcdef", it->uid[i]))
				abort();
	}
	if (it->kind != 'p' && it->kind != 'd' && it->kind != '*')
		abort();
}

static void
write_cb(void *arg, const struct leadnote_item *it)
{
	struct out *o = arg;
	int r;

	check_item(it);
	r = leadnote_add(o->text, &o->len, it);
	if (r == -ENOSPC)
		o->full = true;
	else if (r != 0)
		abort();
	if (o->len > LEADNOTE_MAX || strlen(o->text) != o->len)
		abort();
	if (o->n < LEADNOTE_MAX)
		o->items[o->n++] = *it;
}

static void
reread_cb(void *arg, const struct leadnote_item *it)
{
	struct out *o = arg;
	const struct leadnote_item *w;

	check_item(it);
	if (o->n >= o->n_want)
		abort();
	w = &o->want[o->n++];
	if (w->kind != it->kind || w->id != it->id ||
	    strcmp(w->uid, it->uid) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out first, again;
	char *note;

	if ((note = fuzz_input(data, size, MAX_INPUT, true)) == NULL)
		return 0;
	memset(&first, 0, sizeof(first));
	leadnote_each(note, write_cb, &first);
	/* a note written whole reads back item for item; one that ran
	 * over is "*" and lost nothing it claims */
	memset(&again, 0, sizeof(again));
	again.want = first.items;
	again.n_want = first.n;
	if (!first.full && first.text[0] != '*')
		leadnote_each(first.text, reread_cb, &again);
	else if (strcmp(first.text, "*") != 0 &&
	    strstr(first.text, "*") == NULL)
		abort();
	free(note);
	return 0;
}
