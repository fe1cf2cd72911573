"""A real softphone (baresip) as the agent's phone and another as the customer, against the demo
server on loopback: digest registration, a call to 2000 answered on the phone, both hang up."""
from conftest import Desktop, Server, eventually

REGISTRATION_SECONDS = 20
CALL_SECONDS = 15


def registration_hint(phone):
    """Why baresip did not register, when its log tells (a known cause is named)."""
    log = phone.log_text(tail=200000)
    if "Register: Function not implemented" in log and "algorithm=SHA-256" in log:
        return ("baresip answered the server's 401 with ENOSYS (\"Function not implemented\"): its SIP "
                "library handles MD5 digest only and gives up at the first challenge, which is SHA-256, "
                "instead of using the MD5 one that follows it")
    return "see the SIP trace in the log below"


def test_softphones_register_with_digest_a_customer_calls_2000_the_agent_answers_and_both_hang_up(server, softphone):
    registrar = f"127.0.0.1:{server.sip_port}"
    agent = Desktop(server.url, "agent1")

    # 1. The agent's softphone registers with digest; the server then lets agent1 choose the phone.
    phone = softphone("agent-phone", f"<sip:agent1@{registrar}>;auth_pass=switchboard;regint=600")
    customer = softphone("customer-phone", "<sip:15550100@127.0.0.1>;regint=0")

    def station_phone():
        answer = agent.call("PUT", "/v1/me/station", {"station": "phone"})
        if answer.status_code != 200:
            code = answer.json().get("error", {}).get("code") if answer.status_code == 409 else None
            assert code == "phoneNotRegistered", \
                f"PUT /v1/me/station phone before registering: expected 409 phoneNotRegistered, got " \
                f"{answer.status_code} {answer.text}"
        return answer.status_code

    try:
        eventually(station_phone, lambda status: status == 200, REGISTRATION_SECONDS,
                   "the server never saw agent1's softphone register (PUT /v1/me/station phone stayed 409)")
    except AssertionError as failure:
        raise AssertionError(f"{failure}\nbaresip's reginfo: {phone.command('reginfo').get('data')!r}\n"
                             f"{registration_hint(phone)}\n{phone.log_text()}") from None
    registered = phone.command("reginfo")
    assert registered["ok"] and "OK" in registered["data"], \
        f"the server accepted the phone station but baresip does not show its registration as OK: {registered}"
    me = agent.call("GET", "/v1/me").json()
    assert me.get("station") == "phone", f"agent1's station should be the phone now: {me}"

    # 2. agent1 is available; the customer calls 2000 (sales); the phone rings and the agent answers.
    answer = agent.call("PUT", "/v1/me/state", {"state": "available"})
    assert answer.status_code == 200, f"agent1 cannot become available: {answer.status_code} {answer.text}"

    dialled = customer.command("dial", f"sip:2000@{registrar}")
    assert dialled["ok"], f"the customer's softphone refused to dial 2000: {dialled}"

    _, incoming = phone.wait_event("CALL_INCOMING", CALL_SECONDS)
    accepted = phone.command("accept")
    assert accepted["ok"], f"the agent's softphone could not accept the incoming call {incoming}: {accepted}"

    customer_up, _ = customer.wait_event("CALL_ESTABLISHED", CALL_SECONDS)
    phone_up, _ = phone.wait_event("CALL_ESTABLISHED", CALL_SECONDS)

    def agent1_tasks():
        answer = agent.call("GET", "/v1/tasks")
        assert answer.status_code == 200, f"GET /v1/tasks as agent1: {answer.status_code} {answer.text}"
        return answer.json()

    def connected(tasks):
        return [task for task in tasks if task["status"] == "connected"
                and any(person.get("agentId") == "agent1" and person.get("state") == "connected"
                        for person in task["participants"])]

    tasks = eventually(agent1_tasks, connected, CALL_SECONDS,
                       "after the phone answered, GET /v1/tasks never showed agent1 connected")
    assert len(tasks) == 1, f"agent1 should have exactly one task: {tasks}"
    task = tasks[0]
    assert task["queue"] == "sales", f"a call to 2000 should be in the sales queue: {task}"
    assert task["customer"].get("state") == "connected", f"the customer should be connected: {task}"

    # 3. The customer hangs up: both calls end, and agent1 owes a wrap-up.
    hung_up = customer.command("hangup")
    assert hung_up["ok"], f"the customer's softphone could not hang up: {hung_up}"
    customer.wait_event("CALL_CLOSED", CALL_SECONDS, after=customer_up)
    phone.wait_event("CALL_CLOSED", CALL_SECONDS, after=phone_up)
    for softphone_ in (phone, customer):
        eventually(lambda: softphone_.command("listcalls")["data"],
                   lambda listing: "Active calls (0)" in listing, CALL_SECONDS,
                   f"{softphone_.name} still lists a call after the customer hung up")

    def me_and_task():
        me = agent.call("GET", "/v1/me").json()
        mine = [each for each in agent1_tasks() if each["id"] == task["id"]]
        return me, mine

    me, mine = eventually(
        me_and_task,
        lambda seen: seen[0].get("state") == "wrapUp" and seen[1] and seen[1][0]["status"] == "ended",
        CALL_SECONDS, "after the customer hung up, agent1 should be in wrapUp with the task ended")
    assert mine[0]["wrapUpRequired"], f"agent1 should owe the wrap-up of the ended task: {mine[0]}"
    assert mine[0]["customer"].get("state") == "left", f"the customer should have left: {mine[0]}"

    codes = agent.call("GET", "/v1/wrapup-codes").json()
    assert any(code["id"] == "resolved" for code in codes), f"the demo's wrap-up codes lack 'resolved': {codes}"
    answer = agent.call("POST", f"/v1/tasks/{task['id']}/wrapup", {"wrapUpCodeId": "resolved"})
    assert answer.status_code == 200, f"agent1's wrap-up was refused: {answer.status_code} {answer.text}"
    eventually(lambda: agent.call("GET", "/v1/me").json(), lambda me: me.get("state") == "available",
               CALL_SECONDS, "after wrapping up, agent1 should be available again")
    remaining = [each for each in agent1_tasks() if each["id"] == task["id"]]
    assert not remaining, f"the wrapped-up task should no longer be listed for agent1: {remaining}"


def test_a_phone_whose_connection_is_gone_fails_its_qualify_at_once_and_its_available_agent_goes_idle(tmp_path, softphone):
    """With `--sip-qualify-seconds 1`: agent1's baresip registers over TCP and answers the server's
    OPTIONS pings; then it is killed, its TCP connection closes, and the next ping cannot be written
    (a transport error is a timeout, RFC 3261 §17.1.4): the registration goes, and the available
    agent goes idle with `phoneLost` before any call is offered to the phone."""
    server = Server(tmp_path / "qualify.sqlite", "--drain-seconds", "0", "--sip-qualify-seconds", "1")
    try:
        agent = Desktop(server.url, "agent1")
        phone = softphone("agent-phone", f"<sip:agent1@127.0.0.1:{server.sip_port};transport=tcp>;auth_pass=switchboard;regint=600")
        eventually(lambda: agent.call("PUT", "/v1/me/station", {"station": "phone"}).status_code,
                   lambda status: status == 200, 20, "agent1's softphone to register over TCP")
        assert agent.call("PUT", "/v1/me/state", {"state": "available"}).status_code == 200
        # Pinged and answering: the agent stays available.
        eventually(lambda: phone.log_text(tail=200000).count("OPTIONS sip:"), lambda count: count >= 2, 10,
                   "baresip to be pinged twice")
        assert agent.call("GET", "/v1/me").json()["state"] == "available"
        phone.process.kill()
        phone.process.wait(timeout=10)
        me = eventually(lambda: agent.call("GET", "/v1/me").json(), lambda me: me["state"] == "idle", 10,
                        "the agent to go idle once the phone is gone")
        assert me.get("idleCodeId") == "phoneLost", me
    finally:
        server.stop()
