import Foundation
import Testing

@testable import HTTPAPI

@Suite("HTTP API: password checks")
struct PasswordLanesTests {
    @Test func aPasswordChecksAgainstItsHashAndNothingElse() async {
        let lanes = PasswordLanes(count: 1)
        let hash = await lanes.hash("correct horse", cost: 4)
        #expect(await lanes.verify("correct horse", hash: hash))
        #expect(!(await lanes.verify("correct horse ", hash: hash)))
    }

    /// More checks stuck at once than Swift's shared pool has threads: if they ran there, the
    /// plain task below could not run until they were let go, and the test would hang.
    @Test(.timeLimit(.minutes(1)))
    func checksStuckInTheirLanesLeaveSwiftsSharedPoolFree() async {
        let lanes = PasswordLanes(count: 2)
        let letGo = DispatchSemaphore(value: 0)
        let stuck = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = AsyncStream.makeStream(of: Void.self)
        let checks = Task {
            await withTaskGroup(of: Int.self) { group in
                for index in 0..<stuck {
                    group.addTask {
                        await lanes.run {
                            started.continuation.yield()
                            letGo.wait()
                            return index
                        }
                    }
                }
                return await group.reduce(0) { $0 + $1 }
            }
        }
        // Both lanes are now holding a check (the rest queue behind them).
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()
        let other = await Task { 6 * 7 }.value
        #expect(other == 42)
        for _ in 0..<stuck { letGo.signal() }
        #expect(await checks.value == (0..<stuck).reduce(0, +))
    }
}
