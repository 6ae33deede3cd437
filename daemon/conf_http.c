/* SPDX-License-Identifier: MIT */
/*
 * conf_http.c: the [http] section.  It lives apart from conf.c because the
 * web side is a role of its own: where the links in messages point and
 * what signs them, and the listener (where, with which certificate,
 * behind which proxy, within which limits).  A listener reachable from
 * other machines must not carry logins and links in the clear: outside the
 * loopback it needs TLS, a trusted proxy in front, or allow_insecure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_impl.h"
#include "util.h"

/* a header name as RFC 9110 has it: a token */
static bool
header_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 &&
	    strspn(s,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789!#$%&'*+-.^_`|~") == n;
}

/* "127.0.0.1:8080", "[::1]:8080": an address (no name: the listener
 * must not depend on DNS at start-up) and a port */
static int
parse_listen(struct http_conf *h, const char *value)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&h->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&h->addr;
	char host[64], *end;
	const char *colon, *port;
	unsigned long p;
	size_t n;

	memset(&h->addr, 0, sizeof(h->addr));
	if (value[0] == '[') {
		if ((colon = strstr(value, "]:")) == NULL)
			return -EINVAL;
		n = (size_t)(colon - value - 1);
		port = colon + 2;
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, value + 1, n);
	} else {
		if ((colon = strrchr(value, ':')) == NULL)
			return -EINVAL;
		n = (size_t)(colon - value);
		port = colon + 1;
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, value, n);
	}
	host[n] = '\0';
	if (!ascii_digit(port[0]))
		return -EINVAL;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || p == 0 || p > 65535)
		return -EINVAL;
	if (value[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		h->addr_len = sizeof(*in4);
		h->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (value[0] == '[' &&
	    inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		h->addr_len = sizeof(*in6);
		h->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	return -EINVAL;
}

/* an IPv4 or IPv6 address, kept as inet_ntop writes it: the peer's
 * address is compared as text written the same way */
static int
set_proxy(struct loader *ld, const char *value)
{
	struct in6_addr a6;
	struct in_addr a4;
	char text[INET6_ADDRSTRLEN];

	if (inet_pton(AF_INET, value, &a4) == 1)
		inet_ntop(AF_INET, &a4, text, sizeof(text));
	else if (inet_pton(AF_INET6, value, &a6) == 1)
		inet_ntop(AF_INET6, &a6, text, sizeof(text));
	else
		return conf_bad(ld,
		    "[http] trusted_proxy: '%s' is not an IP address, like "
		    "127.0.0.1",
		    value);
	return conf_set_str(&ld->c->http.trusted_proxy, text);
}

static int
set_yes_no(struct loader *ld, const char *name, const char *value, bool *dst)
{
	if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
		*dst = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
		*dst = false;
	else
		return conf_bad(
		    ld, "[http] %s: '%s' is not yes or no", name, value);
	return 0;
}

static int
set_base_url(struct loader *ld, const char *value)
{
	struct conf *c = ld->c;
	size_t len;
	int r;

	/* it goes into HTML, Slack's <URL|label> and plain text as it is:
	 * only characters none of them treats specially */
	if (!conf_url_ok(value) || strlen(value) > 1000 ||
	    strspn(value,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789:/.-_~%[]") != strlen(value))
		return conf_bad(ld,
		    "[http] base_url: '%s' is not an http:// or https:// URL "
		    "without query, like https://promised.example.com",
		    value);
	if ((r = conf_set_str(&c->http_base_url, value)) < 0)
		return r;
	/* links append "/l/...": no doubled slash */
	len = strlen(c->http_base_url);
	while (len > 0 && c->http_base_url[len - 1] == '/')
		c->http_base_url[--len] = '\0';
	return 0;
}

int
conf_set_http(struct loader *ld, const char *name, const char *value)
{
	struct conf *c = ld->c;
	struct http_conf *h = &c->http;

	if (strcmp(name, "base_url") == 0)
		return set_base_url(ld, value);
	if (strcmp(name, "link_secret_file") == 0)
		return conf_read_secrets(ld, "http", name, value,
		    c->link_secrets, 2, &c->n_link_secrets);
	if (strcmp(name, "link_ttl") == 0)
		return conf_set_duration(
		    ld, "http", name, value, 60, &c->link_ttl);
	if (strcmp(name, "listen") == 0) {
		if (parse_listen(h, value) < 0)
			return conf_bad(ld,
			    "[http] listen: '%s' is not ADDRESS:PORT, like "
			    "127.0.0.1:8080 or [::1]:8080",
			    value);
		return conf_set_str(&h->listen, value);
	}
	if (strcmp(name, "cert_file") == 0 || strcmp(name, "key_file") == 0) {
		if (access(value, R_OK) == -1)
			return conf_bad(ld, "[http] %s: cannot read '%s': %s",
			    name, value, strerror(errno));
		return conf_set_str(
		    name[0] == 'c' ? &h->cert_file : &h->key_file, value);
	}
	if (strcmp(name, "trusted_proxy") == 0)
		return set_proxy(ld, value);
	if (strcmp(name, "user_header") == 0) {
		if (!header_name_ok(value))
			return conf_bad(ld,
			    "[http] user_header: '%s' is not a header name",
			    value);
		return conf_set_str(&h->user_header, value);
	}
	if (strcmp(name, "allow_insecure") == 0)
		return set_yes_no(ld, name, value, &h->allow_insecure);
	if (strcmp(name, "max_body") == 0)
		return conf_set_count(ld, "http", name, value, 1024,
		    64 * 1024 * 1024, &h->max_body);
	if (strcmp(name, "max_header") == 0)
		return conf_set_count(
		    ld, "http", name, value, 4096, 1024 * 1024, &h->max_header);
	if (strcmp(name, "max_connections") == 0)
		return conf_set_count(
		    ld, "http", name, value, 1, 100000, &h->max_connections);
	if (strcmp(name, "max_connections_per_ip") == 0)
		return conf_set_count(ld, "http", name, value, 1, 100000,
		    &h->max_connections_per_ip);
	if (strcmp(name, "timeout") == 0)
		return conf_set_duration(
		    ld, "http", name, value, 1, &h->timeout);
	return conf_bad(ld, "[http]: unknown key '%s'", name);
}

void
conf_http_defaults(struct conf *c)
{
	struct http_conf *h = &c->http;

	/* a request's body becomes one request line of the protocol */
	h->max_body = 65536;
	h->max_header = 16384;
	h->max_connections = 1024;
	h->max_connections_per_ip = 64;
	h->timeout = 30;
}

int
conf_check_http(struct conf *c, char *err, size_t errlen)
{
	struct http_conf *h = &c->http;

	if ((h->cert_file == NULL) != (h->key_file == NULL)) {
		snprintf(err, errlen,
		    "%s: [http] cert_file and key_file go together", c->path);
		return -EINVAL;
	}
	if (h->listen != NULL && !h->loopback && h->cert_file == NULL &&
	    h->trusted_proxy == NULL && !h->allow_insecure) {
		snprintf(err, errlen,
		    "%s: [http] listen = %s is reachable from other machines "
		    "without TLS: set cert_file and key_file, put a "
		    "trusted_proxy with TLS in front, or say allow_insecure = "
		    "yes",
		    c->path, h->listen);
		return -EINVAL;
	}
	if (h->user_header == NULL &&
	    conf_set_str(&h->user_header, "X-Remote-User") < 0) {
		snprintf(err, errlen, "%s: out of memory", c->path);
		return -ENOMEM;
	}
	return 0;
}

void
conf_http_free(struct conf *c)
{
	struct http_conf *h = &c->http;

	free(h->listen);
	free(h->cert_file);
	free(h->key_file);
	free(h->trusted_proxy);
	free(h->user_header);
	memset(h, 0, sizeof(*h));
}
