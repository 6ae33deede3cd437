# SPDX-License-Identifier: MIT
"""Resource limits and faults: idle and trickling clients, the connection
cap, a full database, SIGTERM in the middle of a burst."""

import json
import os
import signal
import sqlite3
import threading
import time

from harness import Conn, Daemon, check, run, wait_for


def test_idle_and_trickling_clients_are_closed():
    d = Daemon("idle")
    d.write_conf(conf_extra="\n[daemon]\nidle_timeout = 1s\n")
    # a second [daemon] section adds to the first, as inih reads it
    d.start()
    try:
        quiet, trickle, busy = Conn(d), Conn(d), Conn(d)
        req = json.dumps({"v": 1, "op": "status"}).encode()
        t0 = time.monotonic()
        closed = {}
        i = 0
        while time.monotonic() - t0 < 4 and len(closed) < 2:
            if "trickle" not in closed:
                try:
                    trickle.send(req[i % len(req):i % len(req) + 1])
                except OSError:
                    closed["trickle"] = time.monotonic() - t0
            i += 1
            check(busy.call({"v": 1, "op": "status"})["ok"], "busy starved")
            for name, c in (("quiet", quiet), ("trickle", trickle)):
                if name in closed:
                    continue
                c.s.settimeout(0.01)
                try:
                    data = c.s.recv(4096)
                    if data == b"" or b"idle" in data:
                        closed[name] = time.monotonic() - t0
                except (TimeoutError, OSError):
                    pass
            time.sleep(0.2)
        check(set(closed) == {"quiet", "trickle"}, f"closed: {closed}")
        check(all(t < 3.5 for t in closed.values()), closed)
        check(busy.call({"v": 1, "op": "status"})["ok"], "busy was closed")
        for c in (quiet, trickle, busy):
            c.close()
    finally:
        d.stop()
        d.cleanup()


def test_connection_cap():
    d = Daemon("cap")
    d.write_conf(conf_extra="\n[daemon]\nmax_connections = 4\n")
    d.start()
    try:
        def connect():
            # the harness's own readiness probe may not be closed yet
            c = Conn(d)
            try:
                if c.call({"v": 1, "op": "status"})["ok"]:
                    return c
            except (OSError, KeyError):
                pass
            c.close()
            return None
        conns = [wait_for(connect, timeout=10, what="a connection")
                 for _ in range(4)]
        extra = Conn(d)
        r = extra.recv()
        check(not r["ok"] and "too many connections" in
              r["error"]["message"], r)
        check(extra.closed(), "the extra connection stayed open")
        conns.pop().close()

        def slot_freed():
            again = Conn(d)
            try:
                return again.call({"v": 1, "op": "status"})["ok"]
            except (OSError, KeyError):
                return False
            finally:
                again.close()
        wait_for(slot_freed, timeout=5, what="the freed slot")
        for c in conns + [extra]:
            c.close()
    finally:
        d.stop()
        d.cleanup()


def test_full_database_refuses_then_recovers():
    d = Daemon("full")
    d.write_conf(conf_extra="\n[daemon]\nmax_database_size = 300K\n")
    d.start()
    try:
        c = Conn(d)
        due = int(time.time()) + 86400
        acked, refused = [], 0
        for i in range(3000):
            r = c.call({"v": 1, "op": "add", "title": f"fill {i} " + "x" * 200,
                        "due_at": due, "nudge": []})
            if r["ok"]:
                acked.append(r["promise"]["id"])
            else:
                check(r["error"]["code"] == "unavailable", r)
                refused += 1
                if refused >= 5:
                    break
        check(refused >= 5, f"never full after {len(acked)} adds")
        # everyone else is still served, and reads still work
        check(Conn(d).call({"v": 1, "op": "status"})["ok"], "status")
        listed = {p["id"] for p in d.json("list")["promises"]}
        check(set(acked) <= listed, "an acknowledged add was lost")
        # space returns: lift the cap
        with open(d.conf) as f:
            text = f.read()
        with open(d.conf, "w") as f:
            f.write(text.replace("max_database_size = 300K",
                                 "max_database_size = 0"))
        d.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log_text(),
                 what="the reload")
        r = c.call({"v": 1, "op": "add", "title": "after", "due_at": due})
        check(r["ok"], r)
        c.close()
        d.stop()
        d.start()
        listed = {p["id"] for p in d.json("list")["promises"]}
        check(set(acked) <= listed, "lost across restart")
    finally:
        d.stop()
        d.cleanup()


def test_sigterm_under_load_loses_nothing_acknowledged():
    d = Daemon("term").start()
    try:
        c = Conn(d)
        acked = []
        due = int(time.time()) + 86400

        def reader():
            try:
                while True:
                    r = c.recv()
                    if r.get("ok"):
                        acked.append(r["promise"]["id"])
            except Exception:  # noqa: BLE001 - the daemon goes away
                pass
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        batch = b"".join(json.dumps({"v": 1, "op": "add", "title": f"t{i}",
                                     "due_at": due}).encode() + b"\n"
                         for i in range(5000))
        sender = threading.Thread(target=lambda: c.s.sendall(batch),
                                  daemon=True)
        sender.start()
        wait_for(lambda: len(acked) > 100, what="acknowledgements")
        d.stop()  # asserts exit status 0 and a clean sanitizer log
        t.join(timeout=10)
        c.close()
        d.start()
        listed = {p["id"] for p in d.json("list")["promises"]}
        missing = [i for i in acked if i not in listed]
        check(not missing, f"{len(missing)} acknowledged adds lost")
        print(f"     {len(acked)} acknowledged before SIGTERM, all kept")
    finally:
        d.stop()
        d.cleanup()


def test_locked_database_answers_unavailable_and_recovers():
    d = Daemon("locked").start()
    try:
        due = int(time.time()) + 86400
        c = Conn(d)
        check(c.call({"v": 1, "op": "add", "title": "before",
                      "due_at": due})["ok"], "add before the lock")
        # someone else holds the write lock (an operator's sqlite3, say)
        other = sqlite3.connect(d.db, timeout=0)
        other.execute("BEGIN EXCLUSIVE")
        t0 = time.monotonic()
        r = c.call({"v": 1, "op": "add", "title": "blocked", "due_at": due})
        waited = time.monotonic() - t0
        check(not r["ok"] and r["error"]["code"] == "unavailable", r)
        check(waited < 2, f"the loop waited {waited:.2f}s for the lock")
        other.rollback()
        other.close()
        r = c.call({"v": 1, "op": "add", "title": "after", "due_at": due})
        check(r["ok"], r)
        titles = {p["title"] for p in d.json("list")["promises"]}
        check(titles == {"before", "after"}, titles)
        c.close()
    finally:
        d.stop()
        d.cleanup()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_client_that_never_reads_is_held_back():
    d = Daemon("noread").start()
    try:
        greedy = Conn(d)
        greedy.s.setblocking(False)
        line = json.dumps({"v": 1, "op": "status"}).encode() + b"\n"
        chunk = line * 1000
        before = rss_kib(d.proc.pid)
        sent, t0 = 0, time.monotonic()
        worst = 0.0
        other = Conn(d)
        while time.monotonic() - t0 < 3:
            try:
                sent += greedy.s.send(chunk)
            except BlockingIOError:
                time.sleep(0.05)
            t1 = time.monotonic()
            check(other.call({"v": 1, "op": "status"})["ok"], "starved")
            worst = max(worst, time.monotonic() - t1)
        grown = rss_kib(d.proc.pid) - before
        print(f"     sent {sent} bytes unread-answered; daemon grew "
              f"{grown} KiB; worst other reply {worst * 1000:.0f} ms")
        # the daemon stops reading once 1 MiB of replies is owed, so the
        # rest waits in the kernel's buffers, not in the daemon's memory
        check(sent < 64 * 1024 * 1024, "the daemon kept reading")
        # ASan keeps freed memory in quarantine (256 MiB by default) and
        # memcheck on a freed-blocks list (20 MB) with its own shadow
        # memory, so resident size says nothing about growth there
        if not os.environ.get("ASAN_OPTIONS") and \
                not os.environ.get("PROMISED_VALGRIND"):
            check(grown < 32 * 1024, f"the daemon grew by {grown} KiB")
        check(worst < 1.0, f"another client waited {worst:.2f}s")
        greedy.close()
        other.close()
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_idle_and_trickling_clients_are_closed, test_connection_cap,
         test_full_database_refuses_then_recovers,
         test_sigterm_under_load_loses_nothing_acknowledged,
         test_client_that_never_reads_is_held_back,
         test_locked_database_answers_unavailable_and_recovers])
