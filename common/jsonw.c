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
