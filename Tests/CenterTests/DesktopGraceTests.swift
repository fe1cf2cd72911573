import CallControl
import Center
import Foundation
import Store
import Testing
import TestSupport

/// An available agent whose desktops have all been closed for the grace period goes idle
/// (`desktopClosed`); a desktop back in time, or a call, keeps them as they are. The clock is
/// manual: nothing waits on real time.
@Suite("Desktops that go away")
struct DesktopGraceTests {
    static let grace: Duration = .seconds(60)

    func started(_ clock: ManualClock, store: InMemoryEventStore = InMemoryEventStore()) async throws -> ContactCenter {
        let center = try await ContactCenter(
            configuration: demo, store: store, telephony: NoTelephony(), clock: clock, desktopGrace: Self.grace)
        await center.start()
        return center
    }

    /// Yields until `condition` holds (bounded: the center works on its own tasks after a clock move).
    func settles(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<10_000 {
            if await condition() { return true }
            await Task.yield()
        }
        return false
    }

    /// Moves the clock past a deadline once the center sleeps for it.
    func pass(_ clock: ManualClock, _ milliseconds: Int64) async {
        _ = await settles { clock.sleepers > 0 }
        clock.advance(by: milliseconds)
    }

    @Test func anAvailableAgentWhoseLastDesktopClosedGoesIdleDesktopClosedAfterTheGraceAndTheAuditSaysSo() async throws {
        let clock = ManualClock()
        let center = try await started(clock)
        let desktop = await center.subscribe("agent1", since: nil)
        try await center.available("agent1")
        await center.unsubscribe("agent1", desktop.id)
        await pass(clock, 59_000)
        #expect(await center.agent("agent1")?.status == .available, "still within the grace period")
        clock.advance(by: 1_000)
        #expect(await settles { await center.agent("agent1")?.status == .idle(CenterConfiguration.desktopLostIdleCode) })
        #expect(await settles { (try? await center.auditTrail(of: "agent1", limit: 5).map(\.action)) == ["desktopDisconnected"] })
    }

    @Test func aDesktopThatComesBackWithinTheGraceChangesNothing() async throws {
        let clock = ManualClock()
        let center = try await started(clock)
        let first = await center.subscribe("agent1", since: nil)
        try await center.available("agent1")
        await center.unsubscribe("agent1", first.id)
        clock.advance(by: 30_000)
        _ = await center.subscribe("agent1", since: nil)  // the reload
        clock.advance(by: 60_000)
        for _ in 0..<1_000 { await Task.yield() }
        #expect(await center.agent("agent1")?.status == .available)
    }

    @Test func anAgentOnACallWhoseDesktopClosedIsNotTouchedAndIsAvailableWithNoDesktopGoesIdleAfterTheCall() async throws {
        let clock = ManualClock()
        let center = try await started(clock)
        let desktop = await center.subscribe("agent1", since: nil)
        try await center.available("agent1")
        try await center.mustAccept(.arrival("call-1", queue: "sales", from: "+15550100"))
        try await center.mustAccept(.desktop("agent1", "call-1", .accept))
        await center.unsubscribe("agent1", desktop.id)
        clock.advance(by: 120_000)
        for _ in 0..<1_000 { await Task.yield() }
        #expect(await center.agent("agent1")?.status == .engaged("call-1"))
        try await center.mustAccept(.desktop("agent1", "call-1", .end))
        try await center.mustAccept(.desktop("agent1", "call-1", .wrapUp(code: "resolved", notes: "")))
        #expect(await center.agent("agent1")?.status == .available)
        await pass(clock, 60_000)
        #expect(await settles { await center.agent("agent1")?.status == .idle(CenterConfiguration.desktopLostIdleCode) })
    }

    @Test func afterARestartAnAvailableAgentWhoseDesktopDoesNotReconnectGoesIdleAndOneThatDoesStays() async throws {
        let (store, clock) = (InMemoryEventStore(), ManualClock())
        let before = try await started(clock, store: store)
        try await before.available("agent1")
        try await before.available("agent2")
        await before.stop()
        let after = try await started(clock, store: store)
        _ = await after.subscribe("agent2", since: nil)  // agent2's desktop reconnects
        await pass(clock, 60_000)
        #expect(await settles { await after.agent("agent1")?.status == .idle(CenterConfiguration.desktopLostIdleCode) })
        #expect(await after.agent("agent2")?.status == .available)
    }
}
