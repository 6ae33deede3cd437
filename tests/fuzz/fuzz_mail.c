/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mail.c: libFuzzer target for what reads a stranger's mail outside
 * the MIME library: promise mail-in's HTML to text, the cut above the
 * quoted mail and a forwarded mail's sender (client/mailtext.c), and the
 * Authentication-Results reader (common/authres.c).  The input is handed
 * over with its exact length where the function takes one.  Beyond
 * sanitizer reports, the target aborts when a contract breaks: the cut
 * lies within the text, and a forwarded sender found has an '@'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "fuzz.h"
#include "mailtext.h"

#define MAX_INPUT (256 * 1024)

static void
check_text(const char *s)
{
	char addr[320], name[200];

	if (mailtext_reply_len(s) > strlen(s))
		abort();
	if (mailtext_forwarded_from(
	        s, addr, sizeof(addr), name, sizeof(name)) == 0 &&
	    strchr(addr, '@') == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw, *s, *text;

	/* the HTML without a NUL */
	if ((raw = fuzz_input(data, size, MAX_INPUT, false)) == NULL)
		return 0;
	text = mailtext_from_html(raw, size);
	free(raw);
	if (text != NULL)
		check_text(text);
	free(text);
	if ((s = fuzz_input(data, size, MAX_INPUT, true)) == NULL)
		return 0;
	check_text(s);
	(void)authres_passes(s, "mx.example.com", "example.com");
	free(s);
	return 0;
}
