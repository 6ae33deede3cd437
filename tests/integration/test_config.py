# SPDX-License-Identifier: MIT
"""Configuration checking and SIGHUP reloads."""

import os
import signal
import subprocess
import tempfile
import time

from harness import PROMISED, Daemon, check, run, wait_for

SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def check_config(text):
    with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                     delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([PROMISED, "--check-config", "-c", f.name],
                           capture_output=True, text=True, timeout=10)
    finally:
        os.unlink(f.name)
    return r, f.name


def check_config_in(cwd, text):
    """check_config with the daemon started in cwd, for relative paths."""
    path = os.path.join(cwd, "promised.conf")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([PROMISED, "--check-config", "-c", path],
                          capture_output=True, text=True, timeout=10,
                          cwd=cwd)


def check_refused(r, path, line, words, text):
    check(r.returncode == 78, f"exit {r.returncode} for {text!r}: "
                              f"{r.stdout}{r.stderr}")
    msg = r.stderr.strip()
    check(f"{path}:{line}:" in msg, f"no {path}:{line}: in {msg!r}")
    for word in words:
        check(word in msg, f"{word!r} not named in {msg!r}")
    check(len(msg.splitlines()) == 1, f"not one line: {msg!r}")


KINDS = """
[kind reply]
due = 1 business day
nudge_before = 2h

[kind callback]
due = 4 business hours
nudge_before = 30m
escalate_after = 1h
escalation_repeat = 4h

[kind meeting-invite]
due = eod
nudge_before = 1h

[kind quote]
due = 2 business days
nudge_before = 4h

[kind follow-up-after-sale]
due = in 14d
nudge_before = 1d

[kind weekly]
due = eow
nudge_before = none

[kind k2]
due = tomorrow 10:00

[kind plain]
due = 3d
"""


def test_calendar_kinds_and_digest_start():
    d = Daemon("calendar")
    try:
        hol = os.path.join(d.dir, "holidays.txt")
        with open(hol, "w") as f:
            f.write("# company holidays\n2026-12-24\n\n2026-12-31  # eve\n")
        # [person] before [calendar]: order does not matter
        extra = ("\n[person dan]\ntimezone = Europe/Berlin\n"
                 "business_hours = Mon-Thu 08:00-16:00\n"
                 "\n[person amy]\ntimezone = America/New_York\n"
                 "\n[calendar]\ntimezone = America/Chicago\n"
                 "business_hours = Mon-Thu 09:00-17:30, Fri 09:00-15:00\n"
                 "holidays = 2026-12-25, 2026-12-26\n"
                 "  2027-01-01\n"
                 f"holidays_file = {hol}\n"
                 "\n[digest]\nschedule = Mon 08:00\n" + KINDS)
        d.write_conf(conf_extra=extra)
        r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"{r.stdout}{r.stderr}")
        d.start()
        check(d.json("status")["ok"], "status not ok")
        # a reload re-reads the holidays file and keeps working
        d.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log_text(),
                 what="the reload")
        d.stop()
    finally:
        d.cleanup()
    for schedule in ("friday 17:30", "SUN 0:00", "none"):
        r, _ = check_config(f"[digest]\nschedule = {schedule}\n")
        check(r.returncode == 0, f"{schedule!r}: {r.stderr}")
    with tempfile.TemporaryDirectory() as tmp:
        # relative to the daemon's working directory, like other paths
        with open(os.path.join(tmp, "hol.txt"), "w") as f:
            f.write("2026-12-25\n")
        r = check_config_in(tmp, "[calendar]\nholidays_file = hol.txt\n")
        check(r.returncode == 0, r.stderr)


def test_bad_calendar_kind_digest_values():
    cases = [
        ("[calendar]\nbusiness_hours = Mon-Fri 9-5\n", 2,
         ["business_hours", "bad time"]),
        ("[calendar]\nbusiness_hours = Mon-Fry 09:00-17:00\n", 2,
         ["business_hours", "day name"]),
        ("[person dan]\nemail = dan@example.com\n"
         "business_hours = Mon 17:00-09:00\n", 3,
         ["[person dan] business_hours"]),
        ("[calendar]\nholidays = 2026-12-25, 2026-02-30\n", 2,
         ["holidays", "2026-02-30"]),
        ("[calendar]\nholidays = 25.12.2026\n", 2, ["holidays"]),
        ("[calendar]\n\nholidays_file = /nonexistent/holidays.txt\n", 3,
         ["holidays_file", "/nonexistent/holidays.txt",
          "No such file"]),
        ("[calendar]\nholidays_file = /\n", 2,
         ["holidays_file", "directory"]),
        ("[calendar]\ntimezone = Mars/Olympus_Mons\n", 2,
         ["timezone", "Mars/Olympus_Mons"]),
        ("[kind reply]\ndue = soonish\n", 2, ["[kind reply] due",
                                              "soonish"]),
        ("[kind reply]\ndue = 2 business weeks\n", 2, ["due", "unit"]),
        # valid words, but the final calendar has no business hours
        ("[kind reply]\ndue = eod\n[calendar]\nbusiness_hours = closed\n",
         2, ["[kind reply] due", "no business hours"]),
        ("[kind reply]\nnudge_before = 1h\n", 2, ["[kind reply]", "due"]),
        ("[kind Reply]\ndue = eod\n", 2, ["Reply", "kind name"]),
        ("[kind re_ply]\ndue = eod\n", 2, ["re_ply"]),
        (f"[kind {'a' * 33}]\ndue = eod\n", 2, ["kind name"]),
        ("[kind]\ndue = eod\n", 2, ["kind name"]),
        ("[kind reply]\ndue = eod\nnudge_before = soon\n", 3,
         ["nudge_before"]),
        ("[kind reply]\ndue = eod\nescalation_repeat = 0\n", 3,
         ["escalation_repeat"]),
        ("[digest]\nschedule = Mon 25:00\n", 2, ["schedule", "Mon 25:00"]),
        ("[digest]\nschedule = someday 08:00\n", 2, ["schedule"]),
        ("[digest]\nschedule = Mon\n", 2, ["schedule"]),
        ("[calendar]\nbusiness_days = Mon-Fri\n", 2,
         ["unknown key", "business_days"]),
        ("[kind reply]\ndue = eod\nsla = 1h\n", 3, ["unknown key", "sla"]),
        ("[digest]\nat = Mon 08:00\n", 2, ["unknown key", "at"]),
        # inih cuts lines at 198 bytes; a long list must not half-load
        ("[calendar]\nholidays = " + ", ".join(
            f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in (1, 2))
         + "\n", 2, ["longer than"]),
    ]
    for text, line, words in cases:
        r, path = check_config(text)
        check_refused(r, path, line, words, text)
    with tempfile.TemporaryDirectory() as tmp:
        hol = os.path.join(tmp, "hol.txt")
        with open(hol, "w") as f:
            f.write("2026-12-25\n2026-13-01\n")
        text = f"[daemon]\n\n[calendar]\nholidays_file = {hol}\n"
        r = check_config_in(tmp, text)
        check_refused(r, os.path.join(tmp, "promised.conf"), 4,
                      ["holidays_file", f"{hol}:2:"], text)


def test_shipped_configs_are_valid():
    for name in ("promised.conf", "dev.conf"):
        path = os.path.join(SRC, "conf", name)
        r = subprocess.run([PROMISED, "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"{name}: {r.stdout}{r.stderr}")
        check("configuration OK" in r.stdout, r.stdout)


def test_bad_configs_name_file_and_line():
    cases = [
        ("[daemon]\nsocket = /tmp/x.sock\nbogus = 1\n", 3, "bogus"),
        ("[daemon]\nlog_level = loud\n", 2, "log_level"),
        ("[policy]\n\nnudge_before = 24h,soon\n", 3, "nudge_before"),
        ("[policy]\nescalate_after = -5m\n", 2, "escalate_after"),
        ("[nonsense]\nx = 1\n", 2, "nonsense"),
        ("[daemon]\nthis line has no equals sign\n", 2, "syntax"),
    ]
    for text, line, word in cases:
        r, path = check_config(text)
        check(r.returncode == 78, f"exit {r.returncode} for {text!r}")
        msg = r.stderr.strip()
        check(f"{path}:{line}:" in msg, f"no file:line in {msg!r}")
        check(word in msg, f"{word!r} not named in {msg!r}")
        check(len(msg.splitlines()) == 1, f"not one line: {msg!r}")


def test_repeats_orders_and_limits():
    cases = [
        ("[policy]\nnudge_before = 1h\nnudge_before = 2h\n", 3,
         ["[policy] nudge_before", "twice"]),
        ("[person dan]\nemail = a@example.com\n[person bin]\n"
         "email = b@example.com\n[person dan]\nemail = c@example.com\n", 6,
         ["[person dan] email", "twice"]),
        ("[daemon]\nlog_level = info\n[policy]\n[daemon]\n"
         "log_level = debug\n", 5, ["log_level", "twice"]),
        ("[delivery]\nretry_initial = 2h\nretry_max = 1h\n", 3,
         ["retry_max", "retry_initial"]),
        ("[delivery]\nretry_max = 10s\n", 2, ["retry_max", "retry_initial"]),
        ("[kind decade]\ndue = 4000d\n", 2,
         ["[kind decade] due", "10 years"]),
        ("[daemon]\ndatabase = /tmp/same\nsocket = /tmp/same\n", 3,
         ["socket", "database"]),
        ("".join(f"[person p{i}]\ntimezone = UTC\n" for i in range(10001)),
         20002, ["more than 10000 people"]),
    ]
    for text, line, words in cases:
        r, path = check_config(text)
        check_refused(r, path, line, words, text[:200])
    good = [
        "[calendar]\nholidays = 2026-12-25\nholidays = 2026-12-26\n",
        "[person dan]\nemail = a@example.com\n[person dan]\n"
        "manager = bin\n[person bin]\ntimezone = UTC\n",
        "[delivery]\nretry_initial = 1m\nretry_max = 1m\n",
        "[kind year]\ndue = 365d\n",
        "".join(f"[person p{i}]\ntimezone = UTC\n" for i in range(8193)),
        "".join(f"[person p{i}]\ntimezone = UTC\n" for i in range(10000)),
    ]
    for text in good:
        r, _ = check_config(text)
        check(r.returncode == 0, f"{text[:80]!r}: {r.stderr}")


def test_missing_config_file():
    r = subprocess.run([PROMISED, "--check-config", "-c",
                        "/nonexistent/promised.conf"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 78, r)
    check("/nonexistent/promised.conf" in r.stderr, r.stderr)


def test_version_and_help():
    r = subprocess.run([PROMISED, "--version"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0 and r.stdout.startswith("promised "), r)
    r = subprocess.run([PROMISED, "--help"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0 and "--check-config" in r.stdout, r)
    r = subprocess.run([PROMISED, "--bogus"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2, r)


def test_sighup_reloads_and_keeps_old_on_error():
    d = Daemon("reload", policy="nudge_before = 2h\n").start()
    try:
        due = int(time.time()) + 86400
        p = d.json("add", "before reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [7200], p)
        # a broken config is refused and the old one stays in force
        with open(d.conf, "a") as f:
            f.write("\n[policy]\nnudge_before = whenever\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration"
                 in d.log_text(), what="the reload refusal")
        p = d.json("add", "after bad reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [7200], f"old policy lost: {p}")
        # a good one takes effect
        d.write_conf(policy="nudge_before = 3h,30m\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log_text(),
                 what="the reload")
        p = d.json("add", "after good reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [10800, 1800], f"new policy not used: {p}")
    finally:
        d.stop()
        d.cleanup()


def test_second_daemon_on_same_socket_refused():
    d = Daemon("twice").start()
    try:
        r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode != 0, "a second daemon started")
        check("already listening" in r.stderr, r.stderr)
        check(d.json("status")["ok"], "the first daemon was disturbed")
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_shipped_configs_are_valid,
         test_bad_configs_name_file_and_line,
         test_calendar_kinds_and_digest_start,
         test_bad_calendar_kind_digest_values,
         test_repeats_orders_and_limits,
         test_missing_config_file,
         test_version_and_help,
         test_sighup_reloads_and_keeps_old_on_error,
         test_second_daemon_on_same_socket_refused])
