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

    let connection: SQLiteConnection
    /// Checkpoints beside the writer (nil for a database that has no WAL, as in memory).
    let checkpointer: Checkpointer?

    /// Every write goes through one queue, so a transaction of the writer never has another
    /// write inside it. Group commit: appends that arrive while a write is in flight wait together
    /// and go in the next write, one commit (one fsync) for all of them; other writes (snapshots,
    /// retention) take their turn between batches. Each is answered once its write has committed.
    private enum Job {
        /// Rows encoded by the appender before it queues (the writer only concatenates them): five
        /// values per event, seven per finished-interaction row.
        case append(events: [SQLiteData], finished: [SQLiteData], done: CheckedContinuation<Void, any Error>)
        case write(@Sendable (SQLiteConnection) async throws -> Void, done: CheckedContinuation<Void, any Error>)
        /// A telephony's line records: batched with appends, in the same commit.
        case lines([LineRecord], done: CheckedContinuation<Void, any Error>)

        static let eventColumns = 5
        static let finishedColumns = 10

        var events: Int {
            if case .append(let binds, _, _) = self { binds.count / Self.eventColumns } else { 0 }
        }
    }
    private let queue = WriteQueue<Job>()
    /// At most this many events per statement (5 bound values each, well under SQLite's limit).
    static let eventsPerWrite = 2_000

    private init(connection: SQLiteConnection, checkpointer: Checkpointer?) {
        self.connection = connection
        self.checkpointer = checkpointer
    }

    /// Opens (or creates) the log, bringing an older schema up to date first: a log written by
    /// an earlier Switchboard is rewritten in today's encoding, in one transaction, before any
    /// command runs. A log from a newer Switchboard is refused (`EventLogError.newerSchema`).
    public static func open(path: String, durability: Durability = .full) async throws -> SQLiteEventStore {
        let logger = Logger(label: "switchboard.store")
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let checkpointer: Checkpointer?
        do {
            // Space freed by retention goes back to the file system (see `purge`). SQLite takes this
            // setting only before the file's first write, and switching to WAL is a write.
            if try await connection.query("SELECT name FROM sqlite_master LIMIT 1", []).isEmpty {
                _ = try await connection.query("PRAGMA auto_vacuum = INCREMENTAL", [])
            }
            let mode = try await connection.query("PRAGMA journal_mode=WAL", []).first?.column("journal_mode")?.string
            _ = try await connection.query("PRAGMA synchronous=\(durability.rawValue.uppercased())", [])
            try await migrate(connection)
            try await makeFreedSpaceReturnable(connection, logger: logger)
            // The telephony's open legs: a side table, not part of the log's schema.
            _ = try await connection.query("CREATE TABLE IF NOT EXISTS lines (key TEXT PRIMARY KEY, body TEXT NOT NULL)", [])
            // Sign-in sessions and the audit trail: side tables too.
            for statement in accountTables { _ = try await connection.query(statement, []) }
            if mode == "wal" {
                _ = try await connection.query("PRAGMA wal_autocheckpoint=\(Checkpointer.backstopPages)", [])
                checkpointer = try await Checkpointer.open(path: path, durability: durability)  // last: nothing after it throws
            } else {
                checkpointer = nil
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return SQLiteEventStore(connection: connection, checkpointer: checkpointer)
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
            if version == 2 {
                // Schema 2 → 3: new events only (supervisors monitoring); no table changes.
            } else if version == 1 {
                // Schema 1 → 2: a caller may have no number (a withheld or a SIP caller), and may
                // have a name or an address. SQLite cannot drop a NOT NULL: the table is rebuilt.
                for statement in [
                    Self.createFinished.replacingOccurrences(of: "IF NOT EXISTS finished", with: "finished_v2"),
                    """
                    INSERT INTO finished_v2 (interaction, agent, wrap_up_code, queue, customer_number, arrived_at, ended_at)
                    SELECT interaction, agent, wrap_up_code, queue, customer_number, arrived_at, ended_at FROM finished ORDER BY rowid
                    """,
                    "DROP TABLE finished",
                    "ALTER TABLE finished_v2 RENAME TO finished",
                ] {
                    _ = try await connection.query(statement, [])
                }
            } else if hasLog {
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
            for statement in [
                "CREATE TABLE IF NOT EXISTS snapshots (through INTEGER PRIMARY KEY, schema INTEGER NOT NULL, at INTEGER NOT NULL, body BLOB NOT NULL)",
                Self.createFinished,
                "CREATE INDEX IF NOT EXISTS finished_by_time ON finished (ended_at, interaction)",
                "CREATE INDEX IF NOT EXISTS finished_by_agent ON finished (agent, ended_at)",
                "CREATE INDEX IF NOT EXISTS finished_by_queue ON finished (queue, ended_at)",
                "CREATE INDEX IF NOT EXISTS finished_by_code ON finished (wrap_up_code, ended_at)",
                "CREATE INDEX IF NOT EXISTS finished_by_interaction ON finished (interaction)",
            ] {
                _ = try await connection.query(statement, [])
            }
            _ = try await connection.query("PRAGMA user_version = \(EventLog.schemaVersion)", [])
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    /// One row per agent who was on a finished call (one with no agent if nobody was).
    static let createFinished = """
        CREATE TABLE IF NOT EXISTS finished (interaction TEXT NOT NULL, agent TEXT, wrap_up_code TEXT,
          queue TEXT NOT NULL, customer_number TEXT, customer_name TEXT, customer_address TEXT,
          customer_withheld INTEGER NOT NULL DEFAULT 0, arrived_at INTEGER NOT NULL, ended_at INTEGER NOT NULL)
        """

    /// A log made without incremental vacuum (by schema 0, or by a Switchboard that switched to WAL
    /// before setting it) is rebuilt once so that it has it; that takes a while on a big log, once.
    private static func makeFreedSpaceReturnable(_ connection: SQLiteConnection, logger: Logger) async throws {
        let mode = try await connection.query("PRAGMA auto_vacuum", []).first?.column("auto_vacuum")?.integer
        guard mode != 2 else { return }  // 2: INCREMENTAL
        logger.notice("rebuilding the log once so that space freed by retention is given back (VACUUM)")
        _ = try await connection.query("PRAGMA auto_vacuum = INCREMENTAL", [])
        _ = try await connection.query("VACUUM", [])
    }

    public func append(_ events: [Event], first: Int, finishing finished: [FinishedInteraction]) async throws {
        guard !events.isEmpty || !finished.isEmpty else { return }
        let binds = Self.binds(events, first: first)
        let finishedBinds = finished.flatMap(Self.binds)
        try await withCheckedThrowingContinuation { done in
            enqueue(.append(events: binds, finished: finishedBinds, done: done))
        }
    }

    /// Runs a write in its turn in the queue.
    func write(_ body: @escaping @Sendable (SQLiteConnection) async throws -> Void) async throws {
        try await withCheckedThrowingContinuation { done in enqueue(.write(body, done: done)) }
    }

    private func enqueue(_ job: Job) {
        if queue.add(job) { Task { await self.runQueue() } }
    }

    /// Writes what is waiting, turn after turn, until nothing is left: a run of appends together,
    /// or one other write.
    private func runQueue() async {
        while true {
            let batch = queue.next { waiting in
                // One other write alone; else the appends and lines up to the next other write,
                // within `eventsPerWrite` events (a first append is taken whatever its size).
                if case .write = waiting.first { return 1 }
                var count = 0
                return waiting.prefix { job in
                    switch job {
                    case .write: return false
                    case .lines: return true
                    case .append:
                        defer { count += job.events }
                        return count == 0 || count + job.events <= Self.eventsPerWrite
                    }
                }.count
            }
            guard let first = batch.first else { return }
            if case .write(let body, let done) = first {
                do {
                    try await body(connection)
                    done.resume()
                    checkpointer?.committed()
                } catch {
                    done.resume(throwing: error)
                }
                continue
            }
            var events: [SQLiteData] = [], finished: [SQLiteData] = []
            var lines: [LineRecord] = []
            var waiting: [CheckedContinuation<Void, any Error>] = []
            for job in batch {
                switch job {
                case .append(let eventBinds, let finishedBinds, let done):
                    events += eventBinds
                    finished += finishedBinds
                    waiting.append(done)
                case .lines(let changes, let done):
                    lines += changes
                    waiting.append(done)
                case .write:
                    break  // never batched
                }
            }
            do {
                try await insert(events: events, finished: finished, lines: lines)
                for done in waiting { done.resume() }
                checkpointer?.committed()
            } catch {
                for done in waiting { done.resume(throwing: error) }
            }
        }
    }

    /// One statement for the events alone (atomic on its own); with finished interactions, both
    /// statements in one transaction. Either way the batch is stored whole or not at all.
    private func insert(events: [SQLiteData], finished: [SQLiteData], lines: [LineRecord]) async throws {
        let eventRows = Array(repeating: "(?, ?, ?, ?, ?)", count: events.count / Job.eventColumns).joined(separator: ", ")
        let eventInsert = "INSERT INTO events (seq, at, interaction, agent, body) VALUES \(eventRows)"
        guard !finished.isEmpty || !lines.isEmpty else {
            _ = try await connection.query(eventInsert, events)
            return
        }
        let finishedRows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: finished.count / Job.finishedColumns)
            .joined(separator: ", ")
        _ = try await connection.query("BEGIN IMMEDIATE", [])
        do {
            if !events.isEmpty { _ = try await connection.query(eventInsert, events) }
            if !finished.isEmpty {
                _ = try await connection.query(
                    """
                    INSERT INTO finished (interaction, agent, wrap_up_code, queue, customer_number, customer_name, customer_address,
                      customer_withheld, arrived_at, ended_at) VALUES \(finishedRows)
                    """,
                    finished)
            }
            for change in lines {
                if let body = change.body {
                    _ = try await connection.query(
                        "INSERT OR REPLACE INTO lines (key, body) VALUES (?, ?)", [.text(change.key), .text(body)])
                } else {
                    _ = try await connection.query("DELETE FROM lines WHERE key = ?", [.text(change.key)])
                }
            }
            _ = try await connection.query("COMMIT", [])
        } catch {
            _ = try? await connection.query("ROLLBACK", [])
            throw error
        }
    }

    /// A finished interaction's rows: one per agent who was on it (one with no agent if none was).
    static func binds(_ interaction: FinishedInteraction) -> [SQLiteData] {
        let handlings = interaction.agents.isEmpty ? [nil] : interaction.agents.map(Optional.some)
        return handlings.flatMap { handling -> [SQLiteData] in
            [
                .text(interaction.id.rawValue), handling.map { .text($0.agent.rawValue) } ?? .null,
                handling?.wrapUpCode.map { .text($0.rawValue) } ?? .null, .text(interaction.queue.rawValue),
                interaction.caller.number.map { .text($0.rawValue) } ?? .null, interaction.caller.name.map { .text($0) } ?? .null,
                interaction.caller.address.map { .text($0) } ?? .null, .integer(interaction.caller.withheld ? 1 : 0),
                .integer(Int(interaction.arrivedAt.milliseconds)),
                .integer(Int(interaction.endedAt.milliseconds)),
            ]
        }
    }

    /// The INSERT's values, five per event. Kept out of the async function: Swift 6.3.1's optimizer
    /// crashes (CopyPropagation) on this loop inside it in release builds.
    @inline(never)
    static func binds(_ events: [Event], first: Int) -> [SQLiteData] {
        var binds: [SQLiteData] = []
        binds.reserveCapacity(events.count * Job.eventColumns)
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
        try await write { connection in
            _ = try await connection.query(
                "INSERT OR REPLACE INTO snapshots (through, schema, at, body) VALUES (?, ?, ?, ?)",
                [.integer(snapshot.through), .integer(snapshot.schema), .integer(Int(snapshot.at.milliseconds)),
                 .blob(ByteBuffer(bytes: snapshot.body))])
            // Only the newest two are kept.
            _ = try await connection.query(
                "DELETE FROM snapshots WHERE through < (SELECT min(through) FROM (SELECT through FROM snapshots ORDER BY through DESC LIMIT 2))",
                [])
        }
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

    public func finished(_ query: FinishedQuery) async throws -> [FinishedInteraction] {
        var filters: [String] = []
        var binds: [SQLiteData] = []
        if let from = query.from { filters.append("ended_at >= ?"); binds.append(.integer(Int(from.milliseconds))) }
        if let to = query.to { filters.append("ended_at < ?"); binds.append(.integer(Int(to.milliseconds))) }
        if let queue = query.queue { filters.append("queue = ?"); binds.append(.text(queue.rawValue)) }
        if let agent = query.agent { filters.append("agent = ?"); binds.append(.text(agent.rawValue)) }
        if let code = query.wrapUpCode { filters.append("wrap_up_code = ?"); binds.append(.text(code.rawValue)) }
        if let (endedAt, id) = query.before {
            filters.append("(ended_at < ? OR (ended_at = ? AND interaction < ?))")
            binds += [.integer(Int(endedAt.milliseconds)), .integer(Int(endedAt.milliseconds)), .text(id.rawValue)]
        }
        let condition = filters.isEmpty ? "" : "WHERE " + filters.joined(separator: " AND ")
        // The page's interactions from an index, then all their rows.
        let rows = try await connection.query(
            """
            SELECT interaction, agent, wrap_up_code, queue, customer_number, customer_name, customer_address, customer_withheld,
              arrived_at, ended_at FROM finished
            WHERE interaction IN (SELECT DISTINCT interaction FROM finished \(condition)
                                  ORDER BY ended_at DESC, interaction DESC LIMIT ?)
            ORDER BY ended_at DESC, interaction DESC, rowid
            """, binds + [.integer(query.limit)])
        var found: [FinishedInteraction] = []
        for row in rows {
            guard let id = row.column("interaction")?.string, let queue = row.column("queue")?.string,
                let arrived = row.column("arrived_at")?.integer,
                let ended = row.column("ended_at")?.integer
            else { throw StoreError.corrupt }
            if found.last?.id.rawValue != id {
                found.append(FinishedInteraction(
                    id: InteractionID(id), queue: QueueID(queue),
                    caller: row.column("customer_withheld")?.integer == 1
                        ? .withheld
                        : Caller(
                            number: row.column("customer_number")?.string.map(DialNumber.init),
                            address: row.column("customer_address")?.string, name: row.column("customer_name")?.string),
                    arrivedAt: Timestamp(milliseconds: Int64(arrived)), endedAt: Timestamp(milliseconds: Int64(ended)),
                    agents: []))
            }
            if let agent = row.column("agent")?.string {
                found[found.count - 1].agents.append(.init(
                    agent: AgentID(agent), wrapUpCode: row.column("wrap_up_code")?.string.map(WrapUpCodeID.init)))
            }
        }
        return found
    }

    /// Removes in rounds of 500 interactions, each a write in its turn, so appends wait
    /// milliseconds, not the whole purge; then gives the freed pages back.
    public func purge(endedBefore cutoff: Timestamp) async throws -> Int {
        let oldest = try await connection.query("SELECT min(at) AS oldest FROM snapshots", []).first?.column("oldest")?.integer
        guard let oldest else { return 0 }  // no snapshot: a start would need every event
        let limit = min(Int(cutoff.milliseconds), oldest)
        var removed = 0
        while true {
            let round = Mutex(0)
            try await write { connection in
                let ids = try await connection.query(
                    "SELECT DISTINCT interaction FROM finished WHERE ended_at < ? LIMIT 500", [.integer(limit)]
                ).compactMap { $0.column("interaction")?.string }
                guard !ids.isEmpty else { return }
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
                let binds = ids.map { SQLiteData.text($0) }
                // The log's newest event stays whatever it is: it marks where numbering goes on.
                _ = try await connection.query(
                    "DELETE FROM events WHERE interaction IN (\(marks)) AND seq < (SELECT max(seq) FROM events)", binds)
                _ = try await connection.query("DELETE FROM finished WHERE interaction IN (\(marks))", binds)
                round.withLock { $0 = ids.count }
            }
            let count = round.withLock { $0 }
            guard count > 0 else { break }
            removed += count
        }
        // The audit trail is kept as long as the calls.
        try await write { _ = try await $0.query("DELETE FROM audit WHERE at < ?", [.integer(Int(cutoff.milliseconds))]) }
        if removed > 0 { try await write { _ = try await $0.query("PRAGMA incremental_vacuum", []) } }
        return removed
    }

    /// Queued with the appends and committed with them (no commit, no fsync, of their own).
    public func writeLines(_ changes: [LineRecord]) async throws {
        guard !changes.isEmpty else { return }
        try await withCheckedThrowingContinuation { done in enqueue(.lines(changes, done: done)) }
    }

    public func lines() async throws -> [LineRecord] {
        try await connection.query("SELECT key, body FROM lines ORDER BY key", []).compactMap { row in
            guard let key = row.column("key")?.string, let body = row.column("body")?.string else { return nil }
            return LineRecord(key: key, body: body)
        }
    }

    public func close() async throws {
        await checkpointer?.close()
        try await connection.close()
    }

    enum StoreError: Error { case corrupt }
}
