# SPDX-License-Identifier: MIT
"""What the daemon's log tells an operator at the default level, and how
it exits when it cannot start.

Ops answer "did Dan get nudged?" from `journalctl -u promised`: an add, a
settlement, a notice queued and a delivery sent each make one line at info,
naming the promise, the delivery, the recipient and the channel; a delivery
given up is an error.  A schema upgrade is logged, and a database newer
than the binary is a configuration error (exit 78), which systemd's
Restart=on-failure does not retry.
"""

import getpass
import os
import re
import sqlite3
import subprocess
import time

from harness import PROMISED, Daemon, check, run, wait_for
from smtpsink import SmtpSink

ME = getpass.getuser()
HERE = os.path.dirname(os.path.abspath(__file__))
STORE_C = os.path.join(HERE, "..", "..", "daemon", "store.c")


def lines(d, pattern):
    """The daemon's log lines matching pattern (a regex)."""
    return [x for x in d.log_text().splitlines() if re.search(pattern, x)]


def test_default_level_tells_each_step():
    d = Daemon("journal", policy="escalate_after = 1h\n", log_level=None)
    d.start()
    try:
        due = int(time.time()) + 2
        p = d.json("add", "Send Acme the quote", "--due", f"@{due}",
                   "--nudge", "none")["promise"]
        pid = p["id"]
        x = wait_for(lambda: [y for y in d.deliveries()
                              if y["event"] == "promise.due"],
                     timeout=15, what="the due notice")[0]
        uid = x["delivery"]
        wait_for(lambda: lines(d, rf"delivery {uid}: .* sent to"),
                 what="the sent line")
        d.client("done", str(pid))
        wait_for(lambda: lines(d, rf"promise {pid}: kept by '{ME}'"),
                 what="the kept line")
        added = lines(d, rf"\[info\]: promise {pid}: added by '{ME}' for "
                         rf"'{ME}', due ")
        check(len(added) == 1, d.log_text())
        queued = lines(d, rf"\[info\]: delivery {uid}: promise\.due for "
                          rf"promise {pid} queued for '{ME}' via log$")
        check(len(queued) == 1, d.log_text())
        sent = lines(d, rf"\[info\]: delivery {uid}: promise\.due for "
                        rf"promise {pid} sent to '{ME}' via log$")
        check(len(sent) == 1, d.log_text())
        check(not lines(d, r"\[debug\]"), "debug lines at the default "
                                          "level:\n" + d.log_text())
    finally:
        d.stop()
        d.cleanup()


def test_delivery_given_up_is_an_error():
    with SmtpSink().start() as sink:
        d = Daemon("journal-err", log_level=None)
        d.write_conf(conf_extra=f"[smtp]\nurl = {sink.url}\n"
                                f"from = promised@example.org\n"
                                f"starttls = off\n"
                                f"[person {ME}]\nemail = me@example.com\n",
                     policy="escalate_after = 1h\n")
        d.start()
        try:
            sink.respond(550, "5.1.1 no such user", stage="rcpt")
            p = d.json("add", "Unreachable", "--due", "+2s", "--nudge",
                       "none")["promise"]
            pat = (rf"\[error\]: delivery [0-9a-f]{{32}}: promise\.due for "
                   rf"promise {p['id']} to '{ME}' failed for good")
            wait_for(lambda: lines(d, pat), timeout=15,
                     what="the failure at error level")
        finally:
            d.stop()
            d.cleanup()


def migrations():
    """The SQL of each schema step, read from store.c's migrations[]: a
    list of C string literals, one entry per step."""
    with open(STORE_C) as f:
        src = f.read()
    body = src[src.index("migrations[] = {"):]
    body = body[body.index("{") + 1:body.index("\n};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out, cur = [], ""
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(,)', body):
        if m.group(2):
            out.append(cur)
            cur = ""
        else:
            cur += m.group(1).encode().decode("unicode_escape")
    if cur.strip():
        out.append(cur)
    return out


def test_upgrade_is_logged():
    steps = migrations()
    check(len(steps) >= 3, f"read {len(steps)} migrations from store.c")
    d = Daemon("journal-upgrade", log_level=None)
    try:
        db = sqlite3.connect(d.db)
        for sql in steps[:2]:
            db.executescript(sql)
        db.execute("PRAGMA user_version = 2")
        db.commit()
        db.close()
        d.start()
        want = rf"\[info\]: database schema v2 -> v{len(steps)}$"
        check(len(lines(d, want)) == 1, d.log_text())
        d.stop()
        # a second start finds it current and says nothing about it
        d.start()
        check(len(lines(d, r"database schema v")) == 1, d.log_text())
    finally:
        d.stop()
        d.cleanup()


def test_new_database_is_logged():
    d = Daemon("journal-new", log_level=None)
    try:
        d.start()
        check(lines(d, r"\[info\]: database created, schema v\d+$"),
              d.log_text())
    finally:
        d.stop()
        d.cleanup()


def test_newer_database_is_a_config_error():
    d = Daemon("journal-newer", log_level=None)
    try:
        d.start()
        d.stop()
        db = sqlite3.connect(d.db)
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 78, f"exit {r.returncode}, wanted 78 "
                                  f"(EX_CONFIG):\n{r.stderr}")
        check(re.search(r"\[error\]: database .*schema version 999 is "
                        r"newer", r.stderr), r.stderr)
    finally:
        d.cleanup()


def test_bad_configuration_at_start_is_an_error():
    d = Daemon("journal-badconf", log_level=None)
    try:
        with open(d.conf, "a") as f:
            f.write("\n[policy]\nescalate_after = whenever\n")
        env = dict(os.environ, JOURNAL_STREAM="8:12345")
        r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=30, env=env)
        check(r.returncode == 78, f"exit {r.returncode}: {r.stderr}")
        msg = r.stderr.strip()
        check(msg.startswith(f"<3>{d.conf}:") and "escalate_after" in msg
              and len(msg.splitlines()) == 1, msg)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_default_level_tells_each_step,
         test_delivery_given_up_is_an_error,
         test_upgrade_is_logged,
         test_new_database_is_logged,
         test_newer_database_is_a_config_error,
         test_bad_configuration_at_start_is_an_error])
