/* SPDX-License-Identifier: MIT */
/*
 * test_link.c: unit test for signed action links (daemon/link.c): a
 * signed link verifies and says what was signed; changing any one field
 * (by re-encoding it, so the change is well-formed) or any one character
 * of the token is refused; an expired link is told apart only once it is
 * shown genuine; a rotated key set signs with the newest key and still
 * accepts links signed with the older one, and a key dropped from the set
 * no longer verifies anything.  Tags (CSRF) are checked the same way, and
 * the base32 tags of reply addresses in any case.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "link.h"

static char k_old[] = "old-secret-0123456789";
static char k_new[] = "new-secret-abcdefghij";

/* the fields part of a token, decoded by hand for the tamper tests */
static void
reencode(const char *fields, const char *token, char *out, size_t len)
{
	const char *dot = strchr(token, '.');
	size_t n;

	n = link_b64url(
	    (const unsigned char *)fields, strlen(fields), out, len);
	snprintf(out + n, len - n, "%s", dot);
}

static void
test_roundtrip(void)
{
	char *keys[] = {k_new};
	struct link_keys k = {keys, 1};
	struct link l = {42, LINK_KEEP, "dan@example", 1000}, got;
	char tok[LINK_TOKEN_MAX];

	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == 0);
	CHECK(strlen(tok) < 200);
	/* URL-safe: nothing that needs escaping in a path */
	CHECK(strspn(tok,
	          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	          "0123456789-_.") == strlen(tok));
	CHECK(link_verify(&k, tok, 999, &got) == 0);
	CHECK(got.id == 42 && got.action == LINK_KEEP &&
	    strcmp(got.recipient, "dan@example") == 0 && got.expires == 1000);
	/* at the expiry it is over; the fields still say what it was */
	CHECK(link_verify(&k, tok, 1000, &got) == -EKEYEXPIRED);
	CHECK(got.id == 42);
	/* bad fields are not signed */
	l.recipient[0] = '-';
	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == -EINVAL);
	l.recipient[0] = 'd';
	l.action = LINK_ACTION_MAX;
	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == -EINVAL);
	l.action = LINK_OPEN;
	l.id = 0;
	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == -EINVAL);
	/* no key, no link */
	k.n = 0;
	l.id = 1;
	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == -EINVAL);
	CHECK(link_sign(NULL, &l, tok, sizeof(tok)) == -EINVAL);
}

static void
test_tamper(void)
{
	char *keys[] = {k_new};
	struct link_keys k = {keys, 1};
	struct link l = {7, LINK_SNOOZE, "dan", 5000}, got;
	char tok[LINK_TOKEN_MAX], bad[LINK_TOKEN_MAX];
	/* each field changed in turn, well-formed */
	static const char *const forged[] = {
	    "1\n8\nsnooze\n5000\ndan",    /* another promise */
	    "1\n7\nkeep\n5000\ndan",      /* another action */
	    "1\n7\nsnooze\n9999999\ndan", /* a later expiry */
	    "1\n7\nsnooze\n5000\nalice",  /* another person */
	    "2\n7\nsnooze\n5000\ndan",    /* another format */
	    "1\n7\nsnooze\n5000\ndan\nx", /* an extra field */
	};
	size_t i, len;

	CHECK(link_sign(&k, &l, tok, sizeof(tok)) == 0);
	/* the genuine fields re-encoded give the genuine token back */
	reencode("1\n7\nsnooze\n5000\ndan", tok, bad, sizeof(bad));
	CHECK(strcmp(bad, tok) == 0);
	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		reencode(forged[i], tok, bad, sizeof(bad));
		CHECK(link_verify(&k, bad, 0, &got) == -EBADMSG);
		CHECK(got.id == 0);
	}
	/* every single character flipped */
	len = strlen(tok);
	for (i = 0; i < len; i++) {
		memcpy(bad, tok, len + 1);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		if (bad[i] == '.' || tok[i] == '.')
			bad[i] = 'x';
		CHECK(link_verify(&k, bad, 0, &got) == -EBADMSG);
	}
	/* truncated, extended, empty, garbage */
	memcpy(bad, tok, len + 1);
	bad[len - 1] = '\0';
	CHECK(link_verify(&k, bad, 0, &got) == -EBADMSG);
	snprintf(bad, sizeof(bad), "%sA", tok);
	CHECK(link_verify(&k, bad, 0, &got) == -EBADMSG);
	CHECK(link_verify(&k, "", 0, &got) == -EBADMSG);
	CHECK(link_verify(&k, ".", 0, &got) == -EBADMSG);
	CHECK(link_verify(&k, "abc.def", 0, &got) == -EBADMSG);
	/* an expired forgery is a forgery, not "expired" */
	reencode("1\n7\nsnooze\n1\ndan", tok, bad, sizeof(bad));
	CHECK(link_verify(&k, bad, 10, &got) == -EBADMSG);
}

static void
test_rotation(void)
{
	char *one[] = {k_old}, *both[] = {k_old, k_new}, *newonly[] = {k_new};
	struct link_keys k1 = {one, 1}, k2 = {both, 2}, k3 = {newonly, 1};
	struct link l = {3, LINK_ACK, "boss", 100}, got;
	char told[LINK_TOKEN_MAX], tnew[LINK_TOKEN_MAX], t3[LINK_TOKEN_MAX];

	CHECK(link_sign(&k1, &l, told, sizeof(told)) == 0);
	/* after rotation: the new key signs, as it alone would */
	CHECK(link_sign(&k2, &l, tnew, sizeof(tnew)) == 0);
	CHECK(link_sign(&k3, &l, t3, sizeof(t3)) == 0);
	CHECK(strcmp(tnew, t3) == 0);
	CHECK(strcmp(tnew, told) != 0);
	/* both keys configured: old and new links work */
	CHECK(link_verify(&k2, told, 50, &got) == 0 && got.id == 3);
	CHECK(link_verify(&k2, tnew, 50, &got) == 0 && got.id == 3);
	/* the old key dropped: its links are dead, the new ones live */
	CHECK(link_verify(&k3, told, 50, &got) == -EBADMSG);
	CHECK(link_verify(&k3, tnew, 50, &got) == 0);
	/* nothing verifies without keys */
	k3.n = 0;
	CHECK(link_verify(&k3, tnew, 50, &got) == -EBADMSG);
}

static void
test_tags(void)
{
	char *one[] = {k_old}, *both[] = {k_old, k_new}, *newonly[] = {k_new};
	struct link_keys k1 = {one, 1}, k2 = {both, 2}, k3 = {newonly, 1};
	char t[LINK_TAG_LEN + 1], t2[LINK_TAG_LEN + 1];

	CHECK(link_tag(&k1, "csrf", "session-1", t, sizeof(t)) == 0);
	CHECK(strlen(t) == LINK_TAG_LEN);
	CHECK(link_tag_ok(&k1, "csrf", "session-1", t));
	CHECK(link_tag_ok(&k2, "csrf", "session-1", t));
	CHECK(!link_tag_ok(&k3, "csrf", "session-1", t));
	CHECK(!link_tag_ok(&k1, "csrf", "session-2", t));
	CHECK(!link_tag_ok(&k1, "other", "session-1", t));
	CHECK(!link_tag_ok(&k1, "csrf", "session-1", ""));
	CHECK(link_tag(&k2, "csrf", "session-1", t2, sizeof(t2)) == 0);
	CHECK(strcmp(t, t2) != 0);
	CHECK(link_tag_ok(&k3, "csrf", "session-1", t2));
	t2[5] = t2[5] == 'A' ? 'B' : 'A';
	CHECK(!link_tag_ok(&k2, "csrf", "session-1", t2));
	CHECK(link_tag(&k1, "csrf", "x", t, 10) == -EINVAL);
}

/* the base32 tags of reply addresses: the same in any case, and as hard
 * to forge in each */
static void
test_tags32(void)
{
	char *one[] = {k_old}, *both[] = {k_old, k_new}, *newonly[] = {k_new};
	struct link_keys k1 = {one, 1}, k2 = {both, 2}, k3 = {newonly, 1};
	char t[LINK_TAG32_LEN + 1], up[LINK_TAG32_LEN + 1];
	char b64[LINK_TAG_LEN + 1];
	size_t i;

	CHECK(link_tag32(&k1, "reply", "7\ndan", t, sizeof(t)) == 0);
	CHECK(strlen(t) == LINK_TAG32_LEN);
	CHECK(strspn(t, "abcdefghijklmnopqrstuvwxyz234567") == LINK_TAG32_LEN);
	CHECK(link_tag32_ok(&k1, "reply", "7\ndan", t));
	/* upper case, and mixed, are the same tag */
	for (i = 0; i <= LINK_TAG32_LEN; i++)
		up[i] = t[i] >= 'a' && t[i] <= 'z' ? (char)(t[i] - 32) : t[i];
	CHECK(strcmp(up, t) != 0);
	CHECK(link_tag32_ok(&k1, "reply", "7\ndan", up));
	up[0] = t[0];
	CHECK(link_tag32_ok(&k1, "reply", "7\ndan", up));
	/* another key, datum or purpose; rotation */
	CHECK(!link_tag32_ok(&k3, "reply", "7\ndan", t));
	CHECK(link_tag32_ok(&k2, "reply", "7\ndan", t));
	CHECK(!link_tag32_ok(&k1, "reply", "8\ndan", t));
	CHECK(!link_tag32_ok(&k1, "reply", "7\nalice", t));
	CHECK(!link_tag32_ok(&k1, "csrf", "7\ndan", t));
	/* every character counts, whatever its case */
	for (i = 0; i < LINK_TAG32_LEN; i++) {
		char was = t[i];

		t[i] = was == 'a' ? 'B' : 'A';
		CHECK(!link_tag32_ok(&k1, "reply", "7\ndan", t));
		t[i] = was;
	}
	/* cut, longer, out of the alphabet, empty */
	t[LINK_TAG32_LEN - 1] = '\0';
	CHECK(!link_tag32_ok(&k1, "reply", "7\ndan", t));
	CHECK(!link_tag32_ok(&k1, "reply", "7\ndan", ""));
	CHECK(link_tag32(&k1, "reply", "7\ndan", t, sizeof(t)) == 0);
	t[3] = '1';
	CHECK(!link_tag32_ok(&k1, "reply", "7\ndan", t));
	/* the base64 tag of the same MAC is no base32 tag */
	CHECK(link_tag(&k1, "reply", "7\ndan", b64, sizeof(b64)) == 0);
	CHECK(!link_tag32_ok(&k1, "reply", "7\ndan", b64));
	CHECK(link_tag32(&k2, "reply", "7\ndan", t, sizeof(t)) == 0);
	CHECK(link_tag32_ok(&k3, "reply", "7\ndan", t));
	CHECK(link_tag32(&k1, "reply", "x", t, LINK_TAG32_LEN) == -EINVAL);
	CHECK(link_tag32(NULL, "reply", "x", t, sizeof(t)) == -EINVAL);
}

int
main(void)
{
	CHECK(link_action_from("keep") == LINK_KEEP);
	CHECK(link_action_from("snooze") == LINK_SNOOZE);
	CHECK(link_action_from("ack") == LINK_ACK);
	CHECK(link_action_from("open") == LINK_OPEN);
	CHECK(link_action_from("done") == LINK_ACTION_INVALID);
	CHECK(strcmp(link_action_name(LINK_SNOOZE), "snooze") == 0);
	test_roundtrip();
	test_tamper();
	test_rotation();
	test_tags();
	test_tags32();
	printf("test_link: %d checks, %d failed\n", nchecks, nfailed);
	return nfailed == 0 ? 0 : 1;
}
