/* SPDX-License-Identifier: MIT */
/*
 * text.c: a reply's members read and printed for people.  Whatever the
 * daemon or a file hands over is printed so that it cannot steer the
 * terminal nor make a line read as something else.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "text.h"
#include "timefmt.h"
#include "util.h"

int64_t
jint(const json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/*
 * Number of columns s takes, counting one per code point: jansson has
 * already checked the UTF-8, and wide scripts are rare enough in titles
 * not to pay for setlocale and wcwidth on every run.
 */
size_t
text_width(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* true if the len bytes at p are a bidi or zero-width character */
static bool
hidden(const unsigned char *p, size_t len)
{
	unsigned char seq[5] = {0};
	uint32_t cp = 0;

	if (len < 2 || len > 4)
		return false;
	memcpy(seq, p, len);
	return util_utf8_decode(seq, &cp) == len && util_cp_hidden(cp);
}

/*
 * Prints at most max code points of the n bytes at s.  Control characters
 * come out as '?' (whitespace ones as ' ') so a stored string cannot
 * steer the terminal, and so do bidi and zero-width characters, which
 * could make it read as something else.  Returns the number of columns
 * printed.
 */
size_t
put_text(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;
	size_t len, w = 0;

	while (p < end && w < max) {
		for (len = 1; p + len < end && (p[len] & 0xc0) == 0x80; len++)
			;
		if (*p == '\t' || *p == '\n' || *p == '\r')
			putchar(' ');
		else if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && len == 2 && p[1] < 0xa0) || hidden(p, len))
			putchar('?');
		else
			fwrite(p, 1, len, stdout);
		p += len;
		w++;
	}
	return w;
}

void
put_str(const char *s)
{
	put_text(s, strlen(s), SIZE_MAX);
}

void
put_spaces(size_t n)
{
	while (n-- > 0)
		putchar(' ');
}

/*
 * Prints s in exactly width columns when pad, at most width otherwise,
 * cutting long text with "...".
 */
void
put_cell(const char *s, size_t width, bool pad)
{
	size_t n = strlen(s), w = text_width(s, n);

	if (w <= width) {
		put_text(s, n, w);
	} else if (width > 3) {
		w = put_text(s, n, width - 3);
		fputs("...", stdout);
		w += 3;
	} else {
		w = put_text(s, n, width);
	}
	if (pad)
		put_spaces(width - w);
}

void
put_right(const char *s, size_t width)
{
	size_t w = text_width(s, strlen(s));

	put_spaces(w < width ? width - w : 0);
	put_str(s);
}

void
put_due(int64_t t, int64_t now)
{
	char when[TIMEBUF], rel[RELBUF];

	timefmt_local(t, when, sizeof(when));
	timefmt_relative(t, now, rel, sizeof(rel));
	printf("%s (%s)", when, rel);
}

void
put_indented(const char *s, const char *indent)
{
	const char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		put_text(s, (size_t)(nl - s), SIZE_MAX);
		printf("\n%s", indent);
		s = nl + 1;
	}
	put_str(s);
}

size_t
max_width(size_t w, const char *s, size_t cap)
{
	size_t n = text_width(s, strlen(s));

	if (n > cap)
		n = cap;
	return n > w ? n : w;
}
