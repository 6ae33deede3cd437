/* SPDX-License-Identifier: MIT */
/*
 * auth_secret.c: making, checking the shape of and hashing the secrets
 * that stand for a person (auth_secret.h).  The store is given only the
 * hash: a copy of the database gives no one a way in.
 */
#include <sys/random.h>

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth_secret.h"
#include "link.h"

int
auth_secret_format(const char *prefix,
    const unsigned char bytes[AUTH_SECRET_BYTES], char *out, size_t n)
{
	size_t plen = strlen(prefix);

	if (plen != 4 || n < AUTH_SECRET_LEN + 1)
		return -EINVAL;
	memcpy(out, prefix, plen);
	if (link_b64url(bytes, AUTH_SECRET_BYTES, out + plen, n - plen) !=
	    AUTH_SECRET_LEN - plen)
		return -EINVAL;
	return 0;
}

int
auth_secret_new(const char *prefix, char *out, size_t n)
{
	unsigned char b[AUTH_SECRET_BYTES];
	size_t got = 0;
	ssize_t r;
	int rc;

	while (got < sizeof(b)) {
		r = getrandom(b + got, sizeof(b) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	rc = auth_secret_format(prefix, b, out, n);
	explicit_bzero(b, sizeof(b));
	return rc;
}

static bool
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool
auth_secret_ok(const char *s, const char *prefix)
{
	size_t i, plen = strlen(prefix);

	if (s == NULL || strncmp(s, prefix, plen) != 0)
		return false;
	for (i = plen; i < AUTH_SECRET_LEN; i++)
		if (!b64url_char(s[i]))
			return false;
	return s[AUTH_SECRET_LEN] == '\0';
}

int
auth_secret_hash(const char *s, char hex[AUTH_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	if (EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) != 1 ||
	    len * 2 != AUTH_HASH_LEN)
		return -EIO;
	for (i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[AUTH_HASH_LEN] = '\0';
	return 0;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

const char *
auth_bearer(const char *value, size_t *ret_len)
{
	const char *p = value;
	size_t n;

	if (value == NULL)
		return NULL;
	while (blank(*p))
		p++;
	if (strncasecmp(p, "bearer", 6) == 0 && blank(p[6])) {
		p += 6;
		while (blank(*p))
			p++;
	}
	n = strlen(p);
	while (n > 0 && blank(p[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	*ret_len = n;
	return p;
}
