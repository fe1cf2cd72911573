import CallControl
import Foundation
import SQLiteNIO
import Testing

@testable import Store

/// An integer pragma of the store's database, as its own connection reads it.
private func pragma(_ name: String, of store: SQLiteEventStore) async throws -> Int? {
    try await store.connection.query("PRAGMA \(name)", []).first?.column(name)?.integer
}

@Suite("SQLite store: space freed by retention")
struct RetentionSpaceTests {
    /// Deleted rows only put their pages on the file's free list; without the incremental vacuum a log
    /// that retention trims would keep the largest size it ever had.
    @Test func purgedCallsGiveTheirPagesBackSoTheFileDoesNotGrowRoundOnRound() async throws {
        try await withTemporaryFolder { folder in
            let store = try await SQLiteEventStore.open(path: folder.appendingPathComponent("log.sqlite").path)
            func pages(_ name: String) async throws -> Int { try await pragma(name, of: store) ?? -1 }
            var next = 0
            var heldAtPeak: [Int] = []
            for round in 0..<3 {
                let ended = Int64(round) * 1_000_000 + 10_000
                var log: [Event] = []
                var calls: [FinishedInteraction] = []
                for n in 0..<500 {
                    let call = InteractionID("round\(round)-call\(n)")
                    for step in 0..<6 {
                        log.append(Event(at: Timestamp(milliseconds: ended - 100 + Int64(step)), .interaction(call, .customerHeld)))
                    }
                    calls.append(FinishedInteraction(
                        id: call, queue: "sales", caller: "+15550100", arrivedAt: Timestamp(milliseconds: ended - 100),
                        endedAt: Timestamp(milliseconds: ended), agents: [.init(agent: AgentID("agent\(n % 40)"), wrapUpCode: "resolved")]))
                }
                try await store.append(log, first: next, finishing: calls)
                next += log.count
                let before = try await pages("page_count")
                heldAtPeak.append(before)
                // Retention goes only as far as the oldest of the two snapshots kept.
                for through in [next - 1, next] {
                    try await store.saveSnapshot(StoredSnapshot(through: through, schema: 1, at: Timestamp(milliseconds: ended + 1), body: []))
                }
                #expect(try await store.purge(endedBefore: Timestamp(milliseconds: ended + 1)) == 500)
                #expect(try await pages("freelist_count") == 0, "round \(round): freed pages left in the file")
                let after = try await pages("page_count")
                #expect(after * 3 < before, "round \(round): \(before) pages before the purge, \(after) after")
            }
            // Each round writes as much as the last; the file after it is no bigger than after the first.
            #expect(heldAtPeak[2] <= heldAtPeak[0] + 4, "pages at each round's peak: \(heldAtPeak)")
            #expect(try await store.nextSequence() == next)
            try await store.close()
        }
    }
}

extension RetentionSpaceTests {
    /// Logs written before this was fixed switched to WAL first, and SQLite then ignored the setting.
    @Test func aLogMadeWithoutIncrementalVacuumIsRebuiltOnceWithItAndKeepsEveryEvent() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("log.sqlite").path
            let store = try await SQLiteEventStore.open(path: path)
            #expect(try await pragma("auto_vacuum", of: store) == 2)
            try await store.append(events(300), first: 0)
            _ = try await store.connection.query("PRAGMA auto_vacuum = NONE", [])
            _ = try await store.connection.query("VACUUM", [])
            #expect(try await pragma("auto_vacuum", of: store) == 0)
            try await store.close()

            let reopened = try await SQLiteEventStore.open(path: path)
            #expect(try await pragma("auto_vacuum", of: reopened) == 2)
            #expect(try await reopened.all() == events(300))
            try await reopened.close()
        }
    }
}
