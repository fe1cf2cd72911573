import CallControl
import Cryptography
import Foundation
import Media
import SIP
import Testing

@testable import B2BUA

/// Our INVITE to an agent's phone (or an outside number), as transcripts.
@Suite struct OutboundLegTranscripts {
    let phone = SIPPeer(.udp, host: "192.0.2.20", port: 5070)
    let agent = Leg.agent("agent1")

    func ringing() -> (OutboundLeg, SIPRequest) {
        var (leg, start) = OutboundLeg.ring(
            agent, .init(uri: "sip:agent1@192.0.2.20:5070", peer: phone, caller: Caller(number: "+15550100", name: "Alice"), mediaKey: ourKey),
            context: context, ids: LegIdentifiers(prefix: "o"))
        #expect(lines(start) == ["open port"])
        let opened = leg.mediaPortOpened(20_002)
        #expect(lines(opened) == ["write down ringing", "send INVITE"])
        return (leg, opened.sent!)
    }

    /// A ring to a phone registered over TLS (its port not yet open).
    func ringingOverTLS() -> OutboundLeg {
        let tlsPhone = SIPPeer(.tls, host: "192.0.2.20", port: 40_100)
        return OutboundLeg.ring(
            agent, .init(uri: "sip:agent1@192.0.2.20:40100;transport=tls", peer: tlsPhone, caller: .withheld, mediaKey: ourKey),
            context: context, ids: LegIdentifiers(prefix: "o")).0
    }

    func answer(_ invite: SIPRequest, status: Int = 200) -> SIPResponse {
        var response = SIPResponse(answering: invite, status: status, toTag: "phone1")
        if status < 300, status >= 200 {
            response.headers.add("Contact", "<sip:agent1@192.0.2.20:5070>")
            response.body = Array(sdp(port: 41_000, address: "192.0.2.20").replacingOccurrences(of: "\n", with: "\r\n").utf8)
            response.headers.add("Content-Type", "application/sdp")
        }
        return response
    }

    @Test func aRingInvitesThePhoneWithTheCallersNameAndItsAnswerConnectsIt() {
        var (leg, invite) = ringing()
        #expect(invite.requestURI == "sip:agent1@192.0.2.20:5070")
        #expect(invite.headers["From"]?.hasPrefix("\"Alice\" <sip:+15550100@127.0.0.1>;tag=") == true)
        #expect(String(decoding: invite.body, as: UTF8.self).contains("m=audio 20002 RTP/AVP 0 8 101"))
        #expect(leg.response(answer(invite, status: 180)).isEmpty)
        let connected = leg.response(answer(invite))
        #expect(lines(connected) == [
            "send ACK", "route dialog", "media 192.0.2.20:41000 PCMU", "write down connected", "tell answered(agent:agent1)",
        ])
        #expect(connected.acknowledgement?.cseq?.number == 1)
        #expect(connected.acknowledgement?.requestURI == "sip:agent1@192.0.2.20:5070")
    }

    @Test(arguments: [(486, "busy"), (600, "busy"), (603, "declined"), (404, "unreachable"), (500, "unreachable")])
    func aFinalRefusalIsARingFailureOfItsKind(status: Int, failure: String) {
        var (leg, invite) = ringing()
        #expect(lines(leg.response(answer(invite, status: status))) == [
            "close port", "forget record", "tell ringFailed(agent:agent1, \(failure))", "ended",
        ])
    }

    @Test func aPhoneThatAnswersAfterTheRingTimedOutGetsABYE() {
        var (leg, invite) = ringing()
        _ = leg.response(answer(invite, status: 180))
        // Ring-no-answer: the center hangs the leg up while it rings.
        let hangUp = leg.hangUp()
        #expect(lines(hangUp) == ["send CANCEL", "close port", "forget record"])
        #expect(hangUp.sent?.topVia?.branch == invite.topVia?.branch, "the CANCEL has the INVITE's branch")
        // The phone picks up as the CANCEL crosses its 200: ACKed, then BYEd; the center hears nothing.
        let late = leg.response(answer(invite))
        #expect(lines(late) == ["send ACK", "send BYE", "ended"])
        #expect(late.sent?.to?.tag == "phone1")
    }

    @Test func aCancelWaitsForTheFirstProvisionalResponse() {
        var (leg, invite) = ringing()
        #expect(lines(leg.hangUp()) == ["close port", "forget record"], "no 1xx yet: no CANCEL (RFC 3261 §9.1)")
        #expect(lines(leg.response(answer(invite, status: 180))) == ["send CANCEL"])
        #expect(leg.response(answer(invite, status: 180)).isEmpty)
        #expect(lines(leg.response(answer(invite, status: 487))) == ["ended"])
    }

    @Test func a2xxRetransmittedAfterTheACKIsACKedAgain() {
        var (leg, invite) = ringing()
        let first = leg.response(answer(invite)).acknowledgement
        let again = leg.response(answer(invite))
        #expect(lines(again) == ["send ACK"])
        #expect(again.acknowledgement == first, "the same ACK")
    }

    @Test(arguments: [SIPMethod.invite])
    func aTimeoutOrATransportErrorWhileRingingIsUnreachable(method: SIPMethod) {
        var (leg, _) = ringing()
        #expect(lines(leg.transactionFailed(.bye)).isEmpty, "only the INVITE's failure counts")
        #expect(lines(leg.transactionFailed(method)) == [
            "close port", "forget record", "tell ringFailed(agent:agent1, unreachable)", "ended",
        ])
    }

    @Test func aBYEFromThePhoneIsItHangingUp() {
        var (leg, invite) = ringing()
        _ = leg.response(answer(invite))
        let dialog = leg.dialog!
        let bye = request("""
            BYE sip:switchboard@127.0.0.1:5060 SIP/2.0
            Via: SIP/2.0/UDP 192.0.2.20:5070;branch=z9hG4bKphonebye
            Max-Forwards: 70
            From: <sip:agent1@192.0.2.20:5070>;tag=phone1
            To: \(dialog.localAddress)
            Call-ID: \(dialog.callID)
            CSeq: 7 BYE
            Content-Length: 0


            """)
        #expect(lines(leg.bye(bye, serverID(bye))) == [
            "respond 200 to BYE", "close port", "forget record", "tell hungUp(agent:agent1)", "ended",
        ])
    }

    @Test func aHangUpWhileThePortOpensSendsNothingAndThePortClosesWhenItOpens() {
        var (leg, _) = OutboundLeg.ring(
            agent, .init(uri: "sip:agent1@192.0.2.20:5070", peer: phone, caller: .withheld, mediaKey: ourKey), context: context,
            ids: LegIdentifiers(prefix: "o"))
        #expect(lines(leg.hangUp()) == ["ended"])
        #expect(lines(leg.mediaPortOpened(20_002)) == ["close port"])
    }

    @Test func noFreeMediaPortIsAnUnreachableRing() {
        var (leg, _) = OutboundLeg.ring(
            .dialNumber("+442079460000"), .init(uri: "sip:+442079460000@192.0.2.30", peer: phone, caller: .withheld, mediaKey: ourKey),
            context: context, ids: LegIdentifiers(prefix: "o"))
        #expect(lines(leg.mediaPortRefused()) == ["tell ringFailed(number:+442079460000, unreachable)", "ended"])
    }

    @Test func aPhoneOverTLSIsOfferedKeysAndItsAnsweredKeyEncryptsTheLeg() {
        var leg = ringingOverTLS()
        let invite = leg.mediaPortOpened(20_002).sent!
        let offer = String(decoding: invite.body, as: UTF8.self)
        #expect(offer.contains("m=audio 20002 RTP/AVP 0 8 101"), "best effort: keys in RTP/AVP")
        #expect(offer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(ourKey.concatenated))"))
        #expect(invite.headers["Via"]?.hasPrefix("SIP/2.0/TLS 127.0.0.1:5061;") == true)
        #expect(invite.headers["Contact"] == "<sip:switchboard@127.0.0.1:5061;transport=tls>")
        var answer = SIPResponse(answering: invite, status: 200, toTag: "phone1")
        answer.headers.add("Contact", "<sip:agent1@192.0.2.20:40100;transport=tls>")
        answer.body = Array((sdp(port: 41_000, address: "192.0.2.20")
            + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(theirKey.concatenated))\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let connected = leg.response(answer)
        let media = connected.compactMap { if case .describeMedia(let media) = $0 { media } else { nil } }.first
        #expect(media?.keys == MediaKeys(suite: "AES_CM_128_HMAC_SHA1_80", local: ourKey.concatenated, remote: theirKey.concatenated))
    }

    @Test func aPhoneOverUDPIsOfferedNoKeys() {
        let (_, invite) = ringing()
        #expect(!String(decoding: invite.body, as: UTF8.self).contains("a=crypto"))
    }

    @Test func aPhoneThatInsistsOnRTPSAVPRefusesTheBestEffortOfferAndGetsItAgainAsRTPSAVP() {
        var leg = ringingOverTLS()
        let first = leg.mediaPortOpened(20_002).sent!
        let retry = leg.response(SIPResponse(answering: first, status: 488, toTag: "phone1"))
        #expect(lines(retry) == ["write down ringing", "send INVITE"])
        let again = retry.sent!
        #expect(again.cseq?.number == 2 && again.callID == first.callID && again.topVia?.branch != first.topVia?.branch)
        #expect(String(decoding: again.body, as: UTF8.self).contains("m=audio 20002 RTP/SAVP 0 8 101"))
        // A second refusal is final.
        #expect(lines(leg.response(SIPResponse(answering: again, status: 488, toTag: "phone1"))).contains(
            "tell ringFailed(agent:agent1, unreachable)"))
    }
}
