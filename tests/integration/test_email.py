# SPDX-License-Identifier: MIT
"""Email over SMTP to a real SMTP server (aiosmtpd) on 127.0.0.1."""

import datetime
import email.utils
import getpass
import json
import os
import time
import zoneinfo

from harness import Conn, Daemon, check, run, wait_for
from smtpsink import SmtpSink

ME = getpass.getuser()
PASSWORD = "s3cret-Pa55"


def daemon_with(sink, name, policy="", extra=""):
    d = Daemon(name)
    pw = os.path.join(d.dir, "smtp.password")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    d.write_conf(conf_extra=f"retry_initial = 1s\n{extra}\n"
                            f"[smtp]\nurl = {sink.url}\n"
                            f"from = promised@example.org\n"
                            f"starttls = off\nusername = promised\n"
                            f"password_file = {pw}\ntimeout = 10s\n"
                            f"[person {ME}]\nemail = me@example.com\n"
                            f"manager = boss\n"
                            f"timezone = America/New_York\n"
                            f"[person boss]\nemail = boss@example.com\n",
                 policy=policy)
    return d.start()


def to(m):
    return m["rcpt_tos"]


def test_messages_headers_threading_and_body():
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = daemon_with(sink, "mail", policy="escalate_after = 1s\n"
                                             "escalation_repeat = 1h\n")
        try:
            due = int(time.time()) + 5
            title = "Angebot für Müller schicken"
            p = d.json("add", title, "--due", f"@{due}", "--for",
                       "Müller GmbH", "--nudge", "2s")["promise"]
            pid = p["id"]
            msgs = sink.wait_for_messages(3, timeout=20)
            subjects = [m["message"]["Subject"] for m in msgs]
            check(subjects[0].startswith(f"[promise {pid}] Due in 2s: "),
                  subjects)
            check(subjects[1] == f"[promise {pid}] Due now: {title}",
                  subjects)
            check(subjects[2].startswith(f"[promise {pid}] Overdue: "
                                         f"{title}"), subjects)
            check([to(m) for m in msgs] == [["me@example.com"]] * 2 +
                  [["boss@example.com"]], [to(m) for m in msgs])
            for m in msgs:
                msg = m["message"]
                check(m["mail_from"] == "promised@example.org", m)
                check(m["auth"] == "promised", "did not authenticate")
                check(msg["From"] and "promised@example.org" in msg["From"],
                      msg["From"])
                check(email.utils.parsedate_to_datetime(msg["Date"]), msg)
                check(msg["MIME-Version"] == "1.0", msg["MIME-Version"])
                check(msg.get_content_charset() == "utf-8", msg)
                check(msg["Message-ID"].startswith("<"), msg["Message-ID"])
                # the raw subject is encoded: no 8-bit bytes in headers
                head = m["raw"].split(b"\r\n\r\n", 1)[0]
                check(all(b < 0x80 for b in head), head)
            root = msgs[0]["message"]["Message-ID"]
            check(msgs[0]["message"]["In-Reply-To"] is None, "first replies")
            for m in msgs[1:]:
                check(m["message"]["In-Reply-To"] == root, m["message"])
                check(root in m["message"]["References"], m["message"])
                check(m["message"]["Message-ID"] != root, "reused id")
            body = msgs[1]["message"].get_content()
            check(title in body and "Müller GmbH" in body, body)
            check(f"promise done {pid}" in body, body)
            check(f"promise snooze {pid}" in body, body)
            # the due time in the recipient's own zone
            ny = datetime.datetime.fromtimestamp(
                due, zoneinfo.ZoneInfo("America/New_York"))
            check(ny.strftime("%H:%M") in body, f"{ny} not in {body}")
            esc = msgs[2]["message"].get_content()
            check(f"promise ack {pid}" in esc, esc)
            # the secret stays secret
            check(PASSWORD not in d.log_text(), "password in the log")
            check(PASSWORD not in d.client("status", "--json").stdout, "")
            d.client("done", str(pid))
            got = sink.wait_for_messages(4, timeout=10)
            res = got[3]
            check(to(res) == ["boss@example.com"], res)
            check(res["message"]["Subject"].startswith(
                f"[promise {pid}] Resolved"), res["message"]["Subject"])
            check(res["message"]["In-Reply-To"] == root, res["message"])
        finally:
            d.stop()
            d.cleanup()


def test_header_injection_impossible():
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = daemon_with(sink, "inject", policy="escalate_after = 1h\n")
        try:
            c = Conn(d)
            due = int(time.time()) + 2
            r = c.call({"v": 1, "op": "add", "title":
                        "x\r\nBcc: evil@example.com", "due_at": due})
            check(not r["ok"] and "title" in r["error"]["message"], r)
            r = c.call({"v": 1, "op": "add",
                        "title": "Subject: fake Bcc: evil@example.com =?x?=",
                        "for": "a\u2028b", "due_at": due, "nudge": []})
            check(r["ok"], r)
            c.close()
            m = sink.wait_for_messages(1, timeout=10)[0]
            check(to(m) == ["me@example.com"], m)
            msg = m["message"]
            check(msg["Bcc"] is None, "a Bcc header got through")
            check(len(msg.get_all("Subject")) == 1, "two subjects")
            check("evil@example.com" in msg["Subject"], msg["Subject"])
        finally:
            d.stop()
            d.cleanup()


def test_transient_then_permanent_smtp_errors():
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = daemon_with(sink, "smtp-errors", policy="escalate_after = 1h\n")
        try:
            sink.respond(451, "4.3.0 try again later", count=1)
            due = int(time.time()) + 2
            p = d.json("add", "Transient", "--due", f"@{due}", "--nudge",
                       "none")["promise"]
            sink.wait_for_messages(1, timeout=15)
            wait_for(lambda: d.json("show", str(p["id"]))["deliveries"][0]
                     ["state"] == "sent", what="the retried email")
            dv = d.json("show", str(p["id"]))["deliveries"][0]
            check(dv["attempts"] == 2, dv)
            sink.respond(550, "5.1.1 no such user", count=1)
            q = d.json("add", "Permanent", "--due", "+2s", "--nudge",
                       "none")["promise"]
            wait_for(lambda: d.json("show", str(q["id"]))["deliveries"] and
                     d.json("show", str(q["id"]))["deliveries"][0]["state"]
                     == "failed", timeout=15, what="the permanent failure")
            dv = d.json("show", str(q["id"]))["deliveries"][0]
            check("550" in dv["last_error"], dv)
            check(PASSWORD not in dv["last_error"], dv)
            # boss hears that the owner could not be reached
            wait_for(lambda: any(to(m) == ["boss@example.com"] for m in
                                 sink.messages()), timeout=10,
                     what="the undeliverable notice")
        finally:
            d.stop()
            d.cleanup()


def stuck_at_data(sink):
    """True once the sink holds back its reply to a message's end."""
    return all(r["count"] == 0 for r in sink.stats()["rules"])


def email_rows(d):
    return d.sql("SELECT uid, state, payload FROM deliveries "
                 "WHERE channel = 'email'")


def test_slow_server_does_not_block_the_loop():
    """libcurl waits for the reply to the message's end in a blocking
    loop; that wait must never hold up the daemon's own replies."""
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = daemon_with(sink, "slow-smtp", policy="escalate_after = 1h\n")
        try:
            sink.respond(code=None, stage="data", delay=4)
            p = d.json("add", "Slow server", "--due", "+2s", "--nudge",
                       "none")["promise"]
            wait_for(lambda: stuck_at_data(sink), timeout=15,
                     what="the sink to hold back its reply")
            worst, during = 0.0, 0
            for i in range(10):
                t = time.monotonic()
                d.client("list" if i % 2 == 0 else "status")
                took = time.monotonic() - t
                worst = max(worst, took)
                if not sink.records():
                    during += 1
                time.sleep(0.25)
            print(f"     slowest of 10 replies during a 4s SMTP wait: "
                  f"{worst * 1000:.0f} ms ({during} before the reply)")
            check(worst < 1.0, f"a reply took {worst:.2f}s")
            check(during >= 5, f"only {during} calls during the wait")
            m = sink.wait_for_messages(1, timeout=15)[0]
            check(to(m) == ["me@example.com"], m)
            wait_for(lambda: d.json("show", str(p["id"]))["deliveries"][0]
                     ["state"] == "sent", timeout=15, what="sent")
            dv = d.json("show", str(p["id"]))["deliveries"][0]
            check(dv["attempts"] == 1, dv)
        finally:
            d.stop()
            d.cleanup()


def test_sigterm_during_stuck_transfer():
    """SIGTERM while the server holds back its reply: a prompt clean exit,
    the delivery still pending, and sent with the same id after restart."""
    with SmtpSink(auth=("promised", PASSWORD)).start() as sink:
        d = daemon_with(sink, "stuck-smtp", policy="escalate_after = 1h\n")
        try:
            sink.respond(code=None, stage="data", delay=10)
            p = d.json("add", "Stuck server", "--due", "+2s", "--nudge",
                       "none")["promise"]
            wait_for(lambda: stuck_at_data(sink), timeout=15,
                     what="the sink to hold back its reply")
            t = time.monotonic()
            d.stop(timeout=20)  # asserts exit 0 and no sanitizer report
            took = time.monotonic() - t
            print(f"     SIGTERM to exit during a stuck transfer: "
                  f"{took:.2f}s")
            # the drain waits 5s for deliveries under way; libcurl checks
            # for a stop once a second, in the wait and in its QUIT after
            check(took < 9.0, f"took {took:.2f}s to stop")
            rows = email_rows(d)
            check(len(rows) == 1 and rows[0][1] == "pending", rows)
            uid, payload = rows[0][0], json.loads(rows[0][2])
            root = payload["thread"]["root"]
            check(payload["thread"]["first"], payload)
            got = len(sink.records())
            sink.clear()
            d.start()
            wait_for(lambda: d.json("show", str(p["id"]))["deliveries"][0]
                     ["state"] == "sent", timeout=20, what="the resend")
            dv = d.json("show", str(p["id"]))["deliveries"][0]
            check(dv["delivery"] == uid, (dv, uid))
            msgs = sink.wait_for_messages(got + 1, timeout=10)
            # at least once: a server that kept the cut-off attempt may
            # have it too, but every copy is the same message
            for m in msgs:
                check(m["message"]["Message-ID"] == root,
                      (m["message"]["Message-ID"], root))
                check(f"delivery {uid}" in m["message"].get_content(), m)
            print(f"     copies received: {len(msgs)}")
        finally:
            d.stop()
            d.cleanup()


if __name__ == "__main__":
    run([test_messages_headers_threading_and_body,
         test_header_injection_impossible,
         test_transient_then_permanent_smtp_errors,
         test_slow_server_does_not_block_the_loop,
         test_sigterm_during_stuck_transfer])
