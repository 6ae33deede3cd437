# SPDX-License-Identifier: MIT
"""kill -9 loses nothing acknowledged; what came due while down fires."""

import threading
import time

from harness import Conn, Daemon, check, run, wait_for


def events(d, pid, event):
    return [x for x in d.deliveries()
            if x["promise"]["id"] == pid and x["event"] == event]


def test_acknowledged_adds_survive_kill9():
    d = Daemon("kill9").start()
    try:
        c = Conn(d)
        acked = []
        due = int(time.time()) + 3600
        stop = threading.Event()

        def reader():
            try:
                while True:
                    r = c.recv()
                    check(r["ok"], r)
                    acked.append(r["promise"]["id"])
            except Exception:  # noqa: BLE001 - the daemon is being killed
                stop.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        # pipeline adds; kill the daemon while they are in flight
        sent = 0
        for i in range(3000):
            try:
                c.send({"v": 1, "op": "add", "title": f"burst {i}",
                        "due_at": due})
            except OSError:
                break
            sent += 1
            if i == 1500:
                wait_for(lambda: len(acked) > 200, timeout=20,
                         what="some acknowledgements")
                d.kill9()
                break
        t.join(timeout=10)
        c.close()
        check(len(acked) > 200, f"only {len(acked)} acked")
        d.start()
        listed = d.json("list", "--state", "all")["promises"]
        ids = {p["id"] for p in listed}
        missing = [i for i in acked if i not in ids]
        check(not missing, f"{len(missing)} acknowledged promises lost: "
                           f"{missing[:10]}")
        check(len(ids) >= len(acked), "fewer promises than acks")
    finally:
        d.stop()
        d.cleanup()


def test_missed_deadline_fires_once_after_restart():
    d = Daemon("downtime", policy="escalate_after = 1\n"
                                  "escalation_repeat = 1h\n").start()
    try:
        now = int(time.time())
        p = d.json("add", "Send times for the call", "--due", f"@{now + 2}",
                   "--nudge", "none")["promise"]
        q = d.json("add", "still ahead", "--due", f"@{now + 3600}",
                   "--nudge", "none")["promise"]
        d.kill9()
        # down across the deadline and the first escalation
        time.sleep(max(0, now + 4 - time.time()))
        d.start()
        wait_for(lambda: events(d, p["id"], "promise.escalation"),
                 timeout=10, what="the catch-up escalation")
        wait_for(lambda: events(d, p["id"], "promise.due"), timeout=10,
                 what="the catch-up deadline")
        # give a wrongly repeated firing the chance to show up
        d.stop()
        d.start()
        time.sleep(0.5)
        check(len(events(d, p["id"], "promise.due")) == 1,
              f"due fired {len(events(d, p['id'], 'promise.due'))} times")
        check(len(events(d, p["id"], "promise.escalation")) == 1,
              "escalation fired more than once")
        check(events(d, q["id"], "promise.due") == [], "fired early")
        check(d.json("show", str(q["id"]))["promise"]["state"] == "open", q)
    finally:
        d.stop()
        d.cleanup()


def test_only_latest_missed_nudge_is_sent():
    d = Daemon("nudges").start()
    try:
        now = int(time.time())
        # nudges at now+2 and now+3, deadline at now+8
        p = d.json("add", "Research the SEO question", "--due",
                   f"@{now + 8}", "--nudge", "6s,5s")["promise"]
        d.kill9()
        time.sleep(max(0, now + 4 - time.time()))
        d.start()
        got = wait_for(lambda: events(d, p["id"], "promise.nudge"),
                       timeout=10, what="the catch-up nudge")
        time.sleep(0.5)
        got = events(d, p["id"], "promise.nudge")
        check(len(got) == 1, f"{len(got)} nudges after downtime, want 1")
        hist = d.json("show", str(p["id"]))["events"]
        nudges = [e for e in hist if e["kind"] == "nudge"]
        check(len(nudges) == 1, nudges)
        check(nudges[0]["detail"]["scheduled_at"] == now + 3,
              f"sent the wrong nudge: {nudges}")
        wait_for(lambda: events(d, p["id"], "promise.due"), timeout=10,
                 what="the deadline after catch-up")
        check(time.time() >= now + 8, "deadline fired early")
    finally:
        d.stop()
        d.cleanup()


def test_missed_nudge_dropped_when_deadline_passed():
    d = Daemon("late-nudge", policy="escalate_after = 1h\n").start()
    try:
        now = int(time.time())
        # the nudge (now+2) at least two seconds after the add: one
        # already past at the add would be skipped, proving nothing here
        p = d.json("add", "Follow up after the first order", "--due",
                   f"@{now + 5}", "--nudge", "3s")["promise"]
        d.kill9()
        time.sleep(max(0, now + 6 - time.time()))
        d.start()
        wait_for(lambda: events(d, p["id"], "promise.due"), timeout=10,
                 what="the catch-up deadline")
        time.sleep(0.3)
        check(events(d, p["id"], "promise.nudge") == [],
              "a nudge for a passed deadline was sent")
    finally:
        d.stop()
        d.cleanup()


def test_pending_delivery_resent_with_same_id():
    """A delivery recorded but not confirmed sent goes out again."""
    d = Daemon("resend").start()
    try:
        now = int(time.time())
        p = d.json("add", "resend me", "--due", f"@{now + 2}", "--nudge",
                   "none")["promise"]
        wait_for(lambda: events(d, p["id"], "promise.due"), timeout=10,
                 what="the deadline")
        d.stop()
        # forget that it was sent, as if the daemon died just before
        d.sql("UPDATE deliveries SET state = 'pending'")
        d.start()
        got = wait_for(lambda: len(events(d, p["id"], "promise.due")) == 2
                       and events(d, p["id"], "promise.due"), timeout=10,
                       what="the resend")
        check(got[0]["delivery"] == got[1]["delivery"],
              "a resent delivery must keep its id")
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_acknowledged_adds_survive_kill9,
         test_missed_deadline_fires_once_after_restart,
         test_only_latest_missed_nudge_is_sent,
         test_missed_nudge_dropped_when_deadline_passed,
         test_pending_delivery_resent_with_same_id])
