/* SPDX-License-Identifier: MIT */
/*
 * test_auth_secret.c: unit test for the secrets that stand for a person
 * (daemon/auth_secret.c): a formatted secret has its prefix and 43
 * URL-safe characters and nothing else passes for one; two new secrets
 * differ; the hash is SHA-256 in lower-case hex (a known vector); the
 * Authorization header's credentials are found with or without the
 * scheme, in any case, without the blanks around them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth_secret.h"
#include "check.h"

static void
test_format(void)
{
	unsigned char b[AUTH_SECRET_BYTES];
	char s[AUTH_SECRET_LEN + 1], t[AUTH_SECRET_LEN + 1], bad[80];

	memset(b, 0xfb, sizeof(b));
	CHECK(auth_secret_format(AUTH_PREFIX_TOKEN, b, s, sizeof(s)) == 0);
	CHECK(strlen(s) == AUTH_SECRET_LEN);
	CHECK(strncmp(s, "prm_-_v7", 8) == 0);
	CHECK(auth_secret_ok(s, AUTH_PREFIX_TOKEN));
	CHECK(!auth_secret_ok(s, AUTH_PREFIX_SESSION));
	CHECK(auth_secret_format(AUTH_PREFIX_TOKEN, b, s, sizeof(s) - 1) ==
	    -EINVAL);
	CHECK(auth_secret_format("toolong_", b, bad, sizeof(bad)) == -EINVAL);
	CHECK(auth_secret_new(AUTH_PREFIX_SESSION, s, sizeof(s)) == 0);
	CHECK(auth_secret_new(AUTH_PREFIX_SESSION, t, sizeof(t)) == 0);
	CHECK(auth_secret_ok(s, AUTH_PREFIX_SESSION));
	CHECK(strcmp(s, t) != 0);
	/* one short, one long, one character outside the alphabet */
	snprintf(bad, sizeof(bad), "%.*s", AUTH_SECRET_LEN - 1, s);
	CHECK(!auth_secret_ok(bad, AUTH_PREFIX_SESSION));
	snprintf(bad, sizeof(bad), "%sA", s);
	CHECK(!auth_secret_ok(bad, AUTH_PREFIX_SESSION));
	snprintf(bad, sizeof(bad), "%s", s);
	bad[10] = '+';
	CHECK(!auth_secret_ok(bad, AUTH_PREFIX_SESSION));
	CHECK(!auth_secret_ok("", AUTH_PREFIX_SESSION));
	CHECK(!auth_secret_ok(NULL, AUTH_PREFIX_SESSION));
}

static void
test_hash(void)
{
	char h[AUTH_HASH_LEN + 1];

	CHECK(auth_secret_hash("abc", h) == 0);
	CHECK(strcmp(h,
	          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
	          "61f20015ad") == 0);
}

static void
test_bearer(void)
{
	size_t n = 0;
	const char *p;

	p = auth_bearer("Bearer prm_abc", &n);
	CHECK(p != NULL && n == 7 && strncmp(p, "prm_abc", n) == 0);
	p = auth_bearer("  bEaReR \t prm_abc \t", &n);
	CHECK(p != NULL && n == 7 && strncmp(p, "prm_abc", n) == 0);
	p = auth_bearer("prm_abc", &n);
	CHECK(p != NULL && n == 7);
	p = auth_bearer("Bearerprm_abc", &n);
	CHECK(p != NULL && n == 13);
	CHECK(auth_bearer("Bearer   ", &n) == NULL);
	CHECK(auth_bearer("", &n) == NULL);
	CHECK(auth_bearer(NULL, &n) == NULL);
}

int
main(void)
{
	test_format();
	test_hash();
	test_bearer();
	printf("test_auth_secret: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
