# SPDX-License-Identifier: MIT
"""Operations: online backups and the Prometheus metrics exposition."""

import json
import os
import re
import sqlite3
import subprocess
import threading
import time

from harness import PROMISE, Conn, Daemon, check, run, wait_for

BACKUP_OUT = re.compile(r"backup written to (/\S+) \((\d+) pages, (\d+) bytes\)$")


def fill(d, rows, note_len=3000):
    """Makes the database large, so that its backup takes many steps."""
    d.start()
    d.stop()
    now = int(time.time())
    db = sqlite3.connect(d.db)
    db.executemany(
        "INSERT INTO promises (title, owner, note, due_at, created_at, "
        "created_by, state, settled_at) "
        "VALUES (?, 'filler', ?, ?, ?, 'filler', 'kept', ?)",
        [(f"filler {i}", f"{i:08d}" + "x" * note_len, now + 60, now, now)
         for i in range(rows)])
    db.commit()
    db.close()


class Burst:
    """Pipelined adds on one raw connection, at most `window` in flight."""

    def __init__(self, d, total=5000, window=200):
        self.c = Conn(d)
        self.total = total
        self.window = window
        self.acked = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.error = None
        self.due = int(time.time()) + 3600
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.sender = threading.Thread(target=self._send, daemon=True)

    def start(self):
        self.reader.start()
        self.sender.start()
        return self

    def _send(self):
        try:
            for i in range(self.total):
                with self.cond:
                    while i - len(self.acked) >= self.window and not self.error:
                        self.cond.wait(5)
                    if self.error:
                        return
                self.c.send({"v": 1, "op": "add", "title": f"burst {i}",
                             "due_at": self.due, "nudge": []})
        except Exception as e:  # noqa: BLE001 - reported by join()
            self.error = e

    def _read(self):
        try:
            for _ in range(self.total):
                r = self.c.recv()
                check(r["ok"], r)
                with self.cond:
                    self.acked.append(r["promise"]["id"])
                    self.cond.notify()
        except Exception as e:  # noqa: BLE001 - reported by join()
            with self.cond:
                self.error = e
                self.cond.notify()

    def count(self):
        with self.lock:
            return len(self.acked)

    def snapshot(self):
        with self.lock:
            return list(self.acked)

    def join(self):
        self.sender.join(timeout=60)
        self.reader.join(timeout=60)
        self.c.close()
        check(self.error is None, f"burst failed: {self.error!r}")
        check(len(self.acked) == self.total,
              f"{len(self.acked)} of {self.total} adds acknowledged")


def open_backup(path):
    db = sqlite3.connect(path)
    check(db.execute("PRAGMA integrity_check").fetchall() == [("ok",)],
          "backup fails integrity_check")
    return db


def test_backup():
    d = Daemon("backup")
    try:
        fill(d, 12000)
        d.start()
        path = os.path.join(d.dir, "during-burst.db")
        b = Burst(d).start()
        wait_for(lambda: b.count() >= 500 or b.error, timeout=30,
                 what="the burst to get going")
        before = b.snapshot()
        r = d.client("backup", path)
        during = b.count() - len(before)
        b.join()
        m = BACKUP_OUT.match(r.stdout.strip())
        check(m, f"backup output: {r.stdout!r}")
        check(m.group(1) == path, f"{m.group(1)} is not {path}")
        pages, size = int(m.group(2)), int(m.group(3))
        check(os.path.getsize(path) == size, f"{size} bytes said, "
              f"{os.path.getsize(path)} written")
        check(os.stat(path).st_mode & 0o777 == 0o600,
              f"mode {os.stat(path).st_mode & 0o777:o}, want 600")
        steps = d.log_text().count("pages copied")
        check(steps >= 2, f"the backup took {steps + 1} step(s), want "
              "several")
        check(during > 0, "no add was answered while the backup ran")
        db = open_backup(path)
        check(db.execute("PRAGMA page_count").fetchone()[0] == pages,
              "page count differs")
        ids = {row[0] for row in db.execute("SELECT id FROM promises")}
        fillers = db.execute("SELECT count(*) FROM promises "
                             "WHERE owner = 'filler'").fetchone()[0]
        db.close()
        missing = [i for i in before if i not in ids]
        check(not missing, f"{len(missing)} acknowledged promises missing "
              f"from the backup: {missing[:10]}")
        check(fillers == 12000, f"{fillers} of 12000 old promises")

        # never over an existing file
        r = d.client("backup", path, expect=1)
        check("already exists" in r.stderr, r.stderr)
        r = d.client("--json", "backup", path, expect=1)
        check(json.loads(r.stdout)["error"]["code"] == "conflict", r.stdout)
        check(os.path.getsize(path) == size, "an existing file was touched")

        # a relative FILE is made absolute by the client
        r = subprocess.run([PROMISE, "--socket", d.sock, "backup",
                            "rel.db"], capture_output=True, text=True,
                           timeout=60, cwd=d.dir)
        check(r.returncode == 0, r)
        want = os.path.join(os.path.realpath(d.dir), "rel.db")
        m = BACKUP_OUT.match(r.stdout.strip())
        check(m and m.group(1) == want, f"{r.stdout!r}, want {want}")
        open_backup(want).close()

        # the client refuses what cannot name a file; the daemon a
        # relative path or a missing directory
        d.client("backup", d.dir + "/", expect=2)
        d.client("backup", os.path.join(d.dir, "nowhere", "x.db"),
                 expect=1)
        c = Conn(d)
        r = c.call({"v": 1, "op": "backup", "path": "relative.db"})
        check(r["error"]["code"] == "invalid", r)
        r = c.call({"v": 1, "op": "backup",
                    "path": os.path.join(d.dir, "nowhere", "x.db")})
        check(r["error"]["code"] == "invalid", r)
        c.close()
    finally:
        d.stop()
        d.cleanup()


def test_backup_reply_order():
    """Replies behind a pending backup wait for it; one backup at a time."""
    d = Daemon("backup-order")
    try:
        fill(d, 3000)
        d.start()
        due = int(time.time()) + 3600
        c = Conn(d)
        reqs = [{"v": 1, "op": "add", "title": "before", "due_at": due,
                 "tag": 1},
                {"v": 1, "op": "backup", "path": os.path.join(d.dir, "a.db"),
                 "tag": 2},
                {"v": 1, "op": "backup", "path": os.path.join(d.dir, "b.db"),
                 "tag": 3},
                {"v": 1, "op": "add", "title": "after", "due_at": due,
                 "tag": 4},
                {"v": 1, "op": "status", "tag": 5}]
        c.send(b"".join(json.dumps(q).encode() + b"\n" for q in reqs))
        got = [c.recv() for _ in reqs]
        check([r.get("tag") for r in got] == [1, 2, 3, 4, 5],
              f"replies out of order: {got}")
        check(got[1]["ok"] and got[1]["path"] == reqs[1]["path"], got[1])
        check(got[2]["error"]["code"] == "unavailable", got[2])
        check(not os.path.exists(reqs[2]["path"]), "second backup written")
        check(got[3]["ok"] and got[4]["ok"], got)
        db = open_backup(reqs[1]["path"])
        titles = {row[0] for row in db.execute("SELECT title FROM promises "
                                               "WHERE owner <> 'filler'")}
        db.close()
        check("before" in titles, titles)
        after = d.json("show", str(got[3]["promise"]["id"]))["promise"]
        check(after["title"] == "after", after)
        c.close()
    finally:
        d.stop()
        d.cleanup()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_metrics(text):
    """{family: {"help", "type", "samples": [(name, labels, value)]}}"""
    fams = {}
    check(text.endswith("\n"), "exposition must end with a newline")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            check(name not in fams, f"{name} described twice")
            fams[name] = {"help": help_text, "type": None, "samples": []}
            continue
        if line.startswith("# TYPE "):
            name, typ = line[7:].split(" ")
            check(name in fams and fams[name]["type"] is None,
                  f"TYPE of {name} without HELP first, or twice")
            check(typ in ("counter", "gauge", "histogram"), line)
            fams[name]["type"] = typ
            continue
        check(not line.startswith("#") and line, f"stray line {line!r}")
        m = SAMPLE.match(line)
        check(m, f"bad sample line {line!r}")
        name, labels, value = m.group(1), m.group(2), float(m.group(3))
        lab = {}
        if labels:
            pos = 0
            for lm in LABEL.finditer(labels):
                check(lm.start() == pos, f"bad labels in {line!r}")
                lab[lm.group(1)] = lm.group(2)
                pos = lm.end()
            check(pos == len(labels), f"bad labels in {line!r}")
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and fams.get(base, {}).get("type") \
                    == "histogram":
                fam = base
        check(fam in fams and fams[fam]["type"],
              f"sample {name} before its HELP and TYPE")
        fams[fam]["samples"].append((name, lab, value))
    for name, f in fams.items():
        check(f["samples"], f"{name} has no samples")
        check(f["help"].strip(), f"{name} has an empty HELP")
        if f["type"] == "counter":
            check(name.endswith("_total"), f"counter {name} must end _total")
    return fams


def value(fams, name, **labels):
    for f in fams.values():
        for n, lab, v in f["samples"]:
            if n == name and lab == labels:
                return v
    raise AssertionError(f"no sample {name}{labels}")


def test_metrics():
    d = Daemon("metrics", policy="escalate_after = 1h\n").start()
    try:
        now = int(time.time())
        late = d.json("add", "nudged then due", "--due", f"@{now + 3}",
                      "--nudge", "1s")["promise"]["id"]
        kept_late = d.json("add", "kept late", "--due", f"@{now + 3}",
                           "--nudge", "none")["promise"]["id"]
        snoozed = d.json("add", "snoozed after due", "--due", f"@{now + 3}",
                         "--nudge", "none")["promise"]["id"]
        on_time = d.json("add", "kept on time", "--due", "in 3d")
        dropped = d.json("add", "cancelled", "--due", "in 3d")
        d.json("add", "still ahead", "--due", "in 3d")
        d.client("done", str(on_time["promise"]["id"]))
        d.client("cancel", str(dropped["promise"]["id"]), "--reason", "no")

        def kinds(pid):
            return [e["kind"] for e in d.json("show", str(pid))["events"]]

        for pid in (late, kept_late, snoozed):
            wait_for(lambda pid=pid: "due" in kinds(pid), timeout=15,
                     what=f"promise {pid} to come due")
        d.client("done", str(kept_late))
        d.client("snooze", str(snoozed), "--due", "in 1d", "--reason", "x")
        wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0
                 and d.json("status")["deliveries"]["inflight"] == 0,
                 timeout=15, what="the outbox to settle")

        text = d.json("metrics")["text"]
        fams = parse_metrics(text)
        status = d.json("status")
        everything = d.json("list", "--state", "all")["promises"]
        stages = sum(1 for p in everything for k in kinds(p["id"])
                     if k in ("nudge", "due", "escalation"))
        check(stages == 4, f"{stages} stages fired, want 4")

        check(value(fams, "promised_open_promises") == status["open"] == 3,
              (text, status))
        check(value(fams, "promised_overdue_promises") == status["overdue"]
              == 1, (text, status))
        check(value(fams, "promised_promises_total", state="kept") == 2, text)
        check(value(fams, "promised_promises_total", state="cancelled") == 1,
              text)
        # open past the deadline, kept after it, snoozed after its due
        # notice: three; the one kept in time is not
        check(value(fams, "promised_missed_total") == 3, text)
        dl = d.json("deliveries", "--limit", "0")["deliveries"]
        for state in ("pending", "sent", "failed"):
            want = sum(1 for x in dl if x["state"] == state)
            check(value(fams, "promised_deliveries", state=state) == want,
                  f"deliveries {state}: {text}")
        check(value(fams, "promised_scheduled_timers") == status["scheduled"],
              text)
        check(value(fams, "promised_start_time_seconds")
              == status["started_at"], text)
        check(value(fams, "promised_build_info", version=status["version"])
              == 1, text)

        h = fams["promised_fire_lateness_seconds"]
        check(h["type"] == "histogram", h)
        buckets = [(lab["le"], v) for n, lab, v in h["samples"]
                   if n.endswith("_bucket")]
        check(buckets[-1][0] == "+Inf", buckets)
        les = [float(le) for le, _ in buckets]
        check(les == sorted(les) and len(set(les)) == len(les), buckets)
        counts = [v for _, v in buckets]
        check(counts == sorted(counts), f"buckets not cumulative: {buckets}")
        count = value(fams, "promised_fire_lateness_seconds_count")
        check(count == counts[-1] == stages, f"count {count}, +Inf "
              f"{counts[-1]}, {stages} stages fired")
        total = value(fams, "promised_fire_lateness_seconds_sum")
        check(0 <= total <= count * 10, f"sum {total}")

        # the client prints the text as it came
        check(d.client("metrics").stdout == text, "client altered the text")
        for cmd in ("metrics", "backup"):
            r = d.client(cmd, "--help")
            check(r.stdout.startswith(f"usage: promise {cmd}"), r.stdout)
        r = d.client("--help")
        check("backup FILE" in r.stdout and "metrics" in r.stdout, r.stdout)
        d.client("metrics", "extra", expect=2)
        d.client("backup", expect=2)
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_backup, test_backup_reply_order, test_metrics])
