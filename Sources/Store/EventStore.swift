import CallControl
import Synchronization

/// What the server keeps, split by who uses it: each shell depends on the roles it needs (the
/// center on the log, snapshots, history and audit; sessions on sessions; SIP on its lines), and a
/// store (in memory, SQLite) plays them all.
public protocol EventStore: InteractionLog, SnapshotStore, InteractionHistory, AuditTrail, LineRecords, SessionRecords {}

/// What the contact center itself reads and writes.
public typealias CenterStore = InteractionLog & SnapshotStore & InteractionHistory & AuditTrail

/// The center's events: an append-only log, each event numbered by its place in the center's
/// history. A command is answered only after its events are appended; replaying the log in order
/// rebuilds the center.
public protocol InteractionLog: Sendable {
    /// Appends events numbered `first`, `first + 1`, …, and the summaries of the interactions
    /// they finish, all or nothing. Appends may overlap; the numbers keep the order.
    func append(_ events: [Event], first: Int, finishing finished: [FinishedInteraction]) async throws
    /// Every event, in order.
    func all() async throws -> [Event]
    /// One interaction's events, in order.
    func events(of interaction: InteractionID) async throws -> [Event]
    /// The events numbered `first` and after, in order (what a snapshot does not hold).
    func events(from first: Int) async throws -> [Event]
    /// The number the next event gets: one past the highest stored.
    func nextSequence() async throws -> Int
    /// Closes the store; nothing is appended after.
    func close() async throws
}

/// Snapshots of the live state, so a start replays only the events after the newest.
public protocol SnapshotStore: Sendable {
    /// Keeps a snapshot of the live state (replacing older ones).
    func saveSnapshot(_ snapshot: StoredSnapshot) async throws
    /// The newest snapshot, if any.
    func latestSnapshot() async throws -> StoredSnapshot?
}

/// Past interactions: the summaries the past-interactions views search, and retention.
public protocol InteractionHistory: Sendable {
    /// Finished interactions, newest first (see `FinishedQuery`).
    func finished(_ query: FinishedQuery) async throws -> [FinishedInteraction]
    /// Removes the finished interactions that ended before `cutoff`, with all their events — but
    /// only those that ended before the oldest kept snapshot, so a start never needs them. Returns
    /// how many were removed.
    func purge(endedBefore cutoff: Timestamp) async throws -> Int
}

/// The audit trail: appended, read per subject newest first, purged with the calls.
public protocol AuditTrail: Sendable {
    func appendAudit(_ entries: [AuditEntry]) async throws
    func audit(of subject: String, limit: Int) async throws -> [AuditEntry]
}

/// What a telephony must find again after a crash (SIP: the dialog of each open call leg, so
/// every leg gets a BYE), by key, beside the log: each change sets a key (again: replaces it) or
/// removes it, in order. Written in the same group commit as the events around it.
public protocol LineRecords: Sendable {
    func writeLines(_ changes: [LineRecord]) async throws
    func lines() async throws -> [LineRecord]
}

/// Sign-in sessions (tokens only as hashes), so a restart signs no one out.
public protocol SessionRecords: Sendable {
    func writeSessions(_ changes: [SessionChange]) async throws
    func sessions() async throws -> [SessionRecord]
}

/// A telephony's record of one line; `body` nil (in a change) removes it.
public struct LineRecord: Equatable, Sendable {
    public var key: String
    public var body: String?
    public init(key: String, body: String?) { (self.key, self.body) = (key, body) }

    /// What a batch of changes leaves: the bodies to write and the keys to remove, the last change
    /// to each key winning (so a store writes them in two statements, whatever their number).
    public static func coalesce(_ changes: [LineRecord]) -> (puts: [(key: String, body: String)], removals: [String]) {
        var last: [String: String?] = [:]
        for change in changes { last[change.key] = .some(change.body) }
        var puts: [(key: String, body: String)] = [], removals: [String] = []
        for (key, body) in last {
            if let body { puts.append((key, body)) } else { removals.append(key) }
        }
        return (puts, removals)
    }
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

extension InteractionLog {
    public func close() async throws {}

    public func append(_ events: [Event], first: Int) async throws {
        try await append(events, first: first, finishing: [])
    }
}

/// An event log kept in memory: for tests, and for a demo that need not survive a restart.
public final class InMemoryEventStore: EventStore {
    private struct State {
        var events: [Int: Event] = [:]
        var snapshots: [StoredSnapshot] = []
        var finished: [InteractionID: FinishedInteraction] = [:]
        var lines: [String: String] = [:]
        var sessions: [String: SessionRecord] = [:]
        var audit: [AuditEntry] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func append(_ events: [Event], first: Int, finishing finished: [FinishedInteraction]) {
        state.withLock { state in
            for (offset, event) in events.enumerated() { state.events[first + offset] = event }
            for interaction in finished { state.finished[interaction.id] = interaction }
        }
    }


    public func all() -> [Event] { events(from: 0) }

    public func events(from first: Int) -> [Event] {
        state.withLock { state in state.events.keys.filter { $0 >= first }.sorted().map { state.events[$0]! } }
    }

    public func events(of interaction: InteractionID) -> [Event] { all().filter { $0.interactionID == interaction } }

    public func nextSequence() -> Int { state.withLock { ($0.events.keys.max() ?? -1) + 1 } }

    public func saveSnapshot(_ snapshot: StoredSnapshot) {
        state.withLock { state in
            state.snapshots = Array((state.snapshots.filter { $0.through != snapshot.through } + [snapshot])
                .sorted { $0.through < $1.through }.suffix(2))
        }
    }

    public func latestSnapshot() -> StoredSnapshot? { state.withLock { $0.snapshots.last } }

    public func finished(_ query: FinishedQuery) -> [FinishedInteraction] {
        state.withLock { state in
            Array(state.finished.values.filter { $0.matches(query) }.sorted { ($0.endedAt, $0.id) > ($1.endedAt, $1.id) }
                .prefix(query.limit))
        }
    }

    public func writeLines(_ changes: [LineRecord]) {
        state.withLock { state in for change in changes { state.lines[change.key] = change.body } }
    }
    public func lines() -> [LineRecord] {
        state.withLock { $0.lines.sorted { $0.key < $1.key }.map { LineRecord(key: $0.key, body: $0.value) } }
    }

    public func writeSessions(_ changes: [SessionChange]) {
        state.withLock { state in
            for change in changes {
                switch change {
                case .put(let record): state.sessions[record.tokenHash] = record
                case .remove(let hash): state.sessions[hash] = nil
                }
            }
        }
    }

    public func sessions() -> [SessionRecord] { state.withLock { $0.sessions.values.sorted { $0.createdAt < $1.createdAt } } }

    public func appendAudit(_ entries: [AuditEntry]) { state.withLock { $0.audit += entries } }

    public func audit(of subject: String, limit: Int) -> [AuditEntry] {
        state.withLock { Array($0.audit.filter { $0.subject == subject }.reversed().prefix(limit)) }
    }

    public func purge(endedBefore cutoff: Timestamp) -> Int {
        state.withLock { state in
            state.audit.removeAll { $0.at < cutoff }
            guard let oldest = state.snapshots.first?.at else { return 0 }
            let limit = min(cutoff, oldest)
            let gone = Set(state.finished.values.filter { $0.endedAt < limit }.map(\.id))
            for id in gone { state.finished[id] = nil }
            state.events = state.events.filter { $0.value.interactionID.map { !gone.contains($0) } ?? true }
            return gone.count
        }
    }
}
