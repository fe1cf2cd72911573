import Dispatch
import Foundation
import HummingbirdBcrypt
import Synchronization

/// Where bcrypt runs: threads of its own, not Swift's shared pool. At cost 12 one check holds a
/// thread for about a quarter of a second, and the shared pool has one thread per core, so two
/// sign-ins at once on a 2-core server would stop every command behind them. The lanes are serial
/// queues, one fewer than the cores (at least one): a burst of sign-ins at a shift's start waits
/// its turn in them while calls go on.
final class PasswordLanes: Sendable {
    private let lanes: [DispatchQueue]
    private let next = Atomic<Int>(0)

    init(count: Int = max(1, ProcessInfo.processInfo.activeProcessorCount - 1)) {
        lanes = (0..<max(1, count)).map { DispatchQueue(label: "switchboard.passwords.\($0)") }
    }

    func verify(_ password: String, hash: String) async -> Bool {
        await run { Bcrypt.verify(password, hash: hash) }
    }

    func hash(_ password: String, cost: UInt8) async -> String {
        await run { Bcrypt.hash(password, cost: cost) }
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        let lane = lanes[next.wrappingAdd(1, ordering: .relaxed).oldValue % lanes.count]
        return await withCheckedContinuation { continuation in
            lane.async { continuation.resume(returning: work()) }
        }
    }
}
