/*
 * deliver.c: the outbox between the schedule and the backends.
 *
 * A schedule event becomes one delivery row per recipient and channel,
 * written inside the batch that records the event; the backend starts only
 * after that batch commits, so nothing is sent that the store does not know
 * about, and whatever was not confirmed sent before a crash is sent again at
 * start-up with the same uid.  This module also decides who hears of what:
 * the owner is nudged, managers up the chain get escalations, everyone who
 * was told gets the resolution, and a delivery that fails for good is
 * itself reported to the recipient's manager.
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

/* when the store cannot record an attempt, try the row again this soon */
#define STORE_RETRY_MS 30000
/* history events carried in a payload */
#define PAYLOAD_HISTORY 10

enum channel {
	CH_LOG,
	CH_EMAIL,
	CH_WEBHOOK,
	CH_MAX,
};

static const char *const channel_names[CH_MAX] = {
    [CH_LOG] = "log",
    [CH_EMAIL] = "email",
    [CH_WEBHOOK] = "webhook",
};

/*
 * A channel's state.  One relay carries all of a channel's email, so when
 * it cannot be reached or refuses promised's login, every message would
 * fail alike, none through any fault of its own: the channel is down.  Its
 * deliveries then wait on its list, never given up, and one of them goes
 * out now and then as a probe (backing off like a retry);
 * the first answer that is not "down" brings the channel back and sends
 * all that waited.  A channel with no backend (turned off by a reload)
 * keeps its deliveries waiting the same way until a reload turns it on.
 */
struct chan {
	struct sched_timer probe; /* first: the timer casts back */
	struct deliver *dl;
	enum channel ch;
	bool down;
	int64_t since;    /* down since (UTC seconds) */
	int64_t next_try; /* the next probe (UTC seconds), 0 if none */
	int64_t failures; /* failed tries while down, for the backoff */
	char error[256];  /* the last one */
	struct delivery *waiting, **waiting_tail; /* linked by qnext */
	size_t n_waiting;
};

struct deliver {
	struct ev_loop *loop;
	struct store *st;
	struct sched *s;
	const struct conf *conf;
	struct backend *b[CH_MAX];
	struct chan chan[CH_MAX];
	struct delivery *all;
	size_t n_all; /* deliveries on all: the outbox's pending rows */
	struct delivery *queued, **queued_tail; /* waiting for the commit */
	struct delivery *ready, **ready_tail;   /* waiting for a slot */
	size_t inflight;
	/* random bytes for uids, fetched a page at a time: a burst makes
	 * one uid per delivery, and a system call each is a measurable part
	 * of its cost */
	unsigned char rnd[4096];
	size_t rnd_left;
};

static const char *const event_names[SKIND_MAX] = {
    [SKIND_NUDGE] = "promise.nudge",
    [SKIND_DUE] = "promise.due",
    [SKIND_ESCALATION] = "promise.escalation",
};

static enum channel
channel_from_name(const char *name)
{
	int i;

	for (i = 0; i < CH_MAX; i++)
		if (strcmp(name, channel_names[i]) == 0)
			return (enum channel)i;
	return CH_LOG;
}

static void
delivery_free(struct delivery *d)
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
	if (d->rendered != NULL)
		d->rendered_free(d->rendered);
	free(d->kind);
	free(d->recipient);
	free(d->channel);
	free(d->payload);
	free(d);
}

static void retry_cb(struct sched_timer *t);

static struct delivery *
delivery_new(struct deliver *dl, const struct delivery_rec *r)
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
	d->kind = strdup(r->kind);
	d->recipient = strdup(r->recipient);
	d->channel = strdup(r->channel);
	d->payload = strdup(r->payload);
	/* link first, so delivery_free can unlink whatever happens next */
	d->next = dl->all;
	if (dl->all != NULL)
		dl->all->pprev = &d->next;
	dl->all = d;
	d->pprev = &dl->all;
	dl->n_all++;
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

/* d waits for its channel to come back (or on) */
static void
wait_channel(struct deliver *dl, struct delivery *d)
{
	struct chan *c = &dl->chan[channel_from_name(d->channel)];

	d->qnext = NULL;
	d->waiting = true;
	*c->waiting_tail = d;
	c->waiting_tail = &d->qnext;
	c->n_waiting++;
}

static void
start_now(struct deliver *dl, struct delivery *d)
{
	struct backend *b = dl->b[channel_from_name(d->channel)];
	char msg[256] = "";
	int r;

	if (b == NULL) {
		/* a channel switched off by a reload since the row was made:
		 * it waits for a reload that turns the channel on again */
		wait_channel(dl, d);
		return;
	}
	dl->inflight++;
	d->busy = true;
	r = b->start(b, d, msg, sizeof(msg));
	if (r < 0)
		deliver_done(d, r, msg[0] ? msg : strerror(-r), 0);
}

/* starts d, or lines it up for a free slot under [delivery] concurrency,
 * or keeps it waiting while its channel is down */
static void
start(struct deliver *dl, struct delivery *d)
{
	if (dl->chan[channel_from_name(d->channel)].down) {
		wait_channel(dl, d);
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

static void
pump(struct deliver *dl)
{
	struct delivery *d;

	while (
	    dl->ready != NULL && dl->inflight < (size_t)dl->conf->concurrency) {
		d = dl->ready;
		dl->ready = d->qnext;
		if (dl->ready == NULL)
			dl->ready_tail = &dl->ready;
		if (dl->chan[channel_from_name(d->channel)].down)
			wait_channel(dl, d);
		else
			start_now(dl, d);
	}
}

static void
retry_cb(struct sched_timer *t)
{
	struct delivery *d = (struct delivery *)t;

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
static int
new_uid(struct deliver *dl, char uid[33])
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

/* ---- who hears of what ----------------------------------------------- */

/* the channels that reach login (webhooks only if hooks); the log when
 * nothing else does, so that nothing is ever dropped for want of an
 * address */
static size_t
channels_for(
    const struct deliver *dl, const char *login, bool hooks, enum channel *out)
{
	const struct person *p = conf_person(dl->conf, login);
	size_t n = 0;

	if (p != NULL && p->email != NULL && dl->b[CH_EMAIL] != NULL)
		out[n++] = CH_EMAIL;
	if (hooks && p != NULL && p->webhook != NULL &&
	    dl->b[CH_WEBHOOK] != NULL)
		out[n++] = CH_WEBHOOK;
	if (n == 0)
		out[n++] = CH_LOG;
	return n;
}

/* the latest events come newest first: each goes in front */
static void
history_cb(void *arg, const struct event_rec *e)
{
	json_array_insert_new(arg, 0, event_rec_json(e));
}

/* what every delivery about one event shares; the caller adds extras */
static json_t *
event_base(struct deliver *dl, const struct promise_rec *p, const char *event,
    int64_t now)
{
	json_t *o, *history;
	char due[32];

	timefmt_iso_utc(p->due_at, due, sizeof(due));
	history = json_array();
	if (history == NULL ||
	    store_events_latest(
	        dl->st, p->id, PAYLOAD_HISTORY, history_cb, history) < 0) {
		json_decref(history);
		return NULL;
	}
	o = json_pack("{s:s,s:I,s:{s:I,s:s,s:s,s:s?,s:s?,s:I,s:s,s:I,s:s,s:s,"
	              "s:I},s:o}",
	    "event", event, "occurred_at", (json_int_t)now, "promise", "id",
	    (json_int_t)p->id, "title", p->title, "owner", p->owner, "for",
	    p->for_whom, "note", p->note, "due_at", (json_int_t)p->due_at,
	    "due", due, "created_at", (json_int_t)p->created_at, "created_by",
	    p->created_by, "state", pstate_name(p->state), "snoozes",
	    (json_int_t)p->snoozes, "history", history);
	return o;
}

/* the domain of promised's Message-IDs: the sender address's */
static const char *
mail_domain(const struct deliver *dl)
{
	const char *from = dl->conf->smtp_from;
	const char *at = from ? strchr(from, '@') : NULL;

	return at ? at + 1 : "promised.invalid";
}

/* the Message-ID every email about p threads under */
static void
thread_root(const struct deliver *dl, const struct promise_rec *p, char *buf,
    size_t len)
{
	snprintf(buf, len, "<promise-%" PRId64 ".%" PRId64 "@%s>", p->id,
	    p->created_at, mail_domain(dl));
}

/*
 * A nudge is moved earlier, to while the owner is still at work (ctl.c);
 * an escalation cannot come before it is due, so it waits instead: a
 * manager in Tokyo hears of a promise missed in Berlin on Friday evening
 * on Monday morning, not at 01:00 on Saturday.
 */
int64_t
deliver_escalation_at(const struct deliver *dl, const char *login, int64_t at)
{
	int64_t open;

	if (!dl->conf->escalate_in_hours || !conf_keeps_hours(dl->conf, login))
		return at;
	open = conf_business_after(dl->conf, login, at);
	return open > at ? open : at;
}

/*
 * Writes the rows telling login of event (base plus its extras) by every
 * channel that reaches them, queues them for after the commit, and appends
 * {"delivery","to","channel"} for each to out.  Each payload is base with
 * "delivery", "recipient" and (email) "thread" appended, set on base
 * itself and taken off again after, which dumps the same text as a copy
 * would at a fraction of the cost.  With p NULL the event is about no one
 * promise (a digest): root is the email's own Message-ID, and webhooks,
 * whose payloads are about a promise, are not used.
 */
static int
tell_about(struct deliver *dl, const struct promise_rec *p, const char *root,
    json_t *base, const char *login, json_t *out)
{
	static const char *const extras[] = {"delivery", "recipient", "thread"};
	const struct person *who = conf_person(dl->conf, login);
	enum channel ch[CH_MAX];
	struct delivery_rec r;
	struct delivery *d;
	struct backend *b;
	json_t *recipient = NULL;
	char uid[33], proot[256], *text = NULL;
	const char *event = json_string_value(json_object_get(base, "event"));
	int64_t nmail = 0, pid = p != NULL ? p->id : 0, now = util_now();
	int64_t hold = 0; /* when the first try may be, if not at once */
	size_t i, j, n = channels_for(dl, login, p != NULL, ch);
	bool held = false;
	int rc = 0;

	if (p != NULL && event != NULL &&
	    strcmp(event, "promise.escalation") == 0)
		hold = deliver_escalation_at(dl, login, now);
	if (hold <= now)
		hold = 0;
	/* the repeats while they are away are one notice when they are
	 * back, not a pile of them: history names them, held */
	if (hold > 0 &&
	    (rc = store_delivery_held(dl->st, pid, login, event, now, &held)) <
	        0)
		return rc;
	if (held)
		return json_array_append_new(out,
		           json_pack("{s:s,s:I}", "to", login, "held_until",
		               (json_int_t)hold)) == 0
		    ? 0
		    : -ENOMEM;
	recipient = json_pack("{s:s,s:s?,s:s?,s:s?}", "login", login, "email",
	    who ? who->email : NULL, "webhook", who ? who->webhook : NULL,
	    "timezone", who ? who->timezone : NULL);
	if (recipient == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = new_uid(dl, uid)) < 0)
			break;
		if (json_object_set_new(base, "delivery", json_string(uid)) ||
		    json_object_set(base, "recipient", recipient)) {
			rc = -ENOMEM;
			break;
		}
		if (ch[i] == CH_EMAIL && p != NULL) {
			if ((rc = store_delivery_count(
			         dl->st, p->id, "email", &nmail)) < 0)
				break;
			thread_root(dl, p, proot, sizeof(proot));
		}
		if (ch[i] == CH_EMAIL)
			json_object_set_new(base, "thread",
			    json_pack("{s:s,s:b}", "root",
			        p != NULL ? proot : root, "first", nmail == 0));
		free(text);
		text = json_dumps(base, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (text == NULL) {
			rc = -ENOMEM;
			break;
		}
		memset(&r, 0, sizeof(r));
		r.uid = uid;
		r.promise_id = pid;
		r.kind = json_string_value(json_object_get(base, "event"));
		r.recipient = login;
		r.channel = channel_names[ch[i]];
		r.payload = text;
		r.created_at = now;
		rc = store_delivery_add(dl->st, uid, pid, r.kind, login,
		    r.channel, text, r.created_at, &r.id);
		if (rc == 0 && hold > 0)
			rc = store_delivery_requeue(dl->st, r.id, hold);
		if (rc < 0)
			break;
		json_array_append_new(out,
		    json_pack("{s:s,s:s,s:s}", "delivery", uid, "to", login,
		        "channel", r.channel));
		if (hold > 0)
			json_object_set_new(
			    json_array_get(out, json_array_size(out) - 1),
			    "held_until", json_integer(hold));
		d = delivery_new(dl, &r);
		if (d == NULL) {
			/* the row is written and goes out at the next start */
			log_warnx(
			    "delivery %s: out of memory; it stays queued", uid);
		} else {
			b = dl->b[ch[i]];
			if (b->render != NULL)
				b->render(b, d, base);
			d->fresh = true;
			d->hold_until = hold;
			queue(dl, d);
		}
		for (j = 0; j < ARRAY_SIZE(extras); j++)
			json_object_del(base, extras[j]);
	}
out:
	/* base goes on to the next recipient as it came */
	for (j = 0; j < ARRAY_SIZE(extras); j++)
		json_object_del(base, extras[j]);
	json_decref(recipient);
	free(text);
	return rc;
}

static int
tell(struct deliver *dl, const struct promise_rec *p, json_t *base,
    const char *login, json_t *out)
{
	return tell_about(dl, p, NULL, base, login, out);
}

int
deliver_digest(struct deliver *dl, const char *login, json_t *base,
    const char *key, json_t *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char root[320], who[3 * 64 + 1];
	size_t i, n = 0;

	/* the login as message-id text: one that is not letters, digits,
	 * '-' and '_' alone is written =XX byte by byte ('=' is atext), so
	 * that two logins never share a thread */
	for (i = 0; login[i] != '\0' && n + 4 <= sizeof(who); i++) {
		unsigned char ch = (unsigned char)login[i];

		if (ascii_alpha(login[i]) || ascii_digit(login[i]) ||
		    ch == '-' || ch == '_') {
			who[n++] = login[i];
		} else {
			who[n++] = '=';
			who[n++] = hex[ch >> 4];
			who[n++] = hex[ch & 0xf];
		}
	}
	who[n] = '\0';
	snprintf(
	    root, sizeof(root), "<digest.%s.%s@%s>", key, who, mail_domain(dl));
	return tell_about(dl, NULL, root, base, login, out);
}

/* for explain: who would be told, by which channels, in which zone */
static int
plan_one(struct deliver *dl, const char *login, int64_t level, json_t *out)
{
	const struct person *who = conf_person(dl->conf, login);
	enum channel ch[CH_MAX];
	const char *zone = who != NULL && who->timezone != NULL
	    ? who->timezone
	    : dl->conf->calendar_tz;
	size_t i, n = channels_for(dl, login, true, ch);
	json_t *o;

	for (i = 0; i < n; i++) {
		o = json_pack("{s:s,s:s,s:s?}", "to", login, "channel",
		    channel_names[ch[i]], "zone", zone);
		if (o != NULL && level >= 0)
			json_object_set_new(o, "level", json_integer(level));
		if (o == NULL || json_array_append_new(out, o) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* tells login of base, or (base NULL) only plans it */
static int
tell_or_plan(struct deliver *dl, const struct promise_rec *p, json_t *base,
    const char *login, int64_t level, json_t *out)
{
	if (base == NULL)
		return plan_one(dl, login, level, out);
	json_object_set_new(base, "level", json_integer(level));
	return tell(dl, p, base, login, out);
}

/* escalation repeat `repeat` goes up the chain one level per
 * escalate_up_after repeats; a person who acknowledged is skipped.  With
 * base NULL, only says who would be told (deliver_plan). */
static int
tell_chain(struct deliver *dl, const struct promise_rec *p, json_t *base,
    int64_t repeat, int64_t now, json_t *out)
{
	const char *chain[CONF_MAX_CHAIN];
	int64_t depth = 1 + (repeat - 1) / dl->conf->escalate_up_after, until;
	size_t n = conf_chain(dl->conf, p->owner, chain, CONF_MAX_CHAIN), i;
	int rc;

	for (i = 0; i < n && (int64_t)i < depth; i++) {
		if ((rc = store_acked_until(dl->st, p->id, chain[i], &until)) <
		    0)
			return rc;
		/* inclusive: a repeat due one period after the ack is the one
		 * the ack was meant to pause */
		if (until >= now)
			continue;
		if ((rc = tell_or_plan(
		         dl, p, base, chain[i], (int64_t)i + 1, out)) < 0)
			return rc;
	}
	if (n == 0) {
		/* no manager known: the owner hears it rather than nobody */
		if (base != NULL)
			log_warnx("promise %" PRId64
			          ": no manager for '%s' and "
			          "no [policy] fallback_manager; escalating to "
			          "the owner",
			    p->id, p->owner);
		return tell_or_plan(dl, p, base, p->owner, 0, out);
	}
	return 0;
}

int
deliver_plan(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int64_t arg, int64_t at, json_t *out)
{
	if (kind == SKIND_ESCALATION)
		return tell_chain(dl, p, NULL, arg, at, out);
	return plan_one(dl, p->owner, -1, out);
}

int
deliver_event(struct deliver *dl, const struct promise_rec *p,
    enum sched_kind kind, int64_t arg, int64_t now, json_t *out)
{
	json_t *base = event_base(dl, p, event_names[kind], now);
	int rc;

	if (base == NULL)
		return -ENOMEM;
	if (kind == SKIND_ESCALATION) {
		json_object_set_new(base, "repeat", json_integer(arg));
		rc = tell_chain(dl, p, base, arg, now, out);
	} else {
		if (kind == SKIND_NUDGE)
			json_object_set_new(base, "lead", json_integer(arg));
		rc = tell(dl, p, base, p->owner, out);
	}
	json_decref(base);
	return rc;
}

struct resolved {
	struct deliver *dl;
	const struct promise_rec *p;
	json_t *base;
	json_t *out;
};

static int
resolved_cb(void *arg, const char *login)
{
	struct resolved *r = arg;

	return tell(r->dl, r->p, r->base, login, r->out);
}

int
deliver_resolved(
    struct deliver *dl, const struct promise_rec *p, int64_t now, json_t *out)
{
	struct resolved r = {.dl = dl, .p = p, .out = out};
	int rc;

	r.base = event_base(dl, p, "promise.resolved", now);
	if (r.base == NULL)
		return -ENOMEM;
	rc = store_escalated(dl->st, p->id, resolved_cb, &r);
	json_decref(r.base);
	return rc;
}

struct undeliverable {
	struct deliver *dl;
	const struct delivery *d;
	const char *error;
	int64_t now;
	int rc;
};

static void
undeliverable_cb(void *arg, const struct promise_rec *p)
{
	struct undeliverable *u = arg;
	const char *to = conf_manager_of(u->dl->conf, u->d->recipient);
	json_t *base, *out = json_array(), *detail;
	char *text = NULL;

	base = event_base(u->dl, p, "promise.undeliverable", u->now);
	if (base == NULL || out == NULL) {
		u->rc = -ENOMEM;
		goto out;
	}
	json_object_set_new(base, "failed",
	    json_pack("{s:s,s:s,s:s,s:s,s:s}", "delivery", u->d->uid, "event",
	        u->d->kind, "recipient", u->d->recipient, "channel",
	        u->d->channel, "error", u->error));
	/* with nobody above the recipient, the log keeps the notice */
	if ((u->rc = tell(u->dl, p, base, to ? to : u->d->recipient, out)) < 0)
		goto out;
	detail = json_pack("{s:s,s:s,s:O}", "delivery", u->d->uid, "error",
	    u->error, "deliveries", out);
	text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
	json_decref(detail);
	u->rc = text == NULL ? -ENOMEM
	                     : store_event(u->dl->st, p->id, u->now, "promised",
	                           "undeliverable", text);
out:
	free(text);
	json_decref(base);
	json_decref(out);
}

/* a notice, a resolution or an undeliverable report that fails for good
 * is not reported again: that way lies a loop */
static bool
worth_reporting(const struct delivery *d)
{
	return strcmp(d->kind, "promise.nudge") == 0 ||
	    strcmp(d->kind, "promise.due") == 0 ||
	    strcmp(d->kind, "promise.escalation") == 0;
}

/* ---- attempts ----------------------------------------------------------- */

/* "promise.due for promise 12", or the event alone when it is about no
 * one promise, for the log */
static void
about(const struct delivery *d, char *buf, size_t len)
{
	if (d->promise_id > 0)
		snprintf(buf, len, "%s for promise %" PRId64, d->kind,
		    d->promise_id);
	else
		snprintf(buf, len, "%s", d->kind);
}

/* sends everything waiting for c: the channel is up (or on) again */
static void
release(struct deliver *dl, struct chan *c)
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
	struct chan *c = (struct chan *)t;
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
	log_debug(
	    "%s channel: trying delivery %s", channel_names[c->ch], d->uid);
	start_now(c->dl, d);
}

static void
probe_at(struct deliver *dl, struct chan *c, int64_t at_ms)
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
	struct chan *c = &dl->chan[channel_from_name(d->channel)];
	int64_t now_ms = util_now_ms(), at;

	util_strlcpy(
	    c->error, error != NULL ? error : "unreachable", sizeof(c->error));
	at = now_ms + backoff_ms(dl->conf, ++c->failures);
	if (!c->down) {
		c->down = true;
		c->since = now_ms / 1000;
		log_errorx("%s channel down: %s; its deliveries wait for it, "
		           "trying again in %" PRId64 " s",
		    channel_names[c->ch], c->error, (at - now_ms + 999) / 1000);
	}
	/* the first failure of a burst sets the time: later ones, from
	 * deliveries already under way, do not push it back */
	if (!wtimer_pending(&c->probe.wt))
		probe_at(dl, c, at);
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
	    channel_names[c->ch], util_now() - c->since, c->n_waiting);
	c->down = false;
	c->failures = 0;
	c->next_try = 0;
	c->error[0] = '\0';
	sched_timer_del(dl->s, &c->probe);
	release(dl, c);
}

void
deliver_done(struct delivery *d, int rc, const char *error, int64_t retry_after)
{
	struct deliver *dl = d->dl;
	struct undeliverable u = {.dl = dl, .d = d, .error = error};
	struct delivery **mark;
	char what[96];
	int64_t now_ms = util_now_ms(), now = now_ms / 1000, next_ms = 0;
	bool final = rc == -EPERM;
	bool down = rc == -ENETDOWN;
	int r;

	dl->inflight--;
	d->busy = false;
	u.now = now;
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
			r = rc == 0 ? store_delivery_sent(dl->st, d->id, now)
			            : store_delivery_retry(dl->st, d->id,
			                  (next_ms + 999) / 1000, error);
	} else if ((r = store_savepoint(dl->st)) == 0) {
		mark = deliver_mark(dl);
		r = store_delivery_failed(dl->st, d->id, error);
		if (r == 0 && worth_reporting(d) &&
		    (r = store_get(
		         dl->st, d->promise_id, undeliverable_cb, &u)) == 0)
			r = u.rc;
		if (r == 0)
			r = store_release(dl->st);
		else {
			store_rollback_savepoint(dl->st);
			deliver_unwind(dl, mark);
		}
	}
	if (!down)
		channel_up(dl, &dl->chan[channel_from_name(d->channel)]);
	pump(dl);
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
	about(d, what, sizeof(what));
	if (rc == 0) {
		log_info("delivery %s: %s sent to '%s' via %s", d->uid, what,
		    d->recipient, d->channel);
		delivery_free(d);
		return;
	}
	if (final) {
		log_errorx("delivery %s: %s to '%s' failed for good after "
		           "%" PRId64 " attempts: %s",
		    d->uid, what, d->recipient, d->attempts + 1, error);
		delivery_free(d);
		return;
	}
	d->attempts++;
	if (down) {
		/* channel_down said it once for all of them */
		log_debug("delivery %s: %s to '%s' waits for the %s channel",
		    d->uid, what, d->recipient, d->channel);
		wait_channel(dl, d);
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
		delivery_free(d);
	}
	*mark = NULL;
	dl->queued_tail = mark;
}

static int
outbox_event(void *ctx, const struct promise_rec *p, enum sched_kind kind,
    int64_t arg, int64_t now, json_t *out)
{
	return deliver_event(ctx, p, kind, arg, now, out);
}

static void *
outbox_mark(void *ctx)
{
	return deliver_mark(ctx);
}

static void
outbox_unwind(void *ctx, void *mark)
{
	deliver_unwind(ctx, mark);
}

void
deliver_outbox(struct deliver *dl, struct sched_outbox *ret)
{
	*ret = (struct sched_outbox){.ctx = dl,
	    .event = outbox_event,
	    .mark = outbox_mark,
	    .unwind = outbox_unwind};
}

void
deliver_after_commit(struct deliver *dl, bool ok)
{
	struct delivery *d, *next;
	char what[96];

	d = dl->queued;
	dl->queued = NULL;
	dl->queued_tail = &dl->queued;
	for (; d != NULL; d = next) {
		next = d->qnext;
		if (!ok) {
			delivery_free(d);
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
		if ((d = delivery_new(rt->dl, r)) == NULL)
			return -ENOMEM;
		queue(rt->dl, d);
	} else if (wtimer_pending(&d->retry.wt)) {
		/* waiting for its next try: make that now */
		sched_timer_del(rt->dl->s, &d->retry);
		queue(rt->dl, d);
	} else if (d->waiting) {
		/* waiting for its channel: try the channel now; one that is
		 * off waits for a reload */
		c = &rt->dl->chan[channel_from_name(d->channel)];
		if (c->down) {
			sched_timer_del(rt->dl->s, &c->probe);
			probe_at(rt->dl, c, util_now_ms());
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

static int
resume_cb(void *arg, const struct delivery_rec *r)
{
	struct deliver *dl = arg;
	struct delivery *d;

	d = delivery_new(dl, r);
	if (d == NULL)
		return -ENOMEM;
	/* never tried and due after it was made: held for business hours */
	if (r->attempts == 0 && r->next_attempt_at > r->created_at)
		d->hold_until = r->next_attempt_at;
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
		    json_object_set_new(out, channel_names[i], o) < 0) {
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
				    "%s%s", n ? ", " : "", channel_names[i]);
			n++;
		}
	return n;
}

/* opens the backends c asks for into b[]; the log one always */
static int
open_backends(struct deliver *dl, const struct conf *c,
    struct backend *b[CH_MAX], char *err, size_t errlen)
{
	int r;

	memset(b, 0, CH_MAX * sizeof(*b));
	if ((r = backend_log_open(&b[CH_LOG], dl->loop, c, err, errlen)) < 0)
		return r;
	if (c->smtp_url != NULL &&
	    (r = backend_email_open(&b[CH_EMAIL], dl->loop, c, err, errlen)) <
	        0)
		return r;
	return backend_webhook_open(&b[CH_WEBHOOK], dl->loop, c, err, errlen);
}

/*
 * Email turned off: its backend goes, and with it what the mail thread
 * had (see smtp_free), without deliver_done.  Those deliveries stay
 * pending and wait, with every other email delivery, for a reload that
 * turns email on: a message cut off on its way is sent again then (at
 * least once, as ever).
 */
static void
email_off(struct deliver *dl)
{
	struct chan *c = &dl->chan[CH_EMAIL];
	struct backend *b = dl->b[CH_EMAIL];
	struct delivery *d;

	dl->b[CH_EMAIL] = NULL;
	b->free(b);
	for (d = dl->all; d != NULL; d = d->next) {
		if (!d->busy || channel_from_name(d->channel) != CH_EMAIL)
			continue;
		d->busy = false;
		dl->inflight--;
		wait_channel(dl, d);
	}
	c->down = false;
	c->failures = 0;
	c->next_try = 0;
	sched_timer_del(dl->s, &c->probe);
	log_info("reload: email turned off; %zu email deliveries wait for it "
	         "to be turned on again",
	    c->n_waiting);
}

int
deliver_reload(struct deliver *dl, const struct conf *c)
{
	struct backend *email = NULL;
	char err[256];
	int i, r;

	/* a new backend first: if it cannot start, nothing has changed */
	if (c->smtp_url != NULL && dl->b[CH_EMAIL] == NULL &&
	    (r = backend_email_open(&email, dl->loop, c, err, sizeof(err))) <
	        0) {
		log_warnx("reload: email channel: %s", err);
		return r;
	}
	for (i = 0; i < CH_MAX; i++) {
		if (dl->b[i] == NULL || dl->b[i]->reload == NULL ||
		    (i == CH_EMAIL && c->smtp_url == NULL))
			continue;
		if ((r = dl->b[i]->reload(dl->b[i], c)) < 0) {
			if (i == CH_LOG)
				log_warnx("reload: delivery log '%s': %s",
				    c->delivery_log, strerror(-r));
			else
				log_warnx("reload: %s channel: %s",
				    channel_names[i], strerror(-r));
			if (email != NULL)
				email->free(email);
			return r;
		}
	}
	if (c->smtp_url == NULL && dl->b[CH_EMAIL] != NULL)
		email_off(dl);
	dl->conf = c;
	if (email != NULL) {
		dl->b[CH_EMAIL] = email;
		log_info("reload: email turned on; sending the %zu email "
		         "deliveries that waited",
		    dl->chan[CH_EMAIL].n_waiting);
		release(dl, &dl->chan[CH_EMAIL]);
	}
	/* a channel down may have been mended by this very reload */
	for (i = 0; i < CH_MAX; i++)
		if (dl->chan[i].down) {
			sched_timer_del(dl->s, &dl->chan[i].probe);
			probe_at(dl, &dl->chan[i], util_now_ms());
		}
	pump(dl);
	return 0;
}

int
deliver_open(struct deliver **ret, struct ev_loop *loop, struct store *st,
    struct sched *s, const struct conf *c, char *err, size_t errlen)
{
	struct deliver *dl;
	int i, r;

	*ret = NULL;
	dl = calloc(1, sizeof(*dl));
	if (dl == NULL)
		return -ENOMEM;
	dl->loop = loop;
	dl->st = st;
	dl->s = s;
	dl->conf = c;
	dl->queued_tail = &dl->queued;
	dl->ready_tail = &dl->ready;
	for (i = 0; i < CH_MAX; i++) {
		dl->chan[i].dl = dl;
		dl->chan[i].ch = (enum channel)i;
		dl->chan[i].waiting_tail = &dl->chan[i].waiting;
		wtimer_init(&dl->chan[i].probe.wt);
		dl->chan[i].probe.cb = probe_cb;
	}
	if ((r = open_backends(dl, c, dl->b, err, errlen)) < 0)
		goto fail;
	*ret = dl;
	return 0;
fail:
	deliver_close(dl);
	return r;
}

struct deliver *
deliver_close(struct deliver *dl)
{
	int i;

	if (dl == NULL)
		return NULL;
	/* backends forget their deliveries (their threads drop what libcurl
	 * still had); the deliveries stay pending in the store and go out
	 * again at the next start */
	for (i = 0; i < CH_MAX; i++) {
		if (dl->b[i] != NULL)
			dl->b[i]->free(dl->b[i]);
		if (dl->chan[i].dl != NULL)
			sched_timer_del(dl->s, &dl->chan[i].probe);
	}
	while (dl->all != NULL)
		delivery_free(dl->all);
	free(dl);
	return NULL;
}
