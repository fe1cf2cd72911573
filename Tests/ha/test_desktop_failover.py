"""The Agent Desktop in a real browser (headless Chromium, Tests/browser's page model) through
HAProxy across a failover: the page stays signed in, its stream comes back live on the new node,
shows what happened while it was away, and its buttons work there."""
import importlib.util
import os
import signal
import sys

import pytest

from conftest import Desk, free_port, settled

HERE = os.path.dirname(os.path.abspath(__file__))
BROWSER = os.path.join(os.path.dirname(HERE), "browser")
sys.path.insert(0, BROWSER)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))

# The browser suite's harness (its conftest: Chromium's options, paths), under a name of its own.
_spec = importlib.util.spec_from_file_location("browser_harness", os.path.join(BROWSER, "conftest.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
from desktop_page import DesktopPage  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

OWNER_CONNECTED = {"hold", "consult", "transfer", "end"}


@pytest.fixture
def chromium():
    drivers = []

    def start():
        driver = webdriver.Chrome(service=Service(executable_path=harness.CHROMEDRIVER), options=harness.chrome_options())
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def test_the_desktop_in_a_browser_goes_on_through_the_front_on_the_node_that_took_over(pair, front, chromium):
    http = free_port(), free_port()
    a = pair("a", port=http[0], extra=("--desktop", harness.PUBLIC))
    a.running()
    b = pair("b", port=http[1], extra=("--desktop", harness.PUBLIC))
    b.standing_by()
    web = front(http)
    settled(web)

    page = DesktopPage(chromium(), web.url, name="agent1")
    page.open()
    page.sign_in("agent1")
    page.become_available()
    page.sim_place_call("sales", "+15550100")
    page.wait_actions({"accept"})
    page.press("accept")
    page.wait_card(status="connected")
    page.wait_actions(OWNER_CONNECTED)
    task = page.task_id()

    a.process.send_signal(signal.SIGKILL)
    page.wait(lambda d: page.find("#connection").get_attribute("data-connection") != "live", "the page to notice its node is gone")
    # While the page is away, agent1's other desktop holds the customer on the new node.
    other = Desk(b.running(), "agent1")
    other.call("POST", f"/v1/tasks/{task}/hold")
    # The page comes back live through the same front, with the same session, and shows the hold.
    page.wait_live()
    page.wait_card(task, "held")
    page.wait_party("customer", state="held")
    # Its own buttons work on the new node.
    page.press("resume")
    page.wait_card(task, "connected")
    assert other.call("GET", f"/v1/tasks/{task}")["status"] == "connected"
