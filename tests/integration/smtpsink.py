# SPDX-License-Identifier: MIT
"""smtpsink: a real SMTP server for the integration tests, and its driver.

Run as a program (with Debian's /usr/bin/python3, which has aiosmtpd):

    /usr/bin/python3 smtpsink.py DIR [--auth USER:PASS] [--tls CERT:KEY]

It listens on 127.0.0.1 on an ephemeral port and, once it accepts
connections, writes DIR/ports.json: {"smtp": PORT, "control": PORT,
"pid": PID} (atomically, by rename).  Every accepted message is appended to
DIR/messages.jsonl as one JSON line, flushed at once:

    {"received_at": 1763900000.25, "peer": "127.0.0.1", "helo": "...",
     "auth": "user" or null, "mail_from": "a@b", "mail_options": [...],
     "rcpt_tos": ["c@d"], "rcpt_options": [...], "data": "raw message"}

"data" is the message as received (after the server removed the SMTP
dot-stuffing), decoded as UTF-8 with surrogateescape so that any bytes
round-trip: data.encode("utf-8", "surrogateescape") gives them back.

The control port takes one JSON object per line and answers one line:

    {"cmd": "respond", "stage": "mail"|"rcpt"|"data", "code": 451,
     "text": "4.3.0 try later", "count": 1, "delay": 0}
        the next COUNT transactions reaching STAGE are answered CODE TEXT,
        after DELAY seconds; without "code" the normal reply is delayed.
        Rules queue up; the first matching one with count left applies.
    {"cmd": "clear"}      drops every rule
    {"cmd": "stats"}      {"ok": true, "accepted": N, "rejected": N,
                           "rules": [...]}
    {"cmd": "ping"}       {"ok": true}

With --tls it offers STARTTLS with that certificate and key (PEM), and
requires it before MAIL; make_cert() writes a self-signed pair for
127.0.0.1 with openssl.

SIGTERM stops it cleanly with exit status 0.

Import it for the SmtpSink class, which runs the program as a subprocess
(the importing interpreter needs no aiosmtpd), waits for it with a deadline
and always terminates it.
"""

import email
import email.policy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref

SINK_PYTHON = os.environ.get("SMTPSINK_PYTHON", "/usr/bin/python3")
STAGES = ("mail", "rcpt", "data")


# ---------------------------------------------------------------- server --

def serve(directory, auth, tls=None):
    import asyncio
    import ssl
    import warnings
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

    # AUTH without TLS is the point here: loopback, test credentials
    warnings.filterwarnings("ignore", message="Requiring AUTH while not")

    rules = []
    counts = {"accepted": 0, "rejected": 0}
    out = open(os.path.join(directory, "messages.jsonl"), "a",
               encoding="utf-8")

    async def apply(stage, normal):
        """The reply for a transaction reaching stage: a rule's, or normal."""
        for r in rules:
            if r["stage"] == stage and r["count"] > 0:
                r["count"] -= 1
                if r.get("delay"):
                    await asyncio.sleep(float(r["delay"]))
                if r.get("code") is not None:
                    counts["rejected"] += 1
                    return f'{int(r["code"])} {r.get("text", "")}'.rstrip()
                break
        return normal

    class Handler:
        async def handle_MAIL(self, server, session, envelope, address,
                              mail_options):
            reply = await apply("mail", "250 OK")
            if reply.startswith("250"):
                envelope.mail_from = address
                envelope.mail_options.extend(mail_options)
            return reply

        async def handle_RCPT(self, server, session, envelope, address,
                              rcpt_options):
            reply = await apply("rcpt", "250 OK")
            if reply.startswith("250"):
                envelope.rcpt_tos.append(address)
                envelope.rcpt_options.extend(rcpt_options)
            return reply

        async def handle_DATA(self, server, session, envelope):
            reply = await apply("data", "250 OK: queued")
            if not reply.startswith("250"):
                return reply
            content = envelope.original_content or envelope.content or b""
            login = session.auth_data
            if isinstance(login, LoginPassword):
                login = login.login.decode("utf-8", "replace")
            elif login is not None:
                login = str(login)
            rec = {
                "received_at": time.time(),
                "peer": (session.peer or [None])[0],
                "helo": session.host_name,
                "auth": login,
                "mail_from": envelope.mail_from,
                "mail_options": list(envelope.mail_options),
                "rcpt_tos": list(envelope.rcpt_tos),
                "rcpt_options": list(envelope.rcpt_options),
                "data": content.decode("utf-8", "surrogateescape"),
            }
            out.write(json.dumps(rec) + "\n")
            out.flush()
            counts["accepted"] += 1
            return reply

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login.decode("utf-8", "replace") == auth[0] and
              auth_data.password.decode("utf-8", "replace") == auth[1])
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # not handled: aiosmtpd then answers 535 itself
        return AuthResult(success=False, handled=False)

    def control_line(line):
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "respond":
                stage = req.get("stage", "data")
                if stage not in STAGES:
                    raise ValueError(f"stage must be one of {STAGES}")
                code = req.get("code")
                if code is not None and not 200 <= int(code) <= 599:
                    raise ValueError("code must be 200-599")
                rules.append({"stage": stage, "code": code,
                              "text": str(req.get("text", "")),
                              "count": int(req.get("count", 1)),
                              "delay": float(req.get("delay", 0))})
                return {"ok": True}
            if cmd == "clear":
                rules.clear()
                return {"ok": True}
            if cmd == "stats":
                return {"ok": True, **counts, "rules": rules}
            if cmd == "ping":
                return {"ok": True}
            raise ValueError(f"unknown cmd {cmd!r}")
        except (ValueError, TypeError, AttributeError) as e:
            return {"ok": False, "error": str(e)}

    async def control_conn(reader, writer):
        try:
            while line := await reader.readline():
                writer.write(json.dumps(control_line(line)).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def main():
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        kw = {}
        if auth is not None:
            kw = {"authenticator": authenticator, "auth_required": True,
                  "auth_require_tls": False}
        if tls is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(tls[0], tls[1])
            kw.update(tls_context=ctx, require_starttls=True)
        smtp = await loop.create_server(
            lambda: SMTP(Handler(), hostname="smtpsink.invalid",
                         enable_SMTPUTF8=True, decode_data=False, **kw),
            host="127.0.0.1", port=0)
        ctl = await asyncio.start_server(control_conn, host="127.0.0.1",
                                         port=0)
        ports = {"smtp": smtp.sockets[0].getsockname()[1],
                 "control": ctl.sockets[0].getsockname()[1],
                 "pid": os.getpid()}
        tmp = os.path.join(directory, "ports.json.tmp")
        with open(tmp, "w") as f:
            json.dump(ports, f)
        os.rename(tmp, os.path.join(directory, "ports.json"))
        await stop.wait()
        smtp.close()
        ctl.close()
        await smtp.wait_closed()
        await ctl.wait_closed()

    try:
        asyncio.run(main())
    finally:
        out.close()


# ---------------------------------------------------------------- driver --

class SinkError(Exception):
    pass


def make_cert(directory, name="relay"):
    """A self-signed certificate for 127.0.0.1 and its key, written with
    openssl into directory; returns (cert path, key path)."""
    cert = os.path.join(directory, f"{name}.crt")
    key = os.path.join(directory, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def _terminate(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class SmtpSink:
    """Runs smtpsink.py as a subprocess.

        with SmtpSink().start(tmpdir) as sink:
            conf = f"[smtp]\\nurl = {sink.url}\\n..."
            sink.respond(451, "4.3.0 try later")
            m = sink.wait_for_messages(1)[0]
            m["message"]["Subject"], m["rcpt_tos"]
    """

    def __init__(self, auth=None, tls=None):
        self.auth = auth  # (user, password) or None
        self.tls = tls    # (cert file, key file) or None: no STARTTLS
        self.dir = None
        self.proc = None
        self.port = self.control_port = None
        self._finalizer = None
        self._own_dir = False

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def start(self, directory=None, timeout=10.0):
        if self.proc is not None:
            raise SinkError("smtpsink already running")
        self._own_dir = directory is None
        self.dir = directory or tempfile.mkdtemp(prefix="smtpsink-")
        os.makedirs(self.dir, exist_ok=True)
        for name in ("ports.json", "ports.json.tmp"):
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass
        args = [SINK_PYTHON, os.path.abspath(__file__), self.dir]
        if self.auth is not None:
            args += ["--auth", f"{self.auth[0]}:{self.auth[1]}"]
        if self.tls is not None:
            args += ["--tls", f"{self.tls[0]}:{self.tls[1]}"]
        self.log = open(os.path.join(self.dir, "smtpsink.stderr"), "ab")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        # even if the test forgets stop(), the sink does not outlive it
        self._finalizer = weakref.finalize(self, _terminate, self.proc)
        try:
            ports = self._wait_ports(timeout)
        except BaseException:
            self.stop(check=False)
            raise
        self.port, self.control_port = ports["smtp"], ports["control"]
        return self

    def _wait_ports(self, timeout):
        path = os.path.join(self.dir, "ports.json")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(path) as f:
                    return json.load(f)
            except FileNotFoundError:
                pass
            if self.proc.poll() is not None:
                raise SinkError(f"smtpsink exited {self.proc.returncode}: "
                                + self.stderr_text())
            if time.monotonic() > deadline:
                raise SinkError(f"smtpsink not listening after {timeout}s")
            time.sleep(0.02)

    def stderr_text(self):
        try:
            with open(os.path.join(self.dir, "smtpsink.stderr"),
                      errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def stop(self, check=True, timeout=10.0):
        """SIGTERM and wait; with check, a non-zero exit is an error."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
        finally:
            self._finalizer.detach()
            self.log.close()
        if check and rc != 0:
            raise SinkError(f"smtpsink exited {rc} on SIGTERM: "
                            + self.stderr_text())
        return rc

    def cleanup(self):
        """Removes the directory start() made itself (KEEP_TEST_DIRS keeps
        it); a directory the caller gave is the caller's."""
        if self.proc is None and self._own_dir and self.dir and \
                not os.environ.get("KEEP_TEST_DIRS"):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.stop(check=exc[0] is None)
        finally:
            self.cleanup()

    def control(self, **cmd):
        """Sends one control command; returns the reply, raising on error."""
        with socket.create_connection(("127.0.0.1", self.control_port),
                                      timeout=10) as s:
            s.sendall(json.dumps(cmd).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        if not reply.get("ok"):
            raise SinkError(f"smtpsink control {cmd}: {reply.get('error')}")
        return reply

    def respond(self, code=None, text="", count=1, stage="data", delay=0):
        """Answers the next count transactions at stage with code text."""
        return self.control(cmd="respond", stage=stage, code=code, text=text,
                            count=count, delay=delay)

    def clear(self):
        return self.control(cmd="clear")

    def stats(self):
        return self.control(cmd="stats")

    def records(self):
        """The raw JSON records of messages.jsonl, whole lines only."""
        try:
            with open(os.path.join(self.dir, "messages.jsonl"),
                      encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        lines = text.split("\n")[:-1]  # the last may still be written
        return [json.loads(line) for line in lines if line]

    def messages(self):
        """Each accepted message: its record plus "raw" (bytes) and
        "message" (an email.message.EmailMessage, policy default)."""
        out = []
        for rec in self.records():
            raw = rec["data"].encode("utf-8", "surrogateescape")
            rec["raw"] = raw
            rec["message"] = email.message_from_bytes(
                raw, policy=email.policy.default)
            out.append(rec)
        return out

    def wait_for_messages(self, n, timeout=10.0):
        """Polls until at least n messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            if self.proc is not None and self.proc.poll() is not None:
                raise SinkError("smtpsink died: " + self.stderr_text())
            if time.monotonic() > deadline:
                raise SinkError(f"{len(msgs)} messages after {timeout}s, "
                                f"wanted {n}")
            time.sleep(0.02)


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description="SMTP sink for tests")
    p.add_argument("dir")
    p.add_argument("--auth", help="USER:PASS to require AUTH")
    p.add_argument("--tls", help="CERT:KEY to offer (and require) STARTTLS")
    a = p.parse_args(argv)
    tls = None
    if a.tls is not None:
        cert, sep, key = a.tls.partition(":")
        if not sep:
            p.error("--tls wants CERT:KEY")
        tls = (cert, key)
    auth = None
    if a.auth is not None:
        user, sep, password = a.auth.partition(":")
        if not sep:
            p.error("--auth wants USER:PASS")
        auth = (user, password)
    serve(a.dir, auth, tls)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
