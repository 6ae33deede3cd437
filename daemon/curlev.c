/* SPDX-License-Identifier: MIT */
/*
 * curlev.c: libcurl's multi_socket interface on the libev loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); libev tells libcurl when a
 * socket is ready or the timer is up, through curl_multi_socket_action.
 * After every action the finished transfers are drained and handed to
 * their owners.  Nothing is ever called inline from a libcurl callback.
 */
#include <errno.h>
#include <stdlib.h>

#include "curlev.h"
#include "log.h"

struct curlev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct xfer *xfers; /* every transfer under way */
	int still_running;
};

/* one watched socket, attached to libcurl with curl_multi_assign */
struct csock {
	ev_io io;
	struct curlev *cv;
	curl_socket_t fd;
};

/* what CURLOPT_PRIVATE carries */
struct xfer {
	struct xfer *next, **pprev;
	CURL *easy;
	curlev_done_fn *done;
	void *arg;
};

static void
xfer_unlink(struct xfer *x)
{
	*x->pprev = x->next;
	if (x->next != NULL)
		x->next->pprev = x->pprev;
}

static void
drain(struct curlev *cv)
{
	CURLMsg *msg;
	int left;
	CURL *easy;
	CURLcode result;
	struct xfer *x;
	char *priv;

	while ((msg = curl_multi_info_read(cv->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		result = msg->data.result;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)priv;
		curl_multi_remove_handle(cv->multi, easy);
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		xfer_unlink(x);
		x->done(easy, result, x->arg);
		free(x);
	}
}

static void
action(struct curlev *cv, curl_socket_t fd, int events)
{
	CURLMcode rc;

	rc =
	    curl_multi_socket_action(cv->multi, fd, events, &cv->still_running);
	if (rc != CURLM_OK)
		log_warnx("curl: %s", curl_multi_strerror(rc));
	drain(cv);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct csock *cs = (struct csock *)w;
	int events = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
	    (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	(void)loop;
	action(cs->cv, cs->fd, events);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct curlev *cv = w->data;

	(void)loop;
	(void)revents;
	action(cv, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION */
static int
socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curlev *cv = userp;
	struct csock *cs = socketp;
	int kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			ev_io_stop(cv->loop, &cs->io);
			curl_multi_assign(cv->multi, fd, NULL);
			free(cs);
		}
		return 0;
	}
	kind = (what & CURL_POLL_IN ? EV_READ : 0) |
	    (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (cs == NULL) {
		cs = calloc(1, sizeof(*cs));
		if (cs == NULL)
			return -1; /* libcurl fails the transfer */
		cs->cv = cv;
		cs->fd = fd;
		curl_multi_assign(cv->multi, fd, cs);
	} else if (ev_is_active(&cs->io) &&
	    (cs->io.events & (EV_READ | EV_WRITE)) == kind)
		return 0; /* a kept-alive connection asked for again */
	else
		ev_io_stop(cv->loop, &cs->io);
	ev_io_init(&cs->io, io_cb, fd, kind);
	ev_io_start(cv->loop, &cs->io);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION */
static int
timerfn_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cv = userp;

	(void)multi;
	ev_timer_stop(cv->loop, &cv->timer);
	if (timeout_ms < 0)
		return 0;
	/* 0 means "as soon as possible": arm the timer rather than calling
	 * libcurl back from inside its own callback */
	ev_timer_set(&cv->timer, (double)timeout_ms / 1000.0, 0.);
	ev_timer_start(cv->loop, &cv->timer);
	return 0;
}

int
curlev_open(struct curlev **ret, struct ev_loop *loop)
{
	struct curlev *cv;

	*ret = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	cv = calloc(1, sizeof(*cv));
	if (cv == NULL) {
		curl_global_cleanup();
		return -ENOMEM;
	}
	cv->loop = loop;
	cv->multi = curl_multi_init();
	if (cv->multi == NULL) {
		free(cv);
		curl_global_cleanup();
		return -ENOMEM;
	}
	ev_timer_init(&cv->timer, timer_cb, 0., 0.);
	cv->timer.data = cv;
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, timerfn_cb);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv);
	*ret = cv;
	return 0;
}

int
curlev_add(struct curlev *cv, CURL *easy, curlev_done_fn *done, void *arg)
{
	struct xfer *x = calloc(1, sizeof(*x));
	CURLMcode rc;

	if (x == NULL)
		return -ENOMEM;
	x->easy = easy;
	x->done = done;
	x->arg = arg;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	rc = curl_multi_add_handle(cv->multi, easy);
	if (rc != CURLM_OK) {
		curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(x);
		return rc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	x->next = cv->xfers;
	if (cv->xfers != NULL)
		cv->xfers->pprev = &x->next;
	cv->xfers = x;
	x->pprev = &cv->xfers;
	return 0;
}

int
curlev_keep(struct curlev *cv, long n)
{
	return curl_multi_setopt(cv->multi, CURLMOPT_MAXCONNECTS, n) == CURLM_OK
	    ? 0
	    : -EINVAL;
}

struct curlev *
curlev_close(struct curlev *cv)
{
	struct xfer *x;

	if (cv == NULL)
		return NULL;
	ev_timer_stop(cv->loop, &cv->timer);
	while ((x = cv->xfers) != NULL) {
		curl_multi_remove_handle(cv->multi, x->easy);
		xfer_unlink(x);
		/* the owner's done never runs: its arg is the owner's to free,
		 * and the delivery stays pending in the store */
		curl_easy_cleanup(x->easy);
		free(x);
	}
	/* closes cached connections, whose sockets leave through socket_cb */
	curl_multi_cleanup(cv->multi);
	curl_global_cleanup();
	free(cv);
	return NULL;
}
