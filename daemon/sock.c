/* SPDX-License-Identifier: MIT */
/*
 * sock.c: the control socket as a file: listening on its path without
 * taking what is not ours, who is on the other end, and turning a client
 * away before it is served.
 */
#define _GNU_SOURCE /* struct ucred */
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"
#include "util.h"

int
sock_peer_login(int fd, char *buf, size_t len, uid_t *ret_uid)
{
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	struct passwd pw, *res = NULL;
	char pwbuf[4096];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) == -1)
		return -errno;
	*ret_uid = cred.uid;
	if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 &&
	    res != NULL && util_login_ok(res->pw_name))
		util_strlcpy(buf, res->pw_name, len);
	else
		snprintf(buf, len, "uid:%u", (unsigned)cred.uid);
	return 0;
}

void
sock_turn_away(int fd, const char *why)
{
	char line[256];
	int n = snprintf(line, sizeof(line),
	    "{\"ok\":false,\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"%s\"}}\n",
	    why);

	if (n > 0 && (size_t)n < sizeof(line))
		(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* true if something answers on path, i.e. another promised is running */
static bool
socket_alive(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd == -1)
		return false;
	alive = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int
sock_listen(
    const char *path, int *ret_fd, char **ret_path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;
	int fd = -1, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path '%s' is too long", path);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &sb) == 0) {
		/* only a socket is ours to replace: a typo in [daemon] socket
		 * must never cost the file it names */
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen,
			    "socket path '%s' is taken by something that is "
			    "not a socket; refusing to replace it",
			    path);
			return -EEXIST;
		}
		if (socket_alive(&sun)) {
			snprintf(err, errlen,
			    "another promised is already listening on '%s'",
			    path);
			return -EADDRINUSE;
		}
		/* a socket file left by a crash answers nobody: replace it */
		if (unlink(path) == -1 && errno != ENOENT) {
			r = -errno;
			goto fail;
		}
	} else if (errno != ENOENT) {
		r = -errno;
		goto fail;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		r = -errno;
		goto fail;
	}
	/* created 0660 from the start: never a moment where it is wider */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ? -errno : 0;
	umask(old);
	if (r < 0)
		goto fail;
	if (listen(fd, 128) == -1) {
		r = -errno;
		goto fail;
	}
	if ((*ret_path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	*ret_fd = fd;
	return 0;
fail:
	snprintf(err, errlen, "cannot listen on '%s': %s", path, strerror(-r));
	if (fd != -1)
		close(fd);
	return r;
}

void
sock_unlink(const char *path)
{
	struct stat sb;

	/* ours only while it is still a socket: what was put there since is
	 * not for us to remove */
	if (lstat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		(void)unlink(path);
}
