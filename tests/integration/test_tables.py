# SPDX-License-Identifier: MIT
"""The tables of list and deliveries, which one renderer prints: columns
as wide as their widest cell (an owner's cut at 16 columns with "..."),
numbers aligned right, the last column cut to the width aimed at (120
and 140 columns), and no line ending in a blank."""

from harness import Daemon, check, run, wait_for

LONG_OWNER = "someone-with-a-very-long-login"
LONG_FOR = "A customer whose name runs past the column"
LONG_TITLE = "Call back about the Ümlaut order " + "x" * 120


def columns(header, names):
    """The column each name starts at in the header line."""
    at = []
    for name in names:
        i = header.index(name)
        check(i == 0 or header[i - 2:i] == "  ",
              f"{name} starts a column: {header!r}")
        at.append(i)
    return at


def check_common(lines, width):
    for line in lines:
        check(line == line.rstrip(), f"no trailing blank: {line!r}")
        check(len(line) <= width, f"at most {width} columns: {line!r}")


def starts_cell(line, i):
    return line[i] != " " and (i == 0 or line[i - 2:i] == "  ")


def test_list_table():
    d = Daemon("tables-list")
    d.start()
    try:
        d.client("add", LONG_TITLE, "--due", "+2h", "--owner", LONG_OWNER,
                 "--for", LONG_FOR)
        d.client("add", "short one", "--due", "+3h", "--for", "Bo")
        for i in range(10):
            d.client("add", f"p{i}", "--due", f"+{i + 4}h")
        lines = d.client("list").stdout.splitlines()
        check(len(lines) == 13, lines)
        head = lines[0]
        at = columns(head, ["DUE", "WHEN", "OWNER", "FOR", "TITLE"])
        check_common(lines, 120)
        # ids right-aligned under ID, whose column is as wide as "12"
        check(head.startswith("ID  "), head)
        check(lines[1].startswith(" 1  ") and lines[12].startswith("12  "),
              lines)
        for line in lines[1:]:
            for i in at:
                check(starts_cell(line, i), f"cell at {i}: {line!r}")
        first = lines[1]
        owner = first[at[2]:at[3]].rstrip()
        check(len(owner) == 16 and owner.endswith("...")
              and LONG_OWNER.startswith(owner[:-3]), owner)
        forwho = first[at[3]:at[4]].rstrip()
        check(len(forwho) == 24 and forwho.endswith("..."), forwho)
        # the title takes what is left of 120 columns, cut with "..."
        check(len(first) == 120 and first.endswith("..."), first)
        check(first[at[4]:].startswith("Call back about the Ümlaut"), first)
        check(lines[2][at[3]:at[4]].rstrip() == "Bo", lines[2])
        check(lines[3][at[3]:at[4]].rstrip() == "-", lines[3])
        d.stop()
    finally:
        d.cleanup()


def test_deliveries_table():
    d = Daemon("tables-deliveries")
    d.start()
    try:
        d.client("add", "soon", "--due", "+2s", "--owner", LONG_OWNER)
        wait_for(lambda: any(x.get("state") == "sent" for x in
                             d.json("deliveries")["deliveries"]),
                 timeout=30, what="a delivery sent")
        lines = d.client("deliveries").stdout.splitlines()
        check(len(lines) >= 2, lines)
        head = lines[0]
        names = ["PROMISE", "EVENT", "TO", "CHANNEL", "STATE", "ATTEMPTS",
                 "NEXT/SENT", "LAST ERROR"]
        at = columns(head, names)
        check(head.startswith("DELIVERY  "), head)
        check_common(lines, 140)
        end_promise = at[0] + len("PROMISE")
        end_attempts = at[5] + len("ATTEMPTS")
        for line in lines[1:]:
            for name, i in zip(names, at):
                # numbers are aligned right: their cells start in blanks
                if name not in ("PROMISE", "ATTEMPTS"):
                    check(starts_cell(line, i), f"{name} at {i}: {line!r}")
            check(line[end_promise - 1] == "1"
                  and line[end_promise] == " ", line)
            check(line[end_attempts - 1].isdigit()
                  and line[end_attempts] == " ", line)
            to = line[at[2]:at[3]].rstrip()
            check(len(to) == 16 and to.endswith("..."), to)
            check(line[at[7]:] == "-", line)
        d.stop()
    finally:
        d.cleanup()


if __name__ == "__main__":
    run([test_list_table, test_deliveries_table])
