import CallControl
import SQLiteNIO

/// A sign-in session as the store keeps it: the token only as its SHA-256, never in plain text.
public struct SessionRecord: Equatable, Sendable {
    public var tokenHash: String
    public var user: String
    public var role: String
    public var createdAt: Timestamp
    public var lastSeenAt: Timestamp
    /// nil while the session is live; otherwise why it ended (kept a while, so a late request
    /// with its token learns why rather than just "unknown").
    public var ended: String?
    /// Who ended it, when someone else did (a supervisor's id).
    public var endedBy: String?

    public init(
        tokenHash: String, user: String, role: String, createdAt: Timestamp, lastSeenAt: Timestamp,
        ended: String? = nil, endedBy: String? = nil
    ) {
        (self.tokenHash, self.user, self.role, self.createdAt, self.lastSeenAt) = (tokenHash, user, role, createdAt, lastSeenAt)
        (self.ended, self.endedBy) = (ended, endedBy)
    }
}

public enum SessionChange: Equatable, Sendable {
    case put(SessionRecord)
    case remove(tokenHash: String)

    /// What a batch of changes leaves: the records to write and the tokens to remove, the last
    /// change to each token winning (a store writes these in a few statements).
    public static func coalesce(_ changes: [SessionChange]) -> (puts: [SessionRecord], removals: [String]) {
        var puts: [String: SessionRecord] = [:], removals = Set<String>()
        for change in changes {
            switch change {
            case .put(let record):
                puts[record.tokenHash] = record
                removals.remove(record.tokenHash)
            case .remove(let hash):
                puts[hash] = nil
                removals.insert(hash)
            }
        }
        return (Array(puts.values), Array(removals))
    }
}

/// One line of an agent's audit trail: sign-ins, sign-outs, expiries, what supervisors did to them.
public struct AuditEntry: Equatable, Sendable {
    public var at: Timestamp
    /// The agent (or supervisor) it is about.
    public var subject: String
    public var action: String
    /// Who did it, when not the subject (a supervisor's id).
    public var by: String?
    public var detail: String?

    public init(at: Timestamp, subject: String, action: String, by: String? = nil, detail: String? = nil) {
        (self.at, self.subject, self.action, self.by, self.detail) = (at, subject, action, by, detail)
    }
}

extension SQLiteEventStore {
    static let accountTables = [
        """
        CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL,
          created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, ended TEXT, ended_by TEXT)
        """,
        "CREATE TABLE IF NOT EXISTS audit (at INTEGER NOT NULL, subject TEXT NOT NULL, action TEXT NOT NULL, by TEXT, detail TEXT)",
        "CREATE INDEX IF NOT EXISTS audit_by_subject ON audit (subject, at)",
    ]

    static func optional(_ text: String?) -> SQLiteData { text.map { .text($0) } ?? .null }

    public func writeSessions(_ changes: [SessionChange]) async throws {
        guard !changes.isEmpty else { return }
        // A few statements for any number of changes (each statement is a trip to SQLite's thread,
        // and the writer's queue waits for the whole write).
        let (rows, gone) = SessionChange.coalesce(changes)
        try await write { connection in
            _ = try await connection.query("BEGIN IMMEDIATE", [])
            do {
                for chunk in stride(from: 0, to: rows.count, by: 500).map({ rows[$0..<min($0 + 500, rows.count)] }) {
                    let marks = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
                    _ = try await connection.query(
                        "INSERT OR REPLACE INTO sessions (token_hash, user, role, created_at, last_seen_at, ended, ended_by) VALUES \(marks)",
                        chunk.flatMap { record -> [SQLiteData] in
                            [
                                .text(record.tokenHash), .text(record.user), .text(record.role),
                                .integer(Int(record.createdAt.milliseconds)), .integer(Int(record.lastSeenAt.milliseconds)),
                                Self.optional(record.ended), Self.optional(record.endedBy),
                            ]
                        })
                }
                for chunk in stride(from: 0, to: gone.count, by: 500).map({ gone[$0..<min($0 + 500, gone.count)] }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                    _ = try await connection.query("DELETE FROM sessions WHERE token_hash IN (\(marks))", chunk.map { .text($0) })
                }
                _ = try await connection.query("COMMIT", [])
            } catch {
                _ = try? await connection.query("ROLLBACK", [])
                throw error
            }
        }
    }

    public func sessions() async throws -> [SessionRecord] {
        try await connection.query(
            "SELECT token_hash, user, role, created_at, last_seen_at, ended, ended_by FROM sessions ORDER BY created_at", []
        ).compactMap { row in
            guard let hash = row.column("token_hash")?.string, let user = row.column("user")?.string,
                let role = row.column("role")?.string, let created = row.column("created_at")?.integer,
                let seen = row.column("last_seen_at")?.integer
            else { return nil }
            return SessionRecord(
                tokenHash: hash, user: user, role: role, createdAt: Timestamp(milliseconds: Int64(created)),
                lastSeenAt: Timestamp(milliseconds: Int64(seen)), ended: row.column("ended")?.string,
                endedBy: row.column("ended_by")?.string)
        }
    }

    public func appendAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        let rows = Array(repeating: "(?, ?, ?, ?, ?)", count: entries.count).joined(separator: ", ")
        let binds = entries.flatMap { entry -> [SQLiteData] in
            [.integer(Int(entry.at.milliseconds)), .text(entry.subject), .text(entry.action), Self.optional(entry.by),
             Self.optional(entry.detail)]
        }
        try await write { _ = try await $0.query("INSERT INTO audit (at, subject, action, by, detail) VALUES \(rows)", binds) }
    }

    public func audit(of subject: String, limit: Int) async throws -> [AuditEntry] {
        try await connection.query(
            "SELECT at, subject, action, by, detail FROM audit WHERE subject = ? ORDER BY at DESC, rowid DESC LIMIT ?",
            [.text(subject), .integer(limit)]
        ).compactMap { row in
            guard let at = row.column("at")?.integer, let action = row.column("action")?.string else { return nil }
            return AuditEntry(
                at: Timestamp(milliseconds: Int64(at)), subject: subject, action: action, by: row.column("by")?.string,
                detail: row.column("detail")?.string)
        }
    }
}
