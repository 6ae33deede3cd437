/* SPDX-License-Identifier: MIT */
/*
 * http_web.c: the web page over HTTP, see http_web.h.  Pages are rendered
 * from the replies of the operations the socket runs (web_page.c renders,
 * this file asks and answers); a form becomes one request line, run as
 * the caller "via web".  Whatever is wrong, the answer is a page a person
 * can read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "auth_session.h"
#include "conf.h"
#include "html.h"
#include "http_auth.h"
#include "http_route.h"
#include "http_web.h"
#include "link.h"
#include "msglinks.h"
#include "proto.h"
#include "tz.h"
#include "util.h"
#include "web_page.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define SIGNIN "/signin"

struct http_web {
	struct op_ctx *ctx;
	/* the form key when no link key is configured: forms outlive no
	 * restart then, which costs a reload of the page */
	char key[65];
	char *keyv[1];
};

/* what the caller is, for one request */
struct caller {
	struct op_caller who;
	char login[72];
	char session[AUTH_COOKIE_MAX]; /* the session cookie, or "" */
	char csrf[LINK_TAG_LEN + 1];
};

int
http_web_open(struct http_web **ret, struct op_ctx *ctx)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	struct http_web *w;
	size_t i;

	*ret = NULL;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->ctx = ctx;
	for (i = 0; i < sizeof(raw); i++) {
		w->key[2 * i] = hex[raw[i] >> 4];
		w->key[2 * i + 1] = hex[raw[i] & 15];
	}
	explicit_bzero(raw, sizeof(raw));
	w->keyv[0] = w->key;
	*ret = w;
	return 0;
}

struct http_web *
http_web_close(struct http_web *w)
{
	if (w == NULL)
		return NULL;
	explicit_bzero(w->key, sizeof(w->key));
	free(w);
	return NULL;
}

bool
http_web_path(const char *path)
{
	return strcmp(path, "/") == 0 || strncmp(path, "/p/", 3) == 0 ||
	    strcmp(path, "/team") == 0 || strcmp(path, "/add") == 0 ||
	    strcmp(path, "/static/style.css") == 0 ||
	    strcmp(path, SIGNIN) == 0 || strncmp(path, SIGNIN "/", 8) == 0 ||
	    strcmp(path, "/signout") == 0;
}

/* ---- answers ------------------------------------------------------------ */

static void
page(struct http_answer *a, int status, struct jsonw *b)
{
	http_answer_clear(a);
	a->status = b->oom ? 500 : status;
	a->type = HTTP_HTML;
	a->body = b->oom ? NULL : b->s;
	a->len = b->oom ? 0 : b->len;
	if (b->oom)
		free(b->s);
}

static void
message(struct http_answer *a, int status, const char *login, const char *title,
    const char *text)
{
	struct web_view v = {.login = login, .now = util_now()};
	struct jsonw b = {0};

	web_page_message(&b, &v, title, text);
	page(a, status, &b);
}

/* a 303 to url (ours: a path of this site) */
static void
redirect(struct http_answer *a, const char *url)
{
	struct jsonw b = {0};

	http_answer_clear(a);
	a->status = 303;
	a->type = HTTP_HTML;
	if ((a->location = strdup(url)) == NULL) {
		http_answer_error(a, 500, "out of memory");
		return;
	}
	jw_lit(&b, "<!DOCTYPE html>\n<p><a href=\"");
	html_text(&b, url);
	jw_lit(&b, "\">Continue</a></p>\n");
	if (b.oom) {
		free(b.s);
		return;
	}
	a->body = b.s;
	a->len = b.len;
}

/* the done-message a redirect's "m" names, or NULL */
static const char *
flash_of(const char *m)
{
	static const struct {
		const char *m, *text;
	} map[] = {
	    {"added", "Added."},
	    {"kept", "Marked kept."},
	    {"snoozed", "Snoozed."},
	    {"cancelled", "Cancelled."},
	    {"acked", "Escalation acknowledged."},
	    {"out", "Signed out."},
	};
	size_t i;

	for (i = 0; m != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(m, map[i].m) == 0)
			return map[i].text;
	return NULL;
}

/* ---- who calls ---------------------------------------------------------- */

static struct link_keys
form_keys(const struct http_web *w)
{
	struct link_keys k = msglinks_keys(w->ctx->conf);

	if (k.n == 0) {
		k.keys = w->keyv;
		k.n = 1;
	}
	return k;
}

/* what a form token is bound to: the session, else the login */
static void
csrf_data(const struct caller *c, char *out, size_t len)
{
	if (c->session[0] != '\0')
		snprintf(out, len, "session\n%s", c->session);
	else
		snprintf(out, len, "login\n%s", c->login);
}

/*
 * The caller of rq into c: the session cookie's, else http_auth's.  0;
 * -EACCES when no one is signed in (*why said); -EIO when the store could
 * not be read.
 */
static int
caller(struct http_web *w, const struct http_web_req *rq, struct caller *c,
    const char **why)
{
	struct link_keys k = form_keys(w);
	char data[128];
	int r;

	memset(c, 0, sizeof(*c));
	*why = "sign in";
	if (rq->cookie != NULL &&
	    html_cookie_get(rq->cookie, AUTH_SESSION_COOKIE, c->session,
	        sizeof(c->session)) == 0) {
		r = auth_session_check(w->ctx, c->session, &c->who);
		if (r == 0) {
			util_strlcpy(c->login, c->who.login, sizeof(c->login));
			c->who.login = c->login;
			goto found;
		}
		if (r != -EACCES) {
			*why = "the session store cannot be read; try again";
			return -EIO;
		}
		/* an old cookie: the other ways may still say who */
		c->session[0] = '\0';
	}
	if ((r = http_auth(w->ctx, rq->peer, rq->user, rq->authorization,
	         c->login, sizeof(c->login), &c->who, why)) < 0)
		return r;
found:
	c->who.via = "web";
	csrf_data(c, data, sizeof(data));
	if (link_tag(&k, "csrf", data, c->csrf, sizeof(c->csrf)) < 0) {
		*why = "cannot make a form token";
		return -EIO;
	}
	return 0;
}

/* scheme://authority of url, into out ("" if url has none) */
static void
origin_of(const char *url, char *out, size_t len)
{
	const char *p = url != NULL ? strstr(url, "://") : NULL;
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += 3;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	if (n < len) {
		memcpy(out, url, n);
		out[n] = '\0';
	}
}

/*
 * A POST from a page of ours.  Browsers say where a request comes from in
 * Sec-Fetch-Site; under our Referrer-Policy (no-referrer) they send the
 * Origin of a form as "null", so without Sec-Fetch-Site an Origin is
 * checked only when named: base_url's, or this Host's.  With neither (an
 * older client) the form token still has to be right.
 */
static bool
same_origin(const struct conf *c, const struct http_web_req *rq)
{
	char want[512];

	if (rq->fetch_site != NULL)
		return strcmp(rq->fetch_site, "same-origin") == 0;
	if (rq->origin == NULL || strcmp(rq->origin, "null") == 0)
		return true;
	origin_of(c->http_base_url, want, sizeof(want));
	if (want[0] != '\0' && strcasecmp(rq->origin, want) == 0)
		return true;
	if (rq->host == NULL)
		return false;
	snprintf(want, sizeof(want), "%s://%s", rq->tls ? "https" : "http",
	    rq->host);
	return strcasecmp(rq->origin, want) == 0;
}

/* a form field, decoded, malloc'd into *ret (NULL if absent or empty);
 * false for a malformed one */
static bool
field(const struct http_web_req *rq, const char *name, char **ret)
{
	char *s;
	int r;

	*ret = NULL;
	if ((s = malloc(rq->len + 1)) == NULL)
		return false;
	r = html_form_get(
	    rq->body != NULL ? rq->body : "", rq->len, name, s, rq->len + 1);
	if (r < 0 || s[0] == '\0') {
		free(s);
		return r == 0 || r == -ENOENT;
	}
	*ret = s;
	return true;
}

/* the form's token is the caller's */
static bool
csrf_ok(
    struct http_web *w, const struct http_web_req *rq, const struct caller *c)
{
	struct link_keys k = form_keys(w);
	char data[128], *tag = NULL;
	bool ok;

	if (!field(rq, "csrf", &tag) || tag == NULL)
		return false;
	csrf_data(c, data, sizeof(data));
	ok = link_tag_ok(&k, "csrf", data, tag);
	free(tag);
	return ok;
}

/* ---- operations --------------------------------------------------------- */

/* runs req (consumed) for c; the reply in *ret, or NULL without memory */
static json_t *
run(struct http_web *w, const struct caller *c, json_t *req, bool *write)
{
	json_t *reply = NULL;
	char *line = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	bool wr = false;

	json_decref(req);
	if (line != NULL &&
	    http_op_run(w->ctx, &c->who, line, strlen(line), &reply, &wr) < 0)
		reply = NULL;
	free(line);
	if (write != NULL)
		*write = *write || wr;
	return reply;
}

static bool
ok(const json_t *reply)
{
	return json_is_true(json_object_get(reply, "ok"));
}

/* a refused operation as a page of its words */
static void
refused(struct http_answer *a, const struct caller *c, const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");
	const char *msg = proto_str(e, "message");

	message(a, http_status_of(proto_str(e, "code")), c->login, "Not done",
	    msg != NULL ? msg : "internal error");
}

/* renders in the viewer's zone, as `promise list` does in theirs */
struct zone {
	struct tz_save tz;
};

static void
zone_enter(struct zone *z, const struct conf *cf, const char *login)
{
	const char *zone;

	(void)conf_calendar_of(cf, login, &zone);
	(void)tz_enter(&z->tz, zone);
}

/* ---- pages -------------------------------------------------------------- */

static void
home(struct http_web *w, const struct http_web_req *rq, struct caller *c,
    struct http_answer *a)
{
	struct web_view v = {
	    c->login, c->csrf, util_now(), flash_of(rq->flash), false};
	struct web_pager pg = {.path = "/", .per_page = WEB_PAGE_ROWS};
	struct jsonw b = {0};
	struct zone z;
	json_t *list;
	int64_t offset;

	pg.page = web_page_number(rq->page, pg.per_page, &offset);
	list = run(w, c,
	    json_pack("{sisssssIsIsb}", "v", 1, "op", "list", "owner", c->login,
	        "limit", (json_int_t)pg.per_page, "offset", (json_int_t)offset,
	        "total", 1),
	    NULL);
	if (list == NULL) {
		http_answer_error(a, 500, "out of memory");
		return;
	}
	if (!ok(list)) {
		refused(a, c, list);
		json_decref(list);
		return;
	}
	pg.total = (int64_t)json_integer_value(json_object_get(list, "total"));
	pg.shown = (int64_t)json_array_size(json_object_get(list, "promises"));
	zone_enter(&z, w->ctx->conf, c->login);
	web_page_home(&b, &v, json_object_get(list, "promises"), &pg);
	tz_leave(&z.tz);
	page(a, 200, &b);
	json_decref(list);
}

static void
one(struct http_web *w, const struct http_web_req *rq, struct caller *c,
    int64_t id, struct http_answer *a)
{
	struct web_view v = {
	    c->login, c->csrf, util_now(), flash_of(rq->flash), false};
	struct jsonw b = {0};
	struct zone z;
	json_t *got, *ex;

	got = run(w, c,
	    json_pack("{sisssI}", "v", 1, "op", "get", "id", (json_int_t)id),
	    NULL);
	ex = run(w, c,
	    json_pack(
	        "{sisssI}", "v", 1, "op", "explain", "id", (json_int_t)id),
	    NULL);
	if (got == NULL) {
		http_answer_error(a, 500, "out of memory");
		goto out;
	}
	if (!ok(got)) {
		refused(a, c, got);
		goto out;
	}
	zone_enter(&z, w->ctx->conf, c->login);
	web_page_promise(
	    &b, &v, got, ok(ex) ? json_object_get(ex, "schedule") : NULL);
	tz_leave(&z.tz);
	page(a, 200, &b);
out:
	json_decref(got);
	json_decref(ex);
}

static void
team(struct http_web *w, const struct http_web_req *rq, struct caller *c,
    struct http_answer *a)
{
	struct web_view v = {
	    c->login, c->csrf, util_now(), flash_of(rq->flash), false};
	struct web_pager pg = {.path = "/team", .per_page = WEB_PAGE_ROWS};
	struct jsonw b = {0};
	struct zone z;
	json_t *over, *dg;
	int64_t offset;

	pg.page = web_page_number(rq->page, pg.per_page, &offset);
	over = run(w, c,
	    json_pack("{sisssssIsIsb}", "v", 1, "op", "list", "state",
	        "overdue", "limit", (json_int_t)pg.per_page, "offset",
	        (json_int_t)offset, "total", 1),
	    NULL);
	dg = run(w, c, json_pack("{siss}", "v", 1, "op", "digest"), NULL);
	if (over == NULL) {
		http_answer_error(a, 500, "out of memory");
		goto out;
	}
	if (!ok(over)) {
		refused(a, c, over);
		goto out;
	}
	pg.total = (int64_t)json_integer_value(json_object_get(over, "total"));
	pg.shown = (int64_t)json_array_size(json_object_get(over, "promises"));
	zone_enter(&z, w->ctx->conf, c->login);
	web_page_team(&b, &v, json_object_get(over, "promises"), &pg,
	    ok(dg) ? json_object_get(dg, "digest") : NULL);
	tz_leave(&z.tz);
	page(a, 200, &b);
out:
	json_decref(over);
	json_decref(dg);
}

/* ---- forms -------------------------------------------------------------- */

/* sets key of o to the form's field name when given; false if malformed */
static bool
take(
    json_t *o, const struct http_web_req *rq, const char *name, const char *key)
{
	char *s;
	bool good;

	if (!field(rq, name, &s))
		return false;
	good = s == NULL || json_object_set_new(o, key, json_string(s)) == 0;
	free(s);
	return good;
}

/* the request line of a form posted to /add or /p/ID/ACTION: its op, and
 * the word the page after says it with */
static json_t *
form_request(const struct http_web_req *rq, int64_t id, const char *action,
    const char **m)
{
	json_t *o = json_pack("{si}", "v", 1);
	char *told = NULL;
	bool good = o != NULL;

	if (!good)
		return NULL;
	if (id == 0) {
		*m = "added";
		good = json_object_set_new(o, "op", json_string("add")) == 0 &&
		    take(o, rq, "title", "title") &&
		    take(o, rq, "for", "for") && take(o, rq, "due", "due") &&
		    take(o, rq, "note", "note");
		goto out;
	}
	good = json_object_set_new(o, "id", json_integer(id)) == 0;
	if (strcmp(action, "done") == 0) {
		*m = "kept";
		good = good && take(o, rq, "note", "note");
	} else if (strcmp(action, "snooze") == 0) {
		*m = "snoozed";
		good = good && take(o, rq, "due", "due") &&
		    take(o, rq, "reason", "reason");
	} else if (strcmp(action, "cancel") == 0) {
		*m = "cancelled";
		good = good && take(o, rq, "reason", "reason") &&
		    field(rq, "told_customer", &told);
		if (good && told != NULL)
			good = json_object_set_new(
			           o, "told_customer", json_true()) == 0;
	} else if (strcmp(action, "ack") == 0)
		*m = "acked";
	else
		good = false;
	good = good && json_object_set_new(o, "op", json_string(action)) == 0;
out:
	free(told);
	if (!good) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void
act(struct http_web *w, const struct http_web_req *rq, struct caller *c,
    int64_t id, const char *action, struct http_answer *a)
{
	const char *m = NULL;
	char url[96];
	json_t *req, *reply;
	bool write = false;

	if ((req = form_request(rq, id, action, &m)) == NULL) {
		message(a, 400, c->login, "Not done",
		    "The form was not understood.");
		return;
	}
	if ((reply = run(w, c, req, &write)) == NULL) {
		http_answer_error(a, 500, "out of memory");
		return;
	}
	if (!ok(reply))
		refused(a, c, reply);
	else {
		if (id == 0)
			id = (int64_t)json_integer_value(json_object_get(
			    json_object_get(reply, "promise"), "id"));
		snprintf(url, sizeof(url), "/p/%" PRId64 "?m=%s", id, m);
		redirect(a, url);
	}
	a->write = write;
	json_decref(reply);
}

/* ---- sign-in ------------------------------------------------------------ */

/* the Set-Cookie of value for max_age seconds, malloc'd; NULL without
 * memory */
static char *
cookie(const struct http_web *w, const struct http_web_req *rq,
    const char *value, int max_age)
{
	const char *base = w->ctx->conf->http_base_url;
	bool secure =
	    rq->tls || (base != NULL && strncasecmp(base, "https:", 6) == 0);
	char s[AUTH_COOKIE_MAX + 128];

	snprintf(s, sizeof(s),
	    AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Lax; "
	                        "Max-Age=%d%s",
	    value, max_age, secure ? "; Secure" : "");
	return strdup(s);
}

static void
signin_form(const struct http_web_req *rq, bool sent, struct http_answer *a)
{
	struct web_view v = {.now = util_now(), .flash = flash_of(rq->flash)};
	struct jsonw b = {0};

	web_page_signin(&b, &v, sent);
	page(a, 200, &b);
}

/* POST /signin: the same page after, whoever the address is */
static void
signin_ask(
    struct http_web *w, const struct http_web_req *rq, struct http_answer *a)
{
	struct caller c = {0};
	json_t *req = json_pack("{siss}", "v", 1, "op", "signin"), *reply;
	bool write = false;

	c.who.login = "-";
	c.who.uid = (uid_t)-1;
	c.who.via = "web";
	if (req == NULL || !take(req, rq, "email", "email")) {
		json_decref(req);
		message(
		    a, 400, NULL, "Sign in", "That is not an email address.");
		return;
	}
	if ((reply = run(w, &c, req, &write)) == NULL) {
		http_answer_error(a, 500, "out of memory");
		return;
	}
	if (ok(reply))
		signin_form(rq, true, a);
	else
		refused(a, &c, reply);
	a->write = write;
	json_decref(reply);
}

/* /signin/SECRET: GET shows the button, POST opens the session */
static void
signin_link(struct http_web *w, const struct http_web_req *rq, bool post,
    const char *secret, struct http_answer *a)
{
	struct web_view v = {.now = util_now()};
	char value[AUTH_COOKIE_MAX];
	struct jsonw b = {0};
	int r;

	if (!post) {
		/* relative: the secret resolves to this very link */
		web_page_signin_link(&b, &v, secret);
		page(a, 200, &b);
		return;
	}
	r = auth_session_begin(w->ctx, secret, value, sizeof(value));
	a->write = true;
	if (r == -EACCES) {
		message(a, 403, NULL, "This sign-in link is not valid",
		    "It was used already, it has expired, or it was cut "
		    "short. Ask for a new one.");
		a->write = true;
		return;
	}
	if (r < 0) {
		message(a, 503, NULL, "Not signed in",
		    "The sessions cannot be stored just now; try the link "
		    "again in a moment.");
		a->write = true;
		return;
	}
	redirect(a, "/");
	a->write = true;
	a->cookie = cookie(w, rq, value, AUTH_SESSION_TTL);
	explicit_bzero(value, sizeof(value));
	if (a->cookie == NULL)
		http_answer_error(a, 500, "out of memory");
}

static void
signout(struct http_web *w, const struct http_web_req *rq,
    const struct caller *c, struct http_answer *a)
{
	if (c->session[0] != '\0' && auth_session_end(w->ctx, c->session) < 0) {
		message(a, 503, c->login, "Not signed out",
		    "The session could not be ended; try again.");
		a->write = true;
		return;
	}
	redirect(a, SIGNIN "?m=out");
	a->write = c->session[0] != '\0';
	if ((a->cookie = cookie(w, rq, "", 0)) == NULL)
		http_answer_error(a, 500, "out of memory");
}

/* ---- routing ------------------------------------------------------------ */

static bool
known_action(const char *action)
{
	return action[0] == '\0' || strcmp(action, "done") == 0 ||
	    strcmp(action, "snooze") == 0 || strcmp(action, "cancel") == 0 ||
	    strcmp(action, "ack") == 0;
}

/* "/p/ID" or "/p/ID/ACTION": the id (0 if bad) and *action ("" or it) */
static int64_t
promise_path(const char *path, const char **action)
{
	const char *p = path + 3;
	int64_t id = 0;
	size_t n = 0;

	while (p[n] >= '0' && p[n] <= '9' && n < 18) {
		id = id * 10 + (p[n] - '0');
		n++;
	}
	if (n == 0 || (p[n] != '\0' && p[n] != '/'))
		return 0;
	*action = p[n] == '/' ? p + n + 1 : "";
	return id;
}

void
http_web(struct http_web *w, const struct http_web_req *rq, char *login,
    size_t len, struct http_answer *a)
{
	bool get = strcmp(rq->method, "GET") == 0 ||
	    strcmp(rq->method, "HEAD") == 0,
	     post = strcmp(rq->method, "POST") == 0;
	const char *why = NULL, *action = "";
	struct caller c;
	int64_t id = 0;
	int r;

	memset(a, 0, sizeof(*a));
	login[0] = '\0';
	if (!get && !post) {
		message(a, 405, NULL, "Not here", "Only GET and POST.");
		return;
	}
	if (strcmp(rq->path, "/static/style.css") == 0) {
		a->status = 200;
		a->type = "text/css; charset=utf-8";
		a->body = strdup(web_style_css);
		a->len = a->body != NULL ? strlen(a->body) : 0;
		if (a->body == NULL)
			http_answer_error(a, 500, "out of memory");
		return;
	}
	if (post && !same_origin(w->ctx->conf, rq)) {
		message(a, 403, NULL, "Refused",
		    "This form was sent from another site. Nothing was "
		    "changed.");
		return;
	}
	if (post &&
	    (rq->content_type == NULL ||
	        strncasecmp(
	            rq->content_type, FORM_TYPE, sizeof(FORM_TYPE) - 1) != 0)) {
		message(a, 415, NULL, "Not understood",
		    "A form is sent as " FORM_TYPE ".");
		return;
	}
	if (strcmp(rq->path, SIGNIN) == 0) {
		if (post)
			signin_ask(w, rq, a);
		else
			signin_form(rq, false, a);
		return;
	}
	if (strncmp(rq->path, SIGNIN "/", 8) == 0) {
		signin_link(w, rq, post, rq->path + 8, a);
		return;
	}
	if ((r = caller(w, rq, &c, &why)) < 0) {
		/* a bad token is told so; a visitor is asked to sign in */
		if (r == -EACCES && rq->authorization == NULL)
			redirect(a, SIGNIN);
		else
			message(a, r == -EACCES ? 401 : 503, NULL,
			    "Not signed in", why);
		return;
	}
	util_strlcpy(login, c.login, len);
	if (strncmp(rq->path, "/p/", 3) == 0 &&
	    ((id = promise_path(rq->path, &action)) == 0 ||
	        !known_action(action))) {
		message(a, 404, c.login, "Not found", "No such page.");
		return;
	}
	if (post && rq->may_hold != NULL &&
	    !rq->may_hold(rq->hold_arg, &c.who)) {
		message(a, 429, c.login, "Busy",
		    "Too many of your changes are waiting; try again in a "
		    "moment.");
		return;
	}
	if (post && !csrf_ok(w, rq, &c)) {
		message(a, 403, c.login, "Refused",
		    "This form is out of date or was not ours. Nothing was "
		    "changed; go back, reload the page and try again.");
		return;
	}
	if (get && strcmp(rq->path, "/") == 0)
		home(w, rq, &c, a);
	else if (get && strcmp(rq->path, "/team") == 0)
		team(w, rq, &c, a);
	else if (get && id != 0 && action[0] == '\0')
		one(w, rq, &c, id, a);
	else if (post && strcmp(rq->path, "/add") == 0)
		act(w, rq, &c, 0, "", a);
	else if (post && id != 0 && action[0] != '\0')
		act(w, rq, &c, id, action, a);
	else if (post && strcmp(rq->path, "/signout") == 0)
		signout(w, rq, &c, a);
	else
		message(a, get ? 404 : 405, c.login, "Not here",
		    get ? "No such page." : "Use the page's forms.");
}
