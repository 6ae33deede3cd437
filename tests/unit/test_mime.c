/* SPDX-License-Identifier: MIT */
/*
 * test_mime.c: unit test for the pieces of a message (daemon/mime.c).
 * Headers from text people wrote: CR, LF and other control characters can
 * never end the header or start another (header injection), "=?" and
 * 8-bit text become RFC 2047 encoded-words that decode back to the text,
 * plain text folds at spaces within 78 columns and unfolds back, and very
 * long words never make a line over 78 (plain) or 76 (encoded).  The
 * quoted-printable body keeps every line within 76 characters and decodes
 * back to the text, for fixed and random input.  Dates and message ids.
 *
 * Usage: test_mime [seed]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "check.h"
#include "mime.h"
#include "rnd.h"
#include "util.h"

static const char b64tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz0123456789+/";

/* decodes n base64 characters of s, appending to out; false if invalid */
static bool
unbase64(const char *s, size_t n, struct jsonw *out)
{
	uint32_t v = 0;
	size_t i, bits = 0;
	const char *p;
	char ch;

	if (n % 4 != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		if ((p = strchr(b64tab, s[i])) == NULL || s[i] == '\0')
			return false;
		v = v << 6 | (uint32_t)(p - b64tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			ch = (char)(v >> bits & 0xff);
			jw_put(out, &ch, 1);
		}
	}
	return true;
}

/*
 * Checks one header as mime_header_text wrote it: "name:" first, CRLF
 * last, every other CRLF followed by a space (a continuation), no other
 * CR or LF, and no line longer than max.  Writes the unfolded value (the
 * decoded one when encoded) into out.  false, with why, if anything fails.
 */
static bool
header_check(const char *h, const char *name, size_t max, struct jsonw *out,
    const char **why)
{
	size_t n = strlen(h), nl = strlen(name), i, col = 0;
	const char *v, *w, *end;
	bool encoded;

	*why = "does not start with the name";
	if (strncmp(h, name, nl) != 0 || h[nl] != ':')
		return false;
	*why = "does not end in CRLF";
	if (n < 2 || strcmp(h + n - 2, "\r\n") != 0)
		return false;
	for (i = 0; i < n; i++) {
		if (h[i] == '\r' || h[i] == '\n') {
			*why = "a bare CR or LF";
			if (h[i] != '\r' || h[i + 1] != '\n')
				return false;
			*why = "a line that is not a continuation";
			if (i + 2 < n && h[i + 2] != ' ')
				return false;
			*why = "a line too long";
			if (col > max)
				return false;
			col = 0;
			i++;
			continue;
		}
		*why = "a control character";
		if ((unsigned char)h[i] < 0x20 || h[i] == 0x7f)
			return false;
		col++;
	}
	v = h + nl + 1;
	end = h + n - 2;
	encoded = strncmp(v, " =?UTF-8?B?", 11) == 0;
	if (!encoded) {
		/* unfolding: CRLF removed, the space after it kept */
		*why = "no space after the colon";
		if (*v != ' ')
			return false;
		for (v++; v < end; v++)
			if (*v != '\r' && *v != '\n')
				jw_put(out, v, 1);
		return !out->oom;
	}
	/* encoded-words, joined without the whitespace between them */
	while (v < end) {
		*why = "whitespace other than one space or a fold";
		if (strncmp(v, "\r\n", 2) == 0)
			v += 2;
		if (*v != ' ')
			return false;
		v++;
		*why = "not an encoded-word";
		if (strncmp(v, "=?UTF-8?B?", 10) != 0)
			return false;
		v += 10;
		if ((w = strstr(v, "?=")) == NULL || w > end)
			return false;
		*why = "a word longer than 75";
		if (w - v + 12 > 75)
			return false;
		*why = "a word starting inside a UTF-8 character";
		i = out->len;
		if (!unbase64(v, (size_t)(w - v), out))
			return false;
		if (out->len > i && ((unsigned char)out->s[i] & 0xc0) == 0x80)
			return false;
		v = w + 2;
	}
	return !out->oom;
}

/* the header for value, checked; its (decoded) value compared to want */
static void
header_case(const char *value, const char *want, int line)
{
	struct jsonw h = {0}, got = {0};
	const char *why = "";
	bool ok, enc;

	mime_header_text(&h, "Subject", value);
	ok = !h.oom && h.s != NULL;
	enc = ok && strstr(h.s, "=?UTF-8?B?") != NULL;
	ok = ok && header_check(h.s, "Subject", enc ? 76 : 78, &got, &why);
	check(ok, line, why);
	check(ok && strcmp(got.s != NULL ? got.s : "", want) == 0, line,
	    "the header's value comes back");
	if (!ok || (got.s != NULL && strcmp(got.s, want) != 0))
		printf("  header: [%s]\n  want:   [%s]\n",
		    h.s != NULL ? h.s : "", want);
	free(h.s);
	free(got.s);
}

static char *
repeat(const char *s, size_t n)
{
	size_t len = strlen(s), i;
	char *r = malloc(len * n + 1);

	if (r == NULL) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < n; i++)
		memcpy(r + i * len, s, len);
	r[len * n] = '\0';
	return r;
}

static void
test_headers(void)
{
	char *s, *want;
	size_t i;

	/* injection: no line of its own for what follows CR or LF */
	header_case("Hello\r\nBcc: victim@example.com",
	    "Hello  Bcc: victim@example.com", __LINE__);
	header_case("Hello\nBcc: victim@example.com",
	    "Hello Bcc: victim@example.com", __LINE__);
	header_case("Hello\rTo: x@example.com\r\n\r\nbody",
	    "Hello To: x@example.com    body", __LINE__);
	header_case("tab\there, bell\a, del\x7f, esc\x1b[0m",
	    "tab here, bell , del , esc [0m", __LINE__);
	/* 8-bit text with an injection inside stays one encoded header */
	header_case("Grüße\r\nBcc: x@example.com", "Grüße  Bcc: x@example.com",
	    __LINE__);
	/* what a decoder would take for an encoded-word is encoded */
	header_case("=?UTF-8?B?QmNjOg==?=", "=?UTF-8?B?QmNjOg==?=", __LINE__);
	/* bidi and zero-width characters are left out */
	header_case("pay\xe2\x80\xae"
	            "evil\xe2\x80\x8b",
	    "payevil", __LINE__);
	header_case("", "", __LINE__);

	/* folding: many short words, every line within 78, unfolds back */
	s = repeat("word ", 60);
	s[strlen(s) - 1] = '\0';
	header_case(s, s, __LINE__);
	free(s);
	/* runs of spaces survive folding */
	s = repeat("ab          ", 20);
	header_case(s, s, __LINE__);
	free(s);

	/* very long words: encoded, each line within 76, decoded back */
	for (i = 1; i <= 400; i += 37) {
		s = repeat("x", i);
		header_case(s, s, __LINE__);
		free(s);
		s = repeat("\xc3\xa9", i); /* é */
		header_case(s, s, __LINE__);
		free(s);
		s = repeat("\xf0\x9f\x98\x80", i); /* a four-byte emoji */
		header_case(s, s, __LINE__);
		free(s);
	}
	/* a word long enough to need encoding among plain ones */
	s = repeat("y", 90);
	want = malloc(strlen(s) + 16);
	if (want == NULL)
		exit(2);
	snprintf(want, strlen(s) + 16, "short %s end", s);
	header_case(want, want, __LINE__);
	free(want);
	free(s);
}

/* decodes quoted-printable q (CRLF lines), checking every line is within
 * 76 and nothing but CRLF ends one; the text with '\n' into out */
static bool
qp_check(const char *q, size_t n, struct jsonw *out, const char **why)
{
	size_t i, col = 0;
	unsigned v;
	char ch, hex[3] = {0};

	for (i = 0; i < n; i++) {
		*why = "a line over 76";
		if (q[i] == '\r') {
			*why = "a CR without LF";
			if (i + 1 >= n || q[i + 1] != '\n')
				return false;
			*why = "a line over 76";
			if (col > 76)
				return false;
			*why = "whitespace at the end of a line";
			if (col > 0 && (q[i - 1] == ' ' || q[i - 1] == '\t'))
				return false;
			jw_lit(out, "\n");
			col = 0;
			i++;
			continue;
		}
		*why = "a bare LF";
		if (q[i] == '\n')
			return false;
		*why = "an unencoded byte";
		if ((unsigned char)q[i] > 126 ||
		    ((unsigned char)q[i] < 32 && q[i] != '\t'))
			return false;
		col++;
		if (q[i] != '=') {
			jw_put(out, q + i, 1);
			continue;
		}
		if (i + 2 < n && q[i + 1] == '\r' && q[i + 2] == '\n') {
			*why = "a soft break past 76";
			if (col > 76)
				return false;
			col = 0;
			i += 2;
			continue;
		}
		*why = "a bad escape";
		if (i + 2 >= n)
			return false;
		hex[0] = q[i + 1];
		hex[1] = q[i + 2];
		if (strspn(hex, "0123456789ABCDEF") != 2 ||
		    sscanf(hex, "%2x", &v) != 1)
			return false;
		ch = (char)v;
		jw_put(out, &ch, 1);
		col += 2;
		i += 2;
	}
	*why = "the last line has no CRLF";
	return col == 0 && !out->oom;
}

static void
qp_case(const char *text, int line)
{
	struct jsonw q = {0}, back = {0};
	const char *why = "";
	size_t n = strlen(text);
	bool ok;

	mime_qp(&q, text, n);
	ok = !q.oom && qp_check(q.s != NULL ? q.s : "", q.len, &back, &why);
	check(ok, line, why);
	/* the encoder ends the last line; the text may not have */
	ok = ok &&
	    (back.len == n || (back.len == n + 1 && back.s[n] == '\n')) &&
	    (n == 0 || memcmp(back.s, text, n) == 0);
	check(ok, line, "quoted-printable decodes back to the text");
	free(q.s);
	free(back.s);
}

static void
test_qp(void)
{
	struct jsonw q = {0};
	char *s, text[600];
	size_t i, j, len;
	static const char *const pieces[] = {"a", " ", "\t", "=", ".", "From ",
	    "\xc3\xa9", "\xe2\x82\xac", "\n", "\n\n", "x", "~", "0"};

	qp_case("", __LINE__);
	qp_case("plain line\n", __LINE__);
	qp_case("trailing space \ntrailing tab\t\n", __LINE__);
	qp_case("= signs == everywhere =\n", __LINE__);
	qp_case("From the start\nFrom\n.dot\n", __LINE__);
	qp_case("no newline at the end", __LINE__);
	for (i = 1; i <= 300; i += 23) {
		s = repeat("a", i);
		qp_case(s, __LINE__);
		free(s);
		s = repeat("\xc3\xa9", i);
		qp_case(s, __LINE__);
		free(s);
		s = repeat("= ", i);
		qp_case(s, __LINE__);
		free(s);
	}
	/* random text from pieces that stress the line ends */
	for (i = 0; i < 3000; i++) {
		len = 0;
		while (len < 500) {
			const char *p = pieces[rnd_below(ARRAY_SIZE(pieces))];

			j = strlen(p);
			memcpy(text + len, p, j);
			len += j;
			if (rnd_below(40) == 0)
				break;
		}
		text[len] = '\0';
		qp_case(text, __LINE__);
	}
	/* the two encodings promised relies on, exactly */
	mime_qp(&q, "From here \n", 11);
	CHECK(q.s != NULL && strcmp(q.s, "=46rom here=20\r\n") == 0);
	free(q.s);
}

static void
test_date(void)
{
	char d[64];

	set_tz("Europe/Berlin");
	mime_date(1795795200, d, sizeof(d)); /* 2026-11-27 16:00 UTC */
	CHECK(strcmp(d, "Fri, 27 Nov 2026 17:00:00 +0100") == 0);
	mime_date(1782576000, d, sizeof(d)); /* 2026-06-27 16:00 UTC */
	CHECK(strcmp(d, "Sat, 27 Jun 2026 18:00:00 +0200") == 0);
	set_tz("America/St_Johns");
	mime_date(1795795200, d, sizeof(d));
	CHECK(strcmp(d, "Fri, 27 Nov 2026 12:30:00 -0330") == 0);
	set_tz("UTC");
	mime_date(0, d, sizeof(d));
	CHECK(strcmp(d, "Thu, 01 Jan 1970 00:00:00 +0000") == 0);
}

static void
test_msgid(void)
{
	char m[320];

	CHECK(mime_msgid_ok("<a@b>"));
	CHECK(mime_msgid_ok("<x.promise-1@mail.example.org>"));
	CHECK(!mime_msgid_ok("<a@b@c>"));
	CHECK(!mime_msgid_ok("<@b>"));
	CHECK(!mime_msgid_ok("<a@>"));
	CHECK(!mime_msgid_ok("a@b"));
	CHECK(!mime_msgid_ok("<a b@c>"));
	CHECK(!mime_msgid_ok("<a@b>\r\nBcc: x@y"));
	CHECK(!mime_msgid_ok("<a\r\n@b>"));

	mime_message_id(m, sizeof(m), "u1", 42, NULL, false, "bot@example.org");
	CHECK(strcmp(m, "<u1.promise-42@example.org>") == 0);
	mime_message_id(m, sizeof(m), "u1", 42, "<root@threads.example>", true,
	    "bot@example.org");
	CHECK(strcmp(m, "<root@threads.example>") == 0);
	mime_message_id(m, sizeof(m), "u1", 42, "<root@threads.example>", false,
	    "bot@example.org");
	CHECK(strcmp(m, "<u1.promise-42@threads.example>") == 0);
	/* a from whose domain cannot be in a msg-id */
	mime_message_id(m, sizeof(m), "u1", 7, NULL, false, "bot@exa mple");
	CHECK(strcmp(m, "<u1.promise-7@promised.invalid>") == 0);
	mime_message_id(m, sizeof(m), "u1", 7, NULL, false, "nobody");
	CHECK(strcmp(m, "<u1.promise-7@promised.invalid>") == 0);
}

/* b64 (CRLF lines) decoded with OpenSSL, into out; the length, or -1 */
static int
b64_decode(const char *b64, unsigned char *out)
{
	char joined[4096];
	size_t n = 0;
	int len, pad = 0;

	for (; *b64 != '\0' && n < sizeof(joined) - 1; b64++)
		if (*b64 != '\r' && *b64 != '\n')
			joined[n++] = *b64;
	joined[n] = '\0';
	if (n == 0)
		return 0;
	pad = (joined[n - 1] == '=') + (n > 1 && joined[n - 2] == '=');
	len = EVP_DecodeBlock(out, (const unsigned char *)joined, (int)n);
	return len < 0 ? -1 : len - pad;
}

/* known vectors (RFC 4648), then random data back through OpenSSL, in
 * CRLF lines of 76 but the last */
static void
test_base64(void)
{
	static const char *const vec[][2] = {{"", ""}, {"f", "Zg==\r\n"},
	    {"fo", "Zm8=\r\n"}, {"foo", "Zm9v\r\n"},
	    {"foobar", "Zm9vYmFy\r\n"}};
	unsigned char data[1500], back[1500];
	struct jsonw b = {0};
	const char *p, *eol;
	size_t i, n, k;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		b.len = 0;
		mime_base64(&b, vec[i][0], strlen(vec[i][0]));
		jw_put(&b, "", 0);
		CHECK(!b.oom && strcmp(b.s, vec[i][1]) == 0);
	}
	for (k = 0; k < 200; k++) {
		n = rnd_below(sizeof(data));
		for (i = 0; i < n; i++)
			data[i] = (unsigned char)rnd();
		b.len = 0;
		mime_base64(&b, data, n);
		jw_put(&b, "", 0);
		REQUIRE(!b.oom);
		for (p = b.s; *p != '\0'; p = eol + 2) {
			REQUIRE((eol = strstr(p, "\r\n")) != NULL);
			CHECK(eol - p == 76 || eol[2] == '\0');
			CHECK(eol - p <= 76);
		}
		CHECK(b64_decode(b.s, back) == (int)n &&
		    memcmp(back, data, n) == 0);
	}
out:
	free(b.s);
}

int
main(int argc, char **argv)
{
	uint64_t seed;

	if (rnd_seed(argc, argv, "test_mime", UINT64_C(0x6d696d65)) != 0)
		return 2;
	seed = rnd_state;
	test_headers();
	test_qp();
	test_date();
	test_msgid();
	test_base64();
	if (nfailed != 0) {
		printf("test_mime: %d of %d checks failed (seed %#" PRIx64
		       ")\n",
		    nfailed, nchecks, seed);
		return 1;
	}
	printf("test_mime: ok, %d checks\n", nchecks);
	return 0;
}
