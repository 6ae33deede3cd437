/* SPDX-License-Identifier: MIT */
/*
 * sock.h: the control socket as a file, for ctl.c: listening on a path,
 * the peer's login, a client turned away, the path removed at the stop.
 */
#ifndef PROMISED_SOCK_H
#define PROMISED_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Listens on a new Unix socket at path, mode 0660 from the start, into
 * *ret_fd (non-blocking, close-on-exec) and a copy of path into *ret_path.
 * A socket file nobody answers on (left by a crash) is replaced; anything
 * else at path, or another promised listening there, is an error, said in
 * err.  0 or -errno.
 */
int sock_listen(
    const char *path, int *ret_fd, char **ret_path, char *err, size_t errlen);
/* the login of the peer on fd, from the kernel's word on who it is
 * ("uid:N" when the uid has no usable name), and its uid; 0 or -errno */
int sock_peer_login(int fd, char *buf, size_t len, uid_t *ret_uid);
/* tells a client it is not served (why: printable ASCII with nothing to
 * escape) and closes fd */
void sock_turn_away(int fd, const char *why);
/* removes the socket at path, if a socket is still what is there */
void sock_unlink(const char *path);

#endif
