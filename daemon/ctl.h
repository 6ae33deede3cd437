/* SPDX-License-Identifier: MIT */
/*
 * ctl.h: the control socket.  Accepts connections, frames and decodes
 * requests, runs them inside the loop's batch transaction, and sends each
 * reply only once the batch that holds its change has committed.
 */
#ifndef PROMISED_CTL_H
#define PROMISED_CTL_H

#include <stdbool.h>

#include <ev.h>

#include "conf.h"
#include "deliver.h"
#include "op.h"
#include "sched.h"
#include "store.h"

struct ctl;

/*
 * listens on c->socket (or on fd if >= 0, an inherited socket).  Done
 * first at start-up, so a second daemon gives up before touching the
 * database; clients wait in the backlog until the loop runs.
 */
int ctl_open(struct ctl **ret, struct ev_loop *loop, const struct conf *c,
    int fd, char *err, size_t errlen);
/* the modules requests act on; before the loop runs */
void ctl_attach(
    struct ctl *ctl, struct store *st, struct sched *s, struct deliver *dl);
/* what the requests act on, for another front end to share */
struct op_ctx *ctl_op(struct ctl *ctl);
/* NULL-safe; closes every connection and unlinks the socket it made */
struct ctl *ctl_close(struct ctl *ctl);
/* the policy used by later requests; c must outlive its use */
void ctl_set_conf(struct ctl *ctl, const struct conf *c);
/* stops accepting and reading; replies already owed are still sent */
void ctl_shutdown(struct ctl *ctl);
/* after the batch: sends the replies it held, or errors if it failed */
void ctl_after_commit(struct ctl *ctl, bool ok);
/* true while replies are still waiting to be written */
bool ctl_busy(const struct ctl *ctl);

#endif
