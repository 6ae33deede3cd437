/* SPDX-License-Identifier: MIT */
/*
 * compose.h: the email for one delivery, composed from its payload alone
 * (see backend.h), so every attempt carries the same Message-ID and text.
 * Pure: no I/O; the process's time zone is switched to the recipient's
 * while the message is written and switched back (tz.h).
 */
#ifndef PROMISED_COMPOSE_H
#define PROMISED_COMPOSE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "event.h"
#include "jsonw.h"

/* what a message is made of; the strings point into the parsed payload */
struct mail {
	enum event_type event;
	int64_t occurred_at;
	const char *to, *login, *zone; /* the recipient */
	int64_t lead, repeat, level;
	int64_t id, due_at, snoozes;
	const char *title, *owner, *whom, *note, *state;
	json_t *history;      /* array, or NULL */
	json_t *failed;       /* object, or NULL */
	json_t *digest;       /* a digest's object (digest.h), or NULL */
	json_t *agenda;       /* an agenda's object (agenda.h), or NULL */
	json_t *links;        /* one-click links (msglinks.h), or NULL */
	const char *url;      /* a sign-in's link (due_at: when it expires) */
	json_t *attachments;  /* non-empty array (see backend.h), or NULL */
	const char *root;     /* the thread's root Message-ID, or NULL */
	const char *reply_to; /* where a reply acts (mailtoken.h), or NULL */
	json_t *reply;        /* a promise.reply's "reply" object, or NULL */
	bool first;
};

/*
 * Reads the payload root into m, which borrows root's strings; now stands
 * in for a missing occurred_at.  NULL, or one line saying why it cannot
 * make an email.
 */
const char *compose_parse(json_t *root, struct mail *m, int64_t now);
/*
 * Appends the whole message for m, delivery uid, from the address from,
 * CRLF line ends.  Date is now, the time of composing, not occurred_at:
 * it says when the message entered the mail system, and a retry hours
 * later with an old Date would sort wrongly and look forged.  0, -ENOMEM,
 * or -errno if the recipient's zone cannot be entered.
 */
int compose_message(struct jsonw *msg, const struct mail *m, const char *uid,
    const char *from, int64_t now);

/*
 * The end of m's headers and its body: MIME-Version, the Content-Type of
 * body alone (quoted-printable) or, with m's attachments, multipart/mixed
 * of it and them (base64), Auto-Submitted (RFC 3834) as given, the blank
 * line, and the body.
 */
void compose_content(struct jsonw *msg, const struct mail *m, const char *uid,
    const struct jsonw *body, const char *auto_submitted);
/* compose_reply.c: compose_message for a promise.reply, promised's
 * answer to a mail, in the thread of that mail */
int compose_reply(struct jsonw *msg, const struct mail *m, const char *uid,
    const char *from, int64_t now);
/* an agenda's subject and body (compose_agenda.c), in the current zone */
void compose_agenda_subject(struct jsonw *b, const struct mail *m);
void compose_agenda_body(struct jsonw *b, const struct mail *m);

#endif
