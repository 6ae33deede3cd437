# SPDX-License-Identifier: MIT
"""Several daemons on one PostgreSQL database: every one serves, one leads
and fires.  Real daemons, the real client, a real PostgreSQL 15
(pgserver.py) and a real HTTP server catching the webhooks (httpsink.py).

A promise "fires once" when its due notice is one delivery (one uid); the
same uid sent again is a duplicate, allowed within the README's bound
(2 x [delivery] concurrency per leader lost).
"""

import contextlib
import getpass
import json
import os
import random
import signal
import threading
import time

import harness
import pgserver
from harness import Daemon, Failure, check, run, wait_for
from httpsink import HttpSink

ME = getpass.getuser()
SERVER = None
# a standby tries for the lock this often in these tests (the daemon's
# default is 10 s); PGHA_POLL and PGHA_ROUNDS (kill -9 rounds) change them
POLL = int(os.environ.get("PGHA_POLL", "2"))
CONCURRENCY = 4
DUP_BOUND = 2 * CONCURRENCY
# the advisory lock's key (store_pg_leader.c), as pg_locks shows it
LEAD_LOCK = 0x70726f6e
_n = 0


def fresh_db():
    global _n
    _n += 1
    return SERVER.create_db(f"ha{os.getpid()}_{_n}")


def cluster(db, sink, n, poll=POLL):
    ds = []
    for i in range(n):
        d = Daemon(f"pgha{i}", conninfo=db, log_level="debug")
        d.store += f"leader_poll = {poll}\n"
        d.write_conf(conf_extra=f"concurrency = {CONCURRENCY}\n"
                     f"[person {ME}]\nwebhook = {sink.url('/' + ME)}\n")
        ds.append(d)
    return ds


def status(d):
    return d.json("status")


def leader_of(ds, timeout=15.0, above=0):
    """the daemon that leads at an epoch above `above`, once one does"""
    found = []

    def one():
        for d in ds:
            if d.proc is None:
                continue
            try:
                s = status(d)
            except Failure:
                continue
            if s.get("role") == "leader" and s["leader"]["epoch"] > above:
                found[:] = [d, s]
                return True
        return False
    wait_for(one, timeout=timeout, interval=0.1, what="a leader")
    return found[0], found[1]["leader"]["epoch"]


def due_notices(sink):
    """{promise id: [delivery uid of each due notice received]}"""
    got = {}
    for r in sink.requests():
        if HttpSink.header(r, "X-Promised-Event") != "promise.due":
            continue
        body = json.loads(r["body"])
        got.setdefault(body["promise"]["id"], []).append(
            HttpSink.header(r, "X-Promised-Delivery"))
    return got


def check_fired_once(sink, ids, timeout=60.0):
    """every promise in ids had its due notice, from one delivery;
    returns the number of duplicate sends"""
    def all_in():
        got = due_notices(sink)
        return all(i in got for i in ids)
    try:
        wait_for(all_in, timeout=timeout, interval=0.2,
                 what="every due notice")
    except Failure:
        got = due_notices(sink)
        missing = sorted(i for i in ids if i not in got)
        raise Failure(f"{len(missing)} of {len(ids)} due notices missing: "
                      f"{missing[:20]}")
    got = due_notices(sink)
    dups = 0
    for i in ids:
        uids = got[i]
        check(len(set(uids)) == 1,
              f"promise {i} fired {len(set(uids))} times: {uids}")
        dups += len(uids) - 1
    return dups


def add(d, due="+3s"):
    return d.json("add", f"Call back {random.randint(0, 1 << 30)}",
                  "--due", due)["promise"]["id"]


def exited(d):
    """d's process ended by itself: forget it"""
    d.proc = None
    harness._running.discard(d)
    d.stderr.close()
    d.check_sanitizers()


def stop_all(ds):
    for d in ds:
        if d.proc is not None:
            d.stop()
    for d in ds:
        d.cleanup()


@contextlib.contextmanager
def daemons(n):
    """n daemons on a fresh database, not started, and the sink of their
    webhooks: yields (sink, daemons); every one is stopped however the
    test ends"""
    with HttpSink().start() as sink:
        ds = cluster(fresh_db(), sink, n)
        try:
            yield sink, ds
        finally:
            stop_all(ds)


@contextlib.contextmanager
def leader_and_standby():
    """two daemons, started: yields (sink, leader, standby, epoch)"""
    with daemons(2) as (sink, ds):
        for d in ds:
            d.start()
        leader, epoch = leader_of(ds)
        other = ds[1] if leader is ds[0] else ds[0]
        yield sink, leader, other, epoch


def test_two_and_three_daemons_fire_once():
    with daemons(3) as (sink, ds):
        ds[0].start()
        first, epoch = leader_of(ds[:1])
        check(first is ds[0], "the first daemon leads")
        ds[1].start()
        s = status(ds[1])
        check(s["role"] == "standby", s)
        check(s["leader"]["epoch"] == epoch and
              s["leader"]["pid"] == ds[0].proc.pid, s)
        # two daemons: adds through either fire once, by the leader
        ids = [add(ds[0]), add(ds[1]), add(ds[1])]
        check(check_fired_once(sink, ids) == 0, "duplicates")
        # a third
        ds[2].start()
        check(status(ds[2])["role"] == "standby", "the third stands by")
        ids = [add(d) for d in ds for _ in range(3)]
        # settled through a standby before its deadline: never fires
        gone = add(ds[2], due="+4s")
        ds[1].client("done", str(gone))
        check(check_fired_once(sink, ids) == 0, "duplicates")
        time.sleep(2)
        check(gone not in due_notices(sink), "a kept promise fired")
        metrics = ds[0].json("metrics")["text"]
        check("promised_leader 1\n" in metrics, metrics)
        check(f"promised_leader_epoch {epoch}\n" in metrics, metrics)
        check("promised_leader 0\n" in ds[2].json("metrics")["text"],
              "a standby's metrics")
        text = ds[1].client("status").stdout
        check("role:        standby (leader: " in text and
              f"epoch {epoch})" in text, text)
        check("leader at epoch" in ds[0].log_text(), "the log says")


def test_kill_the_leader_under_load():
    rounds = int(os.environ.get("PGHA_ROUNDS", "10"))
    with daemons(3) as (sink, ds):
        acked = []
        stop = threading.Event()
        errors = []

        def adder():
            i = 0
            while not stop.is_set():
                d = ds[i % len(ds)]
                i += 1
                proc = d.proc
                if proc is None:
                    continue
                try:
                    r = d.client("add", f"Load {i}", "--due", "+2s",
                                 "--json", expect=None)
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                    continue
                if r.returncode == 0:
                    acked.append(json.loads(r.stdout)["promise"]["id"])
                time.sleep(0.05)
        try:
            for d in ds:
                d.start()
            leader, epoch = leader_of(ds)
            t = threading.Thread(target=adder, daemon=True)
            t.start()
            times = []
            for _ in range(rounds):
                time.sleep(1.5)
                old = leader.proc.pid
                t0 = time.monotonic()
                leader.kill9()
                leader, new = leader_of(ds, timeout=30, above=epoch)
                took = time.monotonic() - t0
                times.append(took)
                check(new > epoch and leader.proc.pid != old, "new leader")
                epoch = new
                check(took < 15, f"failover took {took:.1f}s")
                # as the service manager would: back, as a standby
                for d in ds:
                    if d.proc is None:
                        d.start()
            stop.set()
            t.join(timeout=60)
            check(len(acked) > rounds * 5, f"only {len(acked)} adds")
            dups = check_fired_once(sink, acked, timeout=60)
            print(f"    {rounds} failovers: {', '.join(f'{x:.1f}' for x in times)}"
                  f" s; {len(acked)} promises, {dups} duplicate sends")
            check(dups <= rounds * DUP_BOUND, f"{dups} duplicates")
        finally:
            stop.set()


def test_leader_cut_off_stops_and_a_standby_takes_over():
    with leader_and_standby() as (sink, leader, other, epoch):
        ids = [add(leader, due="+4s"), add(other, due="+4s")]
        pids = leader.sql(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
            f"AND objid = {LEAD_LOCK} AND granted")
        check(len(pids) == 1, pids)
        leader.sql(f"SELECT pg_terminate_backend({pids[0][0]})")
        # it stops firing at once, and leaves for a restart
        rc = leader.proc.wait(timeout=15)
        check(rc != 0, "the cut-off leader exited 0")
        log = leader.log_text()
        check("lost the leader's lock" in log, log)
        exited(leader)
        new, e2 = leader_of([other], above=epoch)
        check(e2 == epoch + 1, (epoch, e2))
        ids += [add(other, due="+3s")]
        check(check_fired_once(sink, ids) == 0, "nothing doubles")
        check("leader at epoch" in other.log_text(), "the log says")


def test_stopped_server_the_leader_stops_a_standby_takes_over():
    with leader_and_standby() as (sink, leader, other, epoch):
        ids = [add(leader, due="+5s"), add(other, due="+5s")]
        SERVER.pause()
        try:
            rc = leader.proc.wait(timeout=15)
        finally:
            SERVER.resume()
        check(rc != 0, "the cut-off leader exited 0")
        check("lost the leader's lock" in leader.log_text(), "its log")
        exited(leader)
        new, e2 = leader_of([other], timeout=30, above=epoch)
        check(e2 == epoch + 1, (epoch, e2))
        leader.start()
        check(status(leader)["role"] == "standby", "back as a standby")
        ids += [add(leader, due="+3s"), add(other, due="+3s")]
        check(check_fired_once(sink, ids) == 0, "nothing doubles")


def test_paused_leader_is_cut_off_and_fenced():
    """SIGSTOP of the leader, its session alive: once its beat is 3 polls
    old a standby ends its lock session and leads; the old one, resumed
    with stages due, fires nothing (fenced) and leaves"""
    with leader_and_standby() as (sink, leader, other, epoch):
        ids = [add(leader, due="+3s"), add(other, due="+3s")]
        leader.signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            new, e2 = leader_of([other], timeout=30, above=epoch)
            took = time.monotonic() - t0
        finally:
            leader.signal(signal.SIGCONT)
        print(f"    a stopped leader replaced in {took:.1f}s")
        check(e2 == epoch + 1, (epoch, e2))
        check("beat stopped" in other.log_text(), "the standby's log")
        rc = leader.proc.wait(timeout=15)
        check(rc != 0, "the cut-off leader exited 0")
        exited(leader)
        ids += [add(other, due="+3s")]
        check(check_fired_once(sink, ids) == 0, "nothing doubles")


def test_a_firing_under_an_epoch_not_its_own_is_fenced():
    """the epoch moved on behind the leader's back (as a new leader's
    would): its firing is refused, it gives the lead up, and the standby
    fires the promise, once"""
    with leader_and_standby() as (sink, leader, other, epoch):
        leader.sql("UPDATE promised_leader SET epoch = epoch + 1")
        ids = [add(leader, due="+3s")]
        rc = leader.proc.wait(timeout=20)
        check(rc != 0, "the fenced leader exited 0")
        log = leader.log_text()
        check("fenced: epoch" in log, log)
        check(ids[0] not in due_notices(sink), "fired though fenced")
        exited(leader)
        leader_of([other], timeout=15, above=epoch + 1)
        check(check_fired_once(sink, ids) == 0, "nothing doubles")


def test_notes_flood_stalls_nobody():
    """a stranger NOTIFYing 20,000 made-up items on the channel: the
    leader answers its clients meanwhile, and what is real still fires"""
    from test_hostile import probe, report
    with leader_and_standby() as (sink, leader, other, epoch):
        flood = threading.Thread(target=leader.sql, args=(
            "DO $$ BEGIN FOR i IN 1..5000 LOOP PERFORM "
            "pg_notify('promised', 'p' || (9000000 + i) || ' p' || "
            "(8000000 + i) || ' x' || i || ' * p' || (7000000 + i) "
            "|| ' d' || md5(i::text)); END LOOP; END $$",),
            daemon=True)
        ids = [add(other, due="+4s")]
        flood.start()
        lat = probe(leader, 4)
        flood.join(timeout=60)
        report("notes flood", lat)
        wait_for(lambda: "note from another daemon: p9000001 p8000001"
                 in leader.log_text(), what="the flood read")
        check(max(lat) < 1.0, f"status waited {max(lat):.2f}s")
        ids += [add(other, due="+3s")]
        check(check_fired_once(sink, ids) == 0, "duplicates")
        check(status(leader)["role"] == "leader", "still the leader")


def main():
    global SERVER
    SERVER = pgserver.PgServer("pgha").start()
    try:
        run([test_two_and_three_daemons_fire_once,
             test_leader_cut_off_stops_and_a_standby_takes_over,
             test_stopped_server_the_leader_stops_a_standby_takes_over,
             test_paused_leader_is_cut_off_and_fenced,
             test_a_firing_under_an_epoch_not_its_own_is_fenced,
             test_notes_flood_stalls_nobody,
             test_kill_the_leader_under_load])
    finally:
        SERVER.stop()


if __name__ == "__main__":
    if not pgserver.available():
        print("skipped: PostgreSQL 15 is not installed")
    else:
        main()
