import Cryptography

/// SRTP and SRTCP (RFC 3711) with the default transforms: AES-CM encryption and HMAC-SHA1
/// authentication, the crypto suites `AES_CM_128_HMAC_SHA1_80` and `_32` (RFC 4568 §6.2). A
/// context protects what one side sends, or checks and decrypts what it receives; keys come
/// from SDES (`a=crypto`) now, from DTLS later. The key derivation rate is 0 (keys derived
/// once), as every SDES peer uses; no MKI.
///
/// Packet index (RFC 3711 §3.3.1): i = 2^16 × ROC + SEQ, the rollover counter guessed from the
/// highest sequence number seen; a replay window of 64 packets behind the highest index.
public struct SRTPSuite: Equatable, Sendable {
    /// RFC 4568's name for it.
    public let name: String
    public let tagLength: Int

    public static let aes128HMACSHA1_80 = SRTPSuite(name: "AES_CM_128_HMAC_SHA1_80", tagLength: 10)
    public static let aes128HMACSHA1_32 = SRTPSuite(name: "AES_CM_128_HMAC_SHA1_32", tagLength: 4)
    public static let all = [aes128HMACSHA1_80, aes128HMACSHA1_32]

    public static let masterKeyLength = 16
    public static let masterSaltLength = 14

    public static func named(_ name: String) -> SRTPSuite? { all.first { $0.name == name.uppercased() } }
}

/// A master key and salt (30 bytes for AES-128).
public struct SRTPKey: Equatable, Sendable {
    public var key: [UInt8]
    public var salt: [UInt8]

    public init?(key: [UInt8], salt: [UInt8]) {
        guard key.count == SRTPSuite.masterKeyLength, salt.count == SRTPSuite.masterSaltLength else { return nil }
        (self.key, self.salt) = (key, salt)
    }

    /// SDES's `inline:` value: key then salt.
    public init?(concatenated bytes: [UInt8]) {
        self.init(key: Array(bytes.prefix(16)), salt: Array(bytes.dropFirst(16)))
    }

    public var concatenated: [UInt8] { key + salt }

    public static func random() -> SRTPKey {
        let bytes = SecureRandom.bytes(30)
        return SRTPKey(concatenated: bytes)!
    }
}

public enum SRTPError: Error, Equatable, Sendable {
    case tooShort
    case authenticationFailed
    case replayed
    case notRTP
}

/// One direction of one SRTP session: the session keys for RTP and RTCP, and for a receiver the
/// rollover counter, the highest sequence number and the replay window, per SSRC. Not for use
/// from two threads at once (the media shard uses it on its loop).
public struct SRTPContext: Sendable {
    public let suite: SRTPSuite
    private let rtp: SessionKeys
    private let rtcp: SessionKeys

    /// What a receiver remembers per SSRC, and a sender its rollover counter.
    private struct Stream: Sendable {
        var rollover: UInt32 = 0
        var highest: UInt16 = 0
        var started = false
        /// Bit n: the packet `n` behind the highest index was received.
        var window: UInt64 = 0
        /// SRTCP: the next index to send, or the highest received and its window.
        var controlIndex: UInt32 = 0
        var controlWindow: UInt64 = 0
        var controlStarted = false
    }
    private var streams: [UInt32: Stream] = [:]

    final class SessionKeys: Sendable {
        let cipher: AESCounterMode
        let authentication: HMACKey
        let salt: [UInt8]

        init(master: SRTPKey, labels: (cipher: UInt8, authentication: UInt8, salt: UInt8)) throws {
            cipher = try AESCounterMode(key: try SRTPContext.derive(master, label: labels.cipher, length: 16))
            authentication = try HMACKey(.sha1, key: try SRTPContext.derive(master, label: labels.authentication, length: 20))
            salt = try SRTPContext.derive(master, label: labels.salt, length: 14)
        }
    }

    public init(suite: SRTPSuite, master: SRTPKey) throws {
        self.suite = suite
        rtp = try SessionKeys(master: master, labels: (0, 1, 2))
        rtcp = try SessionKeys(master: master, labels: (3, 4, 5))
    }

    /// RFC 3711 §4.3.1 with a key derivation rate of 0: AES-CM under the master key, keystream
    /// from x = (label << 48) XOR master salt, shifted 16 bits (the counter's room).
    static func derive(_ master: SRTPKey, label: UInt8, length: Int) throws -> [UInt8] {
        var x = master.salt + [0, 0]
        x[7] ^= label
        return try AESCounterMode(key: master.key).keystream(counter: x, count: length)
    }

    // MARK: SRTP

    /// The SRTP packet for an RTP packet (header in the clear, payload encrypted, tag appended).
    public mutating func protect(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        let headerLength = try Self.headerLength(packet)
        let ssrc = RTPPacket.word(packet, 8)
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        var stream = streams[ssrc] ?? Stream()
        // A sender's rollover counter goes up when its sequence number wraps.
        if stream.started, sequence < stream.highest, stream.highest - sequence > 0x8000 { stream.rollover &+= 1 }
        if !stream.started || sequenceDistance(from: stream.highest, to: sequence) > 0 { stream.highest = sequence }
        stream.started = true
        streams[ssrc] = stream
        let index = UInt64(stream.rollover) << 16 | UInt64(sequence)
        var out = packet
        out.reserveCapacity(packet.count + suite.tagLength)
        Self.crypt(&out, from: headerLength, keys: rtp, ssrc: ssrc, index: index)
        var rollover = stream.rollover.bigEndian
        let tag = out.withUnsafeBytes { body in
            withUnsafeBytes(of: &rollover) { roc in self.tag(rtp, [body, roc]) }
        }
        out += tag
        return out
    }

    /// The RTP packet inside an SRTP packet, once its tag checks and it is not a replay.
    public mutating func unprotect(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        guard packet.count >= 12 + suite.tagLength else { throw .tooShort }
        let body = Array(packet.dropLast(suite.tagLength))
        let headerLength = try Self.headerLength(body)
        let ssrc = RTPPacket.word(body, 8)
        let sequence = UInt16(body[2]) << 8 | UInt16(body[3])
        var stream = streams[ssrc] ?? Stream()
        // RFC 3711 §3.3.1: the rollover counter this packet most likely has.
        var guess = stream.rollover
        if stream.started {
            let highest = stream.highest
            if highest < 0x8000 {
                if sequence > highest &+ 0x8000 { guess = stream.rollover &- 1 }
            } else if sequence < highest &- 0x8000 {
                guess = stream.rollover &+ 1
            }
        }
        let index = UInt64(guess) << 16 | UInt64(sequence)
        let highestIndex = UInt64(stream.rollover) << 16 | UInt64(stream.highest)
        if stream.started, index <= highestIndex {
            let behind = highestIndex - index
            if behind >= 64 || stream.window & (1 << behind) != 0 { throw .replayed }
        }
        var rollover = guess.bigEndian
        let expected = body.withUnsafeBytes { body in withUnsafeBytes(of: &rollover) { roc in self.tag(rtp, [body, roc]) } }
        guard Self.constantTimeEqual(expected, packet.suffix(suite.tagLength)) else { throw .authenticationFailed }
        // Authentic: only now does it move the stream on.
        if !stream.started {
            (stream.started, stream.rollover, stream.highest, stream.window) = (true, guess, sequence, 1)
        } else if index > highestIndex {
            let ahead = index - highestIndex
            stream.window = ahead >= 64 ? 1 : stream.window << ahead | 1
            (stream.rollover, stream.highest) = (guess, sequence)
        } else {
            stream.window |= 1 << (highestIndex - index)
        }
        streams[ssrc] = stream
        var out = body
        Self.crypt(&out, from: headerLength, keys: rtp, ssrc: ssrc, index: index)
        return out
    }

    // MARK: SRTCP

    /// The SRTCP packet for an RTCP compound packet: all but the first 8 bytes encrypted, then
    /// E=1 and the 31-bit SRTCP index, then the tag (RFC 3711 §3.4).
    public mutating func protectControl(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        guard packet.count >= 8 else { throw .tooShort }
        let ssrc = RTPPacket.word(packet, 4)
        var stream = streams[ssrc] ?? Stream()
        let index = stream.controlIndex & 0x7FFF_FFFF
        stream.controlIndex = (index + 1) & 0x7FFF_FFFF
        streams[ssrc] = stream
        var out = packet
        Self.crypt(&out, from: 8, keys: rtcp, ssrc: ssrc, index: UInt64(index))
        RTPPacket.append(0x8000_0000 | index, to: &out)
        let tag = out.withUnsafeBytes { self.tag(rtcp, [$0]) }
        return out + tag
    }

    public mutating func unprotectControl(_ packet: [UInt8]) throws(SRTPError) -> [UInt8] {
        guard packet.count >= 8 + 4 + suite.tagLength else { throw .tooShort }
        let authenticated = Array(packet.dropLast(suite.tagLength))
        let expected = authenticated.withUnsafeBytes { self.tag(rtcp, [$0]) }
        guard Self.constantTimeEqual(expected, packet.suffix(suite.tagLength)) else { throw .authenticationFailed }
        let trailer = RTPPacket.word(authenticated, authenticated.count - 4)
        let index = trailer & 0x7FFF_FFFF, encrypted = trailer & 0x8000_0000 != 0
        let ssrc = RTPPacket.word(authenticated, 4)
        var stream = streams[ssrc] ?? Stream()
        if stream.controlStarted, index <= stream.controlIndex {
            let behind = UInt64(stream.controlIndex - index)
            if behind >= 64 || stream.controlWindow & (1 << behind) != 0 { throw .replayed }
            stream.controlWindow |= 1 << behind
        } else {
            let ahead = stream.controlStarted ? UInt64(index - stream.controlIndex) : 64
            stream.controlWindow = ahead >= 64 ? 1 : stream.controlWindow << ahead | 1
            (stream.controlIndex, stream.controlStarted) = (index, true)
        }
        streams[ssrc] = stream
        var out = Array(authenticated.dropLast(4))
        if encrypted { Self.crypt(&out, from: 8, keys: rtcp, ssrc: ssrc, index: UInt64(index)) }
        return out
    }

    // MARK: The transforms

    /// AES-CM over bytes[from...]: IV = (k_s × 2^16) XOR (SSRC × 2^64) XOR (i × 2^16).
    private static func crypt(_ bytes: inout [UInt8], from start: Int, keys: SessionKeys, ssrc: UInt32, index: UInt64) {
        guard start < bytes.count else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { iv in
            for position in 0..<14 { iv[position] = keys.salt[position] }
            iv[14] = 0
            iv[15] = 0
            for position in 0..<4 { iv[4 + position] ^= UInt8(truncatingIfNeeded: ssrc >> (24 - 8 * position)) }
            for position in 0..<6 { iv[8 + position] ^= UInt8(truncatingIfNeeded: index >> (40 - 8 * position)) }
            bytes.withUnsafeMutableBytes { all in
                keys.cipher.apply(counter: UnsafeRawBufferPointer(iv), to: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
            }
        }
    }

    private func tag(_ keys: SessionKeys, _ parts: [UnsafeRawBufferPointer]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: suite.tagLength)
        out.withUnsafeMutableBytes { keys.authentication.code(parts, into: $0) }
        return out
    }

    /// The RTP header's length: fixed part, CSRCs and the extension (all sent in the clear).
    static func headerLength(_ packet: [UInt8]) throws(SRTPError) -> Int {
        guard packet.count >= 12 else { throw .tooShort }
        guard packet[0] >> 6 == 2 else { throw .notRTP }
        var length = 12 + Int(packet[0] & 0x0F) * 4
        if packet[0] & 0x10 != 0 {
            guard packet.count >= length + 4 else { throw .tooShort }
            length += 4 + (Int(packet[length + 2]) << 8 | Int(packet[length + 3])) * 4
        }
        guard packet.count >= length else { throw .tooShort }
        return length
    }

    private static func constantTimeEqual(_ a: [UInt8], _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A leg's SRTP keys: the suite, the master key and salt it sends with, and its peer's.
public struct SRTPKeys: Equatable, Sendable {
    public var suite: SRTPSuite
    public var local: SRTPKey
    public var remote: SRTPKey

    public init(suite: SRTPSuite, local: SRTPKey, remote: SRTPKey) { (self.suite, self.local, self.remote) = (suite, local, remote) }
}
