/* SPDX-License-Identifier: MIT */
/*
 * proto.h: the control protocol spoken over promised's Unix socket:
 * newline-delimited JSON, one request object per line, one reply line per
 * request, replies in request order.  See common/PROTOCOL.md.
 */
#ifndef PROMISED_PROTO_H
#define PROMISED_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_VERSION 1
#define PROTO_MAX_LINE (64 * 1024)
/* promises one import may carry, over all its parts */
#define PROTO_IMPORT_MAX 10000
#define PROTO_MAX_TITLE 500
#define PROTO_MAX_NOTE 4000
#define PROTO_MAX_FOR 200
#define PROTO_MAX_REASON 1000
#define PROTO_MAX_NUDGES 8
/* due times further ahead than this are taken for typos */
#define PROTO_MAX_AHEAD (10LL * 366 * 86400)

enum proto_err {
	PROTO_OK,
	PROTO_INVALID,
	PROTO_NOT_FOUND,
	PROTO_FORBIDDEN,
	PROTO_CONFLICT,
	PROTO_UNAVAILABLE,
	PROTO_INTERNAL,
	PROTO_ERR_MAX,
};

/* "invalid", "not_found", ... */
const char *proto_err_code(enum proto_err e);

/*
 * Line framing for a byte stream.  Bytes are appended as they arrive and
 * complete lines are taken out one by one; a line longer than max is an
 * error the caller must treat as fatal for the stream.
 */
struct linebuf {
	char *buf;
	size_t len; /* bytes held */
	size_t off; /* start of the first unconsumed line */
	size_t cap;
	size_t max;
	size_t partial; /* length of the unterminated tail */
};

void linebuf_init(struct linebuf *lb, size_t max);
void linebuf_free(struct linebuf *lb);
/* 0, -ENOMEM, or -E2BIG when the pending line already exceeds max */
int linebuf_append(struct linebuf *lb, const char *data, size_t n);
/*
 * returns the next complete line, NUL-terminated in place and without its
 * newline (valid until the next linebuf call), or NULL; *ret_len its length
 */
char *linebuf_next(struct linebuf *lb, size_t *ret_len);
/* true if a complete line is waiting to be taken */
bool linebuf_has_line(const struct linebuf *lb);

/*
 * Decodes one request line.  On success *ret is the request object (caller
 * decrefs) and *ret_op its "op".  On failure returns PROTO_INVALID and
 * writes a one-line message naming the problem into err.
 */
enum proto_err proto_parse_request(const char *line, size_t len, json_t **ret,
    const char **ret_op, char *err, size_t errlen);

/*
 * Field accessors: each returns PROTO_OK, or PROTO_INVALID with a message
 * naming the field ("field 'title': ...") in err.  A missing optional field
 * leaves *ret untouched.
 */
enum proto_err proto_get_str(json_t *obj, const char *field, bool required,
    size_t maxlen, const char **ret, char *err, size_t errlen);
enum proto_err proto_get_int(json_t *obj, const char *field, bool required,
    int64_t *ret, char *err, size_t errlen);
enum proto_err proto_get_bool(
    json_t *obj, const char *field, bool *ret, char *err, size_t errlen);
/* o[key] if o is an object and that member a string, else NULL: for JSON
 * that needs no error message (payloads, replies) */
const char *proto_str(const json_t *o, const char *key);

/* {"ok":true}; caller decrefs */
json_t *proto_ok(void);
/* {"ok":false,"error":{"code":...,"message":...}}; caller decrefs */
json_t *proto_error(enum proto_err e, const char *message);
/* compact one-line encoding with a trailing newline; caller frees */
char *proto_dump(const json_t *msg, size_t *ret_len);

#endif
