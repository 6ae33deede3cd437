/* SPDX-License-Identifier: MIT */
/*
 * http.c: the HTTP listener, libmicrohttpd on the daemon's libev loop.
 *
 * libmicrohttpd runs without a thread of its own (the operations and the
 * store belong to the main thread) in its epoll mode: it keeps every
 * connection in one epoll set and hands out that set's descriptor
 * (MHD_DAEMON_INFO_EPOLL_FD), which the loop watches with one ev_io, and
 * MHD_get_timeout says when one ev_timer must run it for the connections'
 * timeouts.  The manual's other external mode, MHD_get_fdset, rebuilds
 * fd_sets capped at FD_SETSIZE (1,024 descriptors) on every turn; a
 * thousand idle clients would reach that cap and cost every turn a scan of
 * them all.
 *
 * A request whose operation changed something is held: its connection is
 * suspended until the loop commits the batch (http_after_commit), then
 * resumed and answered, so a 200 means committed, as "ok" does on the
 * socket.  Everything else is answered at once.  Limits: a body past
 * max_body is a 413 before it is read (chunked: at its end, or cut off at
 * DROP_FACTOR times max_body), a request line and headers past
 * max_header a 431 (libmicrohttpd's memory per connection), at most
 * max_connections clients and max_connections_per_ip from one address, and
 * a connection silent for timeout seconds is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "html.h"
#include "http.h"
#include "http_auth.h"
#include "http_link.h"
#include "http_op.h"
#include "http_route.h"
#include "http_web.h"
#include "log.h"
#include "proto.h"
#include "web_page.h"

/* a PEM file of a certificate chain or key, at most */
#define PEM_MAX (1024 * 1024)
/* a body past max_body is read this many times max_body, then cut off */
#define DROP_FACTOR 4

struct hreq {
	struct http *h;
	struct MHD_Connection *conn;
	char *body;
	size_t len, cap;
	uint64_t seen; /* bytes of body received, kept or not */
	bool too_big;
	bool held;  /* suspended until its batch commits */
	bool ready; /* answer made: queue it when called again */
	struct http_answer a;
	char login[72];
	struct hreq *next, **pprev; /* in h->held */
};

struct http {
	struct ev_loop *loop;
	struct op_ctx *op;
	struct MHD_Daemon *d;
	int fd; /* the listening socket, until libmicrohttpd has it */
	ev_io io;
	ev_timer tm;
	struct http_web *web;
	struct hreq *held;
	size_t n_held;
	char *cert, *key; /* PEM, for as long as the daemon runs */
	bool stopping;
};

static void rearm(struct http *h);

/* ---- answers ------------------------------------------------------------ */

/* queues q's answer on its connection; MHD_NO closes it */
static enum MHD_Result
respond(struct hreq *q)
{
	struct http_answer *a = &q->a;
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (a->body == NULL)
		resp = MHD_create_response_from_buffer(
		    0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(
		    a->len, a->body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	a->body = NULL; /* the response's now */
	a->len = 0;
	if (a->type != NULL)
		MHD_add_response_header(resp, "Content-Type", a->type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* a link's token must not leave in a Referer */
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (a->type != NULL && strcmp(a->type, HTTP_HTML) == 0) {
		MHD_add_response_header(
		    resp, "Content-Security-Policy", HTML_CSP);
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
	if (a->location != NULL)
		MHD_add_response_header(resp, "Location", a->location);
	if (a->cookie != NULL)
		MHD_add_response_header(resp, "Set-Cookie", a->cookie);
	if (a->status == 401)
		MHD_add_response_header(
		    resp, "WWW-Authenticate", "Bearer realm=\"promised\"");
	r = MHD_queue_response(q->conn, (unsigned)a->status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* the answer to a change its batch could not commit */
static void
refuse(struct hreq *q)
{
	static const char msg[] =
	    "the database could not commit this change; nothing was "
	    "changed, try again";
	struct web_view v = {0};
	struct jsonw b = {0};

	if (q->a.type != NULL && strcmp(q->a.type, HTTP_HTML) == 0) {
		http_answer_clear(&q->a);
		web_page_message(&b, &v, "Not done", msg);
		q->a.status = b.oom ? 500 : 503;
		q->a.body = b.s;
		q->a.len = b.oom ? 0 : b.len;
		return;
	}
	http_answer_error(&q->a, 503, msg);
}

/* ---- the JSON API ------------------------------------------------------- */

static const char *
arg_cb(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(
	    (struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* the peer's address as inet_ntop writes it, into buf; "" if unknown */
static void
peer_text(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	buf[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

/* requests of login waiting for a commit */
static size_t
held_by(const struct http *h, const char *login)
{
	const struct hreq *q;
	size_t n = 0;

	for (q = h->held; q != NULL; q = q->next)
		if (strcmp(q->login, login) == 0)
			n++;
	return n;
}

/*
 * The reply of a successful operation as the API's answer: the reply's
 * members but "ok" (metrics: its text), and a promise's schedule beside
 * it when asked.
 */
static void
api_success(struct http *h, const struct op_caller *who,
    const struct http_route *rt, json_t *reply, struct http_answer *a)
{
	json_t *ex = NULL,
	       *id = json_object_get(json_object_get(reply, "promise"), "id");
	const char *text;
	char line[96];
	bool write;

	if (rt->metrics) {
		text = proto_str(reply, "text");
		a->status = 200;
		a->type = HTTP_TEXT;
		a->body = strdup(text != NULL ? text : "");
		a->len = a->body != NULL ? strlen(a->body) : 0;
		json_decref(reply);
		if (a->body == NULL)
			http_answer_error(a, 500, "out of memory");
		return;
	}
	if (rt->explain && json_is_integer(id)) {
		snprintf(line, sizeof(line),
		    "{\"v\":1,\"op\":\"explain\",\"id\":%" PRId64 "}",
		    (int64_t)json_integer_value(id));
		if (http_op_run(h->op, who, line, strlen(line), &ex, &write) ==
		        0 &&
		    json_is_true(json_object_get(ex, "ok")))
			json_object_set(
			    reply, "schedule", json_object_get(ex, "schedule"));
		json_decref(ex);
	}
	json_object_del(reply, "ok");
	if (!http_answer_json(a, rt->status, reply))
		http_answer_error(a, 500, "out of memory");
}

/* runs the operation rt names for the caller q's request has */
static void
api(struct http *h, struct hreq *q, const struct http_route *rt)
{
	const struct conf *c = h->op->conf;
	struct op_caller who;
	const char *why = NULL, *code;
	char peer[64];
	json_t *reply = NULL, *e;
	bool write = false;
	int r;

	peer_text(q->conn, peer, sizeof(peer));
	if ((r = http_auth(h->op, peer,
	         MHD_lookup_connection_value(
	             q->conn, MHD_HEADER_KIND, c->http.user_header),
	         MHD_lookup_connection_value(
	             q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	         q->login, sizeof(q->login), &who, &why)) < 0) {
		http_answer_error(&q->a, r == -EACCES ? 401 : 503, why);
		return;
	}
	/* as many changes waiting for their commit as the socket lets one
	 * user hold connections: one user's flood waits, others do not */
	if (!who.admin &&
	    (int64_t)held_by(h, q->login) >= c->max_connections_per_user) {
		http_answer_error(&q->a, 429,
		    "too many requests waiting; try again in a moment");
		return;
	}
	/* a plain reply's text is the answer as it is */
	if ((rt->metrics || rt->explain
	            ? http_op_run(
	                  h->op, &who, rt->line, rt->len, &reply, &write)
	            : http_op_run_answer(h->op, &who, rt->line, rt->len,
	                  rt->status, &q->a, &reply, &write)) < 0) {
		http_answer_error(&q->a, 500, "out of memory");
		return;
	}
	q->a.write = write;
	if (reply == NULL)
		return;
	if (json_is_true(json_object_get(reply, "ok"))) {
		api_success(h, &who, rt, reply, &q->a);
		q->a.write = write;
		return;
	}
	e = json_object_get(reply, "error");
	code = proto_str(e, "code");
	http_answer_error(&q->a, http_status_of(code),
	    proto_str(e, "message") != NULL ? proto_str(e, "message")
	                                    : "internal error");
	q->a.write = write;
	json_decref(reply);
}

static const char *
header(struct hreq *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

/* as many changes waiting for their commit as the socket lets one user
 * hold connections: one user's flood waits, others do not */
static bool
may_hold(void *arg, const struct op_caller *who)
{
	const struct http *h = arg;

	return who->admin ||
	    (int64_t)held_by(h, who->login) <
	    h->op->conf->max_connections_per_user;
}

/* the web page's answer */
static void
web(struct http *h, struct hreq *q, const char *url, const char *method)
{
	char peer[64];
	struct http_web_req rq = {
	    .method = method,
	    .path = url,
	    .flash = arg_cb(q->conn, "m"),
	    .page = arg_cb(q->conn, "page"),
	    .content_type = header(q, MHD_HTTP_HEADER_CONTENT_TYPE),
	    .body = q->body,
	    .len = q->len,
	    .peer = peer,
	    .user = header(q, h->op->conf->http.user_header),
	    .authorization = header(q, MHD_HTTP_HEADER_AUTHORIZATION),
	    .cookie = header(q, MHD_HTTP_HEADER_COOKIE),
	    .origin = header(q, "Origin"),
	    .fetch_site = header(q, "Sec-Fetch-Site"),
	    .host = header(q, MHD_HTTP_HEADER_HOST),
	    .tls = h->cert != NULL,
	    .may_hold = may_hold,
	    .hold_arg = h,
	};

	peer_text(q->conn, peer, sizeof(peer));
	http_web(h->web, &rq, q->login, sizeof(q->login), &q->a);
}

/* makes q's answer */
static void
handle(struct http *h, struct hreq *q, const char *url, const char *method)
{
	struct http_route rt;

	if (http_web_path(url)) {
		web(h, q, url, method);
		return;
	}

	(void)http_route(method, url, arg_cb, q->conn,
	    MHD_lookup_connection_value(
	        q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
	    q->body, q->len, &rt);
	switch (rt.kind) {
	case HTTP_ROUTE_LINK:
		http_link(h->op, rt.token, rt.post, &q->a);
		break;
	case HTTP_ROUTE_OP:
		api(h, q, &rt);
		break;
	case HTTP_ROUTE_ERROR:
	default:
		http_answer_error(&q->a, rt.status, rt.message);
		break;
	}
	http_route_clear(&rt);
}

/* ---- requests ----------------------------------------------------------- */

/* keeps len bytes more of q's body, or marks it too big */
static void
body_add(struct hreq *q, const char *data, size_t len)
{
	size_t max = (size_t)q->h->op->conf->http.max_body, cap;
	char *nb;

	if (q->too_big)
		return;
	if (len > max - q->len) {
		q->too_big = true;
		free(q->body);
		q->body = NULL;
		q->len = q->cap = 0;
		return;
	}
	if (q->len + len > q->cap) {
		cap = q->cap ? q->cap : 1024;
		while (cap < q->len + len)
			cap *= 2;
		if ((nb = realloc(q->body, cap)) == NULL) {
			q->too_big = true;
			return;
		}
		q->body = nb;
		q->cap = cap;
	}
	memcpy(q->body + q->len, data, len);
	q->len += len;
}

static enum MHD_Result
too_big(struct hreq *q)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "the body is larger than %" PRId64 " bytes",
	    q->h->op->conf->http.max_body);
	http_answer_error(&q->a, 413, msg);
	return respond(q);
}

/* MHD_AccessHandlerCallback: called when the headers are in, for each
 * piece of the body, once at its end, and once more after a resume */
static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http *h = cls;
	struct hreq *q = *req_cls;
	const char *cl;
	char *end;
	unsigned long long n;

	(void)version;
	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		q->h = h;
		q->conn = conn;
		*req_cls = q;
		cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		errno = 0;
		if (cl != NULL &&
		    ((n = strtoull(cl, &end, 10)),
		        errno != 0 ||
		            n > (unsigned long long)h->op->conf->http.max_body))
			/* answered before the body is read; libmicrohttpd
			 * then closes the connection */
			return too_big(q);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		q->seen += *upload_data_size;
		body_add(q, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/*
		 * Past max_body (sent chunked, with no length to refuse
		 * first) the rest is read and dropped, since libmicrohttpd
		 * (0.9.75) lets a reply be queued only before the body or
		 * after its end: a body that ends soon after is answered
		 * 413, and one that goes on is cut off (closed) rather than
		 * read for as long as the client cares to send.
		 */
		if (q->too_big &&
		    q->seen / DROP_FACTOR >
		        (uint64_t)q->h->op->conf->http.max_body)
			return MHD_NO;
		return MHD_YES;
	}
	if (q->ready)
		return respond(q);
	if (q->too_big)
		return too_big(q);
	handle(h, q, url, method);
	q->ready = true;
	free(q->body);
	q->body = NULL;
	if (!q->a.write)
		return respond(q);
	MHD_suspend_connection(conn);
	q->held = true;
	q->next = h->held;
	if (h->held != NULL)
		h->held->pprev = &q->next;
	h->held = q;
	q->pprev = &h->held;
	h->n_held++;
	return MHD_YES;
}

static void
unhold(struct hreq *q)
{
	if (!q->held)
		return;
	*q->pprev = q->next;
	if (q->next != NULL)
		q->next->pprev = q->pprev;
	q->held = false;
	q->h->n_held--;
}

/* MHD_OPTION_NOTIFY_COMPLETED */
static void
completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct hreq *q = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (q == NULL)
		return;
	unhold(q);
	http_answer_clear(&q->a);
	free(q->body);
	free(q);
	*req_cls = NULL;
}

void
http_after_commit(struct http *h, bool ok)
{
	struct hreq *q;

	if (h == NULL || h->held == NULL)
		return;
	while ((q = h->held) != NULL) {
		if (!ok)
			refuse(q);
		unhold(q);
		MHD_resume_connection(q->conn);
	}
	/* a resumed connection moves only when libmicrohttpd runs */
	ev_timer_stop(h->loop, &h->tm);
	ev_timer_set(&h->tm, 0., 0.);
	ev_timer_start(h->loop, &h->tm);
}

bool
http_busy(const struct http *h)
{
	return h != NULL && h->n_held > 0;
}

/* ---- the loop ----------------------------------------------------------- */

static void
run(struct http *h)
{
	if (MHD_run(h->d) != MHD_YES)
		log_warnx("http: cannot run the listener");
	rearm(h);
}

/* the one timer, at libmicrohttpd's next timeout */
static void
rearm(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(h->loop, &h->tm);
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return;
	ev_timer_set(&h->tm, (ev_tstamp)ms / 1000., 0.);
	ev_timer_start(h->loop, &h->tm);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

static void
tm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	run(w->data);
}

/* MHD_OPTION_EXTERNAL_LOGGER: a client's mistakes are for debugging */
static void logger_cb(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
logger_cb(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

/* the PEM file path into *ret, NUL-ended; 0 or -errno */
static int
read_pem(const char *path, char **ret)
{
	struct stat st;
	char *s = NULL;
	ssize_t n;
	size_t got = 0;
	int fd, r = 0;

	*ret = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -errno;
	if (fstat(fd, &st) == -1) {
		r = -errno;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PEM_MAX) {
		r = -EFBIG;
		goto out;
	}
	if ((s = malloc((size_t)st.st_size + 1)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, s + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? -EIO : -errno;
			goto out;
		}
		got += (size_t)n;
	}
	s[got] = '\0';
	*ret = s;
	s = NULL;
out:
	free(s);
	close(fd);
	return r;
}

/* the listening socket at c's address; -errno with err filled */
static int
listen_on(const struct http_conf *c, int *ret, char *err, size_t errlen)
{
	int fd, one = 1, r;

	fd = socket(
	    c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		r = -errno;
		snprintf(err, errlen, "http: socket: %s", strerror(errno));
		return r;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&c->addr, c->addr_len) == -1 ||
	    listen(fd, 512) == -1) {
		r = -errno;
		snprintf(err, errlen, "[http] listen = %s: %s", c->listen,
		    strerror(errno));
		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

int
http_open(struct http **ret, struct ev_loop *loop, struct op_ctx *ctx,
    char *err, size_t errlen)
{
	const struct http_conf *c = &ctx->conf->http;
	unsigned int flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct http *h;
	int r, efd;

	*ret = NULL;
	if (c->listen == NULL)
		return 0;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->loop = loop;
	h->op = ctx;
	h->fd = -1;
	if (c->cert_file != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
			    "[http] cert_file: this libmicrohttpd has no TLS");
			r = -ENOTSUP;
			goto fail;
		}
		if ((r = read_pem(c->cert_file, &h->cert)) < 0 ||
		    (r = read_pem(c->key_file, &h->key)) < 0) {
			snprintf(err, errlen, "[http] cannot read %s: %s",
			    h->cert == NULL ? c->cert_file : c->key_file,
			    strerror(-r));
			goto fail;
		}
		flags |= MHD_USE_TLS;
	}
	if ((r = http_web_open(&h->web, ctx)) < 0) {
		snprintf(err, errlen, "http: %s", strerror(-r));
		goto fail;
	}
	if ((r = listen_on(c, &h->fd, err, errlen)) < 0)
		goto fail;
	{
		struct MHD_OptionItem opts[] = {
		    {MHD_OPTION_LISTEN_SOCKET, h->fd, NULL},
		    {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)c->max_connections,
		        NULL},
		    {MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		        (intptr_t)c->max_connections_per_ip, NULL},
		    {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)c->timeout, NULL},
		    {MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		        (intptr_t)c->max_header, NULL},
		    {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert},
		    {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key},
		    {MHD_OPTION_END, 0, NULL},
		};

		/* without TLS the list ends before the certificate */
		if (h->cert == NULL)
			opts[5].option = MHD_OPTION_END;
		/* the logger first, to hear of the options after it */
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h,
		    MHD_OPTION_EXTERNAL_LOGGER, logger_cb, h,
		    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
		    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (h->d == NULL) {
		snprintf(err, errlen,
		    "[http] listen = %s: libmicrohttpd would not start",
		    c->listen);
		r = -EIO;
		goto fail;
	}
	h->fd = -1; /* libmicrohttpd's now */
	efd = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD)->epoll_fd;
	ev_io_init(&h->io, io_cb, efd, EV_READ);
	h->io.data = h;
	ev_io_start(loop, &h->io);
	ev_init(&h->tm, tm_cb);
	h->tm.data = h;
	rearm(h);
	log_info("listening for HTTP%s on %s", h->cert != NULL ? "S" : "",
	    c->listen);
	*ret = h;
	return 0;
fail:
	if (h->fd != -1)
		close(h->fd);
	http_web_close(h->web);
	free(h->cert);
	free(h->key);
	free(h);
	return r;
}

void
http_shutdown(struct http *h)
{
	int fd;

	if (h == NULL || h->stopping)
		return;
	h->stopping = true;
	/* the listening socket is handed back: no one new is let in */
	if ((fd = MHD_quiesce_daemon(h->d)) >= 0)
		close(fd);
}

struct http *
http_close(struct http *h)
{
	struct hreq *q;

	if (h == NULL)
		return NULL;
	/* libmicrohttpd must not be stopped with connections suspended */
	while ((q = h->held) != NULL) {
		unhold(q);
		MHD_resume_connection(q->conn);
	}
	ev_io_stop(h->loop, &h->io);
	ev_timer_stop(h->loop, &h->tm);
	MHD_stop_daemon(h->d);
	http_web_close(h->web);
	free(h->cert);
	free(h->key);
	free(h);
	return NULL;
}
