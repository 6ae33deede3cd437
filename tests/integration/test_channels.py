# SPDX-License-Identifier: MIT
"""The email channel as an operator runs it: TLS to a relay with a private
certificate, a relay that is down or refuses the login, and email turned
on and off by a reload, against real SMTP servers (aiosmtpd) on 127.0.0.1.
"""

import getpass
import os
import re
import signal
import socket
import subprocess
import threading
import time

from harness import Daemon, PROMISED, check, free_port, run, wait_for
from smtpsink import SmtpSink, make_cert
from test_systemd import NotifySocket

ME = getpass.getuser()
PASSWORD = "s3cret-Pa55"


def smtp_conf(url, extra=""):
    return (f"retry_initial = 1s\nretry_max = 2s\n"
            f"[smtp]\nurl = {url}\nfrom = promised@example.org\n"
            f"timeout = 10s\n{extra}"
            f"[person {ME}]\nemail = me@example.com\nmanager = boss\n"
            f"[person boss]\nemail = boss@example.com\n")


def lines(d, pattern):
    return [x for x in d.log_text().splitlines() if re.search(pattern, x)]


def first_delivery(d, pid):
    dv = d.json("show", str(pid))["deliveries"]
    return dv[0] if dv else None


# ------------------------------------------------------------- TLS ----

def tls_conf(d, sink, extra):
    d.write_conf(conf_extra=smtp_conf(sink.url, "starttls = required\n"
                                                + extra),
                 policy="escalate_after = 1h\n")


class TlsRelay:
    """A daemon and a STARTTLS sink with a self-signed certificate, both
    in the daemon's directory; stops both whatever happens."""

    def __init__(self, name, extra):
        self.d = Daemon(name)
        self.sink = None
        self.extra = extra

    def __enter__(self):
        try:
            self.cert, key = make_cert(self.d.dir)
            self.sink = SmtpSink(tls=(self.cert, key)).start(
                os.path.join(self.d.dir, "sink"))
            tls_conf(self.d, self.sink,
                     self.extra.replace("CERT", self.cert))
        except BaseException:
            self.__exit__()
            raise
        return self.d, self.sink

    def __exit__(self, *exc):
        try:
            self.d.stop()
        finally:
            if self.sink is not None:
                self.sink.stop(check=False)
            self.d.cleanup()


def test_private_ca_is_trusted_with_ca_file():
    with TlsRelay("tls-ca", "ca_file = CERT\n") as (d, sink):
        d.start()
        p = d.json("add", "Over TLS", "--due", "+2s", "--nudge",
                   "none")["promise"]
        m = sink.wait_for_messages(1, timeout=20)[0]
        check(m["rcpt_tos"] == ["me@example.com"], m["rcpt_tos"])
        wait_for(lambda: first_delivery(d, p["id"])["state"] == "sent",
                 what="the delivery marked sent")
        check(not lines(d, r"tls_verify"), d.log_text())


def test_self_signed_relay_fails_against_the_system_store():
    with TlsRelay("tls-sys", "") as (d, sink):
        d.start()
        p = d.json("add", "Not over TLS", "--due", "+2s", "--nudge",
                   "none")["promise"]
        wait_for(lambda: (first_delivery(d, p["id"]) or {})
                 .get("last_error"), timeout=20, what="an error")
        err = first_delivery(d, p["id"])["last_error"]
        check(re.search(r"certificate|SSL", err, re.I), err)
        check(sink.records() == [], "mail went to an unverified relay")


def test_tls_verify_false_sends_and_warns_at_start():
    warned = r"\[warning\]: \[smtp\] tls_verify = false"
    with TlsRelay("tls-off", "tls_verify = false\n") as (d, sink):
        d.start()
        check(len(lines(d, warned)) == 1, d.log_text())
        d.json("add", "Unverified", "--due", "+2s", "--nudge", "none")
        sink.wait_for_messages(1, timeout=20)
        d.stop()
        d.start()
        check(len(lines(d, warned)) == 2,
              "not warned at the second start:\n" + d.log_text())


def test_bad_tls_settings_are_refused():
    d = Daemon("tls-conf")
    try:
        for extra, want in (
                ("ca_file = /nonexistent/ca.pem\n",
                 r"\[smtp\] ca_file: '/nonexistent/ca.pem': No such file"),
                ("ca_file = ca.pem\n", r"not an absolute path"),
                ("tls_verify = maybe\n", r"'maybe' is not true or false")):
            d.write_conf(conf_extra=smtp_conf("smtp://127.0.0.1:25", extra))
            r = subprocess.run([PROMISED, "-n", "-c", d.conf],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 78, f"{extra!r}: exit {r.returncode}")
            check(re.search(want, r.stderr), f"{extra!r}: {r.stderr}")
    finally:
        d.cleanup()


# ------------------------------------------------- a relay that is down ----


def email_rows(d):
    return d.sql("SELECT kind, state FROM deliveries "
                 "WHERE channel = 'email'")


def email_state(d):
    return d.json("status").get("channels", {}).get("email", {})


def promise_ids(sink):
    """The promise ids of the messages the sink accepted, in order."""
    out = []
    for m in sink.messages():
        g = re.match(r"\[promise (\d+)\]", str(m["message"]["Subject"]))
        if g:
            out.append(int(g.group(1)))
    return out


def check_held(d, n):
    """n email deliveries wait, none failed, no notice of it went out."""
    st = d.json("status")
    check(st["deliveries"]["failed"] == 0, st)
    rows = email_rows(d)
    check(len(rows) == n and all(r[1] == "pending" for r in rows), rows)
    check(not [x for x in d.deliveries()
               if x["event"] == "promise.undeliverable"], d.deliveries())
    down = lines(d, r"email channel down")
    check(len(down) == 1 and "[error]" in down[0],
          "not said once, at error:\n" + d.log_text())


def test_refused_login_holds_the_queue():
    d = Daemon("smtp-535")
    sink = None
    try:
        pw = os.path.join(d.dir, "smtp.password")
        with open(pw, "w") as f:
            f.write("not-the-password\n")
        sink = SmtpSink(auth=("promised", PASSWORD)).start(
            os.path.join(d.dir, "sink"))
        d.write_conf(conf_extra=smtp_conf(
            sink.url, f"starttls = off\nusername = promised\n"
                      f"password_file = {pw}\n"),
            policy="escalate_after = 1h\n")
        d.start()
        ids = [d.json("add", f"Call back {i}", "--due", "+2s", "--nudge",
                      "none")["promise"]["id"] for i in range(3)]
        st = wait_for(lambda: email_state(d).get("state") == "down" and
                      email_state(d), timeout=20, what="email down")
        check("535" in st["error"], st)
        check(PASSWORD not in d.log_text(), "password in the log")
        # it keeps trying, with backoff, and holds everything meanwhile
        wait_for(lambda: len(lines(d, r"email channel: trying")) >= 2,
                 timeout=30, what="two more tries")
        check_held(d, 3)
        st = email_state(d)
        check(st["waiting"] >= 2 and st["since"] > 0, st)
        check(sink.records() == [], sink.records())
        # the password mended and reloaded: the queue drains
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: sorted(set(promise_ids(sink))) == sorted(ids),
                 timeout=20, what="the held mail")
        wait_for(lambda: email_state(d).get("state") == "up" and
                 d.json("status")["deliveries"]["pending"] == 0,
                 what="email up and the outbox empty")
        check(lines(d, r"\[info\]: email channel back"), d.log_text())
        check(all(r[1] == "sent" for r in email_rows(d)), email_rows(d))
    finally:
        d.stop()
        if sink is not None:
            sink.stop(check=False)
        d.cleanup()


def test_unreachable_relay_holds_the_queue():
    d = Daemon("smtp-closed")
    sink = notify = None
    try:
        d.write_conf(conf_extra=smtp_conf(
            f"smtp://127.0.0.1:{free_port()}", "starttls = off\n"),
            policy="escalate_after = 1h\n")
        notify = NotifySocket(d.dir)
        d.start(env={"NOTIFY_SOCKET": notify.path})
        ids = [d.json("add", f"Visit {i}", "--due", "+2s", "--nudge",
                      "none")["promise"]["id"] for i in range(2)]
        st = wait_for(lambda: email_state(d).get("state") == "down" and
                      email_state(d), timeout=20, what="email down")
        check(re.search(r"connect", st["error"], re.I), st)
        check(st["next_try"] >= st["since"], st)
        wait_for(lambda: len(lines(d, r"email channel: trying")) >= 2,
                 timeout=30, what="two more tries")
        check_held(d, 2)
        r = d.client("status")
        check(re.search(r"email: +down since", r.stdout), r.stdout)
        # the relay up, and the configuration pointed at it
        sink = SmtpSink().start(os.path.join(d.dir, "sink"))
        d.write_conf(conf_extra=smtp_conf(sink.url, "starttls = off\n"),
                     policy="escalate_after = 1h\n")
        d.signal(signal.SIGHUP)
        # systemctl status says so too (sent at the reload, before the
        # channel is tried again)
        wait_for(lambda: any("STATUS=" in m and "; down: email" in m
                             for m in notify.drain()),
                 what="STATUS with the channel down")
        wait_for(lambda: sorted(set(promise_ids(sink))) == sorted(ids),
                 timeout=20, what="the held mail")
        wait_for(lambda: email_state(d).get("state") == "up",
                 what="email up")
    finally:
        d.stop()
        if sink is not None:
            sink.stop(check=False)
        if notify is not None:
            notify.close()
        d.cleanup()


def test_retry_of_a_waiting_delivery_tries_the_channel_now():
    d = Daemon("smtp-retry")
    try:
        d.write_conf(conf_extra=smtp_conf(
            f"smtp://127.0.0.1:{free_port()}", "starttls = off\n")
            .replace("retry_initial = 1s\nretry_max = 2s",
                     "retry_initial = 10m\nretry_max = 1h"),
            policy="escalate_after = 1h\n")
        d.start()
        ids = [d.json("add", f"Wait {i}", "--due", "+2s", "--nudge",
                      "none")["promise"]["id"] for i in range(2)]
        wait_for(lambda: email_state(d).get("state") == "down",
                 timeout=20, what="email down")
        check(email_state(d)["next_try"] > time.time() + 300,
              email_state(d))
        check(not lines(d, r"email channel: trying"), d.log_text())
        d.client("retry", first_delivery(d, ids[0])["delivery"])
        wait_for(lambda: lines(d, r"email channel: trying"), timeout=10,
                 what="a try now rather than in ten minutes")
    finally:
        d.stop()
        d.cleanup()


class MuteRelay:
    """A TCP listener on 127.0.0.1 that accepts and never says a word (no
    SMTP greeting): a relay that hangs.  Holds what it accepted until
    closed."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(16)
        self.port = self.s.getsockname()[1]
        self.conns = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        self.s.settimeout(0.1)
        while not self.stop.is_set():
            try:
                self.conns.append(self.s.accept()[0])
            except socket.timeout:
                pass

    def close(self):
        self.stop.set()
        self.t.join(timeout=5)
        for c in self.conns:
            c.close()
        self.s.close()


def test_silent_relay_holds_the_queue():
    d = Daemon("smtp-mute")
    relay = MuteRelay()
    try:
        d.write_conf(conf_extra=smtp_conf(
            f"smtp://127.0.0.1:{relay.port}", "starttls = off\n")
            .replace("timeout = 10s", "timeout = 1s"),
            policy="escalate_after = 1h\n")
        d.start()
        for i in range(2):
            d.json("add", f"Hang {i}", "--due", "+2s", "--nudge", "none")
        st = wait_for(lambda: email_state(d).get("state") == "down" and
                      email_state(d), timeout=30, what="email down")
        check(re.search(r"time", st["error"], re.I), st)
        wait_for(lambda: len(lines(d, r"email channel: trying")) >= 1,
                 timeout=30, what="another try")
        check_held(d, 2)
    finally:
        d.stop()
        relay.close()
        d.cleanup()


# -------------------------------------------- email on and off by reload ----

def stuck_at_data(sink):
    return all(r["count"] == 0 for r in sink.stats()["rules"])


def test_reload_turns_email_off_and_on():
    d = Daemon("smtp-toggle")
    sink = None
    try:
        sink = SmtpSink().start(os.path.join(d.dir, "sink"))
        on = smtp_conf(sink.url, "starttls = off\n")
        off = on[on.index(f"[person {ME}]"):]
        policy = "escalate_after = 1h\n"
        d.write_conf(conf_extra=on, policy=policy)
        d.start()
        p1 = d.json("add", "First", "--due", "+2s", "--nudge",
                    "none")["promise"]["id"]
        wait_for(lambda: p1 in promise_ids(sink), timeout=20,
                 what="the first mail")
        # the next message is on its way when email is turned off
        sink.respond(stage="data", delay=4)
        p2 = d.json("add", "Second", "--due", "+2s", "--nudge",
                    "none")["promise"]["id"]
        wait_for(lambda: stuck_at_data(sink), timeout=20,
                 what="the second mail under way")
        d.write_conf(conf_extra=off, policy=policy)
        d.signal(signal.SIGHUP)
        wait_for(lambda: lines(d, r"email turned off; 1 email deliveries "
                                  r"wait"), what="email off")
        st = d.json("status")
        check(st["channels"]["email"] == {"state": "off", "waiting": 1}, st)
        check(st["deliveries"]["pending"] == 1 and
              st["deliveries"]["inflight"] == 0, st)
        # while it is off, new notices go to the delivery log
        p3 = d.json("add", "Third", "--due", "+2s", "--nudge",
                    "none")["promise"]["id"]
        wait_for(lambda: [x for x in d.deliveries()
                          if x["promise"]["id"] == p3],
                 timeout=20, what="the third notice in the log")
        check(email_rows(d).count(("promise.due", "pending")) == 1,
              email_rows(d))
        check(not lines(d, r"takes effect at restart"), d.log_text())
        # turned on again: what waited goes out, and new mail flows
        d.write_conf(conf_extra=on, policy=policy)
        d.signal(signal.SIGHUP)
        wait_for(lambda: lines(d, r"email turned on; sending the 1 "),
                 what="email on")
        wait_for(lambda: p2 in promise_ids(sink), timeout=20,
                 what="the held mail")
        p4 = d.json("add", "Fourth", "--due", "+2s", "--nudge",
                    "none")["promise"]["id"]
        wait_for(lambda: p4 in promise_ids(sink), timeout=20,
                 what="mail after the reload")
        check(p3 not in promise_ids(sink), promise_ids(sink))
        wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                 what="the outbox empty")
        check(all(r[1] == "sent" for r in email_rows(d)), email_rows(d))
    finally:
        d.stop()
        if sink is not None:
            sink.stop(check=False)
        d.cleanup()


if __name__ == "__main__":
    run([test_private_ca_is_trusted_with_ca_file,
         test_self_signed_relay_fails_against_the_system_store,
         test_tls_verify_false_sends_and_warns_at_start,
         test_bad_tls_settings_are_refused,
         test_refused_login_holds_the_queue,
         test_unreachable_relay_holds_the_queue,
         test_silent_relay_holds_the_queue,
         test_retry_of_a_waiting_delivery_tries_the_channel_now,
         test_reload_turns_email_off_and_on])
