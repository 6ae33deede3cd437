/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h: what the benchmark tools share.  Header only, so each tool
 * stays one file and links no more than it measures.
 */
#ifndef PROMISED_BENCH_UTIL_H
#define PROMISED_BENCH_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* monotonic ns: immune to the clock steps the daemon itself must survive */
static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)ts.tv_nsec;
}

static inline double
bench_seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* ns per operation, 0 for no operations rather than a division by zero */
static inline double
bench_per_op(uint64_t ns, uint64_t ops)
{
	return ops == 0 ? 0.0 : (double)ns / (double)ops;
}

/* operations per second, 0 if no time could be measured */
static inline double
bench_rate(uint64_t ops, uint64_t ns)
{
	return ns == 0 ? 0.0 : (double)ops * 1e9 / (double)ns;
}

/*
 * xorshift64*, fixed seed: every run (and both contestants of a
 * comparison) sees the same sequence
 */
static inline uint64_t
bench_rnd(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/*
 * a decimal in [min, max] for option name, whole string or nothing: a
 * typo in a benchmark's size should not silently measure something else
 */
/* CLOCK_MONOTONIC in microseconds */
static inline int64_t
bench_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* s as a whole integer from min to max, quietly: 0, or -1 */
static inline int
bench_parse_num(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

static inline int
bench_parse_i64(
    const char *name, const char *s, int64_t min, int64_t max, int64_t *ret)
{
	long long v;

	if (bench_parse_num(s, min, max, &v) < 0) {
		fprintf(stderr,
		    "%s: '%s' is not an integer from %lld to %lld\n", name, s,
		    (long long)min, (long long)max);
		return -EINVAL;
	}
	*ret = (int64_t)v;
	return 0;
}

/* a database and the two files WAL mode keeps beside it */
static const char *const bench_db_suffixes[] = {"", "-wal", "-shm"};

/* 0 if none of db's files exists: a bench writes only a database of its
 * own (a stale -wal would be replayed into it), else says why: -1 */
static inline int
bench_db_absent(const char *tool, const char *db)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t k;

	for (k = 0; k < sizeof(bench_db_suffixes) / sizeof(*bench_db_suffixes);
	     k++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", db,
		        bench_db_suffixes[k]) >= sizeof(path)) {
			fprintf(stderr, "%s: %s: path too long\n", tool, db);
			return -1;
		}
		if (lstat(path, &sb) == 0) {
			fprintf(stderr, "%s: %s: exists\n", tool, path);
			return -1;
		}
		if (errno != ENOENT) {
			fprintf(stderr, "%s: %s: %s\n", tool, path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* removes db and its WAL files; quiet about what is absent */
static inline void
bench_db_remove(const char *tool, const char *db)
{
	char path[PATH_MAX];
	size_t k;

	for (k = 0; k < sizeof(bench_db_suffixes) / sizeof(*bench_db_suffixes);
	     k++) {
		if ((size_t)snprintf(path, sizeof(path), "%s%s", db,
		        bench_db_suffixes[k]) >= sizeof(path))
			continue;
		if (unlink(path) == -1 && errno != ENOENT)
			fprintf(stderr, "%s: %s: %s\n", tool, path,
			    strerror(errno));
	}
}

#endif
