import Cryptography
import Testing
@testable import WebRTC

func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// STUN (RFC 5389) against RFC 5769's test vectors, and the server's ICE-lite answers.
@Suite struct STUN {
    static let password = Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)

    // RFC 5769 §2.1: a request with SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY".
    static let sampleRequest = bytes(
        """
        000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74
        002400046e0001ff80290008932ff9b151263b36000600096576746a3a683676592020200008001
        49aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf
        """)

    // RFC 5769 §2.2: the IPv4 response, 192.0.2.1 port 32853.
    static let sampleResponse = bytes(
        """
        0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000200008
        0001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96
        """)

    @Test func crc32IsZlibs() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func rfc5769RequestParsesAndPassesItsIntegrityAndFingerprint() throws {
        let message = try STUNMessage(parsing: Self.sampleRequest)
        #expect(message.kind == .bindingRequest)
        #expect(message.username == "evtj:h6vY")
        #expect(message.value(.priority) == [0x6E, 0x00, 0x01, 0xFF])
        #expect(STUNMessage.check(Self.sampleRequest, integrityKey: Self.password) == .valid)
    }

    @Test func rfc5769ResponseCarriesItsMappedAddress() throws {
        let message = try STUNMessage(parsing: Self.sampleResponse)
        #expect(message.kind == .bindingSuccess)
        let mapped = try #require(message.value(.xorMappedAddress))
        let address = try #require(STUNMessage.address(xorMapped: mapped, transactionID: message.transactionID))
        #expect(address.host == [192, 0, 2, 1])
        #expect(address.port == 32853)
        #expect(STUNMessage.check(Self.sampleResponse, integrityKey: Self.password) == .valid)
    }

    @Test func aMessageWeWriteIsOneWeAccept() throws {
        let parsed = try STUNMessage(parsing: Self.sampleResponse)
        var message = parsed
        message.attributes = parsed.attributes.filter { $0.type != 0x0008 && $0.type != 0x8028 }
        let rebuilt = message.serialized(integrityKey: Self.password, fingerprint: true)
        #expect(rebuilt.count == Self.sampleResponse.count)
        #expect(STUNMessage.check(rebuilt, integrityKey: Self.password) == .valid)
        #expect(try STUNMessage(parsing: rebuilt).value(.xorMappedAddress) == parsed.value(.xorMappedAddress))
    }

    @Test func aChangedByteFailsTheFingerprintAndAChangedKeyTheIntegrity() {
        var tampered = Self.sampleRequest
        tampered[30] ^= 1
        #expect(STUNMessage.check(tampered, integrityKey: Self.password) == .badFingerprint)
        #expect(STUNMessage.check(Self.sampleRequest, integrityKey: Array("wrong".utf8)) == .badIntegrity)
    }

    @Test(arguments: [
        [UInt8](),
        [0x00, 0x01, 0x00, 0x00],
        Array(repeating: 0xFF, count: 40),
        // A valid header with a length that overruns the datagram.
        bytes("000100402112a442000000000000000000000000"),
        // An attribute whose length overruns.
        bytes("000100082112a44200000000000000000000000000060100616263640000"),
    ])
    func truncatedOrForeignBytesAreRefusedNotTrapped(input: [UInt8]) {
        #expect(throws: STUNMessage.ParseError.self) { try STUNMessage(parsing: input) }
        #expect(STUNMessage.check(input, integrityKey: Self.password) != .valid)
    }

    @Test func xorMappedAddressRoundTripsForIPv6() {
        let id = Array(0..<12).map(UInt8.init)
        let host: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        let value = STUNMessage.xorMappedAddress(host: host, port: 5004, transactionID: id)
        #expect(STUNMessage.address(xorMapped: value, transactionID: id)?.host == host)
        #expect(STUNMessage.address(xorMapped: value, transactionID: id)?.port == 5004)
    }
}

@Suite struct ICELite {
    static let browser = ICELiteAgent.Address(host: [127, 0, 0, 1], port: 40000)

    static func check(username: String, password: String, nominate: Bool = false, id: UInt8 = 1) -> [UInt8] {
        var attributes: [(type: UInt16, value: [UInt8])] = [
            (STUNMessage.Attribute.username.rawValue, Array(username.utf8)),
            (STUNMessage.Attribute.priority.rawValue, [0x6E, 0, 1, 0xFF]),
            (STUNMessage.Attribute.iceControlling.rawValue, [1, 2, 3, 4, 5, 6, 7, 8]),
        ]
        if nominate { attributes.append((STUNMessage.Attribute.useCandidate.rawValue, [])) }
        return STUNMessage(kind: .bindingRequest, transactionID: Array(repeating: id, count: 12), attributes: attributes)
            .serialized(integrityKey: Array(password.utf8))
    }

    @Test func aCheckWithOurUsernameAndPasswordIsAnsweredWithTheSourceAddress() throws {
        var agent = ICELiteAgent(localUfrag: "srv1", localPassword: "server-password-0123456789", remoteUfrag: "brws")
        let outcome = agent.received(Self.check(username: "srv1:brws", password: "server-password-0123456789"), from: Self.browser)
        guard case .respond(let response, let selected) = outcome else {
            Issue.record("not answered: \(outcome)")
            return
        }
        #expect(selected)
        #expect(agent.selected == Self.browser)
        #expect(STUNMessage.check(response, integrityKey: Array("server-password-0123456789".utf8)) == .valid)
        let message = try STUNMessage(parsing: response)
        #expect(message.kind == .bindingSuccess)
        #expect(message.transactionID == Array(repeating: 1, count: 12))
        let mapped = try #require(message.value(.xorMappedAddress))
        #expect(STUNMessage.address(xorMapped: mapped, transactionID: message.transactionID)?.port == 40000)
    }

    @Test func aCheckWithAWrongPasswordIsDroppedAndSelectsNothing() {
        var agent = ICELiteAgent(localUfrag: "srv1", localPassword: "server-password-0123456789", remoteUfrag: "brws")
        #expect(agent.received(Self.check(username: "srv1:brws", password: "guess"), from: Self.browser) == .drop(.badIntegrity))
        #expect(agent.selected == nil)
    }

    @Test func aCheckForAnotherSessionsUsernameIsDropped() {
        var agent = ICELiteAgent(localUfrag: "srv1", localPassword: "server-password-0123456789", remoteUfrag: "brws")
        #expect(agent.received(Self.check(username: "srv2:brws", password: "server-password-0123456789"), from: Self.browser)
            == .drop(.unknownUsername))
    }

    @Test func theNominatedAddressWinsOverTheFirstChecked() {
        var agent = ICELiteAgent(localUfrag: "srv1", localPassword: "server-password-0123456789", remoteUfrag: "brws")
        let other = ICELiteAgent.Address(host: [10, 0, 0, 7], port: 50000)
        _ = agent.received(Self.check(username: "srv1:brws", password: "server-password-0123456789"), from: other)
        #expect(agent.selected == other)
        _ = agent.received(Self.check(username: "srv1:brws", password: "server-password-0123456789", nominate: true, id: 2), from: Self.browser)
        #expect(agent.selected == Self.browser)
        #expect(agent.nominated)
        // A later un-nominated check from elsewhere does not move it.
        if case .respond(_, let selected) = agent.received(
            Self.check(username: "srv1:brws", password: "server-password-0123456789", id: 3), from: other)
        {
            #expect(!selected)
        }
        #expect(agent.selected == Self.browser)
    }

    @Test func anICERestartForgetsTheSelectedAddress() {
        var agent = ICELiteAgent(localUfrag: "srv1", localPassword: "server-password-0123456789", remoteUfrag: "brws")
        _ = agent.received(Self.check(username: "srv1:brws", password: "server-password-0123456789", nominate: true), from: Self.browser)
        agent.renegotiated(remoteUfrag: "brws")
        #expect(agent.selected == Self.browser)
        agent.renegotiated(remoteUfrag: "new1")
        #expect(agent.selected == nil)
    }

    @Test func credentialsAreLongEnoughAndFromTheICEAlphabet() {
        let (ufrag, password) = ICELiteAgent.credentials(random: SecureRandom.bytes)
        #expect(ufrag.count >= 4 && password.count >= 22)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/")
        #expect((ufrag + password).allSatisfy(allowed.contains))
    }

    @Test(arguments: [
        ([0x00, 0x01] as [UInt8], Datagram.stun), ([0x16, 0xFE], .dtls), ([0x80, 0x00], .rtp), ([0x80, 0x80 | 8], .rtp),
        ([0x80, 200], .rtcp), ([0x81, 201], .rtcp), ([0x40, 0x00], .unknown), ([0xFF], .unknown), ([], .unknown),
    ])
    func datagramsAreToldApartByTheirFirstBytes(input: [UInt8], kind: Datagram) {
        #expect(Datagram(classifying: input) == kind)
    }
}
