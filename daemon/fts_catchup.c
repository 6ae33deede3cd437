/* SPDX-License-Identifier: MIT */
/*
 * fts_catchup.c: see fts_catchup.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "fts_catchup.h"
#include "log.h"

/* promises indexed for search per idle turn: a few milliseconds at most */
#define FTS_SLICE 128
/* seconds without adds before the index catches up: during a burst the
 * adds go first, and a search catches the index up itself */
#define FTS_QUIET 0.5

struct fts_catchup {
	struct ev_loop *loop;
	struct store *st;
	ev_idle idle;   /* indexes new promises when nothing waits */
	ev_timer quiet; /* and only once adds have paused */
	int64_t adds;   /* store_max_id() when last seen */
};

static void
quiet_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fts_catchup *f = w->data;

	(void)revents;
	ev_timer_stop(loop, w);
	if (store_fts_behind(f->st))
		ev_idle_start(loop, &f->idle);
}

/* while the loop has nothing else to do, the search index catches up */
static void
idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct fts_catchup *f = w->data;

	(void)revents;
	if (store_fts_index(f->st, FTS_SLICE) < 0) {
		/* tried again after the next commit, and before any search */
		log_warnx("search index: %s", store_errmsg(f->st));
		ev_idle_stop(loop, w);
	} else if (!store_fts_behind(f->st))
		ev_idle_stop(loop, w);
}

int
fts_catchup_open(
    struct fts_catchup **ret, struct ev_loop *loop, struct store *st)
{
	struct fts_catchup *f;

	*ret = NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	f->loop = loop;
	f->st = st;
	ev_idle_init(&f->idle, idle_cb);
	f->idle.data = f;
	ev_timer_init(&f->quiet, quiet_cb, 0., FTS_QUIET);
	f->quiet.data = f;
	*ret = f;
	return 0;
}

void
fts_catchup_after_commit(struct fts_catchup *f)
{
	if (f == NULL || !store_fts_behind(f->st) ||
	    store_max_id(f->st) == f->adds)
		return;
	/* new promises: wait for a pause in the adds */
	f->adds = store_max_id(f->st);
	ev_idle_stop(f->loop, &f->idle);
	ev_timer_stop(f->loop, &f->quiet);
	ev_timer_again(f->loop, &f->quiet);
}

struct fts_catchup *
fts_catchup_close(struct fts_catchup *f)
{
	if (f == NULL)
		return NULL;
	ev_idle_stop(f->loop, &f->idle);
	ev_timer_stop(f->loop, &f->quiet);
	free(f);
	return NULL;
}
