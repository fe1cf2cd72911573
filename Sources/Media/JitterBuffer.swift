/// One leg's jitter buffer for the mixer: packets go in as they arrive (late, early, twice, out of
/// order), and every 20 ms tick takes one frame out. It waits `depth` frames before playing, so
/// WAN jitter up to that is absorbed; a frame that is missing at its turn is concealed (the last
/// frame again, fading, then silence) and never stalls the tick; a packet that comes after its
/// turn is dropped. If the sender's clock or the network leaves the buffer too full, it skips
/// ahead so delay does not grow. Pure: the caller's clock decides when a tick is.
///
///     empty ──first packet──▶ filling ──depth frames held──▶ playing ◀─┐
///                                                             │ tick   │
///                                                             └────────┘
public struct JitterBuffer: Sendable {
    /// Frames held before playing starts (3 × 20 ms = 60 ms: LAN and ordinary WAN phones).
    public let depth: Int
    /// Past this many frames waiting, the oldest are skipped.
    public let capacity: Int

    private enum Phase: Sendable {
        case empty
        case filling
        /// The sequence number the next tick plays.
        case playing(next: UInt16)
    }

    private var phase = Phase.empty
    /// The frames held, in a ring by sequence number (a slot's number says whose frame it holds):
    /// no hashing and no allocation per packet, as a dictionary would cost.
    private var slots: [(sequence: UInt16, frame: [Int16]?)]
    private var held = 0
    private var lastPlayed: [Int16]?
    private var concealed = 0

    public private(set) var received = 0
    public private(set) var lost = 0
    public private(set) var late = 0

    public init(depth: Int = 3, capacity: Int = 15) {
        self.depth = max(1, depth)
        self.capacity = max(depth + 1, capacity)
        // A power of two above twice the capacity: frames within the window never share a slot.
        var size = 1
        while size <= 2 * self.capacity { size <<= 1 }
        slots = Array(repeating: (0, nil), count: size)
    }

    private var mask: Int { slots.count - 1 }

    private mutating func put(_ sequence: UInt16, _ frame: [Int16]) {
        let index = Int(sequence) & mask
        if slots[index].frame == nil { held += 1 }
        slots[index] = (sequence, frame)
    }

    /// Takes the frame with this number, if held.
    private mutating func take(_ sequence: UInt16) -> [Int16]? {
        let index = Int(sequence) & mask
        guard slots[index].sequence == sequence, let frame = slots[index].frame else { return nil }
        slots[index].frame = nil
        held -= 1
        return frame
    }

    /// A packet's decoded frame, by its RTP sequence number.
    public mutating func insert(sequence: UInt16, frame: [Int16]) {
        received += 1
        switch phase {
        case .empty:
            phase = .filling
        case .filling:
            break
        case .playing(let next):
            guard sequenceDistance(from: next, to: sequence) >= 0 else {
                late += 1
                return
            }
        }
        put(sequence, frame)
        if held > capacity, case .playing(var next) = phase {
            // Too far behind the sender: skip to keep the delay bounded.
            while held > depth {
                _ = take(next)
                next &+= 1
            }
            phase = .playing(next: next)
        }
    }

    /// The frame for this tick: the packet due, else a concealment. Nil before playing starts.
    public mutating func tick() -> [Int16]? {
        switch phase {
        case .empty:
            return nil
        case .filling:
            guard held >= depth, let first = oldest() else { return nil }
            phase = .playing(next: first)
            return tick()
        case .playing(let next):
            phase = .playing(next: next &+ 1)
            if let frame = take(next) {
                lastPlayed = frame
                concealed = 0
                return frame
            }
            lost += 1
            concealed += 1
            if held == 0, concealed > capacity {
                // The sender stopped: start over with the next packet.
                phase = .empty
                lastPlayed = nil
                return Frame.silence
            }
            // Packet-loss concealment: the last frame again, fading out over a few ticks.
            guard let last = lastPlayed, concealed <= 3 else { return Frame.silence }
            let gain = Int32(4 - concealed)
            return last.map { Int16(Int32($0) * gain / 4) }
        }
    }

    private func oldest() -> UInt16? {
        slots.lazy.filter { $0.frame != nil }.map(\.sequence).min { sequenceDistance(from: $1, to: $0) < 0 }
    }
}
