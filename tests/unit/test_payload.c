/* SPDX-License-Identifier: MIT */
/*
 * test_payload.c: unit test for payload.c and webhook_body.c.  A payload
 * written by hand must be, byte for byte, what jansson wrote of the same
 * tree (built here the way the outbox built it: json_pack, members set in
 * order, JSON_COMPACT | JSON_ENSURE_ASCII), for every event's extras, null
 * members, UTF-8, escapes and history details of every shape.  A webhook
 * body must come out the same from the parts the payload was written from
 * and from the payload's text read back, and as jansson wrote it.
 *
 * Usage: test_payload
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "event.h"
#include "payload.h"
#include "timefmt.h"
#include "webhook_body.h"

static const struct event_rec events[] = {
    {1, 7, 1700000000, "ana", "created", "{\"due_at\":1700086400}"},
    {2, 7, 1700000100, "b\xc3\xa9la", "snoozed",
        "{\"from\":1,\"to\":2,\"note\":\"caf\xc3\xa9 \\\"x\\\"\"}"},
    {3, 7, 1700000200, "ana", "note", NULL},
    {4, 7, 1700000300, "promised", "nudge",
        "{\"scheduled_at\":1700000000,\"late_ms\":-3,\"deliveries\":"
        "[{\"delivery\":\"ab\",\"to\":\"ana\",\"channel\":\"webhook\"}],"
        "\"ok\":true,\"no\":false,\"none\":null}"},
    {5, 7, 1700000400, "x", "odd", "{\"r\":1.5,\"e\":2e3}"},
    {6, 7, 1700000500, "x", "spaced", "{ \"a\" : 1 }"},
    {7, 7, 1700000600, "x", "broken", "{\"a\":"},
    {8, 7, 1700000700, "x", "refused",
        "{\"op\":\"snooze\",\"count\":12345678901234567890}"},
};

/* the tree the outbox built for event (its extras set in order) */
static json_t *
old_base(
    const struct promise_rec *p, const char *event, int64_t now, size_t n_hist)
{
	json_t *history = json_array();
	char due[32];
	size_t i;

	timefmt_iso_utc(p->due_at, due, sizeof(due));
	for (i = 0; i < n_hist; i++)
		json_array_insert_new(history, 0, event_rec_json(&events[i]));
	return json_pack("{s:s,s:I,s:{s:I,s:s,s:s,s:s?,s:s?,s:I,s:s,s:I,s:s,"
	                 "s:s,s:I},s:o}",
	    "event", event, "occurred_at", (json_int_t)now, "promise", "id",
	    (json_int_t)p->id, "title", p->title, "owner", p->owner, "for",
	    p->for_whom, "note", p->note, "due_at", (json_int_t)p->due_at,
	    "due", due, "created_at", (json_int_t)p->created_at, "created_by",
	    p->created_by, "state", pstate_name(p->state), "snoozes",
	    (json_int_t)p->snoozes, "history", history);
}

/* what jansson made of base with to's members, the outbox's way */
static char *
old_text(
    json_t *base, const struct payload_to *to, bool with_level, int64_t level)
{
	json_t *links = NULL;
	char *text;
	size_t i;

	if (with_level)
		json_object_set_new(base, "level", json_integer(level));
	json_object_set_new(base, "delivery", json_string(to->uid));
	json_object_set_new(base, "recipient",
	    json_pack("{s:s,s:s?,s:s?,s:s?}", "login", to->login, "email",
	        to->email, "webhook", to->webhook, "timezone", to->timezone));
	if (to->n_links > 0) {
		links = json_object();
		for (i = 0; i < to->n_links; i++)
			json_object_set_new(links,
			    link_action_name(to->links[i].action),
			    json_string(to->links[i].url));
		json_object_set_new(base, "links", links);
	}
	if (to->thread_root != NULL)
		json_object_set_new(base, "thread",
		    json_pack("{s:s,s:b}", "root", to->thread_root, "first",
		        to->thread_first));
	if (to->reply_to != NULL)
		json_object_set_new(
		    base, "reply_to", json_string(to->reply_to));
	text = json_dumps(base, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_object_del(base, "delivery");
	json_object_del(base, "recipient");
	json_object_del(base, "links");
	json_object_del(base, "thread");
	json_object_del(base, "reply_to");
	return text;
}

/* the webhook body as jansson wrote it from the payload text */
static char *
old_body(const char *uid, const json_t *p)
{
	static const char *const copied[] = {"occurred_at", "level", "repeat",
	    "lead", "promise", "failed", "history", "links"};
	const json_t *r = json_object_get(p, "recipient");
	json_t *o = json_object(), *v;
	char *text;
	size_t i;

	json_object_set_new(
	    o, "event", json_deep_copy(json_object_get(p, "event")));
	json_object_set_new(o, "delivery", json_string(uid));
	json_object_set(o, "recipient", json_object_get(r, "login"));
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		if ((v = json_object_get(p, copied[i])) != NULL)
			json_object_set(o, copied[i], v);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

static void
one(const struct promise_rec *p, const char *event, size_t n_hist, int extra,
    const struct payload_to *to)
{
	struct payload pl = {0};
	struct webhook_read rd;
	json_t *base = old_base(p, event, 1700001234, n_hist), *tree;
	char *want = NULL, *b1 = NULL, *b2 = NULL, *b3 = NULL, *s1 = NULL,
	     *s2 = NULL;
	size_t i;

	REQUIRE(base != NULL);
	REQUIRE(payload_begin(&pl, p, event, 1700001234) == 0);
	/* the store hands them in as old_base's loop does */
	for (i = 0; i < n_hist; i++)
		payload_history_cb(&pl, &events[i]);
	if (extra == 1) {
		json_object_set_new(base, "lead", json_integer(3600));
		payload_set_lead(&pl, 3600);
	} else if (extra == 2) {
		json_object_set_new(base, "repeat", json_integer(2));
		payload_set_repeat(&pl, 2);
	} else if (extra == 3) {
		json_object_set_new(base, "failed",
		    json_pack("{s:s,s:s,s:s,s:s,s:s}", "delivery", "u1",
		        "event", "promise.due", "recipient", "ana", "channel",
		        "email", "error", "550 \xe2\x82\xac \"no\""));
		REQUIRE(payload_set_failed(&pl, "u1", "promise.due", "ana",
		            "email", "550 \xe2\x82\xac \"no\"") == 0);
	}
	REQUIRE(payload_seal(&pl) == 0);
	if (extra == 2)
		payload_set_level(&pl, 1);
	want = old_text(base, to, extra == 2, 1);
	REQUIRE(want != NULL);
	REQUIRE(payload_write(&pl, to) == 0);
	CHECK(strcmp(pl.text.s, want) == 0);
	if (strcmp(pl.text.s, want) != 0)
		printf("  got  %s\n  want %s\n", pl.text.s, want);
	/* the webhook's body: from the parts, from the text, by jansson */
	tree = json_loads(pl.text.s, 0, NULL);
	REQUIRE(tree != NULL);
	REQUIRE(webhook_read(&rd, tree) == 0);
	CHECK(webhook_body_json(to->uid, &pl.parts, &b1) == 0);
	CHECK(webhook_body_json(to->uid, &rd.parts, &b2) == 0);
	b3 = old_body(to->uid, tree);
	CHECK(b1 != NULL && b2 != NULL && b3 != NULL && strcmp(b1, b2) == 0 &&
	    strcmp(b1, b3) == 0);
	CHECK(webhook_body_slack(&pl.parts, &s1) == 0);
	CHECK(webhook_body_slack(&rd.parts, &s2) == 0);
	CHECK(s1 != NULL && s2 != NULL && strcmp(s1, s2) == 0);
	webhook_read_free(&rd);
	json_decref(tree);
out:
	free(s1);
	free(s2);
	free(b1);
	free(b2);
	free(b3);
	free(want);
	json_decref(base);
	payload_fini(&pl);
}

static void
test_events(void)
{
	struct promise_rec p = {.id = 7,
	    .title = "Send <Acme> the \"demo\" \xe2\x82\xac\xf0\x9f\x98\x80\t!",
	    .owner = "ana",
	    .for_whom = "Acme & Co",
	    .note = NULL,
	    .created_by = "ana",
	    .due_at = 1700086400,
	    .created_at = 1700000000,
	    .state = PSTATE_OPEN,
	    .snoozes = 1};
	struct msglink links[3] = {{LINK_OPEN, "https://x.test/l/aa"},
	    {LINK_KEEP, "https://x.test/l/bb"},
	    {LINK_SNOOZE, "https://x.test/l/c\xc3\xa9"}};
	struct payload_to to = {.uid = "0123456789abcdef0123456789abcdef",
	    .login = "ana",
	    .email = "ana@x.test",
	    .webhook = "http://127.0.0.1:1/hook",
	    .timezone = NULL};
	struct payload_to mail = to;
	size_t n;
	int extra;

	mail.thread_root = "<promise-7.1700000000@x.test>";
	mail.thread_first = true;
	mail.reply_to = "promise+7.tok@r.test";
	for (n = 0; n <= sizeof(events) / sizeof(events[0]); n++)
		for (extra = 0; extra < 4; extra++) {
			one(&p,
			    event_type_name(
			        extra == 3 ? EVENT_UNDELIVERABLE : EVENT_DUE),
			    n, extra, &to);
			one(&p, event_type_name(EVENT_NUDGE), n, extra, &mail);
		}
	to.links = links;
	to.n_links = 3;
	p.note = "line\nbreak";
	p.for_whom = NULL;
	one(&p, event_type_name(EVENT_ESCALATION), 2, 2, &to);
	to.webhook = NULL;
	to.email = NULL;
	to.timezone = "Europe/Berlin";
	one(&p, event_type_name(EVENT_RESOLVED), 1, 0, &to);
}

/* a tree's payload: its members, then the recipient's */
static void
test_tree(void)
{
	struct payload pl = {0};
	struct payload_to to = {
	    .uid = "u2", .login = "bo", .thread_root = "<r>"};
	json_t *base = json_pack("{s:s,s:{s:s}}", "event", "promise.digest",
	    "digest", "week", "2026-W49 \xc3\xa9");
	json_t *empty = json_object();
	char *want = NULL;

	REQUIRE(base != NULL && empty != NULL);
	REQUIRE(payload_begin_tree(&pl, base) == 0);
	REQUIRE(payload_write(&pl, &to) == 0);
	want = old_text(base, &to, false, 0);
	CHECK(want != NULL && strcmp(pl.text.s, want) == 0);
	free(want);
	REQUIRE(payload_begin_tree(&pl, empty) == 0);
	REQUIRE(payload_write(&pl, &to) == 0);
	want = old_text(empty, &to, false, 0);
	CHECK(want != NULL && strcmp(pl.text.s, want) == 0);
out:
	free(want);
	json_decref(base);
	json_decref(empty);
	payload_fini(&pl);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	test_events();
	test_tree();
	printf("test_payload: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed > 0 ? 1 : 0;
}
