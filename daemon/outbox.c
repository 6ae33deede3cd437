/* SPDX-License-Identifier: MIT */
/*
 * outbox.c: the deliveries on their way.  Each is started once the batch
 * that wrote its row commits, under [delivery] concurrency; a failure is
 * retried with backoff until give_up_after, a channel that fails as a whole
 * is down and its deliveries wait for it, and whatever was not confirmed
 * sent before a crash is loaded again at start-up with the same uid.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "deliver.h"
#include "deliver_impl.h"
#include "log.h"
#include "util.h"

/* when the store cannot record an attempt, try the row again this soon */
#define STORE_RETRY_MS 30000

const char *const outbox_channel_names[CH_MAX] = {
    [CH_LOG] = "log",
    [CH_EMAIL] = "email",
    [CH_WEBHOOK] = "webhook",
};

enum channel
outbox_channel(const char *name)
{
	int i;

	for (i = 0; i < CH_MAX; i++)
		if (strcmp(name, outbox_channel_names[i]) == 0)
			return (enum channel)i;
	return CH_LOG;
}

void
outbox_delivery_free(struct delivery *d)
{
	if (d == NULL)
		return;
	if (d->pprev != NULL) {
		*d->pprev = d->next;
		if (d->next != NULL)
			d->next->pprev = d->pprev;
		d->dl->n_all--;
	}
	sched_timer_del(d->dl->s, &d->retry);
	if (d->job.rendered != NULL)
		d->job.rendered_free(d->job.rendered);
	free(d->event);
	free(d->recipient);
	free(d->channel);
	free(d->payload);
	free(d);
}

static void retry_cb(struct sched_timer *t);

struct delivery *
outbox_delivery_new(struct deliver *dl, const struct delivery_rec *r)
{
	struct delivery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->dl = dl;
	wtimer_init(&d->retry.wt);
	d->retry.cb = retry_cb;
	d->id = r->id;
	util_strlcpy(d->uid, r->uid, sizeof(d->uid));
	d->promise_id = r->promise_id;
	d->attempts = r->attempts;
	d->created_at = r->created_at;
	d->event = strdup(r->event);
	d->recipient = strdup(r->recipient);
	d->channel = strdup(r->channel);
	d->payload = strdup(r->payload);
	/* link first, so outbox_delivery_free can unlink whatever happens next
	 */
	d->next = dl->all;
	if (dl->all != NULL)
		dl->all->pprev = &d->next;
	dl->all = d;
	d->pprev = &dl->all;
	dl->n_all++;
	if (d->event == NULL || d->recipient == NULL || d->channel == NULL ||
	    d->payload == NULL) {
		outbox_delivery_free(d);
		return NULL;
	}
	d->job.uid = d->uid;
	d->job.event = d->event;
	d->job.recipient = d->recipient;
	d->job.payload = d->payload;
	return d;
}

void
outbox_queue(struct deliver *dl, struct delivery *d)
{
	d->qnext = NULL;
	*dl->queued_tail = d;
	dl->queued_tail = &d->qnext;
}

/* d waits for its channel to come back (or on) */
void
outbox_wait_channel(struct deliver *dl, struct delivery *d)
{
	struct chan *c = &dl->chan[outbox_channel(d->channel)];

	d->qnext = NULL;
	d->waiting = true;
	*c->waiting_tail = d;
	c->waiting_tail = &d->qnext;
	c->n_waiting++;
}

static void
start_now(struct deliver *dl, struct delivery *d)
{
	struct backend *b = dl->b[outbox_channel(d->channel)];
	char msg[256] = "";
	int r;

	if (b == NULL) {
		/* a channel switched off by a reload since the row was made:
		 * it waits for a reload that turns the channel on again */
		outbox_wait_channel(dl, d);
		return;
	}
	dl->inflight++;
	d->busy = true;
	r = b->start(b, &d->job, msg, sizeof(msg));
	if (r < 0)
		deliver_done(d, r, msg[0] ? msg : strerror(-r), 0);
}

/* starts d, or lines it up for a free slot under [delivery] concurrency,
 * or keeps it waiting while its channel is down */
static void
start(struct deliver *dl, struct delivery *d)
{
	if (dl->chan[outbox_channel(d->channel)].down) {
		outbox_wait_channel(dl, d);
		return;
	}
	if (dl->inflight >= (size_t)dl->conf->concurrency) {
		d->qnext = NULL;
		*dl->ready_tail = d;
		dl->ready_tail = &d->qnext;
		return;
	}
	start_now(dl, d);
}

void
outbox_pump(struct deliver *dl)
{
	struct delivery *d;

	while (
	    dl->ready != NULL && dl->inflight < (size_t)dl->conf->concurrency) {
		d = dl->ready;
		dl->ready = d->qnext;
		if (dl->ready == NULL)
			dl->ready_tail = &dl->ready;
		if (dl->chan[outbox_channel(d->channel)].down)
			outbox_wait_channel(dl, d);
		else
			start_now(dl, d);
	}
}

static void
retry_cb(struct sched_timer *t)
{
	struct delivery *d = container_of(t, struct delivery, retry);

	start(d->dl, d);
}

/* ms to wait after the n-th failed attempt: doubling from retry_initial
 * to retry_max, with +-20% jitter so a crowd of failures does not retry in
 * lockstep */
static int64_t
backoff_ms(const struct conf *c, int64_t attempts)
{
	int64_t delay = c->retry_initial * 1000;
	uint32_t rnd = 0;

	while (attempts-- > 1 && delay < c->retry_max * 1000)
		delay *= 2;
	if (delay > c->retry_max * 1000)
		delay = c->retry_max * 1000;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = 0x80000000u;
	return delay * 8 / 10 + (int64_t)(rnd % (uint32_t)(delay * 4 / 10 + 1));
}

/*
 * A new delivery uid into uid[33]: 32 lower-case hex digits, as ever, but
 * the first 12 are the time in milliseconds and only the other 20 (80
 * bits) random.  The outbox indexes uids; random ones land all over that
 * index, so a burst dirtied (and wrote out) a page of it per delivery,
 * where these mostly append.  0 or -errno.
 */
int
outbox_new_uid(struct deliver *dl, char uid[33])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t ms = (uint64_t)util_now_ms();
	const unsigned char *b;
	ssize_t n;
	size_t i;

	if (dl->rnd_left < 10) {
		n = getrandom(dl->rnd, sizeof(dl->rnd), 0);
		if (n < 0)
			return -errno;
		/* a short read (signal) is fine as long as it covers a uid */
		if (n < 10)
			return -EAGAIN;
		dl->rnd_left = (size_t)n;
	}
	for (i = 12; i-- > 0; ms >>= 4)
		uid[i] = hex[ms & 0xf];
	dl->rnd_left -= 10;
	b = dl->rnd + dl->rnd_left;
	for (i = 0; i < 10; i++) {
		uid[12 + 2 * i] = hex[b[i] >> 4];
		uid[12 + 2 * i + 1] = hex[b[i] & 0xf];
	}
	uid[32] = '\0';
	/* used bytes are not kept around in memory */
	memset(dl->rnd + dl->rnd_left, 0, 10);
	return 0;
}

/* ---- attempts ----------------------------------------------------------- */

/* "promise.due for promise 12", or the event alone when it is about no
 * one promise, for the log */
static void
about(const struct delivery *d, char *buf, size_t len)
{
	if (d->promise_id > 0)
		snprintf(buf, len, "%s for promise %" PRId64, d->event,
		    d->promise_id);
	else
		snprintf(buf, len, "%s", d->event);
}

/* sends everything waiting for c: the channel is up (or on) again */
void
outbox_release(struct deliver *dl, struct chan *c)
{
	struct delivery *d = c->waiting, *next;

	c->waiting = NULL;
	c->waiting_tail = &c->waiting;
	c->n_waiting = 0;
	for (; d != NULL; d = next) {
		next = d->qnext;
		d->waiting = false;
		start(dl, d);
	}
}

/* the channel's probe timer */
static void
probe_cb(struct sched_timer *t)
{
	struct chan *c = container_of(t, struct chan, probe);
	struct delivery *d = c->waiting;

	c->next_try = 0;
	if (d == NULL || c->dl->b[c->ch] == NULL) {
		/* nothing to try it with: the next delivery will */
		c->down = false;
		return;
	}
	c->waiting = d->qnext;
	if (c->waiting == NULL)
		c->waiting_tail = &c->waiting;
	c->n_waiting--;
	d->waiting = false;
	log_debug("%s channel: trying delivery %s", outbox_channel_names[c->ch],
	    d->uid);
	start_now(c->dl, d);
}

void
outbox_probe_at(struct deliver *dl, struct chan *c, int64_t at_ms)
{
	c->next_try = (at_ms + 999) / 1000;
	sched_timer_add(dl->s, &c->probe, at_ms);
}

/*
 * d's channel failed it, not d itself: the channel is down (the log says
 * so once), d waits with the rest, and a probe is due after a backoff.
 * Returns when that is (ms).
 */
static int64_t
channel_down(struct deliver *dl, struct delivery *d, const char *error)
{
	struct chan *c = &dl->chan[outbox_channel(d->channel)];
	int64_t now_ms = util_now_ms(), at;

	util_strlcpy(
	    c->error, error != NULL ? error : "unreachable", sizeof(c->error));
	at = now_ms + backoff_ms(dl->conf, ++c->failures);
	if (!c->down) {
		c->down = true;
		c->since = now_ms / 1000;
		log_errorx("%s channel down: %s; its deliveries wait for it, "
		           "trying again in %" PRId64 " s",
		    outbox_channel_names[c->ch], c->error,
		    (at - now_ms + 999) / 1000);
	}
	/* the first failure of a burst sets the time: later ones, from
	 * deliveries already under way, do not push it back */
	if (!wtimer_pending(&c->probe.wt))
		outbox_probe_at(dl, c, at);
	return at;
}

/* an answer that is not "down" from a channel that was: it is back */
static void
channel_up(struct deliver *dl, struct chan *c)
{
	if (!c->down)
		return;
	log_info("%s channel back after %" PRId64 " s down: sending the %zu "
	         "deliveries that waited",
	    outbox_channel_names[c->ch], util_now() - c->since, c->n_waiting);
	c->down = false;
	c->failures = 0;
	c->next_try = 0;
	c->error[0] = '\0';
	sched_timer_del(dl->s, &c->probe);
	outbox_release(dl, c);
}

void
outbox_done(struct backend_delivery *job, int rc, const char *error,
    int64_t retry_after)
{
	deliver_done(
	    container_of(job, struct delivery, job), rc, error, retry_after);
}

/* the outcome of d, sent, could not be written: its row stays pending, and
 * the whole delivery is tried again soon, which at worst sends it twice:
 * at least once, as promised */
static void
unrecorded(struct deliver *dl, struct delivery *d)
{
	log_warnx("delivery %s: cannot record its outcome: %s; "
	          "retrying in %d s",
	    d->uid, store_errmsg(dl->st), STORE_RETRY_MS / 1000);
	sched_timer_add(dl->s, &d->retry, util_now_ms() + STORE_RETRY_MS);
}

void
deliver_before_commit(struct deliver *dl)
{
	struct delivery *d, *next;
	int64_t *ids;
	size_t n = 0;
	int r = 0;

	if (dl->sent == NULL)
		return;
	for (d = dl->sent; d != NULL; d = d->qnext)
		n++;
	if (n > dl->sent_cap) {
		if ((ids = realloc(dl->sent_ids, n * sizeof(*ids))) == NULL)
			r = -ENOMEM;
		else {
			dl->sent_ids = ids;
			dl->sent_cap = n;
		}
	}
	for (n = 0, d = dl->sent; r == 0 && d != NULL; d = d->qnext)
		dl->sent_ids[n++] = d->id;
	if (r == 0 && (r = store_begin(dl->st)) == 0)
		r = store_deliveries_sent(dl->st, dl->sent_ids, n, util_now());
	d = dl->sent;
	dl->sent = NULL;
	for (; d != NULL; d = next) {
		next = d->qnext;
		if (r == 0) {
			d->qnext = dl->flushed;
			dl->flushed = d;
			continue;
		}
		dl->inflight--;
		unrecorded(dl, d);
	}
	if (r < 0)
		outbox_pump(dl);
}

/* after the batch with the outcomes of flushed: they are sent, or (the
 * commit failed) tried again */
static void
flushed_done(struct deliver *dl, bool ok)
{
	struct delivery *d = dl->flushed, *next;
	char what[96];

	dl->flushed = NULL;
	for (; d != NULL; d = next) {
		next = d->qnext;
		dl->inflight--;
		if (!ok) {
			unrecorded(dl, d);
			continue;
		}
		about(d, what, sizeof(what));
		log_info("delivery %s: %s sent to '%s' via %s", d->uid, what,
		    d->recipient, d->channel);
		outbox_delivery_free(d);
	}
}

void
deliver_done(struct delivery *d, int rc, const char *error, int64_t retry_after)
{
	struct deliver *dl = d->dl;
	struct delivery **mark;
	char what[96];
	int64_t now_ms = util_now_ms(), now = now_ms / 1000, next_ms = 0;
	bool final = rc == -EPERM;
	bool down = rc == -ENETDOWN;
	int r;

	if (rc == 0) {
		/* written with the others of this iteration before the
		 * batch commits (deliver_before_commit); its slot stays
		 * taken until then.  No longer the backend's */
		d->busy = false;
		d->qnext = dl->sent;
		dl->sent = d;
		channel_up(dl, &dl->chan[outbox_channel(d->channel)]);
		return;
	}
	dl->inflight--;
	d->busy = false;
	if (down)
		next_ms = channel_down(dl, d, error);
	if (rc != 0 && !final && !down) {
		next_ms = now_ms +
		    (retry_after > 0 ? retry_after * 1000
		                     : backoff_ms(dl->conf, d->attempts + 1));
		/* give up once the next try would fall past the window, which
		 * opens with the first try: a held escalation's is later */
		final = next_ms / 1000 -
		        (d->hold_until > d->created_at ? d->hold_until
		                                       : d->created_at) >
		    dl->conf->give_up_after;
	}
	/* one statement is atomic on its own, and this runs once per
	 * delivery: only a failure for good, which writes several, needs
	 * the savepoint */
	if (!final) {
		/* into the batch, like everything else */
		if ((r = store_begin(dl->st)) == 0)
			r = store_delivery_retry(
			    dl->st, d->id, (next_ms + 999) / 1000, error);
	} else if ((r = store_savepoint(dl->st)) == 0) {
		mark = deliver_mark(dl);
		r = store_delivery_failed(dl->st, d->id, error);
		if (r == 0)
			r = dl->undeliverable(dl, d, error, now);
		if (r == 0)
			r = store_release(dl->st);
		else {
			store_rollback_savepoint(dl->st);
			deliver_unwind(dl, mark);
		}
	}
	if (!down)
		channel_up(dl, &dl->chan[outbox_channel(d->channel)]);
	outbox_pump(dl);
	if (r == -ENOENT) {
		/* only a rolled-back batch leaves a delivery without its row:
		 * nothing was promised, so there is nothing to retry */
		log_warnx(
		    "delivery %s: its outbox row is gone; dropping it", d->uid);
		outbox_delivery_free(d);
		return;
	}
	if (r < 0) {
		unrecorded(dl, d);
		return;
	}
	about(d, what, sizeof(what));
	if (final) {
		log_errorx("delivery %s: %s to '%s' failed for good after "
		           "%" PRId64 " attempts: %s",
		    d->uid, what, d->recipient, d->attempts + 1, error);
		outbox_delivery_free(d);
		return;
	}
	d->attempts++;
	if (down) {
		/* channel_down said it once for all of them */
		log_debug("delivery %s: %s to '%s' waits for the %s channel",
		    d->uid, what, d->recipient, d->channel);
		outbox_wait_channel(dl, d);
		return;
	}
	log_warnx("delivery %s: %s to '%s' failed: %s, will retry in %" PRId64
	          "s",
	    d->uid, what, d->recipient, error, (next_ms - now_ms + 999) / 1000);
	sched_timer_add(dl->s, &d->retry, next_ms);
}

/* ---- the batch ---------------------------------------------------------- */

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
		outbox_delivery_free(d);
	}
	*mark = NULL;
	dl->queued_tail = mark;
}

void
deliver_after_commit(struct deliver *dl, bool ok)
{
	struct delivery *d, *next;
	char what[96];

	flushed_done(dl, ok);
	d = dl->queued;
	dl->queued = NULL;
	dl->queued_tail = &dl->queued;
	for (; d != NULL; d = next) {
		next = d->qnext;
		/* a standby's rows stay pending for the leader to send */
		if (!ok || dl->standby) {
			outbox_delivery_free(d);
			continue;
		}
		if (d->fresh) {
			/* the row is committed: now it is true */
			about(d, what, sizeof(what));
			log_info("delivery %s: %s queued for '%s' via %s%s",
			    d->uid, what, d->recipient, d->channel,
			    d->hold_until > 0
			        ? ", held for their business hours"
			        : "");
			d->fresh = false;
			if (d->hold_until > 0) {
				sched_timer_add(
				    dl->s, &d->retry, d->hold_until * 1000);
				continue;
			}
		}
		start(dl, d);
	}
	/* the slots of the outcomes written are free */
	outbox_pump(dl);
}

struct retry {
	struct deliver *dl;
	int64_t now;
	bool sent;
	int64_t id;
};

static int
retry_row_cb(void *arg, const struct delivery_rec *r)
{
	struct retry *rt = arg;
	struct delivery *d;
	struct chan *c;
	int rc;

	rt->id = r->id;
	if (strcmp(r->state, "sent") == 0) {
		rt->sent = true;
		return 0;
	}
	if ((rc = store_delivery_requeue(rt->dl->st, r->id, rt->now)) < 0)
		return rc;
	for (d = rt->dl->all; d != NULL; d = d->next)
		if (d->id == r->id)
			break;
	if (d == NULL) {
		/* failed for good earlier, so no longer held: bring it back */
		if ((d = outbox_delivery_new(rt->dl, r)) == NULL)
			return -ENOMEM;
		outbox_queue(rt->dl, d);
	} else if (wtimer_pending(&d->retry.wt)) {
		/* waiting for its next try: make that now */
		sched_timer_del(rt->dl->s, &d->retry);
		outbox_queue(rt->dl, d);
	} else if (d->waiting) {
		/* waiting for its channel: try the channel now; one that is
		 * off waits for a reload */
		c = &rt->dl->chan[outbox_channel(d->channel)];
		if (c->down) {
			sched_timer_del(rt->dl->s, &c->probe);
			outbox_probe_at(rt->dl, c, util_now_ms());
		}
	}
	/* otherwise it is on its way already */
	return 0;
}

int
deliver_retry(struct deliver *dl, const char *uid, int64_t now, int64_t *ret_id)
{
	struct retry rt = {.dl = dl, .now = now};
	int rc = store_delivery_by_uid(dl->st, uid, retry_row_cb, &rt);

	if (rc < 0)
		return rc;
	*ret_id = rt.id;
	return rt.sent ? -EALREADY : 0;
}

int
outbox_take_up(struct deliver *dl, const struct delivery_rec *r)
{
	struct delivery *d;

	d = outbox_delivery_new(dl, r);
	if (d == NULL)
		return -ENOMEM;
	/* never tried and due after it was made: held for business hours */
	if (r->attempts == 0 && r->next_attempt_at > r->created_at)
		d->hold_until = r->next_attempt_at;
	if (r->next_attempt_at <= util_now())
		outbox_queue(dl, d);
	else
		sched_timer_add(dl->s, &d->retry, r->next_attempt_at * 1000);
	return 0;
}

static int
resume_cb(void *arg, const struct delivery_rec *r)
{
	return outbox_take_up(arg, r);
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

size_t
deliver_pending(const struct deliver *dl)
{
	return dl->n_all;
}

json_t *
deliver_channels(const struct deliver *dl)
{
	json_t *out = json_object(), *o;
	const struct chan *c;
	int i;

	for (i = 0; out != NULL && i < CH_MAX; i++) {
		c = &dl->chan[i];
		if (dl->b[i] == NULL && c->n_waiting == 0)
			continue;
		o = json_pack("{s:s,s:I}", "state",
		    dl->b[i] == NULL ? "off"
		        : c->down    ? "down"
		                     : "up",
		    "waiting", (json_int_t)c->n_waiting);
		if (o != NULL && c->down &&
		    (json_object_set_new(o, "since", json_integer(c->since)) ||
		        json_object_set_new(
		            o, "error", json_string(c->error)) ||
		        json_object_set_new(o, "next_try",
		            c->next_try ? json_integer(c->next_try)
		                        : json_null()))) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL ||
		    json_object_set_new(out, outbox_channel_names[i], o) < 0) {
			json_decref(out);
			out = NULL;
		}
	}
	return out;
}

size_t
deliver_channels_down(const struct deliver *dl, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < CH_MAX; i++)
		if (dl->chan[i].down) {
			if (len > 0)
				snprintf(buf + strlen(buf), len - strlen(buf),
				    "%s%s", n ? ", " : "",
				    outbox_channel_names[i]);
			n++;
		}
	return n;
}

void
outbox_init(struct deliver *dl)
{
	int i;

	dl->queued_tail = &dl->queued;
	dl->ready_tail = &dl->ready;
	for (i = 0; i < CH_MAX; i++) {
		dl->chan[i].dl = dl;
		dl->chan[i].ch = (enum channel)i;
		dl->chan[i].waiting_tail = &dl->chan[i].waiting;
		wtimer_init(&dl->chan[i].probe.wt);
		dl->chan[i].probe.cb = probe_cb;
	}
}

void
outbox_fini(struct deliver *dl)
{
	int i;

	for (i = 0; i < CH_MAX; i++)
		if (dl->chan[i].dl != NULL)
			sched_timer_del(dl->s, &dl->chan[i].probe);
	while (dl->all != NULL)
		outbox_delivery_free(dl->all);
}
