/* SPDX-License-Identifier: MIT */
/*
 * compose_content.c: the MIME body of a composed email, whatever it says:
 * plain text in quoted-printable, or with attachments multipart/mixed of
 * the text and each of them in base64.  Shared by compose.c (notices) and
 * compose_reply.c (answers to mail).  Pure.
 */
#include <stdio.h>
#include <string.h>

#include "compose.h"
#include "mime.h"
#include "proto.h"
#include "util.h"

/*
 * "=_" and the delivery's uid: quoted-printable writes '=' as "=3D" and
 * base64 has no '_', so no part can hold the boundary
 */
static void
mixed_boundary(char *buf, size_t len, const char *uid)
{
	size_t n = 0;

	util_strlcpy(buf, "=_", len);
	for (n = 2; *uid != '\0' && n + 1 < len && n < 34; uid++)
		if (ascii_alpha(*uid) || ascii_digit(*uid))
			buf[n++] = *uid;
	buf[n] = '\0';
}

/* the text part, then each attachment in base64, as multipart/mixed */
static void
put_mixed(struct jsonw *msg, const struct mail *m, const char *boundary,
    const struct jsonw *body)
{
	const char *text;
	json_t *it;
	size_t i;

	jw_lit(msg, "--");
	jw_lit(msg, boundary);
	jw_lit(msg, "\r\n");
	mime_header(msg, "Content-Type", "text/plain; charset=UTF-8");
	mime_header(msg, "Content-Transfer-Encoding", "quoted-printable");
	jw_lit(msg, "\r\n");
	mime_qp(msg, body->s, body->len);
	json_array_foreach(m->attachments, i, it) {
		text = json_string_value(json_object_get(it, "text"));
		jw_lit(msg, "--");
		jw_lit(msg, boundary);
		jw_lit(msg, "\r\nContent-Type: ");
		jw_lit(msg, proto_str(it, "content_type"));
		jw_lit(msg, "\r\nContent-Disposition: attachment; filename=\"");
		jw_lit(msg, proto_str(it, "filename"));
		jw_lit(msg, "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
		mime_base64(msg, text, strlen(text));
	}
	jw_lit(msg, "--");
	jw_lit(msg, boundary);
	jw_lit(msg, "--\r\n");
}

void
compose_content(struct jsonw *msg, const struct mail *m, const char *uid,
    const struct jsonw *body, const char *auto_submitted)
{
	char boundary[40], ctype[80];

	mime_header(msg, "MIME-Version", "1.0");
	if (m->attachments != NULL) {
		mixed_boundary(boundary, sizeof(boundary), uid);
		snprintf(ctype, sizeof(ctype),
		    "multipart/mixed; boundary=\"%s\"", boundary);
		mime_header(msg, "Content-Type", ctype);
	} else {
		mime_header(msg, "Content-Type", "text/plain; charset=UTF-8");
		mime_header(
		    msg, "Content-Transfer-Encoding", "quoted-printable");
	}
	mime_header(msg, "Auto-Submitted", auto_submitted);
	jw_lit(msg, "\r\n");
	if (!body->oom && m->attachments != NULL)
		put_mixed(msg, m, boundary, body);
	else if (!body->oom)
		mime_qp(msg, body->s, body->len);
}
