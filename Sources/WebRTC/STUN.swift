import Cryptography

/// STUN (RFC 5389) as ICE uses it (RFC 8445): the Binding requests a browser sends to check a
/// candidate pair, and the server's answers. Pure values: parse, check, build.
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    |0 0|     STUN Message Type     |         Message Length        |
///    |                         Magic Cookie                          |
///    |                     Transaction ID (96 bits)                  |
public struct STUNMessage: Equatable, Sendable {
    public enum Kind: UInt16, Sendable {
        case bindingRequest = 0x0001
        case bindingIndication = 0x0011
        case bindingSuccess = 0x0101
        case bindingError = 0x0111
    }

    public enum Attribute: UInt16, Sendable {
        case mappedAddress = 0x0001
        case username = 0x0006
        case messageIntegrity = 0x0008
        case errorCode = 0x0009
        case xorMappedAddress = 0x0020
        case priority = 0x0024
        case useCandidate = 0x0025
        case fingerprint = 0x8028
        case iceControlled = 0x8029
        case iceControlling = 0x802A
    }

    public static let magicCookie: UInt32 = 0x2112_A442

    public var kind: Kind
    public var transactionID: [UInt8]
    /// Every attribute in order, by type (unknown types kept as they came).
    public var attributes: [(type: UInt16, value: [UInt8])]

    public static func == (lhs: STUNMessage, rhs: STUNMessage) -> Bool {
        lhs.kind == rhs.kind && lhs.transactionID == rhs.transactionID
            && lhs.attributes.map(\.type) == rhs.attributes.map(\.type) && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }

    public init(kind: Kind, transactionID: [UInt8], attributes: [(type: UInt16, value: [UInt8])] = []) {
        (self.kind, self.transactionID, self.attributes) = (kind, transactionID, attributes)
    }

    public enum ParseError: Error, Equatable, Sendable {
        case notSTUN
        case badLength
        case unknownKind(UInt16)
    }

    /// Whether a datagram is STUN by its first byte (RFC 7983: 0–3) and its magic cookie.
    public static func looksLikeSTUN(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count >= 20 else { return false }
        let data = Array(bytes.prefix(8))
        return data[0] < 4 && Self.word(data, 4) == magicCookie
    }

    public init(parsing bytes: [UInt8]) throws(ParseError) {
        guard Self.looksLikeSTUN(bytes), bytes[0] & 0xC0 == 0 else { throw .notSTUN }
        let type = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = Int(bytes[2]) << 8 | Int(bytes[3])
        guard length % 4 == 0, bytes.count == 20 + length else { throw .badLength }
        guard let kind = Kind(rawValue: type) else { throw .unknownKind(type) }
        self.kind = kind
        transactionID = Array(bytes[8..<20])
        var attributes: [(type: UInt16, value: [UInt8])] = []
        var offset = 20
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { throw .badLength }
            let attribute = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let size = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard offset + 4 + size <= bytes.count else { throw .badLength }
            attributes.append((attribute, Array(bytes[offset + 4..<offset + 4 + size])))
            offset += 4 + (size + 3) / 4 * 4
        }
        self.attributes = attributes
    }

    public func value(_ attribute: Attribute) -> [UInt8]? { attributes.first { $0.type == attribute.rawValue }?.value }

    public var username: String? { value(.username).map { String(decoding: $0, as: UTF8.self) } }

    // MARK: Writing

    /// The message as bytes, with MESSAGE-INTEGRITY (HMAC-SHA1 under `integrityKey`) and
    /// FINGERPRINT appended when asked (RFC 5389 §15.4, §15.5).
    public func serialized(integrityKey: [UInt8]? = nil, fingerprint: Bool = true) -> [UInt8] {
        var body: [UInt8] = []
        for (type, value) in attributes { Self.append(type, value, to: &body) }
        var bytes = header(length: body.count) + body
        if let integrityKey {
            // The length counts the integrity attribute as if it were there already.
            Self.setLength(body.count + 24, in: &bytes)
            let mac = HMAC.code(.sha1, key: integrityKey, message: bytes)
            Self.append(Attribute.messageIntegrity.rawValue, mac, to: &bytes)
        }
        if fingerprint {
            Self.setLength(bytes.count - 20 + 8, in: &bytes)
            let crc = CRC32.checksum(bytes) ^ 0x5354_554E
            Self.append(Attribute.fingerprint.rawValue, Self.bigEndian(crc), to: &bytes)
        }
        Self.setLength(bytes.count - 20, in: &bytes)
        return bytes
    }

    private func header(length: Int) -> [UInt8] {
        var bytes = [UInt8(kind.rawValue >> 8), UInt8(kind.rawValue & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF)]
        bytes += Self.bigEndian(Self.magicCookie)
        bytes += transactionID
        return bytes
    }

    // MARK: Checking

    public enum Check: Equatable, Sendable {
        case valid
        case missingIntegrity
        case badIntegrity
        case badFingerprint
    }

    /// Checks a received message's FINGERPRINT (when present) and MESSAGE-INTEGRITY under `key`.
    public static func check(_ bytes: [UInt8], integrityKey key: [UInt8]) -> Check {
        var offset = 20
        var integrityAt: Int?
        var fingerprintAt: Int?
        while offset + 4 <= bytes.count {
            let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            let size = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            if type == Attribute.messageIntegrity.rawValue, integrityAt == nil { integrityAt = offset }
            if type == Attribute.fingerprint.rawValue { fingerprintAt = offset }
            offset += 4 + (size + 3) / 4 * 4
        }
        if let at = fingerprintAt {
            guard at + 8 == bytes.count else { return .badFingerprint }
            var covered = Array(bytes[0..<at])
            setLength(at - 20 + 8, in: &covered)
            guard bigEndian(CRC32.checksum(covered) ^ 0x5354_554E) == Array(bytes[at + 4..<at + 8]) else { return .badFingerprint }
        }
        guard let at = integrityAt, at + 24 <= bytes.count else { return .missingIntegrity }
        var covered = Array(bytes[0..<at])
        setLength(at - 20 + 24, in: &covered)
        let expected = HMAC.code(.sha1, key: key, message: covered)
        let given = Array(bytes[at + 4..<at + 24])
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0 ? .valid : .badIntegrity
    }

    // MARK: Addresses

    /// XOR-MAPPED-ADDRESS (RFC 5389 §15.2) for an IPv4 or IPv6 address and port.
    public static func xorMappedAddress(host: [UInt8], port: Int, transactionID: [UInt8]) -> [UInt8] {
        let family: UInt8 = host.count == 4 ? 0x01 : 0x02
        let xorPort = UInt16(port) ^ UInt16(magicCookie >> 16)
        var value: [UInt8] = [0, family, UInt8(xorPort >> 8), UInt8(xorPort & 0xFF)]
        let mask = bigEndian(magicCookie) + transactionID
        value += host.enumerated().map { $0.element ^ mask[$0.offset] }
        return value
    }

    /// The address in an XOR-MAPPED-ADDRESS value (IPv4: 4 bytes, IPv6: 16) and its port.
    public static func address(xorMapped value: [UInt8], transactionID: [UInt8]) -> (host: [UInt8], port: Int)? {
        guard value.count >= 8 else { return nil }
        let port = Int((UInt16(value[2]) << 8 | UInt16(value[3])) ^ UInt16(magicCookie >> 16))
        let mask = bigEndian(magicCookie) + transactionID
        let length = value[1] == 0x01 ? 4 : 16
        guard value.count >= 4 + length else { return nil }
        return (value[4..<4 + length].enumerated().map { $0.element ^ mask[$0.offset] }, port)
    }

    // MARK: Helpers

    static func append(_ type: UInt16, _ value: [UInt8], to bytes: inout [UInt8]) {
        bytes += [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)]
        bytes += value
        bytes += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    static func setLength(_ length: Int, in bytes: inout [UInt8]) {
        bytes[2] = UInt8(length >> 8)
        bytes[3] = UInt8(length & 0xFF)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it): STUN's FINGERPRINT.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
