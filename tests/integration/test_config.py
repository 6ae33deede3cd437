"""Configuration checking and SIGHUP reloads."""

import os
import signal
import subprocess
import tempfile
import time

from harness import PROMISED, Daemon, check, run, wait_for

SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def check_config(text):
    with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                     delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run([PROMISED, "--check-config", "-c", f.name],
                           capture_output=True, text=True, timeout=10)
    finally:
        os.unlink(f.name)
    return r, f.name


def test_shipped_configs_are_valid():
    for name in ("promised.conf", "dev.conf"):
        path = os.path.join(SRC, "conf", name)
        r = subprocess.run([PROMISED, "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 0, f"{name}: {r.stdout}{r.stderr}")
        check("configuration OK" in r.stdout, r.stdout)


def test_bad_configs_name_file_and_line():
    cases = [
        ("[daemon]\nsocket = /tmp/x.sock\nbogus = 1\n", 3, "bogus"),
        ("[daemon]\nlog_level = loud\n", 2, "log_level"),
        ("[policy]\n\nnudge_before = 24h,soon\n", 3, "nudge_before"),
        ("[policy]\nescalate_after = -5m\n", 2, "escalate_after"),
        ("[nonsense]\nx = 1\n", 2, "nonsense"),
        ("[daemon]\nthis line has no equals sign\n", 2, "syntax"),
    ]
    for text, line, word in cases:
        r, path = check_config(text)
        check(r.returncode == 78, f"exit {r.returncode} for {text!r}")
        msg = r.stderr.strip()
        check(f"{path}:{line}:" in msg, f"no file:line in {msg!r}")
        check(word in msg, f"{word!r} not named in {msg!r}")
        check(len(msg.splitlines()) == 1, f"not one line: {msg!r}")


def test_missing_config_file():
    r = subprocess.run([PROMISED, "--check-config", "-c",
                        "/nonexistent/promised.conf"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 78, r)
    check("/nonexistent/promised.conf" in r.stderr, r.stderr)


def test_version_and_help():
    r = subprocess.run([PROMISED, "--version"], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 0 and r.stdout.startswith("promised "), r)
    r = subprocess.run([PROMISED, "--help"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0 and "--check-config" in r.stdout, r)
    r = subprocess.run([PROMISED, "--bogus"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2, r)


def test_sighup_reloads_and_keeps_old_on_error():
    d = Daemon("reload", policy="nudge_before = 2h\n").start()
    try:
        due = int(time.time()) + 86400
        p = d.json("add", "before reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [7200], p)
        # a broken config is refused and the old one stays in force
        with open(d.conf, "a") as f:
            f.write("\n[policy]\nnudge_before = whenever\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration"
                 in d.log_text(), what="the reload refusal")
        p = d.json("add", "after bad reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [7200], f"old policy lost: {p}")
        # a good one takes effect
        d.write_conf(policy="nudge_before = 3h,30m\n")
        d.signal(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded" in d.log_text(),
                 what="the reload")
        p = d.json("add", "after good reload", "--due", f"@{due}")["promise"]
        check(p["nudge"] == [10800, 1800], f"new policy not used: {p}")
    finally:
        d.stop()
        d.cleanup()


def test_second_daemon_on_same_socket_refused():
    d = Daemon("twice").start()
    try:
        r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=10)
        check(r.returncode != 0, "a second daemon started")
        check("already listening" in r.stderr, r.stderr)
        check(d.json("status")["ok"], "the first daemon was disturbed")
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_shipped_configs_are_valid,
         test_bad_configs_name_file_and_line,
         test_missing_config_file,
         test_version_and_help,
         test_sighup_reloads_and_keeps_old_on_error,
         test_second_daemon_on_same_socket_refused])
