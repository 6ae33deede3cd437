/* SPDX-License-Identifier: MIT */
/*
 * store_backend.h: what a store backend provides, as a table of functions
 * (OpenSMTPD's delivery backends): store_api.c hands each call of store.h
 * to the table of the backend the store was opened with.  A backend's own
 * struct begins with a struct store; nothing outside the store's files
 * includes this header.
 */
#ifndef PROMISED_STORE_BACKEND_H
#define PROMISED_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_backend;

/* the part of every backend's store that store_api.c sees */
struct store {
	const struct store_backend *be;
};

/* each member does what the store.h function of the same name (store_
 * before it) says; every member is set, but for the lead members, NULL in
 * a store only one daemon uses */
struct store_backend {
	const char *name; /* as in [store] backend */
	struct store *(*close)(struct store *st);
	const char *(*errmsg)(const struct store *st);
	int (*set_max_size)(struct store *st, int64_t bytes);
	int (*set_durability)(struct store *st, bool full);
	int (*schema_version)(const struct store *st);
	int (*schema_migrated_from)(const struct store *st);
	int (*begin)(struct store *st);
	bool (*in_txn)(const struct store *st);
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	int (*savepoint)(struct store *st);
	int (*release)(struct store *st);
	int (*rollback_savepoint)(struct store *st);
	int (*add)(
	    struct store *st, const struct promise_rec *p, int64_t *ret_id);
	int (*get)(struct store *st, int64_t id,
	    void (*cb)(void *arg, const struct promise_rec *p), void *arg);
	int (*settle)(
	    struct store *st, int64_t id, enum promise_state state, int64_t at);
	int (*snooze)(struct store *st, const struct promise_rec *p);
	int (*set_stage)(struct store *st, int64_t id, int32_t stage);
	int (*event)(struct store *st, int64_t promise_id, int64_t at,
	    const char *actor, const char *what, const char *detail);
	int (*refusal)(struct store *st, int64_t promise_id, int64_t at,
	    const char *actor, const char *op, int64_t window);
	int (*events)(struct store *st, int64_t promise_id,
	    void (*cb)(void *arg, const struct event_rec *e), void *arg);
	int (*events_latest)(struct store *st, int64_t promise_id,
	    int64_t limit, void (*cb)(void *arg, const struct event_rec *e),
	    void *arg);
	int (*list)(struct store *st, enum store_filter f, const char *owner,
	    const char *match, int64_t now, int64_t limit,
	    void (*cb)(void *arg, const struct promise_rec *p), void *arg);
	int (*foreach_open)(struct store *st,
	    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
	int (*due_between)(struct store *st, bool kept_too, int64_t from,
	    int64_t to, int (*cb)(void *arg, const struct promise_rec *p),
	    void *arg);
	int (*digest_sent)(struct store *st, const char *week,
	    const char *manager, int64_t at);
	int (*digest_was_sent)(
	    struct store *st, const char *week, const char *manager, bool *ret);
	int (*count_open)(struct store *st, int64_t *ret);
	int (*export)(struct store *st, int64_t after, int64_t limit,
	    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
	bool (*fts_behind)(const struct store *st);
	int64_t (*max_id)(const struct store *st);
	int (*fts_index)(struct store *st, int64_t limit);
	int (*report)(struct store *st, int64_t since, int64_t now,
	    int (*cb)(void *arg, const struct report_row *row), void *arg);
	int (*report_lateness)(struct store *st, const char *owner,
	    int64_t since, int (*cb)(void *arg, int64_t late), void *arg);
	int (*sample)(struct store *st, int64_t since,
	    int (*cb)(void *arg, const struct promise_rec *p), void *arg);
	int (*counts)(struct store *st, int64_t now, struct store_counts *ret);
	int (*owner_counts)(struct store *st, const char *owner, int64_t now,
	    struct store_owner_counts *ret);
	int (*metrics)(
	    struct store *st, int64_t now, struct store_metrics *ret);
	int (*delivery_add)(struct store *st, const char *uid,
	    int64_t promise_id, const char *event, const char *recipient,
	    const char *channel, const char *payload, int64_t now,
	    int64_t *ret_id);
	int (*delivery_held)(struct store *st, int64_t promise_id,
	    const char *recipient, const char *event, int64_t after, bool *ret);
	int (*delivery_sent)(struct store *st, int64_t id, int64_t now);
	int (*deliveries_sent)(
	    struct store *st, const int64_t *ids, size_t n, int64_t now);
	int (*delivery_retry)(struct store *st, int64_t id,
	    int64_t next_attempt_at, const char *error);
	int (*delivery_failed)(struct store *st, int64_t id, const char *error);
	int (*foreach_pending_delivery)(struct store *st,
	    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
	int (*delivery_by_uid)(struct store *st, const char *uid,
	    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
	int (*delivery_short)(struct store *st, const char *uid, size_t *ret);
	int (*delivery_resolve)(
	    struct store *st, const char *prefix, char uid[33]);
	int (*deliveries)(struct store *st, int64_t promise_id,
	    const char *state, int64_t limit,
	    int (*cb)(void *arg, const struct delivery_rec *d), void *arg);
	int (*delivery_requeue)(struct store *st, int64_t id, int64_t now);
	int (*delivery_count)(struct store *st, int64_t promise_id,
	    const char *channel, int64_t *ret);
	int (*escalated)(struct store *st, int64_t promise_id,
	    int (*cb)(void *arg, const char *login), void *arg);
	int (*ack)(struct store *st, int64_t promise_id, const char *login,
	    int64_t until);
	int (*acked_until)(struct store *st, int64_t promise_id,
	    const char *login, int64_t *ret);
	int (*mail_seen)(struct store *st, const char *key, char **ret_outcome);
	int (*mail_record)(struct store *st, const char *key, int64_t at,
	    const char *outcome, int64_t forget_before);
	int (*leadership)(struct store *st, struct store_leadership *ret);
	int (*lead)(struct store *st, double stale_s);
	int (*lead_fd)(const struct store *st);
	int (*lead_input)(struct store *st,
	    void (*cb)(void *arg, const char *note), void *arg);
	int (*token_add)(
	    struct store *st, const struct token_rec *t, int64_t *ret_id);
	int (*token_find)(struct store *st, const char *hash,
	    int (*cb)(void *arg, const struct token_rec *t), void *arg);
	int (*token_list)(struct store *st, const char *owner, int64_t now,
	    int (*cb)(void *arg, const struct token_rec *t), void *arg);
	int (*token_revoke)(
	    struct store *st, int64_t id, const char *owner, int64_t at);
	int (*token_used)(struct store *st, int64_t id, int64_t at);
	int (*token_prune)(struct store *st, int64_t before);
};

extern const struct store_backend store_sqlite_backend;

/* opens the SQLite database at path (store.c) */
int store_sqlite_open(
    struct store **ret, const char *path, char *err, size_t errlen);
/* connects to PostgreSQL by conninfo, a libpq connection string or URL
 * (store_pg.c) */
int store_pg_open(
    struct store **ret, const char *conninfo, char *err, size_t errlen);

#endif
