import ArgumentParser
import CallControl
import Cryptography
import Foundation
import Media
import MediaService
import NIOCore
import NIOPosix
import Recordings
import Synchronization
import WebRTC

/// `switchboard media-bench`: the media engine under load on this machine, with its own RTP
/// generator and checker in the same process (on their own event loop). Calls of two legs are
/// relayed, calls of three are mixed; every leg's phone sends a 20 ms G.711 packet each 20 ms and
/// counts what it receives: loss, and how far each arrival strays from 20 ms after the previous
/// (the jitter the path adds). The engine's CPU is read from /proc for its own thread. First, the
/// loopback UDP ceiling: how many packets a second one socket can push to another here.
struct MediaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "media-bench", abstract: "Measure the media engine: relayed legs and mixed conferences, loss, jitter, CPU.")

    @Option(help: "Relayed calls (two legs each).") var relayed = 500
    @Option(help: "Mixed conferences (three legs each).") var conferences = 0
    @Option(help: "Seconds to measure (after a 2 s warm-up).") var seconds = 10
    @Option(help: "The first of the media ports to use (the engine's range starts here).") var firstPort = 30_000
    @Option(help: "Event loops the engine spreads calls over (default: one per core).") var shards = System.coreCount
    @Flag(help: """
        All phones send and receive on one socket (batched: sendmmsg and recvmmsg), which costs the \
        generator far less than a socket per phone, so more of the machine is left to the engine.
        """) var sharedSocket = false
    @Flag(help: "Every leg is SRTP (AES_CM_128_HMAC_SHA1_80): the engine checks and decrypts what it receives and encrypts what it sends, as the phones do.")
    var srtp = false
    @Flag(help: "Every leg is a browser's WebRTC session: one port each for STUN, DTLS and SRTP; ICE and a DTLS handshake at setup (timed: handshakes per second), SRTP keyed from it.")
    var webrtc = false
    @Flag(help: "Every call is recorded: a stereo WAV each, written as it goes, in a directory of its own (removed after).")
    var record = false
    @Flag(help: "Measure plain RTP legs first, then the same calls with --srtp or --webrtc legs (or recorded, with --record), in one run, and print the ratio of the engine's CPU per leg.")
    var compare = false

    enum LegKind: String {
        case plain = "plain RTP", srtp = "SRTP (SDES keys)", webrtc = "WebRTC (DTLS-SRTP)", recorded = "plain RTP, recorded"
    }

    func validate() throws {
        if relayed < 0 || conferences < 0 || relayed + conferences == 0 { throw ValidationError("give --relayed or --conferences") }
        if !(1...600).contains(seconds) { throw ValidationError("--seconds must be between 1 and 600") }
        if !(1...System.coreCount).contains(shards) { throw ValidationError("--shards must be between 1 and \(System.coreCount)") }
        if srtp && webrtc { throw ValidationError("--srtp or --webrtc, not both") }
        if compare && !(srtp || webrtc || record) {
            throw ValidationError("--compare measures plain RTP against --srtp, --webrtc or --record: give one")
        }
        if record && (srtp || webrtc) { throw ValidationError("--record measures plain RTP legs recorded: no --srtp or --webrtc") }
        if webrtc && sharedSocket { throw ValidationError("--webrtc legs each have their own socket (their DTLS): no --shared-socket") }
    }

    func run() async throws {
        let generatorGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ceiling = try await loopbackCeiling(generatorGroup)
        print(String(format: "loopback UDP ceiling: %.0f packets/s one way (= %.0f legs at 50 packets/s)", ceiling, ceiling / 50))
        let secure: LegKind = webrtc ? .webrtc : srtp ? .srtp : record ? .recorded : .plain
        if compare {
            let plain = try await measure(.plain, generatorGroup)
            print("")
            let other = try await measure(secure, generatorGroup)
            print("")
            print(String(format: "engine CPU per leg, %@ / plain RTP: %.2f× (%.1f µs against %.1f µs per leg per second)",
                         secure.rawValue, other / plain, other, plain))
        } else {
            _ = try await measure(secure, generatorGroup)
        }
        try await generatorGroup.shutdownGracefully()
    }

    /// One measurement: sets the calls up with legs of `kind`, runs them, prints the figures, and
    /// returns the engine's CPU per leg per second (µs).
    func measure(_ kind: LegKind, _ generatorGroup: MultiThreadedEventLoopGroup) async throws -> Double {
        let legs = relayed * 2 + conferences * 3
        let recordings = kind == .recorded
            ? RecordingDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("bench-recordings-\(UUID().uuidString)").path)
            : nil
        try recordings?.prepare()
        defer { if let recordings { try? FileManager.default.removeItem(atPath: recordings.path) } }
        let failures = Counter()
        let engine = MediaEngine(
            host: "127.0.0.1", ports: firstPort...(firstPort + legs * 2 + 2_000), shards: shards,
            recordings: recordings.map { RecordingSink(directory: $0) { _, _ in failures.value.withLock { $0 += 1 } } })
        var phones: [BenchPhone] = []
        let shared = sharedSocket ? try await SharedPhoneSocket(group: generatorGroup) : nil
        let browserCertificate = try SelfSignedCertificate.make(commonName: "bench-browser", names: [])
        let browserContext = try DTLSContext(
            certificatePEM: browserCertificate.certificatePEM, privateKeyPEM: browserCertificate.privateKeyPEM, isServer: false)
        let offer = try WebRTCOffer(parsing: BenchBrowser.offer(fingerprint: browserCertificate.fingerprint))
        let setupCPU = engineCPU()
        let setupStarted = ContinuousClock.now
        for index in 0..<(relayed + conferences) {
            let call = InteractionID("bench-\(index)")
            let parties: [Leg] = index < relayed ? [.customer, .agent("a")] : [.customer, .agent("a"), .agent("b")]
            if kind == .webrtc {
                // The call's legs' handshakes side by side, as browsers connecting at once would.
                try await withThrowingTaskGroup(of: BenchPhone.self) { group in
                    for leg in parties {
                        group.addTask {
                            let browser = try await BenchBrowser(group: generatorGroup)
                            let id = WebRTCSessionID("bench-\(index)-\(leg)")
                            let answer = try await engine.openWebRTC(offer, id: id) { _ in }
                            let keys = try await browser.connect(answer: answer, context: browserContext)
                            try await engine.attachWebRTC(id, to: MediaEngine.LegKey(call, leg))
                            let port = try await engine.webRTCFigures(id)?.port ?? 0
                            return try await BenchPhone(
                                group: generatorGroup, enginePort: port, stamped: index < relayed, shared: nil, keys: keys,
                                channel: browser.channel)
                        }
                    }
                    for try await phone in group { phones.append(phone) }
                }
            } else {
                for leg in parties {
                    let key = MediaEngine.LegKey(call, leg)
                    let port = try await engine.open(key)
                    let keys = kind == .srtp ? SRTPKeys(suite: .aes128HMACSHA1_80, local: .random(), remote: .random()) : nil
                    let phone = try await BenchPhone(
                        group: generatorGroup, enginePort: port, stamped: index < relayed, shared: shared,
                        keys: keys.map { SRTPKeys(suite: $0.suite, local: $0.remote, remote: $0.local) })
                    engine.describe(key, remote: ("127.0.0.1", phone.port), law: .mu, eventPayloadType: nil, keys: keys)
                    phones.append(phone)
                }
            }
            var plan = MediaPlan(conversation: parties)
            if kind == .recorded { plan.recording = .on }
            engine.apply(call, plan)
        }
        if kind == .webrtc {
            let setup = ContinuousClock.now - setupStarted
            let seconds = Double(setup.components.seconds) + Double(setup.components.attoseconds) / 1e18
            let serverCPU = engineCPU() - setupCPU
            print(String(format: "WebRTC setup: %d sessions (ICE check + DTLS handshake each) in %.2f s: %.0f handshakes/s with the browsers' side in the same process; the engine's CPU %.2f ms per handshake (%.0f handshakes/s per core)",
                         legs, seconds, Double(legs) / seconds, serverCPU / Double(legs) * 1e3, Double(legs) / max(serverCPU, 1e-9)))
        }
        // Each phone sends every 20 ms on absolute deadlines, as a phone's clock does. Phones are
        // not in step with each other: the pacer wakes every millisecond and a twentieth of them
        // send each time, so packets reach the engine spread over the 20 ms, not in one burst.
        let phases = (0..<20).map { phase in stride(from: phase, to: phones.count, by: 20).map { phones[$0] } }
        let sender = Pacer(loop: shared?.channel.eventLoop ?? generatorGroup.next()) { step in
            for phone in phases[Int(step % 20)] { phone.send() }
            shared?.channel.flush()  // one sendmmsg for the phones of this millisecond
        }
        sender.start()
        try await Task.sleep(for: .seconds(2))  // warm-up: latching, jitter buffers filling
        for phone in phones { phone.reset() }
        let before = engineCPU()
        let writtenBefore = recordings.map(Self.bytes(in:)) ?? 0
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let elapsed = ContinuousClock.now - started
        let cpu = engineCPU() - before
        let written = (recordings.map(Self.bytes(in:)) ?? 0) - writtenBefore
        let results = phones.map { $0.snapshot() }
        sender.stop()
        let ticks = await engine.tickDurations()
        await engine.closeAll()
        for phone in phones { await phone.close() }
        try? await shared?.channel.close()

        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        // What each phone should have received: a relayed leg, what its partner sent; a mixed leg,
        // one packet per 20 ms of the engine's clock.
        var expected = 0.0
        var index = 0
        for call in 0..<(relayed + conferences) {
            if call < relayed {
                expected += Double(results[index].sent + results[index + 1].sent)
                index += 2
            } else {
                expected += Double(results[index..<index + 3].map(\.sentByPeer).reduce(0, +))
                index += 3
            }
        }
        let received = results.map { Double($0.received) }.reduce(0, +)
        let expectedBySequence = results.map { Double($0.expectedBySequence) }.reduce(0, +)
        let deviations = results.flatMap(\.deviations).sorted()
        func percentile(_ values: [Double], _ p: Double) -> Double {
            values.isEmpty ? 0 : values[min(values.count - 1, Int(Double(values.count) * p))]
        }
        let transits = results.flatMap(\.transits).sorted()
        let tickWork = ticks.whole.map { Double($0) / 1e6 }.sorted()
        let mixWork = ticks.mixing.map { Double($0) / 1e6 }.sorted()
        print("legs: \(legs) (\(relayed) relayed calls, \(conferences) three-party conferences), \(seconds) s, \(shards) shard(s), "
              + kind.rawValue)
        print(String(format: "loss (RFC 3550: gaps in each leg's sequence numbers): %.3f %% (%.0f expected, %.0f received)",
                     expectedBySequence > 0 ? max(0, (expectedBySequence - received) / expectedBySequence * 100) : 0,
                     expectedBySequence, received))
        print(String(format: "  by count (sent or due vs received; counts packets in flight at the end as lost): %.3f %%",
                     expected > 0 ? max(0, (expected - received) / expected * 100) : 0))
        print(String(format: "added jitter (|arrival gap − 20 ms|): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                     percentile(deviations, 0.5), percentile(deviations, 0.99), deviations.last ?? 0))
        if !transits.isEmpty {
            print(String(format: "relayed packets' time through the engine (phone → engine → phone): p50 %.2f ms, p99 %.2f ms, max %.2f ms; jitter added (p99 − p50) %.2f ms",
                         percentile(transits, 0.5), percentile(transits, 0.99), transits.last ?? 0,
                         percentile(transits, 0.99) - percentile(transits, 0.5)))
        }
        print(String(format: "tick work (mixing and writing): p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d ticks, all shards)",
                     percentile(tickWork, 0.5), percentile(tickWork, 0.99), tickWork.last ?? 0, tickWork.count))
        print(String(format: "  of which mixing (packets made, not written): p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                     percentile(mixWork, 0.5), percentile(mixWork, 0.99), mixWork.last ?? 0))
        print(String(format: "engine CPU (all shards): %.1f %% of one core (%.1f µs per leg per second); packets in+out per second: %.0f",
                     cpu / wall * 100, cpu / wall / Double(legs) * 1e6, received / wall * 2))
        if recordings != nil {
            print(String(format: "recordings: %d calls, %.2f MB written per second (%.0f bytes per call per second), %d failed",
                         relayed + conferences, Double(written) / wall / 1e6, Double(written) / wall / Double(relayed + conferences),
                         failures.value.withLock { $0 }))
        }
        return cpu / wall / Double(legs) * 1e6
    }

    /// Bytes in the directory's files (the recordings so far: their buffers not yet written aside).
    static func bytes(in directory: RecordingDirectory) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.reduce(0) { total, name in
            total + ((try? FileManager.default.attributesOfItem(atPath: directory.path + "/" + name)[.size] as? Int) ?? 0)
        }
    }

    /// CPU seconds used so far by the engine's event loop (a thread of NIO's singleton group,
    /// named NIO-SGLTN-…; the generator runs on a group of its own).
    func engineCPU() -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var seconds = 0.0
        for task in tasks {
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                name.hasPrefix("NIO-SGLTN"),
                let used = ProcessCPU.seconds(statFile: "/proc/self/task/\(task)/stat")
            else { continue }
            seconds += used
        }
        return seconds
    }

    /// Packets per second one UDP socket can send to another over loopback, for 2 s.
    func loopbackCeiling(_ group: any EventLoopGroup) async throws -> Double {
        let counted = Counter()
        let sink = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CountingHandler(counter: counted))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let source = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let destination = try SocketAddress(ipAddress: "127.0.0.1", port: sink.localAddress?.port ?? 0)
        let packet = ByteBuffer(bytes: RTPPacket(payloadType: 0, sequence: 0, timestamp: 0, ssrc: 1,
                                                 payload: [UInt8](repeating: 0xFF, count: 160)).serialized())
        let deadline = ContinuousClock.now + .seconds(2)
        var rounds = 0
        while ContinuousClock.now < deadline {
            // Bursts of 64, each waited for, so the socket's buffer is never the limit we measure.
            try await source.eventLoop.flatSubmit {
                for _ in 0..<63 { source.write(AddressedEnvelope(remoteAddress: destination, data: packet), promise: nil) }
                return source.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: packet))
            }.get()
            rounds += 1
        }
        try await Task.sleep(for: .milliseconds(100))
        let total = counted.value.withLock { $0 }
        try await source.close()
        try await sink.close()
        return Double(total) / 2
    }
}

/// Runs `work(step)` every millisecond on absolute deadlines (start + step ms), on one loop, until stopped.
final class Pacer: Sendable {
    let loop: any EventLoop
    let work: @Sendable (Int64) -> Void
    let state: NIOLoopBoundBox<(start: NIODeadline, ticks: Int64, scheduled: Scheduled<Void>?, stopped: Bool)>

    init(loop: any EventLoop, work: @escaping @Sendable (Int64) -> Void) {
        self.loop = loop
        self.work = work
        state = .makeBoxSendingValue((NIODeadline.now(), 0, nil, false), eventLoop: loop)
    }

    func start() {
        loop.execute {
            self.state.value.start = .now()
            self.next()
        }
    }

    private func next() {
        guard !state.value.stopped else { return }
        state.value.ticks += 1
        let step = state.value.ticks
        let deadline = state.value.start + .milliseconds(step)
        state.value.scheduled = loop.scheduleTask(deadline: deadline) {
            self.work(step)
            self.next()
        }
    }

    func stop() {
        loop.execute {
            self.state.value.stopped = true
            self.state.value.scheduled?.cancel()
        }
    }
}

final class Counter: Sendable {
    let value = Mutex(0)
}

final class CountingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let counter: Counter
    init(counter: Counter) { self.counter = counter }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { counter.value.withLock { $0 += 1 } }
}

/// One leg's phone in the benchmark: sends a packet each call to `send()`, and notes each packet
/// it receives: how many, and how far each arrival is from 20 ms after the previous one.
final class BenchPhone: Sendable {
    struct Figures: Sendable {
        var received = 0
        var last: NIODeadline?
        var deviations: [Double] = []
        /// Relayed legs: each packet's time from the sending phone through the engine (ms).
        var transits: [Double] = []
        /// Packets the engine should have sent it when mixed (one per 20 ms since the reset).
        var sentByPeer = 0
        /// Packets it sent since the reset.
        var sent = 0
        var since = NIODeadline.now()
        /// RFC 3550 §6.4.1 loss: the first sequence number received and the highest (extended
        /// past wrap-around); packets expected are the span between, so packets still in flight
        /// at the end of the window are not counted as lost.
        var firstSequence: Int?
        var highestSequence = 0
        /// The highest sequence number as it was on the wire.
        var lastSequence: UInt16 = 0

        var expectedBySequence: Int { firstSequence.map { highestSequence - $0 + 1 } ?? 0 }
    }

    final class Box: Sendable { let figures = Mutex(Figures()) }

    let channel: any Channel
    let port: Int
    let destination: SocketAddress
    let box = Box()
    let sequence = Mutex<UInt16>(0)
    static let payload = G711.encode(ToneGenerator(frequencies: [1_000]).nextCopy(), .mu)

    /// A relayed leg's phone stamps each payload with when it was sent (a relay passes the payload
    /// on untouched), so the receiving phone measures the time through the engine itself.
    let stamped: Bool

    /// With SRTP: what the phone sends is protected with its key (`local`), what it receives
    /// checked with the engine's (`remote`).
    let protect: BenchSRTP?

    /// `channel`: a socket already set up (a WebRTC leg's, after its handshake) to speak on.
    init(
        group: any EventLoopGroup, enginePort: Int, stamped: Bool, shared: SharedPhoneSocket?, keys: SRTPKeys? = nil,
        channel existing: (any Channel)? = nil
    ) async throws {
        self.stamped = stamped
        self.shared = shared != nil
        destination = try SocketAddress(ipAddress: "127.0.0.1", port: enginePort)
        protect = try keys.map { BenchSRTP(try SRTPContext(suite: $0.suite, master: $0.local)) }
        let unprotect = try keys.map { BenchSRTP(try SRTPContext(suite: $0.suite, master: $0.remote)) }
        let recorder = BenchRecorder(box: box, stamped: stamped, unprotect: unprotect)
        if let existing {
            channel = existing
            try await existing.pipeline.addHandler(recorder).get()
        } else if let shared {
            channel = shared.channel
            shared.demultiplexer.add(enginePort: enginePort, recorder)
        } else {
            channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(recorder) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
        port = channel.localAddress?.port ?? 0
    }

    /// On the shared socket: written now, sent with the others at the pacer's flush.
    let shared: Bool

    func send() {
        let number = sequence.withLock { value -> UInt16 in
            value &+= 1
            return value
        }
        box.figures.withLock { $0.sent += 1 }
        var payload = Self.payload
        if stamped {
            let sentAt = NIODeadline.now().uptimeNanoseconds
            for byte in 0..<8 { payload[byte] = UInt8(truncatingIfNeeded: sentAt >> (8 * UInt64(byte))) }
        }
        let packet = RTPPacket(payloadType: 0, sequence: number, timestamp: UInt32(number) &* 160, ssrc: 9, payload: payload)
        var bytes = packet.serialized()
        if let protect { bytes = protect.context.withLock { (try? $0.protect(bytes)) ?? bytes } }
        let envelope = AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: bytes))
        if shared { channel.write(envelope, promise: nil) } else { channel.writeAndFlush(envelope, promise: nil) }
    }

    func reset() { box.figures.withLock { $0 = Figures(since: .now()) } }

    func snapshot() -> Figures {
        box.figures.withLock { figures in
            var copy = figures
            let span = NIODeadline.now() - figures.since
            copy.sentByPeer = Int(span.nanoseconds / 20_000_000)
            return copy
        }
    }

    func close() async { if !shared { try? await channel.close() } }
}

/// One socket for every phone (`--shared-socket`): reads up to 64 datagrams per system call and
/// hands each to the phone of the engine port it came from.
final class SharedPhoneSocket: Sendable {
    let channel: any Channel
    let demultiplexer = Demultiplexer()

    init(group: any EventLoopGroup) async throws {
        let demultiplexer = demultiplexer
        channel = try await DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: 64)
            .channelOption(.socketOption(.so_rcvbuf), value: 8 << 20)
            .channelOption(.socketOption(.so_sndbuf), value: 8 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(demultiplexer) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    final class Demultiplexer: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let recorders = Mutex<[Int: BenchRecorder]>([:])

        func add(enginePort: Int, _ recorder: BenchRecorder) { recorders.withLock { $0[enginePort] = recorder } }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            guard let port = envelope.remoteAddress.port, let recorder = recorders.withLock({ $0[port] }) else { return }
            recorder.record(envelope.data)
        }
    }
}

/// A phone's SRTP context, used from the generator's loop.
final class BenchSRTP: Sendable {
    let context: Mutex<SRTPContext>
    init(_ context: SRTPContext) { self.context = Mutex(context) }
}

final class BenchRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let box: BenchPhone.Box
    let stamped: Bool
    let unprotect: BenchSRTP?
    init(box: BenchPhone.Box, stamped: Bool, unprotect: BenchSRTP? = nil) { (self.box, self.stamped, self.unprotect) = (box, stamped, unprotect) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { record(Self.unwrapInboundIn(data).data) }

    func record(_ received: ByteBuffer) {
        let now = NIODeadline.now()
        // Only RTP: the engine's RTCP reports go to the port after a leg's, which here may be
        // another phone's (RTCP packet types 200–204 sit where RTP's marker and type are, in the
        // clear under SRTCP too).
        guard let second = received.getInteger(at: received.readerIndex + 1, as: UInt8.self), (200...204).contains(second) == false
        else { return }
        var bytes = received
        if let unprotect {
            // A packet that fails its check is not received.
            guard let plain = unprotect.context.withLock({ try? $0.unprotect(Array(received.readableBytesView)) }) else { return }
            bytes = ByteBuffer(bytes: plain)
        }
        let sequence = bytes.getInteger(at: bytes.readerIndex + 2, as: UInt16.self) ?? 0
        var transit: Double?
        if stamped, bytes.readableBytes >= 20 {
            var sentAt: UInt64 = 0
            for byte in 0..<8 { sentAt |= UInt64(bytes.getInteger(at: bytes.readerIndex + 12 + byte, as: UInt8.self) ?? 0) << (8 * UInt64(byte)) }
            transit = Double(Int64(bitPattern: now.uptimeNanoseconds &- sentAt)) / 1e6
        }
        box.figures.withLock { figures in
            figures.received += 1
            if let transit { figures.transits.append(transit) }
            if figures.firstSequence == nil {
                figures.firstSequence = Int(sequence)
                figures.highestSequence = Int(sequence)
                figures.lastSequence = sequence
            } else {
                // Forward from the highest so far (a late or repeated packet moves nothing).
                let step = Int(Int16(bitPattern: sequence &- figures.lastSequence))
                if step > 0 {
                    figures.highestSequence += step
                    figures.lastSequence = sequence
                }
            }
            if let last = figures.last {
                figures.deviations.append(abs(Double((now - last).nanoseconds) / 1e6 - 20))
            }
            figures.last = now
        }
    }
}

extension ToneGenerator {
    /// One frame of a fresh generator (for a constant payload).
    func nextCopy() -> [Int16] {
        var copy = self
        return copy.next()
    }
}
