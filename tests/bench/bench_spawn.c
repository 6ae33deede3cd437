/* SPDX-License-Identifier: MIT */
/*
 * bench_spawn: times whole commands, one process per item, in turns.
 *
 *   bench_spawn -n N [-i FILE] -- CMD_A ARGS... [-- CMD_B ARGS... [-- ...]]
 *
 * Runs each command N times, alternating A, B, ... so that the machine's
 * drift and noise fall on all of them alike, with stdin from FILE (or
 * /dev/null) and stdout and stderr to /dev/null.  Any run that does not
 * exit 0 fails the bench.  A "{}" argument becomes the run's index, so
 * each item can differ.  Prints one JSON line: per command the mean and
 * median wall time per item, from posix_spawn to waitpid.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CMDS 4
#define MAX_ARGS 64

struct cmd {
	char *argv[MAX_ARGS + 1];
	int argc;
	int idx_arg; /* the "{}" argument, or -1 */
	double *ms;
};

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* one run of c with stdin from in; its wall time in *ret_ms */
static int
run_once(struct cmd *c, const char *in, long i, double *ret_ms)
{
	posix_spawn_file_actions_t fa;
	char idx[24];
	double t0;
	pid_t pid;
	int st, r, rc = -1;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (c->idx_arg >= 0) {
		snprintf(idx, sizeof(idx), "%ld", i);
		c->argv[c->idx_arg] = idx;
	}
	if (posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(
	        &fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0)
		goto out;
	t0 = mono_ms();
	if ((r = posix_spawnp(&pid, c->argv[0], &fa, NULL, c->argv, environ)) !=
	    0) {
		fprintf(
		    stderr, "bench_spawn: %s: %s\n", c->argv[0], strerror(r));
		goto out;
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			goto out;
	*ret_ms = mono_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "bench_spawn: %s (run %ld) failed: status %d\n",
		    c->argv[0], i, st);
		goto out;
	}
	rc = 0;
out:
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	const char *in = "/dev/null";
	long n = 0, i;
	int ncmd = 0, a, k, rc = 1;
	char *end;

	memset(cmds, 0, sizeof(cmds));
	for (a = 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
		if (strcmp(argv[a], "-n") == 0 && a + 1 < argc) {
			n = strtol(argv[++a], &end, 10);
			if (*end != '\0' || n < 1 || n > 1000000)
				n = 0;
		} else if (strcmp(argv[a], "-i") == 0 && a + 1 < argc) {
			in = argv[++a];
		} else {
			break;
		}
	}
	while (a < argc && strcmp(argv[a], "--") == 0 && ncmd < MAX_CMDS) {
		struct cmd *c = &cmds[ncmd++];

		c->idx_arg = -1;
		for (a++; a < argc && strcmp(argv[a], "--") != 0; a++) {
			if (c->argc == MAX_ARGS)
				goto usage;
			if (strcmp(argv[a], "{}") == 0)
				c->idx_arg = c->argc;
			c->argv[c->argc++] = argv[a];
		}
		if (c->argc == 0)
			goto usage;
	}
	if (n == 0 || ncmd == 0 || a < argc)
		goto usage;
	for (k = 0; k < ncmd; k++)
		if ((cmds[k].ms = calloc((size_t)n, sizeof(double))) == NULL)
			goto out;
	for (i = 0; i < n; i++)
		for (k = 0; k < ncmd; k++)
			if (run_once(&cmds[k], in, i, &cmds[k].ms[i]) < 0)
				goto out;
	printf("{\"n\":%ld,\"commands\":[", n);
	for (k = 0; k < ncmd; k++) {
		double sum = 0;

		for (i = 0; i < n; i++)
			sum += cmds[k].ms[i];
		qsort(cmds[k].ms, (size_t)n, sizeof(double), cmp_double);
		printf(
		    "%s{\"argv0\":\"%s\",\"mean_ms\":%.4f,\"median_ms\":%.4f,"
		    "\"p90_ms\":%.4f}",
		    k ? "," : "", cmds[k].argv[0], sum / (double)n,
		    cmds[k].ms[n / 2], cmds[k].ms[(n * 9) / 10]);
	}
	printf("]}\n");
	rc = 0;
	goto out;
usage:
	fprintf(stderr,
	    "usage: bench_spawn -n N [-i FILE] -- CMD ARGS... "
	    "[-- CMD ARGS...]\n");
out:
	for (k = 0; k < MAX_CMDS; k++)
		free(cmds[k].ms);
	return rc;
}
