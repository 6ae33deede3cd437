/* SPDX-License-Identifier: MIT */
/*
 * curlev.h: libcurl's multi interface driven by the libev loop (the
 * multi_socket pattern).  Backends hand it configured easy handles and get
 * a completion callback from the loop; nothing here ever blocks.  Each
 * backend's worker thread runs one on its own loop, so connections are
 * reused between its deliveries to the same server.
 */
#ifndef PROMISED_CURLEV_H
#define PROMISED_CURLEV_H

#include <curl/curl.h>
#include <ev.h>

struct curlev;

/*
 * called from the loop when a transfer ends, after the handle has been
 * removed from the multi; the callee owns easy again (and cleans it up)
 */
typedef void curlev_done_fn(CURL *easy, CURLcode result, void *arg);

/* 0, -ENOMEM, or -EIO if libcurl cannot be initialised */
int curlev_open(struct curlev **ret, struct ev_loop *loop);
/* removes and cleans up every transfer without calling its done callback;
 * NULL-safe; returns NULL */
struct curlev *curlev_close(struct curlev *cv);
/*
 * starts easy, which the caller has configured (CURLOPT_PRIVATE is
 * curlev's); done runs later from the loop, never before this returns.
 * 0, or -errno with easy still the caller's
 */
int curlev_add(struct curlev *cv, CURL *easy, curlev_done_fn *done, void *arg);
/*
 * keeps up to n idle connections for reuse (CURLMOPT_MAXCONNECTS); by
 * default libcurl keeps four per transfer under way, which closes them in
 * a burst whenever few transfers happen to be running.  0 or -EINVAL
 */
int curlev_keep(struct curlev *cv, long n);

#endif
