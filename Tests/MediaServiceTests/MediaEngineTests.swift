import CallControl
import Media
@testable import MediaService
import NIOCore
import NIOPosix
import Recordings
import Synchronization
import Testing

/// The media engine over real UDP on loopback: each test phone sends its own tone every 20 ms
/// from its own port and keeps what it receives; a Goertzel detector says whom it heard.
/// What a phone received, decoded.
final class Tape: Sendable {
    let audio = Mutex<[Int16]>([])
    /// Who waits for the tape to reach a length (woken by the recorder, not by polling).
    private let waiter = Mutex<(count: Int, CheckedContinuation<Void, Never>)?>(nil)

    func record(_ samples: [Int16]) {
        let count = audio.withLock { audio in
            audio += samples
            return audio.count
        }
        let ready = waiter.withLock { waiter -> CheckedContinuation<Void, Never>? in
            guard let (wanted, continuation) = waiter, count >= wanted else { return nil }
            waiter = nil
            return continuation
        }
        ready?.resume()
    }

    /// Waits until a second and a half of audio has come in, then says which of the frequencies
    /// (and whether the music) its last `samples` hold (the first half second settles the change).
    func tones(_ frequencies: [String: Double], samples: Int = 8_000) async -> (found: Set<String>, audio: [Int16]) {
        await wait(for: samples * 3 / 2)
        let audio = self.audio.withLock { Array($0.suffix(samples)) }
        // A steady tone scores about 0.3–1, an absent one under 0.0001. A note that sounds a quarter
        // of the window scores about 1/16 of a steady tone; a tone broken up by a loaded machine's
        // late packets scores less: the thresholds are low, far above the floor.
        var found = Set(frequencies.filter { toneShare(of: $0.value, in: audio) > 0.02 }.keys)
        if MusicSource.builtInNotes.contains(where: { toneShare(of: $0, in: audio) > 0.02 }) { found.insert("music") }
        return (found, audio)
    }

    /// Returns once `count` samples are on the tape, or when `bound` has passed (the test then
    /// judges what there is).
    func wait(for count: Int, bound: Duration = .seconds(10)) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let enough = self.audio.withLock { $0.count >= count }
                    if enough { return continuation.resume() }
                    self.waiter.withLock { $0 = (count, continuation) }
                    // It may have filled between the two looks.
                    if self.audio.withLock({ $0.count >= count }) { self.record([]) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: bound)  // a bound on the wait, not a wait for state
                self.waiter.withLock { $0.take() }?.1.resume()
            }
            await group.next()
            group.cancelAll()
            self.waiter.withLock { $0.take() }?.1.resume()
        }
    }
}

final class TonePhone: Sendable {
    let channel: any Channel
    let port: Int
    private let tape = Tape()
    let lastShares = Mutex("")
    private let sending = Mutex<RepeatedTask?>(nil)
    let law: G711.Law

    /// With `keys`, the phone speaks SRTP: it protects what it sends with `local` and checks what
    /// it receives with `remote` (a packet that fails is not heard).
    let protect: LockedSRTP?

    init(frequency: Double, law: G711.Law = .mu, keys: SRTPKeys? = nil) async throws {
        self.law = law
        let tape = tape
        let unprotect = try keys.map { LockedSRTP(try SRTPContext(suite: $0.suite, master: $0.remote)) }
        protect = try keys.map { LockedSRTP(try SRTPContext(suite: $0.suite, master: $0.local)) }
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Recorder { envelope in
                        var bytes = Array(envelope.data.readableBytesView)
                        if let unprotect {
                            guard let plain = unprotect.context.withLock({ try? $0.unprotect(bytes) }) else { return }
                            bytes = plain
                        }
                        guard let packet = try? RTPPacket(parsing: bytes),
                            let law = G711.Law(payloadType: packet.payloadType)
                        else { return }
                        tape.record(G711.decode(packet.payload, law))
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.frequency = frequency
    }

    let frequency: Double

    /// Starts sending 20 ms packets of its tone to `port` on the engine.
    func send(to enginePort: Int) throws {
        let destination = try SocketAddress(ipAddress: "127.0.0.1", port: enginePort)
        let state = Mutex((ToneGenerator(frequencies: [frequency]), UInt16(0), UInt32(0)))
        let channel = channel, law = law, protect = protect
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(20)) { _ in
            let (frame, sequence, timestamp) = state.withLock { state -> ([Int16], UInt16, UInt32) in
                state.1 &+= 1
                state.2 &+= 160
                return (state.0.next(), state.1, state.2)
            }
            let packet = RTPPacket(payloadType: law.payloadType, sequence: sequence, timestamp: timestamp, ssrc: 77,
                                   payload: G711.encode(frame, law))
            var bytes = packet.serialized()
            if let protect { bytes = protect.context.withLock { (try? $0.protect(bytes)) ?? [] } }
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: bytes)), promise: nil)
        }
        sending.withLock { $0 = task }
    }

    func clear() { tape.audio.withLock { $0 = [] } }

    /// Waits until a second and a half of audio has come in, then says which of the
    /// frequencies its last second holds (the first half second settles the change).
    func hears(_ frequencies: [String: Double], samples: Int = 8_000) async throws -> Set<String> {
        let (found, audio) = await tape.tones(frequencies, samples: samples)
        lastShares.withLock { $0 = frequencies.mapValues { toneShare(of: $0, in: audio) }.description + " music \(MusicSource.builtInNotes.map { toneShare(of: $0, in: audio) })" }
        return found
    }

    var samplesHeard: Int { tape.audio.withLock { $0.count } }

    func stop() async {
        sending.withLock { $0?.cancel() }
        try? await channel.close()
    }
}

/// A phone's SRTP context, used from its event loop's callbacks.
final class LockedSRTP: Sendable {
    let context: Mutex<SRTPContext>
    init(_ context: SRTPContext) { self.context = Mutex(context) }
}

final class Recorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let onRead: @Sendable (AddressedEnvelope<ByteBuffer>) -> Void
    init(_ onRead: @escaping @Sendable (AddressedEnvelope<ByteBuffer>) -> Void) { self.onRead = onRead }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { onRead(Self.unwrapInboundIn(data)) }
}

@Suite(.serialized) struct MediaEngineTests {
    static let tones: [String: Double] = ["customer": 440, "agent1": 1_000, "agent2": 1_500]
    let call: InteractionID = "call-1"

    @Test func overRealUDPTheConsultIsPrivateAndTheConferenceMixesEveryoneButEachListener() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 31_000...31_999)
        let customer = try await TonePhone(frequency: 440, law: .a)
        let agent1 = try await TonePhone(frequency: 1_000)
        let agent2 = try await TonePhone(frequency: 1_500)
        let phones: [(Leg, TonePhone)] = [(.customer, customer), (.agent("agent1"), agent1), (.agent("agent2"), agent2)]
        for (leg, phone) in phones {
            let key = MediaEngine.LegKey(call, leg)
            let port = try await engine.open(key)
            #expect(port % 2 == 0 && (31_000...31_999).contains(port))
            engine.describe(key, remote: ("127.0.0.1", phone.port), law: phone.law, eventPayloadType: 101)
            try phone.send(to: port)
        }

        // Consulting: the customer hears music (and only music), the agents each other.
        engine.apply(call, MediaPlan(consultation: [.agent("agent1"), .agent("agent2")], customerHearsMusic: true))
        for phone in [customer, agent1, agent2] { phone.clear() }
        #expect(try await customer.hears(Self.tones) == ["music"])
        #expect(try await agent1.hears(Self.tones) == ["agent2"])
        #expect(try await agent2.hears(Self.tones) == ["agent1"])

        // Conferenced: each hears the other two (the customer on A-law, the agents on µ-law).
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1"), .agent("agent2")]))
        for phone in [customer, agent1, agent2] { phone.clear() }
        #expect(try await customer.hears(Self.tones) == ["agent1", "agent2"])
        #expect(try await agent1.hears(Self.tones) == ["customer", "agent2"], "\(agent1.lastShares.withLock { $0 })")
        #expect(try await agent2.hears(Self.tones) == ["customer", "agent1"], "\(agent2.lastShares.withLock { $0 })")

        // Symmetric RTP: each leg latched its phone's address.
        let figures = await engine.figures(MediaEngine.LegKey(call, .customer))
        #expect(figures?.latched == "127.0.0.1:\(customer.port)")

        // Agent 2's leg ends: it receives nothing more; the other two hear each other.
        engine.close(MediaEngine.LegKey(call, .agent("agent2")))
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1")]))
        #expect(await engine.figures(MediaEngine.LegKey(call, .agent("agent2"))) == nil)
        for phone in [customer, agent1, agent2] { phone.clear() }
        #expect(try await customer.hears(Self.tones) == ["agent1"])
        // A packet written just before the close may still have been on its way to agent 2's
        // phone at the first clear; in the next second and a half (agent 1 listening afresh)
        // nothing comes.
        agent1.clear()
        agent2.clear()
        #expect(try await agent1.hears(Self.tones) == ["customer"])
        #expect(agent2.samplesHeard == 0)

        for (_, phone) in phones { await phone.stop() }
        await engine.closeAll()
    }

    @Test(.enabled(if: System.coreCount >= 2, "one shard per event loop: needs two loops"))
    func callsSpreadOverTheShardsEachCallsLegsOnOneShardWhosePortsARestartBindsAgain() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 32_000...32_199, shards: 2)
        var shards = Set<ObjectIdentifier>()
        var first: Int?
        for index in 0..<20 {
            let call = InteractionID("spread-\(index)")
            let customer = try await engine.open(MediaEngine.LegKey(call, .customer))
            _ = try await engine.open(MediaEngine.LegKey(call, .agent("agent1")))
            // Both legs live on the call's shard: its sockets hold them.
            let shard = engine.shard(call)
            #expect(await shard.figures(MediaEngine.LegKey(call, .customer)) != nil)
            #expect(await shard.figures(MediaEngine.LegKey(call, .agent("agent1"))) != nil)
            shards.insert(ObjectIdentifier(shard))
            if index == 0 { first = customer }
        }
        #expect(shards.count == 2, "calls use both shards")

        // After a restart the same call hashes to the same shard, which binds its old port again;
        // a port another leg holds is refused.
        let restarted = MediaEngine(host: "127.0.0.1", ports: 32_000...32_199, shards: 2)
        await engine.closeAll()
        let port = try #require(first)
        try await restarted.reopen(MediaEngine.LegKey("spread-0", .customer), port: port)
        #expect(await restarted.figures(MediaEngine.LegKey("spread-0", .customer))?.port == port)
        await #expect(throws: MediaEngine.OpenError.self) {
            try await restarted.reopen(MediaEngine.LegKey("spread-1", .customer), port: port)
        }
        await restarted.closeAll()
    }

    @Test(.enabled(if: System.coreCount >= 2, "one shard per event loop: needs two loops"))
    func everyFreePortPairServesACallWhicheverShardTheCallsHashTo() async throws {
        // 10 pairs, 2 shards: five rounds of 5 calls × 2 legs each take every pair, however the
        // calls hash; the 11th leg finds none; hanging up a round frees them all for the next.
        let engine = MediaEngine(host: "127.0.0.1", ports: 32_300...32_319, shards: 2)
        for round in 0..<5 {
            var keys: [MediaEngine.LegKey] = []
            for index in 0..<5 {
                let call = InteractionID("round\(round)-\(index)")
                for leg in [Leg.customer, .agent("agent1")] {
                    let key = MediaEngine.LegKey(call, leg)
                    _ = try await engine.open(key)
                    keys.append(key)
                }
            }
            #expect(keys.count == 10)
            await #expect(throws: MediaEngine.OpenError.self) { try await engine.open(MediaEngine.LegKey("one-too-many", .customer)) }
            #expect(engine.freePortPairs == 0)
            for key in keys { engine.close(key) }
            var free = engine.freePortPairs
            for _ in 0..<100_000 where free < 10 {
                await Task.yield()
                free = engine.freePortPairs
            }
            #expect(free == 10, "round \(round): every pair back")
        }
        await engine.closeAll()
    }

    @Test func anSRTPLegIsHeardAndHearsThroughItsKeysWhileAPhoneWithTheWrongKeyIsNeitherHeardNorLatched() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 32_400...32_499)
        let (phoneKey, engineKey) = (SRTPKey.random(), SRTPKey.random())
        let suite = SRTPSuite.aes128HMACSHA1_80
        let customer = try await TonePhone(frequency: 440, keys: SRTPKeys(suite: suite, local: phoneKey, remote: engineKey))
        let impostor = try await TonePhone(frequency: 1_500, keys: SRTPKeys(suite: suite, local: .random(), remote: engineKey))
        let agent = try await TonePhone(frequency: 1_000)
        let customerKey = MediaEngine.LegKey(call, .customer), agentKey = MediaEngine.LegKey(call, .agent("agent1"))
        let customerPort = try await engine.open(customerKey)
        let agentPort = try await engine.open(agentKey)
        engine.describe(customerKey, remote: ("127.0.0.1", customer.port), law: .mu, eventPayloadType: nil,
                        keys: SRTPKeys(suite: suite, local: engineKey, remote: phoneKey))
        engine.describe(agentKey, remote: ("127.0.0.1", agent.port), law: .mu, eventPayloadType: nil)
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1")]))
        // The impostor comes first: its packets fail their tag, so it can neither latch nor be heard.
        try impostor.send(to: customerPort)
        try await Task.sleep(for: .milliseconds(200))  // lets a few of its packets arrive first (paces the peer, waits for no state)
        try customer.send(to: customerPort)
        try agent.send(to: agentPort)
        #expect(try await customer.hears(Self.tones) == ["agent1"], "\(customer.lastShares.withLock { $0 })")
        #expect(try await agent.hears(Self.tones) == ["customer"], "\(agent.lastShares.withLock { $0 })")
        let figures = await engine.figures(customerKey)
        #expect(figures?.latched == "127.0.0.1:\(customer.port)")
        #expect((figures?.dropped ?? 0) > 0, "the impostor's packets were dropped")
        for phone in [customer, impostor, agent] { await phone.stop() }
        await engine.closeAll()
    }

    @Test func aRecordingThatCannotBeWrittenIsToldOnceAndTheCallGoesOnHeard() async throws {
        let failures = Mutex<[(InteractionID, String)]>([])
        // A directory that cannot exist: every write fails, as on a full or unwritable disk.
        let engine = MediaEngine(
            host: "127.0.0.1", ports: 32_600...32_699,
            recordings: RecordingSink(directory: RecordingDirectory(path: "/proc/no-such-place")) { call, why in
                failures.withLock { $0.append((call, why)) }
            })
        let customer = try await TonePhone(frequency: 440), agent = try await TonePhone(frequency: 1_000)
        let customerKey = MediaEngine.LegKey(call, .customer), agentKey = MediaEngine.LegKey(call, .agent("agent1"))
        let customerPort = try await engine.open(customerKey), agentPort = try await engine.open(agentKey)
        engine.describe(customerKey, remote: ("127.0.0.1", customer.port), law: .mu, eventPayloadType: nil)
        engine.describe(agentKey, remote: ("127.0.0.1", agent.port), law: .mu, eventPayloadType: nil)
        var plan = MediaPlan(conversation: [.customer, .agent("agent1")])
        plan.recording = .on
        engine.apply(call, plan)
        try customer.send(to: customerPort)
        try agent.send(to: agentPort)
        #expect(try await customer.hears(Self.tones) == ["agent1"], "\(customer.lastShares.withLock { $0 })")
        #expect(try await agent.hears(Self.tones) == ["customer"], "\(agent.lastShares.withLock { $0 })")
        let told = failures.withLock { $0 }
        #expect(told.count == 1, "told once, not every tick: \(told.map(\.1))")
        #expect(told.first?.0 == call)
        for phone in [customer, agent] { await phone.stop() }
        await engine.closeAll()
    }

    @Test func packetsFromAnotherSourceAfterTheLatchAreDropped() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 32_200...32_299)
        let (customer, agent1, intruder) = (try await TonePhone(frequency: 440), try await TonePhone(frequency: 1_000),
                                            try await TonePhone(frequency: 1_500))
        let customerPort = try await engine.open(MediaEngine.LegKey(call, .customer))
        let agentPort = try await engine.open(MediaEngine.LegKey(call, .agent("agent1")))
        engine.describe(MediaEngine.LegKey(call, .customer), remote: ("127.0.0.1", customer.port), law: .mu, eventPayloadType: nil)
        engine.describe(MediaEngine.LegKey(call, .agent("agent1")), remote: ("127.0.0.1", agent1.port), law: .mu, eventPayloadType: nil)
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1")]))
        try customer.send(to: customerPort)
        try agent1.send(to: agentPort)
        #expect(try await agent1.hears(Self.tones) == ["customer"])
        try intruder.send(to: customerPort)  // someone else aims at the customer's port
        agent1.clear()
        #expect(try await agent1.hears(Self.tones) == ["customer"], "the intruder's tone is never relayed")
        #expect((await engine.figures(MediaEngine.LegKey(call, .customer)))?.dropped ?? 0 > 0)
        for phone in [customer, agent1, intruder] { await phone.stop() }
        await engine.closeAll()
    }
}

@Suite struct PacketWriting {
    @Test func aPacketWrittenIntoAByteBufferIsTheSameBytesAsSerialized() {
        let packet = RTPPacket(payloadType: 8, marker: true, sequence: 513, timestamp: 0x0102_0304, ssrc: 0xA0B0_C0D0, csrcs: [5],
                               payload: [1, 2, 3, 4])
        var buffer = ByteBuffer()
        packet.write(to: &buffer)
        #expect(Array(buffer.readableBytesView) == packet.serialized())
    }
}

@Suite struct MediaEngineMemory {
    @Test func aCallsMediaGoesWithItsLastLegAndALateMediaPlanDoesNotBringItBack() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 32_300...32_399)
        let call: InteractionID = "call-9"
        for leg in [Leg.customer, .agent("agent1")] {
            let key = MediaEngine.LegKey(call, leg)
            _ = try await engine.open(key)
            engine.describe(key, remote: nil, law: .mu, eventPayloadType: nil)
        }
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1")]))
        #expect(await engine.callsHeld() == 1)
        engine.close(MediaEngine.LegKey(call, .customer))
        engine.close(MediaEngine.LegKey(call, .agent("agent1")))
        engine.apply(call, .silent)  // the core's last word, after the legs are gone
        #expect(await engine.callsHeld() == 0)
        await engine.closeAll()
    }
}
