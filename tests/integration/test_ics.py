#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Calendar entries: 'promise show ID --ics' prints the promise as an
iCalendar object (RFC 5545) made by the daemon: CRLF lines of at most 75
octets, one VEVENT at the deadline with the promise's UID, its title and
customer kept whatever characters they hold, SEQUENCE counting snoozes,
and STATUS:CANCELLED once cancelled.  The text is read back here by
unfolding and unescaping as RFC 5545 says, independently of libical."""

import subprocess
import time

from harness import PROMISE, Daemon, check, run

TITLE = "Send Müller the quote; then call, back \\ soon"
FOR = "Müller GmbH, Köln"


def ics_bytes(d, pid, *extra):
    r = subprocess.run([PROMISE, "--socket", d.sock, "show", str(pid),
                        "--ics", *extra], capture_output=True, timeout=30)
    check(r.returncode == 0, f"exit {r.returncode}: {r.stderr!r}")
    return r.stdout


def parse(raw):
    """The content lines of raw (unfolded), after checking its framing."""
    check(raw.endswith(b"\r\n"), raw[-20:])
    lines = raw[:-2].split(b"\r\n")
    for ln in lines:
        check(b"\n" not in ln and b"\r" not in ln, f"bare line end: {ln!r}")
        check(len(ln) <= 75, f"{len(ln)} octets: {ln!r}")
    out = []
    for ln in lines:
        if ln.startswith(b" ") and out:
            out[-1] += ln[1:]
        else:
            out.append(ln)
    return [ln.decode("utf-8") for ln in out]


def unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append({"n": "\n", "N": "\n"}.get(v[i + 1], v[i + 1]))
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def props(lines, component="VEVENT"):
    """name -> value of the first component's own properties."""
    got, depth, inside = {}, 0, False
    for ln in lines:
        if ln == f"BEGIN:{component}" and not inside:
            inside, depth = True, 0
            continue
        if not inside:
            continue
        if ln.startswith("BEGIN:"):
            depth += 1
        elif ln.startswith("END:"):
            if depth == 0:
                break
            depth -= 1
        elif depth == 0:
            name, _, value = ln.partition(":")
            check(name not in got, f"{name} twice")
            got[name] = value
    return got


def utc(t):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t))


def test_show_ics():
    d = Daemon("ics").start()
    try:
        due = int(time.time()) + 3 * 86400
        p = d.json("add", TITLE, "--due", f"@{due}", "--for", FOR,
                   "--note", "line one\nline two")["promise"]
        lines = parse(ics_bytes(d, p["id"]))
        check(lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR",
              lines)
        check("VERSION:2.0" in lines and "METHOD:PUBLISH" in lines, lines)
        check(lines.count("BEGIN:VEVENT") == 1, lines)
        ev = props(lines)
        check(ev["UID"].startswith(f"promise-{p['id']}@"), ev)
        check(ev["DTSTART"] == utc(due), ev)
        check("DTEND" not in ev and "ATTENDEE" not in ev, ev)
        check(unescape(ev["SUMMARY"]) == TITLE, ev["SUMMARY"])
        desc = unescape(ev["DESCRIPTION"])
        check(desc.startswith(f"Promised to {FOR} by "), desc)
        check("line one\nline two" in desc, desc)
        check(ev["STATUS"] == "CONFIRMED" and ev["SEQUENCE"] == "0", ev)
        check(props(lines, "VALARM")["TRIGGER"] == "-PT15M", lines)

        # a snooze moves the entry and bumps SEQUENCE, so calendars
        # replace the copy they took
        d.client("snooze", str(p["id"]), "--due", f"@{due + 3600}",
                 "--reason", "they asked for more time")
        ev = props(parse(ics_bytes(d, p["id"])))
        check(ev["DTSTART"] == utc(due + 3600) and ev["SEQUENCE"] == "1",
              ev)
        uid = ev["UID"]
        d.client("cancel", str(p["id"]), "--reason", "not needed")
        lines = parse(ics_bytes(d, p["id"]))
        ev = props(lines)
        check(ev["STATUS"] == "CANCELLED" and ev["UID"] == uid, ev)
        check("BEGIN:VALARM" not in lines, "no reminder once settled")

        # --json passes the reply through, the entry in "ics"
        j = d.json("show", str(p["id"]), "--ics")
        check(j["ok"] and j["ics"].startswith("BEGIN:VCALENDAR\r\n"), j)
        check(j["promise"]["id"] == p["id"], j)
        # without --ics, show is as it was
        out = d.client("show", str(p["id"])).stdout
        check("BEGIN:VCALENDAR" not in out and TITLE in out, out)
        r = d.client("show", "999", "--ics", expect=1)
        check("999" in r.stderr, r.stderr)
        r = d.call({"v": 1, "op": "get", "id": p["id"], "ics": "yes"})
        check(not r["ok"] and r["error"]["code"] == "invalid" and
              "ics" in r["error"]["message"], r)
        r = d.client("list", "--ics", expect=2)
        check("--ics" in r.stderr, r.stderr)
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_show_ics])
