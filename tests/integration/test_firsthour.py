"""The client and the rules as a new user and a new admin first meet them:
hints to the second, one JSON document per command, short delivery ids,
CSV round trips, escalations in the manager's hours, and the smaller
refusals and messages."""

import getpass
import json
import re
import time

from harness import Daemon, check, run, wait_for
from httpsink import HttpSink

ME = getpass.getuser()


def test_hints_count_seconds():
    with HttpSink().start() as sink:
        d = Daemon("hints")
        d.write_conf(conf_extra="retry_initial = 1s\n"
                                f"[person {ME}]\nwebhook = {sink.url('/me')}\n")
        d.start()
        try:
            pid = str(d.json("add", "call back", "--due", "+50s")
                      ["promise"]["id"])
            shown = d.client("show", pid).stdout
            check(re.search(r"\(in [45]\ds\)", shown), shown)
            listed = d.client("list").stdout
            check(re.search(r"in [45]\ds", listed), listed)
            # a webhook asked to come back in 55 s: the retry is not "now"
            sink.control(fail=1, status=503, retry_after="55")
            pid = str(d.json("add", "quote", "--due", "+1s")
                      ["promise"]["id"])
            wait_for(lambda: sink.requests(), timeout=20,
                     what="the first webhook attempt")
            wait_for(lambda: d.json("deliveries")["deliveries"]
                     and d.json("deliveries")["deliveries"][0]
                     ["attempts"] >= 1, what="a failed attempt recorded")
            out = d.client("deliveries").stdout
            check(re.search(r"\(in [345]\ds\)", out), out)
            shown = d.client("show", pid).stdout
            check(re.search(r"\(in [345]\ds\)", shown), shown)
            # and a deadline passed seconds ago says how long ago
            wait_for(lambda: re.search(r"\d+s overdue",
                                       d.client("show", pid).stdout),
                     timeout=10, what="a seconds-overdue hint")
        finally:
            d.stop()
            d.cleanup()


def main():
    run([test_hints_count_seconds])


if __name__ == "__main__":
    main()
