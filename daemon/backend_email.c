/* SPDX-License-Identifier: MIT */
/*
 * backend_email.c: the email backend.  Each delivery becomes one RFC 5322
 * message composed from its payload alone (compose.c, mime.c), so every
 * attempt carries the same Message-ID and text, and goes out through
 * libcurl's SMTP client on a thread of its own (see "The mail thread"
 * below).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "backend.h"
#include "compose.h"
#include "curlev.h"
#include "jsonw.h"
#include "log.h"
#include "tz.h"
#include "util.h"
#include "worker.h"

#define SMTP_TIMEOUT_DEFAULT 30 /* seconds, when [smtp] timeout is <= 0 */

/*
 * The mail thread (worker.c).  libcurl 7.88 waits for the server's reply
 * to the end of a message in a blocking loop (smtp_done), for up to
 * CURLOPT_SERVER_RESPONSE_TIMEOUT, so the transfers run on a thread of
 * their own; a slow server then holds up other email only, never the
 * daemon's loop.  The main thread composes each message and configures
 * its easy handle completely (smtp_start) before the hand-over: the mail
 * thread only adds it to its multi and records the outcome, and
 * email_report tells the host's done() (called nowhere else).  On stopping,
 * the progress callback makes libcurl give up on a stuck wait within a
 * second.
 */

/* one message on its way; owned as told above */
struct smtp_xfer {
	struct work work;
	struct worker *w;
	struct backend_delivery
	    *d; /* the main thread's: the worker never reads it */
	CURL *easy;
	struct curl_slist *rcpt;
	char *msg;
	size_t len, off; /* the message, and how much libcurl has read */
	char *to;        /* for the error line */
	char *url;       /* the server, without userinfo */
	long reply_code; /* the last failure reply seen, or 0 */
	char reply[160]; /* its text, printable ASCII */
	char errbuf[CURL_ERROR_SIZE];
	/* the outcome, written by the worker before it hands x back */
	int start_err; /* -errno if the transfer could not start */
	CURLcode result;
	long code; /* the server's last reply code, or 0 */
};

struct backend_smtp {
	struct backend b;
	const struct conf *c;
	backend_done_fn *done; /* the host's */
	struct worker w;
};

/* the URL without userinfo, which may hold a password */
static char *
url_public(const char *url)
{
	const char *host = strstr(url, "://"), *end, *at;
	struct jsonw b = {0};

	if (host == NULL)
		host = url;
	else
		host += 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	while (at != NULL && memchr(at + 1, '@', (size_t)(end - at - 1)))
		at = memchr(at + 1, '@', (size_t)(end - at - 1));
	jw_put(&b, url, (size_t)(host - url));
	jw_lit(&b, at != NULL ? at + 1 : host);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* CURLOPT_READFUNCTION */
static size_t
read_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp_xfer *x = arg;
	size_t n = size * nmemb, left = x->len - x->off;

	if (n > left)
		n = left;
	memcpy(ptr, x->msg + x->off, n);
	x->off += n;
	return n;
}

/* CURLOPT_READFUNCTION for a message cut off at shutdown (worker_stop) */
static size_t
read_abort_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)size;
	(void)nmemb;
	(void)arg;
	return CURL_READFUNC_ABORT;
}

/*
 * CURLOPT_HEADERFUNCTION: libcurl hands over the server's reply lines
 * here.  The last failure reply is kept, since its text says why.
 */
static size_t
header_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct smtp_xfer *x = arg;
	size_t n = size * nmemb, i, j = 0;

	if (n < 3 || (ptr[0] != '4' && ptr[0] != '5') || ptr[1] < '0' ||
	    ptr[1] > '9' || ptr[2] < '0' || ptr[2] > '9')
		return n;
	x->reply_code =
	    (ptr[0] - '0') * 100 + (ptr[1] - '0') * 10 + (ptr[2] - '0');
	for (i = 0; i < n && j + 1 < sizeof(x->reply); i++) {
		unsigned char ch = (unsigned char)ptr[i];

		if (ch == '\r' || ch == '\n')
			break;
		x->reply[j++] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
	}
	x->reply[j] = '\0';
	return n;
}

/*
 * Whether a later attempt may succeed.  The server's reply decides when
 * there is one (RFC 5321 4.2.1: 4yz transient, 5yz permanent, so 421,
 * 450-452 and 454 retry, 535 and 550 do not).  Without one, what a retry
 * cannot cure is permanent; everything else, network and TLS trouble
 * included, is transient: the retry window bounds it, and a certificate
 * being renewed should not lose mail.
 */
static int
smtp_rc(CURLcode res, long code)
{
	if (res == CURLE_OK)
		return 0;
	if (code >= 400 && code <= 499)
		return -EAGAIN;
	if (code >= 500 && code <= 599)
		return -EPERM;
	switch (res) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_READ_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -EPERM;
	default:
		return -EAGAIN;
	}
}

/*
 * Whether the relay, rather than the message, failed: it could not be
 * reached, its certificate did not pass, or it refused promised's login
 * (RFC 4954: 530 authentication required, 534 mechanism too weak, 535
 * credentials invalid, 454 temporary authentication failure; RFC 5321:
 * 421 service not available), or it never said a word (code 0: no
 * greeting before the timeout or the connection's end).  Every other
 * message would fail the same way, so the channel is down (done()'s
 * -ENETDOWN) and no message is blamed for it.
 */
static bool
smtp_channel_failed(CURLcode res, long code)
{
	if (res == CURLE_OK)
		return false;
	if (code == 421 || code == 454 || code == 530 || code == 534 ||
	    code == 535)
		return true;
	switch (res) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return true;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
		return code == 0;
	default:
		return false;
	}
}

/*
 * CURLOPT_XFERINFOFUNCTION, on the mail thread: libcurl calls it during
 * transfers and about once a second while it blocks for a reply (to the
 * end of the message in smtp_done, to QUIT when it disconnects), so a stop
 * gets libcurl out of such a wait without waiting for the server.
 */
static int
xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct worker *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return worker_stopping(w) ? 1 : 0;
}

/* one line: "email to 'TO' via 'URL' failed: 451 4.3.0 try later" */
static void
smtp_error(const struct smtp_xfer *x, const char *pw, CURLcode res, long code,
    char *err, size_t errlen)
{
	const char *why;
	char num[CURL_ERROR_SIZE + 32];
	size_t i;

	why = x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(res);
	if (x->start_err < 0)
		why = strerror(-x->start_err);
	else if (code >= 400 && code <= 599) {
		if (x->reply_code == code && x->reply[0] != '\0')
			why = x->reply;
		else {
			(void)snprintf(num, sizeof(num), "%ld %s", code, why);
			why = num;
		}
	}
	/* libcurl's messages carry no password; make sure of it */
	if (pw != NULL && pw[0] != '\0' && strstr(why, pw) != NULL)
		why = curl_easy_strerror(res);
	(void)snprintf(err, errlen, "email to '%s' via '%s' failed: %s", x->to,
	    x->url, why);
	for (i = 0; err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			err[i] = ' ';
}

/* frees x and all it owns, the easy handle only if own_easy */
static void
xfer_free(struct smtp_xfer *x, bool own_easy)
{
	if (x == NULL)
		return;
	if (own_easy && x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->rcpt);
	free(x->msg);
	free(x->to);
	free(x->url);
	free(x);
}

static struct smtp_xfer *
xfer_of(struct work *item)
{
	return container_of(item, struct smtp_xfer, work);
}

/* mail thread, curlev_done_fn: the transfer is over and easy is ours */
static void
email_done_cb(CURL *easy, CURLcode res, void *arg)
{
	struct smtp_xfer *x = arg;

	x->result = res;
	x->code = 0;
	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->code);
	worker_finish(x->w, &x->work);
}

/* mail thread: worker_ops.begin */
static int
email_begin(struct worker *w, struct work *item)
{
	struct smtp_xfer *x = xfer_of(item);
	int r;

	if ((r = curlev_add(worker_curlev(w), x->easy, email_done_cb, x)) < 0)
		x->start_err = r;
	return r;
}

/* main thread: worker_ops.report */
static void
email_report(struct worker *w, struct work *item)
{
	struct backend_smtp *bs = w->owner;
	struct smtp_xfer *x = xfer_of(item);
	struct backend_delivery *d = x->d;
	char err[768];
	int rc;

	rc = x->start_err < 0 ? x->start_err
	    : smtp_channel_failed(x->result, x->code)
	    ? -ENETDOWN
	    : smtp_rc(x->result, x->code);
	err[0] = '\0';
	if (rc != 0)
		smtp_error(x, bs->c->smtp_password, x->result, x->code, err,
		    sizeof(err));
	xfer_free(x, true);
	/* last: done() may free d, or start another delivery */
	bs->done(d, rc, rc != 0 ? err : NULL, 0);
}

/*
 * Main thread, worker_ops.abandon: a transfer under way loses its
 * recipient list and its message, so that libcurl, letting go of it in
 * curlev_close, does not end a half-sent message with "." (nor wait for a
 * reply to it): a cut-off email is never handed over as complete.
 */
static void
email_abandon(struct work *item)
{
	struct smtp_xfer *x = xfer_of(item);

	(void)curl_easy_setopt(x->easy, CURLOPT_MAIL_RCPT, NULL);
	(void)curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, read_abort_cb);
}

/* main thread: worker_ops.drop */
static void
email_drop(struct work *item, bool running)
{
	xfer_free(xfer_of(item), !running);
}

static const struct worker_ops email_ops = {
    .begin = email_begin,
    .report = email_report,
    .abandon = email_abandon,
    .drop = email_drop,
};

/*
 * A new easy handle for x, configured from c, completely: the mail thread
 * only ever adds it to its multi.
 */
static int
xfer_setup(struct smtp_xfer *x, const struct conf *c, const char *from)
{
	CURL *h;
	CURLcode e;
	long use_ssl, timeout;
	char *mfrom = NULL;
	size_t n = strlen(from) + 3;
	int r = 0;

	use_ssl = c->smtp_starttls == SMTP_TLS_REQUIRED ? (long)CURLUSESSL_ALL
	    : c->smtp_starttls == SMTP_TLS_OPTIONAL     ? (long)CURLUSESSL_TRY
	                                                : (long)CURLUSESSL_NONE;
	timeout =
	    c->smtp_timeout > 0 ? (long)c->smtp_timeout : SMTP_TIMEOUT_DEFAULT;
	if ((x->easy = h = curl_easy_init()) == NULL ||
	    (mfrom = malloc(n)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	(void)snprintf(mfrom, n, "<%s>", from);
	if ((e = curl_easy_setopt(h, CURLOPT_URL, c->smtp_url)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps")) !=
	        CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_MAIL_RCPT, x->rcpt)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_UPLOAD, 1L)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb)) !=
	        CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_READDATA, x)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
	         (curl_off_t)x->len)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb)) !=
	        CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_HEADERDATA, x)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout)) != CURLE_OK ||
	    /* libcurl 7.88 waits for the reply to the end of the message
	     * blocking the mail thread's loop; CURLOPT_TIMEOUT does not bound
	     * that wait (and the QUIT after it), this does: to 2 * timeout */
	    (e = curl_easy_setopt(
	         h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout)) != CURLE_OK ||
	    /* a connection is never kept: libcurl caches one even when the
	     * wait above failed with the reply still to come, which the next
	     * message would take for its own; and cached ones say QUIT and
	     * wait again in curlev_close, on the main thread, where no stop
	     * gets through to them */
	    (e = curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L)) != CURLE_OK ||
	    /* and this gets a stop through to those waits (xferinfo_cb) */
	    (e = curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xferinfo_cb)) !=
	        CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_XFERINFODATA, x->w)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (e = curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf)) !=
	        CURLE_OK) {
		r = e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EPERM;
		goto out;
	}
	if (c->smtp_ca_file != NULL &&
	    (e = curl_easy_setopt(h, CURLOPT_CAINFO, c->smtp_ca_file)) !=
	        CURLE_OK) {
		r = e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EPERM;
		goto out;
	}
	if (!c->smtp_tls_verify &&
	    ((e = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L)) !=
	            CURLE_OK ||
	        (e = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L)) !=
	            CURLE_OK)) {
		r = e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EPERM;
		goto out;
	}
	if (c->smtp_username != NULL &&
	    ((e = curl_easy_setopt(h, CURLOPT_USERNAME, c->smtp_username)) !=
	            CURLE_OK ||
	        (e = curl_easy_setopt(h, CURLOPT_PASSWORD,
	             c->smtp_password != NULL ? c->smtp_password : "")) !=
	            CURLE_OK)) {
		r = e == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EPERM;
		goto out;
	}
out:
	/* libcurl copied MAIL_FROM */
	free(mfrom);
	return r;
}

static int
smtp_start(
    struct backend *b, struct backend_delivery *d, char *err, size_t errlen)
{
	struct backend_smtp *bs = container_of(b, struct backend_smtp, b);
	struct worker *w = &bs->w;
	const struct conf *c = bs->c;
	struct smtp_xfer *x = NULL;
	struct jsonw msg = {0};
	struct mail m;
	json_t *root;
	const char *why = NULL;
	char rcpt[260];
	size_t i;
	int r = -EPERM;

	root = json_loads(d->payload, 0, NULL);
	if (root == NULL) {
		why = "the payload is not JSON";
		goto out;
	}
	if ((why = compose_parse(root, &m, util_now())) != NULL)
		goto out;
	/* refused rather than sent: these go into headers and commands */
	if (!util_email_ok(m.to)) {
		why = "the recipient's address is not a plain address";
		goto out;
	}
	if (c->smtp_url == NULL || c->smtp_from == NULL ||
	    !util_email_ok(c->smtp_from)) {
		why = "[smtp] url or from is missing or not plain";
		goto out;
	}
	for (i = 0; d->uid[i] != '\0'; i++)
		if (!((d->uid[i] >= '0' && d->uid[i] <= '9') ||
		        (d->uid[i] >= 'a' && d->uid[i] <= 'z') ||
		        (d->uid[i] >= 'A' && d->uid[i] <= 'Z')))
			break;
	if (i == 0 || d->uid[i] != '\0') {
		why = "the delivery id is not alphanumeric";
		goto out;
	}

	if ((r = compose_message(&msg, &m, d->uid, c->smtp_from, util_now())) <
	    0)
		goto out;
	r = -ENOMEM;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		goto out;
	x->w = w;
	x->d = d;
	x->msg = msg.s;
	x->len = msg.len;
	msg.s = NULL;
	(void)snprintf(rcpt, sizeof(rcpt), "<%s>", m.to);
	if ((x->to = strdup(m.to)) == NULL ||
	    (x->url = url_public(c->smtp_url)) == NULL ||
	    (x->rcpt = curl_slist_append(NULL, rcpt)) == NULL)
		goto out;
	if ((r = xfer_setup(x, c, c->smtp_from)) < 0)
		goto out;
	/* the hand-over: from here x is the mail thread's, and it comes back
	 * through email_report, from the loop, so never before this returns */
	worker_submit(w, &x->work);
	x = NULL;
	r = 0;
out:
	if (why != NULL)
		snprintf(err, errlen, "no email sent: %s", why);
	xfer_free(x, true);
	free(msg.s);
	json_decref(root);
	return r;
}

/* said at every start and reload while it holds: it is not a setting to
 * leave on by accident */
static void
warn_tls(const struct conf *c)
{
	if (!c->smtp_tls_verify)
		log_warnx("[smtp] tls_verify = false: the relay's certificate "
		          "and name are not checked, so anyone on the path can "
		          "read the mail and the password; trust a private CA "
		          "with ca_file instead");
}

static int
smtp_reload(struct backend *b, const struct conf *c)
{
	warn_tls(c);
	/* transfers under way keep what they were given: libcurl copied the
	 * strings, and each transfer has its own URL and address copies; the
	 * mail thread never reads the configuration */
	container_of(b, struct backend_smtp, b)->c = c;
	return 0;
}

/*
 * Ownership at shutdown: worker_stop joins the mail thread and drops what
 * it still had, never calling done(): those deliveries stay pending
 * in the store.
 */
static void
smtp_free(struct backend *b)
{
	struct backend_smtp *bs;

	/* container_of on NULL would be arithmetic on a null pointer */
	if (b == NULL)
		return;
	bs = container_of(b, struct backend_smtp, b);
	worker_stop(&bs->w);
	free(bs);
}

int
backend_email_open(struct backend **ret, const struct backend_host *host,
    const struct conf *c, char *err, size_t errlen)
{
	const curl_version_info_data *vi;
	const char *want;
	struct backend_smtp *bs = NULL;
	size_t i;
	int r = 0;

	*ret = NULL;
	if (c->smtp_url == NULL || c->smtp_from == NULL) {
		snprintf(err, errlen, "[smtp] needs url and from");
		r = -EINVAL;
		goto out;
	}
	/* a libcurl built without it would fail every delivery for good */
	want = strncmp(c->smtp_url, "smtps:", 6) == 0 ? "smtps" : "smtp";
	vi = curl_version_info(CURLVERSION_NOW);
	for (i = 0; vi->protocols[i] != NULL; i++)
		if (strcmp(vi->protocols[i], want) == 0)
			break;
	if (vi->protocols[i] == NULL) {
		snprintf(err, errlen, "libcurl %s has no %s support",
		    vi->version, want);
		r = -ENOTSUP;
		goto out;
	}
	if ((bs = calloc(1, sizeof(*bs))) == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "email: %s", strerror(-r));
		goto out;
	}
	bs->b.name = "email";
	bs->b.start = smtp_start;
	bs->b.reload = smtp_reload;
	bs->b.free = smtp_free;
	bs->c = c;
	bs->done = host->done;
	warn_tls(c);
	/* before the thread exists (see tz.h); a no-op after main.c's */
	if ((r = tz_pin()) < 0 ||
	    (r = worker_start(&bs->w, &email_ops, bs, host->loop, 0)) < 0) {
		snprintf(err, errlen, "email: cannot start the mail thread: %s",
		    strerror(-r));
		goto out;
	}
	*ret = &bs->b;
	bs = NULL;
out:
	if (bs != NULL)
		smtp_free(&bs->b);
	return r;
}
