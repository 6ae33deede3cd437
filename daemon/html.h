/* SPDX-License-Identifier: MIT */
/*
 * html.h: the web page's text formats.  Out: HTML with every value
 * escaped, and the frame every page shares (a stylesheet by URL, no
 * script, no inline style, so a Content-Security-Policy of 'self' holds).
 * In: application/x-www-form-urlencoded fields.  Pure.
 */
#ifndef PROMISED_HTML_H
#define PROMISED_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "jsonw.h"

/* the policy every page is sent with: nothing but our own stylesheet and
 * forms posting back to us */
#define HTML_CSP                                                               \
	"default-src 'none'; style-src 'self'; img-src 'self'; "               \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* appends s with & < > " ' escaped: safe as text and in a quoted
 * attribute */
void html_text(struct jsonw *b, const char *s);
/* the same for n bytes of s */
void html_textn(struct jsonw *b, const char *s, size_t n);
/* appends the formatted text, then escapes nothing: for markup and
 * numbers only */
#define html_raw jw_printf

/*
 * The page's head and top bar: title (escaped), and, for someone signed
 * in, their login and the links of the bar.  html_end closes it.
 */
void html_begin(struct jsonw *b, const char *title, const char *login);
void html_end(struct jsonw *b);

/*
 * Finds field name in a form body (or a query string) of len bytes and
 * decodes it ('+' is a space, %XX a byte) into out, NUL-ended.  0;
 * -ENOENT if absent; -EINVAL if malformed, too long for out, or holding a
 * NUL or invalid UTF-8.
 */
int html_form_get(
    const char *form, size_t len, const char *name, char *out, size_t outlen);

/*
 * Finds cookie name in a Cookie header ("a=1; name=v; b=2") and copies its
 * value into out, NUL-ended.  0; -ENOENT if absent; -EINVAL if empty, too
 * long for out, or holding anything but a cookie-octet (RFC 6265).
 */
int html_cookie_get(
    const char *header, const char *name, char *out, size_t outlen);

#endif
