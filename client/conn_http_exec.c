/* SPDX-License-Identifier: MIT */
/*
 * conn_http_exec.c: the HTTP transport of a promise(1) built without
 * libcurl.  promise starts for every command, so it is linked statically
 * and loads nothing it does not need; libcurl (and its TLS, HTTP/2 and
 * name libraries) cannot be linked so.  With --server, the command line
 * goes whole to promise-http, the same client linked with libcurl: beside
 * this program first (a build tree), then where it is installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conn.h"

int
http_run(struct cli *cli, const char *name,
    int (*run)(const struct cli *cli, const struct args *a),
    const struct args *a, int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 32], *slash;
	ssize_t n;

	(void)cli;
	(void)name;
	(void)run;
	(void)a;
	(void)argc;
	/* what it prints is the run's output, --json's document too */
	fflush(stdout);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/promise-http", self);
			if (access(path, X_OK) == 0)
				execv(path, argv);
		}
	}
	execv(PROMISED_HTTP_CLIENT_PATH, argv);
	errmsg("--server needs %s, which cannot run: %s",
	    PROMISED_HTTP_CLIENT_PATH, strerror(errno));
	return CLI_UNREACHABLE;
}

int
http_request(const struct cli *cli, const json_t *req, json_t **ret)
{
	(void)cli;
	(void)req;
	*ret = NULL;
	errmsg("this promise has no HTTP transport");
	return CLI_UNREACHABLE;
}
