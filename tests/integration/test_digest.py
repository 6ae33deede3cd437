# SPDX-License-Identifier: MIT
"""The weekly digest per manager, through the real daemon, the real client
and a real SMTP server (aiosmtpd) on 127.0.0.1.

The figures are checked against a fixture worked out by hand.  The digest
that goes out at its schedule time is in test_clock.py, which runs the
daemon on a fake clock; here the digests are the ones owed when the daemon
starts or reloads, which go out at once, once per manager and week.
"""

import datetime
import os
import signal
import time
import zoneinfo

from harness import Daemon, check, run, wait_for
from smtpsink import SmtpSink

ZONE = "Europe/Berlin"
SCHEDULE = (0, 8, 0)  # Mon 08:00, as Python's weekday(): 0 is Monday

# carl is below ann, who is below boss: boss's team is ann, carl and bob;
# dan is zed's alone
PEOPLE = f"""
[calendar]
timezone = {ZONE}

[person ann]
manager = boss

[person carl]
manager = ann

[person bob]
manager = boss

[person dan]
manager = zed

[person boss]
email = boss@example.com

[person zed]
email = zed@example.com
"""


# escalations a day late: the only mail in these tests is the digests
POLICY = "escalate_after = 1d\n"


def conf(sink, schedule=True, bob_manages_erin=False):
    people = PEOPLE
    if bob_manages_erin:
        people = people.replace("[person bob]\n", "[person bob]\n"
                                "email = bob@example.com\n")
        people += "\n[person erin]\nmanager = bob\n"
    return (f"retry_initial = 1s\n[smtp]\nurl = {sink.url}\n"
            f"from = promised@example.org\nstarttls = off\ntimeout = 10s\n"
            + ("[digest]\nschedule = Mon 08:00\n" if schedule else "")
            + people)


def week_of_last_slot(now):
    """The ISO week of the latest Mon 08:00 in ZONE at or before now."""
    tz = zoneinfo.ZoneInfo(ZONE)
    local = datetime.datetime.fromtimestamp(now, tz)
    day = local.date() - datetime.timedelta(
        days=(local.weekday() - SCHEDULE[0]) % 7)
    slot = datetime.datetime(day.year, day.month, day.day, SCHEDULE[1],
                             SCHEDULE[2], tzinfo=tz)
    if slot.timestamp() > now:
        day -= datetime.timedelta(days=7)
    y, w, _ = day.isocalendar()
    return f"{y:04d}-W{w:02d}"


def digest(d, team):
    r = d.call({"v": 1, "op": "digest", "team": team})
    check(r["ok"], r)
    return r


def fixture(d):
    """Promises whose figures are known: returns their ids by name."""
    ids, dues = {}, []

    def add(name, owner, due):
        p = d.json("add", name, "--owner", owner, "--due", due, "--for",
                   f"{name} customer")["promise"]
        ids[name] = p["id"]
        dues.append(p["due_at"])

    # time enough to keep one on time under valgrind too
    add("a-late", "ann", "+5s")
    add("a-ontime", "ann", "+5s")
    add("a-open", "ann", "+5s")
    add("c-cancel", "carl", "+5s")
    add("c-soon", "carl", "in 2d")
    add("b-soon", "bob", "in 1h")
    add("b-later", "bob", "in 9d")
    add("d-over", "dan", "+5s")
    d.client("done", str(ids["a-ontime"]))
    d.client("cancel", str(ids["c-cancel"]), "--reason", "not a fit")
    # every "+5s" deadline passed, so that each is overdue or came due
    time.sleep(max(0, max(t for t in dues if t < time.time() + 60) + 1.2 -
                   time.time()))
    d.client("done", str(ids["a-late"]))
    kept = [e for e in d.json("show", str(ids["a-ontime"]))["events"]
            if e["kind"] == "kept"][0]
    check(not kept["detail"].get("late_by"), f"kept late: {kept}")
    return ids


def check_figures(d, ids):
    r = digest(d, "boss")
    g = r["digest"]
    check(g["manager"] == "boss" and g["team"] == ["ann", "carl", "bob"], g)
    check(abs(g["at"] - time.time()) < 5, g["at"])
    check(r["next"] is None, "no schedule, no next digest")
    check(g["overdue"]["count"] == 1 and
          [p["id"] for p in g["overdue"]["promises"]] == [ids["a-open"]], g)
    over = g["overdue"]["promises"][0]
    check(over["title"] == "a-open" and over["owner"] == "ann" and
          over["for"] == "a-open customer", over)
    soon = g["due_this_week"]
    check(soon["count"] == 2 and [p["id"] for p in soon["promises"]] ==
          [ids["b-soon"], ids["c-soon"]], soon)
    check(soon["until"] == g["at"] + 7 * 86400, soon)
    last = g["last_week"]
    want = {"due": 3, "kept_on_time": 1, "kept_late": 1, "open": 1,
            "from": g["at"] - 7 * 86400, "to": g["at"]}
    for k, v in want.items():
        check(last[k] == v, f"boss last_week {k}: {last[k]} != {v}")
    check(abs(last["on_time_rate"] - 1 / 3) < 1e-9, last)
    check([o["owner"] for o in last["owners"]] == ["ann"], last)
    ann = last["owners"][0]
    check((ann["due"], ann["kept_on_time"], ann["kept_late"], ann["open"]) ==
          (3, 1, 1, 1), ann)

    # ann manages carl alone: the cancelled promise counts nowhere
    g = digest(d, "ann")["digest"]
    check(g["team"] == ["carl"] and g["overdue"]["count"] == 0, g)
    check([p["id"] for p in g["due_this_week"]["promises"]] ==
          [ids["c-soon"]], g)
    check(g["last_week"]["due"] == 0 and
          g["last_week"]["on_time_rate"] is None, g)

    text = d.client("digest", "--team", "boss").stdout
    for want in ("Digest for boss's team", "Team: ann, carl, bob",
                 "Overdue: 1", "Due this week: 2", "a-open (for a-open "
                 "customer)", "Last week: 3 due: 1 kept on time, 1 kept "
                 "late, 1 still open; 33% on time"):
        check(want in text, f"{want!r} not in:\n{text}")

    g = digest(d, "zed")["digest"]
    check(g["team"] == ["dan"] and
          [p["id"] for p in g["overdue"]["promises"]] == [ids["d-over"]], g)
    check(g["last_week"]["due"] == 1 and g["last_week"]["open"] == 1 and
          g["last_week"]["on_time_rate"] == 0, g)


def digest_rows(d):
    rows = d.sql("SELECT promise_id, recipient, channel FROM "
                 "deliveries WHERE kind = 'promise.digest' ORDER BY id")
    sent = d.sql("SELECT week, manager FROM digests ORDER BY manager")
    return rows, sent


def by_to(msgs):
    return {m["rcpt_tos"][0]: m for m in msgs}


def test_digests_owed_at_start_once_per_week():
    with SmtpSink().start() as sink:
        d = Daemon("digest", conf_extra=conf(sink, schedule=False),
                   policy=POLICY).start()
        try:
            ids = fixture(d)
            check_figures(d, ids)
            check(sink.messages() == [], "no schedule: no digest")

            # with a schedule, the week's digest is owed at once
            d.stop()
            d.write_conf(conf_extra=conf(sink), policy=POLICY)
            d.start()
            week = week_of_last_slot(time.time())
            msgs = by_to(sink.wait_for_messages(2, timeout=20))
            check(sorted(msgs) == ["boss@example.com", "zed@example.com"],
                  sorted(msgs))
            boss = msgs["boss@example.com"]["message"]
            check(boss["Subject"] == f"[digest {week}] 1 overdue, 2 due "
                                     f"this week, 33% on time last week",
                  boss["Subject"])
            # one conversation per manager and week: the digest is its
            # own thread's root
            check(boss["Message-ID"] == f"<digest.{week}.boss@example.org>",
                  boss["Message-ID"])
            check(boss["In-Reply-To"] is None, boss["In-Reply-To"])
            body = boss.get_content()
            for want in ("Team: ann, carl, bob", "Overdue now: 1",
                         "a-open (for a-open customer)",
                         "Due in the coming week: 2",
                         "Last week: 3 due: 1 kept on time, 1 kept late, "
                         "1 still open; 33% on time",
                         "  ann: 3 due: 1 kept on time, 1 kept late, 1 "
                         "still open; 33% on time",
                         "promise report --team boss"):
                check(want in body, f"{want!r} not in:\n{body}")
            check(body.index("b-soon") < body.index("c-soon"), body)
            check("b-later" not in body and "d-over" not in body, body)
            zed = msgs["zed@example.com"]["message"]
            check(zed["Subject"] == f"[digest {week}] 1 overdue, 0 due "
                                    f"this week, 0% on time last week",
                  zed["Subject"])
            check(zed["Message-ID"] != boss["Message-ID"], "one thread each")

            # ann has no address: her digest is in the delivery log
            logged = wait_for(lambda: [x for x in d.deliveries()
                                       if x["event"] == "promise.digest"],
                              what="ann's digest in the log")
            check(len(logged) == 1 and
                  logged[0]["recipient"]["login"] == "ann", logged)
            check(logged[0]["digest"]["week"] == week and
                  logged[0]["digest"]["team"] == ["carl"], logged[0])
            rows, sent = digest_rows(d)
            check(sorted(rows) == [(None, "ann", "log"),
                                   (None, "boss", "email"),
                                   (None, "zed", "email")], rows)
            check(sent == [(week, "ann"), (week, "boss"), (week, "zed")],
                  sent)
            listed = d.json("deliveries")["deliveries"]
            mine = [x for x in listed if x["event"] == "promise.digest"]
            check(len(mine) == 3 and all(x["promise_id"] is None
                                         for x in mine), mine)
            text = d.client("deliveries").stdout
            check(any(" - " in ln and "digest" in ln
                      for ln in text.splitlines()), text)

            # a restart owes nothing more this week
            d.stop()
            d.start()
            check(digest_rows(d)[0] == rows, "a restart sent a digest again")

            # a new manager on reload gets this week's digest, and only
            # they do
            d.write_conf(conf_extra=conf(sink, bob_manages_erin=True),
                         policy=POLICY)
            d.signal(signal.SIGHUP)
            msgs = sink.wait_for_messages(3, timeout=20)
            bob = msgs[2]
            check(bob["rcpt_tos"] == ["bob@example.com"], bob["rcpt_tos"])
            check(bob["message"]["Subject"].startswith(f"[digest {week}] "
                                                       f"0 overdue"),
                  bob["message"]["Subject"])
            wait_for(lambda: len(digest_rows(d)[1]) == 4,
                     what="bob's digest recorded")
            time.sleep(0.5)
            check(len(sink.messages()) == 3, "reload resent old digests")
        finally:
            d.stop()
            d.cleanup()


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    run([test_digests_owed_at_start_once_per_week])
