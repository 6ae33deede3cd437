/* SPDX-License-Identifier: MIT */
/*
 * conf_impl.h: what conf.c (the file and its sections), conf_value.c (single
 * values) and conf_query.c (questions to a loaded configuration) share;
 * nothing else includes it.  conf.c builds on the other two.
 */
#ifndef PROMISED_CONF_IMPL_H
#define PROMISED_CONF_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "calendar.h"
#include "conf.h"

/* where a [kind] section's keys stand, for errors found after the parse */
struct kind_lines {
	int first; /* its first key */
	int due;   /* its due key, or 0 */
};

struct loader {
	struct conf *c;
	FILE *f;
	int line; /* the line inih last read */
	char err[512];
	int err_line; /* where err stands */
	bool failed;
	size_t cap_people;
	struct kind_lines *klines; /* parallel to c->kinds */
	size_t cap_kinds;
	int socket_line; /* where [daemon] socket stands, or 0 */
	/* "section\nkey" of every key set so far, open addressing */
	char **seen;
	size_t cap_seen, n_seen;
	int retry_line; /* where the later of retry_initial, retry_max is */
	int store_line; /* where the later of [store]'s keys is */
};

/* records the first problem's message in ld->err; returns -EINVAL */
int conf_bad(struct loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* *dst becomes a copy of v; 0 or -ENOMEM */
int conf_set_str(char **dst, const char *v);
/* a time of day "HH:MM" (00:00 to 23:59) into *minute, minutes after
 * midnight; a bad one is reported as [section] name */
int conf_set_clock(struct loader *ld, const char *section, const char *name,
    const char *value, int *minute);
/* a file of CA certificates, read now so that a typo fails at load */
int conf_set_ca_file(struct loader *ld, const char *value, char **dst);
/* a duration of at least min seconds */
int conf_set_duration(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t *dst);
/* "0" (no limit), "5000000", "500K", "100M", "2G": bytes */
int conf_set_size(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t *dst);
/* a whole number from min to max */
int conf_set_count(struct loader *ld, const char *section, const char *name,
    const char *value, int64_t min, int64_t max, int64_t *dst);
/* http:// or https:// with no space nor control character */
bool conf_url_ok(const char *s);
/* wipes and frees a secret; NULL-safe */
void conf_free_secret(char *s);
/* up to max non-empty lines of the secret file path into out[] */
int conf_read_secrets(struct loader *ld, const char *section, const char *name,
    const char *path, char **out, size_t max, size_t *ret_n);
/* [daemon] admins: logins separated by commas and/or spaces */
int conf_set_admins(struct loader *ld, const char *value);
/* 0, -EEXIST for a key set before in its section, or -ENOMEM */
int conf_seen_add(struct loader *ld, const char *section, const char *name);
void conf_seen_free(struct loader *ld);
/* conf_mail.c: a [mail] key */
int conf_set_mail(struct loader *ld, const char *name, const char *value);
/* conf_mail.c: what [mail] needs of the whole file (its kind, its key) */
int conf_check_mail(struct conf *c, char *err, size_t errlen);
/* conf_mail.c: frees c->mail's values */
void conf_mail_free(struct conf *c);
/* conf_http.c: an [http] key */
int conf_set_http(struct loader *ld, const char *name, const char *value);
/* conf_http.c: [http]'s defaults, before the file is read */
void conf_http_defaults(struct conf *c);
/* conf_http.c: what the listener needs of the whole file */
int conf_check_http(struct conf *c, char *err, size_t errlen);
/* conf_http.c: frees c->http's values */
void conf_http_free(struct conf *c);
/* a WHEN for the conf_when family, in cal and zone (NULL: the daemon's) */
int conf_resolve(const struct calendar *cal, const char *zone, const char *text,
    int64_t now, int64_t *ret, const char **err);

#endif
