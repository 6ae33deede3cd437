# SPDX-License-Identifier: MIT
"""The PostgreSQL store: the real daemon and client on a real PostgreSQL 15
started for this test (pgserver.py), with [store] backend = postgresql.

Each test gets a database of its own; what the daemon acknowledged is
then read back through psql, so the rows are shown to be PostgreSQL's and
not a SQLite file's.
"""

import json
import os
import subprocess
import tempfile
import time

import pgserver
from harness import PROMISED, Conn, Daemon, check, run, wait_for

SERVER = None
_n = 0


def fresh_db():
    global _n
    _n += 1
    return SERVER.create_db(f"t{os.getpid()}_{_n}")


def deliveries_of(d, pid, event=None):
    return [x for x in d.deliveries() if x["promise"]["id"] == pid
            and (event is None or x["event"] == event)]


def sql(d, text):
    """text's rows from the daemon's database, one string per row"""
    dbname = d.conninfo.split("dbname=")[1].split()[0]
    return SERVER.psql(text, dbname).splitlines()


def test_common_operations_on_postgresql():
    d = Daemon("pg-ops", conninfo=fresh_db(),
               policy="escalate_after = 1h\n").start()
    try:
        a = d.json("add", "Call Acme back", "--due", "+2h", "--for",
                   "Acme Corp", "--note", "about the invoice")["promise"]
        b = d.json("add", "Send Nopio the quote", "--due", "+3h")["promise"]
        c = d.json("add", "Ship the demo", "--due", "+4h")["promise"]
        check(a["id"] < b["id"] < c["id"], (a, b, c))
        # committed in PostgreSQL, and no SQLite file was made
        check(sql(d, "SELECT title FROM promises ORDER BY id") ==
              ["Call Acme back", "Send Nopio the quote", "Ship the demo"],
              "rows in PostgreSQL")
        check(not os.path.exists(d.db), "an SQLite file was created")
        listed = d.json("list")["promises"]
        check([p["id"] for p in listed] == [a["id"], b["id"], c["id"]],
              listed)
        found = d.json("list", "--for", "acme")["promises"]
        check([p["id"] for p in found] == [a["id"]], found)
        found = d.json("list", "--grep", "invoi")["promises"]
        check([p["id"] for p in found] == [a["id"]], found)
        shown = d.json("show", str(a["id"]))
        check(shown["promise"]["for"] == "Acme Corp", shown)
        check([e["kind"] for e in shown["events"]] == ["created"], shown)
        d.client("snooze", str(b["id"]), "--due", "+5h", "--reason",
                 "customer asked")
        snoozed = d.json("show", str(b["id"]))
        check(snoozed["promise"]["snoozes"] == 1, snoozed)
        check(snoozed["promise"]["due_at"] > b["due_at"], snoozed)
        d.client("done", str(a["id"]))
        d.client("cancel", str(c["id"]), "--reason", "not needed",
                 "--told-customer")
        check(sql(d, "SELECT id, state FROM promises ORDER BY id") ==
              [f"{a['id']}|kept", f"{b['id']}|open",
               f"{c['id']}|cancelled"], "states in PostgreSQL")
        check([p["id"] for p in d.json("list")["promises"]] == [b["id"]],
              "one open promise left")
        kinds = sql(d, f"SELECT kind FROM events WHERE promise_id = {c['id']}"
                    " ORDER BY id")
        check(kinds == ["created", "cancelled"], kinds)
        # the same schema version as SQLite's, and status reads it
        check(sql(d, "SELECT version FROM promised_schema") == ["10"],
              "schema version")
        st = d.json("status")
        check(st["open"] == 1, st)
        check(st["store"] == "postgresql", st)
        check("store:       postgresql" in d.client("status").stdout,
              "status names the store")
        # a second start finds the schema current and the promises there
        d.stop()
        d.start()
        check([p["id"] for p in d.json("list")["promises"]] == [b["id"]],
              "after a restart")
        check("database created" not in d.log_text().split("ready")[-1],
              "migrated twice")
        r = d.client("backup", os.path.join(d.dir, "copy.db"), expect=1)
        check("pg_dump" in r.stderr, r.stderr)
    finally:
        d.stop()
        d.cleanup()


def test_status_names_sqlite_by_default():
    d = Daemon("pg-default").start()
    try:
        if d.conninfo is None:
            check(d.json("status")["store"] == "sqlite", "the default")
    finally:
        d.stop()
        d.cleanup()


def test_due_notice_fires_and_is_recorded():
    d = Daemon("pg-fire", conninfo=fresh_db(),
               policy="escalate_after = 1h\n").start()
    try:
        due = int(time.time()) + 3
        p = d.json("add", "Send the contract", "--due", f"@{due}",
                   "--nudge", "none")["promise"]
        got = wait_for(lambda: deliveries_of(d, p["id"], "promise.due"),
                       timeout=15, what="the due notice")
        check(len(got) == 1, got)
        check(time.time() >= due, "fired early")
        wait_for(lambda: d.json("status")["deliveries"]["pending"] == 0,
                 what="the outbox to drain")
        rows = sql(d, "SELECT kind, state, attempts, uid FROM deliveries "
                   f"WHERE promise_id = {p['id']}")
        check(rows == [f"promise.due|sent|1|{got[0]['delivery']}"], rows)
        events = sql(d, "SELECT kind FROM events WHERE promise_id = "
                     f"{p['id']} ORDER BY id")
        check(events == ["created", "due"], events)
        check(sql(d, f"SELECT stage > 0 FROM promises WHERE id = {p['id']}")
              == ["t"], "the stage moved on")
        shown = d.json("show", str(p["id"]))
        check([x["state"] for x in shown["deliveries"]] == ["sent"], shown)
    finally:
        d.stop()
        d.cleanup()


def test_restart_fires_what_came_due_while_down_once():
    d = Daemon("pg-restart", conninfo=fresh_db(),
               policy="escalate_after = 1h\n").start()
    try:
        due = int(time.time()) + 3
        p = d.json("add", "Renew the licence", "--due", f"@{due}",
                   "--nudge", "none")["promise"]
        d.stop()
        while time.time() < due + 1:
            time.sleep(0.2)
        d.start()
        got = wait_for(lambda: deliveries_of(d, p["id"], "promise.due"),
                       timeout=15, what="the late due notice")
        d.stop()
        d.start()
        time.sleep(1)
        got = deliveries_of(d, p["id"], "promise.due")
        check(len(got) == 1, f"fired {len(got)} times: {got}")
    finally:
        d.stop()
        d.cleanup()


def check_config(text):
    with tempfile.NamedTemporaryFile("w", suffix=".conf",
                                     delete=False) as f:
        f.write(text)
    try:
        return subprocess.run([PROMISED, "--check-config", "-c", f.name],
                              capture_output=True, text=True, timeout=10), \
            f.name
    finally:
        os.unlink(f.name)


def test_store_configuration_errors():
    cases = [
        ("[store]\nbackend = postgresql\n", 2, "needs a conninfo"),
        ("[store]\n\nconninfo = dbname=x\n", 3, "backend = postgresql"),
        ("[store]\nbackend = oracle\n", 2, "oracle"),
        ("[store]\nconninfo =\n", 2, "conninfo"),
    ]
    for text, line, word in cases:
        r, path = check_config(text)
        msg = r.stderr.strip()
        check(r.returncode == 78, f"exit {r.returncode} for {text!r}: {msg}")
        check(f"{path}:{line}:" in msg, f"no file:line in {msg!r}")
        check(word in msg, f"{word!r} not named in {msg!r}")


def test_unreachable_server_stops_the_start():
    d = Daemon("pg-down", conninfo="host=/nonexistent dbname=x "
               "connect_timeout=2")
    try:
        r = subprocess.run([PROMISED, "-c", d.conf], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode != 0, "started without its database")
        check("PostgreSQL store: cannot connect" in r.stderr, r.stderr)
    finally:
        d.cleanup()


def test_second_daemon_on_one_database_stands_by():
    db = fresh_db()
    d = Daemon("pg-one", conninfo=db).start()
    e = Daemon("pg-two", conninfo=db)
    try:
        p = d.json("add", "Call Acme back", "--due", "+2h")["promise"]
        e.start()
        # both serve; the first leads, the second stands by
        check(d.json("status")["role"] == "leader", "the first daemon")
        check(e.json("status")["role"] == "standby", "the second daemon")
        check([x["id"] for x in e.json("list")["promises"]] == [p["id"]],
              "the second daemon's list")
        q = e.json("add", "Send the quote", "--due", "+3h")["promise"]
        check(d.json("show", str(q["id"]))["promise"]["state"] == "open",
              "added through the standby, read through the leader")
    finally:
        d.stop()
        e.stop()
        d.cleanup()
        e.cleanup()


def test_a_write_refused_by_the_server_is_never_acknowledged():
    """adds are written without waiting for each statement (pipelined):
    one the server refuses after its request was done fails, and so may
    the others of its commit, but none is answered ok unless it is
    there; the daemon goes on serving"""
    d = Daemon("pg-refused", conninfo=fresh_db()).start()
    try:
        d.json("add", "Before", "--due", "+2h")
        sql(d, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql "
               "AS $$ BEGIN IF NEW.title LIKE 'Refused%' THEN RAISE "
               "EXCEPTION 'refused by a trigger'; END IF; RETURN NEW; "
               "END $$")
        sql(d, "CREATE TRIGGER refuse BEFORE INSERT ON promises FOR EACH "
               "ROW EXECUTE FUNCTION refuse()")
        due = int(time.time()) + 7200
        titles = [f"Good {i}" if i % 5 else f"Refused {i}"
                  for i in range(40)]
        c = Conn(d)
        try:
            # one write: the requests arrive together, in one batch
            c.send(b"".join(
                (json.dumps(
                    {"v": 1, "op": "add", "tag": i, "title": t,
                     "due_at": due}) + "\n").encode()
                for i, t in enumerate(titles)))
            replies = [c.recv() for _ in titles]
        finally:
            c.close()
        ok = {r["tag"]: r["promise"]["id"] for r in replies if r["ok"]}
        print(f"    {len(ok)} of {len(titles)} adds acknowledged")
        for r in replies:
            if titles[r["tag"]].startswith("Refused"):
                check(not r["ok"], f"refused write acknowledged: {r}")
            elif not r["ok"]:
                check(r["error"]["code"], r)
        kept = {int(i): t for i, t in (
            row.split("|") for row in sql(
                d, "SELECT id, title FROM promises"))}
        for tag, pid in ok.items():
            check(kept.get(pid) == titles[tag],
                  f"acknowledged {titles[tag]} ({pid}) not kept")
        check(not any(t.startswith("Refused") for t in kept.values()),
              kept)
        events = sql(d, "SELECT count(*) FROM events e JOIN promises p "
                        "ON p.id = e.promise_id WHERE e.kind = 'created'")
        check(int(events[0]) == len(kept), (events, kept))
        # still serving, and what it has in memory is what is kept
        after = d.json("add", "After", "--due", "+2h")["promise"]
        check(sql(d, f"SELECT title FROM promises WHERE id = {after['id']}")
              == ["After"], "the add after")
        check(d.json("status")["open"] == len(kept) + 1, "open count")
    finally:
        d.stop()
        d.cleanup()


def main():
    global SERVER
    SERVER = pgserver.PgServer("pg-test").start()
    try:
        run([test_common_operations_on_postgresql,
             test_status_names_sqlite_by_default,
             test_due_notice_fires_and_is_recorded,
             test_restart_fires_what_came_due_while_down_once,
             test_second_daemon_on_one_database_stands_by,
             test_a_write_refused_by_the_server_is_never_acknowledged,
             test_store_configuration_errors,
             test_unreachable_server_stops_the_start])
    finally:
        SERVER.stop()


if __name__ == "__main__":
    main()
