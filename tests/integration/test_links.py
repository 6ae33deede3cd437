#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""One-click links in messages: with [http] base_url and link_secret_file,
every email, JSON webhook and Slack message about a promise carries signed
links (open, keep, snooze, and ack on escalations) for its recipient; the
signature is recomputed here from the key file, independently of the
daemon.  Without base_url, or without a key, messages carry none."""

import base64
import getpass
import hashlib
import hmac
import json
import os
import subprocess
import time

from harness import PROMISED, Daemon, check, run, wait_for
from httpsink import HttpSink
from smtpsink import SmtpSink

ME = getpass.getuser()
BASE = "https://promised.example.org/app"
OLD_KEY = "link-key-old-0123456789"
NEW_KEY = "link-key-new-abcdefghij"


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def token_of(url):
    check(url.startswith(BASE + "/l/"), url)
    return url[len(BASE) + 3:]


def verify(tok, key):
    """The fields of a token if key signed it, else None."""
    fields, mac = tok.split(".")
    want = hmac.new(key.encode(), b"link\n" + fields.encode(),
                    hashlib.sha256).digest()
    if not hmac.compare_digest(want, b64d(mac)):
        return None
    ver, pid, action, exp, who = b64d(fields).decode().split("\n")
    check(ver == "1", ver)
    return {"id": int(pid), "action": action, "expires": int(exp),
            "recipient": who}


def daemon_with(smtp, web, name, http="", policy=""):
    d = Daemon(name)
    key = os.path.join(d.dir, "link.secret")
    with open(key, "w") as f:
        f.write(f"{OLD_KEY}\n{NEW_KEY}\n")
    os.chmod(key, 0o600)
    http = http.replace("KEYFILE", key)
    d.write_conf(
        conf_extra=f"retry_initial = 1s\n"
                   f"[smtp]\nurl = {smtp.url}\nfrom = promised@example.org\n"
                   f"starttls = off\n"
                   f"[person {ME}]\nemail = me@example.com\n"
                   f"webhook = {web.url('/me')}\nmanager = boss\n"
                   f"[person boss]\nemail = boss@example.com\n"
                   f"webhook = {web.url('/boss')}\nwebhook_format = slack\n"
                   f"{http}",
        policy=policy)
    return d.start()


def body_of(m):
    return m["message"].get_body().get_content()


def test_links_in_every_message():
    with SmtpSink().start() as smtp, HttpSink().start() as web:
        d = daemon_with(smtp, web, "links",
                        http=f"[http]\nbase_url = {BASE}/\n"
                             f"link_secret_file = KEYFILE\nlink_ttl = 3d\n",
                        policy="escalate_after = 1s\n"
                               "escalation_repeat = 1h\n")
        try:
            due = int(time.time()) + 3
            p = d.json("add", "Send Acme the demo invite", "--due",
                       f"@{due}", "--nudge", "none")["promise"]
            # due notice to me (email, JSON webhook), escalation to boss
            # (email, Slack)
            msgs = smtp.wait_for_messages(2, timeout=20)
            wait_for(lambda: len(web.requests()) >= 2, timeout=20,
                     what="both webhooks")
            now = int(time.time())
            mine = [m for m in msgs if m["rcpt_tos"] == ["me@example.com"]]
            boss = [m for m in msgs if m["rcpt_tos"] == ["boss@example.com"]]
            check(len(mine) == 1 and len(boss) == 1, msgs)

            body = body_of(mine[0])
            check("In one click:" in body, body)
            urls = [ln.strip() for ln in body.splitlines()
                    if ln.strip().startswith(BASE + "/l/")]
            check(len(urls) == 3, urls)
            got = {}
            for u in urls:
                f = verify(token_of(u), NEW_KEY)
                check(f is not None, f"not signed with the newest key: {u}")
                check(verify(token_of(u), OLD_KEY) is None, u)
                got[f["action"]] = f
            check(set(got) == {"open", "keep", "snooze"}, got)
            for f in got.values():
                check(f["id"] == p["id"] and f["recipient"] == ME, f)
                # link_ttl = 3d from when the notice was written
                check(abs(f["expires"] - (now + 3 * 86400)) < 120, f)

            bbody = body_of(boss[0])
            burls = [ln.strip() for ln in bbody.splitlines()
                     if ln.strip().startswith(BASE + "/l/")]
            bgot = {verify(token_of(u), NEW_KEY)["action"]:
                    verify(token_of(u), NEW_KEY) for u in burls}
            check(set(bgot) == {"open", "keep", "snooze", "ack"}, bgot)
            check(all(f["recipient"] == "boss" for f in bgot.values()), bgot)

            js = [json.loads(r["body"]) for r in web.requests()
                  if r["path"] == "/me"]
            check(len(js) == 1, js)
            links = js[0]["links"]
            check(set(links) == {"open", "keep", "snooze"}, links)
            for action, u in links.items():
                f = verify(token_of(u), NEW_KEY)
                check(f["action"] == action and f["recipient"] == ME, f)

            slack = [json.loads(r["body"])["text"] for r in web.requests()
                     if r["path"] == "/boss"]
            check(len(slack) == 1, slack)
            text = slack[0]
            for label in ("Mark kept", "Snooze to the next business "
                          "morning", "Acknowledge", "Open"):
                check(f"|{label}>" in text, text)
            ack = [u for u in burls
                   if verify(token_of(u), NEW_KEY)["action"] == "ack"]
            check(f"<{ack[0]}|Acknowledge>" in text, text)
            # the resolution notice links to the promise only
            d.client("done", str(p["id"]))
            def resolved():
                return [m for m in smtp.messages()
                        if m["message"]["Subject"].startswith(
                            f"[promise {p['id']}] Resolved")]
            wait_for(resolved, timeout=20, what="the resolution notice")
            res = resolved()
            rurls = [ln.strip() for ln in body_of(res[0]).splitlines()
                     if ln.strip().startswith(BASE + "/l/")]
            check([verify(token_of(u), NEW_KEY)["action"] for u in rurls]
                  == ["open"], rurls)
            d.stop()
        finally:
            d.cleanup()


def test_no_links_without_base_url_or_key():
    for name, http in (("nobase", "[http]\nlink_secret_file = KEYFILE\n"),
                       ("nokey", f"[http]\nbase_url = {BASE}\n")):
        with SmtpSink().start() as smtp, HttpSink().start() as web:
            d = daemon_with(smtp, web, name, http=http)
            try:
                due = int(time.time()) + 3
                d.json("add", "No links here", "--due", f"@{due}",
                       "--nudge", "none")
                msgs = smtp.wait_for_messages(1, timeout=20)
                wait_for(lambda: len(web.requests()) >= 1, timeout=20,
                         what="the webhook")
                body = body_of(msgs[0])
                check("In one click" not in body and "/l/" not in body,
                      body)
                check("links" not in json.loads(web.requests()[0]["body"]),
                      web.requests()[0]["body"])
                d.stop()
            finally:
                d.cleanup()


def test_bad_base_url_refused():
    d = Daemon("badbase")
    try:
        for bad in ("ftp://x", "https://x/?a=b", "https://x/<b>",
                    "https://x/a|b"):
            d.write_conf(conf_extra=f"[http]\nbase_url = {bad}\n")
            r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode != 0, f"{bad} accepted")
            check("[http] base_url" in r.stderr, r.stderr)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_links_in_every_message, test_no_links_without_base_url_or_key,
         test_bad_base_url_refused])
