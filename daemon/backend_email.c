/*
 * backend_email.c: the email backend.  Each delivery becomes one RFC 5322
 * message composed from its payload alone, so every attempt carries the
 * same Message-ID and text, and goes out through libcurl's SMTP client on
 * a thread of its own (see "The mail thread" below).  Text from people
 * reaches a header only sanitised and, unless it is plain ASCII, RFC 2047
 * encoded, so no title can forge a header; the body is quoted-printable,
 * so no line is too long for any relay.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "curlev.h"
#include "deliver.h"
#include "log.h"
#include "timefmt.h"
#include "tz.h"
#include "util.h"

#define SMTP_TIMEOUT_DEFAULT 30 /* seconds, when [smtp] timeout is <= 0 */
#define HDR_FOLD_AT 78          /* RFC 5322 2.1.1: lines SHOULD be shorter */
#define HDR_EW_LINE 76          /* RFC 2047 2: lines holding encoded-words */
#define QP_LINE 76    /* RFC 2045 6.7: encoded lines, soft break included */
#define HIST_TEXT 200 /* bytes of a reason or note in one history line */

enum mail_kind {
	MAIL_NUDGE,
	MAIL_DUE,
	MAIL_ESCALATION,
	MAIL_RESOLVED,
	MAIL_UNDELIVERABLE,
	MAIL_DIGEST,
	MAIL_MAX,
	MAIL_INVALID = -EINVAL,
};

static const char *const mail_events[MAIL_MAX] = {
    [MAIL_NUDGE] = "promise.nudge",
    [MAIL_DUE] = "promise.due",
    [MAIL_ESCALATION] = "promise.escalation",
    [MAIL_RESOLVED] = "promise.resolved",
    [MAIL_UNDELIVERABLE] = "promise.undeliverable",
    [MAIL_DIGEST] = "promise.digest",
};

/* what a message is made of; the strings point into the parsed payload */
struct mail {
	enum mail_kind kind;
	int64_t occurred_at;
	const char *to, *login, *zone; /* the recipient */
	int64_t lead, repeat, level;
	int64_t id, due_at, snoozes;
	const char *title, *owner, *whom, *note, *state;
	json_t *history;  /* array, or NULL */
	json_t *failed;   /* object, or NULL */
	json_t *digest;   /* a digest's object (digest.h), or NULL */
	const char *root; /* the thread's root Message-ID, or NULL */
	bool first;
};

/* a growing string; oom is sticky, so composing checks it once at the end */
struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

/*
 * The mail thread.  libcurl 7.88 waits for the server's reply to the end of
 * a message in a blocking loop (smtp_done), for up to
 * CURLOPT_SERVER_RESPONSE_TIMEOUT, so the transfers run on a thread of
 * their own, with its own libev loop and its own curlev; a slow server then
 * holds up other email only, never the daemon's loop.
 *
 * The main thread composes each message and configures its easy handle
 * completely (smtp_start), then hands the whole smtp_xfer over on todo and
 * wakes the worker (wake).  The worker adds it to its multi and keeps it on
 * its own list, running; when the transfer ends it records the outcome in
 * the smtp_xfer and hands it back on done, waking the main loop (back),
 * whose callback reports it with deliver_done() (never called anywhere
 * else).  An smtp_xfer belongs to whoever holds it: the queues under mu,
 * the worker while it is on running, the main thread otherwise; nothing in
 * it is shared.  The worker never reads d, the configuration or anything
 * else of the main thread's: what it needs was copied into the smtp_xfer
 * or the easy handle before the hand-over.
 *
 * Stopping (smtp_free) sets stop, wakes the worker and joins it; the
 * progress callback makes libcurl give up on a stuck wait within a second.
 * After the join everything is the main thread's again, and every message
 * still queued or under way is dropped without deliver_done: those
 * deliveries stay pending in the store and go out again at start-up.
 */

/* one message on its way; owned as told above */
struct smtp_xfer {
	struct smtp_xfer *next, **pprev; /* a queue (pprev NULL) or running */
	struct smtp_worker *w;
	struct delivery *d; /* the main thread's: the worker never reads it */
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

/* a first-in first-out list of smtp_xfers, linked by next */
struct xq {
	struct smtp_xfer *head, **tail;
};

struct smtp_worker {
	pthread_mutex_t mu;
	struct xq todo; /* under mu: handed to the worker */
	struct xq done; /* under mu: handed back to the main thread */
	atomic_bool stop;
	struct ev_loop *loop;      /* the worker's */
	ev_async wake;             /* on loop: todo grew, or stop was set */
	struct curlev *cv;         /* on loop */
	struct smtp_xfer *running; /* the worker's: the transfers in cv */
	struct ev_loop *main_loop;
	ev_async back; /* on main_loop: done grew */
	pthread_t tid;
	bool mu_ok, started;
};

struct backend_smtp {
	struct backend b; /* first: the backend pointer casts back */
	const struct conf *c;
	struct smtp_worker w;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap != 0 ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256], *big = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		goto out;
	}
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		goto out;
	}
	if ((big = malloc((size_t)n + 1)) == NULL) {
		b->oom = true;
		goto out;
	}
	va_start(ap, fmt);
	(void)vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
out:
	free(big);
}

/*
 * Appends at most max bytes of s on one line: control characters, CR and
 * LF among them, become spaces, bidi and zero-width characters (text kept
 * from before they were refused) are left out, and a cut never splits a
 * UTF-8 character.
 */
static void
put_line_max(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s), i, len;
	bool cut = n > max;
	uint32_t cp;

	if (cut) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0xc0 &&
		    (len = util_utf8_decode(
		         (const unsigned char *)s + i, &cp)) > 1 &&
		    i + len <= n && util_cp_hidden(cp)) {
			i += len - 1;
			continue;
		}
		buf_add(b, ch < 0x20 || ch == 0x7f ? " " : s + i, 1);
	}
	if (cut)
		buf_puts(b, "...");
}

static void
put_line(struct buf *b, const char *s)
{
	put_line_max(b, s, SIZE_MAX);
}

/* appends text that may span lines, indenting every line after the first */
static void
put_block(struct buf *b, const char *s, const char *indent)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '\r' && p[1] == '\n')
			continue;
		if (ch == '\r' || ch == '\n') {
			buf_puts(b, "\n");
			buf_puts(b, indent);
		} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			buf_puts(b, " ");
		else
			buf_add(b, p, 1);
	}
}

static void
base64(struct buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	uint32_t v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		buf_add(b, q, 4);
	}
}

/* RFC 5322 atext */
static bool
is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* "<dot-atom@dot-atom>", the msg-id that goes into headers raw */
static bool
msgid_ok(const char *s)
{
	size_t n = strlen(s), i, at = 0, ats = 0;

	if (n < 5 || n > 250 || s[0] != '<' || s[n - 1] != '>')
		return false;
	for (i = 1; i < n - 1; i++) {
		if (s[i] == '@') {
			ats++;
			at = i;
		} else if (!is_atext(s[i]) && s[i] != '.')
			return false;
	}
	return ats == 1 && at > 1 && at < n - 2;
}

/*
 * Whether a header value can go out as it is: printable ASCII that no
 * decoder would take for an encoded-word, and folding at spaces can keep
 * every line within HDR_FOLD_AT.
 */
static bool
hdr_plain(const char *name, const char *v)
{
	size_t room = HDR_FOLD_AT - strlen(name) - 2, w;
	const char *p;

	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	if (strstr(v, "=?") != NULL)
		return false;
	for (p = v; *p != '\0'; p += w) {
		p += strspn(p, " ");
		w = strcspn(p, " ");
		if (w > room)
			return false;
	}
	return true;
}

/* a plain value, folded before a space where a line would grow too long */
static void
hdr_fold(struct buf *b, const char *name, const char *v)
{
	size_t start = strlen(name) + 2, col = start, sp, w;
	const char *p = v;

	buf_printf(b, "%s: ", name);
	while (*p != '\0') {
		sp = strspn(p, " ");
		w = strcspn(p + sp, " ");
		/* the space stays, as the continuation line's leading WSP;
		 * a line of nothing but spaces is never made */
		if (col + sp + w > HDR_FOLD_AT && col > start && sp > 0 &&
		    w > 0) {
			buf_puts(b, "\r\n");
			col = 0;
		}
		buf_add(b, p, sp + w);
		col += sp + w;
		p += sp + w;
	}
	buf_puts(b, "\r\n");
}

/*
 * The value as RFC 2047 B encoded-words, one per line, each line within
 * HDR_EW_LINE (so each word within 75) and no word splitting a UTF-8
 * character; decoders join adjacent encoded-words without the folding
 * whitespace between them.
 */
static void
hdr_encode(struct buf *b, const char *name, const char *v)
{
	size_t n = strlen(v), col = strlen(name) + 1, take, max;

	buf_printf(b, "%s:", name);
	do {
		/* " =?UTF-8?B?" and "?=" around 4 chars per 3 bytes */
		max = (HDR_EW_LINE - col - 1 - 12) / 4 * 3;
		take = n < max ? n : max;
		while (take < n && take > 0 &&
		    ((unsigned char)v[take] & 0xc0) == 0x80)
			take--;
		if (take == 0) /* not UTF-8 after all: cut anywhere */
			take = n < max ? n : max;
		buf_puts(b, " =?UTF-8?B?");
		base64(b, (const unsigned char *)v, take);
		buf_puts(b, "?=");
		v += take;
		n -= take;
		if (n > 0) {
			buf_puts(b, "\r\n");
			col = 0;
		}
	} while (n > 0);
	buf_puts(b, "\r\n");
}

/* a header from text that people wrote: it can never end the header */
static void
hdr_text(struct buf *b, const char *name, const char *value)
{
	struct buf clean = {0};

	put_line(&clean, value);
	buf_add(&clean, "", 0);
	if (clean.oom) {
		b->oom = true;
		goto out;
	}
	if (hdr_plain(name, clean.p))
		hdr_fold(b, name, clean.p);
	else
		hdr_encode(b, name, clean.p);
out:
	free(clean.p);
}

/* a header whose value was checked to be safe (addresses, ids, dates) */
static void
hdr_raw(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s: %s\r\n", name, value);
}

/*
 * Body text (UTF-8, lines ending in '\n') as quoted-printable with CRLF.
 * A leading '.' stays literal: libcurl dot-stuffs what it uploads.  A
 * leading "From " is encoded, for mailboxes that would mangle it.
 */
static void
qp_encode(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0, tl;
	char tok[3];

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool eol = i + 1 == n || s[i + 1] == '\n';

		if (ch == '\n') {
			buf_puts(b, "\r\n");
			col = 0;
			continue;
		}
		/* whitespace at the end of a line would be stripped */
		if ((ch >= 33 && ch <= 126 && ch != '=') ||
		    ((ch == ' ' || ch == '\t') && !eol)) {
			tok[0] = (char)ch;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[ch >> 4];
			tok[2] = hex[ch & 15];
			tl = 3;
		}
		/* room for the '=' of a soft line break */
		if (col + tl > QP_LINE - 1) {
			buf_puts(b, "=\r\n");
			col = 0;
		}
		if (col == 0 && ch == 'F' && n - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0) {
			memcpy(tok, "=46", 3);
			tl = 3;
		}
		buf_add(b, tok, tl);
		col += tl;
	}
	if (col != 0)
		buf_puts(b, "\r\n");
}

/* "Fri, 27 Nov 2026 17:00:00 +0100" in the local zone, English names */
static void
rfc5322_date(int64_t t, char *buf, size_t len)
{
	static const char *const wday[7] = {
	    "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&tt, &tm) == NULL && gmtime_r(&tt, &tm) == NULL) {
		/* only for times the C library cannot represent */
		memset(&tm, 0, sizeof(tm));
		tm.tm_mday = 1;
		tm.tm_year = 70;
		tm.tm_wday = 4;
	}
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	(void)snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    wday[(tm.tm_wday % 7 + 7) % 7], tm.tm_mday,
	    mon[(tm.tm_mon % 12 + 12) % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
}

/* a string member, or NULL when absent, null or not a string */
static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* an integer member into *v; false (and *v untouched) when there is none */
static bool
jint(const json_t *o, const char *key, int64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return false;
	*v = (int64_t)json_integer_value(j);
	return true;
}

/* reads the payload into m; NULL, or why it cannot make an email */
static const char *
mail_parse(json_t *root, struct mail *m)
{
	json_t *rcpt, *p, *th;
	const char *ev;

	memset(m, 0, sizeof(*m));
	m->kind = MAIL_INVALID;
	if (!json_is_object(root))
		return "the payload is not a JSON object";
	if ((ev = jstr(root, "event")) == NULL)
		return "the payload has no event";
	for (int i = 0; i < MAIL_MAX; i++)
		if (strcmp(ev, mail_events[i]) == 0)
			m->kind = (enum mail_kind)i;
	if (m->kind == MAIL_INVALID)
		return "the payload's event is not one email knows";
	rcpt = json_object_get(root, "recipient");
	if ((m->to = jstr(rcpt, "email")) == NULL)
		return "the recipient has no email address";
	m->login = jstr(rcpt, "login");
	m->zone = jstr(rcpt, "timezone");
	if (m->kind == MAIL_DIGEST) {
		/* about a team, not one promise */
		m->digest = json_object_get(root, "digest");
		if (!json_is_object(m->digest) ||
		    (m->owner = jstr(m->digest, "manager")) == NULL ||
		    !jint(m->digest, "at", &m->due_at))
			return "the payload's digest lacks manager or at";
		m->title = "";
		goto thread;
	}
	p = json_object_get(root, "promise");
	if (!jint(p, "id", &m->id) || (m->title = jstr(p, "title")) == NULL ||
	    (m->owner = jstr(p, "owner")) == NULL ||
	    !jint(p, "due_at", &m->due_at))
		return "the payload's promise lacks id, title, owner or due_at";
	m->whom = jstr(p, "for");
	m->note = jstr(p, "note");
	m->state = jstr(p, "state");
	(void)jint(p, "snoozes", &m->snoozes);
	if (!jint(root, "occurred_at", &m->occurred_at))
		m->occurred_at = util_now();
	if (!jint(root, "lead", &m->lead))
		m->lead = m->due_at - m->occurred_at;
	if (m->lead < 0)
		m->lead = 0;
	(void)jint(root, "repeat", &m->repeat);
	(void)jint(root, "level", &m->level);
	m->history = json_object_get(root, "history");
	if (!json_is_array(m->history))
		m->history = NULL;
	m->failed = json_object_get(root, "failed");
	if (!json_is_object(m->failed))
		m->failed = NULL;
	if (m->kind == MAIL_UNDELIVERABLE && m->failed == NULL)
		return "the payload says nothing of the failed delivery";
thread:
	if ((th = json_object_get(root, "thread")) != NULL) {
		m->root = jstr(th, "root");
		if (m->root == NULL || !msgid_ok(m->root))
			return "the payload's thread.root is not a message id";
		m->first = json_is_true(json_object_get(th, "first"));
	}
	return NULL;
}

/* the login of whoever an undeliverable notice is about */
static const char *
failed_who(const struct mail *m)
{
	const char *who = jstr(m->failed, "recipient");

	return who != NULL ? who : m->owner;
}

static const char *
event_noun(const char *event)
{
	if (event == NULL)
		return "message";
	if (strcmp(event, "promise.nudge") == 0)
		return "reminder";
	if (strcmp(event, "promise.due") == 0)
		return "due notice";
	if (strcmp(event, "promise.escalation") == 0)
		return "escalation";
	if (strcmp(event, "promise.resolved") == 0)
		return "notice that it was resolved";
	return "message";
}

/* a section's count, or 0 */
static int64_t
dcount(const struct mail *m, const char *section)
{
	int64_t n = 0;

	(void)jint(json_object_get(m->digest, section), "count", &n);
	return n;
}

/* "60%", or "" when the rate is null */
static void
percent(const json_t *rate, char *buf, size_t len)
{
	buf[0] = '\0';
	if (json_is_number(rate))
		snprintf(buf, len, "%.0f%%", json_number_value(rate) * 100.0);
}

static void
digest_subject(struct buf *b, const struct mail *m)
{
	const char *week = jstr(m->digest, "week");
	char pct[16];

	percent(json_object_get(
	            json_object_get(m->digest, "last_week"), "on_time_rate"),
	    pct, sizeof(pct));
	buf_puts(b, "[digest");
	if (week != NULL) {
		buf_puts(b, " ");
		put_line_max(b, week, 16);
	}
	buf_printf(b,
	    "] %" PRId64 " overdue, %" PRId64 " due this week, %s%s "
	    "last week",
	    dcount(m, "overdue"), dcount(m, "due_this_week"),
	    pct[0] ? pct : "nothing due", pct[0] ? " on time" : "");
}

static void
compose_subject(struct buf *b, const struct mail *m)
{
	char dur[64];

	if (m->kind == MAIL_DIGEST) {
		digest_subject(b, m);
		return;
	}
	buf_printf(b, "[promise %" PRId64 "] ", m->id);
	switch (m->kind) {
	case MAIL_NUDGE:
		timefmt_duration(m->lead, dur, sizeof(dur));
		buf_printf(b, "Due in %s: %s", dur, m->title);
		break;
	case MAIL_DUE:
		buf_printf(b, "Due now: %s", m->title);
		break;
	case MAIL_ESCALATION:
		buf_printf(b, "Overdue: %s (owner %s)", m->title, m->owner);
		break;
	case MAIL_RESOLVED:
		buf_printf(b, "Resolved: %s", m->title);
		break;
	case MAIL_UNDELIVERABLE:
	default:
		buf_printf(
		    b, "Could not reach %s: %s", failed_who(m), m->title);
		break;
	}
}

/* " to dan, boss": who a notice went to, from detail's "deliveries" */
static void
put_told(struct buf *b, const json_t *det)
{
	const json_t *list = json_object_get(det, "deliveries");
	const char *to, *prev;
	size_t i, j, shown = 0;

	for (i = 0; i < json_array_size(list); i++) {
		to = jstr(json_array_get(list, i), "to");
		if (to == NULL)
			continue;
		/* one person told by email and webhook is named once */
		for (j = 0; j < i; j++) {
			prev = jstr(json_array_get(list, j), "to");
			if (prev != NULL && strcmp(prev, to) == 0)
				break;
		}
		if (j < i)
			continue;
		if (shown == 5) {
			buf_puts(b, ", ...");
			break;
		}
		buf_puts(b, shown++ == 0 ? " to " : ", ");
		put_line_max(b, to, 64);
	}
}

/* one history event in words, after its time */
static void
put_event(struct buf *b, const char *kind, const char *actor, const json_t *det)
{
	const char *why;
	char t[96];
	int64_t v;

	if (actor == NULL)
		actor = "?";
	if (strcmp(kind, "created") == 0) {
		buf_puts(b, "created by ");
		put_line(b, actor);
		if (jint(det, "due_at", &v)) {
			timefmt_local(v, t, sizeof(t));
			buf_printf(b, ", due %s", t);
		}
	} else if (strcmp(kind, "snoozed") == 0) {
		buf_puts(b, "snoozed by ");
		put_line(b, actor);
		if (jint(det, "to", &v)) {
			timefmt_local(v, t, sizeof(t));
			buf_printf(b, " to %s", t);
		}
		if ((why = jstr(det, "reason")) != NULL) {
			buf_puts(b, ": ");
			put_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "nudge") == 0) {
		buf_puts(b, "reminder sent");
		put_told(b, det);
	} else if (strcmp(kind, "due") == 0) {
		buf_puts(b, "due notice sent");
		put_told(b, det);
	} else if (strcmp(kind, "escalation") == 0) {
		buf_puts(b, "escalated");
		put_told(b, det);
		if (jint(det, "repeat", &v) && v > 1)
			buf_printf(b, " (repeat %" PRId64 ")", v);
	} else if (strcmp(kind, "kept") == 0) {
		buf_puts(b, "kept by ");
		put_line(b, actor);
		if (jint(det, "late_by", &v) && v >= 60) {
			timefmt_duration(v - v % 60, t, sizeof(t));
			buf_printf(b, ", %s late", t);
		}
		if ((why = jstr(det, "note")) != NULL) {
			buf_puts(b, ": ");
			put_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "cancelled") == 0) {
		buf_puts(b, "cancelled by ");
		put_line(b, actor);
		if ((why = jstr(det, "reason")) != NULL) {
			buf_puts(b, ": ");
			put_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "acked") == 0) {
		buf_puts(b, "escalation acknowledged by ");
		put_line(b, actor);
		if (jint(det, "until", &v)) {
			timefmt_local(v, t, sizeof(t));
			buf_printf(b, ", repeats paused until %s", t);
		}
	} else if (strcmp(kind, "resolved") == 0) {
		buf_puts(b, "resolved notice sent");
		put_told(b, det);
	} else if (strcmp(kind, "undeliverable") == 0) {
		buf_puts(b, "a message could not be delivered");
		if ((why = jstr(det, "error")) != NULL) {
			buf_puts(b, ": ");
			put_line_max(b, why, HIST_TEXT);
		}
	} else if (strcmp(kind, "refused") == 0) {
		buf_puts(b, "refused to ");
		put_line(b, actor);
		if (jint(det, "count", &v) && v > 1)
			buf_printf(b, " (%" PRId64 " times)", v);
	} else {
		put_line_max(b, kind, 64);
		buf_puts(b, " by ");
		put_line(b, actor);
	}
}

static void
put_history(struct buf *b, const struct mail *m)
{
	json_t *e, *det, *parsed;
	const char *kind;
	char t[96];
	int64_t at;
	size_t i;

	if (m->history == NULL || json_array_size(m->history) == 0)
		return;
	buf_puts(b, "\nHistory:\n");
	for (i = 0; i < json_array_size(m->history); i++) {
		e = json_array_get(m->history, i);
		if ((kind = jstr(e, "kind")) == NULL || !jint(e, "at", &at))
			continue;
		/* the store keeps detail as JSON text; accept both forms */
		parsed = NULL;
		det = json_object_get(e, "detail");
		if (json_is_string(det))
			det = parsed =
			    json_loads(json_string_value(det), 0, NULL);
		timefmt_local(at, t, sizeof(t));
		buf_printf(b, "  %s  ", t);
		put_event(b, kind, jstr(e, "actor"), det);
		buf_puts(b, "\n");
		json_decref(parsed);
	}
}

/* the settling event of a resolved promise: the latest kept or cancelled */
static const json_t *
settled_event(const struct mail *m)
{
	const json_t *found = NULL;
	const char *kind;
	json_t *e;
	size_t i;

	if (m->history == NULL)
		return NULL;
	for (i = 0; i < json_array_size(m->history); i++) {
		e = json_array_get(m->history, i);
		kind = jstr(e, "kind");
		if (kind != NULL &&
		    (strcmp(kind, "kept") == 0 ||
		        strcmp(kind, "cancelled") == 0))
			found = e;
	}
	return found;
}

/* "Your promise 42" to its owner, "Promise 42, owned by dan," to others */
static void
put_opener(struct buf *b, const struct mail *m)
{
	if (m->login != NULL && strcmp(m->login, m->owner) == 0)
		buf_printf(b, "Your promise %" PRId64, m->id);
	else {
		buf_printf(b, "Promise %" PRId64 ", owned by ", m->id);
		put_line(b, m->owner);
		buf_puts(b, ",");
	}
}

static void
put_resolved(struct buf *b, const struct mail *m)
{
	const json_t *e = settled_event(m), *told;
	json_t *det = NULL;
	const char *kind, *why;
	char t[96];
	int64_t v;

	put_opener(b, m);
	if (e == NULL) {
		buf_puts(b, " is settled");
		if (m->state != NULL) {
			buf_puts(b, ": ");
			put_line_max(b, m->state, 32);
		}
		buf_puts(b, ".\n");
		goto out;
	}
	kind = jstr(e, "kind");
	det = json_object_get(e, "detail");
	det = json_is_string(det) ? json_loads(json_string_value(det), 0, NULL)
	                          : json_incref(det);
	buf_printf(b, " was %s by ", kind);
	put_line(b, jstr(e, "actor") != NULL ? jstr(e, "actor") : "?");
	if (jint(e, "at", &v)) {
		timefmt_local(v, t, sizeof(t));
		buf_printf(b, " on %s", t);
	}
	if (jint(det, "late_by", &v) && v >= 60) {
		timefmt_duration(v - v % 60, t, sizeof(t));
		buf_printf(b, ", %s late", t);
	}
	buf_puts(b, ".\n");
	/* what the manager most wants to know of a promise given up */
	told = json_object_get(det, "told_customer");
	if (strcmp(kind, "cancelled") == 0 && json_is_boolean(told))
		buf_puts(b,
		    json_is_true(told)
		        ? "The customer was told it is cancelled.\n"
		        : "The customer was not told it is cancelled.\n");
	why =
	    strcmp(kind, "kept") == 0 ? jstr(det, "note") : jstr(det, "reason");
	if (why != NULL) {
		buf_puts(
		    b, strcmp(kind, "kept") == 0 ? "Their note: " : "Why: ");
		put_block(b, why, "  ");
		buf_puts(b, "\n");
	}
out:
	buf_puts(b, "No more reminders will be sent about it.\n");
	json_decref(det);
}

static void
put_undeliverable(struct buf *b, const struct mail *m)
{
	const char *err = jstr(m->failed, "error");
	const char *ch = jstr(m->failed, "channel");

	buf_printf(b,
	    "promised could not deliver the %s about promise %" PRId64 " to ",
	    event_noun(jstr(m->failed, "event")), m->id);
	put_line(b, failed_who(m));
	if (ch != NULL) {
		buf_puts(b, " by ");
		put_line_max(b, ch, 32);
	}
	buf_puts(b, ", and has stopped trying.\n");
	if (err != NULL) {
		buf_puts(b, "The error was:\n  ");
		put_line_max(b, err, 900);
		buf_puts(b, "\n");
	}
	buf_puts(b, "Please make sure ");
	put_line(b, failed_who(m));
	buf_puts(b, " knows about it.\n");
}

/* "What you can do:" and the commands, with what each is for, aligned */
static void
put_command_table(
    struct buf *b, char (*cmd)[96], const char *const *what, int n)
{
	int w = 0, len;

	for (int i = 0; i < n; i++)
		if ((len = (int)strlen(cmd[i])) > w)
			w = len;
	buf_puts(b, "\nWhat you can do:\n");
	for (int i = 0; i < n; i++)
		buf_printf(b, "  %-*s  %s\n", w, cmd[i], what[i]);
}

static void
put_commands(struct buf *b, const struct mail *m)
{
	char cmd[4][96];
	const char *what[4];
	int n = 0;

	if (m->kind == MAIL_NUDGE || m->kind == MAIL_DUE ||
	    m->kind == MAIL_ESCALATION) {
		snprintf(
		    cmd[n], sizeof(cmd[n]), "promise done %" PRId64, m->id);
		what[n++] = "it is kept";
		snprintf(cmd[n], sizeof(cmd[n]),
		    "promise snooze %" PRId64 " --due WHEN --reason TEXT",
		    m->id);
		what[n++] = "move the deadline, saying why";
	}
	if (m->kind == MAIL_ESCALATION) {
		snprintf(cmd[n], sizeof(cmd[n]), "promise ack %" PRId64, m->id);
		what[n++] = "pause these repeats to you for one period";
	}
	snprintf(cmd[n], sizeof(cmd[n]), "promise show %" PRId64, m->id);
	what[n++] = "the promise and its history";
	put_command_table(b, cmd, what, n);
}

/* one section of a digest: its count and the promises it lists */
static void
put_digest_list(
    struct buf *b, const struct mail *m, const char *section, const char *name)
{
	const json_t *sec = json_object_get(m->digest, section);
	const json_t *list = json_object_get(sec, "promises"), *e;
	char due[96], rel[64];
	int64_t n = dcount(m, section), id, at;
	size_t i;

	buf_printf(b, "\n%s: %" PRId64 "\n", name, n);
	for (i = 0; i < json_array_size(list); i++) {
		e = json_array_get(list, i);
		if (!jint(e, "id", &id) || !jint(e, "due_at", &at) ||
		    jstr(e, "title") == NULL || jstr(e, "owner") == NULL)
			continue;
		timefmt_local(at, due, sizeof(due));
		timefmt_relative(at, m->due_at, rel, sizeof(rel));
		buf_printf(b, "  %-6" PRId64 " ", id);
		put_line_max(b, jstr(e, "owner"), 64);
		buf_printf(b, ", due %s (%s)\n         ", due, rel);
		put_line_max(b, jstr(e, "title"), 200);
		if (jstr(e, "for") != NULL) {
			buf_puts(b, " (for ");
			put_line_max(b, jstr(e, "for"), 100);
			buf_puts(b, ")");
		}
		buf_puts(b, "\n");
	}
	if (n > (int64_t)json_array_size(list))
		buf_printf(b, "  ... and %" PRId64 " more.\n",
		    n - (int64_t)json_array_size(list));
}

/* "5 came due: 3 kept on time, 1 kept late, 1 still open" */
static void
put_tally(struct buf *b, const json_t *o)
{
	int64_t due = 0, on = 0, late = 0, open = 0;
	char pct[16];

	(void)jint(o, "due", &due);
	(void)jint(o, "kept_on_time", &on);
	(void)jint(o, "kept_late", &late);
	(void)jint(o, "open", &open);
	percent(json_object_get(o, "on_time_rate"), pct, sizeof(pct));
	buf_printf(b,
	    "%" PRId64 " due: %" PRId64 " kept on time, %" PRId64
	    " kept late, %" PRId64 " still open",
	    due, on, late, open);
	if (pct[0])
		buf_printf(b, "; %s on time", pct);
}

static void
put_digest(struct buf *b, const struct mail *m)
{
	const json_t *team = json_object_get(m->digest, "team");
	const json_t *last = json_object_get(m->digest, "last_week");
	const json_t *owners = json_object_get(last, "owners"), *o;
	char t[96], cmd[3][96];
	const char *what[3] = {"the overdue promises", "who keeps their word",
	    "this digest, as of now"};
	int64_t due = 0;
	size_t i;

	timefmt_local(m->due_at, t, sizeof(t));
	buf_printf(b, "How your team stands, as of %s.\n", t);
	if (json_array_size(team) > 0) {
		buf_puts(b, "Team: ");
		for (i = 0; i < json_array_size(team); i++) {
			if (i > 0)
				buf_puts(b, ", ");
			if (i == 20) {
				buf_printf(b, "and %zu more",
				    json_array_size(team) - i);
				break;
			}
			put_line_max(
			    b, json_string_value(json_array_get(team, i)), 64);
		}
		buf_puts(b, "\n");
	}
	put_digest_list(b, m, "overdue", "Overdue now");
	put_digest_list(b, m, "due_this_week", "Due in the coming week");
	(void)jint(last, "due", &due);
	buf_puts(b, "\nLast week: ");
	if (due == 0) {
		buf_puts(b, "no promise came due.\n");
	} else {
		put_tally(b, last);
		buf_puts(b, ".\n");
		for (i = 0; i < json_array_size(owners); i++) {
			o = json_array_get(owners, i);
			if (jstr(o, "owner") == NULL)
				continue;
			buf_puts(b, "  ");
			put_line_max(b, jstr(o, "owner"), 64);
			buf_puts(b, ": ");
			put_tally(b, o);
			buf_puts(b, "\n");
		}
	}
	snprintf(cmd[0], sizeof(cmd[0]), "promise list --state overdue");
	snprintf(
	    cmd[1], sizeof(cmd[1]), "promise report --team %.64s", m->owner);
	snprintf(cmd[2], sizeof(cmd[2]), "promise digest");
	put_command_table(b, cmd, what, 3);
}

/* the body in the current (the recipient's) time zone, '\n' line ends */
static void
compose_body(struct buf *b, const struct mail *m, const char *uid)
{
	char due[96], rel[64], dur[64];

	if (m->kind == MAIL_DIGEST) {
		put_digest(b, m);
		buf_printf(b, "\n-- \npromised, delivery %s\n", uid);
		return;
	}
	timefmt_local(m->due_at, due, sizeof(due));
	timefmt_relative(m->due_at, m->occurred_at, rel, sizeof(rel));
	switch (m->kind) {
	case MAIL_NUDGE:
		timefmt_duration(m->lead, dur, sizeof(dur));
		put_opener(b, m);
		buf_printf(b, " is due in %s.\n", dur);
		break;
	case MAIL_DUE:
		put_opener(b, m);
		buf_puts(b, " is due now.\n");
		break;
	case MAIL_ESCALATION:
		put_opener(b, m);
		/* rel says "2h overdue", or "now" within the first minute */
		if (m->occurred_at - m->due_at >= 60)
			buf_printf(b, " is %s and not marked done.\n", rel);
		else
			buf_puts(b, " is due now and not marked done.\n");
		/* level 0: deliver.c found no manager and tells the owner */
		if (m->level <= 0) {
			buf_puts(b, "No manager is known for ");
			put_line(b, m->owner);
			buf_puts(b, ", so the escalation comes to the owner.");
		} else if (m->level == 1) {
			buf_puts(b, "You are told as ");
			put_line(b, m->owner);
			buf_puts(b, "'s manager.");
		} else {
			buf_printf(b,
			    "You are told as the manager %" PRId64
			    " levels above ",
			    m->level);
			put_line(b, m->owner);
			buf_puts(b, ".");
		}
		if (m->repeat > 1)
			buf_printf(
			    b, " This is reminder %" PRId64 ".", m->repeat);
		buf_puts(b, "\n");
		break;
	case MAIL_RESOLVED:
		put_resolved(b, m);
		break;
	case MAIL_UNDELIVERABLE:
	default:
		put_undeliverable(b, m);
		break;
	}

	buf_puts(b, "\n  What:    ");
	put_line(b, m->title);
	if (m->whom != NULL) {
		buf_puts(b, "\n  For:     ");
		put_line(b, m->whom);
	}
	buf_puts(b, "\n  Owner:   ");
	put_line(b, m->owner);
	buf_printf(b, "\n  Due:     %s", due);
	if (m->kind != MAIL_RESOLVED)
		buf_printf(b, " (%s)", rel);
	if (m->state != NULL && m->kind == MAIL_RESOLVED) {
		buf_puts(b, "\n  State:   ");
		put_line_max(b, m->state, 32);
	}
	if (m->snoozes > 0)
		buf_printf(b, "\n  Snoozed: %" PRId64 " time%s", m->snoozes,
		    m->snoozes == 1 ? "" : "s");
	if (m->note != NULL && m->note[0] != '\0') {
		buf_puts(b, "\n  Note:    ");
		put_block(b, m->note, "           ");
	}
	buf_puts(b, "\n");
	put_history(b, m);
	put_commands(b, m);
	buf_printf(b, "\n-- \npromised, delivery %s\n", uid);
}

/*
 * The whole message, CRLF line ends.  Date is the time of composing, not
 * occurred_at: it says when the message entered the mail system, and a
 * retry hours later with an old Date would sort wrongly and look forged;
 * the body names the event's times, and the Message-ID stays the same.
 * Date and the body's times are in the recipient's zone.
 */
static int
compose(
    struct buf *msg, const struct mail *m, const char *uid, const char *from)
{
	struct buf subj = {0}, body = {0};
	struct tz_save tz;
	char date[64], mid[320];
	const char *dom = "promised.invalid", *at;
	size_t dlen = strlen(dom);
	int r;

	if ((r = tz_enter(&tz, m->zone)) < 0)
		goto out;
	rfc5322_date(util_now(), date, sizeof(date));
	compose_subject(&subj, m);
	buf_add(&subj, "", 0);
	compose_body(&body, m, uid);
	tz_leave(&tz);

	/* later messages get their own id in the root's domain */
	if (m->root != NULL) {
		at = strchr(m->root, '@');
		dom = at + 1;
		dlen = strlen(dom) - 1; /* without '>' */
	} else if ((at = strchr(from, '@')) != NULL) {
		dom = at + 1;
		dlen = strlen(dom);
	}
	(void)snprintf(mid, sizeof(mid), "<%s.promise-%" PRId64 "@%.*s>", uid,
	    m->id, (int)dlen, dom);
	if (m->root != NULL && m->first)
		(void)snprintf(mid, sizeof(mid), "%s", m->root);
	if (!msgid_ok(mid))
		(void)snprintf(mid, sizeof(mid),
		    "<%s.promise-%" PRId64 "@promised.invalid>", uid, m->id);

	hdr_raw(msg, "Date", date);
	hdr_raw(msg, "From", from);
	hdr_raw(msg, "To", m->to);
	hdr_text(msg, "Subject", subj.oom ? "" : subj.p);
	hdr_raw(msg, "Message-ID", mid);
	if (m->root != NULL && !m->first) {
		hdr_raw(msg, "In-Reply-To", m->root);
		hdr_raw(msg, "References", m->root);
	}
	hdr_raw(msg, "MIME-Version", "1.0");
	hdr_raw(msg, "Content-Type", "text/plain; charset=UTF-8");
	hdr_raw(msg, "Content-Transfer-Encoding", "quoted-printable");
	/* RFC 3834: no vacation replies to a daemon */
	hdr_raw(msg, "Auto-Submitted", "auto-generated");
	buf_puts(msg, "\r\n");
	if (!body.oom)
		qp_encode(msg, body.p, body.len);
	if (subj.oom || body.oom || msg->oom)
		r = -ENOMEM;
out:
	free(subj.p);
	free(body.p);
	return r;
}

/* the URL without userinfo, which may hold a password */
static char *
url_public(const char *url)
{
	const char *host = strstr(url, "://"), *end, *at;
	struct buf b = {0};

	if (host == NULL)
		host = url;
	else
		host += 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	while (at != NULL && memchr(at + 1, '@', (size_t)(end - at - 1)))
		at = memchr(at + 1, '@', (size_t)(end - at - 1));
	buf_add(&b, url, (size_t)(host - url));
	buf_puts(&b, at != NULL ? at + 1 : host);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
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
 * message would fail the same way, so the channel is down (deliver_done's
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
	struct smtp_worker *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&w->stop) ? 1 : 0;
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
	if (x->pprev != NULL) {
		*x->pprev = x->next;
		if (x->next != NULL)
			x->next->pprev = x->pprev;
	}
	if (own_easy && x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->rcpt);
	free(x->msg);
	free(x->to);
	free(x->url);
	free(x);
}

static void
xq_init(struct xq *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void
xq_push(struct xq *q, struct smtp_xfer *x)
{
	x->next = NULL;
	x->pprev = NULL;
	*q->tail = x;
	q->tail = &x->next;
}

/* empties q; returns what it held, in order */
static struct smtp_xfer *
xq_take(struct xq *q)
{
	struct smtp_xfer *x = q->head;

	xq_init(q);
	return x;
}

/* frees everything on q, easy handles included */
static void
xq_free(struct xq *q)
{
	struct smtp_xfer *x, *next;

	for (x = xq_take(q); x != NULL; x = next) {
		next = x->next;
		xfer_free(x, true);
	}
}

/* main thread: the done callback for every message the worker gave back */
static void
back_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct backend_smtp *bs = a->data;
	struct smtp_worker *w = &bs->w;
	struct smtp_xfer *x, *next;
	struct delivery *d;
	char err[768];
	int rc;

	(void)loop;
	(void)revents;
	/* taken as a whole: deliver_done may start more (smtp_start takes
	 * mu), and sends coalesce, so one wake-up may stand for many */
	pthread_mutex_lock(&w->mu);
	x = xq_take(&w->done);
	pthread_mutex_unlock(&w->mu);
	for (; x != NULL; x = next) {
		next = x->next;
		d = x->d;
		rc = x->start_err < 0 ? x->start_err
		    : smtp_channel_failed(x->result, x->code)
		    ? -ENETDOWN
		    : smtp_rc(x->result, x->code);
		err[0] = '\0';
		if (rc != 0)
			smtp_error(x, bs->c->smtp_password, x->result, x->code,
			    err, sizeof(err));
		xfer_free(x, true);
		/* last: deliver_done may free d, or start another delivery */
		deliver_done(d, rc, rc != 0 ? err : NULL, 0);
	}
}

/* mail thread: x goes back to the main thread with its outcome */
static void
hand_back(struct smtp_worker *w, struct smtp_xfer *x)
{
	pthread_mutex_lock(&w->mu);
	xq_push(&w->done, x);
	pthread_mutex_unlock(&w->mu);
	ev_async_send(w->main_loop, &w->back);
}

/* mail thread, curlev_done_fn: the transfer is over and easy is ours */
static void
worker_done_cb(CURL *easy, CURLcode res, void *arg)
{
	struct smtp_xfer *x = arg;

	x->result = res;
	x->code = 0;
	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &x->code);
	/* off running: after hand_back x is the main thread's */
	*x->pprev = x->next;
	if (x->next != NULL)
		x->next->pprev = x->pprev;
	hand_back(x->w, x);
}

/* mail thread: starts what was handed over, or stops the loop */
static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
	struct smtp_worker *w = a->data;
	struct smtp_xfer *x, *next;
	bool stop;
	int r;

	(void)revents;
	/* on stop, whatever is still on todo stays there for worker_stop */
	pthread_mutex_lock(&w->mu);
	stop = atomic_load(&w->stop);
	x = stop ? NULL : xq_take(&w->todo);
	pthread_mutex_unlock(&w->mu);
	if (stop) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	for (; x != NULL; x = next) {
		next = x->next;
		if ((r = curlev_add(w->cv, x->easy, worker_done_cb, x)) < 0) {
			x->start_err = r;
			hand_back(w, x);
			continue;
		}
		x->next = w->running;
		if (w->running != NULL)
			w->running->pprev = &x->next;
		w->running = x;
		x->pprev = &w->running;
	}
}

static void *
worker_main(void *arg)
{
	struct smtp_worker *w = arg;

	/* until wake_cb sees stop: wake keeps the loop from running dry */
	ev_run(w->loop, 0);
	return NULL;
}

/*
 * Creates the worker's loop and curlev here, on the main thread, and only
 * then the thread: curl_global_init (in curlev_open) is not thread safe in
 * libcurl 7.88 (curlev_close counts it down, also on the main thread).
 * back_cb gets owner.  Whatever was made stays for worker_stop to undo.
 */
static int
worker_start(struct smtp_worker *w, struct ev_loop *main_loop, void *owner)
{
	sigset_t all, old;
	int r;

	w->main_loop = main_loop;
	xq_init(&w->todo);
	xq_init(&w->done);
	atomic_init(&w->stop, false);
	ev_async_init(&w->wake, wake_cb);
	w->wake.data = w;
	ev_async_init(&w->back, back_cb);
	w->back.data = owner;
	if ((r = pthread_mutex_init(&w->mu, NULL)) != 0) {
		r = -r;
		goto out;
	}
	w->mu_ok = true;
	ev_async_start(main_loop, &w->back);
	/* no signal watchers here: libev must leave the mask alone */
	if ((w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	ev_async_start(w->loop, &w->wake);
	if ((r = curlev_open(&w->cv, w->loop)) < 0)
		goto out;
	/* signals are the main loop's: the thread starts with them blocked,
	 * all but those a fault raises, which must still kill (or reach a
	 * sanitizer's handler) at once */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->tid, NULL, worker_main, w);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = -r;
		goto out;
	}
	w->started = true;
out:
	return r;
}

/*
 * Stops and joins the mail thread, then drops every message without
 * deliver_done: those deliveries stay pending in the store.  Transfers
 * under way lose their recipient list and their message first, so that
 * libcurl, letting go of them in curlev_close, does not end a half-sent
 * message with "." (nor wait for a reply to it): a cut-off email is never
 * handed over as complete.  They are freed only after curlev_close, since
 * libcurl may still call back into them until then.
 */
static void
worker_stop(struct smtp_worker *w)
{
	struct smtp_xfer *x;

	if (w->started) {
		atomic_store(&w->stop, true);
		ev_async_send(w->loop, &w->wake);
		(void)pthread_join(w->tid, NULL);
		w->started = false;
	}
	/* from here on the thread is gone and everything is ours */
	for (x = w->running; x != NULL; x = x->next) {
		(void)curl_easy_setopt(x->easy, CURLOPT_MAIL_RCPT, NULL);
		(void)curl_easy_setopt(
		    x->easy, CURLOPT_READFUNCTION, read_abort_cb);
	}
	/* removes and cleans up the easy handles of running */
	w->cv = curlev_close(w->cv);
	while (w->running != NULL)
		xfer_free(w->running, false);
	/* never started, or done and not yet reported: ours in full */
	xq_free(&w->todo);
	xq_free(&w->done);
	if (w->main_loop != NULL)
		ev_async_stop(w->main_loop, &w->back);
	if (w->loop != NULL) {
		ev_async_stop(w->loop, &w->wake);
		ev_loop_destroy(w->loop);
		w->loop = NULL;
	}
	if (w->mu_ok)
		(void)pthread_mutex_destroy(&w->mu);
	w->mu_ok = false;
}

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
smtp_start(struct backend *b, struct delivery *d, char *err, size_t errlen)
{
	struct backend_smtp *bs = (struct backend_smtp *)b;
	struct smtp_worker *w = &bs->w;
	const struct conf *c = bs->c;
	struct smtp_xfer *x = NULL;
	struct buf msg = {0};
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
	if ((why = mail_parse(root, &m)) != NULL)
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

	if ((r = compose(&msg, &m, d->uid, c->smtp_from)) < 0)
		goto out;
	r = -ENOMEM;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		goto out;
	x->w = w;
	x->d = d;
	x->msg = msg.p;
	x->len = msg.len;
	msg.p = NULL;
	(void)snprintf(rcpt, sizeof(rcpt), "<%s>", m.to);
	if ((x->to = strdup(m.to)) == NULL ||
	    (x->url = url_public(c->smtp_url)) == NULL ||
	    (x->rcpt = curl_slist_append(NULL, rcpt)) == NULL)
		goto out;
	if ((r = xfer_setup(x, c, c->smtp_from)) < 0)
		goto out;
	/* the hand-over: from here x is the mail thread's, and it comes back
	 * through back_cb, from the loop, so never before this returns */
	pthread_mutex_lock(&w->mu);
	xq_push(&w->todo, x);
	pthread_mutex_unlock(&w->mu);
	ev_async_send(w->loop, &w->wake);
	x = NULL;
	r = 0;
out:
	if (why != NULL)
		snprintf(err, errlen, "no email sent: %s", why);
	xfer_free(x, true);
	free(msg.p);
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
	((struct backend_smtp *)b)->c = c;
	return 0;
}

/*
 * Ownership at shutdown: worker_stop joins the mail thread and drops what
 * it still had, never calling deliver_done: those deliveries stay pending
 * in the store.
 */
static void
smtp_free(struct backend *b)
{
	struct backend_smtp *bs = (struct backend_smtp *)b;

	if (bs == NULL)
		return;
	worker_stop(&bs->w);
	free(bs);
}

int
backend_email_open(struct backend **ret, struct ev_loop *loop,
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
	warn_tls(c);
	/* before the thread exists (see tz.h); a no-op after main.c's */
	if ((r = tz_pin()) < 0 || (r = worker_start(&bs->w, loop, bs)) < 0) {
		snprintf(err, errlen, "email: cannot start the mail thread: %s",
		    strerror(-r));
		goto out;
	}
	*ret = (struct backend *)bs; /* b is first */
	bs = NULL;
out:
	smtp_free((struct backend *)bs);
	return r;
}
