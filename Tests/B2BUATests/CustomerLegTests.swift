import CallControl
import Cryptography
import Foundation
import Media
import SIP
import Testing

@testable import B2BUA

/// A caller's leg, message by message, as transcripts: each step's actions in order.
@Suite struct CustomerLegTranscripts {
    let now = Timestamp(milliseconds: 1_000_000)

    func invited(_ invite: SIPRequest = callerInvite(), peer: SIPPeer = udpPeer, srtp: SRTPPolicy = .optional) -> (CustomerLeg, [LegAction]) {
        let offer = try? SessionDescription(parsing: invite.body)
        let invitation = CustomerLeg.Invitation(
            request: invite, transaction: serverID(invite), peer: peer, localTag: "us1", offer: invite.body.isEmpty ? nil : offer,
            caller: Caller(number: "+15550100", name: "Alice"), srtp: srtp, mediaKey: ourKey)
        return CustomerLeg.invited(invitation, context: context, ids: LegIdentifiers(prefix: "t"))
    }

    /// Queued and answered (200 sent, not yet ACKed).
    func answered(peer: SIPPeer = udpPeer) -> CustomerLeg {
        var (leg, _) = invited(peer: peer)
        _ = leg.mediaPortOpened(20_000)
        _ = leg.answer(now: now)
        return leg
    }

    @Test func anInviteOpensAPortThenReachesItsQueueIsAnsweredWithThatPortAndTheACKEndsTheRetransmissions() {
        var (leg, start) = invited()
        #expect(lines(start) == ["open port"])
        #expect(lines(leg.mediaPortOpened(20_000)) == [
            "media 192.0.2.10:40000 PCMU", "write down waiting", "tell arrival from Alice (+15550100)",
        ])
        let answer = leg.answer(now: now)
        #expect(lines(answer) == ["route dialog", "write down connected", "respond 200 to INVITE", "arm answerRetransmit 500ms"])
        let ok = answer.response!
        #expect(ok.to?.tag == "us1")
        #expect(ok.headers["Contact"] == "<sip:switchboard@127.0.0.1:5060>")
        #expect(String(decoding: ok.body, as: UTF8.self).contains("m=audio 20000 RTP/AVP 0 101"))
        #expect(lines(leg.acknowledged(inDialog("ACK", cseq: 1))) == ["cancel answerRetransmit"])
        #expect(leg.dialog?.remoteTag == "alice")
    }

    @Test func aCancelWhileThePortOpensEndsTheCallAndQueuesNothing() {
        var (leg, _) = invited()
        let cancel = callerCancel()
        let actions = leg.cancel(cancel, serverID(cancel))
        #expect(lines(actions) == ["respond 200 to CANCEL", "respond 487 to INVITE", "ended"])
        #expect(!lines(actions).contains { $0.hasPrefix("tell") }, "the center never hears of it")
        // The port it asked for arrives afterwards: straight back.
        #expect(lines(leg.mediaPortOpened(20_000)) == ["close port"])
    }

    @Test func aCancelWhileQueuedIs487AndTheCustomerHungUp() {
        var (leg, _) = invited()
        _ = leg.mediaPortOpened(20_000)
        let cancel = callerCancel()
        #expect(lines(leg.cancel(cancel, serverID(cancel))) == [
            "respond 200 to CANCEL", "respond 487 to INVITE", "close port", "forget record", "tell hungUp(customer)", "ended",
        ])
    }

    @Test func noFreeMediaPortIs503WithRetryAfter() {
        var (leg, _) = invited()
        let actions = leg.mediaPortRefused()
        #expect(lines(actions) == ["respond 503 to INVITE", "ended"])
        #expect(actions.response?.headers["Retry-After"] == "10")
    }

    @Test func theCentersRefusalIsItsStatusAndNothingStays() {
        var (leg, _) = invited()
        _ = leg.mediaPortOpened(20_000)
        let actions = leg.arrivalRefused(status: 480, reason: "Temporarily Unavailable (draining)")
        #expect(lines(actions) == ["respond 480 to INVITE", "close port", "forget record", "ended"])
        #expect(actions.response?.reason == "Temporarily Unavailable (draining)")
    }

    @Test func theOKIsSentAgainAtT1DoublingToT2AndWithoutAnACKIn64T1TheCallEndsWithABYE() {
        var leg = answered()
        var at = now, intervals: [Int64] = []
        while true {
            let step = leg.timerFired(.answerRetransmit, now: at)
            if let arm = step.compactMap({ if case .armTimer(_, let after) = $0 { after } else { nil } }).first {
                #expect(lines(step).first == "respond 200 to INVITE")
                intervals.append(arm.milliseconds)
                at = at.adding(milliseconds: arm.milliseconds)
                continue
            }
            #expect(lines(step) == ["send BYE", "close port", "forget record", "tell hungUp(customer)", "ended"])
            break
        }
        #expect(intervals.prefix(4) == [1_000, 2_000, 4_000, 4_000])
        #expect(at.milliseconds - now.milliseconds >= 32_000)
    }

    @Test func overTCPTheOKIsNotSentAgainButAMissingACKStillEndsTheCallAfter64T1() {
        var (leg, _) = invited(callerInvite(transport: "TCP"), peer: tcpPeer)
        _ = leg.mediaPortOpened(20_000)
        #expect(lines(leg.answer(now: now)).last == "arm answerRetransmit 32000ms")
        #expect(lines(leg.timerFired(.answerRetransmit, now: now.adding(milliseconds: 32_000))).first == "send BYE")
    }

    @Test func aBYECrossingAReINVITEEndsTheCallAndTheLateACKFindsNothing() {
        var leg = answered()
        _ = leg.acknowledged(inDialog("ACK", cseq: 1))
        let hold = inDialog("INVITE", cseq: 2, body: sdp(port: 40_002).replacingOccurrences(of: "a=rtpmap", with: "a=sendonly\na=rtpmap"))
        let reinvite = leg.reoffer(hold, serverID(hold))
        #expect(lines(reinvite) == ["respond 200 to INVITE", "media 192.0.2.10:40002 PCMU", "write down connected"])
        #expect(String(decoding: reinvite.response!.body, as: UTF8.self).contains("a=recvonly"), "hold answered")
        let bye = inDialog("BYE", cseq: 3)
        #expect(lines(leg.bye(bye, serverID(bye))) == [
            "respond 200 to BYE", "close port", "forget record", "tell hungUp(customer)", "ended",
        ])
        #expect(leg.acknowledged(inDialog("ACK", cseq: 2)).isEmpty)
    }

    @Test func aLateOffersAnswerComesInTheACK() {
        var (leg, _) = invited(callerInvite(offer: false))
        #expect(lines(leg.mediaPortOpened(20_000)) == ["write down waiting", "tell arrival from Alice (+15550100)"])
        let ok = leg.answer(now: now).response!
        #expect(String(decoding: ok.body, as: UTF8.self).contains("m=audio 20000 RTP/AVP 0 8 101"), "our 200 makes the offer")
        #expect(lines(leg.acknowledged(inDialog("ACK", cseq: 1, body: sdp(port: 40_004)))) == [
            "cancel answerRetransmit", "media 192.0.2.10:40004 PCMU", "write down connected",
        ])
    }

    @Test func theCentersHangUpIs480BeforeTheAnswerAndABYEAfter() {
        var (waiting, _) = invited()
        _ = waiting.mediaPortOpened(20_000)
        #expect(lines(waiting.hangUp()) == ["respond 480 to INVITE", "close port", "forget record", "ended"])
        var up = answered()
        _ = up.acknowledged(inDialog("ACK", cseq: 1))
        let bye = up.hangUp()
        #expect(lines(bye) == ["send BYE", "close port", "forget record", "ended"])
        #expect(bye.sent?.to?.tag == "alice" && bye.sent?.cseq?.number == 1 && bye.sent?.requestURI == "sip:+15550100@192.0.2.10:5062")
    }

    @Test func aCancelAfterTheOKChangesNothingButIsAnswered() {
        var leg = answered()
        let cancel = callerCancel()
        #expect(lines(leg.cancel(cancel, serverID(cancel))) == ["respond 200 to CANCEL"])
        #expect(!leg.isEnded)
    }

    @Test func aReOfferOfAnotherAddressFamilyIs488AndTheMediaStays() {
        var leg = answered()
        let moved = inDialog("UPDATE", cseq: 2, body: sdp(port: 40_006, address: "2001:db8::1", family: "IP6"))
        let actions = leg.reoffer(moved, serverID(moved))
        #expect(lines(actions) == ["respond 488 to UPDATE"])
    }

    @Test func anSRTPOfferOverTLSIsAnsweredWithOurKeyUnderItsTagAndTheMediaIsEncrypted() {
        let tlsPeer = SIPPeer(.tls, host: "192.0.2.10", port: 40_002)
        let offer = sdp(port: 40_000).replacingOccurrences(of: "RTP/AVP", with: "RTP/SAVP")
            + "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(theirKey.concatenated))|2^31\n"
        var (leg, _) = invited(callerInvite(sdp: offer, transport: "TLS"), peer: tlsPeer)
        let opened = leg.mediaPortOpened(20_000)
        guard case .describeMedia(let media) = opened.first else { Issue.record("no media: \(lines(opened))"); return }
        #expect(media.keys == MediaKeys(suite: "AES_CM_128_HMAC_SHA1_80", local: ourKey.concatenated, remote: theirKey.concatenated))
        let answer = String(decoding: leg.answer(now: now).response!.body, as: UTF8.self)
        #expect(answer.contains("m=audio 20000 RTP/SAVP 0 101"))
        #expect(answer.contains("a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(ourKey.concatenated))"))
    }

    @Test func keysOfferedOverUDPAreNeverAnsweredAndAnOfferThatInsistsIsRefused() {
        let bestEffort = sdp(port: 40_000) + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(Base64.encode(theirKey.concatenated))\n"
        var (plain, _) = invited(callerInvite(sdp: bestEffort))
        guard case .describeMedia(let media) = plain.mediaPortOpened(20_000).first else { Issue.record("no media"); return }
        #expect(media.keys == nil)
        #expect(!String(decoding: plain.answer(now: now).response!.body, as: UTF8.self).contains("a=crypto"), "no key in the clear")
        var (insisting, _) = invited(callerInvite(sdp: bestEffort.replacingOccurrences(of: "RTP/AVP", with: "RTP/SAVP")))
        #expect(lines(insisting.mediaPortOpened(20_000)) == ["respond 488 to INVITE", "close port", "ended"])
    }
}
