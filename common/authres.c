/* SPDX-License-Identifier: MIT */
/*
 * authres.c: reading Authentication-Results, see authres.h.  The value is
 * first made plain: comments dropped, quoted strings unquoted, folding
 * made spaces.  Then it is the authserv-id (and a version), and after each
 * ';' a method's result and its properties, separated by spaces.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

#define MAX_HDR 4096

/* hdr without comments and quotes, into out (MAX_HDR) */
static void
plain(const char *hdr, char *out)
{
	size_t o = 0;
	int depth = 0;
	bool quoted = false;

	for (; *hdr != '\0' && o + 1 < MAX_HDR; hdr++) {
		char c = *hdr;

		if (quoted) {
			if (c == '\\' && hdr[1] != '\0')
				out[o++] = *++hdr;
			else if (c == '"')
				quoted = false;
			else
				out[o++] = c;
			continue;
		}
		if (depth > 0) {
			if (c == '\\' && hdr[1] != '\0')
				hdr++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == '"')
			quoted = true;
		else
			out[o++] =
			    (c == '\t' || c == '\r' || c == '\n') ? ' ' : c;
	}
	out[o] = '\0';
}

/* d is from_domain, or a parent of it that is no bare top-level name */
static bool
aligned(const char *d, const char *from_domain)
{
	size_t dl = strlen(d), fl = strlen(from_domain);

	if (*d == '@')
		return aligned(d + 1, from_domain);
	if (strchr(d, '@') != NULL)
		return aligned(strchr(d, '@') + 1, from_domain);
	if (dl == 0 || strchr(d, '.') == NULL)
		return false;
	if (strcasecmp(d, from_domain) == 0)
		return true;
	return fl > dl && from_domain[fl - dl - 1] == '.' &&
	    strcasecmp(from_domain + fl - dl, d) == 0;
}

/* one resinfo (between ';'): its method passes from_domain */
static bool
resinfo_passes(char *s, const char *from_domain)
{
	char *tok, *save = NULL, *eq;
	const char *method = NULL, *result = NULL;
	bool dmarc_from_ok = true, dkim_ok = false;

	for (tok = strtok_r(s, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			continue;
		*eq = '\0';
		if (method == NULL) {
			method = tok;
			result = eq + 1;
			continue;
		}
		if (strcasecmp(tok, "header.from") == 0)
			dmarc_from_ok = strcasecmp(eq + 1, from_domain) == 0;
		else if (strcasecmp(tok, "header.d") == 0 ||
		    strcasecmp(tok, "header.i") == 0)
			dkim_ok = dkim_ok || aligned(eq + 1, from_domain);
	}
	if (method == NULL || strcasecmp(result, "pass") != 0)
		return false;
	if (strcasecmp(method, "dmarc") == 0)
		return dmarc_from_ok;
	if (strcasecmp(method, "dkim") == 0)
		return dkim_ok;
	return false;
}

bool
authres_passes(
    const char *hdr, const char *authserv_id, const char *from_domain)
{
	char *buf, *part, *save = NULL, *id, *end;
	bool first = true, ok = false;

	if (hdr == NULL || authserv_id == NULL || from_domain == NULL ||
	    *from_domain == '\0' || (buf = malloc(MAX_HDR)) == NULL)
		return false;
	plain(hdr, buf);
	for (part = strtok_r(buf, ";", &save); part != NULL && !ok;
	     part = strtok_r(NULL, ";", &save)) {
		if (first) {
			/* the authserv-id, then an optional version */
			id = part + strspn(part, " ");
			end = id + strcspn(id, " ");
			*end = '\0';
			if (strcasecmp(id, authserv_id) != 0)
				break;
			first = false;
			continue;
		}
		ok = resinfo_passes(part, from_domain);
	}
	free(buf);
	return ok;
}
