/* SPDX-License-Identifier: MIT */
/*
 * mailtext.h: the words of a mail as a person wrote them: HTML made plain
 * text, and the quoted mail below a reply left out.  Pure: text in, text
 * out.  Private to promise mail-in.
 */
#ifndef PROMISE_MAILTEXT_H
#define PROMISE_MAILTEXT_H

#include <stddef.h>

/*
 * The text of HTML (len bytes, UTF-8): markup dropped, block ends made line
 * ends, entities decoded, <style>, <script> and <head> left out, and a
 * quote (<blockquote>, Gmail's gmail_quote, Outlook's divider) begun with
 * a "> " line so that mailtext_reply_len stops there.  Returns a malloc'd
 * string; caller frees; NULL without memory.
 */
char *mailtext_from_html(const char *html, size_t len);

/*
 * How much of text (a reply, top-posted or not) is the writer's own: it
 * ends where the quoted mail or the signature begins: a line starting
 * with '>', "-- " alone, an attribution ("On ... wrote:", also wrapped over
 * two lines, and "Le ... a écrit :", "Am ... schrieb ...:"), Outlook's
 * "-----Original Message-----" or "From: " after a divider line, or a
 * forwarded message's marker.
 */
size_t mailtext_reply_len(const char *text);

/*
 * A forwarded message's sender: the address of the first "From:" line
 * after a "Forwarded message" or "Original Message" marker, into addr
 * (addrlen bytes) and its display name into name (namelen bytes), cut if
 * longer; 0, or -ENOENT if there is none.
 */
int mailtext_forwarded_from(
    const char *text, char *addr, size_t addrlen, char *name, size_t namelen);

#endif
