/* SPDX-License-Identifier: MIT */
/*
 * store_api.c: the store's interface (store.h) in front of its backends.
 * Each call goes to the table of the backend the store was opened with
 * (store_backend.h): SQLite in store.c, the default, or PostgreSQL in
 * store_pg.c.
 */
#include <errno.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

int
store_open(struct store **ret, const char *path, char *err, size_t errlen)
{
	return store_sqlite_open(ret, path, err, errlen);
}

int
store_open_postgresql(
    struct store **ret, const char *conninfo, char *err, size_t errlen)
{
	return store_pg_open(ret, conninfo, err, errlen);
}

const char *
store_backend_name(const struct store *st)
{
	return st->be->name;
}

struct store *
store_close(struct store *st)
{
	return st ? st->be->close(st) : NULL;
}

const char *
store_errmsg(const struct store *st)
{
	return st->be->errmsg(st);
}

int
store_set_max_size(struct store *st, int64_t bytes)
{
	return st->be->set_max_size(st, bytes);
}

int
store_set_durability(struct store *st, bool full)
{
	return st->be->set_durability(st, full);
}

int
store_schema_version(const struct store *st)
{
	return st->be->schema_version(st);
}

int
store_schema_migrated_from(const struct store *st)
{
	return st->be->schema_migrated_from(st);
}

int
store_begin(struct store *st)
{
	return st->be->begin(st);
}

bool
store_in_txn(const struct store *st)
{
	return st->be->in_txn(st);
}

int
store_commit(struct store *st)
{
	return st->be->commit(st);
}

int
store_rollback(struct store *st)
{
	return st->be->rollback(st);
}

int
store_savepoint(struct store *st)
{
	return st->be->savepoint(st);
}

int
store_release(struct store *st)
{
	return st->be->release(st);
}

int
store_rollback_savepoint(struct store *st)
{
	return st->be->rollback_savepoint(st);
}

int
store_add(struct store *st, const struct promise_rec *p, int64_t *ret_id)
{
	return st->be->add(st, p, ret_id);
}

int
store_get(struct store *st, int64_t id,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->get(st, id, cb, arg);
}

int
store_settle(struct store *st, int64_t id, enum promise_state state, int64_t at)
{
	return st->be->settle(st, id, state, at);
}

int
store_snooze(struct store *st, const struct promise_rec *p)
{
	return st->be->snooze(st, p);
}

int
store_set_stage(struct store *st, int64_t id, int32_t stage)
{
	return st->be->set_stage(st, id, stage);
}

int
store_event(struct store *st, int64_t promise_id, int64_t at, const char *actor,
    const char *what, const char *detail)
{
	return st->be->event(st, promise_id, at, actor, what, detail);
}

int
store_refusal(struct store *st, int64_t promise_id, int64_t at,
    const char *actor, const char *op, int64_t window)
{
	return st->be->refusal(st, promise_id, at, actor, op, window);
}

int
store_events(struct store *st, int64_t promise_id,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	return st->be->events(st, promise_id, cb, arg);
}

int
store_events_latest(struct store *st, int64_t promise_id, int64_t limit,
    void (*cb)(void *arg, const struct event_rec *e), void *arg)
{
	return st->be->events_latest(st, promise_id, limit, cb, arg);
}

int
store_list(struct store *st, enum store_filter f, const char *owner,
    const char *match, int64_t now, int64_t limit,
    void (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->list(st, f, owner, match, now, limit, cb, arg);
}

int
store_foreach_open(struct store *st,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->foreach_open(st, cb, arg);
}

int
store_due_between(struct store *st, bool kept_too, int64_t from, int64_t to,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->due_between(st, kept_too, from, to, cb, arg);
}

int
store_digest_sent(
    struct store *st, const char *week, const char *manager, int64_t at)
{
	return st->be->digest_sent(st, week, manager, at);
}

int
store_digest_was_sent(
    struct store *st, const char *week, const char *manager, bool *ret)
{
	return st->be->digest_was_sent(st, week, manager, ret);
}

int
store_count_open(struct store *st, int64_t *ret)
{
	return st->be->count_open(st, ret);
}

int
store_export(struct store *st, int64_t after, int64_t limit,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->export(st, after, limit, cb, arg);
}

bool
store_fts_behind(const struct store *st)
{
	return st->be->fts_behind(st);
}

int64_t
store_max_id(const struct store *st)
{
	return st->be->max_id(st);
}

int
store_fts_index(struct store *st, int64_t limit)
{
	return st->be->fts_index(st, limit);
}

int
store_report(struct store *st, int64_t since, int64_t now,
    int (*cb)(void *arg, const struct report_row *row), void *arg)
{
	return st->be->report(st, since, now, cb, arg);
}

int
store_report_lateness(struct store *st, const char *owner, int64_t since,
    int (*cb)(void *arg, int64_t late), void *arg)
{
	return st->be->report_lateness(st, owner, since, cb, arg);
}

int
store_sample(struct store *st, int64_t since,
    int (*cb)(void *arg, const struct promise_rec *p), void *arg)
{
	return st->be->sample(st, since, cb, arg);
}

int
store_counts(struct store *st, int64_t now, struct store_counts *ret)
{
	return st->be->counts(st, now, ret);
}

int
store_owner_counts(struct store *st, const char *owner, int64_t now,
    struct store_owner_counts *ret)
{
	return st->be->owner_counts(st, owner, now, ret);
}

int
store_metrics(struct store *st, int64_t now, struct store_metrics *ret)
{
	return st->be->metrics(st, now, ret);
}

int
store_delivery_add(struct store *st, const char *uid, int64_t promise_id,
    const char *event, const char *recipient, const char *channel,
    const char *payload, int64_t now, int64_t *ret_id)
{
	return st->be->delivery_add(st, uid, promise_id, event, recipient,
	    channel, payload, now, ret_id);
}

int
store_delivery_held(struct store *st, int64_t promise_id, const char *recipient,
    const char *event, int64_t after, bool *ret)
{
	return st->be->delivery_held(
	    st, promise_id, recipient, event, after, ret);
}

int
store_delivery_sent(struct store *st, int64_t id, int64_t now)
{
	return st->be->delivery_sent(st, id, now);
}

int
store_deliveries_sent(
    struct store *st, const int64_t *ids, size_t n, int64_t now)
{
	return st->be->deliveries_sent(st, ids, n, now);
}

int
store_delivery_retry(
    struct store *st, int64_t id, int64_t next_attempt_at, const char *error)
{
	return st->be->delivery_retry(st, id, next_attempt_at, error);
}

int
store_delivery_failed(struct store *st, int64_t id, const char *error)
{
	return st->be->delivery_failed(st, id, error);
}

int
store_foreach_pending_delivery(struct store *st,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	return st->be->foreach_pending_delivery(st, cb, arg);
}

int
store_delivery_by_uid(struct store *st, const char *uid,
    int (*cb)(void *arg, const struct delivery_rec *d), void *arg)
{
	return st->be->delivery_by_uid(st, uid, cb, arg);
}

int
store_delivery_short(struct store *st, const char *uid, size_t *ret)
{
	return st->be->delivery_short(st, uid, ret);
}

int
store_delivery_resolve(struct store *st, const char *prefix, char uid[33])
{
	return st->be->delivery_resolve(st, prefix, uid);
}

int
store_deliveries(struct store *st, int64_t promise_id, const char *state,
    int64_t limit, int (*cb)(void *arg, const struct delivery_rec *d),
    void *arg)
{
	return st->be->deliveries(st, promise_id, state, limit, cb, arg);
}

int
store_delivery_requeue(struct store *st, int64_t id, int64_t now)
{
	return st->be->delivery_requeue(st, id, now);
}

int
store_delivery_count(
    struct store *st, int64_t promise_id, const char *channel, int64_t *ret)
{
	return st->be->delivery_count(st, promise_id, channel, ret);
}

int
store_escalated(struct store *st, int64_t promise_id,
    int (*cb)(void *arg, const char *login), void *arg)
{
	return st->be->escalated(st, promise_id, cb, arg);
}

int
store_ack(
    struct store *st, int64_t promise_id, const char *login, int64_t until)
{
	return st->be->ack(st, promise_id, login, until);
}

int
store_acked_until(
    struct store *st, int64_t promise_id, const char *login, int64_t *ret)
{
	return st->be->acked_until(st, promise_id, login, ret);
}

int
store_mail_seen(struct store *st, const char *key, char **ret_outcome)
{
	*ret_outcome = NULL;
	if (strlen(key) > STORE_MAIL_KEY_MAX)
		return -EINVAL;
	return st->be->mail_seen(st, key, ret_outcome);
}

int
store_mail_record(struct store *st, const char *key, int64_t at,
    const char *outcome, int64_t forget_before)
{
	if (strlen(key) > STORE_MAIL_KEY_MAX)
		return -EINVAL;
	return st->be->mail_record(st, key, at, outcome, forget_before);
}

int
store_leadership(struct store *st, struct store_leadership *ret)
{
	if (st->be->leadership != NULL)
		return st->be->leadership(st, ret);
	memset(ret, 0, sizeof(*ret));
	ret->leader = true;
	return 0;
}

int
store_lead(struct store *st, double stale_s)
{
	return st->be->lead != NULL ? st->be->lead(st, stale_s) : 1;
}

int
store_lead_fd(const struct store *st)
{
	return st->be->lead_fd != NULL ? st->be->lead_fd(st) : -1;
}

int
store_lead_input(
    struct store *st, void (*cb)(void *arg, const char *note), void *arg)
{
	return st->be->lead_input != NULL ? st->be->lead_input(st, cb, arg) : 0;
}

int
store_token_add(struct store *st, const struct token_rec *t, int64_t *ret_id)
{
	return st->be->token_add(st, t, ret_id);
}

int
store_token_find(struct store *st, const char *hash,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	return st->be->token_find(st, hash, cb, arg);
}

int
store_token_list(struct store *st, const char *owner, int64_t now,
    int (*cb)(void *arg, const struct token_rec *t), void *arg)
{
	return st->be->token_list(st, owner, now, cb, arg);
}

int
store_token_revoke(struct store *st, int64_t id, const char *owner, int64_t at)
{
	return st->be->token_revoke(st, id, owner, at);
}

int
store_token_used(struct store *st, int64_t id, int64_t at)
{
	return st->be->token_used(st, id, at);
}

int
store_token_prune(struct store *st, int64_t before)
{
	return st->be->token_prune(st, before);
}
