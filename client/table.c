/* SPDX-License-Identifier: MIT */
/*
 * table.c: the table list and deliveries print.  Each column is as wide
 * as its header or widest cell (cut at the column's cap); the last takes
 * what is left of the width aimed at, at least its minimum, and its cells
 * are cut, never padded, so that no line ends in blanks.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "table.h"
#include "text.h"

/* two spaces between columns */
#define GAP 2

static void
put_col(const struct table_col *col, const char *s, size_t width)
{
	if (col->right)
		put_right(s, width);
	else
		put_cell(s, width, true);
}

void
table_print(const struct table *t, const json_t *items, int64_t now)
{
	size_t w[TABLE_MAX_COLS], i, k, last = t->ncols - 1, used = 0, cap;
	const struct table_col *col;
	struct table_row r;

	for (k = 0; k < last; k++)
		w[k] = text_width(t->cols[k].head, strlen(t->cols[k].head));
	/* two passes, formatting twice, so no row needs to be kept */
	for (i = 0; i < json_array_size(items); i++) {
		t->fill(json_array_get(items, i), now, &r);
		for (k = 0; k < last; k++) {
			cap = t->cols[k].cap > 0 ? t->cols[k].cap : SIZE_MAX;
			w[k] = max_width(w[k], r.cell[k], cap);
		}
	}
	for (k = 0; k < last; k++)
		used += w[k] + GAP;
	w[last] = used + t->last_min < t->width ? t->width - used : t->last_min;
	for (k = 0; k < last; k++) {
		col = &t->cols[k];
		put_col(col, col->head, w[k]);
		put_spaces(GAP);
	}
	puts(t->cols[last].head);
	for (i = 0; i < json_array_size(items); i++) {
		t->fill(json_array_get(items, i), now, &r);
		for (k = 0; k < last; k++) {
			put_col(&t->cols[k], r.cell[k], w[k]);
			put_spaces(GAP);
		}
		put_cell(r.cell[last], w[last], false);
		putchar('\n');
	}
}
