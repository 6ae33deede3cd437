/* SPDX-License-Identifier: MIT */
/*
 * conf_mail.c: the [mail] section, what promised takes in by mail, and the
 * questions asked of it.  It lives apart from conf.c because mail in is a
 * role of its own: the addresses promised answers at, the key its Reply-To
 * tokens are signed with, whose mail server's verdict on a sender is
 * trusted, and which local users stand for the mail server.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_impl.h"
#include "util.h"

#define MAX_LIST 64

/* a DNS name: labels of letters, digits and '-', not at a label's ends */
static bool
domain_ok(const char *s)
{
	size_t label = 0, n = 0;

	for (; *s != '\0'; s++, n++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!ascii_alpha(*s) && !ascii_digit(*s) &&
		    !(*s == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return n > 0 && n <= 253 && label > 0 && s[-1] != '-';
}

static void
list_free(char ***v, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* a list separated by commas and/or spaces, each item checked by ok */
static int
set_list(struct loader *ld, const char *name, const char *value,
    bool (*ok)(const char *), const char *what, char ***v, size_t *n)
{
	char *copy, *tok, *save = NULL, **nv;
	int r = 0;

	list_free(v, n);
	if ((copy = strdup(value)) == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (!ok(tok)) {
			r = conf_bad(
			    ld, "[mail] %s: '%s' is not %s", name, tok, what);
			break;
		}
		if (*n == MAX_LIST) {
			r = conf_bad(ld, "[mail] %s: more than %d of them",
			    name, MAX_LIST);
			break;
		}
		if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
			r = -ENOMEM;
			break;
		}
		*v = nv;
		if (((*v)[*n] = strdup(tok)) == NULL) {
			r = -ENOMEM;
			break;
		}
		(*n)++;
	}
	free(copy);
	if (r == 0 && *n == 0)
		r = conf_bad(ld, "[mail] %s: empty; give at least one", name);
	return r;
}

int
conf_set_mail(struct loader *ld, const char *name, const char *value)
{
	struct mail_conf *m = &ld->c->mail;

	if (strcmp(name, "address") == 0) {
		if (!util_email_ok(value))
			return conf_bad(ld,
			    "[mail] address: '%s' is not an address like "
			    "promises@example.com",
			    value);
		return conf_set_str(&m->address, value);
	}
	if (strcmp(name, "reply_domain") == 0) {
		if (!domain_ok(value))
			return conf_bad(ld,
			    "[mail] reply_domain: '%s' is not a domain like "
			    "reply.example.com",
			    value);
		return conf_set_str(&m->reply_domain, value);
	}
	if (strcmp(name, "secret_file") == 0)
		return conf_read_secrets(
		    ld, "mail", name, value, m->secrets, 2, &m->n_secrets);
	if (strcmp(name, "domains") == 0)
		return set_list(ld, name, value, domain_ok,
		    "a domain like example.com", &m->domains, &m->n_domains);
	if (strcmp(name, "authserv_id") == 0) {
		/* RFC 8601's authserv-id is a value (a token); in practice
		 * the receiving host's name */
		if (!domain_ok(value))
			return conf_bad(ld,
			    "[mail] authserv_id: '%s' is not a host name like "
			    "mx.example.com",
			    value);
		return conf_set_str(&m->authserv_id, value);
	}
	if (strcmp(name, "default_kind") == 0)
		return conf_set_str(&m->default_kind, value);
	if (strcmp(name, "gateway_users") == 0)
		return set_list(ld, name, value, util_login_ok, "a login name",
		    &m->gateway_users, &m->n_gateway_users);
	return conf_bad(ld, "[mail]: unknown key '%s'", name);
}

int
conf_check_mail(struct conf *c, char *err, size_t errlen)
{
	struct mail_conf *m = &c->mail;
	const char *at;

	if (m->default_kind != NULL && conf_kind(c, m->default_kind) == NULL) {
		snprintf(err, errlen,
		    "%s: [mail] default_kind: no [kind %s] section", c->path,
		    m->default_kind);
		return -EINVAL;
	}
	if (m->reply_domain != NULL && m->n_secrets == 0) {
		snprintf(err, errlen,
		    "%s: [mail] reply_domain is set but secret_file is not: "
		    "replies are signed",
		    c->path);
		return -EINVAL;
	}
	/* the company is where promised's own address is, unless told */
	if (m->n_domains == 0 && m->address != NULL) {
		at = strchr(m->address, '@');
		if ((m->domains = calloc(1, sizeof(*m->domains))) == NULL ||
		    (m->domains[0] = strdup(at + 1)) == NULL) {
			snprintf(err, errlen, "%s: out of memory", c->path);
			return -ENOMEM;
		}
		m->n_domains = 1;
	}
	return 0;
}

void
conf_mail_free(struct conf *c)
{
	struct mail_conf *m = &c->mail;

	free(m->address);
	free(m->reply_domain);
	for (size_t i = 0; i < m->n_secrets; i++)
		conf_free_secret(m->secrets[i]);
	list_free(&m->domains, &m->n_domains);
	free(m->authserv_id);
	free(m->default_kind);
	list_free(&m->gateway_users, &m->n_gateway_users);
}

bool
conf_is_gateway(const struct conf *c, const char *login)
{
	for (size_t i = 0; i < c->mail.n_gateway_users; i++)
		if (strcmp(c->mail.gateway_users[i], login) == 0)
			return true;
	return false;
}

bool
conf_mail_ours(const struct conf *c, const char *address)
{
	const char *at = strrchr(address, '@');

	if (at == NULL)
		return false;
	for (size_t i = 0; i < c->mail.n_domains; i++)
		if (strcasecmp(at + 1, c->mail.domains[i]) == 0)
			return true;
	return false;
}

/*
 * The local part is compared as it is (RFC 5321 leaves its case to the
 * receiving host, and a configured address is written as the person
 * uses it), the domain in any case.
 */
const struct person *
conf_person_by_email(const struct conf *c, const char *address)
{
	const char *at = strrchr(address, '@'), *pat;
	size_t local;

	if (at == NULL)
		return NULL;
	local = (size_t)(at - address);
	for (size_t i = 0; i < c->n_people; i++) {
		const char *e = c->people[i].email;

		if (e == NULL || (pat = strrchr(e, '@')) == NULL ||
		    (size_t)(pat - e) != local)
			continue;
		if (strncmp(e, address, local) == 0 &&
		    strcasecmp(pat + 1, at + 1) == 0)
			return &c->people[i];
	}
	return NULL;
}
