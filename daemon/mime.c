/* SPDX-License-Identifier: MIT */
/* mime.c: the pieces of an RFC 5322 message, see mime.h */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime.h"
#include "util.h"

#define HDR_FOLD_AT 78 /* RFC 5322 2.1.1: lines SHOULD be shorter */
#define HDR_EW_LINE 76 /* RFC 2047 2: lines holding encoded-words */
#define QP_LINE 76     /* RFC 2045 6.7: encoded lines, soft break included */

/*
 * Appends at most max bytes of s on one line: control characters, CR and
 * LF among them, become spaces, bidi and zero-width characters (text kept
 * from before they were refused) are left out, and a cut never splits a
 * UTF-8 character.
 */
void
mime_line_max(struct jsonw *b, const char *s, size_t max)
{
	size_t n = strlen(s), i, len;
	bool cut = n > max;
	uint32_t cp;

	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0xc0 &&
		    (len = util_utf8_decode(
		         (const unsigned char *)s + i, &cp)) > 1 &&
		    i + len <= n && util_cp_hidden(cp)) {
			i += len - 1;
			continue;
		}
		jw_put(b, ch < 0x20 || ch == 0x7f ? " " : s + i, 1);
	}
	if (cut)
		jw_lit(b, "...");
}

void
mime_line(struct jsonw *b, const char *s)
{
	mime_line_max(b, s, SIZE_MAX);
}

/* appends text that may span lines, indenting every line after the first */
void
mime_block(struct jsonw *b, const char *s, const char *indent)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\r' && p[1] == '\n')
			continue;
		if (ch == '\r' || ch == '\n') {
			jw_lit(b, "\n");
			jw_lit(b, indent);
		} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			jw_lit(b, " ");
		else
			jw_put(b, p, 1);
	}
}

static void
base64(struct jsonw *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	uint32_t v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		jw_put(b, q, 4);
	}
}

/* RFC 5322 atext */
static bool
is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* "<dot-atom@dot-atom>", the msg-id that goes into headers raw */
bool
mime_msgid_ok(const char *s)
{
	size_t n = strlen(s), i, at = 0, ats = 0;

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>')
		return false;
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '@') {
			ats++;
			at = i;
		} else if (!is_atext(s[i]) && s[i] != '.')
			return false;
	}
	return ats == 1 && at > 1 && at < n - 2;
}

/*
 * Whether a header value can go out as it is: printable ASCII that no
 * decoder would take for an encoded-word, and folding at spaces can keep
 * every line within HDR_FOLD_AT.
 */
static bool
hdr_plain(const char *name, const char *v)
{
	size_t room = HDR_FOLD_AT - strlen(name) - 2, w;
	const char *p;

	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	if (strstr(v, "=?") != NULL)
		return false;
	for (p = v; *p != '\0'; p += w) {
		p += strspn(p, " ");
		w = strcspn(p, " ");
		if (w > room)
			return false;
	}
	return true;
}

/* a plain value, folded before a space where a line would grow too long */
static void
hdr_fold(struct jsonw *b, const char *name, const char *v)
{
	size_t start = strlen(name) + 2, col = start, sp, w;
	const char *p = v;

	jw_printf(b, "%s: ", name);
	while (*p != '\0') {
		sp = strspn(p, " ");
		w = strcspn(p + sp, " ");
		/* the space stays, as the continuation line's leading WSP;
		 * a line of nothing but spaces is never made */
		if (col + sp + w > HDR_FOLD_AT && col > start && sp > 0 &&
		    w > 0) {
			jw_lit(b, "\r\n");
			col = 0;
		}
		jw_put(b, p, sp + w);
		col += sp + w;
		p += sp + w;
	}
	jw_lit(b, "\r\n");
}

/*
 * The value as RFC 2047 B encoded-words, one per line, each line within
 * HDR_EW_LINE (so each word within 75) and no word splitting a UTF-8
 * character; decoders join adjacent encoded-words without the folding
 * whitespace between them.
 */
static void
hdr_encode(struct jsonw *b, const char *name, const char *v)
{
	size_t n = strlen(v), col = strlen(name) + 1, take, max;

	jw_printf(b, "%s:", name);
	do {
		/* " =?UTF-8?B?" and "?=" around 4 chars per 3 bytes */
		max = (HDR_EW_LINE - col - 1 - 12) / 4 * 3;
		take = n < max ? n : max;
		while (take < n && take > 0 &&
		    ((unsigned char)v[take] & 0xc0) == 0x80)
			take--;
		if (take == 0) /* not UTF-8 after all: cut anywhere */
			take = n < max ? n : max;
		jw_lit(b, " =?UTF-8?B?");
		base64(b, (const unsigned char *)v, take);
		jw_lit(b, "?=");
		v += take;
		n -= take;
		if (n > 0) {
			jw_lit(b, "\r\n");
			col = 0;
		}
	} while (n > 0);
	jw_lit(b, "\r\n");
}

/* a header from text that people wrote: it can never end the header */
void
mime_header_text(struct jsonw *b, const char *name, const char *value)
{
	struct jsonw clean = {0};

	mime_line(&clean, value);
	jw_put(&clean, "", 0);
	if (clean.oom) {
		b->oom = true;
		goto out;
	}
	if (hdr_plain(name, clean.s))
		hdr_fold(b, name, clean.s);
	else
		hdr_encode(b, name, clean.s);
out:
	free(clean.s);
}

/* a header whose value was checked to be safe (addresses, ids, dates) */
void
mime_header(struct jsonw *b, const char *name, const char *value)
{
	jw_printf(b, "%s: %s\r\n", name, value);
}

/*
 * Body text (UTF-8, lines ending in '\n') as quoted-printable with CRLF.
 * A leading '.' stays literal: libcurl dot-stuffs what it uploads.  A
 * leading "From " is encoded, for mailboxes that would mangle it.
 */
void
mime_qp(struct jsonw *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0, tl;
	char tok[3];

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool eol = i + 1 == n || s[i + 1] == '\n';

		if (ch == '\n') {
			jw_lit(b, "\r\n");
			col = 0;
			continue;
		}
		/* whitespace at the end of a line would be stripped */
		if ((ch >= 33 && ch <= 126 && ch != '=') ||
		    ((ch == ' ' || ch == '\t') && !eol)) {
			tok[0] = (char)ch;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[ch >> 4];
			tok[2] = hex[ch & 15];
			tl = 3;
		}
		/* room for the '=' of a soft line break */
		if (col + tl > QP_LINE - 1) {
			jw_lit(b, "=\r\n");
			col = 0;
		}
		if (col == 0 && ch == 'F' && n - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0) {
			memcpy(tok, "=46", 3);
			tl = 3;
		}
		jw_put(b, tok, tl);
		col += tl;
	}
	if (col != 0)
		jw_lit(b, "\r\n");
}

/* "Fri, 27 Nov 2026 17:00:00 +0100" in the local zone, English names */
/* base64's lines, in characters (RFC 2045's limit) */
#define B64_LINE 76

void
mime_base64(struct jsonw *b, const void *data, size_t n)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char q[4];
	size_t i, col = 0;
	uint32_t v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = abc[v >> 18 & 63];
		q[1] = abc[v >> 12 & 63];
		q[2] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? abc[v & 63] : '=';
		jw_put(b, q, 4);
		if ((col += 4) == B64_LINE) {
			jw_lit(b, "\r\n");
			col = 0;
		}
	}
	if (col != 0)
		jw_lit(b, "\r\n");
}

void
mime_date(int64_t t, char *buf, size_t len)
{
	static const char *const wday[7] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&tt, &tm) == NULL && gmtime_r(&tt, &tm) == NULL) {
		/* only for times the C library cannot represent */
		memset(&tm, 0, sizeof(tm));
		tm.tm_mday = 1;
		tm.tm_year = 70;
		tm.tm_wday = 4;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	(void)snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    wday[(tm.tm_wday % 7 + 7) % 7], tm.tm_mday,
	    mon[(tm.tm_mon % 12 + 12) % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

void
mime_message_id(char *buf, size_t len, const char *uid, int64_t id,
    const char *root, bool first, const char *from)
{
	const char *dom = "promised.invalid", *at;
	size_t dlen = strlen(dom);

	/* later messages get their own id in the root's domain */
	if (root != NULL) {
		at = strchr(root, '@');
		dom = at + 1;
		dlen = strlen(dom) - 1; /* without '>' */
	} else if ((at = strchr(from, '@')) != NULL) {
		dom = at + 1;
		dlen = strlen(dom);
	}
	(void)snprintf(
	    buf, len, "<%s.promise-%" PRId64 "@%.*s>", uid, id, (int)dlen, dom);
	if (root != NULL && first)
		(void)snprintf(buf, len, "%s", root);
	if (!mime_msgid_ok(buf))
		(void)snprintf(buf, len,
		    "<%s.promise-%" PRId64 "@promised.invalid>", uid, id);
}
