"""Writes log-vN.sqlite: an event log as an earlier Switchboard wrote it, and log-vN-expected.json:
what that server showed a supervisor just before it was killed. Tests/CenterTests (LogFixtureTests)
replays each log with today's code and checks it shows the same. Each was made once, with the binary
of the commit that wrote that schema; the script is kept to say how.

- v0 (before the log had a schema, Swift's synthesized Codable): commit c95c02d.
- v1 (schema 1: customers only as numbers): commit 2cb4d1d; also keeps the past interactions.
- v2 (schema 2: callers as the line said; no supervisors on calls, no recording): commit ec79d10.

    SWITCHBOARD_BINARY=.build/debug/switchboard python3 Tests/CenterTests/Fixtures/make_log.py 1
"""
import json
import os
import shutil
import sqlite3
import sys
import tempfile

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "api"))
from conftest import Desktop, Server  # noqa: E402


def main(version):
    folder = tempfile.mkdtemp()
    server = Server(os.path.join(folder, "log.sqlite"))
    try:
        a1, a2, a3, a4 = (Desktop(server, f"agent{n}") for n in range(1, 5))
        boss = Desktop(server, "supervisor1")

        def call(queue="sales", number="+15550100"):
            answer = a1.call("POST", "/v1/sim/calls", {"queueId": queue, "from": number})
            assert answer.status_code == 201, answer.text
            return answer.json()["taskId"]

        # A: a conference, exited, ended and wrapped up: finished, so the live server forgot it.
        a1.available()
        a = call()
        a1.command(a, "accept")
        a2.available()
        a1.command(a, "consult", {"destinationType": "agent", "to": "agent2"})
        a2.command(a, "consult/accept")
        a1.command(a, "consult/conference")
        a2.command(a, "conference/exit")
        a1.command(a, "end")
        a1.command(a, "wrapup", {"wrapUpCodeId": "resolved", "notes": "fixture"})
        # agent2 is free again and takes the next call; agent1 goes idle and comes back.
        a1.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "break"})
        # B: agent2 holds, consults an outside number (the simulator answers), conferences, ends:
        # agent2 owes the wrap-up.
        b = call("support", "+15550111")
        a2.command(b, "accept")
        a2.command(b, "hold")
        a2.command(b, "resume")
        a2.command(b, "consult", {"destinationType": "dialNumber", "to": "+15550199"})
        a2.command(b, "consult/conference")
        a2.command(b, "conference/end")
        # C: agent1 takes a call, blind-transfers it to the support queue, where agent3 takes it
        # and holds the customer; agent1 owes a wrap-up and asks for lunch after it.
        a1.available()
        c = call("sales", "+15550122")
        a1.command(c, "accept")
        a3.available()
        a1.command(c, "transfer", {"destinationType": "queue", "to": "support"})
        a3.command(c, "accept")
        a3.command(c, "hold")
        a1.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "lunch"})
        # D: a call with nobody free waits in the queue; agent4 is idle on training.
        a4.call("PUT", "/v1/me/state", {"state": "idle", "idleCodeId": "training"})
        d = call("sales", "+15550133")
        # E: the customer hangs up while waiting.
        e = call("support", "+15550144")
        assert a1.call("POST", f"/v1/sim/calls/{e}/hangup").status_code == 200

        expected = {
            "tasks": boss.call("GET", "/v1/tasks").json(),
            "agents": boss.call("GET", "/v1/agents").json(),
            "history": {t: [entry["event"] for entry in boss.call("GET", f"/v1/tasks/{t}/history").json()]
                        for t in (b, c, d)},
            "finished": a,
            "abandoned": e,
        }
        if version >= 1:
            expected["interactions"] = boss.call("GET", "/v1/interactions").json()
        server.kill()  # as a crash would leave it
        # The killed server left its last writes in the WAL: fold them into one file.
        database = sqlite3.connect(os.path.join(folder, "log.sqlite"))
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.execute("PRAGMA journal_mode=DELETE")
        database.close()
        shutil.copy(os.path.join(folder, "log.sqlite"), os.path.join(HERE, f"log-v{version}.sqlite"))
        with open(os.path.join(HERE, f"log-v{version}-expected.json"), "w") as out:
            json.dump(expected, out, indent=1, sort_keys=True)
            out.write("\n")
    finally:
        if server.process.poll() is None:
            server.kill()
        shutil.rmtree(folder)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
