#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A real mail server for the tests: Debian's postfix, in a temporary
directory, on 127.0.0.1.

Postfix.start() writes a main.cf and a master.cf of its own into a new
temporary directory (config, queue and data directories all inside it),
and runs postfix's master there in the foreground (master -d), so nothing
of the system's mail setup is read or changed: no /etc/postfix/main.cf, no
port 25, no system service.  It listens on 127.0.0.1 at a free port; mail
to the addresses in `pipe_to` goes to the pipe transport "promised", which
runs `argv` as `user` (USER or USER:GROUP; the README's master.cf
line), everything else is
relayed to `relay` (host, port), the tests' SMTP server.  stop() ends the
master with SIGTERM (its processes follow it) and removes the directory;
so does an exit handler, and the kernel kills the master when the process
that started it dies (PR_SET_PDEATHSIG), its processes then seeing their
master gone.

Postfix's master must start as root, and its pipe refuses to run a
command as root or as postfix: the tests that use it run as root (as CI
does) and hand the mail to another user.  Its log goes to maillog in
the directory, shown when something fails.
"""

import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time

from tempserver import TempServer

MASTER = "/usr/lib/postfix/sbin/master"
POSTFIX = "/usr/sbin/postfix"

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def available():
    """Why postfix cannot run here, or None if it can."""
    if not (os.access(MASTER, os.X_OK) and os.access(POSTFIX, os.X_OK)):
        return "postfix is not installed (sh .ci/deps)"
    if os.geteuid() != 0:
        return "postfix's master must start as root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no user postfix (the package's postinst makes it)"
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MtaError(Exception):
    pass


# the services a relay and a pipe need, none chrooted (column 5 "n");
# pickup too, which "postfix flush" asks whether the system is up
MASTER_CF = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
promised  unix  -       n       n       -       -       pipe
  flags=Rq user={user} argv={argv}
"""


class Postfix(TempServer):
    # the master's processes follow it (SIGTERM, the default)
    def __init__(self, argv, user, pipe_to, relay, name="mta"):
        """argv: the pipe's command line, as master.cf has it;
        pipe_to: the domains and addresses delivered to it."""
        super().__init__(name)
        self.argv, self.user, self.pipe_to = argv, user, pipe_to
        self.relay = relay
        self.port = None

    def start(self, timeout=30):
        why = available()
        if why is not None:
            raise MtaError(why)
        return super().start(timeout)

    def _path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _start(self, timeout):
        os.chmod(self.dir, 0o755)
        for sub in ("conf", "queue", "data"):
            os.mkdir(self._path(sub), 0o755)
        pw = pwd.getpwnam("postfix")
        os.chown(self._path("data"), pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        host, port = self.relay
        domains = ", ".join(a for a in self.pipe_to if "@" not in a)
        with open(self._path("conf", "transport"), "w") as f:
            for a in self.pipe_to:
                f.write(f"{a}\tpromised:\n")
            f.write(f"*\tsmtp:[{host}]:{port}\n")
        with open(self._path("conf", "main.cf"), "w") as f:
            f.write(f"""\
compatibility_level = 3.6
queue_directory = {self._path("queue")}
data_directory = {self._path("data")}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.com
mydomain = example.com
myorigin = example.com
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
maillog_file_prefixes = {self.dir}
maillog_file = {self._path("maillog")}
transport_maps = hash:{self._path("conf", "transport")}
promised_destination_recipient_limit = 1
relay_domains = {domains}
""")
        with open(self._path("conf", "master.cf"), "w") as f:
            f.write(MASTER_CF.format(listen=f"127.0.0.1:{self.port}",
                                     user=self.user, argv=self.argv))
        conf = self._path("conf")
        r = subprocess.run(["/usr/sbin/postmap", "-c", conf,
                            "hash:" + self._path("conf", "transport")],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise MtaError(f"postmap failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}")
        # creates the queue's directories, owned as postfix wants them
        r = subprocess.run([POSTFIX, "-c", conf, "check"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise MtaError(f"postfix check failed ({r.returncode}):\n"
                           f"{r.stdout}{r.stderr}{self.log_text()}")
        self.proc = subprocess.Popen(
            [MASTER, "-c", conf, "-d"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=lambda: _libc.prctl(_PR_SET_PDEATHSIG,
                                           signal.SIGKILL, 0, 0, 0))
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise MtaError(f"postfix's master exited with "
                               f"{self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=5) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"220"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise MtaError(f"postfix did not accept in {timeout} s:\n"
                               + self.log_text())
            time.sleep(0.1)

    def log_text(self):
        try:
            with open(self._path("maillog"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""
