/* SPDX-License-Identifier: MIT */
/*
 * csv.c: CSV as RFC 4180 has it, for import and export: records that may
 * run over several lines, fields quoted with "" for a quote, and fields
 * written so that a spreadsheet takes none of them for a formula.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#include "csv.h"

/*
 * The next CSV record from f into *rec (malloc'd, owned by the caller,
 * line break stripped): lines are joined while a quote is open.  1 with a
 * record, 0 at the end, or -errno.
 */
int
csv_record(
    FILE *f, size_t *lineno, char **line, size_t *cap, char **rec, size_t *len)
{
	size_t quotes = 0, n, i;
	ssize_t got;
	char *grown;

	*len = 0;
	do {
		if ((got = getline(line, cap, f)) == -1)
			return *len > 0 ? -EINVAL : 0;
		(*lineno)++;
		n = (size_t)got;
		for (i = 0; i < n; i++)
			quotes += (*line)[i] == '"';
		if ((grown = realloc(*rec, *len + n + 1)) == NULL)
			return -ENOMEM;
		*rec = grown;
		memcpy(*rec + *len, *line, n);
		*len += n;
	} while (quotes % 2 != 0);
	while (
	    *len > 0 && ((*rec)[*len - 1] == '\n' || (*rec)[*len - 1] == '\r'))
		(*len)--;
	(*rec)[*len] = '\0';
	return 1;
}

/*
 * The fields of one CSV record in rec[0..n) (RFC 4180: "" is a quote
 * inside a quoted field, which may hold commas and line breaks) appended
 * to fields as strings; 0, -EINVAL with *why, or -ENOMEM.
 */
int
csv_fields(const char *rec, size_t n, json_t *fields, const char **why)
{
	const char *p = rec, *end = rec + n;
	char *cell = NULL;
	size_t len;
	bool quoted;
	int r = -ENOMEM;

	/* a cell is never longer than its record */
	if ((cell = malloc(n + 1)) == NULL)
		goto out;
	for (;;) {
		len = 0;
		quoted = p < end && *p == '"';
		if (quoted) {
			for (p++;; p++) {
				if (p == end) {
					*why = "a quoted field is not closed";
					r = -EINVAL;
					goto out;
				}
				if (*p == '"' && (p + 1 == end || p[1] != '"'))
					break;
				if (*p == '"')
					p++;
				cell[len++] = *p;
			}
			p++;
		} else
			while (p < end && *p != ',') {
				if (*p == '"') {
					*why = "a quote inside an unquoted "
					       "field";
					r = -EINVAL;
					goto out;
				}
				cell[len++] = *p++;
			}
		if (p < end && *p != ',') {
			*why = "text after a quoted field";
			r = -EINVAL;
			goto out;
		}
		if (json_array_append_new(
		        fields, json_stringn_nocheck(cell, len)) < 0)
			goto out;
		if (p == end)
			break;
		p++;
	}
	r = 0;
out:
	free(cell);
	return r;
}

/*
 * A CSV field: quoted when it holds a comma, quote or line break, or
 * when it could start a formula; that is shown as text by a ' in front,
 * which import drops.
 */
void
put_csv(const char *s)
{
	bool formula;

	if (s == NULL)
		return;
	formula = s[0] != '\0' && strchr(CSV_FORMULA, s[0]) != NULL;
	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	if (formula)
		putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}
