# SPDX-License-Identifier: MIT
"""A hostile colleague: one local user flooding the socket, hoarding
connections or descriptors, or staging huge imports, while a probe
measures what another user sees meanwhile.

The hostile clients run as Debian's system user nobody through setpriv
(root is exempt from the per-user limits); the probe runs as root."""

import base64
import json
import os
import pwd
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time

from harness import Conn, Daemon, check, run, wait_for

# a raw client run as another user: connects, sends what it is given
# (base64 on argv), and reads nothing until stdin closes
FLOOD = r"""
import base64, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(base64.b64decode(sys.argv[2]))
print("sent", flush=True)
sys.stdin.read()
"""


# a client run as another user that opens argv[2] connections, asks each
# for status, prints what each was answered (one JSON list), and holds
# them until stdin closes
HOLD = r"""
import json, socket, sys
out, held = [], []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sys.argv[1])
    try:
        s.sendall(b'{"v":1,"op":"status"}\n')
    except OSError:
        pass
    r = json.loads(s.makefile().readline())
    out.append("ok" if r["ok"] else r["error"]["message"])
    held.append(s)
print(json.dumps(out), flush=True)
sys.stdin.read()
"""


# a client run as another user that keeps argv[3] connections each
# asking argv[2] and reading the answer, over and over, until stdin closes
LOOP = r"""
import socket, sys, threading
line = sys.argv[2].encode() + b"\n"
def ask():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    f = s.makefile("rb")
    try:
        while True:
            s.sendall(line)
            f.readline()
    except OSError:
        pass
for _ in range(int(sys.argv[3])):
    threading.Thread(target=ask, daemon=True).start()
print("sent", flush=True)
sys.stdin.read()
"""


def as_nobody():
    pw = pwd.getpwnam("nobody")
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
            "--clear-groups"]


def open_up(d):
    """The test's directory and socket reachable by nobody (a real
    install uses group promise-users and mode 0660)."""
    os.chmod(d.dir, 0o711)
    os.chmod(d.sock, 0o666)


def flood(d, data, user=True):
    """Starts a client (as nobody unless user is False) that sends data
    in one write and never reads; returns the process, once it sent."""
    cmd = (as_nobody() if user else []) + [
        sys.executable, "-c", FLOOD, d.sock,
        base64.b64encode(data).decode()]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    check(p.stdout.readline().strip() == "sent", "the flood was not sent")
    return p


def end(p):
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def probe(d, seconds, interval=0.05):
    """A status every interval for seconds over one connection; the
    latencies, or an error naming the one that took too long."""
    c = Conn(d)
    c.s.settimeout(10)
    lat = []
    t_end = time.monotonic() + seconds
    try:
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            try:
                r = c.call({"v": 1, "op": "status"})
            except (TimeoutError, OSError) as e:
                raise AssertionError(
                    f"status unanswered after {time.monotonic() - t0:.1f}s "
                    f"({len(lat)} answered before): {e}") from e
            check(r["ok"], r)
            lat.append(time.monotonic() - t0)
            time.sleep(interval)
    finally:
        c.close()
    return lat


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def sanitized():
    return bool(os.environ.get("ASAN_OPTIONS")
                or os.environ.get("PROMISED_VALGRIND"))


def import_promises(d, n, owner=None, pad=100):
    due = int(time.time()) + 30 * 86400
    items = [{"title": f"promise {i} " + "x" * pad, "due_at": due,
              "nudge": []} for i in range(n)]
    if owner:
        for it in items:
            it["owner"] = owner
    c = Conn(d)
    try:
        step = 40000 // (pad + 100)
        for i in range(0, n, step):
            r = c.call({"v": 1, "op": "import",
                        "promises": items[i:i + step],
                        "more": i + step < n})
            check(r["ok"], r)
    finally:
        c.close()
    return r["ids"]


def report(what, lat, extra=""):
    lat = sorted(lat)
    print(f"     {what}: {len(lat)} probes, p50 "
          f"{lat[len(lat) // 2] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms"
          f"{extra}")


def test_export_flood_stalls_nobody():
    """3,000 exports of 1,000 promises in one write, never read: other
    users are answered meanwhile, memory stays bounded, SIGTERM works."""
    d = Daemon("hexport").start()
    try:
        import_promises(d, 1000, owner="nobody")
        open_up(d)
        before = peak_kib(d.proc.pid)
        line = json.dumps({"v": 1, "op": "export"}).encode() + b"\n"
        hostile = flood(d, line * 3000)
        try:
            lat = probe(d, 4)
            peak = peak_kib(d.proc.pid)
            report("export flood", lat,
                   f", peak RSS {before // 1024} -> {peak // 1024} MiB")
            check(max(lat) < 1.0, f"status waited {max(lat):.2f}s")
            if not sanitized():
                check(peak - before < 256 * 1024,
                      f"peak RSS grew by {(peak - before) // 1024} MiB")
            # the flood is still queued: SIGTERM is heard at once, and
            # the exit waits at most the 5 s given to replies owed to a
            # client that does not read them
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            wait_for(lambda: "shutting down" in d.log_text(), timeout=2,
                     what="SIGTERM to be heard")
            heard = time.monotonic() - t0
            d.stop(timeout=10)
            took = time.monotonic() - t0
            print(f"     SIGTERM heard in {heard * 1000:.0f} ms, exit "
                  f"after {took * 1000:.0f} ms")
            check(took < 8, f"SIGTERM took {took:.1f}s")
        finally:
            end(hostile)
    finally:
        d.stop()
        d.cleanup()


def test_deliveries_and_metrics_floods_stall_nobody():
    """200 deliveries requests over a 30,000-row outbox from a user who
    sees none of it, then 500 metrics requests: others are answered."""
    d = Daemon("hdeliv").start()
    try:
        ids = import_promises(d, 1000)
        d.stop()
        now = int(time.time())
        with sqlite3.connect(d.db) as db:
            db.executemany(
                "INSERT INTO deliveries (uid, promise_id, kind, recipient, "
                "channel, payload, state, attempts, next_attempt_at, "
                "created_at, sent_at) VALUES (?, ?, 'promise.nudge', "
                "'root', 'log', '{}', 'sent', 1, ?, ?, ?)",
                [(f"u{i}", ids[i % len(ids)], now, now, now)
                 for i in range(30000)])
        d.start()
        open_up(d)
        # 32 connections, each asking again as soon as it is answered
        hostile = subprocess.Popen(
            as_nobody() + [sys.executable, "-c", LOOP, d.sock,
                           '{"v":1,"op":"deliveries","state":"all"}', "32"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            check(hostile.stdout.readline().strip() == "sent", "no loop")
            time.sleep(0.5)
            lat = probe(d, 3)
            report("32 connections asking deliveries in a loop", lat)
            check(max(lat) < 1.0, f"status waited {max(lat):.2f}s")
        finally:
            end(hostile)
        for op, n in (("deliveries", 200), ("metrics", 500)):
            line = json.dumps({"v": 1, "op": op, "state": "all"}
                              if op == "deliveries" else
                              {"v": 1, "op": op}).encode() + b"\n"
            t0 = time.monotonic()
            hostile = flood(d, line * n)
            try:
                lat = probe(d, 3)
                report(f"{n} {op}", lat)
                check(max(lat) < 1.0,
                      f"{op}: status waited {max(lat):.2f}s")
            finally:
                end(hostile)
            print(f"     ({op} flood ended after "
                  f"{time.monotonic() - t0:.1f}s)")
        # metrics asked again and again count once a second, and a
        # change shows at once
        c = Conn(d)
        t0 = time.monotonic()
        c.send(b'{"v":1,"op":"metrics"}\n' * 500)
        for _ in range(500):
            check(c.recv()["ok"], "metrics")
        took = time.monotonic() - t0
        print(f"     500 metrics on one connection: {took * 1000:.0f} ms")
        check(took < 1.0, f"500 metrics took {took:.2f}s")

        def open_count():
            text = c.call({"v": 1, "op": "metrics"})["text"]
            return int(re.search(r"^promised_open_promises (\d+)$", text,
                                 re.M).group(1))
        n = open_count()
        check(c.call({"v": 1, "op": "add", "title": "one more",
                      "due_at": now + 86400})["ok"], "add")
        check(open_count() == n + 1, "metrics missed the add")
        c.close()
        # what nobody was shown: nothing of root's outbox
        r = subprocess.run(
            as_nobody() + [sys.executable, "-c",
                           "import socket,sys\n"
                           "s=socket.socket(socket.AF_UNIX)\n"
                           "s.connect(sys.argv[1])\n"
                           "s.sendall(b'{\"v\":1,\"op\":\"deliveries\","
                           "\"state\":\"all\"}\\n')\n"
                           "print(s.makefile().readline())", d.sock],
            capture_output=True, text=True, timeout=30)
        got = json.loads(r.stdout)
        check(got["ok"] and got["deliveries"] == [], got)
        # root sees the newest 100 by default
        got = d.call({"v": 1, "op": "deliveries", "state": "all"})
        check(len(got["deliveries"]) == 100, len(got["deliveries"]))
    finally:
        d.stop()
        d.cleanup()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_pauses_instead_of_spinning():
    """Out of open files, accept fails: the daemon pauses accepting,
    logs it once, and serves again once descriptors are free."""
    d = Daemon("hfd").start()
    conns = []
    pid = d.proc.pid
    saved = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    try:
        n = len(os.listdir(f"/proc/{pid}/fd"))
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (n + 3, saved[1]))
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(d.sock)
            conns.append(s)
        time.sleep(0.3)
        cpu0, log0 = cpu_seconds(pid), os.path.getsize(d.stderr_path)
        time.sleep(2)
        cpu = cpu_seconds(pid) - cpu0
        grown = os.path.getsize(d.stderr_path) - log0
        said = d.log_text().count("pausing new connections")
        print(f"     out of descriptors for 2 s: {cpu:.2f} s of CPU, "
              f"log grew {grown} bytes, pause logged {said} time(s)")
        check(cpu < 0.5, f"{cpu:.2f} s of CPU in 2 s: spinning")
        check(grown < 16384, f"the log grew by {grown} bytes")
        check(said >= 1, "running out was not logged")
        check(said <= 2, f"logged {said} times")
        resource.prlimit(pid, resource.RLIMIT_NOFILE, saved)
        for s in conns:
            s.close()
        conns = []

        def served():
            try:
                return d.call({"v": 1, "op": "status"})["ok"]
            except (OSError, KeyError):
                return False
        wait_for(served, timeout=10, what="a client served again")
        wait_for(lambda: "accepting connections again" in d.log_text(),
                 what="the recovery to be logged")
    finally:
        for s in conns:
            s.close()
        d.stop()
        d.cleanup()


def test_soft_open_file_limit_is_raised():
    """Started with a soft limit of 64 open files under a hard one of
    4096, the daemon raises the soft one and serves max_connections."""
    d = Daemon("hraise")
    d.start(preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (64, 4096)))
    try:
        soft, hard = resource.prlimit(d.proc.pid, resource.RLIMIT_NOFILE)
        check((soft, hard) == (4096, 4096), (soft, hard))
        check("clients are served" not in d.log_text(), "held lower")
    finally:
        d.stop()
        d.cleanup()


def test_max_connections_held_within_the_open_file_limit():
    """With a limit of 128 open files (soft and hard) max_connections
    (1024) is held to what fits, and the clients past it are told so."""
    d = Daemon("hnofile")
    d.start(preexec_fn=lambda: resource.setrlimit(
        resource.RLIMIT_NOFILE, (128, 128)))
    conns = []
    try:
        ok = busy = 0
        for _ in range(100):
            c = Conn(d)
            conns.append(c)
            try:
                c.send({"v": 1, "op": "status"})
            except (BrokenPipeError, ConnectionResetError):
                pass  # turned away at once; the reason waits to be read
            r = c.recv()
            if r["ok"]:
                ok += 1
            else:
                check("too many connections" in r["error"]["message"], r)
                busy += 1
        print(f"     {ok} served, {busy} told too many connections")
        # 128 less 32 kept and 2 for each of 32 deliveries in flight
        check(ok == 32 and busy == 68, f"{ok} served, {busy} refused")
        check("at most 32 clients are served" in d.log_text(),
              "the cap was not logged")
        check("pausing" not in d.log_text(), "ran out of descriptors")
    finally:
        for c in conns:
            c.close()
        d.stop()
        d.cleanup()


def test_one_user_cannot_take_every_connection():
    """nobody holds their share of the connections and is turned away
    past it; root, past that share, is still served."""
    d = Daemon("hshare")
    d.write_conf(conf_extra="\n[daemon]\nmax_connections = 8\n"
                            "max_connections_per_user = 3\n")
    d.start()
    open_up(d)
    hog = subprocess.Popen(as_nobody() + [sys.executable, "-c", HOLD,
                                          d.sock, "6"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    conns = []
    try:
        got = json.loads(hog.stdout.readline())
        print(f"     nobody's 6 connections: {got}")
        check(got[:3] == ["ok"] * 3, got)
        check(all("too many connections from 'nobody' (at most 3 per "
                  "user)" == m for m in got[3:]), got)
        # root (exempt from the share) takes the other 5
        for _ in range(5):
            c = Conn(d)
            conns.append(c)
            check(c.call({"v": 1, "op": "status"})["ok"], "root refused")
    finally:
        for c in conns:
            c.close()
        end(hog)
        d.stop()
        d.cleanup()


def test_reading_a_reply_slowly_does_not_keep_a_connection():
    """The idle timeout counts from the last request: a client reading a
    large reply a little at a time is closed all the same."""
    d = Daemon("hslow")
    d.write_conf(conf_extra="\n[daemon]\nidle_timeout = 1s\n")
    d.start()
    try:
        import_promises(d, 1000, pad=400)
        c = Conn(d)
        c.s.settimeout(0.05)
        # about 3.5 MB of replies, read at most 16 KiB each 20 ms
        seen = d.log_text().count("idle, closing")
        c.send(b'{"v":1,"op":"export"}\n' * 4)
        t0 = time.monotonic()
        closed = None
        while time.monotonic() - t0 < 8:
            try:
                c.s.recv(16384)
            except OSError:
                pass
            if d.log_text().count("idle, closing") > seen:
                closed = time.monotonic() - t0
                break
            time.sleep(0.02)
        print(f"     slow reader closed after {closed} s")
        check(closed is not None and closed < 3,
              "a slow reader kept its connection")
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


def test_staged_imports_are_bounded_in_all():
    """Nine connections each staging nearly 4 MiB of import parts: past
    32 MiB in all the next part is answered busy, and staging costs
    about its size in memory."""
    d = Daemon("hstage").start()
    conns = []
    try:
        due = int(time.time()) + 86400
        part = [{"title": f"staged {i} " + "y" * 400, "due_at": due}
                for i in range(130)]
        line = json.dumps({"v": 1, "op": "import", "promises": part,
                           "more": True}).encode() + b"\n"
        before = rss_kib(d.proc.pid)
        busy, staged = None, 0
        for k in range(9):
            c = Conn(d)
            conns.append(c)
            for _ in range(72):
                r = c.call(line)
                if not r["ok"]:
                    busy = (k, r)
                    break
                staged += len(line)
            if busy:
                break
        grown = rss_kib(d.proc.pid) - before
        print(f"     busy after {staged >> 20} MiB staged: {busy}; RSS "
              f"grew {grown >> 10} MiB")
        check(busy is not None, "never busy")
        k, r = busy
        check(k == 8 and r["error"]["code"] == "unavailable" and
              r["error"]["message"].startswith("busy: "), busy)
        if not sanitized():
            check(grown < 80 * 1024, f"RSS grew {grown >> 10} MiB")
        # one import ended frees its room: the refused one goes through
        conns.pop(0).close()
        c = conns[-1]

        def staged_again():
            r = c.call(line)
            return r if r["ok"] else None
        wait_for(staged_again, timeout=5, what="room for the part")
        r = c.call({"v": 1, "op": "import", "promises": part[:5]})
        check(r["ok"] and r["imported"] == 135, r)
    finally:
        for c in conns:
            c.close()
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_export_flood_stalls_nobody,
         test_deliveries_and_metrics_floods_stall_nobody,
         test_out_of_descriptors_pauses_instead_of_spinning,
         test_soft_open_file_limit_is_raised,
         test_max_connections_held_within_the_open_file_limit,
         test_one_user_cannot_take_every_connection,
         test_reading_a_reply_slowly_does_not_keep_a_connection,
         test_staged_imports_are_bounded_in_all])
