"""A desktop that goes away (docs/sessions.md): once every event stream of an Available agent has
been closed for --desktop-grace-seconds, the agent is made idle with the reserved idle code
`desktopClosed` (the audit says `desktopDisconnected`); a reconnect within the grace, a call,
wrap-up or idle leave the agent as they are.

The servers here run on a test clock (`--test-clock`): time moves only when a test advances it, and
what fell due has run when the advance answers, so "not yet" and "never" are checked at an exact
moment instead of by waiting."""
from conftest import Server
from session_tools import (Desktop, Stream, advance, agent_in_directory, audit, clock, connected_call, eventually,
                           streams_of)


def disconnected(agent):
    return agent["state"] == "idle" and agent.get("idleCodeId") == "desktopClosed"


def closed(supervisor, stream, user="agent1", left=0):
    """Closes `stream` and waits until the server has seen it closed."""
    stream.close()
    eventually(lambda: streams_of(supervisor, user), lambda count: count == left, f"{user}'s stream is closed")


def test_an_available_agent_whose_desktop_closed_becomes_idle_desktop_closed_after_the_grace(start_server):
    server = start_server("--test-clock", "--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    agent.available()
    closed(supervisor, stream)
    now = clock(supervisor)
    assert now["desktopGraceEnds"] == {"agent1": now["now"] + 1000}
    advance(supervisor, 999)
    assert agent_in_directory(supervisor, "agent1")["state"] == "available"  # 1 ms before the grace ends
    advance(supervisor, 1)
    assert disconnected(agent_in_directory(supervisor, "agent1"))
    latest = audit(supervisor, "agent1")[0]
    assert latest["action"] == "desktopDisconnected", latest
    # The agent's session is still theirs: the desktop, back, offers Available again.
    assert agent.call("GET", "/v1/me").json()["idleCodeId"] == "desktopClosed"
    agent.available()


def test_a_reconnect_within_the_grace_changes_nothing(start_server):
    server = start_server("--test-clock", "--desktop-grace-seconds", "3")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    agent.available()
    closed(supervisor, stream)
    advance(supervisor, 2_000)
    reloaded = Stream(agent)  # the page reloads within the grace: a new stream
    try:
        assert clock(supervisor)["desktopGraceEnds"] == {}
        advance(supervisor, 10_000)
        assert agent_in_directory(supervisor, "agent1")["state"] == "available"
    finally:
        reloaded.close()


def test_one_tab_closing_while_another_stays_open_changes_nothing(start_server):
    server = start_server("--test-clock", "--desktop-grace-seconds", "1")
    supervisor = Desktop(server, "supervisor1")
    first_tab, second_tab = Desktop(server, "agent1"), Desktop(server, "agent1")
    first_stream, second_stream = Stream(first_tab), Stream(second_tab)
    try:
        first_tab.available()
        closed(supervisor, first_stream, left=1)
        assert clock(supervisor)["desktopGraceEnds"] == {}
        advance(supervisor, 5_000)
        assert agent_in_directory(supervisor, "agent1")["state"] == "available"
        # The last tab closing starts the grace.
        closed(supervisor, second_stream)
        advance(supervisor, 1_000)
        assert disconnected(agent_in_directory(supervisor, "agent1"))
    finally:
        first_stream.close()
        second_stream.close()


def test_an_agent_on_a_call_whose_desktop_closed_is_not_touched(start_server):
    server = start_server("--test-clock", "--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    task = connected_call(agent)
    closed(supervisor, stream)
    advance(supervisor, 5_000)
    assert agent_in_directory(supervisor, "agent1")["state"] == "engaged"
    assert agent.task(task).json()["status"] == "connected"
    # In wrap-up too.
    agent.command(task, "end")
    advance(supervisor, 5_000)
    assert agent_in_directory(supervisor, "agent1")["state"] == "wrapUp"
    assert "desktopDisconnected" not in [entry["action"] for entry in audit(supervisor, "agent1")]


def test_an_idle_agent_whose_desktop_closed_keeps_their_idle_code(start_server):
    server = start_server("--test-clock", "--desktop-grace-seconds", "1")
    supervisor, agent = Desktop(server, "supervisor1"), Desktop(server, "agent1")
    stream = Stream(agent)
    assert agent.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "lunch"}).status_code == 200
    closed(supervisor, stream)
    advance(supervisor, 5_000)
    seen = agent_in_directory(supervisor, "agent1")
    assert seen["state"] == "idle" and seen.get("idleCodeId") == "lunch", seen


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
    restarted = Server(database, "--drain-seconds", "0", "--test-clock", "--desktop-grace-seconds", "1")
    try:
        supervisor = Desktop(restarted, "supervisor1")
        started = clock(supervisor)
        assert started["desktopGraceEnds"] == {"agent1": started["now"] + 1000}
        assert agent_in_directory(supervisor, "agent1")["state"] == "available"
        advance(supervisor, 1_000)
        assert disconnected(agent_in_directory(supervisor, "agent1"))
    finally:
        restarted.stop()


def test_the_test_clock_is_there_only_on_a_test_clock_server_and_only_for_supervisors(start_server):
    ordinary = start_server()
    assert Desktop(ordinary, "supervisor1").call("GET", "/v1/test/clock").status_code == 404
    testing = start_server("--test-clock")
    supervisor, agent = Desktop(testing, "supervisor1"), Desktop(testing, "agent1")
    assert agent.call("POST", "/v1/test/clock", {"milliseconds": 5}).json()["error"]["code"] == "notASupervisor"
    for body in ({"milliseconds": 0}, {"milliseconds": -5}, {"milliseconds": 86_400_001}):
        answer = supervisor.call("POST", "/v1/test/clock", body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalidAdvance"), body
    answer = supervisor.call("POST", "/v1/test/clock", {"seconds": 5})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "badRequest")
    before = clock(supervisor)["now"]
    assert advance(supervisor, 250)["now"] == before + 250
