# SPDX-License-Identifier: MIT
"""What an administrator meets when setting promised up: an error about a
directory names it, the client's default socket is the one the systemd
socket unit listens on, and the staff's group reaches the socket (and
only it) the way the package sets /run/promised up."""

import grp
import os
import pwd
import re
import subprocess

from harness import PROMISE, PROMISED, Daemon, check, run

UNIT_DIR = os.environ.get("PROMISED_UNIT_DIR", "")


def test_directory_error_names_the_path():
    d = Daemon("mkdir")
    try:
        # a file where a directory's parent should be: no mkdir can help
        blocker = os.path.join(d.dir, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("x\n")
        for what, key in (("database", "database"), ("socket", "socket"),
                          ("delivery log", "log")):
            path = os.path.join(blocker, "sub", "file")
            text = open(d.conf).read()
            conf = re.sub(rf"^{key} = .*$", f"{key} = {path}", text,
                          flags=re.M)
            bad = os.path.join(d.dir, f"bad-{key}.conf")
            with open(bad, "w") as f:
                f.write(conf)
            r = subprocess.run([PROMISED, "-c", bad], capture_output=True,
                               text=True, timeout=30,
                               stdin=subprocess.DEVNULL)
            check(r.returncode == 1, f"{what}: exit {r.returncode}: "
                                     f"{r.stderr}")
            want = (f"cannot create the directory of the {what} '{path}': "
                    f"Not a directory")
            check(want in r.stderr, f"{what}: wanted '{want}' in: "
                                    f"{r.stderr}")
    finally:
        d.cleanup()


def test_client_default_socket_is_the_units():
    r = subprocess.run([PROMISE, "--help"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 0, r)
    check("/run/promised/promised.sock" in r.stdout + r.stderr,
          f"the default socket is not /run/promised/promised.sock:\n"
          f"{r.stdout}{r.stderr}")
    with open(os.path.join(UNIT_DIR, "promised.socket")) as f:
        listen = [line.split("=", 1)[1].strip() for line in f
                  if line.startswith("ListenStream=")]
    check(listen == ["/run/promised/promised.sock"], listen)
    # with no socket, the client names the path it tried
    env = dict(os.environ)
    env.pop("PROMISE_SOCKET", None)
    r = subprocess.run([PROMISE, "status"], capture_output=True, text=True,
                       timeout=30, env=env)
    # (0 where a promised package runs on this machine)
    check(r.returncode in (0, 3), r)
    if r.returncode == 3:
        check("/run/promised/promised.sock" in r.stderr, r.stderr)


def as_user(user, group, *args, sock):
    """promise run as user with only group as a supplementary group (or
    none)."""
    pw = pwd.getpwnam(user)
    groups = ([f"--groups={grp.getgrnam(group).gr_gid}"] if group
              else ["--clear-groups"])
    env = dict(os.environ, PROMISE_SOCKET=sock)
    return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                           f"--regid={pw.pw_gid}", *groups, PROMISE,
                           "status"], capture_output=True, text=True,
                          timeout=30, env=env)


def test_staff_group_reaches_the_socket():
    """The socket directory as tmpfiles.d makes /run/promised: mode 2750,
    group the staff's ('users' stands in for promise-users here).  The
    socket the daemon binds itself takes that group, 0660; a member
    connects, anyone else is told which group to join."""
    if os.geteuid() != 0:
        print("     (not root: setpriv cannot switch users; skipped)")
        return
    staff = "users"
    gid = grp.getgrnam(staff).gr_gid
    d = Daemon("staff")
    try:
        run_dir = os.path.join(d.dir, "run")
        os.mkdir(run_dir)
        os.chown(run_dir, 0, gid)
        os.chmod(run_dir, 0o2750)
        os.chmod(d.dir, 0o711)
        d.sock = os.path.join(run_dir, "promised.sock")
        d.write_conf()
        d.start()
        st = os.stat(d.sock)
        check(st.st_gid == gid and (st.st_mode & 0o777) == 0o660,
              f"socket gid {st.st_gid} mode {st.st_mode & 0o777:o}, "
              f"wanted {gid} and 660")
        r = as_user("nobody", staff, sock=d.sock)
        check(r.returncode == 0, f"a member of {staff}: {r}")
        r = as_user("nobody", None, sock=d.sock)
        check(r.returncode == 3 and
              re.search(f"only members of group '?{staff}'? ", r.stderr),
              f"a non-member: {r}")
        d.stop()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_directory_error_names_the_path,
         test_client_default_socket_is_the_units,
         test_staff_group_reaches_the_socket])
