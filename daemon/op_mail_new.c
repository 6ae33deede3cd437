/* SPDX-License-Identifier: MIT */
/*
 * op_mail_new.c: a promise made of a mail a person sent (BCC, Cc, To or a
 * forward) to [mail] address.  Its owner is the person whose address sent
 * it, but only when the receiving mail server vouches for that address
 * (authres.h): a From line is anyone's to write.  The customer is the
 * first recipient outside the company's domains, the title the subject,
 * the deadline the first the text names, read as the owner would type it
 * ("by Friday", "tomorrow 10am", "in 2 business days"), else [mail]
 * default_kind's.  The answer says what was understood and how to
 * correct it by replying.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "ics.h"
#include "mailtoken.h"
#include "msglinks.h"
#include "op_mail.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

/* words of a deadline at most, and how far into a mail one is looked for */
#define WHEN_WORDS 5
#define MAX_WORDS 2000

/* the mail server said the sender's domain sent it */
static bool
vouched(const struct conf *c, const struct inmail *m)
{
	const char *dom = strrchr(m->from, '@') + 1;
	json_t *v;
	size_t i;

	json_array_foreach(m->auth, i, v) {
		if (authres_passes(
		        json_string_value(v), c->mail.authserv_id, dom))
			return true;
	}
	return false;
}

/* an address that is promised's or the company's own */
static bool
ours(const struct conf *c, const char *a)
{
	int64_t id;
	char token[128];

	return conf_mail_ours(c, a) ||
	    (c->mail.address != NULL && strcasecmp(a, c->mail.address) == 0) ||
	    mailtoken_parse(c, a, &id, token, sizeof(token)) == 0;
}

/* "Name <address>" (or the address) of the customer into buf: the first
 * recipient elsewhere, else the sender of a forwarded mail; false if none */
static bool
customer(const struct conf *c, const struct inmail *m, char *buf, size_t len)
{
	json_t *lists[3] = {m->to, m->cc, NULL}, *v;
	const char *a, *name;
	size_t i, k;

	lists[2] = json_array();
	if (m->forwarded_from != NULL && lists[2] != NULL)
		json_array_append(lists[2], m->forwarded_from);
	for (k = 0; k < 3; k++)
		json_array_foreach(lists[k], i, v) {
			a = proto_str(v, "address");
			if (a == NULL || strchr(a, '@') == NULL || ours(c, a))
				continue;
			name = proto_str(v, "name");
			if (name != NULL && name[0] != '\0')
				snprintf(buf, len, "%s <%s>", name, a);
			else
				snprintf(buf, len, "%s", a);
			json_decref(lists[2]);
			return true;
		}
	json_decref(lists[2]);
	return false;
}

/* the subject without its Re:, Fwd: and kin */
static const char *
title_of(const char *subject)
{
	static const char *const prefixes[] = {
	    "re:", "fwd:", "fw:", "aw:", "wg:", "tr:", "sv:"};
	const char *s = subject;
	size_t i;
	bool again = true;

	while (again) {
		again = false;
		while (*s == ' ')
			s++;
		for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
			if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) ==
			    0) {
				s += strlen(prefixes[i]);
				again = true;
			}
	}
	return s;
}

/* a word that may begin a deadline, and whether the deadline begins
 * after it ("by", "before") rather than with it */
static bool
deadline_word(const char *w, bool *after)
{
	static const char *const after_words[] = {
	    "by", "before", "until", "till", "on", "due"};
	static const char *const start_words[] = {"tomorrow", "today", "in",
	    "next", "eod", "eow", "monday", "tuesday", "wednesday", "thursday",
	    "friday", "saturday", "sunday"};
	size_t i;

	for (i = 0; i < sizeof(after_words) / sizeof(after_words[0]); i++)
		if (strcasecmp(w, after_words[i]) == 0) {
			*after = true;
			return true;
		}
	for (i = 0; i < sizeof(start_words) / sizeof(start_words[0]); i++)
		if (strcasecmp(w, start_words[i]) == 0) {
			*after = false;
			return true;
		}
	return false;
}

/*
 * The first deadline in text for login, after now: at each word that may
 * begin one, the longest run of up to WHEN_WORDS words that conf_when
 * reads as a time to come.  0 with *ret and the words in phrase, or
 * -ENOENT.
 */
static int
find_deadline(const struct conf *c, const char *login, const char *text,
    int64_t now, int64_t *ret, char *phrase, size_t plen)
{
	char *copy = strdup(text), *words[MAX_WORDS], *tok, *save = NULL;
	char cand[256];
	size_t n = 0, i, k, len, w;
	bool after;
	int64_t t;
	int r = -ENOENT;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t\n", &save); tok != NULL && n < MAX_WORDS;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		/* "Friday." "(tomorrow" "10am," */
		while (*tok == '(' || *tok == '"')
			tok++;
		len = strlen(tok);
		while (len > 0 && strchr(".,;:!?)\"", tok[len - 1]) != NULL)
			tok[--len] = '\0';
		if (len > 0)
			words[n++] = tok;
	}
	for (i = 0; i < n && r == -ENOENT; i++) {
		if (!deadline_word(words[i], &after))
			continue;
		k = after ? i + 1 : i;
		for (w = WHEN_WORDS; w > 0 && r == -ENOENT; w--) {
			size_t o = 0, j;

			if (k + w > n)
				continue;
			for (j = k; j < k + w && o < sizeof(cand); j++)
				o +=
				    (size_t)snprintf(cand + o, sizeof(cand) - o,
				        "%s%s", j > k ? " " : "", words[j]);
			if (o >= sizeof(cand))
				continue;
			if (conf_when(c, login, cand, now, &t, NULL) == 0 &&
			    t > now) {
				*ret = t;
				snprintf(phrase, plen, "%s", cand);
				r = 0;
			}
		}
	}
	free(copy);
	return r;
}

/* t in login's zone, with the zone's name, into buf */
static void
local_time(
    const struct conf *c, const char *login, int64_t t, char *buf, size_t len)
{
	const char *zone = NULL;
	struct tz_save tz;
	char local[64];

	(void)conf_calendar_of(c, login, &zone);
	if (tz_enter(&tz, zone) < 0) {
		timefmt_iso_utc(t, buf, len);
		return;
	}
	timefmt_local(t, local, sizeof(local));
	tz_leave(&tz);
	snprintf(buf, len, "%s%s%s%s", local, zone ? " (" : "",
	    zone ? zone : "", zone ? ")" : "");
}

/* refuses the mail, answering the sender when they are one of ours */
static enum proto_err
refuse(struct req *r, const struct inmail *m, const struct person *who,
    const char *why, json_t *answers)
{
	char text[1024];
	int rc;

	snprintf(text, sizeof(text),
	    "promised made no promise of your mail \"%s\": %s.\n", m->subject,
	    why);
	if (who != NULL &&
	    (rc = op_mail_answer(r, m, who->login, 0, text, NULL, answers)) < 0)
		return op_store_failed(r, rc);
	return op_mail_reply(r, MAIL_REFUSED, why, 0, answers);
}

/* an array of one attachment, p as a calendar entry whose link opens it
 * for login; NULL without memory */
static json_t *
confirm_attachments(struct req *r, const json_t *p, const char *login)
{
	json_t *links = msglinks_for(r->ctx->conf,
	    (int64_t)json_integer_value(json_object_get(p, "id")), login,
	    EVENT_RESOLVED, r->now);
	json_t *atts = json_array(), *a;
	char host[256];

	ics_host(r->ctx->conf->mail.reply_domain, host, sizeof(host));
	a = ics_attachment(p, r->now, host, proto_str(links, "open"));
	json_decref(links);
	if (atts == NULL || a == NULL || json_array_append_new(atts, a) < 0) {
		json_decref(atts);
		return NULL;
	}
	return atts;
}

enum proto_err
op_mail_new(struct req *r, const struct inmail *m)
{
	const struct conf *c = r->ctx->conf;
	const struct person *who = conf_person_by_email(c, m->from);
	json_t *answers = json_array(), *body = NULL, *reply = NULL, *p;
	json_t *atts = NULL;
	char why[600], whom[PROTO_MAX_FOR + 1], phrase[256], due[160];
	char text[3000];
	const char *title = title_of(m->subject);
	enum proto_err e = PROTO_INTERNAL;
	int64_t t = 0, id;
	int rc;

	if (answers == NULL)
		return PROTO_INTERNAL;
	if (who == NULL) {
		snprintf(why, sizeof(why),
		    "'%.320s' is not the email of anyone in promised.conf",
		    m->from);
		e = refuse(r, m, NULL, why, answers);
		goto out;
	}
	if (c->mail.authserv_id == NULL || !vouched(c, m)) {
		snprintf(why, sizeof(why),
		    "your mail server%s%s did not vouch that it came from %s "
		    "(no Authentication-Results with dmarc=pass or an aligned "
		    "dkim=pass)",
		    c->mail.authserv_id ? " " : "",
		    c->mail.authserv_id ? c->mail.authserv_id : "", m->from);
		e = refuse(r, m, who, why, answers);
		goto out;
	}
	body = json_pack("{s:s,s:s}", "title",
	    title[0] ? title : "(no subject)", "owner", who->login);
	if (body == NULL)
		goto out;
	if (customer(c, m, whom, sizeof(whom)))
		json_object_set_new(body, "for", json_string(whom));
	rc = find_deadline(
	    c, who->login, m->subject, r->now, &t, phrase, sizeof(phrase));
	if (rc == -ENOENT)
		rc = find_deadline(
		    c, who->login, m->text, r->now, &t, phrase, sizeof(phrase));
	if (rc == -ENOMEM)
		goto out;
	if (rc == 0)
		json_object_set_new(body, "due_at", json_integer(t));
	else if (c->mail.default_kind != NULL)
		json_object_set_new(
		    body, "kind", json_string(c->mail.default_kind));
	else {
		e = refuse(r, m, who,
		    "it names no deadline (write \"by Friday\", \"tomorrow "
		    "10am\" or \"in 2 business days\")",
		    answers);
		goto out;
	}
	e = op_mail_act(r, who->login, body, op_add, &reply, why, sizeof(why));
	if (e == PROTO_INTERNAL)
		goto out;
	if (e != PROTO_OK) {
		e = refuse(r, m, who, why, answers);
		goto out;
	}
	p = json_object_get(reply, "promise");
	id = json_integer_value(json_object_get(p, "id"));
	local_time(c, who->login,
	    json_integer_value(json_object_get(p, "due_at")), due, sizeof(due));
	snprintf(text, sizeof(text),
	    "Promise %" PRId64 " is made:\n\n"
	    "  Title:  %s\n"
	    "  For:    %s\n"
	    "  Due:    %s, %s%s%s\n\n"
	    "To correct it, reply to this mail with one of:\n\n"
	    "  snooze WHEN [because WHY]   another deadline: \"snooze friday "
	    "10:00\"\n"
	    "  cancel REASON               not a promise after all\n"
	    "  done [NOTE]                 it is kept\n",
	    id, json_string_value(json_object_get(p, "title")),
	    json_object_get(body, "for") ? whom : "(no customer found)", due,
	    rc == 0 ? "read from \"" : "the default of kind ",
	    rc == 0 ? phrase : c->mail.default_kind, rc == 0 ? "\"" : "");
	/* the deadline as a calendar entry, for the mail client to offer */
	if ((atts = confirm_attachments(r, p, who->login)) == NULL) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		e = PROTO_INTERNAL;
		goto out;
	}
	if ((rc = op_mail_answer(r, m, who->login, id, text, atts, answers)) <
	    0) {
		e = op_store_failed(r, rc);
		goto out;
	}
	e = op_mail_reply(r, MAIL_MADE, NULL, id, answers);
out:
	json_decref(atts);
	json_decref(body);
	json_decref(reply);
	json_decref(answers);
	return e;
}
