import CallControl
import Foundation
import Store
import Testing

@Suite("Sessions and the audit trail in the store")
struct AccountsStoreTests {
    func record(_ hash: String, seen: Int64, ended: String? = nil) -> SessionRecord {
        SessionRecord(tokenHash: hash, user: "agent1", role: "agent", createdAt: Timestamp(milliseconds: 1),
                      lastSeenAt: Timestamp(milliseconds: seen), ended: ended, endedBy: ended == nil ? nil : "supervisor1")
    }

    @Test(arguments: StoreUnderTest.all)
    func sessionsArePutReplacedAndRemovedAndTheLastChangeToEachWins(_ store: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await store.make(folder)
            try await store.writeSessions([.put(record("a", seen: 5)), .put(record("b", seen: 6)), .put(record("c", seen: 7))])
            try await store.writeSessions([
                .put(record("a", seen: 9, ended: "signedOutBySupervisor")), .remove(tokenHash: "b"), .remove(tokenHash: "c"),
                .put(record("c", seen: 10)),
            ])
            let kept = try await store.sessions().sorted { $0.tokenHash < $1.tokenHash }
            #expect(kept == [record("a", seen: 9, ended: "signedOutBySupervisor"), record("c", seen: 10)])
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func anAgentsAuditTrailReadsNewestFirstAndIsPurgedWithOldCalls(_ store: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await store.make(folder)
            try await store.appendAudit([
                AuditEntry(at: Timestamp(milliseconds: 100), subject: "agent1", action: "signedIn"),
                AuditEntry(at: Timestamp(milliseconds: 200), subject: "agent2", action: "signedIn"),
                AuditEntry(at: Timestamp(milliseconds: 300), subject: "agent1", action: "setIdleBySupervisor", by: "supervisor1",
                           detail: "break"),
            ])
            let trail = try await store.audit(of: "agent1", limit: 10)
            #expect(trail.map(\.action) == ["setIdleBySupervisor", "signedIn"])
            #expect(trail.first?.by == "supervisor1" && trail.first?.detail == "break")
            #expect(try await store.audit(of: "agent1", limit: 1).count == 1)
            try await store.saveSnapshot(StoredSnapshot(through: 0, schema: 1, at: Timestamp(milliseconds: 1_000), body: []))
            _ = try await store.purge(endedBefore: Timestamp(milliseconds: 250))
            #expect(try await store.audit(of: "agent1", limit: 10).map(\.action) == ["setIdleBySupervisor"])
            try await store.close()
        }
    }
}
