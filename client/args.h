/* SPDX-License-Identifier: MIT */
/*
 * args.h: the checks of argument values that commands share.  Each
 * returns an exit status, having reported a problem as a usage error
 * that quotes what was typed.  Private to the client.
 */
#ifndef PROMISE_ARGS_H
#define PROMISE_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/* "42" or "#42", positive; 0 or -EINVAL (nothing reported) */
int parse_id(const char *s, int64_t *ret);
/* the positional ID as a promise id */
int get_id(const struct args *a, int64_t *ret);
/* a --due WHEN in the caller's zone, not past nor absurdly far */
int parse_due(const char *s, int64_t now, int64_t *ret);
/* s (may be NULL) is UTF-8 text without control characters */
int check_text(const char *what, const char *s, bool allow_newline);
/* cmd's --reason: given, not empty, text */
int check_reason(const char *cmd, const struct args *a);
/*
 * A deadline for the daemon: *ret for what we can parse here, or the
 * text itself (*ret_text) for business-calendar forms; neither when s is
 * NULL.
 */
int due_field(const char *s, int64_t now, int64_t *ret, const char **ret_text);
/* --since DURATION as the epoch second the period starts (0 if absent) */
int parse_since(const struct args *a, int64_t *ret);
/* "--limit N": N >= 0 */
int parse_limit(const char *s, int64_t *ret);

#endif
