import Testing

@testable import SIP

/// Transcripts of the four transaction machines, one test per transition of RFC 3261 §17
/// (figures 5–8) and RFC 6026's Accepted state.
enum Fixture {
    static let timers = SIPTimerValues()
    static let t1 = timers.t1

    static func request(_ method: SIPMethod, branch: String = "z9hG4bK-1") -> SIPRequest {
        let lines = [
            "\(method) sip:agent1@127.0.0.1 SIP/2.0",
            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=\(branch)",
            "Max-Forwards: 70",
            "To: <sip:agent1@127.0.0.1>",
            "From: <sip:switchboard@127.0.0.1>;tag=sb1",
            "Call-ID: call-1",
            "CSeq: 1 \(method)",
        ]
        guard case .request(let request) = try! SIPParser.parse(datagram: sipBytes(lines)) else { fatalError() }
        return request
    }

    static func response(_ status: Int, to request: SIPRequest) -> SIPResponse {
        SIPResponse(answering: request, status: status, toTag: status == 100 ? nil : "ua1")
    }
}

@Suite struct ClientInviteTransactionTranscripts {
    let invite = Fixture.request(.invite)

    @Test func startingSendsTheInviteAndStartsTimersAAndB() {
        let (_, actions) = ClientInviteTransaction.start(invite, reliable: false)
        #expect(actions == [.send(.request(invite)), .startTimer(.a, Fixture.t1), .startTimer(.b, Fixture.t1 * 64)])
    }

    @Test func overTCPThereIsNoTimerA() {
        let (_, actions) = ClientInviteTransaction.start(invite, reliable: true)
        #expect(actions == [.send(.request(invite)), .startTimer(.b, Fixture.t1 * 64)])
    }

    @Test func timerAFiresInCallingAndDoublesWhileRetransmitting() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: false)
        #expect(machine.timerFired(.a) == [.send(.request(invite)), .startTimer(.a, Fixture.t1 * 2)])
        #expect(machine.timerFired(.a) == [.send(.request(invite)), .startTimer(.a, Fixture.t1 * 4)])
    }

    @Test func timerBInCallingIsATimeoutToTheTU() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: false)
        #expect(machine.timerFired(.b) == [.cancelTimer(.a), .timeout, .terminated])
        #expect(machine.state == .terminated)
    }

    @Test func a1xxInCallingMovesToProceedingAndStopsRetransmitting() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: false)
        let ringing = Fixture.response(180, to: invite)
        #expect(machine.receive(ringing) == [.cancelTimer(.a), .cancelTimer(.b), .deliver(.response(ringing))])
        #expect(machine.state == .proceeding)
        #expect(machine.timerFired(.a) == [])
    }

    @Test func a300To699SendsTheACKItselfAndWaitsTimerDInCompleted() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: false)
        _ = machine.receive(Fixture.response(180, to: invite))
        let busy = Fixture.response(486, to: invite)
        let actions = machine.receive(busy)
        guard case .send(.request(let ack)) = actions.first else { Issue.record("no ACK"); return }
        #expect(ack.method == .ack)
        #expect(ack.requestURI == invite.requestURI)
        #expect(ack.to?.tag == "ua1")
        #expect(ack.cseq == SIPCSeq(number: 1, method: .ack))
        #expect(ack.topVia == invite.topVia)
        #expect(actions.dropFirst() == [.deliver(.response(busy)), .startTimer(.d, .seconds(32))])
        // The response again: the ACK again, nothing to the TU.
        #expect(machine.receive(busy) == [.send(.request(ack))])
        #expect(machine.timerFired(.d) == [.terminated])
    }

    @Test func a2xxMovesToAcceptedAndItsRetransmissionsReachTheTU() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: false)
        let ok = Fixture.response(200, to: invite)
        #expect(machine.receive(ok) == [.cancelTimer(.a), .cancelTimer(.b), .deliver(.response(ok)), .startTimer(.m, Fixture.t1 * 64)])
        #expect(machine.state == .accepted)
        #expect(machine.receive(ok) == [.deliver(.response(ok))])
        #expect(machine.timerFired(.m) == [.terminated])
    }

    @Test func aTransportErrorInCallingIsATimeout() {
        var (machine, _) = ClientInviteTransaction.start(invite, reliable: true)
        #expect(machine.transportError() == [.cancelTimer(.a), .cancelTimer(.b), .timeout, .terminated])
    }
}

@Suite struct ClientNonInviteTransactionTranscripts {
    let bye = Fixture.request(.bye)

    @Test func timerEDoublesUpToT2InTrying() {
        var (machine, actions) = ClientNonInviteTransaction.start(bye, reliable: false)
        #expect(actions == [.send(.request(bye)), .startTimer(.e, Fixture.t1), .startTimer(.f, Fixture.t1 * 64)])
        var waits: [Duration] = []
        for _ in 0..<5 {
            guard case .startTimer(.e, let wait) = machine.timerFired(.e).last else { Issue.record("no E"); return }
            waits.append(wait)
        }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(4)])
    }

    @Test func inProceedingTimerERetransmitsEveryT2() {
        var (machine, _) = ClientNonInviteTransaction.start(bye, reliable: false)
        _ = machine.receive(Fixture.response(100, to: bye))
        #expect(machine.timerFired(.e) == [.send(.request(bye)), .startTimer(.e, Fixture.timers.t2)])
    }

    @Test func aFinalResponseGoesToTheTUOnceAndTimerKAbsorbsTheRest() {
        var (machine, _) = ClientNonInviteTransaction.start(bye, reliable: false)
        let ok = Fixture.response(200, to: bye)
        #expect(machine.receive(ok) == [.cancelTimer(.e), .cancelTimer(.f), .deliver(.response(ok)), .startTimer(.k, Fixture.timers.t4)])
        #expect(machine.receive(ok) == [])
        #expect(machine.timerFired(.k) == [.terminated])
    }

    @Test func overTCPAFinalResponseEndsTheTransactionAtOnce() {
        var (machine, _) = ClientNonInviteTransaction.start(bye, reliable: true)
        let ok = Fixture.response(200, to: bye)
        #expect(machine.receive(ok) == [.cancelTimer(.e), .cancelTimer(.f), .deliver(.response(ok)), .terminated])
    }

    @Test func timerFInTryingOrProceedingIsATimeout() {
        var (machine, _) = ClientNonInviteTransaction.start(bye, reliable: false)
        _ = machine.receive(Fixture.response(100, to: bye))
        #expect(machine.timerFired(.f) == [.cancelTimer(.e), .timeout, .terminated])
    }
}

@Suite struct ServerInviteTransactionTranscripts {
    let invite = Fixture.request(.invite)

    @Test func aNewInviteGets100TryingAndGoesToTheTU() {
        let (machine, actions) = ServerInviteTransaction.start(invite, reliable: false)
        let trying = SIPResponse(answering: invite, status: 100)
        #expect(actions == [.send(.response(trying)), .deliver(.request(invite))])
        #expect(machine.state == .proceeding(lastProvisional: trying))
    }

    @Test func aRetransmittedInviteInProceedingGetsTheLastProvisionalAndNeverReachesTheTU() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: false)
        let ringing = Fixture.response(180, to: invite)
        #expect(machine.send(ringing) == [.send(.response(ringing))])
        #expect(machine.receive(invite) == [.send(.response(ringing))])
    }

    @Test func a300To699FromTheTUStartsTimersGAndHInCompleted() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: false)
        let busy = Fixture.response(486, to: invite)
        #expect(machine.send(busy) == [.send(.response(busy)), .startTimer(.g, Fixture.t1), .startTimer(.h, Fixture.t1 * 64)])
        #expect(machine.timerFired(.g) == [.send(.response(busy)), .startTimer(.g, Fixture.t1 * 2)])
        #expect(machine.receive(invite) == [.send(.response(busy))])
    }

    @Test func theACKInCompletedMovesToConfirmedAndTimerIEndsIt() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: false)
        _ = machine.send(Fixture.response(486, to: invite))
        let ack = Fixture.request(.ack)
        #expect(machine.receive(ack) == [.cancelTimer(.g), .cancelTimer(.h), .startTimer(.i, Fixture.timers.t4)])
        #expect(machine.state == .confirmed)
        #expect(machine.receive(ack) == [])
        #expect(machine.timerFired(.i) == [.terminated])
    }

    @Test func timerHWithoutAnACKIsATimeout() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: false)
        _ = machine.send(Fixture.response(486, to: invite))
        #expect(machine.timerFired(.h) == [.cancelTimer(.g), .timeout, .terminated])
    }

    @Test func a2xxFromTheTUMovesToAcceptedWhereRetransmittedInvitesAreAbsorbed() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: false)
        let ok = Fixture.response(200, to: invite)
        #expect(machine.send(ok) == [.send(.response(ok)), .startTimer(.l, Fixture.t1 * 64)])
        #expect(machine.receive(invite) == [])
        #expect(machine.send(ok) == [.send(.response(ok))])
        #expect(machine.timerFired(.l) == [.terminated])
    }

    @Test func overTCPTheACKEndsTheTransactionAtOnceAndNothingIsRetransmitted() {
        var (machine, _) = ServerInviteTransaction.start(invite, reliable: true)
        let busy = Fixture.response(486, to: invite)
        #expect(machine.send(busy) == [.send(.response(busy)), .startTimer(.h, Fixture.t1 * 64)])
        #expect(machine.receive(Fixture.request(.ack)) == [.cancelTimer(.g), .cancelTimer(.h), .terminated])
    }
}

@Suite struct ServerNonInviteTransactionTranscripts {
    let register = Fixture.request(.register)

    @Test func aRetransmissionInTryingIsAbsorbed() {
        var (machine, actions) = ServerNonInviteTransaction.start(register, reliable: false)
        #expect(actions == [.deliver(.request(register))])
        #expect(machine.receive(register) == [])
    }

    @Test func aRetransmissionInProceedingOrCompletedGetsTheLastResponse() {
        var (machine, _) = ServerNonInviteTransaction.start(register, reliable: false)
        let trying = Fixture.response(100, to: register)
        _ = machine.send(trying)
        #expect(machine.receive(register) == [.send(.response(trying))])
        let ok = Fixture.response(200, to: register)
        #expect(machine.send(ok) == [.send(.response(ok)), .startTimer(.j, Fixture.t1 * 64)])
        #expect(machine.receive(register) == [.send(.response(ok))])
        #expect(machine.send(Fixture.response(500, to: register)) == [])
        #expect(machine.timerFired(.j) == [.terminated])
    }

    @Test func overTCPTheFinalResponseEndsTheTransaction() {
        var (machine, _) = ServerNonInviteTransaction.start(register, reliable: true)
        let ok = Fixture.response(200, to: register)
        #expect(machine.send(ok) == [.send(.response(ok)), .terminated])
    }
}

@Suite struct TransactionLayerMatching {
    let peer = SIPPeer(.udp, host: "127.0.0.1", port: 5070)

    @Test func aRetransmittedRequestIsAbsorbedByItsTransactionAndTheTUSeesItOnce() {
        var layer = TransactionLayer()
        let register = Fixture.request(.register)
        let first = layer.receive(.request(register), from: peer)
        #expect(first.count == 1)
        guard case .request(_, let id, _) = first.first else { Issue.record("not delivered"); return }
        #expect(layer.receive(.request(register), from: peer) == [])
        let ok = Fixture.response(200, to: register)
        _ = layer.respond(ok, to: id)
        #expect(layer.receive(.request(register), from: peer) == [.send(.response(ok), to: peer)])
    }

    @Test func anACKForA2xxBelongsToNoTransactionAndGoesToTheTU() {
        var layer = TransactionLayer()
        let ack = Fixture.request(.ack, branch: "z9hG4bK-ack")
        #expect(layer.receive(.request(ack), from: peer) == [.ack(ack, from: peer)])
    }

    @Test func aCANCELHasItsOwnTransactionThatNamesTheINVITEs() {
        var layer = TransactionLayer()
        let invite = Fixture.request(.invite)
        _ = layer.receive(.request(invite), from: peer)
        let cancel = Fixture.request(.cancel)
        guard case .request(_, let id, _) = layer.receive(.request(cancel), from: peer).first else {
            Issue.record("CANCEL not delivered")
            return
        }
        #expect(id.method == .cancel)
        #expect(layer.isPending(id.cancelledInvite))
    }

    @Test func responsesGoToTheReceivedAddressAndTheRportPort() {
        var layer = TransactionLayer()
        var register = Fixture.request(.register)
        register.headers.set("Via", "SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-nat;rport")
        let natPeer = SIPPeer(.udp, host: "127.0.0.1", port: 40123)
        guard case .request(let stamped, let id, _) = layer.receive(.request(register), from: natPeer).first else {
            Issue.record("not delivered")
            return
        }
        #expect(stamped.topVia?.parameters["received"] == .some("127.0.0.1"))
        #expect(stamped.topVia?.parameters["rport"] == .some("40123"))
        let ok = SIPResponse(answering: stamped, status: 200, toTag: "x")
        #expect(layer.respond(ok, to: id) == [
            .send(.response(ok), to: natPeer),
            .startTimer(TransactionTimerID(transaction: .server(id), timer: .j), Fixture.t1 * 64),
        ])
    }

    @Test func aResponseNoTransactionWaitsForIsDropped() {
        var layer = TransactionLayer()
        #expect(layer.receive(.response(Fixture.response(200, to: Fixture.request(.bye))), from: peer) == [])
    }

    @Test func aClientTransactionEndsAndIsForgottenAfterTimerK() {
        var layer = TransactionLayer()
        let bye = Fixture.request(.bye)
        let (id, _) = layer.send(bye, to: peer)
        let ok = Fixture.response(200, to: bye)
        let outputs = layer.receive(.response(ok), from: peer)
        #expect(outputs.contains(.response(ok, id)))
        #expect(layer.transactionCount == 1)
        _ = layer.timerFired(TransactionTimerID(transaction: .client(id), timer: .k))
        #expect(layer.transactionCount == 0)
    }
}
