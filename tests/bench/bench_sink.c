/* SPDX-License-Identifier: MIT */
/*
 * bench_sink.c: the receiving end of the webhook benchmarks.  A small
 * HTTP/1.1 server on 127.0.0.1, on libev, that answers every request with
 * an empty 200 and notes when it arrived and which promise and delivery it
 * carried, so that a driver can work out delivery rate and lateness after
 * the run.  It must not be the bottleneck: one core has to keep up with
 * ~80,000 requests/s, so bodies are never parsed as JSON, only searched
 * for the two numbers wanted.
 *
 * Usage: bench_sink -p PORT -o OUTFILE [-n EXPECT] [--timeout SECONDS]
 *
 * Prints {"port":N} as soon as it listens (PORT 0 picks a free one), and at
 * the end {"requests":N,"first_us":T,"last_us":T}.  OUTFILE gets one line
 * per request, "ARRIVAL_US DUE_AT ID DELIVERY", ARRIVAL_US in CLOCK_REALTIME
 * microseconds, -1 for a number the body lacked, "-" for a missing
 * X-Promised-Delivery header.  It stops on SIGTERM or SIGINT, once EXPECT
 * requests have arrived, or, exiting 1, when the timeout is up.  "GET
 * /count" is answered with the number of requests so far and not recorded.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "bench_util.h"

#define DEFAULT_TIMEOUT 120
#define HDR_MAX (64 * 1024)
/* event bodies carry history, but nothing near this */
#define BODY_MAX (16 * 1024 * 1024)
#define IN_INIT (16 * 1024)
#define OUT_INIT 1024
/* a 32-hex delivery id and some slack; longer values are cut */
#define DELIV_MAX 40
/* enough for 200,000 requests without growing mid-run */
#define RECS_INIT (256 * 1024)
#define RECS_LIMIT ((size_t)1 << 31)
#define BACKLOG 4096

static const char reply_ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char reply_ok_close[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                     "Connection: close\r\n\r\n";
static const char reply_bad[] =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char reply_big[] =
    "HTTP/1.1 413 Payload Too Large\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";
static const char reply_chunked[] =
    "HTTP/1.1 411 Length Required\r\n"
    "Content-Length: 0\r\nConnection: close\r\n\r\n";

struct rec {
	int64_t arrival_us;
	int64_t due_at;
	int64_t id;
	char delivery[DELIV_MAX];
};

struct sink;

struct conn {
	ev_io io; /* first: the watcher is the connection */
	struct sink *s;
	struct conn *next, **pprev;
	int fd;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_len, out_off, out_cap;
	bool closing; /* the last reply says close: read nothing more */
	bool writing; /* watching for EV_WRITE instead of EV_READ */
};

struct sink {
	struct ev_loop *loop;
	int lfd;
	ev_io lio;
	ev_timer accept_retry;
	ev_signal sigterm, sigint;
	ev_timer deadline;
	struct conn *conns;
	struct rec *recs;
	size_t n_recs, cap_recs;
	size_t expect; /* 0: none */
	bool timed_out;
	bool failed;
};

/* one parsed request head */
struct req {
	size_t head_len; /* through the blank line */
	size_t body_len;
	bool get_count;
	bool close;
	bool chunked;
	const char *deliv;
	size_t deliv_len;
};

static void conn_cb(struct ev_loop *loop, ev_io *w, int revents);

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* memmem is a GNU extension; the needles here are short and distinctive */
static const char *
find(const char *hay, size_t n, const char *needle, size_t nlen)
{
	const char *p = hay, *end = hay + n;

	while ((size_t)(end - p) >= nlen) {
		p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1);
		if (p == NULL)
			return NULL;
		if (memcmp(p, needle, nlen) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* the integer right after key in a JSON text, or -1 */
static int64_t
int_after(const char *body, size_t n, const char *key, size_t klen)
{
	const char *p = find(body, n, key, klen), *end = body + n;
	int64_t v = 0;
	bool neg = false, any = false;

	if (p == NULL)
		return -1;
	p += klen;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	/* 18 digits cannot overflow; no epoch or id is longer */
	for (int i = 0; p < end && *p >= '0' && *p <= '9' && i < 18; p++, i++) {
		v = v * 10 + (*p - '0');
		any = true;
	}
	if (!any)
		return -1;
	return neg ? -v : v;
}

static const char *
find_head_end(const char *p, size_t n)
{
	return find(p, n, "\r\n\r\n", 4);
}

/* value without surrounding blanks */
static void
trim(const char **v, size_t *len)
{
	while (*len > 0 && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*len)--;
	}
	while (*len > 0 && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t'))
		(*len)--;
}

static bool
has_token(const char *v, size_t len, const char *tok)
{
	size_t tlen = strlen(tok);

	/* "close" is the only token clients send here; a substring will do */
	for (size_t i = 0; i + tlen <= len; i++)
		if (strncasecmp(v + i, tok, tlen) == 0)
			return true;
	return false;
}

/*
 * Parses the head at p (n bytes available).  Returns 1 with *r filled, 0 if
 * the head is not complete yet, -1 if it is malformed, -2 if too large.
 */
static int
parse_head(const char *p, size_t n, struct req *r)
{
	const char *end, *line, *eol, *sp1, *sp2, *colon, *v;
	size_t vlen, len;
	bool http10, keep_alive = false;
	long long clen = 0;

	memset(r, 0, sizeof(*r));
	end = find_head_end(p, n);
	if (end == NULL)
		return n > HDR_MAX ? -2 : 0;
	r->head_len = (size_t)(end - p) + 4;
	if (r->head_len > HDR_MAX)
		return -2;

	eol = find(p, (size_t)(end - p) + 2, "\r\n", 2);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (sp1 == NULL)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL)
		return -1;
	len = (size_t)(eol - sp2 - 1);
	if (len != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -1;
	http10 = sp2[8] == '0';
	r->get_count = sp1 - p == 3 && memcmp(p, "GET", 3) == 0 &&
	    sp2 - sp1 - 1 == 6 && memcmp(sp1 + 1, "/count", 6) == 0;

	for (line = eol + 2; line < end + 2; line = eol + 2) {
		eol = find(line, (size_t)(end + 2 - line), "\r\n", 2);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL)
			return -1;
		len = (size_t)(colon - line);
		v = colon + 1;
		vlen = (size_t)(eol - v);
		trim(&v, &vlen);
		if (len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			char num[24];

			if (vlen == 0 || vlen >= sizeof(num))
				return -1;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (bench_parse_num(num, 0, LLONG_MAX, &clen) < 0)
				return -1;
			if (clen > BODY_MAX)
				return -2;
		} else if (len == 10 &&
		    strncasecmp(line, "Connection", 10) == 0) {
			if (has_token(v, vlen, "close"))
				r->close = true;
			else if (has_token(v, vlen, "keep-alive"))
				keep_alive = true;
		} else if (len == 17 &&
		    strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			r->chunked = true;
		} else if (len == 19 &&
		    strncasecmp(line, "X-Promised-Delivery", 19) == 0) {
			r->deliv = v;
			r->deliv_len = vlen;
		}
	}
	if (http10 && !keep_alive)
		r->close = true;
	r->body_len = (size_t)clen;
	return 1;
}

static int
buf_reserve(char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap > 0 ? *cap : OUT_INIT;
	char *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((nb = realloc(*buf, ncap)) == NULL)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int
out_append(struct conn *c, const char *data, size_t n)
{
	int r;

	if ((r = buf_reserve(&c->out, &c->out_cap, c->out_len + n)) < 0)
		return r;
	memcpy(c->out + c->out_len, data, n);
	c->out_len += n;
	return 0;
}

static void
conn_free(struct conn *c)
{
	ev_io_stop(c->s->loop, &c->io);
	close(c->fd);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	free(c->in);
	free(c->out);
	free(c);
}

static int
record(struct sink *s, int64_t at, const char *body, size_t blen,
    const struct req *r)
{
	struct rec *rec, *nr;
	size_t i, n;

	if (s->n_recs == s->cap_recs) {
		if (s->cap_recs >= RECS_LIMIT)
			return -E2BIG;
		nr = realloc(s->recs, 2 * s->cap_recs * sizeof(*nr));
		if (nr == NULL)
			return -ENOMEM;
		s->recs = nr;
		s->cap_recs *= 2;
	}
	rec = &s->recs[s->n_recs++];
	rec->arrival_us = at;
	rec->due_at = int_after(body, blen, "\"due_at\":", 9);
	rec->id = int_after(body, blen, "\"id\":", 5);
	n = r->deliv_len;
	if (r->deliv == NULL || n == 0) {
		memcpy(rec->delivery, "-", 2);
		return 0;
	}
	if (n > DELIV_MAX - 1)
		n = DELIV_MAX - 1;
	/* the value goes into a space-separated line: keep it one word */
	for (i = 0; i < n; i++) {
		char ch = r->deliv[i];

		rec->delivery[i] = ch > ' ' && ch < 0x7f ? ch : '?';
	}
	rec->delivery[n] = '\0';
	return 0;
}

/* answers every complete request in the input; -1: drop the connection */
static int
conn_process(struct conn *c, int64_t at)
{
	struct sink *s = c->s;
	struct req r;
	size_t pos = 0;
	int rc = -1, pr;

	while (!c->closing && pos < c->in_len) {
		pr = parse_head(c->in + pos, c->in_len - pos, &r);
		if (pr == 0)
			break;
		if (pr < 0 || r.chunked) {
			const char *rep = pr == -1 ? reply_bad
			    : pr == -2             ? reply_big
			                           : reply_chunked;

			c->closing = true;
			if (out_append(c, rep, strlen(rep)) < 0)
				goto out;
			break;
		}
		if (c->in_len - pos - r.head_len < r.body_len)
			break;
		if (r.get_count) {
			char rep[160];
			char num[24];
			int nl = snprintf(num, sizeof(num), "%zu", s->n_recs);
			int rl = snprintf(rep, sizeof(rep),
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: %d\r\n%s\r\n%s",
			    nl, r.close ? "Connection: close\r\n" : "", num);

			if (out_append(c, rep, (size_t)rl) < 0)
				goto out;
		} else {
			if (record(s, at, c->in + pos + r.head_len, r.body_len,
			        &r) < 0) {
				fprintf(stderr,
				    "bench_sink: cannot hold more than %zu "
				    "records\n",
				    s->n_recs);
				s->failed = true;
				ev_break(s->loop, EVBREAK_ALL);
				goto out;
			}
			if (r.close) {
				if (out_append(c, reply_ok_close,
				        sizeof(reply_ok_close) - 1) < 0)
					goto out;
			} else if (out_append(
			               c, reply_ok, sizeof(reply_ok) - 1) < 0)
				goto out;
		}
		if (r.close)
			c->closing = true;
		pos += r.head_len + r.body_len;
	}
	if (pos > 0) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= pos;
	}
	rc = 0;
out:
	return rc;
}

static void
conn_watch(struct conn *c, bool writing)
{
	if (c->writing == writing)
		return;
	ev_io_stop(c->s->loop, &c->io);
	ev_io_set(&c->io, c->fd, writing ? EV_WRITE : EV_READ);
	ev_io_start(c->s->loop, &c->io);
	c->writing = writing;
}

/* 0: all sent, 1: some left, -1: the connection is gone */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/*
 * After a read or a write: send what is queued; while some is left, stop
 * reading, so a client that pipelines without reading cannot make us
 * buffer without bound.
 */
static void
conn_after(struct conn *c)
{
	struct sink *s = c->s;
	int r = conn_flush(c);

	if (r < 0 || (r == 0 && c->closing)) {
		conn_free(c);
		goto out;
	}
	conn_watch(c, r == 1);
out:
	/* checked after the flush, so the last client gets its reply */
	if (s->expect > 0 && s->n_recs >= s->expect)
		ev_break(s->loop, EVBREAK_ALL);
}

static void
conn_read(struct conn *c)
{
	ssize_t n;
	size_t room;

	if (c->in_len == c->in_cap) {
		if (c->in_cap >= HDR_MAX + BODY_MAX ||
		    buf_reserve(&c->in, &c->in_cap, 2 * c->in_cap) < 0) {
			conn_free(c);
			return;
		}
	}
	room = c->in_cap - c->in_len;
	n = read(c->fd, c->in + c->in_len, room);
	if (n < 0 &&
	    (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_free(c);
		return;
	}
	c->in_len += (size_t)n;
	/* one clock read per read(): the bytes arrived together */
	if (conn_process(c, now_us()) < 0) {
		conn_free(c);
		return;
	}
	conn_after(c);
}

static void
conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;

	(void)loop;
	if (revents & EV_WRITE)
		conn_after(c);
	else if (revents & EV_READ)
		conn_read(c);
}

static void
accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sink *s = w->data;

	(void)revents;
	ev_io_start(loop, &s->lio);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sink *s = w->data;
	struct conn *c;
	int fd, one = 1, fl;

	(void)revents;
	/* bounded: a burst of connects is taken in one go, up to a point */
	for (int i = 0; i < 256; i++) {
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE) {
				/* level-triggered: pause, or we would spin */
				fprintf(stderr, "bench_sink: accept: %s\n",
				    strerror(errno));
				ev_io_stop(loop, &s->lio);
				ev_timer_set(&s->accept_retry, 0.1, 0.);
				ev_timer_start(loop, &s->accept_retry);
			}
			return;
		}
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		/* replies are tiny: never hold one back for an ACK */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->s = s;
		c->fd = fd;
		if ((c->in = malloc(IN_INIT)) == NULL) {
			close(fd);
			free(c);
			continue;
		}
		c->in_cap = IN_INIT;
		c->next = s->conns;
		if (s->conns != NULL)
			s->conns->pprev = &c->next;
		s->conns = c;
		c->pprev = &s->conns;
		ev_io_init(&c->io, conn_cb, fd, EV_READ);
		ev_io_start(loop, &c->io);
	}
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct sink *s = w->data;

	(void)revents;
	fprintf(stderr, "bench_sink: timed out with %zu requests\n", s->n_recs);
	s->timed_out = true;
	ev_break(loop, EVBREAK_ALL);
}

static int
write_records(const struct sink *s, FILE *f, const char *path)
{
	static char buf[1 << 20];
	const struct rec *r;
	int rc = -1;

	setvbuf(f, buf, _IOFBF, sizeof(buf));
	for (size_t i = 0; i < s->n_recs; i++) {
		r = &s->recs[i];
		if (fprintf(f, "%" PRId64 " %" PRId64 " %" PRId64 " %s\n",
		        r->arrival_us, r->due_at, r->id, r->delivery) < 0)
			goto out;
	}
	if (fflush(f) != 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "bench_sink: writing %s: %s\n", path,
		    strerror(errno));
	return rc;
}

static int
listen_on(int port, int *ret_port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd = -1, one = 1, fl, rc = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto out;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, BACKLOG) < 0)
		goto out;
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) < 0)
		goto out;
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto out;
	*ret_port = ntohs(sin.sin_port);
	rc = fd;
	fd = -1;
out:
	if (rc < 0)
		fprintf(stderr, "bench_sink: listening on 127.0.0.1:%d: %s\n",
		    port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_sink -p PORT -o OUTFILE [-n EXPECT] "
	    "[--timeout SECONDS]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"output", required_argument, NULL, 'o'},
	    {"expect", required_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct sink s;
	struct rlimit rl;
	const char *outpath = NULL;
	FILE *out = NULL;
	long long port = -1, expect = 0, timeout = DEFAULT_TIMEOUT;
	int ch, bound = 0, rc = 1;

	memset(&s, 0, sizeof(s));
	s.lfd = -1;
	while ((ch = getopt_long(argc, argv, "p:o:n:t:", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (bench_parse_num(optarg, 0, 65535, &port) < 0)
				goto usage;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'n':
			if (bench_parse_num(
			        optarg, 1, (long long)RECS_LIMIT, &expect) < 0)
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
	if (port < 0 || outpath == NULL || optind != argc)
		goto usage;

	signal(SIGPIPE, SIG_IGN);
	/* many keep-alive connections: take every descriptor allowed */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* fail before listening, not after the run, if it cannot be written */
	if ((out = fopen(outpath, "w")) == NULL) {
		fprintf(
		    stderr, "bench_sink: %s: %s\n", outpath, strerror(errno));
		goto out;
	}
	s.expect = (size_t)expect;
	s.cap_recs = s.expect > RECS_INIT ? s.expect : RECS_INIT;
	if ((s.recs = malloc(s.cap_recs * sizeof(*s.recs))) == NULL) {
		fprintf(stderr, "bench_sink: out of memory\n");
		goto out;
	}
	if ((s.loop = ev_default_loop(EVFLAG_AUTO)) == NULL) {
		fprintf(stderr, "bench_sink: cannot start libev\n");
		goto out;
	}
	if ((s.lfd = listen_on((int)port, &bound)) < 0)
		goto out;

	ev_io_init(&s.lio, accept_cb, s.lfd, EV_READ);
	s.lio.data = &s;
	ev_io_start(s.loop, &s.lio);
	ev_init(&s.accept_retry, accept_retry_cb);
	s.accept_retry.data = &s;
	ev_signal_init(&s.sigterm, stop_cb, SIGTERM);
	ev_signal_start(s.loop, &s.sigterm);
	ev_signal_init(&s.sigint, stop_cb, SIGINT);
	ev_signal_start(s.loop, &s.sigint);
	ev_timer_init(&s.deadline, deadline_cb, (double)timeout, 0.);
	s.deadline.data = &s;
	ev_timer_start(s.loop, &s.deadline);

	printf("{\"port\":%d}\n", bound);
	fflush(stdout);

	ev_run(s.loop, 0);

	if (write_records(&s, out, outpath) < 0)
		goto out;
	printf("{\"requests\":%zu,\"first_us\":%" PRId64 ",\"last_us\":%" PRId64
	       "%s}\n",
	    s.n_recs, s.n_recs > 0 ? s.recs[0].arrival_us : 0,
	    s.n_recs > 0 ? s.recs[s.n_recs - 1].arrival_us : 0,
	    s.timed_out ? ",\"timed_out\":true" : "");
	rc = s.timed_out || s.failed ? 1 : 0;
	goto out;
usage:
	usage();
	rc = 2;
out:
	while (s.conns != NULL)
		conn_free(s.conns);
	if (s.loop != NULL) {
		ev_io_stop(s.loop, &s.lio);
		ev_timer_stop(s.loop, &s.accept_retry);
		ev_timer_stop(s.loop, &s.deadline);
		ev_signal_stop(s.loop, &s.sigterm);
		ev_signal_stop(s.loop, &s.sigint);
		ev_loop_destroy(s.loop);
	}
	if (s.lfd >= 0)
		close(s.lfd);
	if (out != NULL && fclose(out) != 0 && rc == 0) {
		fprintf(
		    stderr, "bench_sink: %s: %s\n", outpath, strerror(errno));
		rc = 1;
	}
	free(s.recs);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
