"""Desktops through HAProxy (deploy/haproxy.cfg) in front of the pair: the front sends everything
to the active node; when it is killed, the same sessions reach the new active node through the
same front, and the event stream resumes there with ?since= (numbered by the log on both)."""
import json
import signal
import time

import requests
import websocket

from conftest import free_port, settled, until


def test_desktops_reach_whichever_node_is_active_through_the_front(pair, front):
    ports = free_port(), free_port()
    a = pair("a", port=ports[0])
    a.running()
    b = pair("b", port=ports[1])
    b.standing_by()
    proxy = front(ports)
    settled(proxy)
    login = requests.post(f"{proxy.url}/v1/auth/login", json={"username": "agent1", "password": "switchboard"}, timeout=5)
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    assert requests.put(f"{proxy.url}/v1/me/state", json={"state": "available"}, headers=headers, timeout=5).status_code == 200
    stream = websocket.create_connection(proxy.url.replace("http://", "ws://") + f"/v1/notifications?token={login.json()['token']}", timeout=10)
    while (ready := json.loads(stream.recv()))["type"] != "ready":
        pass
    task = requests.post(f"{proxy.url}/v1/sim/calls", json={"queueId": "support", "from": "+15550100"}, headers=headers, timeout=5).json()["taskId"]
    assert requests.post(f"{proxy.url}/v1/tasks/{task}/accept", headers=headers, timeout=5).status_code == 200
    last = ready["seq"]
    while (message := json.loads(stream.recv()))["type"] != "task" or message["task"]["status"] != "connected":
        last = message["seq"]
    last = message["seq"]

    a.process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    # The open stream is cut (its node is gone); the same token, through the same front, reaches
    # the new active node once it holds the lease and HAProxy has seen it up.
    answer = until(lambda: (r := requests.get(f"{proxy.url}/v1/tasks/{task}", headers=headers, timeout=2)).status_code == 200 and r,
                   "the task through the front after the failover")
    recovered = time.monotonic() - killed
    assert answer.json()["status"] == "connected", answer.text
    assert recovered < 6, f"the front answered again after {recovered:.1f} s"
    # While the desktop's stream is down, the call is held on the new node. The stream reconnects
    # through the front with ?since= its last number — the log's, the same on both nodes — and
    # gets what it missed: the task held, no resync.
    stream.close()
    assert requests.post(f"{proxy.url}/v1/tasks/{task}/hold", headers=headers, timeout=5).status_code == 200
    url = proxy.url.replace("http://", "ws://") + f"/v1/notifications?token={login.json()['token']}&since={last}"
    again = websocket.create_connection(url, timeout=10)
    missed = []
    while (message := json.loads(again.recv()))["type"] != "ready":
        missed.append(message)
    again.close()
    assert "resync" not in [m["type"] for m in missed], missed
    assert [m["task"]["status"] for m in missed if m["type"] == "task" and m["task"]["id"] == task] == ["held"], missed
    assert all(m["seq"] >= last for m in missed) and message["seq"] >= last, (missed, message, last)
    print(f"failover through the front: {recovered:.2f} s")
