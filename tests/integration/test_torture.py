# SPDX-License-Identifier: MIT
"""Crash torture: kill -9 at random moments while promises are added and
settled over a pipelined connection and deliveries go to a flaky webhook.

After every restart each acknowledged add is there and each acknowledged
settle holds.  At the end, with the webhook healthy and the outbox drained,
every delivery the database calls sent reached the server with a 2xx at
least once, and duplicates (a delivery id answered 2xx more than once) are
at most one per crash: [delivery] concurrency = 1, so at most one attempt
is in flight when the daemon dies.

The moments are drawn from a PRNG whose seed is printed; set TORTURE_SEED
to replay a run's choices (the timing itself still varies).
"""

import getpass
import os
import random
import threading
import time

from harness import Conn, Daemon, check, run, wait_for
from httpsink import HttpSink

ME = getpass.getuser()
ROUNDS = 20
OPS_PER_ROUND = 60
BUDGET_S = 85.0


class Book:
    """What the daemon acknowledged, shared by the writer and the reader."""

    def __init__(self):
        self.lock = threading.Lock()
        self.adds = {}       # id -> title, acknowledged
        self.settled = {}    # id -> "kept" / "cancelled", acknowledged
        self.open = []       # acknowledged adds not (maybe) settled
        self.unsure = {}     # id -> state a settle asked for, no reply yet
        self.errors = []     # replies that should never have come


def round_traffic(d, book, rng, rnd, kill_at):
    """Pipelines adds and settles on one connection, kills the daemon
    kill_at seconds in; returns the number of replies read."""
    c = Conn(d)
    sent = {}            # tag -> (op, id or title)
    got = [0]

    def reader():
        try:
            while True:
                r = c.recv()
                tag = r.get("tag")
                op, arg = sent.get(tag, (None, None))
                got[0] += 1
                with book.lock:
                    if not r.get("ok"):
                        book.errors.append((op, arg, r))
                    elif op == "add":
                        p = r["promise"]
                        book.adds[p["id"]] = p["title"]
                        book.open.append(p["id"])
                        if p["title"] != arg:
                            book.errors.append((op, arg, r))
                    elif op in ("done", "cancel"):
                        want = "kept" if op == "done" else "cancelled"
                        book.unsure.pop(arg, None)
                        book.settled[arg] = r["promise"]["state"]
                        if r["promise"]["state"] != want:
                            book.errors.append((op, arg, r))
                    else:
                        book.errors.append(("unexpected reply", tag, r))
        except Exception:  # noqa: BLE001 - the daemon is being killed
            pass

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    start = time.monotonic()
    try:
        for i in range(OPS_PER_ROUND):
            if time.monotonic() - start >= kill_at:
                break
            tag = f"{rnd}.{i}"
            with book.lock:
                settle = book.open and rng.random() < 0.3
                if settle:
                    pid = book.open.pop(rng.randrange(len(book.open)))
                    op = rng.choice(("done", "cancel"))
                    book.unsure[pid] = "kept" if op == "done" else \
                        "cancelled"
            if settle:
                req = {"v": 1, "op": op, "id": pid, "tag": tag}
                if op == "done":
                    req["note"] = f"round {rnd}"
                else:
                    req["reason"] = f"round {rnd}"
                sent[tag] = (op, pid)
            else:
                title = f"torture {rnd}.{i}"
                # due within a few seconds: deliveries happen during the
                # later rounds, and some settles come before the due time
                req = {"v": 1, "op": "add", "title": title, "nudge": [],
                       "due_at": int(time.time()) + rng.randint(2, 5)}
                sent[tag] = ("add", title)
            req["tag"] = tag
            try:
                c.send(req)
            except OSError:
                break
            time.sleep(rng.uniform(0, 0.012))
        left = kill_at - (time.monotonic() - start)
        if left > 0:
            time.sleep(left)
    finally:
        d.kill9()
        t.join(timeout=10)
        c.close()
    return got[0]


def verify(d, book, rnd):
    """Every acknowledged add is there, every acknowledged settle holds."""
    c = Conn(d)
    try:
        r = c.call({"v": 1, "op": "list", "state": "all", "limit": 0})
    finally:
        c.close()
    check(r["ok"], r)
    have = {p["id"]: p for p in r["promises"]}
    with book.lock:
        check(not book.errors, f"round {rnd}: bad replies: "
                               f"{book.errors[:5]}")
        lost = [i for i in book.adds if i not in have]
        check(not lost, f"round {rnd}: {len(lost)} acknowledged adds "
                        f"lost: {lost[:10]}")
        for i, title in book.adds.items():
            check(have[i]["title"] == title, (have[i], title))
        for i, state in book.settled.items():
            check(have[i]["state"] == state,
                  f"round {rnd}: promise {i} acknowledged {state}, "
                  f"now {have[i]['state']}")
        # a settle whose reply was lost either happened or did not: the
        # database decides, and from now on that is what must hold
        for i, want in list(book.unsure.items()):
            state = have[i]["state"]
            check(state in ("open", want), (i, state, want))
            if state == "open":
                book.open.append(i)
            else:
                book.settled[i] = state
            del book.unsure[i]
        # acknowledged adds may also have been settled by a lost reply;
        # promises nobody acknowledged may exist or not, as they like
        book.open = [i for i in book.open if have[i]["state"] == "open"]


def test_kill9_torture():
    seed = int(os.environ.get("TORTURE_SEED") or
               int.from_bytes(os.urandom(4), "little"))
    print(f"torture seed {seed} (TORTURE_SEED={seed} replays the choices)",
          flush=True)
    rng = random.Random(seed)
    began = time.monotonic()
    book = Book()
    with HttpSink().start() as sink:
        d = Daemon("torture", policy="escalate_after = 1h\n")
        d.write_conf(conf_extra=f"retry_initial = 1s\nretry_max = 2s\n"
                                f"concurrency = 1\n"
                                f"[person {ME}]\n"
                                f"webhook = {sink.url('/' + ME)}\n",
                     policy="escalate_after = 1h\n")
        crashes = 0
        try:
            d.start()
            for rnd in range(ROUNDS):
                # a fraction of the next requests fail with 503
                sink.control(fail=rng.randint(0, 8), status=503)
                kill_at = rng.uniform(0.02, 0.9)
                round_traffic(d, book, rng, rnd, kill_at)
                crashes += 1
                d.start()
                verify(d, book, rnd)
                check(time.monotonic() - began < BUDGET_S * 0.6,
                      f"too slow: round {rnd} ended "
                      f"{time.monotonic() - began:.1f}s in")
            print(f"{crashes} crashes, {len(book.adds)} adds and "
                  f"{len(book.settled)} settles acknowledged "
                  f"({time.monotonic() - began:.1f}s)", flush=True)
            # healthy sink; let everything come due and the outbox drain
            sink.control(reset=True)
            c = Conn(d)
            try:
                r = c.call({"v": 1, "op": "list", "state": "all",
                            "limit": 0})
            finally:
                c.close()
            last_due = max(p["due_at"] for p in r["promises"])
            left = BUDGET_S - (time.monotonic() - began)
            wait_for(lambda: time.time() >= last_due + 1, timeout=10,
                     what="the last deadline")
            wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                     timeout=max(5.0, left - 5), interval=0.2,
                     what="the outbox to drain")
            status = d.json("status")
            check(status["deliveries"]["failed"] == 0, status)
            stopped_at = time.time()
            d.stop()
        except BaseException:
            d.cleanup()
            raise
        sink.stop()
        reqs = sink.requests()
        sink.cleanup()

    try:
        rows = d.sql("SELECT uid, state, promise_id, kind FROM deliveries")
        promises = d.sql("SELECT id, state, due_at, settled_at "
                         "FROM promises")
        due_events = {pid for (pid,) in d.sql(
            "SELECT promise_id FROM events WHERE kind = 'due'")}
    finally:
        d.cleanup()

    not_sent = [r for r in rows if r[1] != "sent"]
    check(not not_sent, f"{len(not_sent)} deliveries not sent: "
                        f"{not_sent[:5]}")
    ok_arrivals = {}
    all_arrivals = set()
    for q in reqs:
        uid = HttpSink.header(q, "X-Promised-Delivery")
        check(uid, f"a request without a delivery id: {q['headers']}")
        all_arrivals.add(uid)
        if 200 <= q["status"] < 300:
            ok_arrivals[uid] = ok_arrivals.get(uid, 0) + 1
    sent = {r[0] for r in rows}
    never = sent - set(ok_arrivals)
    check(not never, f"{len(never)} deliveries marked sent never reached "
                     f"the server with a 2xx: {sorted(never)[:5]}")
    strangers = all_arrivals - sent
    check(not strangers, f"{len(strangers)} delivery ids the database does "
                         f"not know: {sorted(strangers)[:5]}")
    dups = sum(n - 1 for n in ok_arrivals.values())
    failed_posts = sum(1 for q in reqs if q["status"] >= 300)
    print(f"{len(rows)} deliveries, {len(reqs)} requests "
          f"({failed_posts} answered 503), {dups} duplicates after "
          f"{crashes} crashes", flush=True)
    check(dups <= crashes, f"{dups} duplicate arrivals after only "
                           f"{crashes} crashes")
    # everything that came due while open fired, and only that
    for pid, state, due_at, settled_at in promises:
        if due_at > stopped_at - 1:
            continue
        if state == "open":
            check(pid in due_events, f"open promise {pid} due at {due_at} "
                                     f"never fired")
        elif settled_at < due_at:
            check(pid not in due_events, f"promise {pid} settled at "
                                         f"{settled_at} fired at {due_at}")
    check(len(rows) == len(due_events),
          f"{len(rows)} deliveries for {len(due_events)} due events")
    check(time.monotonic() - began < BUDGET_S,
          f"took {time.monotonic() - began:.1f}s")


if __name__ == "__main__":
    run([test_kill9_torture])
