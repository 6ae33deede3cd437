/* SPDX-License-Identifier: MIT */
/*
 * text.h: reading a reply's members and printing them for people, with
 * nothing in them able to steer the terminal.  Private to the client.
 */
#ifndef PROMISE_TEXT_H
#define PROMISE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

/* an owner's column is cut at this width in every table */
#define OWNER_MAX_WIDTH 16

/* integer member k of o, or dflt when missing or not an integer */
int64_t jint(const json_t *o, const char *k, int64_t dflt);

/* number of columns the n bytes at s take, one per code point */
size_t text_width(const char *s, size_t n);
/* the larger of w and s's width, s's counted as at most cap */
size_t max_width(size_t w, const char *s, size_t cap);

/*
 * Prints at most max code points of the n bytes at s, controls, bidi and
 * zero-width characters made harmless; returns the columns printed.
 */
size_t put_text(const char *s, size_t n, size_t max);
void put_str(const char *s);
void put_spaces(size_t n);
/* s in exactly width columns when pad, at most width otherwise, cut
 * with "..." */
void put_cell(const char *s, size_t width, bool pad);
/* s right-aligned in width columns */
void put_right(const char *s, size_t width);
/* "Fri 2026-11-27 17:00 CET (in 3d)" */
void put_due(int64_t t, int64_t now);
/* a possibly multi-line text, continuation lines indented */
void put_indented(const char *s, const char *indent);

#endif
