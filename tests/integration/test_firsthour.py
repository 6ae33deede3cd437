# SPDX-License-Identifier: MIT
"""The client and the rules as a new user and a new admin first meet them:
hints to the second, one JSON document per command, short delivery ids,
CSV round trips, escalations in the manager's hours, and the smaller
refusals and messages."""

import calendar
import getpass
import json
import os
import re
import subprocess
import time

from harness import PROMISE, PROMISED, Daemon, check, run, wait_for
from httpsink import HttpSink
from smtpsink import SmtpSink

ME = getpass.getuser()


def test_hints_count_seconds():
    with HttpSink().start() as sink:
        d = Daemon("hints")
        d.write_conf(conf_extra="retry_initial = 1s\n"
                                f"[person {ME}]\nwebhook = {sink.url('/me')}\n")
        d.start()
        try:
            pid = str(d.json("add", "call back", "--due", "+50s")
                      ["promise"]["id"])
            shown = d.client("show", pid).stdout
            check(re.search(r"\(in [45]\ds\)", shown), shown)
            listed = d.client("list").stdout
            check(re.search(r"in [45]\ds", listed), listed)
            # a webhook asked to come back in 55 s: the retry is not "now"
            sink.control(fail=1, status=503, retry_after="55")
            pid = str(d.json("add", "quote", "--due", "+2s")
                      ["promise"]["id"])
            wait_for(lambda: sink.requests(), timeout=20,
                     what="the first webhook attempt")
            wait_for(lambda: d.json("deliveries")["deliveries"]
                     and d.json("deliveries")["deliveries"][0]
                     ["attempts"] >= 1, what="a failed attempt recorded")
            out = d.client("deliveries").stdout
            check(re.search(r"\(in [345]\ds\)", out), out)
            shown = d.client("show", pid).stdout
            check(re.search(r"\(in [345]\ds\)", shown), shown)
            # and a deadline passed seconds ago says how long ago
            wait_for(lambda: re.search(r"\d+s overdue",
                                       d.client("show", pid).stdout),
                     timeout=10, what="a seconds-overdue hint")
        finally:
            d.stop()
            d.cleanup()


def one_document(r):
    """The whole of stdout is one JSON document; it, parsed."""
    try:
        return json.loads(r.stdout)
    except ValueError as e:
        raise AssertionError(f"not one JSON document ({e}): {r.stdout!r}")


def test_json_is_one_document_for_every_command():
    d = Daemon("json").start()
    try:
        due = int(time.time()) + 7200
        good = os.path.join(d.dir, "good.jsonl")
        with open(good, "w") as f:
            f.write(json.dumps({"title": "a", "due_at": due}) + "\n")
            f.write(json.dumps({"title": "b", "due": "in 3h"}) + "\n")
        doc = one_document(d.client("--json", "import", good, "--dry-run"))
        check(doc["ok"] and doc["dry_run"] and doc["valid"] == 2
              and doc["errors"] == [], doc)
        bad = os.path.join(d.dir, "bad.jsonl")
        with open(bad, "w") as f:
            f.write(json.dumps({"title": "fine", "due_at": due}) + "\n")
            f.write("{not json\n")
            f.write(json.dumps({"title": "old", "due_at": 1000}) + "\n")
        for extra in ([], ["--dry-run"]):
            doc = one_document(d.client("import", bad, "--json", *extra,
                                        expect=1))
            check(doc["ok"] is False and doc["error"]["code"] == "invalid",
                  doc)
            check([e["line"] for e in doc["errors"]] == [2, 3], doc)
            check("past" in doc["errors"][1]["message"], doc)
        doc = one_document(d.client("--json", "import", good))
        check(doc["ok"] and doc["imported"] == 2, doc)
        for extra in ([], ["--csv"]):
            doc = one_document(d.client("export", "--json", *extra))
            check(doc["ok"] and sorted(p["title"] for p in doc["promises"])
                  == ["a", "b"], doc)
        # failures before the daemon answers are documents too
        doc = one_document(d.client("--json", "frobnicate", expect=2))
        check(doc == {"ok": False, "error": {
            "code": "usage", "message": "unknown command 'frobnicate'"}},
            doc)
        doc = one_document(d.client("--json", "show", "x", expect=2))
        check(doc["error"]["code"] == "usage", doc)
        doc = one_document(d.client("--json", "import", "/nonexistent",
                                    expect=2))
        check("/nonexistent" in doc["error"]["message"], doc)
        doc = one_document(d.client("--json", "show", "999", expect=1))
        check(doc["error"]["code"] == "not_found", doc)
        r = subprocess.run([PROMISE, "--socket",
                            os.path.join(d.dir, "nothing.sock"), "--json",
                            "status"], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 3, r)
        check(one_document(r)["error"]["code"] == "unreachable", r.stdout)
    finally:
        d.stop()
        d.cleanup()


def test_csv_export_imports():
    d = Daemon("csv").start()
    try:
        d.client("add", 'Send "Acme", the invite', "--due", "in 2h",
                 "--for", "Acme, Inc", "--note", "two\nlines")
        d.client("add", "=SUM(A1)", "--due", "in 3h", "--nudge", "1h")
        exported = d.client("export", "--csv").stdout
        path = os.path.join(d.dir, "all.csv")
        with open(path, "w") as f:
            f.write(exported)
        r = d.client("import", path, "--dry-run")
        check("2 promises would be imported" in r.stdout, r.stdout)
        r = d.client("import", path)
        check("2 promises imported" in r.stdout, r.stdout)
        ps = d.json("list")["promises"]
        check(len(ps) == 4, ps)
        for title in ('Send "Acme", the invite', "=SUM(A1)"):
            two = [p for p in ps if p["title"] == title]
            check(len(two) == 2, (title, ps))
            check(two[0]["due_at"] == two[1]["due_at"]
                  and two[0]["for"] == two[1]["for"]
                  and two[0]["note"] == two[1]["note"], two)
        # a hand-written file: add's fields, a WHEN, and bad rows by line
        hand = os.path.join(d.dir, "hand.csv")
        with open(hand, "w") as f:
            f.write("title,due,for\r\nCall Omega,in 5h,Omega\r\n")
        r = d.client("import", hand)
        check("1 promises imported" in r.stdout, r.stdout)
        omega = [p for p in d.json("list")["promises"]
                 if p["title"] == "Call Omega"]
        check(omega and omega[0]["for"] == "Omega"
              and abs(omega[0]["due_at"] - time.time() - 5 * 3600) < 60,
              omega)
        with open(hand, "w") as f:
            f.write('title,due_at\nok,in 2h\n"multi\nline",in 1h,x\n'
                    'past,1000\n"open\n')
        r = d.client("import", hand, expect=1)
        for want in ("line 3: not as many fields", "line 5:",
                     "line 6: a quoted field is not closed",
                     "3 bad lines; nothing was imported"):
            check(want in r.stderr, r.stderr)
        with open(hand, "w") as f:
            f.write("title,due_at,colour\nx,in 1h,red\n")
        r = d.client("import", hand, expect=1)
        check("unknown column 'colour'" in r.stderr, r.stderr)
        check(len(d.json("list")["promises"]) == 5, "a bad file imported")
    finally:
        d.stop()
        d.cleanup()


def test_delivery_ids_shortest_unique_prefix():
    with HttpSink().start() as sink:
        d = Daemon("ids")
        d.write_conf(conf_extra=f"[person {ME}]\n"
                                f"webhook = {sink.url('/me')}\n")
        sink.control(status_always=400)
        d.start()
        try:
            # a burst: many deliveries made within the same millisecond
            # share the 12 leading (time) digits of their ids
            due = int(time.time()) + 2
            path = os.path.join(d.dir, "many.jsonl")
            with open(path, "w") as f:
                for i in range(40):
                    f.write(json.dumps({"title": f"p{i}", "due_at": due,
                                        "nudge": []}) + "\n")
            d.client("import", path)
            wait_for(lambda: len(d.json("deliveries", "--failed")
                                 ["deliveries"]) >= 40 and
                     d.json("status")["deliveries"]["pending"] == 0,
                     timeout=30, what="40 failed webhook deliveries")
            full = [x["delivery"] for x in
                    d.json("deliveries", "--limit", "0")["deliveries"]]
            out = d.client("deliveries", "--limit", "0").stdout
            shown = [line.split()[0] for line in out.splitlines()[1:]]
            check(len(shown) == len(full) >= 40, (shown, full))
            check(len(set(shown)) == len(full), f"ids shown twice: {out}")
            # (ids that share their 12 leading digits, as a burst makes
            # on a quick machine, were shown twice before; and on any
            # machine 12 digits were more than the shortest unique)
            for s, f in zip(shown, full):
                check(f.startswith(s) and len(s) >= 7, (s, f))
                # unique: no other id starts with it, and one digit less
                # is not enough (or is the 7 minimum)
                check([g for g in full if g.startswith(s)] == [f], s)
                check(len(s) == 7 or
                      len([g for g in full if g.startswith(s[:-1])]) > 1,
                      s)
            # the same short ids in show, and retry takes them
            pid = str(d.json("list")["promises"][0]["id"])
            mine = d.json("show", pid)["deliveries"][0]
            shown_there = d.client("show", pid).stdout
            check(mine["short"] in shown_there and
                  mine["delivery"] not in shown_there, shown_there)
            r = d.client("retry", mine["short"])
            check("queued to be sent again" in r.stdout, r.stdout)
            r = d.client("retry", mine["delivery"][:20].upper())
            check("queued" in r.stdout, r.stdout)
            common = os.path.commonprefix(full)
            check(len(common) >= 4, common)
            r = d.client("retry", common[:max(4, len(common))], expect=1)
            check("ambiguous" in r.stderr, r.stderr)
            r = d.client("retry", "0000000", expect=1)
            check("no delivery 0000000" in r.stderr, r.stderr)
            r = d.client("retry", "abc", expect=2)
            check("4 to 32 hex digits" in r.stderr, r.stderr)
        finally:
            d.stop()
            d.cleanup()


def hours_ahead(now):
    """boss's business hours: one hour a day, opening 1-2 h from now
    (UTC), so that now is always closed; and that next opening."""
    start = (time.gmtime(now).tm_hour + 2) % 24
    day = calendar.timegm(time.gmtime(now)[:3] + (0, 0, 0))
    opening = day + start * 3600
    if opening <= now:
        opening += 86400
    return f"Mon-Sun {start:02d}:00-{start + 1:02d}:00", opening


def test_escalations_wait_for_the_managers_hours():
    for policy_at_once in (False, True):
        with HttpSink().start() as sink:
            now = int(time.time())
            hours, opening = hours_ahead(now)
            d = Daemon("hours")
            policy = "escalate_after = 1s\nescalation_repeat = 1s\n"
            if policy_at_once:
                policy += "escalate_in_business_hours = false\n"
            d.write_conf(policy=policy, conf_extra=(
                f"[person {ME}]\nwebhook = {sink.url('/me')}\n"
                "manager = boss\n"
                f"[person boss]\nwebhook = {sink.url('/boss')}\n"
                f"timezone = UTC\nbusiness_hours = {hours}\n"))
            d.start()
            try:
                # explain says so ahead of time
                later = d.json("add", "quote", "--due", "+30m", "--nudge",
                               "none")["promise"]
                plan = d.json("explain", str(later["id"]))["schedule"]
                esc = [t for st in plan if st["kind"] == "escalation"
                       for t in st["to"] if t["to"] == "boss"]
                check(esc, plan)
                text = d.client("explain", str(later["id"])).stdout
                if policy_at_once:
                    check(all("held_until" not in t for t in esc), esc)
                    check("held for" not in text, text)
                else:
                    check(all(t["held_until"] == opening for t in esc), esc)
                    check("held for their business hours" in text, text)
                d.client("cancel", str(later["id"]), "--reason", "test")
                p = d.json("add", "call back", "--due", "+2s", "--nudge",
                           "none")["promise"]
                pid = str(p["id"])

                def boss_rows():
                    return [x for x in d.json("show", pid)["deliveries"]
                            if x["recipient"] == "boss"]
                wait_for(boss_rows, timeout=20, what="an escalation row")
                if policy_at_once:
                    wait_for(lambda: [r for r in sink.requests()
                                      if r["path"] == "/boss"], timeout=20,
                             what="the escalation sent at once")
                    continue
                # repeats every second while boss is away: still one
                # notice, held until the opening, and nothing sent
                wait_for(lambda: len([e for e in d.json("show", pid)
                                      ["events"]
                                      if e["kind"] == "escalation"]) >= 3,
                         timeout=20, what="three escalation repeats")
                rows = boss_rows()
                check(len(rows) == 1, rows)
                check(rows[0]["state"] == "pending"
                      and rows[0]["attempts"] == 0
                      and rows[0]["next_attempt_at"] == opening, rows)
                check(not [r for r in sink.requests()
                           if r["path"] == "/boss"], sink.requests())
                hist = d.client("show", pid).stdout
                check("boss by webhook (held for their business hours)"
                      in hist and "boss (held for their business hours)"
                      in hist, hist)
                # retry sends a held one now, as any pending one
                d.client("retry", rows[0]["short"])
                wait_for(lambda: [r for r in sink.requests()
                                  if r["path"] == "/boss"], timeout=20,
                         what="the held escalation, retried")
            finally:
                d.stop()
                d.cleanup()


def test_escalate_in_business_hours_is_true_or_false():
    d = Daemon("hourscfg")
    try:
        for value, ok in (("true", True), ("false", True), ("yes", False)):
            d.write_conf(policy=f"escalate_in_business_hours = {value}\n")
            r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                               capture_output=True, text=True, timeout=30)
            check((r.returncode == 0) == ok, (value, r))
            if not ok:
                check("escalate_in_business_hours: 'yes' is not true or "
                      "false" in r.stderr, r.stderr)
    finally:
        d.cleanup()


def test_ack_needs_an_escalation():
    d = Daemon("ack")
    d.write_conf(policy="escalate_after = 1h\n")
    d.start()
    try:
        pid = str(d.json("add", "quote", "--due", "+2s", "--nudge",
                         "none")["promise"]["id"])
        r = d.client("ack", pid, expect=1)
        check("has not been escalated" in r.stderr, r.stderr)
        # past its deadline, not yet escalated: still nothing to ack
        wait_for(lambda: d.json("show", pid)["promise"]["overdue"],
                 timeout=10, what="the deadline to pass")
        doc = json.loads(d.client("ack", pid, "--json", expect=1).stdout)
        check(doc["error"]["code"] == "conflict", doc)
        check("acked" not in [e["kind"] for e in
                              d.json("show", pid)["events"]], "recorded")
    finally:
        d.stop()
        d.cleanup()


def test_resolved_mail_says_whether_the_customer_was_told():
    with SmtpSink().start() as sink:
        d = Daemon("told")
        d.write_conf(policy="escalate_after = 1s\nescalation_repeat = 1h\n",
                     conf_extra=f"[smtp]\nurl = {sink.url}\n"
                                "from = promised@example.org\n"
                                "starttls = off\n"
                                f"[person {ME}]\nemail = me@example.com\n"
                                "manager = boss\n"
                                "[person boss]\nemail = boss@example.com\n")
        d.start()
        try:
            ids = [str(d.json("add", f"quote {i}", "--due", "+2s",
                              "--for", "Acme", "--nudge", "none")
                       ["promise"]["id"]) for i in range(2)]
            # a due notice and an escalation each
            sink.wait_for_messages(4, timeout=20)
            d.client("cancel", ids[0], "--reason", "no stock",
                     "--told-customer")
            d.client("cancel", ids[1], "--reason", "forgot")

            def resolved():
                return {m["message"]["Subject"].split("]")[0][9:]:
                        m["message"].get_content()
                        for m in sink.messages()
                        if "Resolved" in m["message"]["Subject"]}
            got = wait_for(lambda: len(resolved()) == 2 and resolved(),
                           timeout=20, what="two resolved mails")
            check("The customer was told it is cancelled." in got[ids[0]],
                  got[ids[0]])
            check("The customer was not told it is cancelled."
                  in got[ids[1]], got[ids[1]])
        finally:
            d.stop()
            d.cleanup()


def test_show_names_the_kind():
    d = Daemon("kind")
    d.write_conf(conf_extra="[kind reply]\ndue = 2h\n")
    d.start()
    try:
        pid = str(d.json("add", "answer Acme", "--kind", "reply")
                  ["promise"]["id"])
        shown = d.client("show", pid).stdout
        check(re.search(r"^kind:\s+reply$", shown, re.M), shown)
        pid = str(d.json("add", "no kind", "--due", "in 2h")
                  ["promise"]["id"])
        check("kind:" not in d.client("show", pid).stdout, "kind shown")
    finally:
        d.stop()
        d.cleanup()


def test_webhook_format_per_person_slack_in_their_zone():
    with HttpSink().start() as sink:
        d = Daemon("fmt")
        d.write_conf(policy="escalate_after = 1s\nescalation_repeat = 1h\n",
                     conf_extra=f"[person {ME}]\nwebhook = {sink.url('/me')}\n"
                                "manager = boss\n"
                                f"[person boss]\nwebhook = {sink.url('/boss')}"
                                "\nwebhook_format = slack\n"
                                "timezone = Asia/Tokyo\n")
        d.start()
        try:
            due = int(time.time()) + 2
            d.json("add", "call Acme", "--due", f"@{due}", "--nudge", "none")
            wait_for(lambda: [r for r in sink.requests()
                              if r["path"] == "/boss"], timeout=20,
                     what="the escalation to boss")
            mine = [r for r in sink.requests() if r["path"] == "/me"]
            check(json.loads(mine[0]["body"])["event"] == "promise.due",
                  mine)
            boss = [r for r in sink.requests() if r["path"] == "/boss"][0]
            text = json.loads(boss["body"])["text"]
            tokyo = time.strftime("%Y-%m-%d %H:%M", time.gmtime(due + 9 * 3600))
            check(f"Overdue since " in text and tokyo in text
                  and "JST" in text, (tokyo, text))
        finally:
            d.stop()
            d.cleanup()


def test_permission_denied_names_the_group():
    import grp
    import pwd
    group = grp.getgrnam("adm")
    nobody = pwd.getpwnam("nobody")
    d = Daemon("perm").start()
    try:
        def as_nobody():
            return subprocess.run(
                ["setpriv", f"--reuid={nobody.pw_uid}",
                 f"--regid={nobody.pw_gid}", "--clear-groups", PROMISE,
                 "--socket", d.sock, "status"],
                capture_output=True, text=True, timeout=30)
        os.chown(d.sock, 0, group.gr_gid)
        os.chmod(d.sock, 0o660)
        os.chmod(d.dir, 0o711)
        r = as_nobody()
        check(r.returncode == 3, r)
        want = (f"permission denied on {d.sock}: only members of group "
                "'adm' may connect")
        check(want in r.stderr and "service running" not in r.stderr,
              r.stderr)
        # a directory that keeps them out: its group is the one
        os.chown(d.dir, 0, group.gr_gid)
        os.chmod(d.dir, 0o710)
        r = as_nobody()
        check(r.returncode == 3 and want in r.stderr, r.stderr)
    finally:
        os.chmod(d.dir, 0o700)
        d.stop()
        d.cleanup()


def main():
    run([test_hints_count_seconds,
         test_json_is_one_document_for_every_command,
         test_csv_export_imports,
         test_delivery_ids_shortest_unique_prefix,
         test_escalations_wait_for_the_managers_hours,
         test_escalate_in_business_hours_is_true_or_false,
         test_ack_needs_an_escalation,
         test_resolved_mail_says_whether_the_customer_was_told,
         test_show_names_the_kind,
         test_webhook_format_per_person_slack_in_their_zone,
         test_permission_denied_names_the_group])


if __name__ == "__main__":
    main()
