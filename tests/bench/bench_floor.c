/* SPDX-License-Identifier: MIT */
/*
 * bench_floor: the least a per-process `promise add` can cost, as one
 * command for bench_spawn to time beside it.
 *
 *   bench_floor SOCKET FILE
 *
 * Linked as the client is (statically when it is), it makes one round trip
 * to promised over SOCKET (a get, which reads one row and commits
 * nothing) and appends a line to FILE with one fdatasync, as the add's
 * commit does: starting a process, one round trip, one fsync.  Exits 0,
 * or 1 with a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
round_trip(const char *path)
{
	static const char req[] = "{\"v\":1,\"op\":\"get\",\"id\":1}\n";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[4096];
	ssize_t n;
	int fd, rc = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
		goto out;
	/* the reply is one line */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (memchr(buf, '\n', (size_t)n) != NULL) {
			rc = 0;
			break;
		}
out:
	close(fd);
	return rc;
}

static int
append_sync(const char *path)
{
	static const char line[] = "bench_floor\n";
	int fd, rc = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) <
	    0)
		return -1;
	if (write(fd, line, sizeof(line) - 1) == (ssize_t)(sizeof(line) - 1) &&
	    fdatasync(fd) == 0)
		rc = 0;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_floor SOCKET FILE\n");
		return 1;
	}
	if (round_trip(argv[1]) < 0) {
		fprintf(stderr, "bench_floor: %s: no reply: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	if (append_sync(argv[2]) < 0) {
		fprintf(
		    stderr, "bench_floor: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	return 0;
}
