# SPDX-License-Identifier: MIT
"""Keeping promises, not just reminding: follow-up chains and honest
endings, through the real client and daemon."""

import json
import time

from harness import Conn, Daemon, check, run, wait_for


def events(d, pid):
    return d.json("show", str(pid))["events"]


# every hour is a business hour in UTC: business time is plain time, so
# the expected deadlines are exact whenever the test runs
ALWAYS_OPEN = """
[calendar]
timezone = UTC
business_hours = Mon-Sun 00:00-24:00

[kind reply]
due = 1 business day
nudge_before = 2h
escalate_after = 1h

[kind quick]
due = in 4 business hours
"""


def near(got, want, what, slack=3):
    check(abs(got - want) <= slack, f"{what}: got {got}, want about {want}")


def test_kinds_and_business_deadlines():
    d = Daemon("kinds", conf_extra=ALWAYS_OPEN).start()
    try:
        now = int(time.time())
        p = d.json("add", "Answer Nopio's SEO inquiry", "--kind",
                   "reply")["promise"]
        near(p["due_at"], now + 86400, "reply: 1 business day")
        check(p["nudge"] == [7200] and p["escalate_after"] == 3600, p)
        check(p["kind"] == "reply", p)
        p = d.json("add", "Call back", "--kind", "quick")["promise"]
        near(p["due_at"], now + 4 * 3600, "quick: 4 business hours")
        # no nudge_before of its own: the policy's
        check(p["nudge"] == [86400, 3600], p)
        p = d.json("add", "Send the deck", "--due",
                   "in 2 business hours")["promise"]
        near(p["due_at"], now + 7200, "in 2 business hours")
        check(p["kind"] is None, p)
        p = d.json("add", "Wrap up", "--due", "eod")["promise"]
        near(p["due_at"], (now // 86400 + 1) * 86400, "eod", slack=0)
        # the request's deadline beats the kind's; the kind's nudges stay
        p = d.json("add", "Reply sooner", "--kind", "reply", "--due",
                   "in 3h")["promise"]
        near(p["due_at"], now + 3 * 3600, "--due over the kind")
        check(p["nudge"] == [7200], p)
        r = d.client("add", "x", "--kind", "nope", expect=1)
        check("no kind 'nope'" in r.stderr, r.stderr)
        r = d.client("add", "x", expect=2)
        check("--due WHEN or --kind NAME" in r.stderr, r.stderr)
        r = d.client("add", "x", "--due", "in 2 business fortnights",
                     expect=1)
        check("field 'due'" in r.stderr and "unit" in r.stderr, r.stderr)
        r = d.client("add", "x", "--due", "in 0 business hours", expect=1)
        check("past" in r.stderr or "future" in r.stderr, r.stderr)
        # snoozing accepts business time too
        pid = str(p["id"])
        d.client("snooze", pid, "--due", "in 5 business hours", "--reason",
                 "customer asked")
        near(d.json("show", pid)["promise"]["due_at"], now + 5 * 3600,
             "snooze in 5 business hours")
        d.stop()
    finally:
        d.cleanup()


def test_nudges_move_into_business_hours():
    # a zone where it is about noon now, and hours that close an hour
    # from now: a nudge due later today moves back to the close
    t0 = int(time.time())
    off = 12 - time.gmtime(t0).tm_hour
    zone = f"Etc/GMT-{off}" if off >= 0 else f"Etc/GMT+{-off}"
    local = time.gmtime(t0 + off * 3600)
    close_h, close_m = local.tm_hour + 1, local.tm_min
    # the close as an instant: the start of this minute, an hour on
    close = t0 - local.tm_sec + 3600
    people = (f"[person day]\ntimezone = {zone}\n"
              f"business_hours = Mon-Sun 00:00-{close_h:02d}:{close_m:02d}\n"
              f"[person night]\ntimezone = {zone}\nemail = n@example.org\n")
    d = Daemon("hours", conf_extra=people).start()
    try:
        p = d.json("add", "Send the quote", "--owner", "day", "--due",
                   "in 4h", "--nudge", "2h")["promise"]
        lead = p["due_at"] - close
        check(p["nudge"] == [lead],
              f"the 2h nudge should move to the close {close}: {p}")
        check(3 * 3600 - 60 <= lead <= 3 * 3600 + 60, p)
        # someone without business hours is nudged when it falls
        q = d.json("add", "Send the quote", "--owner", "night", "--due",
                   "in 4h", "--nudge", "2h")["promise"]
        check(q["nudge"] == [7200], q)
        # a snooze moves them afresh from what was asked
        pid = str(p["id"])
        d.client("snooze", pid, "--due", "in 5h", "--reason", "later")
        p2 = d.json("show", pid)["promise"]
        check(p2["nudge"] == [p2["due_at"] - close], p2)
        # a nudge inside the hours stays put
        r = d.json("add", "Soon", "--owner", "day", "--due", "in 40m",
                   "--nudge", "10m")["promise"]
        check(r["nudge"] == [600], r)
        d.stop()
    finally:
        d.cleanup()


TEAM = """
[person boss]
email = boss@example.org
[person ann]
manager = boss
[person bob]
manager = boss
[person cid]
email = cid@example.org
"""


def test_report_and_sample():
    d = Daemon("report", conf_extra=TEAM).start()
    try:
        def add(owner, due, title):
            return d.json("add", title, "--owner", owner, "--due",
                          due)["promise"]["id"]

        a1 = add("ann", "+2s", "late one")
        a2 = add("ann", "in 1h", "on time")
        a3 = add("ann", "in 1h", "told")
        a4 = add("ann", "in 1h", "renegotiated")
        a5 = add("ann", "+2s", "overdue")
        b1 = add("bob", "in 1h", "bob on time")
        b2 = add("bob", "in 1h", "bob untold")
        add("cid", "in 1h", "cid open")
        d.client("done", str(a2))
        d.client("cancel", str(a3), "--reason", "not a fit",
                 "--told-customer")
        d.client("snooze", str(a4), "--due", "in 2h", "--reason", "asked")
        d.client("snooze", str(a4), "--due", "in 3h", "--reason", "again")
        d.client("done", str(b1))
        d.client("cancel", str(b2), "--reason", "gone quiet")
        time.sleep(3.2)
        d.client("done", str(a1))
        late = [e for e in d.json("show", str(a1))["events"]
                if e["kind"] == "kept"][0]["detail"]["late_by"]
        check(late >= 1, f"a1 should be kept late: {late}")

        rows = {r["owner"]: r for r in d.json("report")["owners"]}
        check(sorted(rows) == ["ann", "bob", "cid"], rows)
        want = {"made": 5, "kept_on_time": 1, "kept_late": 1, "open": 2,
                "overdue": 1, "cancelled_told": 1, "cancelled_untold": 0,
                "renegotiated": 1, "snoozes": 2, "lateness_p50": 0,
                "lateness_p90": late}
        for k, v in want.items():
            check(rows["ann"][k] == v, f"ann {k}: {rows['ann'][k]} != {v}")
        check(abs(rows["ann"]["on_time_rate"] - 1 / 3) < 1e-9, rows["ann"])
        want = {"made": 2, "kept_on_time": 1, "kept_late": 0, "open": 0,
                "overdue": 0, "cancelled_told": 0, "cancelled_untold": 1,
                "renegotiated": 0, "snoozes": 0, "lateness_p50": 0,
                "lateness_p90": 0, "on_time_rate": 1.0}
        for k, v in want.items():
            check(rows["bob"][k] == v, f"bob {k}: {rows['bob'][k]} != {v}")
        check(rows["cid"]["made"] == 1 and rows["cid"]["open"] == 1 and
              rows["cid"]["on_time_rate"] is None and
              rows["cid"]["lateness_p50"] is None, rows["cid"])

        team = [r["owner"] for r in d.json("report", "--team", "boss")
                ["owners"]]
        check(team == ["ann", "bob"], team)
        one = d.json("report", "--owner", "cid")["owners"]
        check([r["owner"] for r in one] == ["cid"], one)
        # a window that starts after everything was made shows nothing
        time.sleep(1.1)
        check(d.json("report", "--since", "1s")["owners"] == [], "since")

        text = d.client("report").stdout.splitlines()
        check(text[0].split()[0] == "OWNER" and len(text) == 4, text)
        ann = [ln for ln in text if ln.startswith("ann")][0]
        check(" 33%" in ann, ann)
        csv = d.client("report", "--csv").stdout.splitlines()
        check(csv[0].startswith("owner,made,kept_on_time"), csv)
        check(csv[1].startswith("ann,5,1,1,2,1,1,0,1,2,0.333,0,"), csv)
        check(csv[2] == "bob,2,1,0,0,0,0,1,0,0,1.000,0,0", csv)
        check(csv[3] == "cid,1,0,0,1,0,0,0,0,0,,,", csv)
        d.client("report", "--owner", "ann", "--team", "boss", expect=2)

        s = d.json("sample", "10", "--owner", "bob")["promises"]
        check(sorted(p["promise"]["id"] for p in s) == [b1, b2], s)
        check(all(p["events"][0]["kind"] == "created" for p in s), s)
        s = d.json("sample", "2")["promises"]
        check(len(s) == 2 and all(p["promise"]["state"] != "open"
                                  for p in s), s)
        check(d.json("sample", "5", "--owner", "cid")["promises"] == [],
              "cid has nothing settled")
        out = d.client("sample", "1", "--owner", "bob").stdout
        check("history:" in out and "bob" in out, out)
        d.client("sample", "0", expect=2)
        d.stop()
    finally:
        d.cleanup()


CHAIN = """
[calendar]
timezone = Europe/Berlin
business_hours = Mon-Sun 00:00-24:00
[person ann]
manager = boss
[person boss]
manager = ceo
timezone = America/New_York
[person ceo]
timezone = Asia/Tokyo
"""


def test_explain_and_dry_run():
    d = Daemon("explain", conf_extra=CHAIN,
               policy="escalate_after = 2h\nescalation_repeat = 1d\n"
                      "escalate_up_after = 1\n").start()
    try:
        r = d.json("add", "Send the quote", "--owner", "ann", "--due",
                   "in 3d", "--nudge", "1d,1h", "--dry-run")
        check(r["dry_run"] is True, r)
        check(d.json("list", "--state", "all")["promises"] == [],
              "a dry run made a promise")
        sched = r["schedule"]
        kinds = [s["kind"] for s in sched]
        check(kinds == ["nudge", "nudge", "due"] + ["escalation"] * 3,
              kinds)
        due = r["promise"]["due_at"]
        check([s["at"] for s in sched[:3]] == [due - 86400, due - 3600,
                                                due], sched)
        check(sched[0]["to"] == [{"to": "ann", "channel": "log",
                                  "zone": "Europe/Berlin",
                                  "local": sched[0]["to"][0]["local"]}],
              sched[0])
        check(sched[0]["to"][0]["local"].endswith(("CET", "CEST")), sched)
        esc1 = sched[3]
        check(esc1["at"] == due + 7200 and "2h after" in esc1["rule"], esc1)
        check([(t["to"], t["channel"], t["level"]) for t in esc1["to"]] ==
              [("boss", "log", 1)], esc1)
        check(esc1["to"][0]["local"].endswith(("EST", "EDT")), esc1)
        # the second repeat climbs to the ceo, in Tokyo time
        esc2 = sched[4]
        check(esc2["at"] == due + 7200 + 86400, esc2)
        check([(t["to"], t["level"]) for t in esc2["to"]] ==
              [("boss", 1), ("ceo", 2)], esc2)
        check(esc2["to"][1]["local"].endswith("JST"), esc2)
        # the real thing explains the same way
        pid = d.json("add", "Send the quote", "--owner", "ann", "--due",
                     "in 3d", "--nudge", "1d,1h")["promise"]["id"]
        e = d.json("explain", str(pid))
        check([s["kind"] for s in e["schedule"]] == kinds, e)
        out = d.client("explain", str(pid)).stdout
        check("schedule:" in out and "boss by log (level 1)" in out, out)
        out = d.client("add", "x", "--due", "in 2h", "--dry-run").stdout
        check(out.startswith("dry run, nothing added") and
              "schedule:" in out, out)
        d.client("done", str(pid))
        check(d.json("explain", str(pid))["schedule"] == [], "settled")
        d.client("explain", "999", expect=1)
        d.stop()
    finally:
        d.cleanup()


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

    def test_search_by_customer_and_words():
        def ids(*args):
            return sorted(p["id"] for p in
                          d.json("list", "--state", "all", *args)["promises"])
        n1 = d.json("add", "Answer Nopio's SEO inquiry", "--due", "in 3h",
                    "--for", "Nopio GmbH")["promise"]["id"]
        n2 = d.json("add", 'Send the "quote" to Zeta', "--due", "in 4h",
                    "--for", "Zeta Corp", "--note",
                    "they asked about SEO too")["promise"]["id"]
        check(ids("--for", "nop") == [n1], ids("--for", "nop"))
        check(ids("--for", "zeta corp") == [n2], "two words")
        # --for looks at the customer only
        check(ids("--for", "quote") == [], ids("--for", "quote"))
        check(ids("--grep", "seo") == [n1, n2], ids("--grep", "seo"))
        check(ids("--grep", "SEO", "--for", "zeta") == [n2], "both")
        # what people type is words, never query syntax
        for q in ('quote"', "seo OR nopio", "NEAR(seo", "*", "a:b", "-x"):
            d.client("list", "--grep", q)
        # as an operator, OR would find n1; as a word, nothing has it
        check(ids("--grep", "nopio OR zzz") == [], "OR is a word")
        d.client("done", str(n1))
        check(ids("--grep", "nopio") == [n1], "settled ones are found")
        check(d.json("list", "--grep", "nopio")["promises"] == [],
              "list's default is still the open ones")
        r = d.client("list", "--grep", "   ", expect=1)
        check("has no words" in r.stderr, r.stderr)

    def test_search_index_catches_up_without_a_search():
        """The index follows the adds once they pause, while the daemon
        is idle: no search is needed to bring it up to date."""
        import sqlite3

        def indexed():
            db = sqlite3.connect(f"file:{d.db}?mode=ro", uri=True)
            try:
                # how far the index goes (fts_mark), as committed
                return db.execute("SELECT upto FROM fts_mark").fetchone()[0]
            finally:
                db.close()

        last = [d.json("add", f"Index me {i}", "--due", "in 3h")
                ["promise"]["id"] for i in range(3)][-1]
        wait_for(lambda: indexed() == last, timeout=20,
                 what=f"promises up to {last} indexed")

    def test_import_all_or_nothing_and_export():
        import csv
        import io
        import os
        due = int(time.time()) + 7200
        before = len(d.json("list", "--state", "all")["promises"])
        bad = os.path.join(d.dir, "bad.jsonl")
        with open(bad, "w") as f:
            f.write(json.dumps({"title": "Fine", "due_at": due}) + "\n")
            f.write("\n")
            f.write("{not json\n")
            f.write(json.dumps({"title": "", "due_at": due}) + "\n")
            f.write(json.dumps({"title": "Old", "due_at": 1000}) + "\n")
            f.write("[1, 2]\n")
            f.write(json.dumps({"title": "Who", "due_at": due,
                                "kind": "nope"}) + "\n")
        for extra in ([], ["--dry-run"]):
            r = d.client("import", bad, *extra, expect=1)
            for line in (3, 4, 5, 6, 7):
                check(f"line {line}:" in r.stderr,
                      f"line {line} not reported: {r.stderr}")
            check("line 1:" not in r.stderr, r.stderr)
            check("5 bad lines; nothing was imported" in r.stderr, r.stderr)
        check(len(d.json("list", "--state", "all")["promises"]) == before,
              "a bad file imported something")
        good = os.path.join(d.dir, "good.jsonl")
        with open(good, "w") as f:
            f.write(json.dumps({"title": "Imported, \"one\"", "due_at": due,
                                "for": "Omega"}) + "\n")
            f.write(json.dumps({"title": "Imported two", "due": "in 3h",
                                "note": "two\nlines"}) + "\n")
        r = d.client("import", good, "--dry-run")
        check("2 promises would be imported" in r.stdout, r.stdout)
        check(len(d.json("list", "--state", "all")["promises"]) == before,
              "a dry run imported")
        sched = d.json("status")["scheduled"]
        r = d.client("import", "-", input=open(good).read())
        check("2 promises imported" in r.stdout, r.stdout)
        check(d.json("status")["scheduled"] == sched + 2,
              "imported promises are not scheduled")
        lines = d.client("export").stdout.splitlines()
        exported = [json.loads(x) for x in lines]
        check(len(exported) == before + 2, len(exported))
        mine = [p for p in exported if p["title"].startswith("Imported")]
        check(mine[0]["for"] == "Omega" and mine[1]["note"] == "two\nlines",
              mine)
        rows = list(csv.DictReader(io.StringIO(d.client("export",
                                                        "--csv").stdout)))
        check(len(rows) == before + 2, len(rows))
        row = [x for x in rows if x["title"] == 'Imported, "one"'][0]
        check(row["for"] == "Omega" and row["state"] == "open", row)
        check([x for x in rows if x["title"] == "Imported two"][0]["note"]
              == "two\nlines", rows[-1])

    def test_import_in_parts():
        """A file bigger than one request goes in parts on one connection
        and is still all or nothing; parts of a connection that goes away
        are dropped."""
        import os
        due = int(time.time()) + 7200
        before = len(d.client("export").stdout.splitlines())
        rows = [json.dumps({"title": f"Bulk {i}", "due_at": due + i,
                            "note": "n" * 150}) for i in range(1500)]
        path = os.path.join(d.dir, "bulk.jsonl")
        with open(path, "w") as f:
            f.write("\n".join(rows[:1400] + [json.dumps({"title": "Late",
                    "due_at": 1000})] + rows[1400:]) + "\n")
        check(os.path.getsize(path) > 4 * 65536, "not several requests")
        r = d.client("import", path, expect=1)
        check("line 1401: field 'due_at'" in r.stderr, r.stderr)
        check("1 bad line; nothing was imported" in r.stderr, r.stderr)
        check(len(d.client("export").stdout.splitlines()) == before,
              "a bad file in parts imported something")
        with open(path, "w") as f:
            f.write("\n".join(rows) + "\n")
        r = d.client("import", path)
        check("1500 promises imported" in r.stdout, r.stdout)
        check(len(d.client("export").stdout.splitlines()) == before + 1500,
              "not all parts were imported")

        # parts held on a connection that closes are never added
        c = Conn(d)
        r = c.call({"v": 1, "op": "import", "more": True, "promises":
                    [{"title": "Staged only", "due_at": due}]})
        check(r["ok"] and r["staged"] == 1, r)
        c.close()
        check(d.json("list", "--grep", "Staged")["promises"] == [],
              "a staged part was added")
        # too many in all: refused, and the parts so far dropped
        c = Conn(d)
        try:
            part = [{"title": "x", "due_at": due}] * 250
            for _ in range(40):
                r = c.call({"v": 1, "op": "import", "more": True,
                            "promises": part})
                check(r["ok"], r)
            r = c.call({"v": 1, "op": "import", "promises": part[:1]})
            check(not r["ok"] and "at most 10000 promises" in
                  r["error"]["message"], r)
            r = c.call({"v": 1, "op": "import", "promises": part[:1],
                        "dry_run": True})
            check(r["ok"] and r["valid"] == 1, "the parts were kept")
        finally:
            c.close()

    def test_stop():
        d.stop()

    try:
        run([test_done_then_opens_a_linked_follow_up,
             test_follow_up_is_all_or_nothing,
             test_cancel_records_whether_the_customer_was_told,
             test_search_by_customer_and_words,
             test_search_index_catches_up_without_a_search,
             test_import_all_or_nothing_and_export, test_import_in_parts,
             test_stop,
             test_kinds_and_business_deadlines,
             test_nudges_move_into_business_hours,
             test_report_and_sample, test_explain_and_dry_run])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
