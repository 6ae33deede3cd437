/* SPDX-License-Identifier: MIT */
/*
 * test_authres.c: Authentication-Results as real servers write them
 * (OpenDMARC and OpenDKIM under postfix, Gmail, Microsoft 365), and
 * the forms that must not pass: another server's verdict, a failed
 * check, a signature of another domain, a comment posing as a result.
 */
#include <stdio.h>

#include "authres.h"
#include "check.h"

struct row {
	const char *hdr, *from;
	bool pass;
};

static const struct row rows[] = {
    {"mx.example.com; dmarc=pass (p=none dis=none) header.from=acme.com",
        "acme.com", true},
    {"mx.example.com;\r\n\tdkim=pass (2048-bit key; unprotected) "
     "header.d=acme.com header.i=@acme.com header.a=rsa-sha256 "
     "header.s=s1 header.b=abcd",
        "acme.com", true},
    {"MX.Example.COM 1; dkim=pass header.d=acme.com", "mail.acme.com", true},
    {"mx.example.com; spf=pass smtp.mailfrom=acme.com; dmarc=pass "
     "header.from=acme.com",
        "acme.com", true},
    {"mx.example.com; dkim=pass header.i=@sales.acme.com", "sales.acme.com",
        true},
    /* another server's word counts for nothing */
    {"mx.google.com; dmarc=pass header.from=acme.com", "acme.com", false},
    {"mx.example.com.evil.org; dmarc=pass header.from=acme.com", "acme.com",
        false},
    {"mx.example.com; dmarc=fail header.from=acme.com", "acme.com", false},
    {"mx.example.com; dmarc=pass header.from=evil.org", "acme.com", false},
    {"mx.example.com; dkim=pass header.d=evil.org", "acme.com", false},
    {"mx.example.com; dkim=pass header.d=com", "acme.com", false},
    {"mx.example.com; dkim=pass header.d=notacme.com", "acme.com", false},
    {"mx.example.com; spf=pass smtp.mailfrom=acme.com", "acme.com", false},
    {"mx.example.com; none", "acme.com", false},
    {"mx.example.com; dmarc=none (dmarc=pass) header.from=acme.com", "acme.com",
        false},
    {"mx.example.com; dmarc=\"pass\" header.from=acme.com", "acme.com", true},
    {"(mx.example.com) other.host; dmarc=pass", "acme.com", false},
    {"", "acme.com", false},
    {"mx.example.com; dmarc=pass", "", false},
};

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool got =
		    authres_passes(rows[i].hdr, "mx.example.com", rows[i].from);

		if (got != rows[i].pass)
			printf("row %zu: '%s' for %s: %d\n", i, rows[i].hdr,
			    rows[i].from, got);
		CHECK(got == rows[i].pass);
	}
	CHECK(!authres_passes(NULL, "mx.example.com", "acme.com"));
	printf("%d checks, %d failed\n", nchecks, nfailed);
	return nfailed != 0;
}
