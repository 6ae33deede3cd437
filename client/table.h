/* SPDX-License-Identifier: MIT */
/*
 * table.h: the one table of the client (list, deliveries): a header line
 * and a line per item, columns as wide as their widest cell, the last one
 * taking what is left of the width aimed at.  Private to the client.
 */
#ifndef PROMISE_TABLE_H
#define PROMISE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define TABLE_MAX_COLS 10
#define TABLE_CELL 128

struct table_col {
	const char *head;
	size_t cap; /* the widest a cell makes the column; 0: no limit */
	bool right; /* aligned right, as numbers are */
};

/* one line: cell[k] is column k's text, formatted ones kept in buf[k] */
struct table_row {
	const char *cell[TABLE_MAX_COLS];
	char buf[TABLE_MAX_COLS][TABLE_CELL];
};

struct table {
	const struct table_col *cols;
	size_t ncols;    /* at most TABLE_MAX_COLS; the last is cut to fit */
	size_t width;    /* the columns a line aims at, whatever the terminal */
	size_t last_min; /* the least the last column gets */
	/* fills every cell of r for item */
	void (*fill)(const json_t *item, int64_t now, struct table_row *r);
};

/* prints the header and a line for each member of the array items */
void table_print(const struct table *t, const json_t *items, int64_t now);

#endif
