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
        // One statement: atomic on its own, so overlapping appends never interleave a transaction.
        let encoder = JSONEncoder()
        var binds: [SQLiteData] = []
        for (offset, event) in events.enumerated() {
            binds.append(.integer(first + offset))
            binds.append(.integer(Int(event.at.milliseconds)))
            binds.append(event.interactionID.map { .text($0.rawValue) } ?? .null)
            binds.append(.text(String(decoding: try encoder.encode(event.subject), as: UTF8.self)))
        }
        let rows = Array(repeating: "(?, ?, ?, ?)", count: events.count).joined(separator: ", ")
        _ = try await connection.query("INSERT INTO events (seq, at, interaction, body) VALUES \(rows)", binds)
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
