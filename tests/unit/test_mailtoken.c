/* SPDX-License-Identifier: MIT */
/*
 * test_mailtoken.c: unit test for the signed Reply-To addresses
 * (daemon/mailtoken.c): an address made for a promise and a person parses
 * back and verifies for them alone; in upper or mixed case too, as mail
 * servers may hand it over; within RFC 5321's 64 octets of local part for
 * the largest id; a changed character, another promise or person, a key
 * retired are refused; the earlier base64 tokens still verify as made.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "link.h"
#include "mailtoken.h"

static char k_old[] = "old-mail-key-0123456789";
static char k_new[] = "new-mail-key-abcdefghij";
static char domain[] = "reply.example.com";

static void
conf_with(struct conf *c, char *k0, char *k1)
{
	memset(c, 0, sizeof(*c));
	c->mail.reply_domain = domain;
	c->mail.secrets[0] = k0;
	c->mail.secrets[1] = k1;
	c->mail.n_secrets = k1 != NULL ? 2 : 1;
}

/* address parsed and checked for id and login */
static bool
acts(const struct conf *c, const char *address, int64_t id, const char *login)
{
	char token[128];
	int64_t got;

	return mailtoken_parse(c, address, &got, token, sizeof(token)) == 0 &&
	    got == id && mailtoken_ok(c, id, login, token);
}

static void
test_roundtrip_and_case(void)
{
	struct conf c;
	char a[MAILTOKEN_ADDR_MAX], up[MAILTOKEN_ADDR_MAX];
	const char *at;
	size_t i;

	conf_with(&c, k_new, NULL);
	CHECK(mailtoken_address(&c, 42, "dan", a, sizeof(a)) == 0);
	CHECK(strncmp(a, "promise+42.", 11) == 0);
	CHECK(strcmp(strchr(a, '@'), "@reply.example.com") == 0);
	CHECK(acts(&c, a, 42, "dan"));
	CHECK(!acts(&c, a, 42, "alice"));
	/* all upper case, all lower case: the same address */
	for (i = 0; i <= strlen(a); i++)
		up[i] = (char)toupper((unsigned char)a[i]);
	CHECK(acts(&c, up, 42, "dan"));
	for (i = 0; i <= strlen(a); i++)
		up[i] = (char)tolower((unsigned char)a[i]);
	CHECK(acts(&c, up, 42, "dan"));
	/* the largest id keeps the local part within 64 octets */
	CHECK(mailtoken_address(&c, 999999999999, "dan", a, sizeof(a)) == 0);
	at = strchr(a, '@');
	CHECK(at != NULL && at - a <= 64);
	CHECK(acts(&c, a, 999999999999, "dan"));
}

static void
test_refused(void)
{
	struct conf c;
	char a[MAILTOKEN_ADDR_MAX], b[MAILTOKEN_ADDR_MAX], tok[128];
	char *dot;
	size_t i;

	conf_with(&c, k_new, NULL);
	CHECK(mailtoken_address(&c, 7, "dan", a, sizeof(a)) == 0);
	/* each character of the token changed, in either case */
	dot = strchr(a, '.');
	for (i = 1; dot[i] != '@'; i++) {
		char was = dot[i];

		dot[i] = (was == 'a' || was == 'A') ? 'B' : 'a';
		CHECK(!acts(&c, a, 7, "dan"));
		dot[i] = was;
	}
	CHECK(acts(&c, a, 7, "dan"));
	/* another promise's id with this token */
	snprintf(b, sizeof(b), "promise+8%s", strchr(a, '.'));
	CHECK(!acts(&c, b, 8, "dan"));
	/* not of the form, or another domain */
	CHECK(mailtoken_parse(&c, "promises@reply.example.com", &(int64_t){0},
	          tok, sizeof(tok)) == -ENOENT);
	snprintf(b, sizeof(b), "%.*s@reply.example.org",
	    (int)(strchr(a, '@') - a), a);
	CHECK(
	    mailtoken_parse(&c, b, &(int64_t){0}, tok, sizeof(tok)) == -ENOENT);
	/* a key retired */
	conf_with(&c, k_old, NULL);
	CHECK(!acts(&c, a, 7, "dan"));
	/* rotation: the old key's address and the new one's both act */
	conf_with(&c, k_old, k_new);
	CHECK(acts(&c, a, 7, "dan"));
	CHECK(mailtoken_address(&c, 7, "dan", b, sizeof(b)) == 0);
	CHECK(acts(&c, b, 7, "dan"));
	/* no reply domain, no key: no address */
	c.mail.n_secrets = 0;
	CHECK(mailtoken_address(&c, 7, "dan", b, sizeof(b)) == -ENOENT);
	CHECK(!acts(&c, a, 7, "dan"));
}

/* a token of the earlier form, base64 of the whole MAC, still acts as
 * made; its case is part of it */
static void
test_earlier_form(void)
{
	struct conf c;
	char *keys[] = {k_new};
	struct link_keys k = {keys, 1};
	char tag[LINK_TAG_LEN + 1], a[MAILTOKEN_ADDR_MAX];
	size_t i;
	bool flipped = false;

	conf_with(&c, k_new, NULL);
	CHECK(link_tag(&k, "reply", "12\ndan", tag, sizeof(tag)) == 0);
	snprintf(a, sizeof(a), "promise+12.%s@reply.example.com", tag);
	CHECK(acts(&c, a, 12, "dan"));
	for (i = 0; tag[i] != '\0' && !flipped; i++)
		if (isalpha((unsigned char)tag[i])) {
			tag[i] = (char)(islower((unsigned char)tag[i])
			        ? toupper((unsigned char)tag[i])
			        : tolower((unsigned char)tag[i]));
			flipped = true;
		}
	snprintf(a, sizeof(a), "promise+12.%s@reply.example.com", tag);
	CHECK(flipped && !acts(&c, a, 12, "dan"));
}

int
main(void)
{
	test_roundtrip_and_case();
	test_refused();
	test_earlier_form();
	printf("test_mailtoken: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
