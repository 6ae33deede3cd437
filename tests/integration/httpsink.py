# SPDX-License-Identifier: MIT
"""httpsink: a real HTTP/1.1 server on loopback that records what it gets.

Run as a program it binds 127.0.0.1 (an ephemeral port with --port 0),
writes the port to --port-file once it listens, and appends one JSON line
per request to --record: {"time", "method", "path", "headers", "body",
"status"}, flushed at once.  Tests steer it at run time through its own
control endpoint, which is never recorded:

  POST /_control  {"fail": N, "status": 503, "retry_after": "2"}
      answer the next N requests with status (503 unless given), with a
      Retry-After header when retry_after is given (seconds or HTTP-date)
  POST /_control  {"hang": SECONDS, "hang_count": N}
      sleep before answering the next N requests (1 unless given)
  POST /_control  {"status_always": 400, "location": "http://..."}
      answer every request with that status from now on (null or 0 clears
      it); location adds a Location header, for redirect tests
  POST /_control  {"response_bytes": N}
      the size of the body of the answers from now on (default 2)
  POST /_control  {"reset": true}
      forget all of the above (applied before the other keys)
  GET  /_control  the current settings and the number of requests seen

fail takes precedence over status_always.  SIGTERM stops the server and
exits 0.  The HttpSink class below runs it as a subprocess for tests.
"""

import argparse
import atexit
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL_PATH = "/_control"
MAX_BODY = 16 * 1024 * 1024


class State:
    """What the control endpoint set; guarded by lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = 0
        self.reset()

    def reset(self):
        self.fail = 0
        self.fail_status = 503
        self.retry_after = None
        self.hang = 0.0
        self.hang_count = 0
        self.status_always = None
        self.location = None
        self.response_bytes = 2

    def apply(self, c):
        if c.get("reset"):
            self.reset()
        if "fail" in c:
            self.fail = int(c["fail"])
            self.fail_status = int(c.get("status") or 503)
            ra = c.get("retry_after")
            self.retry_after = None if ra is None else str(ra)
        if "hang" in c:
            self.hang = float(c["hang"])
            self.hang_count = int(c.get("hang_count", 1))
        if "status_always" in c:
            self.status_always = int(c["status_always"] or 0) or None
        if "location" in c:
            self.location = c["location"]
        if "response_bytes" in c:
            self.response_bytes = int(c["response_bytes"])

    def as_dict(self):
        return {"fail": self.fail, "status": self.fail_status,
                "retry_after": self.retry_after, "hang": self.hang,
                "hang_count": self.hang_count,
                "status_always": self.status_always,
                "location": self.location,
                "response_bytes": self.response_bytes, "seen": self.seen}

    def next_answer(self):
        """Consumes one request's worth of settings: (status, headers,
        seconds to hang)."""
        headers = {}
        hang = 0.0
        if self.hang_count > 0:
            self.hang_count -= 1
            hang = self.hang
        if self.fail > 0:
            self.fail -= 1
            status = self.fail_status
            if self.retry_after is not None:
                headers["Retry-After"] = self.retry_after
        elif self.status_always is not None:
            status = self.status_always
        else:
            status = 200
        if self.location is not None and 300 <= status <= 399:
            headers["Location"] = self.location
        return status, headers, hang


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl expects
    server_version = "httpsink/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("httpsink: " + (fmt % args) + "\n")

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers end with an empty line
                    while self.rfile.readline().strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > MAX_BODY:
                    raise ValueError("body too large")
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(n)

    def answer(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, body):
        st = self.server.state
        try:
            c = json.loads(body or b"{}")
            if not isinstance(c, dict):
                raise ValueError("not an object")
            with st.lock:
                if self.command == "POST":
                    st.apply(c)
                reply = st.as_dict()
        except (ValueError, TypeError) as e:
            self.answer(400, json.dumps({"error": str(e)}).encode())
            return
        self.answer(200, json.dumps(reply).encode())

    def handle_any(self):
        received = time.time()
        try:
            body = self.read_body()
        except ValueError as e:
            self.close_connection = True
            self.answer(400, json.dumps({"error": str(e)}).encode())
            return
        if self.path.split("?")[0] == CONTROL_PATH:
            self.control(body)
            return
        st = self.server.state
        with st.lock:
            st.seen += 1
            status, headers, hang = st.next_answer()
            size = st.response_bytes
        headers_seen = {}
        for k, v in self.headers.items():
            headers_seen[k] = f"{headers_seen[k]}, {v}" if k in headers_seen \
                else v
        self.server.record({"time": received, "method": self.command,
                            "path": self.path, "headers": headers_seen,
                            "body": body.decode("utf-8", "replace"),
                            "status": status})
        if hang > 0 and self.server.stopping.wait(hang):
            self.close_connection = True
            return
        out = (b"{}" + b" " * max(0, size - 2)) if size >= 2 else b""
        try:
            self.answer(status, out, headers)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up waiting, as a timeout test wants
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


class Sink(ThreadingHTTPServer):
    daemon_threads = True  # a hanging request must not hold up exit
    allow_reuse_address = True

    def __init__(self, addr, record_path, verbose=False):
        super().__init__(addr, Handler)
        self.state = State()
        self.verbose = verbose
        self.stopping = threading.Event()
        self.record_lock = threading.Lock()
        self.record_file = open(record_path, "a", encoding="utf-8")

    def record(self, obj):
        line = json.dumps(obj, sort_keys=True) + "\n"
        with self.record_lock:
            self.record_file.write(line)
            self.record_file.flush()

    def server_close(self):
        super().server_close()
        with self.record_lock:
            self.record_file.close()


def write_atomically(path, text):
    """Readers see the whole file or none of it."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", required=True,
                    help="file to append one JSON line per request to")
    ap.add_argument("--port-file", "--control-port-file", dest="port_file",
                    help="file to write the port to once listening")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    srv = Sink((args.host, args.port), args.record, args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    t = threading.Thread(target=srv.serve_forever, kwargs={
                         "poll_interval": 0.1}, daemon=True)
    t.start()
    port = srv.server_address[1]
    if args.port_file:
        write_atomically(args.port_file, f"{port}\n")
    else:
        print(port, flush=True)
    # the handler only sets the event: shutdown() must not run inside
    # serve_forever's thread, and the main thread is not that thread
    while not stop.wait(1.0):
        pass
    srv.stopping.set()
    srv.shutdown()
    t.join(timeout=5)
    srv.server_close()
    return 0


class SinkError(Exception):
    pass


class HttpSink:
    """Runs httpsink.py as a subprocess in a directory of its own.

        with HttpSink().start() as sink:
            url = sink.url("/hook")
            sink.control(fail=2, status=503, retry_after="1")
            reqs = sink.wait_requests(3)

    stop() (also run by the with block and at interpreter exit) always
    terminates the server.
    """

    def __init__(self, directory=None):
        self.directory = directory
        self.proc = None
        self.port = None
        self.own_dir = False

    def start(self, directory=None, timeout=10.0):
        if self.proc is not None:
            raise SinkError("httpsink already running")
        directory = directory or self.directory
        if directory is None:
            directory = tempfile.mkdtemp(prefix="httpsink-")
            self.own_dir = True
        self.directory = directory
        self.record_path = os.path.join(directory, "httpsink.jsonl")
        self.port_path = os.path.join(directory, "httpsink.port")
        self.stderr_path = os.path.join(directory, "httpsink.stderr")
        for p in (self.record_path, self.port_path):
            if os.path.exists(p):
                os.unlink(p)
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable or "/usr/bin/python3",
                 os.path.abspath(__file__), "--port", "0",
                 "--record", self.record_path, "--port-file", self.port_path],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        try:
            while not os.path.exists(self.port_path):
                if self.proc.poll() is not None:
                    raise SinkError(f"httpsink exited with "
                                    f"{self.proc.returncode}: "
                                    f"{self._stderr()}")
                if time.monotonic() > deadline:
                    raise SinkError(f"httpsink did not listen within "
                                    f"{timeout}s: {self._stderr()}")
                time.sleep(0.01)
            with open(self.port_path) as f:
                self.port = int(f.read())
        except BaseException:
            self.stop()
            raise
        return self

    def _stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=5.0):
        """Terminates the server; returns its exit status (None if it was
        not running)."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        atexit.unregister(self.stop)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def cleanup(self):
        """Stops the server and removes the directory start() made."""
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.own_dir = False

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def requests(self):
        """Every request recorded so far, oldest first."""
        try:
            with open(self.record_path, encoding="utf-8") as f:
                lines = f.readlines()
        except FileNotFoundError:
            return []
        # a line is written whole, but a reader may still catch it half
        return [json.loads(x) for x in lines if x.endswith("\n")]

    def wait_requests(self, n, timeout=10.0, interval=0.02):
        """Polls until at least n requests are recorded; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests()
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise SinkError(f"timed out after {timeout}s waiting for "
                                f"{n} requests, got {len(got)}: {got}")
            time.sleep(interval)

    def _call(self, method, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, CONTROL_PATH, body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            data = json.loads(r.read() or b"{}")
            if r.status != 200:
                raise SinkError(f"httpsink control: {r.status} {data}")
            return data
        finally:
            conn.close()

    def control(self, **kw):
        """Changes the behaviour (see the module doc); returns the
        settings now in force."""
        return self._call("POST", json.dumps(kw))

    def settings(self):
        return self._call("GET")

    @staticmethod
    def header(req, name):
        """req's header name, case-insensitively, or None."""
        for k, v in req["headers"].items():
            if k.lower() == name.lower():
                return v
        return None

    @staticmethod
    def signature_ok(req, secret, max_age=None):
        """True if req's X-Promised-Signature has a v1 that is the
        HMAC-SHA256 of secret over "t.body" (and t is at most max_age
        seconds old, when given)."""
        sig = HttpSink.header(req, "X-Promised-Signature")
        if sig is None:
            return False
        parts = [p.split("=", 1) for p in sig.split(",")]
        t = [v for k, v in parts if k == "t"]
        if len(t) != 1:
            return False
        if max_age is not None and abs(req["time"] - int(t[0])) > max_age:
            return False
        want = hmac.new(secret.encode(), f"{t[0]}.{req['body']}".encode(),
                        hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(v, want) for k, v in parts
                   if k == "v1")


if __name__ == "__main__":
    sys.exit(main())
