import CallControl
import Foundation
import Store
import Testing
import TestSupport

@testable import Center

/// Finished calls are listed as past interactions, and leave the store once older than the
/// retention; live calls and recent history stay.
@Suite("Retention and past interactions")
struct RetentionTests {
    static let day: Int64 = 86_400_000

    /// A call to sales, answered, ended and wrapped up by agent1 with this reason.
    static func handled(_ center: ContactCenter, _ clock: ManualClock, code: WrapUpCodeID = "resolved") async throws -> InteractionID {
        let call = InteractionID.make(at: clock.now())
        try await center.mustAccept(.arrival(call, queue: "sales", from: "+15550100"))
        try await center.mustAccept(.desktop("agent1", call, .accept))
        try await center.mustAccept(.desktop("agent1", call, .end))
        try await center.mustAccept(.desktop("agent1", call, .wrapUp(code: code, notes: "")))
        return call
    }

    /// Waits until the store lists this many past interactions (they are recorded off the command's path).
    static func listed(_ store: any EventStore, _ count: Int) async throws {
        while try await store.finished(FinishedQuery()).count < count { await Task.yield() }
    }

    @Test func oldFinishedCallsLeaveTheStoreWhileLiveCallsAndRecentHistoryStay() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(
            configuration: demo, store: store, telephony: NoTelephony(), clock: clock, retentionDays: 90)
        try await center.available("agent1")
        let old = [try await Self.handled(center, clock), try await Self.handled(center, clock, code: "sale")]
        try await Self.listed(store, 2)
        clock.advance(by: 91 * Self.day)
        let recent = try await Self.handled(center, clock)
        let live = InteractionID.make(at: clock.now())
        try await center.mustAccept(.arrival(live, queue: "sales", from: "+15550101"))
        try await Self.listed(store, 3)
        try await center.writeSnapshot()

        #expect(try await center.applyRetention() == 2)
        for call in old {
            #expect(try await center.history(call, for: nil) == nil)
            #expect(await center.isPastRetention(call))
        }
        #expect(try await center.history(recent, for: "agent1")?.isEmpty == false)
        #expect(try await center.history(live, for: nil)?.isEmpty == false)
        #expect(!(await center.isPastRetention(recent)))
        #expect(try await center.finishedInteractions(FinishedQuery(), viewer: nil).map(\.id) == [recent])
        // What is left still restarts to the same live state.
        let restarted = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        #expect(await restarted.liveState() == center.liveState())
    }

    @Test func pastInteractionsCarryQueueAgentsAndReasonsAndAnAgentSeesOnlyTheirOwn() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        let first = try await Self.handled(center, clock, code: "sale")
        clock.advance(by: 1_000)
        try await center.available("agent2")
        let conference = InteractionID.make(at: clock.now())
        try await center.mustAccept(.arrival(conference, queue: "sales", from: "+15550102"))
        try await center.mustAccept(.desktop("agent1", conference, .accept))
        try await center.mustAccept(.desktop("agent1", conference, .consult(to: .agent("agent2"))))
        try await center.mustAccept(.desktop("agent2", conference, .consultAccept))
        try await center.mustAccept(.desktop("agent1", conference, .conference))
        try await center.mustAccept(.desktop("agent1", conference, .endConference))
        try await center.mustAccept(.desktop("agent1", conference, .wrapUp(code: "escalated", notes: "")))
        try await Self.listed(store, 2)
        let all = try await center.finishedInteractions(FinishedQuery(), viewer: nil)
        #expect(all.map(\.id) == [conference, first])
        #expect(all[0].agents == [.init(agent: "agent1", wrapUpCode: "escalated"), .init(agent: "agent2", wrapUpCode: nil)])
        #expect(all[0].queue == "sales")
        #expect(try await center.finishedInteractions(FinishedQuery(), viewer: "agent2").map(\.id) == [conference])
        #expect(try await center.finishedInteractions(FinishedQuery(agent: "agent1"), viewer: "agent2").map(\.id) == [conference],
                "an agent's own filter cannot be widened")
        #expect(try await center.finishedInteractions(FinishedQuery(wrapUpCode: "sale"), viewer: nil).map(\.id) == [first])
    }
}
