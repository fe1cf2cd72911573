#if PostgreSQL
import CallControl
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Store
import Synchronization

/// The event log on PostgreSQL, for more than one machine: the same contract as the SQLite store
/// (the same tests), the same encoding of events (`EventLog`), and the same schema version and
/// migration rules (docs/event-log.md).
///
/// Group commit as in SQLite: appends that arrive while a write is in flight go together in the
/// next transaction, one commit (one WAL flush, and with a synchronous standby one round trip to
/// it) for all of them.
///
/// Fencing: a store opened with an `epoch` checks, in the same transaction as every write, that the
/// lease row still carries that epoch (and holds the row shared while it commits, so a takeover
/// waits for it). A node that lost its lease can therefore never write again, however long it was
/// paused. See `Lease`.
///
/// Every call has a client-side deadline (`timeout`): a database that stops answering makes the
/// call fail with `PostgresStoreError.timedOut`, never hang. The client's pool reconnects by
/// itself once the server is back.
public final class PostgresEventStore: EventStore {
    let client: PostgresClient
    private let running: Task<Void, Never>
    let logger: Logger
    /// How long one call into PostgreSQL may take before it fails.
    public let timeout: Duration
    /// The lease epoch this node writes under; nil: no fencing (a single node).
    private let epoch = Mutex<Int64?>(nil)

    private enum Job {
        case append(events: [Event], first: Int, finished: [FinishedInteraction], done: CheckedContinuation<Void, any Error>)
        case lines([LineRecord], done: CheckedContinuation<Void, any Error>)
    }
    private let queue = WriteQueue<Job>()
    /// Events per INSERT: five parameters each, under PostgreSQL's 65,535.
    static let eventsPerStatement = 2_000

    private init(client: PostgresClient, running: Task<Void, Never>, timeout: Duration, logger: Logger) {
        (self.client, self.running, self.timeout, self.logger) = (client, running, timeout, logger)
    }

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`), brings the schema up
    /// to date (refusing a database written by a newer Switchboard) and returns the store.
    public static func open(url: String, timeout: Duration = .seconds(5), logger: Logger = Logger(label: "switchboard.postgres")) async throws
        -> PostgresEventStore
    {
        let configuration = try PostgresAddress(url).configuration(connectTimeout: timeout)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let running = Task { await client.run() }
        let store = PostgresEventStore(client: client, running: running, timeout: timeout, logger: logger)
        do {
            try await store.migrate()
        } catch {
            running.cancel()
            throw error
        }
        return store
    }

    // MARK: - Deadlines

    /// Runs `body`, failing with `timedOut` once it has taken longer than the store's timeout —
    /// whether or not `body` heeds cancellation (it is cancelled, and left to finish on its own):
    /// the caller is answered at the deadline. A write that timed out may still commit later; the
    /// center treats it as failed, as any failed write (it takes no command until rebuilt from the log).
    func bounded<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = timeout
        let deadline = Deadline<T>()
        return try await withCheckedThrowingContinuation { continuation in
            deadline.start(continuation)
            let work = Task {
                do { deadline.finish(.success(try await body())) } catch { deadline.finish(.failure(error)) }
            }
            deadline.arm(Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled else { return }
                if deadline.finish(.failure(PostgresStoreError.timedOut(what))) { work.cancel() }
            })
        }
    }

    /// A transaction whose own error (say, `fenced`) is thrown as itself, not wrapped in
    /// PostgresNIO's `PostgresTransactionError` (when rolling back went well).
    static func transaction<T: Sendable>(
        _ client: PostgresClient, _ logger: Logger, _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        do {
            return try await client.withTransaction(logger: logger) { try await body($0) }
        } catch let error as PostgresTransactionError {
            if let own = error.closureError, error.rollbackError == nil { throw own }
            throw error
        }
    }

    // MARK: - Schema

    /// Tables and indexes of schema 3 (the first on PostgreSQL); `schema_version` holds the number.
    static let schema = [
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS events (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, interaction TEXT, agent TEXT, body TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS events_by_interaction ON events (interaction, seq)",
        "CREATE TABLE IF NOT EXISTS snapshots (through BIGINT PRIMARY KEY, schema INTEGER NOT NULL, at BIGINT NOT NULL, body BYTEA NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS finished (row_id BIGSERIAL PRIMARY KEY, interaction TEXT NOT NULL, agent TEXT,
          wrap_up_code TEXT, queue TEXT NOT NULL, customer_number TEXT, customer_name TEXT, customer_address TEXT,
          customer_withheld BOOLEAN NOT NULL DEFAULT false, arrived_at BIGINT NOT NULL, ended_at BIGINT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS finished_by_time ON finished (ended_at, interaction)",
        "CREATE INDEX IF NOT EXISTS finished_by_agent ON finished (agent, ended_at)",
        "CREATE INDEX IF NOT EXISTS finished_by_queue ON finished (queue, ended_at)",
        "CREATE INDEX IF NOT EXISTS finished_by_code ON finished (wrap_up_code, ended_at)",
        "CREATE INDEX IF NOT EXISTS finished_by_interaction ON finished (interaction)",
        "CREATE TABLE IF NOT EXISTS lines (key TEXT PRIMARY KEY, body TEXT NOT NULL)",
        """
        CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, role TEXT NOT NULL,
          created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, ended TEXT, ended_by TEXT)
        """,
        """
        CREATE TABLE IF NOT EXISTS audit (row_id BIGSERIAL PRIMARY KEY, at BIGINT NOT NULL, subject TEXT NOT NULL,
          action TEXT NOT NULL, by_whom TEXT, detail TEXT)
        """,
        "CREATE INDEX IF NOT EXISTS audit_by_subject ON audit (subject, at)",
        // The one lease row (see `Lease`): who may write, under which epoch, until when.
        """
        CREATE TABLE IF NOT EXISTS lease (singleton BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
          holder TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)
        """,
    ]

    /// Creates the tables (two nodes starting at once take turns: a transaction-scoped advisory
    /// lock serialises the migration only) and checks the version.
    private func migrate() async throws {
        // Up to date already: nothing to write (a standby server, read-only, can be opened then).
        let current = try await bounded("schema version") { [client] in
            let rows = try? await client.query(
                "SELECT version FROM schema_version WHERE to_regclass('lease') IS NOT NULL").collect()
            return try rows?.first?.decode(Int.self)
        }
        if current == EventLog.schemaVersion { return }
        if let current, current > EventLog.schemaVersion { throw EventLogError.newerSchema(current) }
        try await bounded("migrate") { [client, logger] in
            try await Self.transaction(client, logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(5060)", logger: logger)
                for statement in Self.schema {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let rows = try await connection.query("SELECT version FROM schema_version", logger: logger).collect()
                if let row = rows.first {
                    let version = try row.decode(Int.self)
                    guard version <= EventLog.schemaVersion else { throw EventLogError.newerSchema(version) }
                    // No PostgreSQL log older than schema 3 exists: nothing to rewrite yet. A later
                    // schema's migration goes here, in this transaction, as SQLite's does.
                    if version < EventLog.schemaVersion {
                        try await connection.query("UPDATE schema_version SET version = \(EventLog.schemaVersion)", logger: logger)
                    }
                } else {
                    try await connection.query("INSERT INTO schema_version (version) VALUES (\(EventLog.schemaVersion))", logger: logger)
                }
            }
        }
    }

    // MARK: - Fencing

    /// From now on every write checks that the lease still carries `epoch`.
    public func fence(epoch value: Int64) { epoch.withLock { $0 = value } }

    /// In a write's transaction: the lease row, shared, must carry this node's epoch.
    private static func checkEpoch(_ epoch: Int64?, on connection: PostgresConnection, logger: Logger) async throws {
        guard let epoch else { return }
        let rows = try await connection.query("SELECT epoch FROM lease FOR SHARE", logger: logger).collect()
        let current = try rows.first?.decode(Int64.self)
        guard current == epoch else { throw PostgresStoreError.fenced(mine: epoch, current: current) }
    }

    // MARK: - Appending

    public func append(_ events: [Event], first: Int, finishing finished: [FinishedInteraction]) async throws {
        guard !events.isEmpty || !finished.isEmpty else { return }
        try await withCheckedThrowingContinuation { done in
            enqueue(.append(events: events, first: first, finished: finished, done: done))
        }
    }

    /// Queued with the appends and committed with them.
    public func writeLines(_ changes: [LineRecord]) async throws {
        guard !changes.isEmpty else { return }
        try await withCheckedThrowingContinuation { done in enqueue(.lines(changes, done: done)) }
    }

    private func enqueue(_ job: Job) {
        if queue.add(job) { Task { await self.runQueue() } }
    }

    /// Writes what waits, a transaction per turn, until nothing is left.
    private func runQueue() async {
        while true {
            let batch = queue.next()
            guard !batch.isEmpty else { return }
            var events: [(Int, Event)] = [], finished: [FinishedInteraction] = [], lines: [LineRecord] = []
            var waiting: [CheckedContinuation<Void, any Error>] = []
            for job in batch {
                switch job {
                case .append(let appended, let first, let finishing, let done):
                    events += appended.enumerated().map { (first + $0.offset, $0.element) }
                    finished += finishing
                    waiting.append(done)
                case .lines(let changes, let done):
                    lines += changes
                    waiting.append(done)
                }
            }
            do {
                try await write(events: events, finished: finished, lines: lines)
                for done in waiting { done.resume() }
            } catch {
                for done in waiting { done.resume(throwing: error) }
            }
        }
    }

    /// One transaction: the epoch checked, the events, the finished interactions, the lines.
    private func write(events: [(Int, Event)], finished: [FinishedInteraction], lines: [LineRecord]) async throws {
        let epoch = epoch.withLock { $0 }
        let eventQueries = stride(from: 0, to: events.count, by: Self.eventsPerStatement).map { start in
            Self.insert(events[start..<min(start + Self.eventsPerStatement, events.count)])
        }
        let finishedQuery = finished.isEmpty ? nil : Self.insert(finished)
        let (puts, removals) = LineRecord.coalesce(lines)
        try await bounded("append") { [client, logger] in
            try await Self.transaction(client, logger) { connection in
                try await Self.checkEpoch(epoch, on: connection, logger: logger)
                for query in eventQueries { try await connection.query(query, logger: logger) }
                if let finishedQuery { try await connection.query(finishedQuery, logger: logger) }
                // Two statements for any number of line changes (each is a round trip inside the
                // transaction that every append in the batch waits for).
                if !puts.isEmpty {
                    try await connection.query(
                        """
                        INSERT INTO lines (key, body) SELECT * FROM unnest(\(puts.map(\.key)), \(puts.map(\.body)))
                        ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body
                        """, logger: logger)
                }
                if !removals.isEmpty {
                    try await connection.query("DELETE FROM lines WHERE key = ANY(\(removals))", logger: logger)
                }
            }
        }
    }

    /// A multi-row INSERT of events: `(seq, at, interaction, agent, body)` each.
    static func insert(_ events: ArraySlice<(Int, Event)>) -> PostgresQuery {
        var binds = PostgresBindings(capacity: events.count * 5)
        var rows: [String] = []
        rows.reserveCapacity(events.count)
        for (seq, event) in events {
            let row = EventLog.encode(event.subject)
            let base = binds.count
            binds.append(Int64(seq))
            binds.append(event.at.milliseconds)
            binds.append(row.interaction?.rawValue)
            binds.append(row.agent?.rawValue)
            binds.append(row.body)
            rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5))")
        }
        return PostgresQuery(
            unsafeSQL: "INSERT INTO events (seq, at, interaction, agent, body) VALUES " + rows.joined(separator: ", "), binds: binds)
    }

    /// The finished interactions' rows: one per agent who was on each (one with no agent if none was).
    static func insert(_ finished: [FinishedInteraction]) -> PostgresQuery {
        var binds = PostgresBindings()
        var rows: [String] = []
        for interaction in finished {
            let handlings = interaction.agents.isEmpty ? [nil] : interaction.agents.map(Optional.some)
            for handling in handlings {
                let base = binds.count
                binds.append(interaction.id.rawValue)
                binds.append(handling?.agent.rawValue)
                binds.append(handling?.wrapUpCode?.rawValue)
                binds.append(interaction.queue.rawValue)
                binds.append(interaction.caller.number?.rawValue)
                binds.append(interaction.caller.name)
                binds.append(interaction.caller.address)
                binds.append(interaction.caller.withheld)
                binds.append(interaction.arrivedAt.milliseconds)
                binds.append(interaction.endedAt.milliseconds)
                rows.append("(" + (1...10).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
            }
        }
        return PostgresQuery(
            unsafeSQL: """
                INSERT INTO finished (interaction, agent, wrap_up_code, queue, customer_number, customer_name, customer_address,
                  customer_withheld, arrived_at, ended_at) VALUES
                """ + rows.joined(separator: ", "),
            binds: binds)
    }

    // MARK: - Reading

    public func all() async throws -> [Event] { try await events(from: 0) }

    public func events(from first: Int) async throws -> [Event] {
        try await select("SELECT at, interaction, agent, body FROM events WHERE seq >= \(Int64(first)) ORDER BY seq")
    }

    public func events(of interaction: InteractionID) async throws -> [Event] {
        try await select("SELECT at, interaction, agent, body FROM events WHERE interaction = \(interaction.rawValue) ORDER BY seq")
    }

    /// The events after `after` (a sequence number) with their numbers, at most `limit`: what a
    /// standby node follows the log with.
    public func numberedEvents(after: Int, limit: Int) async throws -> [(Int, Event)] {
        try await bounded("numberedEvents") { [client] in
            var found: [(Int, Event)] = []
            let rows = try await client.query(
                "SELECT seq, at, interaction, agent, body FROM events WHERE seq > \(Int64(after)) ORDER BY seq LIMIT \(Int64(limit))")
            for try await row in rows {
                let (seq, at, interaction, agent, body) = try row.decode((Int64, Int64, String?, String?, String).self)
                found.append((Int(seq), try Self.event(at: at, interaction: interaction, agent: agent, body: body)))
            }
            return found
        }
    }

    private func select(_ query: PostgresQuery) async throws -> [Event] {
        try await bounded("read events") { [client] in
            var found: [Event] = []
            for try await row in try await client.query(query) {
                let (at, interaction, agent, body) = try row.decode((Int64, String?, String?, String).self)
                found.append(try Self.event(at: at, interaction: interaction, agent: agent, body: body))
            }
            return found
        }
    }

    /// An event from its row's columns (`EventLog`'s encoding).
    private static func event(at: Int64, interaction: String?, agent: String?, body: String) throws -> Event {
        let stored = EventLog.Row(interaction: interaction.map(InteractionID.init), agent: agent.map(AgentID.init), body: body)
        return Event(at: Timestamp(milliseconds: at), try EventLog.decode(stored))
    }

    public func nextSequence() async throws -> Int {
        try await bounded("nextSequence") { [client] in
            let rows = try await client.query("SELECT max(seq) FROM events").collect()
            return try (rows.first?.decode(Int64?.self)).flatMap { $0 }.map { Int($0) + 1 } ?? 0
        }
    }

    // MARK: - Snapshots

    /// Fenced like appends; only the newest two are kept.
    public func saveSnapshot(_ snapshot: StoredSnapshot) async throws {
        let epoch = epoch.withLock { $0 }
        try await bounded("saveSnapshot") { [client, logger] in
            try await Self.transaction(client, logger) { connection in
                try await Self.checkEpoch(epoch, on: connection, logger: logger)
                let body = ByteBuffer(bytes: snapshot.body)
                try await connection.query(
                    """
                    INSERT INTO snapshots (through, schema, at, body) VALUES (\(Int64(snapshot.through)), \(Int32(snapshot.schema)),
                      \(snapshot.at.milliseconds), \(body))
                    ON CONFLICT (through) DO UPDATE SET schema = EXCLUDED.schema, at = EXCLUDED.at, body = EXCLUDED.body
                    """, logger: logger)
                try await connection.query(
                    "DELETE FROM snapshots WHERE through < (SELECT min(through) FROM (SELECT through FROM snapshots ORDER BY through DESC LIMIT 2) AS newest)",
                    logger: logger)
            }
        }
    }

    public func latestSnapshot() async throws -> StoredSnapshot? {
        try await bounded("latestSnapshot") { [client] in
            let rows = try await client.query("SELECT through, schema, at, body FROM snapshots ORDER BY through DESC LIMIT 1").collect()
            guard let row = rows.first else { return nil }
            let (through, schema, at, body) = try row.decode((Int64, Int32, Int64, ByteBuffer).self)
            return StoredSnapshot(
                through: Int(through), schema: Int(schema), at: Timestamp(milliseconds: at), body: Array(body.readableBytesView))
        }
    }

    // MARK: - History

    public func finished(_ query: FinishedQuery) async throws -> [FinishedInteraction] {
        var filters: [String] = []
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        if let from = query.from { filters.append("ended_at >= \(bind(from.milliseconds))") }
        if let to = query.to { filters.append("ended_at < \(bind(to.milliseconds))") }
        if let queue = query.queue { filters.append("queue = \(bind(queue.rawValue))") }
        if let agent = query.agent { filters.append("agent = \(bind(agent.rawValue))") }
        if let code = query.wrapUpCode { filters.append("wrap_up_code = \(bind(code.rawValue))") }
        if let (endedAt, id) = query.before {
            let at = bind(endedAt.milliseconds)
            filters.append("(ended_at < \(at) OR (ended_at = \(at) AND interaction < \(bind(id.rawValue))))")
        }
        let condition = filters.isEmpty ? "" : "WHERE " + filters.joined(separator: " AND ")
        let limit = bind(Int64(query.limit))
        // The page's interactions from an index, then all their rows (in the order they were written).
        let sql = PostgresQuery(
            unsafeSQL: """
                SELECT interaction, agent, wrap_up_code, queue, customer_number, customer_name, customer_address, customer_withheld,
                  arrived_at, ended_at FROM finished
                WHERE interaction IN (SELECT interaction FROM finished \(condition)
                                      GROUP BY interaction ORDER BY max(ended_at) DESC, interaction DESC LIMIT \(limit))
                ORDER BY ended_at DESC, interaction DESC, row_id
                """, binds: binds)
        return try await bounded("finished") { [client] in
            var found: [FinishedInteraction] = []
            for try await row in try await client.query(sql) {
                let (id, agent, code, queue, number, name, address, withheld, arrived, ended) =
                    try row.decode((String, String?, String?, String, String?, String?, String?, Bool, Int64, Int64).self)
                if found.last?.id.rawValue != id {
                    found.append(FinishedInteraction(
                        id: InteractionID(id), queue: QueueID(queue),
                        caller: withheld ? .withheld : Caller(number: number.map(DialNumber.init), address: address, name: name),
                        arrivedAt: Timestamp(milliseconds: arrived), endedAt: Timestamp(milliseconds: ended), agents: []))
                }
                if let agent {
                    found[found.count - 1].agents.append(.init(agent: AgentID(agent), wrapUpCode: code.map(WrapUpCodeID.init)))
                }
            }
            return found
        }
    }

    /// As SQLite's: in rounds of 500 interactions, only behind the oldest kept snapshot, the
    /// log's newest event always kept (it marks where numbering goes on).
    public func purge(endedBefore cutoff: Timestamp) async throws -> Int {
        let epoch = epoch.withLock { $0 }
        return try await bounded("purge") { [client, logger] in
            let oldest = try await client.query("SELECT min(at) FROM snapshots").collect().first?.decode(Int64?.self) ?? nil
            guard let oldest else { return 0 }  // no snapshot: a start would need every event
            let limit = min(cutoff.milliseconds, oldest)
            var removed = 0
            while true {
                let round = try await Self.transaction(client, logger) { connection -> Int in
                    try await Self.checkEpoch(epoch, on: connection, logger: logger)
                    var ids: [String] = []
                    for try await row in try await connection.query(
                        "SELECT DISTINCT interaction FROM finished WHERE ended_at < \(limit) LIMIT 500", logger: logger)
                    {
                        ids.append(try row.decode(String.self))
                    }
                    guard !ids.isEmpty else { return 0 }
                    try await connection.query(
                        "DELETE FROM events WHERE interaction = ANY(\(ids)) AND seq < (SELECT max(seq) FROM events)", logger: logger)
                    try await connection.query("DELETE FROM finished WHERE interaction = ANY(\(ids))", logger: logger)
                    return ids.count
                }
                guard round > 0 else { break }
                removed += round
            }
            // The audit trail is kept as long as the calls.
            try await client.query("DELETE FROM audit WHERE at < \(cutoff.milliseconds)")
            return removed
        }
    }

    // MARK: - Lines, sessions, audit

    public func lines() async throws -> [LineRecord] {
        try await bounded("lines") { [client] in
            var found: [LineRecord] = []
            for try await row in try await client.query("SELECT key, body FROM lines ORDER BY key") {
                let (key, body) = try row.decode((String, String).self)
                found.append(LineRecord(key: key, body: body))
            }
            return found
        }
    }

    public func writeSessions(_ changes: [SessionChange]) async throws {
        guard !changes.isEmpty else { return }
        let (rows, gone) = SessionChange.coalesce(changes)
        try await bounded("writeSessions") { [client, logger] in
            try await Self.transaction(client, logger) { connection in
                for record in rows {
                    try await connection.query(
                        """
                        INSERT INTO sessions (token_hash, username, role, created_at, last_seen_at, ended, ended_by)
                        VALUES (\(record.tokenHash), \(record.user), \(record.role), \(record.createdAt.milliseconds),
                          \(record.lastSeenAt.milliseconds), \(record.ended), \(record.endedBy))
                        ON CONFLICT (token_hash) DO UPDATE SET username = EXCLUDED.username, role = EXCLUDED.role,
                          created_at = EXCLUDED.created_at, last_seen_at = EXCLUDED.last_seen_at, ended = EXCLUDED.ended,
                          ended_by = EXCLUDED.ended_by
                        """, logger: logger)
                }
                if !gone.isEmpty {
                    try await connection.query("DELETE FROM sessions WHERE token_hash = ANY(\(gone))", logger: logger)
                }
            }
        }
    }

    public func sessions() async throws -> [SessionRecord] {
        try await bounded("sessions") { [client] in
            var found: [SessionRecord] = []
            for try await row in try await client.query(
                "SELECT token_hash, username, role, created_at, last_seen_at, ended, ended_by FROM sessions ORDER BY created_at")
            {
                let (hash, user, role, created, seen, ended, endedBy) =
                    try row.decode((String, String, String, Int64, Int64, String?, String?).self)
                found.append(SessionRecord(
                    tokenHash: hash, user: user, role: role, createdAt: Timestamp(milliseconds: created),
                    lastSeenAt: Timestamp(milliseconds: seen), ended: ended, endedBy: endedBy))
            }
            return found
        }
    }

    public func appendAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await bounded("appendAudit") { [client, logger] in
            try await Self.transaction(client, logger) { connection in
                for entry in entries {
                    try await connection.query(
                        """
                        INSERT INTO audit (at, subject, action, by_whom, detail)
                        VALUES (\(entry.at.milliseconds), \(entry.subject), \(entry.action), \(entry.by), \(entry.detail))
                        """, logger: logger)
                }
            }
        }
    }

    public func audit(of subject: String, limit: Int) async throws -> [AuditEntry] {
        try await bounded("audit") { [client] in
            var found: [AuditEntry] = []
            for try await row in try await client.query(
                "SELECT at, action, by_whom, detail FROM audit WHERE subject = \(subject) ORDER BY at DESC, row_id DESC LIMIT \(Int64(limit))")
            {
                let (at, action, by, detail) = try row.decode((Int64, String, String?, String?).self)
                found.append(AuditEntry(at: Timestamp(milliseconds: at), subject: subject, action: action, by: by, detail: detail))
            }
            return found
        }
    }

    public func close() async throws {
        running.cancel()
    }
}

#endif
