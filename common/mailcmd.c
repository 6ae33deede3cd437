/* SPDX-License-Identifier: MIT */
/*
 * mailcmd.c: the reply commands, see mailcmd.h.  Only the first paragraph
 * counts: mail clients put a signature or a quote after a blank line, and
 * a command is a short line typed above them.  Its whitespace is made
 * plain spaces and its bytes checked as UTF-8 before a word is read, so
 * what comes out is fit for the protocol's text fields as it is.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "mailcmd.h"
#include "util.h"

static const char *const verb_names[MAILCMD_VERB_MAX] = {
    [MAILCMD_DONE] = "done",
    [MAILCMD_SNOOZE] = "snooze",
    [MAILCMD_CANCEL] = "cancel",
    [MAILCMD_TOLD] = "told",
    [MAILCMD_ACK] = "ack",
    [MAILCMD_NOTE] = "note",
};

const char *
mailcmd_verb_name(enum mailcmd_verb v)
{
	return v >= 0 && v < MAILCMD_VERB_MAX ? verb_names[v] : "?";
}

/* the length of the UTF-8 character at s (n bytes left), 0 if invalid */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	/* overlong forms, surrogates and beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* the line at text[*pos] is blank (spaces and tabs at most) */
static bool
blank_line(const char *text, size_t len, size_t pos)
{
	for (; pos < len && text[pos] != '\n'; pos++)
		if (text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\r')
			return false;
	return true;
}

/*
 * The first paragraph of text into out (cap bytes with the NUL): blank
 * lines before it skipped, every run of whitespace or control characters
 * one space, invalid UTF-8 dropped, cut at a character if too long.
 */
static void
first_paragraph(const char *text, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, o = 0, n;
	bool space = false;

	while (i < len && blank_line(text, len, i)) {
		while (i < len && text[i] != '\n')
			i++;
		i++;
	}
	while (i < len) {
		if (s[i] == '\n') {
			if (i + 1 >= len || blank_line(text, len, i + 1))
				break;
			space = true;
			i++;
			continue;
		}
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			space = true;
			i++;
			continue;
		}
		if ((n = utf8_len(s + i, len - i)) == 0) {
			i++;
			continue;
		}
		if (o + (space && o > 0) + n + 1 > cap)
			break;
		if (space && o > 0)
			out[o++] = ' ';
		space = false;
		memcpy(out + o, text + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

/* s starts with the word w, any case, ended by the end or a non-letter */
static bool
word_is(const char *s, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(s, w, n) == 0 && !ascii_alpha(s[n]);
}

/* past the word and the punctuation people put after it ("Done." "ok -") */
static const char *
after_word(const char *s)
{
	while (ascii_alpha(*s))
		s++;
	while (*s != '\0' && strchr(" .,:;!-", *s) != NULL)
		s++;
	return s;
}

/* " because " in s, any case, as a word; NULL if none */
static const char *
find_because(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if ((p == s || p[-1] == ' ') && word_is(p, "because"))
			return p;
	return NULL;
}

static int
parse_snooze(const char *rest, struct mailcmd *ret, const char **err)
{
	const char *because = find_because(rest), *end;
	size_t n, o = 0;

	end = because != NULL ? because : rest + strlen(rest);
	while (end > rest && (end[-1] == ' ' || end[-1] == ','))
		end--;
	/* "until friday", "to monday 10:00", "for 2 days" */
	if (word_is(rest, "until") || word_is(rest, "till") ||
	    word_is(rest, "to"))
		rest = after_word(rest);
	else if (word_is(rest, "for")) {
		rest = after_word(rest);
		memcpy(ret->when, "in ", 3);
		o = 3;
	}
	n = end > rest ? (size_t)(end - rest) : 0;
	if (n == 0) {
		*err =
		    "snooze needs a new deadline, like 'snooze friday 10:00'";
		return -EINVAL;
	}
	if (o + n >= sizeof(ret->when)) {
		*err = "the deadline after snooze is too long";
		return -EINVAL;
	}
	memcpy(ret->when + o, rest, n);
	ret->when[o + n] = '\0';
	if (because != NULL)
		memmove(ret->text, after_word(because),
		    strlen(after_word(because)) + 1);
	else
		ret->text[0] = '\0';
	return 0;
}

int
mailcmd_parse(
    const char *text, size_t len, struct mailcmd *ret, const char **err)
{
	static const struct {
		const char *word;
		enum mailcmd_verb verb;
	} words[] = {
	    {"done", MAILCMD_DONE},
	    {"kept", MAILCMD_DONE},
	    {"snooze", MAILCMD_SNOOZE},
	    {"cancel", MAILCMD_CANCEL},
	    {"told", MAILCMD_TOLD},
	    {"ack", MAILCMD_ACK},
	};
	const char *rest;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	ret->verb = MAILCMD_INVALID;
	first_paragraph(text, len, ret->text, sizeof(ret->text));
	if (ret->text[0] == '\0') {
		*err = "the reply has no words above the quoted mail";
		return -EINVAL;
	}
	ret->verb = MAILCMD_NOTE;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (word_is(ret->text, words[i].word)) {
			ret->verb = words[i].verb;
			break;
		}
	if (ret->verb == MAILCMD_NOTE)
		return 0;
	rest = after_word(ret->text);
	switch (ret->verb) {
	case MAILCMD_SNOOZE:
		return parse_snooze(rest, ret, err);
	case MAILCMD_CANCEL:
	case MAILCMD_TOLD:
		if (*rest == '\0') {
			*err = ret->verb == MAILCMD_CANCEL
			    ? "cancel needs a reason, like 'cancel they "
			      "bought elsewhere'"
			    : "told needs a reason, like 'told we cannot "
			      "deliver before March'";
			return -EINVAL;
		}
		break;
	case MAILCMD_ACK:
		rest = "";
		break;
	default:
		break;
	}
	memmove(ret->text, rest, strlen(rest) + 1);
	return 0;
}
