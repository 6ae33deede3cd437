/* SPDX-License-Identifier: MIT */
/*
 * leadnote.h: the note a batch's COMMIT sends to the other daemons on a
 * shared store (NOTIFY's payload): what it changed, as items separated by
 * one space: "p<id>" a promise, "d<uid>" a delivery (32 lower-case hex
 * digits), or "*" alone for more than one note holds (read everything
 * again).  Pure: written and read here only.
 */
#ifndef PROMISED_LEADNOTE_H
#define PROMISED_LEADNOTE_H

#include <stddef.h>
#include <stdint.h>

/* a note's bytes at most, NUL not counted: NOTIFY's payload is below
 * 8000 bytes */
#define LEADNOTE_MAX 7800

struct leadnote_item {
	char kind;    /* 'p', 'd' or '*' */
	int64_t id;   /* 'p': above 0 */
	char uid[33]; /* 'd' */
};

/*
 * Appends it to the note buf[0..*len) (buf holds LEADNOTE_MAX + 1);
 * -ENOSPC when it does not fit, and the note becomes "*"; -EINVAL for an
 * item that is not one.  A note that is "*" stays so.
 */
int leadnote_add(char *buf, size_t *len, const struct leadnote_item *it);
/* each well-formed item of note to cb, in order; anything else in it is
 * skipped */
void leadnote_each(const char *note,
    void (*cb)(void *arg, const struct leadnote_item *it), void *arg);

#endif
