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

/*
 * A command over promised's HTTP API (cli->server) instead of the socket:
 * one the API has no route for is refused in one line; else run(cli, a)
 * with each request() sent over HTTP.  argc and argv are the whole
 * command line: a client built without libcurl (linked statically, to
 * start fast) hands it to promise-http, the same client with it.  Returns
 * the exit status.
 */
int http_run(struct cli *cli, const char *name,
    int (*run)(const struct cli *cli, const struct args *a),
    const struct args *a, int argc, char **argv);
/* request() over HTTP (conn_http.c) */
int http_request(const struct cli *cli, const json_t *req, json_t **ret);

#endif
