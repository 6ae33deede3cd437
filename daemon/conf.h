/* SPDX-License-Identifier: MIT */
/*
 * conf.h: promised.conf, an INI file read with inih.  Every value is
 * checked on load; the first problem is reported as "FILE:LINE: message".
 */
#ifndef PROMISED_CONF_H
#define PROMISED_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "calendar.h"
#include "log.h"
#include "proto.h"

/* the body of a webhook: our JSON event, or a Slack {"text"} line */
enum webhook_format {
	WEBHOOK_JSON,
	WEBHOOK_SLACK,
};

/* a [person LOGIN] section */
struct person {
	char *login;
	char *email;    /* or NULL */
	char *manager;  /* another person's login, or NULL */
	char *webhook;  /* http(s) URL, or NULL */
	char *timezone; /* a zoneinfo name, or NULL for the daemon's */
	/* their effective calendar: their own business_hours, else
	 * [calendar]'s, always with [calendar]'s holidays (owned) */
	struct calendar cal;
	bool own_hours; /* business_hours was set in their section */
	/* the body their webhook takes, when not [webhook] format's */
	enum webhook_format webhook_format;
	bool has_webhook_format;
	/* agenda: a morning mail of their day's promises at this minute of
	 * their business days, in their zone (agenda.h) */
	int agenda_minute;
	bool has_agenda;
};

#define CONF_KIND_NAME_MAX 32

/*
 * a [kind NAME] section: defaults for a class of promises.  A has_ flag
 * false means [policy]'s value applies.
 */
struct kind {
	char *name; /* [a-z0-9-], 1 to CONF_KIND_NAME_MAX bytes */
	char *due;  /* a WHEN for conf_when(), relative to the adding */
	int64_t nudge[PROTO_MAX_NUDGES]; /* descending, as nudge_before */
	size_t n_nudge;
	bool has_nudge; /* with n_nudge 0: "none", no nudges */
	int64_t escalate_after;
	bool has_escalate_after;
	int64_t escalation_repeat;
	bool has_escalation_repeat;
};

/*
 * [mail]: what promised takes in by mail.  Replies act when reply_domain
 * and secrets are set; new promises are made when address and authserv_id
 * are.  Only gateway_users may hand mail in.
 */
struct mail_conf {
	char *address;      /* new promises are sent (BCC) here, or NULL */
	char *reply_domain; /* Reply-To: promise+ID.TOKEN@reply_domain */
	char *secrets[2];   /* from secret_file; the last is the newest */
	size_t n_secrets;
	char **domains; /* the company's; a recipient elsewhere is the
	                 * customer.  Default: address's domain */
	size_t n_domains;
	char *authserv_id;    /* whose Authentication-Results are trusted */
	char *default_kind;   /* a [kind] for a new promise with no deadline */
	char **gateway_users; /* logins that may run promise mail-in */
	size_t n_gateway_users;
};

/*
 * [http]: the listener (conf_http.c), off while listen is NULL.  Outside
 * the loopback it needs TLS (cert_file and key_file), a trusted_proxy in
 * front, or allow_insecure said outright.
 */
struct http_conf {
	char *listen; /* as written, "HOST:PORT", or NULL */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool loopback;
	char *cert_file, *key_file; /* both or neither */
	/* the peer whose user_header is believed (an address as
	 * inet_ntop writes it), or NULL */
	char *trusted_proxy;
	char *user_header;
	bool allow_insecure;
	int64_t max_body;   /* bytes of a request's body */
	int64_t max_header; /* bytes of a request's line and headers */
	int64_t max_connections;
	int64_t max_connections_per_ip;
	int64_t timeout; /* seconds a connection may stay silent */
};

enum smtp_tls {
	SMTP_TLS_REQUIRED,
	SMTP_TLS_OPTIONAL,
	SMTP_TLS_OFF,
};

struct conf {
	char *path;
	/* [daemon] */
	char *socket;
	char *database;
	enum log_level log_level;
	int64_t max_connections;
	int64_t max_connections_per_user; /* but root and admins */
	int64_t idle_timeout;             /* seconds without a whole request */
	int64_t max_database_size;        /* bytes, 0 for no limit */
	/* fsync every commit (full), or only at checkpoints (normal: an
	 * acknowledged promise survives a crash of promised, not of the
	 * machine) */
	bool durability_full;
	char **admins; /* logins that may act on every promise */
	size_t n_admins;
	/* [store]: PostgreSQL at conninfo (a libpq connection string or
	 * URL) instead of SQLite at database */
	bool store_postgresql;
	char *conninfo;
	/* how often a standby tries to take the leader's lock (s) */
	int64_t leader_poll;
	/* [policy] */
	int64_t nudge_before[PROTO_MAX_NUDGES];
	size_t n_nudge_before;
	int64_t escalate_after;
	int64_t escalation_repeat;
	int64_t escalate_up_after; /* repeats before the next level is told */
	char *fallback_manager;    /* for owners with no [person] manager */
	/* escalations wait for their recipient's business hours to open */
	bool escalate_in_hours;
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
	/* PEM CA certificates to trust, or NULL: the system's store */
	char *smtp_ca_file;
	bool smtp_tls_verify; /* false: any certificate and name pass */
	/* [webhook]: applies to every person's webhook */
	enum webhook_format webhook_format;
	char *webhook_secrets[2]; /* from secret_file; 0, 1 or 2 (rotation) */
	size_t n_webhook_secrets;
	int64_t webhook_timeout;
	/* [http]: links in messages are built from base_url (no trailing
	 * slash) and signed with link_secrets, the newest last */
	char *http_base_url;
	char *link_secrets[2];
	size_t n_link_secrets;
	int64_t link_ttl; /* seconds a link lives */
	struct http_conf http;
	/* [calendar]: the company's; holidays are in every person's too */
	struct calendar calendar;
	bool calendar_set; /* a [calendar] section was given */
	char *calendar_tz; /* a zoneinfo name, or NULL for the daemon's */
	/* [digest] */
	int digest_wday;   /* 0 = Sunday .. 6 = Saturday, or -1: no digest */
	int digest_minute; /* 0..1439 after midnight in calendar_tz */
	/* [mail]: mail into promised (promise mail-in); conf_mail.c */
	struct mail_conf mail;
	/* [person ...] */
	struct person *people;
	size_t n_people;
	/* [kind ...], in the order of the file */
	struct kind *kinds;
	size_t n_kinds;
};

/* the [person login] section, or NULL */
const struct person *conf_person(const struct conf *c, const char *login);
/* login's manager: their [person] manager, else [policy]
 * fallback_manager, else NULL */
const char *conf_manager_of(const struct conf *c, const char *login);
/* the managers above login into chain, nearest first, at most max: the
 * chain ends at its top, at a cycle, or back at login.  Returns how many */
#define CONF_MAX_CHAIN 16
size_t conf_chain(
    const struct conf *c, const char *login, const char **chain, size_t max);
/* true if manager stands above login in the chain of managers */
bool conf_manages(const struct conf *c, const char *manager, const char *login);
/* true if login is listed in [daemon] admins */
bool conf_is_admin(const struct conf *c, const char *login);

/* whether login works to business hours: the configuration has a
 * [calendar] or gives them business_hours.  Nudges are then moved into
 * those hours; without, they land when they fall. */
bool conf_keeps_hours(const struct conf *c, const char *login);
/* the body login's webhook takes: their webhook_format, else [webhook]
 * format */
enum webhook_format conf_webhook_format(
    const struct conf *c, const char *login);
/* true if login may hand mail in ([mail] gateway_users) */
bool conf_is_gateway(const struct conf *c, const char *login);
/* true if the address's domain is one of [mail] domains (any case) */
bool conf_mail_ours(const struct conf *c, const char *address);
/* the person whose email is address (any case in the domain), or NULL */
const struct person *conf_person_by_email(
    const struct conf *c, const char *address);

/* the [kind name] section, or NULL */
const struct kind *conf_kind(const struct conf *c, const char *name);

/*
 * Business time.  A person's calendar is read in their [person] timezone,
 * else [calendar] timezone, else the daemon's own zone; logins with no
 * [person] section (and NULL) get the company's calendar in [calendar]
 * timezone.  The functions below that compute make that zone the local
 * one (tz_enter) for the computation only and put TZ back before they
 * return, so they are for the main thread alone, after tz_pin().
 */

/*
 * login's effective calendar, and in *ret_zone (if not NULL) the zone to
 * read it in, NULL meaning the daemon's own.  Both point into c.
 */
const struct calendar *conf_calendar_of(
    const struct conf *c, const char *login, const char **ret_zone);

/*
 * Resolves a WHEN text for login, relative to now, in login's calendar and
 * zone: business forms ("1 business day", "in 4 business hours", "eod",
 * "eow") by calendar_parse_when; a plain duration ("2h", "3d", "90") as now
 * plus that many elapsed seconds; anything else ("in 2h", "tomorrow
 * 10:00", "fri", ISO dates) by timefmt_parse.  Past times are not refused.
 * Returns 0 and sets *ret, or -EINVAL with *err (if err is not NULL) a
 * static lower-case message; -ENOMEM ("out of memory") if the zone could
 * not be switched.
 */
int conf_when(const struct conf *c, const char *login, const char *text,
    int64_t now, int64_t *ret, const char **err);

/*
 * t if it lies within login's business hours, else the latest close at or
 * before t (calendar_last_open_before in login's calendar and zone), or -1
 * if there is none in reach or the zone could not be switched.  For moving
 * a nudge that would land outside business hours earlier.
 */
int64_t conf_business_before(
    const struct conf *c, const char *login, int64_t t);

/*
 * t if it lies within login's business hours, else their next opening
 * (calendar_next_open in login's calendar and zone), or -1 as above.  For
 * holding an escalation that would reach them while they are away.
 */
int64_t conf_business_after(const struct conf *c, const char *login, int64_t t);

/*
 * The next business morning after t for login: the opening of their next
 * business day when t is within hours, else their next opening (before
 * the day's opening, that very morning).  -1 as above.  Where a one-click
 * snooze moves a deadline.
 */
int64_t conf_next_morning(const struct conf *c, const char *login, int64_t t);

/* conf_when(c, login, k->due, now, ret, err): the due time of a new
 * promise of kind k owned by login */
int conf_kind_due(const struct conf *c, const struct kind *k, const char *login,
    int64_t now, int64_t *ret, const char **err);

/* loads path; on failure returns -EINVAL (or -errno) and writes
 * "FILE:LINE: message" into err */
int conf_load(struct conf **ret, const char *path, char *err, size_t errlen);
/* NULL-safe; returns NULL */
struct conf *conf_free(struct conf *c);

#endif
