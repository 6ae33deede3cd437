/* SPDX-License-Identifier: MIT */
/*
 * mime.h: the pieces of an RFC 5322 message that promised sends: headers
 * that text from people can never end or forge (sanitised, folded, or
 * RFC 2047 encoded), a quoted-printable body no relay finds too long,
 * dates and message ids.  Pure: no I/O, no state; everything is appended
 * to a jsonw buffer, whose oom the caller checks once at the end.
 */
#ifndef PROMISED_MIME_H
#define PROMISED_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"

/*
 * Appends at most max bytes of s on one line: control characters, CR and
 * LF among them, become spaces, bidi and zero-width characters are left
 * out, and a cut (marked "...") never splits a UTF-8 character.
 */
void mime_line_max(struct jsonw *b, const char *s, size_t max);
/* mime_line_max without a limit */
void mime_line(struct jsonw *b, const char *s);
/* appends text that may span lines ('\n'), indenting every line after the
 * first with indent; other control characters become spaces */
void mime_block(struct jsonw *b, const char *s, const char *indent);

/* whether s is "<dot-atom@dot-atom>", a msg-id that may go into headers
 * as it is */
bool mime_msgid_ok(const char *s);
/*
 * Appends the header "name: value\r\n" for text that people wrote: made
 * one line (mime_line), then folded at spaces within 78 columns if it is
 * plain ASCII, else RFC 2047 B encoded-words, each line within 76 and no
 * word splitting a UTF-8 character.
 */
void mime_header_text(struct jsonw *b, const char *name, const char *value);
/* appends "name: value\r\n" for a value checked to be safe (addresses,
 * ids, dates) */
void mime_header(struct jsonw *b, const char *name, const char *value);
/*
 * Appends body text (UTF-8, lines ending in '\n') as quoted-printable with
 * CRLF, no line over 76 characters.  A leading '.' stays literal (SMTP
 * clients dot-stuff); a leading "From " is encoded.
 */
void mime_qp(struct jsonw *b, const char *s, size_t n);
/* appends n bytes of data as base64 (RFC 2045), CRLF lines of 76 */
void mime_base64(struct jsonw *b, const void *data, size_t n);
/* "Fri, 27 Nov 2026 17:00:00 +0100" for t in the local zone, English
 * names, into buf */
void mime_date(int64_t t, char *buf, size_t len);
/*
 * The Message-ID of delivery uid about promise id, into buf (at least 320
 * bytes): root itself for the first message of a thread (first), else
 * "<uid.promise-ID@domain>" in root's domain, or from's when there is no
 * root; "promised.invalid" when that would not be a valid msg-id.
 */
void mime_message_id(char *buf, size_t len, const char *uid, int64_t id,
    const char *root, bool first, const char *from);

#endif
