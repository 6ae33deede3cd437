/* SPDX-License-Identifier: MIT */
/*
 * msg.c: the client's messages: one quoted line on stderr for each
 * problem, and under --json the promise of one JSON document on stdout
 * whatever happens.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli.h"
#include "util.h"

/*
 * --json promises one JSON document on stdout whatever happens, so that a
 * script never has to tell "nothing printed" from "nothing found".  A
 * command either prints its document (json_out.done) or out_json_close()
 * prints {"ok":false,...} built from the first message reported on stderr.
 */
static struct {
	bool on, done;
	char msg[512];
} json_out;

/* keeps the first message of a --json run for its closing document */
static void json_note(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
static void
json_note(const char *fmt, va_list ap)
{
	if (json_out.on && json_out.msg[0] == '\0')
		(void)vsnprintf(json_out.msg, sizeof(json_out.msg), fmt, ap);
}

int
json_print(const json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT) != 0)
		return -EIO;
	fputc('\n', stdout);
	json_out.done = true;
	return 0;
}

/*
 * Writes s to f with what could steer a terminal or turn text around
 * shown as escapes: C0 and C1 controls and DEL as \xHH or \u00HH, bidi
 * and zero-width characters as \uHHHH, bytes that are not UTF-8 as \xHH.
 * For text from the daemon or a file, which anyone may have written.
 */
void
put_quoted(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = 0;
	size_t n;

	for (; *p != '\0'; p += n) {
		n = util_utf8_decode(p, &cp);
		if (n == 0) {
			fprintf(f, "\\x%02x", *p);
			n = 1;
		} else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02" PRIx32, cp);
		else if ((cp >= 0x80 && cp < 0xa0) || util_cp_hidden(cp))
			fprintf(f, "\\u%04" PRIx32, cp);
		else
			fwrite(p, 1, n, f);
	}
}

/* "promise: " and fmt's text, quoted, on a line of stderr */
static void vput_error(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));
static void
vput_error(const char *fmt, va_list ap)
{
	char buf[1024], *big = NULL;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	if ((n = vsnprintf(buf, sizeof(buf), fmt, ap)) < 0)
		buf[0] = '\0';
	if (n >= (int)sizeof(buf) && (big = malloc((size_t)n + 1)) != NULL)
		(void)vsnprintf(big, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	fputs("promise: ", stderr);
	/* cut at buf's size only if memory ran out */
	put_quoted(stderr, big != NULL ? big : buf);
	free(big);
}

/* "promise: ..." on stderr */
void
errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_error(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	va_start(ap, fmt);
	json_note(fmt, ap);
	va_end(ap);
}

/* reports a usage problem in one line plus the pointer to help */
int
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_error(fmt, ap);
	va_end(ap);
	fputs("\ntry 'promise --help'\n", stderr);
	va_start(ap, fmt);
	json_note(fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int
out_of_memory(void)
{
	errmsg("out of memory");
	return CLI_REFUSED;
}

void
out_json_on(void)
{
	json_out.on = true;
}

void
out_json_done(void)
{
	json_out.done = true;
}

/*
 * The closing document of a --json run that failed before the daemon
 * answered: the codes beyond the protocol's name the client's own cases.
 */
static void
json_failed(int status)
{
	json_t *o;
	const char *code = status == CLI_USAGE ? "usage"
	    : status == CLI_UNREACHABLE        ? "unreachable"
	                                       : "failed";

	o = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code,
	    "message", json_out.msg[0] != '\0' ? json_out.msg : code);
	if (o != NULL)
		(void)json_print(o);
	json_decref(o);
}

void
out_json_close(int status)
{
	if (json_out.on && !json_out.done && status != CLI_OK)
		json_failed(status);
}
