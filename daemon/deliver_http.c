/*
 * deliver_http.c: the webhook backend.  A delivery is one HTTP POST to the
 * recipient's webhook URL: our JSON event, or a {"text"} line for Slack and
 * Mattermost.  The delivery's uid rides along as the receiver's idempotency
 * key, with an HMAC-SHA256 signature when secrets are configured.  Transfers
 * run on the shared curlev multi; deliver_done() hears of them from the loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "curlev.h"
#include "deliver.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

/* without a configured timeout; connecting gets at most CONNECT_TIMEOUT */
#define DEFAULT_TIMEOUT 10L
#define CONNECT_TIMEOUT 10L
/* the response body is not read, only counted: past this we hang up, since
 * the status line is all we need and a receiver could send without end */
#define RESPONSE_MAX (64 * 1024)
/* idle hooks kept for reuse, each with its easy handle: enough for any
 * sensible [delivery] concurrency, so a burst allocates none */
#define POOL_MAX 256
/* webhook URLs whose redacted form is remembered: there are few */
#define WHERE_CACHE 8
/* the headers of one request: content type, Expect, event, delivery and
 * perhaps the signature */
#define N_HEADERS 5

/*
 * One transfer.  Until the easy handle is in curlev, everything here is
 * start()'s; afterwards the hook sits on its backend's list and done_cb
 * puts it back in the pool.  If the backend is freed first, it frees the
 * hook but not the easy handle, which curlev_close cleans up (see
 * http_free).  A pooled hook keeps its easy handle and nothing else.
 */
struct hook {
	struct hook *next, **pprev; /* the transfers under way, or the pool */
	struct backend_http *bh;
	struct delivery *d;
	CURL *easy;
	/* CURLOPT_HTTPHEADER, linked by hand in place: libcurl only reads
	 * the list, and this saves ten small allocations a request */
	struct curl_slist headers[N_HEADERS];
	char h_event[96];
	char h_delivery[64];
	char h_sign[256];
	char *body;  /* CURLOPT_POSTFIELDS: libcurl does not copy it */
	char *where; /* the URL without userinfo or query, for messages */
	size_t received;
	bool overflow;
	char errbuf[CURL_ERROR_SIZE];
};

/* a URL url_redact accepted, and what it made of it */
struct where {
	char *url;
	char *where;
};

struct backend_http {
	struct backend b; /* first: the backend pointer casts back */
	struct curlev *cv;
	const struct conf *c;
	struct hook *hooks;
	struct hook *pool; /* idle, by next */
	size_t n_pool;
	struct where wcache[WHERE_CACHE];
	size_t wnext; /* the entry to replace next */
};

/* what render made of a payload: the body in the format then configured,
 * and the URL it goes to */
struct rendering {
	enum webhook_format format;
	char *body;
	char url[]; /* NUL-terminated */
};

static void
rendering_free(void *arg)
{
	struct rendering *rd = arg;

	free(rd->body);
	free(rd);
}

/* NULL-safe; cleans up h->easy too unless the caller has cleared it */
static void
hook_free(struct hook *h)
{
	if (h == NULL)
		return;
	if (h->pprev != NULL) {
		*h->pprev = h->next;
		if (h->next != NULL)
			h->next->pprev = h->pprev;
	}
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	free(h->body);
	free(h->where);
	free(h);
}

/* a hook for a new transfer, from the pool when it has one, with an easy
 * handle that has forgotten its last transfer's options; NULL if out of
 * memory */
static struct hook *
hook_get(struct backend_http *bh)
{
	struct hook *h = bh->pool;

	if (h != NULL) {
		bh->pool = h->next;
		bh->n_pool--;
		h->next = NULL;
		/* keeps the connection and DNS caches, which are the multi's
		 * anyway, and is much cheaper than a new handle */
		curl_easy_reset(h->easy);
		return h;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->easy = curl_easy_init()) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

/* takes h, unlinked and out of curlev, back into the pool (or frees it
 * when the pool is full) */
static void
hook_put(struct backend_http *bh, struct hook *h)
{
	CURL *easy = h->easy;

	if (h->pprev != NULL) {
		*h->pprev = h->next;
		if (h->next != NULL)
			h->next->pprev = h->pprev;
	}
	if (bh->n_pool >= POOL_MAX) {
		h->pprev = NULL;
		hook_free(h);
		return;
	}
	free(h->body);
	free(h->where);
	memset(h, 0, sizeof(*h));
	h->easy = easy;
	h->next = bh->pool;
	bh->pool = h;
	bh->n_pool++;
}

/*
 * Checks that url is an absolute http or https URL with a host and writes
 * into *ret (malloc'd; caller frees) the form that may appear in messages
 * and logs: scheme, host, port and path, without the userinfo, query and
 * fragment, which often carry tokens.  0, -EINVAL or -ENOMEM.
 */
static int
url_redact(const char *url, char **ret)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	size_t len;
	int r = -EINVAL;

	*ret = NULL;
	if (u == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	/* curl lower-cases the scheme */
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL; /* none given */
	len = strlen(scheme) + 3 + strlen(host) +
	    (port != NULL ? strlen(port) + 1 : 0) + strlen(path) + 1;
	r = -ENOMEM;
	if ((*ret = malloc(len)) == NULL)
		goto out;
	snprintf(*ret, len, "%s://%s%s%s%s", scheme, host,
	    port != NULL ? ":" : "", port != NULL ? port : "", path);
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return r;
}

/*
 * url_redact for url, remembered for the next delivery to the same URL:
 * *ret is a malloc'd copy for the caller.  0, -EINVAL or -ENOMEM.
 */
static int
where_of(struct backend_http *bh, const char *url, char **ret)
{
	struct where *w;
	char *where = NULL, *copy = NULL;
	size_t i;
	int r;

	*ret = NULL;
	for (i = 0; i < WHERE_CACHE; i++) {
		w = &bh->wcache[i];
		if (w->url != NULL && strcmp(w->url, url) == 0)
			return (*ret = strdup(w->where)) == NULL ? -ENOMEM : 0;
	}
	if ((r = url_redact(url, &where)) < 0)
		return r;
	r = -ENOMEM;
	if ((copy = strdup(url)) == NULL || (*ret = strdup(where)) == NULL)
		goto out;
	w = &bh->wcache[bh->wnext];
	bh->wnext = (bh->wnext + 1) % WHERE_CACHE;
	free(w->url);
	free(w->where);
	w->url = copy;
	w->where = where;
	copy = where = NULL;
	r = 0;
out:
	free(copy);
	free(where);
	return r;
}

/* o[key] if it is a string, else NULL */
static const char *
get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* the payload's recipient login: an object's "login", or a plain string */
static const char *
recipient_login(const json_t *p)
{
	const json_t *r = json_object_get(p, "recipient");

	return json_is_string(r) ? json_string_value(r) : get_str(r, "login");
}

/* copies p[key] into o when p has it */
static int
copy_field(json_t *o, const json_t *p, const char *key)
{
	json_t *v = json_object_get(p, key);

	if (v == NULL)
		return 0;
	return json_object_set(o, key, v) < 0 ? -ENOMEM : 0;
}

/*
 * Our own event body.  The recipient goes out as the login alone: the rest
 * of that object is address book, and its webhook URL may hold a token.
 * "thread" is email's business.  *ret is malloc'd; 0 or -ENOMEM.
 */
static int
body_json(
    const struct delivery *d, const json_t *p, const char *event, char **ret)
{
	static const char *const copied[] = {"occurred_at", "level", "repeat",
	    "lead", "promise", "failed", "history"};
	json_t *o = json_object();
	const char *login = recipient_login(p);
	size_t i;
	int r = -ENOMEM;

	*ret = NULL;
	if (o == NULL)
		return -ENOMEM;
	if (json_object_set_new(o, "event", json_string(event)) < 0 ||
	    json_object_set_new(o, "delivery", json_string(d->uid)) < 0)
		goto out;
	if (login != NULL &&
	    json_object_set_new(o, "recipient", json_string(login)) < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(copied); i++)
		if ((r = copy_field(o, p, copied[i])) < 0)
			goto out;
	r = (*ret = json_dumps(o, JSON_COMPACT)) == NULL ? -ENOMEM : 0;
out:
	json_decref(o);
	return r;
}

/* Slack's three control characters, which would otherwise let a title
 * such as "<!channel>" ping everyone; malloc'd, or NULL */
static char *
slack_escape(const char *s)
{
	size_t len = 1;
	const char *p;
	char *out, *q;

	for (p = s; *p != '\0'; p++)
		len += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (p = s, q = out; *p != '\0'; p++) {
		if (*p == '&') {
			memcpy(q, "&amp;", 5);
			q += 5;
		} else if (*p == '<' || *p == '>') {
			memcpy(q, *p == '<' ? "&lt;" : "&gt;", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return out;
}

/* "the due notice" for "promise.due", for the undeliverable line */
static const char *
event_noun(const char *event)
{
	if (event == NULL)
		return "a notice";
	if (strcmp(event, "promise.nudge") == 0)
		return "the reminder";
	if (strcmp(event, "promise.due") == 0)
		return "the due notice";
	if (strcmp(event, "promise.escalation") == 0)
		return "the escalation";
	if (strcmp(event, "promise.resolved") == 0)
		return "the resolution notice";
	return event;
}

/* writes the human line for event into f: "[promise 42] Due in 1h: Send
 * Acme the demo invite (for Acme, owner dan)" */
static void
slack_line(FILE *f, const json_t *p, const char *event)
{
	const json_t *pr = json_object_get(p, "promise");
	const json_t *failed = json_object_get(p, "failed");
	const char *title = get_str(pr, "title");
	const char *owner = get_str(pr, "owner");
	const char *whom = get_str(pr, "for");
	const char *s;
	json_int_t lead;
	char span[32];

	if (title == NULL)
		title = "(untitled)";
	fprintf(f, "[promise %" JSON_INTEGER_FORMAT "] ",
	    json_integer_value(json_object_get(pr, "id")));
	if (strcmp(event, "promise.undeliverable") == 0) {
		fprintf(f, "Could not deliver %s for '%s'",
		    event_noun(get_str(failed, "event")), title);
		if ((s = get_str(failed, "channel")) != NULL)
			fprintf(f, " via %s", s);
		/* not in the documented payload yet; named when present */
		if ((s = get_str(failed, "recipient")) != NULL)
			fprintf(f, " to %s", s);
		s = get_str(failed, "error");
		fprintf(f, ": %s", s != NULL ? s : "unknown error");
		return;
	}
	if (strcmp(event, "promise.nudge") == 0) {
		if (json_is_integer(json_object_get(p, "lead")))
			lead = json_integer_value(json_object_get(p, "lead"));
		else
			lead =
			    json_integer_value(json_object_get(pr, "due_at")) -
			    json_integer_value(
			        json_object_get(p, "occurred_at"));
		timefmt_duration(lead, span, sizeof(span));
		if (lead > 0)
			fprintf(f, "Due in %s: ", span);
		else
			fprintf(f, "Due now: ");
	} else if (strcmp(event, "promise.due") == 0)
		fprintf(f, "Due now: ");
	else if (strcmp(event, "promise.escalation") == 0)
		fprintf(f, "Overdue since %s: ",
		    (s = get_str(pr, "due")) != NULL ? s : "its due time");
	else if (strcmp(event, "promise.resolved") == 0)
		fprintf(f, "Resolved: ");
	else
		fprintf(f, "%s: ", event);
	fprintf(f, "%s (", title);
	if (whom != NULL)
		fprintf(f, "for %s, ", whom);
	fprintf(f, "owner %s)", owner != NULL ? owner : "unknown");
	if (strcmp(event, "promise.resolved") == 0 &&
	    (s = get_str(pr, "state")) != NULL)
		fprintf(f, ", %s", s);
}

/* {"text": line} for Slack and Mattermost; *ret is malloc'd; 0 or -errno */
static int
body_slack(const json_t *p, const char *event, char **ret)
{
	char *line = NULL, *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *o = NULL;
	int r = -ENOMEM;

	*ret = NULL;
	if ((f = open_memstream(&line, &len)) == NULL)
		return -errno;
	slack_line(f, p, event);
	if (fclose(f) != 0 || line == NULL)
		goto out;
	if ((text = slack_escape(line)) == NULL)
		goto out;
	/* NULL if text were not UTF-8; every piece came from jansson */
	if ((o = json_pack("{s:s}", "text", text)) == NULL)
		goto out;
	r = (*ret = json_dumps(o, JSON_COMPACT)) == NULL ? -ENOMEM : 0;
out:
	json_decref(o);
	free(text);
	free(line);
	return r;
}

/* "X-Promised-Signature: t=T,v1=HEX[,v1=HEX]" over T "." body, one v1 per
 * secret in configured order; 0 or -errno */
static int
sign(const struct conf *c, const char *body, char *hdr, size_t hdrlen)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen, j;
	char ts[24], *msg = NULL;
	size_t tlen, blen = strlen(body), i, off;
	int r = -ENOMEM;

	tlen = (size_t)snprintf(ts, sizeof(ts), "%" PRId64, util_now());
	if ((msg = malloc(tlen + 1 + blen)) == NULL)
		goto out;
	memcpy(msg, ts, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, blen);
	off = (size_t)snprintf(hdr, hdrlen, "X-Promised-Signature: t=%s", ts);
	for (i = 0; i < c->n_webhook_secrets && i < 2; i++) {
		r = -EIO;
		if (HMAC(EVP_sha256(), c->webhook_secrets[i],
		        (int)strlen(c->webhook_secrets[i]),
		        (const unsigned char *)msg, tlen + 1 + blen, mac,
		        &maclen) == NULL)
			goto out;
		r = -ENAMETOOLONG;
		if (off + 4 + 2 * (size_t)maclen >= hdrlen)
			goto out;
		off += (size_t)snprintf(hdr + off, hdrlen - off, ",v1=");
		for (j = 0; j < maclen; j++)
			off += (size_t)snprintf(
			    hdr + off, hdrlen - off, "%02x", mac[j]);
	}
	r = 0;
out:
	free(msg);
	return r;
}

/* the event name goes into a header: keep it to a plain token */
static bool
event_ok(const char *s)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 64)
		return false;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		        (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		        *p == '-'))
			return false;
	return true;
}

/* CURLOPT_WRITEFUNCTION */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct hook *h = userdata;
	size_t n = size * nmemb;

	(void)ptr;
	h->received += n;
	if (h->received > RESPONSE_MAX) {
		h->overflow = true;
		return 0; /* fails the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

/* curlev_done_fn: runs from the loop; easy is ours again */
static void
done_cb(CURL *easy, CURLcode result, void *arg)
{
	struct hook *h = arg;
	struct delivery *d = h->d;
	long status = 0;
	curl_off_t ra = 0;
	int64_t retry_after = 0;
	char msg[512], *p;
	int rc;

	/* a body past RESPONSE_MAX comes after the status line: judge by
	 * that */
	if (result == CURLE_WRITE_ERROR && h->overflow)
		result = CURLE_OK;
	if (result == CURLE_OK) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status <= 299)
			rc = 0;
		else if (status == 408 || status == 429 ||
		    (status >= 500 && status <= 599))
			rc = -EAGAIN;
		else
			rc = -EPERM; /* 1xx, 3xx, other 4xx: sending again
			              * will not change the answer */
		if (rc == -EAGAIN &&
		    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) ==
		        CURLE_OK &&
		    ra > 0)
			retry_after = (int64_t)ra;
		snprintf(msg, sizeof(msg), "webhook to '%s' failed: HTTP %ld%s",
		    h->where, status,
		    status >= 300 && status <= 399
		        ? " (redirects are not followed)"
		        : "");
	} else {
		/* start() checked the URL, so if curl still refuses it, it
		 * always will; any other transport error may pass */
		rc = result == CURLE_URL_MALFORMAT ||
		        result == CURLE_UNSUPPORTED_PROTOCOL
		    ? -EPERM
		    : -EAGAIN;
		snprintf(msg, sizeof(msg), "webhook to '%s' failed: %s",
		    h->where,
		    h->errbuf[0] != '\0' ? h->errbuf
		                         : curl_easy_strerror(result));
	}
	/* the error goes into one line of the outbox and the log */
	for (p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	hook_put(h->bh, h); /* h->easy is easy */
	/* last: deliver_done may free d */
	deliver_done(d, rc, rc == 0 ? NULL : msg, retry_after);
}

/*
 * Reads what a delivery needs from its payload p: the event and the URL
 * (borrowed from p) and the body (*body, malloc'd).  A payload we cannot
 * read or address never will be: -EPERM with the reason in err.
 */
static int
from_payload(struct backend_http *bh, struct delivery *d, const json_t *p,
    const char **ret_event, const char **ret_url, char **ret_where, char **body,
    char *err, size_t errlen)
{
	const char *url, *event;
	int r = -EPERM;

	*ret_where = *body = NULL;
	if (!json_is_object(p)) {
		snprintf(err, errlen, "payload is not a JSON object");
		goto out;
	}
	event = get_str(p, "event");
	if (event == NULL)
		event = d->kind;
	if (!event_ok(event)) {
		snprintf(err, errlen, "bad event name in payload");
		goto out;
	}
	url = get_str(json_object_get(p, "recipient"), "webhook");
	if (url == NULL) {
		snprintf(err, errlen, "no webhook URL for '%s'", d->recipient);
		goto out;
	}
	if ((r = where_of(bh, url, ret_where)) < 0) {
		if (r == -EINVAL) {
			/* the URL itself may hold a token: not logged */
			snprintf(err, errlen,
			    "webhook URL for '%s' is not an http or https URL",
			    d->recipient);
			r = -EPERM;
		}
		goto out;
	}
	if (bh->c->webhook_format == WEBHOOK_SLACK)
		r = body_slack(p, event, body);
	else
		r = body_json(d, p, event, body);
	if (r < 0)
		goto out;
	*ret_event = event;
	*ret_url = url;
out:
	if (r < 0) {
		free(*ret_where);
		*ret_where = NULL;
	}
	return r;
}

/* links the request's headers into h->headers; 0 or -errno */
static int
set_headers(
    const struct conf *c, struct hook *h, const char *event, const char *uid)
{
	static char content_type[] = "Content-Type: application/json";
	/* curl would otherwise wait for 100-continue on large bodies */
	static char expect[] = "Expect:";
	size_t n = 0;
	int r;

	h->headers[n++].data = content_type;
	h->headers[n++].data = expect;
	snprintf(h->h_event, sizeof(h->h_event), "X-Promised-Event: %s", event);
	h->headers[n++].data = h->h_event;
	snprintf(h->h_delivery, sizeof(h->h_delivery),
	    "X-Promised-Delivery: %s", uid);
	h->headers[n++].data = h->h_delivery;
	if (c->n_webhook_secrets > 0) {
		if ((r = sign(c, h->body, h->h_sign, sizeof(h->h_sign))) < 0)
			return r;
		h->headers[n++].data = h->h_sign;
	}
	h->headers[--n].next = NULL;
	while (n-- > 0)
		h->headers[n].next = &h->headers[n + 1];
	return 0;
}

static int
http_start(struct backend *b, struct delivery *d, char *err, size_t errlen)
{
	struct backend_http *bh = (struct backend_http *)b;
	const struct conf *c = bh->c;
	struct rendering *rd = d->rendered;
	json_t *p = NULL;
	struct hook *h = NULL;
	const char *url, *event;
	char *where = NULL, *body = NULL;
	long timeout;
	int r;

	if (rd != NULL && rd->format == c->webhook_format) {
		/* render checked it all, with the same conditions */
		if ((r = where_of(bh, rd->url, &where)) < 0)
			goto out;
		url = rd->url;
		event = d->kind;
		body = rd->body;
		rd->body = NULL;
	} else {
		p = json_loads(d->payload, 0, NULL);
		if ((r = from_payload(bh, d, p, &event, &url, &where, &body,
		         err, errlen)) < 0)
			goto out;
	}
	r = -ENOMEM;
	if ((h = hook_get(bh)) == NULL)
		goto out;
	h->bh = bh;
	h->d = d;
	h->where = where;
	h->body = body;
	where = body = NULL;
	if ((r = set_headers(c, h, event, d->uid)) < 0)
		goto out;

	r = -ENOMEM;
	timeout =
	    c->webhook_timeout > 0 ? (long)c->webhook_timeout : DEFAULT_TIMEOUT;
	/* only failing allocations make these fail */
	if (curl_easy_setopt(h->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_TIMEOUT, timeout) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_CONNECTTIMEOUT,
	        timeout < CONNECT_TIMEOUT ? timeout : CONNECT_TIMEOUT) !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, h->errbuf) !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_USERAGENT,
	        "promised/" PROMISED_VERSION) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, h->headers) !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, h->body) !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	        (curl_off_t)strlen(h->body)) != CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, write_cb) !=
	        CURLE_OK ||
	    curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, h) != CURLE_OK)
		goto out;
	if ((r = curlev_add(bh->cv, h->easy, done_cb, h)) < 0)
		goto out;
	h->next = bh->hooks;
	if (bh->hooks != NULL)
		bh->hooks->pprev = &h->next;
	bh->hooks = h;
	h->pprev = &bh->hooks;
	h = NULL;
	r = 0;
out:
	if (h != NULL)
		hook_put(bh, h);
	/* a rendering serves the first attempt only */
	if (d->rendered != NULL) {
		d->rendered_free(d->rendered);
		d->rendered = NULL;
	}
	free(where);
	free(body);
	json_decref(p);
	return r;
}

/* backend.render: what http_start would make of p, made now */
static void
http_render(struct backend *b, struct delivery *d, const json_t *p)
{
	struct backend_http *bh = (struct backend_http *)b;
	struct rendering *rd = NULL;
	const char *url, *event;
	char *where = NULL, *body = NULL, err[8];
	size_t len;

	/* start takes the event from d, so it must be the payload's */
	event = get_str(p, "event");
	if (event == NULL || strcmp(event, d->kind) != 0)
		goto out;
	if (from_payload(
	        bh, d, p, &event, &url, &where, &body, err, sizeof(err)) < 0)
		goto out;
	len = strlen(url);
	if ((rd = malloc(sizeof(*rd) + len + 1)) == NULL)
		goto out;
	rd->format = bh->c->webhook_format;
	rd->body = body;
	body = NULL;
	memcpy(rd->url, url, len + 1);
	d->rendered = rd;
	d->rendered_free = rendering_free;
out:
	free(where);
	free(body);
}

static int
http_reload(struct backend *b, const struct conf *c)
{
	/* transfers under way keep what they were started with */
	((struct backend_http *)b)->c = c;
	return 0;
}

/*
 * The daemon is stopping with transfers under way.  Their deliveries stay
 * pending in the store, so deliver_done is not called.  Each easy handle
 * still sits in curlev's multi and belongs to curlev_close, which must run
 * before the loop does again; the hooks, their bodies and header lists are
 * ours.  libcurl reads those only while transferring, but may still write
 * an error while the handle is torn down, hence the errorbuffer unset.
 * The pool's handles are ours alone.
 */
static void
http_free(struct backend *b)
{
	struct backend_http *bh = (struct backend_http *)b;
	struct hook *h;
	size_t i;

	while ((h = bh->hooks) != NULL) {
		curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, NULL);
		h->easy = NULL;
		hook_free(h);
	}
	while ((h = bh->pool) != NULL) {
		bh->pool = h->next;
		hook_free(h);
	}
	for (i = 0; i < WHERE_CACHE; i++) {
		free(bh->wcache[i].url);
		free(bh->wcache[i].where);
	}
	free(bh);
}

int
backend_webhook_open(struct backend **ret, struct curlev *cv,
    const struct conf *c, char *err, size_t errlen)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	struct backend_http *bh;

	*ret = NULL;
	/* the headers we were built with may be newer than the library:
	 * CURLOPT_PROTOCOLS_STR needs 7.85.0 */
	if (v->version_num < 0x075500) {
		snprintf(err, errlen,
		    "webhook: libcurl %s is too old, 7.85.0 or later is needed",
		    v->version);
		return -ENOTSUP;
	}
	if ((bh = calloc(1, sizeof(*bh))) == NULL) {
		snprintf(err, errlen, "webhook: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	bh->b.name = "webhook";
	bh->b.start = http_start;
	bh->b.render = http_render;
	bh->b.reload = http_reload;
	bh->b.free = http_free;
	bh->cv = cv;
	bh->c = c;
	*ret = &bh->b;
	return 0;
}
