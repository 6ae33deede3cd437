#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mail in through a real mail server: Debian's postfix on 127.0.0.1
(mta.py), with the README's pipe transport to `promise mail-in` run as the
user nobody (one of [mail] gateway_users) in the socket's group, and
promised's own mail relayed by the same postfix to the tests' SMTP server.
A promise made by BCC, a reply that keeps it, and a mail postfix holds
while promised is down and hands in once it is back: each answer caught
by the SMTP server after its way through postfix."""

import grp
import os
import shutil
import smtplib
import stat
import subprocess
import time

from harness import PROMISE, Daemon, check, run, wait_for
from mta import Postfix, available
from smtpsink import SmtpSink
from test_mailin import AUTHSERV, body_of, fixture

# the gateway user and the socket's group: pipe(8) runs the command with
# user=USER:GROUP's ids, no supplementary groups, and refuses root and
# postfix
GATEWAY, GROUP = "nobody", "nogroup"
POSTFIX_BIN = "/usr/sbin/postfix"


def promises(d):
    return d.json("list", "--state", "all")["promises"]


def private_bin(d):
    """promise and promise-mail-in copied where nobody may run them: the
    build tree may lie under a directory only root can enter."""
    b = os.path.join(d.dir, "bin")
    os.mkdir(b, 0o755)
    for name in ("promise", "promise-mail-in"):
        dst = os.path.join(b, name)
        shutil.copy(os.path.join(os.path.dirname(PROMISE), name), dst)
        os.chmod(dst, 0o755)
    return os.path.join(b, "promise")


def start(sink, name):
    """promised and its postfix; (daemon, postfix)."""
    d = Daemon(name)
    promise = private_bin(d)
    mta = Postfix(argv=f"{promise} --socket {d.sock} mail-in "
                  "${original_recipient}", user=f"{GATEWAY}:{GROUP}",
                  pipe_to=("reply.example.com", "promises@example.com"),
                  relay=("127.0.0.1", sink.port), name=name).start()
    key = os.path.join(d.dir, "mail.secret")
    with open(key, "w") as f:
        f.write("postfix-test-key-0123456789\n")
    d.write_conf(conf_extra=(
        "retry_initial = 1s\n"
        f"[smtp]\nurl = smtp://127.0.0.1:{mta.port}\n"
        "from = promised@example.com\nstarttls = off\ntimeout = 10s\n"
        f"[mail]\ngateway_users = {GATEWAY}\n"
        f"reply_domain = reply.example.com\nsecret_file = {key}\n"
        f"address = promises@example.com\nauthserv_id = {AUTHSERV}\n"
        "domains = example.com\ndefault_kind = reply\n"
        "[kind reply]\ndue = 1 business day\n"
        "[calendar]\ntimezone = Europe/Berlin\n"
        "[person dan]\nemail = dan@example.com\n"
        "timezone = Europe/Berlin\n"))
    d.start()
    open_up(d)
    return d, mta


def open_up(d):
    """The test's directory open to pass through, and the socket (0660, as
    promised makes it) in the group the pipe runs the gateway user with,
    as a real install has it with promise-users."""
    os.chmod(d.dir, 0o711)
    os.chown(d.sock, -1, grp.getgrnam(GROUP).gr_gid)
    check(stat.S_IMODE(os.stat(d.sock).st_mode) == 0o660, "socket mode")


def submit(mta, rcpt, data):
    with smtplib.SMTP("127.0.0.1", mta.port, timeout=30) as s:
        s.sendmail("dan@example.com", [rcpt], data)


def waited(what, cond, mta, d, timeout=30):
    try:
        return wait_for(cond, timeout=timeout, what=what)
    except Exception as e:
        raise AssertionError(f"{e}\n--- postfix's log:\n{mta.log_text()}"
                             f"--- promised's log:\n{d.log_text()}")


def test_postfix_end_to_end():
    why = available()
    check(why is None, f"cannot run postfix: {why}")
    with SmtpSink().start() as sink:
        d, mta = start(sink, "postfix")
        try:
            # BCC: a new promise, vouched for by Authentication-Results
            submit(mta, "promises@example.com",
                   fixture("thunderbird-bcc.eml"))
            waited("the promise made", lambda: promises(d), mta, d)
            p = promises(d)[0]
            check(p["owner"] == "dan" and p["title"] == "Demo times" and
                  p["for"] == "Jane Roe <jane@acme.com>", p)
            msgs = sink.wait_for_messages(1, timeout=30)
            m = msgs[0]["message"]
            check(msgs[0]["rcpt_tos"] == ["dan@example.com"], msgs[0])
            check("(Postfix)" in str(m["Received"]), m["Received"])
            check(m["In-Reply-To"] ==
                  "<3f1c2a9e-8b7d-4c1e-9a55-000000000001@example.com>", m)
            to = m["Reply-To"]
            check(to.startswith(f"promise+{p['id']}."), to)
            check("Demo times" in body_of(msgs[0]), body_of(msgs[0]))
            # a reply to the confirmation keeps it
            done = fixture("gmail-reply.eml", TO=to, ID=str(p["id"]),
                           IN_REPLY_TO=m["Message-ID"],
                           REFERENCES=m["Message-ID"],
                           COMMAND="done sent them the times")
            submit(mta, to, done)
            waited("the promise kept", lambda: d.json(
                "show", str(p["id"]))["promise"]["state"] == "kept",
                mta, d)
            ev = [e for e in d.json("show", str(p["id"]))["events"]
                  if e["kind"] == "kept"][0]
            check(ev["actor"] == "dan" and ev["detail"]["via"] == "email",
                  ev)
            msgs = sink.wait_for_messages(2, timeout=30)
            check("is kept" in body_of(msgs[1]), body_of(msgs[1]))
            check(msgs[1]["message"]["In-Reply-To"].startswith(
                "<CAFx=gmail-reply-"), msgs[1]["message"])
            # promised down: promise mail-in exits 75, postfix keeps the
            # mail; once promised is back, postfix's next try hands it in
            bcc2 = fixture("thunderbird-bcc.eml").replace(
                b"-000000000001@", b"-000000000002@").replace(
                b"Demo times", b"Pricing sheet")
            d.stop()
            submit(mta, "promises@example.com", bcc2)
            waited("postfix to defer the mail",
                   lambda: "status=deferred" in mta.log_text(), mta, d)
            d.start()
            open_up(d)
            r = subprocess.run(
                [POSTFIX_BIN, "-c", os.path.join(mta.dir, "conf"), "flush"],
                capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, r.stderr)
            waited("the held mail handed in", lambda: len(promises(d)) == 2,
                   mta, d, timeout=60)
            titles = sorted(x["title"] for x in promises(d))
            check(titles == ["Demo times", "Pricing sheet"], titles)
            sink.wait_for_messages(3, timeout=30)
            time.sleep(0.5)
            check(len(sink.messages()) == 3,
                  f"one answer a mail: {len(sink.messages())}")
            d.stop()
        finally:
            mta.stop()


if __name__ == "__main__":
    run([test_postfix_end_to_end])
