/* SPDX-License-Identifier: MIT */
/*
 * cmd_mailin.c: "promise mail-in" runs promise-mail-in, as git runs its
 * git-* programs: the mail parsing needs GMime and GLib, which promise(1)
 * itself, started for every command, should not load.  The program is
 * looked for beside promise first (a build tree), then where it is
 * installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"

int
cmd_mail_in_exec(const char *sock, int argc, char **argv)
{
	static char name[] = "promise-mail-in", opt[] = "--socket";
	char self[PATH_MAX], path[PATH_MAX + 32], *slash, *sockc = NULL;
	char **args;
	ssize_t n;
	int i, k = 0;

	/* argv[0] "mail-in", then its own arguments; --socket goes first */
	args = calloc((size_t)argc + 4, sizeof(*args));
	if (args == NULL || (sock != NULL && (sockc = strdup(sock)) == NULL)) {
		fprintf(stderr, "promise: out of memory\n");
		free(args);
		return EX_TEMPFAIL;
	}
	args[k++] = name;
	if (sockc != NULL) {
		args[k++] = opt;
		args[k++] = sockc;
	}
	for (i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(
			    path, sizeof(path), "%s/promise-mail-in", self);
			if (access(path, X_OK) == 0)
				execv(path, args);
		}
	}
	execv(PROMISED_MAILIN_PATH, args);
	/* the mail server keeps the mail and tries again once it is there */
	fprintf(stderr, "promise: cannot run %s: %s\n", PROMISED_MAILIN_PATH,
	    strerror(errno));
	free(sockc);
	free(args);
	return EX_TEMPFAIL;
}
