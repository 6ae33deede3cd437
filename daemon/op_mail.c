/* SPDX-License-Identifier: MIT */
/*
 * op_mail.c: the "mail" operation, a mail that promise mail-in took apart
 * (client/mailin.c) handed to promised by the mail server's user.  It is
 * a reply to promise+ID.TOKEN@[mail] reply_domain, which acts on promise
 * ID as the person TOKEN was signed for, or a mail to [mail] address,
 * which makes a promise (op_mail_new.c).  Either way the sender gets an
 * answer in the mail's thread saying what was done or why nothing was,
 * and the reply's "outcome" tells promise mail-in its exit status.
 *
 * The answer is written with the change, in the request's savepoint: a
 * refusal that is answered is a success of this operation (the answer is
 * committed), with the outcome "refused".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"
#include "mailcmd.h"
#include "mailtoken.h"
#include "op_mail.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define ADDR_MAX 320

static const char help_text[] =
    "Reply to promised's mail about a promise with one of these as the\n"
    "first words of your reply:\n"
    "\n"
    "  done [NOTE]                  it is kept\n"
    "  snooze WHEN [because WHY]    a new deadline: \"snooze friday 10:00\"\n"
    "  cancel REASON                it is dropped\n"
    "  told REASON                  it is dropped, and the customer knows\n"
    "  ack                          you have seen the escalation\n";

/* t in login's zone, "Fri 2026-12-11 10:00 (Europe/Berlin)", into buf */
static void
when_for(struct req *r, const char *login, int64_t t, char *buf, size_t len)
{
	const struct person *p = conf_person(r->ctx->conf, login);
	const char *zone = p != NULL && p->timezone != NULL
	    ? p->timezone
	    : r->ctx->conf->calendar_tz;
	struct tz_save tz;
	char local[64];

	if (tz_enter(&tz, zone) < 0) {
		timefmt_iso_utc(t, buf, len);
		return;
	}
	timefmt_local(t, local, sizeof(local));
	tz_leave(&tz);
	snprintf(buf, len, "%s%s%s%s", local, zone ? " (" : "",
	    zone ? zone : "", zone ? ")" : "");
}

/* the login the token of a reply about promise id was signed for: the
 * sender's first, then everyone promised mails about it (the owner, the
 * managers above, the fallback manager); NULL if none */
static const char *
token_login(struct req *r, int64_t id, const char *owner, const char *token,
    const struct person *sender)
{
	const struct conf *c = r->ctx->conf;
	const char *chain[CONF_MAX_CHAIN];
	size_t i, n;

	if (sender != NULL && mailtoken_ok(c, id, sender->login, token))
		return sender->login;
	if (mailtoken_ok(c, id, owner, token))
		return owner;
	n = conf_chain(c, owner, chain, CONF_MAX_CHAIN);
	for (i = 0; i < n; i++)
		if (mailtoken_ok(c, id, chain[i], token))
			return chain[i];
	if (c->fallback_manager != NULL &&
	    mailtoken_ok(c, id, c->fallback_manager, token))
		return c->fallback_manager;
	return NULL;
}

/* the body of the operation cmd asks for, on promise id */
static json_t *
command_body(const struct mailcmd *cmd, int64_t id)
{
	json_t *b = json_pack("{s:I}", "id", (json_int_t)id);

	if (b == NULL)
		return NULL;
	switch (cmd->verb) {
	case MAILCMD_DONE:
		if (cmd->text[0] != '\0')
			json_object_set_new(b, "note", json_string(cmd->text));
		break;
	case MAILCMD_SNOOZE:
		json_object_set_new(b, "due", json_string(cmd->when));
		json_object_set_new(b, "reason",
		    json_string(cmd->text[0] ? cmd->text : "snoozed by email"));
		break;
	case MAILCMD_CANCEL:
	case MAILCMD_TOLD:
		json_object_set_new(b, "reason", json_string(cmd->text));
		json_object_set_new(b, "told_customer",
		    json_boolean(cmd->verb == MAILCMD_TOLD));
		break;
	default:
		break;
	}
	return b;
}

/* what was done, for the answer, into buf */
static void
describe(struct req *r, const char *login, const struct mailcmd *cmd,
    int64_t id, const json_t *reply, char *buf, size_t len)
{
	const json_t *p = json_object_get(reply, "promise");
	const char *title = json_string_value(json_object_get(p, "title"));
	char when[128];

	if (title == NULL)
		title = "";
	switch (cmd->verb) {
	case MAILCMD_DONE:
		snprintf(buf, len,
		    "Promise %" PRId64 " \"%.200s\" is kept.%s%.600s\n", id,
		    title, cmd->text[0] ? "\nNote: " : "", cmd->text);
		break;
	case MAILCMD_SNOOZE:
		when_for(r, login,
		    json_integer_value(json_object_get(p, "due_at")), when,
		    sizeof(when));
		snprintf(buf, len,
		    "Promise %" PRId64 " \"%.200s\" is now due %s.\n", id,
		    title, when);
		break;
	case MAILCMD_CANCEL:
	case MAILCMD_TOLD:
		snprintf(buf, len,
		    "Promise %" PRId64
		    " \"%.200s\" is cancelled (%s): %.600s\n",
		    id, title,
		    cmd->verb == MAILCMD_TOLD ? "the customer was told"
		                              : "the customer was not told",
		    cmd->text);
		break;
	case MAILCMD_ACK:
		when_for(r, login,
		    json_integer_value(json_object_get(reply, "until")), when,
		    sizeof(when));
		snprintf(buf, len,
		    "Escalation of promise %" PRId64
		    " \"%.200s\" acknowledged: its repeats to you pause until "
		    "%s.\n",
		    id, title, when);
		break;
	default:
		buf[0] = '\0';
	}
}

/* a reply's words that are no command, kept in the promise's history */
static enum proto_err
keep_note(struct req *r, const char *login, int64_t id, const char *text)
{
	struct op_caller who = {login, (uid_t)-1, false, "email"};
	const struct op_caller *was = r->who;
	json_t *d = json_pack("{s:s}", "note", text);
	char *detail = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	int rc = -ENOMEM;

	if (detail != NULL) {
		r->who = &who;
		rc = op_event(r, id, "noted", detail);
		r->who = was;
	}
	free(detail);
	json_decref(d);
	return rc < 0 ? op_store_failed(r, rc) : PROTO_OK;
}

/* a reply to promise+ID.TOKEN@reply_domain */
static enum proto_err
mail_reply(struct req *r, const struct inmail *m, int64_t id, const char *token)
{
	static enum proto_err (*const ops[])(struct req *) = {
	    [MAILCMD_DONE] = op_done,
	    [MAILCMD_SNOOZE] = op_snooze,
	    [MAILCMD_CANCEL] = op_cancel,
	    [MAILCMD_TOLD] = op_cancel,
	    [MAILCMD_ACK] = op_ack,
	};
	const struct person *sender =
	    conf_person_by_email(r->ctx->conf, m->from);
	struct json_cb j = {.now = r->now};
	struct mailcmd cmd;
	json_t *answers = json_array(), *body = NULL, *reply = NULL;
	const char *login = NULL, *why = NULL;
	char err[512], text[2048], done[1024];
	enum mail_outcome o = MAIL_REFUSED;
	enum proto_err e = PROTO_INTERNAL;
	int rc;

	if (answers == NULL)
		goto out;
	rc = store_get(r->ctx->st, id, op_get_cb, &j);
	if (rc < 0 && rc != -ENOENT) {
		e = op_store_failed(r, rc);
		goto out;
	}
	json_decref(j.val);
	if (rc == 0)
		login = token_login(r, id, j.owner, token, sender);
	if (login == NULL) {
		/* a stranger learns nothing of the promise, not even that it
		 * exists: a tampered token and an unknown id read alike */
		snprintf(err, sizeof(err),
		    "the address replied to is not one promised signed "
		    "(changed, or signed with a key since retired)");
		snprintf(text, sizeof(text),
		    "Nothing was changed: %s.  Reply to the newest mail "
		    "about the promise instead.\n",
		    err);
		if (sender != NULL &&
		    (rc = op_mail_answer(
		         r, m, sender->login, 0, text, NULL, answers)) < 0) {
			e = op_store_failed(r, rc);
			goto out;
		}
		e = op_mail_reply(r, MAIL_REFUSED, err, 0, answers);
		goto out;
	}
	if (mailcmd_parse(m->text, strlen(m->text), &cmd, &why) < 0 &&
	    cmd.verb == MAILCMD_INVALID) {
		snprintf(text, sizeof(text),
		    "Your reply about promise %" PRId64
		    " had no words above the quoted mail; nothing was "
		    "changed.\n\n%s",
		    id, help_text);
		o = MAIL_REFUSED;
		snprintf(err, sizeof(err), "%s", why);
	} else if (why != NULL) {
		snprintf(text, sizeof(text),
		    "Nothing was changed on promise %" PRId64 ": %s.\n\n%s", id,
		    why, help_text);
		snprintf(err, sizeof(err), "%s", why);
	} else if (cmd.verb == MAILCMD_NOTE) {
		if ((e = keep_note(r, login, id, cmd.text)) != PROTO_OK)
			goto out;
		snprintf(text, sizeof(text),
		    "Your words are kept as a note on promise %" PRId64
		    ".\n\n%s",
		    id, help_text);
		o = MAIL_NOTED;
		err[0] = '\0';
	} else {
		if ((body = command_body(&cmd, id)) == NULL)
			goto out;
		e = op_mail_act(
		    r, login, body, ops[cmd.verb], &reply, err, sizeof(err));
		if (e == PROTO_INTERNAL)
			goto out;
		if (e == PROTO_OK) {
			describe(r, login, &cmd, id, reply, done, sizeof(done));
			snprintf(text, sizeof(text), "%s", done);
			o = MAIL_ACTED;
			err[0] = '\0';
		} else
			snprintf(text, sizeof(text),
			    "Nothing was changed on promise %" PRId64
			    ": %s.\n\n%s",
			    id, err, help_text);
	}
	if ((rc = op_mail_answer(r, m, login, id, text, NULL, answers)) < 0) {
		e = op_store_failed(r, rc);
		goto out;
	}
	e = op_mail_reply(r, o, err[0] ? err : NULL, id, answers);
out:
	json_decref(body);
	json_decref(reply);
	json_decref(answers);
	return e;
}

/* an address of the request: a string with an '@', no control
 * characters nor spaces, at most ADDR_MAX bytes */
static bool
address_ok(const char *s)
{
	const char *at = s != NULL ? strrchr(s, '@') : NULL;

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) >= ADDR_MAX)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == '<' ||
		    *s == '>')
			return false;
	return true;
}

/* the address the mail was delivered to: the envelope's, else the
 * first Delivered-To, else the first To or Cc of promised's own */
static const char *
target_of(struct req *r, const struct inmail *m)
{
	const struct conf *c = r->ctx->conf;
	const char *t = proto_str(r->body, "recipient"), *a;
	json_t *lists[2] = {m->to, m->cc}, *v;
	size_t i, k;
	int64_t id;
	char token[128];

	if (t != NULL)
		return t;
	if ((t = json_string_value(json_array_get(
	         json_object_get(r->body, "delivered_to"), 0))) != NULL)
		return t;
	for (k = 0; k < 2; k++)
		json_array_foreach(lists[k], i, v) {
			a = proto_str(v, "address");
			if (a != NULL &&
			    ((c->mail.address != NULL &&
			         strcasecmp(a, c->mail.address) == 0) ||
			        mailtoken_parse(
			            c, a, &id, token, sizeof(token)) == 0))
				return a;
		}
	return NULL;
}

/* a robot's mail (RFC 3834) or promised's own: never answered, so that
 * two robots cannot answer each other for ever */
static bool
from_robot(struct req *r, const struct inmail *m)
{
	json_t *as = json_object_get(r->body, "auto_submitted"), *v;
	const char *own = r->ctx->conf->smtp_from;
	size_t i;

	json_array_foreach(as, i, v) {
		const char *s = json_string_value(v);

		if (s != NULL && strncasecmp(s, "no", 2) != 0)
			return true;
	}
	return own != NULL && strcasecmp(m->from, own) == 0;
}

/*
 * s made fit for the protocol's text fields, malloc'd: what is invisible
 * or turns text around left out, carriage returns dropped, other control
 * characters (but newlines when multiline) made spaces.  Mail is full of
 * them (Outlook's zero-width spaces, a BOM), and they say nothing.
 */
static char *
clean_copy(const char *s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	char *out = malloc(strlen((const char *)p) + 1);
	size_t o = 0, n;
	uint32_t cp;

	if (out == NULL)
		return NULL;
	for (; *p != '\0'; p += n) {
		if ((n = util_utf8_decode(p, &cp)) == 0) {
			n = 1;
			continue;
		}
		if (util_cp_hidden(cp) || *p == '\r')
			continue;
		if (*p < 0x20 || *p == 0x7f) {
			out[o++] = *p == '\n' && multiline ? '\n' : ' ';
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

/* reads the request into m; PROTO_OK or PROTO_INVALID with r->err */
static enum proto_err
read_mail(struct req *r, struct inmail *m)
{
	json_t *from = json_object_get(r->body, "from");
	const char *id, *text = NULL, *subject = NULL;
	enum proto_err e;

	memset(m, 0, sizeof(*m));
	m->from = proto_str(from, "address");
	if (!address_ok(m->from)) {
		snprintf(r->err, sizeof(r->err),
		    "field 'from': needs an \"address\" like dan@example.com");
		return PROTO_INVALID;
	}
	m->from_name = proto_str(from, "name");
	if ((e = proto_get_str(r->body, "text", false, PROTO_MAX_LINE, &text,
	         r->err, sizeof(r->err))) != PROTO_OK ||
	    (e = proto_get_str(r->body, "subject", false, 4 * PROTO_MAX_TITLE,
	         &subject, r->err, sizeof(r->err))) != PROTO_OK)
		return e;
	if ((m->text = clean_copy(text, true)) == NULL ||
	    (m->subject = clean_copy(subject, false)) == NULL)
		return PROTO_INTERNAL;
	if ((id = proto_str(r->body, "message_id")) != NULL &&
	    strlen(id) + 3 <= sizeof(m->parent))
		snprintf(m->parent, sizeof(m->parent), "%s%s%s",
		    id[0] == '<' ? "" : "<", id, id[0] == '<' ? "" : ">");
	m->references = proto_str(r->body, "references");
	m->to = json_object_get(r->body, "to");
	m->cc = json_object_get(r->body, "cc");
	m->auth = json_object_get(r->body, "authentication_results");
	m->forwarded_from = json_object_get(r->body, "forwarded_from");
	return PROTO_OK;
}

enum proto_err
op_mail(struct req *r)
{
	const struct conf *c = r->ctx->conf;
	struct delivery **mark = deliver_mark(r->ctx->dl);
	struct inmail m;
	const char *target, *o, *reason;
	char token[128], why[400], key[STORE_MAIL_KEY_MAX + 1];
	json_t *none;
	enum proto_err e;
	bool reply, seen = false, keyed;
	int64_t id;

	if (!conf_is_gateway(c, r->who->login)) {
		snprintf(r->err, sizeof(r->err),
		    "only [mail] gateway_users may hand mail in, and '%s' is "
		    "not one of them",
		    r->who->login);
		return PROTO_FORBIDDEN;
	}
	if ((none = json_array()) == NULL)
		return PROTO_INTERNAL;
	if ((e = read_mail(r, &m)) != PROTO_OK)
		goto out;
	if (from_robot(r, &m)) {
		e = op_mail_reply(r, MAIL_IGNORED,
		    "an automatic mail (Auto-Submitted), left unanswered", 0,
		    none);
		goto out;
	}
	target = target_of(r, &m);
	reply = target != NULL &&
	    mailtoken_parse(c, target, &id, token, sizeof(token)) == 0;
	if (!reply &&
	    (target == NULL || c->mail.address == NULL ||
	        strcasecmp(target, c->mail.address) != 0)) {
		snprintf(why, sizeof(why),
		    "no such address at promised: '%.300s'",
		    target != NULL ? target : "(no recipient)");
		e = op_mail_reply(r, MAIL_UNKNOWN, why, 0, none);
		goto out;
	}
	keyed = op_mail_key(r, target, key, sizeof(key)) == 0;
	if (keyed && ((e = op_mail_again(r, key, &seen)) != PROTO_OK || seen))
		goto out;
	if (reply) {
		e = mail_reply(r, &m, id, token);
		snprintf(r->note, sizeof(r->note),
		    "mail from '%s' to promise %" PRId64 ": %s", m.from, id,
		    r->reply != NULL ? json_string_value(
		                           json_object_get(r->reply, "outcome"))
		                     : "failed");
	} else
		e = op_mail_new(r, &m);
	/* a refusal answers the mail server 0: the log is where its admin
	 * sees it */
	if (e == PROTO_OK &&
	    (o = json_string_value(json_object_get(r->reply, "outcome"))) !=
	        NULL &&
	    strcmp(o, "refused") == 0) {
		reason = json_string_value(json_object_get(r->reply, "reason"));
		snprintf(r->note, sizeof(r->note),
		    "mail from '%.60s' to '%.60s' refused: %.100s", m.from,
		    target, reason != NULL ? reason : "(no reason)");
	}
	if (e == PROTO_OK && keyed)
		e = op_mail_remember(r, key);
out:
	/* the answers queued go with the request's savepoint */
	if (e != PROTO_OK)
		deliver_unwind(r->ctx->dl, mark);
	free(m.text);
	free(m.subject);
	json_decref(none);
	return e;
}
