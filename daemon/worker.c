/* SPDX-License-Identifier: MIT */
/* worker.c: a backend's transfers on a thread of their own, see worker.h */
#include <errno.h>
#include <signal.h>

#include "worker.h"

static void
workq_init(struct workq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void
workq_push(struct workq *q, struct work *item)
{
	item->next = NULL;
	item->pprev = NULL;
	*q->tail = item;
	q->tail = &item->next;
}

/* appends all of from to q, in order, and empties from */
static void
workq_move(struct workq *q, struct workq *from)
{
	if (from->head == NULL)
		return;
	*q->tail = from->head;
	q->tail = from->tail;
	workq_init(from);
}

/* empties q; returns what it held, in order */
static struct work *
workq_take(struct workq *q)
{
	struct work *item = q->head;

	workq_init(q);
	return item;
}

/* main thread: drops everything on q */
static void
workq_drop(struct worker *w, struct workq *q)
{
	struct work *item, *next;

	for (item = workq_take(q); item != NULL; item = next) {
		next = item->next;
		w->ops->drop(item, false);
	}
}

static void
unlink_running(struct work *item)
{
	*item->pprev = item->next;
	if (item->next != NULL)
		item->next->pprev = item->pprev;
	item->pprev = NULL;
}

void
worker_finish(struct worker *w, struct work *item)
{
	if (item->pprev != NULL)
		unlink_running(item);
	workq_push(&w->finished, item);
}

struct curlev *
worker_curlev(struct worker *w)
{
	return w->cv;
}

bool
worker_stopping(struct worker *w)
{
	return atomic_load(&w->stop);
}

/* worker thread: starts what was handed over, or stops the loop */
static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;
	struct work *item, *next;
	bool stop;

	(void)revents;
	/* on stop, whatever is still on todo stays there for worker_stop */
	pthread_mutex_lock(&w->mu);
	stop = atomic_load(&w->stop);
	item = stop ? NULL : workq_take(&w->todo);
	pthread_mutex_unlock(&w->mu);
	if (stop) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	for (; item != NULL; item = next) {
		next = item->next;
		item->pprev = NULL;
		if (w->ops->begin(w, item) < 0) {
			workq_push(&w->finished, item);
			continue;
		}
		item->next = w->running;
		if (w->running != NULL)
			w->running->pprev = &item->next;
		w->running = item;
		item->pprev = &w->running;
	}
}

/* worker thread, before its loop waits: hands back what finished in this
 * iteration, all at once */
static void
flush_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
	struct worker *w = p->data;

	(void)loop;
	(void)revents;
	if (w->finished.head == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	workq_move(&w->done, &w->finished);
	pthread_mutex_unlock(&w->mu);
	ev_async_send(w->main_loop, &w->back);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	/* until wake_cb sees stop: wake keeps the loop from running dry */
	ev_run(w->loop, 0);
	return NULL;
}

/* main thread: hands every item lined up so far to the worker, at once */
static void
kick(struct worker *w)
{
	if (w->outgoing.head == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	workq_move(&w->todo, &w->outgoing);
	pthread_mutex_unlock(&w->mu);
	ev_async_send(w->loop, &w->wake);
}

static void
kick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	kick(t->data);
}

void
worker_submit(struct worker *w, struct work *item)
{
	workq_push(&w->outgoing, item);
	/* a timer due now rather than a prepare watcher: the batch that
	 * starts deliveries commits in one, and this must run after it
	 * before the loop waits, whatever the order of the two */
	if (!ev_is_active(&w->kick)) {
		ev_timer_set(&w->kick, 0., 0.);
		ev_timer_start(w->main_loop, &w->kick);
	}
}

/* main thread: reports every item the worker gave back */
static void
back_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct worker *w = a->data;
	struct work *item, *next;

	(void)loop;
	(void)revents;
	/* taken as a whole: a report may submit more, and sends coalesce,
	 * so one wake-up may stand for many */
	pthread_mutex_lock(&w->mu);
	item = workq_take(&w->done);
	pthread_mutex_unlock(&w->mu);
	for (; item != NULL; item = next) {
		next = item->next;
		w->ops->report(w, item);
	}
	/* what those freed slots started goes now, not after the loop's
	 * next commit and its fsync: the worker has nothing else to do */
	kick(w);
}

/*
 * The worker's loop and curlev are made here, on the main thread, and
 * only then the thread: curl_global_init (in curlev_open) is not thread
 * safe in libcurl 7.88 (curlev_close counts it down, also on the main
 * thread).
 */
int
worker_start(struct worker *w, const struct worker_ops *ops, void *owner,
    struct ev_loop *main_loop, long keep)
{
	sigset_t all, old;
	int r;

	w->ops = ops;
	w->owner = owner;
	w->main_loop = main_loop;
	workq_init(&w->todo);
	workq_init(&w->done);
	workq_init(&w->finished);
	workq_init(&w->outgoing);
	atomic_init(&w->stop, false);
	ev_async_init(&w->wake, wake_cb);
	w->wake.data = w;
	ev_prepare_init(&w->flush, flush_cb);
	w->flush.data = w;
	ev_async_init(&w->back, back_cb);
	w->back.data = w;
	ev_timer_init(&w->kick, kick_cb, 0., 0.);
	w->kick.data = w;
	if ((r = pthread_mutex_init(&w->mu, NULL)) != 0) {
		r = -r;
		goto out;
	}
	w->mu_ok = true;
	ev_async_start(main_loop, &w->back);
	/* no signal watchers here: libev must leave the mask alone */
	if ((w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	ev_async_start(w->loop, &w->wake);
	ev_prepare_start(w->loop, &w->flush);
	if ((r = curlev_open(&w->cv, w->loop)) < 0 ||
	    (keep > 0 && (r = curlev_keep(w->cv, keep)) < 0))
		goto out;
	/* signals are the main loop's: the thread starts with them blocked,
	 * all but those a fault raises, which must still kill (or reach a
	 * sanitizer's handler) at once */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->tid, NULL, worker_main, w);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = -r;
		goto out;
	}
	w->started = true;
out:
	return r;
}

/*
 * Items under way are dropped only after curlev_close, since libcurl may
 * still call back into them (or write their error buffer) until their
 * easy handles are gone; ops->abandon comes first, to tell libcurl how to
 * let go of them.
 */
void
worker_stop(struct worker *w)
{
	struct work *item;

	if (w->started) {
		atomic_store(&w->stop, true);
		ev_async_send(w->loop, &w->wake);
		(void)pthread_join(w->tid, NULL);
		w->started = false;
	}
	/* from here on the thread is gone and everything is ours */
	if (w->ops != NULL && w->ops->abandon != NULL)
		for (item = w->running; item != NULL; item = item->next)
			w->ops->abandon(item);
	/* removes and cleans up the easy handles of running */
	w->cv = curlev_close(w->cv);
	while ((item = w->running) != NULL) {
		unlink_running(item);
		w->ops->drop(item, true);
	}
	/* never started, or done and not yet reported: ours in full */
	if (w->ops != NULL) {
		workq_drop(w, &w->outgoing);
		workq_drop(w, &w->todo);
		workq_drop(w, &w->finished);
		workq_drop(w, &w->done);
	}
	if (w->main_loop != NULL) {
		ev_async_stop(w->main_loop, &w->back);
		ev_timer_stop(w->main_loop, &w->kick);
	}
	if (w->loop != NULL) {
		ev_prepare_stop(w->loop, &w->flush);
		ev_async_stop(w->loop, &w->wake);
		ev_loop_destroy(w->loop);
		w->loop = NULL;
	}
	if (w->mu_ok)
		(void)pthread_mutex_destroy(&w->mu);
	w->mu_ok = false;
}
