#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mail into promised: the [mail] section, and promise mail-in run as the
mail server runs it (a pipe, the mail on stdin, the envelope recipient as
its argument), with the real daemon and a real SMTP server catching the
answers.  Fixtures under mail/ are shaped as Thunderbird, Outlook, Gmail
and Apple Mail write them."""

import base64
import getpass
import json
import os
import signal
import subprocess
import tempfile
import time

from harness import PROMISE, PROMISED, Daemon, check, run, wait_for
from smtpsink import SmtpSink

ME = getpass.getuser()
HERE = os.path.dirname(os.path.abspath(__file__))
AUTHSERV = "mx.example.com"
# the client reads WHEN in its own zone, the daemon in the owner's: dan's
BERLIN = {"TZ": "Europe/Berlin"}

KIND = "[kind reply]\ndue = 1 business day\n"


def check_config(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "promised.conf")
        key = os.path.join(d, "mail.secret")
        with open(key, "w") as f:
            f.write("old-key-0123456789\nnew-key-0123456789\n")
        with open(path, "w") as f:
            f.write(text.replace("KEY", key))
        r = subprocess.run([PROMISED, "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=10)
        return r, path


def refused(text, line, *words):
    r, path = check_config(text)
    check(r.returncode == 78, f"exit {r.returncode} for {text!r}")
    msg = r.stderr.strip()
    where = f"{path}:{line}:" if line else f"{path}:"
    check(where in msg, f"no {where} in {msg!r}")
    for w in words:
        check(w in msg, f"{w!r} not in {msg!r}")


def test_mail_section():
    good = (KIND + "[mail]\ngateway_users = postfix, exim\n"
            "reply_domain = reply.example.com\nsecret_file = KEY\n"
            "address = promises@example.com\nauthserv_id = mx.example.com\n"
            "domains = example.com example.org\ndefault_kind = reply\n")
    r, _ = check_config(good)
    check(r.returncode == 0, f"good [mail] refused: {r.stderr}")
    refused("[mail]\naddress = not-an-address\n", 2, "[mail] address")
    refused("[mail]\nreply_domain = -bad-.example\n", 2, "reply_domain")
    refused("[mail]\ngateway_users = post fix!\n", 2, "gateway_users",
            "fix!")
    refused("[mail]\ndomains = ,\n", 2, "domains", "empty")
    refused("[mail]\nauthserv_id = mx example\n", 2, "authserv_id")
    refused("[mail]\nfrobnicate = 1\n", 2, "unknown key 'frobnicate'")
    refused("[mail]\nsecret_file = /nonexistent/mail.secret\n", 2,
            "secret_file")
    refused("[mail]\nreply_domain = reply.example.com\n", 0,
            "secret_file is not")
    refused("[mail]\ndefault_kind = nope\n", 0, "no [kind nope]")


def fixture(name, **subst):
    with open(os.path.join(HERE, "mail", name), "rb") as f:
        data = f.read()
    subst.setdefault("AUTHSERV", AUTHSERV)
    subst.setdefault("N", str(time.monotonic_ns()))
    for k, v in subst.items():
        data = data.replace(b"{" + k.encode() + b"}",
                            v if isinstance(v, bytes) else v.encode())
    return data


def mail_in(d, data, recipient, sock=None, expect=None):
    """promise mail-in as the mail server runs it; the CompletedProcess."""
    r = subprocess.run([PROMISE, "--socket", sock or d.sock, "mail-in",
                        recipient], input=data, capture_output=True,
                       timeout=60)
    if expect is not None:
        check(r.returncode == expect,
              f"mail-in exit {r.returncode}, wanted {expect}: "
              f"{r.stderr.decode(errors='replace')}")
    return r


def mail_daemon(sink, name, gateway=None, keys=("key-one-0123456789",),
                policy=""):
    d = Daemon(name)
    key = os.path.join(d.dir, "mail.secret")
    with open(key, "w") as f:
        f.write("\n".join(keys) + "\n")
    d.key_path = key
    d.write_conf(conf_extra=(
        "retry_initial = 1s\n"
        f"[smtp]\nurl = {sink.url}\nfrom = promised@example.com\n"
        "starttls = off\ntimeout = 10s\n"
        f"[mail]\ngateway_users = {gateway or ME}\n"
        f"reply_domain = reply.example.com\nsecret_file = {key}\n"
        f"address = promises@example.com\nauthserv_id = {AUTHSERV}\n"
        "domains = example.com\ndefault_kind = reply\n"
        "[kind reply]\ndue = 1 business day\n"
        "[calendar]\ntimezone = Europe/Berlin\n"
        "[person dan]\nemail = dan@example.com\nmanager = alice\n"
        "timezone = Europe/Berlin\n"
        "[person alice]\nemail = alice@example.com\n"), policy=policy)
    return d.start()


def promises(d):
    return d.json("list", "--state", "all")["promises"]


def answers_to(sink, n):
    return [m for m in sink.wait_for_messages(n)]


def body_of(msg):
    return msg["message"].get_body(("plain",)).get_content()


def test_new_promise_by_bcc():
    """Thunderbird, multipart/alternative, QP: owner, customer, deadline
    read from "by Friday", answered in the thread with a Reply-To."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-bcc")
        data = fixture("thunderbird-bcc.eml")
        mail_in(d, data, "promises@example.com", expect=0)
        ps = promises(d)
        check(len(ps) == 1, f"one promise made: {ps}")
        p = ps[0]
        check(p["owner"] == "dan", p)
        check(p["title"] == "Demo times", p)
        check(p["for"] == "Jane Roe <jane@acme.com>", p)
        want = d.json("add", "control", "--owner", "dan", "--due",
                      "friday", "--dry-run", env=BERLIN)
        check(abs(p["due_at"] - want["promise"]["due_at"]) < 5,
              f"due {p['due_at']} is not friday {want}")
        show = d.json("show", str(p["id"]))
        created = show["events"][0]
        check(created["actor"] == "dan", created)
        check(json.loads(created["detail"]).get("via") == "email"
              if isinstance(created["detail"], str)
              else created["detail"].get("via") == "email", created)
        msgs = sink.wait_for_messages(1)
        m = msgs[0]["message"]
        check(msgs[0]["rcpt_tos"] == ["dan@example.com"], msgs[0])
        check(m["In-Reply-To"] ==
              "<3f1c2a9e-8b7d-4c1e-9a55-000000000001@example.com>", m)
        check(m["Subject"] == "Re: Demo times", m["Subject"])
        check(m["Auto-Submitted"] == "auto-replied", m)
        rt = m["Reply-To"]
        check(rt.startswith(f"promise+{p['id']}.") and
              rt.endswith("@reply.example.com"), rt)
        text = body_of(msgs[0])
        for w in ("Jane Roe <jane@acme.com>", "read from \"Friday\"",
                  "snooze WHEN", "Demo times"):
            check(w in text, f"{w!r} not in the answer:\n{text}")
        # the deadline as a calendar entry (RFC 5545), the same as
        # 'promise show --ics' gives but for its DTSTAMP
        cal = [part for part in m.iter_attachments()
               if part.get_content_type() == "text/calendar"]
        check(len(cal) == 1 and
              cal[0].get_filename() == f"promise-{p['id']}.ics", cal)
        ics = cal[0].get_content()
        show = d.json("show", str(p["id"]), "--ics")["ics"]
        strip = [ln for ln in ics.splitlines() if ln.startswith("DTSTART:")
                 or ln.startswith("UID:") or ln.startswith("SUMMARY:")]
        check(len(strip) == 3 and
              all(ln in show.splitlines() for ln in strip), (strip, show))
        due = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(p["due_at"]))
        check(f"DTSTART:{due}" in strip, strip)
        d.stop()


def test_outlook_html_base64_latin1():
    """Outlook, HTML only, base64 in ISO-8859-1: the text is read from the
    HTML, the quoted mail below the divider left out (its "by Monday" is
    not the deadline), dkim=pass aligned suffices, Cc of the company is
    not the customer."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-outlook")
        mail_in(d, fixture("outlook-html-latin1.eml"),
                "promises@example.com", expect=0)
        p = promises(d)[0]
        check(p["title"] == "Angebot f\u00fcr M\u00fcller", p["title"])
        check(p["for"] == "Hans M\u00fcller <hans@mueller-bau.de>", p)
        want = d.json("add", "control", "--owner", "dan", "--due",
                      "in 2 business days", "--dry-run")
        check(abs(p["due_at"] - want["promise"]["due_at"]) < 120,
              f"due {p} is not in 2 business days: {want}")
        text = body_of(sink.wait_for_messages(1)[0])
        check("in 2 business days" in text, text)
        d.stop()


def test_forward_tomorrow():
    """A forward: the customer is the forwarded mail's sender, the
    deadline "tomorrow 10am" from the words above it."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-fwd")
        mail_in(d, fixture("thunderbird-forward.eml"),
                "promises@example.com", expect=0)
        p = promises(d)[0]
        check(p["title"] == "Invoice 4711", p)
        check(p["for"] == "Bob Customer <bob@customer.org>", p)
        want = d.json("add", "control", "--owner", "dan", "--due",
                      "tomorrow 10am", "--dry-run", env=BERLIN)
        check(p["due_at"] == want["promise"]["due_at"], (p, want))
        d.stop()


def other_id(data, n):
    """data with a Message-ID of its own: another mail."""
    return data.replace(b"-000000000001@", f"-{n:012d}@".encode())


def test_unauthenticated_refused():
    """A From line is anyone's to write: without the mail server's
    Authentication-Results, or with another server's, or a failed one,
    nothing is made; the person the From names is told why, and the mail
    server is told the mail is done (0), so that no bounce follows our
    answer."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-forged")
        good = fixture("thunderbird-bcc.eml")
        head, _, rest = good.partition(b"\r\n")
        forged = [rest,
                  good.replace(AUTHSERV.encode(), b"mx.attacker.org"),
                  good.replace(b"dmarc=pass", b"dmarc=fail")
                      .replace(b"dkim=pass", b"dkim=fail")]
        for i, data in enumerate(forged):
            r = mail_in(d, other_id(data, 100 + i), "promises@example.com",
                        expect=0)
            check(b"refused: your mail server" in r.stderr and
                  b"did not vouch" in r.stderr, r.stderr)
        check(promises(d) == [], "nothing made")
        msgs = sink.wait_for_messages(3)
        check(all(m["rcpt_tos"] == ["dan@example.com"] for m in msgs), msgs)
        check("did not vouch" in body_of(msgs[0]), body_of(msgs[0]))
        # a sender promised does not know is answered by no one: neither
        # by promised nor by a bounce, which to a forged sender would be
        # backscatter
        stranger = other_id(good.replace(b"dan@example.com",
                                         b"eve@evil.org"), 200)
        r = mail_in(d, stranger, "promises@example.com", expect=0)
        check(b"not the email of anyone" in r.stderr, r.stderr)
        time.sleep(0.5)
        check(len(sink.messages()) == 3, "no mail to a stranger")
        # the mail server hears 0: promised's log is where it shows
        check("mail from 'eve@evil.org' to 'promises@example.com' "
              "refused: " in d.log_text(), d.log_text())
        d.stop()


def made(d, sink):
    """A promise made by mail; (its id, the Reply-To, the answer's id)."""
    mail_in(d, fixture("thunderbird-bcc.eml"), "promises@example.com",
            expect=0)
    m = sink.wait_for_messages(1)[-1]["message"]
    return promises(d)[0]["id"], m["Reply-To"], m["Message-ID"]


def reply(d, name, pid, to, parent, command, expect=0):
    subst = dict(TO=to, ID=str(pid), IN_REPLY_TO=parent,
                 REFERENCES=parent, COMMAND=command)
    if name == "outlook-reply.eml":
        with open(os.path.join(HERE, "mail", "outlook-reply.html")) as f:
            html = f.read().replace("{COMMAND}", command)
        subst["HTML_BASE64"] = base64.encodebytes(
            html.encode("iso-8859-1")).replace(b"\n", b"\r\n")
    return mail_in(d, fixture(name, **subst), to, expect=expect)


def test_replies_act():
    """Replies from Gmail, Apple Mail and Outlook act on the promise as
    dan, via email, each answered in its own thread."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-reply")
        pid, to, parent = made(d, sink)
        n = 1
        reply(d, "apple-reply.eml", pid, to, parent,
              "Snooze until next monday 10:00 because the customer is away")
        n += 1
        msgs = sink.wait_for_messages(n)
        p = d.json("show", str(pid))
        want = d.json("add", "x", "--owner", "dan", "--due",
                      "next monday 10:00", "--dry-run", env=BERLIN)
        check(p["promise"]["due_at"] == want["promise"]["due_at"], p)
        ev = p["events"][-1]
        check(ev["kind"] == "snoozed" and ev["actor"] == "dan", ev)
        check(ev["detail"]["reason"] == "the customer is away", ev)
        check(ev["detail"]["via"] == "email", ev)
        a = msgs[-1]
        check(a["message"]["In-Reply-To"].startswith("<A1B2C3D4-apple-"), a)
        check("is now due" in body_of(a), body_of(a))
        # words that are no command: a note, and the help
        reply(d, "gmail-reply.eml", pid, to, parent,
              "Thanks, I will look at it")
        n += 1
        a = sink.wait_for_messages(n)[-1]
        check("kept as a note" in body_of(a) and "snooze WHEN" in
              body_of(a), body_of(a))
        ev = d.json("show", str(pid))["events"][-1]
        check(ev["kind"] == "noted" and
              ev["detail"]["note"] == "Thanks, I will look at it", ev)
        # a command that cannot be done changes nothing and says why
        reply(d, "gmail-reply.eml", pid, to, parent, "snooze whenever",
              expect=0)
        n += 1
        a = sink.wait_for_messages(n)[-1]
        check("Nothing was changed" in body_of(a), body_of(a))
        # Outlook, HTML only in ISO-8859-1: done with a note
        reply(d, "outlook-reply.eml", pid, to, parent,
              "done Termine geschickt, Gr\u00fc\u00dfe")
        n += 1
        a = sink.wait_for_messages(n)[-1]
        p = d.json("show", str(pid))
        check(p["promise"]["state"] == "kept", p["promise"])
        ev = [e for e in p["events"] if e["kind"] == "kept"][0]
        check(ev["actor"] == "dan" and ev["detail"]["via"] == "email", ev)
        check(ev["detail"]["note"] == "Termine geschickt, Gr\u00fc\u00dfe",
              ev)
        check("is kept" in body_of(a), body_of(a))
        out = d.client("show", str(pid)).stdout
        check("via email" in out or "email" in out, out)
        d.stop()


def test_notices_carry_reply_to():
    """The due notice to the owner and the escalation to the manager each
    carry a Reply-To signed for their recipient: the manager's "ack" acts
    as the manager, the owner's "done" as the owner."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-notice",
                        policy="escalate_after = 0s\n"
                               "escalate_in_business_hours = false\n")
        pid = d.json("add", "Call Acme back", "--owner", "dan", "--due",
                     "+3s", "--nudge", "none")["promise"]["id"]
        msgs = sink.wait_for_messages(2, timeout=30)
        by = {m["rcpt_tos"][0]: m["message"] for m in msgs}
        check(set(by) == {"dan@example.com", "alice@example.com"}, by)
        rt = {k: v["Reply-To"] for k, v in by.items()}
        check(all(a.startswith(f"promise+{pid}.") for a in rt.values()), rt)
        check(rt["dan@example.com"] != rt["alice@example.com"],
              "each recipient's own token")
        ack = fixture("gmail-reply.eml", TO=rt["alice@example.com"],
                      ID=str(pid), IN_REPLY_TO=by["alice@example.com"]
                      ["Message-ID"], REFERENCES="", COMMAND="ack") \
            .replace(b"Dan Example <dan@example.com>",
                     b"Alice Boss <alice@example.com>")
        mail_in(d, ack, rt["alice@example.com"], expect=0)
        ev = [e for e in d.json("show", str(pid))["events"]
              if e["kind"] == "acked"]
        check(len(ev) == 1 and ev[0]["actor"] == "alice" and
              ev[0]["detail"]["via"] == "email", ev)
        reply(d, "gmail-reply.eml", pid, rt["dan@example.com"],
              by["dan@example.com"]["Message-ID"], "done called them")
        p = d.json("show", str(pid))["promise"]
        check(p["state"] == "kept", p)
        d.stop()


def test_cancel_told():
    """told cancels with the customer told; the reply address in another
    case (a mail server's folding of it) acts the same."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-told")
        pid, to, parent = made(d, sink)
        check(to == to.lower(), f"{to}: its token in lower case")
        reply(d, "gmail-reply.eml", pid, to.upper(), parent,
              "told we cannot deliver before March")
        p = d.json("show", str(pid))
        check(p["promise"]["state"] == "cancelled", p["promise"])
        ev = p["events"][-1] if p["events"][-1]["kind"] == "cancelled" \
            else [e for e in p["events"] if e["kind"] == "cancelled"][0]
        check(ev["detail"]["told_customer"] is True, ev)
        d.stop()


def test_bad_tokens_change_nothing():
    """A tampered token, another promise's token, and a token signed with
    a key since retired: refused, the promise as it was, and the sender
    told why (by promised: the mail server hears 0, and sends no bounce);
    a key rotation keeps tokens of both keys working."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-token",
                        keys=("old-key-0123456789",))
        pid, to, parent = made(d, sink)
        before = d.json("show", str(pid))
        local, dom = to.split("@")
        c = local[-1]
        # another letter, not the same one in another case
        tampered = local[:-1] + ("b" if c.lower() == "a" else "a") + "@" + dom
        other = to.replace(f"promise+{pid}.", f"promise+{pid + 1}.")
        n = 1
        for addr in (tampered, other):
            r = reply(d, "gmail-reply.eml", pid, addr, parent, "done",
                      expect=0)
            check(b"not one promised signed" in r.stderr, r.stderr)
            n += 1
            a = sink.wait_for_messages(n)[-1]
            check("Nothing was changed" in body_of(a), body_of(a))
        after = d.json("show", str(pid))
        check(after["promise"] == before["promise"],
              (before["promise"], after["promise"]))
        check(len(after["events"]) == len(before["events"]), after)
        # rotation: old and new key, both accepted
        with open(d.key_path, "w") as f:
            f.write("old-key-0123456789\nnew-key-0123456789\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.log_text().count("configuration reloaded") == 1,
                 what="the reload")
        reply(d, "gmail-reply.eml", pid, to, parent, "noted", expect=0)
        # ack of a promise not escalated: refused, and said why
        r = reply(d, "gmail-reply.eml", pid, to, parent, "ack", expect=0)
        check(b"not been escalated" in r.stderr, r.stderr)
        # the old key retired: its token is refused
        with open(d.key_path, "w") as f:
            f.write("new-key-0123456789\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: d.log_text().count("configuration reloaded") == 2,
                 what="the second reload")
        r = reply(d, "gmail-reply.eml", pid, to, parent, "done", expect=0)
        check(b"not one promised signed" in r.stderr, r.stderr)
        check(d.json("show", str(pid))["promise"]["state"] == "open",
              "still open")
        d.stop()


def test_delivered_twice():
    """The mail server delivers a mail again when promise mail-in did not
    get promised's answer (killed, the connection dropped): the second
    delivery, before or after a restart, acts no second time and sends no
    second answer, and says what the first did (exit 0); a mail without a
    Message-ID is known by its headers and body; the record of mails is
    pruned as new ones come."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-twice")
        data = fixture("thunderbird-bcc.eml")
        mail_in(d, data, "promises@example.com", expect=0)
        pid = promises(d)[0]["id"]
        m = sink.wait_for_messages(1)[0]["message"]
        to, parent = m["Reply-To"], m["Message-ID"]
        r = mail_in(d, data, "promises@example.com", expect=0)
        check(f"already done: promise {pid} was made".encode() in r.stderr,
              r.stderr)
        # the same Message-ID folded, its domain in capitals, and the
        # address delivered to in another case: the same mail
        refolded = data.replace(
            b"Message-ID: <3f1c2a9e-8b7d-4c1e-9a55-000000000001@example.com>",
            b"Message-ID:\r\n <3f1c2a9e-8b7d-4c1e-9a55-000000000001"
            b"@EXAMPLE.COM>")
        check(refolded != data, "the Message-ID line replaced")
        r = mail_in(d, refolded, "Promises@Example.com", expect=0)
        check(b"already done" in r.stderr, r.stderr)
        check(len(promises(d)) == 1, promises(d))
        # a reply, delivered twice; the second time with its address in
        # lower case, as some mail servers hand it over
        done = fixture("gmail-reply.eml", TO=to, ID=str(pid),
                       IN_REPLY_TO=parent, REFERENCES=parent,
                       COMMAND="done sent the times")
        mail_in(d, done, to, expect=0)
        sink.wait_for_messages(2)
        r = mail_in(d, done, to.lower(), expect=0)
        check(f"already done: promise {pid} was acted on".encode()
              in r.stderr, r.stderr)
        ev = d.json("show", str(pid))["events"]
        check([e["kind"] for e in ev].count("kept") == 1, ev)
        # the ok lost: the request's connection closed before its reply
        # was read; the mail server's next delivery finds it done
        note = fixture("gmail-reply.eml", TO=to, ID=str(pid),
                       IN_REPLY_TO=parent, REFERENCES=parent,
                       COMMAND="Thanks, they have them")
        msgid = [ln for ln in note.split(b"\r\n")
                 if ln.startswith(b"Message-ID:")][0].split(b" ", 1)[1]
        s = d.connect()
        s.sendall(json.dumps({
            "v": 1, "op": "mail", "recipient": to,
            "from": {"address": "dan@example.com", "name": "Dan Example"},
            "subject": f"Re: [promise {pid}] Demo times",
            "message_id": msgid.decode().strip("<>"),
            "text": "Thanks, they have them"}).encode() + b"\n")
        s.close()
        wait_for(lambda: any(e["kind"] == "noted" for e in
                             d.json("show", str(pid))["events"]),
                 what="the note committed")
        sink.wait_for_messages(3)
        d.stop()
        d.start()
        r = mail_in(d, note, to, expect=0)
        check(f"already done: kept as a note on promise {pid}".encode()
              in r.stderr, r.stderr)
        ev = d.json("show", str(pid))["events"]
        check([e["kind"] for e in ev].count("noted") == 1, ev)
        # no Message-ID: the same headers and body are the same mail,
        # another body another mail
        bare = b"\r\n".join(
            ln for ln in other_id(data, 7).split(b"\r\n")
            if not ln.startswith(b"Message-ID:"))
        mail_in(d, bare, "promises@example.com", expect=0)
        r = mail_in(d, bare, "promises@example.com", expect=0)
        check(b"already done" in r.stderr, r.stderr)
        check(len(promises(d)) == 2, promises(d))
        mail_in(d, bare.replace(b"Demo", b"Trial"), "promises@example.com",
                expect=0)
        check(len(promises(d)) == 3, promises(d))
        # a record older than 30 days goes when a new mail comes
        old = int(time.time()) - 31 * 86400
        d.sql("INSERT INTO mails (key, at, outcome) VALUES "
              f"('x@example.com <old@example.com>', {old}, "
              "'{\"outcome\":\"made\",\"promise\":1}')")
        before = d.sql("SELECT count(*) FROM mails")[0][0]
        mail_in(d, other_id(data, 8), "promises@example.com", expect=0)
        keys = [k for (k,) in d.sql("SELECT key FROM mails")]
        check(len(keys) == before and
              "x@example.com <old@example.com>" not in keys, keys)
        time.sleep(0.5)
        msgs = sink.messages()
        check(len(msgs) == 6, f"one answer a mail, {len(msgs)} sent")
        d.stop()


def test_gateway_only_and_exit_codes():
    """Only [mail] gateway_users may hand mail in (77); an address not
    promised's is 67; no mail at all is 65; promised not running is 75,
    so the mail server keeps the mail."""
    with SmtpSink().start() as sink:
        d = mail_daemon(sink, "mailin-gw", gateway="postfix")
        r = mail_in(d, fixture("thunderbird-bcc.eml"),
                    "promises@example.com", expect=77)
        check(b"gateway_users" in r.stderr, r.stderr)
        check(promises(d) == [], "nothing made by a stranger")
        d.stop()
        d = mail_daemon(sink, "mailin-codes")
        r = mail_in(d, fixture("thunderbird-bcc.eml"),
                    "sales@example.com", expect=67)
        check(b"no such address" in r.stderr, r.stderr)
        mail_in(d, b"", "promises@example.com", expect=65)
        mail_in(d, b"just some bytes\r\n\r\n", "promises@example.com",
                expect=65)
        # robots are not answered: no loop with a vacation responder
        auto = fixture("thunderbird-bcc.eml").replace(
            b"MIME-Version: 1.0", b"Auto-Submitted: auto-replied\r\n"
            b"MIME-Version: 1.0", 1)
        mail_in(d, auto, "promises@example.com", expect=0)
        check(promises(d) == [], "nothing made of a robot's mail")
        d.stop()
        r = mail_in(d, fixture("thunderbird-bcc.eml"),
                    "promises@example.com", expect=75)
        check(b"try again" in r.stderr, r.stderr)
        mail_in(d, fixture("thunderbird-bcc.eml"), "promises@example.com",
                sock=os.path.join(d.dir, "nonexistent.sock"), expect=75)


def test_help():
    """promise help mail-in and promise mail-in --help run the program's
    own usage; promise --help names the command."""
    for args in (["help", "mail-in"], ["mail-in", "--help"]):
        r = subprocess.run([PROMISE, *args], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0 and
              r.stdout.startswith("usage: promise mail-in"), r)
    r = subprocess.run([PROMISE, "--help"], capture_output=True, text=True,
                       timeout=30)
    check("mail-in" in r.stdout, r.stdout)


if __name__ == "__main__":
    run([test_mail_section, test_new_promise_by_bcc,
         test_outlook_html_base64_latin1, test_forward_tomorrow,
         test_unauthenticated_refused, test_replies_act,
         test_notices_carry_reply_to, test_cancel_told, test_delivered_twice,
         test_bad_tokens_change_nothing, test_gateway_only_and_exit_codes,
         test_help])
