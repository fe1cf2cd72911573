import CallControl
import Logging
import Media
import NIOCore
import NIOPosix
import Cryptography
import Recordings
import WebRTC

/// Where calls are recorded, and who hears of a recording that fails (the disk full, the
/// directory unwritable): the call goes on either way.
public struct RecordingSink: Sendable {
    public var directory: RecordingDirectory
    public var failed: @Sendable (InteractionID, String) -> Void
    public init(directory: RecordingDirectory, failed: @escaping @Sendable (InteractionID, String) -> Void) {
        (self.directory, self.failed) = (directory, failed)
    }
}

/// The server's RTP media (RFC 3550) on SwiftNIO UDP: a port pair per leg (RTP on the even port,
/// RTCP on the odd one) from the configured range, each call's `CallMedia` deciding what every
/// leg hears, and a 20 ms clock for the mixes and the music.
///
/// The work is split into shards, one per event loop (by default one per core): a call belongs to
/// one shard, chosen by a stable hash of its ID, and all its legs' sockets, its mix and its clock
/// live on that shard's loop, so a call never needs a lock or a thread hop, and calls spread over
/// the cores. The ports are one pool for every shard: any free pair serves any call, however the
/// calls happen to hash. After a restart the same call hashes to the same shard, which binds its
/// legs' ports again.
public final class MediaEngine: Sendable {
    public let host: String
    let shards: [MediaShard]
    let pool: PortPool
    let webRTC: WebRTCHost
    let logger: Logger

    /// Where a leg's media is.
    public struct LegKey: Hashable, Sendable {
        public var call: InteractionID
        public var leg: Leg
        public init(_ call: InteractionID, _ leg: Leg) { (self.call, self.leg) = (call, leg) }
    }

    public enum OpenError: Error {
        case noFreePort
        /// A leg's port from before a restart is held by someone else, or outside the range now.
        case portTaken(Int)
    }

    /// `shards`: event loops to spread calls over (at most the singleton group's threads).
    /// `onWebRTCDrop`: told each datagram a WebRTC port dropped, by reason (for the metrics).
    public init(
        host: String, ports: ClosedRange<Int>, music: MusicSource = .builtIn(), shards: Int = System.coreCount,
        webRTC: WebRTCSettings = WebRTCSettings(), recordings: RecordingSink? = nil,
        logger: Logger = Logger(label: "switchboard.media"),
        onWebRTCDrop: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.host = host
        self.logger = logger
        // A P-256 key and certificate: only a broken libcrypto fails to make one.
        self.webRTC = try! WebRTCHost(settings: webRTC, onDrop: onWebRTCDrop)
        let group = MultiThreadedEventLoopGroup.singleton
        let loops = Array(group.makeIterator())
        let count = max(1, min(shards, loops.count))
        let pool = PortPool(ports)
        self.pool = pool
        self.shards = (0..<count).map { index in
            MediaShard(host: host, pool: pool, music: music, loop: loops[index], recordings: recordings, logger: logger)
        }
    }

    /// The call's shard: FNV-1a of its ID (stable across runs, unlike `hashValue`).
    func shard(_ call: InteractionID) -> MediaShard {
        guard shards.count > 1 else { return shards[0] }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in call.rawValue.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return shards[Int(hash % UInt64(shards.count))]
    }

    // MARK: Legs

    /// Binds a port pair for the leg and returns the RTP port (for its SDP).
    public func open(_ key: LegKey) async throws -> Int { try await shard(key.call).open(key) }

    /// Binds the leg to the port pair it had before a restart (its phone still sends there), or
    /// throws `portTaken` when that pair cannot be bound.
    public func reopen(_ key: LegKey, port: Int) async throws { try await shard(key.call).reopen(key, port: port) }

    /// What the leg's SDP said: where it receives, the law it chose, its `telephone-event` type.
    /// From here on the leg has media (it is heard and hears as the plan says).
    /// `keys`: the leg is SRTP (RFC 3711), with these keys; nil: plain RTP.
    public func describe(_ key: LegKey, remote: (host: String, port: Int)?, law: G711.Law, eventPayloadType: UInt8?, keys: SRTPKeys? = nil) {
        shard(key.call).describe(key, remote: remote, law: law, eventPayloadType: eventPayloadType, keys: keys)
    }

    /// Who hears whom in the call from now on.
    public func apply(_ call: InteractionID, _ plan: MediaPlan) { shard(call).apply(call, plan) }

    /// The leg is over: it receives nothing, sends nowhere, and its ports go back to the range.
    public func close(_ key: LegKey) { shard(key.call).close(key) }

    /// Closes every leg and WebRTC session (at shutdown), and returns once their ports are free.
    public func closeAll() async {
        for session in webRTC.sessions.withLock({ Array($0.values) }) {
            await session.onLoop { session.close() }
        }
        for shard in shards { await shard.closeAll() }
    }

    // MARK: Reading

    public struct LegFigures: Sendable {
        public var port: Int
        public var sent: Int
        public var received: Int
        public var dropped: Int
        public var latched: String?
    }

    public func figures(_ key: LegKey) async -> LegFigures? { await shard(key.call).figures(key) }

    /// Digits each leg of the call has sent (RFC 4733), oldest first.
    public func digits(_ call: InteractionID) async -> [(Leg, Character)] { await shard(call).digits(call) }

    /// Port pairs free now (for a 503's Retry-After, and the metrics).
    public var freePortPairs: Int { pool.free }

    /// Calls whose media the engine holds (a call with no open leg holds none).
    public func callsHeld() async -> Int {
        var total = 0
        for shard in shards { total += await shard.callsHeld() }
        return total
    }

    /// How long each recent tick's work took, in nanoseconds, on every shard: the whole tick (the
    /// mixes and music made, and their packets written) and the mixing alone (no writes).
    public func tickDurations() async -> (whole: [Int64], mixing: [Int64]) {
        var whole: [Int64] = [], mixing: [Int64] = []
        for shard in shards {
            let (shardWhole, shardMixing) = await shard.tickDurations()
            whole += shardWhole
            mixing += shardMixing
        }
        return (whole, mixing)
    }
}

// MARK: WebRTC

extension MediaEngine {
    public enum WebRTCError: Error, Equatable {
        case noFreePort
        case unknownSession
    }

    /// The SHA-256 fingerprint of the certificate every answer names.
    public var webRTCFingerprint: String { webRTC.certificate.fingerprint }

    /// A browser's session from its offer: a port bound, ICE credentials made, the answer (SDP
    /// text) to send back. `events` hears when it connects and when it is lost.
    /// `call`: the call the session is for, when it is known already (a web call's): the session
    /// starts on that call's shard.
    public func openWebRTC(
        _ offer: WebRTCOffer, id: WebRTCSessionID, for call: InteractionID? = nil,
        events: @escaping @Sendable (WebRTCSessionEvent) -> Void
    ) async throws -> String {
        let pool = self.pool
        var unbindable: [Int] = []
        defer { unbindable.forEach(pool.release) }
        let (ufrag, password) = ICELiteAgent.credentials(random: { SecureRandom.bytes($0) })
        let ice = ICELiteAgent(localUfrag: ufrag, localPassword: password, remoteUfrag: offer.iceUfrag)
        let loop = shard(call ?? InteractionID(id.rawValue)).loop
        while let port = pool.take() {
            let session = try WebRTCSession(
                id: id, port: port, loop: loop, host: webRTC, offer: offer, ice: ice, events: events, logger: logger,
                release: { pool.release($0) })
            do {
                try await session.bind(address: host)
            } catch {
                unbindable.append(port)
                continue
            }
            webRTC.sessions.withLock { $0[id] = session }
            let addresses = webRTC.settings.addresses.isEmpty ? [host] : webRTC.settings.addresses
            return WebRTCAnswer(
                offer: offer, sessionID: UInt64.random(in: 1...UInt64(Int64.max)), addresses: addresses, port: port, iceUfrag: ufrag,
                icePassword: password, fingerprint: webRTC.certificate.fingerprint
            ).text
        }
        throw WebRTCError.noFreePort
    }

    /// Ends a session: DTLS close_notify to the browser, the port freed, any leg it was attached
    /// to left silent. The owner is not told (it asked).
    public func closeWebRTC(_ id: WebRTCSessionID) async {
        guard let session = webRTC.sessions.withLock({ $0[id] }) else { return }
        await session.onLoop { session.close() }
    }

    /// The call leg's media is the session's from now on: what the leg hears is sent to the
    /// browser, what the browser sends is heard as the leg. Throws for a session that is gone.
    public func attachWebRTC(_ id: WebRTCSessionID, to key: LegKey) async throws {
        guard let session = webRTC.sessions.withLock({ $0[id] }) else { throw WebRTCError.unknownSession }
        let shard = shard(key.call)
        if let previous = await session.onLoop({ session.attachedLeg }), previous != key {
            self.shard(previous.call).close(previous)
        }
        // The session's port moves to the call's shard's loop: its packets then never hop threads.
        await session.move(to: shard.loop)
        try await shard.attachBrowser(key, session)
        session.attach(key, shard: shard)
    }

    public struct WebRTCFigures: Sendable, Equatable {
        public var port: Int
        public var connected: Bool
        public var received: Int
        public var sent: Int
        public var dropped: Int
        public var attached: LegKey?
    }

    public func webRTCFigures(_ id: WebRTCSessionID) async -> WebRTCFigures? {
        guard let session = webRTC.sessions.withLock({ $0[id] }) else { return nil }
        return await session.onLoop {
            WebRTCFigures(
                port: session.port, connected: session.state == .connected, received: session.received, sent: session.sent,
                dropped: session.dropped, attached: session.attachedLeg)
        }
    }

    /// Datagrams dropped on WebRTC ports since start, by reason (`stun-badIntegrity`,
    /// `dtls-unchecked-source`, `srtp-not-authentic`…).
    public var webRTCDrops: [String: Int] { webRTC.drops.withLock { $0 } }

    /// Sessions open now.
    public var webRTCSessions: Int { webRTC.sessions.withLock { $0.count } }
}

