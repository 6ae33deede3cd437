/* SPDX-License-Identifier: MIT */
/*
 * bench_curl.c: the ceiling for webhook delivery.  POSTs one body N times
 * with a bare libcurl multi loop, the same headers the daemon sends and at
 * most C transfers at once over kept-alive connections, so that the
 * daemon's delivery rate can be set against what libcurl and the receiver
 * manage with nothing else in the way.
 *
 * Usage: bench_curl -u URL -b BODYFILE -n N [-c CONCURRENCY] [--timeout S]
 *
 * Prints {"posts":N,"ok":OK,"failed":F,"seconds":S,"per_s":R,
 * "concurrency":C}, where posts counts finished transfers and ok those
 * answered 200.  Exits 1 if any failed or the timeout was hit.
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

struct slot {
	CURL *easy;
	struct curl_slist *headers;
	/* the 32 hex digits inside this slot's X-Promised-Delivery header */
	char *deliv;
	char errbuf[CURL_ERROR_SIZE];
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

	snprintf(hex, sizeof(hex), "%016" PRIx64 "%016" PRIx64, prefix, seq);
	/*
	 * libcurl copies the header list into the request when a transfer
	 * starts, so rewriting the digits of an idle handle's list in place
	 * is safe and spares four allocations per request.
	 */
	memcpy(sl->deliv, hex, DELIV_HEX);
}

static int
slot_init(struct slot *sl, const char *url, const char *body, size_t len)
{
	char hdr[sizeof(DELIV_HDR) + DELIV_HEX];
	struct curl_slist *last;
	int rc = -1;

	snprintf(hdr, sizeof(hdr), "%s%0*d", DELIV_HDR, DELIV_HEX, 0);
	if ((sl->headers = curl_slist_append(
	         NULL, "Content-Type: application/json")) == NULL ||
	    (sl->headers = curl_slist_append(sl->headers, "Expect:")) == NULL ||
	    (sl->headers = curl_slist_append(
	         sl->headers, "X-Promised-Event: due")) == NULL ||
	    (last = curl_slist_append(sl->headers, hdr)) == NULL)
		goto out;
	while (last->next != NULL)
		last = last->next;
	sl->deliv = last->data + strlen(DELIV_HDR);
	if ((sl->easy = curl_easy_init()) == NULL)
		goto out;
	if (curl_easy_setopt(sl->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_TIMEOUT, XFER_TIMEOUT) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_USERAGENT, "promised-bench") !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_HTTPHEADER, sl->headers) !=
	        CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(sl->easy, CURLOPT_POSTFIELDSIZE, (long)len) !=
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

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_curl -u URL -b BODYFILE -n N "
	    "[-c CONCURRENCY] [--timeout SECONDS]\n");
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
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL, *bodypath = NULL;
	long long n = -1, conc = DEFAULT_CONCURRENCY, timeout = DEFAULT_TIMEOUT;
	struct slot *slots = NULL;
	CURLM *multi = NULL;
	char *body = NULL;
	size_t body_len = 0, nslots = 0, i;
	uint64_t prefix = 0, started = 0, done = 0, ok = 0, failed = 0;
	int64_t t0, t1, deadline;
	bool global = false, timed_out = false;
	double secs;
	int ch, running, left, rc = 1;

	while ((ch = getopt_long(argc, argv, "u:b:n:c:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
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
	if (url == NULL || bodypath == NULL || n < 0 || optind != argc)
		goto usage;

	if (read_file(bodypath, &body, &body_len) < 0)
		goto out;
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
		if (slot_init(&slots[i], url, body, body_len) < 0)
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
			if (res == CURLE_OK && code == 200)
				ok++;
			else if (failed++ < FAIL_REPORTS)
				fprintf(stderr, "bench_curl: post failed: %s\n",
				    res != CURLE_OK
				        ? (sl->errbuf[0] != '\0'
				                  ? sl->errbuf
				                  : curl_easy_strerror(res))
				        : "not a 200 reply");
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
	printf("{\"posts\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"failed\":%" PRIu64
	       ",\"seconds\":%.3f,\"per_s\":%.1f,\"concurrency\":%lld%s}\n",
	    done, ok, failed, secs, secs > 0 ? (double)ok / secs : 0.0, conc,
	    timed_out ? ",\"timed_out\":true" : "");
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
	free(body);
	if (global)
		curl_global_cleanup();
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
