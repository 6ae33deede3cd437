/* SPDX-License-Identifier: MIT */
/*
 * util.h: small helpers shared by the daemon and the client.
 */
#ifndef PROMISED_UTIL_H
#define PROMISED_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ASCII character classes for the grammars of times and business hours:
 * <ctype.h> follows the locale and wants unsigned char arguments */
static inline bool
ascii_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
ascii_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* case-insensitive comparison of w[0..n) with the lower-case keyword kw */
static inline bool
ascii_word_is(const char *w, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (kw[i] == '\0' || ascii_lower(w[i]) != kw[i])
			return false;
	return kw[n] == '\0';
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* the struct of type that holds member at ptr (never NULL): a callback
 * given the member finds its owner wherever the member sits */
#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* wall-clock time in ms since the epoch */
int64_t util_now_ms(void);
/* wall-clock time in seconds since the epoch */
int64_t util_now(void);

/* copies src into dst (size n > 0), always NUL-terminated; returns strlen(src)
 */
size_t util_strlcpy(char *dst, const char *src, size_t n);

/* creates the directory holding path (one level) with mode if missing; 0 or
 * -errno */
int util_mkdir_parent(const char *path, mode_t mode);

/* true if s is valid UTF-8 without control characters (tab and, if
 * allow_newline, newline excepted) */
bool util_text_ok(const char *s, bool allow_newline);

/* decodes the UTF-8 sequence at s into *ret; its length, or 0 if it is
 * not valid (overlong, a surrogate, past U+10FFFF, cut short) */
size_t util_utf8_decode(const unsigned char *s, uint32_t *ret);

/* true for a code point that changes how text around it reads without
 * showing itself: bidi controls (U+202A-202E, U+2066-2069, LRM, RLM,
 * ALM) and zero-width ones (U+200B-200D, U+2060-2064, U+FEFF, U+180E) */
bool util_cp_hidden(uint32_t cp);

/* the first such code point in s, or 0 */
uint32_t util_text_hidden(const char *s);

/* true if s is a plausible login: 1-64 of [A-Za-z0-9._@-], not starting with
 * '-' */
bool util_login_ok(const char *s);

/* true if s is a plain addr-spec (local@domain) with nothing that could
 * end a header line or break out of angle brackets: config and SMTP agree */
bool util_email_ok(const char *s);

/* writes all of buf, retrying short writes and EINTR; 0 or -errno.  A
 * caller writing to a socket ignores SIGPIPE first. */
int util_write_all(int fd, const char *buf, size_t len);

/* fills buf (2 * n + 1 bytes) with n random bytes in hex; 0 or -errno */
int util_random_hex(char *buf, size_t n);

#endif
