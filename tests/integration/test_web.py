#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web page over real HTTP on 127.0.0.1: "My promises", one promise and
"My team" render the caller's promises with every value escaped and the
strict headers, a page of at most 100 at a time with the count of all and
links to the next and previous page; the forms add, keep, snooze and cancel through the same
operations as the socket ("via web" in the history), answered once
committed with a 303 back; a form without its token, with another
person's, or from another site's Origin is a 403 and changes nothing.
Sign-in by email through a real SMTP sink: the mail carries the link, its
GET only shows a button, its POST sets the session cookie once, and an
unknown address gets the very same page."""

import getpass
import http.client
import json
import os
import re
import time
import urllib.parse

from harness import Daemon, check, free_port, run, wait_for
from smtpsink import SmtpSink

ME = getpass.getuser()
EVIL = '<b>Acme & "Sons"</b>'
EVIL_HTML = "&lt;b&gt;Acme &amp; &quot;Sons&quot;&lt;/b&gt;"



def web_daemon(name, conf_extra="", base_url=None):
    d = Daemon(name)
    d.port = free_port()
    base = base_url or f"http://127.0.0.1:{d.port}"
    d.write_conf(
        conf_extra=f"{conf_extra}"
                   f"[http]\nlisten = 127.0.0.1:{d.port}\n"
                   f"trusted_proxy = 127.0.0.1\n"
                   f"base_url = {base}\n")
    return d.start()


def req(d, method, path, form=None, user=ME, cookie=None, origin=None,
        headers=None, raw_body=None):
    """(status, text, response)"""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
    h = {}
    if user is not None:
        h["X-Remote-User"] = user
    if cookie is not None:
        h["Cookie"] = cookie
    if origin is not None:
        h["Origin"] = origin
    body = raw_body
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"
    h.update(headers or {})
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        text = r.read().decode()
    finally:
        c.close()
    return r.status, text, r


def csrf_of(page):
    m = re.search(r'name="csrf" value="([^"]+)"', page)
    check(m is not None, f"a form token in {page[:300]}")
    return m.group(1)


def check_headers(r):
    csp = r.getheader("Content-Security-Policy", "")
    for part in ("default-src 'none'", "style-src 'self'",
                 "form-action 'self'", "frame-ancestors 'none'"):
        check(part in csp, csp)
    check("script-src" not in csp and "unsafe" not in csp, csp)
    check(r.getheader("X-Content-Type-Options") == "nosniff", "nosniff")
    check(r.getheader("Referrer-Policy") == "no-referrer", "referrer")
    check(r.getheader("Cache-Control") == "no-store", "no-store")


def show(d, pid):
    return d.json("show", str(pid))


def test_pages_and_forms():
    d = web_daemon("web-pages",
                   conf_extra=f"[person {ME}]\nmanager = boss\n"
                              f"[person boss]\nemail = boss@example.com\n")
    try:
        late = d.json("add", "Call Bob back", "--for", EVIL, "--due",
                      f"@{int(time.time()) + 2}", "--nudge",
                      "none")["promise"]
        p = d.json("add", EVIL, "--for", "Acme", "--due", "+3d",
                   "--nudge", "none")["promise"]
        wait_for(lambda: time.time() > late["due_at"] + 1, timeout=10,
                 what="the first promise overdue")

        # not signed in: asked to
        st, _, r = req(d, "GET", "/", user=None)
        check(st == 303 and r.getheader("Location") == "/signin", st)

        st, page, r = req(d, "GET", "/")
        check(st == 200, (st, page))
        check(r.getheader("Content-Type").startswith("text/html"), "html")
        check_headers(r)
        check(EVIL not in page and EVIL_HTML in page, page)
        check("<script" not in page, page)
        # overdue first
        check(page.index("Call Bob back") < page.index(EVIL_HTML), page)
        check("1 overdue" in page, page)
        token = csrf_of(page)

        st, css, r = req(d, "GET", "/static/style.css", user=None)
        check(st == 200 and r.getheader("Content-Type").startswith(
            "text/css") and "@media" in css, (st, css[:100]))

        st, page, r = req(d, "GET", f"/p/{p['id']}")
        check(st == 200 and EVIL_HTML in page and EVIL not in page, page)
        check_headers(r)
        check("History" in page and "created" in page, page)
        check("What happens next" in page, page)

        # snooze with the form: a 303 back, after the commit
        st, _, r = req(d, "POST", f"/p/{p['id']}/snooze",
                       {"csrf": token, "due": "+5d", "reason": "asked <me>"})
        check(st == 303, st)
        loc = r.getheader("Location")
        check(loc == f"/p/{p['id']}?m=snoozed", loc)
        got = show(d, p["id"])
        check(got["promise"]["snoozes"] == 1 and
              got["promise"]["due_at"] > p["due_at"], got)
        ev = [e for e in got["events"] if e["kind"] == "snoozed"]
        check(ev[0]["actor"] == ME and ev[0]["detail"]["via"] == "web", ev)
        st, page, _ = req(d, "GET", loc)
        check(st == 200 and "Snoozed." in page, page)
        check("asked &lt;me&gt;" in page and "via web" in page, page)

        # add, keep, cancel
        st, _, r = req(d, "POST", "/add",
                       {"csrf": token, "title": "Send the deck",
                        "for": "Initech", "due": "+2d", "note": ""})
        check(st == 303, st)
        m = re.fullmatch(r"/p/(\d+)\?m=added", r.getheader("Location"))
        check(m is not None, r.getheader("Location"))
        added = show(d, m.group(1))["promise"]
        check(added["title"] == "Send the deck" and added["owner"] == ME and
              added["for"] == "Initech", added)
        st, _, r = req(d, "POST", f"/p/{added['id']}/done",
                       {"csrf": token, "note": "sent"})
        check(st == 303 and show(d, added["id"])["promise"]["state"] ==
              "kept", st)
        st, _, r = req(d, "POST", f"/p/{late['id']}/cancel",
                       {"csrf": token, "reason": "lost the deal",
                        "told_customer": "1"})
        check(st == 303, st)
        got = show(d, late["id"])
        check(got["promise"]["state"] == "cancelled", got)
        ev = [e for e in got["events"] if e["kind"] == "cancelled"][0]
        check(ev["detail"]["told_customer"] is True and
              ev["detail"]["via"] == "web", ev)
        # an operation's refusal is a page, and changes nothing
        st, page, _ = req(d, "POST", f"/p/{late['id']}/done",
                          {"csrf": token})
        check(st == 409 and "Not done" in page, (st, page))
        st, page, _ = req(d, "POST", f"/p/{p['id']}/snooze",
                          {"csrf": token, "due": "+1d"})
        check(st == 400 and "reason" in page, (st, page))

        # the form token: missing, forged, another person's, another site
        before = show(d, p["id"])
        st, page, _ = req(d, "POST", f"/p/{p['id']}/done", {"note": "x"})
        check(st == 403 and "Nothing was changed" in page, (st, page))
        st, _, _ = req(d, "POST", f"/p/{p['id']}/done",
                       {"csrf": token[:-2] + "AA", "note": "x"})
        check(st == 403, st)
        st, bpage, _ = req(d, "GET", "/", user="boss")
        boss_token = csrf_of(bpage)
        check(boss_token != token, "tokens differ per person")
        st, _, _ = req(d, "POST", f"/p/{p['id']}/done",
                       {"csrf": boss_token, "note": "x"})
        check(st == 403, st)
        st, _, _ = req(d, "POST", f"/p/{p['id']}/done",
                       {"csrf": token, "note": "x"},
                       origin="https://evil.example.com")
        check(st == 403, st)
        st, _, _ = req(d, "POST", f"/p/{p['id']}/done",
                       {"csrf": token, "note": "x"}, origin="null",
                       headers={"Sec-Fetch-Site": "cross-site"})
        check(st == 403, st)
        st, _, _ = req(d, "POST", "/add",
                       {"csrf": token, "title": "x", "due": "+1d"},
                       headers={"Content-Type": "text/plain"})
        check(st == 415, st)
        after = show(d, p["id"])
        check(after == before, (before, after))
        # the page's own origin passes, and a browser's "null" Origin
        # (under no-referrer) from the same origin
        st, _, _ = req(d, "POST", f"/p/{p['id']}/ack", {"csrf": token},
                       origin=f"http://127.0.0.1:{d.port}")
        check(st in (303, 409), st)
        st, _, _ = req(d, "POST", f"/p/{p['id']}/ack", {"csrf": token},
                       origin="null",
                       headers={"Sec-Fetch-Site": "same-origin"})
        check(st in (303, 409), st)

        # a manager's team: the overdue of their reports
        late2 = d.json("add", "Ring Hooli", "--due",
                       f"@{int(time.time()) + 1}", "--nudge",
                       "none")["promise"]
        wait_for(lambda: time.time() > late2["due_at"] + 1, timeout=10,
                 what="overdue")
        st, page, r = req(d, "GET", "/team", user="boss")
        check(st == 200 and "Ring Hooli" in page and ME in page, page)
        check_headers(r)
        st, page, _ = req(d, "GET", "/p/99999")
        check(st == 404, st)
        st, page, _ = req(d, "GET", "/p/1/frobnicate")
        check(st == 404, st)
        d.stop()
    finally:
        d.cleanup()


def test_pages_of_many():
    d = web_daemon("web-many",
                   conf_extra=f"[person {ME}]\nmanager = boss\n"
                              f"[person boss]\nemail = boss@example.com\n")
    try:
        now = int(time.time())
        many = os.path.join(d.dir, "many.jsonl")
        with open(many, "w") as f:
            for i in range(130):
                f.write(json.dumps({"title": f"Task {i:03d} <x>",
                                    "due_at": now + 3600 + 60 * i}) + "\n")
        check(d.json("import", many)["imported"] == 130, "imported")
        late = d.json("add", "Ring Hooli", "--due", f"@{now + 2}",
                      "--nudge", "none")["promise"]
        wait_for(lambda: time.time() > late["due_at"] + 1, timeout=10,
                 what="overdue")

        # the list operation pages: offset and limit over the due order,
        # total counting all
        r = d.call({"v": 1, "op": "list", "owner": ME, "limit": 5,
                    "offset": 3, "total": True})
        check(r["ok"] and r["total"] == 131 and
              [p["title"] for p in r["promises"]] ==
              [f"Task {i:03d} <x>" for i in range(2, 7)], r)
        r = d.call({"v": 1, "op": "list", "offset": 200, "total": True})
        check(r["ok"] and r["promises"] == [] and r["total"] == 131, r)
        check("total" not in d.call({"v": 1, "op": "list", "limit": 1}),
              "total only when asked")
        for bad in ({"offset": -1}, {"offset": "2"}, {"total": 1}):
            r = d.call({"v": 1, "op": "list", **bad})
            check(not r["ok"] and r["error"]["code"] == "invalid", r)

        st, one, r = req(d, "GET", "/")
        check(st == 200, (st, one))
        check_headers(r)
        check("131 open; showing 1&ndash;100." in one, one)
        check("1 overdue on this page." in one, one)
        check(one.index("Ring Hooli") < one.index("Task 000"), one)
        check("Task 098 &lt;x&gt;" in one and "Task 099" not in one, one)
        check(one.count('<li class="promise') == 100, "100 on the first page")
        check('href="/?page=2">Next page' in one and
              "Previous page" not in one, one)

        st, two, _ = req(d, "GET", "/?page=2")
        check(st == 200 and "131 open; showing 101&ndash;131." in two, two)
        check("Task 099 &lt;x&gt;" in two and "Task 129 &lt;x&gt;" in two
              and "Task 098" not in two and "Ring Hooli" not in two, two)
        check(two.count('<li class="promise') == 31, "31 on the second")
        check('href="/?page=1">Previous page' in two and
              "Next page" not in two, two)

        # nonsense is the first page; past the end says so and links back
        st, page, _ = req(d, "GET", "/?page=abc")
        check(st == 200 and "showing 1&ndash;100." in page, page)
        st, page, _ = req(d, "GET", "/?page=9")
        check(st == 200 and "none on this page" in page and
              'href="/?page=2">Previous page' in page, page)

        # the team page pages the same way
        st, page, _ = req(d, "GET", "/team", user="boss")
        check(st == 200 and "1 overdue." in page and
              "Ring Hooli" in page and "Next page" not in page, page)
        d.stop()
    finally:
        d.cleanup()


def signin_link(smtp, address, n):
    msgs = smtp.wait_for_messages(n, timeout=20)
    mine = [m for m in msgs if m["rcpt_tos"] == [address]]
    body = mine[-1]["message"].get_body().get_content()
    m = re.search(r"https://promised\.example\.org/signin/(\S+)", body)
    check(m is not None, body)
    return m.group(1)


def test_signin_by_email():
    base = "https://promised.example.org"
    with SmtpSink().start() as smtp:
        d = web_daemon(
            "web-signin", base_url=base,
            conf_extra=f"retry_initial = 1s\n"
                       f"[smtp]\nurl = {smtp.url}\n"
                       f"from = promised@example.org\nstarttls = off\n"
                       f"[person {ME}]\nemail = me@example.com\n")
        try:
            p = d.json("add", "Send Acme the quote", "--due", "+1d",
                       "--nudge", "none")["promise"]
            st, page, r = req(d, "GET", "/signin", user=None)
            check(st == 200 and 'action="/signin"' in page, page)
            check_headers(r)
            st, known, _ = req(d, "POST", "/signin",
                               {"email": "me@example.com"}, user=None,
                               origin=base)
            check(st == 200 and "on its way" in known, (st, known))
            st, unknown, _ = req(d, "POST", "/signin",
                                 {"email": "nobody@example.com"},
                                 user=None, origin=base)
            check(st == 200 and unknown == known, (unknown, known))
            secret = signin_link(smtp, "me@example.com", 1)
            time.sleep(1)
            check(len(smtp.messages()) == 1,
                  "no message to an unknown address")

            # the GET only shows the button: it uses nothing up
            for _ in range(2):
                st, page, r = req(d, "GET", "/signin/" + secret, user=None)
                check(st == 200 and f'action="{secret}"' in page, page)
                check_headers(r)
            # another site cannot press it
            st, _, r = req(d, "POST", "/signin/" + secret, raw_body=b"",
                           user=None, origin="https://evil.example.com")
            check(st == 403 and r.getheader("Set-Cookie") is None, st)
            st, _, r = req(d, "POST", "/signin/" + secret, raw_body=b"",
                           user=None, origin=base)
            check(st == 303 and r.getheader("Location") == "/", st)
            sc = r.getheader("Set-Cookie")
            parts = [x.strip() for x in sc.split(";")]
            check(parts[0].startswith("promised_session=prs_"), sc)
            for a in ("Path=/", "HttpOnly", "SameSite=Lax",
                      "Max-Age=1209600", "Secure"):
                check(a in parts, sc)
            cookie = parts[0]
            # once only
            st, page, r = req(d, "POST", "/signin/" + secret, raw_body=b"",
                              user=None, origin=base)
            check(st == 403 and "not valid" in page and
                  r.getheader("Set-Cookie") is None, (st, page))

            st, page, _ = req(d, "GET", "/", user=None, cookie=cookie)
            check(st == 200 and "Send Acme the quote" in page and
                  ME in page, page)
            token = csrf_of(page)
            sessions = [t for t in d.json("token", "list")["tokens"]
                        if t.get("kind") == "session"]
            check(len(sessions) == 1, sessions)
            st, _, _ = req(d, "POST", f"/p/{p['id']}/done",
                           {"csrf": token}, user=None, cookie=cookie,
                           origin=base)
            check(st == 303, st)
            got = show(d, p["id"])
            ev = [e for e in got["events"] if e["kind"] == "kept"][0]
            check(ev["actor"] == ME and ev["detail"]["via"] == "web", ev)

            st, _, r = req(d, "POST", "/signout", {"csrf": token},
                           user=None, cookie=cookie, origin=base)
            check(st == 303 and r.getheader("Location") ==
                  "/signin?m=out", st)
            check("Max-Age=0" in r.getheader("Set-Cookie"),
                  r.getheader("Set-Cookie"))
            st, _, r = req(d, "GET", "/", user=None, cookie=cookie)
            check(st == 303 and r.getheader("Location") == "/signin",
                  "the session is over")
            st, page, _ = req(d, "GET", "/signin?m=out", user=None)
            check("Signed out." in page, page)
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    run([test_pages_and_forms, test_pages_of_many, test_signin_by_email])
