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
import time

from harness import PROMISED, Daemon, check, run, wait_for
from smtpsink import SmtpSink, make_cert

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
        p = d.json("add", "Over TLS", "--due", "+1s", "--nudge",
                   "none")["promise"]
        m = sink.wait_for_messages(1, timeout=20)[0]
        check(m["rcpt_tos"] == ["me@example.com"], m["rcpt_tos"])
        wait_for(lambda: first_delivery(d, p["id"])["state"] == "sent",
                 what="the delivery marked sent")
        check(not lines(d, r"tls_verify"), d.log_text())


def test_self_signed_relay_fails_against_the_system_store():
    with TlsRelay("tls-sys", "") as (d, sink):
        d.start()
        p = d.json("add", "Not over TLS", "--due", "+1s", "--nudge",
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
        d.json("add", "Unverified", "--due", "+1s", "--nudge", "none")
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


if __name__ == "__main__":
    run([test_private_ca_is_trusted_with_ca_file,
         test_self_signed_relay_fails_against_the_system_store,
         test_tls_verify_false_sends_and_warns_at_start,
         test_bad_tls_settings_are_refused])
