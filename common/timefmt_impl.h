/* SPDX-License-Identifier: MIT */
/*
 * timefmt_impl.h: what timefmt.c (reading times) shares with
 * timefmt_show.c (writing them); nothing else includes it.
 */
#ifndef PROMISED_TIMEFMT_IMPL_H
#define PROMISED_TIMEFMT_IMPL_H

#include <stdint.h>
#include <time.h>

/* the local wall-clock fields of instant t; -EINVAL where time_t or the
 * zone code cannot hold it */
int timefmt_local_tm(int64_t t, struct tm *tm);

#endif
