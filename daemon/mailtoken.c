/* SPDX-License-Identifier: MIT */
/*
 * mailtoken.c: the signed Reply-To addresses, see mailtoken.h.  The tag
 * is link.c's, with a purpose of its own ("reply"), so a link's MAC can
 * never stand for a reply's, in base32 (link_tag32): mail servers may
 * hand over a local part in lower case (postfix without pipe's "u" flag,
 * exim without caseful_local_part), and a tag in one case means the same
 * in any.  The local part stays within RFC 5321's 64 octets: "promise+"
 * and an id of up to 12 digits, a full stop and 40 characters of base32
 * (200 bits of the MAC).  Tokens of the earlier form, 43 characters of
 * URL-safe base64, are still accepted as they were made, case kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "link.h"
#include "mailtoken.h"
#include "util.h"

#define PREFIX "promise+"

static struct link_keys
keys_of(const struct conf *c)
{
	struct link_keys k = {c->mail.secrets, c->mail.n_secrets};

	return k;
}

int
mailtoken_address(
    const struct conf *c, int64_t id, const char *login, char *buf, size_t len)
{
	struct link_keys k = keys_of(c);
	char data[96], tag[LINK_TAG32_LEN + 1];
	int n, r;

	if (c->mail.reply_domain == NULL || k.n == 0)
		return -ENOENT;
	snprintf(data, sizeof(data), "%" PRId64 "\n%s", id, login);
	if ((r = link_tag32(&k, "reply", data, tag, sizeof(tag))) < 0)
		return r == -EINVAL ? -ENOENT : r;
	n = snprintf(buf, len, PREFIX "%" PRId64 ".%s@%s", id, tag,
	    c->mail.reply_domain);
	return n > 0 && (size_t)n < len ? 0 : -EIO;
}

int
mailtoken_parse(const struct conf *c, const char *address, int64_t *ret_id,
    char *ret_token, size_t tokenlen)
{
	const char *at = strrchr(address, '@'), *p, *dot;
	int64_t id = 0;
	size_t n;

	if (at == NULL || c->mail.reply_domain == NULL ||
	    strcasecmp(at + 1, c->mail.reply_domain) != 0 ||
	    strncasecmp(address, PREFIX, strlen(PREFIX)) != 0)
		return -ENOENT;
	p = address + strlen(PREFIX);
	for (dot = p; ascii_digit(*dot) && dot - p < 13; dot++)
		id = id * 10 + (*dot - '0');
	if (dot == p || *dot != '.' || id <= 0)
		return -ENOENT;
	n = (size_t)(at - dot - 1);
	if (n == 0 || n >= tokenlen)
		return -ENOENT;
	memcpy(ret_token, dot + 1, n);
	ret_token[n] = '\0';
	*ret_id = id;
	return 0;
}

bool
mailtoken_ok(
    const struct conf *c, int64_t id, const char *login, const char *token)
{
	struct link_keys k = keys_of(c);
	char data[96];

	snprintf(data, sizeof(data), "%" PRId64 "\n%s", id, login);
	if (k.n == 0)
		return false;
	/* the earlier form: base64, whose case is part of it */
	if (strlen(token) == LINK_TAG_LEN)
		return link_tag_ok(&k, "reply", data, token);
	return link_tag32_ok(&k, "reply", data, token);
}
