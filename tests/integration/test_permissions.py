# SPDX-License-Identifier: MIT
"""Who may do what: identity from SO_PEERCRED, owners, managers up the
chain, admins; refusals recorded and changing nothing.

The client runs as Debian's system users daemon (staff), bin (daemon's
manager), sys (bin's manager) and nobody (unrelated), through setpriv."""

import json
import os
import pwd
import signal
import stat
import subprocess

from harness import PROMISE, Daemon, check, run, wait_for

PEOPLE = ("[person daemon]\nmanager = bin\n"
          "[person bin]\nmanager = sys\n"
          "[person sys]\ntimezone = UTC\n")


def as_user(d, user, *args, expect=0):
    pw = pwd.getpwnam(user)
    r = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}",
                        f"--regid={pw.pw_gid}",
                        "--clear-groups", PROMISE, "--socket", d.sock,
                        *args], capture_output=True, text=True, timeout=30)
    if expect is not None and r.returncode != expect:
        raise AssertionError(f"{user}: promise {' '.join(args)}: exit "
                             f"{r.returncode}, wanted {expect}: {r.stderr}")
    return r


def open_up(d):
    """The test's own directory and socket, reachable by the other users
    (a real install uses group promise-users and mode 0660)."""
    os.chmod(d.dir, 0o711)
    os.chmod(d.sock, 0o666)


def main():
    d = Daemon("perm")
    d.write_conf(conf_extra=PEOPLE)
    d.start()
    # as the daemon makes them: the database for itself alone, the socket
    # for its group, never for the world
    modes = (stat.S_IMODE(os.stat(d.db).st_mode),
             stat.S_IMODE(os.stat(d.sock).st_mode))
    open_up(d)

    def test_files_are_private():
        check(modes == (0o600, 0o660), f"database, socket modes: {modes}")

    def add(user, *extra):
        r = as_user(d, user, "add", f"{user}'s promise", "--due", "+1d",
                    "--json", *extra)
        return json.loads(r.stdout)["promise"]

    def test_identity_from_the_socket():
        p = add("daemon")
        check(p["owner"] == "daemon" and p["created_by"] == "daemon", p)

    def test_strangers_are_refused_and_it_is_recorded():
        p = add("daemon")
        pid = str(p["id"])
        # a stranger is told what a missing id would tell: nothing
        r = as_user(d, "nobody", "show", pid, expect=1)
        check(f"no promise {pid}" in r.stderr and "daemon" not in r.stderr,
              r.stderr)
        as_user(d, "nobody", "done", pid, expect=1)
        as_user(d, "nobody", "snooze", pid, "--due", "+2d", "--reason", "x",
                expect=1)
        as_user(d, "nobody", "cancel", pid, "--reason", "x", expect=1)
        shown = d.json("show", pid)
        check(shown["promise"]["state"] == "open", "a refusal changed it")
        check(shown["promise"]["snoozes"] == 0, shown)
        # one stranger's refusals on one promise count in one event
        refused = [e for e in shown["events"] if e["kind"] == "refused"]
        check(len(refused) == 1, refused)
        check(refused[0]["actor"] == "nobody", refused)
        check(refused[0]["detail"]["op"] == "get", refused)
        check(refused[0]["detail"]["count"] == 4, refused)

    def test_managers_up_the_chain_may_act():
        p = add("daemon")
        pid = str(p["id"])
        as_user(d, "bin", "show", pid)
        as_user(d, "bin", "snooze", pid, "--due", "+2d", "--reason",
                "customer asked")
        as_user(d, "sys", "done", pid)
        check(d.json("show", pid)["promise"]["state"] == "kept", pid)
        # a report may not act on the manager's promise
        q = add("bin")
        as_user(d, "daemon", "done", str(q["id"]), expect=1)

    def test_adding_for_others():
        r = as_user(d, "nobody", "add", "for daemon", "--due", "+1d",
                    "--owner", "daemon", expect=1)
        check("may not add" in r.stderr, r.stderr)
        p = add("bin", "--owner", "daemon")
        check(p["owner"] == "daemon" and p["created_by"] == "bin", p)
        as_user(d, "daemon", "add", "for my boss", "--due", "+1d",
                "--owner", "bin", expect=1)

    def test_list_shows_own_and_reports():
        def titles(user, *args):
            r = as_user(d, user, "list", "--json", *args)
            return {x["owner"] for x in json.loads(r.stdout)["promises"]}
        check(titles("daemon") == {"daemon"}, titles("daemon"))
        check(titles("bin") == {"daemon", "bin"}, titles("bin"))
        check(titles("sys") >= {"daemon", "bin"}, titles("sys"))
        check(titles("nobody") == set(), titles("nobody"))
        as_user(d, "nobody", "list", "--owner", "daemon", expect=1)
        as_user(d, "bin", "list", "--owner", "daemon")

    def test_reports_and_digests_by_team():
        """Managers see how their team keeps its word, not above it."""
        def owners(user, *args):
            r = as_user(d, user, "report", "--json", *args)
            return {x["owner"] for x in json.loads(r.stdout)["owners"]}

        def digest(user, *args, expect=0):
            r = as_user(d, user, "digest", "--json", *args, expect=expect)
            return json.loads(r.stdout)["digest"] if expect == 0 else r

        check(owners("daemon") == {"daemon"}, owners("daemon"))
        check(owners("bin") == {"daemon", "bin"}, owners("bin"))
        check(owners("sys", "--team", "bin") == {"daemon", "bin"},
              owners("sys", "--team", "bin"))
        check(owners("nobody") == set(), owners("nobody"))
        r = as_user(d, "daemon", "report", "--team", "bin", expect=1)
        check("may not see how 'bin''s team keeps" in r.stderr, r.stderr)
        as_user(d, "nobody", "report", "--owner", "daemon", expect=1)
        as_user(d, "daemon", "sample", "5", "--team", "bin", expect=1)
        check(digest("bin")["team"] == ["daemon"], digest("bin"))
        g = digest("sys", "--team", "bin")
        check(g["manager"] == "bin" and g["team"] == ["daemon"], g)
        check(digest("sys")["team"] == ["daemon", "bin"], digest("sys"))
        r = digest("daemon", "--team", "bin", expect=1)
        check("may not see the digest of 'bin''s team" in r.stderr,
              r.stderr)
        digest("nobody", "--team", "sys", expect=1)

    def test_admins_and_backup():
        backup = os.path.join(d.dir, "copy.db")
        os.chmod(d.dir, 0o777)
        try:
            as_user(d, "daemon", "backup", backup, expect=1)
            check(not os.path.exists(backup), "refused backup wrote a file")
            with open(d.conf) as f:
                text = f.read()
            with open(d.conf, "w") as f:
                f.write(text.replace("[daemon]\n", "[daemon]\nadmins = "
                                     "nobody\n", 1))
            d.signal(signal.SIGHUP)
            wait_for(lambda: "configuration reloaded" in d.log_text(),
                     what="the reload")
            p = add("daemon")
            as_user(d, "nobody", "done", str(p["id"]))
            as_user(d, "nobody", "backup", backup)
            check(stat.S_IMODE(os.stat(backup).st_mode) == 0o600, backup)
        finally:
            os.chmod(d.dir, 0o711)

    def test_stop():
        d.stop()

    try:
        run([test_files_are_private, test_identity_from_the_socket,
             test_strangers_are_refused_and_it_is_recorded,
             test_managers_up_the_chain_may_act, test_adding_for_others,
             test_list_shows_own_and_reports,
             test_reports_and_digests_by_team, test_admins_and_backup,
             test_stop])
    finally:
        d.cleanup()


if __name__ == "__main__":
    main()
