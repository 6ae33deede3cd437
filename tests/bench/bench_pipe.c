/* SPDX-License-Identifier: MIT */
/*
 * bench_pipe.c: a pipelined client of promised's control socket, for the
 * benchmarks (protocol: common/PROTOCOL.md).
 *
 *   bench_pipe add -s SOCKET -n N [-w WINDOW] [--owner LOGIN]
 *       [--due-in SECONDS | --due-at EPOCH] [--timeout SECONDS]
 *
 * adds N promises over one connection with up to WINDOW requests in
 * flight, and prints {"adds":N,"ok":OK,"errors":E,"seconds":S,"per_s":R,
 * "window":W}.  Each due_at is the wall clock when the request is built
 * plus --due-in (default 10 days), or the one instant --due-at.
 *
 *   bench_pipe probe -s SOCKET -d SECONDS [-i INTERVAL_MS] [--owner LOGIN]
 *       [--timeout SECONDS]
 *
 * sends one request every INTERVAL_MS (default 10) for SECONDS, waiting
 * for each reply, alternately status and list (owner LOGIN if given,
 * limit 50), and prints {"status":{"n":N,"errors":E,"p50_ms":X,
 * "p99_ms":X,"max_ms":X},"list":{...}}: what a user sees while the
 * daemon is under load.
 *
 * Both exit 1 when the daemon refused anything or went away, or when the
 * timeout (default 120 s, the whole run) is up.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench_util.h"

#include "proto.h"
#include "util.h"

#define DEFAULT_TIMEOUT 120
#define DEFAULT_WINDOW 64
#define MAX_WINDOW 65536
#define DEFAULT_DUE_IN 864000
#define DEFAULT_INTERVAL_MS 10
#define LIST_LIMIT 50
/* room for one add request; the owner is at most 64 bytes */
#define REQ_MAX 512
#define READ_CHUNK (256 * 1024)
/* a list reply can be far longer than a request line */
#define REPLY_MAX (64u * 1024 * 1024)

struct conn {
	int fd;
	struct linebuf lb;
	char *out;
	size_t out_len, out_off, out_cap;
};

/* latencies of one kind of probe, in microseconds */
struct lat {
	int64_t *us;
	size_t n, cap;
	uint64_t errors;
};

static int
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sun;
	int fl, rc = -1;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	linebuf_init(&c->lb, REPLY_MAX);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		goto out;
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto out;
	/* both directions at once through poll: neither side may block */
	if ((fl = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "bench_pipe: %s: %s\n", path, strerror(errno));
	return rc;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	linebuf_free(&c->lb);
	free(c->out);
	c->out = NULL;
}

/* 0, or -1 when the daemon is gone */
static int
conn_send(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			fprintf(
			    stderr, "bench_pipe: send: %s\n", strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* 0, or -1 on EOF or error; replies land in c->lb */
static int
conn_recv(struct conn *c)
{
	static char buf[READ_CHUNK];
	ssize_t n;
	int r;

	n = read(c->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		fprintf(stderr, "bench_pipe: read: %s\n", strerror(errno));
		return -1;
	}
	if (n == 0) {
		fprintf(stderr,
		    "bench_pipe: the daemon closed the "
		    "connection\n");
		return -1;
	}
	if ((r = linebuf_append(&c->lb, buf, (size_t)n)) < 0) {
		fprintf(stderr, "bench_pipe: reply: %s\n", strerror(-r));
		return -1;
	}
	return 0;
}

/* waits for the socket until at most deadline; 0, or -1 on timeout */
static int
conn_wait(struct conn *c, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left = deadline - bench_mono_us();
	int ms;

	if (left <= 0)
		return -1;
	ms = left > 1000000 ? 1000 : (int)((left + 999) / 1000);
	pfd.fd = c->fd;
	pfd.events = POLLIN | (c->out_off < c->out_len ? POLLOUT : 0);
	pfd.revents = 0;
	if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
		fprintf(stderr, "bench_pipe: poll: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * true for a success reply.  The daemon writes "ok" first, so a prefix
 * test settles the common case; anything else gets a real parse, and the
 * first error is described on stderr.
 */
static bool
reply_ok(const char *line, size_t len, bool *reported, const char *what)
{
	static const char ok[] = "{\"ok\":true";
	json_t *j = NULL, *e;
	bool rc = false;

	if (len >= sizeof(ok) - 1 && memcmp(line, ok, sizeof(ok) - 1) == 0)
		return true;
	if ((j = json_loadb(line, len, 0, NULL)) == NULL) {
		if (!*reported)
			fprintf(stderr, "bench_pipe: %s: reply is not JSON\n",
			    what);
		goto out;
	}
	if (json_is_true(json_object_get(j, "ok"))) {
		rc = true;
		goto out;
	}
	if (!*reported) {
		const char *code, *msg;

		e = json_object_get(j, "error");
		code = json_string_value(json_object_get(e, "code"));
		msg = json_string_value(json_object_get(e, "message"));
		fprintf(stderr, "bench_pipe: %s: %s: %s\n", what,
		    code != NULL ? code : "?", msg != NULL ? msg : "?");
	}
out:
	*reported = true;
	json_decref(j);
	return rc;
}

static int64_t
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static int
run_add(const char *sock, uint64_t n, uint64_t window, const char *owner,
    int64_t due_in, int64_t due_at, int64_t timeout)
{
	struct conn c;
	char owner_field[96] = "";
	char *line;
	size_t len;
	uint64_t sent = 0, got = 0, ok = 0, errors = 0;
	int64_t t0, t1, deadline;
	bool reported = false, timed_out = false;
	double secs;
	int rc = 1, w;

	if (conn_open(&c, sock) < 0)
		goto out;
	if (owner != NULL)
		snprintf(owner_field, sizeof(owner_field), ",\"owner\":\"%s\"",
		    owner);
	c.out_cap = (size_t)window * REQ_MAX;
	if ((c.out = malloc(c.out_cap)) == NULL) {
		fprintf(stderr, "bench_pipe: out of memory\n");
		goto out;
	}
	t0 = bench_mono_us();
	deadline = t0 + timeout * 1000000;
	while (got < n) {
		/* top the window up in one batch: fewer, fuller writes */
		while (sent < n && sent - got < window &&
		    c.out_cap - c.out_len >= REQ_MAX) {
			w = snprintf(c.out + c.out_len, REQ_MAX,
			    "{\"v\":1,\"op\":\"add\",\"tag\":%" PRIu64
			    ",\"title\":\"Bench promise %" PRIu64
			    "\",\"due_at\":%" PRId64
			    ",\"for\":\"Customer %" PRIu64 "\"%s}\n",
			    sent, sent, due_at > 0 ? due_at : wall_s() + due_in,
			    sent, owner_field);
			if (w < 0 || w >= REQ_MAX) {
				fprintf(
				    stderr, "bench_pipe: request too long\n");
				goto out;
			}
			c.out_len += (size_t)w;
			sent++;
		}
		if (conn_send(&c) < 0)
			goto out;
		if (conn_wait(&c, deadline) < 0) {
			fprintf(stderr,
			    "bench_pipe: timed out after %" PRIu64 " replies\n",
			    got);
			timed_out = true;
			break;
		}
		if (conn_send(&c) < 0 || conn_recv(&c) < 0)
			goto out;
		while ((line = linebuf_next(&c.lb, &len)) != NULL) {
			if (got == sent) {
				fprintf(stderr,
				    "bench_pipe: a reply to no "
				    "request\n");
				goto out;
			}
			got++;
			if (reply_ok(line, len, &reported, "add"))
				ok++;
			else
				errors++;
		}
	}
	t1 = bench_mono_us();
	secs = (double)(t1 - t0) / 1e6;
	printf("{\"adds\":%" PRIu64 ",\"ok\":%" PRIu64 ",\"errors\":%" PRIu64
	       ",\"seconds\":%.3f,\"per_s\":%.1f,\"window\":%" PRIu64 "%s}\n",
	    got, ok, errors, secs, secs > 0 ? (double)ok / secs : 0.0, window,
	    timed_out ? ",\"timed_out\":true" : "");
	rc = timed_out || errors > 0 ? 1 : 0;
out:
	conn_close(&c);
	return rc;
}

static int
lat_add(struct lat *l, int64_t us)
{
	int64_t *nl;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap > 0 ? 2 * l->cap : 1024;
		if ((nl = realloc(l->us, cap * sizeof(*nl))) == NULL)
			return -1;
		l->us = nl;
		l->cap = cap;
	}
	l->us[l->n++] = us;
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* nearest rank: the smallest value with at least pct% at or below it */
static double
pct_ms(const struct lat *l, unsigned pct)
{
	size_t rank = (pct * l->n + 99) / 100;

	return (double)l->us[rank > 0 ? rank - 1 : 0] / 1000.0;
}

static void
lat_print(const char *name, struct lat *l)
{
	printf("\"%s\":{\"n\":%zu,\"errors\":%" PRIu64, name, l->n, l->errors);
	if (l->n == 0) {
		printf(",\"p50_ms\":null,\"p99_ms\":null,\"max_ms\":null}");
		return;
	}
	qsort(l->us, l->n, sizeof(*l->us), cmp_i64);
	printf(",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
	    pct_ms(l, 50), pct_ms(l, 99), (double)l->us[l->n - 1] / 1000.0);
}

static int
run_probe(const char *sock, int64_t secs, int64_t interval_ms,
    const char *owner, int64_t timeout)
{
	struct conn c;
	struct lat lat[2] = {{NULL, 0, 0, 0}, {NULL, 0, 0, 0}};
	static const char *const names[2] = {"status", "list"};
	char req[2][256];
	char *line;
	size_t len, k = 0;
	int64_t start, end, deadline, next, t0, now;
	bool reported[2] = {false, false}, timed_out = false;
	int rc = 1, which;

	if (conn_open(&c, sock) < 0)
		goto out;
	snprintf(req[0], sizeof(req[0]), "{\"v\":1,\"op\":\"status\"}\n");
	snprintf(req[1], sizeof(req[1]),
	    "{\"v\":1,\"op\":\"list\"%s%s%s,\"limit\":%d}\n",
	    owner != NULL ? ",\"owner\":\"" : "", owner != NULL ? owner : "",
	    owner != NULL ? "\"" : "", LIST_LIMIT);
	c.out_cap = sizeof(req[0]);
	if ((c.out = malloc(c.out_cap)) == NULL) {
		fprintf(stderr, "bench_pipe: out of memory\n");
		goto out;
	}
	start = bench_mono_us();
	end = start + secs * 1000000;
	deadline = start + timeout * 1000000;
	next = start;
	/* the count bound holds even if the clock misbehaves */
	for (k = 0; k <= (size_t)(secs * 1000 / interval_ms); k++) {
		now = bench_mono_us();
		if (now >= end)
			break;
		if (next > now) {
			struct timespec ts = {(time_t)((next - now) / 1000000),
			    (long)((next - now) % 1000000) * 1000};

			nanosleep(&ts, NULL);
		}
		which = (int)(k % 2);
		len = strlen(req[which]);
		memcpy(c.out, req[which], len);
		c.out_len = len;
		c.out_off = 0;
		t0 = bench_mono_us();
		line = NULL;
		while (line == NULL) {
			if (conn_send(&c) < 0)
				goto out;
			if ((line = linebuf_next(&c.lb, &len)) != NULL)
				break;
			if (conn_wait(&c, deadline) < 0) {
				fprintf(stderr, "bench_pipe: timed out\n");
				timed_out = true;
				break;
			}
			if (conn_send(&c) < 0 || conn_recv(&c) < 0)
				goto out;
		}
		if (timed_out)
			break;
		if (lat_add(&lat[which], bench_mono_us() - t0) < 0) {
			fprintf(stderr, "bench_pipe: out of memory\n");
			goto out;
		}
		if (!reply_ok(line, len, &reported[which], names[which]))
			lat[which].errors++;
		/* a late probe is not made up for with a burst */
		next += interval_ms * 1000;
		now = bench_mono_us();
		if (next < now)
			next = now;
	}
	printf("{");
	lat_print(names[0], &lat[0]);
	printf(",");
	lat_print(names[1], &lat[1]);
	printf("%s}\n", timed_out ? ",\"timed_out\":true" : "");
	rc = timed_out || lat[0].errors + lat[1].errors > 0 ? 1 : 0;
out:
	free(lat[0].us);
	free(lat[1].us);
	conn_close(&c);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_pipe add -s SOCKET -n N [-w WINDOW] [--owner LOGIN]\n"
	    "           [--due-in SECONDS | --due-at EPOCH] "
	    "[--timeout SECONDS]\n"
	    "       bench_pipe probe -s SOCKET -d SECONDS [-i INTERVAL_MS]\n"
	    "           [--owner LOGIN] [--timeout SECONDS]\n"
	    "(probe: SECONDS must be shorter than the timeout, default %d)\n",
	    DEFAULT_TIMEOUT);
}

enum {
	OPT_OWNER = 256,
	OPT_DUE_IN,
	OPT_DUE_AT,
	OPT_TIMEOUT,
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'n'},
	    {"window", required_argument, NULL, 'w'},
	    {"duration", required_argument, NULL, 'd'},
	    {"interval", required_argument, NULL, 'i'},
	    {"owner", required_argument, NULL, OPT_OWNER},
	    {"due-in", required_argument, NULL, OPT_DUE_IN},
	    {"due-at", required_argument, NULL, OPT_DUE_AT},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {NULL, 0, NULL, 0},
	};
	const char *mode, *sock = NULL, *owner = NULL;
	long long n = -1, window = DEFAULT_WINDOW, due_in = DEFAULT_DUE_IN;
	long long due_at = 0, secs = -1, interval = DEFAULT_INTERVAL_MS;
	long long timeout = DEFAULT_TIMEOUT;
	int ch, rc = 2;

	if (argc < 2)
		goto usage;
	mode = argv[1];
	/* the mode is argv[1]: options are read from after it */
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "s:n:w:d:i:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'n':
			if (bench_parse_num(optarg, 1, INT64_MAX, &n) < 0)
				goto usage;
			break;
		case 'w':
			if (bench_parse_num(optarg, 1, MAX_WINDOW, &window) < 0)
				goto usage;
			break;
		case 'd':
			if (bench_parse_num(optarg, 1, 86400, &secs) < 0)
				goto usage;
			break;
		case 'i':
			if (bench_parse_num(optarg, 1, 60000, &interval) < 0)
				goto usage;
			break;
		case OPT_OWNER:
			/* it goes into JSON unescaped: logins need none */
			if (!util_login_ok(optarg))
				goto usage;
			owner = optarg;
			break;
		case OPT_DUE_IN:
			if (bench_parse_num(
			        optarg, 1, PROTO_MAX_AHEAD, &due_in) < 0)
				goto usage;
			break;
		case OPT_DUE_AT:
			if (bench_parse_num(optarg, 1, INT64_MAX, &due_at) < 0)
				goto usage;
			break;
		case OPT_TIMEOUT:
			if (bench_parse_num(optarg, 1, 86400 * 7, &timeout) < 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (sock == NULL || optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "add") == 0 && n > 0)
		rc = run_add(sock, (uint64_t)n, (uint64_t)window, owner, due_in,
		    due_at, timeout);
	else if (strcmp(mode, "probe") == 0 && secs > 0 && secs < timeout)
		rc = run_probe(sock, secs, interval, owner, timeout);
	else
		goto usage;
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	goto out;
usage:
	usage();
	rc = 2;
out:
	return rc;
}
