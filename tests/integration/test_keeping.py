"""Keeping promises, not just reminding: follow-up chains and honest
endings, through the real client and daemon."""

import time

from harness import Conn, Daemon, check, run


def events(d, pid):
    return d.json("show", str(pid))["events"]


def main():
    d = Daemon("keeping").start()

    def test_done_then_opens_a_linked_follow_up():
        r = d.client("add", "First order for Acme", "--due", "in 2h",
                     "--for", "Acme")
        first = r.stdout.split()[1]
        r = d.client("done", first, "--note", "shipped", "--then",
                     "Follow up on the first order", "--due", "in 14d")
        lines = r.stdout.strip().splitlines()
        check(len(lines) == 2 and "kept" in lines[0], r.stdout)
        check(lines[1].startswith("promise ") and "added" in lines[1],
              r.stdout)
        second = lines[1].split()[1]
        nxt = d.json("show", second)["promise"]
        check(nxt["for"] == "Acme", f"customer not carried over: {nxt}")
        check(nxt["state"] == "open", nxt)
        check(nxt["due_at"] - int(time.time()) > 13 * 86400, nxt)
        created = [e for e in events(d, second) if e["kind"] == "created"]
        check(created[0]["detail"]["follows"] == int(first), created)
        kept = [e for e in events(d, first) if e["kind"] == "kept"]
        check(kept[0]["detail"]["then"] == int(second), kept)
        check(kept[0]["detail"]["note"] == "shipped", kept)
        shown = d.client("show", first).stdout
        check(f"followed by promise {second}" in shown, shown)
        shown = d.client("show", second).stdout
        check(f"follows promise {first}" in shown, shown)
        # a follow-up for another customer
        r = d.client("done", second, "--then", "Apologise and re-book",
                     "--due", "in 3h", "--for", "Acme's CFO")
        third = r.stdout.strip().splitlines()[1].split()[1]
        check(d.json("show", third)["promise"]["for"] == "Acme's CFO", third)

    def test_follow_up_is_all_or_nothing():
        r = d.client("add", "Call Beta back", "--due", "in 2h")
        pid = r.stdout.split()[1]
        c = Conn(d)
        # a bad follow-up leaves the first promise open
        bad = c.call({"v": 1, "op": "done", "id": int(pid),
                      "then": {"title": "", "due_at": int(time.time()) + 60}})
        check(bad["ok"] is False and bad["error"]["code"] == "invalid", bad)
        check(bad["error"]["message"].startswith("then: field 'title'"), bad)
        past = c.call({"v": 1, "op": "done", "id": int(pid),
                       "then": {"title": "x", "due_at": 1000}})
        check(past["ok"] is False and "then:" in past["error"]["message"],
              past)
        notobj = c.call({"v": 1, "op": "done", "id": int(pid), "then": "x"})
        check(notobj["ok"] is False, notobj)
        oncancel = c.call({"v": 1, "op": "cancel", "id": int(pid),
                           "reason": "r", "then": {"title": "x"}})
        check(oncancel["ok"] is False and
              "only done" in oncancel["error"]["message"], oncancel)
        c.close()
        check(d.json("show", pid)["promise"]["state"] == "open",
              "a refused follow-up settled the promise")
        r = d.client("done", pid, "--then", "x", expect=2)
        check("--then needs --due" in r.stderr, r.stderr)
        r = d.client("done", pid, "--due", "in 1h", expect=2)
        check("give --then" in r.stderr, r.stderr)

    def test_cancel_records_whether_the_customer_was_told():
        told = d.client("add", "Quote for Gamma", "--due", "in 3h",
                        "--for", "Gamma").stdout.split()[1]
        d.client("cancel", told, "--reason",
                 "not a fit; pointed them to Delta", "--told-customer")
        silent = d.client("add", "Quote for Eps", "--due", "in 3h",
                          "--for", "Eps").stdout.split()[1]
        d.client("cancel", silent, "--reason", "lost interest")
        ev = [e for e in events(d, told) if e["kind"] == "cancelled"][0]
        check(ev["detail"]["told_customer"] is True, ev)
        ev = [e for e in events(d, silent) if e["kind"] == "cancelled"][0]
        check(ev["detail"]["told_customer"] is False, ev)
        check("(customer told)" in d.client("show", told).stdout, told)
        check("(customer not told)" in d.client("show", silent).stdout,
              silent)
        r = d.client("cancel", silent, "--told-customer", expect=2)
        check("reason" in r.stderr, r.stderr)

    def test_stop():
        d.stop()

    try:
        run([test_done_then_opens_a_linked_follow_up,
             test_follow_up_is_all_or_nothing,
             test_cancel_records_whether_the_customer_was_told, test_stop])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
