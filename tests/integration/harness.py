# SPDX-License-Identifier: MIT
"""Test harness: runs the real promised daemon and the real promise client.

Each Daemon lives in its own temporary directory with a generated
promised.conf, database, socket and delivery log, so tests can run in
parallel.  Readiness and every later condition are polled with a deadline,
never waited for with a fixed sleep.  stop() asserts a clean exit and an
empty sanitizer report on the daemon's stderr.

With PROMISED_TEST_STORE=postgresql in the environment every daemon keeps
its promises in a database of its own on one PostgreSQL server shared by
the test process (pgserver.py, started on first use), instead of SQLite.

Every daemon started here is stopped however its test ends: run() kills
those a test left running (a failed check skips its stop()), an exit
handler those of a script that does not use run(), and the kernel those of
a test that is itself killed (PR_SET_PDEATHSIG, set in the child before
it runs promised).
"""

import atexit
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PROMISED = os.environ.get("PROMISED", "promised")
PROMISE = os.environ.get("PROMISE", "promise")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


# the daemons started and not yet stopped, killed, or cleaned up
_running = set()

# PR_SET_PDEATHSIG: the daemon gets SIGKILL when the test that started it
# dies, even by SIGKILL (a ctest timeout), where no handler runs.  Set in
# the forked child rather than through setpriv, which would run under the
# daemon's LD_PRELOAD (libfaketime with the ASan runtime never starts it).
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent(then):
    def child():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if then is not None:
            then()
    return child


def reap(keep=()):
    """Kills and cleans up every daemon still running but those in keep;
    returns how many."""
    left = [d for d in _running if d not in keep]
    for d in left:
        print(f"     killing promised (pid {d.proc.pid}) left running "
              f"in {d.dir}")
        d.cleanup()
    return len(left)


atexit.register(reap)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Polls cond() until it returns a true value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Daemon:
    def __init__(self, name, conf_extra="", policy="", log_level="debug",
                 conninfo=None):
        """conninfo: keep the promises in that PostgreSQL database"""
        self.dir = tempfile.mkdtemp(prefix=f"promised-{name}-")
        self.sock = os.path.join(self.dir, "promised.sock")
        self.db = os.path.join(self.dir, "promised.db")
        self.delivery_log = os.path.join(self.dir, "deliveries.log")
        self.stderr_path = os.path.join(self.dir, "promised.stderr")
        self.conf = os.path.join(self.dir, "promised.conf")
        self.proc = None
        self.log_level = log_level  # None: the daemon's default
        self.store = ""
        if (conninfo is None
                and os.environ.get("PROMISED_TEST_STORE") == "postgresql"):
            import pgserver
            dbname = os.path.basename(self.dir).replace("-", "_").lower()
            conninfo = pgserver.shared().create_db(dbname)
        self.conninfo = conninfo
        if conninfo is not None:
            self.store = ("[store]\nbackend = postgresql\n"
                          f"conninfo = {conninfo}\n")
        self.write_conf(conf_extra, policy)

    def write_conf(self, conf_extra="", policy=""):
        level = (f"log_level = {self.log_level}\n"
                 if self.log_level is not None else "")
        with open(self.conf, "w") as f:
            f.write(f"[daemon]\nsocket = {self.sock}\ndatabase = {self.db}\n"
                    f"{level}\n{self.store}[policy]\n{policy}\n"
                    f"[delivery]\nlog = {self.delivery_log}\n{conf_extra}")

    def start(self, env=None, preexec_fn=None, args=(), prefix=()):
        """args go to promised; prefix before it (setpriv, for one)."""
        check(self.proc is None, "daemon already running")
        self.stderr = open(self.stderr_path, "ab")
        e = dict(os.environ)
        e.update(env or {})
        cmd = [PROMISED, "-c", self.conf, *args]
        if os.environ.get("PROMISED_VALGRIND"):
            # memcheck: any error, or a definite leak at exit, turns the
            # exit status into 99, which stop() refuses
            cmd = ["valgrind", "--quiet", "--error-exitcode=99",
                   "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--show-leak-kinds=definite",
                   f"--log-file={self.dir}/valgrind.%p.log"] + cmd
        # not behind a prefix that switches users: the kernel clears the
        # signal at such a switch anyway
        if not prefix:
            preexec_fn = _die_with_parent(preexec_fn)
        cmd = list(prefix) + cmd
        self.proc = subprocess.Popen(cmd,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr,
                                     env=e, preexec_fn=preexec_fn)
        _running.add(self)
        wait_for(self._ready, timeout=60, what="promised to accept")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise Failure(f"promised exited with {self.proc.returncode}:\n"
                          + self.log_text())
        r = subprocess.run([PROMISE, "--socket", self.sock, "status"],
                           capture_output=True, timeout=10)
        return r.returncode == 0

    def log_text(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def valgrind_text(self):
        out = ""
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("valgrind."):
                with open(os.path.join(self.dir, name),
                          errors="replace") as f:
                    out += f.read()
        return out

    def check_sanitizers(self):
        text = self.log_text()
        for mark in SANITIZER_MARKS:
            check(mark not in text, f"sanitizer report in daemon log:\n{text}")

    def stop(self, timeout=15):
        """SIGTERM; asserts exit 0 and no sanitizer report."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure("promised did not stop on SIGTERM")
        finally:
            self.proc = None
            _running.discard(self)
            self.stderr.close()
        check(rc == 0, f"promised exited {rc} on SIGTERM:\n{self.log_text()}"
                       f"{self.valgrind_text()}")
        self.check_sanitizers()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        _running.discard(self)
        self.stderr.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def client(self, *args, expect=0, env=None, input=None):
        """Runs promise; asserts its exit code; returns the result."""
        e = dict(os.environ)
        e.update(env or {})
        r = subprocess.run([PROMISE, "--socket", self.sock, *args],
                           capture_output=True, text=True, timeout=30,
                           env=e, input=input)
        if expect is not None and r.returncode != expect:
            raise Failure(f"promise {' '.join(args)}: exit {r.returncode}, "
                          f"wanted {expect}\nstdout: {r.stdout}\n"
                          f"stderr: {r.stderr}")
        return r

    def json(self, *args, env=None):
        return json.loads(self.client(*args, "--json", env=env).stdout)

    def call(self, obj):
        """One raw request on a connection of its own; the reply."""
        c = Conn(self)
        try:
            return c.call(obj)
        finally:
            c.close()

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.sock)
        return s

    def sql(self, query):
        """query's rows from the daemon's database, SQLite or PostgreSQL,
        as tuples (integers as int, NULL as None); a change is committed.
        For what a test must see or do behind the daemon's back."""
        if self.conninfo is None:
            import sqlite3
            db = sqlite3.connect(self.db)
            try:
                rows = db.execute(query).fetchall()
                db.commit()
                return rows
            finally:
                db.close()
        import pgserver
        out = subprocess.run(
            [os.path.join(pgserver.BINDIR, "psql"), "-X", "-q", "-A", "-t",
             "-F", "\x1f", "-R", "\x1d", "-P", "null=\x1e", "-v", "ON_ERROR_STOP=1",
             "-d", self.conninfo, "-c", query],
            capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise Failure(f"psql {query!r}: {out.stderr}")

        def value(v):
            if v == "\x1e":
                return None
            try:
                return int(v)
            except ValueError:
                return v
        return [tuple(value(v) for v in line.split("\x1f"))
                for line in out.stdout.rstrip("\n").split("\x1d")
                if line != ""]

    def deliveries(self):
        try:
            with open(self.delivery_log) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.stderr.close()
        _running.discard(self)
        if os.environ.get("KEEP_TEST_DIRS"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


class Conn:
    """A raw protocol connection, for what the client would never send."""

    def __init__(self, daemon):
        self.s = daemon.connect()
        self.buf = b""

    def send(self, obj_or_bytes):
        if isinstance(obj_or_bytes, (dict, list)):
            obj_or_bytes = json.dumps(obj_or_bytes).encode() + b"\n"
        self.s.sendall(obj_or_bytes)

    def recv(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise Failure("connection closed before a reply")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, obj):
        self.send(obj)
        return self.recv()

    def closed(self):
        """True once the daemon has closed its end."""
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.s.close()


def free_port():
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tests):
    """Runs test functions in order; prints a pass/fail line for ctest.
    Daemons a test started and left running (a failed check skipped its
    stop()) are killed before the next test starts; those running before
    it, shared by several tests, are left to their owner."""
    failed = 0
    for t in tests:
        before = set(_running)
        start = time.monotonic()
        try:
            t()
            print(f"ok   {t.__name__} ({time.monotonic() - start:.2f}s)")
        except Exception as e:  # noqa: BLE001 - report every failure kind
            failed += 1
            print(f"FAIL {t.__name__}: {type(e).__name__}: {e}")
        reap(keep=before)
        sys.stdout.flush()
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
