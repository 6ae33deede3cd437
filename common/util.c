/* SPDX-License-Identifier: MIT */
/*
 * util.c: small helpers shared by the daemon and the client.  Nothing here
 * logs; callers decide what a failure means.
 */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "util.h"

int64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

size_t
util_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);
	size_t c = len < n - 1 ? len : n - 1;

	memcpy(dst, src, c);
	dst[c] = '\0';
	return len;
}

int
util_mkdir_parent(const char *path, mode_t mode)
{
	char dir[4096];
	char *slash;

	if (util_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, mode) == -1 && errno != EEXIST)
		return -errno;
	return 0;
}

size_t
util_utf8_decode(const unsigned char *s, uint32_t *ret)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1fu;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0fu;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07u;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates and out-of-range code points */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*ret = cp;
	return n;
}

/* length of the UTF-8 sequence starting at s, or 0 if it is not valid */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t cp = 0;
	size_t n = util_utf8_decode(s, &cp);

	/* C1 controls are as unwelcome in a title as C0 ones */
	if (n == 0 || (cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

bool
util_cp_hidden(uint32_t cp)
{
	return cp == 0x061c || cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

uint32_t
util_text_hidden(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = 0;
	size_t n;

	for (; *p != '\0'; p += n) {
		if ((n = util_utf8_decode(p, &cp)) == 0)
			n = 1;
		else if (util_cp_hidden(cp))
			return cp;
	}
	return 0;
}

bool
util_text_ok(const char *s, bool allow_newline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			if (!(*p == '\t' || (allow_newline && *p == '\n')))
				return false;
		}
		n = utf8_len(p);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

bool
util_login_ok(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '-')
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= 64)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-' || c == '@'))
			return false;
	}
	return true;
}

int
util_random_hex(char *buf, size_t n)
{
	unsigned char rnd[64];
	size_t i;

	if (n > sizeof(rnd))
		return -EINVAL;
	if (getrandom(rnd, n, 0) != (ssize_t)n)
		return -errno;
	for (i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

int
util_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

bool
util_email_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch >= 0x7f || strchr("<>()[],;:\\\"", ch))
			return false;
	}
	return i <= 254;
}
