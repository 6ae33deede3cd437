/* SPDX-License-Identifier: MIT */
/*
 * test_jsonw.c: unit test for the hand-written JSON encoder
 * (common/jsonw.c).  Everything it writes is read back with jansson and
 * must come back exactly: strings with every escape and control
 * character, multi-byte UTF-8, the integers at both ends of int64_t, and
 * random valid UTF-8.  A reply is one line of the protocol, so the text
 * must hold no raw control character either.  jw_jstr and jw_put_ascii
 * must write exactly jansson's bytes.
 *
 * Usage: test_jsonw [seed]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "jsonw.h"
#include "rnd.h"

/* no byte below 0x20: the reply stays one line */
static bool
no_raw_controls(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return false;
	return true;
}

/* s (n bytes, no NUL) written by jw_str and read back by jansson */
static bool
string_round_trips(const char *s, size_t n)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *v;
	bool ok;

	jw_str(&b, s);
	if (b.oom)
		return false;
	v = json_loadb(b.s, b.len, JSON_DECODE_ANY, NULL);
	ok = v != NULL && json_is_string(v) && json_string_length(v) == n &&
	    memcmp(json_string_value(v), s, n) == 0 &&
	    no_raw_controls(b.s, b.len);
	json_decref(v);
	free(b.s);
	return ok;
}

/* s as jw_jstr writes it, in both modes, is jansson's text byte for byte,
 * and jw_put_ascii makes the ASCII text of the UTF-8 one */
static bool
string_as_jansson(const char *s)
{
	struct jsonw b = {NULL, 0, 0, false}, a = {NULL, 0, 0, false};
	json_t *v = json_string(s);
	char *j8 = NULL, *ja = NULL;
	bool ok = false;

	if (v == NULL)
		goto out;
	j8 = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	ja = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
	if (j8 == NULL || ja == NULL)
		goto out;
	jw_jstr(&b, s, false);
	ok = !b.oom && strcmp(b.s, j8) == 0;
	jw_put_ascii(&a, b.s, b.len);
	ok = ok && !a.oom && strcmp(a.s, ja) == 0;
	jw_reset(&b);
	jw_jstr(&b, s, true);
	ok = ok && !b.oom && strcmp(b.s, ja) == 0;
out:
	json_decref(v);
	free(j8);
	free(ja);
	free(a.s);
	free(b.s);
	return ok;
}

static bool
int_round_trips(int64_t n)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *v;
	bool ok;

	jw_int(&b, n);
	v = json_loadb(b.s, b.len, JSON_DECODE_ANY, NULL);
	ok = !b.oom && v != NULL && json_is_integer(v) &&
	    json_integer_value(v) == n;
	json_decref(v);
	free(b.s);
	return ok;
}

static void
test_escapes(void)
{
	static const char *const cases[] = {
	    "", "plain", "\"quoted\"", "back\\slash", "\\\"", "line\nbreak",
	    "cr\rtab\tff\fbs\b", "\x01\x1f\x7f", "slash / and </script>",
	    "caf\xc3\xa9",                       /* é, two bytes */
	    "\xe2\x82\xac 5",                    /* €, three bytes */
	    "\xf0\x9f\x98\x80",                  /* U+1F600, four bytes */
	    "\xe2\x80\xa8\xe2\x80\xa9",          /* U+2028, U+2029 */
	    "\xef\xbb\xbf BOM and \xef\xbf\xbd", /* U+FEFF, U+FFFD */
	    "\xf4\x8f\xbf\xbf",                  /* U+10FFFF, the last */
	};
	char all[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(string_round_trips(cases[i], strlen(cases[i])));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(string_as_jansson(cases[i]));
	/* every control character at once, each escaped */
	for (i = 1; i < 0x20; i++)
		all[i - 1] = (char)i;
	all[31] = '\0';
	CHECK(string_round_trips(all, 31));
	CHECK(string_as_jansson(all));
}

static void
test_null_and_layout(void)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *v;

	/* an object put together as the daemon does, with a null in it */
	jw_lit(&b, "{\"a\":");
	jw_str(&b, NULL);
	jw_lit(&b, ",\"b\":[");
	jw_int(&b, INT64_MIN);
	jw_put(&b, ",", 1);
	jw_int(&b, INT64_MAX);
	jw_lit(&b, "],\"c\":");
	jw_str(&b, "x\ny");
	jw_put(&b, "}", 1);
	CHECK(!b.oom);
	CHECK(b.s != NULL && strlen(b.s) == b.len);
	v = json_loadb(b.s, b.len, 0, NULL);
	CHECK(v != NULL);
	CHECK(json_is_null(json_object_get(v, "a")));
	CHECK(json_integer_value(json_array_get(json_object_get(v, "b"), 0)) ==
	    INT64_MIN);
	CHECK(json_integer_value(json_array_get(json_object_get(v, "b"), 1)) ==
	    INT64_MAX);
	CHECK(json_string_value(json_object_get(v, "c")) != NULL &&
	    strcmp(json_string_value(json_object_get(v, "c")), "x\ny") == 0);
	json_decref(v);
	free(b.s);
}

static void
test_ints(void)
{
	static const int64_t cases[] = {0, 1, -1, 9, 10, -10,
	    INT64_C(9007199254740993), /* 2^53 + 1: no double holds it */
	    INT64_C(-9007199254740993), INT32_MAX, INT32_MIN,
	    (int64_t)INT32_MAX + 1, INT64_MAX, INT64_MIN, INT64_MIN + 1};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(int_round_trips(cases[i]));
	for (i = 0; i < 10000; i++)
		CHECK(int_round_trips((int64_t)rnd()));
}

/* appends code point cp as UTF-8 at s; its length */
static size_t
utf8(char *s, uint32_t cp)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* a random code point, not NUL and not a surrogate, weighted towards the
 * ASCII controls and punctuation that need escaping */
static uint32_t
random_cp(void)
{
	uint32_t cp;

	switch (rnd_below(4)) {
	case 0:
		return (uint32_t)(1 + rnd_below(0x7f));
	case 1:
		return (uint32_t)(0x80 + rnd_below(0x800 - 0x80));
	case 2:
		do
			cp = (uint32_t)(0x800 + rnd_below(0x10000 - 0x800));
		while (cp >= 0xd800 && cp <= 0xdfff);
		return cp;
	default:
		return (uint32_t)(0x10000 + rnd_below(0x110000 - 0x10000));
	}
}

static void
test_random(void)
{
	char s[4 * 64 + 1];
	size_t i, k, n, len;

	for (i = 0; i < 5000; i++) {
		n = rnd_below(64);
		for (len = k = 0; k < n; k++)
			len += utf8(s + len, random_cp());
		s[len] = '\0';
		CHECK(string_round_trips(s, len));
		CHECK(string_as_jansson(s));
	}
}

/* a long string: the buffer grows past its first size many times */
static void
test_long(void)
{
	size_t n = 3 * 1024 * 1024, i;
	char *s = malloc(n + 1);

	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		s[i] = "a\"\\\n\x01"[i % 5];
	s[n] = '\0';
	CHECK(string_round_trips(s, n));
	free(s);
}

/* jw_tree writes what json_dumps writes, for every kind of value */
static void
test_tree(void)
{
	struct jsonw b = {NULL, 0, 0, false};
	json_t *v = json_pack("{s:[{s:s,s:s,s:I},{s:s,s:b,s:n}],s:I,s:{},s:[],"
	                      "s:f,s:s,s:{s:{s:[i,i]}}}",
	    "deliveries", "delivery", "ab\xc3\xa9\"", "to", "ana", "held_until",
	    (json_int_t)1700000000, "x", "\n", "f", 0, "z", "late_ms",
	    (json_int_t)-3, "empty", "none", "real", 1.5, "z\x01",
	    "\xf0\x9f\x98\x80", "deep", "er", "list", 1, 2);
	char *want = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	REQUIRE(want != NULL);
	jw_tree(&b, v);
	CHECK(!b.oom && strcmp(b.s, want) == 0);
out:
	free(want);
	free(b.s);
	json_decref(v);
}

int
main(int argc, char **argv)
{
	uint64_t seed;

	if (rnd_seed(argc, argv, "test_jsonw", UINT64_C(0x6a736f6e77)) != 0)
		return 2;
	seed = rnd_state;
	test_escapes();
	test_null_and_layout();
	test_ints();
	test_random();
	test_long();
	test_tree();
	printf("test_jsonw: %d checks, %d failed (seed %#" PRIx64 ")\n",
	    nchecks, nfailed, seed);
	return nfailed > 0 ? 1 : 0;
}
