import CallControl
import Media
import Testing

/// A call's media as a value, driven like the shell drives it: each party sends its own tone every
/// 20 ms, the tick runs, and a Goertzel detector says which tones each party's received audio holds.
@Suite struct CallMediaTranscripts {
    static let customer = Leg.customer, agent1 = Leg.agent("agent1"), agent2 = Leg.agent("agent2")
    static let supervisor = Leg.supervisor("supervisor1")
    static let tones: [Leg: Double] = [customer: 440, agent1: 1_000, agent2: 1_500, supervisor: 2_000]

    struct Party {
        var tone: ToneGenerator
        var law: G711.Law
        var sequence: UInt16 = 0
        var timestamp: UInt32 = 0
        var ssrc: UInt32 = 1
        var heard: [Int16] = []
    }

    var media = CallMedia(seed: 7)
    var parties: [Leg: Party] = [:]
    var music = MusicSource.builtIn()

    init(laws: [Leg: G711.Law] = [:]) {
        for (leg, frequency) in Self.tones {
            let law = laws[leg] ?? .mu
            parties[leg] = Party(tone: ToneGenerator(frequencies: [frequency]), law: law)
            media.addLeg(leg, law: law, eventPayloadType: 101)
        }
    }

    /// Runs `ticks` × 20 ms: every party sends a packet (unless `silent`), then the tick; each
    /// party's received packets are decoded into what it heard.
    mutating func run(_ ticks: Int = 25, drop: (Leg, Int) -> Bool = { _, _ in false }) {
        for leg in parties.keys { parties[leg]?.heard = [] }
        for index in 0..<ticks {
            var out: [CallMedia.Outbound] = []
            for (leg, var party) in parties.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                let frame = party.tone.next()
                party.sequence &+= 1
                party.timestamp &+= 160
                parties[leg] = party
                if drop(leg, index) { continue }
                let packet = RTPPacket(payloadType: party.law.payloadType, sequence: party.sequence, timestamp: party.timestamp,
                                       ssrc: party.ssrc, payload: G711.encode(frame, party.law))
                out += media.received(packet, from: leg)
            }
            out += media.tick(music: music.next())
            for outbound in out {
                let law = parties[outbound.to]!.law
                #expect(outbound.packet.payloadType == law.payloadType, "each leg gets its own codec")
                parties[outbound.to]?.heard += G711.decode(outbound.packet.payload, law)
            }
        }
    }

    /// The tones (parties' and music's) this leg heard over the last run.
    func heard(by leg: Leg) -> Set<String> {
        let audio = parties[leg]!.heard
        var found = Set<String>()
        for (party, frequency) in Self.tones where toneShare(of: frequency, in: audio) > 0.1 { found.insert("\(party)") }
        // A note that sounds a quarter of the window scores about 1/16 of a steady tone.
        if MusicSource.builtInNotes.contains(where: { toneShare(of: $0, in: audio) > 0.03 }) { found.insert("music") }
        return found
    }

    static func names(_ legs: Leg...) -> Set<String> { Set(legs.map { "\($0)" }) }

    @Test mutating func queuedTheCustomerHearsMusicAndTheAgentsNothing() {
        media.setPlan(MediaPlan(customerHearsMusic: true))
        run()
        #expect(heard(by: Self.customer) == ["music"])
        #expect(parties[Self.agent1]!.heard.isEmpty && parties[Self.agent2]!.heard.isEmpty)
    }

    @Test mutating func connectedTheCustomerAndAgent1HearEachOtherOnly() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer))
        #expect(parties[Self.agent2]!.heard.isEmpty)
    }

    @Test mutating func consultingTheCustomerHearsMusicAndNeverTheConsultWhileTheAgentsHearEachOther() {
        media.setPlan(MediaPlan(consultation: [Self.agent1, Self.agent2], customerHearsMusic: true))
        run()
        #expect(heard(by: Self.customer) == ["music"])
        #expect(heard(by: Self.agent1) == Self.names(Self.agent2))
        #expect(heard(by: Self.agent2) == Self.names(Self.agent1), "agent 2 never hears the customer before the conference")
    }

    @Test mutating func conferencedEachPartyHearsTheOtherTwoButNotThemself() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.agent2]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1, Self.agent2))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer, Self.agent2))
        #expect(heard(by: Self.agent2) == Self.names(Self.customer, Self.agent1))
    }

    @Test mutating func afterAgent2ExitsOrTheCustomerLeavesExactlyTheRemainingPartiesHearEachOther() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.agent2]))
        run()
        media.removeLeg(Self.agent2)
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1))
        #expect(parties[Self.agent2]!.heard.isEmpty, "an ended leg receives nothing")
        media.removeLeg(Self.customer)
        media.addLeg(Self.agent2, law: .mu, eventPayloadType: nil)
        media.setPlan(MediaPlan(conversation: [Self.agent1, Self.agent2]))  // wrap-up assist
        run()
        #expect(heard(by: Self.agent1) == Self.names(Self.agent2))
        #expect(parties[Self.customer]!.heard.isEmpty)
    }

    // MARK: Supervisors

    @Test mutating func aMonitorHearsTheCustomerAndAgent1AndNobodyHearsTheMonitor() {
        media.setPlan(MediaPlan(
            conversation: [Self.customer, Self.agent1],
            listeners: [.init(leg: Self.supervisor, hears: [Self.customer, Self.agent1])]))
        run()
        #expect(heard(by: Self.supervisor) == Self.names(Self.customer, Self.agent1))
        #expect(heard(by: Self.customer) == Self.names(Self.agent1))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer))
    }

    @Test mutating func aCoachIsHeardByAgent1AndNeverByTheCustomer() {
        media.setPlan(MediaPlan(
            conversation: [Self.customer, Self.agent1],
            listeners: [.init(leg: Self.supervisor, hears: [Self.customer, Self.agent1], heardBy: Self.agent1)]))
        run()
        #expect(heard(by: Self.agent1) == Self.names(Self.customer, Self.supervisor))
        #expect(heard(by: Self.customer) == Self.names(Self.agent1))
        #expect(heard(by: Self.supervisor) == Self.names(Self.customer, Self.agent1))
    }

    @Test mutating func aMonitorOfAConferenceHearsAllThreeWhileEachConfereeHearsTheOtherTwo() {
        media.setPlan(MediaPlan(
            conversation: [Self.customer, Self.agent1, Self.agent2],
            listeners: [.init(leg: Self.supervisor, hears: [Self.customer, Self.agent1, Self.agent2])]))
        run()
        #expect(heard(by: Self.supervisor) == Self.names(Self.customer, Self.agent1, Self.agent2))
        #expect(heard(by: Self.customer) == Self.names(Self.agent1, Self.agent2))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer, Self.agent2))
        #expect(heard(by: Self.agent2) == Self.names(Self.customer, Self.agent1))
    }

    @Test mutating func aBargedSupervisorHearsEveryoneAndEveryoneHearsThem() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.supervisor]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1, Self.supervisor))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer, Self.supervisor))
        #expect(heard(by: Self.supervisor) == Self.names(Self.customer, Self.agent1))
    }

    // MARK: Recording

    /// Each channel of the recording over the last run: the center's (left) and the outside's (right).
    mutating func recordRun(_ ticks: Int = 25) -> (left: [Int16], right: [Int16]) {
        var left: [Int16] = [], right: [Int16] = []
        for _ in 0..<ticks {
            run(1)
            guard let frame = media.recordedFrame else { continue }
            for i in 0..<(frame.count / 2) {
                left.append(frame[2 * i])
                right.append(frame[2 * i + 1])
            }
        }
        return (left, right)
    }

    func tones(in audio: [Int16]) -> Set<String> {
        var found = Set<String>()
        for (party, frequency) in Self.tones where toneShare(of: frequency, in: audio) > 0.1 { found.insert("\(party)") }
        return found
    }

    @Test mutating func theRecordingHasTheAgentsOnTheLeftAndTheCustomerOnTheRight() {
        var plan = MediaPlan(conversation: [Self.customer, Self.agent1])
        plan.recording = .on
        media.setPlan(plan)
        let (left, right) = recordRun()
        #expect(left.count == 25 * 160 && right.count == 25 * 160, "a stereo frame every tick")
        #expect(tones(in: Array(left.dropFirst(480))) == Self.names(Self.agent1))
        #expect(tones(in: Array(right.dropFirst(480))) == Self.names(Self.customer))
    }

    @Test mutating func aPausedRecordingIsSilenceOfTheSameLength() {
        var plan = MediaPlan(conversation: [Self.customer, Self.agent1])
        plan.recording = .paused
        media.setPlan(plan)
        let (left, right) = recordRun()
        #expect(left.count == 25 * 160)
        #expect(left.allSatisfy { $0 == 0 } && right.allSatisfy { $0 == 0 })
    }

    @Test mutating func monitorAndCoachAreNeverRecordedButABargeIsOnTheAgentsSide() {
        var plan = MediaPlan(
            conversation: [Self.customer, Self.agent1],
            listeners: [.init(leg: Self.supervisor, hears: [Self.customer, Self.agent1], heardBy: Self.agent1)])
        plan.recording = .on
        media.setPlan(plan)
        var (left, right) = recordRun()
        #expect(tones(in: Array(left.dropFirst(480))) == Self.names(Self.agent1), "a coach is not recorded")
        #expect(tones(in: Array(right.dropFirst(480))) == Self.names(Self.customer))
        plan = MediaPlan(conversation: [Self.customer, Self.agent1, Self.supervisor])
        plan.recording = .on
        media.setPlan(plan)
        (left, right) = recordRun()
        #expect(tones(in: Array(left.dropFirst(480))) == Self.names(Self.agent1, Self.supervisor))
        #expect(tones(in: Array(right.dropFirst(480))) == Self.names(Self.customer))
    }

    @Test mutating func whileTheCustomerIsHeldTheirChannelIsSilenceAndTheConsultIsOnTheAgentsSide() {
        var plan = MediaPlan(consultation: [Self.agent1, Self.agent2], customerHearsMusic: true)
        plan.recording = .on
        media.setPlan(plan)
        let (left, right) = recordRun()
        #expect(tones(in: Array(left.dropFirst(480))) == Self.names(Self.agent1, Self.agent2))
        #expect(right.allSatisfy { $0 == 0 }, "nothing of the customer, nor the music")
    }

    @Test mutating func aCallThatIsNotRecordedMakesNoFrames() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        run()
        #expect(media.recordedFrame == nil)
    }

    @Test mutating func partiesOnDifferentLawsHearEachOtherInTheirOwn() {
        self = CallMediaTranscripts(laws: [Self.customer: .a])
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1))
        #expect(heard(by: Self.agent1) == Self.names(Self.customer))
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.agent2]))
        run()
        #expect(heard(by: Self.customer) == Self.names(Self.agent1, Self.agent2))
    }

    @Test mutating func fivePercentLossOnOneLegDoesNotSilenceTheOthersInTheMix() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.agent2]))
        run(100) { leg, index in leg == Self.customer && index % 20 == 3 }
        #expect(heard(by: Self.agent1) == Self.names(Self.customer, Self.agent2))
        #expect(parties[Self.agent1]!.heard.count == 100 * 160, "a frame every tick")
        #expect(media.statistics(of: Self.customer)!.lost >= 4)
    }

    @Test mutating func theStreamEachLegReceivesKeepsItsSSRCAndNumbersAcrossAChangeOfSource() {
        var seen: [(UInt32, UInt16, UInt32)] = []
        media.setPlan(MediaPlan(customerHearsMusic: true))
        for _ in 0..<3 {
            for out in media.tick(music: Frame.silence) where out.to == Self.customer {
                seen.append((out.packet.ssrc, out.packet.sequence, out.packet.timestamp))
            }
        }
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        let packet = RTPPacket(payloadType: 0, sequence: 999, timestamp: 77_777, ssrc: 5, payload: [UInt8](repeating: 0xFF, count: 160))
        for out in media.received(packet, from: Self.agent1) { seen.append((out.packet.ssrc, out.packet.sequence, out.packet.timestamp)) }
        #expect(Set(seen.map(\.0)).count == 1)
        #expect(zip(seen, seen.dropFirst()).allSatisfy { $1.1 == $0.1 &+ 1 && $1.2 == $0.2 &+ 160 })
    }

    @Test mutating func aSourceThatStartsANewStreamIsRelayedOnWithoutAJumpAndMixedAtOnce() {
        // Agent 1's browser reloads mid-call: its new session sends a new SSRC whose numbers start
        // far behind the old ones. The customer's stream carries on by one; in a conference the
        // new stream is mixed at once (not held back as late).
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        func send(_ sequence: UInt16, ssrc: UInt32) -> RTPPacket? {
            let packet = RTPPacket(payloadType: 0, sequence: sequence, timestamp: UInt32(sequence) * 160, ssrc: ssrc,
                                   payload: [UInt8](repeating: 0xFF, count: 160))
            return media.received(packet, from: Self.agent1).first { $0.to == Self.customer }?.packet
        }
        let before = [send(30_000, ssrc: 1), send(30_001, ssrc: 1)].compactMap { $0 }
        let after = [send(2_000, ssrc: 2), send(2_001, ssrc: 2)].compactMap { $0 }
        let stream = before + after
        #expect(stream.count == 4)
        #expect(zip(stream, stream.dropFirst()).allSatisfy { $1.sequence == $0.sequence &+ 1 })
        #expect(Set(stream.map(\.ssrc)).count == 1)

        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1, Self.agent2]))
        run(10)
        // Agent 1 restarts its stream under a new SSRC, numbered far behind where it was.
        parties[Self.agent1]?.sequence = 60_000
        parties[Self.agent1]?.ssrc = 3
        run(25)
        #expect(heard(by: Self.customer) == Self.names(Self.agent1, Self.agent2))
    }

    @Test mutating func aDigitFromTheCustomerReachesAgent1AsATelephoneEventAndIsReadByTheServer() {
        media.setPlan(MediaPlan(conversation: [Self.customer, Self.agent1]))
        var delivered: [TelephoneEvent] = []
        for (index, end) in [false, false, true, true, true].enumerated() {
            let event = TelephoneEvent(event: 7, end: end, duration: UInt16(160 * (index + 1)))
            let packet = RTPPacket(payloadType: 101, marker: index == 0, sequence: UInt16(10 + index), timestamp: 8_000, ssrc: 3,
                                   payload: event.serialized())
            for out in media.received(packet, from: Self.customer) where out.to == Self.agent1 {
                #expect(out.packet.payloadType == 101)
                delivered += TelephoneEvent(parsing: out.packet.payload).map { [$0] } ?? []
            }
        }
        #expect(delivered.count == 5 && delivered.last?.digit == "7")
        #expect(media.digits.map(\.digit) == ["7"], "the end is sent three times; the digit is read once")
    }
}

@Suite struct MusicFiles {
    @Test func aPCM16WAVAtEightKilohertzIsReadAndOtherShapesAreRefused() throws {
        func wav(format: UInt16, channels: UInt16, rate: UInt32, bits: UInt16, data: [UInt8]) -> [UInt8] {
            func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
            func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
            let fmt = le16(format) + le16(channels) + le32(rate) + le32(rate * UInt32(bits / 8)) + le16(bits / 8) + le16(bits)
            let body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(16) + fmt + Array("data".utf8) + le32(UInt32(data.count)) + data
            return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
        }
        #expect(try WAVFile.samples(wav(format: 1, channels: 1, rate: 8_000, bits: 16, data: [0x01, 0x00, 0xFF, 0xFF])) == [1, -1])
        #expect(try WAVFile.samples(wav(format: 7, channels: 1, rate: 8_000, bits: 8, data: [0xFF])) == [0])
        #expect(throws: WAVFile.Problem.self) { try WAVFile.samples(wav(format: 1, channels: 2, rate: 44_100, bits: 16, data: [])) }
        #expect(throws: WAVFile.Problem.notWAV) { try WAVFile.samples(Array("not a wav file".utf8)) }
    }

    @Test func musicPlaysOnFromWhereItIsAndLoops() {
        var music = MusicSource(samples: (0..<400).map { Int16($0) })
        #expect(music.next().first == 0)
        #expect(music.next().first == 160)
        let third = music.next()
        #expect(third[79] == 399 && third[80] == 0, "loops")
    }
}
