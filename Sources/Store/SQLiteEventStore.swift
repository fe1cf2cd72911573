import CallControl
import Foundation
import Logging
import NIOCore
import SQLiteNIO
import Synchronization

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
        /// The rows' values, five per event, encoded by the appender before it queues: the
        /// writer, which runs one batch at a time, only concatenates them.
        var binds: [SQLiteData]
        var done: CheckedContinuation<Void, any Error>
        var events: Int { binds.count / Self.columns }
        static let columns = 5
    }
    private struct Queue {
        var waiting: [Waiting] = []
        var writing = false
    }
    private let queue = Mutex(Queue())
    /// At most this many events per statement (5 bound values each, well under SQLite's limit).
    static let eventsPerWrite = 2_000

    private init(connection: SQLiteConnection) { self.connection = connection }

    /// Opens (or creates) the log, bringing an older schema up to date first: a log written by
    /// an earlier Switchboard is rewritten in today's encoding, in one transaction, before any
    /// command runs. A log from a newer Switchboard is refused (`EventLogError.newerSchema`).
    public static func open(path: String, durability: Durability = .full) async throws -> SQLiteEventStore {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), logger: Logger(label: "switchboard.store"))
        do {
            for statement in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(durability.rawValue.uppercased())"] {
                _ = try await connection.query(statement, [])
            }
            try await migrate(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        return SQLiteEventStore(connection: connection)
    }

    /// The schema's version, kept in SQLite's `user_version`.
    static func schemaVersion(_ connection: SQLiteConnection) async throws -> Int {
        try await connection.query("PRAGMA user_version", []).first?.column("user_version")?.integer ?? 0
    }

    private static func migrate(_ connection: SQLiteConnection) async throws {
        let version = try await schemaVersion(connection)
        guard version <= EventLog.schemaVersion else { throw EventLogError.newerSchema(version) }
        guard version < EventLog.schemaVersion else { return }
        let hasLog = try await !connection.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'", []).isEmpty
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            if hasLog {
                // Schema 0 → 1: agent events get their own column; every body is rewritten.
                _ = try await connection.query("ALTER TABLE events ADD COLUMN agent TEXT", [])
                let rows = try await connection.query("SELECT seq, body FROM events ORDER BY seq", [])
                for row in rows {
                    guard let seq = row.column("seq")?.integer, let body = row.column("body")?.string else {
                        throw StoreError.corrupt
                    }
                    let stored = EventLog.encode(try EventLog.decodeSchema0(body))
                    _ = try await connection.query(
                        "UPDATE events SET agent = ?, body = ? WHERE seq = ?",
                        [stored.agent.map { .text($0.rawValue) } ?? .null, .text(stored.body), .integer(seq)])
                }
            } else {
                _ = try await connection.query(
                    "CREATE TABLE events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, interaction TEXT, agent TEXT, body TEXT NOT NULL)",
                    [])
            }
            _ = try await connection.query("CREATE INDEX IF NOT EXISTS events_by_interaction ON events (interaction, seq)", [])
            _ = try await connection.query(
                "CREATE TABLE IF NOT EXISTS snapshots (through INTEGER PRIMARY KEY, schema INTEGER NOT NULL, at INTEGER NOT NULL, body BLOB NOT NULL)",
                [])
            _ = try await connection.query("PRAGMA user_version = \(EventLog.schemaVersion)", [])
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    public func append(_ events: [Event], first: Int) async throws {
        guard !events.isEmpty else { return }
        let binds = Self.binds(events, first: first)
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
                let rows = Array(repeating: "(?, ?, ?, ?, ?)", count: binds.count / Waiting.columns).joined(separator: ", ")
                _ = try await connection.query("INSERT INTO events (seq, at, interaction, agent, body) VALUES \(rows)", binds)
                for waiting in batch { waiting.done.resume() }
            } catch {
                for waiting in batch { waiting.done.resume(throwing: error) }
            }
        }
    }

    /// The INSERT's values, five per event. Kept out of the async function: Swift 6.3.1's optimizer
    /// crashes (CopyPropagation) on this loop inside it in release builds.
    @inline(never)
    static func binds(_ events: [Event], first: Int) -> [SQLiteData] {
        var binds: [SQLiteData] = []
        binds.reserveCapacity(events.count * Waiting.columns)
        for index in events.indices {
            let row = EventLog.encode(events[index].subject)
            binds.append(.integer(first + index))
            binds.append(.integer(Int(events[index].at.milliseconds)))
            binds.append(row.interaction.map { .text($0.rawValue) } ?? .null)
            binds.append(row.agent.map { .text($0.rawValue) } ?? .null)
            binds.append(.text(row.body))
        }
        return binds
    }

    public func all() async throws -> [Event] { try await events(from: 0) }

    public func events(from first: Int) async throws -> [Event] {
        try await select("SELECT at, interaction, agent, body FROM events WHERE seq >= ? ORDER BY seq", [.integer(first)])
    }

    public func nextSequence() async throws -> Int {
        let rows = try await connection.query("SELECT max(seq) AS last FROM events", [])
        return (rows.first?.column("last")?.integer).map { $0 + 1 } ?? 0
    }

    /// Snapshots go through the same connection as appends, so one never waits on a lock the
    /// other holds; only the newest two are kept.
    public func saveSnapshot(_ snapshot: StoredSnapshot) async throws {
        _ = try await connection.query(
            "INSERT OR REPLACE INTO snapshots (through, schema, at, body) VALUES (?, ?, ?, ?)",
            [.integer(snapshot.through), .integer(snapshot.schema), .integer(Int(snapshot.at.milliseconds)),
             .blob(ByteBuffer(bytes: snapshot.body))])
        _ = try await connection.query(
            "DELETE FROM snapshots WHERE through < (SELECT min(through) FROM (SELECT through FROM snapshots ORDER BY through DESC LIMIT 2))",
            [])
    }

    public func latestSnapshot() async throws -> StoredSnapshot? {
        guard let row = try await connection.query(
            "SELECT through, schema, at, body FROM snapshots ORDER BY through DESC LIMIT 1", []).first
        else { return nil }
        guard let through = row.column("through")?.integer, let schema = row.column("schema")?.integer,
            let at = row.column("at")?.integer, var body = row.column("body")?.blob
        else { throw StoreError.corrupt }
        return StoredSnapshot(
            through: through, schema: schema, at: Timestamp(milliseconds: Int64(at)),
            body: body.readBytes(length: body.readableBytes) ?? [])
    }

    public func events(of interaction: InteractionID) async throws -> [Event] {
        try await select(
            "SELECT at, interaction, agent, body FROM events WHERE interaction = ? ORDER BY seq",
            [.text(interaction.rawValue)])
    }

    private func select(_ query: String, _ binds: [SQLiteData]) async throws -> [Event] {
        try await connection.query(query, binds).map { row in
            guard let at = row.column("at")?.integer, let body = row.column("body")?.string else {
                throw StoreError.corrupt
            }
            let stored = EventLog.Row(
                interaction: row.column("interaction")?.string.map(InteractionID.init),
                agent: row.column("agent")?.string.map(AgentID.init), body: body)
            return Event(at: Timestamp(milliseconds: Int64(at)), try EventLog.decode(stored))
        }
    }

    public func close() async throws { try await connection.close() }

    enum StoreError: Error { case corrupt }
}
