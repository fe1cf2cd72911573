import CallControl
import Foundation
import Synchronization

/// The shell's time: the core takes time as an input, and the shell reads it here. Injected, so
/// tests move time by hand instead of sleeping.
public protocol CenterClock: Sendable {
    /// Now, in milliseconds since 1970.
    func now() -> Timestamp
    /// Returns once `now()` has reached `deadline`; throws `CancellationError` if cancelled first.
    func sleep(until deadline: Timestamp) async throws
}

/// The wall clock.
public struct SystemClock: CenterClock {
    public init() {}

    public func now() -> Timestamp {
        Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }

    public func sleep(until deadline: Timestamp) async throws {
        let delay = deadline.milliseconds - now().milliseconds
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
        try Task.checkCancellation()
    }
}

/// A clock that moves only when told to: `advance(by:)` wakes every sleeper whose deadline it
/// passes. For tests of timers, draining and restarts.
public final class ManualClock: CenterClock {
    private struct Sleeper {
        var deadline: Timestamp
        var wake: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Timestamp
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(now: Timestamp = Timestamp(milliseconds: 1_800_000_000_000)) {
        state = Mutex(State(now: now))
    }

    public func now() -> Timestamp { state.withLock { $0.now } }

    /// How many are asleep on this clock right now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func advance(by milliseconds: Int64) {
        let due: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            state.now = state.now.adding(milliseconds: milliseconds)
            let now = state.now
            let woken = state.sleepers.filter { $0.value.deadline <= now }
            for id in woken.keys { state.sleepers[id] = nil }
            return woken.values.map(\.wake)
        }
        for wake in due { wake.resume() }
    }

    public func sleep(until deadline: Timestamp) async throws {
        let id: UInt64 = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (wake: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { state in
                    if deadline <= state.now || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, wake: wake)
                    return false
                }
                if resumeNow { wake.resume() }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.wake.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }
}
