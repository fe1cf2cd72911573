import CallControl
import Foundation
import Store
import Testing
import TestSupport

@testable import Center

/// A standby follows the active node's log (docs/ha.md): what it holds after following must be
/// what a restart on that log would give — live state, timers, reports — so taking over needs no
/// replay.
@Suite("A standby following the log")
struct FollowTests {
    @Test(arguments: 0..<3)
    func aStandbyThatFollowedTheLogHoldsWhatARestartOnItWouldGive(seed: Int) async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let telephony = SimulatedTelephony()
        let active = try await ContactCenter(configuration: demo, store: store, telephony: telephony, clock: clock)
        await active.start()
        // The standby starts on the same (empty) log and follows it in steps of the walk.
        let standby = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        var walk = SnapshotTests.Walk(center: active, clock: clock, rng: SnapshotTests.SplitMix(state: UInt64(seed)))
        func follow() async throws {
            let from = await standby.sequence
            let events = try await store.events(from: from)
            try await standby.follow(events.enumerated().map { (sequence: from + $0.offset, event: $0.element) })
        }
        for step in 0..<300 {
            try await walk.step()
            if step % 37 == 0 { try await follow() }
        }
        await active.stop()
        await telephony.settled()
        try await follow()
        #expect(await standby.sequence == store.nextSequence())
        let followed = await standby.liveState()
        let replayed = try await SnapshotTests.fullReplay(of: store, clock: clock)
        #expect(followed == replayed)
        #expect(followed.activeTimers().map(\.0) == replayed.activeTimers().map(\.0))
        let range = (from: Int64(0), to: clock.now().milliseconds + 86_400_000)
        let standbyRows = await standby.queueRows(from: range.from, to: range.to, interval: .day).map { ($0.queue, $0.figures) }
        let activeRows = await active.queueRows(from: range.from, to: range.to, interval: .day).map { ($0.queue, $0.figures) }
        #expect(standbyRows.map(\.0) == activeRows.map(\.0))
        #expect(standbyRows.map(\.1) == activeRows.map(\.1))
    }

    @Test func aStandbyForgetsReportIntervalsPastRetentionAsTheActiveNodesRetentionWould() async throws {
        let store = InMemoryEventStore()
        let standby = try await ContactCenter(
            configuration: demo, store: store, telephony: NoTelephony(), clock: ManualClock(), retentionDays: 1)
        let day: Int64 = 86_400_000
        let old = Event(at: Timestamp(milliseconds: 10 * day), .interaction("old", .arrived(queue: "sales", caller: "+15550100")))
        let new = Event(at: Timestamp(milliseconds: 12 * day), .interaction("new", .arrived(queue: "sales", caller: "+15550100")))
        try await standby.follow([(sequence: 0, event: old)])
        #expect(await standby.queueReport.intervals.count == 1)
        try await standby.follow([(sequence: 1, event: new)])
        // Two days later, with one day kept: the old call's interval is gone, the new one's kept.
        #expect(await standby.queueReport.intervals.keys.map(\.start) == [12 * day])
    }

    @Test func aRunningCenterDoesNotFollowAndEventsBehindItAreRefused() async throws {
        let store = InMemoryEventStore()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: ManualClock())
        let event = Event(at: Timestamp(milliseconds: 1), .agent("agent1", .loggedIn))
        try await center.follow([(sequence: 0, event: event)])
        #expect(await center.sequence == 1)
        await #expect(throws: ContactCenter.FollowedOutOfOrder.self) { try await center.follow([(sequence: 0, event: event)]) }
        // A gap (a write that failed on the other node) is followed from where the log goes on.
        try await center.follow([(sequence: 5, event: Event(at: Timestamp(milliseconds: 2), .agent("agent1", .becameAvailable)))])
        #expect(await center.sequence == 6)
        #expect(await center.agent("agent1")?.status == .available)
        await center.start()
        await #expect(throws: ContactCenter.FollowingWhileRunning.self) {
            try await center.follow([(sequence: 6, event: event)])
        }
        await center.stop()
    }
}
