import CallControl
import Foundation
import PostgresStore
import SQLiteNIO
import Store
import Testing

/// A store to test, made fresh (and removed afterwards) for each test.
struct StoreUnderTest: CustomStringConvertible, Sendable {
    var description: String
    var make: @Sendable (_ folder: URL) async throws -> any EventStore

    static let inMemory = StoreUnderTest(description: "in memory") { _ in InMemoryEventStore() }
    static let sqlite = StoreUnderTest(description: "SQLite") { folder in
        try await SQLiteEventStore.open(path: folder.appendingPathComponent("log.sqlite").path)
    }
    #if PostgreSQL
    /// A new database for each test on the server `SWITCHBOARD_TEST_POSTGRES` names
    /// (`postgres://USER@HOST:PORT/postgres`; scripts/test starts one): in a build with the
    /// PostgreSQL trait the contract is checked there too, and a missing server fails the tests.
    static let postgres = StoreUnderTest(description: "PostgreSQL") { _ in
        try await PostgresEventStore.open(url: try TestPostgres.newDatabase())
    }
    static let all = [inMemory, sqlite, postgres]
    #else
    static let all = [inMemory, sqlite]
    #endif
}

func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}

func events(_ count: Int, call: InteractionID = "call-1", from start: Int = 0) -> [Event] {
    (start..<start + count).map { index in
        Event(at: Timestamp(milliseconds: Int64(1_000 + index)),
              index % 3 == 0 ? .agent("agent1", .wentIdle(IdleCodeID("code\(index)"))) : .interaction(call, .customerHeld))
    }
}

/// What every event store must do: the center relies on each of these.
@Suite("Event store contract")
struct EventStoreContractTests {
    @Test(arguments: StoreUnderTest.all)
    func lineRecordsKeepTheLastChangeToEachKeyAcrossAndWithinBatches(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            try await store.writeLines([LineRecord(key: "sip|a", body: "1"), LineRecord(key: "sip|b", body: "1"), LineRecord(key: "reg|x", body: "1")])
            // One batch: a set again, b removed then set again, x removed, c set then removed.
            try await store.writeLines([
                LineRecord(key: "sip|a", body: "2"), LineRecord(key: "sip|b", body: nil), LineRecord(key: "sip|b", body: "3"),
                LineRecord(key: "reg|x", body: nil), LineRecord(key: "sip|c", body: "1"), LineRecord(key: "sip|c", body: nil),
            ])
            #expect(try await store.lines() == [LineRecord(key: "sip|a", body: "2"), LineRecord(key: "sip|b", body: "3")])
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func appendsReadBackInTheirNumberedOrderEvenWhenTheyFinishOutOfOrder(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            let first = events(3), second = events(2, from: 3), third = events(4, from: 5)
            // Appends that overlap: numbered by the center, they may complete in any order.
            async let a: Void = store.append(third, first: 5)
            async let b: Void = store.append(first, first: 0)
            async let c: Void = store.append(second, first: 3)
            _ = try await (a, b, c)
            #expect(try await store.all() == first + second + third)
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func manyAppendsAtOnceAreAllStoredOnceInOrder(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            // Enough at once that the SQLite store commits them in groups (and splits the big ones).
            let batches = (0..<300).map { events(1 + $0 % 9, from: 0) }
            var starts: [Int] = []
            var next = 0
            for batch in batches {
                starts.append(next)
                next += batch.count
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (batch, start) in zip(batches, starts) {
                    group.addTask { try await store.append(batch, first: start) }
                }
                try await group.waitForAll()
            }
            let stored = try await store.all()
            #expect(stored == batches.flatMap { $0 })
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func oneInteractionsEventsAreReadAloneInOrder(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            let mine = [Event(at: Timestamp(milliseconds: 1), .interaction("mine", .arrived(queue: "sales", caller: "+15550100"))),
                        Event(at: Timestamp(milliseconds: 3), .interaction("mine", .offered(to: "agent1")))]
            try await store.append([mine[0], Event(at: Timestamp(milliseconds: 2), .interaction("other", .customerHeld)), mine[1]], first: 0)
            #expect(try await store.events(of: "mine") == mine)
            #expect(try await store.events(of: "nobody").isEmpty)
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func theNewestSnapshotIsKeptAndTheEventsAfterItReadAlone(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            #expect(try await store.latestSnapshot() == nil)
            #expect(try await store.nextSequence() == 0)
            try await store.append(events(10), first: 0)
            for through in [4, 7, 10] {
                try await store.saveSnapshot(
                    StoredSnapshot(through: through, schema: 1, at: Timestamp(milliseconds: Int64(through)), body: Array("state \(through)".utf8)))
            }
            let newest = try await store.latestSnapshot()
            #expect(newest?.through == 10)
            #expect(newest?.body == Array("state 10".utf8))
            #expect(try await store.nextSequence() == 10)
            #expect(try await store.events(from: 7) == Array(events(10)[7...]))
            try await store.close()
        }
    }

    @Test func aSQLiteLogReplaysAfterReopeningItsFile() async throws {
        try await withTemporaryFolder { folder in
            let written = events(20)
            let store = try await StoreUnderTest.sqlite.make(folder)
            try await store.append(written, first: 0)
            try await store.close()
            let reopened = try await StoreUnderTest.sqlite.make(folder)
            #expect(try await reopened.all() == written)
            try await reopened.close()
        }
    }

    @Test func aWriteToAClosedSQLiteStoreFailsWithAnErrorAndStoresNothing() async throws {
        try await withTemporaryFolder { folder in
            let store = try await StoreUnderTest.sqlite.make(folder)
            try await store.append(events(2), first: 0)
            try await store.close()
            await #expect(throws: (any Error).self) { try await store.append(events(1, from: 2), first: 2) }
            let reopened = try await StoreUnderTest.sqlite.make(folder)
            #expect(try await reopened.all() == events(2))
            try await reopened.close()
        }
    }

    @Test func aDatabaseFromANewerSwitchboardIsRefusedNotRewritten() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("log.sqlite").path
            let store = try await SQLiteEventStore.open(path: path)
            try await store.close()
            let connection = try await SQLiteConnection.open(storage: .file(path: path))
            _ = try await connection.query("PRAGMA user_version = 99", [])
            try await connection.close()
            await #expect(throws: EventLogError.newerSchema(99)) { try await SQLiteEventStore.open(path: path) }
        }
    }
}

/// The list of past interactions, and retention, in both stores.
@Suite("Finished interactions")
struct FinishedInteractionTests {
    static func finished(_ id: String, queue: QueueID = "sales", ended: Int64, agents: [(AgentID, WrapUpCodeID?)]) -> FinishedInteraction {
        FinishedInteraction(
            id: InteractionID(id), queue: queue, caller: "+15550100", arrivedAt: Timestamp(milliseconds: ended - 100),
            endedAt: Timestamp(milliseconds: ended), agents: agents.map { .init(agent: $0.0, wrapUpCode: $0.1) })
    }

    static let calls = [
        finished("c1", ended: 1_000, agents: [("agent1", "resolved")]),
        finished("c2", queue: "support", ended: 2_000, agents: [("agent1", "sale"), ("agent2", nil)]),
        finished("c3", ended: 3_000, agents: []),  // abandoned in the queue
        finished("c4", ended: 4_000, agents: [("agent2", "resolved")]),
        finished("c5", ended: 4_000, agents: [("agent3", "callback")]),
    ]

    @Test(arguments: StoreUnderTest.all)
    func aPastInteractionKeepsItsCallerAsTheLineSaidIt(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            let callers: [Caller] = [
                .withheld, Caller(address: "alice@example.com", name: "Alice"), Caller(number: "+15550100", name: "Bob"), Caller(),
            ]
            let calls = callers.enumerated().map { index, caller in
                FinishedInteraction(
                    id: InteractionID("c\(index)"), queue: "sales", caller: caller, arrivedAt: Timestamp(milliseconds: Int64(index) * 100),
                    endedAt: Timestamp(milliseconds: Int64(index) * 100 + 50), agents: [.init(agent: "agent1", wrapUpCode: nil)])
            }
            try await store.append([], first: 0, finishing: calls)
            #expect(try await store.finished(FinishedQuery()) == calls.reversed())
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func pastInteractionsAreListedNewestFirstByTimeQueueAgentAndReasonAndPaged(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            try await store.append([], first: 0, finishing: Self.calls)
            func ids(_ query: FinishedQuery) async throws -> [String] { try await store.finished(query).map(\.id.rawValue) }
            #expect(try await ids(FinishedQuery()) == ["c5", "c4", "c3", "c2", "c1"])
            #expect(try await store.finished(FinishedQuery(agent: "agent2")) == [Self.calls[3], Self.calls[1]])
            #expect(try await ids(FinishedQuery(queue: "support")) == ["c2"])
            #expect(try await ids(FinishedQuery(wrapUpCode: "resolved")) == ["c4", "c1"])
            #expect(try await ids(FinishedQuery(from: Timestamp(milliseconds: 2_000), to: Timestamp(milliseconds: 4_000))) == ["c3", "c2"])
            let first = try await store.finished(FinishedQuery(limit: 2))
            #expect(first.map(\.id) == ["c5", "c4"])
            let last = first.last!
            #expect(try await ids(FinishedQuery(before: (last.endedAt, last.id), limit: 2)) == ["c3", "c2"])
            try await store.close()
        }
    }

    @Test(arguments: StoreUnderTest.all)
    func retentionRemovesOldFinishedCallsAndTheirEventsButOnlyBehindASnapshot(_ kind: StoreUnderTest) async throws {
        try await withTemporaryFolder { folder in
            let store = try await kind.make(folder)
            func event(_ call: InteractionID, _ at: Int64) -> Event { Event(at: Timestamp(milliseconds: at), .interaction(call, .customerHeld)) }
            try await store.append([event("c1", 900), event("c2", 1_900), event("live", 1_950), event("c4", 3_900)], first: 0)
            try await store.append([], first: 0, finishing: Self.calls)
            #expect(try await store.purge(endedBefore: Timestamp(milliseconds: 10_000)) == 0, "no snapshot: nothing may go")
            try await store.saveSnapshot(StoredSnapshot(through: 4, schema: 1, at: Timestamp(milliseconds: 2_500), body: []))
            // Before 10,000 by the retention, but the snapshot covers only what ended before 2,500.
            #expect(try await store.purge(endedBefore: Timestamp(milliseconds: 10_000)) == 2)
            #expect(try await store.finished(FinishedQuery()).map(\.id) == ["c5", "c4", "c3"])
            #expect(try await store.events(of: "c1").isEmpty)
            #expect(try await store.events(of: "c2").isEmpty)
            #expect(try await store.events(of: "live").count == 1)
            #expect(try await store.events(of: "c4").count == 1)
            #expect(try await store.nextSequence() == 4)
            try await store.close()
        }
    }
}
