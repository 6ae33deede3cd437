/*
 * deliver.c: the outbox between the schedule and the backends.  A delivery
 * row is written inside the batch that records its event; the backend
 * starts only after that batch commits, so nothing is sent that the store
 * does not know about, and whatever was not confirmed sent before a crash is
 * sent again at start-up with the same uid.  Failed attempts are retried
 * with exponential backoff and jitter on the schedule's wheel.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "deliver.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* retry delays double from BACKOFF_MIN to BACKOFF_MAX seconds; after
 * MAX_ATTEMPTS (about two days) a delivery is marked failed */
#define BACKOFF_MIN 30
#define BACKOFF_MAX 3600
#define MAX_ATTEMPTS 60
/* when the store cannot record an attempt, try the row again this soon */
#define STORE_RETRY_MS 30000

struct deliver {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	struct backend *b;
	struct delivery *all;
	struct delivery *queued, **queued_tail;
	size_t inflight;
};

static const char *const event_names[SKIND_MAX] = {
    [SKIND_NUDGE] = "promise.nudge",
    [SKIND_DUE] = "promise.due",
    [SKIND_ESCALATION] = "promise.escalation",
};

static void
delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	if (d->pprev != NULL) {
		*d->pprev = d->next;
		if (d->next != NULL)
			d->next->pprev = d->pprev;
	}
	sched_timer_del(d->dl->s, &d->retry);
	free(d->kind);
	free(d->recipient);
	free(d->channel);
	free(d->payload);
	free(d);
}

static void retry_cb(struct sched_timer *t);

static struct delivery *
delivery_new(struct deliver *dl, int64_t id, const char *uid,
    int64_t promise_id, const char *kind, const char *recipient,
    const char *channel, const char *payload, int64_t attempts)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->dl = dl;
	wtimer_init(&d->retry.wt);
	d->retry.cb = retry_cb;
	d->id = id;
	util_strlcpy(d->uid, uid, sizeof(d->uid));
	d->promise_id = promise_id;
	d->attempts = attempts;
	d->kind = strdup(kind);
	d->recipient = strdup(recipient);
	d->channel = strdup(channel);
	d->payload = strdup(payload);
	/* link first, so delivery_free can unlink whatever happens next */
	d->next = dl->all;
	if (dl->all != NULL)
		dl->all->pprev = &d->next;
	dl->all = d;
	d->pprev = &dl->all;
	if (d->kind == NULL || d->recipient == NULL || d->channel == NULL ||
	    d->payload == NULL) {
		delivery_free(d);
		return NULL;
	}
	return d;
}

static void
queue(struct deliver *dl, struct delivery *d)
{
	d->qnext = NULL;
	*dl->queued_tail = d;
	dl->queued_tail = &d->qnext;
}

static void
start(struct deliver *dl, struct delivery *d)
{
	int r;

	dl->inflight++;
	r = dl->b->start(dl->b, d);
	if (r < 0)
		deliver_done(d, r, strerror(-r), 0);
}

static void
retry_cb(struct sched_timer *t)
{
	struct delivery *d = (struct delivery *)t;

	start(d->dl, d);
}

/* seconds to wait after the n-th failed attempt, with +-20% jitter so a
 * crowd of failures does not retry in lockstep */
static int64_t
backoff(int64_t attempts)
{
	int64_t delay = BACKOFF_MIN;
	uint32_t rnd = 0;

	while (attempts-- > 1 && delay < BACKOFF_MAX)
		delay *= 2;
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = 0x80000000u;
	return delay * 8 / 10 + (int64_t)(rnd % (uint32_t)(delay * 4 / 10 + 1));
}

void
deliver_done(struct delivery *d, int rc, const char *error,
    int64_t retry_after)
{
	struct deliver *dl = d->dl;

	(void)retry_after;
	int64_t now = util_now(), next = 0;
	bool final = rc == 0 || rc == -EPERM || d->attempts + 1 >= MAX_ATTEMPTS;
	int r;

	dl->inflight--;
	if ((r = store_savepoint(dl->st)) == 0) {
		if (rc == 0)
			r = store_delivery_sent(dl->st, d->id, now);
		else if (final)
			r = store_delivery_failed(dl->st, d->id, error);
		else {
			next = now + backoff(d->attempts + 1);
			r = store_delivery_retry(dl->st, d->id, next, error);
		}
		if (r == 0)
			r = store_release(dl->st);
		else
			store_rollback_savepoint(dl->st);
	}
	if (r == -ENOENT) {
		/* only a rolled-back batch leaves a delivery without its row:
		 * nothing was promised, so there is nothing to retry */
		log_warnx(
		    "delivery %s: its outbox row is gone; dropping it", d->uid);
		delivery_free(d);
		return;
	}
	if (r < 0) {
		/* the row stays pending; try the whole delivery again soon,
		 * which at worst sends it twice: at least once, as promised */
		log_warnx("delivery %s: cannot record its outcome: %s; "
		          "retrying in %d s",
		    d->uid, store_errmsg(dl->st), STORE_RETRY_MS / 1000);
		sched_timer_add(
		    dl->s, &d->retry, util_now_ms() + STORE_RETRY_MS);
		return;
	}
	if (rc == 0) {
		log_debug("delivery %s: %s for promise %" PRId64 " sent via %s",
		    d->uid, d->kind, d->promise_id, d->channel);
		delivery_free(d);
		return;
	}
	if (final) {
		log_warnx("delivery %s: %s for promise %" PRId64 " to '%s' "
		          "failed for good after %" PRId64 " attempts: %s",
		    d->uid, d->kind, d->promise_id, d->recipient,
		    d->attempts + 1, error);
		delivery_free(d);
		return;
	}
	d->attempts++;
	log_warnx("delivery %s: %s for promise %" PRId64 " to '%s' failed: %s, "
	          "will retry in %" PRId64 "s",
	    d->uid, d->kind, d->promise_id, d->recipient, error, next - now);
	sched_timer_add(dl->s, &d->retry, next * 1000);
}

/* the message body every channel starts from */
static char *
payload_new(const char *uid, const struct promise_rec *p, enum sched_kind kind,
    int level, int64_t now)
{
	json_t *o;
	char *s = NULL;
	char due[32];

	timefmt_iso_utc(p->due_at, due, sizeof(due));
	o = json_pack("{s:s,s:s,s:I,s:s,s:{s:I,s:s,s:s,s:s?,s:s?,s:I,s:s,s:s}}",
	    "event", event_names[kind], "delivery", uid, "occurred_at",
	    (json_int_t)now, "recipient", p->owner, "promise", "id",
	    (json_int_t)p->id, "title", p->title, "owner", p->owner, "for",
	    p->for_whom, "note", p->note, "due_at", (json_int_t)p->due_at,
	    "due", due, "created_by", p->created_by);
	if (o == NULL)
		return NULL;
	if (kind == SKIND_ESCALATION &&
	    (json_object_set_new(o, "level", json_integer(level)) < 0 ||
	        json_object_set_new(o, "audience", json_string("manager")) < 0))
		goto out;
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
out:
	json_decref(o);
	return s;
}

int
deliver_enqueue(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int level, int64_t now, char uid[33])
{
	struct delivery *d;
	char *payload = NULL;
	int64_t id;
	int r;

	if ((r = util_random_hex(uid, 16)) < 0)
		return r;
	payload = payload_new(uid, p, kind, level, now);
	if (payload == NULL)
		return -ENOMEM;
	r = store_delivery_add(dl->st, uid, p->id, event_names[kind], p->owner,
	    dl->b->name, payload, now, &id);
	if (r < 0)
		goto out;
	d = delivery_new(dl, id, uid, p->id, event_names[kind], p->owner,
	    dl->b->name, payload, 0);
	if (d == NULL) {
		/* the row is written and will go out at the next start */
		log_warnx("delivery %s: out of memory; it stays queued", uid);
		goto out;
	}
	queue(dl, d);
out:
	free(payload);
	return r;
}

struct delivery **
deliver_mark(struct deliver *dl)
{
	return dl->queued_tail;
}

void
deliver_unwind(struct deliver *dl, struct delivery **mark)
{
	struct delivery *d = *mark, *next;

	for (; d != NULL; d = next) {
		next = d->qnext;
		delivery_free(d);
	}
	*mark = NULL;
	dl->queued_tail = mark;
}

void
deliver_after_commit(struct deliver *dl, bool ok)
{
	struct delivery *d, *next;

	d = dl->queued;
	dl->queued = NULL;
	dl->queued_tail = &dl->queued;
	for (; d != NULL; d = next) {
		next = d->qnext;
		if (ok)
			start(dl, d);
		else
			delivery_free(d);
	}
}

static int
resume_cb(void *arg, const struct delivery_rec *r)
{
	struct deliver *dl = arg;
	struct delivery *d;

	d = delivery_new(dl, r->id, r->uid, r->promise_id, r->kind,
	    r->recipient, r->channel, r->payload, r->attempts);
	if (d == NULL)
		return -ENOMEM;
	if (r->next_attempt_at <= util_now())
		queue(dl, d);
	else
		sched_timer_add(dl->s, &d->retry, r->next_attempt_at * 1000);
	return 0;
}

int
deliver_resume(struct deliver *dl)
{
	return store_foreach_pending_delivery(dl->st, resume_cb, dl);
}

size_t
deliver_inflight(const struct deliver *dl)
{
	return dl->inflight;
}

int
deliver_reload(struct deliver *dl, const struct conf *c)
{
	return dl->b->reload ? dl->b->reload(dl->b, c) : 0;
}

int
deliver_open(struct deliver **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, const struct conf *c, char *err, size_t errlen)
{
	struct deliver *dl;
	int r;

	*ret = NULL;
	dl = calloc(1, sizeof(*dl));
	if (dl == NULL)
		return -ENOMEM;
	dl->loop = loop;
	dl->st = st;
	dl->s = s;
	dl->queued_tail = &dl->queued;
	if ((r = backend_log_open(&dl->b, loop, c, err, errlen)) < 0) {
		free(dl);
		return r;
	}
	*ret = dl;
	return 0;
}

struct deliver *
deliver_close(struct deliver *dl)
{
	if (dl == NULL)
		return NULL;
	/* the backend forgets its deliveries first; they stay pending in the
	 * store and go out again at the next start */
	if (dl->b != NULL)
		dl->b->free(dl->b);
	while (dl->all != NULL)
		delivery_free(dl->all);
	free(dl);
	return NULL;
}
