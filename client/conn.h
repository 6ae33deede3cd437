/* SPDX-License-Identifier: MIT */
/*
 * conn.h: the client's connection to promised: one request line out, one
 * reply line back.  Private to the client.
 */
#ifndef PROMISE_CONN_H
#define PROMISE_CONN_H

#include <jansson.h>

#include "cli.h"

/* connects to the daemon at path; 0 and *ret, or -errno */
int sock_connect(const char *path, int *ret);

/* reports why connecting to path failed with r; CLI_UNREACHABLE */
int unreachable(const char *path, int r);

/*
 * Sends req and waits for its one reply.  Returns an exit status, having
 * reported any failure; a NULL req (json_pack out of memory) is one.  On
 * CLI_OK *ret is the reply (caller decrefs), or NULL when --json has
 * already printed it and nothing is left to render.  Uses cli->fd when it
 * is open, else a connection of its own.
 */
int request(const struct cli *cli, const json_t *req, json_t **ret);

#endif
