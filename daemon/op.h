/* SPDX-License-Identifier: MIT */
/*
 * op.h: the operations of the control protocol (common/PROTOCOL.md)
 * behind one call.  A front end frames and decodes nothing of an
 * operation: it hands op_dispatch a request line and who sent it, and
 * sends the reply it gets back once the batch that holds its change has
 * committed.  An operation never sees a connection; what it keeps from
 * one request to the next of the same client is in an op_session the
 * front end owns.
 */
#ifndef PROMISED_OP_H
#define PROMISED_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "conf.h"
#include "deliver.h"
#include "jsonw.h"
#include "sched.h"
#include "store.h"

struct auth;
struct op_backup;

/* what the operations act on: one for the daemon, whichever front end
 * asks (the import bytes held and the backup are limits on the daemon,
 * not on a front end); ctl.c holds it and sets the modules before the
 * loop runs */
struct op_ctx {
	struct store *st;
	struct sched *s;
	struct deliver *dl;
	const struct conf *conf; /* the policy in force; replaced on reload */
	int64_t started_at;
	/* the bytes of import parts held by every session together */
	size_t staged;
	/* the backup being written, one at a time; see op_backup_step */
	struct op_backup *backup;
	/* what the checks of tokens and sessions keep (auth_impl.h), made
	 * when first needed, freed by auth_end */
	struct auth *auth;
};

/* who asks, as the front end knows them; admin: see op_is_admin.  via
 * names how they came when not by the control socket ("link", "web"):
 * the history of what they change says it */
struct op_caller {
	const char *login;
	uid_t uid;
	bool admin;
	const char *via;
};

/*
 * What a client's operations keep between its requests: an import sent in
 * parts holds the promises of each part so far as compact JSON text
 * (parsed, they would take twenty times the room), how many, and the size
 * of their requests; no parts when none is under way.  Zeroed by the front
 * end when the client comes, ended with op_session_end when it goes.
 */
struct op_session {
	char **import;
	size_t import_parts, import_items, import_bytes;
};

/*
 * The answer to one request, for the front end to send.  It holds json or
 * else text (a reply object written by hand, without its closing brace,
 * so the front end can add the tag), or with pending neither.
 */
struct op_reply {
	json_t *json;
	struct jsonw text;
	json_t *tag;  /* the request's "tag" (a reference), to echo */
	bool write;   /* a change: if the batch fails, an error goes instead */
	bool pending; /* a backup was started: its answer comes from
	               * op_backup_step */
};

/* whether login (connected as uid) may do what only admins may */
bool op_is_admin(const struct conf *c, const char *login, uid_t uid);

/*
 * Runs the request line (len bytes, no newline) for who, inside the open
 * batch transaction: a change is made in a savepoint of its own and
 * scheduled once that is released.  Always fills rp, a bad request with
 * its error reply; op_reply_clear frees what the front end did not take.
 */
void op_dispatch(struct op_ctx *ctx, struct op_session *ss,
    const struct op_caller *who, const char *line, size_t len,
    struct op_reply *rp);
/* frees what rp still holds */
void op_reply_clear(struct op_reply *rp);
/* drops the session's import under way; ss may be reused */
void op_session_end(struct op_ctx *ctx, struct op_session *ss);

/*
 * Copies the next pages of ctx->backup.  Only between batches: the batch
 * holds changes not yet committed, which a backup must never contain.
 * 0 while it goes on; 1 once it is over, ctx->backup gone, with *ret_msg
 * its reply (NULL without memory).
 */
int op_backup_step(struct op_ctx *ctx, json_t **ret_msg);
/* ends ctx->backup, its file removed; why is logged unless NULL */
void op_backup_cancel(struct op_ctx *ctx, const char *why);

#endif
