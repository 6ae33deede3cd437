/* SPDX-License-Identifier: MIT */
/*
 * backend_webhook.c: the webhook backend.  A delivery is one HTTP POST to the
 * recipient's webhook URL: our JSON event, or a {"text"} line for Slack and
 * Mattermost.  The delivery's uid rides along as the receiver's idempotency
 * key, with an HMAC-SHA256 signature when secrets are configured.  Transfers
 * run on a thread of their own (see "The webhook thread" below);
 * the host's done() hears of them from the main loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "backend.h"
#include "curlev.h"
#include "event.h"
#include "log.h"
#include "proto.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"
#include "webhook_body.h"
#include "worker.h"

/* without a configured timeout; connecting gets at most CONNECT_TIMEOUT */
#define DEFAULT_TIMEOUT 10L
#define CONNECT_TIMEOUT 10L
/* the response body is not read, only counted: past this we hang up, since
 * the status line is all we need and a receiver could send without end */
#define RESPONSE_MAX (64 * 1024)
/* idle easy handles the webhook thread keeps for reuse: enough for any
 * sensible [delivery] concurrency, so a burst creates none */
#define POOL_MAX 256
/* idle connections the webhook thread keeps: [delivery] concurrency's
 * maximum, so that none is closed only because a burst ebbed for a moment
 * (at most concurrency are ever open at once) */
#define KEEP_MAX 1024L
/* webhook URLs whose redacted form is remembered: there are few */
#define WHERE_CACHE 8
/* the headers of one request: content type, Expect, event, delivery and
 * perhaps the signature */
#define N_HEADERS 5

/*
 * The webhook thread (worker.c).  libcurl's share of a burst of deliveries
 * (connection handling, the HTTP protocol, the multi's bookkeeping) is as
 * large as the rest of the daemon's together, so the transfers run on a
 * thread of their own, as email's do: on two cores, SQLite and libcurl
 * then run side by side.  The main thread turns a delivery into a job
 * (http_start): a hook holding copies of all the request needs, URL,
 * headers, body and timeout.  The worker configures an easy handle from
 * the job, from a pool of its own, runs it, and writes the outcome into
 * the job (rc, msg, retry_after); webhook_report tells the host's done()
 * (called nowhere else).  HTTP never blocks the worker's loop, so it sees
 * a stop at once.
 */

/* one delivery's job; owned as told above */
struct hook {
	struct work work;
	struct backend_http *bh;
	struct hook *next_spare;
	struct backend_delivery
	    *d;     /* the main thread's: the worker never reads it */
	CURL *easy; /* the worker's, while the job runs */
	/* CURLOPT_HTTPHEADER, linked by hand in place: libcurl only reads
	 * the list, and this saves ten small allocations a request */
	struct curl_slist headers[N_HEADERS];
	char h_event[96];
	char h_delivery[64];
	char h_sign[256];
	char *url;
	char *body;  /* CURLOPT_POSTFIELDS: libcurl does not copy it */
	char *where; /* the URL without userinfo or query, for messages */
	long timeout;
	size_t received;
	bool overflow;
	char errbuf[CURL_ERROR_SIZE];
	/* the outcome, written by the worker before it hands h back */
	int rc;
	int64_t retry_after;
	char msg[512]; /* one printable line when rc != 0 */
};

/* a URL url_redact accepted, and what it made of it */
struct where {
	char *url;
	char *where;
};

struct backend_http {
	struct backend b;
	const struct conf *c;
	backend_done_fn *done; /* the host's */
	struct worker w;
	CURL *pool[POOL_MAX]; /* the worker's: idle easy handles */
	size_t n_pool;
	/* the main thread's: idle hooks.  A hook is too large for malloc's
	 * fast bins, and each new one would make it consolidate them all */
	struct hook *spare;
	size_t n_spare;
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
	if (h->easy != NULL)
		curl_easy_cleanup(h->easy);
	free(h->body);
	free(h->where);
	free(h->url);
	free(h);
}

/* main thread: a zeroed hook for a new job, a spare one if there is one;
 * NULL if out of memory */
static struct hook *
hook_get(struct backend_http *bh)
{
	struct hook *h = bh->spare;

	if (h == NULL)
		return calloc(1, sizeof(*h));
	bh->spare = h->next_spare;
	bh->n_spare--;
	h->next_spare = NULL;
	return h;
}

/* main thread: takes h, off every list and without an easy handle, back
 * as a spare (or frees it when there are enough) */
static void
hook_put(struct backend_http *bh, struct hook *h)
{
	if (h == NULL)
		return;
	if (bh->n_spare >= POOL_MAX) {
		hook_free(h);
		return;
	}
	free(h->body);
	free(h->where);
	free(h->url);
	memset(h, 0, sizeof(*h));
	h->next_spare = bh->spare;
	bh->spare = h;
	bh->n_spare++;
}

static struct hook *
hook_of(struct work *item)
{
	return container_of(item, struct hook, work);
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

/* CURLOPT_WRITEFUNCTION, on the webhook thread */
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

/* webhook thread: judges the transfer of h on easy and writes the outcome
 * into h */
static void
outcome(struct hook *h, CURL *easy, CURLcode result)
{
	long status = 0;
	curl_off_t ra = 0;
	char *p;

	h->retry_after = 0;
	/* a body past RESPONSE_MAX comes after the status line: judge by
	 * that */
	if (result == CURLE_WRITE_ERROR && h->overflow)
		result = CURLE_OK;
	if (result == CURLE_OK) {
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status <= 299)
			h->rc = 0;
		else if (status == 408 || status == 429 ||
		    (status >= 500 && status <= 599))
			h->rc = -EAGAIN;
		else
			h->rc = -EPERM; /* 1xx, 3xx, other 4xx: sending again
			                 * will not change the answer */
		if (h->rc == -EAGAIN &&
		    curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &ra) ==
		        CURLE_OK &&
		    ra > 0)
			h->retry_after = (int64_t)ra;
		snprintf(h->msg, sizeof(h->msg),
		    "webhook to '%s' failed: HTTP %ld%s", h->where, status,
		    status >= 300 && status <= 399
		        ? " (redirects are not followed)"
		        : "");
	} else {
		/* start() checked the URL, so if curl still refuses it, it
		 * always will; any other transport error may pass */
		h->rc = result == CURLE_URL_MALFORMAT ||
		        result == CURLE_UNSUPPORTED_PROTOCOL
		    ? -EPERM
		    : -EAGAIN;
		snprintf(h->msg, sizeof(h->msg), "webhook to '%s' failed: %s",
		    h->where,
		    h->errbuf[0] != '\0' ? h->errbuf
		                         : curl_easy_strerror(result));
	}
	/* the error goes into one line of the outbox and the log */
	for (p = h->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* webhook thread: takes easy, out of the multi, back into the pool (or
 * cleans it up when the pool is full) */
static void
easy_put(struct backend_http *bh, CURL *easy)
{
	if (bh->n_pool >= POOL_MAX) {
		curl_easy_cleanup(easy);
		return;
	}
	/* forgets the transfer's options, which point into its hook, and
	 * keeps the connection and DNS caches, which are the multi's
	 * anyway: much cheaper than a new handle */
	curl_easy_reset(easy);
	bh->pool[bh->n_pool++] = easy;
}

/* webhook thread, curlev_done_fn: the transfer is over and easy is ours */
static void
webhook_done_cb(CURL *easy, CURLcode result, void *arg)
{
	struct hook *h = arg;

	outcome(h, easy, result);
	h->easy = NULL;
	worker_finish(&h->bh->w, &h->work);
	easy_put(h->bh, easy);
}

/* webhook thread: an easy handle set up for h, from the pool when it has
 * one; 0 or -ENOMEM */
static int
easy_setup(struct backend_http *bh, struct hook *h)
{
	CURL *easy;
	int r = -ENOMEM;

	if (bh->n_pool > 0)
		easy = bh->pool[--bh->n_pool];
	else if ((easy = curl_easy_init()) == NULL)
		goto out;
	h->easy = easy;
	/* only failing allocations make these fail */
	if (curl_easy_setopt(easy, CURLOPT_URL, h->url) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") !=
	        CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_TIMEOUT, h->timeout) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT,
	        h->timeout < CONNECT_TIMEOUT ? h->timeout : CONNECT_TIMEOUT) !=
	        CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, h->errbuf) !=
	        CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_USERAGENT,
	        "promised/" PROMISED_VERSION) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h->headers) !=
	        CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, h->body) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
	        (curl_off_t)strlen(h->body)) != CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, write_cb) !=
	        CURLE_OK ||
	    curl_easy_setopt(easy, CURLOPT_WRITEDATA, h) != CURLE_OK)
		goto out;
	r = 0;
out:
	return r;
}

/* webhook thread: worker_ops.begin */
static int
webhook_begin(struct worker *w, struct work *item)
{
	struct hook *h = hook_of(item);
	int r;

	if ((r = easy_setup(h->bh, h)) < 0 ||
	    (r = curlev_add(worker_curlev(w), h->easy, webhook_done_cb, h)) <
	        0) {
		if (h->easy != NULL)
			easy_put(h->bh, h->easy);
		h->easy = NULL;
		h->rc = r;
		snprintf(h->msg, sizeof(h->msg), "webhook to '%s' failed: %s",
		    h->where, strerror(-r));
	}
	return r;
}

/* main thread: worker_ops.report */
static void
webhook_report(struct worker *w, struct work *item)
{
	struct hook *h = hook_of(item);

	(void)w;
	/* done() may free h->d or start other deliveries, but never
	 * touches h */
	h->bh->done(h->d, h->rc, h->rc == 0 ? NULL : h->msg, h->retry_after);
	hook_put(h->bh, h);
}

/* main thread: worker_ops.drop */
static void
webhook_drop(struct work *item, bool running)
{
	struct hook *h = hook_of(item);

	if (running) /* curlev_close cleaned it up */
		h->easy = NULL;
	hook_free(h);
}

static const struct worker_ops webhook_ops = {
    .begin = webhook_begin,
    .report = webhook_report,
    .drop = webhook_drop,
};

/*
 * Reads what a delivery needs from its payload's parts pp: the URL
 * (borrowed from pp) and the body (*body, malloc'd).  A payload we cannot
 * read or address never will be: -EPERM with the reason in err.
 */
static int
from_parts(struct backend_http *bh, struct backend_delivery *d,
    const struct payload_parts *pp, const char **ret_url, char **ret_where,
    char **body, char *err, size_t errlen)
{
	const char *url;
	int r = -EPERM;

	*ret_where = *body = NULL;
	if (!event_ok(pp->event)) {
		snprintf(err, errlen, "bad event name in payload");
		goto out;
	}
	url = pp->webhook;
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
	if (conf_webhook_format(bh->c, d->recipient) == WEBHOOK_SLACK)
		r = webhook_body_slack(pp, body);
	else
		r = webhook_body_json(d->uid, pp, body);
	if (r < 0)
		goto out;
	*ret_url = url;
out:
	if (r < 0) {
		free(*ret_where);
		*ret_where = NULL;
	}
	return r;
}

/* from_parts for the payload's text, read back */
static int
from_payload(struct backend_http *bh, struct backend_delivery *d,
    struct webhook_read *rd, json_t **tree, const char **ret_url,
    char **ret_where, char **body, char *err, size_t errlen)
{
	int r;

	*ret_where = *body = NULL;
	*tree = json_loads(d->payload, 0, NULL);
	if (!json_is_object(*tree)) {
		snprintf(err, errlen, "payload is not a JSON object");
		return -EPERM;
	}
	if ((r = webhook_read(rd, *tree)) < 0)
		return r;
	if (rd->parts.event == NULL)
		rd->parts.event = d->event;
	return from_parts(
	    bh, d, &rd->parts, ret_url, ret_where, body, err, errlen);
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
http_start(
    struct backend *b, struct backend_delivery *d, char *err, size_t errlen)
{
	struct backend_http *bh = container_of(b, struct backend_http, b);
	const struct conf *c = bh->c;
	struct rendering *rd = d->rendered;
	struct webhook_read parts = {0};
	json_t *p = NULL;
	struct hook *h = NULL;
	const char *url;
	char *where = NULL, *body = NULL;
	int r;

	if (rd != NULL && rd->format == conf_webhook_format(c, d->recipient)) {
		/* render checked it all, with the same conditions */
		if ((r = where_of(bh, rd->url, &where)) < 0)
			goto out;
		url = rd->url;
		body = rd->body;
		rd->body = NULL;
	} else if ((r = from_payload(bh, d, &parts, &p, &url, &where, &body,
	                err, errlen)) < 0)
		goto out;
	/* the job carries copies of all the worker needs: url is p's or
	 * rd's, both gone once this returns */
	r = -ENOMEM;
	if ((h = hook_get(bh)) == NULL)
		goto out;
	if ((h->url = strdup(url)) == NULL)
		goto out;
	h->bh = bh;
	h->d = d;
	h->where = where;
	h->body = body;
	where = body = NULL;
	h->timeout =
	    c->webhook_timeout > 0 ? (long)c->webhook_timeout : DEFAULT_TIMEOUT;
	/* the event is the row's: render made sure the payload's is the same,
	 * and a payload read back falls back to it */
	if ((r = set_headers(c, h,
	         parts.parts.event != NULL ? parts.parts.event : d->event,
	         d->uid)) < 0)
		goto out;
	/* the hand-over: from here h is the worker's, and it comes back
	 * through webhook_report, from the loop, so never before this returns
	 */
	worker_submit(&bh->w, &h->work);
	h = NULL;
	r = 0;
out:
	hook_put(bh, h);
	/* a rendering serves the first attempt only */
	if (d->rendered != NULL) {
		d->rendered_free(d->rendered);
		d->rendered = NULL;
	}
	free(where);
	free(body);
	webhook_read_free(&parts);
	json_decref(p);
	return r;
}

/* backend.render: what http_start would make of the payload, made now */
static void
http_render(struct backend *b, struct backend_delivery *d,
    const struct payload_parts *pp)
{
	struct backend_http *bh = container_of(b, struct backend_http, b);
	struct rendering *rd = NULL;
	const char *url;
	char *where = NULL, *body = NULL, err[8];
	size_t len;

	/* start takes the event from d, so it must be the payload's */
	if (pp->event == NULL || strcmp(pp->event, d->event) != 0)
		goto out;
	if (from_parts(bh, d, pp, &url, &where, &body, err, sizeof(err)) < 0)
		goto out;
	len = strlen(url);
	if ((rd = malloc(sizeof(*rd) + len + 1)) == NULL)
		goto out;
	rd->format = conf_webhook_format(bh->c, d->recipient);
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
	/* jobs under way keep what they were started with: each has its
	 * own copies, and the webhook thread never reads the configuration */
	container_of(b, struct backend_http, b)->c = c;
	return 0;
}

/*
 * The daemon is stopping with transfers under way.  Their deliveries stay
 * pending in the store, so done() is not called: worker_stop joins
 * the webhook thread and drops every job it still had.
 */
static void
http_free(struct backend *b)
{
	struct backend_http *bh;
	struct hook *h;
	size_t i;

	/* container_of on NULL would be arithmetic on a null pointer */
	if (b == NULL)
		return;
	bh = container_of(b, struct backend_http, b);
	worker_stop(&bh->w);
	while ((h = bh->spare) != NULL) {
		bh->spare = h->next_spare;
		hook_free(h);
	}
	while (bh->n_pool > 0)
		curl_easy_cleanup(bh->pool[--bh->n_pool]);
	for (i = 0; i < WHERE_CACHE; i++) {
		free(bh->wcache[i].url);
		free(bh->wcache[i].where);
	}
	free(bh);
}

int
backend_webhook_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen)
{
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	struct backend_http *bh = NULL;
	int r = -ENOTSUP;

	*ret = NULL;
	/* the headers we were built with may be newer than the library:
	 * CURLOPT_PROTOCOLS_STR needs 7.85.0 */
	if (v->version_num < 0x075500) {
		snprintf(err, errlen,
		    "webhook: libcurl %s is too old, 7.85.0 or later is needed",
		    v->version);
		goto out;
	}
	if ((bh = calloc(1, sizeof(*bh))) == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "webhook: %s", strerror(-r));
		goto out;
	}
	bh->b.name = "webhook";
	bh->b.start = http_start;
	bh->b.render = http_render;
	bh->b.reload = http_reload;
	bh->b.free = http_free;
	bh->c = c;
	bh->done = host->done;
	/* before the thread exists (see tz.h); a no-op after main.c's */
	if ((r = tz_pin()) < 0 ||
	    (r = worker_start(&bh->w, &webhook_ops, bh, host->loop, KEEP_MAX)) <
	        0) {
		snprintf(err, errlen,
		    "webhook: cannot start the webhook thread: %s",
		    strerror(-r));
		goto out;
	}
	*ret = &bh->b;
	bh = NULL;
	r = 0;
out:
	if (bh != NULL)
		http_free(&bh->b);
	return r;
}
