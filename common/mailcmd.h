/* SPDX-License-Identifier: MIT */
/*
 * mailcmd.h: what a reply to promised's email asks for.  Its first words
 * say it: "done [note]", "snooze WHEN [because REASON]", "cancel REASON",
 * "told REASON" (cancelled, the customer told), "ack"; anything else is a
 * note.  Pure: text in, a command out, no I/O and no clock (WHEN is
 * handed on as written, for the daemon to read in the person's zone).
 */
#ifndef PROMISED_MAILCMD_H
#define PROMISED_MAILCMD_H

#include <errno.h>
#include <stddef.h>

#include "proto.h"

enum mailcmd_verb {
	MAILCMD_DONE,
	MAILCMD_SNOOZE,
	MAILCMD_CANCEL,
	MAILCMD_TOLD,
	MAILCMD_ACK,
	MAILCMD_NOTE, /* no command: the words are kept as a note */
	MAILCMD_VERB_MAX,
	MAILCMD_INVALID = -EINVAL,
};

/* a command's words at most, with the NUL */
#define MAILCMD_MAX_WHEN 128

struct mailcmd {
	enum mailcmd_verb verb;
	/* snooze: the new deadline as written ("friday 10:00") */
	char when[MAILCMD_MAX_WHEN];
	/* done: its note; snooze, cancel, told: the reason; a note: the
	 * words.  Whitespace runs made one space, no control characters,
	 * valid UTF-8 cut at a character; "" when none */
	char text[PROTO_MAX_NOTE + 1];
};

/*
 * Reads the command in the first paragraph of text (len bytes; the reply
 * with its quoted part already left out) into ret.  0; or -EINVAL with
 * ret->verb the command and *err a static one-line message when it lacks
 * what it needs (a snooze without WHEN, a cancel without a reason) or the
 * reply has no words at all (verb MAILCMD_INVALID).
 */
int mailcmd_parse(
    const char *text, size_t len, struct mailcmd *ret, const char **err);

/* "done", "snooze", ... for v; "note" for MAILCMD_NOTE; "?" otherwise */
const char *mailcmd_verb_name(enum mailcmd_verb v);

#endif
