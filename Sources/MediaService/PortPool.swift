import Synchronization

/// The RTP port pairs of `--rtp-ports`, shared by every shard: any free pair can serve any call,
/// whichever shard is busiest (each shard owning a slice turned calls away while others had room).
/// Handed out round the range, so a port just freed is the last to be reused (a late packet for
/// an ended leg does not land in a new one).
final class PortPool: Sendable {
    let ports: ClosedRange<Int>
    private struct State {
        var next: Int
        var taken: Set<Int> = []
    }
    private let state: Mutex<State>

    init(_ ports: ClosedRange<Int>) {
        self.ports = ports
        state = Mutex(State(next: Self.firstEven(ports)))
    }

    static func firstEven(_ ports: ClosedRange<Int>) -> Int { ports.lowerBound + ports.lowerBound % 2 }

    /// Pairs in the range: an even RTP port and the odd one after it.
    var pairs: Int { max(0, (ports.upperBound - Self.firstEven(ports) + 1) / 2) }

    /// A free pair's RTP port (taken until `release`), or nil when every pair is taken.
    func take() -> Int? {
        state.withLock { state in
            for _ in 0..<pairs {
                let port = state.next
                state.next = port + 3 > ports.upperBound ? Self.firstEven(ports) : port + 2
                if state.taken.insert(port).inserted { return port }
            }
            return nil
        }
    }

    /// Takes a particular pair (a leg's port from before a restart); false if it is taken or not one.
    func claim(_ port: Int) -> Bool {
        guard ports.contains(port), ports.contains(port + 1), port % 2 == 0 else { return false }
        return state.withLock { $0.taken.insert(port).inserted }
    }

    func release(_ port: Int) { _ = state.withLock { $0.taken.remove(port) } }

    var free: Int { pairs - state.withLock { $0.taken.count } }
}
