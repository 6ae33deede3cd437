/* SPDX-License-Identifier: MIT */
/*
 * http.h: the HTTP listener ([http] listen), libmicrohttpd on the
 * daemon's loop.  Requests run through the same operations as the control
 * socket, in the same batch; a change is answered only once the batch
 * that holds it has committed, the connection held (suspended) meanwhile.
 */
#ifndef PROMISED_HTTP_H
#define PROMISED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <ev.h>

#include "op.h"

struct http;

/*
 * Listens on ctx->conf's [http] listen, or does nothing (*ret NULL) when
 * it is not set.  ctx is the operations' context the control socket uses
 * too, and must outlive the listener.  0, or -errno with why in err.
 */
int http_open(struct http **ret, struct ev_loop *loop, struct op_ctx *ctx,
    char *err, size_t errlen);
/* NULL-safe; answers nothing more and closes every connection */
struct http *http_close(struct http *h);
/* stops accepting; answers already owed are still sent */
void http_shutdown(struct http *h);
/* after the batch: sends the answers it held, or 503s if it failed */
void http_after_commit(struct http *h, bool ok);
/* true while answers wait for a commit */
bool http_busy(const struct http *h);

#endif
