/* SPDX-License-Identifier: MIT */
/*
 * mailin.c: promise-mail-in, what "promise mail-in" runs: the pipe a mail
 * server delivers promised's mail to, as Request Tracker's rt-mailgate is.
 * It reads one RFC 5322 message on stdin, takes it apart with GMime
 * (multipart, quoted-printable, base64, any charset, HTML-only mail) and
 * hands promised what a person wrote, with who wrote it to whom and what
 * the receiving server said of the sender, as one "mail" request.
 *
 * The MIME parsing runs here, in the mail server's process, and not in
 * the daemon: a parser of hostile input with a library the size of GMime
 * (and GLib under it) stays out of the process that holds every promise
 * and runs as their owner, and a message that crashes it costs one
 * delivery attempt, not the service.  The daemon gets plain fields and
 * checks them as it checks any request.  It is a program of its own so
 * that promise(1), started for every command, does not load GLib.
 *
 * The exit status tells the mail server what to do (sysexits.h): 0 done,
 * 65 unparseable, 67 no such address, 77 not a gateway user, 75 try again
 * later (promised not running, busy, or failing): no mail is lost.  A mail
 * promised refuses (a bad token, a sender not vouched for, a command that
 * cannot be done) is done too: promised answered its sender itself, in
 * the thread, and a bounce from the mail server as well would be a
 * second, cryptic answer to the same mail; a sender promised does not
 * know gets neither, as a bounce to a forged sender is backscatter.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "mailtext.h"
#include "proto.h"
#include "util.h"

/* a message bigger than this is no reply nor a promise: refused */
#define MAX_MESSAGE (25u * 1024 * 1024)
/* what is sent of the text: well inside a protocol line */
#define MAX_TEXT 16000
#define MAX_ADDRS 50
/* promised answers after its commit; longer means it is stuck */
#define REPLY_TIMEOUT_SECS 60

static const char usage[] =
    "usage: promise mail-in [--socket PATH] [RECIPIENT]\n"
    "\n"
    "Reads one mail on standard input and hands it to promised: a reply to\n"
    "one of its emails acts on the promise, a mail to [mail] address makes\n"
    "one.  Run by the mail server as one of [mail] gateway_users.\n"
    "RECIPIENT is the envelope recipient (default $ORIGINAL_RECIPIENT,\n"
    "$RECIPIENT, else the message's Delivered-To).  Exit status: 0 done\n"
    "(a refusal too: promised answers its sender), 65 unparseable, 67\n"
    "unknown address, 77 not a gateway user, 75 try again later.\n";

/* s cut to at most max bytes at a character, made valid UTF-8; malloc'd */
static char *
clean(const char *s, size_t max)
{
	gchar *v = g_utf8_make_valid(s != NULL ? s : "", -1);
	const gchar *end;
	char *out;

	if (v == NULL)
		return NULL;
	if (strlen(v) > max) {
		end = g_utf8_find_prev_char(v, v + max + 1);
		v[end != NULL ? (size_t)(end - v) : 0] = '\0';
	}
	out = strdup(v);
	g_free(v);
	return out;
}

static int
set_clean(json_t *o, const char *key, const char *s, size_t max)
{
	char *v = clean(s, max);
	int r;

	if (v == NULL)
		return -ENOMEM;
	r = json_object_set_new(o, key, json_string(v)) == 0 ? 0 : -ENOMEM;
	free(v);
	return r;
}

/* the mailboxes of list (groups opened) appended to arr as
 * {"address","name"?} */
static int
add_addresses(json_t *arr, InternetAddressList *list)
{
	int i, n = list != NULL ? internet_address_list_length(list) : 0;

	for (i = 0; i < n && json_array_size(arr) < MAX_ADDRS; i++) {
		InternetAddress *ia =
		    internet_address_list_get_address(list, i);
		json_t *o;

		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			if (add_addresses(arr,
			        internet_address_group_get_members(
			            INTERNET_ADDRESS_GROUP(ia))) < 0)
				return -ENOMEM;
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		if ((o = json_object()) == NULL ||
		    json_array_append_new(arr, o) < 0 ||
		    set_clean(o, "address",
		        internet_address_mailbox_get_addr(
		            INTERNET_ADDRESS_MAILBOX(ia)),
		        320) < 0)
			return -ENOMEM;
		if (internet_address_get_name(ia) != NULL &&
		    set_clean(o, "name", internet_address_get_name(ia), 200) <
		        0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * The first text part that is not an attachment, depth first: text/plain
 * if there is one (a multipart/alternative's plain side), else text/html.
 * A forwarded message/rfc822 is not entered: its words are not the
 * sender's.
 */
static void
find_text(GMimeObject *o, GMimeTextPart **plain, GMimeTextPart **html)
{
	GMimeContentType *ct;
	int i, n;

	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n && *plain == NULL; i++)
			find_text(
			    g_mime_multipart_get_part(GMIME_MULTIPART(o), i),
			    plain, html);
		return;
	}
	if (!GMIME_IS_TEXT_PART(o) || g_mime_part_is_attachment(GMIME_PART(o)))
		return;
	ct = g_mime_object_get_content_type(o);
	if (g_mime_content_type_is_type(ct, "text", "plain") && *plain == NULL)
		*plain = GMIME_TEXT_PART(o);
	else if (g_mime_content_type_is_type(ct, "text", "html") &&
	    *html == NULL)
		*html = GMIME_TEXT_PART(o);
}

/* a forwarded message attached whole: its sender, as the customer */
static InternetAddressList *
attached_from(GMimeObject *o)
{
	GMimeMessage *inner;
	InternetAddressList *l;
	int i, n;

	if (GMIME_IS_MESSAGE_PART(o)) {
		inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		return inner != NULL ? g_mime_message_get_from(inner) : NULL;
	}
	if (!GMIME_IS_MULTIPART(o))
		return NULL;
	n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
	for (i = 0; i < n; i++)
		if ((l = attached_from(g_mime_multipart_get_part(
		         GMIME_MULTIPART(o), i))) != NULL)
			return l;
	return NULL;
}

/* the writer's own words of msg, UTF-8, quotes and signature left out */
static int
set_text(json_t *req, GMimeMessage *msg)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	GMimeTextPart *plain = NULL, *html = NULL;
	char *raw = NULL, addr[320], name[200];
	json_t *fwd;
	int r = -ENOMEM;

	if (body != NULL)
		find_text(body, &plain, &html);
	if (plain != NULL)
		raw = g_mime_text_part_get_text(plain);
	else if (html != NULL) {
		char *h = g_mime_text_part_get_text(html);

		raw = h != NULL ? mailtext_from_html(h, strlen(h)) : NULL;
		g_free(h);
	}
	if (raw == NULL && (plain != NULL || html != NULL))
		goto out;
	if (raw != NULL &&
	    mailtext_forwarded_from(
	        raw, addr, sizeof(addr), name, sizeof(name)) == 0) {
		if ((fwd = json_object()) == NULL ||
		    json_object_set_new(req, "forwarded_from", fwd) < 0 ||
		    set_clean(fwd, "address", addr, 320) < 0 ||
		    (name[0] != '\0' && set_clean(fwd, "name", name, 200) < 0))
			goto out;
	}
	if (raw != NULL)
		raw[mailtext_reply_len(raw)] = '\0';
	r = set_clean(req, "text", raw != NULL ? raw : "", MAX_TEXT);
out:
	/* GMime's text is g_malloc'd, the HTML's ours: both are freed the
	 * same on glibc, but each by its own */
	if (plain != NULL)
		g_free(raw);
	else
		free(raw);
	return r;
}

/* every header called name, as its raw values, into an array at key */
static int
set_headers(json_t *req, GMimeMessage *msg, const char *name, const char *key)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int i, n = g_mime_header_list_get_count(hl);
	json_t *arr = json_array();
	char *v;

	if (arr == NULL || json_object_set_new(req, key, arr) < 0)
		return -ENOMEM;
	for (i = 0; i < n && json_array_size(arr) < 20; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) != 0)
			continue;
		if ((v = clean(g_mime_header_get_value(h), 2000)) == NULL ||
		    json_array_append_new(arr, json_string(v)) < 0) {
			free(v);
			return -ENOMEM;
		}
		free(v);
	}
	return 0;
}

/*
 * For a mail without a Message-ID, what names it instead, so that promised
 * knows it when the mail server delivers it again: SHA-256 in hex of the
 * headers its writer set (not those each delivery adds) and of its body
 * as it came (from body on, len bytes).
 */
static int
set_digest(json_t *req, GMimeMessage *msg, const char *body, size_t len)
{
	static const char *const names[] = {
	    "From", "To", "Cc", "Subject", "Date", "In-Reply-To", "References"};
	GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
	const char *v;
	size_t i;
	int r = -ENOMEM;

	if (sum == NULL)
		return -ENOMEM;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		v = g_mime_object_get_header(GMIME_OBJECT(msg), names[i]);
		g_checksum_update(sum, (const guchar *)names[i], -1);
		g_checksum_update(sum, (const guchar *)":", 1);
		if (v != NULL)
			g_checksum_update(sum, (const guchar *)v, -1);
		g_checksum_update(sum, (const guchar *)"\n", 1);
	}
	g_checksum_update(sum, (const guchar *)body, (gssize)len);
	if (json_object_set_new(
	        req, "digest", json_string(g_checksum_get_string(sum))) == 0)
		r = 0;
	g_checksum_free(sum);
	return r;
}

/* the "mail" request for msg, to recipient; NULL without memory.  The
 raw mail (len bytes) from raw on is its body. */
static json_t *
build(GMimeMessage *msg, const char *recipient, const char *raw, size_t len)
{
	json_t *req = json_pack("{s:i,s:s}", "v", 1, "op", "mail");
	json_t *from = json_array(), *to = json_array(), *cc = json_array();
	const char *v;
	int r = -ENOMEM;

	if (req == NULL || from == NULL || to == NULL || cc == NULL)
		goto out;
	if (add_addresses(from, g_mime_message_get_from(msg)) < 0 ||
	    add_addresses(to, g_mime_message_get_to(msg)) < 0 ||
	    add_addresses(cc, g_mime_message_get_cc(msg)) < 0)
		goto out;
	if (json_array_size(from) > 0 &&
	    json_object_set(req, "from", json_array_get(from, 0)) < 0)
		goto out;
	if (json_object_set(req, "to", to) < 0 ||
	    json_object_set(req, "cc", cc) < 0)
		goto out;
	if (recipient != NULL && set_clean(req, "recipient", recipient, 320))
		goto out;
	if (set_clean(req, "subject", g_mime_message_get_subject(msg),
	        PROTO_MAX_TITLE) < 0)
		goto out;
	if ((v = g_mime_message_get_message_id(msg)) != NULL && v[0] != '\0') {
		if (set_clean(req, "message_id", v, 900) < 0)
			goto out;
	} else if (set_digest(req, msg, raw, len) < 0)
		goto out;
	if ((v = g_mime_object_get_header(GMIME_OBJECT(msg), "References")) !=
	        NULL &&
	    set_clean(req, "references", v, 4000) < 0)
		goto out;
	if (set_headers(req, msg, "Authentication-Results",
	        "authentication_results") < 0 ||
	    set_headers(req, msg, "Delivered-To", "delivered_to") < 0 ||
	    set_headers(req, msg, "Auto-Submitted", "auto_submitted") < 0)
		goto out;
	if (set_text(req, msg) < 0)
		goto out;
	if (!json_object_get(req, "forwarded_from")) {
		json_t *fwd = json_array();
		GMimeObject *body = g_mime_message_get_mime_part(msg);

		if (fwd == NULL ||
		    (body != NULL &&
		        add_addresses(fwd, attached_from(body)) < 0))
			r = -ENOMEM;
		else if (json_array_size(fwd) > 0)
			json_object_set(
			    req, "forwarded_from", json_array_get(fwd, 0));
		json_decref(fwd);
	}
	r = 0;
out:
	json_decref(from);
	json_decref(to);
	json_decref(cc);
	if (r < 0) {
		json_decref(req);
		return NULL;
	}
	return req;
}

/* all of stdin into *ret (malloc'd) up to MAX_MESSAGE; 0, -E2BIG, -errno */
static int
slurp(char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_MESSAGE) {
				free(buf);
				return -E2BIG;
			}
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* sends req to the daemon at path and reads its reply; 0 or -errno */
static int
ask(const char *path, const json_t *req, json_t **ret)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_SECS};
	struct linebuf lb;
	char buf[65536], *msg = NULL, *line;
	size_t len;
	ssize_t n;
	int fd = -1, r;

	*ret = NULL;
	linebuf_init(&lb, PROTO_MAX_LINE);
	if (util_strlcpy(addr.sun_path, path, sizeof(addr.sun_path)) >=
	    sizeof(addr.sun_path)) {
		r = -ENAMETOOLONG;
		goto out;
	}
	if ((msg = proto_dump(req, &len)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = util_write_all(fd, msg, len)) < 0)
		goto out;
	for (;;) {
		if ((line = linebuf_next(&lb, &len)) != NULL && len > 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n == 0 ? -ENODATA : -errno;
			goto out;
		}
		if ((r = linebuf_append(&lb, buf, (size_t)n)) < 0)
			goto out;
	}
	*ret = json_loadb(line, len, 0, NULL);
	r = *ret != NULL ? 0 : -EBADMSG;
out:
	if (fd >= 0)
		close(fd);
	free(msg);
	linebuf_free(&lb);
	return r;
}

/* the exit status for the daemon's reply, its message on stderr */
static int
status_of(json_t *reply)
{
	json_t *e = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	const char *outcome =
	    json_string_value(json_object_get(reply, "outcome"));
	const char *reason =
	    json_string_value(json_object_get(reply, "reason"));

	if (json_is_true(json_object_get(reply, "ok"))) {
		if (reason != NULL)
			fprintf(stderr, "promise mail-in: %s%s\n",
			    outcome != NULL &&
			            strcmp(outcome, "refused") == 0 &&
			            !json_is_true(
			                json_object_get(reply, "again"))
			        ? "refused: "
			        : "",
			    reason);
		if (outcome != NULL && strcmp(outcome, "unknown") == 0)
			return EX_NOUSER;
		return EX_OK;
	}
	fprintf(stderr, "promise mail-in: %s\n",
	    msg != NULL ? msg : "promised refused the mail");
	if (code == NULL)
		return EX_TEMPFAIL;
	if (strcmp(code, "forbidden") == 0)
		return EX_NOPERM;
	if (strcmp(code, "not_found") == 0)
		return EX_NOUSER;
	if (strcmp(code, "invalid") == 0)
		return EX_DATAERR;
	return EX_TEMPFAIL; /* unavailable, internal: try again later */
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("PROMISE_SOCKET"), *recipient = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *msg = NULL;
	json_t *req = NULL, *reply = NULL;
	char *buf = NULL;
	size_t len = 0;
	gint64 hend;
	int i, r, status = EX_TEMPFAIL;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return EX_OK;
		} else if (argv[i][0] != '-' && recipient == NULL)
			recipient = argv[i];
		else {
			fprintf(stderr,
			    "promise mail-in: unknown argument "
			    "'%s'\n%s",
			    argv[i], usage);
			return EX_USAGE;
		}
	}
	if (sock == NULL || sock[0] == '\0')
		sock = PROMISED_DEFAULT_SOCKET;
	if (recipient == NULL)
		recipient = getenv("ORIGINAL_RECIPIENT");
	if (recipient == NULL)
		recipient = getenv("RECIPIENT");
	if ((r = slurp(&buf, &len)) < 0) {
		fprintf(stderr, "promise mail-in: reading the mail: %s\n",
		    r == -E2BIG ? "bigger than 25 MB" : strerror(-r));
		return r == -E2BIG ? EX_DATAERR : EX_TEMPFAIL;
	}
	g_mime_init();
	stream = g_mime_stream_mem_new_with_buffer(buf, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	if (msg == NULL || g_mime_message_get_from(msg) == NULL ||
	    internet_address_list_length(g_mime_message_get_from(msg)) == 0) {
		fprintf(stderr,
		    "promise mail-in: not a mail with a From "
		    "address\n");
		status = EX_DATAERR;
		goto out;
	}
	hend = g_mime_parser_get_headers_end(parser);
	if (hend < 0 || (size_t)hend > len)
		hend = (gint64)len;
	if ((req = build(msg, recipient, buf + hend, len - (size_t)hend)) ==
	    NULL) {
		fprintf(stderr, "promise mail-in: out of memory\n");
		goto out;
	}
	if ((r = ask(sock, req, &reply)) < 0) {
		fprintf(stderr,
		    "promise mail-in: cannot reach promised at %s: %s; the "
		    "mail server will try again\n",
		    sock, strerror(-r));
		goto out;
	}
	status = status_of(reply);
out:
	json_decref(reply);
	json_decref(req);
	if (msg != NULL)
		g_object_unref(msg);
	if (parser != NULL)
		g_object_unref(parser);
	if (stream != NULL)
		g_object_unref(stream);
	g_mime_shutdown();
	free(buf);
	return status;
}
