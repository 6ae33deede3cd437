/* SPDX-License-Identifier: MIT */
/*
 * msglinks.c: the payload's "links", see msglinks.h.  A link is
 * BASE_URL/l/TOKEN; what it does is in the token, so a scanner that opens
 * it sees a confirmation page and changes nothing (web.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "msglinks.h"
#include "util.h"

struct link_keys
msglinks_keys(const struct conf *c)
{
	struct link_keys k = {c->link_secrets, c->n_link_secrets};

	return k;
}

int
msglinks_url(const struct conf *c, const struct link *l, char *buf, size_t len)
{
	struct link_keys k = msglinks_keys(c);
	char tok[LINK_TOKEN_MAX];
	int n, r;

	if (c->http_base_url == NULL || k.n == 0)
		return -ENOENT;
	if ((r = link_sign(&k, l, tok, sizeof(tok))) < 0)
		return r;
	n = snprintf(buf, len, "%s/l/%s", c->http_base_url, tok);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

size_t
msglinks_list(const struct conf *c, int64_t id, const char *login,
    enum event_type ev, int64_t now, struct msglink *out)
{
	enum link_action acts[LINK_ACTION_MAX];
	struct link l = {0};
	size_t i, n = 0;

	if (c->http_base_url == NULL || c->n_link_secrets == 0 ||
	    !util_login_ok(login) || id <= 0)
		return 0;
	acts[n++] = LINK_OPEN;
	if (ev == EVENT_NUDGE || ev == EVENT_DUE || ev == EVENT_ESCALATION) {
		acts[n++] = LINK_KEEP;
		acts[n++] = LINK_SNOOZE;
	}
	if (ev == EVENT_ESCALATION)
		acts[n++] = LINK_ACK;
	l.id = id;
	l.expires = now + c->link_ttl;
	snprintf(l.recipient, sizeof(l.recipient), "%s", login);
	for (i = 0; i < n; i++) {
		l.action = acts[i];
		out[i].action = acts[i];
		if (msglinks_url(c, &l, out[i].url, sizeof(out[i].url)) < 0)
			return 0;
	}
	return n;
}

json_t *
msglinks_for(const struct conf *c, int64_t id, const char *login,
    enum event_type ev, int64_t now)
{
	struct msglink links[LINK_ACTION_MAX];
	size_t i, n = msglinks_list(c, id, login, ev, now, links);
	json_t *o;

	if (n == 0 || (o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_object_set_new(o, link_action_name(links[i].action),
		        json_string(links[i].url)) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}
