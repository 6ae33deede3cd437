/* SPDX-License-Identifier: MIT */
/*
 * http_web.h: the web page (web_page.h) over HTTP.  "My promises" at /,
 * one promise at /p/ID, "My team" at /team, and forms posting back to add,
 * keep, snooze, cancel and acknowledge through the same operations as the
 * socket and the API, as the caller "via web".  Sign-in by email
 * (auth_session.h): /signin asks for an address, /signin/SECRET shows one
 * button whose POST opens a session cookie, /signout ends it.
 *
 * The caller is the session cookie's, else the trusted proxy's user
 * header or a bearer token (http_auth.h); anyone else is sent to /signin.
 * Every form carries a token bound to the caller (an HMAC under the link
 * keys, or a key of this process when there are none), and a POST without
 * a valid one, or from another site (its Origin, or the browser's
 * Sec-Fetch-Site), is a 403 that changes nothing.  A change is answered (a 303
 * back to a page that says it was done) once its batch commits, like every
 * change over HTTP.
 */
#ifndef PROMISED_HTTP_WEB_H
#define PROMISED_HTTP_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "http_op.h"
#include "op.h"

struct http_web;

/* what the web side reads of a request; any pointer but method and path
 * may be NULL when the request has no such thing */
struct http_web_req {
	const char *method;
	const char *path;  /* decoded, without the query */
	const char *flash; /* the query's "m": which done-message to show */
	const char *page;  /* the query's "page": which page of a list */
	const char *content_type;
	const char *body;
	size_t len;
	const char *peer; /* the client's address as inet_ntop writes it */
	const char *user; /* the [http] user_header's value */
	const char *authorization;
	const char *cookie; /* the Cookie header */
	const char *origin;
	const char *fetch_site; /* Sec-Fetch-Site */
	const char *host;
	bool tls; /* served over TLS by the listener itself */
	/* whether who may have one more change wait for its commit (the
	 * listener's limit per user), or NULL for no limit */
	bool (*may_hold)(void *arg, const struct op_caller *who);
	void *hold_arg;
};

/* 0 with *ret ready for ctx (which must outlive it), or -ENOMEM */
int http_web_open(struct http_web **ret, struct op_ctx *ctx);
/* NULL-safe; returns NULL */
struct http_web *http_web_close(struct http_web *w);

/* true for the paths the web side answers */
bool http_web_path(const char *path);

/*
 * Answers rq into a (zeroed); the caller's login, once known, is copied
 * into login (len bytes, "" before) for the listener's limits.
 */
void http_web(struct http_web *w, const struct http_web_req *rq, char *login,
    size_t len, struct http_answer *a);

#endif
