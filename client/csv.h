/* SPDX-License-Identifier: MIT */
/*
 * csv.h: reading and writing CSV (RFC 4180).  Private to the client.
 */
#ifndef PROMISE_CSV_H
#define PROMISE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* cells a spreadsheet would take for a formula start with one of these
 * (OWASP, CSV injection); export writes a ' before them, and before a
 * leading ' too, so import can tell that guard from the text */
#define CSV_FORMULA "=+-@\t\r'"

/*
 * The next record from f into *rec (malloc'd, owned by the caller, line
 * break stripped), lines joined while a quote is open; *lineno counts the
 * lines read, *line and *cap are getline's buffer.  1 with a record, 0 at
 * the end, -EINVAL for a quote still open at the end, or -ENOMEM.
 */
int csv_record(
    FILE *f, size_t *lineno, char **line, size_t *cap, char **rec, size_t *len);

/*
 * The fields of the record rec[0..n) appended to the array fields as
 * strings; 0, -EINVAL with *why saying what is wrong, or -ENOMEM.
 */
int csv_fields(const char *rec, size_t n, json_t *fields, const char **why);

/* s (NULL: nothing) on stdout as a CSV field, quoted where it must be */
void put_csv(const char *s);

#endif
