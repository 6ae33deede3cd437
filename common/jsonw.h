/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h: a growing buffer, and JSON text written by hand into it.  Hot
 * replies (a promise on every add) are written this way: json_pack plus
 * json_dumps cost a sixth of an add; email messages are composed in the
 * same buffer.  It is always NUL-terminated; running out of memory sets
 * oom and makes every later write a no-op, so a writer checks once at the
 * end.
 */
#ifndef PROMISED_JSONW_H
#define PROMISED_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct jsonw {
	char *s; /* owned by whoever holds the jsonw; free() it */
	size_t len, cap;
	bool oom;
};

/* appends n bytes of s verbatim */
void jw_put(struct jsonw *b, const char *s, size_t n);
/* appends the C string s verbatim (JSON punctuation, names, literals) */
void jw_lit(struct jsonw *b, const char *s);
/* appends the formatted text verbatim */
void jw_printf(struct jsonw *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* appends v in decimal */
void jw_int(struct jsonw *b, int64_t v);
/*
 * appends s as a JSON string, or null for NULL.  s must be valid UTF-8
 * (the daemon checks text on input); it is copied as it is, with '"', '\\'
 * and the control characters escaped.
 */
void jw_str(struct jsonw *b, const char *s);
/*
 * appends s (valid UTF-8, not NULL) as jansson's json_dumps writes a
 * string with JSON_COMPACT, and with ascii JSON_ENSURE_ASCII too: the
 * same bytes, upper-case \uXXXX, surrogate pairs beyond the BMP, so that
 * text written here can stand where jansson's text stood (the outbox's
 * payloads, webhook bodies: receivers may compare or sign bytes).
 */
void jw_jstr(struct jsonw *b, const char *s, bool ascii);
/*
 * appends n bytes of JSON text in UTF-8 (written by jw_jstr without ascii,
 * or by jansson without JSON_ENSURE_ASCII) with every character beyond
 * ASCII written \uXXXX as JSON_ENSURE_ASCII would have written it
 */
void jw_put_ascii(struct jsonw *b, const char *s, size_t n);
/* appends v as json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes it,
 * without the round trip through jansson's own buffers */
void jw_tree(struct jsonw *b, const json_t *v);
/* empties b, keeping its memory for the next text */
void jw_reset(struct jsonw *b);

#endif
