/* SPDX-License-Identifier: MIT */
/*
 * test_mailcmd.c: the reply commands, table-driven: each verb with and
 * without what it needs, the words people put around them, the first
 * paragraph only, whitespace and control characters, bad UTF-8, and text
 * longer than a note.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mailcmd.h"

struct row {
	const char *in;
	int rc;
	enum mailcmd_verb verb;
	const char *when, *text;
};

static const struct row rows[] = {
    {"done", 0, MAILCMD_DONE, "", ""},
    {"Done.", 0, MAILCMD_DONE, "", ""},
    {"done sent the invite", 0, MAILCMD_DONE, "", "sent the invite"},
    {"DONE - sent it\r\nthanks\r\n\r\n-- \r\nDan", 0, MAILCMD_DONE, "",
        "sent it thanks"},
    {"\n\n  \r\nkept: called them", 0, MAILCMD_DONE, "", "called them"},
    {"doneness is relative", 0, MAILCMD_NOTE, "", "doneness is relative"},
    {"snooze friday 10:00", 0, MAILCMD_SNOOZE, "friday 10:00", ""},
    {"snooze until monday because they are away", 0, MAILCMD_SNOOZE, "monday",
        "they are away"},
    {"Snooze to tomorrow 10am, because waiting on legal", 0, MAILCMD_SNOOZE,
        "tomorrow 10am", "waiting on legal"},
    {"snooze for 2 business days", 0, MAILCMD_SNOOZE, "in 2 business days", ""},
    {"snooze", -EINVAL, MAILCMD_SNOOZE, "", ""},
    {"snooze because busy", -EINVAL, MAILCMD_SNOOZE, "", ""},
    {"cancel they bought elsewhere", 0, MAILCMD_CANCEL, "",
        "they bought elsewhere"},
    {"cancel", -EINVAL, MAILCMD_CANCEL, "", ""},
    {"cancel.  ", -EINVAL, MAILCMD_CANCEL, "", ""},
    {"told we cannot do March", 0, MAILCMD_TOLD, "", "we cannot do March"},
    {"told", -EINVAL, MAILCMD_TOLD, "", ""},
    {"ack", 0, MAILCMD_ACK, "", ""},
    {"Ack! on it", 0, MAILCMD_ACK, "", ""},
    {"Thanks, I'll call them\tafter lunch", 0, MAILCMD_NOTE, "",
        "Thanks, I'll call them after lunch"},
    {"", -EINVAL, MAILCMD_INVALID, "", ""},
    {" \r\n\t\r\n", -EINVAL, MAILCMD_INVALID, "", ""},
    {"done caf\xc3\xa9 \xff\xfe ok", 0, MAILCMD_DONE, "", "caf\xc3\xa9 ok"},
    {"done \xe2\x82", 0, MAILCMD_DONE, "", ""},
    {"done \xed\xa0\x80 x", 0, MAILCMD_DONE, "", "x"},
    {"note\x01with\x7f"
     "controls",
        0, MAILCMD_NOTE, "", "note with controls"},
};

static void
test_rows(void)
{
	struct mailcmd c;
	const char *err;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		err = NULL;
		rc = mailcmd_parse(r->in, strlen(r->in), &c, &err);
		if (rc != r->rc || c.verb != r->verb ||
		    (rc == 0 &&
		        (strcmp(c.when, r->when) != 0 ||
		            strcmp(c.text, r->text) != 0)) ||
		    (rc != 0 && err == NULL)) {
			printf("row %zu '%s': rc %d verb %s when '%s' text "
			       "'%s'\n",
			    i, r->in, rc, mailcmd_verb_name(c.verb), c.when,
			    c.text);
			CHECK(false);
		} else
			CHECK(1);
	}
}

/* a huge note is cut below the protocol's limit, at a character */
static void
test_long(void)
{
	static char in[3 * PROTO_MAX_NOTE];
	struct mailcmd c;
	const char *err;
	size_t i, n = 0;

	memcpy(in, "done ", 5);
	n = 5;
	for (i = 0; n + 2 < sizeof(in); i++) {
		in[n++] = '\xc3';
		in[n++] = '\xa9';
	}
	CHECK(mailcmd_parse(in, n, &c, &err) == 0);
	CHECK(c.verb == MAILCMD_DONE);
	CHECK(strlen(c.text) <= PROTO_MAX_NOTE);
	CHECK(strlen(c.text) % 2 == 0);
	CHECK(strlen(c.text) > PROTO_MAX_NOTE - 8);
	/* the length given counts, not a NUL: nothing read beyond */
	CHECK(mailcmd_parse("ack and more", 3, &c, &err) == 0);
	CHECK(c.verb == MAILCMD_ACK);
	CHECK(mailcmd_parse("done\0 x", 7, &c, &err) == 0);
	CHECK(strcmp(c.text, "x") == 0);
}

/* a snooze's deadline too long for its field is refused, not cut */
static void
test_long_when(void)
{
	char in[400];
	struct mailcmd c;
	const char *err = NULL;

	memset(in, 'x', sizeof(in));
	memcpy(in, "snooze ", 7);
	CHECK(mailcmd_parse(in, sizeof(in), &c, &err) == -EINVAL);
	CHECK(err != NULL && strstr(err, "too long") != NULL);
	CHECK(strcmp(mailcmd_verb_name(MAILCMD_TOLD), "told") == 0);
	CHECK(strcmp(mailcmd_verb_name(MAILCMD_INVALID), "?") == 0);
}

int
main(void)
{
	test_rows();
	test_long();
	test_long_when();
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed != 0;
}
