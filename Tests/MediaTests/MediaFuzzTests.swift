import CallControl
import Media
import Testing
import TestSupport

/// The media parsers fed random mutations of valid input: every outcome is a value or a typed
/// refusal (nil or a thrown error), never a crash or a hang.
@Suite struct MediaParserFuzzing {
    static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !out.isEmpty: out[Int.random(in: 0..<out.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1 where !out.isEmpty: out.removeSubrange(Int.random(in: 0..<out.count, using: &random)...)
            case 2: out.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...out.count, using: &random))
            default: if !out.isEmpty { out.remove(at: Int.random(in: 0..<out.count, using: &random)) }
            }
        }
        return out
    }

    @Test func a100000MutatedRTPRTCPEventAndWAVInputsParseOrAreRefused() {
        let block = ReportBlock(ssrc: 1, fractionLost: 2, cumulativeLost: -3, highestSequence: 4, jitter: 5)
        let wav: [UInt8] = Array("RIFF".utf8) + [44, 0, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0,
            0x80, 0x3E, 0, 0, 2, 0, 16, 0] + Array("data".utf8) + [8, 0, 0, 0, 1, 0, 2, 0, 3, 0, 4, 0]
        let seeds: [[UInt8]] = [
            RTPPacket(payloadType: 0, marker: true, sequence: 9, timestamp: 160, ssrc: 7, csrcs: [1, 2], payload: [1, 2, 3]).serialized(),
            [0xB1, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 5, 9, 9, 9, 9, 0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4, 7, 0, 2],
            RTCPReport.sender(ssrc: 1, ntp: 2, rtpTimestamp: 3, packets: 4, octets: 5, blocks: [block]).serialized()
                + RTCPReport.receiver(ssrc: 6, blocks: [block, block]).serialized(),
            TelephoneEvent(event: 11, end: true, duration: 800).serialized(),
            wav,
        ]
        var random = SplitMix64(state: 3550)
        var parsed = 0
        for _ in 0..<100_000 {
            let input = Self.mutate(seeds[Int.random(in: 0..<seeds.count, using: &random)], &random)
            if (try? RTPPacket(parsing: input)) != nil { parsed += 1 }
            if RTCPReport.parse(compound: input) != nil { parsed += 1 }
            if TelephoneEvent(parsing: input) != nil { parsed += 1 }
            if (try? WAVFile.samples(input)) != nil { parsed += 1 }
        }
        #expect(parsed > 10_000, "mutations close to valid input still parse: \(parsed)")
    }
}
