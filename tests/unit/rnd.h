/* SPDX-License-Identifier: MIT */
/*
 * rnd.h: xorshift64*, the unit tests' generator: small, fast and good
 * enough to shuffle test operations, and reproducible from the seed a test
 * puts in rnd_state (never 0).
 */
#ifndef PROMISED_TEST_RND_H
#define PROMISED_TEST_RND_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t rnd_state;

static inline uint64_t
rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * UINT64_C(2685821657736338717);
}

static inline size_t
rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

/*
 * seeds rnd_state from argv[1] when given (a failing run prints its seed, so
 * it can be replayed), else from dflt; -EINVAL, said on stderr, for a seed
 * that is not a whole nonzero number
 */
static inline int
rnd_seed(int argc, char **argv, const char *test, uint64_t dflt)
{
	uint64_t seed = dflt;
	char *end;

	if (argc > 1) {
		errno = 0;
		seed = strtoull(argv[1], &end, 0);
		if (errno != 0 || end == argv[1] || *end != '\0' || seed == 0) {
			fprintf(stderr, "%s: bad seed '%s'\n", test, argv[1]);
			return -EINVAL;
		}
	}
	rnd_state = seed;
	return 0;
}

#endif
