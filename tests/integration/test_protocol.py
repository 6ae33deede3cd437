# SPDX-License-Identifier: MIT
"""Malformed requests get one-line errors; everyone else keeps being served."""

import json
import time

from harness import Conn, Daemon, check, run, wait_for


def err(reply, code, field=None):
    check(reply.get("ok") is False, f"expected an error, got {reply}")
    check(reply["error"]["code"] == code, f"want {code}: {reply}")
    if field:
        check(f"'{field}'" in reply["error"]["message"],
              f"message should name '{field}': {reply}")


def test_bad_requests_named_and_survived(d):
    c = Conn(d)
    due = int(time.time()) + 3600
    err(c.call(b"this is not json\n"), "invalid")
    err(c.call(b"[1,2,3]\n"), "invalid")
    err(c.call({"op": "status"}), "invalid", "v")
    err(c.call({"v": 2, "op": "status"}), "invalid", "v")
    err(c.call({"v": 1}), "invalid", "op")
    err(c.call({"v": 1, "op": "fly"}), "invalid", "op")
    err(c.call({"v": 1, "op": "add", "due_at": due}), "invalid", "title")
    err(c.call({"v": 1, "op": "add", "title": "x"}), "invalid", "due_at")
    err(c.call({"v": 1, "op": "add", "title": "x", "due_at": "soon"}),
        "invalid", "due_at")
    err(c.call({"v": 1, "op": "add", "title": "x", "due_at": 10}),
        "invalid", "due_at")
    err(c.call({"v": 1, "op": "add", "title": "x",
                "due_at": due + 20 * 366 * 86400}), "invalid", "due_at")
    err(c.call({"v": 1, "op": "add", "title": "bell\u0007", "due_at": due}),
        "invalid", "title")
    err(c.call({"v": 1, "op": "add", "title": "t" * 501, "due_at": due}),
        "invalid", "title")
    err(c.call({"v": 1, "op": "add", "title": "x", "due_at": due,
                "nudge": [0]}), "invalid", "nudge")
    err(c.call({"v": 1, "op": "add", "title": "x", "due_at": due,
                "owner": "no spaces"}), "invalid", "owner")
    err(c.call(b'{"v":1,"op":"add","title":"\xff\xfe","due_at":1}\n'),
        "invalid")
    err(c.call({"v": 1, "op": "get", "id": "7"}), "invalid", "id")
    err(c.call({"v": 1, "op": "get", "id": 999}), "not_found")
    err(c.call({"v": 1, "op": "snooze", "id": 1, "due_at": due}), "invalid",
        "reason")
    err(c.call({"v": 1, "op": "cancel", "id": 1}), "invalid", "reason")
    err(c.call({"v": 1, "op": "list", "state": "lost"}), "invalid", "state")
    # the same connection still works after all of that
    r = c.call({"v": 1, "op": "add", "title": "fine", "due_at": due})
    check(r["ok"], r)
    pid = r["promise"]["id"]
    check(c.call({"v": 1, "op": "done", "id": pid})["ok"], "done failed")
    err(c.call({"v": 1, "op": "done", "id": pid}), "conflict")
    c.close()


def test_pipelined_replies_in_order(d):
    c = Conn(d)
    due = int(time.time()) + 3600
    batch = b""
    for i in range(200):
        if i % 3 == 0:
            req = {"v": 1, "op": "add", "title": f"p{i}", "due_at": due,
                   "tag": i}
        elif i % 3 == 1:
            req = {"v": 1, "op": "status", "tag": i}
        else:
            req = {"v": 1, "op": "get", "id": 10**9, "tag": i}
        batch += json.dumps(req).encode() + b"\n"
    c.send(batch)
    for i in range(200):
        r = c.recv()
        check(r.get("tag") == i, f"reply {i} out of order: {r}")
        check(r["ok"] == (i % 3 != 2), r)
    c.close()


def test_add_reply_is_the_stored_promise(d):
    """The add reply is written by hand for speed; it must say exactly
    what get reads back, escapes and all."""
    c = Conn(d)
    due = int(time.time()) + 3600
    title = 'Quote "A\\B" for Ünïcode ☃ </script> done'
    for tag in (None, 7, "t", {"k": [1, None]}, 2.5):
        req = {"v": 1, "op": "add", "title": title, "due_at": due,
               "for": "Mü \"ller\"", "note": "line one\nline two \\",
               "nudge": [7200, 60]}
        if tag is not None:
            req["tag"] = tag
        added = c.call(req)
        check(added.get("ok") is True, added)
        check(added.get("tag") == tag, f"tag {tag!r} not echoed: {added}")
        got = c.call({"v": 1, "op": "get", "id": added["promise"]["id"]})
        check(added["promise"] == got["promise"],
              f"add said {added['promise']}, get says {got['promise']}")
        check(got["promise"]["title"] == title, got)
    c.close()


def test_oversize_line_closes_only_that_connection(d):
    bad, good = Conn(d), Conn(d)
    bad.send(b'{"v":1,"op":"status","pad":"' + b"x" * 70000)
    r = bad.recv()
    err(r, "invalid")
    check("longer than" in r["error"]["message"], r)
    wait_for(bad.closed, timeout=5, what="the oversize connection to close")
    check(good.call({"v": 1, "op": "status"})["ok"], "good client starved")
    bad.close()
    good.close()


def test_trickling_client_does_not_block_others(d):
    slow, fast = Conn(d), Conn(d)
    req = json.dumps({"v": 1, "op": "status", "tag": "slow"}).encode()
    slow.send(req[:10])
    for _ in range(20):
        check(fast.call({"v": 1, "op": "status"})["ok"], "fast starved")
    slow.send(req[10:] + b"\n")
    check(slow.recv()["tag"] == "slow", "slow client lost its request")
    slow.close()
    fast.close()


def test_client_that_vanishes_mid_request(d):
    for _ in range(20):
        c = Conn(d)
        c.send(b'{"v":1,"op":"add","title":"half')
        c.close()
    c = Conn(d)
    c.send({"v": 1, "op": "list"})
    c.s.close()
    check(d.json("status")["ok"], "daemon hurt by vanishing clients")


def main():
    d = Daemon("protocol").start()
    try:
        tests = [test_bad_requests_named_and_survived,
                 test_pipelined_replies_in_order,
                 test_add_reply_is_the_stored_promise,
                 test_oversize_line_closes_only_that_connection,
                 test_trickling_client_does_not_block_others,
                 test_client_that_vanishes_mid_request]

        def bind(t):
            f = lambda: t(d)  # noqa: E731
            f.__name__ = t.__name__
            return f
        run_list = [bind(t) for t in tests]

        def daemon_survived():
            d.stop()
        daemon_survived.__name__ = "daemon_exits_cleanly"
        run(run_list + [daemon_survived])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
