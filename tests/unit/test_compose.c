/* SPDX-License-Identifier: MIT */
/*
 * test_compose.c: unit test for message composition (daemon/compose.c).
 * Each payload below, one of every kind of email, is composed at a fixed
 * time and compared byte for byte with its golden message in the
 * directory given (tests/unit/golden/NAME.eml).  Every message, golden or
 * hostile, must also hold together: CRLF line ends only, the headers
 * promised writes and no other (a title with CR/LF in it adds none),
 * header lines within 78, body lines within 76.  Payloads email cannot
 * use are refused with a reason.
 *
 * Usage: test_compose GOLDEN_DIR
 * With PROMISED_GOLDEN_WRITE=1 in the environment the golden messages are
 * written instead (after a change meant to alter them: review the diff).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "compose.h"
#include "tz.h"

/* 2026-11-27 16:00:00 UTC, a Friday */
#define NOW 1795795200
#define FROM "promised@example.org"

struct golden {
	const char *name;
	const char *payload;
};

static const struct golden goldens[] = {
    {"nudge",
        "{\"event\":\"promise.nudge\",\"delivery\":\"d1\","
        "\"occurred_at\":1795791600,\"lead\":3600,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\","
        "\"timezone\":\"Europe/Berlin\"},"
        "\"promise\":{\"id\":42,\"title\":\"Send Acme the demo invite\","
        "\"owner\":\"dan\",\"for\":\"Acme\",\"due_at\":1795795200,"
        "\"created_at\":1795700000,\"created_by\":\"dan\","
        "\"state\":\"open\",\"snoozes\":0},"
        "\"history\":[{\"at\":1795700000,\"actor\":\"dan\","
        "\"kind\":\"created\",\"detail\":{\"due_at\":1795795200}}],"
        "\"thread\":{\"root\":\"<t42@example.org>\",\"first\":true}}"},
    {"due",
        "{\"event\":\"promise.due\",\"delivery\":\"d2\","
        "\"occurred_at\":1795795200,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\"},"
        "\"promise\":{\"id\":42,\"title\":\"Grüße an Zoë: the résumé "
        "review\",\"owner\":\"dan\",\"note\":\"first line\\nsecond "
        "line\",\"due_at\":1795795200,\"state\":\"open\",\"snoozes\":1},"
        "\"thread\":{\"root\":\"<t42@example.org>\",\"first\":false}}"},
    {"escalation",
        "{\"event\":\"promise.escalation\",\"delivery\":\"d3\","
        "\"occurred_at\":1795802400,\"repeat\":2,\"level\":1,"
        "\"recipient\":{\"login\":\"boss\",\"email\":\"boss@example.org\","
        "\"timezone\":\"America/New_York\"},"
        "\"promise\":{\"id\":7,\"title\":\"Call back about the refund\","
        "\"owner\":\"dan\",\"for\":\"Jo\",\"due_at\":1795795200,"
        "\"state\":\"open\",\"snoozes\":2},"
        "\"history\":["
        "{\"at\":1795700000,\"actor\":\"dan\",\"kind\":\"created\","
        "\"detail\":{\"due_at\":1795780000}},"
        "{\"at\":1795710000,\"actor\":\"dan\",\"kind\":\"snoozed\","
        "\"detail\":{\"to\":1795795200,\"reason\":\"waiting for the "
        "bank\"}},"
        "{\"at\":1795795200,\"actor\":\"promised\",\"kind\":\"due\","
        "\"detail\":{}},"
        "{\"at\":1795798800,\"actor\":\"promised\",\"kind\":\"escalation\","
        "\"detail\":{\"repeat\":1,\"deliveries\":[{\"to\":\"boss\"},"
        "{\"to\":\"boss\"}]}}]}"},
    {"resolved",
        "{\"event\":\"promise.resolved\",\"delivery\":\"d4\","
        "\"occurred_at\":1795806000,"
        "\"recipient\":{\"login\":\"boss\",\"email\":\"boss@example.org\"},"
        "\"promise\":{\"id\":7,\"title\":\"Call back about the refund\","
        "\"owner\":\"dan\",\"due_at\":1795795200,\"state\":\"kept\","
        "\"snoozes\":2},"
        "\"history\":[{\"at\":1795806000,\"actor\":\"dan\",\"kind\":\"kept\","
        "\"detail\":{\"late_by\":10800,\"note\":\"refund sent\"}}]}"},
    {"undeliverable",
        "{\"event\":\"promise.undeliverable\",\"delivery\":\"d5\","
        "\"occurred_at\":1795806000,"
        "\"recipient\":{\"login\":\"boss\",\"email\":\"boss@example.org\"},"
        "\"promise\":{\"id\":9,\"title\":\"Quote for Initech\","
        "\"owner\":\"dan\",\"due_at\":1795795200,\"state\":\"open\"},"
        "\"failed\":{\"delivery\":\"d0\",\"event\":\"promise.due\","
        "\"recipient\":\"dan\",\"channel\":\"webhook\",\"error\":\"webhook "
        "to 'https://hooks.example.org/x' failed: HTTP 410\"}}"},
    {"digest",
        "{\"event\":\"promise.digest\",\"delivery\":\"d6\","
        "\"occurred_at\":1795795200,"
        "\"recipient\":{\"login\":\"boss\",\"email\":\"boss@example.org\","
        "\"timezone\":\"Europe/Berlin\"},"
        "\"digest\":{\"manager\":\"boss\",\"at\":1795795200,"
        "\"week\":\"2026-W48\",\"team\":[\"dan\",\"eve\"],"
        "\"overdue\":{\"count\":1,\"promises\":[{\"id\":7,\"title\":\"Call "
        "back about the refund\",\"owner\":\"dan\",\"due_at\":1795700000}]},"
        "\"due_this_week\":{\"until\":1796400000,\"count\":2,\"promises\":["
        "{\"id\":11,\"title\":\"Renewal call\",\"owner\":\"eve\","
        "\"for\":\"Globex\",\"due_at\":1795900000},"
        "{\"id\":12,\"title\":\"Send the contract\",\"owner\":\"dan\","
        "\"due_at\":1796000000}]},"
        "\"last_week\":{\"from\":1795190400,\"to\":1795795200,\"due\":5,"
        "\"kept_on_time\":3,\"kept_late\":1,\"open\":1,"
        "\"on_time_rate\":0.6,\"owners\":[{\"owner\":\"dan\",\"due\":3,"
        "\"kept_on_time\":1,\"kept_late\":1,\"open\":1,"
        "\"on_time_rate\":0.3333},{\"owner\":\"eve\",\"due\":2,"
        "\"kept_on_time\":2,\"kept_late\":0,\"open\":0,"
        "\"on_time_rate\":1.0}]}},"
        "\"thread\":{\"root\":\"<digest.2026-W48.boss@example.org>\","
        "\"first\":true}}"},
    /* a sign-in link asked for on the web page */
    {"signin",
        "{\"event\":\"promise.signin\",\"delivery\":\"d8\","
        "\"occurred_at\":1795795200,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\","
        "\"timezone\":\"Europe/Berlin\"},"
        "\"signin\":{\"url\":\"https://promised.example.org/signin/"
        "prm_"
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
        "\"expires_at\":1795796100},"
        "\"thread\":{\"root\":\"<signin.0011223344556677@example.org>\","
        "\"first\":true}}"},
    /* a morning agenda: an overdue promise with its reply address and
     * links, one due today, and one more than it lists */
    {"agenda",
        "{\"event\":\"promise.agenda\",\"delivery\":\"d10\","
        "\"occurred_at\":1795764600,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\","
        "\"timezone\":\"Europe/Berlin\"},"
        "\"agenda\":{\"login\":\"dan\",\"day\":\"2026-11-27\","
        "\"at\":1795764600,\"until\":1795820400,\"count\":3,"
        "\"overdue\":1,\"promises\":[{\"id\":41,\"title\":\"Call Acme "
        "back\",\"for\":\"Acme\",\"due_at\":1795712400,\"overdue\":true,"
        "\"reply_to\":\"promise+41.abcDEF123@reply.example.org\","
        "\"links\":{\"open\":\"https://p.example.org/l/o41\",\"keep\":"
        "\"https://p.example.org/l/k41\",\"snooze\":"
        "\"https://p.example.org/l/s41\"}},{\"id\":42,\"title\":\"Grüße an "
        "Zoë\",\"due_at\":1795795200,\"overdue\":false}]},"
        "\"thread\":{\"root\":\"<digest.agenda-2026-11-27.dan@example.org>\","
        "\"first\":true}}"},
    /* a due notice with a calendar entry attached: multipart/mixed */
    {"attachment",
        "{\"event\":\"promise.due\",\"delivery\":\"d9\","
        "\"occurred_at\":1795795200,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\"},"
        "\"promise\":{\"id\":42,\"title\":\"Send Acme the demo invite\","
        "\"owner\":\"dan\",\"due_at\":1795795200,\"state\":\"open\","
        "\"snoozes\":0},"
        "\"attachments\":[{\"filename\":\"promise-42.ics\","
        "\"content_type\":\"text/calendar; charset=UTF-8; method=PUBLISH\","
        "\"text\":\"BEGIN:VCALENDAR\\r\\nVERSION:2.0\\r\\nPRODID:-//promised"
        "//promised//EN\\r\\nBEGIN:VEVENT\\r\\nUID:promise-42@example.org\\r"
        "\\nDTSTAMP:20261127T160000Z\\r\\nDTSTART:20261127T160000Z\\r\\n"
        "SUMMARY:Send Acme the demo invite – Grüße\\r\\nEND:VEVENT\\r\\n"
        "END:VCALENDAR\\r\\n\"}]}"},
    /* an escalation with one-click links, and a snooze made by one */
    {"links",
        "{\"event\":\"promise.escalation\",\"delivery\":\"d7\","
        "\"occurred_at\":1795802400,\"repeat\":1,\"level\":1,"
        "\"recipient\":{\"login\":\"boss\",\"email\":\"boss@example.org\"},"
        "\"promise\":{\"id\":7,\"title\":\"Call back about the refund\","
        "\"owner\":\"dan\",\"due_at\":1795795200,\"state\":\"open\","
        "\"snoozes\":1},"
        "\"history\":["
        "{\"at\":1795710000,\"actor\":\"dan\",\"kind\":\"snoozed\","
        "\"detail\":{\"to\":1795795200,\"reason\":\"the next business "
        "morning\",\"via\":\"link\"}}],"
        "\"links\":{"
        "\"open\":\"https://promised.example.org/l/"
        "MQo3Cm9wZW4KMTc5NzAxMTYwMApib3Nz.x0aUdGwh6QScj8_ymfiNYMqxlI9kg6oYo"
        "Pp0rUbbf0Y\","
        "\"keep\":\"https://promised.example.org/l/"
        "MQo3CmtlZXAKMTc5NzAxMTYwMApib3Nz.fHHW0mT8vVsPXKMOWsIVBfxI-Bm7zhsf"
        "Ho1XVYd6MpQ\","
        "\"snooze\":\"https://promised.example.org/l/"
        "MQo3CnNub296ZQoxNzk3MDExNjAwCmJvc3M.S0PrxrhhaVBmiVYHwGR4Q1CpbzCL"
        "v4VR5ll6VOkv_9k\","
        "\"ack\":\"https://promised.example.org/l/"
        "MQo3CmFjawoxNzk3MDExNjAwCmJvc3M.kBO9JC1nd5msf4YqhZ8VYcRpTFCKq4iT"
        "BDNZ81eSFS8\"}}"},
    /* an answer to a mail: threaded under it, References cleaned of what
     * is no msg-id, a Reply-To, and an attachment */
    {"reply",
        "{\"event\":\"promise.reply\",\"delivery\":\"d9\","
        "\"occurred_at\":1795795200,"
        "\"recipient\":{\"login\":\"dan\",\"email\":\"dan@example.org\","
        "\"timezone\":\"Europe/Berlin\"},"
        "\"promise\":{\"id\":43},"
        "\"reply_to\":\"promise+43.abcDEF-_0123@reply.example.org\","
        "\"reply\":{\"subject\":\"Angebot f\u00fcr M\u00fcller\\r\\nBcc: "
        "x@y\",\"text\":\"Promise 43 is made:\\n\\n  Title:  Angebot\\n\","
        "\"in_reply_to\":\"<m2@example.org>\","
        "\"references\":\"<m0@example.org> not-an-id <m1@example.org>\\r\\n"
        "Bcc: x@y <m2@example.org>\"},"
        "\"attachments\":[{\"filename\":\"promise-43.ics\","
        "\"content_type\":\"text/calendar; method=PUBLISH\","
        "\"text\":\"BEGIN:VCALENDAR\\r\\nEND:VCALENDAR\\r\\n\"}]}"},
};

/*
 * Whether msg holds together; why names the first thing that does not.
 * The headers are those promised writes, each once at most.
 */
static bool
message_ok(const char *msg, size_t len, const char **why)
{
	static const char *const names[] = {"Date", "From", "To", "Reply-To",
	    "Subject", "Message-ID", "In-Reply-To", "References",
	    "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	    "Auto-Submitted"};
	int seen[sizeof(names) / sizeof(names[0])] = {0};
	const char *p = msg, *end = msg + len, *eol, *colon;
	bool body = false;
	size_t i, n;

	*why = "a NUL inside";
	if (strlen(msg) != len)
		return false;
	while (p < end) {
		*why = "a line without CRLF";
		if ((eol = strstr(p, "\r\n")) == NULL)
			return false;
		n = (size_t)(eol - p);
		*why = "a bare CR or LF";
		if (memchr(p, '\n', n) != NULL || memchr(p, '\r', n) != NULL)
			return false;
		if (body) {
			*why = "a body line over 76";
			if (n > 76)
				return false;
		} else if (n == 0) {
			body = true;
		} else {
			*why = "a header line over 78";
			if (n > 78)
				return false;
			if (*p != ' ') {
				*why = "a header promised does not write";
				colon = memchr(p, ':', n);
				if (colon == NULL)
					return false;
				for (i = 0;
				     i < sizeof(names) / sizeof(names[0]); i++)
					if (strlen(names[i]) ==
					        (size_t)(colon - p) &&
					    memcmp(p, names[i],
					        (size_t)(colon - p)) == 0)
						break;
				if (i == sizeof(names) / sizeof(names[0]))
					return false;
				*why = "a header twice";
				if (seen[i]++ > 0)
					return false;
			}
		}
		p = eol + 2;
	}
	*why = "no body";
	return body;
}

/* composes payload; the message in *out (malloc'd) or NULL; why if not */
static int
compose_payload(const char *payload, char **out, size_t *len, const char **why)
{
	struct jsonw msg = {0};
	struct mail m;
	json_t *root = json_loads(payload, 0, NULL);
	int r = -EINVAL;

	*out = NULL;
	*why = "not JSON";
	if (root == NULL)
		goto out;
	if ((*why = compose_parse(root, &m, NOW)) != NULL)
		goto out;
	*why = "compose_message failed";
	if ((r = compose_message(&msg, &m, "d0123456789abcdef", FROM, NOW)) < 0)
		goto out;
	*out = msg.s;
	*len = msg.len;
	msg.s = NULL;
	*why = NULL;
	r = 0;
out:
	free(msg.s);
	json_decref(root);
	return r;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
		*len = fread(s, 1, (size_t)n, f);
		s[*len] = '\0';
	}
	fclose(f);
	return s;
}

static void
test_golden(const char *dir, bool write)
{
	char path[4096], *msg, *want;
	const char *why;
	size_t i, len, wlen = 0;
	FILE *f;

	for (i = 0; i < sizeof(goldens) / sizeof(goldens[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.eml", dir, goldens[i].name);
		if (compose_payload(goldens[i].payload, &msg, &len, &why) < 0) {
			check(0, __LINE__, goldens[i].name);
			printf("  %s: %s\n", goldens[i].name, why);
			continue;
		}
		check(message_ok(msg, len, &why), __LINE__, goldens[i].name);
		if (write) {
			if ((f = fopen(path, "wb")) == NULL ||
			    fwrite(msg, 1, len, f) != len || fclose(f) != 0) {
				perror(path);
				exit(2);
			}
			printf("wrote %s\n", path);
		} else if ((want = slurp(path, &wlen)) == NULL) {
			check(0, __LINE__, path);
		} else {
			check(wlen == len && memcmp(want, msg, len) == 0,
			    __LINE__, goldens[i].name);
			if (wlen != len || memcmp(want, msg, len) != 0)
				printf("  %s differs from %s:\n%s\n",
				    goldens[i].name, path, msg);
			free(want);
		}
		free(msg);
	}
}

/* a title that tries to end the header, with a very long word */
static void
test_hostile(void)
{
	char payload[4096], word[601];
	char *msg;
	const char *why;
	size_t len;

	memset(word, 'w', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	snprintf(payload, sizeof(payload),
	    "{\"event\":\"promise.due\",\"recipient\":{\"login\":\"dan\","
	    "\"email\":\"dan@example.org\"},\"promise\":{\"id\":1,"
	    "\"title\":\"Hi\\r\\nBcc: victim@example.com\\r\\n\\r\\nfake body "
	    "%s\",\"owner\":\"dan\\r\\nX-Evil: 1\",\"note\":\"a\\rb\\u0007\","
	    "\"due_at\":1795795200}}",
	    word);
	CHECK(compose_payload(payload, &msg, &len, &why) == 0);
	if (msg == NULL)
		return;
	CHECK(message_ok(msg, len, &why));
	CHECK(strstr(msg, "\r\nBcc:") == NULL);
	CHECK(strstr(msg, "\r\nX-Evil:") == NULL);
	free(msg);

	/* NUL never reaches composing: jansson refuses "\u0000" */
	CHECK(json_loads("{\"title\":\"a\\u0000b\"}", 0, NULL) == NULL);
}

static void
refused(const char *payload, int line)
{
	char *msg = NULL;
	size_t len;
	const char *why = NULL;

	check(compose_payload(payload, &msg, &len, &why) < 0 && why != NULL &&
	        msg == NULL,
	    line, payload);
	free(msg);
}

/* a due notice's payload up to its "attachments" value */
#define DUE_WITH                                                               \
	"{\"event\":\"promise.due\",\"recipient\":{\"email\":\"a@b\"},"        \
	"\"promise\":{\"id\":1,\"title\":\"t\",\"owner\":\"o\",\"due_at\":1}," \
	"\"attachments\":"

static void
test_refused(void)
{
	refused("[]", __LINE__);
	refused("{\"recipient\":{\"email\":\"a@b\"}}", __LINE__);
	refused(
	    "{\"event\":\"promise.other\",\"recipient\":{\"email\":\"a@b\"}}",
	    __LINE__);
	refused("{\"event\":\"promise.due\",\"recipient\":{\"login\":\"a\"},"
	        "\"promise\":{\"id\":1,\"title\":\"t\",\"owner\":\"o\","
	        "\"due_at\":1}}",
	    __LINE__);
	refused("{\"event\":\"promise.due\",\"recipient\":{\"email\":\"a@b\"},"
	        "\"promise\":{\"id\":1,\"owner\":\"o\",\"due_at\":1}}",
	    __LINE__);
	refused(
	    "{\"event\":\"promise.undeliverable\",\"recipient\":{\"email\":"
	    "\"a@b\"},\"promise\":{\"id\":1,\"title\":\"t\",\"owner\":\"o\","
	    "\"due_at\":1}}",
	    __LINE__);
	refused(
	    "{\"event\":\"promise.digest\",\"recipient\":{\"email\":\"a@b\"},"
	    "\"digest\":{\"at\":1}}",
	    __LINE__);
	refused("{\"event\":\"promise.agenda\",\"recipient\":{\"email\":"
	        "\"a@b\"},\"agenda\":{\"login\":\"a\",\"at\":1}}",
	    __LINE__);
	/* attachments: what goes into their part headers is plain */
	refused(DUE_WITH "[{\"filename\":\"a\\r\\nX-Evil: 1\",\"content_type\":"
	                 "\"text/plain\",\"text\":\"t\"}]}",
	    __LINE__);
	refused(DUE_WITH "[{\"filename\":\"a.ics\",\"content_type\":"
	                 "\"text/plain\\r\\nBcc: x@y\",\"text\":\"t\"}]}",
	    __LINE__);
	refused(DUE_WITH "[{\"filename\":\"a.ics\",\"content_type\":"
	                 "\"text/plain; name=\\\"x\\\"\",\"text\":\"t\"}]}",
	    __LINE__);
	refused(DUE_WITH "[{\"filename\":\"a.ics\",\"content_type\":"
	                 "\"text/plain\"}]}",
	    __LINE__);
	refused(DUE_WITH "{}}", __LINE__);
	refused(DUE_WITH "[{\"filename\":\"../a\",\"content_type\":"
	                 "\"text/plain\",\"text\":\"t\"}]}",
	    __LINE__);
	refused(DUE_WITH "[1,2,3,4,5]}", __LINE__);
	/* an answer to a mail: its text, subject and Reply-To */
	refused("{\"event\":\"promise.reply\",\"recipient\":{\"email\":"
	        "\"a@b\"},\"reply\":{\"subject\":\"s\"}}",
	    __LINE__);
	refused("{\"event\":\"promise.reply\",\"recipient\":{\"email\":"
	        "\"a@b\"},\"reply\":{\"subject\":\"s\",\"text\":\"t\"},"
	        "\"reply_to\":\"a@b\\r\\nBcc: x@y\"}",
	    __LINE__);
	/* a thread root that would go into headers raw must be a msg-id */
	refused("{\"event\":\"promise.due\",\"recipient\":{\"email\":\"a@b\"},"
	        "\"promise\":{\"id\":1,\"title\":\"t\",\"owner\":\"o\","
	        "\"due_at\":1},\"thread\":{\"root\":\"<a@b>\\r\\nBcc: x@y\"}}",
	    __LINE__);
}

int
main(int argc, char **argv)
{
	const char *w = getenv("PROMISED_GOLDEN_WRITE");

	if (argc != 2) {
		fprintf(stderr, "usage: test_compose GOLDEN_DIR\n");
		return 2;
	}
	/* the zone the daemon runs in, for recipients without their own */
	set_tz("UTC");
	if (tz_pin() < 0) {
		fprintf(stderr, "test_compose: tz_pin failed\n");
		return 2;
	}
	test_golden(argv[1], w != NULL && strcmp(w, "1") == 0);
	test_hostile();
	test_refused();
	if (nfailed != 0) {
		printf(
		    "test_compose: %d of %d checks failed\n", nfailed, nchecks);
		return 1;
	}
	printf("test_compose: ok, %d checks\n", nchecks);
	return 0;
}
