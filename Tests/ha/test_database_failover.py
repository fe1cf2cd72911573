"""The database fails over (docs/ha.md): PostgreSQL's primary is killed, its synchronous standby
promoted by the script; the active node, reaching PostgreSQL through one address (HAProxy), answers
503 while there is no primary, restarts itself from the log, and goes on with every acknowledged
command there."""
import time

import requests

from test_pair import User


def test_after_the_primary_dies_and_the_standby_is_promoted_the_node_goes_on_with_every_acknowledged_command(pair, postgres_pair):
    from conftest import free_port
    a = pair("a", database=postgres_pair.url, port=free_port())
    url = a.running()
    agent1, supervisor = User(url, "agent1"), User(url, "supervisor1")
    agent1.ok("PUT", "/v1/me/state", {"state": "available"})
    task = supervisor.ok("POST", "/v1/sim/calls", {"queueId": "support", "from": "+15550100"})["taskId"]
    agent1.ok("POST", f"/v1/tasks/{task}/accept")
    acknowledged = agent1.ok("POST", f"/v1/tasks/{task}/hold")

    postgres_pair.kill_primary()
    # No primary: a command is refused (503), or finds the node restarting; never a 200.
    statuses = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            statuses.append(agent1.call("POST", f"/v1/tasks/{task}/resume").status_code)
        except requests.ConnectionError:
            statuses.append("restarting")
        if 200 in statuses:
            break
    assert 200 not in statuses and 503 in statuses + ([503] if "restarting" in statuses else []), statuses

    postgres_pair.promote()
    # The node, restarted from the log on the promoted server, holds the lease again and serves.
    a.wait_for(r"holds the lease \(epoch 2\)", timeout=30)
    a.running()
    after = agent1.ok("GET", f"/v1/tasks/{task}")
    assert after["customer"]["state"] == "held" and after["version"] >= acknowledged["version"], after
    # The resume tried during the gap was either refused whole or applied whole — never half: the
    # task is held (refused) or connected (applied), and the next command answers from there.
    resumed = agent1.ok("POST", f"/v1/tasks/{task}/resume")
    assert resumed["customer"]["state"] == "connected"
