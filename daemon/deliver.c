/* SPDX-License-Identifier: MIT */
/*
 * deliver.c: the outbox's front, between the schedule and outbox.c.
 *
 * A schedule event becomes one delivery row per recipient and channel,
 * written inside the batch that records the event; outbox.c starts it only
 * after that batch commits, so nothing is sent that the store does not know
 * about.  This file decides who hears of what: the owner is nudged,
 * managers up the chain get escalations, everyone who was told gets the
 * resolution, and a delivery that fails for good is itself reported to the
 * recipient's manager.  It also opens, reloads and closes the backends.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "deliver.h"
#include "deliver_impl.h"
#include "event.h"
#include "log.h"
#include "mailtoken.h"
#include "msglinks.h"
#include "payload.h"
#include "timefmt.h"
#include "util.h"

/* the event each schedule stage makes */
static const enum event_type stage_events[NOTICE_MAX] = {
    [NOTICE_NUDGE] = EVENT_NUDGE,
    [NOTICE_DUE] = EVENT_DUE,
    [NOTICE_ESCALATION] = EVENT_ESCALATION,
};

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

/* starts pl as the payload of event about p, its history read: what every
 * delivery about one event shares; the caller adds extras and seals it */
static int
event_base(struct deliver *dl, struct payload *pl, const struct promise_rec *p,
    const char *event, int64_t now)
{
	int rc;

	if ((rc = payload_begin(pl, p, event, now)) < 0)
		return rc;
	return store_events_latest(
	    dl->st, p->id, PAYLOAD_HISTORY, payload_history_cb, pl);
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
 * A nudge is moved earlier, to while the owner is still at work
 * (op_promise.c); an escalation cannot come before it is due, so it waits
 * instead: a manager in Tokyo hears of a promise missed in Berlin on
 * Friday evening on Monday morning, not at 01:00 on Saturday.
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
 * Writes the rows telling login of the event in pl (sealed) by every
 * channel that reaches them, queues them for after the commit, and appends
 * {"delivery","to","channel"} for each to out.  Each payload is pl's head
 * with the recipient's own members.  With p NULL the event is about no
 * one promise (a digest): root is the email's own Message-ID, and
 * webhooks, whose payloads are about a promise, are not used.  rid: the
 * promise a reply to the email acts on, 0 if none.
 */
static int
tell_about(struct deliver *dl, const struct promise_rec *p, const char *root,
    struct payload *pl, int64_t rid, const char *login, json_t *out)
{
	const struct person *who = conf_person(dl->conf, login);
	enum channel ch[CH_MAX];
	struct delivery_rec r;
	struct delivery *d;
	struct backend *b;
	struct msglink links[LINK_ACTION_MAX];
	struct payload_to to = {.login = login,
	    .email = who ? who->email : NULL,
	    .webhook = who ? who->webhook : NULL,
	    .timezone = who ? who->timezone : NULL};
	char uid[33], proot[256], raddr[MAILTOKEN_ADDR_MAX];
	const char *event = pl->parts.event;
	int64_t nmail = 0, pid = p != NULL ? p->id : 0, now = util_now();
	int64_t hold = 0; /* when the first try may be, if not at once */
	size_t i, n = channels_for(dl, login, p != NULL, ch);
	bool held = false;
	int rc = 0;

	if (p != NULL && event != NULL &&
	    event_type_of(event) == EVENT_ESCALATION)
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
	/* signed for this recipient; none when links are off */
	if (p != NULL && event != NULL)
		to.n_links = msglinks_list(
		    dl->conf, p->id, login, event_type_of(event), now, links);
	to.links = links;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = outbox_new_uid(dl, uid)) < 0)
			break;
		to.uid = uid;
		to.thread_root = to.reply_to = NULL;
		if (ch[i] == CH_EMAIL && p != NULL) {
			if ((rc = store_delivery_count(
			         dl->st, p->id, "email", &nmail)) < 0)
				break;
			thread_root(dl, p, proot, sizeof(proot));
		}
		if (ch[i] == CH_EMAIL && (p != NULL || root != NULL)) {
			to.thread_root = p != NULL ? proot : root;
			to.thread_first = nmail == 0;
		}
		/* replies act ([mail] reply_domain): signed for this
		 * recipient */
		if (ch[i] == CH_EMAIL && rid > 0 &&
		    mailtoken_address(
		        dl->conf, rid, login, raddr, sizeof(raddr)) == 0)
			to.reply_to = raddr;
		if ((rc = payload_write(pl, &to)) < 0)
			break;
		memset(&r, 0, sizeof(r));
		r.uid = uid;
		r.promise_id = pid;
		r.event = event;
		r.recipient = login;
		r.channel = outbox_channel_names[ch[i]];
		r.payload = pl->text.s;
		r.created_at = now;
		rc = store_delivery_add(dl->st, uid, pid, r.event, login,
		    r.channel, r.payload, r.created_at, &r.id);
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
		d = outbox_delivery_new(dl, &r);
		if (d == NULL) {
			/* the row is written and goes out at the next start */
			log_warnx(
			    "delivery %s: out of memory; it stays queued", uid);
		} else {
			b = dl->b[ch[i]];
			if (b->render != NULL && !pl->tree)
				b->render(b, &d->job, &pl->parts);
			d->fresh = true;
			d->hold_until = hold;
			outbox_queue(dl, d);
		}
	}
	return rc;
}

static int
tell(struct deliver *dl, const struct promise_rec *p, struct payload *pl,
    const char *login, json_t *out)
{
	return tell_about(dl, p, NULL, pl, p->id, login, out);
}

/* tells login of base (about no one promise) with root as the email's
 * Message-ID, NULL if none */
static int
tell_tree(struct deliver *dl, const char *root, const json_t *base,
    const char *login, json_t *out)
{
	struct payload pl = {0};
	/* what a reply to the email acts on: the promise a reply to mail
	 * in is about */
	json_int_t rid = json_integer_value(
	    json_object_get(json_object_get(base, "promise"), "id"));
	int rc;

	if ((rc = payload_begin_tree(&pl, base)) == 0)
		rc = tell_about(dl, NULL, root, &pl, (int64_t)rid, login, out);
	payload_fini(&pl);
	return rc;
}

int
deliver_reply(struct deliver *dl, const char *login, json_t *base, json_t *out)
{
	return tell_tree(dl, NULL, base, login, out);
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
	return tell_tree(dl, root, base, login, out);
}

int
deliver_signin(struct deliver *dl, const char *login, json_t *base, json_t *out)
{
	char root[320], nonce[17];
	int r;

	if ((r = util_random_hex(nonce, 8)) < 0)
		return r;
	snprintf(root, sizeof(root), "<signin.%s@%s>", nonce, mail_domain(dl));
	return tell_tree(dl, root, base, login, out);
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
		    outbox_channel_names[ch[i]], "zone", zone);
		if (o != NULL && level >= 0)
			json_object_set_new(o, "level", json_integer(level));
		if (o == NULL || json_array_append_new(out, o) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* tells login of the event in pl, or (pl NULL) only plans it */
static int
tell_or_plan(struct deliver *dl, const struct promise_rec *p,
    struct payload *pl, const char *login, int64_t level, json_t *out)
{
	if (pl == NULL)
		return plan_one(dl, login, level, out);
	payload_set_level(pl, level);
	return tell(dl, p, pl, login, out);
}

/* escalation repeat `repeat` goes up the chain one level per
 * escalate_up_after repeats; a person who acknowledged is skipped.  With
 * pl NULL, only says who would be told (deliver_plan). */
static int
tell_chain(struct deliver *dl, const struct promise_rec *p, struct payload *pl,
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
		         dl, p, pl, chain[i], (int64_t)i + 1, out)) < 0)
			return rc;
	}
	if (n == 0) {
		/* no manager known: the owner hears it rather than nobody */
		if (pl != NULL)
			log_warnx("promise %" PRId64
			          ": no manager for '%s' and "
			          "no [policy] fallback_manager; escalating to "
			          "the owner",
			    p->id, p->owner);
		return tell_or_plan(dl, p, pl, p->owner, 0, out);
	}
	return 0;
}

int
deliver_plan(struct deliver *dl, const struct promise_rec *p,
    enum sched_notice notice, int64_t arg, int64_t at, json_t *out)
{
	if (notice == NOTICE_ESCALATION)
		return tell_chain(dl, p, NULL, arg, at, out);
	return plan_one(dl, p->owner, -1, out);
}

int
deliver_event(struct deliver *dl, const struct promise_rec *p,
    enum sched_notice notice, int64_t arg, int64_t now, json_t *out)
{
	struct payload *pl = &dl->pl;
	int rc;

	rc = event_base(dl, pl, p, event_type_name(stage_events[notice]), now);
	if (rc < 0)
		return rc;
	if (notice == NOTICE_ESCALATION)
		payload_set_repeat(pl, arg);
	else if (notice == NOTICE_NUDGE)
		payload_set_lead(pl, arg);
	if ((rc = payload_seal(pl)) < 0)
		return rc;
	if (notice == NOTICE_ESCALATION)
		return tell_chain(dl, p, pl, arg, now, out);
	return tell(dl, p, pl, p->owner, out);
}

struct resolved {
	struct deliver *dl;
	const struct promise_rec *p;
	struct payload *pl;
	json_t *out;
};

static int
resolved_cb(void *arg, const char *login)
{
	struct resolved *r = arg;

	return tell(r->dl, r->p, r->pl, login, r->out);
}

int
deliver_resolved(
    struct deliver *dl, const struct promise_rec *p, int64_t now, json_t *out)
{
	struct resolved r = {.dl = dl, .p = p, .pl = &dl->pl, .out = out};
	int rc;

	rc = event_base(dl, r.pl, p, event_type_name(EVENT_RESOLVED), now);
	if (rc == 0)
		rc = payload_seal(r.pl);
	if (rc == 0)
		rc = store_escalated(dl->st, p->id, resolved_cb, &r);
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
	struct payload *pl = &u->dl->pl;
	json_t *out = json_array(), *detail;
	char *text = NULL;

	if (out == NULL) {
		u->rc = -ENOMEM;
		goto out;
	}
	u->rc = event_base(
	    u->dl, pl, p, event_type_name(EVENT_UNDELIVERABLE), u->now);
	if (u->rc == 0)
		u->rc = payload_set_failed(pl, u->d->uid, u->d->event,
		    u->d->recipient, u->d->channel, u->error);
	if (u->rc == 0)
		u->rc = payload_seal(pl);
	/* with nobody above the recipient, the log keeps the notice */
	if (u->rc < 0 ||
	    (u->rc = tell(u->dl, p, pl, to ? to : u->d->recipient, out)) < 0)
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
	json_decref(out);
}

/* a notice, a resolution or an undeliverable report that fails for good
 * is not reported again: that way lies a loop */
static bool
worth_reporting(const struct delivery *d)
{
	enum event_type t = event_type_of(d->event);

	return t == EVENT_NUDGE || t == EVENT_DUE || t == EVENT_ESCALATION;
}

/* within the savepoint of d's failure for good: reports it to the
 * recipient's manager, when worth reporting */
static int
report_undeliverable(struct deliver *dl, const struct delivery *d,
    const char *error, int64_t now)
{
	struct undeliverable u = {.dl = dl, .d = d, .error = error, .now = now};
	int r;

	if (!worth_reporting(d))
		return 0;
	if ((r = store_get(dl->st, d->promise_id, undeliverable_cb, &u)) < 0)
		return r;
	return u.rc;
}

static int
hand_event(void *ctx, const struct promise_rec *p, enum sched_notice notice,
    int64_t arg, int64_t now, json_t *out)
{
	return deliver_event(ctx, p, notice, arg, now, out);
}

static void *
hand_mark(void *ctx)
{
	return deliver_mark(ctx);
}

static void
hand_unwind(void *ctx, void *mark)
{
	deliver_unwind(ctx, mark);
}

void
deliver_outbox(struct deliver *dl, struct sched_outbox *ret)
{
	*ret = (struct sched_outbox){.ctx = dl,
	    .event = hand_event,
	    .mark = hand_mark,
	    .unwind = hand_unwind};
}

/* opens the backends c asks for into b[]; the log one always */
static int
open_backends(struct deliver *dl, const struct conf *c,
    struct backend *b[CH_MAX], char *err, size_t errlen)
{
	struct backend_host h = {.loop = dl->loop, .done = outbox_done};
	int r;

	memset(b, 0, CH_MAX * sizeof(*b));
	if ((r = backend_log_open(&b[CH_LOG], &h, c, err, errlen)) < 0)
		return r;
	if (c->smtp_url != NULL &&
	    (r = backend_email_open(&b[CH_EMAIL], &h, c, err, errlen)) < 0)
		return r;
	return backend_webhook_open(&b[CH_WEBHOOK], &h, c, err, errlen);
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
		if (!d->busy || outbox_channel(d->channel) != CH_EMAIL)
			continue;
		d->busy = false;
		dl->inflight--;
		outbox_wait_channel(dl, d);
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
	struct backend_host h = {.loop = dl->loop, .done = outbox_done};
	struct backend *email = NULL;
	char err[256];
	int i, r;

	/* a new backend first: if it cannot start, nothing has changed */
	if (c->smtp_url != NULL && dl->b[CH_EMAIL] == NULL &&
	    (r = backend_email_open(&email, &h, c, err, sizeof(err))) < 0) {
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
				    outbox_channel_names[i], strerror(-r));
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
		outbox_release(dl, &dl->chan[CH_EMAIL]);
	}
	/* a channel down may have been mended by this very reload */
	for (i = 0; i < CH_MAX; i++)
		if (dl->chan[i].down) {
			sched_timer_del(dl->s, &dl->chan[i].probe);
			outbox_probe_at(dl, &dl->chan[i], util_now_ms());
		}
	outbox_pump(dl);
	return 0;
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
	dl->conf = c;
	dl->undeliverable = report_undeliverable;
	outbox_init(dl);
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
	for (i = 0; i < CH_MAX; i++)
		if (dl->b[i] != NULL)
			dl->b[i]->free(dl->b[i]);
	outbox_fini(dl);
	payload_fini(&dl->pl);
	free(dl->sent_ids);
	free(dl);
	return NULL;
}
