# SPDX-License-Identifier: MIT
"""The promise client against the real daemon: the everyday flow."""

import calendar
import getpass
import os
import re
import subprocess

from harness import PROMISE, Daemon, check, run, wait_for


def epoch(y, mo, d, h, mi):
    return calendar.timegm((y, mo, d, h, mi, 0))


def main():
    d = Daemon("cli").start()

    def test_add_list_show_done():
        r = d.client("add", "Send Acme the demo invite", "--due", "in 3d",
                     "--for", "Acme", "--note", "they want Tuesday")
        m = re.match(r"promise (\d+) added: due (.+) \(in (\d+)d\)$",
                     r.stdout.strip())
        check(m, f"add output: {r.stdout!r}")
        pid = m.group(1)
        listed = d.client("list").stdout
        check("Send Acme the demo invite" in listed, listed)
        check(re.search(rf"^\s*{pid}\s", listed, re.M), listed)
        # the hint floors: a second after adding, 3 days is "in 2d"
        check("Acme" in listed and re.search(r"in [23]d", listed), listed)
        js = d.json("list")["promises"]
        p = [x for x in js if str(x["id"]) == pid][0]
        check(p["for"] == "Acme" and p["note"] == "they want Tuesday", p)
        check(p["created_by"] == getpass.getuser(), p)
        check(p["owner"] == getpass.getuser(), p)
        shown = d.client("show", pid).stdout
        check("Send Acme the demo invite" in shown, shown)
        check("created" in shown and "history" in shown, shown)
        r = d.client("done", pid, "--note", "invite sent")
        check("kept" in r.stdout, r.stdout)
        p = d.json("show", pid)
        check(p["promise"]["state"] == "kept", p)
        kinds = [e["kind"] for e in p["events"]]
        check(kinds == ["created", "kept"], kinds)
        check(p["events"][1]["detail"]["note"] == "invite sent", p)
        # settled: gone from the default list, present in kept and all
        check(pid not in [str(x["id"]) for x in d.json("list")["promises"]],
              "kept promise still listed as open")
        kept = d.json("list", "--state", "kept")["promises"]
        check(pid in [str(x["id"]) for x in kept], kept)
        r = d.client("done", pid, expect=1)
        check("already kept" in r.stderr, r.stderr)

    def test_snooze_and_cancel_need_reasons():
        pid = str(d.json("add", "Quote for Nopio", "--due",
                         "in 2h")["promise"]["id"])
        r = d.client("snooze", pid, "--due", "in 5h", expect=2)
        check("--reason" in r.stderr, r.stderr)
        r = d.client("cancel", pid, expect=2)
        check("--reason" in r.stderr, r.stderr)
        before = d.json("show", pid)["promise"]["due_at"]
        d.client("snooze", pid, "--due", "in 5h", "--reason",
                 "customer asked for later")
        after = d.json("show", pid)["promise"]
        check(after["due_at"] - before >= 3 * 3600 - 5, (before, after))
        check(after["snoozes"] == 1, after)
        d.client("cancel", pid, "--reason", "not a fit")
        p = d.json("show", pid)
        check(p["promise"]["state"] == "cancelled", p)
        check(p["events"][-1]["detail"]["reason"] == "not a fit", p)

    def test_past_and_bad_times_refused():
        r = d.client("add", "too late", "--due", "2020-01-01 10:00",
                     expect=2)
        check("past" in r.stderr, r.stderr)
        check(len(r.stderr.strip().splitlines()) <= 2, r.stderr)
        r = d.client("add", "nonsense", "--due", "someday", expect=2)
        check("someday" in r.stderr, r.stderr)
        r = d.client("add", "no due", expect=2)
        check("--due" in r.stderr, r.stderr)
        d.client("show", "abc", expect=2)
        r = d.client("show", "99999", expect=1)
        check("no promise 99999" in r.stderr, r.stderr)

    def test_time_zones_and_dst():
        # July: Berlin is UTC+2, New York UTC-4
        p = d.json("add", "berlin", "--due", "2030-07-01 17:00",
                   env={"TZ": "Europe/Berlin"})["promise"]
        check(p["due_at"] == epoch(2030, 7, 1, 15, 0), p)
        p = d.json("add", "new york", "--due", "2030-07-01 17:00",
                   env={"TZ": "America/New_York"})["promise"]
        check(p["due_at"] == epoch(2030, 7, 1, 21, 0), p)
        # January: Berlin UTC+1; an explicit offset wins over the zone
        p = d.json("add", "winter", "--due", "2031-01-10 09:30",
                   env={"TZ": "Europe/Berlin"})["promise"]
        check(p["due_at"] == epoch(2031, 1, 10, 8, 30), p)
        p = d.json("add", "offset", "--due", "2031-01-10 09:30-05:00",
                   env={"TZ": "Europe/Berlin"})["promise"]
        check(p["due_at"] == epoch(2031, 1, 10, 14, 30), p)
        # shown back in the reader's zone
        out = d.client("show", str(p["id"]),
                       env={"TZ": "America/New_York"}).stdout
        check("2031-01-10 09:30" in out, out)

    def test_owner_and_nudges():
        p = d.json("add", "for bob", "--due", "in 1d", "--owner", "bob",
                   "--nudge", "3h,15m")["promise"]
        check(p["owner"] == "bob" and p["nudge"] == [10800, 900], p)
        mine = d.json("list", "--owner", "bob")["promises"]
        check([x["title"] for x in mine] == ["for bob"], mine)
        p = d.json("add", "no nudges", "--due", "in 1d", "--nudge",
                   "none")["promise"]
        check(p["nudge"] == [], p)

    def test_status():
        s = d.json("status")
        check(s["ok"] and s["version"], s)
        check(s["open"] >= 1 and s["scheduled"] == s["open"], s)
        out = d.client("status").stdout
        check("open:" in out and "version:" in out, out)

    def test_help_version_usage():
        r = d.client("--version")
        check(r.stdout.startswith("promise "), r.stdout)
        r = d.client("--help")
        check("add" in r.stdout and "snooze" in r.stdout, r.stdout)
        r = d.client("add", "--help")
        check("--due" in r.stdout, r.stdout)
        d.client("frobnicate", expect=2)
        d.client("list", "--state", "lost", expect=2)

    def test_unreachable_daemon_hint():
        sock = os.path.join(d.dir, "nothing-here.sock")
        r = subprocess.run([PROMISE, "--socket", sock, "status"],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 3, r)
        check(r.stderr.strip() == f"promise: cannot reach promised at "
              f"{sock}: No such file or directory (is the service "
              f"running?)", r.stderr)
        r = subprocess.run([PROMISE, "status"], capture_output=True,
                           text=True, timeout=10,
                           env=dict(os.environ, PROMISE_SOCKET=sock))
        check(r.returncode == 3 and sock in r.stderr, r)

    def test_deliveries_retry_ack():
        r = d.client("deliveries", "--failed")
        check("no failed deliveries" in r.stdout, r.stdout)
        d.client("deliveries", "--failed", "--state", "sent", expect=2)
        d.client("deliveries", "--limit", "x", expect=2)
        r = d.client("retry", "abc", expect=2)
        check("4 to 32 hex digits" in r.stderr, r.stderr)
        r = d.client("retry", "abc123", expect=1)
        check("no delivery abc123" in r.stderr, r.stderr)
        d.client("retry", "0" * 32, expect=1)
        # a promise that comes due with no channel goes to the log
        p = d.json("add", "log me", "--due", "+2s", "--nudge",
                   "none")["promise"]
        pid = str(p["id"])
        wait_for(lambda: [x for x in d.json("show", pid)["deliveries"]
                          if x["state"] == "sent"], timeout=10,
                 what="the due delivery")
        dv = d.json("show", pid)["deliveries"]
        check(dv[0]["channel"] == "log" and len(dv[0]["delivery"]) == 32, dv)
        out = d.client("deliveries").stdout
        check("due" in out and "log" in out and "sent" in out, out)
        shown = d.client("show", pid).stdout
        check("deliveries:" in shown and dv[0]["short"] in shown, shown)
        r = d.client("retry", dv[0]["delivery"], expect=1)
        check("already sent" in r.stderr, r.stderr)
        r = d.client("ack", pid)
        check("paused until" in r.stdout, r.stdout)
        check("acked" in [e["kind"] for e in d.json("show", pid)["events"]],
              "ack not in history")
        d.client("done", pid)
        d.client("ack", pid, expect=1)
        for cmd in ("ack", "deliveries", "retry"):
            d.client(cmd, "--help")

    def test_stop():
        d.stop()

    try:
        run([test_add_list_show_done, test_snooze_and_cancel_need_reasons,
             test_past_and_bad_times_refused, test_time_zones_and_dst,
             test_owner_and_nudges, test_status, test_help_version_usage,
             test_unreachable_daemon_hint, test_deliveries_retry_ack,
             test_stop])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
