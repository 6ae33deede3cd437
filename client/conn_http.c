/* SPDX-License-Identifier: MIT */
/*
 * conn_http.c: the client's requests over promised's HTTP API (promise
 * --server URL), with libcurl, so that the commands need not know which
 * way they go: each protocol request becomes its /v1 route, and the JSON
 * that comes back is the reply the socket would have given.  The caller
 * is named by an API token (promise token create), from PROMISE_TOKEN or
 * a file only its owner can read.  Built into promise-http.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"
#include "conn.h"
#include "jsonw.h"
#include "util.h"

/* as over the socket: a list may be long, an answer comes after commit */
#define REPLY_MAX (256u * 1024 * 1024)
#define REPLY_TIMEOUT_SECS 60L
#define CONNECT_TIMEOUT_SECS 10L
#define TOKEN_MAX 256
#define URL_MAX 2048

/* the commands the API has a route for */
static const char *const routed[] = {"add", "list", "show", "done", "snooze",
    "cancel", "ack", "status", "report"};

/* the one transfer handle of the run, and what every request carries */
static struct {
	CURL *curl;
	const char *base; /* the URL without its trailing slashes */
	size_t base_len;
	struct curl_slist *headers;
} http;

/* the token from the environment or the file; 0 or an exit status */
static int
load_token(const struct cli *cli, char *tok, size_t n)
{
	char def[4096], buf[TOKEN_MAX + 2];
	const char *env = getenv("PROMISE_TOKEN"), *path = cli->token_file;
	struct stat st;
	ssize_t got;
	size_t len;
	int fd = -1, status = CLI_USAGE;

	if (path == NULL && env != NULL && env[0] != '\0') {
		if (util_strlcpy(tok, env, n) >= n)
			return usage_error("PROMISE_TOKEN is too long");
		return CLI_OK;
	}
	if (path == NULL) {
		if ((env = getenv("HOME")) == NULL || env[0] == '\0')
			return usage_error("no token: set PROMISE_TOKEN or "
			                   "give --token-file FILE");
		snprintf(def, sizeof(def), "%s/.config/promise/token", env);
		path = def;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		errmsg("no token: cannot open %s: %s (make one with 'promise "
		       "token create' where promised runs)",
		    path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errmsg("token file %s: not a regular file", path);
		goto out;
	}
	/* a secret others can read is no longer the owner's alone */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		errmsg("token file %s can be read by others (mode %04o); "
		       "chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if ((got = read(fd, buf, sizeof(buf) - 1)) < 0) {
		errmsg("token file %s: %s", path, strerror(errno));
		goto out;
	}
	buf[got] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0 || len > TOKEN_MAX || util_strlcpy(tok, buf, n) >= n) {
		errmsg("token file %s: want the token on its first line", path);
		goto out;
	}
	status = CLI_OK;
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return status;
}

static bool
is_routed(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(routed); i++)
		if (strcmp(routed[i], name) == 0)
			return true;
	return false;
}

int
http_run(struct cli *cli, const char *name,
    int (*run)(const struct cli *cli, const struct args *a),
    const struct args *a, int argc, char **argv)
{
	char tok[TOKEN_MAX + 1], auth[TOKEN_MAX + 32];
	struct curl_slist *h;
	size_t n;
	int status;

	(void)argc;
	(void)argv;
	/* one line: this is no mistake in how it was typed */
	if (!is_routed(name)) {
		errmsg("%s: not available over HTTP (--server); run it where "
		       "promised runs",
		    name);
		return CLI_USAGE;
	}
	n = strlen(cli->server);
	if (strncmp(cli->server, "http://", 7) != 0 &&
	    strncmp(cli->server, "https://", 8) != 0)
		return usage_error("--server '%s': want an http:// or "
		                   "https:// URL",
		    cli->server);
	while (n > 0 && cli->server[n - 1] == '/')
		n--;
	if (n > URL_MAX - 64)
		return usage_error("--server: the URL is too long");
	http.base = cli->server;
	http.base_len = n;
	if ((status = load_token(cli, tok, sizeof(tok))) != CLI_OK)
		return status;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
	explicit_bzero(tok, sizeof(tok));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (http.curl = curl_easy_init()) == NULL) {
		status = out_of_memory();
		goto out;
	}
	h = curl_slist_append(NULL, auth);
	if (h != NULL)
		http.headers = h;
	if (h == NULL ||
	    (h = curl_slist_append(h, "Accept: application/json")) == NULL) {
		status = out_of_memory();
		goto out;
	}
	http.headers = h;
	status = run(cli, a);
out:
	explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(http.headers);
	http.headers = NULL;
	if (http.curl != NULL)
		curl_easy_cleanup(http.curl);
	http.curl = NULL;
	curl_global_cleanup();
	return status;
}

/* the reply's bytes, up to REPLY_MAX */
struct body {
	char *s;
	size_t len, cap;
	bool big;
};

/* CURLOPT_WRITEFUNCTION */
static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb, cap;
	char *s;

	if (b->len + n > REPLY_MAX) {
		b->big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((s = realloc(b->s, cap)) == NULL)
			return 0;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return n;
}

/* appends &key=value (escaped) for a string or integer member of req */
static int
add_query(struct jsonw *u, const json_t *req, const char *key, bool *first)
{
	const json_t *v = json_object_get(req, key);
	char num[32], *esc;
	const char *s;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		s = num;
	} else
		return 0;
	if ((esc = curl_easy_escape(http.curl, s, 0)) == NULL)
		return -ENOMEM;
	jw_printf(u, "%c%s=%s", *first ? '?' : '&', key, esc);
	*first = false;
	curl_free(esc);
	return 0;
}

/*
 * The route of req: its method (POST if a body is set), the URL into u
 * and the body, if any, into *ret_body (caller frees).  0, or -ENOTSUP
 * for an operation the API does not have, or -ENOMEM.
 */
static int
route(const json_t *req, struct jsonw *u, char **ret_body)
{
	static const char *const list_keys[] = {
	    "state", "owner", "for", "grep", "limit"};
	static const char *const report_keys[] = {"since", "owner", "team"};
	const char *op = json_string_value(json_object_get(req, "op"));
	json_int_t id = json_integer_value(json_object_get(req, "id"));
	json_t *body = NULL;
	bool first = true;
	size_t i;
	int r = 0;

	*ret_body = NULL;
	jw_printf(u, "%.*s", (int)http.base_len, http.base);
	if (op == NULL)
		return -ENOTSUP;
	if (strcmp(op, "list") == 0) {
		jw_lit(u, "/v1/promises");
		for (i = 0; i < ARRAY_SIZE(list_keys) && r == 0; i++)
			r = add_query(u, req, list_keys[i], &first);
		return r;
	}
	if (strcmp(op, "report") == 0) {
		jw_lit(u, "/v1/report");
		for (i = 0; i < ARRAY_SIZE(report_keys) && r == 0; i++)
			r = add_query(u, req, report_keys[i], &first);
		return r;
	}
	if (strcmp(op, "status") == 0) {
		jw_lit(u, "/v1/status");
		return 0;
	}
	if (strcmp(op, "get") == 0) {
		jw_printf(u, "/v1/promises/%" JSON_INTEGER_FORMAT, id);
		return 0;
	}
	if (strcmp(op, "add") == 0)
		jw_lit(u, "/v1/promises");
	else if (strcmp(op, "done") == 0 || strcmp(op, "snooze") == 0 ||
	    strcmp(op, "cancel") == 0 || strcmp(op, "ack") == 0)
		jw_printf(
		    u, "/v1/promises/%" JSON_INTEGER_FORMAT "/%s", id, op);
	else
		return -ENOTSUP;
	/* the body is the request the socket takes, less its framing and
	 * what the path says */
	if ((body = json_deep_copy(req)) == NULL)
		return -ENOMEM;
	json_object_del(body, "v");
	json_object_del(body, "op");
	json_object_del(body, "id");
	json_object_del(body, "tag");
	*ret_body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return *ret_body != NULL ? 0 : -ENOMEM;
}

/* the message of an error reply: {"error":"..."} or the socket's
 * {"error":{"message"}}; NULL if none */
static const char *
error_message(const json_t *reply)
{
	const json_t *e = json_object_get(reply, "error");

	if (json_is_string(e))
		return json_string_value(e);
	return json_string_value(json_object_get(e, "message"));
}

int
http_request(const struct cli *cli, const json_t *req, json_t **ret)
{
	char errbuf[CURL_ERROR_SIZE] = "", *payload = NULL;
	struct jsonw u = {0};
	struct body b = {0};
	struct curl_slist *h = NULL;
	json_error_t jerr;
	json_t *reply = NULL;
	const char *msg;
	long code = 0;
	CURLcode rc;
	int r, status;

	*ret = NULL;
	if (req == NULL)
		return out_of_memory();
	if ((r = route(req, &u, &payload)) == -ENOTSUP) {
		errmsg("%s: not available over HTTP (--server); run it where "
		       "promised runs",
		    json_string_value(json_object_get(req, "op")));
		status = CLI_USAGE;
		goto out;
	}
	if (r < 0 || u.s == NULL || u.oom) {
		status = out_of_memory();
		goto out;
	}
	h = http.headers;
	curl_easy_reset(http.curl);
	curl_easy_setopt(http.curl, CURLOPT_URL, u.s);
	curl_easy_setopt(http.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http.curl, CURLOPT_TIMEOUT, REPLY_TIMEOUT_SECS);
	curl_easy_setopt(
	    http.curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SECS);
	curl_easy_setopt(http.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(http.curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(http.curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(http.curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (payload != NULL) {
		if ((h = curl_slist_append(
		         NULL, "Content-Type: application/json")) == NULL) {
			status = out_of_memory();
			goto out;
		}
		/* the run's headers after this request's own */
		h->next = http.headers;
		curl_easy_setopt(http.curl, CURLOPT_POSTFIELDS, payload);
	}
	curl_easy_setopt(http.curl, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(http.curl);
	if (rc != CURLE_OK) {
		if (b.big)
			errmsg("reply from %s is longer than %u bytes",
			    cli->server, REPLY_MAX);
		else
			errmsg("cannot reach promised at %s: %s", cli->server,
			    errbuf[0] ? errbuf : curl_easy_strerror(rc));
		status = b.big ? CLI_REFUSED : CLI_UNREACHABLE;
		goto out;
	}
	curl_easy_getinfo(http.curl, CURLINFO_RESPONSE_CODE, &code);
	reply = b.s != NULL ? json_loadb(b.s, b.len, 0, &jerr) : NULL;
	if (!json_is_object(reply)) {
		errmsg("unexpected reply from %s: HTTP %ld%s", cli->server,
		    code, reply == NULL ? ", not JSON" : "");
		status = code >= 400 ? CLI_REFUSED : CLI_UNREACHABLE;
		goto out;
	}
	if (code < 200 || code >= 300) {
		msg = error_message(reply);
		if (code == 401)
			errmsg("%s refused the token (HTTP 401)%s%s",
			    cli->server, msg ? ": " : "", msg ? msg : "");
		else
			errmsg("%s (HTTP %ld)", msg ? msg : "request refused",
			    code);
		status = CLI_REFUSED;
		goto out;
	}
	/* the API's answers are the operations' replies; a bare object
	 * from it is one that succeeded */
	if (json_object_get(reply, "ok") == NULL &&
	    json_object_set_new(reply, "ok", json_true()) < 0) {
		status = out_of_memory();
		goto out;
	}
	if (cli->json) {
		json_dumpf(reply, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		out_json_done();
	} else {
		*ret = reply;
		reply = NULL;
	}
	status = CLI_OK;
out:
	if (h != NULL && h != http.headers) {
		h->next = NULL;
		curl_slist_free_all(h);
	}
	json_decref(reply);
	free(payload);
	free(b.s);
	free(u.s);
	return status;
}
