/* SPDX-License-Identifier: MIT */
/*
 * main.c: promised, the daemon.  Reads the configuration, opens the store,
 * rebuilds the schedule, resumes the outbox and serves the control socket
 * from one libev loop.  The loop's prepare watcher is the heartbeat: before
 * each wait it commits the batch of everything the iteration changed, then
 * releases the replies and deliveries that waited for that commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "conf.h"
#include "agenda.h"
#include "ctl.h"
#include "deliver.h"
#include "digest.h"
#include "fts_catchup.h"
#include "http.h"
#include "leader.h"
#include "log.h"
#include "notify.h"
#include "sched.h"
#include "store.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

/* EX_CONFIG from sysexits.h */
#define EXIT_CONFIG 78
/* how long SIGTERM waits for replies and deliveries still on their way */
#define DRAIN_SECONDS 5.

struct daemon {
	struct ev_loop *loop;
	struct conf *conf;
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	struct digest *dg;
	struct agenda *ag;
	struct fts_catchup *fts;
	struct leader *ld; /* several daemons on one store, or NULL */
	struct ctl *ctl;
	struct http *http; /* NULL unless [http] listen */
	ev_prepare prepare;
	ev_signal sigterm, sigint, sighup;
	ev_timer drain;
	ev_timer again;
	ev_timer watchdog;
	ev_timer status;
	bool quitting;
	bool drain_expired;
	bool init; /* --init: a missing database may be created afresh */
	bool lost; /* led, and lost the lead: exit for a restart */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: promised [-c FILE] [--init] [--check-config] [--version] "
	    "[--help]\n"
	    "\n"
	    "  -c, --config FILE   configuration (default %s)\n"
	    "  -i, --init          start with an empty database where the "
	    "one\n"
	    "                      created before is gone\n"
	    "  -n, --check-config  check the configuration and exit (78 if "
	    "bad)\n"
	    "  -V, --version       print the version\n"
	    "  -h, --help          this help\n",
	    PROMISED_DEFAULT_CONFIG);
}

static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct daemon *d = w->data;
	bool ok;
	int i, r;

	(void)revents;
	/* Releasing one batch can open the next (a delivery that fails at
	 * once records its outcome); commit that too before the loop sleeps,
	 * or it would wait for an unrelated event.  Bounded, to stay fair. */
	for (i = 0; i < 4; i++) {
		ok = true;
		deliver_before_commit(d->dl);
		if (store_in_txn(d->st) && (r = store_commit(d->st)) < 0) {
			log_errorx("database commit failed: %s; the changes of "
			           "this batch are refused",
			    store_errmsg(d->st));
			ok = false;
		}
		sched_after_commit(d->s, ok);
		deliver_after_commit(d->dl, ok);
		ctl_after_commit(d->ctl, ok);
		http_after_commit(d->http, ok);
		fts_catchup_after_commit(d->fts);
		if (!store_in_txn(d->st))
			break;
	}
	/* still open: wake at once so the next prepare commits it */
	if (store_in_txn(d->st) && !ev_is_active(&d->again))
		ev_timer_start(loop, &d->again);
	sched_rearm(d->s);
	if (d->quitting && !store_in_txn(d->st) &&
	    ((!ctl_busy(d->ctl) && !http_busy(d->http) &&
	         deliver_inflight(d->dl) == 0) ||
	        d->drain_expired))
		ev_break(loop, EVBREAK_ALL);
}

/* tells the service manager how things stand, for systemctl status */
static void
send_status(struct daemon *d)
{
	struct store_counts n;
	char msg[256], down[64];
	size_t len;

	if (d->st == NULL || store_counts(d->st, util_now(), &n) < 0)
		return;
	snprintf(msg, sizeof(msg),
	    "STATUS=%zu open, %zu overdue, %zu deliveries pending, %lld "
	    "failed",
	    sched_count(d->s), sched_overdue(d->s), deliver_pending(d->dl),
	    (long long)n.deliveries_failed);
	len = strlen(msg);
	if (deliver_channels_down(d->dl, down, sizeof(down)) > 0)
		snprintf(msg + len, sizeof(msg) - len, "; down: %s", down);
	(void)notify_send(msg);
}

static void
status_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_status(w->data);
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* the loop turning is the health being vouched for */
	(void)notify_send("WATCHDOG=1");
}

static void
again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

static void
drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon *d = w->data;

	(void)loop;
	(void)revents;
	d->drain_expired = true;
}

static void
quit_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;

	(void)revents;
	if (d->quitting)
		return;
	log_info("received %s, shutting down", strsignal(w->signum));
	(void)notify_send("STOPPING=1");
	d->quitting = true;
	ctl_shutdown(d->ctl);
	http_shutdown(d->http);
	ev_timer_start(loop, &d->drain);
}

/*
 * The leader's lock is gone and nothing fires here any more.  Exiting
 * (for the service manager to start it again, as a standby) rather than
 * standing by in place: the outbox it held may be taken up by the new
 * leader, and a fresh start holds nothing of it.
 */
static void
lost_cb(void *arg)
{
	struct daemon *d = arg;

	d->lost = true;
	d->drain_expired = true;
	if (!d->quitting) {
		d->quitting = true;
		ctl_shutdown(d->ctl);
		http_shutdown(d->http);
	}
}

static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon *d = w->data;
	struct conf *c = NULL;
	char err[512];
	int r;

	(void)loop;
	(void)revents;
	(void)notify_send("RELOADING=1");
	r = conf_load(&c, d->conf->path, err, sizeof(err));
	if (r < 0) {
		log_warnx("reload: %s; keeping the running configuration", err);
		goto out;
	}
	if (strcmp(c->socket, d->conf->socket) != 0 ||
	    strcmp(c->database, d->conf->database) != 0 ||
	    c->store_postgresql != d->conf->store_postgresql ||
	    (c->http.listen == NULL) != (d->conf->http.listen == NULL) ||
	    (c->http.listen != NULL &&
	        strcmp(c->http.listen, d->conf->http.listen) != 0) ||
	    (c->conninfo && strcmp(c->conninfo, d->conf->conninfo) != 0))
		log_warnx("reload: socket, database, [store] and [http] "
		          "listen changes take effect only at restart");
	if ((r = deliver_reload(d->dl, c)) < 0) {
		/* deliver_reload said which channel and why */
		log_warnx("reload: keeping the running configuration");
		conf_free(c);
		goto out;
	}
	if (store_set_max_size(d->st, c->max_database_size) < 0)
		log_warnx("reload: database size cap: %s", store_errmsg(d->st));
	if (store_set_durability(d->st, c->durability_full) < 0)
		log_warnx("reload: durability: %s", store_errmsg(d->st));
	log_set_level(c->log_level);
	ctl_set_conf(d->ctl, c);
	digest_reload(d->dg, c);
	agenda_reload(d->ag, c);
	conf_free(d->conf);
	d->conf = c;
	log_info("configuration reloaded from %s", c->path);
out:
	/* the running configuration, old or new, is in force again */
	(void)notify_send("READY=1");
	send_status(d);
}

/* says what store_open did to the schema: ops look for the upgrade */
static void
log_schema(const struct store *st)
{
	int from = store_schema_migrated_from(st),
	    to = store_schema_version(st);

	if (from == 0)
		log_info("database created, schema v%d", to);
	else if (from > 0)
		log_info("database schema v%d -> v%d", from, to);
}

/*
 * Raises the soft limit on open files to the hard one: each client holds
 * a descriptor, and a soft limit of 1024 (the usual default) would run
 * out before max_connections did.  The loop polls with epoll, so a
 * descriptor past 1024 is no trouble.  Where raising it is not allowed
 * (a seccomp filter), the limit stays and max_connections is held
 * within it (ctl.c).
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_debug("cannot raise the limit on open files: %s",
		    strerror(errno));
}

/*
 * ".NAME.created" beside the database NAME: written when promised first
 * creates the database, it outlives the database's deletion, so a
 * database that is gone is told from one never made.  A dot file, and
 * not named like the database, so neither "rm promised.db*" nor "rm *"
 * takes it along.  Returns malloc'd string; caller frees.
 */
static char *
marker_path(const char *database)
{
	const char *slash = strrchr(database, '/');
	const char *base = slash != NULL ? slash + 1 : database;
	int dir = slash != NULL ? (int)(slash - database + 1) : 0;
	size_t n = strlen(database) + sizeof("..created");
	char *m = malloc(n);

	if (m != NULL)
		snprintf(m, n, "%.*s.%s.created", dir, database, base);
	return m;
}

static int
write_marker(const char *marker)
{
	char when[32], line[96];
	int fd, r = 0;
	size_t len;

	timefmt_iso_utc(util_now(), when, sizeof(when));
	len = (size_t)snprintf(line, sizeof(line),
	    "a promised database was created beside this file at %s\n", when);
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1)
		return -errno;
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) == -1)
		r = errno != 0 ? -errno : -EIO;
	if (close(fd) == -1 && r == 0)
		r = -errno;
	return r;
}

/*
 * A database once made and now missing was lost (deleted, a volume not
 * mounted): creating an empty one would silently drop every promise that
 * was acknowledged.  That takes --init.  *created tells whether the
 * database is made now, for the marker.
 */
static int
check_database(struct daemon *d, const char *marker, bool *created)
{
	struct stat sb;

	*created = false;
	if (stat(d->conf->database, &sb) == 0)
		return 0;
	if (errno != ENOENT) {
		log_error("database '%s'", d->conf->database);
		return -1;
	}
	if (!d->init && stat(marker, &sb) == 0) {
		log_errorx(
		    "database '%s' is missing, but one was created there "
		    "before ('%s' says when): restore it from a backup, "
		    "or start once with --init to begin an empty one",
		    d->conf->database, marker);
		return -1;
	}
	*created = true;
	return 0;
}

/* opens the database, created only where none was made before; the
 * error is logged */
static int
open_database(struct daemon *d)
{
	char err[512], *marker = marker_path(d->conf->database);
	bool created;
	int r;

	if (marker == NULL) {
		log_errorx("start-up: out of memory");
		return -ENOMEM;
	}
	/* PostgreSQL's data is its administrators' to keep: no marker */
	if (d->conf->store_postgresql) {
		/* the conninfo may hold a password: never logged */
		if ((r = store_open_postgresql(
		         &d->st, d->conf->conninfo, err, sizeof(err))) < 0)
			log_errorx("PostgreSQL store: %s", err);
		else
			log_schema(d->st);
		goto out;
	}
	if ((r = check_database(d, marker, &created)) < 0)
		goto out;
	if ((r = store_open(&d->st, d->conf->database, err, sizeof(err))) < 0) {
		log_errorx("database '%s': %s", d->conf->database, err);
		goto out;
	}
	log_schema(d->st);
	/* also for a database from before the marker existed */
	if ((created || access(marker, F_OK) == -1) &&
	    (r = write_marker(marker)) < 0) {
		/* the database is open and sound: serve, but say that a
		 * later loss of it would go unnoticed */
		log_warnx("cannot write '%s': %s; a database lost later would "
		          "be made again empty",
		    marker, strerror(-r));
		r = 0;
	}
out:
	free(marker);
	return r;
}

/* the directory of path, made if missing; an error names both */
static int
mkdir_for(const char *what, const char *path)
{
	int r;

	if ((r = util_mkdir_parent(path, 0750)) < 0)
		log_errorx("cannot create the directory of the %s '%s': %s",
		    what, path, strerror(-r));
	return r;
}

static int
run(struct daemon *d)
{
	struct sched_outbox ob;
	char err[512];
	uint64_t wd;
	int r, fd;

	log_set_level(d->conf->log_level);
	raise_nofile();
	/* the database, its WAL and the delivery log hold people's
	 * commitments: readable by the service alone */
	umask(077);
	if ((r = mkdir_for("database", d->conf->database)) < 0 ||
	    (r = mkdir_for("socket", d->conf->socket)) < 0 ||
	    (r = mkdir_for("delivery log", d->conf->delivery_log)) < 0)
		return 1;
	d->loop = ev_default_loop(EVFLAG_AUTO);
	if (d->loop == NULL) {
		log_errorx("cannot initialise the event loop");
		return 1;
	}
	/* a socket handed over by systemd's promised.socket, else our own */
	if ((fd = notify_listen_fd()) < -1) {
		log_errorx("socket activation: %s", strerror(-fd));
		return 1;
	}
	if (fd >= 0 &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		log_error("socket activation: fd %d", fd);
		return 1;
	}
	if ((r = ctl_open(&d->ctl, d->loop, d->conf, fd, err, sizeof(err))) <
	    0) {
		log_errorx("%s", r == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	if ((r = open_database(d)) < 0)
		/* a database from a newer promised is not going to open on a
		 * restart either: EX_CONFIG stops Restart=on-failure */
		return r == -EPROTO ? EXIT_CONFIG : 1;
	if ((r = store_set_max_size(d->st, d->conf->max_database_size)) < 0) {
		log_errorx("database size cap: %s", store_errmsg(d->st));
		return 1;
	}
	if ((r = store_set_durability(d->st, d->conf->durability_full)) < 0) {
		log_errorx("durability: %s", store_errmsg(d->st));
		return 1;
	}
	if ((r = sched_open(&d->s, d->loop, d->st)) < 0 ||
	    (r = deliver_open(&d->dl, d->loop, d->st, d->s, d->conf, err,
	         sizeof(err))) < 0) {
		log_errorx(
		    "start-up: %s", r == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	deliver_outbox(d->dl, &ob);
	sched_set_outbox(d->s, &ob);
	/* before loading: a new leader loads what its epoch lets it fire */
	if (d->conf->store_postgresql &&
	    (r = leader_open(&d->ld, d->loop, d->st, d->s, d->dl,
	         (double)d->conf->leader_poll, lost_cb, d)) < 0) {
		log_errorx("start-up: out of memory");
		return 1;
	}
	if ((r = sched_load(d->s)) < 0 ||
	    (d->ld == NULL && (r = deliver_resume(d->dl)) < 0) ||
	    (d->ld != NULL && (r = deliver_adopt_pending(d->dl)) < 0)) {
		log_errorx("loading open promises: %s",
		    r == -ENOMEM ? "out of memory" : store_errmsg(d->st));
		return 1;
	}
	/* after the outbox is loaded: a digest owed since the last run is
	 * written now and goes out with the first commit */
	if ((r = digest_open(&d->dg, d->st, d->s, d->dl, d->conf)) < 0) {
		log_errorx("start-up: out of memory");
		return 1;
	}
	if ((r = agenda_open(&d->ag, d->st, d->s, d->dl, d->conf)) < 0) {
		log_errorx("start-up: out of memory");
		return 1;
	}
	if ((r = fts_catchup_open(&d->fts, d->loop, d->st)) < 0) {
		log_errorx("start-up: out of memory");
		return 1;
	}
	ctl_attach(d->ctl, d->st, d->s, d->dl);
	if ((r = http_open(
	         &d->http, d->loop, ctl_op(d->ctl), err, sizeof(err))) < 0) {
		log_errorx("%s", r == -ENOMEM ? "out of memory" : err);
		return 1;
	}
	ev_prepare_init(&d->prepare, prepare_cb);
	d->prepare.data = d;
	ev_prepare_start(d->loop, &d->prepare);
	ev_signal_init(&d->sigterm, quit_cb, SIGTERM);
	ev_signal_init(&d->sigint, quit_cb, SIGINT);
	ev_signal_init(&d->sighup, hup_cb, SIGHUP);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
	ev_timer_init(&d->again, again_cb, 0., 0.);
	ev_timer_init(&d->drain, drain_cb, DRAIN_SECONDS, 0.);
	d->drain.data = d;
	signal(SIGPIPE, SIG_IGN);
	ev_timer_init(&d->status, status_cb, 30., 30.);
	d->status.data = d;
	ev_timer_start(d->loop, &d->status);
	if ((wd = notify_watchdog_usec()) > 0) {
		/* twice per period, as sd_watchdog_enabled(3) advises */
		ev_timer_init(&d->watchdog, watchdog_cb, 0., (double)wd / 2e6);
		ev_timer_again(d->loop, &d->watchdog);
	}
	/* the database is open, the schedule loaded and the socket listening:
	 * only now is the service ready */
	(void)notify_send("READY=1");
	send_status(d);
	/* the conninfo may hold a password: PostgreSQL is named, not it */
	log_info("promised %s ready: %zu open promises, socket %s, database "
	         "%s, schema v%d",
	    PROMISED_VERSION, sched_count(d->s), d->conf->socket,
	    d->conf->store_postgresql ? "on PostgreSQL" : d->conf->database,
	    store_schema_version(d->st));
	ev_run(d->loop, 0);
	log_info("stopped");
	return d->lost ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'n'},
	    {"init", no_argument, NULL, 'i'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon d;
	const char *path = PROMISED_DEFAULT_CONFIG;
	bool check = false;
	char err[512];
	int ch, rc;

	memset(&d, 0, sizeof(d));
	log_init("promised");
	while ((ch = getopt_long(argc, argv, "c:inVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'i':
			d.init = true;
			break;
		case 'V':
			printf("promised %s\n", PROMISED_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "promised: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	/* before any thread or local time; a failure leaves TZ unset, which
	 * still works while single-threaded, and email refuses to start */
	(void)tz_pin();
	if (conf_load(&d.conf, path, err, sizeof(err)) < 0) {
		/* a service that cannot start says so at error, for the
		 * journal; a check at the terminal gets the bare line */
		if (check)
			fprintf(stderr, "promised: %s\n", err);
		else
			log_errorx("%s", err);
		return EXIT_CONFIG;
	}
	if (check) {
		printf("%s: configuration OK\n", path);
		conf_free(d.conf);
		return 0;
	}
	rc = run(&d);
	/* close in reverse order of use: connections, then the outbox, the
	 * schedule, and last the database, committed and checkpointed */
	d.http = http_close(d.http);
	d.ctl = ctl_close(d.ctl);
	/* outcomes that came back after the last iteration are kept too */
	if (d.dl != NULL && d.st != NULL)
		deliver_before_commit(d.dl);
	if (d.st != NULL && store_in_txn(d.st) && store_commit(d.st) < 0)
		log_errorx("final commit failed: %s", store_errmsg(d.st));
	d.ld = leader_close(d.ld);
	d.fts = fts_catchup_close(d.fts);
	d.ag = agenda_close(d.ag);
	d.dg = digest_close(d.dg);
	d.dl = deliver_close(d.dl);
	d.s = sched_close(d.s);
	d.st = store_close(d.st);
	d.conf = conf_free(d.conf);
	if (d.loop != NULL)
		ev_loop_destroy(d.loop);
	return rc;
}
