import Cryptography
import Testing
@testable import WebRTC

/// A browser's offer read, and our answer written, by the rules of JSEP and ICE-lite.
@Suite struct Offers {
    /// Shaped like Chromium's audio-only offer (with a data channel section added): Opus first,
    /// G.711 further down, header extensions, session-level and section-level attributes.
    static let chromiumLike = """
        v=0\r
        o=- 4611731400430051336 2 IN IP4 127.0.0.1\r
        s=-\r
        t=0 0\r
        a=group:BUNDLE 0 1\r
        a=extmap-allow-mixed\r
        a=msid-semantic: WMS\r
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r
        c=IN IP4 0.0.0.0\r
        a=rtcp:9 IN IP4 0.0.0.0\r
        a=ice-ufrag:Kq3v\r
        a=ice-pwd:O9pE3n0cKQv7X4aJj1T3Yb2z\r
        a=ice-options:trickle\r
        a=fingerprint:sha-256 0F:2C:7A:61:3A:6B:9D:39:2E:2D:4C:D0:5B:1E:8B:05:92:A6:DB:5A:6F:8E:2C:41:56:9D:86:0D:0A:8C:3E:11\r
        a=setup:actpass\r
        a=mid:0\r
        a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r
        a=sendrecv\r
        a=msid:- 7c1f0b0c-5c7b-4d3b-9b0e-3d6a1c2f4e5a\r
        a=rtcp-mux\r
        a=rtcp-rsize\r
        a=rtpmap:111 opus/48000/2\r
        a=rtcp-fb:111 transport-cc\r
        a=fmtp:111 minptime=10;useinbandfec=1\r
        a=rtpmap:63 red/48000/2\r
        a=rtpmap:9 G722/8000\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:13 CN/8000\r
        a=rtpmap:110 telephone-event/48000\r
        a=rtpmap:126 telephone-event/8000\r
        a=ssrc:3054316370 cname:QvLx\r
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r
        c=IN IP4 0.0.0.0\r
        a=ice-ufrag:Kq3v\r
        a=ice-pwd:O9pE3n0cKQv7X4aJj1T3Yb2z\r
        a=mid:1\r
        a=sctp-port:5000\r

        """

    @Test func aChromiumOfferGivesPCMUTelephoneEventAndItsCredentials() throws {
        let offer = try WebRTCOffer(parsing: Self.chromiumLike)
        #expect(offer.law == .pcmu && offer.lawPayloadType == 0)
        #expect(offer.eventPayloadType == 126)  // the 8 kHz one, not the 48 kHz one
        #expect(offer.iceUfrag == "Kq3v" && offer.icePassword == "O9pE3n0cKQv7X4aJj1T3Yb2z")
        #expect(offer.fingerprints.first?.function == .sha256)
        #expect(offer.fingerprints.first?.digest.count == 32)
        #expect(offer.audioIndex == 0 && offer.sections.count == 2)
        #expect(offer.direction == "sendrecv")
    }

    @Test func theAnswerIsLiteAndPassiveWithOneCandidateAndDeclinesTheDataChannel() throws {
        let offer = try WebRTCOffer(parsing: Self.chromiumLike)
        let answer = WebRTCAnswer(
            offer: offer, sessionID: 7, addresses: ["127.0.0.1"], port: 10_000, iceUfrag: "abcd", icePassword: "0123456789abcdefghijklmn",
            fingerprint: "AA:BB").text
        let lines = answer.split(separator: "\r\n").map(String.init)
        #expect(lines.contains("a=ice-lite"))
        #expect(lines.contains("a=group:BUNDLE 0"))
        #expect(lines.contains("m=audio 10000 UDP/TLS/RTP/SAVPF 0 126"))
        #expect(lines.contains("a=setup:passive"))
        #expect(lines.contains("a=rtcp-mux"))
        #expect(lines.contains("a=fingerprint:sha-256 AA:BB"))
        #expect(lines.contains("a=candidate:1 1 udp 2130706431 127.0.0.1 10000 typ host"))
        #expect(lines.contains("m=application 0 UDP/DTLS/SCTP webrtc-datachannel"))
        #expect(!lines.contains { $0.contains("opus") })
        // Read back by our own parser's rules: one audio section with a port, in the offer's order.
        #expect(lines.filter { $0.hasPrefix("m=") }.count == 2)
        #expect(answer.hasSuffix("\r\n"))
    }

    @Test func aSendOnlyBrowserGetsARecvOnlyAnswer() throws {
        let offer = try WebRTCOffer(parsing: Self.chromiumLike.replacingOccurrences("a=sendrecv", "a=sendonly"))
        let answer = WebRTCAnswer(offer: offer, sessionID: 1, addresses: ["::1"], port: 10_002, iceUfrag: "u", icePassword: "p", fingerprint: "F")
        #expect(answer.text.contains("a=recvonly\r\n"))
        #expect(answer.text.contains("c=IN IP6 ::1\r\n"))
    }

    @Test(arguments: [
        ("hello", WebRTCOffer.Refusal.malformed("it does not start with v=0")),
        ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", .noAudio),
        ("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", .notDTLSSRTP),
    ])
    func offersThatAreNotWebRTCAudioAreRefusedWithAReason(text: String, refusal: WebRTCOffer.Refusal) {
        #expect(throws: refusal) { try WebRTCOffer(parsing: text) }
    }

    @Test func anOfferWithOnlyOpusHasNoCommonCodec() {
        let text = Self.chromiumLike.replacingOccurrences("111 63 9 0 8 13 110 126", "111")
            .replacingOccurrences("a=rtpmap:0 PCMU/8000\r\n", "").replacingOccurrences("a=rtpmap:8 PCMA/8000\r\n", "")
        #expect(throws: WebRTCOffer.Refusal.noCommonCodec) { try WebRTCOffer(parsing: text) }
    }

    @Test func aPassiveOfferIsRefusedBecauseTheServerIsTheDTLSServer() {
        #expect(throws: WebRTCOffer.Refusal.setupNotAllowed("passive")) {
            try WebRTCOffer(parsing: Self.chromiumLike.replacingOccurrences("a=setup:actpass", "a=setup:passive"))
        }
    }

    @Test func anOfferWithoutFingerprintIceOrRtcpMuxIsRefused() {
        let noFingerprint = Self.chromiumLike.split(separator: "\r\n").filter { !$0.hasPrefix("a=fingerprint") }.joined(separator: "\r\n")
        #expect(throws: WebRTCOffer.Refusal.missingFingerprint) { try WebRTCOffer(parsing: noFingerprint) }
        let noPassword = Self.chromiumLike.split(separator: "\r\n").filter { !$0.hasPrefix("a=ice-pwd") }.joined(separator: "\r\n")
        #expect(throws: WebRTCOffer.Refusal.missingICECredentials) { try WebRTCOffer(parsing: noPassword) }
        let noMux = Self.chromiumLike.replacingOccurrences("a=rtcp-mux\r\n", "")
        #expect(throws: WebRTCOffer.Refusal.noRTCPMux) { try WebRTCOffer(parsing: noMux) }
        let lite = Self.chromiumLike.replacingOccurrences("t=0 0\r\n", "t=0 0\r\na=ice-lite\r\n")
        #expect(throws: WebRTCOffer.Refusal.peerIsICELite) { try WebRTCOffer(parsing: lite) }
    }

    @Test func anOversizedOfferIsRefusedBeforeItIsRead() {
        let huge = Self.chromiumLike + String(repeating: "a=x-padding:0123456789\r\n", count: 2_000)
        #expect(throws: WebRTCOffer.Refusal.self) { try WebRTCOffer(parsing: huge) }
    }

    @Test func aFingerprintMatchesTheCertificateItNames() throws {
        let certificate = try SelfSignedCertificate.make(commonName: "x", names: [])
        let der = try #require(certificateDER(certificate.certificatePEM))
        let fingerprint = try #require(WebRTCOffer.fingerprint("sha-256 " + certificate.fingerprint))
        #expect(fingerprint.matches(certificate: der))
        var wrong = fingerprint
        wrong.digest[0] ^= 1
        #expect(!wrong.matches(certificate: der))
    }

    /// The DER inside a PEM certificate.
    func certificateDER(_ pem: String) -> [UInt8]? {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Base64.decode(body)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
