#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web page in a real browser: Debian's headless chromium, driven by
selenium through Debian's chromedriver (given by path, so selenium never
looks for one to download).  A person signs in by email (the link read
from the real SMTP sink's message), sees their promise, snoozes it with
the form and sees the history change, then follows the "Mark it kept" link
of a real due notice caught by the sink and presses its button.  Each
step leaves a screenshot in PROMISED_SHOTS (under the build directory)."""

import getpass
import os
import re
import shutil
import signal
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from harness import Daemon, check, free_port, run, wait_for
from smtpsink import SmtpSink

ME = getpass.getuser()
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = os.environ.get("PROMISED_SHOTS") or tempfile.mkdtemp(
    prefix="promised-shots-")
# the whole test, browser and all; past it, everything is stopped
BOUND = 180



def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--window-size=800,1000",
              f"--user-data-dir={profile}",
              # the sandbox needs root's absence or user namespaces, which
              # CI containers often lack; the browser opens our own pages
              # on 127.0.0.1 only
              "--no-sandbox"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(30)
    drv.implicitly_wait(5)
    return drv


def shot(drv, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f"{name}.png")
    check(drv.save_screenshot(path), f"screenshot {path}")
    check(os.path.getsize(path) > 1000, f"an image in {path}")


def mail_to_me(smtp, pattern, n):
    """The first match of pattern in the messages to me, waiting for n."""
    def find():
        for m in smtp.messages():
            if m["rcpt_tos"] != ["me@example.com"]:
                continue
            body = m["message"].get_body().get_content()
            got = re.search(pattern, body)
            if got:
                return got.group(0)
        return None
    wait_for(lambda: find() is not None, timeout=30, what=pattern)
    return find()


def on_alarm(signum, frame):
    raise TimeoutError(f"the browser test took over {BOUND} s")


def test_browser():
    profile = tempfile.mkdtemp(prefix="promised-chromium-")
    drv = None
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(BOUND)
    with SmtpSink().start() as smtp:
        d = Daemon("browser")
        d.port = free_port()
        base = f"http://127.0.0.1:{d.port}"
        key = os.path.join(d.dir, "link.secret")
        with open(key, "w") as f:
            f.write("browser-link-key-0123456789\n")
        os.chmod(key, 0o600)
        d.write_conf(
            conf_extra=f"retry_initial = 1s\n"
                       f"[smtp]\nurl = {smtp.url}\n"
                       f"from = promised@example.org\nstarttls = off\n"
                       f"[person {ME}]\nemail = me@example.com\n"
                       f"[http]\nlisten = 127.0.0.1:{d.port}\n"
                       f"base_url = {base}\nlink_secret_file = {key}\n")
        try:
            d.start()
            quote = d.json("add", "Send Acme the quote <today>", "--for",
                           "Acme", "--due", "+2d", "--nudge",
                           "none")["promise"]
            soon = d.json("add", "Call Bob back", "--due",
                          f"@{int(time.time()) + 3}", "--nudge",
                          "none")["promise"]
            drv = browser(profile)

            # not signed in: the page sends us to sign in by email
            drv.get(base + "/")
            check(drv.current_url == base + "/signin", drv.current_url)
            drv.find_element(By.NAME, "email").send_keys("me@example.com")
            drv.find_element(By.CSS_SELECTOR,
                             "form button[type=submit]").click()
            check("on its way" in drv.page_source, drv.page_source)
            link = mail_to_me(smtp, re.escape(base) + r"/signin/\S+", 1)
            drv.get(link)
            shot(drv, "1-signin-link")
            drv.find_element(By.CSS_SELECTOR,
                             "form button[type=submit]").click()
            wait_for(lambda: drv.current_url == base + "/", timeout=10,
                     what="back at the start, signed in")
            cookies = {c["name"]: c for c in drv.get_cookies()}
            s = cookies.get("promised_session")
            check(s is not None and s["httpOnly"] and
                  s.get("sameSite") == "Lax", cookies)
            check(drv.find_element(By.TAG_NAME, "h1").text == "My promises",
                  drv.page_source)
            check("Send Acme the quote <today>" in
                  drv.find_element(By.CSS_SELECTOR, "ul.promises").text,
                  drv.page_source)
            shot(drv, "2-my-promises")

            # the promise, snoozed with its form
            drv.find_element(By.LINK_TEXT,
                             "Send Acme the quote <today>").click()
            check(drv.current_url == f"{base}/p/{quote['id']}",
                  drv.current_url)
            before = len(drv.find_elements(By.CSS_SELECTOR,
                                           "ol.history li"))
            form = drv.find_element(By.CSS_SELECTOR,
                                    'form[action$="/snooze"]')
            form.find_element(By.NAME, "due").send_keys("+5d")
            form.find_element(By.NAME, "reason").send_keys(
                "the customer asked for Monday")
            form.find_element(By.CSS_SELECTOR,
                              "button[type=submit]").click()
            wait_for(lambda: "Snoozed." in drv.page_source, timeout=10,
                     what="the snoozed page")
            items = drv.find_elements(By.CSS_SELECTOR, "ol.history li")
            check(len(items) == before + 1, (before, len(items)))
            text = " ".join(i.text for i in items)
            check("snoozed" in text and "via web" in text and
                  "the customer asked for Monday" in text, text)
            shot(drv, "3-snoozed")
            got = d.json("show", str(quote["id"]))
            check(got["promise"]["snoozes"] == 1, got)

            # a real due notice's link: the page, then its button
            keep = mail_to_me(smtp, re.escape(base) + r"/l/\S+", 2)
            keeps = []
            for m in smtp.messages():
                body = m["message"].get_body().get_content()
                if "Call Bob back" in body:
                    keeps += re.findall(re.escape(base) + r"/l/\S+", body)
            check(keeps, "links in the due notice")
            for u in keeps:
                drv.get(u)
                if "Mark it kept" in drv.find_element(
                        By.TAG_NAME, "h1").text:
                    keep = u
                    break
            else:
                raise AssertionError(f"no keep link among {keeps}")
            check(d.json("show", str(soon["id"]))["promise"]["state"] ==
                  "open", "opening the link changed nothing")
            shot(drv, "4-link")
            drv.find_element(By.CSS_SELECTOR,
                             "form button[type=submit]").click()
            wait_for(lambda: "Marked kept." in drv.page_source, timeout=10,
                     what="the kept page")
            shot(drv, "5-kept")
            got = d.json("show", str(soon["id"]))
            check(got["promise"]["state"] == "kept", got)
            ev = [e for e in got["events"] if e["kind"] == "kept"][0]
            check(ev["actor"] == ME and ev["detail"]["via"] == "link", ev)
            print(f"screenshots in {SHOTS}")
            d.stop()
        finally:
            signal.alarm(0)
            if drv is not None:
                try:
                    drv.quit()
                except Exception:  # noqa: BLE001 - the driver may be gone
                    drv.service.stop()
            d.cleanup()
            shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    run([test_browser])
