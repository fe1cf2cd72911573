import CallControl
import Foundation
import Logging
import SQLiteNIO
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

/// The embedded durable log: one SQLite file in WAL mode. With `synchronous=FULL` (the default)
/// an answered command's events survive the process being killed and the machine losing power;
/// with `normal` they survive the process being killed, not a power cut (no fsync per commit).
public final class SQLiteEventStore: EventStore {
    public enum Durability: String, Sendable, CaseIterable {
        case full, normal
    }

    private let connection: SQLiteConnection

    /// Group commit: appends that arrive while a write is in flight wait together and go in the
    /// next write, one statement and one commit (one fsync) for all of them. Each append is
    /// answered only once the write holding its events has committed.
    private struct Waiting {
        /// The rows' values, four per event, encoded by the appender before it queues: the
        /// writer, which runs one batch at a time, only concatenates them.
        var binds: [SQLiteData]
        var done: CheckedContinuation<Void, any Error>
        var events: Int { binds.count / 4 }
    }
    private struct Queue {
        var waiting: [Waiting] = []
        var writing = false
    }
    private let queue = Mutex(Queue())
    /// At most this many events per statement (4 bound values each, well under SQLite's limit).
    static let eventsPerWrite = 2_000

    private init(connection: SQLiteConnection) { self.connection = connection }

    public static func open(path: String, durability: Durability = .full) async throws -> SQLiteEventStore {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), logger: Logger(label: "switchboard.store"))
        for statement in [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(durability.rawValue.uppercased())",
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, interaction TEXT, body TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS events_by_interaction ON events (interaction, seq)",
        ] {
            _ = try await connection.query(statement, [])
        }
        return SQLiteEventStore(connection: connection)
    }

    public func append(_ events: [Event], first: Int) async throws {
        guard !events.isEmpty else { return }
        let binds = try Self.binds(events, first: first)
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let startWriter = queue.withLock { queue in
                queue.waiting.append(Waiting(binds: binds, done: done))
                defer { queue.writing = true }
                return !queue.writing
            }
            if startWriter { Task { await self.write() } }
        }
    }

    /// Writes what is waiting, batch after batch, until nothing is left.
    private func write() async {
        while true {
            let batch: [Waiting] = queue.withLock { queue in
                var count = 0
                let taken = queue.waiting.prefix { waiting in
                    defer { count += waiting.events }
                    return count == 0 || count + waiting.events <= Self.eventsPerWrite
                }
                queue.waiting.removeFirst(taken.count)
                if taken.isEmpty { queue.writing = false }
                return Array(taken)
            }
            guard !batch.isEmpty else { return }
            do {
                // One statement: atomic on its own, so a batch is stored whole or not at all.
                var binds: [SQLiteData] = []
                binds.reserveCapacity(batch.reduce(0) { $0 + $1.binds.count })
                for waiting in batch { binds += waiting.binds }
                let rows = Array(repeating: "(?, ?, ?, ?)", count: binds.count / 4).joined(separator: ", ")
                _ = try await connection.query("INSERT INTO events (seq, at, interaction, body) VALUES \(rows)", binds)
                for waiting in batch { waiting.done.resume() }
            } catch {
                for waiting in batch { waiting.done.resume(throwing: error) }
            }
        }
    }

    /// The INSERT's values, four per event. Kept out of the async function: Swift 6.3.1's optimizer
    /// crashes (CopyPropagation) on this loop inside it in release builds.
    @inline(never)
    static func binds(_ events: [Event], first: Int) throws -> [SQLiteData] {
        let encoder = JSONEncoder()
        var binds: [SQLiteData] = []
        binds.reserveCapacity(events.count * 4)
        for index in events.indices {
            let subject = events[index].subject
            binds.append(.integer(first + index))
            binds.append(.integer(Int(events[index].at.milliseconds)))
            switch subject {
            case .interaction(let id, _): binds.append(.text(id.rawValue))
            case .agent: binds.append(.null)
            }
            binds.append(.text(String(decoding: try encoder.encode(subject), as: UTF8.self)))
        }
        return binds
    }

    public func all() async throws -> [Event] {
        try await select("SELECT at, body FROM events ORDER BY seq", [])
    }

    public func events(of interaction: InteractionID) async throws -> [Event] {
        try await select(
            "SELECT at, body FROM events WHERE interaction = ? ORDER BY seq", [.text(interaction.rawValue)])
    }

    private func select(_ query: String, _ binds: [SQLiteData]) async throws -> [Event] {
        let decoder = JSONDecoder()
        return try await connection.query(query, binds).map { row in
            guard let at = row.column("at")?.integer, let body = row.column("body")?.string else {
                throw StoreError.corrupt
            }
            return Event(at: Timestamp(milliseconds: Int64(at)), try decoder.decode(Event.Subject.self, from: Data(body.utf8)))
        }
    }

    public func close() async throws { try await connection.close() }

    enum StoreError: Error { case corrupt }
}
