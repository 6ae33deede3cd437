# SPDX-License-Identifier: MIT
"""Wall-clock steps, made with libfaketime in the daemon only.

The daemon runs with libfaketime preloaded and a relative offset read from
a file the test rewrites (FAKETIME_NO_CACHE: every clock read sees it);
CLOCK_MONOTONIC stays real (FAKETIME_DONT_FAKE_MONOTONIC), so for libev
the wall clock jumps while the monotonic one does not, as on a real step.
The client runs without faketime, so the test sends raw requests with
due_at in the daemon's fake time (real time plus the offset).

libev notices a step when its loop next wakes up and it next reads the
wall clock (a real step also wakes it through a timerfd, which libfaketime
cannot trigger), so 0.6 s after each step the test sends a status request:
that wake-up is all it is for.

Under ASan the runtime must come first in the preload order: the test
detects the sanitizer build by ASAN_OPTIONS (set by the CMake) and puts
the libasan the daemon links against ahead of libfaketime.
"""

import datetime
import os
import time
import zoneinfo

from harness import Conn, Daemon, check, run, wait_for

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


class Clock:
    """The daemon's fake wall clock: real time plus an offset in seconds."""

    def __init__(self, d):
        self.d = d
        self.path = os.path.join(d.dir, "faketime.rc")
        self.offset = 0
        self.set(0)

    def set(self, offset):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{offset:+d}\n")
        os.replace(tmp, self.path)
        self.offset = offset

    def step(self, seconds):
        self.set(self.offset + seconds)
        # wake the loop up so that libev looks at the clock; it reads the
        # wall clock afresh only when half a second of monotonic time has
        # passed since its last reading, so wait that out first
        time.sleep(0.6)
        check(self.d.json("status")["ok"], "status after the step")

    def now(self):
        return time.time() + self.offset

    def env(self):
        check(os.path.exists(FAKETIME_LIB),
              f"{FAKETIME_LIB} is missing: install the faketime package "
              f"(sh .ci/deps installs everything the tests need)")
        preload = FAKETIME_LIB
        asan = asan_runtime()
        if asan:
            # the ASan runtime must come first in the preload order
            preload = f"{asan} {FAKETIME_LIB}"
        return {"LD_PRELOAD": preload,
                "FAKETIME_TIMESTAMP_FILE": self.path,
                "FAKETIME_NO_CACHE": "1",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def asan_runtime():
    """The ASan runtime the daemon links against, or None."""
    if "ASAN_OPTIONS" not in os.environ:
        return None
    import subprocess
    from harness import PROMISED
    out = subprocess.run(["ldd", PROMISED], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    return None


def start(name):
    d = Daemon(name, policy="escalate_after = 1d\n")
    clock = Clock(d)
    d.start(env=clock.env())
    # the preload took: the daemon's clock is the fake one
    clock.set(-3600)
    c = Conn(d)
    r = c.call({"v": 1, "op": "add", "title": "probe", "nudge": [],
                "due_at": int(clock.now()) + 7200})
    c.call({"v": 1, "op": "cancel", "id": r["promise"]["id"],
            "reason": "probe"})
    c.close()
    check(abs(r["promise"]["created_at"] - clock.now()) < 5,
          f"libfaketime is not in effect: created_at "
          f"{r['promise']['created_at']}, fake now {clock.now():.0f}")
    clock.set(0)
    return d, clock


def add(d, title, due_at):
    r = d.call({"v": 1, "op": "add", "title": title, "due_at": due_at,
                "nudge": []})
    check(r["ok"], r)
    return r["promise"]


def get(d, pid):
    r = d.call({"v": 1, "op": "get", "id": pid})
    check(r["ok"], r)
    return r


def dues(d, pid):
    return [x for x in d.deliveries() if x["promise"]["id"] == pid
            and x["event"] == "promise.due"]


def due_events(d, pid):
    return [e for e in get(d, pid)["events"] if e["kind"] == "due"]


def wait_fired(d, clock, p, timeout):
    """Waits for p's due delivery; asserts it did not come early."""
    wait_for(lambda: dues(d, p["id"]), timeout=timeout, interval=0.05,
             what=f"'{p['title']}' to fire")
    seen = clock.now()
    check(seen >= p["due_at"],
          f"'{p['title']}' fired early: fake now {seen:.3f}, "
          f"due {p['due_at']}")
    ev = due_events(d, p["id"])
    check(len(ev) == 1, f"'{p['title']}': {len(ev)} due events: {ev}")
    check(ev[0]["at"] >= p["due_at"] and
          ev[0]["detail"]["scheduled_at"] == p["due_at"], ev)
    check(ev[0]["detail"]["late_ms"] >= 0, ev)


def test_step_forward():
    d, clock = start("clock-fwd")
    try:
        t0 = int(clock.now())
        a = add(d, "passed by the step 1", t0 + 20)
        b = add(d, "passed by the step 2", t0 + 40)
        c = add(d, "still ahead after the step", t0 + 300)
        time.sleep(0.2)
        check(d.deliveries() == [], "something fired before the step")
        clock.step(60)
        wait_fired(d, clock, a, timeout=5)
        wait_fired(d, clock, b, timeout=5)
        # added after the step: fires at its time, in the new clock
        g = add(d, "added after the step", int(clock.now()) + 2)
        wait_fired(d, clock, g, timeout=6)
        check(dues(d, c["id"]) == [], "a later deadline fired early")
        check(get(d, c["id"])["promise"]["state"] == "open", c)
        for p in (a, b, g):
            check(len(dues(d, p["id"])) == 1,
                  f"'{p['title']}' fired {len(dues(d, p['id']))} times")
            check(len(due_events(d, p["id"])) == 1, p)
        ev_a = due_events(d, a["id"])[0]
        check(ev_a["detail"]["late_ms"] >= 39000, ev_a)
    finally:
        d.stop()
        d.cleanup()


def test_step_backward():
    d, clock = start("clock-back")
    try:
        t0 = int(clock.now())
        fired = add(d, "fires before the step", t0 + 2)
        ahead = add(d, "not fired at the step", t0 + 6)
        wait_fired(d, clock, fired, timeout=6)
        wait_for(lambda: clock.now() >= t0 + 3, timeout=3,
                 what="the clock to pass t0+3")
        check(dues(d, ahead["id"]) == [], "fired early before the step")
        old = clock.now()
        clock.step(-8)
        new = clock.now()
        # between the new clock and the old one: must wait for its time
        mid = add(d, "added after the step back", int(new) + 3)
        check(new < mid["due_at"] < old, (new, mid["due_at"], old))
        wait_fired(d, clock, mid, timeout=8)
        # the one that had not fired waits for the clock to come back
        wait_fired(d, clock, ahead, timeout=15)
        check(clock.now() >= fired["due_at"] + 2,
              "the clock did not pass the fired deadline again")
        time.sleep(0.3)
        check(len(dues(d, fired["id"])) == 1,
              f"an event that fired fired again after the clock came back: "
              f"{dues(d, fired['id'])}")
        check(len(due_events(d, fired["id"])) == 1, fired)
        for p in (mid, ahead):
            check(len(dues(d, p["id"])) == 1, p)
    finally:
        d.stop()
        d.cleanup()


def monday_8(day, tz):
    """Monday 08:00 of day's week in tz: the instant and its ISO week."""
    day -= datetime.timedelta(days=day.weekday())
    at = datetime.datetime(day.year, day.month, day.day, 8, 0, tzinfo=tz)
    y, w, _ = day.isocalendar()
    return at.timestamp(), f"{y:04d}-W{w:02d}"


def digests(d):
    return [x for x in d.deliveries() if x["event"] == "promise.digest"]


def test_digest_at_its_time():
    """The weekly digest goes out at its schedule time in the calendar's
    zone: the daemon's clock is set a few seconds before a Monday 08:00 in
    Berlin, three weeks from now."""
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    day = (datetime.datetime.now(tz) + datetime.timedelta(days=21)).date()
    slot, week = monday_8(day, tz)
    _, before = monday_8(day - datetime.timedelta(days=7), tz)
    d = Daemon("clock-digest", conf_extra="[calendar]\n"
               "timezone = Europe/Berlin\n[digest]\nschedule = Mon 08:00\n"
               "[person ann]\nmanager = boss\n[person boss]\n"
               "timezone = Europe/Berlin\n")
    clock = Clock(d)
    clock.set(int(slot - 6 - time.time()))
    try:
        d.start(env=clock.env())
        # at start, the digest of the week before is owed: the daemon was
        # not running at its time
        first = wait_for(lambda: digests(d), timeout=5,
                         what="the digest owed at start")
        check(len(first) == 1 and first[0]["digest"]["week"] == before,
              first)
        check(first[0]["occurred_at"] < slot and
              abs(first[0]["occurred_at"] - clock.now()) < 5,
              f"libfaketime is not in effect: {first[0]['occurred_at']}")
        both = wait_for(lambda: len(digests(d)) >= 2 and digests(d),
                        timeout=15, interval=0.05,
                        what="the digest at its time")
        got = both[1]
        check(got["recipient"]["login"] == "boss" and
              got["digest"]["week"] == week and
              got["digest"]["team"] == ["ann"], got)
        check(got["occurred_at"] >= slot, f"early: {got['occurred_at']} < "
                                          f"{slot}")
        check(clock.now() - slot < 5, f"late: fake now {clock.now()}")
        time.sleep(0.5)
        check(len(digests(d)) == 2, f"sent again: {digests(d)}")
    finally:
        d.stop()
        d.cleanup()


if __name__ == "__main__":
    run([test_step_forward, test_step_backward, test_digest_at_its_time])
