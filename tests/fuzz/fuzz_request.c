/* SPDX-License-Identifier: MIT */
/*
 * fuzz_request.c: libFuzzer target for the control protocol's decoding
 * (common/proto.c), the first code to touch what a client sends.  The
 * input is a byte stream fed through linebuf in uneven chunks, as reads
 * from a socket arrive; each line is decoded and every field the daemon
 * reads is fetched the way the operations (daemon/op_*.c) do, then the
 * error reply is built and encoded.  A second linebuf with a small limit
 * walks the over-long line path.  The target aborts when framing hands
 * back a line holding a newline or longer than its limit, a failure comes
 * without a message, or a decoded request does not survive encoding and
 * decoding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"
#include "util.h"

/* small enough that inputs of libFuzzer's default size exceed it */
#define SMALL_MAX 100

struct strfield {
	const char *name;
	size_t max;
	int text; /* 0: as is, 1: one line of text, 2: text with newlines */
};

/* the string fields of every op in common/PROTOCOL.md, with ctl's limits */
static const struct strfield strfields[] = {
    {"title", PROTO_MAX_TITLE, 1},
    {"for", PROTO_MAX_FOR, 1},
    {"note", PROTO_MAX_NOTE, 2},
    {"reason", PROTO_MAX_REASON, 2},
    {"owner", 64, 0},
    {"state", 16, 0},
    {"delivery", 32, 0},
    {"path", 4095, 0},
};

static const char *const intfields[] = {"v", "id", "due_at", "limit"};

static const char *const boolfields[] = {"ok", "end", "all"};

/* chunk sizes as reads deliver them: single bytes, odd splits, bulk */
static const size_t chunks[] = {1, 3, 17, 2, 255, 4096};

static void
fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_request: %s: %s\n", what, detail);
	abort();
}

static void
need_msg(enum proto_err e, const char *err, const char *field)
{
	if (e != PROTO_OK && e != PROTO_INVALID)
		fail("accessor returned neither ok nor invalid", field);
	if (e == PROTO_INVALID && (err[0] == '\0' || strchr(err, '\n')))
		fail("bad error message", field);
}

static void
get_fields(json_t *req)
{
	const char *s;
	char err[256];
	int64_t i64;
	json_t *v, *x;
	size_t i, k;
	bool b;
	enum proto_err e;

	for (i = 0; i < sizeof(strfields) / sizeof(strfields[0]); i++) {
		s = NULL;
		err[0] = '\0';
		e = proto_get_str(req, strfields[i].name, i % 2 == 0,
		    strfields[i].max, &s, err, sizeof(err));
		need_msg(e, err, strfields[i].name);
		if (e != PROTO_OK || s == NULL)
			continue;
		if (strlen(s) > strfields[i].max)
			fail("string longer than its limit", strfields[i].name);
		if (strfields[i].text)
			(void)util_text_ok(s, strfields[i].text == 2);
		else
			(void)util_login_ok(s);
	}
	for (i = 0; i < sizeof(intfields) / sizeof(intfields[0]); i++) {
		err[0] = '\0';
		e = proto_get_int(
		    req, intfields[i], true, &i64, err, sizeof(err));
		need_msg(e, err, intfields[i]);
	}
	for (i = 0; i < sizeof(boolfields) / sizeof(boolfields[0]); i++) {
		err[0] = '\0';
		e = proto_get_bool(req, boolfields[i], &b, err, sizeof(err));
		need_msg(e, err, boolfields[i]);
	}
	/* nudge is read by hand in op_promise.c: walk it the same way */
	v = json_object_get(req, "nudge");
	if (json_is_array(v))
		json_array_foreach(v, k, x) {
			if (json_is_integer(x))
				(void)json_integer_value(x);
		}
}

/* what ctl does with one line: decode, read the fields, answer */
static void
handle_line(const char *line, size_t len)
{
	json_t *req = NULL, *again = NULL, *reply;
	const char *op = NULL;
	char err[256], *out;
	size_t outlen;
	enum proto_err e;

	err[0] = '\0';
	e = proto_parse_request(line, len, &req, &op, err, sizeof(err));
	if (e != PROTO_OK) {
		if (e != PROTO_INVALID || req != NULL)
			fail("failed parse left state behind", err);
		need_msg(e, err, "request");
		reply = proto_error(e, err);
	} else {
		if (req == NULL || op == NULL)
			fail("ok without a request", "");
		get_fields(req);
		reply = proto_ok();
		/* ctl echoes tag, any JSON value, into the reply */
		if (reply != NULL && json_object_get(req, "tag") != NULL)
			json_object_set(
			    reply, "tag", json_object_get(req, "tag"));
		/* what we decoded must encode to a line we decode again */
		if ((out = proto_dump(req, &outlen)) != NULL) {
			if (outlen == 0 || out[outlen - 1] != '\n' ||
			    memchr(out, '\n', outlen - 1) != NULL)
				fail("dump is not one line", out);
			if (outlen - 1 <= PROTO_MAX_LINE &&
			    proto_parse_request(out, outlen - 1, &again, &op,
			        err, sizeof(err)) != PROTO_OK)
				fail("own encoding refused", err);
			json_decref(again);
			free(out);
		}
	}
	if (reply != NULL && (out = proto_dump(reply, &outlen)) != NULL)
		free(out);
	json_decref(reply);
	json_decref(req);
}

static void
feed(const uint8_t *data, size_t size, size_t max, bool parse)
{
	struct linebuf lb;
	size_t off = 0, n, len, c = 0;
	char *line;
	int r = 0;

	linebuf_init(&lb, max);
	while (off < size && r == 0) {
		n = chunks[c++ % (sizeof(chunks) / sizeof(chunks[0]))];
		if (n > size - off)
			n = size - off;
		r = linebuf_append(&lb, (const char *)data + off, n);
		if (r != 0 && r != -E2BIG && r != -ENOMEM)
			fail("linebuf_append", "unexpected return");
		off += n;
		/* on -E2BIG the lines before the long one are still served */
		while ((line = linebuf_next(&lb, &len)) != NULL) {
			if (memchr(line, '\n', len) != NULL ||
			    line[len] != '\0')
				fail("linebuf_next", "line not cut at newline");
			if (len > max)
				fail("linebuf_next", "line over the limit");
			/* empty lines are ignored, as PROTOCOL.md says */
			if (parse && len > 0)
				handle_line(line, len);
		}
	}
	linebuf_free(&lb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	feed(data, size, PROTO_MAX_LINE, true);
	feed(data, size, SMALL_MAX, false);
	return 0;
}
