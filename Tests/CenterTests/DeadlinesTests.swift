import CallControl
import Center
import Synchronization
import Testing

/// The server's one queue of deadlines, on a manual clock.
@Suite struct DeadlinesTests {
    final class Log: Sendable {
        let fired = Mutex<[String]>([])
        func add(_ owner: String, _ keys: [DeadlineKey]) {
            fired.withLock { $0 += keys.compactMap { $0.base as? String }.map { owner + ":" + $0 } }
        }
    }

    @Test func everyOwnerIsToldItsDueKeysInDeadlineOrderAndARemovedOrMovedKeyFiresOnceAtItsLastDeadline() async {
        let clock = ManualClock()
        let deadlines = Deadlines(clock: clock)
        let log = Log()
        let center = deadlines.register { log.add("center", $0) }
        let sip = deadlines.register { log.add("sip", $0) }
        let start = clock.now()
        deadlines.set("ring", at: start.adding(milliseconds: 300), for: center)
        deadlines.set("timerB", at: start.adding(milliseconds: 100), for: sip)
        deadlines.set("grace", at: start.adding(milliseconds: 200), for: center)
        deadlines.set("gone", at: start.adding(milliseconds: 50), for: sip)
        deadlines.remove("gone", for: sip)
        deadlines.set("moved", at: start.adding(milliseconds: 10), for: sip)
        deadlines.set("moved", at: start.adding(milliseconds: 250), for: sip)
        clock.advance(by: 260)
        await deadlines.fireDue()
        #expect(log.fired.withLock { $0 } == ["sip:timerB", "center:grace", "sip:moved"])
        #expect(deadlines.count == 1)
        clock.advance(by: 100)
        await deadlines.fireDue()
        #expect(log.fired.withLock { $0 }.last == "center:ring")
        #expect(deadlines.count == 0)
    }

    @Test func theSleepingTaskWakesForAnEarlierDeadlineSetWhileItSleeps() async {
        let clock = ManualClock()
        let deadlines = Deadlines(clock: clock)
        let log = Log()
        let owner = deadlines.register { log.add("o", $0) }
        deadlines.set("late", at: clock.now().adding(milliseconds: 10_000), for: owner)
        let runner = Task { await deadlines.run() }
        // Let the sleeper go to sleep for the late deadline, then set an earlier one.
        for _ in 0..<1_000 where clock.sleepers == 0 { await Task.yield() }
        deadlines.set("early", at: clock.now().adding(milliseconds: 100), for: owner)
        clock.advance(by: 100)
        var fired: [String] = []
        for _ in 0..<20_000 where fired.isEmpty {
            await Task.yield()
            fired = log.fired.withLock { $0 }
        }
        #expect(fired == ["o:early"])
        runner.cancel()
        await runner.value
    }
}
