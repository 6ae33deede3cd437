/* SPDX-License-Identifier: MIT */
/*
 * cmd.h: the commands of promise(1).  Each returns an exit status, not
 * -errno: failures are reported inside.  Private to the client.
 */
#ifndef PROMISE_CMD_H
#define PROMISE_CMD_H

#include "cli.h"

/* promises: cmd_promise.c */
int cmd_add(const struct cli *cli, const struct args *a);
int cmd_list(const struct cli *cli, const struct args *a);
int cmd_show(const struct cli *cli, const struct args *a);
int cmd_done(const struct cli *cli, const struct args *a);
int cmd_snooze(const struct cli *cli, const struct args *a);
int cmd_cancel(const struct cli *cli, const struct args *a);
int cmd_ack(const struct cli *cli, const struct args *a);

/* reading and reports: cmd_read.c */
int cmd_explain(const struct cli *cli, const struct args *a);
int cmd_report(const struct cli *cli, const struct args *a);
int cmd_sample(const struct cli *cli, const struct args *a);
int cmd_digest(const struct cli *cli, const struct args *a);

/* import and export: cmd_io.c */
int cmd_import(const struct cli *cli, const struct args *a);
int cmd_export(const struct cli *cli, const struct args *a);

/* administration: cmd_admin.c */
int cmd_deliveries(const struct cli *cli, const struct args *a);
int cmd_retry(const struct cli *cli, const struct args *a);
int cmd_status(const struct cli *cli, const struct args *a);
int cmd_backup(const struct cli *cli, const struct args *a);
int cmd_metrics(const struct cli *cli, const struct args *a);

/* API tokens and web sessions: cmd_token.c */
int cmd_token_create(const struct cli *cli, const struct args *a);
int cmd_token_list(const struct cli *cli, const struct args *a);
int cmd_token_revoke(const struct cli *cli, const struct args *a);

/* mail: cmd_mailin.c.  Runs promise-mail-in with argv (argv[0] being
 * "mail-in") and the socket given, if any; returns only if it cannot,
 * with EX_TEMPFAIL */
int cmd_mail_in_exec(const char *sock, int argc, char **argv);

#endif
