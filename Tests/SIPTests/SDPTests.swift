import Testing

@testable import SIP

@Suite struct OfferAnswer {
    let offer = [
        "v=0", "o=alice 2890844526 2890844526 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0",
        "m=audio 49170 RTP/AVP 8 0 97 101", "a=rtpmap:97 iLBC/8000", "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15", "a=sendonly",
    ].joined(separator: "\r\n") + "\r\n"

    @Test func anOfferIsReadForItsAddressPortAndCodecs() throws {
        let parsed = try SessionDescription(parsing: Array(offer.utf8))
        #expect(parsed.address == "192.0.2.10")
        #expect(parsed.port == 49170)
        #expect(parsed.codecs.map(\.encoding) == ["PCMA/8000", "PCMU/8000", "iLBC/8000", "telephone-event/8000"])
        #expect(parsed.direction == .sendonly)
    }

    @Test func theAnswerKeepsTheOffersOrderAndTypesPointsAtTheServerAndMirrorsTheDirection() throws {
        let parsed = try SessionDescription(parsing: Array(offer.utf8))
        let answer = try #require(SessionDescription.answer(to: parsed, address: "127.0.0.1", port: 20_002, sessionID: 7))
        #expect(answer.codecs.map(\.payloadType) == [8, 0, 101])
        #expect(answer.direction == .recvonly)
        let text = answer.text
        #expect(text.contains("c=IN IP4 127.0.0.1\r\n"))
        #expect(text.contains("m=audio 20002 RTP/AVP 8 0 101\r\n"))
        #expect(try SessionDescription(parsing: answer.bytes) == answer)
    }

    @Test func anOfferWithoutPCMUOrPCMAHasNoAnswer() throws {
        let g729 = offer.replacingAll("RTP/AVP 8 0 97 101", with: "RTP/AVP 18 101")
        let parsed = try SessionDescription(parsing: Array(g729.utf8))
        #expect(SessionDescription.answer(to: parsed, address: "127.0.0.1", port: 20_000, sessionID: 1) == nil)
    }

    @Test func aBodyThatIsNotSDPIsRefused() {
        #expect(throws: SessionDescription.ParseError.self) { try SessionDescription(parsing: Array("hello".utf8)) }
        #expect(throws: SessionDescription.ParseError.noAudio) {
            try SessionDescription(parsing: Array("v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 31\r\n".utf8))
        }
    }

    @Test func onlyTheTelephoneEventAtTheAudiosClockIsAnswered() throws {
        let offer = [
            "v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "c=IN IP4 192.0.2.10", "t=0 0", "m=audio 4000 RTP/AVP 0 101 102 103",
            "a=rtpmap:101 telephone-event/48000", "a=rtpmap:102 telephone-event/16000", "a=rtpmap:103 telephone-event/8000",
        ].joined(separator: "\r\n") + "\r\n"
        let parsed = try SessionDescription(parsing: Array(offer.utf8))
        let answer = try #require(SessionDescription.answer(to: parsed, address: "127.0.0.1", port: 20_000, sessionID: 1))
        #expect(answer.codecs.map(\.encoding) == ["PCMU/8000", "telephone-event/8000"])
        #expect(answer.codecs.map(\.payloadType) == [0, 103])
    }

    @Test func anOfferOfAnotherAddressFamilyIsRefusedForItsFamily() throws {
        let offer = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
        let parsed = try SessionDescription(parsing: Array(offer.utf8))
        #expect(SessionDescription.negotiate(parsed, address: "127.0.0.1", port: 20_000, sessionID: 1) == .failure(.addressFamily))
        #expect(SessionDescription.answer(to: parsed, address: "::1", port: 20_000, sessionID: 1) != nil, "IPv6 media answers IPv6")
    }
}
