"""A desktop that goes away (docs/sessions.md): once every event stream of an Available agent has
been closed for --desktop-grace-seconds, the agent is made idle with the reserved idle code
`desktopClosed` (the audit says `desktopDisconnected`); a reconnect within the grace, a call,
wrap-up or idle leave the agent as they are."""
import time

from conftest import Server
from session_tools import Desktop, Stream, agent_in_directory, audit, connected_call, eventually, throughout


def disconnected(agent):
    return agent["state"] == "idle" and agent.get("idleCodeId") == "desktopClosed"


def test_an_available_agent_whose_desktop_closed_becomes_idle_desktop_closed_after_the_grace(start_server):
    server = start_server("--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    agent.available()
    closed_at = time.monotonic()
    stream.close()
    seen = eventually(lambda: agent_in_directory(supervisor, "agent1"), disconnected,
                      "agent1 becomes idle with desktopClosed")
    assert time.monotonic() - closed_at >= 0.9, f"idled before the grace was over: {seen}"
    latest = audit(supervisor, "agent1")[0]
    assert latest["action"] == "desktopDisconnected", latest
    # The agent's session is still theirs: the desktop, back, offers Available again.
    assert agent.call("GET", "/v1/me").json()["idleCodeId"] == "desktopClosed"
    agent.available()


def test_a_reconnect_within_the_grace_changes_nothing(start_server):
    server = start_server("--desktop-grace-seconds", "3")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    agent.available()
    stream.close()
    reloaded = Stream(agent)  # the page reloads: a new stream at once
    try:
        throughout(4.5, lambda: agent_in_directory(supervisor, "agent1"), lambda seen: seen["state"] == "available",
                   "agent1, reconnected, stays Available past the grace")
    finally:
        reloaded.close()


def test_one_tab_closing_while_another_stays_open_changes_nothing(start_server):
    server = start_server("--desktop-grace-seconds", "1")
    supervisor = Desktop(server, "supervisor1")
    first_tab, second_tab = Desktop(server, "agent1"), Desktop(server, "agent1")
    first_stream, second_stream = Stream(first_tab), Stream(second_tab)
    try:
        first_tab.available()
        first_stream.close()
        throughout(2.5, lambda: agent_in_directory(supervisor, "agent1"), lambda seen: seen["state"] == "available",
                   "agent1, one desktop still open, stays Available")
    finally:
        first_stream.close()
        second_stream.close()


def test_an_agent_on_a_call_whose_desktop_closed_is_not_touched(start_server):
    server = start_server("--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    task = connected_call(agent)
    stream.close()
    throughout(2.5, lambda: agent_in_directory(supervisor, "agent1"), lambda seen: seen["state"] == "engaged",
               "agent1 stays on the call")
    assert agent.task(task).json()["status"] == "connected"
    # In wrap-up too.
    agent.command(task, "end")
    throughout(2.5, lambda: agent_in_directory(supervisor, "agent1"), lambda seen: seen["state"] == "wrapUp",
               "agent1 stays in wrap-up")
    assert "desktopDisconnected" not in [entry["action"] for entry in audit(supervisor, "agent1")]


def test_an_idle_agent_whose_desktop_closed_keeps_their_idle_code(start_server):
    server = start_server("--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    assert agent.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "lunch"}).status_code == 200
    stream.close()
    throughout(2.5, lambda: agent_in_directory(supervisor, "agent1"),
               lambda seen: seen["state"] == "idle" and seen.get("idleCodeId") == "lunch", "agent1 stays idle (lunch)")


def test_after_a_restart_the_grace_starts_again_for_agents_with_no_desktop(tmp_path):
    database = tmp_path / "switchboard.sqlite"
    first = Server(database, "--drain-seconds", "0", "--desktop-grace-seconds", "60")
    try:
        agent = Desktop(first, "agent1")
        stream = Stream(agent)
        agent.available()
    finally:
        first.stop()
    stream.close()
    restarted = Server(database, "--drain-seconds", "0", "--desktop-grace-seconds", "1")
    try:
        supervisor = Desktop(restarted, "supervisor1")
        eventually(lambda: agent_in_directory(supervisor, "agent1"), disconnected,
                   "agent1, Available with no desktop after the restart, becomes idle with desktopClosed")
    finally:
        restarted.stop()
