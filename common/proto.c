/* SPDX-License-Identifier: MIT */
/*
 * proto.c: framing, decoding and the small vocabulary of the control
 * protocol.  Everything that crosses the socket is checked here before the
 * daemon acts on it, so a bad line costs one error reply and nothing more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

static const char *const err_codes[PROTO_ERR_MAX] = {
    [PROTO_OK] = "ok",
    [PROTO_INVALID] = "invalid",
    [PROTO_NOT_FOUND] = "not_found",
    [PROTO_FORBIDDEN] = "forbidden",
    [PROTO_CONFLICT] = "conflict",
    [PROTO_UNAVAILABLE] = "unavailable",
    [PROTO_INTERNAL] = "internal",
};

const char *
proto_err_code(enum proto_err e)
{
	if ((unsigned)e >= PROTO_ERR_MAX)
		return "internal";
	return err_codes[e];
}

void
linebuf_init(struct linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void
linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

int
linebuf_append(struct linebuf *lb, const char *data, size_t n)
{
	size_t need;
	char *nb;

	/* reclaim consumed lines before growing */
	if (lb->off > 0) {
		memmove(lb->buf, lb->buf + lb->off, lb->len - lb->off);
		lb->len -= lb->off;
		lb->off = 0;
	}
	need = lb->len + n + 1;
	if (need > lb->cap) {
		size_t cap = lb->cap ? lb->cap : 1024;

		while (cap < need)
			cap *= 2;
		nb = realloc(lb->buf, cap);
		if (nb == NULL)
			return -ENOMEM;
		lb->buf = nb;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, data, n);
	/* check each line completed by the new bytes, then the open tail */
	{
		size_t pos = lb->len, end = lb->len + n;
		size_t start = lb->len - lb->partial;
		char *e;

		while (pos < end &&
		    (e = memchr(lb->buf + pos, '\n', end - pos)) != NULL) {
			if ((size_t)(e - lb->buf) - start > lb->max) {
				/* keep the whole lines before it takeable */
				lb->len = start;
				lb->partial = 0;
				return -E2BIG;
			}
			start = pos = (size_t)(e - lb->buf) + 1;
		}
		lb->partial = end - start;
		lb->len = end;
		if (lb->partial > lb->max)
			return -E2BIG;
	}
	return 0;
}

char *
linebuf_next(struct linebuf *lb, size_t *ret_len)
{
	char *start, *nl;
	size_t len;

	if (lb->off >= lb->len)
		return NULL;
	start = lb->buf + lb->off;
	nl = memchr(start, '\n', lb->len - lb->off);
	if (nl == NULL)
		return NULL;
	*nl = '\0';
	len = (size_t)(nl - start);
	/* tolerate CRLF from hand-typed sessions */
	if (len > 0 && start[len - 1] == '\r')
		start[--len] = '\0';
	lb->off = (size_t)(nl - lb->buf) + 1;
	*ret_len = len;
	return start;
}

bool
linebuf_has_line(const struct linebuf *lb)
{
	/* the bytes before the unterminated tail end in a newline */
	return lb->off < lb->len - lb->partial;
}

enum proto_err
proto_parse_request(const char *line, size_t len, json_t **ret,
    const char **ret_op, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *req = NULL, *v, *op;
	enum proto_err rc = PROTO_INVALID;

	*ret = NULL;
	if (len > PROTO_MAX_LINE) {
		snprintf(err, errlen, "request line longer than %d bytes",
		    PROTO_MAX_LINE);
		goto out;
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		snprintf(err, errlen, "malformed JSON at column %d: %s",
		    jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(req)) {
		snprintf(err, errlen, "request is not a JSON object");
		goto out;
	}
	v = json_object_get(req, "v");
	if (v == NULL) {
		snprintf(err, errlen, "field 'v': missing (protocol version)");
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		snprintf(err, errlen,
		    "field 'v': unsupported protocol version (want %d)",
		    PROTO_VERSION);
		goto out;
	}
	op = json_object_get(req, "op");
	if (op == NULL || !json_is_string(op)) {
		snprintf(err, errlen, "field 'op': %s",
		    op == NULL ? "missing" : "must be a string");
		goto out;
	}
	*ret_op = json_string_value(op);
	*ret = req;
	req = NULL;
	rc = PROTO_OK;
out:
	json_decref(req);
	return rc;
}

const char *
proto_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

enum proto_err
proto_get_str(json_t *obj, const char *field, bool required, size_t maxlen,
    const char **ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, field);
	const char *s;
	size_t len;

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return PROTO_OK;
		snprintf(err, errlen, "field '%s': missing", field);
		return PROTO_INVALID;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field '%s': must be a string", field);
		return PROTO_INVALID;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		snprintf(
		    err, errlen, "field '%s': contains a NUL character", field);
		return PROTO_INVALID;
	}
	if (len > maxlen) {
		snprintf(err, errlen, "field '%s': longer than %zu bytes",
		    field, maxlen);
		return PROTO_INVALID;
	}
	*ret = s;
	return PROTO_OK;
}

enum proto_err
proto_get_int(json_t *obj, const char *field, bool required, int64_t *ret,
    char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, field);

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return PROTO_OK;
		snprintf(err, errlen, "field '%s': missing", field);
		return PROTO_INVALID;
	}
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "field '%s': must be an integer", field);
		return PROTO_INVALID;
	}
	*ret = (int64_t)json_integer_value(v);
	return PROTO_OK;
}

enum proto_err
proto_get_bool(
    json_t *obj, const char *field, bool *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, field);

	if (v == NULL || json_is_null(v))
		return PROTO_OK;
	if (!json_is_boolean(v)) {
		snprintf(
		    err, errlen, "field '%s': must be true or false", field);
		return PROTO_INVALID;
	}
	*ret = json_is_true(v);
	return PROTO_OK;
}

json_t *
proto_ok(void)
{
	return json_pack("{s:b}", "ok", 1);
}

json_t *
proto_error(enum proto_err e, const char *message)
{
	return json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code",
	    proto_err_code(e), "message", message);
}

char *
proto_dump(const json_t *msg, size_t *ret_len)
{
	char *s, *line;
	size_t len;

	s = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (s == NULL)
		return NULL;
	len = strlen(s);
	line = realloc(s, len + 2);
	if (line == NULL) {
		free(s);
		return NULL;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	*ret_len = len + 1;
	return line;
}
