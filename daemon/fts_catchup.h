/* SPDX-License-Identifier: MIT */
/*
 * fts_catchup.h: the full-text search index catching up with the adds.
 * The store indexes new promises in bulk (store_fts_index); this runs it
 * while the loop has nothing else to do, and only once the adds have
 * paused, so a burst of adds is not slowed by indexing.  A search that
 * finds the index behind catches it up itself; this only keeps it close.
 */
#ifndef PROMISED_FTS_CATCHUP_H
#define PROMISED_FTS_CATCHUP_H

#include <ev.h>

#include "store.h"

struct fts_catchup;

/* 0 or -ENOMEM; st is indexed between batches until fts_catchup_close */
int fts_catchup_open(
    struct fts_catchup **ret, struct ev_loop *loop, struct store *st);
/* after each batch commit: new promises restart the wait for a pause */
void fts_catchup_after_commit(struct fts_catchup *f);
/* stops its watchers and frees it; returns NULL */
struct fts_catchup *fts_catchup_close(struct fts_catchup *f);

#endif
