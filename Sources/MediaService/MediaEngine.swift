import CallControl
import Logging
import Media
import NIOCore
import NIOPosix

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
    public init(
        host: String, ports: ClosedRange<Int>, music: MusicSource = .builtIn(), shards: Int = System.coreCount,
        logger: Logger = Logger(label: "switchboard.media")
    ) {
        self.host = host
        let group = MultiThreadedEventLoopGroup.singleton
        let loops = Array(group.makeIterator())
        let count = max(1, min(shards, loops.count))
        let pool = PortPool(ports)
        self.pool = pool
        self.shards = (0..<count).map { index in
            MediaShard(host: host, pool: pool, music: music, loop: loops[index], logger: logger)
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

    /// Closes every leg (at shutdown), and returns once their ports are free.
    public func closeAll() async {
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
