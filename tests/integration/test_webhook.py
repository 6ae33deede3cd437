# SPDX-License-Identifier: MIT
"""Webhooks to a real HTTP server on 127.0.0.1: signatures, the escalation
chain, retries, Retry-After, permanent failures, kill -9, and a crowd of
slow deliveries that must not hold up the control socket."""

import getpass
import hashlib
import hmac
import json
import os
import time

from harness import Conn, Daemon, check, run, wait_for
from httpsink import HttpSink

ME = getpass.getuser()


def people(sink, chain=("boss", "chief")):
    """[person] sections: ME reports to boss, boss to chief."""
    text = f"[person {ME}]\nwebhook = {sink.url('/' + ME)}\nmanager = boss\n"
    text += f"[person boss]\nwebhook = {sink.url('/boss')}\n"
    if "chief" in chain:
        text += "manager = chief\n"
        text += f"[person chief]\nwebhook = {sink.url('/chief')}\n"
    return text


def posts(sink, path=None, event=None):
    return [r for r in sink.requests()
            if (path is None or r["path"] == path)
            and (event is None or
                 HttpSink.header(r, "X-Promised-Event") == event)]


def signed(req, secret):
    """Recomputes the signature from the secret, independently."""
    sig = HttpSink.header(req, "X-Promised-Signature")
    parts = dict(p.split("=", 1) for p in sig.split(",") if
                 p.startswith("t="))
    t = parts["t"]
    want = hmac.new(secret.encode(), (t + "." + req["body"]).encode(),
                    hashlib.sha256).hexdigest()
    return f"v1={want}" in sig.split(",")


def daemon_with(sink, name, extra="", policy="", chain=("boss", "chief")):
    d = Daemon(name)
    secret = os.path.join(d.dir, "webhook.secret")
    with open(secret, "w") as f:
        f.write("old-secret\nnew-secret\n")
    d.write_conf(conf_extra=f"retry_initial = 1s\n{extra}\n"
                            f"[webhook]\nsecret_file = {secret}\n"
                            + people(sink, chain),
                 policy=policy)
    return d.start()


def test_chain_nudge_due_escalations_resolved():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "chain",
                        policy="escalate_after = 1s\nescalation_repeat = 2s\n"
                               "escalate_up_after = 1\n")
        try:
            # the nudge at least two seconds after the add, even on a
            # loaded machine: a nudge already past at the add is not sent
            due = int(time.time()) + 5
            p = d.json("add", "Send Acme the demo invite", "--due",
                       f"@{due}", "--for", "Acme", "--nudge",
                       "2s")["promise"]
            # nudge and due to the owner, escalation 1 to boss,
            # escalation 2 to boss and chief
            wait_for(lambda: len(posts(sink, "/chief")) >= 1, timeout=20,
                     what="the escalation to reach chief")
            mine = posts(sink, "/" + ME)
            events = [HttpSink.header(r, "X-Promised-Event") for r in mine]
            check(events[:2] == ["promise.nudge", "promise.due"], events)
            boss = posts(sink, "/boss", "promise.escalation")
            check(len(boss) >= 2, f"boss got {len(boss)} escalations")
            first = json.loads(boss[0]["body"])
            check(first["level"] == 1 and first["repeat"] == 1, first)
            check(first["promise"]["title"] == "Send Acme the demo invite",
                  first)
            chief = json.loads(posts(sink, "/chief")[0]["body"])
            check(chief["level"] == 2 and chief["repeat"] == 2, chief)
            check(posts(sink, "/" + ME, "promise.escalation") == [],
                  "the owner got an escalation")
            for r in sink.requests():
                check(HttpSink.header(r, "Content-Type") ==
                      "application/json", r)
                check(HttpSink.header(r, "User-Agent").startswith(
                    "promised/"), r)
                body = json.loads(r["body"])
                check(HttpSink.header(r, "X-Promised-Delivery") ==
                      body["delivery"], r)
                check(signed(r, "old-secret") and signed(r, "new-secret"),
                      f"bad signature: {r['headers']}")
            d.client("done", str(p["id"]), "--note", "sent it")
            wait_for(lambda: len(posts(sink, None, "promise.resolved")) >= 2,
                     timeout=10, what="resolved notices")
            wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                     what="every delivery to be marked sent")
            told = sorted(r["path"] for r in
                          posts(sink, None, "promise.resolved"))
            check(told == ["/boss", "/chief"], told)
            hist = d.json("show", str(p["id"]))
            check("resolved" in [e["kind"] for e in hist["events"]], hist)
            check(all(x["state"] == "sent" for x in hist["deliveries"]),
                  hist["deliveries"])
        finally:
            d.stop()
            d.cleanup()


def test_ack_pauses_repeats_but_chain_still_climbs():
    with HttpSink().start() as sink:
        d = Daemon("ack")
        # dan reports to ME, who reports to chief
        d.write_conf(
            conf_extra=f"[person dan]\nwebhook = {sink.url('/dan')}\n"
                       f"manager = {ME}\n"
                       f"[person {ME}]\nwebhook = {sink.url('/' + ME)}\n"
                       f"manager = chief\n"
                       f"[person chief]\nwebhook = {sink.url('/chief')}\n",
            policy="escalate_after = 1s\nescalation_repeat = 3s\n"
                   "escalate_up_after = 2\n")
        d.start()
        try:
            due = int(time.time()) + 2
            p = d.json("add", "Re-book the missed meeting", "--due",
                       f"@{due}", "--owner", "dan", "--nudge",
                       "none")["promise"]
            wait_for(lambda: posts(sink, "/" + ME, "promise.escalation"),
                     timeout=10, what="the first escalation")
            r = d.json("ack", str(p["id"]))
            check(r["until"] > time.time(), r)
            # repeat 2 would go to ME alone; repeat 3 to ME and chief
            wait_for(lambda: posts(sink, "/chief", "promise.escalation"),
                     timeout=15, what="the escalation to reach chief")
            mine = [json.loads(x["body"])["repeat"] for x in
                    posts(sink, "/" + ME, "promise.escalation")]
            check(mine == [1, 3], f"repeats to the acknowledger: {mine}")
            chief = [json.loads(x["body"])["repeat"] for x in
                     posts(sink, "/chief", "promise.escalation")]
            check(chief == [3], chief)
            kinds = [e["kind"] for e in
                     d.json("show", str(p["id"]))["events"]]
            check("acked" in kinds, kinds)
        finally:
            d.stop()
            d.cleanup()


def test_retry_after_and_same_delivery_id():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "retry-after", policy="escalate_after = 1h\n")
        try:
            sink.control(fail=2, status=429, retry_after="1")
            due = int(time.time()) + 2
            d.json("add", "Retry me", "--due", f"@{due}", "--nudge", "none")
            got = sink.wait_requests(3, timeout=15)
            due_posts = [r for r in got if
                         HttpSink.header(r, "X-Promised-Event") ==
                         "promise.due"]
            check(len(due_posts) == 3, f"{len(due_posts)} attempts")
            ids = {HttpSink.header(r, "X-Promised-Delivery")
                   for r in due_posts}
            check(len(ids) == 1, f"delivery id changed across retries: {ids}")
            gaps = [b["time"] - a["time"] for a, b in
                    zip(due_posts, due_posts[1:])]
            check(all(g >= 0.9 for g in gaps),
                  f"Retry-After not honoured: {gaps}")
            wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                     what="the delivery to be marked sent")
        finally:
            d.stop()
            d.cleanup()


def test_backoff_then_success():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "backoff", policy="escalate_after = 1h\n")
        try:
            sink.control(fail=2, status=503)
            due = int(time.time()) + 2
            p = d.json("add", "Back off", "--due", f"@{due}", "--nudge",
                       "none")["promise"]
            wait_for(lambda: any(x["state"] == "sent" for x in
                                 d.json("show", str(p["id"]))["deliveries"]),
                     timeout=20, what="the delivery after two failures")
            dv = d.json("show", str(p["id"]))["deliveries"][0]
            check(dv["attempts"] == 3, dv)
            attempts = posts(sink, "/" + ME)
            gaps = [b["time"] - a["time"] for a, b in
                    zip(attempts, attempts[1:])]
            # retry_initial 1s, doubling, +-20% jitter
            check(gaps[0] >= 0.7 and gaps[1] >= 1.5, f"gaps {gaps}")
        finally:
            d.stop()
            d.cleanup()


def test_permanent_failure_surfaces_and_escalates():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "permanent", chain=("boss",),
                        policy="escalate_after = 1h\n")
        try:
            sink.control(status_always=410)
            due = int(time.time()) + 2
            p = d.json("add", "Nobody hears this", "--due", f"@{due}",
                       "--nudge", "none")["promise"]
            def failed_due():
                return [x for x in
                        d.json("deliveries", "--failed")["deliveries"]
                        if x["event"] == "promise.due"]
            wait_for(failed_due, timeout=10, what="the failed delivery")
            failed = failed_due()[0]
            check(failed["event"] == "promise.due", failed)
            check("410" in failed["last_error"], failed)
            check(d.json("status")["deliveries"]["failed"] >= 1, "status")
            # the manager is told that the owner could not be reached
            wait_for(lambda: posts(sink, "/boss", "promise.undeliverable"),
                     timeout=10, what="the undeliverable notice")
            body = json.loads(posts(sink, "/boss",
                                    "promise.undeliverable")[0]["body"])
            check(body["failed"]["delivery"] == failed["delivery"], body)
            kinds = [e["kind"] for e in
                     d.json("show", str(p["id"]))["events"]]
            check("undeliverable" in kinds, kinds)
            # promise retry sends it again, with the same id
            sink.control(reset=True)
            n = len(posts(sink, "/" + ME))
            d.client("retry", failed["delivery"])
            wait_for(lambda: len(posts(sink, "/" + ME)) > n, timeout=10,
                     what="the retried delivery")
            again = posts(sink, "/" + ME)[-1]
            check(HttpSink.header(again, "X-Promised-Delivery") ==
                  failed["delivery"], again)
        finally:
            d.stop()
            d.cleanup()


def test_pending_retries_survive_kill9():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "kill9-retry", policy="escalate_after = 1h\n")
        try:
            sink.control(status_always=503)
            due = int(time.time()) + 2
            ids = [d.json("add", f"survive {i}", "--due", f"@{due}",
                          "--nudge", "none")["promise"]["id"]
                   for i in range(5)]
            wait_for(lambda: len(sink.requests()) >= 5, timeout=10,
                     what="first attempts")
            d.kill9()
            sink.control(reset=True)
            d.start()
            wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                     timeout=20, what="the retries after restart")
            ok = {json.loads(r["body"])["promise"]["id"]
                  for r in sink.requests()}
            check(set(ids) <= ok, f"lost: {set(ids) - ok}")
        finally:
            d.stop()
            d.cleanup()


def test_slow_deliveries_do_not_delay_the_socket():
    with HttpSink().start() as sink:
        d = daemon_with(sink, "crowd", extra="concurrency = 256\n",
                        policy="escalate_after = 1h\n")
        try:
            sink.control(hang=4, hang_count=200)
            due = int(time.time()) + 3
            c = Conn(d)
            c.send(b"".join(json.dumps(
                {"v": 1, "op": "add", "title": f"crowd {i}", "due_at": due,
                 "nudge": []}).encode() + b"\n" for i in range(200)))
            for _ in range(200):
                check(c.recv()["ok"], "add refused")
            c.close()
            wait_for(lambda: d.json("status")["deliveries"]["inflight"]
                     >= 150, timeout=15, what="deliveries in flight")
            worst = 0.0
            for _ in range(10):
                t0 = time.monotonic()
                n = len(d.json("list")["promises"])
                worst = max(worst, time.monotonic() - t0)
                check(n == 200, n)
            print(f"     list during 200 slow deliveries: worst "
                  f"{worst * 1000:.0f} ms")
            check(worst < 1.0, f"list took {worst:.2f}s")
        finally:
            d.stop()
            d.cleanup()


def test_slack_format():
    with HttpSink().start() as sink:
        d = Daemon("slack")
        d.write_conf(conf_extra=f"[webhook]\nformat = slack\n"
                                f"[person {ME}]\n"
                                f"webhook = {sink.url('/slack')}\n")
        d.start()
        try:
            due = int(time.time()) + 2
            d.json("add", "Call Nopio back", "--due", f"@{due}", "--nudge",
                   "none")
            r = sink.wait_requests(1)[0]
            body = json.loads(r["body"])
            check(list(body) == ["text"], body)
            check("Call Nopio back" in body["text"], body)
            check(HttpSink.header(r, "X-Promised-Signature") is None,
                  "signed without a secret")
        finally:
            d.stop()
            d.cleanup()


if __name__ == "__main__":
    run([test_chain_nudge_due_escalations_resolved,
         test_ack_pauses_repeats_but_chain_still_climbs,
         test_retry_after_and_same_delivery_id,
         test_backoff_then_success,
         test_permanent_failure_surfaces_and_escalates,
         test_pending_retries_survive_kill9,
         test_slow_deliveries_do_not_delay_the_socket,
         test_slack_format])
