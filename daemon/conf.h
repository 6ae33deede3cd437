/*
 * conf.h: promised.conf, an INI file read with inih.  Every value is
 * checked on load; the first problem is reported as "FILE:LINE: message".
 */
#ifndef PROMISED_CONF_H
#define PROMISED_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "proto.h"

struct conf {
	char *path;
	/* [daemon] */
	char *socket;
	char *database;
	enum log_level log_level;
	/* [policy] */
	int64_t nudge_before[PROTO_MAX_NUDGES];
	size_t n_nudge_before;
	int64_t escalate_after;
	int64_t escalation_repeat;
	/* [delivery] */
	char *delivery_log;
};

/* loads path; on failure returns -EINVAL (or -errno) and writes
 * "FILE:LINE: message" into err */
int conf_load(struct conf **ret, const char *path, char *err, size_t errlen);
/* NULL-safe; returns NULL */
struct conf *conf_free(struct conf *c);

#endif
