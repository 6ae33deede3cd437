/* SPDX-License-Identifier: MIT */
/*
 * outbox_adopt.c: the outbox among several daemons on one store.  A
 * standby writes its deliveries' rows and sends none; the leader takes up
 * rows another daemon wrote, named in its notes or found pending at a
 * catch-up, unless it holds them already.  Each is sent at least once,
 * with its uid, by whoever leads.
 */
#include <errno.h>
#include <string.h>

#include "deliver_impl.h"
#include "util.h"

void
deliver_set_standby(struct deliver *dl, bool standby)
{
	dl->standby = standby;
}

static bool
held(const struct deliver *dl, int64_t id)
{
	const struct delivery *d;

	for (d = dl->all; d != NULL; d = d->next)
		if (d->id == id)
			return true;
	return false;
}

static int
adopt_cb(void *arg, const struct delivery_rec *r)
{
	struct deliver *dl = arg;

	if (strcmp(r->state, "pending") != 0 || held(dl, r->id))
		return 0;
	return outbox_take_up(dl, r);
}

int
deliver_adopt(struct deliver *dl, const char *uid)
{
	int r;

	if (dl->standby)
		return 0;
	r = store_delivery_by_uid(dl->st, uid, adopt_cb, dl);
	/* rolled back where it was written */
	return r == -ENOENT ? 0 : r;
}

int
deliver_adopt_pending(struct deliver *dl)
{
	if (dl->standby)
		return 0;
	return store_foreach_pending_delivery(dl->st, adopt_cb, dl);
}
