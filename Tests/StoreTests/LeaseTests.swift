#if PostgreSQL
import CallControl
import Foundation
import PostgresStore
import Store
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The lease on PostgreSQL: one writer at a time, and a former one fenced out for good.
@Suite("PostgreSQL lease and fencing")
struct LeaseTests {
    static func twoNodes() async throws -> (PostgresEventStore, PostgresEventStore) {
        let url = try TestPostgres.newDatabase()
        return (try await PostgresEventStore.open(url: url), try await PostgresEventStore.open(url: url))
    }

    @Test func theFirstClaimGetsEpochOneAndAnotherNodeIsRefusedWhileItHoldsIt() async throws {
        let (a, b) = try await Self.twoNodes()
        #expect(try await a.lease() == nil)
        #expect(try await a.claimLease(holder: "a", seconds: 60) == 1)
        #expect(try await b.claimLease(holder: "b", seconds: 60) == nil)
        // Renewing keeps the epoch: nothing changed hands.
        #expect(try await a.claimLease(holder: "a", seconds: 60) == 1)
        let held = try #require(try await b.lease())
        #expect(held.holder == "a" && held.epoch == 1 && held.remainingMilliseconds > 50_000)
        try await a.close()
        try await b.close()
    }

    @Test func aLapsedLeaseIsTakenUnderTheNextEpochAndTheFormerHolderCanNeverWriteAgain() async throws {
        let (a, b) = try await Self.twoNodes()
        // A holds a lease that lapses at once (as if paused past it).
        let first = try #require(try await a.claimLease(holder: "a", seconds: 0))
        a.fence(epoch: first)
        try await a.append(events(2), first: 0)
        let second = try #require(try await b.claimLease(holder: "b", seconds: 60))
        #expect(second == first + 1)
        b.fence(epoch: second)
        // A wakes up and writes: refused in the transaction, nothing of it stored.
        await #expect(throws: PostgresStoreError.fenced(mine: first, current: second)) {
            try await a.append(events(2, from: 2), first: 2)
        }
        await #expect(throws: PostgresStoreError.fenced(mine: first, current: second)) {
            try await a.saveSnapshot(StoredSnapshot(through: 2, schema: 1, at: Timestamp(milliseconds: 5), body: []))
        }
        // Nor can it take the lease back while B holds it.
        #expect(try await a.claimLease(holder: "a", seconds: 60) == nil)
        try await b.append(events(2, from: 2), first: 2)
        #expect(try await b.all() == events(4))
        #expect(try await b.latestSnapshot() == nil)
        try await a.close()
        try await b.close()
    }

    @Test func aDatabaseThatNeverAnswersFailsTheCallAtTheDeadlineInsteadOfHanging() async throws {
        // A socket that accepts connections (the kernel completes them) and never says a word.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(listener, 8) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        await #expect(throws: PostgresStoreError.timedOut("schema version")) {
            _ = try await PostgresEventStore.open(url: "postgres://nobody@127.0.0.1:\(port)/none", timeout: .milliseconds(300))
        }
    }

    @Test func aURLThatIsNotPostgresIsRefusedInWords() async throws {
        for (url, words) in [
            ("mysql://u@h/db", "postgres://"), ("postgres://h/db", "no user"), ("postgres://u@h/", "no database"),
        ] {
            do {
                _ = try await PostgresEventStore.open(url: url)
                Issue.record("\(url) was accepted")
            } catch let error as PostgresStoreError {
                #expect(error.description.contains(words), "\(url): \(error)")
            }
        }
    }
}
#endif
