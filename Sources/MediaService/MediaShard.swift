import CallControl
import Foundation
import Logging
import Media
import NIOCore
import NIOPosix
import Recordings

/// One event loop's share of the media engine: the legs of the calls that hash to it, their
/// sockets, each call's `CallMedia` and one 20 ms clock for the mixes and the music.
///
/// Everything runs on the shard's loop: the sockets' reads, the tick, and every change — so the
/// state needs no lock, and a packet in becomes packets out without a thread hop. Methods may be
/// called from anywhere; they hop onto the loop.
///
/// Symmetric RTP: each leg is sent to the address its packets come from (the first packet latches
/// it; until then, the address its SDP gave), from the port it was given, and packets from any
/// other source after the latch are dropped.
final class MediaShard: Sendable {
    typealias LegKey = MediaEngine.LegKey
    typealias OpenError = MediaEngine.OpenError
    typealias LegFigures = MediaEngine.LegFigures
    let host: String
    /// The engine's ports, shared by every shard.
    let pool: PortPool
    let loop: any EventLoop
    let state: NIOLoopBoundBox<State>
    let logger: Logger
    let recordings: RecordingSink?

    final class Socket {
        let rtp: any Channel
        let rtcp: any Channel
        let port: Int
        /// From the leg's SDP: where to send until its first packet comes.
        var described: SocketAddress?
        /// Where its packets come from: where it is sent from then on.
        var latched: SocketAddress?
        var sent = 0, sentOctets = 0, received = 0, dropped = 0
        var lastReport: RTCPReport?
        /// SRTP (RFC 3711): what the leg sends is protected with our key, what it receives checked
        /// and decrypted with its peer's. Nil: plain RTP.
        var protect: SRTPContext?
        var unprotect: SRTPContext?
        var protectingKeys: SRTPKeys?

        init(rtp: any Channel, rtcp: any Channel, port: Int) { (self.rtp, self.rtcp, self.port) = (rtp, rtcp, port) }

        var destination: SocketAddress? { latched ?? described }
    }

    final class State {
        var calls: [InteractionID: CallMedia] = [:]
        var sockets: [LegKey: Socket] = [:]
        /// Legs whose media is a browser's WebRTC session (one port for its whole sign-in).
        var browserLegs: [LegKey: WebRTCSession] = [:]
        /// Open legs per call: a call's media is kept while it has one (a late `setMedia` for a
        /// call whose legs are all gone must not bring it back, or it would stay for ever).
        var openLegs: [InteractionID: Int] = [:]
        var music: MusicSource
        var ticking: Scheduled<Void>?
        var tickStart = NIODeadline.now()
        var ticks: Int64 = 0
        /// The longest a tick's work took, and how late ticks ran (for the benchmark and the metrics).
        var tickWork: [Int64] = []
        /// The same ticks' mixing alone (the packets made, not yet written).
        var mixWork: [Int64] = []
        /// Recordings being written, by call; calls whose recording failed (not tried again).
        var recordings: [InteractionID: RecordingFile] = [:]
        var failedRecordings: Set<InteractionID> = []

        init(music: MusicSource) { self.music = music }
    }

    init(host: String, pool: PortPool, music: MusicSource, loop: any EventLoop, recordings: RecordingSink?, logger: Logger) {
        self.host = host
        self.recordings = recordings
        self.pool = pool
        self.logger = logger
        self.loop = loop
        state = NIOLoopBoundBox.makeBoxSendingValue(State(music: music), eventLoop: loop)
    }

    // MARK: Legs

    /// Binds a port pair for the leg and returns the RTP port (for its SDP).
    func open(_ key: LegKey) async throws -> Int {
        if let port = try await loop.submit({ self.state.value.sockets[key]?.port }).get() { return port }
        // A pair another program holds cannot be bound: it stays taken (out of the way) while the
        // next is tried, and goes back once the search ends.
        var unbindable: [Int] = []
        defer { unbindable.forEach(pool.release) }
        while let port = pool.take() {
            if try await bindPair(port, key) { return port }
            unbindable.append(port)
        }
        throw OpenError.noFreePort
    }

    /// Binds the leg to the port pair it had before a restart (its phone still sends there), or
    /// throws `portTaken` when that pair cannot be bound.
    func reopen(_ key: LegKey, port: Int) async throws {
        if try await loop.submit({ self.state.value.sockets[key]?.port }).get() == port { return }
        guard pool.claim(port) else { throw OpenError.portTaken(port) }
        guard try await bindPair(port, key) else {
            pool.release(port)
            throw OpenError.portTaken(port)
        }
    }

    /// Binds RTP on `port` and RTCP on the next; true when both are bound and the leg is open.
    private func bindPair(_ port: Int, _ key: LegKey) async throws -> Bool {
        guard let rtp = try? await bind(port, key, rtcp: false) else { return false }
        guard let rtcp = try? await bind(port + 1, key, rtcp: true) else {
            try? await rtp.close()
            return false
        }
        try await loop.submit {
            self.state.value.sockets[key] = Socket(rtp: rtp, rtcp: rtcp, port: port)
            self.state.value.openLegs[key.call, default: 0] += 1
            self.startTicking()
        }.get()
        return true
    }

    private func bind(_ port: Int, _ key: LegKey, rtcp: Bool) async throws -> any Channel {
        try await DatagramBootstrap(group: loop)
            // One datagram per wake-up: a leg sends one packet each 20 ms, so reading on until the
            // socket is empty would cost a second, empty `recvmsg` for nearly every packet (epoll
            // is level-triggered: a second waiting packet wakes the loop again).
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Receiver(engine: self, key: key, rtcp: rtcp))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// What the leg's SDP said: where it receives, the law it chose, its `telephone-event` type.
    /// From here on the leg has media (it is heard and hears as the plan says).
    func describe(_ key: LegKey, remote: (host: String, port: Int)?, law: G711.Law, eventPayloadType: UInt8?, keys: SRTPKeys?) {
        loop.execute {
            let state = self.state.value
            guard let socket = state.sockets[key] else { return }
            if let keys, socket.protectingKeys != keys {
                do {
                    socket.protect = try SRTPContext(suite: keys.suite, master: keys.local)
                    socket.unprotect = try SRTPContext(suite: keys.suite, master: keys.remote)
                    socket.protectingKeys = keys
                } catch {
                    self.logger.warning("SRTP keys refused: the leg is silent", metadata: ["leg": "\(key.leg)", "error": "\(error)"])
                }
            } else if keys == nil {
                (socket.protect, socket.unprotect, socket.protectingKeys) = (nil, nil, nil)
            }
            if let remote, remote.port > 0, let address = try? SocketAddress(ipAddress: remote.host, port: remote.port) {
                socket.described = address
            }
            var call = state.calls[key.call] ?? CallMedia(seed: UInt32.random(in: .min ... .max))
            if call.legs[key.leg]?.law != law || call.legs[key.leg]?.eventPayloadType != eventPayloadType {
                call.addLeg(key.leg, law: law, eventPayloadType: eventPayloadType)
            }
            state.calls[key.call] = call
        }
    }

    /// Who hears whom in the call from now on.
    func apply(_ call: InteractionID, _ plan: MediaPlan) {
        loop.execute {
            let state = self.state.value
            guard state.openLegs[call] != nil else { return }
            var media = state.calls[call] ?? CallMedia(seed: UInt32.random(in: .min ... .max))
            media.setPlan(plan)
            state.calls[call] = media
        }
    }

    /// The leg is over: it receives nothing, sends nowhere, and its ports go back to the range.
    func close(_ key: LegKey) {
        loop.execute {
            let state = self.state.value
            if let session = state.browserLegs.removeValue(forKey: key) {
                session.detach(key)  // the session stays, for the browser's next call
            } else if let socket = state.sockets.removeValue(forKey: key) {
                // Back to the pool once both sockets are closed, so the next leg can bind them.
                let pool = self.pool
                socket.rtp.close().and(socket.rtcp.close()).whenComplete { _ in pool.release(socket.port) }
            } else {
                return
            }
            state.calls[key.call]?.removeLeg(key.leg)
            let remaining = (state.openLegs[key.call] ?? 1) - 1
            state.openLegs[key.call] = remaining > 0 ? remaining : nil
            if remaining <= 0 {
                state.calls[key.call] = nil
                self.finishRecording(key.call)
            }
        }
    }

    /// Closes every leg (at shutdown), and returns once their ports are free.
    func closeAll() async {
        let closing = try? await loop.submit { () -> [EventLoopFuture<Void>] in
            let state = self.state.value
            let pool = self.pool
            let closing = state.sockets.values.map { socket in
                socket.rtp.close().and(socket.rtcp.close()).map { _ in pool.release(socket.port) }
            }
            state.sockets = [:]
            state.browserLegs = [:]
            for call in Array(state.recordings.keys) { self.finishRecording(call) }
            state.calls = [:]
            state.openLegs = [:]
            state.ticking?.cancel()
            state.ticking = nil
            return closing
        }.get()
        for future in closing ?? [] { try? await future.get() }
    }

    // MARK: Browser legs

    /// The leg's media is a WebRTC session's: the session's law and telephone-event type, heard
    /// and hearing as the plan says from now on.
    func attachBrowser(_ key: LegKey, _ session: WebRTCSession) async throws {
        try await loop.submit {
            let state = self.state.value
            if state.browserLegs.updateValue(session, forKey: key) == nil, state.sockets[key] == nil {
                state.openLegs[key.call, default: 0] += 1
            }
            var call = state.calls[key.call] ?? CallMedia(seed: UInt32.random(in: .min ... .max))
            if call.legs[key.leg]?.law != session.law || call.legs[key.leg]?.eventPayloadType != session.eventPayloadType {
                call.addLeg(key.leg, law: session.law, eventPayloadType: session.eventPayloadType)
            }
            state.calls[key.call] = call
            self.startTicking()
        }.get()
    }

    /// A packet from a browser leg's session (already checked and decrypted).
    func receivedFromBrowser(_ packet: RTPPacket, on key: LegKey) {
        let state = state.value
        guard state.browserLegs[key] != nil, let index = state.calls.index(forKey: key.call) else { return }
        let out = state.calls.values[index].received(packet, from: key.leg)
        send(out, in: key.call)
    }

    /// The session ended under the leg: the leg stays (silent) until the call hangs it up or a
    /// new session is attached.
    func browserGone(_ key: LegKey, session: WebRTCSession) {
        // Nothing to free: the leg keeps its place in the call, so a reloaded desktop's new
        // session takes it over.
    }

    // MARK: Packets

    /// A datagram on a leg's RTP port.
    func received(_ envelope: AddressedEnvelope<ByteBuffer>, on key: LegKey) {
        let state = state.value
        guard let socket = state.sockets[key] else { return }
        if let latched = socket.latched, latched != envelope.remoteAddress {
            socket.dropped += 1  // not the leg's source: dropped
            return
        }
        let packet: RTPPacket
        do {
            if socket.unprotect != nil {
                // Not authentic, or a replay: dropped before it can latch or be heard.
                packet = try RTPPacket(parsing: try socket.unprotect!.unprotect(Array(envelope.data.readableBytesView)))
            } else {
                packet = try RTPPacket(parsing: envelope.data.readableBytesView)
            }
        } catch {
            socket.dropped += 1
            return
        }
        if socket.latched == nil { socket.latched = envelope.remoteAddress }
        socket.received += 1
        // Changed in place in the dictionary: a copy out and back would copy its legs on every packet.
        guard let index = state.calls.index(forKey: key.call) else { return }
        let out = state.calls.values[index].received(packet, from: key.leg)
        send(out, in: key.call)
    }

    /// A datagram on a leg's RTCP port: reports are read (and kept for the statistics).
    func receivedControl(_ envelope: AddressedEnvelope<ByteBuffer>, on key: LegKey) {
        guard let socket = state.value.sockets[key] else { return }
        var bytes = Array(envelope.data.readableBytesView)
        if socket.unprotect != nil {
            guard let plain = try? socket.unprotect!.unprotectControl(bytes) else { return }
            bytes = plain
        }
        guard let reports = RTCPReport.parse(compound: bytes) else { return }
        socket.lastReport = reports.last
    }

    private func send(_ packets: [CallMedia.Outbound], in call: InteractionID) {
        let state = state.value
        for outbound in packets {
            guard let socket = state.sockets[LegKey(call, outbound.to)], let destination = socket.destination else {
                state.browserLegs[LegKey(call, outbound.to)]?.send(outbound.packet)
                continue
            }
            var buffer = socket.rtp.allocator.buffer(capacity: 12 + outbound.packet.payload.count + 10)
            if socket.protect != nil {
                guard let protected = try? socket.protect!.protect(outbound.packet.serialized()) else { continue }
                buffer.writeBytes(protected)
            } else {
                outbound.packet.write(to: &buffer)
            }
            socket.sent += 1
            socket.sentOctets += outbound.packet.payload.count
            socket.rtp.writeAndFlush(AddressedEnvelope(remoteAddress: destination, data: buffer), promise: nil)
        }
    }

    // MARK: The 20 ms clock

    private func startTicking() {
        let state = state.value
        guard state.ticking == nil else { return }
        state.tickStart = .now()
        state.ticks = 0
        scheduleTick()
    }

    /// Ticks on absolute deadlines (start + n × 20 ms), so lateness never accumulates into drift.
    private func scheduleTick() {
        let state = state.value
        state.ticks += 1
        let deadline = state.tickStart + .milliseconds(state.ticks * Int64(Frame.milliseconds))
        state.ticking = loop.scheduleTask(deadline: deadline) { self.tick() }
    }

    private func tick() {
        let state = state.value
        let began = NIODeadline.now()
        // One music source for every listener on this shard, playing on whether or not anyone listens.
        let music = state.music.next()
        // Every call's packets made first, then written: the mixing's time is measured on its own.
        var made: [(InteractionID, [CallMedia.Outbound])] = []
        made.reserveCapacity(state.calls.count)
        var wallClock: Double?
        for index in state.calls.indices {
            let out = state.calls.values[index].tick(music: music)
            if !out.isEmpty { made.append((state.calls.keys[index], out)) }
            if let frame = state.calls.values[index].recordedFrame {
                record(frame, of: state.calls.keys[index], now: &wallClock)
            }
        }
        let mixed = NIODeadline.now()
        for (call, out) in made { send(out, in: call) }
        sendReports(slot: Int(state.ticks % 250))
        if state.tickWork.count >= 3_000 {
            state.tickWork.removeFirst(1_000)
            state.mixWork.removeFirst(1_000)
        }
        state.tickWork.append((NIODeadline.now() - began).nanoseconds)
        state.mixWork.append((mixed - began).nanoseconds)
        if state.sockets.isEmpty && state.browserLegs.isEmpty {
            state.ticking = nil  // no legs: the clock stops until the next one
        } else {
            scheduleTick()
        }
    }

    // MARK: Recording

    /// One tick's stereo frame into the call's recording, opened at its first frame. A failure
    /// (disk full, directory unwritable) is told once and the call goes on unrecorded.
    private func record(_ frame: [Int16], of call: InteractionID, now: inout Double?) {
        guard let recordings else { return }
        let state = state.value
        guard !state.failedRecordings.contains(call) else { return }
        do throws(RecordingError) {
            let file: RecordingFile
            if let open = state.recordings[call] {
                file = open
            } else {
                let seconds = now ?? Date().timeIntervalSince1970
                now = seconds
                file = try recordings.directory.open(call, nowSeconds: seconds)
                state.recordings[call] = file
            }
            try file.append(frame)
        } catch {
            state.recordings.removeValue(forKey: call)?.abandon()
            state.failedRecordings.insert(call)
            logger.error("a call's recording failed: the call goes on unrecorded", metadata: ["task": "\(call)", "error": "\(error)"])
            recordings.failed(call, error.description)
        }
    }

    /// The call's media is over: its recording is finished (header written, renamed).
    private func finishRecording(_ call: InteractionID) {
        let state = state.value
        state.failedRecordings.remove(call)
        guard let file = state.recordings.removeValue(forKey: call) else { return }
        do throws(RecordingError) {
            try file.close()
        } catch {
            file.abandon()
            logger.error("a call's recording could not be finished", metadata: ["task": "\(call)", "error": "\(error)"])
            recordings?.failed(call, error.description)
        }
    }

    /// An RTCP sender report on every leg that was sent to, every 5 s (250 ticks): on each tick
    /// the legs whose port falls in that tick's slot, so the reports never come all in one tick.
    private func sendReports(slot: Int) {
        var ntp: UInt64?  // read once, and only on a tick that has reports to send
        for (key, socket) in state.value.sockets where socket.sent > 0 && (socket.port / 2) % 250 == slot {
            let now = ntp ?? Self.ntpNow()
            ntp = now
            guard let destination = socket.destination, let media = state.value.calls[key.call]?.legs[key.leg] else { continue }
            let report = RTCPReport.sender(
                ssrc: media.ssrc, ntp: now, rtpTimestamp: media.timestamp, packets: UInt32(truncatingIfNeeded: socket.sent),
                octets: UInt32(truncatingIfNeeded: socket.sentOctets), blocks: [])
            guard let control = try? SocketAddress(ipAddress: destination.ipAddress ?? host, port: (destination.port ?? 0) + 1) else { continue }
            var bytes = report.serialized()
            if socket.protect != nil {
                guard let protected = try? socket.protect!.protectControl(bytes) else { continue }
                bytes = protected
            }
            socket.rtcp.writeAndFlush(AddressedEnvelope(remoteAddress: control, data: ByteBuffer(bytes: bytes)), promise: nil)
        }
    }

    /// The wall clock as RTCP's 64-bit NTP timestamp (seconds since 1900, and a binary fraction).
    private static func ntpNow() -> UInt64 {
        let seconds = Date().timeIntervalSince1970 + 2_208_988_800
        return UInt64(seconds) << 32 | UInt64((seconds - seconds.rounded(.down)) * 4_294_967_296)
    }

    // MARK: Reading

    func figures(_ key: LegKey) async -> LegFigures? {
        try? await loop.submit { () -> LegFigures? in
            guard let socket = self.state.value.sockets[key] else { return nil }
            return LegFigures(
                port: socket.port, sent: socket.sent, received: socket.received, dropped: socket.dropped,
                latched: socket.latched.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" })
        }.get()
    }

    /// Digits each leg of the call has sent (RFC 4733), oldest first.
    func digits(_ call: InteractionID) async -> [(Leg, Character)] {
        (try? await loop.submit { self.state.value.calls[call]?.digits.map { ($0.leg, $0.digit) } ?? [] }.get()) ?? []
    }

    /// Calls whose media the engine holds (a call with no open leg holds none).
    func callsHeld() async -> Int {
        (try? await loop.submit { self.state.value.calls.count }.get()) ?? 0
    }

    /// How long each recent tick's work took, in nanoseconds.
    func tickDurations() async -> (whole: [Int64], mixing: [Int64]) {
        (try? await loop.submit { (self.state.value.tickWork, self.state.value.mixWork) }.get()) ?? ([], [])
    }
}

/// Hands a leg's datagrams to the engine (on the engine's loop: every channel is bound there).
final class Receiver: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let engine: MediaShard
    let key: MediaShard.LegKey
    let rtcp: Bool

    init(engine: MediaShard, key: MediaShard.LegKey, rtcp: Bool) { (self.engine, self.key, self.rtcp) = (engine, key, rtcp) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        if rtcp { engine.receivedControl(envelope, on: key) } else { engine.received(envelope, on: key) }
    }
}

extension RTPPacket {
    /// Writes the packet straight into a buffer from the channel's allocator (no intermediate array).
    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0x80 | min(csrcs.count, 15)))
        buffer.writeInteger((marker ? 0x80 : 0) | (payloadType & 0x7F))
        buffer.writeInteger(sequence)
        buffer.writeInteger(timestamp)
        buffer.writeInteger(ssrc)
        for csrc in csrcs.prefix(15) { buffer.writeInteger(csrc) }
        buffer.writeBytes(payload)
    }
}
