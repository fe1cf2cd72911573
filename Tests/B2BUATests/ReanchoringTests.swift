import CallControl
import Foundation
import Media
import SIP
import Testing

@testable import B2BUA

/// Legs taken over from another node (docs/ha.md): carried on with a port of this node's, then a
/// re-INVITE moves the phone's media and requests here; a refusal or silence ends the leg cleanly.
@Suite struct ReanchoringTranscripts {
    /// The node taking over: another address than `context`'s, the one that made the dialogs.
    let here = LegContext(host: "127.0.0.2", port: 5080)
    let phone = SIPPeer(.udp, host: "192.0.2.20", port: 5070)
    let agent = Leg.agent("agent1")

    /// An agent's leg connected on the first node, as it wrote it down, carried on here with port 30000.
    func movedAgentLeg() -> (OutboundLeg, original: SIPRequest) {
        var (leg, _) = OutboundLeg.ring(
            agent, .init(uri: "sip:agent1@192.0.2.20:5070", peer: phone, caller: Caller(number: "+15550100"), mediaKey: ourKey),
            context: context, ids: LegIdentifiers(prefix: "o"))
        let invite = leg.mediaPortOpened(20_002).sent!
        _ = leg.response(phoneAnswer(invite, port: 41_000))
        let record = leg.record!
        let moved = OutboundLeg.carriedOn(
            agent, invite: record.invite, dialog: record.dialog!, port: 30_000, media: record.media, origin: record.origin, context: here,
            ids: LegIdentifiers(prefix: "n"))
        return (moved, invite)
    }

    /// A caller's leg answered and acknowledged on the first node, carried on here with port 30000.
    func movedCustomerLeg() -> CustomerLeg {
        let invite = callerInvite()
        let invitation = CustomerLeg.Invitation(
            request: invite, transaction: serverID(invite), peer: udpPeer, localTag: "us1", offer: try? SessionDescription(parsing: invite.body),
            caller: Caller(number: "+15550100"), mediaKey: ourKey)
        var (leg, _) = CustomerLeg.invited(invitation, context: context, ids: LegIdentifiers(prefix: "t"))
        _ = leg.mediaPortOpened(20_000)
        _ = leg.answer(now: Timestamp(milliseconds: 0))
        _ = leg.acknowledged(inDialog("ACK", cseq: 1))
        let record = leg.record!
        return CustomerLeg.carriedOn(
            invite: record.invite, dialog: record.dialog!, port: 30_000, media: record.media, origin: record.origin, context: here,
            ids: LegIdentifiers(prefix: "n"))!
    }

    func phoneAnswer(_ request: SIPRequest, port: Int, status: Int = 200, host: String = "192.0.2.20") -> SIPResponse {
        var response = SIPResponse(answering: request, status: status, toTag: request.to?.tag ?? "phone1")
        guard status >= 200, status < 300 else { return response }
        response.headers.add("Contact", "<sip:agent1@\(host):5070>")
        response.body = Array(sdp(port: port, address: host).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        response.headers.add("Content-Type", "application/sdp")
        return response
    }

    @Test func aMovedAgentLegReinvitesThePhoneWithThisNodesPortAndContactInTheSameDialog() {
        var (leg, original) = movedAgentLeg()
        let actions = leg.reanchor()
        #expect(lines(actions) == ["send INVITE", "write down connected"])
        let reinvite = actions.sent!
        #expect(reinvite.requestURI == "sip:agent1@192.0.2.20:5070", "to the phone's Contact")
        #expect(reinvite.callID == original.callID && reinvite.from?.tag == original.from?.tag && reinvite.to?.tag == "phone1")
        #expect(reinvite.cseq?.number == 102, "well above the CSeq the first node wrote down (its INVITE's 1)")
        #expect(reinvite.headers["Contact"] == "<sip:switchboard@127.0.0.2:5080>")
        #expect(reinvite.topVia?.host == "127.0.0.2")
        let body = String(decoding: reinvite.body, as: UTF8.self)
        #expect(body.contains("c=IN IP4 127.0.0.2") && body.contains("m=audio 30000 RTP/AVP 0 101"), "only the law already agreed")
        if case .writeDown(let record) = actions[1] {
            #expect(record?.mediaPort == 30_000 && record?.dialog?.localCSeq == 102, "written down as this node's now")
        }
    }

    /// The `o=` line's session ID and version of an SDP body.
    func origin(_ body: [UInt8]) -> (UInt64, UInt64)? {
        (try? SessionDescription(parsing: body)).map { ($0.sessionID, $0.version) }
    }

    @Test func theMovedLegsOfferGoesOnFromTheFirstNodesSDPOrigin() throws {
        var (leg, original) = movedAgentLeg()
        let (session, version) = try #require(origin(original.body))
        let reinvite = leg.reanchor().sent!
        #expect(origin(reinvite.body)! == (session, version + 1), "the same session, its next version (RFC 3264 §8)")

        var caller = movedCustomerLeg()
        let answered = try #require(caller.record?.origin)
        #expect(origin(caller.reanchor().sent!.body)! == (answered.sessionID, answered.version + 1))
    }

    @Test func everyAnswerToAReofferGoesOnFromTheLegsOrigin() throws {
        var (leg, original) = movedAgentLeg()
        let (session, version) = try #require(origin(original.body))
        // The phone puts the call on hold (a re-INVITE, sendonly), then takes it off.
        for step in 1...2 {
            let held = request(withBody("""
                INVITE sip:switchboard@127.0.0.1:5060 SIP/2.0
                Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKhold\(step)
                Max-Forwards: 70
                From: <sip:agent1@192.0.2.20:5070>;tag=phone1
                To: \(original.headers["From"]!)
                Call-ID: \(original.callID!)
                CSeq: \(step + 1) INVITE

                """, sdp(port: 41_000, address: "192.0.2.20")))
            let answer = leg.reoffer(held, serverID(held))
            #expect(origin(answer.response!.body)! == (session, version + UInt64(step)))
            #expect(lines(answer).last == "write down connected", "written down with its origin")
        }
        #expect(leg.record?.origin == SDPOrigin(sessionID: session, version: version + 2))
    }

    @Test func thePhonesAnswerIsAcknowledgedAndItsMediaAddressFollowed() {
        var (leg, _) = movedAgentLeg()
        let reinvite = leg.reanchor().sent!
        #expect(leg.response(phoneAnswer(reinvite, port: 0, status: 100)).isEmpty)
        let answered = leg.response(phoneAnswer(reinvite, port: 41_002, host: "192.0.2.21"))
        #expect(lines(answered) == ["send ACK", "media 192.0.2.21:41002 PCMU", "write down connected"])
        #expect(answered.acknowledgement?.cseq?.number == 102 && answered.acknowledgement?.cseq?.method == .ack)
        #expect(answered.acknowledgement?.requestURI == "sip:agent1@192.0.2.21:5070", "the 2xx's Contact is the new target")
        // The 2xx again (our ACK lost): the same ACK again; later requests go to the refreshed target.
        #expect(leg.response(phoneAnswer(reinvite, port: 41_002, host: "192.0.2.21")).acknowledgement == answered.acknowledgement)
        #expect(leg.hangUp().sent?.requestURI == "sip:agent1@192.0.2.21:5070")
    }

    @Test(arguments: [(488, true), (500, true), (481, false)])
    func aPhoneThatRefusesTheMoveIsHungUpAndTheCenterHearsIt(status: Int, bye: Bool) {
        var (leg, _) = movedAgentLeg()
        let reinvite = leg.reanchor().sent!
        let refused = leg.response(phoneAnswer(reinvite, port: 0, status: status))
        #expect(lines(refused) == (bye ? ["send BYE"] : []) + ["close port", "forget record", "tell hungUp(agent:agent1)", "ended"])
        #expect(leg.isEnded)
    }

    @Test func aPhoneSilentToTheMoveIsHungUp() {
        var (leg, _) = movedAgentLeg()
        _ = leg.reanchor()
        #expect(lines(leg.transactionFailed(.invite)) == ["close port", "forget record", "tell hungUp(agent:agent1)", "ended"])
    }

    @Test func aMovedCallersLegGoesThroughTheRecordedRouteAndFollowsTheAnswer() {
        var leg = movedCustomerLeg()
        let actions = leg.reanchor()
        #expect(lines(actions) == ["send INVITE", "write down connected"])
        let reinvite = actions.sent!
        #expect(reinvite.requestURI == "sip:+15550100@192.0.2.10:5062")
        #expect(reinvite.from?.tag == "us1" && reinvite.to?.tag == "alice" && reinvite.cseq?.number == 101)
        #expect(String(decoding: reinvite.body, as: UTF8.self).contains("m=audio 30000 RTP/AVP 0 101"))
        let answered = leg.response(phoneAnswer(reinvite, port: 40_002, host: "192.0.2.10"))
        #expect(lines(answered) == ["send ACK", "media 192.0.2.10:40002 PCMU", "write down connected"])
        // A BYE's response is nobody's business; the caller hangs up as ever.
        let bye = inDialog("BYE", cseq: 2)
        #expect(lines(leg.bye(bye, serverID(bye))) == ["respond 200 to BYE", "close port", "forget record", "tell hungUp(customer)", "ended"])
    }

    @Test func aCallerWhoRefusesOrIgnoresTheMoveIsHungUp() {
        var refusing = movedCustomerLeg()
        let reinvite = refusing.reanchor().sent!
        #expect(lines(refusing.response(phoneAnswer(reinvite, port: 0, status: 488))) == [
            "send BYE", "close port", "forget record", "tell hungUp(customer)", "ended",
        ])
        var silent = movedCustomerLeg()
        _ = silent.reanchor()
        #expect(lines(silent.transactionFailed(.invite)) == ["close port", "forget record", "tell hungUp(customer)", "ended"])
    }

    @Test func aLegThatWasNotMovedIgnoresResponsesToItsOtherRequests() {
        var leg = movedCustomerLeg()
        var ok = SIPResponse(answering: inDialog("INVITE", cseq: 7), status: 200)
        ok.headers.set("CSeq", "7 INVITE")
        #expect(leg.response(ok).isEmpty)
        #expect(leg.transactionFailed(.invite).isEmpty)
    }
}
