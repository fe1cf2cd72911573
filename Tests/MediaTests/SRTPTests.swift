import Cryptography
import Testing

@testable import Media

func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// SRTP and SRTCP (RFC 3711) on OpenSSL's AES and HMAC.
@Suite struct SRTPTests {
    // RFC 3711 appendix B.3's master key and salt (also libsrtp's reference).
    let master = SRTPKey(concatenated: hexBytes("E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6"))!

    @Test func sessionKeysAreDerivedAsRFC3711AppendixB3Says() throws {
        #expect(try SRTPContext.derive(master, label: 0, length: 16) == hexBytes("C61E7A93744F39EE10734AFE3FF7A087"))
        #expect(try SRTPContext.derive(master, label: 2, length: 14) == hexBytes("30CBBC08863D8C85D49DB34A9AE1"))
        #expect(try SRTPContext.derive(master, label: 1, length: 20) == hexBytes("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"))
    }

    /// libsrtp's reference packet for AES_CM_128_HMAC_SHA1_80 (its srtp_driver's plaintext and
    /// ciphertext), recomputed independently with Python's `cryptography` and `hmac`.
    @Test func aPacketIsProtectedExactlyAsLibsrtpsReference() throws {
        var sender = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        let plain = hexBytes("800f1234decafbadcafebabe") + [UInt8](repeating: 0xab, count: 16)
        let protected = try sender.protect(plain)
        #expect(protected == hexBytes("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb"))
        var receiver = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        #expect(try receiver.unprotect(protected) == plain)
    }

    func packet(sequence: UInt16, ssrc: UInt32 = 0xDECA_FBAD, payload: [UInt8] = Array(0..<160)) -> [UInt8] {
        RTPPacket(payloadType: 0, sequence: sequence, timestamp: UInt32(sequence) * 160, ssrc: ssrc, payload: payload).serialized()
    }

    @Test(arguments: SRTPSuite.all)
    func aStreamRoundTripsAcrossTheSequenceNumbersWrapAndItsTagHasTheSuitesLength(suite: SRTPSuite) throws {
        var sender = try SRTPContext(suite: suite, master: master)
        var receiver = try SRTPContext(suite: suite, master: master)
        for sequence in (65_530...65_535).map(UInt16.init) + (0...5).map(UInt16.init) {
            let protected = try sender.protect(packet(sequence: sequence))
            #expect(protected.count == packet(sequence: sequence).count + suite.tagLength)
            #expect(Array(protected[12..<20]) != Array(packet(sequence: sequence)[12..<20]), "the payload is encrypted")
            #expect(try receiver.unprotect(protected) == packet(sequence: sequence), "sequence \(sequence)")
        }
    }

    @Test func aTamperedPacketFailsItsTagAndAReplayIsRefusedWhileALateOneInTheWindowIsTaken() throws {
        var sender = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        var receiver = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        let first = try sender.protect(packet(sequence: 100))
        let second = try sender.protect(packet(sequence: 101))
        let third = try sender.protect(packet(sequence: 102))
        var tampered = first
        tampered[20] ^= 1
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotect(tampered) }
        _ = try receiver.unprotect(first)
        _ = try receiver.unprotect(third)
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(first) }
        #expect(try receiver.unprotect(second) == packet(sequence: 101), "late, but inside the window")
        #expect(throws: SRTPError.replayed) { try receiver.unprotect(second) }
        var otherKey = try SRTPContext(suite: .aes128HMACSHA1_80, master: SRTPKey.random())
        #expect(throws: SRTPError.authenticationFailed) { try otherKey.unprotect(try sender.protect(packet(sequence: 103))) }
    }

    @Test func rtcpIsProtectedWithItsIndexAndChecked() throws {
        var sender = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        var receiver = try SRTPContext(suite: .aes128HMACSHA1_80, master: master)
        let report = RTCPReport.sender(
            ssrc: 0xDECA_FBAD, ntp: 0x0102_0304_0506_0708, rtpTimestamp: 160, packets: 10, octets: 1_600, blocks: []).serialized()
        let first = try sender.protectControl(report)
        #expect(first.count == report.count + 4 + 10)
        #expect(Array(first[report.count..<report.count + 4]) == [0x80, 0, 0, 0], "E=1, index 0")
        #expect(try receiver.unprotectControl(first) == report)
        #expect(throws: SRTPError.replayed) { try receiver.unprotectControl(first) }
        let second = try sender.protectControl(report)
        #expect(Array(second[report.count..<report.count + 4]) == [0x80, 0, 0, 1])
        var tampered = second
        tampered[10] ^= 0xFF
        #expect(throws: SRTPError.authenticationFailed) { try receiver.unprotectControl(tampered) }
        #expect(try receiver.unprotectControl(second) == report)
    }
}
