import CallControl
import Foundation
import Store
import Testing
import ServiceLifecycle
import TestSupport

@testable import Center

/// A restart starts from the newest snapshot and replays only the events after it; the result
/// must be exactly what replaying the whole log gives.
@Suite("Snapshots")
struct SnapshotTests {
    /// A seeded random walk of commands through a center: calls arrive, agents accept, consult,
    /// conference, exit, end, wrap up, hang up, go idle; timers fire as the clock moves.
    struct Walk {
        let center: ContactCenter
        let clock: ManualClock
        var rng: SplitMix
        var calls = 0

        mutating func step() async throws {
            clock.advance(by: Int64.random(in: 0...3_000, using: &rng))
            let state = await center.liveState()
            let agents = state.agents.keys.sorted()
            let agent = agents[Int.random(in: 0..<agents.count, using: &rng)]
            let live = state.interactions.keys.sorted()
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<10:
                let change: AgentCommand = [.login, .setAvailable, .setAvailable, .setIdle("break")][Int.random(in: 0..<4, using: &rng)]
                try await center.execute(.agent(agent, change))
            case 10..<22:
                calls += 1
                try await center.execute(.arrival(InteractionID("call-\(calls)"), queue: Bool.random(using: &rng) ? "sales" : "support", from: "+15550100"))
            case 22..<27 where !live.isEmpty:
                try await center.execute(.line(live[Int.random(in: 0..<live.count, using: &rng)], .hungUp(.customer)))
            case 27..<32:
                // Let timers come due: ring-no-answer, auto wrap-up.
                clock.advance(by: 30_000)
                await Task.yield()
            default:
                var choices: [(AgentID, InteractionID, TaskAction)] = []
                for id in live {
                    for someone in agents {
                        for action in state.allowedActions(for: someone, in: id) { choices.append((someone, id, action)) }
                    }
                }
                guard !choices.isEmpty else { return }
                let (someone, id, action) = choices[Int.random(in: 0..<choices.count, using: &rng)]
                let free = state.agents.values.filter { $0.status == .available && $0.id != someone }.map(\.id).sorted()
                let to: Destination =
                    action == .transfer ? .queue("support") : free.isEmpty ? .dialNumber("+15550199") : .agent(free[0])
                let control = try #require(DesktopCommand(action, to: to, wrapUp: ("resolved", "")))
                try await center.execute(.desktop(someone, id, control))
            }
        }
    }

    /// A small seeded generator, so a failure replays.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The same events in a store with no snapshot: the full replay to compare with.
    static func fullReplay(of store: InMemoryEventStore, clock: ManualClock) async throws -> CallCenter {
        let copy = InMemoryEventStore()
        try await copy.append(store.all(), first: 0)
        let center = try await ContactCenter(configuration: demo, store: copy, telephony: NoTelephony(), clock: clock)
        #expect(await center.restoredFromSnapshot == nil)
        return await center.liveState()
    }

    @Test(arguments: 0..<6)
    func aCenterRestoredFromASnapshotAndTheEventsAfterItIsTheCenterAFullReplayGives(seed: Int) async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let telephony = SimulatedTelephony()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: telephony, clock: clock)
        await center.start()
        var walk = Walk(center: center, clock: clock, rng: SplitMix(state: UInt64(seed)))
        var snapshots = 0
        for step in 0..<400 {
            try await walk.step()
            if step % 97 == 50 {
                try await center.writeSnapshot()
                snapshots += 1
            }
        }
        // Nothing may still be on its way into the log when the restart reads it: a timer firing
        // or a dialled number answering in the background.
        await center.stop()
        await telephony.settled()
        let restarted = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        let through = try #require(await restarted.restoredFromSnapshot)
        #expect(await restarted.replayedEvents == store.nextSequence() - through)
        let restored = await restarted.liveState()
        #expect(restored == (try await Self.fullReplay(of: store, clock: clock)))
        #expect(restored.activeTimers().map(\.0) == (try await Self.fullReplay(of: store, clock: clock)).activeTimers().map(\.0))
        #expect(await restarted.wrapUpsToday() == center.wrapUpsToday())
        #expect(snapshots == 4)
    }

    @Test func aRestartReplaysOnlyWhatCameAfterTheSnapshotHoweverLongTheHistory() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        for index in 0..<300 {  // a long finished history
            let call = InteractionID("old-\(index)")
            try await center.mustAccept(.arrival(call, queue: "sales", from: "+15550100"))
            try await center.mustAccept(.desktop("agent1", call, .accept))
            try await center.mustAccept(.desktop("agent1", call, .end))
            try await center.mustAccept(.desktop("agent1", call, .wrapUp(code: "resolved", notes: "")))
        }
        try await center.writeSnapshot()
        for index in 0..<3 {  // live calls, after the snapshot
            try await center.mustAccept(.arrival(InteractionID("live-\(index)"), queue: "support", from: "+15550100"))
        }
        let restarted = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        #expect(store.nextSequence() > 1_200)
        #expect(await restarted.replayedEvents == 4, "three arrivals and the offer routing made")
        #expect(await restarted.tasks(for: nil).map(\.id).sorted() == ["live-0", "live-1", "live-2"])
        #expect(await restarted.liveState() == (try await Self.fullReplay(of: store, clock: clock)))
    }

    @Test func aCorruptSnapshotOrOneOfAnotherSchemaIsIgnoredAndTheLogReplays() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        let through = try await center.writeSnapshot()
        let good = try #require(store.latestSnapshot())
        for damaged in [
            StoredSnapshot(through: through, schema: good.schema, at: good.at, body: Array(good.body.prefix(good.body.count / 2))),
            StoredSnapshot(through: through, schema: good.schema + 1, at: good.at, body: good.body),
            StoredSnapshot(through: through, schema: good.schema, at: good.at, body: Array("{}".utf8)),
            StoredSnapshot(through: through + 50, schema: good.schema, at: good.at, body: good.body),  // ahead of the log
        ] {
            store.saveSnapshot(damaged)
            let restarted = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
            #expect(await restarted.restoredFromSnapshot == nil)
            #expect(await restarted.replayedEvents == store.nextSequence())
            #expect(await restarted.liveState() == center.liveState())
        }
    }

    @Test func aSnapshotTakenUnderAnotherConfigurationRestoresWhatStillFitsAsTheLogWould() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        try await center.available("agent4")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        try await center.writeSnapshot()
        // The site drops agent4 and adds agent5.
        var changed = demo
        changed.agents.removeAll { $0.id == "agent4" }
        changed.agents.append(.init(id: "agent5", displayName: "Agent 5", passwordHash: "", team: "frontline"))
        let restarted = try await ContactCenter(configuration: changed, store: store, telephony: NoTelephony(), clock: clock)
        #expect(await restarted.restoredFromSnapshot != nil)
        let copy = InMemoryEventStore()
        try await copy.append(store.all(), first: 0)
        let replayed = try await ContactCenter(configuration: changed, store: copy, telephony: NoTelephony(), clock: clock)
        #expect(await restarted.liveState() == replayed.liveState())
        #expect(await restarted.agent("agent5")?.status == .loggedOut)
        #expect(await restarted.agent("agent4") == nil)
    }
}

@Suite("Snapshot service")
struct SnapshotServiceTests {
    @Test func aSnapshotIsWrittenEachIntervalWithNewEventsAndOnceMoreAtShutdown() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        let group = ServiceGroup(configuration: .init(
            services: [PeriodicService.snapshots(center: center, clock: clock, every: .seconds(10), logger: .init(label: "test"))],
            logger: .init(label: "test")))
        let running = Task { try await group.run() }
        var waits = 0
        while clock.sleepers == 0, waits < 100_000 { waits += 1; await Task.yield() }
        clock.advance(by: 10_000)
        while store.latestSnapshot() == nil, waits < 200_000 { waits += 1; await Task.yield() }
        #expect(store.latestSnapshot()?.through == store.nextSequence())
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(store.latestSnapshot()?.through == store.nextSequence(), "the shutdown's snapshot has the call")
    }
}
