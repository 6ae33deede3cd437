# SPDX-License-Identifier: MIT
"""Schedule events fire on time and reach the delivery log."""

import time

from harness import Daemon, check, run, wait_for


def deliveries_of(d, pid, event=None):
    return [x for x in d.deliveries() if x["promise"]["id"] == pid
            and (event is None or x["event"] == event)]


def test_deadline_fires_within_a_second():
    d = Daemon("fire", policy="escalate_after = 1h\n").start()
    try:
        due = int(time.time()) + 2
        p = d.json("add", "Send Acme the demo invite", "--due", f"@{due}",
                   "--for", "Acme", "--nudge", "none")["promise"]
        check(p["due_at"] == due, f"due_at {p['due_at']} != {due}")
        check(deliveries_of(d, p["id"]) == [], "nothing may fire before due")
        got = wait_for(lambda: deliveries_of(d, p["id"], "promise.due"),
                       timeout=10, what="the deadline delivery")
        arrived = time.time()
        check(len(got) == 1, f"one due delivery, got {got}")
        check(arrived >= due, f"fired early: {arrived} < {due}")
        check(arrived - due < 1.0, f"fired {arrived - due:.3f}s late")
        x = got[0]
        check(x["promise"]["title"] == "Send Acme the demo invite", x)
        check(x["promise"]["for"] == "Acme", x)
        check(len(x["delivery"]) == 32, x)
        # the history records it, with the same delivery id
        ev = [e for e in d.json("show", str(p["id"]))["events"]
              if e["kind"] == "due"]
        check(len(ev) == 1, ev)
        check(ev[0]["detail"]["deliveries"][0]["delivery"] == x["delivery"], ev)
        check(0 <= ev[0]["detail"]["late_ms"] < 1000, ev)
        # the outbox row is marked sent
        wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                 what="the outbox to drain")
        # no escalation before escalate_after
        check(deliveries_of(d, p["id"], "promise.escalation") == [],
              "escalation came early")
    finally:
        d.stop()
        d.cleanup()


def test_nudges_then_due_then_escalation_in_order():
    d = Daemon("order", policy="escalate_after = 1\n").start()
    try:
        # the first nudge at least two seconds after the add, even on a
        # loaded machine: a nudge already past at the add is not sent
        due = int(time.time()) + 5
        p = d.json("add", "Call Nopio back", "--due", f"@{due}",
                   "--nudge", "3s,2s")["promise"]
        check(p["nudge"] == [3, 2], p)
        wait_for(lambda: deliveries_of(d, p["id"], "promise.escalation"),
                 timeout=15, what="the escalation")
        got = deliveries_of(d, p["id"])
        kinds = [x["event"] for x in got]
        check(kinds == ["promise.nudge", "promise.nudge", "promise.due",
                        "promise.escalation"], kinds)
        hist = d.json("show", str(p["id"]))["events"]
        sched = [(e["kind"], e["detail"]["scheduled_at"]) for e in hist
                 if e["kind"] in ("nudge", "due", "escalation")]
        check(sched == [("nudge", due - 3), ("nudge", due - 2),
                        ("due", due), ("escalation", due + 1)], sched)
        for e in hist:
            if e["kind"] in ("nudge", "due", "escalation"):
                check(e["at"] >= e["detail"]["scheduled_at"], e)
                check(e["detail"]["late_ms"] >= 0, e)
    finally:
        d.stop()
        d.cleanup()


def test_settled_promise_never_fires():
    d = Daemon("settled").start()
    try:
        due = int(time.time()) + 2
        a = d.json("add", "kept early", "--due", f"@{due}", "--nudge",
                   "none")["promise"]
        b = d.json("add", "cancelled", "--due", f"@{due}", "--nudge",
                   "none")["promise"]
        c = d.json("add", "control", "--due", f"@{due}", "--nudge",
                   "none")["promise"]
        d.client("done", str(a["id"]))
        d.client("cancel", str(b["id"]), "--reason", "customer went away")
        wait_for(lambda: deliveries_of(d, c["id"], "promise.due"),
                 timeout=10, what="the control promise")
        check(deliveries_of(d, a["id"]) == [], "a kept promise fired")
        check(deliveries_of(d, b["id"]) == [], "a cancelled promise fired")
    finally:
        d.stop()
        d.cleanup()


def test_snooze_moves_the_deadline():
    d = Daemon("snooze").start()
    try:
        now = int(time.time())
        p = d.json("add", "Quote for Acme", "--due", f"@{now + 2}",
                   "--nudge", "none")["promise"]
        d.client("snooze", str(p["id"]), "--due", f"@{now + 4}",
                 "--reason", "waiting on pricing")
        got = wait_for(lambda: deliveries_of(d, p["id"], "promise.due"),
                       timeout=10, what="the snoozed deadline")
        check(time.time() >= now + 4, "fired at the old deadline")
        check(got[0]["promise"]["due_at"] == now + 4, got)
        shown = d.json("show", str(p["id"]))
        check(shown["promise"]["snoozes"] == 1, shown)
        sn = [e for e in shown["events"] if e["kind"] == "snoozed"]
        check(sn and sn[0]["detail"]["reason"] == "waiting on pricing", sn)
        check(sn[0]["detail"]["from"] == now + 2, sn)
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_deadline_fires_within_a_second,
         test_nudges_then_due_then_escalation_in_order,
         test_settled_promise_never_fires,
         test_snooze_moves_the_deadline])
