/* SPDX-License-Identifier: MIT */
/*
 * test_proto.c: unit test for the control protocol's framing and decoding
 * (common/proto.c) and the text checks the daemon applies to what it
 * decodes (util_text_ok, util_login_ok in common/util.c).
 *
 * linebuf is fed one multi-line stream in every chunking from single bytes
 * to all at once and must hand back exactly the original lines, each as soon
 * as its newline has arrived; the length limit is probed at PROTO_MAX_LINE
 * and one past it.  Requests, field accessors and replies are table-driven
 * around what the daemon relies on: a bad line yields PROTO_INVALID and a
 * one-line message naming the field, which can itself be sent back, and a
 * reply is exactly one line that decodes to what was built.
 *
 * Usage: test_proto [seed]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto.h"
#include "rnd.h"
#include "util.h"

static char tcase[200];

static void setcase(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
setcase(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tcase, sizeof(tcase), fmt, ap);
	va_end(ap);
}

static bool
has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/* -------- linebuf: chunking -------- */

/* small limit so lines at the limit are cheap to feed byte by byte */
#define LB_MAX 4096
#define NLINES 400

struct line {
	char *s;
	size_t len;
};

static struct line lines[NLINES];
static char *stream;
static size_t stream_len;

/*
 * random lines (any byte but newline, NULs and inner CRs included), some
 * empty and some exactly LB_MAX long, ended by LF or CRLF, then an
 * unterminated tail that must never come out
 */
static int
make_stream(void)
{
	static const char tail[] = "tail without newline";
	size_t i, j, len, cap = 0;
	unsigned r;
	bool crlf;

	for (i = 0; i < NLINES; i++) {
		r = (unsigned)(rnd() % 20);
		len = r < 2  ? 0
		    : r == 2 ? LB_MAX
		    : r == 3 ? LB_MAX - 1
		    : r < 6  ? rnd_below(LB_MAX)
		             : rnd_below(100);
		lines[i].s = malloc(len + 1);
		if (lines[i].s == NULL)
			return -1;
		lines[i].len = len;
		for (j = 0; j < len; j++) {
			lines[i].s[j] = (char)(rnd() & 0xff);
			if (lines[i].s[j] == '\n')
				lines[i].s[j] = 'n';
		}
		if (len > 2 && r % 7 == 0)
			lines[i].s[len / 2] = '\r';
		/* a trailing CR would be stripped, so it cannot round-trip */
		if (len > 0 && lines[i].s[len - 1] == '\r')
			lines[i].s[len - 1] = 'r';
		cap += len + 2;
	}
	stream = malloc(cap + sizeof(tail));
	if (stream == NULL)
		return -1;
	stream_len = 0;
	for (i = 0; i < NLINES; i++) {
		memcpy(stream + stream_len, lines[i].s, lines[i].len);
		stream_len += lines[i].len;
		/* CR counts against the limit, so not on a full-length line */
		crlf = lines[i].len < LB_MAX && rnd() % 4 == 0;
		if (crlf)
			stream[stream_len++] = '\r';
		stream[stream_len++] = '\n';
	}
	memcpy(stream + stream_len, tail, sizeof(tail) - 1);
	stream_len += sizeof(tail) - 1;
	return 0;
}

static void
free_stream(void)
{
	size_t i;

	for (i = 0; i < NLINES; i++)
		free(lines[i].s);
	free(stream);
}

/*
 * feeds the stream in chunks of 1..maxchunk bytes (0: all at once); if lazy,
 * lines are only sometimes taken out, so several pile up and get compacted
 */
static void
feed(size_t maxchunk, bool lazy)
{
	struct linebuf lb;
	size_t pos = 0, n, len, got = 0, newlines = 0, i;
	char *l;

	linebuf_init(&lb, LB_MAX);
	while (pos < stream_len) {
		n = maxchunk == 0 ? stream_len : 1 + rnd_below(maxchunk);
		if (n > stream_len - pos)
			n = stream_len - pos;
		REQUIRE(linebuf_append(&lb, stream + pos, n) == 0);
		for (i = 0; i < n; i++)
			if (stream[pos + i] == '\n')
				newlines++;
		pos += n;
		if (lazy && rnd() % 3 != 0 && pos < stream_len)
			continue;
		while ((l = linebuf_next(&lb, &len)) != NULL) {
			REQUIRE(got < NLINES);
			REQUIRE(len == lines[got].len);
			REQUIRE(memcmp(l, lines[got].s, len) == 0);
			REQUIRE(l[len] == '\0');
			got++;
		}
		/* every completed line is out, and none before its newline */
		REQUIRE(got == newlines);
	}
	REQUIRE(got == NLINES);
	REQUIRE(linebuf_next(&lb, &len) == NULL);
out:
	linebuf_free(&lb);
}

static void
test_linebuf_chunks(void)
{
	static const struct {
		const char *name;
		size_t maxchunk;
		bool lazy;
	} modes[] = {
	    {"byte by byte", 1, false},
	    {"chunks of 1-7", 7, false},
	    {"chunks of 1-7, lazy", 7, true},
	    {"chunks of 1-300", 300, false},
	    {"chunks of 1-300, lazy", 300, true},
	    {"chunks up to 3 * max", 3 * LB_MAX, false},
	    {"chunks up to 3 * max, lazy", 3 * LB_MAX, true},
	    {"all at once", 0, false},
	};
	size_t i;

	setcase("linebuf: building the stream");
	if (make_stream() < 0) {
		fprintf(stderr, "test_proto.c: out of memory\n");
		nfailed++;
		free_stream();
		return;
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		setcase("linebuf: %s", modes[i].name);
		feed(modes[i].maxchunk, modes[i].lazy);
	}
	free_stream();
}

/* -------- linebuf: small directed cases -------- */

static void
test_linebuf_crlf(void)
{
	static const char in[] = "a\r\n\r\n\n\r\r\nb\rc\r\nd\r\r\ne";
	static const char *const want[] = {"a", "", "", "\r", "b\rc", "d\r"};
	struct linebuf lb;
	size_t i, len;
	char *l;

	setcase("linebuf: CRLF and empty lines");
	linebuf_init(&lb, 16);
	REQUIRE(linebuf_next(&lb, &len) == NULL);
	REQUIRE(linebuf_append(&lb, in, sizeof(in) - 1) == 0);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		l = linebuf_next(&lb, &len);
		REQUIRE(l != NULL);
		REQUIRE(len == strlen(want[i]));
		REQUIRE(strcmp(l, want[i]) == 0);
	}
	/* "e" has no newline yet */
	REQUIRE(linebuf_next(&lb, &len) == NULL);
	REQUIRE(linebuf_append(&lb, "\r", 1) == 0);
	REQUIRE(linebuf_next(&lb, &len) == NULL);
	REQUIRE(linebuf_append(&lb, "\n", 1) == 0);
	l = linebuf_next(&lb, &len);
	REQUIRE(l != NULL && len == 1 && strcmp(l, "e") == 0);
	REQUIRE(linebuf_next(&lb, &len) == NULL);
out:
	linebuf_free(&lb);
}

/* -------- linebuf: the length limit -------- */

#define MAXL PROTO_MAX_LINE

static char *big; /* MAXL + 64 bytes of 'a' */

static struct linebuf *
fresh(struct linebuf *lb)
{
	linebuf_free(lb);
	linebuf_init(lb, MAXL);
	return lb;
}

/* the next line must be `want` (NUL-terminated, no embedded NULs) */
static bool
next_is(struct linebuf *lb, const char *want)
{
	size_t len;
	char *l = linebuf_next(lb, &len);

	return l != NULL && len == strlen(want) && strcmp(l, want) == 0;
}

/* the next line must be n bytes of 'a' */
static bool
next_is_big(struct linebuf *lb, size_t n)
{
	size_t len;
	char *l = linebuf_next(lb, &len);

	return l != NULL && len == n && memcmp(l, big, n) == 0 && l[n] == '\0';
}

/* appends pre, then n bytes of 'a', then post */
static int
append3(struct linebuf *lb, const char *pre, size_t n, const char *post)
{
	char *buf;
	size_t lp = strlen(pre), lq = strlen(post);
	int r;

	buf = malloc(lp + n + lq);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, pre, lp);
	memcpy(buf + lp, big, n);
	memcpy(buf + lp + n, post, lq);
	r = linebuf_append(lb, buf, lp + n + lq);
	free(buf);
	return r;
}

static void
test_linebuf_limit(void)
{
	struct linebuf lb;
	size_t i, len;
	char *l;

	linebuf_init(&lb, MAXL);
	big = malloc(MAXL + 64);
	setcase("linebuf: allocating");
	REQUIRE(big != NULL);
	memset(big, 'a', MAXL + 64);

	setcase("linebuf: exactly PROTO_MAX_LINE, one append");
	REQUIRE(append3(fresh(&lb), "", MAXL, "\n") == 0);
	REQUIRE(next_is_big(&lb, MAXL));
	REQUIRE(linebuf_next(&lb, &len) == NULL);

	setcase("linebuf: exactly PROTO_MAX_LINE, newline later");
	REQUIRE(append3(fresh(&lb), "", MAXL, "") == 0);
	REQUIRE(linebuf_next(&lb, &len) == NULL);
	REQUIRE(linebuf_append(&lb, "\n", 1) == 0);
	REQUIRE(next_is_big(&lb, MAXL));

	setcase("linebuf: exactly PROTO_MAX_LINE, 1000-byte chunks");
	fresh(&lb);
	for (i = 0; i < MAXL; i += 1000)
		REQUIRE(linebuf_append(
		            &lb, big, MAXL - i < 1000 ? MAXL - i : 1000) == 0);
	REQUIRE(linebuf_append(&lb, "\nx", 2) == 0);
	REQUIRE(next_is_big(&lb, MAXL));

	setcase("linebuf: PROTO_MAX_LINE + 1, complete");
	REQUIRE(append3(fresh(&lb), "", MAXL + 1, "\n") == -E2BIG);

	setcase("linebuf: PROTO_MAX_LINE + 1, unterminated");
	REQUIRE(append3(fresh(&lb), "", MAXL + 1, "") == -E2BIG);

	setcase("linebuf: PROTO_MAX_LINE + 1, one byte at a time at the end");
	REQUIRE(append3(fresh(&lb), "", MAXL, "") == 0);
	REQUIRE(linebuf_append(&lb, "a", 1) == -E2BIG);

	setcase("linebuf: PROTO_MAX_LINE + 1, completed later");
	REQUIRE(append3(fresh(&lb), "", MAXL, "") == 0);
	REQUIRE(linebuf_append(&lb, "a\n", 2) == -E2BIG);

	/* the limit must count from the start of the line, not the buffer */
	setcase("linebuf: limit after consumed lines");
	REQUIRE(append3(fresh(&lb), "x\nyy", 0, "") == 0);
	REQUIRE(next_is(&lb, "x"));
	REQUIRE(append3(&lb, "", MAXL - 2, "\nzz") == 0);
	l = linebuf_next(&lb, &len);
	REQUIRE(l != NULL && len == MAXL && memcmp(l, "yy", 2) == 0);
	REQUIRE(append3(&lb, "", MAXL - 2, "") == 0);
	REQUIRE(linebuf_append(&lb, "z", 1) == -E2BIG);

	/*
	 * the daemon answers the lines that came before an overlong one
	 * (ctl.c drains linebuf_next after a failed append), so they must
	 * still be there whichever append the overlong line arrived in
	 */
	setcase("linebuf: lines before an overlong one, earlier append");
	REQUIRE(linebuf_append(fresh(&lb), "one\n\ntwo\r\n", 10) == 0);
	REQUIRE(append3(&lb, "", MAXL + 1, "\n") == -E2BIG);
	REQUIRE(next_is(&lb, "one"));
	REQUIRE(next_is(&lb, ""));
	REQUIRE(next_is(&lb, "two"));
	l = linebuf_next(&lb, &len);
	REQUIRE(l == NULL || len <= MAXL);

	setcase("linebuf: lines before an overlong unterminated one, same "
	        "append");
	REQUIRE(append3(fresh(&lb), "one\n\ntwo\r\n", MAXL + 1, "") == -E2BIG);
	REQUIRE(next_is(&lb, "one"));
	REQUIRE(next_is(&lb, ""));
	REQUIRE(next_is(&lb, "two"));
	REQUIRE(linebuf_next(&lb, &len) == NULL);

	setcase("linebuf: lines before an overlong complete one, same append");
	REQUIRE(append3(fresh(&lb), "one\n\ntwo\r\n", MAXL + 1, "\nlater\n") ==
	    -E2BIG);
	REQUIRE(next_is(&lb, "one"));
	REQUIRE(next_is(&lb, ""));
	REQUIRE(next_is(&lb, "two"));
	l = linebuf_next(&lb, &len);
	REQUIRE(l == NULL || len <= MAXL);
out:
	linebuf_free(&lb);
	free(big);
}

/* -------- proto_parse_request -------- */

struct req_case {
	const char *name;
	const char *line;
	enum proto_err want;
	const char *op;  /* expected op when PROTO_OK */
	const char *msg; /* substring of the message, or NULL for any */
};

static const struct req_case req_cases[] = {
    {"minimal", "{\"v\":1,\"op\":\"status\"}", PROTO_OK, "status", NULL},
    {"op first, spaces", "  { \"op\" : \"get\" , \"v\" : 1 }  ", PROTO_OK,
        "get", NULL},
    {"other fields",
        "{\"v\":1,\"op\":\"add\",\"title\":\"M\xc3\xbcller "
        "\xe6\x97\xa5\xe6\x9c\xac\",\"due_at\":1764259200,"
        "\"tag\":[1,{\"x\":null}]}",
        PROTO_OK, "add", NULL},
    /* unknown ops are the dispatcher's business, not the decoder's */
    {"unknown op", "{\"v\":1,\"op\":\"frobnicate\"}", PROTO_OK, "frobnicate",
        NULL},
    /* jansson joins a correct surrogate pair into one code point */
    {"escaped surrogate pair", "{\"v\":1,\"op\":\"\\ud83d\\ude00\"}", PROTO_OK,
        "\xf0\x9f\x98\x80", NULL},

    {"empty line", "", PROTO_INVALID, NULL, "malformed JSON"},
    {"truncated string", "{\"v\":1,\"op\":\"sta", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"truncated after colon", "{\"v\":1,\"op\":", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"missing brace", "{\"v\":1,\"op\":\"status\"", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"two objects", "{\"v\":1,\"op\":\"a\"}{\"v\":1,\"op\":\"b\"}",
        PROTO_INVALID, NULL, "malformed JSON"},
    {"trailing garbage", "{\"v\":1,\"op\":\"status\"} x", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"array", "[1,2]", PROTO_INVALID, NULL, "not a JSON object"},
    {"array holding a request", "[{\"v\":1,\"op\":\"status\"}]", PROTO_INVALID,
        NULL, "not a JSON object"},
    {"number", "5", PROTO_INVALID, NULL, NULL},
    {"string", "\"status\"", PROTO_INVALID, NULL, NULL},
    {"null", "null", PROTO_INVALID, NULL, NULL},

    {"missing v", "{\"op\":\"status\"}", PROTO_INVALID, NULL, "field 'v'"},
    {"v 2", "{\"v\":2,\"op\":\"status\"}", PROTO_INVALID, NULL, "field 'v'"},
    {"v 0", "{\"v\":0,\"op\":\"status\"}", PROTO_INVALID, NULL, "field 'v'"},
    {"v -1", "{\"v\":-1,\"op\":\"status\"}", PROTO_INVALID, NULL, "field 'v'"},
    {"v \"1\"", "{\"v\":\"1\",\"op\":\"status\"}", PROTO_INVALID, NULL,
        "field 'v'"},
    {"v 1.0", "{\"v\":1.0,\"op\":\"status\"}", PROTO_INVALID, NULL,
        "field 'v'"},
    {"v true", "{\"v\":true,\"op\":\"status\"}", PROTO_INVALID, NULL,
        "field 'v'"},
    {"v null", "{\"v\":null,\"op\":\"status\"}", PROTO_INVALID, NULL,
        "field 'v'"},
    {"v [1]", "{\"v\":[1],\"op\":\"status\"}", PROTO_INVALID, NULL,
        "field 'v'"},
    {"v 2^64 + 1", "{\"v\":18446744073709551617,\"op\":\"status\"}",
        PROTO_INVALID, NULL, NULL},

    {"missing op", "{\"v\":1}", PROTO_INVALID, NULL, "field 'op'"},
    {"op number", "{\"v\":1,\"op\":5}", PROTO_INVALID, NULL, "field 'op'"},
    {"op null", "{\"v\":1,\"op\":null}", PROTO_INVALID, NULL, "field 'op'"},
    {"op true", "{\"v\":1,\"op\":true}", PROTO_INVALID, NULL, "field 'op'"},
    {"op array", "{\"v\":1,\"op\":[\"add\"]}", PROTO_INVALID, NULL,
        "field 'op'"},
    {"op object", "{\"v\":1,\"op\":{}}", PROTO_INVALID, NULL, "field 'op'"},

    /* bytes the daemon must never pass on as text */
    {"raw 0xff", "{\"v\":1,\"op\":\"st\xff\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"raw overlong /", "{\"v\":1,\"op\":\"\xc0\xaf\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"raw overlong NUL", "{\"v\":1,\"op\":\"a\xc0\x80\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"raw surrogate", "{\"v\":1,\"op\":\"\xed\xa0\x80\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"raw above U+10FFFF", "{\"v\":1,\"op\":\"\xf4\x90\x80\x80\"}",
        PROTO_INVALID, NULL, "malformed JSON"},
    {"raw truncated sequence", "{\"v\":1,\"op\":\"\xe6\x97\"}", PROTO_INVALID,
        NULL, "malformed JSON"},
    {"raw 0xff in a key", "{\"v\":1,\"op\":\"a\",\"\xff\":1}", PROTO_INVALID,
        NULL, "malformed JSON"},
    {"raw 0xff outside strings", "{\"v\":1,\"op\":\"a\"} \xff", PROTO_INVALID,
        NULL, "malformed JSON"},
    {"raw control character", "{\"v\":1,\"op\":\"a\x01\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"lone high surrogate escape", "{\"v\":1,\"op\":\"\\ud800\"}",
        PROTO_INVALID, NULL, "malformed JSON"},
    {"lone low surrogate escape", "{\"v\":1,\"op\":\"\\udc00\"}", PROTO_INVALID,
        NULL, "malformed JSON"},
    {"reversed surrogate pair", "{\"v\":1,\"op\":\"\\ude00\\ud83d\"}",
        PROTO_INVALID, NULL, "malformed JSON"},
    {"high surrogate then letter", "{\"v\":1,\"op\":\"\\ud800\\u0041\"}",
        PROTO_INVALID, NULL, "malformed JSON"},
    {"\\u0000 in op", "{\"v\":1,\"op\":\"a\\u0000b\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"\\u0000 in another field",
        "{\"v\":1,\"op\":\"add\",\"title\":\"\\u0000\"}", PROTO_INVALID, NULL,
        "malformed JSON"},
    {"\\u0000 in a key", "{\"v\":1,\"op\":\"add\",\"\\u0000\":1}",
        PROTO_INVALID, NULL, "malformed JSON"},

    /* otherwise which of two values counts is up to the parser */
    {"duplicate op", "{\"v\":1,\"op\":\"get\",\"op\":\"cancel\"}",
        PROTO_INVALID, NULL, "duplicate"},
    {"duplicate v", "{\"v\":1,\"v\":1,\"op\":\"status\"}", PROTO_INVALID, NULL,
        "duplicate"},
    {"duplicate spelled with an escape",
        "{\"v\":1,\"op\":\"get\",\"o\\u0070\":\"cancel\"}", PROTO_INVALID, NULL,
        "duplicate"},
    {"duplicate in a nested object",
        "{\"v\":1,\"op\":\"add\",\"tag\":{\"k\":1,\"k\":2}}", PROTO_INVALID,
        NULL, "duplicate"},
};

/*
 * the message for a rejected line goes back to the client: it must be one
 * line and survive being built into an error reply
 */
static bool
replyable(const char *msg)
{
	json_t *e = proto_error(PROTO_INVALID, msg);
	char *line;
	size_t len;
	bool ok;

	if (e == NULL)
		return false;
	line = proto_dump(e, &len);
	json_decref(e);
	ok = line != NULL && memchr(line, '\n', len) == line + len - 1;
	free(line);
	return ok;
}

/* one parse: rc and outputs against the case */
static void
check_parse(const char *name, const char *line, size_t len, enum proto_err want,
    const char *wop, const char *msg)
{
	json_t *req = (json_t *)&req; /* a sentinel that must be cleared */
	json_t *own = NULL;
	const char *op = NULL;
	char err[512];
	enum proto_err rc;

	setcase("parse: %s", name);
	memset(err, 0, sizeof(err));
	rc = proto_parse_request(line, len, &req, &op, err, sizeof(err));
	if (rc == PROTO_OK)
		own = req;
	REQUIRE(rc == want);
	if (want == PROTO_OK) {
		REQUIRE(req != NULL && json_is_object(req));
		REQUIRE(op != NULL && strcmp(op, wop) == 0);
		REQUIRE(op == json_string_value(json_object_get(req, "op")));
	} else {
		REQUIRE(req == NULL);
		REQUIRE(err[0] != '\0');
		REQUIRE(strchr(err, '\n') == NULL);
		if (msg != NULL && !has(err, msg)) {
			fprintf(stderr, "  message: %s\n", err);
			REQUIRE(has(err, msg));
		}
		REQUIRE(replyable(err));
	}
out:
	json_decref(own);
}

static void
test_parse(void)
{
	/* an object of exactly n bytes: {"v":1,"op":"add","title":"aaa"} */
	static const char head[] = "{\"v\":1,\"op\":\"add\",\"title\":\"";
	static const char nul_inside[] = "{\"v\":1,\"op\":\"a\0b\"}";
	static const char nul_after[] = "{\"v\":1,\"op\":\"a\"}\0";
	static const char longer[] = "{\"v\":1,\"op\":\"get\"}{\"junk";
	size_t i, hl = sizeof(head) - 1, len = MAXL + 1;
	char *line;

	for (i = 0; i < ARRAY_SIZE(req_cases); i++)
		check_parse(req_cases[i].name, req_cases[i].line,
		    strlen(req_cases[i].line), req_cases[i].want,
		    req_cases[i].op, req_cases[i].msg);

	/* raw NULs are only visible because the length is passed */
	check_parse("raw NUL inside a string", nul_inside,
	    sizeof(nul_inside) - 1, PROTO_INVALID, NULL, "malformed JSON");
	check_parse("raw NUL after the object", nul_after,
	    sizeof(nul_after) - 1, PROTO_INVALID, NULL, "malformed JSON");
	/* the length, not a NUL, ends the line */
	check_parse("length shorter than the buffer", longer, 18, PROTO_OK,
	    "get", NULL);
	check_parse("length cutting the object", longer, 17, PROTO_INVALID,
	    NULL, "malformed JSON");

	setcase("parse: allocating");
	line = malloc(len);
	REQUIRE(line != NULL);
	memcpy(line, head, hl);
	memset(line + hl, 'a', len - hl);
	memcpy(line + MAXL - 2, "\"}", 2);
	check_parse(
	    "exactly PROTO_MAX_LINE", line, MAXL, PROTO_OK, "add", NULL);
	memcpy(line + MAXL - 2, "a\"}", 3);
	check_parse("PROTO_MAX_LINE + 1", line, MAXL + 1, PROTO_INVALID, NULL,
	    "longer than");
out:
	free(line);
}

/* -------- field accessors -------- */

static const char fields_json[] =
    "{\"s\":\"abc\",\"e\":\"\",\"u\":\"\xe6\x97\xa5\xe6\x9c\xac\","
    "\"nul\":\"a\\u0000b\",\"nul0\":\"\\u0000\",\"n\":5,\"neg\":-7,"
    "\"max\":9223372036854775807,\"min\":-9223372036854775808,\"f\":1.5,"
    "\"f1\":1.0,\"t\":true,\"fa\":false,\"z\":null,\"a\":[1],\"o\":{},"
    "\"ns\":\"5\",\"bs\":\"true\"}";

struct str_case {
	const char *field;
	bool required;
	size_t maxlen;
	enum proto_err want;
	const char *val; /* expected value; NULL: *ret left alone */
	const char *msg; /* expected message after "field '<field>': " */
};

static const struct str_case str_cases[] = {
    {"s", true, 10, PROTO_OK, "abc", NULL},
    {"s", false, 10, PROTO_OK, "abc", NULL},
    {"s", true, 3, PROTO_OK, "abc", NULL},
    {"s", true, 2, PROTO_INVALID, NULL, "longer than 2 bytes"},
    /* the limit is in bytes: two characters, six bytes */
    {"u", true, 6, PROTO_OK, "\xe6\x97\xa5\xe6\x9c\xac", NULL},
    {"u", true, 5, PROTO_INVALID, NULL, "longer than 5 bytes"},
    {"e", true, 0, PROTO_OK, "", NULL},
    {"missing", true, 10, PROTO_INVALID, NULL, "missing"},
    {"missing", false, 10, PROTO_OK, NULL, NULL},
    {"z", true, 10, PROTO_INVALID, NULL, "missing"},
    {"z", false, 10, PROTO_OK, NULL, NULL},
    {"n", true, 10, PROTO_INVALID, NULL, "must be a string"},
    {"n", false, 10, PROTO_INVALID, NULL, "must be a string"},
    {"t", true, 10, PROTO_INVALID, NULL, "must be a string"},
    {"f", true, 10, PROTO_INVALID, NULL, "must be a string"},
    {"a", true, 10, PROTO_INVALID, NULL, "must be a string"},
    {"o", true, 10, PROTO_INVALID, NULL, "must be a string"},
    /* a C string would silently end at the NUL */
    {"nul", true, 100, PROTO_INVALID, NULL, "contains a NUL"},
    {"nul", false, 100, PROTO_INVALID, NULL, "contains a NUL"},
    {"nul0", true, 100, PROTO_INVALID, NULL, "contains a NUL"},
    {"bin", true, 100, PROTO_INVALID, NULL, "contains a NUL"},
};

struct int_case {
	const char *field;
	bool required;
	enum proto_err want;
	bool set;
	int64_t val;
	const char *msg;
};

static const struct int_case int_cases[] = {
    {"n", true, PROTO_OK, true, 5, NULL},
    {"n", false, PROTO_OK, true, 5, NULL},
    {"neg", true, PROTO_OK, true, -7, NULL},
    {"max", true, PROTO_OK, true, INT64_MAX, NULL},
    {"min", true, PROTO_OK, true, INT64_MIN, NULL},
    {"missing", true, PROTO_INVALID, false, 0, "missing"},
    {"missing", false, PROTO_OK, false, 0, NULL},
    {"z", true, PROTO_INVALID, false, 0, "missing"},
    {"z", false, PROTO_OK, false, 0, NULL},
    {"f", true, PROTO_INVALID, false, 0, "must be an integer"},
    {"f1", true, PROTO_INVALID, false, 0, "must be an integer"},
    {"ns", true, PROTO_INVALID, false, 0, "must be an integer"},
    {"t", false, PROTO_INVALID, false, 0, "must be an integer"},
    {"a", true, PROTO_INVALID, false, 0, "must be an integer"},
    {"o", true, PROTO_INVALID, false, 0, "must be an integer"},
};

struct bool_case {
	const char *field;
	enum proto_err want;
	bool set;
	bool val;
	const char *msg;
};

static const struct bool_case bool_cases[] = {
    {"t", PROTO_OK, true, true, NULL},
    {"fa", PROTO_OK, true, false, NULL},
    {"missing", PROTO_OK, false, false, NULL},
    {"z", PROTO_OK, false, false, NULL},
    {"n", PROTO_INVALID, false, false, "must be true or false"},
    {"bs", PROTO_INVALID, false, false, "must be true or false"},
    {"a", PROTO_INVALID, false, false, "must be true or false"},
    {"s", PROTO_INVALID, false, false, "must be true or false"},
};

/* err must be "field '<field>': " followed by something containing msg */
static bool
names_field(const char *err, const char *field, const char *msg)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "field '%s': ", field);
	if (strncmp(err, prefix, strlen(prefix)) == 0 &&
	    has(err + strlen(prefix), msg))
		return true;
	fprintf(stderr, "  message: %s\n", err);
	return false;
}

static void
test_fields(void)
{
	static const char sentinel[] = "untouched";
	json_error_t jerr;
	json_t *obj;
	const char *s;
	char err[256];
	int64_t iv;
	bool bv, start;
	size_t i;

	/* JSON_ALLOW_NUL only to get NULs in; requests never carry them */
	setcase("fields: building the object");
	obj = json_loads(fields_json, JSON_ALLOW_NUL, &jerr);
	REQUIRE(obj != NULL);
	REQUIRE(json_object_set_new(obj, "bin", json_stringn("ab\0", 3)) == 0);

	for (i = 0; i < ARRAY_SIZE(str_cases); i++) {
		const struct str_case *c = &str_cases[i];

		setcase("proto_get_str(\"%s\", %s, %zu)", c->field,
		    c->required ? "required" : "optional", c->maxlen);
		s = sentinel;
		err[0] = '\0';
		REQUIRE(proto_get_str(obj, c->field, c->required, c->maxlen, &s,
		            err, sizeof(err)) == c->want);
		if (c->val != NULL)
			REQUIRE(s != sentinel && strcmp(s, c->val) == 0);
		else
			REQUIRE(s == sentinel);
		if (c->want != PROTO_OK)
			REQUIRE(names_field(err, c->field, c->msg));
	}

	for (i = 0; i < ARRAY_SIZE(int_cases); i++) {
		const struct int_case *c = &int_cases[i];

		setcase("proto_get_int(\"%s\", %s)", c->field,
		    c->required ? "required" : "optional");
		iv = 12345;
		err[0] = '\0';
		REQUIRE(proto_get_int(obj, c->field, c->required, &iv, err,
		            sizeof(err)) == c->want);
		REQUIRE(iv == (c->set ? c->val : 12345));
		if (c->want != PROTO_OK)
			REQUIRE(names_field(err, c->field, c->msg));
	}

	for (i = 0; i < ARRAY_SIZE(bool_cases); i++) {
		const struct bool_case *c = &bool_cases[i];

		/* from both starting values, so "untouched" is visible */
		for (start = false;; start = true) {
			setcase("proto_get_bool(\"%s\"), starting %s", c->field,
			    start ? "true" : "false");
			bv = start;
			err[0] = '\0';
			REQUIRE(proto_get_bool(obj, c->field, &bv, err,
			            sizeof(err)) == c->want);
			REQUIRE(bv == (c->set ? c->val : start));
			if (c->want != PROTO_OK)
				REQUIRE(names_field(err, c->field, c->msg));
			if (start)
				break;
		}
	}
out:
	json_decref(obj);
}

/* -------- replies -------- */

static void
test_err_code(void)
{
	static const struct {
		enum proto_err e;
		const char *code;
	} codes[] = {
	    {PROTO_OK, "ok"},
	    {PROTO_INVALID, "invalid"},
	    {PROTO_NOT_FOUND, "not_found"},
	    {PROTO_FORBIDDEN, "forbidden"},
	    {PROTO_CONFLICT, "conflict"},
	    {PROTO_UNAVAILABLE, "unavailable"},
	    {PROTO_INTERNAL, "internal"},
	    /* a stray value must still map to a code clients know */
	    {PROTO_ERR_MAX, "internal"},
	    {(enum proto_err)(PROTO_ERR_MAX + 1), "internal"},
	    {(enum proto_err)1000, "internal"},
	    {(enum proto_err) - 1, "internal"},
	};
	const char *got;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		setcase("proto_err_code(%u)", (unsigned)codes[i].e);
		got = proto_err_code(codes[i].e);
		REQUIRE(got != NULL && strcmp(got, codes[i].code) == 0);
	}
out:;
}

/* one reply line: exactly one '\n', at the end, and only ASCII before it */
static bool
one_line(const char *line, size_t len)
{
	size_t i;

	if (len == 0 || strlen(line) != len || line[len - 1] != '\n')
		return false;
	for (i = 0; i + 1 < len; i++)
		if (line[i] == '\n' || line[i] == '\r' ||
		    (unsigned char)line[i] >= 0x80)
			return false;
	return true;
}

static void
test_replies(void)
{
	static const char *const msgs[] = {
	    "no promise 42",
	    "",
	    "two\nlines",
	    "\n",
	    "\r\n\r\n",
	    "tab\there \"quoted\" back\\slash /",
	    "ctl \x01\x1f\x7f",
	    "M\xc3\xbcller \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	    /* U+2028 ends a line for some JavaScript readers */
	    "line\xe2\x80\xa8separator",
	};
	json_t *msg = NULL, *back = NULL, *err;
	char *line = NULL, *all = NULL;
	size_t len, alllen = 0, i, n;
	json_error_t jerr;
	struct linebuf lb;
	unsigned e;
	char *l;

	linebuf_init(&lb, MAXL);
	setcase("proto_ok");
	msg = proto_ok();
	REQUIRE(msg != NULL);
	line = proto_dump(msg, &len);
	REQUIRE(line != NULL);
	REQUIRE(len == 12 && strcmp(line, "{\"ok\":true}\n") == 0);
	json_decref(msg);
	msg = NULL;
	free(line);
	line = NULL;

	for (e = 0; e <= PROTO_ERR_MAX; e++) {
		for (i = 0; i < ARRAY_SIZE(msgs); i++) {
			setcase("proto_error(%u, msgs[%zu])", e, i);
			msg = proto_error((enum proto_err)e, msgs[i]);
			REQUIRE(msg != NULL);
			line = proto_dump(msg, &len);
			REQUIRE(line != NULL);
			REQUIRE(one_line(line, len));
			back = json_loadb(
			    line, len, JSON_REJECT_DUPLICATES, &jerr);
			REQUIRE(back != NULL);
			REQUIRE(json_object_size(back) == 2);
			REQUIRE(json_is_false(json_object_get(back, "ok")));
			err = json_object_get(back, "error");
			REQUIRE(
			    json_is_object(err) && json_object_size(err) == 2);
			REQUIRE(json_is_string(json_object_get(err, "code")));
			REQUIRE(strcmp(json_string_value(
			                   json_object_get(err, "code")),
			            proto_err_code((enum proto_err)e)) == 0);
			REQUIRE(
			    json_is_string(json_object_get(err, "message")));
			REQUIRE(json_string_length(json_object_get(
			            err, "message")) == strlen(msgs[i]));
			REQUIRE(strcmp(json_string_value(
			                   json_object_get(err, "message")),
			            msgs[i]) == 0);
			/* back to back on the wire, each is its own line */
			l = realloc(all, alllen + len);
			REQUIRE(l != NULL);
			all = l;
			memcpy(all + alllen, line, len);
			alllen += len;
			REQUIRE(linebuf_append(&lb, line, len) == 0);
			l = linebuf_next(&lb, &n);
			REQUIRE(l != NULL && n == len - 1 &&
			    memcmp(l, line, n) == 0);
			REQUIRE(linebuf_next(&lb, &n) == NULL);
			json_decref(msg);
			json_decref(back);
			msg = back = NULL;
			free(line);
			line = NULL;
		}
	}
	setcase("replies concatenated");
	REQUIRE(linebuf_append(&lb, all, alllen) == 0);
	for (i = 0; (l = linebuf_next(&lb, &n)) != NULL; i++)
		REQUIRE(n > 0 && l[0] == '{' && l[n - 1] == '}');
	REQUIRE(i == (PROTO_ERR_MAX + 1) * ARRAY_SIZE(msgs));
out:
	json_decref(msg);
	json_decref(back);
	free(line);
	free(all);
	linebuf_free(&lb);
}

/* -------- util_text_ok, util_login_ok -------- */

struct text_case {
	const char *name;
	const char *s;
	bool ok;    /* allow_newline false */
	bool ok_nl; /* allow_newline true */
};

static const struct text_case text_cases[] = {
    {"empty", "", true, true},
    {"ASCII", "Send Acme the demo invite", true, true},
    {"tab", "a\tb", true, true},
    {"newline", "a\nb", false, true},
    {"trailing newline", "a\n", false, true},
    {"CR", "a\rb", false, false},
    {"CRLF", "a\r\nb", false, false},
    {"NUL-adjacent 0x01", "\x01", false, false},
    {"0x1f", "a\x1f", false, false},
    {"ESC sequence", "\x1b[31mred", false, false},
    {"vertical tab", "a\vb", false, false},
    {"form feed", "a\fb", false, false},
    {"DEL", "a\x7f", false, false},
    {"space and tilde", " ~", true, true},
    {"U+0080", "\xc2\x80", false, false},
    {"U+0085 NEL", "a\xc2\x85z", false, false},
    {"U+009B CSI", "\xc2\x9b", false, false},
    {"U+009F", "\xc2\x9f", false, false},
    {"U+00A0", "\xc2\xa0", true, true},
    {"Mueller", "M\xc3\xbcller", true, true},
    {"Nihon", "\xe6\x97\xa5\xe6\x9c\xac", true, true},
    {"emoji", "\xf0\x9f\x98\x80", true, true},
    {"mixed", "Zo\xc3\xab \xf0\x9f\x8e\x89 \xe6\x97\xa5\tx", true, true},
    {"U+07FF", "\xdf\xbf", true, true},
    {"U+0800", "\xe0\xa0\x80", true, true},
    {"U+D7FF", "\xed\x9f\xbf", true, true},
    {"U+E000", "\xee\x80\x80", true, true},
    {"U+FFFF", "\xef\xbf\xbf", true, true},
    {"U+10000", "\xf0\x90\x80\x80", true, true},
    {"U+10FFFF", "\xf4\x8f\xbf\xbf", true, true},
    {"overlong / (2 bytes)", "\xc0\xaf", false, false},
    {"overlong NUL", "\xc0\x80", false, false},
    {"overlong U+007F", "\xc1\xbf", false, false},
    {"overlong / (3 bytes)", "\xe0\x80\xaf", false, false},
    {"overlong U+07FF", "\xe0\x9f\xbf", false, false},
    {"overlong / (4 bytes)", "\xf0\x80\x80\xaf", false, false},
    {"overlong U+FFFF", "\xf0\x8f\xbf\xbf", false, false},
    {"overlong newline", "\xc0\x8a", false, false},
    {"U+D800", "\xed\xa0\x80", false, false},
    {"U+DBFF U+DC00 pair", "\xed\xaf\xbf\xed\xb0\x80", false, false},
    {"U+DFFF", "\xed\xbf\xbf", false, false},
    {"U+110000", "\xf4\x90\x80\x80", false, false},
    {"lead 0xf5", "\xf5\x80\x80\x80", false, false},
    {"lead 0xf7", "\xf7\xbf\xbf\xbf", false, false},
    {"5-byte form", "\xf8\x88\x80\x80\x80", false, false},
    {"6-byte form", "\xfc\x84\x80\x80\x80\x80", false, false},
    {"0xfe", "a\xfe", false, false},
    {"0xff", "\xff", false, false},
    {"lone continuation", "\x80", false, false},
    {"continuation after ASCII", "a\xbf", false, false},
    {"truncated 2-byte at end", "ab\xc3", false, false},
    {"truncated 3-byte at end", "\xe6\x97", false, false},
    {"truncated 4-byte at end", "\xf0\x9f\x98", false, false},
    {"truncated 2-byte before ASCII", "\xc3\x41", false, false},
    {"truncated 3-byte before emoji", "\xe6\x97\xf0\x9f\x98\x80", false, false},
    {"control after multibyte", "\xe6\x97\xa5\x01", false, false},
};

static const struct {
	const char *s;
	bool ok;
} login_cases[] = {
    {"dan", true},
    {"a.b-c_d@x", true},
    {"Dan99", true},
    {"0", true},
    {"x-", true},
    {"", false},
    {"-x", false},
    {"-", false},
    {"sp ace", false},
    {" dan", false},
    {"dan\n", false},
    {"tab\t", false},
    {"a/b", false},
    {"a:b", false},
    {"\xc3\xbc", false},
    {"m\xc3\xbcller", false},
    {"dan\xff", false},
};

static const struct {
	const char *name;
	const char *s;
	uint32_t hidden;
} hidden_cases[] = {
    {"plain", "Send Acme the quote", 0},
    {"umlaut and emoji", "M\xc3\xbcller \xf0\x9f\x98\x80", 0},
    {"U+00A0",
        "a\xc2\xa0"
        "b",
        0},
    {"U+202E RLO",
        "invoice \xe2\x80\xae"
        "fdp.exe",
        0x202e},
    {"U+202A LRE", "\xe2\x80\xaa", 0x202a},
    {"U+2066 LRI", "x\xe2\x81\xa6", 0x2066},
    {"U+2069 PDI", "x\xe2\x81\xa9", 0x2069},
    {"U+200E LRM", "\xe2\x80\x8e", 0x200e},
    {"U+061C ALM", "\xd8\x9c", 0x061c},
    {"U+200B ZWSP",
        "ad\xe2\x80\x8b"
        "min",
        0x200b},
    {"U+200D ZWJ", "\xe2\x80\x8d", 0x200d},
    {"U+2060 WJ", "\xe2\x81\xa0", 0x2060},
    {"U+FEFF",
        "\xef\xbb\xbf"
        "hello",
        0xfeff},
    {"U+2065 unassigned", "\xe2\x81\xa5", 0},
    {"U+2010 hyphen", "\xe2\x80\x90", 0},
    {"U+2030 per mille", "\xe2\x80\xb0", 0},
    {"first of two", "\xe2\x80\x8b\xe2\x80\xae", 0x200b},
    {"after invalid byte", "\xff\xe2\x80\xae", 0x202e},
};

static void
test_text(void)
{
	char login[80];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hidden_cases); i++) {
		setcase("util_text_hidden(%s)", hidden_cases[i].name);
		REQUIRE(util_text_hidden(hidden_cases[i].s) ==
		    hidden_cases[i].hidden);
	}

	for (i = 0; i < ARRAY_SIZE(text_cases); i++) {
		const struct text_case *c = &text_cases[i];

		setcase("util_text_ok(%s, false)", c->name);
		REQUIRE(util_text_ok(c->s, false) == c->ok);
		setcase("util_text_ok(%s, true)", c->name);
		REQUIRE(util_text_ok(c->s, true) == c->ok_nl);
	}
	for (i = 0; i < ARRAY_SIZE(login_cases); i++) {
		setcase("util_login_ok(login_cases[%zu])", i);
		REQUIRE(util_login_ok(login_cases[i].s) == login_cases[i].ok);
	}
	/* 64 is the longest accepted */
	memset(login, 'x', sizeof(login));
	login[64] = '\0';
	setcase("util_login_ok(64 chars)");
	REQUIRE(util_login_ok(login));
	login[64] = 'x';
	login[65] = '\0';
	setcase("util_login_ok(65 chars)");
	REQUIRE(!util_login_ok(login));
	login[0] = '-';
	login[64] = '\0';
	setcase("util_login_ok(64 chars, leading '-')");
	REQUIRE(!util_login_ok(login));
out:;
}

int
main(int argc, char **argv)
{
	uint64_t seed;

	if (rnd_seed(argc, argv, "test_proto", UINT64_C(0x853c49e6748fea9b)) !=
	    0)
		return 2;
	seed = rnd_state;
	check_ctx = tcase;

	test_linebuf_chunks();
	test_linebuf_crlf();
	test_linebuf_limit();
	test_parse();
	test_fields();
	test_err_code();
	test_replies();
	test_text();
	if (nfailed > 0) {
		fprintf(stderr, "test_proto: %d failed (seed %#" PRIx64 ")\n",
		    nfailed, seed);
		return 1;
	}
	printf("test_proto: ok, seed %#" PRIx64 "\n", seed);
	return 0;
}
