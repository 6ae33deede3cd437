/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config.c: libFuzzer target for promised.conf loading
 * (daemon/conf.c over inih).  conf_load takes a path, so each input is
 * written to one memfd made at start and loaded through /proc/self/fd/N:
 * nothing touches the disk and nothing is left behind.  A load must either
 * succeed or fail with a one-line message; both paths free everything,
 * which LeakSanitizer checks.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("promised-fuzz.conf", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

/* writes the input as the file's whole content */
static int
put_input(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	if (ftruncate(memfd, 0) < 0)
		return -errno;
	while (off < size) {
		n = pwrite(memfd, data + off, size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL;
	char err[512];
	size_t i;
	int r;

	if (memfd < 0)
		LLVMFuzzerInitialize(NULL, NULL);
	if (put_input(data, size) < 0) {
		perror("fuzz_config: writing the memfd");
		abort();
	}
	err[0] = '\0';
	r = conf_load(&c, path, err, sizeof(err));
	if (r < 0) {
		if (c != NULL || err[0] == '\0' || strchr(err, '\n') != NULL) {
			fprintf(
			    stderr, "fuzz_config: bad failure: '%s'\n", err);
			abort();
		}
		return 0;
	}
	if (c == NULL)
		abort();
	/* the daemon looks people up by login; each must find itself */
	for (i = 0; i < c->n_people; i++)
		if (conf_person(c, c->people[i].login) == NULL)
			abort();
	(void)conf_person(c, "nobody-configured");
	conf_free(c);
	return 0;
}
