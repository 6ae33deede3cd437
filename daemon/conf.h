/*
 * conf.h: promised.conf, an INI file read with inih.  Every value is
 * checked on load; the first problem is reported as "FILE:LINE: message".
 */
#ifndef PROMISED_CONF_H
#define PROMISED_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "proto.h"

/* a [person LOGIN] section */
struct person {
	char *login;
	char *email;    /* or NULL */
	char *manager;  /* another person's login, or NULL */
	char *webhook;  /* http(s) URL, or NULL */
	char *timezone; /* a zoneinfo name, or NULL for the daemon's */
};

enum smtp_tls {
	SMTP_TLS_REQUIRED,
	SMTP_TLS_OPTIONAL,
	SMTP_TLS_OFF,
};

enum webhook_format {
	WEBHOOK_JSON,
	WEBHOOK_SLACK,
};

struct conf {
	char *path;
	/* [daemon] */
	char *socket;
	char *database;
	enum log_level log_level;
	int64_t max_connections;
	int64_t idle_timeout;      /* seconds without a whole request */
	int64_t max_database_size; /* bytes, 0 for no limit */
	/* fsync every commit (full), or only at checkpoints (normal: an
	 * acknowledged promise survives a crash of promised, not of the
	 * machine) */
	bool durability_full;
	char **admins; /* logins that may act on every promise */
	size_t n_admins;
	/* [policy] */
	int64_t nudge_before[PROTO_MAX_NUDGES];
	size_t n_nudge_before;
	int64_t escalate_after;
	int64_t escalation_repeat;
	int64_t escalate_up_after; /* repeats before the next level is told */
	char *fallback_manager;    /* for owners with no [person] manager */
	/* [delivery] */
	char *delivery_log;
	int64_t concurrency;   /* deliveries in flight at once */
	int64_t give_up_after; /* seconds after which retrying stops */
	int64_t retry_initial; /* first retry delay, doubling ... */
	int64_t retry_max;     /* ... up to this */
	/* [smtp]: email is on when smtp_url is set */
	char *smtp_url;
	char *smtp_from;
	enum smtp_tls smtp_starttls;
	char *smtp_username;
	char *smtp_password; /* read from password_file; never logged */
	int64_t smtp_timeout;
	/* [webhook]: applies to every person's webhook */
	enum webhook_format webhook_format;
	char *webhook_secrets[2]; /* from secret_file; 0, 1 or 2 (rotation) */
	size_t n_webhook_secrets;
	int64_t webhook_timeout;
	/* [person ...] */
	struct person *people;
	size_t n_people;
};

/* the [person login] section, or NULL */
const struct person *conf_person(const struct conf *c, const char *login);
/* login's manager: their [person] manager, else [policy]
 * fallback_manager, else NULL */
const char *conf_manager_of(const struct conf *c, const char *login);
/* true if manager stands above login in the chain of managers */
bool conf_manages(const struct conf *c, const char *manager, const char *login);
/* true if login is listed in [daemon] admins */
bool conf_is_admin(const struct conf *c, const char *login);

/* loads path; on failure returns -EINVAL (or -errno) and writes
 * "FILE:LINE: message" into err */
int conf_load(struct conf **ret, const char *path, char *err, size_t errlen);
/* NULL-safe; returns NULL */
struct conf *conf_free(struct conf *c);

#endif
