/* SPDX-License-Identifier: MIT */
/*
 * cli.h: what every part of promise(1) shares: the exit statuses, the
 * parsed command line, and the messages on stderr (and in --json's
 * closing document).  Private to the client.
 */
#ifndef PROMISE_CLI_H
#define PROMISE_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* exit statuses are interface: scripts tell "refused" from "not running" */
enum {
	CLI_OK = 0,
	CLI_REFUSED = 1, /* the daemon said no, or we failed locally */
	CLI_USAGE = 2,
	CLI_UNREACHABLE = 3,
};

#define TIMEBUF 64
#define RELBUF 32

struct cli {
	const char *socket;
	/* the API's base URL (promise --server): requests go over HTTP
	 * with the token from PROMISE_TOKEN or token_file (conn_http.c) */
	const char *server;
	const char *token_file;
	bool json;
	/* a connection kept for several requests (import's parts), or -1:
	 * each request connects on its own */
	int fd;
};

/* one command line after getopt; strings point into argv */
struct args {
	const char *pos;   /* the single positional argument (TITLE or ID) */
	const char *extra; /* the first surplus positional argument */
	size_t npos;
	const char *due, *forwho, *owner, *nudge, *note, *state, *reason;
	const char *limit, *then, *kind, *since, *team, *grep, *name;
	bool failed, told, csv, dry_run, ics, all;
};

/* "promise: ..." on stderr, quoted as put_quoted does */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a usage problem in one line plus the pointer to help; CLI_USAGE */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "out of memory"; CLI_REFUSED */
int out_of_memory(void);

/*
 * Writes s to f with what could steer a terminal or turn text around
 * shown as escapes.  For text from the daemon or a file.
 */
void put_quoted(FILE *f, const char *s);

/* --json from here on: the run ends with exactly one JSON document */
void out_json_on(void);
/* the run's document has been written by someone else (a reply) */
void out_json_done(void);
/* prints o (not consumed) as the run's one JSON document; 0 or -errno */
int json_print(const json_t *o);
/* at the end of a --json run: the failure document if none was printed */
void out_json_close(int status);

#endif
