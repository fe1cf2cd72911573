import time
def test_explore(server, softphone):
    phone = softphone("agent", f"<sip:agent1@127.0.0.1:{server.sip_port}>;auth_pass=switchboard;regint=600")
    customer = softphone("customer", "<sip:15550100@127.0.0.1>;regint=0")
    print(customer.command("help"))
    time.sleep(3)
    print(phone.events)
    print(phone.command("reginfo"))
    print(phone.command("uastat"))
    print(phone.command("listcalls"))
    assert False
