/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: the libFuzzer entry points every target defines.  Declared here
 * so that the targets build warning-free and so that replay.c, the driver
 * the normal build links with each target, calls the same functions
 * libFuzzer does.
 */
#ifndef PROMISED_FUZZ_H
#define PROMISED_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* called once before any input, by a target that needs it (libFuzzer and
 * replay.c do without); returns 0 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* runs one input; returns 0 (other values are reserved by libFuzzer) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input in memory of its own, exactly its size (with nul, one byte
 * more: a NUL, so it is a string), so that ASan sees any read past it;
 * NULL if it is longer than max or memory runs out.  The caller frees it.
 */
static inline char *
fuzz_input(const uint8_t *data, size_t size, size_t max, bool nul)
{
	char *s;

	if (size > max || (s = malloc(size + (nul || size == 0))) == NULL)
		return NULL;
	memcpy(s, data, size);
	if (nul)
		s[size] = '\0';
	return s;
}

#endif
