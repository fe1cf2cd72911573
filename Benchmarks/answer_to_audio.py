#!/usr/bin/env python3
"""Answer-to-audio for a browser agent (issue 24's benchmark): how long from the agent's Accept to
the first of the customer's sound played in the agent's page.

A server (`serve --demo`, release build) with headless Chromium as agent1 (station Browser, its
phone connected once for the sign-in, a fake microphone). For each call a SIP customer (the
tests' SipCustomer: an INVITE from the loopback trunk, a TonePeer sending 440 Hz as 20 ms PCMU
packets) calls 2000; once the offer rings the page, a script in the page notes the time, clicks
Accept, and watches the phone's output (a Web Audio analyser on the received stream, which is what
the page plays) every 2 ms until its level passes -34 dBFS; the difference is one sample. The
customer then hangs up and the wrap-up is applied over the API; the next call follows.

    python3 Benchmarks/answer_to_audio.py --calls 50

Reports p50, p90, p99 and the maximum (ms). Everything on 127.0.0.1; every process is stopped.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ["SE_OFFLINE"] = "true"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Tests", "browser"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "support"))
os.environ.setdefault("SWITCHBOARD_BINARY", os.path.join(ROOT, ".build", "release", "switchboard"))

import requests  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

from conftest import CHROMEDRIVER, PUBLIC, chrome_options  # noqa: E402
from desktop_page import DesktopPage  # noqa: E402
from switchboard_server import Server  # noqa: E402
from test_browser_phone import SipCustomer, tone_wav  # noqa: E402

ACCEPT_SHOWN = "return [...document.querySelectorAll('[data-action=accept]')].some((b) => !b.hidden && !b.disabled)"

ACCEPT_AND_LISTEN = """
const done = arguments[arguments.length - 1];
const phone = window.switchboardPhone;
const button = [...document.querySelectorAll('[data-action="accept"]')].find((b) => !b.hidden && !b.disabled);
if (!button) { done(-1); return; }
const start = performance.now();
button.click();
const timer = setInterval(() => {
  const waited = performance.now() - start;
  if (phone.level('output') > 0.08 || waited > 5000) {   // level() is RMS × 4: 0.08 ≈ -34 dBFS
    clearInterval(timer);
    done(waited > 5000 ? -2 : waited);
  }
}, 2);
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    arguments = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="answer-to-audio-")
    server = Server(os.path.join(folder, "switchboard.sqlite"), "--desktop", PUBLIC, "--drain-seconds", "0",
                    "--rtp-ports", "26000-26999")
    driver = None
    samples = []
    try:
        microphone = tone_wav(os.path.join(folder, "agent.wav"), 1000)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=chrome_options(microphone))
        driver.set_script_timeout(10)
        page = DesktopPage(driver, server.url, name="agent1")
        page.open()
        page.sign_in("agent1")
        page.choose_station("Browser")
        page.wait_station("Browser")
        page.wait(lambda d: page.js("return document.querySelector('#phone-panel').dataset.phone") == "connected", "phone")
        page.become_available()
        headers = {"Authorization": f"Bearer {page.token()}"}
        for number in range(arguments.calls):
            customer = SipCustomer(server).call()
            try:
                page.wait_card()
                page.wait(lambda d: page.js(ACCEPT_SHOWN), "Accept")
                time.sleep(0.3)  # the customer's tone is flowing to the server before the accept
                waited = driver.execute_async_script(ACCEPT_AND_LISTEN)
                if waited < 0:
                    print(f"call {number + 1}: no audio ({waited})")
                else:
                    samples.append(waited)
                task = page.task_id()
                customer.hang_up()
                page.wait_wrapup_dialog()
                answer = requests.post(f"{server.url}/v1/tasks/{task}/wrapup", json={"wrapUpCodeId": "resolved"},
                                       headers=headers, timeout=10)
                assert answer.status_code == 200, answer.text
                page.wait_no_card(task)
                page.wait(lambda d: page.my_state() == "available", "available again")
            finally:
                customer.close()
    finally:
        if driver:
            driver.quit()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    samples.sort()

    def percentile(p):
        return samples[min(len(samples) - 1, int(len(samples) * p))]

    print(f"answer-to-audio over {len(samples)} calls (of {arguments.calls}): p50 {percentile(0.5):.1f} ms, "
          f"p90 {percentile(0.9):.1f} ms, p99 {percentile(0.99):.1f} ms, max {samples[-1]:.1f} ms, "
          f"mean {statistics.mean(samples):.1f} ms")


if __name__ == "__main__":
    main()
