#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real PostgreSQL 15 for the tests, in a temporary directory.

PgServer.start() runs initdb into a new temporary directory and starts the
server in the foreground (postgres, as pg_ctl would) listening on a Unix
socket in that directory only: no TCP at all (listen_addresses is empty).
stop() shuts it down and removes the directory; so does an exit handler,
and the kernel kills the server when the process that started it dies
(PR_SET_PDEATHSIG, through setpriv), so no server outlives a failed or
killed test.

initdb and postgres refuse to run as root: as root, both run as the user
nobody (setpriv), in a directory handed to nobody; as anyone else, as that
user.  Authentication is trust on the socket, whose directory only the
server's user and root can enter.

As a command it starts a server, runs the command after "--" with
PROMISED_TEST_PG (a libpq connection string for the server's "postgres"
database) and PGHOST set, and stops the server however the command ends:

    pgserver.py -- ctest --test-dir build -R integration_pg

Environment: PG_BINDIR (default /usr/lib/postgresql/15/bin, Debian's).
"""

import os
import pwd
import signal
import subprocess
import sys
import time

from tempserver import TempServer

BINDIR = os.environ.get("PG_BINDIR", "/usr/lib/postgresql/15/bin")
# who runs the server when the tests run as root
UNPRIVILEGED = "nobody"


def available():
    """True if PostgreSQL's server programs are installed."""
    return all(os.access(os.path.join(BINDIR, p), os.X_OK)
               for p in ("initdb", "postgres", "psql"))


class PgError(Exception):
    pass


class PgServer(TempServer):
    # a fast shutdown: sessions end at once, nothing waits for clients
    STOP_SIGNAL = signal.SIGINT

    def __init__(self, name="pg"):
        super().__init__(name)
        self.prefix = []

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def host(self):
        """the socket's directory: libpq's host for a Unix socket"""
        return self.dir

    def conninfo(self, dbname="postgres"):
        return f"host={self.dir} port=5432 dbname={dbname} user=promised"

    def _run(self, *cmd, **kw):
        return subprocess.run(self.prefix + list(cmd), capture_output=True,
                              text=True, timeout=120, **kw)

    def _start(self):
        if os.geteuid() == 0:
            pw = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.prefix = ["setpriv", f"--reuid={pw.pw_uid}",
                           f"--regid={pw.pw_gid}", "--clear-groups", "--"]
        # --no-sync: a test cluster need not survive a power cut, and
        # initdb's fsyncs take seconds on a loaded machine
        r = self._run(os.path.join(BINDIR, "initdb"), "-D", self.data,
                      "-U", "promised", "-A", "trust", "-E", "UTF8",
                      "--locale=C", "--no-sync", "--no-instructions")
        if r.returncode != 0:
            raise PgError(f"initdb failed ({r.returncode}):\n{r.stdout}"
                          f"{r.stderr}")
        self._serve()

    def _serve(self):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        # fsync off for the same reason; one socket in our directory and
        # no TCP listener; the server dies with whoever started it
        cmd = [os.path.join(BINDIR, "postgres"), "-D", self.data,
               "-k", self.dir, "-c", "listen_addresses=",
               "-c", "fsync=off", "-c", "max_connections=200",
               "-c", "shared_buffers=16MB"]
        if self.prefix:
            cmd = (["setpriv", "--pdeathsig=KILL"] + self.prefix[1:-1]
                   + ["--"] + cmd)
        else:
            cmd = ["setpriv", "--pdeathsig=KILL", "--"] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise PgError("postgres exited with "
                              f"{self.proc.returncode}:\n{self.log_text()}")
            r = subprocess.run([os.path.join(BINDIR, "pg_isready"),
                                "-h", self.dir, "-p", "5432", "-q"],
                               capture_output=True)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise PgError("postgres did not accept in 60 s:\n"
                              + self.log_text())
            time.sleep(0.05)

    def pause(self):
        """Fast shutdown (SIGINT) of the server, its data kept: every
        session ends, clients see it gone."""
        self._end()

    def resume(self):
        """The server paused started again on the same data."""
        self._serve()

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "server.log"),
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def psql(self, sql, dbname="postgres"):
        """Runs sql; returns its output (unaligned, tuples only)."""
        r = subprocess.run([os.path.join(BINDIR, "psql"), "-X", "-q", "-A",
                            "-t", "-v", "ON_ERROR_STOP=1", "-d",
                            self.conninfo(dbname), "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise PgError(f"psql {sql!r}: {r.stderr}")
        return r.stdout

    def create_db(self, dbname):
        """A new, empty database; its conninfo."""
        self.psql(f'CREATE DATABASE "{dbname}"')
        return self.conninfo(dbname)


_shared = None


def shared():
    """One server for the whole test process, started on first use."""
    global _shared
    if _shared is None:
        _shared = PgServer("pg").start()
    return _shared


def main(argv):
    if len(argv) < 3 or argv[1] != "--":
        print("usage: pgserver.py -- command [args...]", file=sys.stderr)
        return 2
    if not available():
        print(f"pgserver: PostgreSQL is not installed in {BINDIR}",
              file=sys.stderr)
        return 1
    srv = PgServer("ci").start()
    # SIGTERM (a CI timeout) goes through the exit handlers too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = dict(os.environ, PROMISED_TEST_PG=srv.conninfo(),
               PGHOST=srv.host)
    try:
        return subprocess.run(argv[2:], env=env).returncode
    finally:
        srv.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
