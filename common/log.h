/* SPDX-License-Identifier: MIT */
/*
 * log.h: the daemon's logging.  Lines go to stderr, timestamped unless
 * stderr is the journal.  OpenBSD's split: log_warn and log_error append
 * strerror(errno), log_warnx and log_errorx do not.
 */
#ifndef PROMISED_LOG_H
#define PROMISED_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX,
	LOG_LEVEL_INVALID = -1,
};

void log_init(const char *ident);
void log_set_level(enum log_level level);
/* "error", "warning", "info", "debug" or LOG_LEVEL_INVALID */
enum log_level log_level_from_string(const char *s);

/* something failed that an operator has to act on: a start-up that cannot
 * go on, a delivery given up, a channel down */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
