/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mailtoken.c: libFuzzer target for the reply addresses a stranger
 * can write to (daemon/mailtoken.c): the input as the address a mail was
 * delivered to, read as promise+ID.TOKEN@reply_domain and its token
 * checked, in any case.  Beyond sanitizer reports, the target aborts when
 * a contract breaks: an address read has an id above 0 and a token that
 * fits; the address promised makes for that id parses back to it and
 * verifies, in upper case too, and not for another person.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mailtoken.h"

#define MAX_INPUT 4096

static char key0[] = "fuzz-old-key-0123456789";
static char key1[] = "fuzz-new-key-abcdefghij";
static char domain[] = "reply.example.com";
static struct conf conf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	conf.mail.reply_domain = domain;
	conf.mail.secrets[0] = key0;
	conf.mail.secrets[1] = key1;
	conf.mail.n_secrets = 2;
	return 0;
}

/* the address made for id parses back and acts for dan alone */
static void
roundtrip(int64_t id)
{
	char a[MAILTOKEN_ADDR_MAX], token[128];
	int64_t got;
	size_t i;

	if (mailtoken_address(&conf, id, "dan", a, sizeof(a)) < 0)
		abort();
	for (i = 0; a[i] != '\0'; i++)
		a[i] = (char)toupper((unsigned char)a[i]);
	if (mailtoken_parse(&conf, a, &got, token, sizeof(token)) < 0 ||
	    got != id || !mailtoken_ok(&conf, id, "dan", token) ||
	    mailtoken_ok(&conf, id, "eve", token))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, token[64];
	int64_t id = 0;

	if ((s = fuzz_input(data, size, MAX_INPUT, true)) == NULL)
		return 0;
	if (mailtoken_parse(&conf, s, &id, token, sizeof(token)) == 0) {
		if (id <= 0 || strlen(token) == 0 ||
		    strlen(token) >= sizeof(token))
			abort();
		(void)mailtoken_ok(&conf, id, "dan", token);
		roundtrip(id);
	}
	free(s);
	return 0;
}
