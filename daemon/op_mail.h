/* SPDX-License-Identifier: MIT */
/*
 * op_mail.h: what op_mail.c (the "mail" operation, replies that act) and
 * op_mail_new.c (promises made by mail) share; nothing else includes it.
 */
#ifndef PROMISED_OP_MAIL_H
#define PROMISED_OP_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "op_impl.h"

/* a mail as promise mail-in handed it over; strings point into the body */
struct inmail {
	const char *from, *from_name; /* the From mailbox */
	char *subject;          /* "" when none; made fit for a title (owned) */
	char *text;             /* the writer's own words, likewise (owned) */
	char parent[1000];      /* its Message-ID in <>, or "" */
	const char *references; /* or NULL */
	json_t *to, *cc;        /* [{"address","name"?}] */
	json_t *auth;           /* Authentication-Results values */
	json_t *forwarded_from; /* {"address","name"?} or NULL */
};

/* what became of the mail: the reply's "outcome" */
enum mail_outcome {
	MAIL_ACTED,   /* a reply acted on its promise */
	MAIL_NOTED,   /* a reply's words kept as a note */
	MAIL_MADE,    /* a new promise */
	MAIL_REFUSED, /* changed nothing, and says why */
	MAIL_UNKNOWN, /* no address of promised's */
	MAIL_IGNORED, /* a robot's mail, left unanswered */
};

/*
 * Answers the mail m by email to login (a [person]), in its thread, with
 * text and attachments (NULL, or an array as backend.h has them, not
 * consumed); about promise id (0: none), whose Reply-To it then carries.
 * Appends the delivery to answers.  0 or -errno.
 */
int op_mail_answer(struct req *r, const struct inmail *m, const char *login,
    int64_t id, const char *text, json_t *attachments, json_t *answers);

/*
 * Runs fn (an operation) with body as login would, "via email", in a
 * savepoint of its own; its schedule changes become r's.  PROTO_OK with
 * *ret_reply the operation's reply (caller decrefs; may be NULL), or its
 * error with the message in err.
 */
enum proto_err op_mail_act(struct req *r, const char *login, json_t *body,
    enum proto_err (*fn)(struct req *), json_t **ret_reply, char *err,
    size_t errlen);

/* sets r->reply to {"ok":true,"outcome":...,"reason"?,"promise"?,
 * "answers"} */
enum proto_err op_mail_reply(struct req *r, enum mail_outcome o,
    const char *reason, int64_t id, json_t *answers);

/*
 * op_mail_seen.c: a mail acts once.  op_mail_key: the key of the mail
 * delivered to target (its Message-ID, else promise mail-in's digest)
 * into buf; -ENOENT if it has neither.  op_mail_again: *ret_seen if the
 * mail was handled before, r->reply then saying what was made of it.
 * op_mail_remember: records r->reply as what was made of it.
 */
int op_mail_key(struct req *r, const char *target, char *buf, size_t len);
enum proto_err op_mail_again(struct req *r, const char *key, bool *ret_seen);
enum proto_err op_mail_remember(struct req *r, const char *key);

/* op_mail_new.c: a mail to [mail] address: a new promise */
enum proto_err op_mail_new(struct req *r, const struct inmail *m);

#endif
