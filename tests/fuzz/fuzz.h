/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: the libFuzzer entry points every target defines.  Declared here
 * so that the targets build warning-free and so that replay.c, the driver
 * the normal build links with each target, calls the same functions
 * libFuzzer does.
 */
#ifndef PROMISED_FUZZ_H
#define PROMISED_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* called once before any input; returns 0 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* runs one input; returns 0 (other values are reserved by libFuzzer) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
