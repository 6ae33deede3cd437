/* SPDX-License-Identifier: MIT */
/*
 * test_mailtext.c: promise mail-in's reading of a mail's words.  Replies
 * as the common clients quote them (Gmail's wrapped attribution,
 * Thunderbird's, Apple Mail's, Outlook's header block and divider, the
 * French and German forms, signatures), HTML with its quotes, entities,
 * styles and scripts, and a forwarded message's sender.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mailtext.h"

struct row {
	const char *in, *mine;
};

static const struct row replies[] = {
    {"done\n\nOn Fri, Dec 4, 2026 at 10:00 AM promised <p@example.com> "
     "wrote:\n> old\n",
        "done\n\n"},
    /* Gmail wraps a long attribution over two lines */
    {"done\nOn Fri, Dec 4, 2026 at 10:00 AM promised <p@example.com>\n"
     "wrote:\n\n> old\n",
        "done\n"},
    {"snooze friday\n\nOn 4 Dec 2026, at 10:00, promised wrote:\n> x\n",
        "snooze friday\n\n"},
    {"ack\r\n-- \r\nDan Example\r\n", "ack\r\n"},
    {"ok\n--\nDan\n", "ok\n"},
    {"cancel no\n\nFrom: promised <p@example.com>\nSent: Friday\nTo: dan\n",
        "cancel no\n\n"},
    {"told x\n________________________________\nFrom: promised\n", "told x\n"},
    {"done\n-----Original Message-----\nFrom: promised\n", "done\n"},
    {"ok\nLe ven. 4 d\xc3\xa9"
     "c. 2026 \xc3\xa0 10:00, promised a "
     "\xc3\xa9"
     "crit :\n> x\n",
        "ok\n"},
    {"ok\nAm Fr., 4. Dez. 2026 um 10:00 Uhr schrieb promised "
     "<p@example.com>:\n> x\n",
        "ok\n"},
    {"> quoted only\n", ""},
    /* a sentence that merely starts like an attribution is kept */
    {"On Friday I will call them.\nFrom: the desk of Dan\n",
        "On Friday I will call them.\nFrom: the desk of Dan\n"},
    {"", ""},
};

static void
test_replies(void)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		size_t n = mailtext_reply_len(replies[i].in);
		int ok = n == strlen(replies[i].mine) &&
		    strncmp(replies[i].in, replies[i].mine, n) == 0;

		if (!ok)
			printf("reply %zu: kept '%.*s'\n", i, (int)n,
			    replies[i].in);
		CHECK(ok);
	}
}

static const struct row htmls[] = {
    {"<div dir=\"ltr\">done &amp; dusted</div><br><div class=\"gmail_quote\">"
     "On Fri wrote:<blockquote>old</blockquote></div>",
        "done & dusted"},
    {"<html><head><style>p{color:red}</style><title>t</title></head>"
     "<body><p>Gr&uuml;&szlig;e&nbsp;aus&#160;K&#246;ln &#x263A;</p>"
     "<script>alert(1)</script></body></html>",
        "Grüße aus Köln ☺"},
    {"<p>one</p><p>two<br>three</p>", "one\ntwo\nthree"},
    {"<div>told x</div><hr><div id=\"divRplyFwdMsg\"><b>From:</b> p</div>",
        "told x"},
    {"<p>ack</p><blockquote type=\"cite\">old</blockquote>", "ack"},
    {"a &bogus; b &#; c < d", "a &bogus; b &#; c < d"},
    {"x<style>never closed", "x"},
};

/* s with blank lines and spaces at line ends dropped, for comparing */
static void
squeeze(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 1 < len; s++) {
		if (*s == '\n' && (o == 0 || out[o - 1] == '\n'))
			continue;
		if (*s == ' ' && (s[1] == '\n' || s[1] == '\0'))
			continue;
		out[o++] = *s;
	}
	while (o > 0 && out[o - 1] == '\n')
		o--;
	out[o] = '\0';
}

static void
test_html(void)
{
	char got[512];

	for (size_t i = 0; i < sizeof(htmls) / sizeof(htmls[0]); i++) {
		char *t = mailtext_from_html(htmls[i].in, strlen(htmls[i].in));

		CHECK(t != NULL);
		if (t == NULL)
			continue;
		t[mailtext_reply_len(t)] = '\0';
		squeeze(t, got, sizeof(got));
		if (strcmp(got, htmls[i].mine) != 0)
			printf("html %zu: '%s'\n", i, got);
		CHECK(strcmp(got, htmls[i].mine) == 0);
		free(t);
	}
}

static void
test_forwarded(void)
{
	char addr[320], name[200];

	CHECK(mailtext_forwarded_from("Call him\n\n-------- Forwarded Message "
	                              "--------\nSubject: \tX\nFrom: \tBob "
	                              "Customer <bob@customer.org>\n",
	          addr, sizeof(addr), name, sizeof(name)) == 0);
	CHECK(strcmp(addr, "bob@customer.org") == 0);
	CHECK(strcmp(name, "Bob Customer") == 0);
	CHECK(mailtext_forwarded_from("---------- Forwarded message ---------\n"
	                              "From: *Ann* <ann@acme.com>\n",
	          addr, sizeof(addr), name, sizeof(name)) == 0);
	CHECK(strcmp(addr, "ann@acme.com") == 0 && strcmp(name, "Ann") == 0);
	CHECK(mailtext_forwarded_from("Begin forwarded message:\n\n"
	                              "From: \"Roe, Jane\" <jane@acme.com>\n",
	          addr, sizeof(addr), name, sizeof(name)) == 0);
	CHECK(strcmp(name, "Roe, Jane") == 0);
	CHECK(mailtext_forwarded_from("From: bob@customer.org\n", addr,
	          sizeof(addr), name, sizeof(name)) == -ENOENT);
	CHECK(mailtext_forwarded_from(
	          "-----Original Message-----\nFrom: nobody\n", addr,
	          sizeof(addr), name, sizeof(name)) == -ENOENT);
}

/* a name longer than its buffer is cut there: each buffer has its size */
static void
test_forwarded_long(void)
{
	char text[600], addr[64], name[8];

	snprintf(text, sizeof(text),
	    "-------- Forwarded Message --------\nFrom: %0300d <a@b.example>\n",
	    7);
	CHECK(mailtext_forwarded_from(
	          text, addr, sizeof(addr), name, sizeof(name)) == 0);
	CHECK(strlen(name) == sizeof(name) - 1);
	CHECK(strcmp(addr, "a@b.example") == 0);
}

int
main(void)
{
	test_replies();
	test_html();
	test_forwarded();
	test_forwarded_long();
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed != 0;
}
