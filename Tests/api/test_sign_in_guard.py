"""Guarding sign-in and the browser (docs/sessions.md, Password guessing and Headers): failures
throttled per name and per address, answers that do not tell which names exist (not even by their
time), and the security headers on every answer."""
import re
import statistics
import time

import requests

from session_tools import refusal, sign_in


def assert_throttled(answer):
    assert answer.status_code == 429 and refusal(answer) == "tooManyAttempts", f"{answer.status_code} {answer.text}"
    retry_after = answer.headers.get("Retry-After", "")
    assert re.fullmatch(r"[0-9]+", retry_after), f"Retry-After is not whole seconds: {retry_after!r}"
    return int(retry_after)


def test_after_five_failures_for_a_name_the_next_attempt_is_refused_even_with_the_right_password(server):
    for attempt in range(5):
        wrong = sign_in(server, "agent1", "not-the-password")
        assert wrong.status_code == 401 and refusal(wrong) == "badCredentials", (attempt, wrong.text)
    retry_after = assert_throttled(sign_in(server, "agent1"))
    assert 0 < retry_after <= 30, retry_after  # 30 s at first
    # Only that name: another user from the same address signs in, or fails, as usual.
    assert sign_in(server, "agent2").status_code == 200
    assert sign_in(server, "agent3", "not-the-password").status_code == 401


def test_a_successful_sign_in_clears_the_names_count(server):
    for _ in range(4):
        assert sign_in(server, "agent1", "not-the-password").status_code == 401
    assert sign_in(server, "agent1").status_code == 200
    for attempt in range(4):  # four more in a row: never five
        wrong = sign_in(server, "agent1", "not-the-password")
        assert wrong.status_code == 401, (attempt, wrong.text)
    assert sign_in(server, "agent1").status_code == 200


def test_after_twenty_failures_from_one_address_every_name_is_refused(server):
    for attempt in range(20):  # a different name each time: no one name reaches five
        wrong = sign_in(server, f"guess{attempt}", "not-the-password")
        assert wrong.status_code == 401 and refusal(wrong) == "badCredentials", (attempt, wrong.text)
    assert assert_throttled(sign_in(server, "agent4")) > 0
    assert assert_throttled(sign_in(server, "supervisor1", "not-the-password")) > 0


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(server):
    unknown = sign_in(server, "nobody", "not-the-password")
    wrong = sign_in(server, "agent1", "not-the-password")
    assert (unknown.status_code, unknown.json()) == (wrong.status_code, wrong.json())


def test_a_failed_sign_in_takes_as_long_for_a_name_that_does_not_exist(server):
    """Medians of interleaved attempts; the names are spread so that no throttle is reached
    (at most two failures per existing name, 14 from the address in all)."""
    client = requests.Session()  # one kept-alive connection: no connection set-up in the times
    assert sign_in(server, "agent4", session=client).status_code == 200  # warm up the path that checks
    existing_names = ["agent1", "agent2", "agent3", "agent4", "supervisor1", "agent1", "agent2"]
    existing, unknown = [], []
    for index, name in enumerate(existing_names):
        for user, times in ((name, existing), (f"nobody{index}", unknown)):
            started = time.perf_counter()
            answer = sign_in(server, user, "not-the-password", session=client)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 401, answer.text
    ratio = statistics.median(unknown) / statistics.median(existing)
    # Without the decoy hash an unknown name would skip bcrypt, whose cost is most of a sign-in's
    # time; the wide band leaves room for a loaded machine's noise in seven samples.
    assert 1 / 3 <= ratio <= 3, f"unknown {sorted(unknown)} vs existing {sorted(existing)}: ratio {ratio:.2f}"


EXPECTED_POLICY = {
    "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"], "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"], "object-src": ["'none'"], "base-uri": ["'none'"], "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(header):
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {directive[0]: directive[1:] for directive in directives}


def test_every_answer_carries_the_security_headers(server):
    token = sign_in(server, "agent1").json()["token"]
    answers = {
        "the desktop": requests.get(f"{server.url}/"),
        "the desktop's script": requests.get(f"{server.url}/js/app.js"),
        "the desktop's style": requests.get(f"{server.url}/style.css"),
        "health": requests.get(f"{server.url}/health"),
        "metrics": requests.get(f"{server.url}/metrics"),
        "an API answer": requests.get(f"{server.url}/v1/me", headers={"Authorization": f"Bearer {token}"}),
        "a 401": requests.get(f"{server.url}/v1/me"),
        "a failed sign-in": sign_in(server, "agent1", "not-the-password"),
        "no such file": requests.get(f"{server.url}/no-such-file.html"),
    }
    assert [answers[name].status_code for name in ("the desktop", "health", "a 401")] == [200, 200, 401]
    for name, answer in answers.items():
        headers = answer.headers
        content_policy = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in content_policy and "frame-ancestors 'none'" in content_policy, (name, headers)
        assert "unsafe-inline" not in content_policy, (name, content_policy)
        assert policy(content_policy) == EXPECTED_POLICY, (name, content_policy)
        assert headers.get("X-Content-Type-Options") == "nosniff", (name, headers)
        assert headers.get("Referrer-Policy") == "no-referrer", (name, headers)
        assert headers.get("X-Frame-Options") == "DENY", (name, headers)


def test_the_desktop_page_has_no_inline_script_or_style(server):
    page = requests.get(f"{server.url}/").text
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, flags=re.S | re.I)
    assert scripts and all("src=" in attributes and not body.strip() for attributes, body in scripts), scripts
    assert not re.search(r"<style\b", page, flags=re.I)
    assert not re.search(r"\sstyle\s*=", page, flags=re.I)
    assert not re.search(r"\son[a-z]+\s*=", page, flags=re.I)
    assert "javascript:" not in page.lower()
