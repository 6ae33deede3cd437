/* SPDX-License-Identifier: MIT */
/*
 * notify.h: the service manager's side channels: readiness and status
 * (sd_notify), the watchdog, and sockets handed over by socket activation
 * (sd_listen_fds).  With libsystemd the calls go through it; without, the
 * same small protocols are spoken directly.  Everything is a no-op when
 * the daemon was not started by systemd.
 */
#ifndef PROMISED_NOTIFY_H
#define PROMISED_NOTIFY_H

#include <stdint.h>

/* sends one notification ("READY=1", "STATUS=...", ...); 0, or -errno
 * when NOTIFY_SOCKET is set but the message could not be sent */
int notify_send(const char *msg);
/* the watchdog interval in µs if the manager asked for pings, else 0 */
uint64_t notify_watchdog_usec(void);
/*
 * the listening socket passed by socket activation, or -1 if none; more
 * than one socket is an error (-EINVAL)
 */
int notify_listen_fd(void);

#endif
