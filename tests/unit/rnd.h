/* SPDX-License-Identifier: MIT */
/*
 * rnd.h: xorshift64*, the unit tests' generator: small, fast and good
 * enough to shuffle test operations, and reproducible from the seed a test
 * puts in rnd_state (never 0).
 */
#ifndef PROMISED_TEST_RND_H
#define PROMISED_TEST_RND_H

#include <stddef.h>
#include <stdint.h>

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

#endif
