import CallControl
import Media
import Testing

@Suite struct RTPPackets {
    @Test func aPacketWrittenAndReadBackIsTheSame() throws {
        let packet = RTPPacket(payloadType: 8, marker: true, sequence: 65_535, timestamp: 0xDEAD_BEEF, ssrc: 42, csrcs: [7, 9],
                               payload: [1, 2, 3])
        #expect(try RTPPacket(parsing: packet.serialized()) == packet)
    }

    @Test func anExtensionAndPaddingAreSkippedToThePayload() throws {
        var bytes: [UInt8] = [0xB0, 0x00, 0x00, 0x01, 0, 0, 0, 160, 0, 0, 0, 5]  // V=2 P X, PT 0
        bytes += [0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4]  // one word of extension
        bytes += [9, 9, 0, 0, 3]  // payload 9 9, then 3 bytes of padding (the last says 3)
        let packet = try RTPPacket(parsing: bytes)
        #expect(packet.payload == [9, 9])
        #expect(packet.timestamp == 160 && packet.ssrc == 5)
    }

    @Test func shortOrForeignDatagramsAreRefused() {
        #expect(throws: RTPPacket.ParseError.tooShort) { try RTPPacket(parsing: [0x80, 0]) }
        #expect(throws: RTPPacket.ParseError.notVersion2) { try RTPPacket(parsing: [UInt8](repeating: 0, count: 12)) }
        #expect(throws: RTPPacket.ParseError.badLength) { try RTPPacket(parsing: [0x8F] + [UInt8](repeating: 0, count: 11)) }
    }

    @Test func sequenceNumbersCompareAcrossTheWrap() {
        #expect(sequenceDistance(from: 65_535, to: 0) == 1)
        #expect(sequenceDistance(from: 0, to: 65_535) == -1)
        #expect(sequenceDistance(from: 100, to: 90) == -10)
    }

    @Test func senderAndReceiverReportsRoundTripInACompoundPacket() {
        let block = ReportBlock(ssrc: 1, fractionLost: 12, cumulativeLost: -3, highestSequence: 70_000, jitter: 55)
        let reports: [RTCPReport] = [
            .sender(ssrc: 9, ntp: 0x0123_4567_89AB_CDEF, rtpTimestamp: 160, packets: 10, octets: 1_600, blocks: [block]),
            .receiver(ssrc: 9, blocks: [block, block]),
        ]
        #expect(RTCPReport.parse(compound: reports.flatMap { $0.serialized() }) == reports)
        #expect(RTCPReport.parse(compound: [0x80, 200, 0, 9]) == nil, "a length past the end")
    }
}

@Suite struct G711Codecs {
    @Test func knownCodesDecodeToTheStandardsValues() {
        #expect(G711.decodeMu(0xFF) == 0 && G711.decodeMu(0x80) == 32_124 && G711.decodeMu(0x00) == -32_124)
        #expect(G711.decodeA(0xD5) == 8 && G711.decodeA(0x55) == -8 && G711.decodeA(0xAA) == 32_256)
        #expect(G711.encodeMu(0) == 0xFF && G711.encodeA(0) == 0xD5)
    }

    @Test func everyCodeSurvivesDecodeThenEncode() {
        for code in UInt8.min...UInt8.max {
            #expect(G711.encodeA(G711.decodeA(code)) == code)
            // µ-law has two zeros (0x7F and 0xFF): both decode to 0, which encodes as 0xFF.
            if code != 0x7F { #expect(G711.encodeMu(G711.decodeMu(code)) == code) }
        }
    }

    @Test func encodingKeepsTheErrorWithinTheSegmentsStep() {
        for sample in stride(from: -32_768, through: 32_767, by: 97).map(Int16.init) {
            for law in [G711.Law.mu, .a] {
                let back = G711.decode(G711.encode([sample], law), law)[0]
                let error = abs(Int(back) - Int(sample)), size = abs(Int(sample))
                #expect(error <= max(16, size / 16 + 64), "\(law) \(sample) → \(back)")
            }
        }
    }

    @Test func aToneTranscodedFromPCMUToPCMAKeepsItsFrequency() {
        var tone = ToneGenerator(frequencies: [1_000])
        let samples = tone.next(800)
        let through = G711.decode(G711.transcode(G711.encode(samples, .mu), from: .mu, to: .a), .a)
        #expect(toneShare(of: 1_000, in: through) > 0.9)
        #expect(toneShare(of: 440, in: through) < 0.05)
    }
}

@Suite struct Tones {
    @Test func theDetectorHearsEachPartysToneAndNotTheOthers() {
        var customer = ToneGenerator(frequencies: [440]), agent = ToneGenerator(frequencies: [1_000])
        let both = mix([customer.next(800), agent.next(800)])
        #expect(toneShare(of: 440, in: both) > 0.3 && toneShare(of: 1_000, in: both) > 0.3)
        #expect(toneShare(of: 1_500, in: both) < 0.02)
        #expect(toneShare(of: 440, in: [Int16](repeating: 0, count: 800)) == 0)
    }
}

@Suite struct Mixing {
    @Test func eachPartyHearsEveryoneButThemself() {
        let frames: [String: [Int16]] = ["a": .init(repeating: 100, count: 160), "b": .init(repeating: 20, count: 160),
                                         "c": .init(repeating: 3, count: 160)]
        let mixes = mixNMinusOne(frames)
        #expect(mixes["a"]?.first == 23 && mixes["b"]?.first == 103 && mixes["c"]?.first == 120)
    }

    @Test func loudPartiesClipInsteadOfWrapping() {
        let loud = [Int16](repeating: 30_000, count: 160)
        let mixes = mixNMinusOne(["a": loud, "b": loud, "c": loud])
        #expect(mixes["a"]?.allSatisfy { $0 == Int16.max } == true)
    }
}

@Suite struct JitterBuffers {
    func frame(_ value: Int16) -> [Int16] { [Int16](repeating: value, count: 160) }

    @Test func playingStartsOnceDepthFramesAreHeldAndReorderedPacketsComeOutInOrder() {
        var buffer = JitterBuffer(depth: 3)
        #expect(buffer.tick() == nil)
        buffer.insert(sequence: 11, frame: frame(11))
        buffer.insert(sequence: 10, frame: frame(10))
        #expect(buffer.tick() == nil, "still filling")
        buffer.insert(sequence: 12, frame: frame(12))
        #expect(buffer.tick()?.first == 10)
        #expect(buffer.tick()?.first == 11)
        #expect(buffer.tick()?.first == 12)
    }

    @Test func aLostPacketIsConcealedWithoutStallingAndALatePacketIsDropped() {
        var buffer = JitterBuffer(depth: 2)
        for sequence: UInt16 in [65_534, 65_535] { buffer.insert(sequence: sequence, frame: frame(400)) }
        buffer.insert(sequence: 1, frame: frame(1))  // 0 is lost; across the wrap
        #expect(buffer.tick()?.first == 400)
        #expect(buffer.tick()?.first == 400)
        let concealed = buffer.tick()
        #expect(concealed?.first == 300, "the last frame again, quieter")
        buffer.insert(sequence: 0, frame: frame(0))  // after its turn
        #expect(buffer.late == 1)
        #expect(buffer.tick()?.first == 1)
        #expect(buffer.lost == 1)
    }

    @Test func aBufferFilledFarBeyondItsCapacitySkipsAheadSoDelayStaysBounded() {
        var buffer = JitterBuffer(depth: 2, capacity: 5)
        for sequence: UInt16 in 0..<2 { buffer.insert(sequence: sequence, frame: frame(Int16(sequence))) }
        _ = buffer.tick()
        for sequence: UInt16 in 2..<20 { buffer.insert(sequence: sequence, frame: frame(Int16(sequence))) }
        let next = buffer.tick()?.first ?? -1
        #expect(next >= 17, "skipped to the newest \(buffer.depth) frames, got \(next)")
    }
}

@Suite struct WhoHearsWhom {
    let agent1 = Leg.agent("agent1"), agent2 = Leg.agent("agent2"), number = Leg.dialNumber("+15550100")

    @Test func queuedOrHeldTheCustomerHearsMusicAndNoOneElse() {
        let held = hearings(for: MediaPlan(conversation: [], customerHearsMusic: true), legs: [.customer, agent1])
        #expect(held == [.customer: .music, agent1: .nothing])
    }

    @Test func twoPartiesAreRelayedToEachOther() {
        let plan = MediaPlan(conversation: [.customer, agent1])
        #expect(hearings(for: plan, legs: [.customer, agent1]) == [.customer: .relay(from: agent1), agent1: .relay(from: .customer)])
    }

    @Test func duringAConsultTheCustomerHearsOnlyMusicAndTheAgentsOnlyEachOther() {
        let plan = MediaPlan(conversation: [], consultation: [agent1, agent2], customerHearsMusic: true)
        let heard = hearings(for: plan, legs: [.customer, agent1, agent2])
        #expect(heard == [.customer: .music, agent1: .relay(from: agent2), agent2: .relay(from: agent1)])
    }

    @Test func inAConferenceEachPartyHearsAMixOfTheOthers() {
        let plan = MediaPlan(conversation: [.customer, agent1, agent2])
        let heard = hearings(for: plan, legs: [.customer, agent1, agent2])
        #expect(heard[.customer] == .mix(of: [agent1, agent2]))
        #expect(heard[agent2] == .mix(of: [.customer, agent1]))
    }

    @Test func aLegStillRingingHearsNothingAndIsHeardByNoOne() {
        let plan = MediaPlan(conversation: [.customer, agent1, number])
        let heard = hearings(for: plan, legs: [.customer, agent1])
        #expect(heard == [.customer: .relay(from: agent1), agent1: .relay(from: .customer)])
    }
}

@Suite struct TelephoneEvents {
    @Test func aDigitRoundTripsAndNamesItself() {
        let event = TelephoneEvent(event: 11, end: true, volume: 10, duration: 1_280)
        #expect(TelephoneEvent(parsing: event.serialized()) == event)
        #expect(event.digit == "#")
        #expect(TelephoneEvent(event: 5, end: false, duration: 160).digit == "5")
        #expect(TelephoneEvent(parsing: [1, 2]) == nil)
    }
}
