/* SPDX-License-Identifier: MIT */
/* jsonw.c: JSON text written by hand, see jsonw.h */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void
jw_put(struct jsonw *b, const char *s, size_t n)
{
	size_t cap;
	char *t;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		for (cap = b->cap ? b->cap : 512; b->len + n + 1 > cap;)
			cap *= 2;
		if ((t = realloc(b->s, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
jw_lit(struct jsonw *b, const char *s)
{
	jw_put(b, s, strlen(s));
}

void
jw_printf(struct jsonw *b, const char *fmt, ...)
{
	va_list ap;
	char small[256], *big = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		goto out;
	}
	if ((size_t)n < sizeof(small)) {
		jw_put(b, small, (size_t)n);
		goto out;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->oom = true;
		goto out;
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	jw_put(b, big, (size_t)n);
out:
	free(big);
}

void
jw_int(struct jsonw *b, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	jw_put(b, num, (size_t)n);
}

void
jw_str(struct jsonw *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};
	unsigned char ch;

	if (s == NULL) {
		jw_lit(b, "null");
		return;
	}
	jw_put(b, "\"", 1);
	for (run = s; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		jw_put(b, run, (size_t)(s - run));
		run = s + 1;
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			jw_put(b, esc, 2);
			esc[1] = 'u';
		} else if (ch == '\n') {
			jw_lit(b, "\\n");
		} else {
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 0xf];
			jw_put(b, esc, 6);
		}
	}
	jw_put(b, run, (size_t)(s - run));
	jw_put(b, "\"", 1);
}

void
jw_reset(struct jsonw *b)
{
	b->len = 0;
	b->oom = false;
	if (b->s != NULL)
		b->s[0] = '\0';
}

/* the code point of the UTF-8 sequence at s (valid, as the daemon checks
 * text on input) and its length in *n */
static uint32_t
utf8_next(const unsigned char *s, size_t *n)
{
	if (s[0] < 0xe0) {
		*n = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*n = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*n = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* \uXXXX for cp, a surrogate pair beyond the BMP, as jansson writes it */
static void
put_u(struct jsonw *b, uint32_t cp)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[12];
	size_t n = 0;
	uint32_t units[2];
	int i, k = 0;

	if (cp >= 0x10000) {
		cp -= 0x10000;
		units[k++] = 0xd800 | (cp >> 10);
		units[k++] = 0xdc00 | (cp & 0x3ff);
	} else
		units[k++] = cp;
	for (i = 0; i < k; i++) {
		e[n++] = '\\';
		e[n++] = 'u';
		e[n++] = hex[units[i] >> 12 & 0xf];
		e[n++] = hex[units[i] >> 8 & 0xf];
		e[n++] = hex[units[i] >> 4 & 0xf];
		e[n++] = hex[units[i] & 0xf];
	}
	jw_put(b, e, n);
}

void
jw_jstr(struct jsonw *b, const char *s, bool ascii)
{
	const unsigned char *p = (const unsigned char *)s, *run;
	const char *e;
	size_t n;

	jw_put(b, "\"", 1);
	for (run = p; *p != '\0';) {
		if (*p >= 0x20 && *p != '"' && *p != '\\' &&
		    (*p < 0x80 || !ascii)) {
			p++;
			continue;
		}
		jw_put(b, (const char *)run, (size_t)(p - run));
		n = 1;
		switch (*p) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			e = NULL;
			put_u(b, *p < 0x80 ? *p : utf8_next(p, &n));
		}
		if (e != NULL)
			jw_put(b, e, 2);
		p += n;
		run = p;
	}
	jw_put(b, (const char *)run, (size_t)(p - run));
	jw_put(b, "\"", 1);
}

void
jw_put_ascii(struct jsonw *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	size_t k;

	for (run = p; p < end;) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		jw_put(b, (const char *)run, (size_t)(p - run));
		put_u(b, utf8_next(p, &k));
		p += k;
		run = p;
	}
	jw_put(b, (const char *)run, (size_t)(p - run));
}

void
jw_tree(struct jsonw *b, const json_t *v)
{
	const char *key, *sep = "";
	json_t *m;
	size_t i;
	char *text;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jw_put(b, "{", 1);
		json_object_foreach((json_t *)v, key, m) {
			jw_lit(b, sep);
			jw_jstr(b, key, false);
			jw_put(b, ":", 1);
			jw_tree(b, m);
			sep = ",";
		}
		jw_put(b, "}", 1);
		break;
	case JSON_ARRAY:
		jw_put(b, "[", 1);
		json_array_foreach(v, i, m) {
			jw_lit(b, sep);
			jw_tree(b, m);
			sep = ",";
		}
		jw_put(b, "]", 1);
		break;
	case JSON_STRING:
		jw_jstr(b, json_string_value(v), false);
		break;
	case JSON_INTEGER:
		jw_int(b, json_integer_value(v));
		break;
	case JSON_TRUE:
		jw_lit(b, "true");
		break;
	case JSON_FALSE:
		jw_lit(b, "false");
		break;
	case JSON_NULL:
		jw_lit(b, "null");
		break;
	default:
		/* a real: jansson's own formatting */
		text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text == NULL)
			b->oom = true;
		else
			jw_lit(b, text);
		free(text);
	}
}
