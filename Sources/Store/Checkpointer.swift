import Logging
import SQLiteNIO
import Synchronization

/// Copies the write-ahead log's pages into the database file on a second connection, beside the
/// writer rather than in its path. Left to SQLite, the writer itself checkpoints after the commit
/// that takes the WAL past 1,000 pages, and every command in the next group commit waits for it:
/// on a log of 900 MB each such checkpoint copied ~590 scattered pages and waited ~8.5 ms for the
/// database file's fsync, three times a second, and command p99 at 3,000/s went from 5 to 17 ms
/// (docs/benchmarks.md, issue 9). Here the checkpoints are PASSIVE (they never wait for, nor
/// block, the writer), one after every `commitsPerCheckpoint` commits; the writer's own
/// automatic checkpoint stays as a backstop at `backstopPages`, and then finds most pages copied.
final class Checkpointer: Sendable {
    static let commitsPerCheckpoint = 64
    /// The writer's `wal_autocheckpoint` (pages of 4 KiB): 64 MiB of WAL.
    static let backstopPages = 16_384

    private let connection: SQLiteConnection
    private let wake: AsyncStream<Void>.Continuation
    private let loop: Task<Void, Never>
    private let commits = Atomic<Int>(0)

    private init(connection: SQLiteConnection) {
        self.connection = connection
        // At most one wake-up waits: commits that come during a checkpoint ask for one more, not many.
        let (stream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        loop = Task {
            // A checkpoint that cannot run now (SQLITE_BUSY, an I/O error) is tried again at the
            // next wake-up; the writer's backstop bounds the WAL meanwhile.
            for await _ in stream { _ = try? await Self.checkpoint(connection) }
        }
    }

    static func open(path: String, durability: SQLiteEventStore.Durability) async throws -> Checkpointer {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), logger: Logger(label: "switchboard.store.checkpointer"))
        do {
            // A checkpoint's fsync of the database file follows this connection's setting.
            _ = try await connection.query("PRAGMA synchronous=\(durability.rawValue.uppercased())", [])
        } catch {
            try? await connection.close()
            throw error
        }
        return Checkpointer(connection: connection)
    }

    /// One PASSIVE checkpoint: how many frames the WAL holds, and how many of them are now in the
    /// database file.
    func checkpoint() async throws -> (walFrames: Int, copied: Int) {
        try await Self.checkpoint(connection)
    }

    private static func checkpoint(_ connection: SQLiteConnection) async throws -> (walFrames: Int, copied: Int) {
        let row = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)", []).first
        return (row?.column("log")?.integer ?? 0, row?.column("checkpointed")?.integer ?? 0)
    }

    /// The writer committed: every `commitsPerCheckpoint`th commit wakes the checkpointer.
    func committed() {
        if commits.wrappingAdd(1, ordering: .relaxed).newValue % Self.commitsPerCheckpoint == 0 { wake.yield() }
    }

    func close() async {
        wake.finish()
        await loop.value
        try? await connection.close()
    }
}
