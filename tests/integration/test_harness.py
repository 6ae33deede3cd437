# SPDX-License-Identifier: MIT
"""The harness stops every daemon a test starts, however the test ends.

Each case runs a small test script of its own in a child python that
writes the pids of the daemons it started to a file; once the child is
gone, none of them may be left running and their directories are gone.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

from harness import check, run, wait_for

# a failed check after start(), as when libfaketime is missing in the
# clock test; an unexpected exception; and a daemon shared by several
# tests, which a failing test must not take from the next one
FAILING = """
import sys
from harness import Daemon, check, run
out = open(sys.argv[1], "a")
def note(d):
    out.write(f"{d.proc.pid} {d.dir}\\n")
    out.flush()
shared = Daemon("harness-shared").start()
note(shared)
def test_check_fails():
    note(Daemon("harness-check").start())
    check(False, "forced failure")
def test_raises():
    note(Daemon("harness-raise").start())
    raise RuntimeError("forced error")
def test_shared_still_there():
    shared.client("status")
def test_stop_shared():
    shared.stop()
    shared.cleanup()
run([test_check_fails, test_raises, test_shared_still_there,
     test_stop_shared])
"""

# no run(): the script dies of an exception with a daemon running
UNCAUGHT = """
import sys
from harness import Daemon
d = Daemon("harness-uncaught").start()
with open(sys.argv[1], "a") as out:
    out.write(f"{d.proc.pid} {d.dir}\\n")
raise SystemExit("forced exit")
"""

# killed outright, as ctest kills a test at its timeout: no handler runs
KILLED = """
import sys, time
from harness import Daemon
d = Daemon("harness-killed").start()
with open(sys.argv[1], "a") as out:
    out.write(f"{d.proc.pid} {d.dir}\\n")
time.sleep(300)
"""


def alive(pid):
    """True while pid runs (a zombie that init has not reaped yet is
    dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def started(path):
    try:
        with open(path) as f:
            return [(int(line.split()[0]), line.split()[1])
                    for line in f if line.strip()]
    except FileNotFoundError:
        return []


def child(script, pids):
    return subprocess.Popen([sys.executable, "-c", script, pids],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def sweep(pids):
    """Kills and removes whatever a child left, should the harness fail."""
    for pid, d in started(pids):
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(d, ignore_errors=True)


def check_gone(daemons, what):
    for pid, d in daemons:
        wait_for(lambda: not alive(pid), timeout=10,
                 what=f"promised {pid} to be gone after {what}")
        check(not os.path.exists(d), f"{what}: {d} left behind")


def test_failed_tests_stop_their_daemons():
    with tempfile.TemporaryDirectory() as tmp:
        pids = os.path.join(tmp, "pids")
        try:
            p = child(FAILING, pids)
            out, _ = p.communicate(timeout=120)
            check(p.returncode == 1, f"exit {p.returncode}:\n{out}")
            check("FAIL test_check_fails" in out and
                  "FAIL test_raises" in out and
                  "ok   test_shared_still_there" in out and
                  "2 passed, 2 failed" in out, out)
            daemons = started(pids)
            check(len(daemons) == 3, f"{daemons}\n{out}")
            check_gone(daemons, "failed tests")
        finally:
            sweep(pids)


def test_uncaught_exit_stops_daemons():
    with tempfile.TemporaryDirectory() as tmp:
        pids = os.path.join(tmp, "pids")
        try:
            p = child(UNCAUGHT, pids)
            out, _ = p.communicate(timeout=120)
            check(p.returncode != 0 and "forced exit" in out,
                  f"exit {p.returncode}:\n{out}")
            daemons = started(pids)
            check(len(daemons) == 1, f"{daemons}\n{out}")
            check_gone(daemons, "an uncaught exit")
        finally:
            sweep(pids)


def test_killed_test_takes_its_daemon_along():
    with tempfile.TemporaryDirectory() as tmp:
        pids = os.path.join(tmp, "pids")
        p = child(KILLED, pids)
        try:
            daemons = wait_for(lambda: started(pids), timeout=60,
                               what="the child's daemon")
            check(alive(daemons[0][0]), "the daemon is not running")
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
            pid = daemons[0][0]
            wait_for(lambda: not alive(pid), timeout=10,
                     what=f"promised {pid} to die with its test")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            # no handler ran in the child: what it left is ours to remove
            sweep(pids)


if __name__ == "__main__":
    run([test_failed_tests_stop_their_daemons,
         test_uncaught_exit_stops_daemons,
         test_killed_test_takes_its_daemon_along])
