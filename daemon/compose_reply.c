/* SPDX-License-Identifier: MIT */
/*
 * compose_reply.c: promised's answer to a mail it was handed (a reply
 * that acted, a new promise made, or why not), as an email in that mail's
 * thread: In-Reply-To its Message-ID, References its References and it,
 * "Re: " its subject, so every mail client files it beside the mail.
 * Pure, as compose.c; the text was written by op_mail.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compose.h"
#include "mime.h"
#include "proto.h"
#include "tz.h"

/* References: at most this many ids, the newest, as RFC 5322 allows, and
 * short enough for one header line (mime_header does not fold) */
#define MAX_REFS 10
#define MAX_REFS_LEN 900

/* the msg-ids of refs that are safe in a header, then in_reply_to, the
 * newest that fit, each after a CRLF and a space (folded: an id per line,
 * as long ones would not share one within 78 columns), into out */
static void
references(const char *refs, const char *in_reply_to, char *out, size_t len)
{
	char buf[4096], *ids[MAX_REFS], *tok, *save = NULL;
	size_t n = 0, i, first, total = strlen(in_reply_to) + 3, o = 0;

	snprintf(buf, sizeof(buf), "%s", refs != NULL ? refs : "");
	for (tok = strtok_r(buf, " \t\r\n,", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n,", &save)) {
		/* the parent goes last, once */
		if (!mime_msgid_ok(tok) || strcmp(tok, in_reply_to) == 0)
			continue;
		if (n == MAX_REFS - 1) {
			memmove(ids, ids + 1, (n - 1) * sizeof(*ids));
			n--;
		}
		ids[n++] = tok;
	}
	/* the oldest go first when the line would be too long */
	for (first = n;
	     first > 0 && total + strlen(ids[first - 1]) + 1 <= MAX_REFS_LEN;
	     first--)
		total += strlen(ids[first - 1]) + 1;
	out[0] = '\0';
	for (i = first; i < n; i++)
		o += (size_t)snprintf(out + o, len - o, "\r\n %s", ids[i]);
	snprintf(out + o, len - o, "\r\n %s", in_reply_to);
}

int
compose_reply(struct jsonw *msg, const struct mail *m, const char *uid,
    const char *from, int64_t now)
{
	const char *subject = proto_str(m->reply, "subject");
	const char *text = proto_str(m->reply, "text");
	const char *parent = proto_str(m->reply, "in_reply_to");
	struct jsonw subj = {0}, body = {0};
	struct tz_save tz;
	char date[64], mid[320], refs[1024];
	int r;

	if ((r = tz_enter(&tz, m->zone)) < 0)
		return r;
	mime_date(now, date, sizeof(date));
	tz_leave(&tz);
	mime_message_id(mid, sizeof(mid), uid, m->id, NULL, false, from);
	if (strncasecmp(subject, "Re:", 3) != 0)
		jw_lit(&subj, "Re: ");
	jw_put(&subj, subject, strlen(subject));
	jw_put(&subj, "", 0);
	jw_put(&body, text, strlen(text));
	jw_printf(&body, "\n\n-- \npromised, delivery %s\n", uid);

	mime_header(msg, "Date", date);
	mime_header(msg, "From", from);
	mime_header(msg, "To", m->to);
	if (m->reply_to != NULL)
		mime_header(msg, "Reply-To", m->reply_to);
	mime_header_text(msg, "Subject", subj.oom ? "" : subj.s);
	mime_header(msg, "Message-ID", mid);
	if (parent != NULL && mime_msgid_ok(parent) &&
	    strlen(parent) <= MAX_REFS_LEN) {
		mime_header(msg, "In-Reply-To", parent);
		references(proto_str(m->reply, "references"), parent, refs,
		    sizeof(refs));
		/* folded already: mime_header would not */
		jw_lit(msg, "References:");
		jw_lit(msg, refs);
		jw_lit(msg, "\r\n");
	}
	/* RFC 3834: an answer to a mail, never to be answered by a robot */
	compose_content(msg, m, uid, &body, "auto-replied");
	r = subj.oom || body.oom || msg->oom ? -ENOMEM : 0;
	free(subj.s);
	free(body.s);
	return r;
}
