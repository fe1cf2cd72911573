"""The Agent Desktop in a real browser: a Switchboard server (demo configuration, call simulator,
the desktop served from Public/) on a free loopback port for each test, and headless Chromium
sessions signed in to it. Nothing is downloaded at run time: the driver and the browser are the
system's, named by path, so selenium-manager never runs."""
import os
import sys

import pytest

# Before selenium is imported anywhere: never look for drivers online.
os.environ["SE_OFFLINE"] = "true"

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desktop_page import DesktopPage  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "support"))
from switchboard_server import ROOT, Server  # noqa: E402

PUBLIC = os.path.join(ROOT, "Public")
SCREENSHOTS = os.path.join(ROOT, "Tests", "browser", "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def pytest_configure(config):
    config.addinivalue_line("markers", "serve(*options): more options for the test's `serve` (e.g. --session-max-seconds 4)")


@pytest.fixture
def server(tmp_path, request):
    # Live calls are left to the test's end: stop at once instead of draining them.
    marker = request.node.get_closest_marker("serve")
    extra = marker.args if marker else ()
    running = Server(tmp_path / "switchboard.sqlite", "--desktop", PUBLIC, "--drain-seconds", "0", *extra)
    yield running
    if running.process.poll() is None:
        running.stop()


def chrome_options(audio=None, resolve=None, flags=()):
    """Headless Chromium; with `audio` (a WAV file), that file is its microphone (granted without a
    prompt) and WebRTC may use loopback, so a page's phone talks to the server on 127.0.0.1."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        # Names the test maps (to loopback) first; nothing else resolves.
        "--host-resolver-rules=" + "".join(f"MAP {name} {address}, " for name, address in (resolve or {}).items())
        + "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    if audio:
        for flag in (
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={audio}",
            "--allow-loopback-in-peer-connection",
            "--autoplay-policy=no-user-gesture-required",
        ):
            options.add_argument(flag)
    for flag in flags:
        options.add_argument(flag)
    return options


@pytest.fixture
def browsers(server, request):
    """A factory: browsers(user) opens a new headless Chromium at the desktop, signed in as
    `user` (or at the sign-in page when user is None); url= points it elsewhere (a proxy, the
    customer's call page); audio= gives it a WAV file as its microphone; resolve= maps host names
    (to 127.0.0.1); flags= adds Chromium flags.
    browsers.tab(page, user) opens another tab of that page's browser. Every browser is quit at
    the end."""
    pages = []
    request.node.open_pages = pages  # for the screenshot hook below

    def open_browser(user=None, password="switchboard", url=None, audio=None, resolve=None, flags=()):
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=chrome_options(audio, resolve, flags))
        page = DesktopPage(driver, url or server.url, name=user or f"browser{len(pages) + 1}")
        pages.append(page)
        page.open()
        if user:
            page.sign_in(user, password)
        return page

    def open_tab(page, user=None, password="switchboard"):
        tab = page.new_tab(f"{user or page.name}-tab{len(pages) + 1}")
        pages.append(tab)
        if user:
            tab.sign_in(user, password)
        return tab

    open_browser.tab = open_tab
    yield open_browser
    uncaught = []
    refused = []
    for page in {id(page.driver): page for page in pages}.values():
        try:
            entries = page.console()
            # A script error the page did not catch is a bug even when the test passed; so is
            # anything the server's Content-Security-Policy refused (an inline style, say).
            uncaught += [entry["message"] for entry in entries if entry.get("source") == "javascript"]
            refused += [entry["message"] for entry in entries if is_csp_violation(entry)]
            page.driver.quit()
        except Exception:  # a browser that already died must not hide the test's own outcome
            pass
    assert not uncaught, f"uncaught script errors in the page: {uncaught}"
    assert not refused, f"the page broke the Content-Security-Policy: {refused}"


def is_csp_violation(entry):
    """A console entry of Chromium's saying the page's Content-Security-Policy refused something."""
    return "Content Security Policy" in entry.get("message", "")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, a screenshot of every browser the test opened (before they are quit)."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    pages = getattr(item, "open_pages", [])
    if not pages:
        return
    os.makedirs(SCREENSHOTS, exist_ok=True)
    for index, page in enumerate(pages):
        path = os.path.join(SCREENSHOTS, f"{item.name}-{index + 1}-{page.name}.png")
        try:
            page.here()
            page.driver.save_screenshot(path)
        except Exception as error:  # the browser may be gone; say so and keep the report intact
            print(f"no screenshot of {page.name}: {error}", file=sys.stderr)
