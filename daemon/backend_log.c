/* SPDX-License-Identifier: MIT */
/*
 * backend_log.c: the log backend, the default channel when no email or
 * webhook is configured.  Each delivery is one JSON line appended to a file
 * and handed to the kernel before it counts as sent.  The write is quick
 * and local, but completion is still reported from the loop, never from
 * inside start(), so the outbox sees every backend behave alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "log.h"
#include "util.h"

struct logdone {
	struct logdone *next;
	struct backend_delivery *d;
	int rc;
};

struct backend_log {
	struct backend b;
	struct ev_loop *loop;
	backend_done_fn *report; /* the host's done */
	char *path;
	int fd;
	ev_timer kick; /* runs completions on the next loop iteration */
	struct logdone *done, **done_tail;
};

static int
log_reopen(struct backend_log *bl, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	char *p;

	if (fd == -1)
		return -errno;
	p = strdup(path);
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	if (bl->fd != -1)
		close(bl->fd);
	free(bl->path);
	bl->fd = fd;
	bl->path = p;
	return 0;
}

static void
kick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct backend_log *bl = w->data;
	struct logdone *ld, *next;
	char msg[256];

	(void)loop;
	(void)revents;
	ld = bl->done;
	bl->done = NULL;
	bl->done_tail = &bl->done;
	for (; ld != NULL; ld = next) {
		next = ld->next;
		snprintf(msg, sizeof(msg), "write to '%s': %s", bl->path,
		    strerror(-ld->rc));
		bl->report(ld->d, ld->rc, ld->rc == 0 ? NULL : msg, 0);
		free(ld);
	}
}

static int
log_start(
    struct backend *b, struct backend_delivery *d, char *err, size_t errlen)
{
	struct backend_log *bl = container_of(b, struct backend_log, b);
	struct logdone *ld;
	size_t len = strlen(d->payload);
	char *line;

	(void)err;
	(void)errlen;
	ld = calloc(1, sizeof(*ld));
	if (ld == NULL)
		return -ENOMEM;
	line = malloc(len + 2);
	if (line == NULL) {
		free(ld);
		return -ENOMEM;
	}
	/* one write(2) per line: O_APPEND keeps lines whole */
	memcpy(line, d->payload, len);
	line[len] = '\n';
	line[len + 1] = '\0';
	ld->d = d;
	ld->rc = util_write_all(bl->fd, line, len + 1);
	free(line);
	*bl->done_tail = ld;
	bl->done_tail = &ld->next;
	if (!ev_is_active(&bl->kick)) {
		ev_timer_set(&bl->kick, 0., 0.);
		ev_timer_start(bl->loop, &bl->kick);
	}
	return 0;
}

static int
log_reload(struct backend *b, const struct conf *c)
{
	return log_reopen(
	    container_of(b, struct backend_log, b), c->delivery_log);
}

static void
log_free(struct backend *b)
{
	struct backend_log *bl = container_of(b, struct backend_log, b);
	struct logdone *ld, *next;

	ev_timer_stop(bl->loop, &bl->kick);
	for (ld = bl->done; ld != NULL; ld = next) {
		next = ld->next;
		free(ld);
	}
	if (bl->fd != -1)
		close(bl->fd);
	free(bl->path);
	free(bl);
}

int
backend_log_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen)
{
	struct backend_log *bl;
	int r;

	*ret = NULL;
	bl = calloc(1, sizeof(*bl));
	if (bl == NULL)
		return -ENOMEM;
	bl->b.name = "log";
	bl->b.start = log_start;
	bl->b.reload = log_reload;
	bl->b.free = log_free;
	bl->loop = host->loop;
	bl->report = host->done;
	bl->fd = -1;
	bl->done_tail = &bl->done;
	ev_timer_init(&bl->kick, kick_cb, 0., 0.);
	bl->kick.data = bl;
	if ((r = log_reopen(bl, c->delivery_log)) < 0) {
		snprintf(err, errlen, "delivery log '%s': %s", c->delivery_log,
		    strerror(-r));
		log_free(&bl->b);
		return r;
	}
	*ret = &bl->b;
	return 0;
}
