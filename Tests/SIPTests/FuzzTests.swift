import Testing
import TestSupport

@testable import SIP

@Suite struct ParserFuzzing {
    /// Valid messages to start from: requests and responses of every kind the server meets.
    static var seeds: [[UInt8]] {
        let invite = sipBytes(basicInvite, body: "v=0\n")
        let register = Fixture.request(.register)
        var withAuth = register
        withAuth.headers.add(
            "Authorization", "Digest username=\"agent1\", realm=\"switchboard\", nonce=\"1.ab\", uri=\"sip:x\", response=\"00\"")
        withAuth.headers.add("Contact", "\"Agent, One\" <sip:agent1@[::1]:5070;transport=tcp>;expires=60, <sip:a@b>")
        let ok = SIPResponse(answering: Fixture.request(.invite), status: 200, toTag: "t")
        return [invite, register.serialized(), withAuth.serialized(), ok.serialized()]
    }

    static let alphabet = Array(" \t\r\n:;,=<>\"\\@%/[]?.0123456789zZ~\u{0}\u{ff}".utf8)

    static func mutate(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var out = bytes
        for _ in 0...Int.random(in: 0...3, using: &random) {
            guard !out.isEmpty else { break }
            let at = Int.random(in: 0..<out.count, using: &random)
            switch Int.random(in: 0...7, using: &random) {
            case 0: out[at] = UInt8.random(in: 0...255, using: &random)
            case 1: out.insert(alphabet.randomElement(using: &random)!, at: at)
            case 2: out.removeSubrange(at..<min(out.count, at + Int.random(in: 1...16, using: &random)))
            case 3: out.insert(contentsOf: out[at..<min(out.count, at + Int.random(in: 1...40, using: &random))], at: at)
            case 4: out.removeSubrange(at...)
            case 5: out.insert(contentsOf: [13, 10], at: at)
            case 6: out.insert(contentsOf: [13, 10, 32], at: at)
            default: out[at] = alphabet.randomElement(using: &random)!
            }
        }
        return out
    }

    /// 100,000 mutations of valid messages, as datagrams and as a stream: each ends as a message or
    /// a typed error with a 4xx/5xx status; a crash or a hang would fail the run.
    @Test func a100000MutationsEachParseOrFailWithATypedError() throws {
        var random = SplitMix64(state: 20_261_201)
        let seeds = Self.seeds
        var parsed = 0, refused = 0
        for round in 0..<100_000 {
            let bytes = Self.mutate(seeds[round % seeds.count], using: &random)
            do {
                let message = try SIPParser.parse(datagram: bytes)
                parsed += 1
                // What parses serializes to text that parses back to the same text.
                let text = message.serialized()
                #expect(try SIPParser.parse(datagram: text).serialized() == text)
            } catch {
                refused += 1
                #expect([400, 416, 505, 513].contains(error.status))
            }
            if round % 10 == 0 {
                var framer = SIPStreamFramer()
                framer.append(bytes)
                framer.append(bytes)
                for _ in 0..<3 { guard (try? framer.next()) != nil else { break } }
            }
        }
        #expect(parsed > 1_000)
        #expect(refused > 1_000)
    }

    /// The other parsers that read what peers send — SDP bodies and Authorization headers — take
    /// 20,000 mutations each: a parsed value or a typed error, never a crash or a hang.
    @Test func mutatedSDPBodiesAndAuthorizationHeadersParseOrAreRefused() {
        var random = SplitMix64(state: 4475)
        let sdp = Array(("v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
            + "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n").utf8)
        let authorization = Array(("Digest username=\"agent1\", realm=\"switchboard\", nonce=\"1.ab\", "
            + "uri=\"sip:127.0.0.1\", response=\"00\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c\"").utf8)
        var answered = 0
        for _ in 0..<20_000 {
            if let offer = try? SessionDescription(parsing: Self.mutate(sdp, using: &random)) {
                #expect((0...65535).contains(offer.port))
                if SessionDescription.answer(to: offer, address: "127.0.0.1", port: 20_000, sessionID: 1) != nil { answered += 1 }
            }
            let header = String(decoding: Self.mutate(authorization, using: &random), as: UTF8.self)
            var request = Fixture.request(.register)
            request.headers.add("Authorization", header)
            _ = DigestAuthenticator.parameters(header)
            var authenticator = DigestAuthenticator(realm: "switchboard", secret: Array(repeating: 1, count: 32))
            _ = authenticator.verify(request, now: .zero) { _ in DigestCredential(username: "agent1", realm: "switchboard", password: "x") }
        }
        #expect(answered > 1_000)
    }
}
