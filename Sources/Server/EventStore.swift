import CallControl
import Synchronization

/// Where the center's events are kept. A command is answered only after its events are appended.
/// The log is append-only; replaying it from the start rebuilds the center. Calls are made from
/// the `ContactCenter` actor, one at a time, so events are appended in the order they happened.
public protocol EventStore: Sendable {
    func append(_ events: [Event]) throws
    func all() throws -> [Event]
}

/// An event log kept in memory: for tests, and for a demo that need not survive a restart.
public final class InMemoryEventStore: EventStore {
    private let events = Mutex<[Event]>([])

    public init() {}

    public func append(_ events: [Event]) { self.events.withLock { $0 += events } }
    public func all() -> [Event] { events.withLock { $0 } }
}
