/* SPDX-License-Identifier: MIT */
/*
 * conn.c: the connection to promised.  One request line goes out on the
 * daemon's Unix socket and one reply line comes back; whatever fails on
 * the way is reported here, in words that say what to do about it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "conn.h"
#include "proto.h"
#include "util.h"

/* a list reply holds every promise, so it may far exceed a request line */
#define REPLY_MAX (256u * 1024 * 1024)
/*
 * An add is answered only after the commit; a daemon stuck far longer than
 * any commit should take is as good as gone, and a script must not hang.
 */
#define REPLY_TIMEOUT_SECS 60

int
sock_connect(const char *path, int *ret)
{
	struct sockaddr_un addr;
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_SECS};
	int fd, r;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (util_strlcpy(addr.sun_path, path, sizeof(addr.sun_path)) >=
	    sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		goto out;
	}
	*ret = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * The name of group gid into buf from /etc/group, else "gid N".  Not
 * getgrgid: the client is linked statically, where NSS would need the
 * very glibc it was built with at run time; the system groups a socket
 * belongs to are local ones.
 */
static void
group_name(gid_t gid, char *buf, size_t len)
{
	FILE *f = fopen("/etc/group", "re");
	char *line = NULL, *p, *q, *end;
	size_t cap = 0;
	unsigned long v;

	(void)snprintf(buf, len, "gid %lu", (unsigned long)gid);
	while (f != NULL && getline(&line, &cap, f) != -1) {
		/* name:password:gid:members */
		if ((p = strchr(line, ':')) == NULL ||
		    (q = strchr(p + 1, ':')) == NULL)
			continue;
		errno = 0;
		v = strtoul(q + 1, &end, 10);
		if (errno != 0 || end == q + 1 || *end != ':' ||
		    v != (unsigned long)gid)
			continue;
		(void)snprintf(buf, len, "'%.*s'", (int)(p - line), line);
		break;
	}
	free(line);
	if (f != NULL)
		fclose(f);
}

/*
 * Why connect() to path failed with r.  A permission problem is no
 * stopped service: it names the group whose members may connect, read
 * from the socket (or, if that cannot be looked at, its directory) now,
 * so it is right whatever the system calls that group.
 */
int
unreachable(const char *path, int r)
{
	char dir[PATH_MAX], group[128];
	struct stat st;
	const char *slash;
	bool known = false;

	if (r != -EACCES && r != -EPERM) {
		errmsg("cannot reach promised at %s: %s (is the service "
		       "running?)",
		    path, strerror(-r));
		return CLI_UNREACHABLE;
	}
	if (stat(path, &st) == 0)
		known = true;
	else if ((slash = strrchr(path, '/')) != NULL &&
	    (size_t)(slash - path) < sizeof(dir)) {
		(void)snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash > path ? slash - path : 1), path);
		known = stat(dir, &st) == 0;
	}
	/* root's group admits nobody new: that is no advice */
	if (known && st.st_gid != 0) {
		group_name(st.st_gid, group, sizeof(group));
		errmsg("permission denied on %s: only members of group %s "
		       "may connect; ask an admin to add you to it (and log "
		       "in again)",
		    path, group);
	} else
		errmsg("permission denied on %s: ask an admin to add you to "
		       "the socket's group (ls -l %s shows it)",
		    path, path);
	return CLI_UNREACHABLE;
}

/*
 * Reads until one complete non-empty line; *ret points into lb.  Returns
 * 0, -ENODATA if the peer closed first, -ETIMEDOUT, -E2BIG past lb's
 * maximum, or another -errno.
 */
static int
read_line(int fd, struct linebuf *lb, char **ret, size_t *ret_len)
{
	char buf[64 * 1024];
	ssize_t n;
	int r;

	for (;;) {
		while ((*ret = linebuf_next(lb, ret_len)) != NULL)
			if (*ret_len > 0)
				return 0;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* SO_RCVTIMEO expiry shows up as EAGAIN */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		if ((r = linebuf_append(lb, buf, (size_t)n)) < 0)
			return r;
	}
}

static void
print_daemon_error(json_t *reply)
{
	json_t *e = json_object_get(reply, "error");
	const char *msg = NULL;

	/* tolerate the bare-string form as well as the documented object */
	if (json_is_string(e))
		msg = json_string_value(e);
	else if (json_is_object(e)) {
		msg = json_string_value(json_object_get(e, "message"));
		if (msg == NULL)
			msg = json_string_value(json_object_get(e, "code"));
	}
	errmsg("%s", msg != NULL ? msg : "request refused");
}

/*
 * Sends req and waits for its one reply.  Returns an exit status, having
 * reported any failure; a NULL req (json_pack out of memory) is one.  On CLI_OK
 * *ret is the reply (caller decrefs), or NULL when --json has already printed
 * it and nothing is left to render.
 */
int
request(const struct cli *cli, const json_t *req, json_t **ret)
{
	struct linebuf lb;
	json_error_t jerr;
	json_t *reply = NULL, *ok;
	char *msg = NULL, *line;
	size_t msglen, len;
	int fd = -1, r, status;

	*ret = NULL;
	if (cli->server != NULL)
		return http_request(cli, req, ret);
	linebuf_init(&lb, REPLY_MAX);
	if ((msg = proto_dump(req, &msglen)) == NULL) {
		status = out_of_memory();
		goto out;
	}
	/* proto_dump counts the newline; the daemon's limit does not */
	if (msglen - 1 > PROTO_MAX_LINE) {
		status =
		    usage_error("request longer than %d bytes", PROTO_MAX_LINE);
		goto out;
	}
	if (cli->fd >= 0)
		r = 0;
	else if ((r = sock_connect(cli->socket, &fd)) < 0) {
		status = unreachable(cli->socket, r);
		goto out;
	}
	if (cli->fd >= 0)
		fd = cli->fd;
	if ((r = util_write_all(fd, msg, msglen)) == 0)
		r = read_line(fd, &lb, &line, &len);
	if (r == -ENODATA) {
		errmsg("promised at %s closed the connection without replying",
		    cli->socket);
		status = CLI_UNREACHABLE;
		goto out;
	} else if (r == -ENOMEM) {
		status = out_of_memory();
		goto out;
	} else if (r == -E2BIG) {
		errmsg("reply from promised at %s is longer than %u bytes",
		    cli->socket, REPLY_MAX);
		status = CLI_REFUSED;
		goto out;
	} else if (r < 0) {
		errmsg("no reply from promised at %s: %s", cli->socket,
		    strerror(-r));
		status = CLI_UNREACHABLE;
		goto out;
	}
	/* something that does not speak the protocol is not our daemon */
	reply = json_loadb(line, len, 0, &jerr);
	if (reply == NULL || !json_is_object(reply) ||
	    !json_is_boolean(ok = json_object_get(reply, "ok"))) {
		errmsg("unexpected reply from %s: %s", cli->socket,
		    reply == NULL ? jerr.text : "no \"ok\" field");
		status = CLI_UNREACHABLE;
		goto out;
	}
	if (cli->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		out_json_done();
	}
	if (!json_is_true(ok)) {
		print_daemon_error(reply);
		status = CLI_REFUSED;
		goto out;
	}
	if (!cli->json) {
		*ret = reply;
		reply = NULL;
	}
	status = CLI_OK;
out:
	json_decref(reply);
	free(msg);
	linebuf_free(&lb);
	if (fd >= 0 && fd != cli->fd)
		close(fd);
	return status;
}
