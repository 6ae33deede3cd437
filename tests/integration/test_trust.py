"""Trust under a hostile colleague: what a mistake in the configuration,
a stranger on the socket or a crafted file can and cannot do."""

import os
import subprocess

from harness import PROMISED, Daemon, check, run


def start_refused(d, words):
    """Starts promised on d's config; asserts it exits non-zero naming
    words; returns its stderr."""
    r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    check(r.returncode != 0, f"promised started: {r.stderr}")
    for w in words:
        check(w in r.stderr, f"{w!r} not in {r.stderr!r}")
    return r.stderr


def test_socket_path_never_deletes_a_file():
    d = Daemon("sockfile")
    try:
        # a regular file where the socket should be: left as it is
        with open(d.sock, "w") as f:
            f.write("precious\n")
        start_refused(d, [d.sock, "not a socket"])
        with open(d.sock) as f:
            check(f.read() == "precious\n", "the file was changed")
        os.unlink(d.sock)
        # a directory too
        os.mkdir(d.sock)
        start_refused(d, ["not a socket"])
        check(os.path.isdir(d.sock), "the directory is gone")
        os.rmdir(d.sock)
        # a stale socket, left by a kill -9, is still replaced
        d.start()
        d.client("add", "one", "--due", "in 1d")
        d.kill9()
        check(os.path.exists(d.sock), "no stale socket left")
        d.start()
        check(len(d.json("list")["promises"]) == 1, "promise lost")
        d.stop()
    finally:
        d.cleanup()


def test_socket_on_the_database_refused():
    d = Daemon("sockdb")
    try:
        d.start()
        d.client("add", "keep me", "--due", "in 1d")
        d.stop()
        size = os.path.getsize(d.db)
        # the typo of the issue: socket = the database's path
        d.write_conf()
        with open(d.conf) as f:
            text = f.read()
        with open(d.conf, "w") as f:
            f.write(text.replace(f"socket = {d.sock}", f"socket = {d.db}"))
        r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 78, f"exit {r.returncode}: {r.stderr}")
        check(f"{d.conf}:2:" in r.stderr and "database" in r.stderr,
              r.stderr)
        start_refused(d, ["database"])
        check(os.path.getsize(d.db) == size, "the database was touched")
    finally:
        d.cleanup()


def test_socket_on_the_delivery_log_refused():
    d = Daemon("socklog")
    try:
        with open(d.conf) as f:
            text = f.read()
        # spelled differently, the same file
        other = os.path.join(d.dir, ".", "deliveries.log")
        with open(d.conf, "w") as f:
            f.write(text.replace(f"socket = {d.sock}", f"socket = {other}"))
        r = subprocess.run([PROMISED, "--check-config", "-c", d.conf],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 78, f"exit {r.returncode}: {r.stderr}")
        check("delivery log" in r.stderr, r.stderr)
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_socket_path_never_deletes_a_file,
         test_socket_on_the_database_refused,
         test_socket_on_the_delivery_log_refused])
