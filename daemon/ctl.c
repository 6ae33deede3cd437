/* SPDX-License-Identifier: MIT */
/*
 * ctl.c: the control socket server.
 *
 * Each connection reads newline-delimited JSON requests and answers each in
 * order; what a request does is the operation's (op.h), which sees who
 * asks and never the connection.  Requests run inside the loop's batch
 * transaction, with a savepoint each, a bounded slice of them per user per turn
 * of the loop (conn_work); their replies are held until the loop commits the
 * batch (ctl_after_commit), so "ok" always means committed and one fsync serves
 * every request that arrived in the same iteration.  A bad request costs its
 * sender one error line; the daemon goes on serving everyone else.
 *
 * A backup is the one request answered later than its batch: its reply
 * waits in the queue, pending, while the copy is made a step at a time
 * between batches, and the replies queued behind it wait with it.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "auth_token.h"
#include "ctl.h"
#include "jsonw.h"
#include "log.h"
#include "op.h"
#include "proto.h"
#include "sock.h"
#include "util.h"

/* stop reading from a client owed this much until it reads its replies */
#define OUT_HIGH (1024 * 1024)
#define OUT_LOW (256 * 1024)
#define READ_CHUNK 65536
/* a user's requests in hand are taken up for at most this long per turn
 * of the loop, over all their connections (but one request at least),
 * and everyone's left over from earlier turns for at most TURN_SECONDS: a
 * user sending thousands at once, or asking again and again on many
 * connections, waits their turn instead of holding up everyone else */
#define USER_SLICE 0.01
#define TURN_SECONDS 0.02
/* open files kept for all but clients: the database, its WAL and shared
 * memory, the checkpointer's connection, the delivery log, the listening
 * socket, the loop's own; and two per delivery in flight */
#define FD_RESERVE 32
/* how long accepting pauses when the process is out of descriptors */
#define ACCEPT_PAUSE 0.5

struct reply {
	struct reply *next;
	char *line;
	size_t len;
	bool write;   /* a change: replaced by an error if the batch fails */
	bool pending; /* no line yet: the backup is still being written */
	json_t *tag;  /* the request's tag, for that error */
};

struct conn {
	ev_io rio;
	ev_io wio;
	struct ctl *ctl;
	int fd;
	char login[72];
	uid_t uid;
	struct linebuf in;
	struct reply *rhead, **rtail; /* held for the batch */
	char *out;                    /* ready to write */
	size_t out_len, out_off, out_cap;
	size_t owed; /* bytes held or ready */
	bool reading;
	bool closing; /* close once everything owed is written */
	bool eof;     /* the client sent all it will: close once answered */
	int in_err;   /* an unreadable request after the lines in hand */
	bool dirty;
	ev_tstamp active;     /* when its last whole request came in */
	struct op_session ss; /* what its operations keep */
	struct conn *next, **pprev;
	struct conn *dnext;
};

struct ctl {
	struct ev_loop *loop;
	struct op_ctx op; /* what the requests act on */
	int fd;
	char *path; /* the socket we created, to unlink */
	ev_io lio;
	ev_timer accept_again; /* after running out of descriptors */
	bool fd_short;         /* logged that, not yet accepted since */
	struct conn *conns;
	size_t n_conns;
	size_t max_conns; /* max_connections, within the open-file limit */
	ev_timer idle;    /* sweeps connections idle past idle_timeout */
	struct conn *dirty;
	bool shutting_down;
	/* who asked for the backup being written (op.backup), and the reply
	 * they are owed */
	struct conn *backup_c;
	struct reply *backup_rp;
	ev_idle spin;           /* keeps the loop turning while it runs */
	ev_check work;          /* requests left over from the last turn */
	ev_idle work_spin;      /* and the loop turning while any are */
	struct conn *work_next; /* where the next turn's round starts */
	unsigned turn;          /* the loop iteration turn_users is about */
	struct turn_user {
		uid_t uid;
		ev_tstamp spent; /* on the user's requests this turn */
	} * turn_users;
	size_t n_turn_users, cap_turn_users;
};

static void conn_close(struct conn *c);
static void conn_flush(struct conn *c);
static void backup_cancel(struct ctl *ctl, const char *why);

/* ---- connections -----------------------------------------------------------
 */

static void
mark_dirty(struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->dnext = c->ctl->dirty;
	c->ctl->dirty = c;
}

/* true if c has a request in hand that may be taken up now */
static bool
conn_can_work(const struct conn *c)
{
	return !c->closing && !c->ctl->shutting_down && c->owed < OUT_HIGH &&
	    linebuf_has_line(&c->in);
}

/*
 * Reads from c only while it has no request in hand waiting its turn and
 * is owed less than OUT_HIGH: what it sent stays in the socket until it
 * is worked on, so one client holds at most one read of requests here.
 */
static void
update_reading(struct conn *c)
{
	struct ctl *ctl = c->ctl;
	bool want = !c->closing && !c->eof && c->in_err == 0 &&
	    !ctl->shutting_down && !linebuf_has_line(&c->in) &&
	    (c->reading ? c->owed < OUT_HIGH : c->owed < OUT_LOW);

	if (want && !c->reading)
		ev_io_start(ctl->loop, &c->rio);
	else if (!want && c->reading)
		ev_io_stop(ctl->loop, &c->rio);
	c->reading = want;
	if (conn_can_work(c) && !ev_is_active(&ctl->work_spin))
		ev_idle_start(ctl->loop, &ctl->work_spin);
}

static int out_append(struct conn *c, const char *s, size_t len);
static void mark_dirty(struct conn *c);

/*
 * Writes line to c at once if the socket takes it whole, or takes what it
 * can and keeps the rest as output; false if it needs holding (nothing was
 * written).  Never closes c: a broken socket is closed by the next flush.
 */
static bool
send_now(struct conn *c, const char *line, size_t len)
{
	ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n == -1)
		return false;
	if ((size_t)n == len)
		return true;
	if (out_append(c, line + n, len - (size_t)n) < 0) {
		/* half a line was sent: the connection cannot go on */
		c->closing = true;
		mark_dirty(c);
		return true;
	}
	c->owed += len - (size_t)n;
	if (!ev_is_active(&c->wio))
		ev_io_start(c->ctl->loop, &c->wio);
	return true;
}

/* completes the text of a reply object lacking its closing brace (tag,
 * closing, newline); the line, or NULL without memory */
static char *
finish_text(struct jsonw *b, json_t *tag, size_t *ret_len)
{
	char *t = NULL;

	if (tag != NULL) {
		t = json_dumps(
		    tag, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
		if (t == NULL)
			return NULL;
		jw_lit(b, ",\"tag\":");
		jw_lit(b, t);
		free(t);
	}
	jw_put(b, "}\n", 2);
	if (b->oom)
		return NULL;
	*ret_len = b->len;
	return b->s;
}

/* holds msg (consumed), or else the text in b (taken), as the next reply
 * on c */
static void
queue_reply(
    struct conn *c, json_t *msg, struct jsonw *b, bool write, json_t *tag)
{
	struct reply *rp = calloc(1, sizeof(*rp));

	if (rp != NULL && msg == NULL && b != NULL && b->s != NULL) {
		if ((rp->line = finish_text(b, tag, &rp->len)) != NULL)
			b->s = NULL; /* the reply's now */
	} else if (rp != NULL && msg != NULL &&
	    (tag == NULL || json_object_set(msg, "tag", tag) == 0))
		rp->line = proto_dump(msg, &rp->len);
	if (b != NULL) {
		free(b->s);
		b->s = NULL;
	}
	if (rp == NULL || rp->line == NULL) {
		/* without memory for a reply the request's answer would go
		 * missing and later replies would be misread: end the
		 * connection instead; any change it made stays committed */
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		free(rp);
		json_decref(msg);
		c->closing = true;
		mark_dirty(c);
		return;
	}
	json_decref(msg);
	/* a reply that waits for no commit and for no earlier reply goes out
	 * now: a status or list is not held up by the batch's fsync */
	if (!write && c->rhead == NULL && c->out_off == c->out_len &&
	    send_now(c, rp->line, rp->len)) {
		free(rp->line);
		free(rp);
		/* the release after the batch still closes it if it is to */
		mark_dirty(c);
		return;
	}
	rp->write = write;
	rp->tag = json_incref(tag);
	*c->rtail = rp;
	c->rtail = &rp->next;
	c->owed += rp->len;
	mark_dirty(c);
}

static void
reply_free(struct reply *rp)
{
	free(rp->line);
	json_decref(rp->tag);
	free(rp);
}

/* holds a pending reply on c for the backup its request started */
static void
backup_hold(struct conn *c, json_t *tag)
{
	struct ctl *ctl = c->ctl;
	struct reply *rp = calloc(1, sizeof(*rp));

	if (rp == NULL) {
		/* as in queue_reply: a missing answer would shift the rest */
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		op_backup_cancel(&ctl->op, NULL);
		c->closing = true;
		mark_dirty(c);
		return;
	}
	rp->pending = true;
	rp->tag = json_incref(tag);
	*c->rtail = rp;
	c->rtail = &rp->next;
	ctl->backup_c = c;
	ctl->backup_rp = rp;
	ev_idle_start(ctl->loop, &ctl->spin);
}

/* ends the backup, its file removed; its pending reply goes with its
 * connection */
static void
backup_cancel(struct ctl *ctl, const char *why)
{
	if (ctl->op.backup == NULL)
		return;
	op_backup_cancel(&ctl->op, why);
	ctl->backup_c = NULL;
	ctl->backup_rp = NULL;
	ev_idle_stop(ctl->loop, &ctl->spin);
}

/* gives the finished backup's pending reply its line (msg, consumed) */
static void
backup_done(struct ctl *ctl, json_t *msg)
{
	struct reply *rp = ctl->backup_rp;
	struct conn *c = ctl->backup_c;

	ctl->backup_c = NULL;
	ctl->backup_rp = NULL;
	ev_idle_stop(ctl->loop, &ctl->spin);
	if (msg != NULL && rp->tag != NULL &&
	    json_object_set(msg, "tag", rp->tag) < 0) {
		json_decref(msg);
		msg = NULL;
	}
	rp->line = msg != NULL ? proto_dump(msg, &rp->len) : NULL;
	json_decref(msg);
	if (rp->line == NULL) {
		log_warnx(
		    "client %s: out of memory for a reply; closing", c->login);
		conn_close(c);
		return;
	}
	rp->pending = false;
	c->owed += rp->len;
	mark_dirty(c);
}

/* the backup's next step, between batches */
static void
backup_run(struct ctl *ctl)
{
	json_t *msg;

	if (op_backup_step(&ctl->op, &msg) == 1)
		backup_done(ctl, msg);
}

static void
spin_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
	/* nothing: being active keeps the loop from blocking, so the
	 * prepare watcher's commit and ctl_after_commit keep coming */
	(void)loop;
	(void)w;
	(void)revents;
}

static void
handle_line(struct conn *c, const char *line, size_t len)
{
	struct ctl *ctl = c->ctl;
	struct op_caller who = {c->login, c->uid,
	    op_is_admin(ctl->op.conf, c->login, c->uid), NULL};
	struct op_reply rp;

	op_dispatch(&ctl->op, &c->ss, &who, line, len, &rp);
	if (rp.pending) {
		backup_hold(c, rp.tag);
	} else {
		/* queue_reply takes the reply's json and text */
		queue_reply(c, rp.json, &rp.text, rp.write, rp.tag);
		rp.json = NULL;
	}
	op_reply_clear(&rp);
}

/*
 * The time spent on uid's requests in this turn of the loop, to be added
 * to; NULL without memory to keep count, and then the user is not held
 * back.  The table holds the users served this turn, a handful.
 */
static ev_tstamp *
turn_spent(struct ctl *ctl, uid_t uid)
{
	struct turn_user *tu;
	size_t i, cap;

	if (ctl->turn != ev_iteration(ctl->loop)) {
		ctl->turn = ev_iteration(ctl->loop);
		ctl->n_turn_users = 0;
	}
	for (i = 0; i < ctl->n_turn_users; i++)
		if (ctl->turn_users[i].uid == uid)
			return &ctl->turn_users[i].spent;
	if (ctl->n_turn_users == ctl->cap_turn_users) {
		cap = ctl->cap_turn_users ? 2 * ctl->cap_turn_users : 16;
		tu = realloc(ctl->turn_users, cap * sizeof(*tu));
		if (tu == NULL)
			return NULL;
		ctl->turn_users = tu;
		ctl->cap_turn_users = cap;
	}
	tu = &ctl->turn_users[ctl->n_turn_users++];
	tu->uid = uid;
	tu->spent = 0;
	return &tu->spent;
}

/* true if c's user has had their time this turn */
static bool
user_done(struct conn *c)
{
	ev_tstamp *spent = turn_spent(c->ctl, c->uid);

	return spent != NULL && *spent >= USER_SLICE;
}

/*
 * Takes up c's requests in hand until none is left, its replies pile up
 * past OUT_HIGH, or its user has had USER_SLICE this turn (a user who had
 * nothing yet gets one request at least).  The rest wait for a later
 * turn (work_cb); the lines before an unreadable one, or before the end
 * of the input, are answered before the connection is closed.
 */
static void
conn_work(struct conn *c)
{
	ev_tstamp *spent = turn_spent(c->ctl, c->uid), t0, t;
	char msg[96];
	char *line;
	size_t len;

	while (conn_can_work(c) && (spent == NULL || *spent < USER_SLICE)) {
		t0 = ev_time();
		line = linebuf_next(&c->in, &len);
		if (len > 0)
			handle_line(c, line, len);
		t = ev_time();
		if (spent != NULL)
			*spent += t > t0 ? t - t0 : 1e-6;
	}
	if (!linebuf_has_line(&c->in) && !c->closing && c->in_err != 0) {
		snprintf(msg, sizeof(msg),
		    c->in_err == -E2BIG
		        ? "request line longer than %d bytes"
		        : "out of memory reading a request of %d bytes",
		    PROTO_MAX_LINE);
		queue_reply(c,
		    proto_error(
		        c->in_err == -E2BIG ? PROTO_INVALID : PROTO_INTERNAL,
		        msg),
		    NULL, false, NULL);
		c->closing = true;
	} else if (!linebuf_has_line(&c->in) && !c->closing && c->eof) {
		/* the client is done sending and has its answers */
		c->closing = true;
		mark_dirty(c);
	}
	update_reading(c);
}

/*
 * One turn's work on the requests left over: each connection with some
 * whose user has time left this turn, starting where the last turn
 * stopped, until TURN_SECONDS is spent.  Runs after the loop's poll, so
 * the next prepare commits what it did with the rest of the turn.
 */
static void
work_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct ctl *ctl = w->data;
	ev_tstamp end = ev_time() + TURN_SECONDS;
	struct conn *c, *next;
	bool more = false;
	size_t i, n = ctl->n_conns;

	(void)revents;
	if (!ev_is_active(&ctl->work_spin))
		return;
	c = ctl->work_next != NULL ? ctl->work_next : ctl->conns;
	ctl->work_next = NULL;
	for (i = 0; i < n && c != NULL; i++, c = next) {
		/* taking requests up never closes a connection */
		next = c->next != NULL ? c->next : ctl->conns;
		if (!conn_can_work(c))
			continue;
		if (ev_time() >= end) {
			ctl->work_next = c;
			more = true;
			break;
		}
		if (!user_done(c))
			conn_work(c);
		more = more || conn_can_work(c);
	}
	if (!more)
		ev_idle_stop(loop, &ctl->work_spin);
}

static void
read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	char buf[READ_CHUNK];
	ssize_t n;
	int r;

	(void)revents;
	n = read(c->fd, buf, sizeof(buf));
	if (n == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_debug("client %s: read: %s", c->login, strerror(errno));
		conn_close(c);
		return;
	}
	if (n == 0)
		c->eof = true;
	else if ((r = linebuf_append(&c->in, buf, (size_t)n)) < 0)
		c->in_err = r;
	if (linebuf_has_line(&c->in))
		c->active = ev_now(loop);
	conn_work(c);
}

static void
write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	conn_flush(c);
}

/* writes what is ready; closes the connection when it is finished */
static void
conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_debug(
			    "client %s: write: %s", c->login, strerror(errno));
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
		c->owed -= (size_t)n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = c->out_len = 0;
		ev_io_stop(c->ctl->loop, &c->wio);
		if (c->closing && c->rhead == NULL) {
			conn_close(c);
			return;
		}
	} else if (!ev_is_active(&c->wio))
		ev_io_start(c->ctl->loop, &c->wio);
	update_reading(c);
}

static int
out_append(struct conn *c, const char *s, size_t len)
{
	char *nb;
	size_t cap;

	if (c->out_len + len > c->out_cap) {
		cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		nb = realloc(c->out, cap);
		if (nb == NULL)
			return -ENOMEM;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return 0;
}

/* swaps the reply to a change the batch failed to commit for an error */
static int
reply_refuse(struct conn *c, struct reply *rp)
{
	json_t *msg;
	char *line;
	size_t len;

	msg = proto_error(PROTO_UNAVAILABLE,
	    "the database could not commit this change; nothing was changed, "
	    "try again");
	if (msg != NULL && rp->tag != NULL)
		json_object_set(msg, "tag", rp->tag);
	line = msg != NULL ? proto_dump(msg, &len) : NULL;
	json_decref(msg);
	if (line == NULL)
		return -ENOMEM;
	c->owed = c->owed - rp->len + len;
	free(rp->line);
	rp->line = line;
	rp->len = len;
	return 0;
}

/*
 * After a batch: settles every held reply, failed changes becoming
 * errors, then moves them to the output in order up to the first one
 * still pending (a backup being written); those behind it wait for it.
 */
static void
conn_release(struct conn *c, bool ok)
{
	struct reply *rp;
	bool broken = false;

	for (rp = c->rhead; rp != NULL; rp = rp->next) {
		if (rp->write && !ok && reply_refuse(c, rp) < 0)
			broken = true;
		/* settled: a later batch's outcome is not this reply's */
		rp->write = false;
	}
	while (!broken && (rp = c->rhead) != NULL && !rp->pending) {
		if (out_append(c, rp->line, rp->len) < 0) {
			broken = true;
			break;
		}
		c->rhead = rp->next;
		reply_free(rp);
	}
	if (c->rhead == NULL)
		c->rtail = &c->rhead;
	if (broken) {
		log_warnx(
		    "client %s: out of memory for replies; closing", c->login);
		conn_close(c);
		return;
	}
	conn_flush(c);
}

void
ctl_after_commit(struct ctl *ctl, bool ok)
{
	struct conn *c, *next;

	/* first, so that a backup finishing now is answered now */
	backup_run(ctl);
	c = ctl->dirty;
	ctl->dirty = NULL;
	for (; c != NULL; c = next) {
		next = c->dnext;
		c->dirty = false;
		conn_release(c, ok);
	}
}

static void
conn_close(struct conn *c)
{
	struct ctl *ctl = c->ctl;
	struct conn **pp;
	struct reply *rp, *next;

	if (ctl->backup_c == c)
		backup_cancel(ctl, "its client is gone");
	ev_io_stop(ctl->loop, &c->rio);
	ev_io_stop(ctl->loop, &c->wio);
	close(c->fd);
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	ctl->n_conns--;
	if (ctl->work_next == c)
		ctl->work_next = c->next;
	if (c->dirty) {
		for (pp = &ctl->dirty; *pp != c; pp = &(*pp)->dnext)
			;
		*pp = c->dnext;
	}
	for (rp = c->rhead; rp != NULL; rp = next) {
		next = rp->next;
		reply_free(rp);
	}
	linebuf_free(&c->in);
	free(c->out);
	op_session_end(&ctl->op, &c->ss);
	free(c);
}

/*
 * Closes connections that sent no whole request for idle_timeout and have
 * none that may be taken up now: a client trickling a byte now and then,
 * one reading its replies a little at a time, or one gone quiet, must not
 * hold a connection slot for ever.  One sweep
 * every quarter period over at most max_connections is cheaper than a
 * timer per connection (ev.pod, "Be smart about timeouts").
 */
static void
idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl *ctl = w->data;
	ev_tstamp limit = ev_now(loop) - (ev_tstamp)ctl->op.conf->idle_timeout;
	struct conn *c, *next;
	static const char bye[] =
	    "{\"ok\":false,\"error\":{\"code\":\"unavailable\","
	    "\"message\":\"connection idle for too long; closed\"}}\n";

	(void)revents;
	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		if (c->active >= limit || conn_can_work(c) ||
		    ctl->backup_c == c)
			continue;
		log_debug("client %s: idle, closing", c->login);
		/* the reason is a line of its own, never inside another */
		if (c->out_off == c->out_len)
			(void)!send(c->fd, bye, sizeof(bye) - 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		conn_close(c);
	}
	w->repeat = (ev_tstamp)ctl->op.conf->idle_timeout / 4.;
	ev_timer_again(loop, w);
}

/*
 * Out of descriptors (or kernel memory): the connection waits in the
 * backlog, and accepting it again at once would fail again at once, a
 * busy loop.  Accepting pauses instead, till a client has had time to
 * leave; logged once until a connection is accepted again.
 */
static void
accept_pause(struct ctl *ctl, int err)
{
	if (!ctl->fd_short)
		log_warnx("accept: %s, with %zu clients connected; pausing "
		          "new connections (max_connections is %zu)",
		    strerror(err), ctl->n_conns, ctl->max_conns);
	ctl->fd_short = true;
	ev_io_stop(ctl->loop, &ctl->lio);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	ev_timer_set(&ctl->accept_again, ACCEPT_PAUSE, 0.);
	ev_timer_start(ctl->loop, &ctl->accept_again);
}

static void
accept_again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct ctl *ctl = w->data;

	(void)revents;
	if (!ctl->shutting_down)
		ev_io_start(loop, &ctl->lio);
}

/*
 * max_connections, or fewer if the open-file limit would run out first:
 * a client over the cap is told so, one past the limit would only find
 * accept failing.
 */
static void
set_max_conns(struct ctl *ctl)
{
	const struct conf *c = ctl->op.conf;
	struct rlimit rl;
	rlim_t keep = FD_RESERVE + 2 * (rlim_t)c->concurrency, room;

	ctl->max_conns = (size_t)c->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return;
	room = rl.rlim_cur > keep + 1 ? rl.rlim_cur - keep : 1;
	if ((rlim_t)c->max_connections <= room)
		return;
	ctl->max_conns = (size_t)room;
	log_warnx("max_connections = %" PRId64 " is more than the limit of "
	          "%llu open files allows; at most %zu clients are served",
	    c->max_connections, (unsigned long long)rl.rlim_cur,
	    ctl->max_conns);
}

/*
 * True (and c's connection turned away) if c's user already holds
 * max_connections_per_user: one user holding every connection would lock
 * everyone else out.  Root and admins may hold more, to mend things.
 * Counting walks the connections, at most max_connections of them.
 */
static bool
over_share(struct ctl *ctl, struct conn *c)
{
	const struct conn *o;
	int64_t n = 0;
	char why[160];

	if (op_is_admin(ctl->op.conf, c->login, c->uid))
		return false;
	for (o = ctl->conns; o != NULL; o = o->next)
		if (o->uid == c->uid)
			n++;
	if (n < ctl->op.conf->max_connections_per_user)
		return false;
	log_debug("client %s: turned away, holding %" PRId64
	          " connections already",
	    c->login, n);
	/* the login is checked (util_login_ok) or "uid:N": nothing to escape */
	snprintf(why, sizeof(why),
	    "too many connections from '%s' (at most %" PRId64 " per user)",
	    c->login, ctl->op.conf->max_connections_per_user);
	sock_turn_away(c->fd, why);
	return true;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl *ctl = w->data;
	struct conn *c;
	int fd, i, r;

	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(ctl->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				accept_pause(ctl, errno);
			else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (ctl->fd_short) {
			log_info("accepting connections again");
			ctl->fd_short = false;
		}
		if (ctl->n_conns >= ctl->max_conns) {
			sock_turn_away(fd, "too many connections");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			log_warnx("accept: out of memory");
			close(fd);
			return;
		}
		c->ctl = ctl;
		c->fd = fd;
		c->rtail = &c->rhead;
		linebuf_init(&c->in, PROTO_MAX_LINE);
		if ((r = sock_peer_login(
		         fd, c->login, sizeof(c->login), &c->uid)) < 0) {
			log_warnx("accept: cannot tell who connected: %s",
			    strerror(-r));
			linebuf_free(&c->in);
			free(c);
			close(fd);
			continue;
		}
		if (over_share(ctl, c)) {
			linebuf_free(&c->in);
			free(c);
			continue;
		}
		ev_io_init(&c->rio, read_cb, fd, EV_READ);
		ev_io_init(&c->wio, write_cb, fd, EV_WRITE);
		c->rio.data = c->wio.data = c;
		c->next = ctl->conns;
		if (ctl->conns != NULL)
			ctl->conns->pprev = &c->next;
		ctl->conns = c;
		c->pprev = &ctl->conns;
		ctl->n_conns++;
		c->active = ev_now(loop);
		ev_io_start(loop, &c->rio);
		c->reading = true;
	}
}

int
ctl_open(struct ctl **ret, struct ev_loop *loop, const struct conf *c, int fd,
    char *err, size_t errlen)
{
	struct ctl *ctl;
	int r;

	*ret = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL)
		return -ENOMEM;
	ctl->loop = loop;
	ctl->op.conf = c;
	ctl->fd = fd;
	ctl->op.started_at = util_now();
	if (fd < 0 &&
	    (r = sock_listen(c->socket, &ctl->fd, &ctl->path, err, errlen)) <
	        0) {
		free(ctl);
		return r;
	}
	ev_init(&ctl->idle, idle_cb);
	ctl->idle.data = ctl;
	ctl->idle.repeat = (ev_tstamp)c->idle_timeout / 4.;
	ev_timer_again(loop, &ctl->idle);
	ev_io_init(&ctl->lio, accept_cb, ctl->fd, EV_READ);
	ctl->lio.data = ctl;
	ev_io_start(loop, &ctl->lio);
	ev_init(&ctl->accept_again, accept_again_cb);
	ctl->accept_again.data = ctl;
	set_max_conns(ctl);
	ev_idle_init(&ctl->spin, spin_cb);
	ev_idle_init(&ctl->work_spin, spin_cb);
	ev_check_init(&ctl->work, work_cb);
	ctl->work.data = ctl;
	ev_check_start(loop, &ctl->work);
	*ret = ctl;
	return 0;
}

void
ctl_attach(
    struct ctl *ctl, struct store *st, struct sched *s, struct deliver *dl)
{
	ctl->op.st = st;
	ctl->op.s = s;
	ctl->op.dl = dl;
}

struct op_ctx *
ctl_op(struct ctl *ctl)
{
	return &ctl->op;
}

void
ctl_set_conf(struct ctl *ctl, const struct conf *c)
{
	ctl->op.conf = c;
	set_max_conns(ctl);
}

void
ctl_shutdown(struct ctl *ctl)
{
	struct conn *c;

	ctl->shutting_down = true;
	ev_io_stop(ctl->loop, &ctl->lio);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	for (c = ctl->conns; c != NULL; c = c->next)
		update_reading(c);
}

bool
ctl_busy(const struct ctl *ctl)
{
	const struct conn *c;

	/* a backup owes its asker a reply */
	if (ctl->op.backup != NULL)
		return true;
	for (c = ctl->conns; c != NULL; c = c->next)
		if (c->owed > 0)
			return true;
	return false;
}

struct ctl *
ctl_close(struct ctl *ctl)
{
	if (ctl == NULL)
		return NULL;
	backup_cancel(ctl, "promised is stopping");
	ev_timer_stop(ctl->loop, &ctl->idle);
	ev_timer_stop(ctl->loop, &ctl->accept_again);
	ev_idle_stop(ctl->loop, &ctl->work_spin);
	ev_check_stop(ctl->loop, &ctl->work);
	while (ctl->conns != NULL)
		conn_close(ctl->conns);
	auth_end(&ctl->op);
	free(ctl->turn_users);
	ev_io_stop(ctl->loop, &ctl->lio);
	if (ctl->fd != -1)
		close(ctl->fd);
	if (ctl->path != NULL) {
		sock_unlink(ctl->path);
		free(ctl->path);
	}
	free(ctl);
	return NULL;
}
