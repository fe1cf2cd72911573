import CallControl
import Synchronization

/// Where the center's events are kept: an append-only log, each event numbered by its place in
/// the center's history. A command is answered only after its events are appended; replaying the
/// log in order rebuilds the center.
public protocol EventStore: Sendable {
    /// Appends events numbered `first`, `first + 1`, …. Appends may overlap; the numbers keep the order.
    func append(_ events: [Event], first: Int) async throws
    /// Every event, in order.
    func all() async throws -> [Event]
    /// One interaction's events, in order.
    func events(of interaction: InteractionID) async throws -> [Event]
    /// Closes the store; nothing is appended after.
    func close() async throws
}

extension EventStore {
    public func close() async throws {}
}

/// An event log kept in memory: for tests, and for a demo that need not survive a restart.
public final class InMemoryEventStore: EventStore {
    private let events = Mutex<[Int: Event]>([:])

    public init() {}

    public func append(_ events: [Event], first: Int) {
        self.events.withLock { log in
            for (offset, event) in events.enumerated() { log[first + offset] = event }
        }
    }

    public func all() -> [Event] { events.withLock { log in log.keys.sorted().map { log[$0]! } } }

    public func events(of interaction: InteractionID) -> [Event] { all().filter { $0.interactionID == interaction } }
}

