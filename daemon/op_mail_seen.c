/* SPDX-License-Identifier: MIT */
/*
 * op_mail_seen.c: a mail acts once.  The mail server delivers a mail again
 * whenever promise mail-in exits 75, and it does so too when promised
 * committed the mail's change but its "ok" never reached promise mail-in
 * (killed, the connection dropped).  So each mail that changed anything is
 * recorded, by the address it was delivered to and its Message-ID (or,
 * without one, the digest promise mail-in made of its headers and body),
 * in the same transaction as its change; a second delivery is answered
 * with what was made of the first, and nothing is done or sent again.
 * Records older than MAIL_SEEN_DAYS are forgotten as new ones come: mail
 * servers give up on a mail after days (postfix: 5), never weeks.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op_mail.h"

#define MAIL_SEEN_DAYS 30
/* a Message-ID's length at most, as promise mail-in cuts it */
#define MSGID_MAX 998

/* the address, lower case: mail servers may change a local part's case */
static size_t
put_lower(char *buf, size_t len, size_t o, const char *s)
{
	for (; *s != '\0' && o + 1 < len; s++)
		buf[o++] = (char)tolower((unsigned char)*s);
	buf[o] = '\0';
	return o;
}

/*
 * id as one Message-ID: the angle brackets, white space and comments
 * around it and folding within it left out, the domain after its '@'
 * in lower case (a domain's case says nothing); "" if nothing is left
 */
static void
normal_msgid(const char *id, char *buf, size_t len)
{
	const char *p = strchr(id, '<');
	size_t o = 0;
	bool right = false;

	p = p != NULL ? p + 1 : id;
	for (; *p != '\0' && *p != '>' && o + 1 < len; p++) {
		if ((unsigned char)*p <= ' ')
			continue;
		if (*p == '@')
			right = true;
		buf[o++] = right ? (char)tolower((unsigned char)*p) : *p;
	}
	buf[o] = '\0';
}

int
op_mail_key(struct req *r, const char *target, char *buf, size_t len)
{
	const char *id = proto_str(r->body, "message_id");
	const char *digest = proto_str(r->body, "digest");
	char norm[MSGID_MAX + 1];
	size_t o, i;

	norm[0] = '\0';
	if (id != NULL)
		normal_msgid(id, norm, sizeof(norm));
	if (norm[0] == '\0' && digest != NULL) {
		/* promise mail-in's SHA-256, in hex: nothing else is taken */
		for (i = 0;
		     digest[i] != '\0' && isxdigit((unsigned char)digest[i]);
		     i++)
			;
		if (i != 64 || digest[i] != '\0')
			return -ENOENT;
		snprintf(norm, sizeof(norm), "sha256:%s", digest);
	}
	if (norm[0] == '\0' || strlen(target) + strlen(norm) + 2 > len)
		return -ENOENT;
	o = put_lower(buf, len, 0, target);
	buf[o++] = ' ';
	snprintf(buf + o, len - o, "%s", norm);
	return 0;
}

/* the words for what was made of a mail the first time */
static void
what_was(const json_t *first, char *buf, size_t len)
{
	const char *o = json_string_value(json_object_get(first, "outcome"));
	const char *why = json_string_value(json_object_get(first, "reason"));
	int64_t id = json_integer_value(json_object_get(first, "promise"));

	if (o == NULL)
		o = "";
	if (strcmp(o, "made") == 0)
		snprintf(
		    buf, len, "already done: promise %" PRId64 " was made", id);
	else if (strcmp(o, "acted") == 0)
		snprintf(buf, len,
		    "already done: promise %" PRId64 " was acted on", id);
	else if (strcmp(o, "noted") == 0)
		snprintf(buf, len,
		    "already done: kept as a note on promise %" PRId64, id);
	else
		snprintf(buf, len, "already answered: %s%s%.400s",
		    o[0] ? o : "handled", why != NULL ? ": " : "",
		    why != NULL ? why : "");
}

enum proto_err
op_mail_again(struct req *r, const char *key, bool *ret_seen)
{
	char *text = NULL, why[512];
	json_t *first = NULL;
	int rc;
	enum proto_err e = PROTO_INTERNAL;

	*ret_seen = false;
	rc = store_mail_seen(r->ctx->st, key, &text);
	if (rc == -ENOENT)
		return PROTO_OK;
	if (rc < 0)
		return op_store_failed(r, rc);
	*ret_seen = true;
	if ((first = json_loads(text, 0, NULL)) == NULL) {
		snprintf(r->err, sizeof(r->err),
		    "the record of mail '%.300s' is not JSON", key);
		goto out;
	}
	what_was(first, why, sizeof(why));
	r->reply = json_pack("{s:b,s:O,s:s,s:b,s:[]}", "ok", 1, "outcome",
	    json_object_get(first, "outcome"), "reason", why, "again", 1,
	    "answers");
	if (r->reply == NULL)
		goto out;
	if (json_object_get(first, "promise") != NULL)
		json_object_set(
		    r->reply, "promise", json_object_get(first, "promise"));
	snprintf(r->note, sizeof(r->note),
	    "mail '%.80s' delivered again: %.150s", key, why);
	e = PROTO_OK;
out:
	json_decref(first);
	free(text);
	return e;
}

enum proto_err
op_mail_remember(struct req *r, const char *key)
{
	json_t *rec = NULL, *answers = json_object_get(r->reply, "answers");
	const char *o = json_string_value(json_object_get(r->reply, "outcome"));
	char *text = NULL;
	int rc;
	enum proto_err e = PROTO_INTERNAL;

	/* a mail that changed nothing and was not answered does the same
	 * nothing again: a stranger's mail costs no row */
	if (o == NULL ||
	    ((strcmp(o, "refused") == 0 || strcmp(o, "unknown") == 0 ||
	         strcmp(o, "ignored") == 0) &&
	        json_array_size(answers) == 0))
		return PROTO_OK;
	rec = json_pack("{s:s,s:O?,s:O?}", "outcome", o, "reason",
	    json_object_get(r->reply, "reason"), "promise",
	    json_object_get(r->reply, "promise"));
	if (rec == NULL || (text = json_dumps(rec, JSON_COMPACT)) == NULL)
		goto out;
	rc = store_mail_record(r->ctx->st, key, r->now, text,
	    r->now - (int64_t)MAIL_SEEN_DAYS * 86400);
	e = rc < 0 ? op_store_failed(r, rc) : PROTO_OK;
out:
	free(text);
	json_decref(rec);
	return e;
}
