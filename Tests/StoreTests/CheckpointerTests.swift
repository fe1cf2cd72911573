import CallControl
import Foundation
import SQLiteNIO
import Testing

@testable import Store

@Suite("SQLite store: checkpoints beside the writer")
struct CheckpointerTests {
    @Test func theWritersOwnCheckpointIsOnlyABackstopFarAboveSQLitesDefault() async throws {
        try await withTemporaryFolder { folder in
            let store = try await SQLiteEventStore.open(path: folder.appendingPathComponent("log.sqlite").path)
            let pages = try await store.connection.query("PRAGMA wal_autocheckpoint", []).first?.column("wal_autocheckpoint")?.integer
            #expect(pages == Checkpointer.backstopPages)
            #expect((pages ?? 0) > 1_000)
            #expect(store.checkpointer != nil)
            try await store.close()
        }
    }

    /// Commits go on while a checkpoint copies pages on the other connection, and none is lost: the
    /// log reads back whole after a reopen.
    @Test func aCheckpointCopiesTheLogIntoTheDatabaseFileWhileCommitsGoOn() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("log.sqlite").path
            let store = try await SQLiteEventStore.open(path: path)
            var next = 0
            for _ in 0..<50 {
                try await store.append(events(4, from: next), first: next)
                next += 4
            }
            let sizeBefore = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            async let copying = store.checkpointer!.checkpoint()
            for _ in 0..<50 {
                try await store.append(events(4, from: next), first: next)
                next += 4
            }
            let (walFrames, copied) = try await copying
            #expect(walFrames > 0)
            #expect(copied > 0)
            // The database file itself holds the pages now, not only the WAL.
            let sizeAfter = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            #expect(sizeAfter > sizeBefore)
            try await store.close()

            let reopened = try await SQLiteEventStore.open(path: path)
            #expect(try await reopened.all() == events(next))
            try await reopened.close()
        }
    }
}
