/* SPDX-License-Identifier: MIT */
/*
 * leadnote.c: the note one daemon's commit sends the others (leadnote.h),
 * written and read.  A note is read from a LISTEN channel any user of the
 * database may NOTIFY on, so nothing in it is trusted: what is not an item
 * is skipped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "leadnote.h"

static bool
uid_ok(const char *s, size_t n)
{
	size_t i;

	if (n != 32)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		        (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int
leadnote_add(char *buf, size_t *len, const struct leadnote_item *it)
{
	char item[40];
	int n;

	if (*len == 1 && buf[0] == '*')
		return 0;
	if (it->kind == 'p' && it->id > 0)
		n = snprintf(item, sizeof(item), "p%lld", (long long)it->id);
	else if (it->kind == 'd' && uid_ok(it->uid, strlen(it->uid)))
		n = snprintf(item, sizeof(item), "d%s", it->uid);
	else if (it->kind == '*')
		n = snprintf(item, sizeof(item), "*");
	else
		return -EINVAL;
	if (it->kind == '*' || *len + (*len > 0) + (size_t)n > LEADNOTE_MAX) {
		memcpy(buf, "*", 2);
		*len = 1;
		return it->kind == '*' ? 0 : -ENOSPC;
	}
	if (*len > 0)
		buf[(*len)++] = ' ';
	memcpy(buf + *len, item, (size_t)n + 1);
	*len += (size_t)n;
	return 0;
}

void
leadnote_each(const char *note,
    void (*cb)(void *arg, const struct leadnote_item *it), void *arg)
{
	struct leadnote_item it;
	const char *p = note, *end;
	size_t n, i;
	bool ok;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = p + strcspn(p, " ");
		n = (size_t)(end - p);
		memset(&it, 0, sizeof(it));
		it.kind = n > 0 ? p[0] : '\0';
		ok = false;
		if (it.kind == '*')
			ok = n == 1;
		else if (it.kind == 'p' && n >= 2 && n <= 19 && p[1] != '0') {
			/* at most 18 digits: no overflow */
			ok = true;
			for (i = 1; i < n && ok; i++) {
				ok = p[i] >= '0' && p[i] <= '9';
				it.id = it.id * 10 + (p[i] - '0');
			}
		} else if (it.kind == 'd' && uid_ok(p + 1, n - 1)) {
			ok = true;
			memcpy(it.uid, p + 1, 32);
		}
		if (ok)
			cb(arg, &it);
		p = end;
	}
}
