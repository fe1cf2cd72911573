/// RTCP sender and receiver reports (RFC 3550 §6.4): what each leg's peer is told about the
/// stream it receives (loss, jitter) and, for a sender, its packet and octet counts.
public struct ReportBlock: Equatable, Sendable {
    public var ssrc: UInt32
    /// Fraction lost since the last report, in 1/256.
    public var fractionLost: UInt8
    /// Cumulative packets lost (24 bits, signed).
    public var cumulativeLost: Int32
    public var highestSequence: UInt32
    public var jitter: UInt32
    public var lastSenderReport: UInt32
    public var delaySinceLastSenderReport: UInt32

    public init(
        ssrc: UInt32, fractionLost: UInt8, cumulativeLost: Int32, highestSequence: UInt32, jitter: UInt32,
        lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) {
        (self.ssrc, self.fractionLost, self.cumulativeLost, self.highestSequence) = (ssrc, fractionLost, cumulativeLost, highestSequence)
        (self.jitter, self.lastSenderReport, self.delaySinceLastSenderReport) = (jitter, lastSenderReport, delaySinceLastSenderReport)
    }
}

public enum RTCPReport: Equatable, Sendable {
    /// PT 200: NTP and RTP timestamps of now, packets and octets sent.
    case sender(ssrc: UInt32, ntp: UInt64, rtpTimestamp: UInt32, packets: UInt32, octets: UInt32, blocks: [ReportBlock])
    /// PT 201.
    case receiver(ssrc: UInt32, blocks: [ReportBlock])

    /// The reports of a compound RTCP packet; other packet types (SDES, BYE, …) are skipped.
    public static func parse(compound bytes: [UInt8]) -> [RTCPReport]? {
        var reports: [RTCPReport] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            guard bytes[offset] >> 6 == 2 else { return nil }
            let count = Int(bytes[offset] & 0x1F), type = bytes[offset + 1]
            let length = ((Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])) + 1) * 4
            guard offset + length <= bytes.count else { return nil }
            let body = Array(bytes[offset + 4..<offset + length])
            switch type {
            case 200:
                guard body.count >= 24 + count * 24 else { return nil }
                let ntp = UInt64(RTPPacket.word(body, 4)) << 32 | UInt64(RTPPacket.word(body, 8))
                reports.append(.sender(
                    ssrc: RTPPacket.word(body, 0), ntp: ntp, rtpTimestamp: RTPPacket.word(body, 12),
                    packets: RTPPacket.word(body, 16), octets: RTPPacket.word(body, 20), blocks: blocks(body, from: 24, count: count)))
            case 201:
                guard body.count >= 4 + count * 24 else { return nil }
                reports.append(.receiver(ssrc: RTPPacket.word(body, 0), blocks: blocks(body, from: 4, count: count)))
            default:
                break
            }
            offset += length
        }
        return offset == bytes.count ? reports : nil
    }

    private static func blocks(_ body: [UInt8], from start: Int, count: Int) -> [ReportBlock] {
        (0..<count).map { index in
            let at = start + index * 24
            let lostWord = RTPPacket.word(body, at + 4)
            var cumulative = Int32(bitPattern: lostWord & 0x00FF_FFFF)
            if cumulative & 0x0080_0000 != 0 { cumulative -= 0x0100_0000 }
            return ReportBlock(
                ssrc: RTPPacket.word(body, at), fractionLost: UInt8(lostWord >> 24), cumulativeLost: cumulative,
                highestSequence: RTPPacket.word(body, at + 8), jitter: RTPPacket.word(body, at + 12),
                lastSenderReport: RTPPacket.word(body, at + 16), delaySinceLastSenderReport: RTPPacket.word(body, at + 20))
        }
    }

    public func serialized() -> [UInt8] {
        var body: [UInt8] = []
        let type: UInt8, blocks: [ReportBlock]
        switch self {
        case .sender(let ssrc, let ntp, let rtpTimestamp, let packets, let octets, let reportBlocks):
            type = 200
            blocks = reportBlocks
            for word in [ssrc, UInt32(ntp >> 32), UInt32(truncatingIfNeeded: ntp), rtpTimestamp, packets, octets] {
                RTPPacket.append(word, to: &body)
            }
        case .receiver(let ssrc, let reportBlocks):
            type = 201
            blocks = reportBlocks
            RTPPacket.append(ssrc, to: &body)
        }
        for block in blocks.prefix(31) {
            RTPPacket.append(block.ssrc, to: &body)
            RTPPacket.append(UInt32(block.fractionLost) << 24 | UInt32(bitPattern: block.cumulativeLost) & 0x00FF_FFFF, to: &body)
            for word in [block.highestSequence, block.jitter, block.lastSenderReport, block.delaySinceLastSenderReport] {
                RTPPacket.append(word, to: &body)
            }
        }
        let words = body.count / 4  // the length field: 32-bit words less one, the header included
        return [0x80 | UInt8(min(blocks.count, 31)), type, UInt8(words >> 8), UInt8(truncatingIfNeeded: words)] + body
    }
}
