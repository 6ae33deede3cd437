# SPDX-License-Identifier: MIT
"""A real server for the tests, run in a temporary directory of its own.

A subclass names its directory (name), starts its process in _start() and
says how it stops (STOP_SIGNAL).  start() removes the directory again if
_start() fails; stop() ends the process (SIGKILL if it has not gone in
30 s) and removes the directory, kept with KEEP_TEST_DIRS in the
environment; an exit handler stops those a test left running.
"""

import atexit
import os
import shutil
import signal
import subprocess
import tempfile

_servers = set()


class TempServer:
    STOP_SIGNAL = signal.SIGTERM

    def __init__(self, name):
        self.name = name
        self.dir = None
        self.proc = None

    def start(self, *args, **kw):
        self.dir = tempfile.mkdtemp(prefix=f"promised-{self.name}-")
        _servers.add(self)
        try:
            self._start(*args, **kw)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, *args, **kw):
        raise NotImplementedError

    def _end(self):
        """STOP_SIGNAL to the process, and its end awaited"""
        self.proc.send_signal(self.STOP_SIGNAL)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        """Ends the process if it runs, then removes the directory."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self._end()
            self.proc = None
        _servers.discard(self)
        if self.dir is not None:
            if os.environ.get("KEEP_TEST_DIRS"):
                print(f"kept {self.dir}")
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _stop_all():
    for s in list(_servers):
        s.stop()


atexit.register(_stop_all)
