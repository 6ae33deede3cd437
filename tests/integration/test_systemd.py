# SPDX-License-Identifier: MIT
"""The daemon under a service manager: sd_notify readiness, status,
reload and watchdog messages, and socket activation."""

import os
import signal
import socket
import subprocess
import time

from harness import PROMISE, PROMISED, Daemon, check, run, wait_for


class NotifySocket:
    """A datagram socket posing as systemd's $NOTIFY_SOCKET."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.path)
        self.s.settimeout(0.05)
        self.got = []

    def drain(self):
        while True:
            try:
                self.got.append(self.s.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return self.got

    def close(self):
        self.s.close()


def test_ready_only_once_accepting_then_status_and_reload():
    d = Daemon("notify")
    n = NotifySocket(d.dir)
    env = dict(os.environ, NOTIFY_SOCKET=n.path, WATCHDOG_USEC="200000")
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([PROMISED, "-c", d.conf], env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=open(d.stderr_path, "ab"))
    try:
        deadline = time.monotonic() + 20
        ready_ok = None
        while ready_ok is None and time.monotonic() < deadline:
            try:
                msg = n.s.recv(4096).decode()
            except socket.timeout:
                check(proc.poll() is None, "promised exited")
                continue
            n.got.append(msg)
            if "READY=1" in msg.split("\n"):
                # at the moment READY=1 arrives, the socket must accept
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect(d.sock)
                    ready_ok = True
                except OSError as e:
                    ready_ok = False
                    print(f"     connect after READY=1: {e}")
                c.close()
        check(ready_ok, f"READY=1 before the socket accepted: {n.got}")
        wait_for(lambda: any(m.startswith("STATUS=") for m in n.drain()),
                 what="a STATUS= line")
        status = [m for m in n.got if m.startswith("STATUS=")][-1]
        check("open" in status and "overdue" in status, status)
        # the watchdog is fed while WATCHDOG_USEC is set
        wait_for(lambda: n.drain().count("WATCHDOG=1") >= 3, timeout=5,
                 what="watchdog pings")
        n.got.clear()
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "READY=1" in n.drain(), what="READY=1 after reload")
        i = n.got.index("RELOADING=1")
        check("READY=1" in n.got[i + 1:], n.got)
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=15) == 0, "exit status")
        check("STOPPING=1" in n.drain(), n.got)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        n.close()
        d.check_sanitizers()
        d.cleanup()


def test_socket_activation():
    d = Daemon("activate")
    act = os.path.join(d.dir, "activated.sock")
    # systemd-socket-activate listens and hands the socket over on the
    # first connection, as promised.socket would
    proc = subprocess.Popen(
        ["systemd-socket-activate", "-l", act, PROMISED, "-c", d.conf],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(d.stderr_path, "ab"))
    try:
        wait_for(lambda: os.path.exists(act), what="the activation socket")

        def status():
            r = subprocess.run([PROMISE, "--socket", act, "status", "--json"],
                               capture_output=True, text=True, timeout=30)
            return r.returncode == 0 and r
        wait_for(status, timeout=20, what="an activated daemon")
        r = subprocess.run([PROMISE, "--socket", act, "add", "activated",
                            "--due", "+1h"], capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, r)
        check(not os.path.exists(d.sock),
              "the daemon made its own socket despite activation")
        proc.send_signal(signal.SIGTERM)
        check(proc.wait(timeout=15) == 0, "exit status")
        check(os.path.exists(act),
              "the daemon removed a socket it did not create")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        d.check_sanitizers()
        d.cleanup()


def test_journal_lines_carry_priorities():
    d = Daemon("journal")
    try:
        d.start(env={"JOURNAL_STREAM": "8:12345"})
        d.stop()
        lines = [x for x in d.log_text().splitlines() if x]
        check(lines, "nothing logged")
        for line in lines:
            check(line[0] == "<" and line[2] == ">" and line[1] in "34567",
                  f"no priority prefix: {line!r}")
            check(not line[3:7].isdigit(), f"timestamped: {line!r}")
        check(any(x.startswith("<6>promised ") for x in lines), lines)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_ready_only_once_accepting_then_status_and_reload,
         test_socket_activation,
         test_journal_lines_carry_priorities])
