/* SPDX-License-Identifier: MIT */
/*
 * replay.c: runs a fuzz target over saved inputs without libFuzzer, so the
 * seed corpus and past crash inputs are regression tests in every build
 * (under ASan and UBSan in the sanitizer build).  Each argument is a file
 * or a directory whose files are run in name order; dot files are skipped
 * so a directory can be kept in git by a .gitkeep.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* weak so that a target without an initializer still links */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t n_run;

static int
run_file(const char *path)
{
	unsigned char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int r = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				fprintf(stderr, "replay: out of memory\n");
				r = -1;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		r = -1;
		goto out;
	}
	/* name it first: a crash below is then attributed to its input */
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
	/* exact-size copy so ASan catches reads past the input's end */
	nb = malloc(len ? len : 1);
	if (nb == NULL) {
		r = -1;
		goto out;
	}
	if (len > 0)
		memcpy(nb, buf, len);
	LLVMFuzzerTestOneInput(nb, len);
	free(nb);
	n_run++;
out:
	free(buf);
	fclose(f);
	return r;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_dir(const char *dir)
{
	char **names = NULL, **nn, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
				r = -1;
				goto out;
			}
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = -1;
			goto out;
		}
		n++;
	}
	/* readdir order varies between file systems; keep runs repeatable */
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n && r == 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		        names[i]) >= sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: name too long\n", dir,
			    names[i]);
			r = -1;
			break;
		}
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			continue;
		r = run_file(path);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE ...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if ((S_ISDIR(st.st_mode) ? run_dir(argv[i])
		                         : run_file(argv[i])) < 0)
			return 1;
	}
	printf("replay: %zu inputs ran\n", n_run);
	return 0;
}
