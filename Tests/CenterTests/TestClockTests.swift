import CallControl
import Center
import Foundation
import Store
import Testing
import TestSupport

/// The test clock a server runs on with `serve --test-clock`: tests of timers over HTTP move it,
/// and what fell due has run by the time the move answers.
@Suite("The test clock")
struct TestClockTests {
    func started(_ clock: any CenterClock) async throws -> ContactCenter {
        let center = try await ContactCenter(
            configuration: demo, store: InMemoryEventStore(), telephony: NoTelephony(), clock: clock,
            desktopGrace: .seconds(1))
        await center.start()
        return center
    }

    @Test func aMoveAnswersOnlyAfterTheGracePeriodsItEndedHaveRun() async throws {
        let clock = ManualClock()
        let center = try await started(clock)
        let desktop = await center.subscribe("agent1", since: nil)
        try await center.available("agent1")
        #expect(await center.testClockView().openStreams == ["agent1": 1])
        await center.unsubscribe("agent1", desktop.id)
        let before = await center.testClockView()
        #expect(before.openStreams == [:])
        #expect(before.desktopGraceEnds == ["agent1": before.now + 1_000])
        let early = await center.advanceTestClock(by: 999)
        #expect(early?.desktopGraceEnds == ["agent1": before.now + 1_000])
        #expect(await center.agent("agent1")?.status == .available)
        let after = await center.advanceTestClock(by: 1)
        #expect(after?.now == before.now + 1_000)
        #expect(after?.desktopGraceEnds == [:])
        // No yield in between: the move itself ran the grace's end.
        #expect(await center.agent("agent1")?.status == .idle(CenterConfiguration.desktopLostIdleCode))
        await center.stop()
    }

    @Test func aCenterOnTheWallClockHasNoTestClockToMove() async throws {
        let center = try await started(SystemClock())
        #expect(center.testClock == nil)
        #expect(await center.advanceTestClock(by: 1_000) == nil)
        await center.stop()
    }
}
