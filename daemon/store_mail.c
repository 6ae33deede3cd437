/* SPDX-License-Identifier: MIT */
/*
 * store_mail.c: the SQLite store's record of the mails handed in (the
 * "mails" table, schema version 8): a mail the mail server delivers again,
 * because promise mail-in never got promised's answer, is known by its key
 * and answered with what was made of it the first time.  It is handed the
 * store's connection and needs nothing else of the store; SQLite's result
 * code goes back as it is, for store.c to word and map.  The statements
 * are prepared at each call: a mail comes in seldom, and the store's
 * table of persistent statements stays the promises'.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_impl.h"

int
store_mail_seen_db(sqlite3 *db, const char *key, char **ret_outcome)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *v;
	int rc;

	*ret_outcome = NULL;
	rc = sqlite3_prepare_v2(
	    db, "SELECT outcome FROM mails WHERE key = ?", -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = -ENOENT;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	v = sqlite3_column_text(s, 0);
	*ret_outcome = strdup(v != NULL ? (const char *)v : "");
	rc = *ret_outcome != NULL ? 0 : -ENOMEM;
out:
	sqlite3_finalize(s);
	return rc;
}

int
store_mail_record_db(sqlite3 *db, const char *key, int64_t at,
    const char *outcome, int64_t forget_before)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* on mails_at: the mails forgotten are the oldest, few at a time */
	rc = sqlite3_prepare_v2(
	    db, "DELETE FROM mails WHERE at < ?", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, forget_before);
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	rc = sqlite3_prepare_v2(db,
	    "INSERT INTO mails (key, at, outcome) VALUES (?, ?, ?)", -1, &s,
	    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, at);
		sqlite3_bind_text(s, 3, outcome, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
	}
	if (rc == SQLITE_DONE)
		rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}
