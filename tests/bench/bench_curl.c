/* SPDX-License-Identifier: MIT */
/*
 * bench_curl.c: the ceiling for webhook delivery.  POSTs one body N times
 * with a bare libcurl multi loop, the same headers the daemon sends and at
 * most C transfers at once over kept-alive connections, so that the
 * daemon's delivery rate can be set against what libcurl and the receiver
 * manage with nothing else in the way.
 *
 * Usage: bench_curl -u URL (-b BODYFILE | --get) -n N [-c CONCURRENCY]
 *     [-H HEADER]... [--status CODE] [--plain] [--timeout S]
 *
 * The same loop is also a client of promised's own listener: -H adds a
 * header (a Bearer token, a proxy's user header), --plain leaves out the
 * webhook headers, --status names the answer that counts as done (201
 * for an add), and --get fetches URL instead of posting.
 *
 * Prints {"posts":N,"ok":OK,"failed":F,"seconds":S,"per_s":R,
 * "concurrency":C,"p50_ms":X,"p99_ms":X,"max_ms":X}, where posts counts
 * finished transfers, ok those answered with CODE (200), and the
 * percentiles are of each transfer's time from its start to its end.
 * Exits 1 if any failed or the timeout was hit.
 */
#include <sys/random.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bench_util.h"

#define DEFAULT_TIMEOUT 120
#define DEFAULT_CONCURRENCY 64
#define MAX_CONCURRENCY 4096
#define BODY_MAX (16 * 1024 * 1024)
/* a single request stuck this long means the receiver is gone */
#define XFER_TIMEOUT 30L
#define DELIV_HDR "X-Promised-Delivery: "
#define DELIV_HEX 32
/* failures worth describing one by one before going quiet */
#define FAIL_REPORTS 5
#define MAX_HEADERS 8
/* transfers whose times are kept for the percentiles, at most */
#define MAX_TIMED 10000000

struct slot {
	CURL *easy;
	struct curl_slist *headers;
	/* the 32 hex digits inside this slot's X-Promised-Delivery header */
	char *deliv;
	int64_t started_us;
	char errbuf[CURL_ERROR_SIZE];
};

/* what every transfer of the run is */
struct spec {
	const char *url;
	const char *body; /* NULL: a GET */
	size_t len;
	const char *headers[MAX_HEADERS];
	size_t n_headers;
	bool plain;
};

static size_t
discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* malloc'd contents of path in *ret; 0 or -1 */
static int
read_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, n;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL)
		goto out;
	if ((buf = malloc(BODY_MAX + 1)) == NULL)
		goto out;
	while ((n = fread(buf + len, 1, BODY_MAX + 1 - len, f)) > 0) {
		len += n;
		if (len > BODY_MAX) {
			errno = EFBIG;
			goto out;
		}
	}
	if (ferror(f))
		goto out;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "bench_curl: %s: %s\n", path, strerror(errno));
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

/* a delivery id unique to this run and request: random half, counter half */
static void
set_delivery(struct slot *sl, uint64_t prefix, uint64_t seq)
{
	char hex[DELIV_HEX + 1];

	sl->started_us = bench_mono_us();
	if (sl->deliv == NULL)
		return;

	snprintf(hex, sizeof(hex), "%016" PRIx64 "%016" PRIx64, prefix, seq);
	/*
	 * libcurl copies the header list into the request when a transfer
	 * starts, so rewriting the digits of an idle handle's list in place
	 * is safe and spares four allocations per request.
	 */
	memcpy(sl->deliv, hex, DELIV_HEX);
}

static int
slot_init(struct slot *sl, const struct spec *sp)
{
	char hdr[sizeof(DELIV_HDR) + DELIV_HEX];
	struct curl_slist *last;
	size_t i;
	int rc = -1;

	snprintf(hdr, sizeof(hdr), "%s%0*d", DELIV_HDR, DELIV_HEX, 0);
	for (i = 0; i < sp->n_headers; i++)
		if ((sl->headers = curl_slist_append(
		         sl->headers, sp->headers[i])) == NULL)
			goto out;
	if (sp->body != NULL &&
	    ((sl->headers = curl_slist_append(
	          sl->headers, "Content-Type: application/json")) == NULL ||
	        (sl->headers = curl_slist_append(sl->headers, "Expect:")) ==
	            NULL))
		goto out;
	if (!sp->plain) {
		if ((sl->headers = curl_slist_append(
		         sl->headers, "X-Promised-Event: due")) == NULL ||
		    (last = curl_slist_append(sl->headers, hdr)) == NULL)
			goto out;
		while (last->next != NULL)
			last = last->next;
		sl->deliv = last->data + strlen(DELIV_HDR);
	}
	if ((sl->easy = curl_easy_init()) == NULL)
		goto out;
	if (sp->body != NULL &&
	    (curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, sp->body) !=
	            CURLE_OK ||
	        curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE,
	            (long)sp->len) != CURLE_OK))
		goto out;
	if (curl_easy_setopt(sl->easy, CURLOPT_URL, sp->url) != CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT, XFER_TIMEOUT) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_USERAGENT, "promised-bench") !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->headers) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_WRITEFUNCTION, discard) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_ERRORBUFFER, sl->errbuf) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_PRIVATE, sl) != CURLE_OK)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "bench_curl: cannot set up a transfer\n");
	return rc;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_curl -u URL (-b BODYFILE | --get) -n N "
	    "[-c CONCURRENCY] [-H HEADER]... [--status CODE] [--plain] "
	    "[--timeout SECONDS]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"body", required_argument, NULL, 'b'},
	    {"count", required_argument, NULL, 'n'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"timeout", required_argument, NULL, 't'},
	    {"header", required_argument, NULL, 'H'},
	    {"status", required_argument, NULL, 's'},
	    {"plain", no_argument, NULL, 'p'},
	    {"get", no_argument, NULL, 'g'},
	    {NULL, 0, NULL, 0},
	};
	const char *bodypath = NULL;
	struct spec sp = {0};
	long long n = -1, conc = DEFAULT_CONCURRENCY, timeout = DEFAULT_TIMEOUT,
	          want = 200;
	int64_t *lat = NULL, lat_us;
	size_t n_lat = 0;
	bool get = false;
	struct slot *slots = NULL;
	CURLM *multi = NULL;
	char *body = NULL;
	size_t body_len = 0, nslots = 0, i;
	uint64_t prefix = 0, started = 0, done = 0, ok = 0, failed = 0;
	int64_t t0, t1, deadline;
	bool global = false, timed_out = false;
	double secs;
	int ch, running, left, rc = 1;

	while ((ch = getopt_long(argc, argv, "u:b:n:c:t:H:s:pg", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'u':
			sp.url = optarg;
			break;
		case 'H':
			if (sp.n_headers == MAX_HEADERS)
				goto usage;
			sp.headers[sp.n_headers++] = optarg;
			break;
		case 's':
			if (bench_parse_num(optarg, 100, 599, &want) < 0)
				goto usage;
			break;
		case 'p':
			sp.plain = true;
			break;
		case 'g':
			get = true;
			break;
		case 'b':
			bodypath = optarg;
			break;
		case 'n':
			if (bench_parse_num(optarg, 1, INT64_MAX, &n) < 0)
				goto usage;
			break;
		case 'c':
			if (bench_parse_num(optarg, 1, MAX_CONCURRENCY, &conc) <
			    0)
				goto usage;
			break;
		case 't':
			if (bench_parse_num(optarg, 1, 86400 * 7, &timeout) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (sp.url == NULL || (bodypath == NULL) == !get || n < 0 ||
	    optind != argc)
		goto usage;

	if (!get && read_file(bodypath, &body, &body_len) < 0)
		goto out;
	sp.body = body;
	sp.len = body_len;
	if (n <= MAX_TIMED &&
	    (lat = malloc((size_t)n * sizeof(*lat))) == NULL) {
		fprintf(stderr, "bench_curl: out of memory\n");
		goto out;
	}
	if (getrandom(&prefix, sizeof(prefix), 0) != (ssize_t)sizeof(prefix)) {
		fprintf(stderr, "bench_curl: getrandom: %s\n", strerror(errno));
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "bench_curl: curl_global_init failed\n");
		goto out;
	}
	global = true;
	nslots = (size_t)(conc < n ? conc : n);
	if ((slots = calloc(nslots, sizeof(*slots))) == NULL ||
	    (multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "bench_curl: out of memory\n");
		goto out;
	}
	if (curl_multi_setopt(
	        multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc) != CURLM_OK ||
	    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conc) !=
	        CURLM_OK) {
		fprintf(stderr, "bench_curl: curl_multi_setopt failed\n");
		goto out;
	}
	for (i = 0; i < nslots; i++)
		if (slot_init(&slots[i], &sp) < 0)
			goto out;

	t0 = bench_mono_us();
	deadline = t0 + timeout * 1000000;
	for (i = 0; i < nslots; i++) {
		set_delivery(&slots[i], prefix, started++);
		if (curl_multi_add_handle(multi, slots[i].easy) != CURLM_OK) {
			fprintf(stderr,
			    "bench_curl: curl_multi_add_handle "
			    "failed\n");
			goto out;
		}
	}
	while (done < (uint64_t)n) {
		CURLMsg *msg;
		CURLcode res;
		CURLMcode mc;
		struct slot *sl;
		CURL *easy;
		long code;

		if (bench_mono_us() > deadline) {
			fprintf(stderr,
			    "bench_curl: timed out after %" PRIu64 " posts\n",
			    done);
			timed_out = true;
			break;
		}
		if ((mc = curl_multi_perform(multi, &running)) != CURLM_OK) {
			fprintf(stderr, "bench_curl: curl_multi_perform: %s\n",
			    curl_multi_strerror(mc));
			goto out;
		}
		while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg dies with the handle's removal: copy it first */
			easy = msg->easy_handle;
			res = msg->data.result;
			code = 0;
			sl = NULL;
			curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&sl);
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
			lat_us = bench_mono_us() - sl->started_us;
			if (lat != NULL)
				lat[n_lat++] = lat_us;
			if (res == CURLE_OK && code == want)
				ok++;
			else if (failed++ < FAIL_REPORTS)
				fprintf(stderr, "bench_curl: post failed: %s\n",
				    res != CURLE_OK
				        ? (sl->errbuf[0] != '\0'
				                  ? sl->errbuf
				                  : curl_easy_strerror(res))
				        : "not the reply wanted");
			curl_multi_remove_handle(multi, easy);
			done++;
			if (started < (uint64_t)n) {
				sl->errbuf[0] = '\0';
				set_delivery(sl, prefix, started++);
				if (curl_multi_add_handle(multi, easy) !=
				    CURLM_OK) {
					fprintf(stderr,
					    "bench_curl: "
					    "curl_multi_add_handle failed\n");
					goto out;
				}
			}
		}
		if (done < (uint64_t)n &&
		    (mc = curl_multi_poll(multi, NULL, 0, 100, NULL)) !=
		        CURLM_OK) {
			fprintf(stderr, "bench_curl: curl_multi_poll: %s\n",
			    curl_multi_strerror(mc));
			goto out;
		}
	}
	t1 = bench_mono_us();
	secs = (double)(t1 - t0) / 1e6;
	if (lat != NULL)
		qsort(lat, n_lat, sizeof(*lat), cmp_i64);
	printf("{\"posts\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"seconds\":%.3f,\"per_s\":%.1f,\"concurrency\":%lld",
	    done, ok, failed, secs, secs > 0 ? (double)ok / secs : 0.0, conc);
	if (n_lat > 0)
		printf(",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f",
		    (double)lat[(n_lat - 1) / 2] / 1000.0,
		    (double)lat[(n_lat - 1) * 99 / 100] / 1000.0,
		    (double)lat[n_lat - 1] / 1000.0);
	printf("%s}\n", timed_out ? ",\"timed_out\":true" : "");
	rc = timed_out || failed > 0 ? 1 : 0;
	goto out;
usage:
	usage();
	rc = 2;
out:
	for (i = 0; i < nslots; i++) {
		if (slots[i].easy != NULL) {
			if (multi != NULL)
				curl_multi_remove_handle(multi, slots[i].easy);
			curl_easy_cleanup(slots[i].easy);
		}
		curl_slist_free_all(slots[i].headers);
	}
	if (multi != NULL)
		curl_multi_cleanup(multi);
	free(slots);
	free(lat);
	free(body);
	if (global)
		curl_global_cleanup();
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
