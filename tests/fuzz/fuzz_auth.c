/* SPDX-License-Identifier: MIT */
/*
 * fuzz_auth.c: libFuzzer target for what a stranger sends as credentials
 * (daemon/auth_secret.c): the input as an Authorization header's value or
 * a session cookie, its credentials found and their shape checked for
 * every kind of secret, as auth_check does before the store is asked.
 * Beyond sanitizer reports, the target aborts when a contract breaks: the
 * credentials lie inside the value, without blanks at either end; a
 * secret of one kind never passes for another; one that passes has the
 * length of a secret and hashes to 64 lower-case hex digits.
 */
#include <stdlib.h>
#include <string.h>

#include "auth_secret.h"
#include "fuzz.h"

#define MAX_INPUT 4096

static void
check_secret(const char *s)
{
	static const char *const prefixes[] = {
	    AUTH_PREFIX_TOKEN, AUTH_PREFIX_SESSION, AUTH_PREFIX_SIGNIN};
	char hex[AUTH_HASH_LEN + 1];
	size_t i, k, passed = 0;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!auth_secret_ok(s, prefixes[i]))
			continue;
		passed++;
		if (strlen(s) != AUTH_SECRET_LEN ||
		    auth_secret_hash(s, hex) < 0)
			abort();
		for (k = 0; k < AUTH_HASH_LEN; k++)
			if (!((hex[k] >= '0' && hex[k] <= '9') ||
			        (hex[k] >= 'a' && hex[k] <= 'f')))
				abort();
	}
	if (passed > 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *cred;
	const char *p;
	size_t n = 0;

	if ((s = fuzz_input(data, size, MAX_INPUT, true)) == NULL)
		return 0;
	check_secret(s);
	p = auth_bearer(s, &n);
	if (p != NULL) {
		if (p < s || p + n > s + strlen(s) || n == 0 || p[0] == ' ' ||
		    p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t')
			abort();
		if ((cred = strndup(p, n)) != NULL) {
			check_secret(cred);
			free(cred);
		}
	}
	free(s);
	return 0;
}
