/*
 * main.c: promise(1), the command-line client of promised.  One command
 * line becomes one request on the daemon's Unix socket; the single reply
 * line is rendered for people, or passed through untouched with --json.
 * The client never opens the database, as ntpctl never touches ntpd's
 * state: the daemon owns the schedule, so every change must go through it.
 * WHEN is read in the caller's own time zone; only epoch seconds travel.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "calendar.h"
#include "proto.h"
#include "timefmt.h"
#include "util.h"

/* exit statuses are interface: scripts tell "refused" from "not running" */
enum {
	CLI_OK = 0,
	CLI_REFUSED = 1, /* the daemon said no, or we failed locally */
	CLI_USAGE = 2,
	CLI_UNREACHABLE = 3,
};

/* a list reply holds every promise, so it may far exceed a request line */
#define REPLY_MAX (256u * 1024 * 1024)
/*
 * An add is answered only after the commit; a daemon stuck far longer than
 * any commit should take is as good as gone, and a script must not hang.
 */
#define REPLY_TIMEOUT_SECS 60
/* list aims at this many columns, whatever the terminal */
#define TABLE_WIDTH 120
#define TITLE_MIN_WIDTH 20
#define OWNER_MAX_WIDTH 16
#define FOR_MAX_WIDTH 24
#define NUDGE_MAX_SECS (366LL * 86400)
/* deliveries has more columns; the last error takes what is left */
#define DTABLE_WIDTH 140
#define DID_LEN 32 /* a full delivery id */
#define DID_MIN 4  /* the shortest prefix the daemon takes for one */
#define DERROR_MIN_WIDTH 20
/* the daemon's page size when no --limit is given (PROTOCOL.md) */
#define DELIVERIES_DEFAULT_LIMIT 100

#define TIMEBUF 64
#define RELBUF 32

/* long-only options get values outside the char range */
enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_VERSION,
	OPT_DUE,
	OPT_FOR,
	OPT_OWNER,
	OPT_NUDGE,
	OPT_NOTE,
	OPT_STATE,
	OPT_REASON,
	OPT_FAILED,
	OPT_LIMIT,
	OPT_THEN,
	OPT_TOLD,
	OPT_KIND,
	OPT_SINCE,
	OPT_TEAM,
	OPT_CSV,
	OPT_DRY_RUN,
	OPT_GREP,
	OPT_END, /* not an option: one past the last */
};
/* the command options, OPT_DUE onwards, are bits of struct command's mask */
#define OPTBIT(o) (1u << ((o)-OPT_DUE))
_Static_assert(OPT_END - OPT_DUE <= (int)(sizeof(unsigned) * CHAR_BIT),
    "command options must fit struct command's mask");

struct cli {
	const char *socket;
	bool json;
	/* a connection kept for several requests (import's parts), or -1:
	 * each request connects on its own */
	int fd;
};

/* one command line after getopt; strings point into argv */
struct args {
	const char *pos;   /* the single positional argument (TITLE or ID) */
	const char *extra; /* the first surplus positional argument */
	size_t npos;
	const char *due, *forwho, *owner, *nudge, *note, *state, *reason;
	const char *limit, *then, *kind, *since, *team, *grep;
	bool failed, told, csv, dry_run;
};

struct command {
	const char *name;
	const char *arg; /* name of the one positional argument, or NULL */
	unsigned opts;   /* OPTBIT()s of the options it takes beyond globals */
	const char *usage;
	/* returns an exit status, not -errno: failures are reported inside */
	int (*run)(const struct cli *cli, const struct args *a);
};

static const char help_general[] =
    "usage: promise [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "Keeps the follow-ups promised to customers, through promised.\n"
    "\n"
    "commands ('promise COMMAND --help' says more):\n"
    "  add TITLE --due WHEN|--kind NAME [--for WHO] [--owner LOGIN]\n"
    "      [--nudge LIST] [--note TEXT]\n"
    "  list [--state open|overdue|kept|cancelled|all] [--owner LOGIN]\n"
    "      [--for TEXT] [--grep TEXT]\n"
    "  show ID\n"
    "  done ID [--note TEXT] [--then TITLE --due WHEN [--for WHO]]\n"
    "  snooze ID --due WHEN --reason TEXT\n"
    "  cancel ID --reason TEXT [--told-customer]\n"
    "  ack ID\n"
    "  deliveries [--failed] [--state pending|sent|failed|all] [--limit N]\n"
    "  retry DELIVERY\n"
    "  explain ID\n"
    "  import FILE|- [--dry-run]\n"
    "  export [--csv]\n"
    "  status\n"
    "  report [--since 30d] [--owner LOGIN | --team MANAGER] [--csv]\n"
    "  sample N [--since 30d] [--owner LOGIN | --team MANAGER]\n"
    "  digest [--team MANAGER]\n"
    "  backup FILE\n"
    "  metrics\n"
    "\n"
    "options (before or after the command):\n"
    "  --socket PATH  the daemon's socket (default $PROMISE_SOCKET, else\n"
    "                 " PROMISED_DEFAULT_SOCKET ")\n"
    "  --json         print one JSON document, also when a command fails\n"
    "  -h, --help     this text; 'promise COMMAND --help' for one command\n"
    "  --version      print the version\n"
    "\n"
    "WHEN is read in your time zone: '2026-11-27 17:00', '2026-11-27'\n"
    "(17:00), 'tomorrow', 'fri 9:00', '5pm', '+2h', 'in 3d', '@1800000000'.\n"
    "ID is a number, as in 42 or #42.\n"
    "\n"
    "exit status: 0 ok, 1 refused by the daemon, 2 usage error,\n"
    "3 daemon unreachable\n";

static const char usage_add[] =
    "usage: promise add TITLE --due WHEN|--kind NAME [--for WHO]\n"
    "           [--owner LOGIN] [--nudge LIST] [--note TEXT]\n"
    "\n"
    "Records a promise; prints its id and deadline.\n"
    "\n"
    "  --due WHEN     the deadline, in your time zone (see 'promise --help');\n"
    "                 business forms ('in 1 business day', 'in 4 business\n"
    "                 hours', 'eod', 'eow') follow the owner's calendar\n"
    "  --kind NAME    a kind of promise from the daemon's configuration\n"
    "                 (reply, callback, quote...): its deadline, nudges and\n"
    "                 escalation unless given here\n"
    "  --for WHO      the customer or person it is promised to\n"
    "  --owner LOGIN  who is to keep it (default: you)\n"
    "  --nudge LIST   remind this long before the deadline: '24h,1h', or\n"
    "                 'none' (default: the daemon's policy)\n"
    "  --note TEXT    free text kept with the promise\n"
    "  --dry-run      show what would be made and its schedule; make "
    "nothing\n";

static const char usage_list[] =
    "usage: promise list [--state open|overdue|kept|cancelled|all]\n"
    "           [--owner LOGIN] [--for TEXT] [--grep TEXT]\n"
    "\n"
    "Lists promises ordered by due time (default: the open ones).\n"
    "\n"
    "  --state STATE  open, overdue, kept, cancelled or all\n"
    "  --owner LOGIN  only the promises this person is to keep\n"
    "  --for TEXT     only those for a customer whose name has these words\n"
    "                 (or words starting so)\n"
    "  --grep TEXT    only those whose title, customer or note has these\n"
    "                 words\n";

static const char usage_show[] =
    "usage: promise show ID\n"
    "\n"
    "Shows one promise with its full history and the notices sent about\n"
    "it (deliveries, with the short ids 'promise retry' takes).\n";

static const char usage_done[] =
    "usage: promise done ID [--note TEXT] [--then TITLE --due WHEN [--for "
    "WHO]]\n"
    "\n"
    "Marks an open promise kept, and with --then opens the next one for the\n"
    "same owner and customer, linked to it in both histories (after a first\n"
    "order, follow up in two weeks).\n"
    "\n"
    "  --note TEXT   how it was kept\n"
    "  --then TITLE  the follow-up promise\n"
    "  --due WHEN    the follow-up's deadline, in your time zone\n"
    "  --for WHO     the follow-up's customer, if not the same\n";

static const char usage_snooze[] =
    "usage: promise snooze ID --due WHEN --reason TEXT\n"
    "\n"
    "Moves the deadline of an open promise; its nudges move with it.\n"
    "\n"
    "  --due WHEN     the new deadline, in your time zone\n"
    "  --reason TEXT  why it moves (required)\n";

static const char usage_cancel[] =
    "usage: promise cancel ID --reason TEXT [--told-customer]\n"
    "\n"
    "Gives an open promise up.  Say whether the customer was told (\"we're\n"
    "not a fit, here is who could help\"): reports count the endings they\n"
    "never heard about.\n"
    "\n"
    "  --reason TEXT     why (required)\n"
    "  --told-customer   the customer was told\n";

static const char usage_explain[] =
    "usage: promise explain ID\n"
    "\n"
    "Every nudge, due notice and escalation still ahead of a promise: when,\n"
    "in each recipient's time zone, to whom, by which channel, and the rule\n"
    "that made it (lead time, business-hours shift, repeat, chain level).\n"
    "'promise add ... --dry-run' shows the same for a promise not made.\n";

static const char usage_import[] =
    "usage: promise import FILE|- [--dry-run]\n"
    "\n"
    "Adds the promises of a JSON Lines file (- for standard input): one\n"
    "object per line with the fields add takes (title, due_at or due,\n"
    "kind, for, owner, note, nudge); or of a CSV file with a header row,\n"
    "such as 'promise export --csv' writes (its id, created_at,\n"
    "created_by, state, settled_at and snoozes columns are ignored).\n"
    "All of them, or none: every bad line is reported with its number and\n"
    "nothing is added.  At most 10000 promises a file.\n"
    "\n"
    "  --dry-run  check every line, add nothing\n";

static const char usage_export[] =
    "usage: promise export [--csv]\n"
    "\n"
    "Writes every promise you may see, oldest first: JSON Lines (one\n"
    "promise object a line, as --json shows them), or CSV with a header.\n";

static const char usage_report[] =
    "usage: promise report [--since DURATION] [--owner LOGIN | --team "
    "MANAGER] [--csv]\n"
    "\n"
    "Who keeps their word: per owner, over the promises made in the period,\n"
    "how many were kept on time or late, are open or overdue, were\n"
    "cancelled telling the customer or not, or renegotiated (snoozed); the\n"
    "on-time rate (kept on time of those due) and the median and 90th\n"
    "percentile lateness of those kept.  Managers see their team, admins\n"
    "everyone, others themselves.\n"
    "\n"
    "  --since DURATION  the period, back from now (default 30d)\n"
    "  --owner LOGIN     one person only\n"
    "  --team MANAGER    a manager and everyone below them\n"
    "  --csv             comma-separated, with a header line\n";

static const char usage_sample[] =
    "usage: promise sample N [--since DURATION] [--owner LOGIN | --team "
    "MANAGER]\n"
    "\n"
    "N promises settled in the period (default 30d), picked at random, each\n"
    "with its full history: for calling the customer and asking how it "
    "went.\n";

static const char usage_digest[] =
    "usage: promise digest [--team MANAGER]\n"
    "\n"
    "A manager's weekly digest as of now, as promised sends it at [digest]\n"
    "schedule: their team's overdue promises, those due in the coming week,\n"
    "and last week's tally (kept on time, kept late, still open), overall\n"
    "and per owner; and when the next one is sent.  Managers see their own\n"
    "team's and those of the managers below them, admins anyone's.\n"
    "\n"
    "  --team MANAGER  whose team (default: you)\n";

static const char usage_ack[] =
    "usage: promise ack ID\n"
    "\n"
    "Acknowledges an escalation of an open promise: its repeats to you\n"
    "pause for one escalation period.  People further up the chain are\n"
    "still told when their turn comes.\n";

static const char usage_deliveries[] =
    "usage: promise deliveries [--failed] [--state pending|sent|failed|all]\n"
    "           [--limit N]\n"
    "\n"
    "Lists the notices promised has sent or is sending, newest first.\n"
    "Ids are shown as their shortest unique prefix; '--json' has both.\n"
    "\n"
    "  --state STATE  pending, sent, failed or all (default)\n"
    "  --failed       the same as --state failed\n"
    "  --limit N      at most N of them (default 100; 0: no limit)\n";

static const char usage_retry[] =
    "usage: promise retry DELIVERY\n"
    "\n"
    "Sends a failed or pending delivery again now, under the same id.\n"
    "DELIVERY is the id as 'promise deliveries' or 'promise show ID'\n"
    "print it, or any prefix of 4 to 32 hex digits that names one.\n";

static const char usage_status[] =
    "usage: promise status\n"
    "\n"
    "Shows the daemon's version, uptime and counters.\n";

static const char usage_backup[] =
    "usage: promise backup FILE\n"
    "\n"
    "Has promised write a consistent copy of its database to FILE while it\n"
    "goes on serving.  FILE must not exist yet; a relative FILE is taken\n"
    "from the current directory.  The daemon writes the file, mode 0600 and\n"
    "owned by its own user, so the directory must be writable by it.\n";

static const char usage_metrics[] =
    "usage: promise metrics\n"
    "\n"
    "Prints the daemon's metrics in the Prometheus text format, as\n"
    "node_exporter's textfile collector reads them.  Write them to a\n"
    "temporary file and rename it into place, so no half is ever read.\n";

/* every command takes the global options too, so they may follow it */
static const struct option opts_global[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};
/* the options of every command: allowed per command by struct command's
 * mask, so one table serves getopt for all of them */
static const struct option opts_cmd[] = {
    {"due", required_argument, NULL, OPT_DUE},
    {"for", required_argument, NULL, OPT_FOR},
    {"owner", required_argument, NULL, OPT_OWNER},
    {"nudge", required_argument, NULL, OPT_NUDGE},
    {"note", required_argument, NULL, OPT_NOTE},
    {"state", required_argument, NULL, OPT_STATE},
    {"reason", required_argument, NULL, OPT_REASON},
    {"failed", no_argument, NULL, OPT_FAILED},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"then", required_argument, NULL, OPT_THEN},
    {"told-customer", no_argument, NULL, OPT_TOLD},
    {"kind", required_argument, NULL, OPT_KIND},
    {"since", required_argument, NULL, OPT_SINCE},
    {"team", required_argument, NULL, OPT_TEAM},
    {"csv", no_argument, NULL, OPT_CSV},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"grep", required_argument, NULL, OPT_GREP},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* ---- messages --------------------------------------------------------- */

/*
 * --json promises one JSON document on stdout whatever happens, so that a
 * script never has to tell "nothing printed" from "nothing found".  A
 * command either prints its document (json_out.done) or main() prints
 * {"ok":false,...} built from the first message reported on stderr.
 */
static struct {
	bool on, done;
	char msg[512];
} json_out;

/* keeps the first message of a --json run for its closing document */
static void
json_note(const char *fmt, va_list ap)
{
	if (json_out.on && json_out.msg[0] == '\0')
		(void)vsnprintf(json_out.msg, sizeof(json_out.msg), fmt, ap);
}

/* prints o (not consumed) as the run's one JSON document */
static int
json_print(const json_t *o)
{
	if (json_dumpf(o, stdout, JSON_COMPACT) != 0)
		return -EIO;
	fputc('\n', stdout);
	json_out.done = true;
	return 0;
}

/*
 * Writes s to f with what could steer a terminal or turn text around
 * shown as escapes: C0 and C1 controls and DEL as \xHH or \u00HH, bidi
 * and zero-width characters as \uHHHH, bytes that are not UTF-8 as \xHH.
 * For text from the daemon or a file, which anyone may have written.
 */
static void
put_quoted(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp = 0;
	size_t n;

	for (; *p != '\0'; p += n) {
		n = util_utf8_decode(p, &cp);
		if (n == 0) {
			fprintf(f, "\\x%02x", *p);
			n = 1;
		} else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02" PRIx32, cp);
		else if ((cp >= 0x80 && cp < 0xa0) || util_cp_hidden(cp))
			fprintf(f, "\\u%04" PRIx32, cp);
		else
			fwrite(p, 1, n, f);
	}
}

/* "promise: " and fmt's text, quoted, on a line of stderr */
static void
vput_error(const char *fmt, va_list ap)
{
	char buf[1024], *big = NULL;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	if ((n = vsnprintf(buf, sizeof(buf), fmt, ap)) < 0)
		buf[0] = '\0';
	if (n >= (int)sizeof(buf) && (big = malloc((size_t)n + 1)) != NULL)
		(void)vsnprintf(big, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	fputs("promise: ", stderr);
	/* cut at buf's size only if memory ran out */
	put_quoted(stderr, big != NULL ? big : buf);
	free(big);
}

static void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* "promise: ..." on stderr */
static void
errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_error(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	va_start(ap, fmt);
	json_note(fmt, ap);
	va_end(ap);
}

/* reports a usage problem in one line plus the pointer to help */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput_error(fmt, ap);
	va_end(ap);
	fputs("\ntry 'promise --help'\n", stderr);
	va_start(ap, fmt);
	json_note(fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

static int
out_of_memory(void)
{
	errmsg("out of memory");
	return CLI_REFUSED;
}

/* ---- socket ----------------------------------------------------------- */

/* connects to the daemon; 0 and *ret, or -errno */
static int
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
static int
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
static int
request(const struct cli *cli, const json_t *req, json_t **ret)
{
	struct linebuf lb;
	json_error_t jerr;
	json_t *reply = NULL, *ok;
	char *msg = NULL, *line;
	size_t msglen, len;
	int fd = -1, r, status;

	*ret = NULL;
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
		json_out.done = true;
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

/* ---- reading the reply ------------------------------------------------ */

/* integer member k of o, or dflt when missing or not an integer */
static int64_t
jint(const json_t *o, const char *k, int64_t dflt)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

/* string member k of o, or NULL (JSON null, missing, not a string) */
static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* ---- text output ------------------------------------------------------ */

/*
 * Number of columns s takes, counting one per code point: jansson has
 * already checked the UTF-8, and wide scripts are rare enough in titles
 * not to pay for setlocale and wcwidth on every run.
 */
static size_t
text_width(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* true if the len bytes at p are a bidi or zero-width character */
static bool
hidden(const unsigned char *p, size_t len)
{
	unsigned char seq[5] = {0};
	uint32_t cp = 0;

	if (len < 2 || len > 4)
		return false;
	memcpy(seq, p, len);
	return util_utf8_decode(seq, &cp) == len && util_cp_hidden(cp);
}

/*
 * Prints at most max code points of the n bytes at s.  Control characters
 * come out as '?' (whitespace ones as ' ') so a stored string cannot
 * steer the terminal, and so do bidi and zero-width characters, which
 * could make it read as something else.  Returns the number of columns
 * printed.
 */
static size_t
put_text(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + n;
	size_t len, w = 0;

	while (p < end && w < max) {
		for (len = 1; p + len < end && (p[len] & 0xc0) == 0x80; len++)
			;
		if (*p == '\t' || *p == '\n' || *p == '\r')
			putchar(' ');
		else if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && len == 2 && p[1] < 0xa0) || hidden(p, len))
			putchar('?');
		else
			fwrite(p, 1, len, stdout);
		p += len;
		w++;
	}
	return w;
}

static void
put_str(const char *s)
{
	put_text(s, strlen(s), SIZE_MAX);
}

static void
put_spaces(size_t n)
{
	while (n-- > 0)
		putchar(' ');
}

/*
 * Prints s in exactly width columns when pad, at most width otherwise,
 * cutting long text with "...".
 */
static void
put_cell(const char *s, size_t width, bool pad)
{
	size_t n = strlen(s), w = text_width(s, n);

	if (w <= width) {
		put_text(s, n, w);
	} else if (width > 3) {
		w = put_text(s, n, width - 3);
		fputs("...", stdout);
		w += 3;
	} else {
		w = put_text(s, n, width);
	}
	if (pad)
		put_spaces(width - w);
}

static void
put_right(const char *s, size_t width)
{
	size_t w = text_width(s, strlen(s));

	put_spaces(w < width ? width - w : 0);
	put_str(s);
}

/* "Fri 2026-11-27 17:00 CET (in 3d)" */
static void
put_due(int64_t t, int64_t now)
{
	char when[TIMEBUF], rel[RELBUF];

	timefmt_local(t, when, sizeof(when));
	timefmt_relative(t, now, rel, sizeof(rel));
	printf("%s (%s)", when, rel);
}

/* prints a possibly multi-line text, continuation lines indented */
static void
put_indented(const char *s, const char *indent)
{
	const char *nl;

	while ((nl = strchr(s, '\n')) != NULL) {
		put_text(s, (size_t)(nl - s), SIZE_MAX);
		printf("\n%s", indent);
		s = nl + 1;
	}
	put_str(s);
}

/* ---- argument checks -------------------------------------------------- */

/* "42" or "#42", positive; 0 or -EINVAL */
static int
parse_id(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	if (*s == '#')
		s++;
	/* strtoll would take blanks and signs; an id has neither */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
get_id(const struct args *a, int64_t *ret)
{
	if (parse_id(a->pos, ret) < 0)
		return usage_error("'%s' is not a promise id (want a number, "
		                   "as in 42)",
		    a->pos);
	return CLI_OK;
}

/*
 * Parses a --due WHEN in the caller's zone and refuses past and absurdly
 * far times here, where the message can quote what was typed.
 */
static int
parse_due(const char *s, int64_t now, int64_t *ret)
{
	char when[TIMEBUF];
	const char *why;

	if (timefmt_parse(s, now, ret, &why) < 0)
		return usage_error("--due '%s': %s", s, why);
	timefmt_local(*ret, when, sizeof(when));
	if (*ret <= now)
		return usage_error("--due '%s': is in the past (%s)", s, when);
	if (*ret - now > PROTO_MAX_AHEAD)
		return usage_error("--due '%s': is more than 10 years ahead "
		                   "(%s)",
		    s, when);
	return CLI_OK;
}

/* the request must carry valid UTF-8; the daemon judges the rest */
static int
check_text(const char *what, const char *s, bool allow_newline)
{
	if (s != NULL && !util_text_ok(s, allow_newline))
		return usage_error("%s: not UTF-8 text, or has control "
		                   "characters",
		    what);
	return CLI_OK;
}

static int
check_reason(const char *cmd, const struct args *a)
{
	if (a->reason == NULL)
		return usage_error("%s: --reason TEXT is required", cmd);
	if (a->reason[0] == '\0')
		return usage_error("%s: --reason must not be empty", cmd);
	return check_text("--reason", a->reason, true);
}

/* ---- commands --------------------------------------------------------- */

static void show_promise(const json_t *p, int64_t now);
static void show_schedule(const json_t *sched);

/*
 * A deadline for the daemon: "due_at" for what we can parse here, or the
 * text itself ("due") for business-calendar forms ("1 business day",
 * "eod"), which only the daemon can resolve with the owner's calendar.
 * Neither when s is NULL.
 */
static int
due_field(const char *s, int64_t now, int64_t *ret, const char **ret_text)
{
	*ret = 0;
	*ret_text = NULL;
	if (s == NULL)
		return CLI_OK;
	if (calendar_when_is_business(s)) {
		*ret_text = s;
		return check_text("--due", s, false);
	}
	return parse_due(s, now, ret);
}

static int
cmd_add(const struct cli *cli, const struct args *a)
{
	int64_t nudge[PROTO_MAX_NUDGES], due = 0, now = util_now();
	const char *due_text = NULL;
	json_t *req = NULL, *nj = NULL, *reply = NULL, *p;
	int i, n, status;

	if (a->due == NULL && a->kind == NULL) {
		status =
		    usage_error("add: --due WHEN or --kind NAME is required");
		goto out;
	}
	if (a->pos[0] == '\0') {
		status = usage_error("add: TITLE must not be empty");
		goto out;
	}
	if ((status = check_text("TITLE", a->pos, false)) != CLI_OK ||
	    (status = check_text("--for", a->forwho, false)) != CLI_OK ||
	    (status = check_text("--owner", a->owner, false)) != CLI_OK ||
	    (status = check_text("--note", a->note, true)) != CLI_OK ||
	    (status = check_text("--kind", a->kind, false)) != CLI_OK ||
	    (status = due_field(a->due, now, &due, &due_text)) != CLI_OK)
		goto out;
	if (a->nudge != NULL) {
		n = timefmt_parse_duration_list(
		    a->nudge, nudge, PROTO_MAX_NUDGES);
		if (n == -E2BIG) {
			status = usage_error("--nudge '%s': at most %d times",
			    a->nudge, PROTO_MAX_NUDGES);
			goto out;
		}
		if (n < 0) {
			status = usage_error("--nudge '%s': want durations "
			                     "like '24h,1h', or 'none'",
			    a->nudge);
			goto out;
		}
		if ((nj = json_array()) == NULL) {
			status = out_of_memory();
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (nudge[i] < 1 || nudge[i] > NUDGE_MAX_SECS) {
				status = usage_error("--nudge '%s': each must "
				                     "be from 1s to 366d",
				    a->nudge);
				goto out;
			}
			if (json_array_append_new(nj, json_integer(nudge[i])) <
			    0) {
				status = out_of_memory();
				goto out;
			}
		}
	}
	/* "o*" takes nj's reference, also on failure */
	req = json_pack("{s:i,s:s,s:s,s:o*,s:s*,s:s*,s:s*,s:s*,s:s*,s:o*,s:o*}",
	    "v", PROTO_VERSION, "op", "add", "title", a->pos, "due_at",
	    due > 0 ? json_integer(due) : NULL, "due", due_text, "kind",
	    a->kind, "for", a->forwho, "owner", a->owner, "note", a->note,
	    "nudge", nj, "dry_run", a->dry_run ? json_true() : NULL);
	nj = NULL;
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	p = json_object_get(reply, "promise");
	if (a->dry_run) {
		fputs("dry run, nothing added: ", stdout);
		show_promise(p, util_now());
		show_schedule(json_object_get(reply, "schedule"));
		goto out;
	}
	printf("promise %" PRId64 " added: due ", jint(p, "id", 0));
	put_due(jint(p, "due_at", due), util_now());
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	json_decref(nj);
	return status;
}

/* the cells of one list row that are formatted rather than copied */
struct row {
	char id[24];
	char due[TIMEBUF];
	char when[RELBUF];
	const char *owner, *forwho, *title;
};

static void
row_fill(const json_t *p, int64_t now, struct row *r)
{
	const char *state = jstr(p, "state");
	int64_t due = jint(p, "due_at", 0);

	(void)snprintf(r->id, sizeof(r->id), "%" PRId64, jint(p, "id", 0));
	timefmt_local(due, r->due, sizeof(r->due));
	/* a settled promise has no deadline left to count down to */
	if (state != NULL && strcmp(state, "open") != 0)
		(void)snprintf(r->when, sizeof(r->when), "%s", state);
	else
		timefmt_relative(due, now, r->when, sizeof(r->when));
	r->owner = jstr(p, "owner");
	r->forwho = jstr(p, "for");
	r->title = jstr(p, "title");
	if (r->owner == NULL)
		r->owner = "-";
	if (r->forwho == NULL || r->forwho[0] == '\0')
		r->forwho = "-";
	if (r->title == NULL)
		r->title = "";
}

static size_t
max_width(size_t w, const char *s, size_t cap)
{
	size_t n = text_width(s, strlen(s));

	if (n > cap)
		n = cap;
	return n > w ? n : w;
}

static int
cmd_list(const struct cli *cli, const struct args *a)
{
	static const char *const states[] = {
	    "open", "overdue", "kept", "cancelled", "all"};
	size_t i, n, wid = 2, wdue = 3, wwhen = 4, wown = 5, wfor = 3, wtitle;
	json_t *req = NULL, *reply = NULL, *arr;
	int64_t now;
	struct row r;
	int status;

	if (a->state != NULL) {
		for (i = 0; i < ARRAY_SIZE(states); i++)
			if (strcmp(a->state, states[i]) == 0)
				break;
		if (i == ARRAY_SIZE(states)) {
			status = usage_error("--state '%s': want open, "
			                     "overdue, kept, cancelled or all",
			    a->state);
			goto out;
		}
	}
	if ((status = check_text("--owner", a->owner, false)) != CLI_OK ||
	    (status = check_text("--for", a->forwho, false)) != CLI_OK ||
	    (status = check_text("--grep", a->grep, false)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:s*,s:s*,s:s*,s:s*}", "v", PROTO_VERSION,
	    "op", "list", "state", a->state, "owner", a->owner, "for",
	    a->forwho, "grep", a->grep);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	arr = json_object_get(reply, "promises");
	n = json_array_size(arr);
	if (n == 0) {
		if (a->state == NULL || strcmp(a->state, "all") != 0)
			printf("no %s promises",
			    a->state != NULL ? a->state : "open");
		else
			printf("no promises");
		if (a->owner != NULL) {
			printf(" for ");
			put_str(a->owner);
		}
		putchar('\n');
		goto out;
	}
	now = util_now();
	/* two passes, formatting twice, so no row needs to be kept */
	for (i = 0; i < n; i++) {
		row_fill(json_array_get(arr, i), now, &r);
		wid = max_width(wid, r.id, SIZE_MAX);
		wdue = max_width(wdue, r.due, SIZE_MAX);
		wwhen = max_width(wwhen, r.when, SIZE_MAX);
		wown = max_width(wown, r.owner, OWNER_MAX_WIDTH);
		wfor = max_width(wfor, r.forwho, FOR_MAX_WIDTH);
	}
	/* five two-space gaps between six columns */
	i = wid + wdue + wwhen + wown + wfor + 5 * 2;
	wtitle = i + TITLE_MIN_WIDTH < TABLE_WIDTH ? TABLE_WIDTH - i
	                                           : TITLE_MIN_WIDTH;
	put_right("ID", wid);
	fputs("  ", stdout);
	put_cell("DUE", wdue, true);
	fputs("  ", stdout);
	put_cell("WHEN", wwhen, true);
	fputs("  ", stdout);
	put_cell("OWNER", wown, true);
	fputs("  ", stdout);
	put_cell("FOR", wfor, true);
	fputs("  TITLE\n", stdout);
	for (i = 0; i < n; i++) {
		row_fill(json_array_get(arr, i), now, &r);
		put_right(r.id, wid);
		fputs("  ", stdout);
		put_cell(r.due, wdue, true);
		fputs("  ", stdout);
		put_cell(r.when, wwhen, true);
		fputs("  ", stdout);
		put_cell(r.owner, wown, true);
		fputs("  ", stdout);
		put_cell(r.forwho, wfor, true);
		fputs("  ", stdout);
		put_cell(r.title, wtitle, false);
		putchar('\n');
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* "promise.due" is "due": every event of the outbox has the prefix */
static const char *
event_name(const char *s)
{
	static const char prefix[] = "promise.";

	if (s == NULL)
		return "?";
	if (strncmp(s, prefix, sizeof(prefix) - 1) == 0 &&
	    s[sizeof(prefix) - 1] != '\0')
		return s + sizeof(prefix) - 1;
	return s;
}

/*
 * Prints the recipients of an event's "deliveries" list: "dan by email,
 * bob by webhook", or without the channels "dan, bob".
 */
static void
put_recipients(const json_t *list, bool channels)
{
	const json_t *dl;
	const char *s;
	size_t i, n = json_array_size(list);

	if (n == 0) {
		fputs("nobody", stdout);
		return;
	}
	for (i = 0; i < n; i++) {
		dl = json_array_get(list, i);
		if (i > 0)
			fputs(", ", stdout);
		put_str((s = jstr(dl, "to")) != NULL ? s : "?");
		if (channels && (s = jstr(dl, "channel")) != NULL) {
			fputs(" by ", stdout);
			put_str(s);
		}
		if (json_is_integer(json_object_get(dl, "held_until")))
			fputs(" (held for their business hours)", stdout);
	}
}

/* ", 3s late" from an event's late_ms, when a second or more */
static void
put_late(const json_t *d)
{
	char dur[32];
	int64_t late = jint(d, "late_ms", 0) / 1000;

	if (late > 0) {
		timefmt_duration(late, dur, sizeof(dur));
		printf(", %s late", dur);
	}
}

/* a short rendering of one event's detail, after its kind */
static void
put_detail(const char *kind, const json_t *d)
{
	char when[TIMEBUF], dur[32], *text;
	const char *s;
	json_t *v, *list;
	int64_t late;

	if (!json_is_object(d) || json_object_size(d) == 0)
		return;
	list = json_object_get(d, "deliveries");
	if (strcmp(kind, "created") == 0 &&
	    json_is_integer(json_object_get(d, "due_at"))) {
		timefmt_local(jint(d, "due_at", 0), when, sizeof(when));
		printf("due %s", when);
		if (json_is_integer(json_object_get(d, "follows")))
			printf(", follows promise %" PRId64,
			    jint(d, "follows", 0));
	} else if (strcmp(kind, "snoozed") == 0) {
		timefmt_local(jint(d, "from", 0), when, sizeof(when));
		printf("from %s", when);
		timefmt_local(jint(d, "to", 0), when, sizeof(when));
		printf(" to %s", when);
		if ((s = jstr(d, "reason")) != NULL) {
			fputs(", reason: ", stdout);
			put_str(s);
		}
	} else if (strcmp(kind, "cancelled") == 0 &&
	    (s = jstr(d, "reason")) != NULL) {
		fputs("reason: ", stdout);
		put_str(s);
		if (json_is_true(json_object_get(d, "told_customer")))
			fputs(" (customer told)", stdout);
		else if (json_is_false(json_object_get(d, "told_customer")))
			fputs(" (customer not told)", stdout);
	} else if (strcmp(kind, "kept") == 0) {
		late = jint(d, "late_by", 0);
		if (late > 0) {
			timefmt_duration(late, dur, sizeof(dur));
			printf("%s late", dur);
		} else {
			fputs("on time", stdout);
		}
		if ((s = jstr(d, "note")) != NULL) {
			fputs(", note: ", stdout);
			put_str(s);
		}
		if (json_is_integer(json_object_get(d, "then")))
			printf(", followed by promise %" PRId64,
			    jint(d, "then", 0));
	} else if (strcmp(kind, "acked") == 0 &&
	    json_is_integer(json_object_get(d, "until"))) {
		timefmt_local(jint(d, "until", 0), when, sizeof(when));
		printf("until %s", when);
	} else if (strcmp(kind, "resolved") == 0 && json_is_array(list)) {
		fputs("notified ", stdout);
		put_recipients(list, false);
	} else if (strcmp(kind, "undeliverable") == 0 &&
	    (s = jstr(d, "delivery")) != NULL) {
		/* the full id is in the deliveries section below */
		fputs("delivery ", stdout);
		put_text(s, strlen(s), 8);
		if ((s = jstr(d, "error")) != NULL) {
			fputs(": ", stdout);
			put_str(s);
		}
		if (json_array_size(list) > 0) {
			fputs("; told ", stdout);
			put_recipients(list, true);
		}
	} else if (strcmp(kind, "refused") == 0 &&
	    (s = jstr(d, "op")) != NULL) {
		/* a stranger's repeats are counted in one event a day */
		put_str(s);
		if (jint(d, "count", 1) > 1) {
			timefmt_local(
			    jint(d, "last_at", 0), when, sizeof(when));
			printf(", %" PRId64 " times, last %s",
			    jint(d, "count", 1), when);
		}
	} else if (json_is_array(list)) {
		/* nudge, due and escalation */
		fputs("to ", stdout);
		put_recipients(list, true);
		if (json_is_integer(json_object_get(d, "repeat")))
			printf(", repeat %" PRId64, jint(d, "repeat", 0));
		put_late(d);
	} else if ((v = json_object_get(d, "delivery")) != NULL) {
		/* history written before deliveries became a list */
		fputs("delivery ", stdout);
		if (json_is_string(v))
			put_str(json_string_value(v));
		else
			printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (json_is_integer(json_object_get(d, "level")))
			printf(", level %" PRId64, jint(d, "level", 0));
		put_late(d);
	} else if ((text = json_dumps(d, JSON_COMPACT)) != NULL) {
		/* a kind this client does not know yet: show it raw */
		put_str(text);
		free(text);
	}
}

static void
show_promise(const json_t *p, int64_t now)
{
	static const char indent[] = "            ";
	char when[TIMEBUF], dur[32];
	const char *state = jstr(p, "state"), *s;
	json_t *nudge;
	size_t i, n;
	int64_t t;

	printf("promise %" PRId64 ": ", jint(p, "id", 0));
	put_str((s = jstr(p, "title")) != NULL ? s : "");
	if (state == NULL)
		state = "?";
	printf("\nstate:      %s", state);
	if (json_is_true(json_object_get(p, "overdue")))
		fputs(", overdue", stdout);
	fputs("\ndue:        ", stdout);
	t = jint(p, "due_at", 0);
	if (strcmp(state, "open") == 0) {
		put_due(t, now);
	} else {
		timefmt_local(t, when, sizeof(when));
		fputs(when, stdout);
	}
	if ((t = jint(p, "settled_at", 0)) != 0) {
		timefmt_local(t, when, sizeof(when));
		printf("\nsettled:    %s", when);
	}
	if ((s = jstr(p, "for")) != NULL && s[0] != '\0') {
		fputs("\nfor:        ", stdout);
		put_str(s);
	}
	fputs("\nowner:      ", stdout);
	put_str((s = jstr(p, "owner")) != NULL ? s : "-");
	/* the [kind] gave its deadline, nudges and escalation */
	if ((s = jstr(p, "kind")) != NULL && s[0] != '\0') {
		fputs("\nkind:       ", stdout);
		put_str(s);
	}
	timefmt_local(jint(p, "created_at", 0), when, sizeof(when));
	printf("\ncreated:    %s by ", when);
	put_str((s = jstr(p, "created_by")) != NULL ? s : "-");
	nudge = json_object_get(p, "nudge");
	if (json_is_array(nudge)) {
		fputs("\nnudges:     ", stdout);
		n = json_array_size(nudge);
		for (i = 0; i < n; i++) {
			timefmt_duration((int64_t)json_integer_value(
			                     json_array_get(nudge, i)),
			    dur, sizeof(dur));
			printf("%s%s", i > 0 ? ", " : "", dur);
		}
		fputs(n > 0 ? " before" : "none", stdout);
	}
	/* escalation starts at due + escalate_after, so 0 means at once */
	if ((t = jint(p, "escalate_after", -1)) == 0) {
		fputs("\nescalates:  at the deadline", stdout);
	} else if (t > 0) {
		timefmt_duration(t, dur, sizeof(dur));
		printf("\nescalates:  %s after the deadline", dur);
	}
	if ((t = jint(p, "snoozes", 0)) > 0)
		printf(
		    "\nsnoozed:    %" PRId64 " time%s", t, t == 1 ? "" : "s");
	if ((s = jstr(p, "note")) != NULL) {
		fputs("\nnote:       ", stdout);
		put_indented(s, indent);
	}
	putchar('\n');
}

static void
show_history(const json_t *events)
{
	size_t i, n = json_array_size(events), wactor = 5, wkind = 4;
	char when[TIMEBUF];
	const char *s;
	json_t *e, *d;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		e = json_array_get(events, i);
		if ((s = jstr(e, "actor")) != NULL)
			wactor = max_width(wactor, s, SIZE_MAX);
		if ((s = jstr(e, "kind")) != NULL)
			wkind = max_width(wkind, s, SIZE_MAX);
	}
	fputs("\nhistory:\n", stdout);
	for (i = 0; i < n; i++) {
		e = json_array_get(events, i);
		timefmt_local(jint(e, "at", 0), when, sizeof(when));
		printf("  %s  ", when);
		put_cell(
		    (s = jstr(e, "actor")) != NULL ? s : "-", wactor, true);
		fputs("  ", stdout);
		s = jstr(e, "kind");
		d = json_object_get(e, "detail");
		/* no padding before an empty detail: no trailing blanks */
		if (!json_is_object(d) || json_object_size(d) == 0) {
			put_str(s != NULL ? s : "?");
		} else {
			put_cell(s != NULL ? s : "?", wkind, true);
			fputs("  ", stdout);
			put_detail(s != NULL ? s : "", d);
		}
		putchar('\n');
	}
}

/* a delivery's id as people see it: the daemon's shortest unique prefix,
 * which retry takes (the full id is in --json) */
static const char *
delivery_id(const json_t *dl)
{
	const char *s = jstr(dl, "short");

	if (s == NULL)
		s = jstr(dl, "delivery");
	return s != NULL ? s : "?";
}

/* "sent Tue 2026-11-24 09:00 CET", "next Tue ... (in 4m)", or "" */
static void
delivery_when(const json_t *dl, int64_t now, bool label, char *buf, size_t len)
{
	char when[TIMEBUF], rel[RELBUF];
	const char *state = jstr(dl, "state");
	int64_t t;

	buf[0] = '\0';
	if (state == NULL)
		return;
	if (strcmp(state, "sent") == 0 &&
	    json_is_integer(json_object_get(dl, "sent_at"))) {
		timefmt_local(jint(dl, "sent_at", 0), when, sizeof(when));
		(void)snprintf(buf, len, "%s%s", label ? "sent " : "", when);
	} else if (strcmp(state, "pending") == 0 &&
	    json_is_integer(json_object_get(dl, "next_attempt_at"))) {
		t = jint(dl, "next_attempt_at", 0);
		timefmt_local(t, when, sizeof(when));
		/* a pending delivery past its time is being sent, not late */
		if (t > now)
			timefmt_relative(t, now, rel, sizeof(rel));
		else
			(void)snprintf(rel, sizeof(rel), "now");
		(void)snprintf(
		    buf, len, "%s%s (%s)", label ? "next " : "", when, rel);
	}
}

/* "1 attempt", "3 attempts" */
static void
delivery_attempts(const json_t *dl, char *buf, size_t len)
{
	int64_t n = jint(dl, "attempts", 0);

	(void)snprintf(buf, len, "%" PRId64 " attempt%s", n, n == 1 ? "" : "s");
}

/* the deliveries section of show: one line each, the error below it */
static void
show_deliveries(const json_t *dels, int64_t now)
{
	size_t i, n = json_array_size(dels), wid = 0, wev = 0, wto = 0;
	size_t wch = 0, wst = 0, wat = 0;
	char tail[TIMEBUF + RELBUF + 16], att[32];
	const char *s;
	json_t *dl;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		dl = json_array_get(dels, i);
		delivery_attempts(dl, att, sizeof(att));
		wid = max_width(wid, delivery_id(dl), SIZE_MAX);
		wev = max_width(wev, event_name(jstr(dl, "event")), SIZE_MAX);
		wto = max_width(
		    wto, (s = jstr(dl, "recipient")) ? s : "?", SIZE_MAX);
		wch = max_width(
		    wch, (s = jstr(dl, "channel")) ? s : "?", SIZE_MAX);
		wst =
		    max_width(wst, (s = jstr(dl, "state")) ? s : "?", SIZE_MAX);
		wat = max_width(wat, att, SIZE_MAX);
	}
	fputs("\ndeliveries:\n", stdout);
	for (i = 0; i < n; i++) {
		dl = json_array_get(dels, i);
		delivery_attempts(dl, att, sizeof(att));
		delivery_when(dl, now, true, tail, sizeof(tail));
		fputs("  ", stdout);
		put_cell(delivery_id(dl), wid, true);
		fputs("  ", stdout);
		put_cell(event_name(jstr(dl, "event")), wev, true);
		fputs("  ", stdout);
		put_cell((s = jstr(dl, "recipient")) ? s : "?", wto, true);
		fputs("  ", stdout);
		put_cell((s = jstr(dl, "channel")) ? s : "?", wch, true);
		fputs("  ", stdout);
		put_cell((s = jstr(dl, "state")) ? s : "?", wst, true);
		fputs("  ", stdout);
		/* no padding before an empty tail: no trailing blanks */
		put_cell(att, wat, tail[0] != '\0');
		if (tail[0] != '\0') {
			fputs("  ", stdout);
			put_str(tail);
		}
		putchar('\n');
		if ((s = jstr(dl, "last_error")) != NULL && s[0] != '\0') {
			fputs("      last error: ", stdout);
			put_str(s);
			putchar('\n');
		}
	}
}

/* the schedule of explain and add --dry-run, one line per recipient */
static void
show_schedule(const json_t *sched)
{
	const json_t *st, *to;
	const char *local;
	char when[TIMEBUF];
	size_t i, k;

	puts("schedule:");
	if (json_array_size(sched) == 0)
		puts("  nothing ahead");
	json_array_foreach(sched, i, st)
	{
		json_array_foreach(json_object_get(st, "to"), k, to)
		{
			if ((local = jstr(to, "local")) == NULL) {
				timefmt_local(
				    jint(st, "at", 0), when, sizeof(when));
				local = when;
			}
			printf("  %-28s %-10s ", local, jstr(st, "kind"));
			put_str(jstr(to, "to"));
			printf(" by %s", jstr(to, "channel"));
			if (json_is_integer(json_object_get(to, "level")))
				printf(" (level %" PRId64 ")",
				    jint(to, "level", 0));
			fputs(": ", stdout);
			put_str(jstr(st, "rule"));
			if (json_is_integer(json_object_get(to, "held_until")))
				fputs(
				    "; held for their business hours", stdout);
			putchar('\n');
		}
	}
}

static int
cmd_explain(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op", "explain",
	    "id", (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	show_promise(json_object_get(reply, "promise"), util_now());
	show_schedule(json_object_get(reply, "schedule"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/*
 * "promise: line N: MSG" on stderr, and {"line":N,"message":MSG} kept in
 * bad for --json; 0 or -ENOMEM
 */
static int
import_bad(json_t *bad, size_t line, const char *msg)
{
	fprintf(stderr, "promise: line %zu: ", line);
	put_quoted(stderr, msg);
	fputc('\n', stderr);
	return json_array_append_new(bad,
	           json_pack("{s:I,s:s}", "line", (json_int_t)line, "message",
	               msg)) == 0
	    ? 0
	    : -ENOMEM;
}

/* each of a dry run's errors as import_bad; item k is on lines[k] */
static int
put_import_errors(
    json_t *bad, const json_t *errors, const size_t *lines, size_t n_items)
{
	const json_t *e;
	const char *msg;
	size_t i;
	json_int_t k;

	json_array_foreach(errors, i, e)
	{
		k = json_integer_value(json_object_get(e, "item"));
		msg = json_string_value(json_object_get(e, "message"));
		if (import_bad(bad,
		        k >= 0 && (size_t)k < n_items ? lines[(size_t)k] : 0,
		        msg != NULL ? msg : "invalid") < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The --json document of an import that stops before adding anything: a
 * dry run's verdict, or the refusal naming every bad line.
 */
static int
import_json(const json_t *bad, size_t valid, bool dry, const char *why)
{
	json_t *o;
	int r;

	if (why != NULL)
		o = json_pack("{s:b,s:{s:s,s:s},s:O}", "ok", 0, "error", "code",
		    "invalid", "message", why, "errors", bad);
	else
		o = json_pack("{s:b,s:b,s:I,s:O}", "ok", 1, "dry_run", dry,
		    "valid", (json_int_t)valid, "errors", bad);
	r = o != NULL ? json_print(o) : -ENOMEM;
	json_decref(o);
	return r;
}

/* room in one request for an import part's promises, past its envelope */
#define IMPORT_PART_BYTES (PROTO_MAX_LINE - 256)

/* one request of an import: a part with more to come, or the last */
static int
import_part(
    const struct cli *cli, json_t *part, bool more, bool dry, json_t **ret)
{
	json_t *req;
	int status;

	req = json_pack("{s:i,s:s,s:O}", "v", PROTO_VERSION, "op", "import",
	    "promises", part);
	if (req == NULL ||
	    (more && json_object_set_new(req, "more", json_true()) < 0) ||
	    (dry && json_object_set_new(req, "dry_run", json_true()) < 0))
		status = out_of_memory();
	else
		status = request(cli, req, ret);
	json_decref(req);
	return status;
}

/*
 * Sends items (sizes[i]: item i's bytes in a request) as one import, on
 * one connection, in parts that each fit a request: the daemon holds the
 * parts until the last, then checks (dry) or adds them all as one.  Only
 * the last reply is printed (--json) or returned in *ret.
 */
static int
import_send(const struct cli *cli, const json_t *items, const size_t *sizes,
    bool dry, json_t **ret)
{
	struct cli one = *cli;
	json_t *part = json_array(), *reply = NULL;
	size_t i, bytes = 0;
	int r, status = CLI_OK;

	*ret = NULL;
	one.json = false;
	if (part == NULL) {
		status = out_of_memory();
		goto out;
	}
	if ((r = sock_connect(cli->socket, &one.fd)) < 0) {
		status = unreachable(cli->socket, r);
		goto out;
	}
	for (i = 0; i < json_array_size(items); i++) {
		if (json_array_size(part) > 0 &&
		    bytes + sizes[i] > IMPORT_PART_BYTES) {
			if ((status = import_part(
			         &one, part, true, false, &reply)) != CLI_OK)
				goto out;
			json_decref(reply);
			reply = NULL;
			json_array_clear(part);
			bytes = 0;
		}
		if (json_array_append(part, json_array_get(items, i)) < 0) {
			status = out_of_memory();
			goto out;
		}
		bytes += sizes[i] + 1;
	}
	one.json = cli->json && !dry;
	status = import_part(&one, part, false, dry, ret);
out:
	if (one.fd >= 0)
		close(one.fd);
	json_decref(reply);
	json_decref(part);
	return status;
}

/* what an import file has given so far; item k came from line lines[k] */
struct import_in {
	json_t *items; /* the promise objects to send */
	json_t *bad;   /* {"line":N,"message":TEXT} found by the client */
	size_t *lines, *sizes;
	size_t lineno;
};

/* adds promise o (consumed) from line, or notes why it cannot be sent */
static int
import_item(struct import_in *in, json_t *o, size_t line)
{
	size_t n = json_array_size(in->items), size;

	size = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (size > IMPORT_PART_BYTES) {
		json_decref(o);
		return import_bad(
		    in->bad, line, "longer than a request may be (64 KiB)");
	}
	if (n == PROTO_IMPORT_MAX) {
		json_decref(o);
		errmsg("import: more than %d promises; split the file",
		    PROTO_IMPORT_MAX);
		return -E2BIG;
	}
	in->lines[n] = line;
	in->sizes[n] = size;
	return json_array_append_new(in->items, o) == 0 ? 0 : -ENOMEM;
}

/* a JSON Lines file, whose first non-blank line is first */
static int
import_jsonl(struct import_in *in, FILE *f, char **line, size_t *cap)
{
	json_error_t jerr;
	json_t *o;
	int r;

	/* lines that are not JSON objects never reach the daemon: they are
	 * reported here, by number, with what the daemon finds in the rest */
	for (;;) {
		if ((*line)[strspn(*line, " \t\r\n")] != '\0') {
			o = json_loads(*line, JSON_REJECT_DUPLICATES, &jerr);
			if (!json_is_object(o)) {
				r = import_bad(in->bad, in->lineno,
				    o == NULL ? jerr.text
				              : "not a JSON object");
				json_decref(o);
			} else
				r = import_item(in, o, in->lineno);
			if (r < 0)
				return r;
		}
		if (getline(line, cap, f) == -1)
			return 0;
		in->lineno++;
	}
}

/*
 * The fields of one CSV record in rec[0..n) (RFC 4180: "" is a quote
 * inside a quoted field, which may hold commas and line breaks) appended
 * to fields as strings; 0, -EINVAL with *why, or -ENOMEM.
 */
static int
csv_fields(const char *rec, size_t n, json_t *fields, const char **why)
{
	const char *p = rec, *end = rec + n;
	char *cell = NULL;
	size_t len;
	bool quoted;
	int r = -ENOMEM;

	/* a cell is never longer than its record */
	if ((cell = malloc(n + 1)) == NULL)
		goto out;
	for (;;) {
		len = 0;
		quoted = p < end && *p == '"';
		if (quoted) {
			for (p++;; p++) {
				if (p == end) {
					*why = "a quoted field is not closed";
					r = -EINVAL;
					goto out;
				}
				if (*p == '"' && (p + 1 == end || p[1] != '"'))
					break;
				if (*p == '"')
					p++;
				cell[len++] = *p;
			}
			p++;
		} else
			while (p < end && *p != ',') {
				if (*p == '"') {
					*why = "a quote inside an unquoted "
					       "field";
					r = -EINVAL;
					goto out;
				}
				cell[len++] = *p++;
			}
		if (p < end && *p != ',') {
			*why = "text after a quoted field";
			r = -EINVAL;
			goto out;
		}
		if (json_array_append_new(
		        fields, json_stringn_nocheck(cell, len)) < 0)
			goto out;
		if (p == end)
			break;
		p++;
	}
	r = 0;
out:
	free(cell);
	return r;
}

/*
 * The next CSV record from f into *rec (malloc'd, owned by the caller,
 * line break stripped): lines are joined while a quote is open.  1 with a
 * record, 0 at the end, or -errno.
 */
static int
csv_record(struct import_in *in, FILE *f, char **line, size_t *cap, char **rec,
    size_t *len)
{
	size_t quotes = 0, n, i;
	ssize_t got;
	char *grown;

	*len = 0;
	do {
		if ((got = getline(line, cap, f)) == -1)
			return *len > 0 ? -EINVAL : 0;
		in->lineno++;
		n = (size_t)got;
		for (i = 0; i < n; i++)
			quotes += (*line)[i] == '"';
		if ((grown = realloc(*rec, *len + n + 1)) == NULL)
			return -ENOMEM;
		*rec = grown;
		memcpy(*rec + *len, *line, n);
		*len += n;
	} while (quotes % 2 != 0);
	while (
	    *len > 0 && ((*rec)[*len - 1] == '\n' || (*rec)[*len - 1] == '\r'))
		(*len)--;
	(*rec)[*len] = '\0';
	return 1;
}

/* the export's columns that describe a promise's past, not a new one */
static const char *const csv_ignored[] = {
    "id", "created_at", "created_by", "state", "settled_at", "snoozes"};
/* the columns that are fields of add, under the same names */
static const char *const csv_fields_add[] = {
    "title", "owner", "for", "note", "kind", "nudge", "due", "due_at"};

static bool
name_in(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* checks a CSV header: every column known, title among them */
static int
csv_header(const json_t *head, size_t line)
{
	const json_t *v;
	const char *s;
	size_t i;
	bool title = false;

	json_array_foreach(head, i, v)
	{
		s = json_string_value(v);
		title = title || strcmp(s, "title") == 0;
		if (!name_in(s, csv_ignored, ARRAY_SIZE(csv_ignored)) &&
		    !name_in(s, csv_fields_add, ARRAY_SIZE(csv_fields_add))) {
			errmsg(
			    "import: line %zu: unknown column '%s'", line, s);
			return -EINVAL;
		}
	}
	if (!title) {
		errmsg(
		    "import: line %zu: the header has no 'title' column", line);
		return -EINVAL;
	}
	return 0;
}

/* cells a spreadsheet would take for a formula start with one of these
 * (OWASP, CSV injection); export writes a ' before them, and before a
 * leading ' too, so import can tell that guard from the text */
#define CSV_FORMULA "=+-@\t\r'"

/*
 * One CSV row as the object add takes: empty cells are left out, an
 * all-digit due_at is the epoch second export writes and any other is a
 * WHEN for the daemon, as "due".  NULL when out of memory.
 */
static json_t *
csv_object(const json_t *head, const json_t *row)
{
	json_t *o = json_object(), *v;
	const char *name, *cell;
	long long t;
	char *end;
	size_t i;

	if (o == NULL)
		return NULL;
	json_array_foreach(head, i, v)
	{
		name = json_string_value(v);
		cell = json_string_value(json_array_get(row, i));
		if (cell[0] == '\0' ||
		    !name_in(name, csv_fields_add, ARRAY_SIZE(csv_fields_add)))
			continue;
		/* a spreadsheet's guard against formulas is not part of it */
		if (cell[0] == '\'' && cell[1] != '\0' &&
		    strchr(CSV_FORMULA, cell[1]) != NULL)
			cell++;
		if (strcmp(name, "due_at") == 0) {
			errno = 0;
			t = strtoll(cell, &end, 10);
			if (errno == 0 && *end == '\0' && cell[0] >= '0' &&
			    cell[0] <= '9')
				v = json_integer(t);
			else {
				v = json_string(cell);
				name = "due";
			}
		} else
			v = json_string(cell);
		if (json_object_set_new(o, name, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* a CSV file with a header row, the export's columns or add's fields */
static int
import_csv(struct import_in *in, FILE *f, char **line, size_t *cap)
{
	json_t *head = json_array(), *row = NULL, *o;
	const char *why = NULL;
	char *rec = NULL;
	size_t len, start;
	int r = -ENOMEM;

	if (head == NULL)
		goto out;
	/* the header: the first line, already read */
	len = strcspn(*line, "\r\n");
	if ((r = csv_fields(*line, len, head, &why)) < 0) {
		if (r == -EINVAL)
			errmsg("import: line %zu: %s", in->lineno, why);
		goto out;
	}
	if ((r = csv_header(head, in->lineno)) < 0)
		goto out;
	for (;;) {
		start = in->lineno + 1;
		if ((r = csv_record(in, f, line, cap, &rec, &len)) <= 0) {
			if (r == -EINVAL)
				r = import_bad(in->bad, start,
				    "a quoted field is not closed");
			break;
		}
		if (len == 0)
			continue;
		json_decref(row);
		if ((row = json_array()) == NULL) {
			r = -ENOMEM;
			break;
		}
		r = csv_fields(rec, len, row, &why);
		if (r == -EINVAL)
			r = import_bad(in->bad, start, why);
		else if (r == 0 &&
		    json_array_size(row) != json_array_size(head))
			r = import_bad(in->bad, start,
			    "not as many fields as the header has columns");
		else if (r == 0)
			r = (o = csv_object(head, row)) != NULL
			    ? import_item(in, o, start)
			    : -ENOMEM;
		if (r < 0)
			break;
	}
out:
	free(rec);
	json_decref(row);
	json_decref(head);
	return r;
}

/* the end of an import with bad lines, on stderr and as --json */
static void
import_refused(const struct cli *cli, const json_t *bad, bool dry)
{
	char why[96];
	size_t n = json_array_size(bad);

	(void)snprintf(why, sizeof(why),
	    "import: %zu bad line%s; nothing was imported", n,
	    n == 1 ? "" : "s");
	errmsg("%s", why);
	if (cli->json)
		(void)import_json(bad, 0, dry, why);
}

static int
cmd_import(const struct cli *cli, const struct args *a)
{
	struct import_in in = {NULL, NULL, NULL, NULL, 0};
	FILE *f = NULL;
	json_t *reply = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int status = CLI_REFUSED, r;

	f = strcmp(a->pos, "-") == 0 ? stdin : fopen(a->pos, "r");
	if (f == NULL) {
		errmsg("import: %s: %s", a->pos, strerror(errno));
		status = CLI_USAGE;
		goto out;
	}
	if ((in.items = json_array()) == NULL ||
	    (in.bad = json_array()) == NULL ||
	    (in.lines = calloc(PROTO_IMPORT_MAX, sizeof(*in.lines))) == NULL ||
	    (in.sizes = calloc(PROTO_IMPORT_MAX, sizeof(*in.sizes))) == NULL) {
		status = out_of_memory();
		goto out;
	}
	/* the first line that is not blank tells the format: a JSON object
	 * starts with a brace, a CSV header with a column name */
	while ((len = getline(&line, &cap, f)) != -1) {
		in.lineno++;
		if (line[strspn(line, " \t\r\n")] != '\0')
			break;
	}
	r = 0;
	if (len != -1)
		r = line[strspn(line, " \t")] == '{'
		    ? import_jsonl(&in, f, &line, &cap)
		    : import_csv(&in, f, &line, &cap);
	if (r == -ENOMEM) {
		status = out_of_memory();
		goto out;
	}
	if (r < 0)
		goto out;
	if (ferror(f)) {
		errmsg("import: %s: %s", a->pos, strerror(errno));
		goto out;
	}
	if (json_array_size(in.items) == 0) {
		if (json_array_size(in.bad) == 0)
			errmsg("import: no promises in %s", a->pos);
		else
			import_refused(cli, in.bad, a->dry_run);
		goto out;
	}
	/* first a dry run, so that every bad line is named and nothing is
	 * added while any is */
	if ((status = import_send(cli, in.items, in.sizes, true, &reply)) !=
	    CLI_OK)
		goto out;
	if (put_import_errors(in.bad, json_object_get(reply, "errors"),
	        in.lines, json_array_size(in.items)) < 0) {
		status = out_of_memory();
		goto out;
	}
	if (json_array_size(in.bad) > 0) {
		import_refused(cli, in.bad, a->dry_run);
		status = CLI_REFUSED;
		goto out;
	}
	if (a->dry_run) {
		if (cli->json)
			(void)import_json(
			    in.bad, json_array_size(in.items), true, NULL);
		else
			printf("%zu promises would be imported\n",
			    json_array_size(in.items));
		goto out;
	}
	json_decref(reply);
	reply = NULL;
	if ((status = import_send(cli, in.items, in.sizes, false, &reply)) !=
	        CLI_OK ||
	    reply == NULL)
		goto out;
	printf("%" PRId64 " promises imported\n", jint(reply, "imported", 0));
out:
	if (f != NULL && f != stdin)
		fclose(f);
	free(line);
	free(in.lines);
	free(in.sizes);
	json_decref(in.items);
	json_decref(in.bad);
	json_decref(reply);
	return status;
}

/*
 * A CSV field: quoted when it holds a comma, quote or line break, or
 * when it could start a formula; that is shown as text by a ' in front,
 * which import drops.
 */
static void
put_csv(const char *s)
{
	bool formula;

	if (s == NULL)
		return;
	formula = s[0] != '\0' && strchr(CSV_FORMULA, s[0]) != NULL;
	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	if (formula)
		putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static int
cmd_export(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *p, *next, *all = NULL;
	struct cli quiet = *cli;
	int64_t after = 0;
	size_t i;
	char *text;
	int status = CLI_OK;

	quiet.json = false;
	/* --json is one document of every page, whatever the format asked */
	if (cli->json && (all = json_array()) == NULL) {
		status = out_of_memory();
		goto out;
	}
	if (a->csv && all == NULL)
		puts("id,title,owner,for,note,due_at,created_at,created_by,"
		     "state,settled_at,kind,snoozes");
	for (;;) {
		req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op",
		    "export", "after", (json_int_t)after);
		if ((status = request(&quiet, req, &reply)) != CLI_OK)
			goto out;
		json_array_foreach(json_object_get(reply, "promises"), i, p)
		{
			if (all != NULL) {
				if (json_array_append(all, p) < 0) {
					status = out_of_memory();
					goto out;
				}
				continue;
			}
			if (!a->csv) {
				text = json_dumps(p, JSON_COMPACT);
				if (text == NULL) {
					status = out_of_memory();
					goto out;
				}
				puts(text);
				free(text);
				continue;
			}
			printf("%" PRId64 ",", jint(p, "id", 0));
			put_csv(jstr(p, "title"));
			putchar(',');
			put_csv(jstr(p, "owner"));
			putchar(',');
			put_csv(jstr(p, "for"));
			putchar(',');
			put_csv(jstr(p, "note"));
			printf(",%" PRId64 ",%" PRId64 ",",
			    jint(p, "due_at", 0), jint(p, "created_at", 0));
			put_csv(jstr(p, "created_by"));
			putchar(',');
			put_csv(jstr(p, "state"));
			putchar(',');
			if (json_is_integer(json_object_get(p, "settled_at")))
				printf("%" PRId64, jint(p, "settled_at", 0));
			putchar(',');
			put_csv(jstr(p, "kind"));
			printf(",%" PRId64 "\n", jint(p, "snoozes", 0));
		}
		next = json_object_get(reply, "next");
		if (!json_is_integer(next))
			break;
		after = json_integer_value(next);
		json_decref(req);
		json_decref(reply);
		req = reply = NULL;
	}
	if (all != NULL) {
		json_decref(reply);
		if ((reply = json_pack(
		         "{s:b,s:O}", "ok", 1, "promises", all)) == NULL)
			status = out_of_memory();
		else
			(void)json_print(reply);
	}
out:
	json_decref(all);
	json_decref(req);
	json_decref(reply);
	return status;
}

/* --since DURATION as the epoch second the period starts (0 if absent) */
static int
parse_since(const struct args *a, int64_t *ret)
{
	int64_t d;

	*ret = 0;
	if (a->since == NULL)
		return CLI_OK;
	if (timefmt_parse_duration(a->since, &d) < 0 || d < 1)
		return usage_error(
		    "--since '%s': want a duration like '30d' or "
		    "'2w'",
		    a->since);
	*ret = util_now() - d;
	return CLI_OK;
}

/* the scope fields report and sample share */
static json_t *
scope_request(const char *op, const struct args *a, int64_t since)
{
	return json_pack("{s:i,s:s,s:o*,s:s*,s:s*}", "v", PROTO_VERSION, "op",
	    op, "since", since > 0 ? json_integer(since) : NULL, "owner",
	    a->owner, "team", a->team);
}

/* "12m" or "-" for a lateness in seconds */
static void
put_late_cell(const json_t *v, char *buf, size_t len)
{
	if (!json_is_integer(v))
		snprintf(buf, len, "-");
	else
		timefmt_duration(json_integer_value(v), buf, len);
}

/* "60%" or "-" for an on_time_rate */
static void
put_rate_cell(const json_t *rate, char *buf, size_t len)
{
	if (json_is_number(rate))
		snprintf(buf, len, "%.0f%%", 100.0 * json_number_value(rate));
	else
		snprintf(buf, len, "-");
}

static int
cmd_report(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *row, *rate;
	char p50[32], p90[32], pct[16];
	int64_t since;
	size_t i;
	int status;

	if ((status = parse_since(a, &since)) != CLI_OK)
		goto out;
	if (a->owner != NULL && a->team != NULL) {
		status = usage_error("report: --owner or --team, not both");
		goto out;
	}
	req = scope_request("report", a, since);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	if (a->csv)
		puts("owner,made,kept_on_time,kept_late,open,overdue,"
		     "cancelled_told,cancelled_untold,renegotiated,snoozes,"
		     "on_time_rate,lateness_p50_s,lateness_p90_s");
	else
		printf("%-16s %5s %7s %5s %5s %7s %11s %12s %7s %8s %8s\n",
		    "OWNER", "MADE", "ON TIME", "LATE", "OPEN", "OVERDUE",
		    "CANCELLED", "RENEGOTIATED", "ON-TIME", "P50 LATE",
		    "P90 LATE");
	json_array_foreach(json_object_get(reply, "owners"), i, row)
	{
		rate = json_object_get(row, "on_time_rate");
		if (a->csv) {
			put_csv(jstr(row, "owner"));
			printf(",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			       ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
			       ",%" PRId64 ",",
			    jint(row, "made", 0), jint(row, "kept_on_time", 0),
			    jint(row, "kept_late", 0), jint(row, "open", 0),
			    jint(row, "overdue", 0),
			    jint(row, "cancelled_told", 0),
			    jint(row, "cancelled_untold", 0),
			    jint(row, "renegotiated", 0),
			    jint(row, "snoozes", 0));
			if (json_is_number(rate))
				printf("%.3f", json_number_value(rate));
			putchar(',');
			if (json_is_integer(
			        json_object_get(row, "lateness_p50")))
				printf(
				    "%" PRId64, jint(row, "lateness_p50", 0));
			putchar(',');
			if (json_is_integer(
			        json_object_get(row, "lateness_p90")))
				printf(
				    "%" PRId64, jint(row, "lateness_p90", 0));
			putchar('\n');
			continue;
		}
		put_late_cell(
		    json_object_get(row, "lateness_p50"), p50, sizeof(p50));
		put_late_cell(
		    json_object_get(row, "lateness_p90"), p90, sizeof(p90));
		put_rate_cell(rate, pct, sizeof(pct));
		printf("%-16.16s %5" PRId64 " %7" PRId64 " %5" PRId64
		       " %5" PRId64 " %7" PRId64 " %5" PRId64 " told %2" PRId64
		       " not %5" PRId64 " %7s %8s %8s\n",
		    jstr(row, "owner"), jint(row, "made", 0),
		    jint(row, "kept_on_time", 0), jint(row, "kept_late", 0),
		    jint(row, "open", 0), jint(row, "overdue", 0),
		    jint(row, "cancelled_told", 0),
		    jint(row, "cancelled_untold", 0),
		    jint(row, "renegotiated", 0), pct, p50, p90);
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_sample(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *item;
	int64_t since, n, now;
	size_t i;
	char *end;
	int status;

	errno = 0;
	n = strtoll(a->pos, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 100) {
		status = usage_error("sample: N must be from 1 to 100");
		goto out;
	}
	if ((status = parse_since(a, &since)) != CLI_OK)
		goto out;
	if (a->owner != NULL && a->team != NULL) {
		status = usage_error("sample: --owner or --team, not both");
		goto out;
	}
	if ((req = scope_request("sample", a, since)) == NULL ||
	    json_object_set_new(req, "n", json_integer(n)) < 0) {
		status = out_of_memory();
		goto out;
	}
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	now = util_now();
	json_array_foreach(json_object_get(reply, "promises"), i, item)
	{
		if (i > 0)
			putchar('\n');
		show_promise(json_object_get(item, "promise"), now);
		show_history(json_object_get(item, "events"));
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* the columns the lines of a digest share */
struct dwidth {
	size_t id, owner;
};

static void
dwidth_add(struct dwidth *w, const json_t *list)
{
	char id[24];
	const json_t *o;
	const char *s;
	size_t i;

	json_array_foreach(list, i, o)
	{
		(void)snprintf(id, sizeof(id), "%" PRId64, jint(o, "id", 0));
		w->id = max_width(w->id, id, SIZE_MAX);
		s = jstr(o, "owner");
		w->owner =
		    max_width(w->owner, s != NULL ? s : "-", OWNER_MAX_WIDTH);
	}
}

/* "Overdue: 2" and a line per promise: id, owner, due, title, customer */
static void
put_digest_list(
    const char *label, const json_t *sec, const struct dwidth *w, int64_t at)
{
	const json_t *list = json_object_get(sec, "promises"), *o;
	int64_t count = jint(sec, "count", 0);
	char id[24];
	const char *s;
	size_t i;

	printf("%s: %" PRId64 "\n", label, count);
	json_array_foreach(list, i, o)
	{
		(void)snprintf(id, sizeof(id), "%" PRId64, jint(o, "id", 0));
		fputs("  ", stdout);
		put_cell(id, w->id, true);
		fputs("  ", stdout);
		put_cell(
		    (s = jstr(o, "owner")) != NULL ? s : "-", w->owner, true);
		fputs("  ", stdout);
		put_due(jint(o, "due_at", 0), at);
		fputs("  ", stdout);
		put_str((s = jstr(o, "title")) != NULL ? s : "");
		if ((s = jstr(o, "for")) != NULL && s[0] != '\0') {
			fputs(" (for ", stdout);
			put_str(s);
			putchar(')');
		}
		putchar('\n');
	}
	if (count > (int64_t)json_array_size(list))
		printf("  ... and %" PRId64 " more\n",
		    count - (int64_t)json_array_size(list));
}

/* "5 due: 3 kept on time, 1 kept late, 1 still open; 60% on time" */
static void
put_tally(const json_t *t)
{
	const json_t *rate = json_object_get(t, "on_time_rate");
	char pct[16];

	printf("%" PRId64 " due: %" PRId64 " kept on time, %" PRId64
	       " kept late, %" PRId64 " still open",
	    jint(t, "due", 0), jint(t, "kept_on_time", 0),
	    jint(t, "kept_late", 0), jint(t, "open", 0));
	if (json_is_number(rate)) {
		put_rate_cell(rate, pct, sizeof(pct));
		printf("; %s on time", pct);
	}
	putchar('\n');
}

/* "Digest for boss's team as of ...; next sent ..." and "Team: ..." */
static void
put_digest_head(const json_t *d, const json_t *next)
{
	char when[TIMEBUF];
	const json_t *team = json_object_get(d, "team"), *m;
	const char *s;
	size_t i;

	fputs("Digest for ", stdout);
	put_str((s = jstr(d, "manager")) != NULL ? s : "?");
	timefmt_local(jint(d, "at", 0), when, sizeof(when));
	printf("'s team as of %s; ", when);
	if (json_is_integer(next)) {
		timefmt_local(json_integer_value(next), when, sizeof(when));
		printf("next sent %s\n", when);
	} else {
		puts("no schedule");
	}
	fputs("Team: ", stdout);
	if (json_array_size(team) == 0)
		fputs("nobody", stdout);
	json_array_foreach(team, i, m)
	{
		if (i > 0)
			fputs(", ", stdout);
		put_str(json_is_string(m) ? json_string_value(m) : "?");
	}
	putchar('\n');
}

static void
show_digest(const json_t *d, const json_t *next)
{
	const json_t *over = json_object_get(d, "overdue");
	const json_t *soon = json_object_get(d, "due_this_week");
	const json_t *last = json_object_get(d, "last_week"), *o;
	struct dwidth w = {0, 0};
	int64_t at = jint(d, "at", 0);
	const char *s;
	size_t i;

	dwidth_add(&w, json_object_get(over, "promises"));
	dwidth_add(&w, json_object_get(soon, "promises"));
	json_array_foreach(json_object_get(last, "owners"), i, o)
	{
		s = jstr(o, "owner");
		w.owner =
		    max_width(w.owner, s != NULL ? s : "?", OWNER_MAX_WIDTH);
	}
	put_digest_head(d, next);
	put_digest_list("Overdue", over, &w, at);
	put_digest_list("Due this week", soon, &w, at);
	if (jint(last, "due", 0) == 0) {
		puts("Last week: nothing came due");
		return;
	}
	fputs("Last week: ", stdout);
	put_tally(last);
	json_array_foreach(json_object_get(last, "owners"), i, o)
	{
		fputs("  ", stdout);
		put_cell(
		    (s = jstr(o, "owner")) != NULL ? s : "?", w.owner, true);
		fputs("  ", stdout);
		put_tally(o);
	}
}

static int
cmd_digest(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int status;

	if ((status = check_text("--team", a->team, false)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:s*}", "v", PROTO_VERSION, "op", "digest",
	    "team", a->team);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	show_digest(
	    json_object_get(reply, "digest"), json_object_get(reply, "next"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_show(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id, now;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op", "get", "id",
	    (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	now = util_now();
	show_promise(json_object_get(reply, "promise"), now);
	show_history(json_object_get(reply, "events"));
	show_deliveries(json_object_get(reply, "deliveries"), now);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* "promise 42 kept: TITLE" */
static void
put_settled(const json_t *p, const char *what)
{
	const char *title = jstr(p, "title");

	printf("promise %" PRId64 " %s: ", jint(p, "id", 0), what);
	put_str(title != NULL ? title : "");
	putchar('\n');
}

static int
cmd_done(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *then = NULL, *p;
	int64_t id, due = 0, now = util_now();
	int status;

	if ((status = get_id(a, &id)) != CLI_OK ||
	    (status = check_text("--note", a->note, true)) != CLI_OK)
		goto out;
	if ((a->due != NULL || a->forwho != NULL) && a->then == NULL) {
		status = usage_error("done: --due and --for describe the "
		                     "follow-up: give --then TITLE too");
		goto out;
	}
	if (a->then != NULL) {
		if (a->due == NULL) {
			status = usage_error("done: --then needs --due WHEN");
			goto out;
		}
		if ((status = check_text("--then", a->then, false)) != CLI_OK ||
		    (status = check_text("--for", a->forwho, false)) !=
		        CLI_OK ||
		    (status = parse_due(a->due, now, &due)) != CLI_OK)
			goto out;
		then = json_pack("{s:s,s:I,s:s*}", "title", a->then, "due_at",
		    (json_int_t)due, "for", a->forwho);
	}
	req = json_pack("{s:i,s:s,s:I,s:s*,s:o*}", "v", PROTO_VERSION, "op",
	    "done", "id", (json_int_t)id, "note", a->note, "then", then);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	put_settled(json_object_get(reply, "promise"), "kept");
	if ((p = json_object_get(reply, "then")) != NULL) {
		printf("promise %" PRId64 " added: due ", jint(p, "id", 0));
		put_due(jint(p, "due_at", due), util_now());
		putchar('\n');
	}
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_snooze(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *p;
	const char *due_text = NULL;
	int64_t id, due, now = util_now();
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	if (a->due == NULL) {
		status = usage_error("snooze: --due WHEN is required");
		goto out;
	}
	if ((status = check_reason("snooze", a)) != CLI_OK ||
	    (status = due_field(a->due, now, &due, &due_text)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I,s:o*,s:s*,s:s}", "v", PROTO_VERSION, "op",
	    "snooze", "id", (json_int_t)id, "due_at",
	    due > 0 ? json_integer(due) : NULL, "due", due_text, "reason",
	    a->reason);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	p = json_object_get(reply, "promise");
	printf("promise %" PRId64 " snoozed: due ", jint(p, "id", id));
	put_due(jint(p, "due_at", due), util_now());
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_cancel(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK ||
	    (status = check_reason("cancel", a)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I,s:s,s:b}", "v", PROTO_VERSION, "op",
	    "cancel", "id", (json_int_t)id, "reason", a->reason,
	    "told_customer", a->told);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	put_settled(json_object_get(reply, "promise"), "cancelled");
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_ack(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	char when[TIMEBUF];
	int64_t id;
	int status;

	if ((status = get_id(a, &id)) != CLI_OK)
		goto out;
	req = json_pack("{s:i,s:s,s:I}", "v", PROTO_VERSION, "op", "ack", "id",
	    (json_int_t)id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	printf("promise %" PRId64 ": escalations to you paused",
	    jint(json_object_get(reply, "promise"), "id", id));
	if (json_is_integer(json_object_get(reply, "until"))) {
		timefmt_local(jint(reply, "until", 0), when, sizeof(when));
		printf(" until %s", when);
	}
	putchar('\n');
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* the cells of one deliveries row that are formatted rather than copied */
struct drow {
	char id[DID_LEN + 1];
	char promise[24];
	char attempts[24];
	char when[TIMEBUF + RELBUF + 8];
	const char *event, *to, *channel, *state, *error;
};

static void
drow_fill(const json_t *dl, int64_t now, struct drow *r)
{
	/* ids are hex, so bytes are columns */
	(void)snprintf(r->id, sizeof(r->id), "%s", delivery_id(dl));
	/* a digest is about no one promise */
	if (jint(dl, "promise_id", 0) > 0)
		(void)snprintf(r->promise, sizeof(r->promise), "%" PRId64,
		    jint(dl, "promise_id", 0));
	else
		(void)snprintf(r->promise, sizeof(r->promise), "-");
	(void)snprintf(r->attempts, sizeof(r->attempts), "%" PRId64,
	    jint(dl, "attempts", 0));
	delivery_when(dl, now, false, r->when, sizeof(r->when));
	if (r->when[0] == '\0')
		(void)snprintf(r->when, sizeof(r->when), "-");
	r->event = event_name(jstr(dl, "event"));
	r->to = jstr(dl, "recipient");
	r->channel = jstr(dl, "channel");
	r->state = jstr(dl, "state");
	r->error = jstr(dl, "last_error");
	if (r->to == NULL)
		r->to = "?";
	if (r->channel == NULL)
		r->channel = "?";
	if (r->state == NULL)
		r->state = "?";
	if (r->error == NULL || r->error[0] == '\0')
		r->error = "-";
}

/* "--limit N": N >= 0; 0 or a usage error's exit status */
static int
parse_limit(const char *s, int64_t *ret)
{
	long long v;
	char *end;

	/* strtoll would take blanks and signs; a count has neither */
	if (*s < '0' || *s > '9')
		goto bad;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	*ret = v;
	return CLI_OK;
bad:
	return usage_error("--limit '%s': want a number, 0 for no limit", s);
}

static int
cmd_deliveries(const struct cli *cli, const struct args *a)
{
	static const char *const states[] = {
	    "pending", "sent", "failed", "all"};
	size_t i, n, wid = 8, wpr = 7, wev = 5, wto = 2, wch = 7, wst = 5,
	             wat = 8;
	size_t wwhen = 9, werr;
	json_t *req = NULL, *reply = NULL, *lim = NULL, *arr;
	const char *state = a->state;
	int64_t limit = DELIVERIES_DEFAULT_LIMIT, now;
	struct drow r;
	int status;

	if (state != NULL) {
		for (i = 0; i < ARRAY_SIZE(states); i++)
			if (strcmp(state, states[i]) == 0)
				break;
		if (i == ARRAY_SIZE(states)) {
			status = usage_error("--state '%s': want pending, "
			                     "sent, failed or all",
			    state);
			goto out;
		}
	}
	if (a->failed) {
		if (state != NULL && strcmp(state, "failed") != 0) {
			status =
			    usage_error("deliveries: --failed and "
			                "--state '%s' contradict each other",
			        state);
			goto out;
		}
		state = "failed";
	}
	if (a->limit != NULL) {
		if ((status = parse_limit(a->limit, &limit)) != CLI_OK)
			goto out;
		if ((lim = json_integer((json_int_t)limit)) == NULL) {
			status = out_of_memory();
			goto out;
		}
	}
	/* "o*" takes lim's reference, also on failure */
	req = json_pack("{s:i,s:s,s:s*,s:o*}", "v", PROTO_VERSION, "op",
	    "deliveries", "state", state, "limit", lim);
	lim = NULL;
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	arr = json_object_get(reply, "deliveries");
	n = json_array_size(arr);
	if (n == 0) {
		if (state == NULL || strcmp(state, "all") == 0)
			puts("no deliveries");
		else
			printf("no %s deliveries\n", state);
		goto out;
	}
	now = util_now();
	/* two passes, formatting twice, so no row needs to be kept */
	for (i = 0; i < n; i++) {
		drow_fill(json_array_get(arr, i), now, &r);
		wid = max_width(wid, r.id, SIZE_MAX);
		wpr = max_width(wpr, r.promise, SIZE_MAX);
		wev = max_width(wev, r.event, SIZE_MAX);
		wto = max_width(wto, r.to, OWNER_MAX_WIDTH);
		wch = max_width(wch, r.channel, SIZE_MAX);
		wst = max_width(wst, r.state, SIZE_MAX);
		wat = max_width(wat, r.attempts, SIZE_MAX);
		wwhen = max_width(wwhen, r.when, SIZE_MAX);
	}
	/* eight two-space gaps between nine columns */
	i = wid + wpr + wev + wto + wch + wst + wat + wwhen + 8 * 2;
	werr = i + DERROR_MIN_WIDTH < DTABLE_WIDTH ? DTABLE_WIDTH - i
	                                           : DERROR_MIN_WIDTH;
	put_cell("DELIVERY", wid, true);
	fputs("  ", stdout);
	put_right("PROMISE", wpr);
	fputs("  ", stdout);
	put_cell("EVENT", wev, true);
	fputs("  ", stdout);
	put_cell("TO", wto, true);
	fputs("  ", stdout);
	put_cell("CHANNEL", wch, true);
	fputs("  ", stdout);
	put_cell("STATE", wst, true);
	fputs("  ", stdout);
	put_right("ATTEMPTS", wat);
	fputs("  ", stdout);
	put_cell("NEXT/SENT", wwhen, true);
	fputs("  LAST ERROR\n", stdout);
	for (i = 0; i < n; i++) {
		drow_fill(json_array_get(arr, i), now, &r);
		put_cell(r.id, wid, true);
		fputs("  ", stdout);
		put_right(r.promise, wpr);
		fputs("  ", stdout);
		put_cell(r.event, wev, true);
		fputs("  ", stdout);
		put_cell(r.to, wto, true);
		fputs("  ", stdout);
		put_cell(r.channel, wch, true);
		fputs("  ", stdout);
		put_cell(r.state, wst, true);
		fputs("  ", stdout);
		put_right(r.attempts, wat);
		fputs("  ", stdout);
		put_cell(r.when, wwhen, true);
		fputs("  ", stdout);
		put_cell(r.error, werr, false);
		putchar('\n');
	}
	/* a full page may hide older ones; say so where scripts won't parse */
	if (limit > 0 && n >= (size_t)limit)
		errmsg("showing the newest %zu deliveries, there may be more "
		       "(--limit 0 shows all)",
		    n);
out:
	json_decref(reply);
	json_decref(req);
	json_decref(lim);
	return status;
}

static int
cmd_retry(const struct cli *cli, const struct args *a)
{
	char id[DID_LEN + 1];
	json_t *req = NULL, *reply = NULL;
	const char *s;
	size_t i;
	int status;

	/* any prefix that names one delivery, as git takes an object's */
	for (i = 0; i < DID_LEN && a->pos[i] != '\0'; i++) {
		if (a->pos[i] >= '0' && a->pos[i] <= '9')
			id[i] = a->pos[i];
		else if (a->pos[i] >= 'a' && a->pos[i] <= 'f')
			id[i] = a->pos[i];
		else if (a->pos[i] >= 'A' && a->pos[i] <= 'F')
			id[i] = (char)(a->pos[i] - 'A' + 'a');
		else
			break;
	}
	if (i < DID_MIN || a->pos[i] != '\0') {
		status = usage_error("retry: '%s' is not a delivery id (want "
		                     "%d to %d hex digits, as 'promise "
		                     "deliveries' or 'promise show ID' shows)",
		    a->pos, DID_MIN, DID_LEN);
		goto out;
	}
	id[i] = '\0';
	req = json_pack(
	    "{s:i,s:s,s:s}", "v", PROTO_VERSION, "op", "retry", "delivery", id);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	s = jstr(json_object_get(reply, "delivery"), "delivery");
	fputs("delivery ", stdout);
	put_str(s != NULL ? s : id);
	fputs(" queued to be sent again\n", stdout);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/* a line for each channel that is not simply up: the one place an
 * operator sees that email is down, and that nothing was lost for it */
static void
put_channels(const json_t *channels)
{
	const char *name, *state;
	const json_t *c;
	char when[TIMEBUF], next[TIMEBUF], label[32];

	json_object_foreach((json_t *)channels, name, c)
	{
		state = jstr(c, "state");
		if (state == NULL || strcmp(state, "up") == 0)
			continue;
		snprintf(label, sizeof(label), "%s:", name);
		if (strcmp(state, "down") == 0) {
			timefmt_local(jint(c, "since", 0), when, sizeof(when));
			timefmt_local(
			    jint(c, "next_try", 0), next, sizeof(next));
			printf("%-12s down since %s, %" PRId64
			       " waiting, next try %s: %s\n",
			    label, when, jint(c, "waiting", 0), next,
			    jstr(c, "error") ? jstr(c, "error") : "?");
		} else {
			printf("%-12s %s, %" PRId64 " waiting\n", label, state,
			    jint(c, "waiting", 0));
		}
	}
}

static int
cmd_status(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL, *d;
	char when[TIMEBUF], dur[32];
	const char *s;
	int64_t up, now;
	bool own;
	int status;

	(void)a;
	req = json_pack("{s:i,s:s}", "v", PROTO_VERSION, "op", "status");
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	now = util_now();
	s = jstr(reply, "version");
	printf("version:     %s\n", s != NULL ? s : "?");
	/* seconds of uptime are noise once it runs to minutes */
	up = jint(reply, "uptime", 0);
	timefmt_duration(up >= 60 ? up - up % 60 : up, dur, sizeof(dur));
	timefmt_local(jint(reply, "started_at", now - up), when, sizeof(when));
	printf("uptime:      %s (since %s)\n", dur, when);
	/* an admin sees the service's figures, anyone else their own */
	own = (s = jstr(reply, "scope")) != NULL && strcmp(s, "own") == 0;
	printf("open:        %" PRId64 "%s\n", jint(reply, "open", 0),
	    own ? " (yours)" : "");
	printf("overdue:     %" PRId64 "%s\n", jint(reply, "overdue", 0),
	    own ? " (yours)" : "");
	fputs("next due:    ", stdout);
	if (json_is_integer(json_object_get(reply, "next_due")))
		put_due(jint(reply, "next_due", 0), now);
	else
		fputs("none", stdout);
	putchar('\n');
	if (own)
		goto out;
	printf("scheduled:   %" PRId64 "\n", jint(reply, "scheduled", 0));
	d = json_object_get(reply, "deliveries");
	printf("deliveries:  %" PRId64 " pending, %" PRId64 " failed, %" PRId64
	       " in flight\n",
	    jint(d, "pending", 0), jint(d, "failed", 0),
	    jint(d, "inflight", 0));
	put_channels(json_object_get(reply, "channels"));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

/*
 * FILE made absolute through the real path of its directory: the daemon
 * has a working directory of its own.  Returns an exit status.
 */
static int
absolute_path(const char *file, char *buf, size_t len)
{
	char dir[PATH_MAX], *real = NULL;
	const char *slash = strrchr(file, '/'), *base;
	int n, status;

	if (slash == NULL) {
		util_strlcpy(dir, ".", sizeof(dir));
		base = file;
	} else if (slash == file) {
		util_strlcpy(dir, "/", sizeof(dir));
		base = file + 1;
	} else if ((size_t)(slash - file) < sizeof(dir)) {
		memcpy(dir, file, (size_t)(slash - file));
		dir[slash - file] = '\0';
		base = slash + 1;
	} else {
		return usage_error("backup: '%s': file name too long", file);
	}
	if (base[0] == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return usage_error("backup: '%s' is a directory; name the file "
		                   "to write",
		    file);
	if ((real = realpath(dir, NULL)) == NULL) {
		errmsg("backup: directory '%s': %s", dir, strerror(errno));
		status = CLI_REFUSED;
		goto out;
	}
	n = snprintf(
	    buf, len, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
	if (n < 0 || (size_t)n >= len) {
		status = usage_error("backup: '%s': file name too long", file);
		goto out;
	}
	status = CLI_OK;
out:
	free(real);
	return status;
}

static int
cmd_backup(const struct cli *cli, const struct args *a)
{
	char path[PATH_MAX];
	json_t *req = NULL, *reply = NULL;
	const char *s;
	int status;

	if ((status = check_text("FILE", a->pos, false)) != CLI_OK ||
	    (status = absolute_path(a->pos, path, sizeof(path))) != CLI_OK)
		goto out;
	req = json_pack(
	    "{s:i,s:s,s:s}", "v", PROTO_VERSION, "op", "backup", "path", path);
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	s = jstr(reply, "path");
	fputs("backup written to ", stdout);
	put_str(s != NULL ? s : path);
	printf(" (%" PRId64 " pages, %" PRId64 " bytes)\n",
	    jint(reply, "pages", 0), jint(reply, "bytes", 0));
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static int
cmd_metrics(const struct cli *cli, const struct args *a)
{
	json_t *req = NULL, *reply = NULL;
	const char *text;
	int status;

	(void)a;
	req = json_pack("{s:i,s:s}", "v", PROTO_VERSION, "op", "metrics");
	if ((status = request(cli, req, &reply)) != CLI_OK || reply == NULL)
		goto out;
	/* verbatim: the exposition format is the daemon's to get right */
	if ((text = jstr(reply, "text")) == NULL) {
		errmsg("metrics: the reply has no text");
		status = CLI_REFUSED;
		goto out;
	}
	fputs(text, stdout);
out:
	json_decref(reply);
	json_decref(req);
	return status;
}

static const struct command commands[] = {
    {"add", "TITLE",
        OPTBIT(OPT_DUE) | OPTBIT(OPT_FOR) | OPTBIT(OPT_OWNER) |
            OPTBIT(OPT_NUDGE) | OPTBIT(OPT_NOTE) | OPTBIT(OPT_KIND) |
            OPTBIT(OPT_DRY_RUN),
        usage_add, cmd_add},
    {"list", NULL,
        OPTBIT(OPT_STATE) | OPTBIT(OPT_OWNER) | OPTBIT(OPT_FOR) |
            OPTBIT(OPT_GREP),
        usage_list, cmd_list},
    {"show", "ID", 0, usage_show, cmd_show},
    {"done", "ID",
        OPTBIT(OPT_NOTE) | OPTBIT(OPT_THEN) | OPTBIT(OPT_DUE) | OPTBIT(OPT_FOR),
        usage_done, cmd_done},
    {"snooze", "ID", OPTBIT(OPT_DUE) | OPTBIT(OPT_REASON), usage_snooze,
        cmd_snooze},
    {"cancel", "ID", OPTBIT(OPT_REASON) | OPTBIT(OPT_TOLD), usage_cancel,
        cmd_cancel},
    {"explain", "ID", 0, usage_explain, cmd_explain},
    {"import", "FILE", OPTBIT(OPT_DRY_RUN), usage_import, cmd_import},
    {"export", NULL, OPTBIT(OPT_CSV), usage_export, cmd_export},
    {"report", NULL,
        OPTBIT(OPT_SINCE) | OPTBIT(OPT_OWNER) | OPTBIT(OPT_TEAM) |
            OPTBIT(OPT_CSV),
        usage_report, cmd_report},
    {"sample", "N", OPTBIT(OPT_SINCE) | OPTBIT(OPT_OWNER) | OPTBIT(OPT_TEAM),
        usage_sample, cmd_sample},
    {"digest", NULL, OPTBIT(OPT_TEAM), usage_digest, cmd_digest},
    {"ack", "ID", 0, usage_ack, cmd_ack},
    {"deliveries", NULL,
        OPTBIT(OPT_FAILED) | OPTBIT(OPT_STATE) | OPTBIT(OPT_LIMIT),
        usage_deliveries, cmd_deliveries},
    {"retry", "DELIVERY", 0, usage_retry, cmd_retry},
    {"status", NULL, 0, usage_status, cmd_status},
    {"backup", "FILE", 0, usage_backup, cmd_backup},
    {"metrics", NULL, 0, usage_metrics, cmd_metrics},
};

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* ---- command line ----------------------------------------------------- */

static int
bad_option(const char *cmd, int c, char **argv)
{
	const char *where = cmd != NULL ? cmd : "";
	const char *colon = cmd != NULL ? ": " : "";
	/* getopt has moved optind past a long option in every error case */
	const char *word = argv[optind - 1], *eq;

	if (c == ':')
		return usage_error(
		    "%s%soption '%s' needs a value", where, colon, word);
	/* optopt is the character of a bad short option ... */
	if (optopt > 0 && optopt < 256)
		return usage_error(
		    "%s%sunknown option '-%c'", where, colon, optopt);
	/* ... or the value of a long one given a value it does not take */
	if (optopt != 0 && (eq = strchr(word, '=')) != NULL)
		return usage_error("%s%soption '%.*s' takes no value", where,
		    colon, (int)(eq - word), word);
	return usage_error("%s%sunknown option '%s'", where, colon, word);
}

static void
add_pos(struct args *a, const char *s)
{
	if (a->npos == 0)
		a->pos = s;
	else if (a->npos == 1)
		a->extra = s;
	a->npos++;
}

/*
 * Parses a command's own arguments, argv[0] being its name.  Returns true
 * if the command is to run; else *status is the exit status to end with.
 */
static bool
parse_args(struct cli *cli, const struct command *cmd, int argc, char **argv,
    struct args *a, int *status)
{
	int c, idx;

	memset(a, 0, sizeof(*a));
	/*
	 * optind 0 makes glibc start afresh on a new argv.  A leading '-'
	 * hands back operands in order, so options may follow TITLE even
	 * under POSIXLY_CORRECT and argv is not permuted; ':' reports a
	 * missing value apart from an unknown option.
	 */
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:h", opts_cmd, &idx)) != -1) {
		if (c >= OPT_DUE && !(cmd->opts & OPTBIT(c))) {
			*status = usage_error("%s: unknown option '--%s'",
			    cmd->name, opts_cmd[idx].name);
			return false;
		}
		switch (c) {
		case 1:
			add_pos(a, optarg);
			break;
		case 'h':
			fputs(cmd->usage, stdout);
			*status = CLI_OK;
			return false;
		case OPT_VERSION:
			printf("promise %s\n", PROMISED_VERSION);
			*status = CLI_OK;
			return false;
		case OPT_SOCKET:
			cli->socket = optarg;
			break;
		case OPT_JSON:
			cli->json = json_out.on = true;
			break;
		case OPT_DUE:
			a->due = optarg;
			break;
		case OPT_FOR:
			a->forwho = optarg;
			break;
		case OPT_OWNER:
			a->owner = optarg;
			break;
		case OPT_NUDGE:
			a->nudge = optarg;
			break;
		case OPT_NOTE:
			a->note = optarg;
			break;
		case OPT_STATE:
			a->state = optarg;
			break;
		case OPT_REASON:
			a->reason = optarg;
			break;
		case OPT_FAILED:
			a->failed = true;
			break;
		case OPT_LIMIT:
			a->limit = optarg;
			break;
		case OPT_THEN:
			a->then = optarg;
			break;
		case OPT_TOLD:
			a->told = true;
			break;
		case OPT_KIND:
			a->kind = optarg;
			break;
		case OPT_SINCE:
			a->since = optarg;
			break;
		case OPT_TEAM:
			a->team = optarg;
			break;
		case OPT_CSV:
			a->csv = true;
			break;
		case OPT_DRY_RUN:
			a->dry_run = true;
			break;
		case OPT_GREP:
			a->grep = optarg;
			break;
		default:
			*status = bad_option(cmd->name, c, argv);
			return false;
		}
	}
	/* operands after "--" */
	for (; optind < argc; optind++)
		add_pos(a, argv[optind]);
	if (cmd->arg == NULL && a->npos > 0) {
		*status = usage_error(
		    "%s: unexpected argument '%s'", cmd->name, a->pos);
		return false;
	}
	if (cmd->arg != NULL && a->npos == 0) {
		*status = usage_error("%s: missing %s", cmd->name, cmd->arg);
		return false;
	}
	if (a->npos > 1) {
		*status = usage_error("%s: unexpected argument '%s' (one %s; "
		                      "quote text with spaces)",
		    cmd->name, a->extra, cmd->arg);
		return false;
	}
	return true;
}

/* "promise help [COMMAND]" */
static int
help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		fputs(help_general, stdout);
		return CLI_OK;
	}
	if ((cmd = find_command(argv[1])) == NULL)
		return usage_error("unknown command '%s'", argv[1]);
	fputs(cmd->usage, stdout);
	return CLI_OK;
}

/*
 * The closing document of a --json run that failed before the daemon
 * answered: the codes beyond the protocol's name the client's own cases.
 */
static void
json_failed(int status)
{
	json_t *o;
	const char *code = status == CLI_USAGE ? "usage"
	    : status == CLI_UNREACHABLE        ? "unreachable"
	                                       : "failed";

	o = json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code,
	    "message", json_out.msg[0] != '\0' ? json_out.msg : code);
	if (o != NULL)
		(void)json_print(o);
	json_decref(o);
}

int
main(int argc, char **argv)
{
	struct cli cli = {NULL, false, -1};
	const struct command *cmd;
	struct args a;
	const char *env;
	int c, status;

	/* once, for every local time parsed and shown below */
	tzset();
	/* a daemon gone mid-request is an error to report, not a signal */
	signal(SIGPIPE, SIG_IGN);
	/* jansson would read /dev/urandom to seed its hash tables against
	 * collision floods; our only input is the daemon's replies */
	json_object_seed(1);
	opterr = 0;
	/* '+': stop at the command name, which has options of its own */
	while ((c = getopt_long(argc, argv, "+:h", opts_global, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help_general, stdout);
			status = CLI_OK;
			goto out;
		case OPT_VERSION:
			printf("promise %s\n", PROMISED_VERSION);
			status = CLI_OK;
			goto out;
		case OPT_SOCKET:
			cli.socket = optarg;
			break;
		case OPT_JSON:
			cli.json = json_out.on = true;
			break;
		default:
			status = bad_option(NULL, c, argv);
			goto out;
		}
	}
	if (optind >= argc) {
		status = usage_error("missing command");
		goto out;
	}
	if (strcmp(argv[optind], "help") == 0) {
		status = help(argc - optind, argv + optind);
		goto out;
	}
	if ((cmd = find_command(argv[optind])) == NULL) {
		status = usage_error("unknown command '%s'", argv[optind]);
		goto out;
	}
	if (!parse_args(&cli, cmd, argc - optind, argv + optind, &a, &status))
		goto out;
	if (cli.socket == NULL) {
		env = getenv("PROMISE_SOCKET");
		cli.socket = env != NULL && env[0] != '\0'
		    ? env
		    : PROMISED_DEFAULT_SOCKET;
	}
	/* a path that cannot be bound is a typo, not a stopped service */
	if (cli.socket[0] == '\0' ||
	    strlen(cli.socket) >=
	        sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
		status = usage_error(
		    "--socket '%s': not a usable socket path", cli.socket);
		goto out;
	}
	status = cmd->run(&cli, &a);
out:
	if (json_out.on && !json_out.done && status != CLI_OK)
		json_failed(status);
	/* a full disk or closed pipe must not pass for success */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errmsg("cannot write output: %s", strerror(errno));
		if (status == CLI_OK)
			status = CLI_REFUSED;
	}
	return status;
}
