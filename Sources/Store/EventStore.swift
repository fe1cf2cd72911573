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
    /// The events numbered `first` and after, in order (what a snapshot does not hold).
    func events(from first: Int) async throws -> [Event]
    /// The number the next event gets: one past the highest stored.
    func nextSequence() async throws -> Int
    /// Keeps a snapshot of the live state (replacing older ones).
    func saveSnapshot(_ snapshot: StoredSnapshot) async throws
    /// The newest snapshot, if any.
    func latestSnapshot() async throws -> StoredSnapshot?
    /// Closes the store; nothing is appended after.
    func close() async throws
}

/// A snapshot of the center's live state as the store keeps it: opaque bytes of a schema the
/// center knows, standing for every event numbered below `through`.
public struct StoredSnapshot: Equatable, Sendable {
    public var through: Int
    public var schema: Int
    public var at: Timestamp
    public var body: [UInt8]

    public init(through: Int, schema: Int, at: Timestamp, body: [UInt8]) {
        self.through = through
        self.schema = schema
        self.at = at
        self.body = body
    }
}

extension EventStore {
    public func close() async throws {}
}

/// An event log kept in memory: for tests, and for a demo that need not survive a restart.
public final class InMemoryEventStore: EventStore {
    private let events = Mutex<[Int: Event]>([:])
    private let snapshot = Mutex<StoredSnapshot?>(nil)

    public init() {}

    public func append(_ events: [Event], first: Int) {
        self.events.withLock { log in
            for (offset, event) in events.enumerated() { log[first + offset] = event }
        }
    }

    public func all() -> [Event] { events(from: 0) }

    public func events(from first: Int) -> [Event] {
        events.withLock { log in log.keys.filter { $0 >= first }.sorted().map { log[$0]! } }
    }

    public func events(of interaction: InteractionID) -> [Event] { all().filter { $0.interactionID == interaction } }

    public func nextSequence() -> Int { events.withLock { ($0.keys.max() ?? -1) + 1 } }

    public func saveSnapshot(_ snapshot: StoredSnapshot) { self.snapshot.withLock { $0 = snapshot } }

    public func latestSnapshot() -> StoredSnapshot? { snapshot.withLock { $0 } }
}
