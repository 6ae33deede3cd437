/* SPDX-License-Identifier: MIT */
/*
 * notify.c: talking to the service manager.  With libsystemd the work is
 * sd_notify(3), sd_watchdog_enabled(3) and sd_listen_fds(3); without it the
 * same three small protocols are spoken here: a datagram to
 * $NOTIFY_SOCKET, $WATCHDOG_USEC, and $LISTEN_FDS starting at fd 3, each
 * honoured only when meant for this process ($WATCHDOG_PID, $LISTEN_PID).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef PROMISED_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"
#include "util.h"

#ifdef PROMISED_HAVE_LIBSYSTEMD

int
notify_send(const char *msg)
{
	int r = sd_notify(0, msg);

	return r < 0 ? r : 0;
}

uint64_t
notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

int
notify_listen_fd(void)
{
	/* unset the variables: nothing we start should take the socket */
	int n = sd_listen_fds(1);

	if (n < 0)
		return n;
	if (n == 0)
		return -1;
	if (n > 1)
		return -EINVAL;
	return SD_LISTEN_FDS_START;
}

#else

/* true if the variable holds this process's pid, or is unset */
static bool
for_me(const char *var, bool required)
{
	const char *v = getenv(var);
	char *end;
	long long pid;

	if (v == NULL)
		return !required;
	errno = 0;
	pid = strtoll(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && pid == getpid();
}

int
notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t plen;
	ssize_t n;
	int fd, r = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((path[0] != '/' && path[0] != '@') ||
	    (plen = strlen(path)) >= sizeof(sun.sun_path))
		return -EINVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	/* '@' names a socket in the abstract namespace */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -errno;
	n = sendto(
	    fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
	if (n == -1)
		r = -errno;
	close(fd);
	return r;
}

uint64_t
notify_watchdog_usec(void)
{
	const char *v = getenv("WATCHDOG_USEC");
	char *end;
	unsigned long long usec;

	if (v == NULL || !for_me("WATCHDOG_PID", false))
		return 0;
	errno = 0;
	usec = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return 0;
	return usec;
}

int
notify_listen_fd(void)
{
	const char *v = getenv("LISTEN_FDS");
	char *end;
	long long n;
	int flags;

	if (v == NULL || !for_me("LISTEN_PID", true))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (errno != 0 || end == v || *end != '\0' || n < 0)
		return -EINVAL;
	if (n == 0)
		return -1;
	if (n > 1)
		return -EINVAL;
	/* fd 3, as the protocol fixes; it must not leak into children */
	flags = fcntl(3, F_GETFD);
	if (flags == -1 || fcntl(3, F_SETFD, flags | FD_CLOEXEC) == -1)
		return -errno;
	return 3;
}

#endif
