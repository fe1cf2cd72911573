"""Waiting for a state in the Python suites: polled with a deadline, never a fixed sleep."""
import time


def eventually(check, what, timeout=10.0, interval=0.05):
    """Calls `check` until it returns something truthy, which it returns; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last seen: {last!r}")
        time.sleep(interval)
