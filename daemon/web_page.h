/* SPDX-License-Identifier: MIT */
/*
 * web_page.h: the web page's HTML, rendered from the replies of the
 * operations (PROTOCOL.md objects), never from the store.  Pages work
 * without JavaScript: every action is a form posting back, carrying the
 * session's CSRF token.  Times are written in the process's current zone:
 * the caller enters the viewer's (tz.h) around a render.  Pure.
 */
#ifndef PROMISED_WEB_PAGE_H
#define PROMISED_WEB_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "jsonw.h"
#include "link.h"

/* who looks, and what every form carries */
struct web_view {
	const char *login; /* signed in as; NULL on the sign-in pages */
	const char *csrf;  /* the form token of their session, or NULL */
	int64_t now;
	const char *flash; /* one line to show on top (escaped), or NULL */
	bool flash_bad;    /* it reports a failure */
};

/* the number of rows a list page shows */
#define WEB_PAGE_ROWS 100

/* which part of a long list a page shows */
struct web_pager {
	const char *path; /* ours: the pages are path?page=N */
	int64_t total;    /* how many there are in all */
	int64_t page;     /* this one, from 1 */
	int64_t shown;    /* how many this page shows */
	int64_t per_page;
};

/* the page of ?page=text (1 for NULL or nonsense) and the offset of its
 * first row; at most so far that the offset stays below INT32_MAX */
int64_t web_page_number(const char *text, int64_t per_page, int64_t *offset);

/* "1,000 open; showing 1-100." of noun ("open"), in a paragraph */
void web_page_count(
    struct jsonw *b, const struct web_pager *pg, const char *noun);

/* the links to the previous and next page, when there are such */
void web_page_pager(struct jsonw *b, const struct web_pager *pg);

/* "My promises": list, a page of a list reply's "promises" (open, by due
 * time, overdue first), pg which page of how many, and the form to add
 * one */
void web_page_home(struct jsonw *b, const struct web_view *v, json_t *list,
    const struct web_pager *pg);

/*
 * One promise: get, a get reply ({"promise","events"}), and explain's
 * "schedule" (or NULL), with the forms to keep, snooze, cancel it and
 * acknowledge its escalation while it is open.
 */
void web_page_promise(
    struct jsonw *b, const struct web_view *v, json_t *get, json_t *schedule);

/*
 * "My team": overdue, a page (pg) of a list reply's "promises" of state
 * overdue (the viewer's reports' and their own), grouped by owner;
 * digest, a digest reply's "digest" (or NULL when the viewer manages no
 * one).
 */
void web_page_team(struct jsonw *b, const struct web_view *v, json_t *overdue,
    const struct web_pager *pg, json_t *digest);

/*
 * What a signed link would do, and the one button that does it (a POST
 * to action_url): promise is the promise as its recipient sees it.  A
 * scanner that opens the link gets this page and changes nothing.
 */
void web_page_confirm(struct jsonw *b, const struct web_view *v,
    const struct link *l, json_t *promise, const char *action_url);

/* a page of one message (escaped), with a link to the start */
void web_page_message(struct jsonw *b, const struct web_view *v,
    const char *title, const char *text);

/* the sign-in form asking for an email address; sent, once one was
 * submitted: the same answer whether the address is known or not */
void web_page_signin(struct jsonw *b, const struct web_view *v, bool sent);

/* what a sign-in link opens: one button posting to action_url (the
 * link itself); a scanner that opens the link uses nothing up */
void web_page_signin_link(
    struct jsonw *b, const struct web_view *v, const char *action_url);

/* the stylesheet served at /static/style.css */
extern const char web_style_css[];

#endif
