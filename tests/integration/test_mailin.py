#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Mail into promised: the [mail] section, and promise mail-in."""

import os
import subprocess
import tempfile

from harness import PROMISED, check, run

KIND = "[kind reply]\ndue = 1 business day\n"


def check_config(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "promised.conf")
        key = os.path.join(d, "mail.secret")
        with open(key, "w") as f:
            f.write("old-key-0123456789\nnew-key-0123456789\n")
        with open(path, "w") as f:
            f.write(text.replace("KEY", key))
        r = subprocess.run([PROMISED, "--check-config", "-c", path],
                           capture_output=True, text=True, timeout=10)
        return r, path


def refused(text, line, *words):
    r, path = check_config(text)
    check(r.returncode == 78, f"exit {r.returncode} for {text!r}")
    msg = r.stderr.strip()
    where = f"{path}:{line}:" if line else f"{path}:"
    check(where in msg, f"no {where} in {msg!r}")
    for w in words:
        check(w in msg, f"{w!r} not in {msg!r}")


def test_mail_section():
    good = (KIND + "[mail]\ngateway_users = postfix, exim\n"
            "reply_domain = reply.example.com\nsecret_file = KEY\n"
            "address = promises@example.com\nauthserv_id = mx.example.com\n"
            "domains = example.com example.org\ndefault_kind = reply\n")
    r, _ = check_config(good)
    check(r.returncode == 0, f"good [mail] refused: {r.stderr}")
    refused("[mail]\naddress = not-an-address\n", 2, "[mail] address")
    refused("[mail]\nreply_domain = -bad-.example\n", 2, "reply_domain")
    refused("[mail]\ngateway_users = post fix!\n", 2, "gateway_users",
            "fix!")
    refused("[mail]\ndomains = ,\n", 2, "domains", "empty")
    refused("[mail]\nauthserv_id = mx example\n", 2, "authserv_id")
    refused("[mail]\nfrobnicate = 1\n", 2, "unknown key 'frobnicate'")
    refused("[mail]\nsecret_file = /nonexistent/mail.secret\n", 2,
            "secret_file")
    refused("[mail]\nreply_domain = reply.example.com\n", 0,
            "secret_file is not")
    refused("[mail]\ndefault_kind = nope\n", 0, "no [kind nope]")


if __name__ == "__main__":
    run([test_mail_section])
