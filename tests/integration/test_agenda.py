#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The morning agenda: with 'agenda = 08:30' in [person NAME], one email at
08:30 of each of their business days, in their zone, listing their open
promises due that day and overdue, each with the commands that act on it,
its signed reply address ([mail] reply_domain) and its one-click links
([http] base_url).
Nothing on a day with nothing due, nothing on a weekend, and once a day
however often the daemon restarts.  The daemon's wall clock is moved with
libfaketime (as in test_clock.py) to a few seconds before 08:30 in Berlin
on a Friday three weeks ahead; mail goes to the SMTP sink."""

import datetime
import email.utils
import getpass
import os
import re
import subprocess
import time
import zoneinfo

from harness import PROMISED, Daemon, check, run, wait_for
from smtpsink import SmtpSink
from test_clock import Clock

ME = getpass.getuser()
PASSWORD = "agenda-pw"
TZ = zoneinfo.ZoneInfo("Europe/Berlin")
BASE = "https://promised.example.org"


def at(day, hh, mm):
    return int(datetime.datetime(day.year, day.month, day.day, hh, mm,
                                 tzinfo=TZ).timestamp())


def make_daemon(sink):
    d = Daemon("agenda")
    pw = os.path.join(d.dir, "smtp.password")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    key = os.path.join(d.dir, "secret.key")
    with open(key, "w") as f:
        f.write("agenda-key-0123456789\n")
    d.write_conf(conf_extra=f"[http]\nbase_url = {BASE}/\n"
                            f"link_secret_file = {key}\n"
                            "[mail]\nreply_domain = reply.example.com\n"
                            f"secret_file = {key}\n"
                            f"[smtp]\nurl = {sink.url}\n"
                            "from = promised@example.org\nstarttls = off\n"
                            f"username = promised\npassword_file = {pw}\n"
                            f"[person {ME}]\nemail = me@example.com\n"
                            "timezone = Europe/Berlin\nagenda = 08:30\n"
                            "[person bob]\nemail = bob@example.com\n"
                            "timezone = Europe/Berlin\nagenda = 08:30\n",
                 policy="escalate_after = 30d\n")
    return d


def agendas(sink):
    return [m for m in sink.messages()
            if m["message"]["Subject"].startswith("Today:")]


def add(d, title, due):
    return d.json("add", title, "--due", f"@{due}", "--nudge",
                  "none")["promise"]["id"]


def test_agenda():
    day = datetime.date.today() + datetime.timedelta(days=21)
    day += datetime.timedelta(days=(4 - day.weekday()) % 7)  # a Friday
    slot = at(day, 8, 30)
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = make_daemon(sink)
        clock = Clock(d)
        # room for the start and three adds before 08:30, on a slow machine
        clock.set(int(slot - 20 - time.time()))
        try:
            d.start(env=clock.env())
            # overdue by 08:30 (due 3 s after the add), due today, and
            # due on Monday
            late = add(d, "Call Acme back", int(clock.now()) + 3)
            today = add(d, "Send Zeta the quote", at(day, 17, 0))
            monday = add(d, "Review the Nopio contract",
                         at(day + datetime.timedelta(days=3), 10, 0))
            check(clock.now() < slot, "the adds ran past 08:30")
            got = wait_for(lambda: agendas(sink), timeout=40,
                           interval=0.1, what="the agenda at 08:30")
            check(len(got) == 1 and got[0]["rcpt_tos"] ==
                  ["me@example.com"], [m["rcpt_tos"] for m in got])
            msg = got[0]["message"]
            sent = email.utils.parsedate_to_datetime(msg["Date"])
            check(sent.timestamp() >= slot, f"early: {msg['Date']}")
            check(msg["Subject"] == "Today: 2 promises due, 1 overdue",
                  msg["Subject"])
            body = msg.get_content()
            check("Call Acme back" in body and "Send Zeta the quote" in body,
                  body)
            check("Nopio" not in body, "Monday's promise is not today's")
            check(body.index("Call Acme back") <
                  body.index("Send Zeta the quote"), "earliest first")
            for pid in (late, today):
                check(f"promise done {pid}" in body, body)
                check(f"promise snooze {pid} --due WHEN" in body, body)
                # its own signed reply address, and its links
                check(f"or reply to promise+{pid}." in body, body)
            item = body[body.index("Send Zeta"):]
            for what in ("kept", "snooze", "open"):
                check(re.search(rf"\n +{what} +{re.escape(BASE)}/l/\S+\r?\n",
                                item), f"{what} link: {item!r}")

            # bob has nothing due: no agenda for him.  A restart the same
            # morning, before 08:30 again, sends no second one
            d.stop()
            clock.set(int(slot - 6 - time.time()))
            d.start(env=clock.env())
            time.sleep(max(0.0, slot + 4 - clock.now()))
            check(d.json("status")["ok"], "status")
            check(len(agendas(sink)) == 1,
                  f"{len(agendas(sink))} agendas after a restart")

            # Saturday, a weekend: none; Monday: the overdue two and
            # Monday's own
            clock.step(int(at(day + datetime.timedelta(days=1), 8, 30) - 3
                           - clock.now()))
            time.sleep(5)
            check(len(agendas(sink)) == 1, "an agenda on a Saturday")
            clock.step(int(at(day + datetime.timedelta(days=3), 8, 30) - 3
                           - clock.now()))
            got = wait_for(lambda: len(agendas(sink)) >= 2 and agendas(sink),
                           timeout=30, interval=0.1,
                           what="Monday's agenda")
            msg = got[1]["message"]
            check(msg["Subject"] == "Today: 3 promises due, 2 overdue",
                  msg["Subject"])
            check("Nopio" in msg.get_content(), msg.get_content())
            check(all(m["rcpt_tos"] == ["me@example.com"] for m in got),
                  "bob, with nothing due, got none")
            check(msg["Message-ID"] != got[0]["message"]["Message-ID"],
                  "one conversation a day")
        finally:
            d.stop()
            d.cleanup()


def test_bad_agenda_time():
    d = Daemon("agenda-bad", conf_extra=f"[person {ME}]\nagenda = 8.30\n")
    try:
        r = subprocess.run([PROMISED, "-c", d.conf, "--check-config"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 78, r)
        check(f"[person {ME}] agenda: '8.30' is not a time of day like "
              "08:30" in r.stderr, r.stderr)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_agenda, test_bad_agenda_time])
