import CallControl
import Center
import Foundation
import Store
import Testing
import TestSupport

/// The shell around the core, on an in-memory store and a manual clock: no sleeping, no network.
@Suite("Contact center")
struct ContactCenterTests {
    static let ringNoAnswer = Int64(demo.desktopProfile.ringNoAnswerSeconds) * 1000

    @Test func anUnansweredOfferRingsOutWhenTheClockPassesItsDeadline() async throws {
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: InMemoryEventStore(), telephony: NoTelephony(), clock: clock)
        await center.start()
        try await center.available("agent1")
        var stream = await StreamReader(center, user: "agent1")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        #expect(await center.agent("agent1")?.status == .reserved("call-1"))
        clock.advance(by: Self.ringNoAnswer - 1)
        #expect(await center.agent("agent1")?.status == .reserved("call-1"), "not a millisecond early")
        clock.advance(by: 1)
        try await stream.agent("agent1", becomes: "idle")
        #expect(await center.agent("agent1")?.status == .idle(CenterConfiguration.ringNoAnswerIdleCode))
        #expect(await center.waiting(in: "sales").map(\.interaction) == ["call-1"])
        await center.stop()
    }

    @Test func aRestartedCenterRearmsItsTimersFromTheLogAndFiresThoseAlreadyDue() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let before = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await before.available("agent1")
        try await before.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        await before.stop()  // the process dies with the offer ringing

        clock.advance(by: Self.ringNoAnswer + 5_000)  // down for longer than the ring lasts
        let after = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        #expect(await after.armedTimers().keys.sorted { "\($0)" < "\($1)" } == [.ringNoAnswer("call-1", "agent1")])
        var stream = await StreamReader(after, user: "agent1")
        await after.start()
        try await stream.agent("agent1", becomes: "idle")
        #expect(await after.snapshot("call-1", for: nil)?.status == "queued")
        await after.stop()
    }

    @Test func aCancelledTimerLeavesNothingToFire() async throws {
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: InMemoryEventStore(), telephony: NoTelephony(), clock: clock)
        await center.start()
        try await center.available("agent1")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        try await center.mustAccept(.desktop("agent1", "call-1", .accept))
        #expect(await center.armedTimers().isEmpty)
        clock.advance(by: Self.ringNoAnswer * 2)
        #expect(await center.agent("agent1")?.status == .engaged("call-1"))
        await center.stop()
    }

    @Test func streamMessagesAndLineActionsWaitForTheirEventsToBeDurableAndKeepCommandOrder() async throws {
        let store = ControlledStore()
        let telephony = RecordingTelephony()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: telephony, clock: ManualClock())
        var stream = await StreamReader(center, user: "supervisor1")
        try await center.available("agent1")
        // The first call's append is held: it is not durable yet.
        store.holdNext()
        let first = Task { try await center.execute(.arrival("call-1", queue: "sales", from: "+15550100")) }
        while !store.isHolding { await Task.yield() }
        // A second call is stored at once, but must not overtake the first.
        try await center.mustAccept(.arrival("call-2", queue: "support", from: "+15550101"))
        #expect(telephony.actions.isEmpty, "no line action before its events are durable")
        store.release()
        _ = try await first.value
        let firstMessage = try await stream.until { $0["type"] as? String == "task" }
        #expect(firstMessage["taskId"] as? String == "call-1")
        #expect(telephony.actions.first == .answerCustomer("call-1"))
        #expect(telephony.actions.contains(.answerCustomer("call-2")))
        #expect(telephony.actions.firstIndex(of: .answerCustomer("call-1"))! < telephony.actions.firstIndex(of: .answerCustomer("call-2"))!)
    }

    @Test func aStopReturnsOnlyOnceTheCommandsAlreadyTakenAreDurable() async throws {
        let store = ControlledStore()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: ManualClock())
        await center.start()
        try await center.available("agent1")
        let before = try await store.inner.nextSequence()
        store.holdNext()
        let call = Task { try await center.execute(.arrival("call-1", queue: "sales", from: "+15550100")) }
        while !store.isHolding { await Task.yield() }
        // What the log holds when the stop returns: the store closes right after it.
        let stopping = Task { await center.stop(); return try await store.inner.nextSequence() }
        for _ in 0..<200 { await Task.yield() }  // room for a stop that does not wait to return
        store.release()
        #expect(try await stopping.value > before, "the held call's events are in the log when the stop returns")
        _ = try await call.value
    }

    @Test func aFailedWriteStopsTheCenterUntilARestartRebuildsItFromTheLog() async throws {
        let store = ControlledStore()
        let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: ManualClock())
        try await center.available("agent1")
        store.failWrites()
        await #expect(throws: ContactCenter.StoreUnavailable.self) {
            try await center.execute(.arrival("call-1", queue: "sales", from: "+15550100"))
        }
        // Memory is ahead of the log now: nothing more is taken, not even what would not write.
        await #expect(throws: ContactCenter.StoreUnavailable.self) { try await center.execute(.agent("agent2", .login)) }
        let restarted = try await ContactCenter(configuration: demo, store: store.inner, telephony: NoTelephony(), clock: ManualClock())
        #expect(await restarted.snapshot("call-1", for: nil) == nil, "the call that was never stored is not there")
        #expect(await restarted.agent("agent1")?.status == .available)
    }

    @Test func theDrainEndsWhenTheLastLiveCallEndsAndRefusesNewCalls() async throws {
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: InMemoryEventStore(), telephony: NoTelephony(), clock: clock)
        try await center.available("agent1")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        try await center.mustAccept(.desktop("agent1", "call-1", .accept))
        let drain = CallDrainService(center: center, clock: clock, bound: .seconds(30), logger: .init(label: "test"))
        let draining = Task { await drain.drain() }
        while await !center.liveFiguresDraining() { await Task.yield() }
        await #expect(throws: ContactCenter.Draining.self) {
            try await center.execute(.arrival("call-2", queue: "sales", from: "+15550101"))
        }
        try await center.mustAccept(.desktop("agent1", "call-1", .end))
        await draining.value  // returns on the call's end, with the clock never moved
        #expect(await center.liveCalls() == 0)
    }

    @Test func theDrainGivesUpAtItsBoundWhenACallGoesOn() async throws {
        let clock = ManualClock()
        let center = try await ContactCenter(configuration: demo, store: InMemoryEventStore(), telephony: NoTelephony(), clock: clock)
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        let drain = CallDrainService(center: center, clock: clock, bound: .seconds(30), logger: .init(label: "test"))
        let draining = Task { await drain.drain() }
        while clock.sleepers == 0 { await Task.yield() }
        clock.advance(by: 30_000)
        await draining.value
        #expect(await center.liveCalls() == 1, "the call carries on; its events are durable for the restart")
    }

    @Test func theSimulatorAnswersADialledNumberOnlyAfterTheRingIsDurable() async throws {
        let simulator = SimulatedTelephony()
        let center = try await ContactCenter(configuration: demo, store: InMemoryEventStore(), telephony: simulator, clock: ManualClock())
        try await center.available("agent1")
        var stream = await StreamReader(center, user: "agent1")
        let (call, _) = try await simulator.placeCall(queue: "sales", from: "+15550100")
        try await center.mustAccept(.desktop("agent1", call, .accept))
        try await center.mustAccept(.desktop("agent1", call, .consult(to: .dialNumber("+15550199"))))
        _ = try await stream.until { message in
            let task = message["task"] as? [String: Any]
            let participants = task?["participants"] as? [[String: Any]] ?? []
            return participants.contains { $0["number"] as? String == "+15550199" && $0["state"] as? String == "connected" }
        }
        #expect(try await simulator.hangUpPhone(of: "agent2") == nil, "agent2 is on no call")
    }
}

extension ContactCenter {
    func liveFiguresDraining() -> Bool { liveFigures().draining }
}

@Suite("Interaction ids")
struct InteractionIDTests {
    @Test func newIdsFitTheCoreAndSortByArrivalTime() {
        var earlier = InteractionID.make(at: Timestamp(milliseconds: 1_800_000_000_000))
        for step in 1...1_000 {
            let later = InteractionID.make(at: Timestamp(milliseconds: 1_800_000_000_000 + Int64(step) * 7))
            #expect(later.isValid)
            #expect(later.rawValue.count == 15)
            #expect(earlier.rawValue < later.rawValue, "\(earlier) then \(later)")
            earlier = later
        }
        #expect(InteractionID.make(at: Timestamp(milliseconds: 5)) != InteractionID.make(at: Timestamp(milliseconds: 5)))
    }
}
