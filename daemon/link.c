/* SPDX-License-Identifier: MIT */
/*
 * link.c: signed action links and keyed tags, see link.h.  A token is
 * B64(FIELDS) "." B64(MAC), FIELDS being "1\nID\nACTION\nEXPIRES\nLOGIN"
 * and MAC the HMAC-SHA256 of "link\n" and the first part as sent: the MAC
 * is checked before a byte of the fields is decoded, so nothing of a
 * forged token is ever read.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "link.h"
#include "util.h"

#define MAC_LEN 32
#define FIELDS_MAX 160

static const char *const action_names[LINK_ACTION_MAX] = {
    [LINK_OPEN] = "open",
    [LINK_KEEP] = "keep",
    [LINK_SNOOZE] = "snooze",
    [LINK_ACK] = "ack",
};

const char *
link_action_name(enum link_action a)
{
	return a >= 0 && a < LINK_ACTION_MAX ? action_names[a] : "?";
}

enum link_action
link_action_from(const char *s)
{
	for (int i = 0; i < LINK_ACTION_MAX; i++)
		if (strcmp(s, action_names[i]) == 0)
			return (enum link_action)i;
	return LINK_ACTION_INVALID;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
link_b64url(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0, need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	uint32_t v;

	if (need + 1 > outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return 0;
	}
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64chars[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64chars[v & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64val(char c)
{
	const char *p = c != '\0' ? strchr(b64chars, c) : NULL;

	return p != NULL ? (int)(p - b64chars) : -1;
}

/* decodes len chars of s into out; the bytes written, or -1 if s is not
 * URL-safe base64 without padding or out is too small */
static ssize_t
b64url_decode(const char *s, size_t len, unsigned char *out, size_t outlen)
{
	uint32_t v = 0;
	size_t i, o = 0;
	int bits = 0, d;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((d = b64val(s[i])) < 0)
			return -1;
		v = (v << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == outlen)
				return -1;
			out[o++] = (unsigned char)((v >> bits) & 0xff);
		}
	}
	/* the bits left over must be zero, or two tokens would decode
	 * alike */
	if ((v & ((1u << bits) - 1)) != 0)
		return -1;
	return (ssize_t)o;
}

/* HMAC-SHA256 of purpose, "\n" and data (len bytes) keyed with key */
static int
mac(const char *key, const char *purpose, const char *data, size_t len,
    unsigned char out[MAC_LEN])
{
	unsigned char buf[FIELDS_MAX * 2 + 32];
	size_t plen = strlen(purpose);
	unsigned int outl = 0;
	int r = -EIO;

	if (plen + 1 + len > sizeof(buf))
		return -EINVAL;
	memcpy(buf, purpose, plen);
	buf[plen] = '\n';
	memcpy(buf + plen + 1, data, len);
	if (HMAC(EVP_sha256(), key, (int)strlen(key), buf, plen + 1 + len, out,
	        &outl) != NULL &&
	    outl == MAC_LEN)
		r = 0;
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* the MAC under the newest key, the one that signs; the older ones only
 * check what they signed before a rotation */
static int
mac_newest(const struct link_keys *k, const char *purpose, const char *data,
    size_t len, unsigned char out[MAC_LEN])
{
	if (k == NULL || k->n == 0)
		return -EINVAL;
	return mac(k->keys[k->n - 1], purpose, data, len, out);
}

/* a tag's MAC, once out has room for taglen characters and the NUL */
static int
tag_mac(const struct link_keys *k, const char *purpose, const char *data,
    size_t outlen, size_t taglen, unsigned char out[MAC_LEN])
{
	if (outlen < taglen + 1)
		return -EINVAL;
	return mac_newest(k, purpose, data, strlen(data), out);
}

int
link_sign(
    const struct link_keys *k, const struct link *l, char *out, size_t outlen)
{
	char fields[FIELDS_MAX], enc[FIELDS_MAX * 2];
	unsigned char m[MAC_LEN];
	size_t flen, elen;
	int n, r;

	if (l->id <= 0 || l->action < 0 || l->action >= LINK_ACTION_MAX ||
	    !util_login_ok(l->recipient) || l->expires <= 0)
		return -EINVAL;
	n = snprintf(fields, sizeof(fields),
	    "1\n%" PRId64 "\n%s\n%" PRId64 "\n%s", l->id,
	    action_names[l->action], l->expires, l->recipient);
	if (n < 0 || (size_t)n >= sizeof(fields))
		return -EINVAL;
	flen = (size_t)n;
	elen =
	    link_b64url((const unsigned char *)fields, flen, enc, sizeof(enc));
	if ((r = mac_newest(k, "link", enc, elen, m)) < 0)
		return r;
	if (elen + 1 + 44 > outlen)
		return -EINVAL;
	memcpy(out, enc, elen);
	out[elen] = '.';
	link_b64url(m, MAC_LEN, out + elen + 1, outlen - elen - 1);
	return 0;
}

/* whether any key signed data for purpose with the MAC m; every key is
 * tried, so the time taken says nothing of which */
static bool
mac_ok(const struct link_keys *k, const char *purpose, const char *data,
    size_t len, const unsigned char m[MAC_LEN])
{
	unsigned char want[MAC_LEN];
	bool ok = false;

	for (size_t i = 0; k != NULL && i < k->n; i++)
		if (mac(k->keys[i], purpose, data, len, want) == 0 &&
		    CRYPTO_memcmp(want, m, MAC_LEN) == 0)
			ok = true;
	return ok;
}

/* the next newline-ended field of *p into a NUL-ended string; NULL if
 * there is none */
static char *
next_field(char **p)
{
	char *s = *p, *nl;

	if (s == NULL)
		return NULL;
	if ((nl = strchr(s, '\n')) != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else
		*p = NULL;
	return s;
}

static bool
parse_i64(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (*s == '\0' || *s == '0' || strlen(s) > 18)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

int
link_verify(
    const struct link_keys *k, const char *token, int64_t now, struct link *ret)
{
	char fields[FIELDS_MAX + 1], *p, *ver, *id, *act, *exp, *who;
	unsigned char m[MAC_LEN + 2];
	const char *dot = strchr(token, '.');
	ssize_t n;
	size_t elen;

	memset(ret, 0, sizeof(*ret));
	if (dot == NULL || (elen = (size_t)(dot - token)) > FIELDS_MAX * 2 ||
	    strlen(dot + 1) != 43 ||
	    b64url_decode(dot + 1, 43, m, sizeof(m)) != MAC_LEN ||
	    !mac_ok(k, "link", token, elen, m))
		return -EBADMSG;
	if ((n = b64url_decode(
	         token, elen, (unsigned char *)fields, sizeof(fields) - 1)) < 0)
		return -EBADMSG;
	fields[n] = '\0';
	if (memchr(fields, '\0', (size_t)n) != NULL)
		return -EBADMSG;
	p = fields;
	ver = next_field(&p);
	id = next_field(&p);
	act = next_field(&p);
	exp = next_field(&p);
	who = next_field(&p);
	/* a key of ours signed it, so a bad field is our own bug or a
	 * future format: refused all the same */
	if (who == NULL || p != NULL || strcmp(ver, "1") != 0 ||
	    !parse_i64(id, &ret->id) ||
	    (ret->action = link_action_from(act)) == LINK_ACTION_INVALID ||
	    !parse_i64(exp, &ret->expires) || !util_login_ok(who)) {
		memset(ret, 0, sizeof(*ret));
		return -EBADMSG;
	}
	snprintf(ret->recipient, sizeof(ret->recipient), "%s", who);
	return now >= ret->expires ? -EKEYEXPIRED : 0;
}

int
link_tag(const struct link_keys *k, const char *purpose, const char *data,
    char *out, size_t outlen)
{
	unsigned char m[MAC_LEN];
	int r;

	if ((r = tag_mac(k, purpose, data, outlen, LINK_TAG_LEN, m)) < 0)
		return r;
	link_b64url(m, MAC_LEN, out, outlen);
	return 0;
}

bool
link_tag_ok(const struct link_keys *k, const char *purpose, const char *data,
    const char *tag)
{
	unsigned char m[MAC_LEN + 2];

	return strlen(tag) == LINK_TAG_LEN &&
	    b64url_decode(tag, LINK_TAG_LEN, m, sizeof(m)) == MAC_LEN &&
	    mac_ok(k, purpose, data, strlen(data), m);
}

/* 5 bytes (40 bits) make 8 base32 characters; 25 bytes make 40 */
#define TAG32_BYTES 25

/* the first TAG32_BYTES of m in lower-case base32 into out */
static void
b32(const unsigned char m[MAC_LEN], char out[LINK_TAG32_LEN + 1])
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz234567";
	size_t i, o = 0;
	uint64_t v;
	int j;

	for (i = 0; i < TAG32_BYTES; i += 5) {
		v = 0;
		for (j = 0; j < 5; j++)
			v = v << 8 | m[i + (size_t)j];
		for (j = 7; j >= 0; j--)
			out[o++] = chars[(v >> (5 * j)) & 31];
	}
	out[o] = '\0';
}

int
link_tag32(const struct link_keys *k, const char *purpose, const char *data,
    char *out, size_t outlen)
{
	unsigned char m[MAC_LEN];
	int r;

	if ((r = tag_mac(k, purpose, data, outlen, LINK_TAG32_LEN, m)) < 0)
		return r;
	b32(m, out);
	OPENSSL_cleanse(m, sizeof(m));
	return 0;
}

bool
link_tag32_ok(const struct link_keys *k, const char *purpose, const char *data,
    const char *tag)
{
	unsigned char m[MAC_LEN];
	char want[LINK_TAG32_LEN + 1], got[LINK_TAG32_LEN + 1];
	bool ok = false;
	size_t i;

	if (strlen(tag) != LINK_TAG32_LEN)
		return false;
	for (i = 0; i < LINK_TAG32_LEN; i++)
		got[i] = tag[i] >= 'A' && tag[i] <= 'Z' ? (char)(tag[i] + 32)
		                                        : tag[i];
	got[i] = '\0';
	/* every key is tried, so the time taken says nothing of which */
	for (i = 0; k != NULL && i < k->n; i++) {
		if (mac(k->keys[i], purpose, data, strlen(data), m) < 0)
			continue;
		b32(m, want);
		if (CRYPTO_memcmp(want, got, LINK_TAG32_LEN) == 0)
			ok = true;
	}
	OPENSSL_cleanse(m, sizeof(m));
	return ok;
}
