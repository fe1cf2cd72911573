import Testing

@testable import SIP

/// Who is calling, from what an INVITE says (RFC 3261 From, RFC 3325 P-Asserted-Identity, RFC 3323 privacy).
@Suite struct CallingIdentityTests {
    static func invite(from: String, _ extra: [(String, String)] = []) throws -> SIPRequest {
        var text = "INVITE sip:2000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
        text += "From: \(from);tag=1\r\nTo: <sip:2000@127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
        for (name, value) in extra { text += "\(name): \(value)\r\n" }
        text += "Content-Length: 0\r\n\r\n"
        guard case .request(let request) = try SIPParser.parse(datagram: Array(text.utf8)) else { throw Unexpected() }
        return request
    }

    struct Unexpected: Error {}

    @Test func anAnonymousFromWithholdsTheCaller() throws {
        let identity = CallingIdentity(of: try Self.invite(from: "\"Anonymous\" <sip:anonymous@anonymous.invalid>"), trusted: true)
        #expect(identity == .withheld)
        #expect(CallingIdentity(of: try Self.invite(from: "<sip:anonymous@192.0.2.1>"), trusted: false) == .withheld)
    }

    @Test func privacyIdWithholdsEvenAnAssertedNumber() throws {
        let request = try Self.invite(
            from: "<sip:+15550100@192.0.2.1>", [("P-Asserted-Identity", "<sip:+15550100@192.0.2.1>"), ("Privacy", "id")])
        #expect(CallingIdentity(of: request, trusted: true) == .withheld)
        #expect(CallingIdentity(of: try Self.invite(from: "<sip:+15550100@h>", [("Privacy", "none")]), trusted: true).number == "+15550100")
    }

    @Test func aSIPCallerWithoutANumberIsKnownByAddressAndName() throws {
        let identity = CallingIdentity(of: try Self.invite(from: "\"Alice\" <sip:alice@example.com>"), trusted: false)
        #expect(identity == CallingIdentity(address: "alice@example.com", displayName: "Alice"))
        #expect(CallingIdentity(of: try Self.invite(from: "<sip:example.com>"), trusted: false).address == "example.com")
    }

    @Test func aNumberIsTakenWithItsVisualSeparatorsRemoved() throws {
        #expect(CallingIdentity(of: try Self.invite(from: "Bob <sip:+1-555-0100@h;user=phone>"), trusted: false)
            == CallingIdentity(number: "+15550100", displayName: "Bob"))
        #expect(CallingIdentity(of: try Self.invite(from: "<sip:5550100;isub=12@h>"), trusted: false).number == "5550100")
        #expect(CallingIdentity(of: try Self.invite(from: "<sip:1234567890123456@h>"), trusted: false).number == nil)
    }

    @Test func anAssertedIdentityIsBelievedOnlyFromATrustedTrunk() throws {
        let request = try Self.invite(
            from: "\"Front desk\" <sip:reception@pbx.example.com>", [("P-Asserted-Identity", "<tel:+44-20-7946-0000>")])
        #expect(CallingIdentity(of: request, trusted: true) == CallingIdentity(number: "+442079460000", displayName: "Front desk"))
        #expect(CallingIdentity(of: request, trusted: false)
            == CallingIdentity(address: "reception@pbx.example.com", displayName: "Front desk"))
    }
}

/// A UAS's checks before it acts (RFC 3261 §8.2).
@Suite struct UASChecks {
    let policy = UASPolicy(allowed: [.invite, .ack, .bye, .cancel, .options, .register])

    @Test func anOptionsPingIsAnsweredWhateverItAcceptsWhileAnInviteThatTakesNoSDPGets406() throws {
        var options = try CallingIdentityTests.invite(from: "<sip:monitor@192.0.2.1>")
        options.method = .options
        options.headers.set("CSeq", "1 OPTIONS")
        options.headers.add("Accept", "text/plain")
        #expect(policy.refusal(of: options, toTag: "t") == nil, "sipsak -s and Nagios send Accept: text/plain")
        var invite = try CallingIdentityTests.invite(from: "<sip:monitor@192.0.2.1>")
        invite.headers.add("Accept", "text/plain")
        #expect(policy.refusal(of: invite, toTag: "t")?.status == 406)
    }
}
