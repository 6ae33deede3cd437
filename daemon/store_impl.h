/* SPDX-License-Identifier: MIT */
/*
 * store_impl.h: what the SQLite backend's files (store.c, store_backup.c,
 * store_token.c) share of its store; nothing outside the store includes
 * it.
 */
#ifndef PROMISED_STORE_IMPL_H
#define PROMISED_STORE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* st's connection; NULL if st is not an SQLite store */
sqlite3 *store_db(struct store *st);
/* within the batch transaction */
bool store_in_batch(const struct store *st);
/*
 * The backup being written (one at a time; b NULL if none), and how
 * store_close gives it up: through a pointer, so that the store needs
 * nothing of the backup's file.
 */
struct store_backup_slot {
	struct store_backup *b;
	struct store_backup *(*abort)(struct store_backup *b);
};
struct store_backup_slot *store_backup_slot(struct store *st);
/* msg becomes what store_errmsg(st) says */
void store_set_errmsg(struct store *st, const char *msg);
/* -errno for an SQLite result code (0 for the ones that mean success) */
int store_map_rc(int rc);
/*
 * v bound to parameter i of s as text, NULL as SQL NULL; v must outlive
 * the statement's step (SQLITE_STATIC).  Inline, so that store_token.c
 * uses it without needing store.c at link time.
 */
static inline void
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}
/* store_mail.c: store_mail_seen and store_mail_record on the connection
 * db: 0, -ENOENT (not seen), -ENOMEM, or SQLite's result code (> 0) */
int store_mail_seen_db(sqlite3 *db, const char *key, char **ret_outcome);
int store_mail_record_db(sqlite3 *db, const char *key, int64_t at,
    const char *outcome, int64_t forget_before);

/* store_token.c: the token table on db, for store.c's functions of the
 * same name (store_ for sqlite_); each returns an SQLite result code, the
 * message in db.  A callback's non-zero return stops the rows, into
 * *ret_cb */
int sqlite_token_add(sqlite3 *db, const struct token_rec *t, int64_t *ret_id);
int sqlite_token_find(sqlite3 *db, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg, int *ret_cb,
    int *ret_rows);
int sqlite_token_list(sqlite3 *db, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg, int *ret_cb);
int sqlite_token_revoke(sqlite3 *db, int64_t id, const char *owner, int64_t at,
    int64_t *ret_changed);
int sqlite_token_used(sqlite3 *db, int64_t id, int64_t at);
int sqlite_token_prune(sqlite3 *db, int64_t before);

#endif
