/// RTP (RFC 3550 §5.1): the fixed header, CSRCs, an optional header extension and padding are
/// read; packets are written with no extension or padding. Pure values, no I/O.
///
///     0                   1                   2                   3
///     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///    |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///    |                           timestamp                           |
///    |           synchronization source (SSRC) identifier            |
public struct RTPPacket: Equatable, Sendable {
    public var payloadType: UInt8
    public var marker: Bool
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var csrcs: [UInt32]
    public var payload: [UInt8]

    public init(
        payloadType: UInt8, marker: Bool = false, sequence: UInt16, timestamp: UInt32, ssrc: UInt32, csrcs: [UInt32] = [],
        payload: [UInt8]
    ) {
        (self.payloadType, self.marker, self.sequence, self.timestamp, self.ssrc) = (payloadType, marker, sequence, timestamp, ssrc)
        (self.csrcs, self.payload) = (csrcs, payload)
    }

    public enum ParseError: Error, Equatable {
        case tooShort
        case notVersion2
        case badLength
    }

    public init(parsing bytes: some Collection<UInt8>) throws(ParseError) {
        let data = Array(bytes)
        guard data.count >= 12 else { throw .tooShort }
        guard data[0] >> 6 == 2 else { throw .notVersion2 }
        let padded = data[0] & 0x20 != 0, extended = data[0] & 0x10 != 0
        let csrcCount = Int(data[0] & 0x0F)
        marker = data[1] & 0x80 != 0
        payloadType = data[1] & 0x7F
        sequence = UInt16(data[2]) << 8 | UInt16(data[3])
        timestamp = Self.word(data, 4)
        ssrc = Self.word(data, 8)
        var offset = 12 + csrcCount * 4
        guard data.count >= offset else { throw .badLength }
        csrcs = (0..<csrcCount).map { Self.word(data, 12 + $0 * 4) }
        if extended {
            guard data.count >= offset + 4 else { throw .badLength }
            let words = Int(data[offset + 2]) << 8 | Int(data[offset + 3])
            offset += 4 + words * 4
            guard data.count >= offset else { throw .badLength }
        }
        var end = data.count
        if padded {
            let padding = Int(data[end - 1])
            guard padding > 0, end - padding >= offset else { throw .badLength }
            end -= padding
        }
        payload = Array(data[offset..<end])
    }

    static func word(_ data: [UInt8], _ at: Int) -> UInt32 {
        UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
                  UInt8(truncatingIfNeeded: value)]
    }

    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + csrcs.count * 4 + payload.count)
        bytes.append(0x80 | UInt8(min(csrcs.count, 15)))
        bytes.append((marker ? 0x80 : 0) | (payloadType & 0x7F))
        bytes += [UInt8(sequence >> 8), UInt8(truncatingIfNeeded: sequence)]
        Self.append(timestamp, to: &bytes)
        Self.append(ssrc, to: &bytes)
        for csrc in csrcs.prefix(15) { Self.append(csrc, to: &bytes) }
        bytes += payload
        return bytes
    }
}

/// Sequence numbers compared across the 16-bit wrap (RFC 3550 appendix A.1): `a` is after `b`
/// when it is less than half the space ahead.
public func sequenceDistance(from b: UInt16, to a: UInt16) -> Int { Int(Int16(bitPattern: a &- b)) }
