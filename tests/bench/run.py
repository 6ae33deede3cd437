#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""promised's benchmark suite: measures the real daemon and client against
atd and against ceilings this machine reaches with the same parts alone.

    cmake --build build --target bench        (or: python3 tests/bench/run.py --build build)

Every figure is paired with an anchor measured in the same run on the same
machine, since absolute times on a shared machine prove little.  Prints a
table and writes the figures as JSON (--out, default BUILD/bench-results.json).
Every process it starts is stopped and every file it makes is removed, atd's
jobs included; every wait is bounded.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class BenchError(Exception):
    pass


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def wait_for(cond, timeout, what, interval=0.01):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, int(round(p / 100.0 * (len(sorted_vals) - 1))))
    return sorted_vals[i]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


class Procs:
    """Every process the bench starts, so that all of them are stopped."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=30):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p, timeout=10)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.tmp = tempfile.mkdtemp(prefix="promised-bench-")
        self.procs = Procs()
        self.results = {}
        self.n_daemons = 0
        # an [http] section every daemon started meanwhile gets (8)
        self.http_extra = ""

    def tool(self, name):
        for p in (os.path.join(self.build, name),
                  os.path.join(self.build, "tests", "bench", name)):
            if os.path.exists(p):
                return p
        raise BenchError(f"{name} not found under {self.build}; build it first")

    def run_json(self, argv, timeout=600, **kw):
        """Runs a bench tool and returns the JSON it prints last."""
        r = subprocess.run(argv, stdout=subprocess.PIPE, timeout=timeout,
                           stdin=subprocess.DEVNULL, **kw)
        if r.returncode != 0:
            raise BenchError(f"{os.path.basename(argv[0])} exited "
                             f"{r.returncode}")
        lines = [ln for ln in r.stdout.decode().splitlines() if ln.strip()]
        return json.loads(lines[-1])

    # -- the daemon ---------------------------------------------------

    def daemon_dir(self, name):
        self.n_daemons += 1
        d = os.path.join(self.tmp, f"{self.n_daemons:02d}-{name}")
        os.mkdir(d)
        return d

    def write_conf(self, d, durability=None, extra=""):
        conf = os.path.join(d, "promised.conf")
        with open(conf, "w") as f:
            f.write(f"[daemon]\nsocket = {d}/promised.sock\n"
                    f"database = {d}/promised.db\nlog_level = warning\n")
            if durability:
                f.write(f"durability = {durability}\n")
            # one delivery per promise: no escalation the same day
            f.write("\n[policy]\nescalate_after = 7d\n")
            f.write(f"\n[delivery]\nlog = {d}/deliveries.log\n{extra}")
            if self.http_extra:
                f.write(self.http_extra)
        return conf

    def start_daemon(self, d, conf):
        """Starts promised with a notify socket of our own; returns the
        process and the seconds from its start to READY=1."""
        nsock_path = os.path.join(d, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(nsock_path)
        env = dict(os.environ, NOTIFY_SOCKET=nsock_path)
        err = open(os.path.join(d, "promised.stderr"), "ab")
        try:
            t0 = time.monotonic()
            p = self.procs.start([self.tool("promised"), "-c", conf],
                                 stdout=err, stderr=err, env=env)
            ns.settimeout(0.2)
            deadline = t0 + 120
            while True:
                if p.poll() is not None:
                    raise BenchError(f"promised exited {p.returncode}; "
                                     f"see {d}/promised.stderr")
                if time.monotonic() > deadline:
                    raise BenchError("promised never said READY=1")
                try:
                    msg = ns.recv(4096).decode()
                except socket.timeout:
                    continue
                if "READY=1" in msg.split("\n"):
                    return p, time.monotonic() - t0
        finally:
            ns.close()
            os.unlink(nsock_path)
            err.close()

    def stop_daemon(self, p):
        rc = self.procs.stop(p, timeout=60)
        if rc != 0:
            raise BenchError(f"promised exited {rc} on SIGTERM")

    # -- 1. one process per promise, against at ---------------------------

    def bench_enqueue_process(self):
        n = self.args.n_process
        if os.geteuid() != 0 or shutil.which("atd") is None or \
                shutil.which("at") is None:
            log("1: skipped: needs root and the at package (atd)")
            return {"skipped": "needs root and Debian's at package"}
        d = self.daemon_dir("process")
        conf = self.write_conf(d)
        p, _ = self.start_daemon(d, conf)
        atq_before = self.at_jobs()
        atd = self.procs.start(["atd", "-f"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            with open(os.path.join(d, "at-input"), "w") as f:
                f.write("true\n")
            env = dict(os.environ, PROMISE_SOCKET=f"{d}/promised.sock")
            log(f"1: {n} promise add runs and {n} at runs, in turns")
            r = self.run_json([self.tool("bench_spawn"), "-n", str(n), "-i",
                               f"{d}/at-input",
                               "--", self.tool("promise"), "add",
                               "Bench promise {}", "--due", "in 3h",
                               "--", "at", "now", "+", "3", "hours",
                               "--", "/bin/true",
                               "--", self.tool("bench_floor"),
                               f"{d}/promised.sock", f"{d}/floor"],
                              env=env)
        finally:
            for job in self.at_jobs() - atq_before:
                subprocess.run(["atrm", job], check=False)
            self.procs.stop(atd)
            self.stop_daemon(p)
        left = self.at_jobs() - atq_before
        if left:
            raise BenchError(f"at jobs left behind: {sorted(left)}")
        pr, at, true, floor = r["commands"]
        # the floor: a static process, one round trip, one fsync
        return {"n": n, "promise_ms": pr["mean_ms"],
                "floor_ms": floor["mean_ms"],
                "floor_median_ms": floor["median_ms"],
                "over_floor": pr["mean_ms"] / floor["mean_ms"] - 1,
                "promise_median_ms": pr["median_ms"],
                "at_ms": at["mean_ms"], "at_median_ms": at["median_ms"],
                "process_start_ms": true["mean_ms"],
                "ratio": at["mean_ms"] / pr["mean_ms"]}

    @staticmethod
    def at_jobs():
        r = subprocess.run(["atq"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, check=False)
        return {ln.split()[0] for ln in r.stdout.decode().splitlines()
                if ln.strip()}

    # -- 2. pipelined adds, against batched SQLite inserts ----------------

    def bench_enqueue_pipelined(self, durability):
        n, w = self.args.n_pipelined, 64
        d = self.daemon_dir(f"pipelined-{durability}")
        conf = self.write_conf(d, durability)
        p, _ = self.start_daemon(d, conf)
        try:
            log(f"2: {n} pipelined adds, {w} in flight ({durability})")
            r = self.run_json([self.tool("bench_pipe"), "add", "-s",
                               f"{d}/promised.sock", "-n", str(n), "-w",
                               str(w)])
        finally:
            self.stop_daemon(p)
        if r["ok"] != n:
            raise BenchError(f"2: only {r['ok']} of {n} adds acknowledged")
        log(f"2: ceiling: {n} inserts in batches of {w} ({durability})")
        c = self.run_json([self.tool("bench_sqlite"), "-d", d, "-n", str(n),
                           "-b", str(w), "-s", durability])
        return {"n": n, "window": w, "durability": durability,
                "adds_per_s": r["per_s"], "ceiling_per_s": c["per_s"],
                "ratio": r["per_s"] / c["per_s"]}

    # -- 3. start-up with many open promises ------------------------------

    def bench_scale(self):
        out = {}
        d0 = self.daemon_dir("empty")
        p, t = self.start_daemon(d0, self.write_conf(d0))
        base = rss_kib(p.pid)
        self.stop_daemon(p)
        out["empty"] = {"ready_s": t, "rss_kib": base}
        prev = None
        for n in self.args.n_scale:
            d = self.daemon_dir(f"scale-{n}")
            far = int(time.time()) + 30 * 86400
            log(f"3: bulk-loading {n} open promises")
            self.run_json([self.tool("bench_load"), "-d", f"{d}/promised.db",
                           f"{n}:{far}:{30 * 86400}"])
            conf = self.write_conf(d)
            # the first start after the load reads a cold-ish file: the
            # second start is the one an operator sees after a restart
            best = None
            for _ in range(3):
                p, t = self.start_daemon(d, conf)
                rss = rss_kib(p.pid)
                self.stop_daemon(p)
                if best is None or t < best[0]:
                    best = (t, rss)
            t, rss = best
            out[str(n)] = {"ready_s": t, "rss_kib": rss,
                           "bytes_per_promise": (rss - base) * 1024.0 / n}
            if prev is not None:
                # the slope between sizes: linear growth keeps it flat
                out[str(n)]["marginal_bytes_per_promise"] = \
                    (rss - prev[1]) * 1024.0 / (n - prev[0])
            prev = (n, rss)
            os.unlink(f"{d}/promised.db")
        return out

    # -- 4. precision with a million pending ------------------------------

    def start_sink(self, d, expect=None):
        argv = [self.tool("bench_sink"), "-p", "0", "-o", f"{d}/arrivals"]
        if expect:
            argv += ["-n", str(expect)]
        sink = self.procs.start(argv, stdout=subprocess.PIPE)
        line = sink.stdout.readline().decode()
        if not line:
            raise BenchError("bench_sink did not start")
        return sink, json.loads(line)["port"]

    def sink_count(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /count HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
        return int(data.split(b"\r\n\r\n", 1)[1] or b"0")

    def stop_sink(self, sink, d):
        sink.send_signal(signal.SIGTERM)
        out, _ = sink.communicate(timeout=60)
        self.procs.procs.remove(sink)
        rows = []
        with open(f"{d}/arrivals") as f:
            for line in f:
                a, due, pid, uid = line.split()
                rows.append((int(a), int(due), int(pid), uid))
        return rows

    def person_conf(self, port, concurrency):
        return (f"concurrency = {concurrency}\n\n"
                f"[person bench]\nwebhook = http://127.0.0.1:{port}/hook\n")

    def add_at(self, sock, items):
        """Adds (title, due_at) pairs over one pipelined connection."""
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        f = s.makefile("rb")
        try:
            for i, (title, due) in enumerate(items):
                s.sendall((json.dumps({"v": 1, "op": "add", "tag": i,
                                       "title": title, "due_at": due,
                                       "owner": "bench", "nudge": []})
                           + "\n").encode())
            for _ in items:
                r = json.loads(f.readline())
                if not r.get("ok"):
                    raise BenchError(f"add refused: {r}")
        finally:
            f.close()
            s.close()

    def bench_precision(self):
        n_pending, n_fire = self.args.n_precision_pending, 1000
        d = self.daemon_dir("precision")
        sink, port = self.start_sink(d)
        far = int(time.time()) + 30 * 86400
        log(f"4: bulk-loading {n_pending} pending promises")
        self.run_json([self.tool("bench_load"), "-d", f"{d}/promised.db",
                       f"{n_pending}:{far}:{30 * 86400}:bench"])
        conf = self.write_conf(d, extra=self.person_conf(port, 64))
        p, _ = self.start_daemon(d, conf)
        try:
            t0 = int(time.time()) + 3
            items = [(f"Precision {i}", t0 + (i * 60) // n_fire)
                     for i in range(n_fire)]
            self.add_at(f"{d}/promised.sock", items)
            log(f"4: {n_fire} promises due over the next minute")
            wait_for(lambda: self.sink_count(port) >= n_fire, 120,
                     "every precision delivery")
        finally:
            self.stop_daemon(p)
            rows = self.stop_sink(sink, d)
        late = sorted(a / 1000.0 - due * 1000.0 for a, due, _, _ in rows)
        if len(late) != n_fire:
            raise BenchError(f"4: {len(late)} arrivals, wanted {n_fire}")
        return {"pending": n_pending, "fired": n_fire,
                "p50_ms": pct(late, 50), "p99_ms": pct(late, 99),
                "max_ms": late[-1], "min_ms": late[0]}

    # -- 5 and 6. firing throughput, and responsiveness meanwhile --------

    def bench_throughput(self):
        n, conc = self.args.n_throughput, 64
        d = self.daemon_dir("throughput")
        sink, port = self.start_sink(d)
        # all due in the same second, so the daemon, not the calendar,
        # sets the pace; a window of 10 s bounds the wait
        t0 = int(time.time()) + 6
        log(f"5: bulk-loading {n} promises due at one instant")
        self.run_json([self.tool("bench_load"), "-d", f"{d}/promised.db",
                       f"{n}:{t0}:0:bench"])
        conf = self.write_conf(d, extra=self.person_conf(port, conc))
        p, _ = self.start_daemon(d, conf)
        probe = None
        try:
            wait_for(lambda: time.time() >= t0 - 1, 30, "the firing window")
            # what the burst costs in memory: the peak over the start's
            rss = {"before": rss_kib(p.pid)}
            rss["peak"] = rss["before"]

            def delivered():
                rss["peak"] = max(rss["peak"], rss_kib(p.pid))
                return self.sink_count(port) >= n
            probe = subprocess.Popen(
                [self.tool("bench_pipe"), "probe", "-s", f"{d}/promised.sock",
                 "-d", "8", "-i", "5", "--owner", "bench"],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            self.procs.procs.append(probe)
            wait_for(delivered, 120, "every throughput delivery",
                     interval=0.2)
            pout, _ = probe.communicate(timeout=60)
            self.procs.procs.remove(probe)
            if probe.returncode != 0:
                raise BenchError("bench_pipe probe failed")
            lat = json.loads(pout.decode().splitlines()[-1])
        finally:
            self.stop_daemon(p)
            rows = self.stop_sink(sink, d)
        arr = sorted(a for a, _, _, _ in rows)
        if len(arr) != n:
            raise BenchError(f"5: {len(arr)} arrivals, wanted {n}")
        span_s = (arr[-1] - arr[0]) / 1e6
        sent, body = self.outbox(f"{d}/promised.db")
        if sent != n:
            raise BenchError(f"5: {sent} deliveries recorded sent, wanted {n}")
        # the ceiling: the same bodies, to the same sink, by bare curl multi
        with open(f"{d}/body.json", "w") as f:
            f.write(body)
        sink2, port2 = self.start_sink(d)
        try:
            log(f"5: ceiling: {n} POSTs by bare curl multi, {conc} at once")
            c = self.run_json([self.tool("bench_curl"), "-u",
                               f"http://127.0.0.1:{port2}/hook", "-b",
                               f"{d}/body.json", "-n", str(n), "-c",
                               str(conc)])
        finally:
            self.stop_sink(sink2, d)
        rate = n / span_s
        return {"throughput": {"n": n, "concurrency": conc,
                               "deliveries_per_s": rate,
                               "first_to_last_s": span_s,
                               "first_late_ms": arr[0] / 1000.0 - t0 * 1000.0,
                               "outbox_sent": sent,
                               "rss_before_kib": rss["before"],
                               "rss_growth_kib": rss["peak"] - rss["before"],
                               "ceiling_per_s": c["per_s"],
                               "ratio": rate / c["per_s"]},
                "responsiveness": lat}

    @staticmethod
    def outbox(db):
        import sqlite3
        con = sqlite3.connect(db)
        try:
            sent = con.execute("SELECT count(*) FROM deliveries "
                               "WHERE state = 'sent'").fetchone()[0]
            body = con.execute("SELECT payload FROM deliveries "
                               "WHERE channel = 'webhook' LIMIT 1").fetchone()
        finally:
            con.close()
        if body is None:
            raise BenchError("no webhook delivery in the outbox")
        return sent, body[0]

    # -- 7. the wheel alone ----------------------------------------------

    def bench_wheel(self):
        out = {}
        for n in (100000, 1000000):
            log(f"7: {n} timers, wheel and ev_timer")
            out[str(n)] = self.run_json([self.tool("bench_wheel"), "-n",
                                         str(n)])
        return out

    # -- 8. the HTTP listener ---------------------------------------------

    @staticmethod
    def http_conf():
        """an [http] section on a free loopback port, with 127.0.0.1 a
        trusted proxy: callers are named by X-Remote-User"""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return port, (f"\n[http]\nlisten = 127.0.0.1:{port}\n"
                      "trusted_proxy = 127.0.0.1\n")

    def bench_http_adds(self):
        n, w = self.args.n_http, 64
        port, http = self.http_conf()
        d = self.daemon_dir("http-pipe")
        p, _ = self.start_daemon(d, self.write_conf(d, extra=http))
        try:
            log(f"8: anchor: {n} pipelined adds over the socket, "
                f"{w} in flight")
            a = self.run_json([self.tool("bench_pipe"), "add", "-s",
                               f"{d}/promised.sock", "-n", str(n), "-w",
                               str(w)])
        finally:
            self.stop_daemon(p)
        d = self.daemon_dir("http-adds")
        p, _ = self.start_daemon(d, self.write_conf(d, extra=http))
        try:
            with open(f"{d}/body.json", "w") as f:
                json.dump({"title": "Bench promise", "for": "Customer",
                           "due_at": int(time.time()) + 10 * 86400,
                           "nudge": []}, f)
            log(f"8: {n} adds over HTTP, {w} connections kept alive")
            r = self.run_json([self.tool("bench_curl"), "-u",
                               f"http://127.0.0.1:{port}/v1/promises",
                               "-b", f"{d}/body.json", "-n", str(n),
                               "-c", str(w), "--plain", "--status", "201",
                               "-H", "X-Remote-User: bench"])
        finally:
            self.stop_daemon(p)
        if a["ok"] != n or r["ok"] != n:
            raise BenchError(f"8: {a['ok']} and {r['ok']} of {n} adds "
                             "acknowledged")
        return {"n": n, "in_flight": w, "adds_per_s": r["per_s"],
                "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                "socket_per_s": a["per_s"], "ratio": r["per_s"] / a["per_s"]}

    def bench_http_page(self):
        total, mine, n = 100000, 1000, self.args.n_http_page
        port, http = self.http_conf()
        d = self.daemon_dir("http-page")
        now = int(time.time())
        # the viewer's: a tenth overdue, the rest over the next month,
        # among everyone else's
        log(f"8: bulk-loading {total} promises, {mine} of them the viewer's")
        self.run_json([self.tool("bench_load"), "-d", f"{d}/promised.db",
                       f"{total - mine}:{now + 86400}:{30 * 86400}:bench",
                       f"{mine // 10}:{now - 7 * 86400}:{6 * 86400}:viewer",
                       f"{mine - mine // 10}:{now + 3600}:{30 * 86400}:viewer"])
        p, _ = self.start_daemon(d, self.write_conf(d, extra=http))
        out = {"stored": total, "mine": mine, "n": n}
        try:
            for key, path in (("page", "/"), ("api", "/v1/promises?"
                                              "owner=viewer&state=open")):
                argv = [self.tool("bench_curl"), "--get", "--plain", "-u",
                        f"http://127.0.0.1:{port}{path}", "-c", "1",
                        "-H", "X-Remote-User: viewer"]
                # the first requests warm the page cache and the
                # statement cache; then one viewer after another
                self.run_json(argv + ["-n", "20"])
                log(f"8: GET {path} as the viewer, {n} times in turns")
                r = self.run_json(argv + ["-n", str(n)])
                out[key] = {k: r[k] for k in ("p50_ms", "p99_ms", "max_ms",
                                              "per_s")}
        finally:
            self.stop_daemon(p)
        return out

    def bench_http(self):
        out = {"adds": self.bench_http_adds(),
               "page": self.bench_http_page()}
        # 5 and 6 again with the listener on (idle): they should not move
        _, self.http_extra = self.http_conf()
        try:
            log("8: 5 and 6 again with [http] listen set")
            r = self.bench_throughput()
        finally:
            self.http_extra = ""
        out["throughput"] = r["throughput"]
        out["responsiveness"] = r["responsiveness"]
        return out

    # -- 9. the PostgreSQL store -------------------------------------------

    def pg_conf(self, d, conninfo, extra="", store=""):
        return self.write_conf(d, extra=extra + "\n[store]\nbackend = "
                               f"postgresql\nconninfo = {conninfo}\n{store}")

    def pg_schema(self, srv, name):
        """a new database with the daemon's schema: a daemon started on
        it once"""
        conninfo = srv.create_db(name)
        d = self.daemon_dir(f"pg-{name}")
        p, _ = self.start_daemon(d, self.pg_conf(d, conninfo))
        self.stop_daemon(p)
        return conninfo

    @staticmethod
    def sock_request(sock, req, timeout=10):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(sock)
            s.sendall((json.dumps(dict(req, v=1)) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                b = s.recv(65536)
                if not b:
                    break
                data += b
        return json.loads(data)

    def role(self, d):
        try:
            return self.sock_request(f"{d}/promised.sock",
                                     {"op": "status"}).get("role")
        except (OSError, ValueError):
            return None

    def bench_pg_adds(self, srv):
        n, w = 5000 if self.args.quick else 50000, 64
        conninfo = srv.create_db("bench_adds")
        d = self.daemon_dir("pg-adds")
        p, _ = self.start_daemon(d, self.pg_conf(d, conninfo))
        try:
            log(f"9: {n} pipelined adds on PostgreSQL, {w} in flight")
            r = self.run_json([self.tool("bench_pipe"), "add", "-s",
                               f"{d}/promised.sock", "-n", str(n), "-w",
                               str(w)])
        finally:
            self.stop_daemon(p)
        if r["ok"] != n:
            raise BenchError(f"9: only {r['ok']} of {n} adds acknowledged")
        ceiling = self.pg_schema(srv, "bench_ceiling")
        log(f"9: ceiling: {n} rows in multi-row inserts of {w}, "
            "libpq pipeline mode")
        c = self.run_json([self.tool("bench_pg"), "-c", ceiling, "-n",
                           str(n), "-b", str(w)])
        return {"n": n, "window": w, "adds_per_s": r["per_s"],
                "ceiling_per_s": c["per_s"], "ceiling_depth": c["depth"],
                "ratio": r["per_s"] / c["per_s"]}

    def bench_pg_start(self, srv):
        n = 100000 if self.args.quick else 1000000
        conninfo = self.pg_schema(srv, "bench_start")
        far = int(time.time()) + 30 * 86400
        log(f"9: loading {n} open promises in SQL")
        t = time.monotonic()
        # as bench_load's rows: no nudges, the policy's escalation
        srv.psql(
            "INSERT INTO promises (title, owner, for_whom, due_at, "
            "created_at, created_by, nudge, escalate_after, "
            "escalation_repeat, stage) SELECT 'Bench promise ' || i, "
            f"'bench', 'Customer ' || i, {far} + i::bigint * {30 * 86400} / {n}, "
            f"{int(time.time())}, 'bench', '', 604800, 86400, 0 "
            f"FROM generate_series(0, {n - 1}) i", dbname="bench_start")
        # as autovacuum leaves a table in use: its visibility map set, so
        # the covering index answers alone
        srv.psql("VACUUM (ANALYZE) promises", dbname="bench_start")
        load_s = time.monotonic() - t
        d = self.daemon_dir("pg-start")
        conf = self.pg_conf(d, conninfo)
        times = []
        rss = None
        for _ in range(3):
            p, t = self.start_daemon(d, conf)
            rss = rss_kib(p.pid)
            self.stop_daemon(p)
            times.append(t)
        return {"open": n, "load_s": load_s, "ready_s": min(times),
                "ready_all_s": times, "rss_kib": rss}

    def bench_pg_failover(self, srv):
        rounds, poll = 2 if self.args.quick else 3, 10
        conninfo = srv.create_db("bench_failover")
        ds = [self.daemon_dir(f"pg-failover{i}") for i in range(2)]
        sink, port = self.start_sink(ds[0])
        confs = [self.pg_conf(d, conninfo, self.person_conf(port, 4),
                              f"leader_poll = {poll}\n") for d in ds]
        procs = [None, None]
        to_leader, to_fired = [], []
        try:
            procs[0], _ = self.start_daemon(ds[0], confs[0])
            wait_for(lambda: self.role(ds[0]) == "leader", 30,
                     "the first daemon to lead")
            procs[1], _ = self.start_daemon(ds[1], confs[1])
            lead = 0
            for k in range(rounds):
                other = 1 - lead
                due = int(time.time()) + 2
                self.add_at(f"{ds[other]}/promised.sock",
                            [(f"Failover {k}", due)])
                # the leader dies half a second before the promise is due
                wait_for(lambda: time.time() >= due - 0.5, 10, "the kill")
                t0 = time.monotonic()
                procs[lead].kill()
                procs[lead].wait()
                self.procs.procs.remove(procs[lead])
                wait_for(lambda: self.role(ds[other]) == "leader",
                         poll * 3 + 30, "the standby to lead", interval=0.05)
                to_leader.append(time.monotonic() - t0)
                wait_for(lambda: self.sink_count(port) >= k + 1, 60,
                         "the due notice", interval=0.05)
                to_fired.append(time.monotonic() - t0)
                log(f"9: failover {k + 1}: leader after "
                    f"{to_leader[-1]:.2f} s, fired after {to_fired[-1]:.2f} s")
                # back, as the service manager would start it: a standby
                procs[lead], _ = self.start_daemon(ds[lead], confs[lead])
                lead = other
        finally:
            for p in procs:
                if p is not None and p.poll() is None:
                    self.stop_daemon(p)
            rows = self.stop_sink(sink, ds[0])
        if len(rows) != rounds:
            raise BenchError(f"9: {len(rows)} due notices, wanted {rounds}")
        a, b = sorted(to_leader), sorted(to_fired)
        return {"rounds": rounds, "leader_poll_s": poll,
                "to_leader_p50_s": pct(a, 50), "to_leader_max_s": a[-1],
                "to_fired_p50_s": pct(b, 50), "to_fired_max_s": b[-1],
                "to_leader_s": to_leader, "to_fired_s": to_fired}

    def bench_postgresql(self):
        sys.path.insert(0, os.path.join(HERE, "..", "integration"))
        import pgserver
        if not pgserver.available():
            log("9: skipped: PostgreSQL 15 is not installed")
            return {"skipped": "needs Debian's postgresql-15"}
        srv = None
        try:
            srv = pgserver.PgServer("bench").start()
            return {"adds": self.bench_pg_adds(srv),
                    "start": self.bench_pg_start(srv),
                    "failover": self.bench_pg_failover(srv)}
        except pgserver.PgError as e:
            raise BenchError(f"9: {e}")
        finally:
            self.procs.stop_all()
            if srv is not None:
                srv.stop()

    # --------------------------------------------------------------------

    def run(self):
        sections = [
            ("1", "enqueue_process", self.bench_enqueue_process),
            ("2", "enqueue_pipelined", lambda: {
                "full": self.bench_enqueue_pipelined("full"),
                "normal": self.bench_enqueue_pipelined("normal")}),
            ("3", "scale", self.bench_scale),
            ("4", "precision", self.bench_precision),
            ("5", "throughput", self.bench_throughput),
            ("7", "wheel", self.bench_wheel),
            ("8", "http", self.bench_http),
            ("9", "postgresql", self.bench_postgresql),
        ]
        only = set(self.args.only.split(",")) if self.args.only else None
        for key, name, fn in sections:
            if only and key not in only:
                continue
            t = time.monotonic()
            r = fn()
            if name == "throughput":
                self.results["throughput"] = r["throughput"]
                self.results["responsiveness"] = r["responsiveness"]
            else:
                self.results[name] = r
            log(f"{key}: done in {time.monotonic() - t:.1f}s")

    def cleanup(self):
        self.procs.stop_all()
        shutil.rmtree(self.tmp, ignore_errors=True)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem,
            "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def fmt(v, unit="", digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}{unit}"
    return f"{v:,}{unit}"


def table(res):
    rows = []

    def row(what, fig, anchor, ratio, target):
        rows.append((what, fig, anchor, ratio, target))

    r = res.get("enqueue_process")
    if r and "skipped" not in r:
        row("1 add, one process each", fmt(r["promise_ms"], " ms", 3),
            f"at {fmt(r['at_ms'], ' ms', 3)} (exec alone "
            f"{fmt(r['process_start_ms'], ' ms', 3)})",
            f"{r['ratio']:.2f}x faster", ">= 2x")
        row("1 add against its floor", fmt(r["promise_ms"], " ms", 3),
            f"process + round trip + fsync {fmt(r['floor_ms'], ' ms', 3)}",
            f"{r['over_floor'] * 100:+.0f}%", "<= +15%")
    for k, r in (res.get("enqueue_pipelined") or {}).items():
        row(f"2 pipelined adds ({k})", fmt(r["adds_per_s"], "/s", 0),
            f"SQLite batched {fmt(r['ceiling_per_s'], '/s', 0)}",
            f"{r['ratio'] * 100:.0f}%", ">= 50,000/s, >= 60%")
    r = res.get("scale")
    if r:
        for n, v in r.items():
            if n == "empty":
                continue
            row(f"3 start with {int(n):,} open", fmt(v["ready_s"], " s", 3),
                f"RSS {fmt(v['rss_kib'] / 1024.0, ' MiB')}",
                f"{v['bytes_per_promise']:.1f} B/promise" +
                (f" ({v['marginal_bytes_per_promise']:.1f} marginal)"
                 if "marginal_bytes_per_promise" in v else ""),
                "<= 1.0 s, <= 64 B")
    r = res.get("precision")
    if r:
        row(f"4 lateness, {r['pending']:,} pending",
            f"p50 {fmt(r['p50_ms'], ' ms')} p99 {fmt(r['p99_ms'], ' ms')}",
            f"max {fmt(r['max_ms'], ' ms')}", "atd: p50 1.2 s",
            "p99 <= 20, max <= 100 ms")
    r = res.get("throughput")
    if r:
        row(f"5 firing {r['n']:,} at once", fmt(r["deliveries_per_s"], "/s", 0),
            f"curl multi {fmt(r['ceiling_per_s'], '/s', 0)}",
            f"{r['ratio'] * 100:.0f}%", ">= 60%")
        if "rss_growth_kib" in r:
            row("5 RSS during the burst",
                f"+{r['rss_growth_kib'] / 1024:.1f} MiB",
                f"before {r['rss_before_kib'] / 1024:.1f} MiB", "", "bounded")
    r = res.get("responsiveness")
    if r:
        for op in ("status", "list"):
            v = r[op]
            row(f"6 {op} during 5", f"p99 {fmt(v['p99_ms'], ' ms', 2)}",
                f"p50 {fmt(v['p50_ms'], ' ms', 2)}, n={v['n']}",
                f"max {fmt(v['max_ms'], ' ms', 1)}", "p99 <= 5 ms")
    r = res.get("wheel")
    if r:
        for n, v in r.items():
            for op in ("insert", "cancel", "expire"):
                w, e = v["wheel"][f"{op}_ns"], v["ev_timer"][f"{op}_ns"]
                row(f"7 {op}, {int(n):,} timers", fmt(w, " ns"),
                    f"ev_timer {fmt(e, ' ns')}", f"{e / w:.2f}x faster",
                    ">= 1x, O(1)")
    r = res.get("http")
    if r:
        v = r["adds"]
        row("8 adds over HTTP, keep-alive", fmt(v["adds_per_s"], "/s", 0),
            f"socket pipelined {fmt(v['socket_per_s'], '/s', 0)}",
            f"{v['ratio'] * 100:.0f}%", ">= 50%")
        v = r["page"]
        row(f"8 GET / ({v['mine']:,} of {v['stored']:,})",
            f"p99 {fmt(v['page']['p99_ms'], ' ms', 2)}",
            f"p50 {fmt(v['page']['p50_ms'], ' ms', 2)}; /v1/promises "
            f"p99 {fmt(v['api']['p99_ms'], ' ms', 2)}",
            f"n={v['n']}", "p99 <= 20 ms")
        v, base = r["throughput"], res.get("throughput")
        row("8 5 with [http] listen", fmt(v["deliveries_per_s"], "/s", 0),
            f"curl multi {fmt(v['ceiling_per_s'], '/s', 0)}",
            f"{v['ratio'] * 100:.0f}%" + (f" (5: {base['ratio'] * 100:.0f}%)"
                                           if base else ""), "as 5")
        for op in ("status", "list"):
            v = r["responsiveness"][op]
            row(f"8 6 {op} with [http] listen",
                f"p99 {fmt(v['p99_ms'], ' ms', 2)}",
                f"p50 {fmt(v['p50_ms'], ' ms', 2)}, n={v['n']}",
                f"max {fmt(v['max_ms'], ' ms', 1)}", "as 6")
    r = res.get("postgresql")
    if r and "skipped" not in r:
        v = r["adds"]
        row("9 pipelined adds, PostgreSQL", fmt(v["adds_per_s"], "/s", 0),
            f"libpq pipeline, multi-row {fmt(v['ceiling_per_s'], '/s', 0)}",
            f"{v['ratio'] * 100:.0f}%", ">= 50%")
        v = r["start"]
        row(f"9 start with {v['open']:,} open, PostgreSQL",
            fmt(v["ready_s"], " s", 3),
            f"RSS {fmt(v['rss_kib'] / 1024.0, ' MiB')}", "", "<= 3.0 s")
        v = r["failover"]
        row(f"9 failover, kill -9, poll {v['leader_poll_s']} s",
            f"p50 {fmt(v['to_leader_p50_s'], ' s', 2)} "
            f"max {fmt(v['to_leader_max_s'], ' s', 2)}",
            f"fired: p50 {fmt(v['to_fired_p50_s'], ' s', 2)} "
            f"max {fmt(v['to_fired_max_s'], ' s', 2)}",
            f"n={v['rounds']}", "<= 15 s")
    widths = [max(len(r[i]) for r in rows + [("what", "figure", "anchor",
                                               "ratio", "target")])
              for i in range(5)]
    lines = []
    for r in [("what", "figure", "anchor", "ratio", "target")] + rows:
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=None)
    ap.add_argument("--only", default=None,
                    help="comma-separated sections (1,2,3,4,5,7,8,9)")
    ap.add_argument("--quick", action="store_true",
                    help="smaller counts, for checking the bench itself")
    args = ap.parse_args()
    args.n_process = 200 if args.quick else 2000
    args.n_pipelined = 20000 if args.quick else 200000
    args.n_scale = [10000, 100000] if args.quick else [100000, 1000000]
    args.n_precision_pending = 100000 if args.quick else 1000000
    args.n_throughput = 10000 if args.quick else 100000
    args.n_http = 10000 if args.quick else 50000
    args.n_http_page = 100 if args.quick else 1000
    out = args.out or os.path.join(args.build, "bench-results.json")
    b = Bench(args)
    try:
        b.run()
    except (BenchError, subprocess.TimeoutExpired) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    finally:
        b.cleanup()
    res = {"machine": machine(), "quick": args.quick, "results": b.results}
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    m = res["machine"]
    print(f"promised benchmarks on {m['cpu']}, {m['cores']} cores, "
          f"{m['mem_mib']} MiB, Linux {m['kernel']}, {m['date']}")
    print(table(b.results))
    print(f"(figures in {out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
