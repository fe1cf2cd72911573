import Synchronization

/// A store's writes in one queue with one writer, for group commit: jobs queued while a write is
/// in flight wait together, and the writer takes them in turns (`next`) until none is left. The
/// caller starts the writer when `add` says none is running; the writer stops when `next` finds
/// nothing, so a job added after that starts a new one.
public final class WriteQueue<Job: Sendable>: Sendable {
    private struct State: Sendable {
        var jobs: [Job] = []
        var writing = false
    }
    private let state = Mutex(State())

    public init() {}

    /// Queues `job`; true when no writer is running, and the caller must start one.
    public func add(_ job: Job) -> Bool {
        state.withLock { state in
            state.jobs.append(job)
            defer { state.writing = true }
            return !state.writing
        }
    }

    /// The next turn's jobs: of those waiting, the first `count(waiting)` (at least one); none
    /// when nothing waits, and the writer is then over.
    public func next(_ count: ([Job]) -> Int = { $0.count }) -> [Job] {
        state.withLock { state in
            guard !state.jobs.isEmpty else {
                state.writing = false
                return []
            }
            let taken = Array(state.jobs.prefix(max(1, count(state.jobs))))
            state.jobs.removeFirst(taken.count)
            return taken
        }
    }
}
