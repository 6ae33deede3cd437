/* SPDX-License-Identifier: MIT */
/*
 * test_web_page.c: unit test for the web page's HTML (daemon/html.c,
 * daemon/web_page.c).  Every page is rendered from replies whose every
 * text field is hostile markup; what comes out must hold none of it
 * unescaped, no script, no inline style or event handler, and every form
 * must carry the CSRF token.  "My promises" lists the overdue first and
 * says which part of how many it shows, with links to the other pages; the
 * form parser decodes what browsers send and refuses the malformed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "html.h"
#include "web_page.h"

#define EVIL "<script>alert(\\\"x\\\")</script>&'\\\""
#define NOW 1795795200

static const char promise_json[] =
    "{\"id\":42,\"title\":\"" EVIL "\",\"owner\":\"dan\",\"for\":\"" EVIL
    "\",\"note\":\"" EVIL "\",\"due_at\":1795791600,\"state\":\"open\","
    "\"snoozes\":1,\"overdue\":true}";

/* b holds no markup of ours but ours: nothing hostile got through */
static void
check_clean(const struct jsonw *b, int line)
{
	check(!b->oom, line, "rendered");
	check(strstr(b->s, "<script") == NULL, line, "no <script");
	check(strstr(b->s, "style=") == NULL, line, "no inline style");
	check(strstr(b->s, "onclick") == NULL && strstr(b->s, "onload") == NULL,
	    line, "no event handler");
	check(strstr(b->s, "alert(\"") == NULL, line, "quotes escaped");
	check(strncmp(b->s, "<!DOCTYPE html>", 15) == 0, line, "doctype");
	check(strstr(b->s, "href=\"/static/style.css\"") != NULL, line,
	    "stylesheet by URL");
	check(strstr(b->s, "</html>") != NULL, line, "whole page");
}

/* every <form> has the csrf field before its </form> */
static void
check_forms(const struct jsonw *b, const char *csrf, int line)
{
	const char *p = b->s, *end;
	char want[128];
	int n = 0;

	snprintf(want, sizeof(want), "name=\"csrf\" value=\"%s\"", csrf);
	while ((p = strstr(p, "<form")) != NULL) {
		end = strstr(p, "</form>");
		check(end != NULL, line, "form closed");
		if (end == NULL)
			return;
		check(strstr(p, want) != NULL && strstr(p, want) < end, line,
		    "form has csrf");
		check(strstr(p, "method=\"post\"") != NULL, line, "form posts");
		p = end;
		n++;
	}
	check(n > 0, line, "some form");
}

static void
test_escape(void)
{
	struct jsonw b = {0};

	html_text(&b, "a<b>&\"c'");
	CHECK(strcmp(b.s, "a&lt;b&gt;&amp;&quot;c&#39;") == 0);
	free(b.s);
	b = (struct jsonw){0};
	html_text(&b, NULL);
	html_text(&b, "");
	html_text(&b, "plain");
	CHECK(strcmp(b.s, "plain") == 0);
	free(b.s);
}

static void
test_form(void)
{
	const char f[] = "csrf=abc&title=Call+back%20%C3%BCber&empty=&flag&"
	                 "bad=%zz&nul=a%00b&cut=%4";
	char out[64];

	CHECK(html_form_get(f, strlen(f), "csrf", out, sizeof(out)) == 0 &&
	    strcmp(out, "abc") == 0);
	CHECK(html_form_get(f, strlen(f), "title", out, sizeof(out)) == 0 &&
	    strcmp(out,
	        "Call back \xc3\xbc"
	        "ber") == 0);
	CHECK(html_form_get(f, strlen(f), "empty", out, sizeof(out)) == 0 &&
	    out[0] == '\0');
	CHECK(html_form_get(f, strlen(f), "flag", out, sizeof(out)) == 0 &&
	    out[0] == '\0');
	CHECK(html_form_get(f, strlen(f), "bad", out, sizeof(out)) == -EINVAL);
	CHECK(html_form_get(f, strlen(f), "nul", out, sizeof(out)) == -EINVAL);
	CHECK(html_form_get(f, strlen(f), "cut", out, sizeof(out)) == -EINVAL);
	CHECK(html_form_get(f, strlen(f), "tit", out, sizeof(out)) == -ENOENT);
	CHECK(html_form_get(f, strlen(f), "title", out, 5) == -EINVAL);
	/* invalid UTF-8 never reaches an operation */
	CHECK(html_form_get("t=%ff", 5, "t", out, sizeof(out)) == -EINVAL);
	/* only the bytes given are read */
	CHECK(html_form_get("a=1&b=2", 3, "b", out, sizeof(out)) == -ENOENT);
}

static void
test_pages(void)
{
	struct web_view v = {"dan", "tok-123", NOW, EVIL, true};
	struct jsonw b = {0};
	json_t *p = json_loads(promise_json, 0, NULL), *list, *get, *sched;
	json_t *digest;
	struct link l = {42, LINK_KEEP, "dan", NOW + 100};
	const char *a, *c;

	CHECK(p != NULL);
	list = json_pack("[{s:I,s:s,s:s,s:I,s:s,s:b},O]", "id", 1, "title",
	    "later one", "owner", "dan", "due_at", (json_int_t)NOW + 7200,
	    "state", "open", "overdue", 0, p);
	struct web_pager pg = {"/", 2, 1, 2, WEB_PAGE_ROWS};

	web_page_home(&b, &v, list, &pg);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "2 open.") != NULL);
	CHECK(strstr(b.s, "1 overdue.") != NULL);
	CHECK(strstr(b.s, "class=\"pager\"") == NULL);
	check_forms(&b, "tok-123", __LINE__);
	/* the overdue one first though it comes second */
	a = strstr(b.s, "/p/42\"");
	c = strstr(b.s, "/p/1\"");
	CHECK(a != NULL && c != NULL && a < c);
	CHECK(strstr(b.s, "&lt;script&gt;") != NULL);
	CHECK(strstr(b.s, "overdue") != NULL);
	CHECK(strstr(b.s, "action=\"/add\"") != NULL);
	free(b.s);

	b = (struct jsonw){0};
	get = json_pack("{s:O,s:[{s:I,s:s,s:s,s:{s:s,s:s}}]}", "promise", p,
	    "events", "at", (json_int_t)NOW, "actor", "dan", "kind", "snoozed",
	    "detail", "reason", EVIL, "via", "link");
	sched = json_pack("[{s:I,s:s,s:s,s:[{s:s,s:s}]}]", "at",
	    (json_int_t)NOW + 60, "kind", "escalation", "rule", EVIL, "to",
	    "to", "boss", "channel", "email");
	web_page_promise(&b, &v, get, sched);
	check_clean(&b, __LINE__);
	check_forms(&b, "tok-123", __LINE__);
	CHECK(strstr(b.s, "/p/42/snooze") != NULL);
	CHECK(strstr(b.s, "/p/42/cancel") != NULL);
	CHECK(strstr(b.s, "/p/42/done") != NULL);
	CHECK(strstr(b.s, "via link") != NULL);
	CHECK(strstr(b.s, "escalation</b> to boss by email") != NULL);
	free(b.s);

	/* a settled promise has no forms */
	b = (struct jsonw){0};
	json_object_set_new(
	    json_object_get(get, "promise"), "state", json_string("kept"));
	web_page_promise(&b, &v, get, NULL);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "<form") == NULL);
	free(b.s);
	b = (struct jsonw){0};
	web_page_signin_link(&b, &v, "prs_" EVIL);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "<button type=\"submit\">Sign in</button>") != NULL);
	free(b.s);

	b = (struct jsonw){0};
	digest = json_pack("{s:{s:i,s:i,s:i,s:i,s:f,s:[{s:s,s:i,s:i,s:i,s:i,"
	                   "s:f}]},s:{s:i,s:[O]}}",
	    "last_week", "due", 2, "kept_on_time", 1, "kept_late", 1, "open", 0,
	    "on_time_rate", 0.5, "owners", "owner", EVIL, "due", 2,
	    "kept_on_time", 1, "kept_late", 1, "open", 0, "on_time_rate", 0.5,
	    "due_this_week", "count", 1, "promises", p);
	web_page_team(&b, &v, list, &pg, digest);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "50%") != NULL);
	CHECK(
	    strstr(b.s, "<h3>dan <span class=\"count\">2</span></h3>") != NULL);
	free(b.s);

	b = (struct jsonw){0};
	web_page_confirm(&b, &v, &l, p, "/l/abc.def");
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "action=\"/l/abc.def\"") != NULL);
	CHECK(strstr(b.s, "Mark it kept") != NULL);
	free(b.s);

	b = (struct jsonw){0};
	web_page_message(&b, &v, EVIL, EVIL);
	check_clean(&b, __LINE__);
	free(b.s);

	b = (struct jsonw){0};
	v.login = NULL;
	web_page_signin(&b, &v, false);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "action=\"/signin\"") != NULL);
	free(b.s);
	b = (struct jsonw){0};
	web_page_signin(&b, &v, true);
	check_clean(&b, __LINE__);
	CHECK(strstr(b.s, "<form") == NULL);
	free(b.s);

	CHECK(strstr(web_style_css, "@media") != NULL);
	json_decref(digest);
	json_decref(sched);
	json_decref(get);
	json_decref(list);
	json_decref(p);
}

static void
test_cookie(void)
{
	char out[16];

	CHECK(html_cookie_get("a=1; s=abc_d-2; b=2", "s", out, sizeof(out)) ==
	        0 &&
	    strcmp(out, "abc_d-2") == 0);
	CHECK(html_cookie_get("s=x", "s", out, sizeof(out)) == 0 &&
	    strcmp(out, "x") == 0);
	CHECK(html_cookie_get("xs=1;s=2", "s", out, sizeof(out)) == 0 &&
	    strcmp(out, "2") == 0);
	CHECK(html_cookie_get("xs=1", "s", out, sizeof(out)) == -ENOENT);
	CHECK(html_cookie_get("", "s", out, sizeof(out)) == -ENOENT);
	CHECK(html_cookie_get("s=", "s", out, sizeof(out)) == -EINVAL);
	CHECK(html_cookie_get("s=a b", "s", out, sizeof(out)) == -EINVAL);
	CHECK(html_cookie_get("s=\"q\"", "s", out, sizeof(out)) == -EINVAL);
	CHECK(html_cookie_get("s=0123456789abcdef", "s", out, sizeof(out)) ==
	    -EINVAL);
}

static void
test_pager(void)
{
	struct web_pager pg = {"/team", 1000, 1, 100, 100};
	struct jsonw b = {0};
	int64_t off = -1;

	/* the page asked for, else the first */
	CHECK(web_page_number(NULL, 100, &off) == 1 && off == 0);
	CHECK(web_page_number("3", 100, &off) == 3 && off == 200);
	CHECK(web_page_number("0", 100, &off) == 1 && off == 0);
	CHECK(web_page_number("-2", 100, &off) == 1 && off == 0);
	CHECK(web_page_number("2x", 100, &off) == 1 && off == 0);
	CHECK(web_page_number("", 100, &off) == 1 && off == 0);
	CHECK(web_page_number("99999999999999999999", 100, &off) == 1);
	CHECK(web_page_number("21474836", 100, &off) == 21474836 &&
	    off == 2147483500);
	CHECK(web_page_number("21474837", 100, &off) == 1 && off == 0);

	/* the first of ten: a count, and only a next page */
	web_page_count(&b, &pg, "open");
	web_page_pager(&b, &pg);
	CHECK(b.s != NULL && !b.oom);
	CHECK(strstr(b.s, "1,000 open; showing 1&ndash;100.") != NULL);
	CHECK(strstr(b.s, "href=\"/team?page=2\">Next page") != NULL);
	CHECK(strstr(b.s, "Previous") == NULL);
	free(b.s);

	/* the middle: both ways */
	b = (struct jsonw){0};
	pg.page = 5;
	web_page_count(&b, &pg, "open");
	web_page_pager(&b, &pg);
	CHECK(strstr(b.s, "showing 401&ndash;500.") != NULL);
	CHECK(strstr(b.s, "href=\"/team?page=4\">Previous page") != NULL);
	CHECK(strstr(b.s, "href=\"/team?page=6\">Next page") != NULL);
	free(b.s);

	/* the last, short one: only back */
	b = (struct jsonw){0};
	pg.total = 1234567;
	pg.page = 12346;
	pg.shown = 67;
	web_page_count(&b, &pg, "open");
	web_page_pager(&b, &pg);
	CHECK(
	    strstr(b.s, "1,234,567 open; showing 1,234,501&ndash;1,234,567.") !=
	    NULL);
	CHECK(strstr(b.s, "?page=12345\">Previous page") != NULL);
	CHECK(strstr(b.s, "Next") == NULL);
	free(b.s);

	/* past the end, from an old link: back to the last page */
	b = (struct jsonw){0};
	pg.total = 150;
	pg.page = 9;
	pg.shown = 0;
	web_page_count(&b, &pg, "open");
	web_page_pager(&b, &pg);
	CHECK(strstr(b.s, "150 open; none on this page.") != NULL);
	CHECK(strstr(b.s, "?page=2\">Previous page") != NULL);
	CHECK(strstr(b.s, "Next") == NULL);
	free(b.s);

	/* all on one page: no links, the count alone */
	b = (struct jsonw){0};
	pg.total = 100;
	pg.page = 1;
	pg.shown = 100;
	web_page_count(&b, &pg, "open");
	web_page_pager(&b, &pg);
	CHECK(strcmp(b.s, "<p class=\"summary\">100 open.</p>") == 0);
	free(b.s);
}

int
main(void)
{
	set_tz("UTC");
	test_escape();
	test_form();
	test_pages();
	test_pager();
	test_cookie();
	printf("test_web_page: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
