/* SPDX-License-Identifier: MIT */
/*
 * html.c: escaping, the page frame, and form parsing for the
 * web page; see html.h.  Every value a page shows goes through
 * html_text, so a title such as "<script>" is shown, never run.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "html.h"
#include "util.h"

void
html_textn(struct jsonw *b, const char *s, size_t n)
{
	size_t i, start = 0;
	const char *rep;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		jw_put(b, s + start, i - start);
		jw_lit(b, rep);
		start = i + 1;
	}
	jw_put(b, s + start, n - start);
}

void
html_text(struct jsonw *b, const char *s)
{
	if (s != NULL)
		html_textn(b, s, strlen(s));
}

void
html_begin(struct jsonw *b, const char *title, const char *login)
{
	jw_lit(b,
	    "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\">"
	    "<title>");
	html_text(b, title);
	jw_lit(b,
	    " - promised</title>"
	    "<link rel=\"stylesheet\" href=\"/static/style.css\">"
	    "</head><body><header><a class=\"brand\" href=\"/\">"
	    "promised</a>");
	if (login != NULL) {
		jw_lit(b,
		    "<nav><a href=\"/\">My promises</a>"
		    "<a href=\"/team\">My team</a>"
		    "<span class=\"who\">");
		html_text(b, login);
		jw_lit(b, "</span></nav>");
	}
	jw_lit(b, "</header><main>");
}

void
html_end(struct jsonw *b)
{
	jw_lit(b, "</main></body></html>\n");
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s is UTF-8 throughout: what is sent on must be, as JSON text */
static bool
utf8_ok(const char *s)
{
	uint32_t cp;
	size_t n;

	while (*s != '\0') {
		if ((n = util_utf8_decode((const unsigned char *)s, &cp)) == 0)
			return false;
		s += n;
	}
	return true;
}

/* decodes n bytes of s into out; 0 or -EINVAL */
static int
form_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			if ((hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= outlen)
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return utf8_ok(out) ? 0 : -EINVAL;
}

int
html_form_get(
    const char *form, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), i = 0, j, k;

	if (outlen == 0)
		return -EINVAL;
	while (i < len) {
		for (j = i; j < len && form[j] != '&'; j++)
			;
		for (k = i; k < j && form[k] != '='; k++)
			;
		if (k - i == nlen && memcmp(form + i, name, nlen) == 0)
			return form_decode(form + (k < j ? k + 1 : j),
			    k < j ? j - k - 1 : 0, out, outlen);
		i = j + 1;
	}
	return -ENOENT;
}

/* RFC 6265's cookie-octet: printable ASCII but blank, '"', ',', ';', '\\' */
static bool
cookie_octet(char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

int
html_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name), n;
	const char *p = header, *v;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			v = p + nlen + 1;
			for (n = 0; v[n] != '\0' && v[n] != ';'; n++)
				if (!cookie_octet(v[n]))
					return -EINVAL;
			if (n == 0 || n >= outlen)
				return -EINVAL;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return -ENOENT;
}
