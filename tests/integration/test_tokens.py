#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""API tokens and sign-in by email.  promise token create prints a token
once; the database holds only its SHA-256 (checked in the table, on
either store), with its owner and name; list shows it, revoke ends it, and
a second revoke or someone else's id is "no token".  A sign-in request
for a configured person's address writes a one-time link into the
delivery log, kept in the table only as a hash; for an unknown address
the reply is the same and nothing is sent; a flood of requests for one
address sends no more than three links, and sessions long expired are
forgotten.  A user asking for tokens and
sign-in links in a loop over many connections gets at most 50 tokens and
3 links, while another user's status is answered within a second.
promise --server runs add, list, show and done through the HTTP API with a
token from a file or PROMISE_TOKEN, and its use shows in token list; a
wrong or revoked token is one line and exit status 1, a token file others
can read is refused, and a command the API has no route for says so in
one line."""

import getpass
import hashlib
import json
import os
import re
import subprocess
import sys
import time

from harness import Daemon, PROMISE, check, free_port, run, wait_for
from test_hostile import LOOP, as_nobody, end, open_up, probe, report

ME = getpass.getuser()
BASE = "https://promised.example.org/app"
TOKEN_RE = re.compile(r"^prm_[A-Za-z0-9_-]{43}$")


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


def every_cell(d):
    return [str(v) for row in d.sql("SELECT * FROM tokens") for v in row]


def test_create_list_revoke():
    d = Daemon("tokens")
    try:
        d.start()
        r = d.client("token", "create", "--name", "laptop")
        tok = r.stdout.strip()
        check(TOKEN_RE.match(tok), r.stdout)
        check(r.stdout.count("\n") == 1, "the token alone on stdout")
        check("shown this once" in r.stderr, r.stderr)
        rows = d.sql("SELECT id, kind, hash, owner, name, revoked_at "
                     "FROM tokens")
        check(len(rows) == 1, rows)
        tid, kind, h, owner, name, revoked = rows[0]
        check((kind, h, owner, name, revoked) ==
              ("api", sha256(tok), ME, "laptop", None), rows)
        # the secret itself is nowhere: not in the table, not in the log
        check(not any(tok in c or tok[4:] in c for c in every_cell(d)),
              "the token is stored")
        check(tok[4:] not in d.log_text(), "the token is in the log")
        # a second token without a name; both listed, newest last
        tok2 = d.client("token", "create").stdout.strip()
        check(TOKEN_RE.match(tok2) and tok2 != tok, tok2)
        listed = d.json("token", "list")["tokens"]
        check([(t["kind"], t.get("name")) for t in listed] ==
              [("api", "laptop"), ("api", None)], listed)
        check(all(t["owner"] == ME and t["last_used_at"] is None
                  for t in listed), listed)
        check(all("secret" not in t and "hash" not in t for t in listed),
              listed)
        text = d.client("token", "list").stdout
        check("laptop" in text and "api" in text, text)
        check(tok not in text, text)
        d.client("token", "revoke", str(tid))
        check([t["id"] for t in d.json("token", "list")["tokens"]] ==
              [tid + 1], "the revoked token is gone from the list")
        check(d.sql(f"SELECT count(*) FROM tokens WHERE id = {tid} "
                    f"AND revoked_at IS NOT NULL") == [(1,)],
              "revoked_at set")
        r = d.client("token", "revoke", str(tid), expect=1)
        check(f"no token {tid}" in r.stderr, r.stderr)
        r = d.client("token", "revoke", "999", expect=1)
        check("no token 999" in r.stderr, r.stderr)
        # usage errors name the mistake
        r = d.client("token", "frob", expect=2)
        check("unknown action 'frob'" in r.stderr, r.stderr)
        r = d.client("token", "revoke", "x", expect=2)
        check("not a token id" in r.stderr, r.stderr)
        r = d.client("token", "create", "--name", "x" * 65, expect=1)
        check("name" in r.stderr, r.stderr)
        check("token create" in d.client("token", "--help").stdout,
              "help")
        d.stop()
    finally:
        d.cleanup()


def test_signin_link():
    d = Daemon("signin", conf_extra=f"[http]\nbase_url = {BASE}\n"
                                    f"[person {ME}]\n"
                                    f"email = me@example.com\n")
    try:
        d.start()
        # a session long expired, forgotten when the next sign-in comes
        d.sql("INSERT INTO tokens (kind, hash, owner, created_at, "
              "expires_at) VALUES ('session', 'old', 'someone', 1, 2)")
        for addr in ("me@example.com", "nobody@example.com"):
            rep = d.call({"v": 1, "op": "signin", "email": addr})
            check(rep == {"ok": True}, rep)

        def links():
            return [x for x in d.deliveries()
                    if x["event"] == "promise.signin"]
        sent = wait_for(links, what="the sign-in link in the log")
        check(len(sent) == 1 and sent[0]["recipient"]["login"] == ME, sent)
        url = sent[0]["signin"]["url"]
        check(url.startswith(BASE + "/signin/prl_"), url)
        secret = url[len(BASE) + len("/signin/"):]
        rows = d.sql("SELECT kind, hash, owner, expires_at - created_at "
                     "FROM tokens")
        check(rows == [("signin", sha256(secret), ME, 900)], rows)
        check(not any(secret in c for c in every_cell(d)),
              "the sign-in secret is stored")
        # sign-in links are no tokens: list shows none
        check(d.json("token", "list")["tokens"] == [], "listed")
        # a flood for one address: three links in the window, no more,
        # and the replies never change
        for _ in range(5):
            rep = d.call({"v": 1, "op": "signin", "email": "me@EXAMPLE.com"})
            check(rep == {"ok": True}, rep)
        wait_for(lambda: len(links()) >= 3, what="three links")
        check(len(d.sql("SELECT id FROM tokens")) == 3, "three secrets")
        rep = d.call({"v": 1, "op": "signin", "email": ""})
        check(rep["ok"] is False and "email" in rep["error"]["message"],
              rep)
        d.stop()
    finally:
        d.cleanup()


def test_flood_of_tokens_and_signins_stalls_nobody():
    d = Daemon("tokflood", conf_extra=f"[http]\nbase_url = {BASE}\n"
                                      "[person nobody]\n"
                                      "email = nobody@example.com\n")
    loops = []
    try:
        d.start()
        open_up(d)
        for line, n in (
                ('{"v":1,"op":"signin","email":"nobody@example.com"}', 8),
                ('{"v":1,"op":"token_create","name":"flood"}', 4),
                ('{"v":1,"op":"token_revoke","id":1}', 4),
                ('{"v":1,"op":"token_list"}', 4)):
            p = subprocess.Popen(
                as_nobody() + [sys.executable, "-c", LOOP, d.sock, line,
                               str(n)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            loops.append(p)
            check(p.stdout.readline().strip() == "sent", "no loop")
        time.sleep(0.5)
        lat = probe(d, 3)
        report("20 connections asking for tokens and sign-in links", lat)
        check(max(lat) < 1.0, f"status waited {max(lat):.2f}s")
        for p in loops:
            end(p)
        loops = []
        api = d.sql("SELECT count(*) FROM tokens WHERE owner = 'nobody' "
                    "AND kind = 'api' AND revoked_at IS NULL")
        check(api[0][0] <= 50, api)
        links = d.sql("SELECT count(*) FROM tokens WHERE kind = 'signin'")
        check(1 <= links[0][0] <= 3, links)
        d.stop()
    finally:
        for p in loops:
            end(p)
        d.cleanup()



def remote(url, *args, token_file=None, env=None, expect=0):
    """promise --server URL ARGS, without the socket; the result"""
    e = {k: v for k, v in os.environ.items()
         if k not in ("PROMISE_SOCKET", "PROMISE_SERVER", "PROMISE_TOKEN")}
    e.update(env or {})
    cmd = [PROMISE, "--server", url]
    if token_file is not None:
        cmd += ["--token-file", token_file]
    r = subprocess.run([*cmd, *args], capture_output=True, text=True,
                       timeout=30, env=e)
    check(r.returncode == expect,
          f"promise --server {' '.join(args)}: exit {r.returncode}, wanted "
          f"{expect}\nstdout: {r.stdout}\nstderr: {r.stderr}")
    return r


def one_line(r):
    lines = r.stderr.splitlines()
    check(len(lines) == 1, f"one line: {r.stderr!r}")
    return lines[0]


def test_server_round_trip():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    d = Daemon("tokhttp", conf_extra=f"[http]\nlisten = 127.0.0.1:{port}\n")
    try:
        d.start()
        tok = d.client("token", "create", "--name", "laptop").stdout.strip()
        tf = os.path.join(d.dir, "token")
        with open(tf, "w") as f:
            f.write(tok + "\n")
        os.chmod(tf, 0o600)
        r = remote(url, "add", "Send Acme the quote", "--due", "in 2h",
                   "--for", "Acme", token_file=tf)
        m = re.search(r"#?(\d+)", r.stdout)
        check(m is not None, r.stdout)
        pid = m.group(1)
        r = remote(url, "list", token_file=tf)
        check("Send Acme the quote" in r.stdout, r.stdout)
        got = json.loads(remote(url, "--json", "list", "--for", "acme",
                                token_file=tf).stdout)
        check([p["title"] for p in got["promises"]] ==
              ["Send Acme the quote"], got)
        # the token in the environment, the server too
        env = {"PROMISE_TOKEN": tok, "PROMISE_SERVER": url}
        r = subprocess.run([PROMISE, "done", pid, "--note", "sent"],
                           capture_output=True, text=True, timeout=30,
                           env={**os.environ, **env})
        check(r.returncode == 0, r.stderr)
        r = remote(url, "show", pid, token_file=tf)
        check("kept" in r.stdout, r.stdout)
        # the socket sees the same, made and kept through the API
        events = d.json("show", pid)["events"]
        check([e["kind"] for e in events] == ["created", "kept"], events)
        check(all(e["actor"] == ME for e in events), events)
        check(d.sql(f"SELECT state FROM promises WHERE id = {pid}") ==
              [("kept",)], "kept in the database")
        listed = d.json("token", "list")["tokens"]
        check(listed[0]["last_used_at"] is not None, listed)
        # what the API has no route for says so, in one line
        r = remote(url, "deliveries", token_file=tf, expect=2)
        check("not available over HTTP" in one_line(r), r.stderr)
        # a file others can read is refused before anything is sent
        os.chmod(tf, 0o644)
        r = remote(url, "list", token_file=tf, expect=2)
        check("chmod 600" in one_line(r), r.stderr)
        os.chmod(tf, 0o600)
        # a wrong token and a revoked one: one line, exit 1
        bad = "prm_" + "A" * 43
        r = remote(url, "list", env={"PROMISE_TOKEN": bad}, expect=1)
        check("refused the token (HTTP 401)" in one_line(r), r.stderr)
        d.client("token", "revoke", str(listed[0]["id"]))
        r = remote(url, "list", token_file=tf, expect=1)
        check("refused the token (HTTP 401)" in one_line(r), r.stderr)
        # nothing listening: unreachable, exit 3
        r = remote(f"http://127.0.0.1:{free_port()}", "list",
                   token_file=tf, expect=3)
        check("cannot reach" in one_line(r), r.stderr)
        d.stop()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_create_list_revoke, test_signin_link,
         test_flood_of_tokens_and_signins_stalls_nobody,
         test_server_round_trip])
