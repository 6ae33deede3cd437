/* SPDX-License-Identifier: MIT */
/*
 * mailtext.c: see mailtext.h.  Mail clients mark quotes in their own ways
 * (Thunderbird and Apple Mail a <blockquote type="cite"> under "On ...
 * wrote:", Gmail a gmail_quote div, Outlook a divider and a block of
 * From:/Sent:/To: lines); what they share is that a person types above
 * them.  So the reply is cut at the first sign of any of them, and an
 * HTML quote is marked with a "> " line on its way to text.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mailtext.h"

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
	bool space; /* whitespace seen since the last character */
};

static void
put(struct out *o, const char *s, size_t n)
{
	char *nb;
	size_t cap;

	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((nb = realloc(o->buf, cap)) == NULL) {
			o->failed = true;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* a character of text: a pending space first, unless at a line's start */
static void
put_text(struct out *o, const char *s, size_t n)
{
	if (o->space && o->len > 0 && o->buf[o->len - 1] != '\n')
		put(o, " ", 1);
	o->space = false;
	put(o, s, n);
}

static void
newline(struct out *o)
{
	o->space = false;
	put(o, "\n", 1);
}

static void
put_cp(struct out *o, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp == 0xa0) { /* &nbsp; is a space to a reader */
		o->space = true;
		return;
	}
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	put_text(o, b, n);
}

/* an entity at s (after '&'); how many bytes it took, 0 if none */
static size_t
entity(struct out *o, const char *s, const char *end)
{
	static const struct {
		const char *name;
		uint32_t cp;
	} names[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
	    {"apos;", '\''}, {"nbsp;", 0xa0}, {"hellip;", 0x2026},
	    {"ndash;", 0x2013}, {"mdash;", 0x2014}, {"rsquo;", 0x2019},
	    {"lsquo;", 0x2018}, {"ldquo;", 0x201c}, {"rdquo;", 0x201d},
	    {"euro;", 0x20ac}, {"auml;", 0xe4}, {"ouml;", 0xf6},
	    {"uuml;", 0xfc}, {"Auml;", 0xc4}, {"Ouml;", 0xd6}, {"Uuml;", 0xdc},
	    {"szlig;", 0xdf}, {"eacute;", 0xe9}, {"egrave;", 0xe8},
	    {"agrave;", 0xe0}, {"ccedil;", 0xe7}, {"copy;", 0xa9}};
	uint32_t cp = 0;
	size_t i, n;
	bool hex;

	if (s < end && *s == '#') {
		hex = s + 1 < end && (s[1] == 'x' || s[1] == 'X');
		for (i = hex ? 2 : 1; s + i < end && i < 10; i++) {
			char c = s[i];

			if (c >= '0' && c <= '9')
				cp = cp * (hex ? 16 : 10) + (uint32_t)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				cp = cp * 16 + (uint32_t)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				cp = cp * 16 + (uint32_t)(c - 'A' + 10);
			else
				break;
		}
		if (s + i >= end || s[i] != ';' || i == (hex ? 2u : 1u))
			return 0;
		put_cp(o, cp);
		return i + 1;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].name);
		if ((size_t)(end - s) >= n &&
		    strncmp(s, names[i].name, n) == 0) {
			put_cp(o, names[i].cp);
			return n;
		}
	}
	return 0;
}

/* the tag's name at s (after '<' and any '/'), lower-cased into name */
static void
tag_name(const char *s, const char *end, char *name, size_t size)
{
	size_t n = 0;

	while (s < end && n + 1 < size &&
	    ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	        (*s >= '0' && *s <= '9')))
		name[n++] = (char)(*s++ | 0x20);
	name[n] = '\0';
}

/* s (n bytes) holds needle, any case */
static bool
has(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(s + i, needle, k) == 0)
			return true;
	return false;
}

static bool
is_any(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

char *
mailtext_from_html(const char *html, size_t len)
{
	static const char *const blocks[] = {"br", "p", "div", "tr", "li", "h1",
	    "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", NULL};
	static const char *const skipped[] = {
	    "style", "script", "head", "title", NULL};
	const char *s = html, *end = html + len, *gt, *close;
	struct out o = {0};
	char name[16], endtag[24];
	bool closing, no_gt = false;
	size_t n;

	put(&o, "", 0);
	while (s < end) {
		if (*s == '<') {
			/* a '<' that opens no tag is text, and so is every
			 * '<' after it (no search again: no quadratic time) */
			if (no_gt ||
			    (gt = memchr(s, '>', (size_t)(end - s))) == NULL) {
				no_gt = true;
				put_text(&o, s, 1);
				s++;
				continue;
			}
			closing = s + 1 < gt && s[1] == '/';
			tag_name(s + 1 + closing, gt, name, sizeof(name));
			if (!closing && is_any(name, skipped)) {
				/* to the matching end tag, or the end */
				snprintf(endtag, sizeof(endtag), "</%s", name);
				for (close = gt; close < end; close++)
					if ((size_t)(end - close) >=
					        strlen(endtag) &&
					    strncasecmp(close, endtag,
					        strlen(endtag)) == 0)
						break;
				gt = close < end
				    ? memchr(close, '>', (size_t)(end - close))
				    : NULL;
				s = gt != NULL ? gt + 1 : end;
				continue;
			}
			n = (size_t)(gt - s);
			if (!closing &&
			    (strcmp(name, "blockquote") == 0 ||
			        (strcmp(name, "div") == 0 &&
			            (has(s, n, "gmail_quote") ||
			                has(s, n, "divRplyFwdMsg") ||
			                has(s, n, "appendonsend"))) ||
			        strcmp(name, "hr") == 0)) {
				newline(&o);
				put(&o, "> ", 2);
			} else if (is_any(name, blocks))
				newline(&o);
			s = gt + 1;
			continue;
		}
		if (*s == '&' && (n = entity(&o, s + 1, end)) > 0) {
			s += n + 1;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			o.space = true;
			s++;
			continue;
		}
		put_text(&o, s, 1);
		s++;
	}
	if (o.failed) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}

/* the line at s, up to its '\n' or the end, without a trailing '\r' */
static size_t
line_len(const char *s)
{
	size_t n = strcspn(s, "\n");

	return n > 0 && s[n - 1] == '\r' ? n - 1 : n;
}

static bool
starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && strncasecmp(s, prefix, k) == 0;
}

static bool
ends(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* an attribution's last words, in the languages clients write them in */
static bool
attribution_end(const char *s, size_t n)
{
	return ends(s, n, "wrote:") || ends(s, n, "a écrit :") ||
	    ends(s, n, "a écrit:") || ends(s, n, "schrieb:") ||
	    (starts(s, n, "Am ") && ends(s, n, ":") && has(s, n, "schrieb"));
}

/* the line at s (n bytes) begins the quoted part or the signature; next
 * is the line after it, or NULL (attributions wrapped over two lines,
 * Outlook's header block) */
static bool
quote_starts(const char *s, size_t n, const char *next)
{
	size_t nn = next != NULL ? line_len(next) : 0;

	if (n > 0 && s[0] == '>')
		return true;
	if ((n == 3 && strncmp(s, "-- ", 3) == 0) ||
	    (n == 2 && strncmp(s, "--", 2) == 0))
		return true;
	if (has(s, n, "-----Original Message-----") ||
	    has(s, n, "Forwarded message") ||
	    has(s, n, "Begin forwarded message:"))
		return true;
	/* Outlook's block of the quoted mail's headers */
	if ((starts(s, n, "From: ") || starts(s, n, "De : ") ||
	        starts(s, n, "Von: ")) &&
	    next != NULL &&
	    (starts(next, nn, "Sent: ") || starts(next, nn, "Date: ") ||
	        starts(next, nn, "To: ") || starts(next, nn, "Envoy") ||
	        starts(next, nn, "Gesendet: ")))
		return true;
	if ((starts(s, n, "On ") || starts(s, n, "Le ") ||
	        starts(s, n, "Am ")) &&
	    (attribution_end(s, n) ||
	        (next != NULL && nn < 200 && attribution_end(next, nn))))
		return true;
	return false;
}

/* a line of '_' or '-' only, as Outlook puts above its From: block */
static bool
rule(const char *s, size_t n)
{
	size_t i;

	if (n < 8)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

size_t
mailtext_reply_len(const char *text)
{
	const char *s = text, *next;
	size_t n;

	while (*s != '\0') {
		n = line_len(s);
		next = s[strcspn(s, "\n")] == '\n' ? s + strcspn(s, "\n") + 1
		                                   : NULL;
		if (next != NULL && *next == '\0')
			next = NULL;
		if (quote_starts(s, n, next) || rule(s, n))
			return (size_t)(s - text);
		if (next == NULL)
			break;
		s = next;
	}
	return strlen(text);
}

int
mailtext_forwarded_from(
    const char *text, char *addr, size_t addrlen, char *name, size_t namelen)
{
	const char *s = text, *mark = NULL, *lt, *gt, *v;
	size_t n;

	for (; *s != '\0'; s += strcspn(s, "\n") + (s[strcspn(s, "\n")] != 0)) {
		n = line_len(s);
		if (mark == NULL) {
			if (has(s, n, "Forwarded message") ||
			    has(s, n, "Begin forwarded message") ||
			    has(s, n, "-----Original Message-----"))
				mark = s;
			continue;
		}
		while (n > 0 && (*s == '>' || *s == ' ')) {
			s++;
			n--;
		}
		if (!starts(s, n, "From:"))
			continue;
		v = s + 5;
		n -= 5;
		while (n > 0 && (*v == ' ' || *v == '\t' || *v == '*')) {
			v++;
			n--;
		}
		lt = memchr(v, '<', n);
		gt = lt != NULL ? memchr(lt, '>', n - (size_t)(lt - v)) : NULL;
		if (lt != NULL && gt != NULL) {
			snprintf(
			    addr, addrlen, "%.*s", (int)(gt - lt - 1), lt + 1);
			n = (size_t)(lt - v);
			while (n > 0 &&
			    (v[n - 1] == ' ' || v[n - 1] == '"' ||
			        v[n - 1] == '*'))
				n--;
			if (n > 0 && *v == '"') {
				v++;
				n--;
			}
			snprintf(name, namelen, "%.*s", (int)n, v);
		} else {
			while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\r'))
				n--;
			snprintf(addr, addrlen, "%.*s", (int)n, v);
			name[0] = '\0';
		}
		return strchr(addr, '@') != NULL ? 0 : -ENOENT;
	}
	return -ENOENT;
}
