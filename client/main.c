/* SPDX-License-Identifier: MIT */
/*
 * main.c: promise(1), the command-line client of promised.  One command
 * line becomes one request on the daemon's Unix socket; the single reply
 * line is rendered for people, or passed through untouched with --json.
 * The client never opens the database, as ntpctl never touches ntpd's
 * state: the daemon owns the schedule, so every change must go through it.
 * WHEN is read in the caller's own time zone; only epoch seconds travel.
 *
 * This file holds the command line: the options, the table of commands
 * and their help.  The commands live in cmd_*.c, grouped by role.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cmd.h"
#include "conn.h"
#include "util.h"

/* long-only options get values outside the char range */
enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_VERSION,
	OPT_SERVER,
	OPT_TOKEN_FILE,
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
	OPT_ICS,
	OPT_NAME,
	OPT_ALL,
	OPT_END, /* not an option: one past the last */
};
/* the command options, OPT_DUE onwards, are bits of struct command's mask */
#define OPTBIT(o) (1u << ((o)-OPT_DUE))
_Static_assert(OPT_END - OPT_DUE <= (int)(sizeof(unsigned) * CHAR_BIT),
    "command options must fit struct command's mask");

struct command {
	const char *name;
	const char *arg; /* name of the one positional argument, or NULL */
	unsigned opts;   /* OPTBIT()s of the options it takes beyond globals */
	const char *usage;
	/* returns an exit status, not -errno: failures are reported inside */
	int (*run)(const struct cli *cli, const struct args *a);
};

static const char help_general[] =
    "usage: promise [--socket PATH | --server URL [--token-file FILE]]\n"
    "               [--json] COMMAND [ARGS]\n"
    "\n"
    "Keeps the follow-ups promised to customers, through promised.\n"
    "\n"
    "commands ('promise COMMAND --help' says more):\n"
    "  add TITLE --due WHEN|--kind NAME [--for WHO] [--owner LOGIN]\n"
    "      [--nudge LIST] [--note TEXT]\n"
    "  list [--state open|overdue|kept|cancelled|all] [--owner LOGIN]\n"
    "      [--for TEXT] [--grep TEXT]\n"
    "  show ID [--ics]\n"
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
    "  token create [--name NAME] | token list [--all] | token revoke ID\n"
    "  mail-in [RECIPIENT]  for the mail server: one mail on stdin\n"
    "\n"
    "options (before or after the command):\n"
    "  --socket PATH  the daemon's socket (default $PROMISE_SOCKET, else\n"
    "                 " PROMISED_DEFAULT_SOCKET ")\n"
    "  --server URL   a promised's HTTP API instead of the socket (default\n"
    "                 $PROMISE_SERVER), with the token in $PROMISE_TOKEN or\n"
    "                 --token-file FILE (default ~/.config/promise/token)\n"
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
    "usage: promise show ID [--ics]\n"
    "\n"
    "Shows one promise with its full history and the notices sent about\n"
    "it (deliveries, with the short ids 'promise retry' takes).\n"
    "\n"
    "  --ics  print it as a calendar entry instead (iCalendar, RFC 5545),\n"
    "         an event at the deadline: promise show 42 --ics > 42.ics\n";

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

static const char usage_token[] =
    "usage: promise token create [--name NAME]\n"
    "       promise token list [--all]\n"
    "       promise token revoke ID\n"
    "\n"
    "API tokens let promise --server and scripts act as you over HTTP\n"
    "(Authorization: Bearer TOKEN).  create prints a new token once, alone\n"
    "on stdout: keep it in a file only you can read, as\n"
    "~/.config/promise/token; promised keeps only its hash.  list shows\n"
    "your tokens and web sessions (opened by sign-in links), with when\n"
    "each was last used; admins see everyone's with --all.  revoke ends\n"
    "one of yours (an admin's: anyone's) at once.\n"
    "\n"
    "  --name NAME  what the token is for, as 'laptop' or 'crm sync'\n"
    "  --all        everyone's tokens and sessions (admins)\n";

/* every command takes the global options too, so they may follow it */
static const struct option opts_global[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"server", required_argument, NULL, OPT_SERVER},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
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
    {"ics", no_argument, NULL, OPT_ICS},
    {"name", required_argument, NULL, OPT_NAME},
    {"all", no_argument, NULL, OPT_ALL},
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"server", required_argument, NULL, OPT_SERVER},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

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
    {"show", "ID", OPTBIT(OPT_ICS), usage_show, cmd_show},
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
    /* "promise token ACTION": main finds them by both words */
    {"token create", NULL, OPTBIT(OPT_NAME), usage_token, cmd_token_create},
    {"token list", NULL, OPTBIT(OPT_ALL), usage_token, cmd_token_list},
    {"token revoke", "ID", 0, usage_token, cmd_token_revoke},
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
		case OPT_SERVER:
			cli->server = optarg;
			break;
		case OPT_TOKEN_FILE:
			cli->token_file = optarg;
			break;
		case OPT_NAME:
			a->name = optarg;
			break;
		case OPT_ALL:
			a->all = true;
			break;
		case OPT_JSON:
			cli->json = true;
			out_json_on();
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
		case OPT_ICS:
			a->ics = true;
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

/*
 * "promise token ACTION": the command of both words, optind moved onto
 * ACTION so that it is the command's argv[0]; else a usage error as the
 * exit status, or *ret NULL once the help asked for is printed.
 */
static int
find_token_command(int argc, char **argv, const struct command **ret)
{
	char name[64];

	if (optind + 1 >= argc)
		return usage_error("token: missing create, list or revoke");
	if (strcmp(argv[optind + 1], "-h") == 0 ||
	    strcmp(argv[optind + 1], "--help") == 0) {
		fputs(usage_token, stdout);
		*ret = NULL;
		return CLI_OK;
	}
	(void)snprintf(name, sizeof(name), "token %s", argv[optind + 1]);
	if ((*ret = find_command(name)) == NULL)
		return usage_error("token: unknown action '%s' (create, list "
		                   "or revoke)",
		    argv[optind + 1]);
	optind++;
	return CLI_OK;
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
	if (strcmp(argv[1], "mail-in") == 0) {
		static char opt[] = "--help";
		char *args[] = {argv[1], opt, NULL};

		return cmd_mail_in_exec(NULL, 2, args);
	}
	if (strcmp(argv[1], "token") == 0) {
		fputs(usage_token, stdout);
		return CLI_OK;
	}
	if ((cmd = find_command(argv[1])) == NULL)
		return usage_error("unknown command '%s'", argv[1]);
	fputs(cmd->usage, stdout);
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	struct cli cli = {.fd = -1};
	const struct command *cmd = NULL;
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
		case OPT_SERVER:
			cli.server = optarg;
			break;
		case OPT_TOKEN_FILE:
			cli.token_file = optarg;
			break;
		case OPT_JSON:
			cli.json = true;
			out_json_on();
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
	/* the mail server's pipe: sysexits statuses, not promise's */
	if (strcmp(argv[optind], "mail-in") == 0)
		return cmd_mail_in_exec(
		    cli.socket, argc - optind, argv + optind);
	if (strcmp(argv[optind], "token") == 0) {
		status = find_token_command(argc, argv, &cmd);
		if (status != CLI_OK || cmd == NULL)
			goto out;
	} else if ((cmd = find_command(argv[optind])) == NULL) {
		status = usage_error("unknown command '%s'", argv[optind]);
		goto out;
	}
	if (!parse_args(&cli, cmd, argc - optind, argv + optind, &a, &status))
		goto out;
	if (cli.server == NULL && cli.socket == NULL &&
	    (env = getenv("PROMISE_SERVER")) != NULL && env[0] != '\0')
		cli.server = env;
	if (cli.server != NULL) {
		status = http_run(&cli, cmd->name, cmd->run, &a, argc, argv);
		goto out;
	}
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
	out_json_close(status);
	/* a full disk or closed pipe must not pass for success */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		errmsg("cannot write output: %s", strerror(errno));
		if (status == CLI_OK)
			status = CLI_REFUSED;
	}
	return status;
}
