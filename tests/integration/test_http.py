#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTTP listener over real HTTP on 127.0.0.1: the JSON API's round
trips; the trusted proxy's user header, believed from the proxy and
ignored from any other address; bodies and headers too big; a slow client
and a thousand idle ones while a probe is answered; signed links from a
real email, whose GET only shows a page and whose button acts "via link",
and tampered or expired ones that change nothing."""

import base64
import getpass
import hashlib
import hmac
import http.client
import json
import os
import re
import resource
import socket
import ssl
import threading
import time

import yaml

from harness import Daemon, check, free_port, run, wait_for
from smtpsink import SmtpSink, make_cert

ME = getpass.getuser()
KEY = "link-key-0123456789abcdef"
SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "common", "openapi.yaml")
# every answer of the API the tests got: (method, path, status, type, body)
ANSWERS = []



def http_daemon(name, http_extra="", conf_extra="", policy="", admin=None):
    d = Daemon(name)
    d.port = free_port()
    key = os.path.join(d.dir, "link.secret")
    with open(key, "w") as f:
        f.write(KEY + "\n")
    os.chmod(key, 0o600)
    d.write_conf(
        conf_extra=f"{conf_extra}"
                   f"[http]\nlisten = 127.0.0.1:{d.port}\n"
                   f"trusted_proxy = 127.0.0.1\n"
                   f"base_url = http://127.0.0.1:{d.port}\n"
                   f"link_secret_file = {key}\n{http_extra}",
        policy=policy)
    if admin:
        with open(d.conf) as f:
            text = f.read()
        with open(d.conf, "w") as f:
            f.write(text.replace("[daemon]\n",
                                 f"[daemon]\nadmins = {admin}\n", 1))
    return d.start()


def req(d, method, path, body=None, user=ME, src="127.0.0.1",
        ctype="application/json", headers=None, timeout=10):
    """(status, decoded JSON or text, response headers)"""
    c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout,
                                   source_address=(src, 0))
    h = {}
    if user is not None:
        h["X-Remote-User"] = user
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if ctype:
            h["Content-Type"] = ctype
    h.update(headers or {})
    try:
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
    finally:
        c.close()
    t = r.getheader("Content-Type", "")
    out = json.loads(raw) if t.startswith("application/json") else \
        raw.decode()
    ANSWERS.append((method, path.split("?")[0], r.status, t, out))
    return r.status, out, r


def test_api_round_trip():
    d = http_daemon("http-api", admin="boss",
                    conf_extra=f"[person {ME}]\nmanager = boss\n"
                               f"[person boss]\nemail = boss@example.com\n")
    try:
        due = int(time.time()) + 3600
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "Send Acme the quote", "due_at": due,
                        "for": "Acme", "tag": "ignored"})
        check(st == 201, (st, r))
        p = r["promise"]
        check(p["owner"] == ME and p["for"] == "Acme" and
              p["state"] == "open", p)
        # the socket sees what HTTP made: it was committed
        check(d.json("show", str(p["id"]))["promise"]["title"] ==
              "Send Acme the quote", "added over HTTP")

        st, r, _ = req(d, "GET", "/v1/promises?for=acme")
        check(st == 200 and [x["id"] for x in r["promises"]] == [p["id"]], r)
        st, r, _ = req(d, "GET", "/v1/promises?grep=nothingmatches")
        check(st == 200 and r["promises"] == [], r)
        st, r, _ = req(d, "GET", "/v1/promises?limit=x")
        check(st == 400 and "limit" in r["error"], r)

        st, r, _ = req(d, "GET", f"/v1/promises/{p['id']}")
        check(st == 200, (st, r))
        check(r["promise"]["id"] == p["id"], r)
        check([e["kind"] for e in r["events"]] == ["created"], r)
        check(r["events"][0]["detail"]["via"] == "api", r)
        check("due" in [s["kind"] for s in r["schedule"]], r["schedule"])

        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/snooze",
                       {"due": "2h", "reason": "they asked for Monday"})
        check(st == 200 and r["promise"]["snoozes"] == 1, (st, r))
        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/snooze",
                       {"due": "2h"})
        check(st == 400 and "reason" in r["error"], (st, r))
        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/ack", {})
        check(st == 409, (st, r))
        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/done",
                       {"note": "sent"})
        check(st == 200 and r["promise"]["state"] == "kept", (st, r))
        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/done", {})
        check(st == 409 and "kept" in r["error"], (st, r))
        st, r, _ = req(d, "POST", f"/v1/promises/{p['id']}/cancel",
                       {"reason": "x"})
        check(st == 409, (st, r))

        # a stranger is told what a never-used id gets
        st, r, _ = req(d, "GET", f"/v1/promises/{p['id']}", user="nobody")
        check(st == 404 and r == {"error": f"no promise {p['id']}"}, r)
        st, r, _ = req(d, "GET", "/v1/promises/999999")
        check(st == 404, r)
        st, r, _ = req(d, "GET", f"/v1/promises?owner={ME}", user="nobody")
        check(st == 403, (st, r))

        # bad bodies: not JSON, not an object, not sent as JSON
        st, r, _ = req(d, "POST", "/v1/promises", b"{nope")
        check(st == 400 and "not JSON" in r["error"], r)
        st, r, _ = req(d, "POST", "/v1/promises", b"[1]")
        check(st == 400, r)
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "x", "due": "1h"}, ctype="text/plain")
        check(st == 415, r)
        st, r, _ = req(d, "POST", "/v1/promises", {"title": "no deadline"})
        check(st == 400, r)
        st, r, _ = req(d, "DELETE", "/v1/promises")
        check(st == 405, r)
        st, r, _ = req(d, "GET", "/v2/anything")
        check(st == 404, r)

        st, r, _ = req(d, "GET", "/v1/status")
        check(st == 200 and r["scope"] == "own", r)
        st, r, _ = req(d, "GET", "/v1/status", user="boss")
        check(st == 200 and r["scope"] == "all", r)
        st, r, _ = req(d, "GET", "/v1/report")
        check(st == 200 and r["owners"][0]["owner"] == ME and
              r["owners"][0]["kept_on_time"] == 1, r)
        st, r, _ = req(d, "GET", "/metrics")
        check(st == 403, r)
        st, r, resp = req(d, "GET", "/metrics", user="boss")
        check(st == 200 and "promised_open_promises 0\n" in r, r)
        check(resp.getheader("Content-Type").startswith("text/plain"),
              resp.getheaders())
        # cancel, and ack an escalation once one went out to boss
        soon = int(time.time()) + 2
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "Call Bob", "due_at": soon, "nudge": []})
        check(st == 201, (st, r))
        q = r["promise"]
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "Not needed", "due": "3h"})
        st, r, _ = req(d, "POST", f"/v1/promises/{r['promise']['id']}/cancel",
                       {"reason": "they bought elsewhere",
                        "told_customer": True})
        check(st == 200 and r["promise"]["state"] == "cancelled", (st, r))
        wait_for(lambda: any(e["kind"] == "escalation" for e in
                             d.json("show", str(q["id"]))["events"]),
                 timeout=20, what="the escalation")
        st, r, _ = req(d, "POST", f"/v1/promises/{q['id']}/ack", {},
                       user="boss")
        check(st == 200 and r["until"] > soon, (st, r))
        # the history says how the changes came
        ev = d.json("show", str(p["id"]))["events"]
        check([e["detail"].get("via") for e in ev
               if e["kind"] in ("snoozed", "kept")] == ["api", "api"], ev)
        d.stop()
    finally:
        d.cleanup()


def test_proxy_header_only_from_the_proxy():
    d = http_daemon("http-proxy")
    try:
        st, r, resp = req(d, "GET", "/v1/status", user=None)
        check(st == 401 and "error" in r, (st, r))
        check(resp.getheader("WWW-Authenticate", "").startswith("Bearer"),
              resp.getheaders())
        # the same header from 127.0.0.2, not the proxy: ignored
        st, r, _ = req(d, "GET", "/v1/status", src="127.0.0.2")
        check(st == 401, (st, r))
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "forged", "due": "2h"}, src="127.0.0.2")
        check(st == 401, (st, r))
        st, r, _ = req(d, "GET", "/v1/status", user="not a login")
        check(st == 401, (st, r))
        st, r, _ = req(d, "GET", "/v1/status",
                       headers={"Authorization": "Bearer nosuchtoken"},
                       user=None)
        check(st == 401 and "token" in r["error"], (st, r))
        st, r, _ = req(d, "GET", "/v1/status")
        check(st == 200 and r["scope"] == "own", (st, r))
        check(d.json("list")["promises"] == [], "nothing was added")
        # an API token, from any address, acts as its owner
        tok = d.client("token", "create", "--name", "ci").stdout.strip()
        auth = {"Authorization": f"Bearer {tok}"}
        st, r, _ = req(d, "POST", "/v1/promises",
                       {"title": "by token", "due": "2h"}, user=None,
                       src="127.0.0.2", headers=auth)
        check(st == 201 and r["promise"]["owner"] == ME, (st, r))
        # the proxy's header, from elsewhere, does not change who it is
        st, r, _ = req(d, "GET", "/v1/promises", user="nobody",
                       src="127.0.0.2", headers=auth)
        check(st == 200 and len(r["promises"]) == 1, (st, r))
        tid = d.json("token", "list")["tokens"][0]["id"]
        d.client("token", "revoke", str(tid))
        st, r, _ = req(d, "GET", "/v1/status", user=None, headers=auth)
        check(st == 401, (st, r))
        d.stop()
    finally:
        d.cleanup()


def raw(d, data, src="127.0.0.1", timeout=10):
    """sends data on a new connection; the status line answered"""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=timeout,
                                 source_address=(src, 0))
    try:
        s.sendall(data)
        buf = b""
        while b"\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        return buf.split(b"\r\n")[0].decode()
    finally:
        s.close()


def chunked(d, size, end):
    """POSTs a chunked body of size bytes (and its last chunk if end) on a
    new connection, as far as the daemon reads it; what came back before
    it closed"""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
    try:
        s.sendall(b"POST /v1/promises HTTP/1.1\r\nHost: x\r\n"
                  b"X-Remote-User: " + ME.encode() + b"\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Connection: close\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(size // 4096):
                s.sendall(b"1000\r\n" + b"x" * 4096 + b"\r\n")
            if end:
                s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # closed by the daemon
        buf = b""
        while True:
            try:
                b = s.recv(4096)
            except ConnectionResetError:
                break
            if not b:
                break
            buf += b
        return buf
    finally:
        s.close()


def test_too_big():
    d = http_daemon("http-big")
    try:
        # a Content-Length over max_body is answered before the body
        st = raw(d, b"POST /v1/promises HTTP/1.1\r\nHost: x\r\n"
                    b"X-Remote-User: " + ME.encode() + b"\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: 10000000\r\n\r\n")
        check(" 413 " in st, st)
        big = json.dumps({"title": "x", "due": "2h",
                          "note": "n" * 70000}).encode()
        st, r, _ = req(d, "POST", "/v1/promises", big)
        check(st == 413, (st, r))
        # chunked, so no length says it first
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
        c.putrequest("POST", "/v1/promises")
        c.putheader("X-Remote-User", ME)
        c.putheader("Content-Type", "application/json")
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        try:
            for _ in range(20):
                c.send(b"1000\r\n" + b"x" * 4096 + b"\r\n")
            c.send(b"0\r\n\r\n")
        except OSError:
            pass  # closed once it was too big
        st = c.getresponse().status
        c.close()
        check(st == 413, st)
        # chunked and twice max_body: still answered 413 at its end
        st = chunked(d, 2 * 65536, end=True)
        check(st.startswith(b"HTTP/1.1 413 "), st[:200])
        # one with no end in sight is cut off, not read for as long as
        # the client sends
        t = time.monotonic()
        st = chunked(d, 64 * 65536, end=False)
        check(st == b"" and time.monotonic() - t < 5, (st[:200], t))
        st, r, _ = req(d, "GET", "/v1/status",
                       headers={"X-Padding": "p" * 40000})
        check(st in (413, 431), (st, r))
        check(d.json("list")["promises"] == [], "nothing was added")
        st, r, _ = req(d, "GET", "/v1/status")
        check(st == 200, (st, r))
        d.stop()
    finally:
        d.cleanup()


def probe(d, seconds, src="127.0.0.1"):
    """GET /v1/status on a fresh connection every 50 ms for seconds; the
    latencies"""
    lat = []
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        st, r, _ = req(d, "GET", "/v1/status", src=src, timeout=10)
        check(st == 200, (st, r))
        lat.append(time.monotonic() - t0)
        time.sleep(0.05)
    return lat


def test_slow_and_idle_clients():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    d = http_daemon("http-idle", http_extra="max_connections = 2000\n")
    held = []
    stop = threading.Event()
    slow_done = []

    def slow():
        # a request's headers a byte at a time
        s = socket.create_connection(("127.0.0.1", d.port), timeout=30,
                                     source_address=("127.0.0.1", 0))
        try:
            msg = (b"GET /v1/status HTTP/1.1\r\nHost: x\r\n"
                   b"X-Remote-User: " + ME.encode() + b"\r\n\r\n")
            for b in msg:
                if stop.is_set():
                    return
                s.sendall(bytes([b]))
                time.sleep(0.05)
            slow_done.append(s.recv(4096).split(b"\r\n")[0])
        finally:
            s.close()

    try:
        # 1,000 idle connections, 50 from each of 20 addresses
        for i in range(1000):
            s = socket.socket()
            s.bind((f"127.0.1.{10 + i // 50}", 0))
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", d.port))
            except BlockingIOError:
                pass
            held.append(s)
        # and one address past max_connections_per_ip (64): turned away
        over = []
        for _ in range(80):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=5,
                                         source_address=("127.0.0.4", 0))
            over.append(s)
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        lat = probe(d, 4)
        lat.sort()
        print(f"     idle and slow clients: {len(lat)} probes, p50 "
              f"{lat[len(lat) // 2] * 1000:.1f} ms, max "
              f"{lat[-1] * 1000:.1f} ms")
        # memcheck slows the daemon some fiftyfold: there the probe need
        # only be answered
        if not os.environ.get("PROMISED_VALGRIND"):
            check(lat[-1] < 1.0, f"status waited {lat[-1]:.2f}s")
        closed = 0
        for s in over:
            s.settimeout(5)
            try:
                s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(100) == b"":
                    closed += 1
            except OSError:
                closed += 1
            s.close()
        check(closed == 80 - 64, f"{closed} of 80 closed")
        t.join(timeout=30)
        check(slow_done and b" 200 " in slow_done[0], slow_done)
        d.stop()
    finally:
        stop.set()
        for s in held:
            s.close()
        d.cleanup()


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def forge(pid, action, recipient, expires, key=KEY):
    fields = b64(f"1\n{pid}\n{action}\n{expires}\n{recipient}".encode())
    mac = hmac.new(key.encode(), b"link\n" + fields.encode(),
                   hashlib.sha256).digest()
    return f"{fields}.{b64(mac)}"


def test_links_from_a_real_email():
    with SmtpSink().start() as smtp:
        d = http_daemon(
            "http-links",
            conf_extra=f"retry_initial = 1s\n"
                       f"[smtp]\nurl = {smtp.url}\n"
                       f"from = promised@example.org\nstarttls = off\n"
                       f"[person {ME}]\nemail = me@example.com\n")
        try:
            due = int(time.time()) + 3
            p = d.json("add", "Send Acme the demo invite", "--due",
                       f"@{due}", "--nudge", "none")["promise"]
            two = d.json("add", "Call Bob back", "--due", "+1d",
                         "--nudge", "none")["promise"]
            msgs = smtp.wait_for_messages(1, timeout=20)
            body = msgs[0]["message"].get_body().get_content()
            base = f"http://127.0.0.1:{d.port}/l/"
            urls = re.findall(re.escape(base) + r"[A-Za-z0-9_.-]+", body)
            # keep, snooze, open, and ack if the first was the
            # escalation
            check(len(urls) in (3, 4), body)
            keep = snooze = None
            for u in urls:
                tok = u[len(base):]
                st, page, resp = req(d, "GET", "/l/" + tok, user=None)
                check(st == 200, (st, page))
                check(resp.getheader("Content-Security-Policy"), "CSP")
                # the button posts back to this very link
                if "Mark it kept" in page or "Snooze" in page:
                    check(f'<form method="post" action="{tok}"' in page,
                          page)
                if "Mark it kept" in page:
                    keep = tok
                elif "Snooze" in page:
                    snooze = tok
            check(keep and snooze, urls)
            # opening every link changed nothing
            got = d.json("show", str(p["id"]))
            check(got["promise"]["state"] == "open", got)
            check(got["promise"]["snoozes"] == 0, got)

            # tampered: one character of the MAC changed
            bad = keep[:-2] + ("A" if keep[-2] != "A" else "B") + keep[-1]
            for m in ("GET", "POST"):
                st, page, _ = req(d, m, "/l/" + bad, user=None)
                check(st == 403 and "not valid" in page, (st, page))
            # a link for another promise, signed with another key
            st, page, _ = req(d, "POST", "/l/" + forge(
                two["id"], "keep", ME, int(time.time()) + 600,
                key="not-the-key"), user=None)
            check(st == 403, (st, page))
            # expired, though genuinely signed
            old = forge(two["id"], "keep", ME, int(time.time()) - 10)
            for m in ("GET", "POST"):
                st, page, _ = req(d, m, "/l/" + old, user=None)
                check(st == 410 and "expired" in page, (st, page))
            check(d.json("show", str(two["id"]))["promise"]["state"] ==
                  "open", "the expired link changed nothing")

            # the button acts, as the recipient, via link
            st, page, _ = req(d, "POST", "/l/" + keep, user=None)
            check(st == 200 and "Marked kept" in page, (st, page))
            got = d.json("show", str(p["id"]))
            check(got["promise"]["state"] == "kept", got)
            kept = [e for e in got["events"] if e["kind"] == "kept"]
            check(kept[0]["actor"] == ME and
                  kept[0]["detail"]["via"] == "link", kept)
            # a link to a settled promise says so, and does nothing
            st, page, _ = req(d, "GET", "/l/" + snooze, user=None)
            check(st == 200 and "already kept" in page, (st, page))
            st, page, _ = req(d, "POST", "/l/" + snooze, user=None)
            check(st == 409 and "already kept" in page, (st, page))
            check(d.json("show", str(p["id"]))["promise"]["snoozes"] == 0,
                  "snooze of a kept promise")
            # a genuine snooze link for the other promise
            tok = forge(two["id"], "snooze", ME, int(time.time()) + 600)
            st, page, _ = req(d, "POST", "/l/" + tok, user=None)
            check(st == 200 and "Snoozed" in page, (st, page))
            got = d.json("show", str(two["id"]))
            check(got["promise"]["snoozes"] == 1 and
                  got["promise"]["due_at"] > two["due_at"] - 86400, got)
            d.stop()
        finally:
            d.cleanup()


def test_tls_and_silence():
    """cert_file and key_file: HTTPS; a connection silent for timeout is
    closed"""
    d = Daemon("http-tls")
    try:
        cert, key = make_cert(d.dir, "http")
        d.port = free_port()
        d.write_conf(conf_extra=f"[http]\nlisten = 127.0.0.1:{d.port}\n"
                                f"trusted_proxy = 127.0.0.1\n"
                                f"cert_file = {cert}\nkey_file = {key}\n"
                                f"timeout = 1s\n")
        d.start()
        ctx = ssl.create_default_context(cafile=cert)
        c = http.client.HTTPSConnection("127.0.0.1", d.port, timeout=10,
                                        context=ctx)
        c.request("GET", "/v1/status", headers={"X-Remote-User": ME})
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        check(r.status == 200 and body["scope"] == "own", body)
        # plain HTTP on the TLS port is not answered as HTTP
        try:
            st = raw(d, b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            st = ""
        check(" 200 " not in st, st)
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        t0 = time.monotonic()
        # closed after timeout (under TLS with a close_notify alert)
        while s.recv(100) != b"":
            pass
        s.close()
        check(time.monotonic() - t0 < 8, "a silent connection was kept")
        d.stop()
    finally:
        d.cleanup()


def test_insecure_listen_refused():
    d = Daemon("http-insecure")
    try:
        d.write_conf(conf_extra="[http]\nlisten = 0.0.0.0:8080\n")
        import subprocess
        from harness import PROMISED
        r = subprocess.run([PROMISED, "-c", d.conf, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 78 and "without TLS" in r.stderr, r)
        d.write_conf(conf_extra="[http]\nlisten = 0.0.0.0:8080\n"
                                "trusted_proxy = 10.0.0.1\n")
        r = subprocess.run([PROMISED, "-c", d.conf, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, r)
        d.write_conf(conf_extra="[http]\nlisten = 0.0.0.0:8080\n"
                                "allow_insecure = yes\n")
        r = subprocess.run([PROMISED, "-c", d.conf, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, r)
    finally:
        d.cleanup()


def schema_errors(spec, schema, v, where="$"):
    """what of v does not fit schema (OpenAPI 3.0's subset of JSON
    Schema that openapi.yaml uses)"""
    if "$ref" in schema:
        node = spec
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        return schema_errors(spec, node, v, where)
    errs = []
    for sub in schema.get("allOf", []):
        errs += schema_errors(spec, sub, v, where)
    if v is None:
        return errs if schema.get("nullable") or "type" not in schema \
            else errs + [f"{where}: null"]
    types = {"object": dict, "array": list, "string": str,
             "boolean": bool, "integer": int, "number": (int, float)}
    t = schema.get("type")
    if t is not None and (not isinstance(v, types[t]) or
                          (t in ("integer", "number") and
                           isinstance(v, bool))):
        return errs + [f"{where}: {v!r} is not {t}"]
    if "enum" in schema and v not in schema["enum"]:
        errs.append(f"{where}: {v!r} not in {schema['enum']}")
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errs.append(f"{where}: no {k}")
        props = schema.get("properties", {})
        for k, sub in v.items():
            if k in props:
                errs += schema_errors(spec, props[k], sub, f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{where}: unexpected {k}")
    if isinstance(v, list) and "items" in schema:
        for i, sub in enumerate(v):
            errs += schema_errors(spec, schema["items"], sub,
                                  f"{where}[{i}]")
    return errs


def test_answers_match_openapi():
    """Every answer of the API the tests above got, checked against
    common/openapi.yaml: its status is listed for its route, its body fits
    the schema; and every route was answered a success at least once."""
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    routes = [(re.compile("^" + re.sub(r"\{[a-z]+\}", "[^/]+", p) + "$"),
               p, ops) for p, ops in spec["paths"].items()]
    succeeded = set()
    checked = 0
    for method, path, status, ctype, body in ANSWERS:
        m = method.lower()
        hit = [(p, ops) for rx, p, ops in routes if rx.match(path)]
        if not hit or m not in hit[0][1] or status == 431:
            # links, a path or method the API has not, and headers too
            # big, which libmicrohttpd answers before any route
            continue
        p, ops = hit[0]
        resp = ops[m]["responses"].get(str(status))
        check(resp is not None,
              f"{method} {path}: {status} is not in openapi.yaml ({body})")
        if "$ref" in resp:
            resp = spec["components"]["responses"][
                resp["$ref"].split("/")[-1]]
        mt = ctype.split(";")[0].strip()
        check(mt in resp["content"], f"{method} {path}: {ctype}")
        errs = schema_errors(spec, resp["content"][mt]["schema"], body)
        check(not errs, f"{method} {path} {status}: {errs[:5]}")
        checked += 1
        if status < 300:
            succeeded.add((p, m))
    every = {(p, m) for p, ops in spec["paths"].items() for m in ops
             if m in ("get", "post")}
    check(succeeded == every, f"never answered a success: "
          f"{sorted(every - succeeded)}")
    print(f"     {checked} answers fit openapi.yaml")


if __name__ == "__main__":
    run([test_api_round_trip, test_proxy_header_only_from_the_proxy,
         test_too_big, test_slow_and_idle_clients,
         test_links_from_a_real_email, test_tls_and_silence,
         test_insecure_listen_refused,
         test_answers_match_openapi])
