import CallControl
import HeapModule
import Synchronization

/// The server's one queue of deadlines: the center's timers and desktop grace periods, and the SIP
/// layer's transaction, leg, registration and qualify timers. One binary heap, one sleeping task on
/// the injected clock, woken for the earliest deadline. Each part of the server registers as an
/// owner, sets and removes its own keys, and is told — in deadline order across owners, one round
/// at a time — which of them fell due.
///
/// Setting and removing are synchronous (actors call them mid-command without a suspension). A
/// removed or moved deadline stays in the heap until it comes up and is skipped then: the map of
/// current keys says what is live.
public final class Deadlines: Sendable {
    /// A part of the server with deadlines here.
    public struct Owner: Hashable, Sendable {
        fileprivate let index: Int
    }

    public typealias Fire = @Sendable (_ due: [DeadlineKey]) async -> Void

    private struct Key: Hashable {
        var owner: Int
        var key: DeadlineKey
    }

    private struct Entry: Comparable {
        var at: Timestamp
        /// Equal deadlines fire in the order they were set.
        var order: UInt64
        var key: Key

        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.at, lhs.order) < (rhs.at, rhs.order) }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.order == rhs.order }
    }

    private struct State {
        var heap = Heap<Entry>()
        /// The live entry of each key (its order).
        var current: [Key: UInt64] = [:]
        var owners: [Int: Fire] = [:]
        var nextOwner = 0
        var nextOrder: UInt64 = 0
        /// What the sleeper sleeps until, and the sleep to cancel when an earlier deadline comes.
        var sleeping: (until: Timestamp, sleep: Task<Void, any Error>)?
        /// A round of firing is running (`fireDue` waits for it); its waiters.
        var firing = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    public let clock: any CenterClock

    public init(clock: any CenterClock) { self.clock = clock }

    public func register(_ fire: @escaping Fire) -> Owner {
        state.withLock { state in
            defer { state.nextOwner += 1 }
            state.owners[state.nextOwner] = fire
            return Owner(index: state.nextOwner)
        }
    }

    /// The owner is gone: its deadlines with it.
    public func unregister(_ owner: Owner) {
        state.withLock { state in
            state.owners[owner.index] = nil
            state.current = state.current.filter { $0.key.owner != owner.index }
        }
    }

    public func set(_ key: some Hashable & Sendable, at deadline: Timestamp, for owner: Owner) {
        let wake = state.withLock { state -> Task<Void, any Error>? in
            state.nextOrder += 1
            let entry = Entry(at: deadline, order: state.nextOrder, key: Key(owner: owner.index, key: DeadlineKey(key)))
            state.current[entry.key] = entry.order
            state.heap.insert(entry)
            // An earlier deadline than the sleeper's: it wakes and sleeps again for this one.
            guard let sleeping = state.sleeping, deadline < sleeping.until else { return nil }
            state.sleeping = nil
            return sleeping.sleep
        }
        wake?.cancel()
    }

    public func remove(_ key: some Hashable & Sendable, for owner: Owner) {
        _ = state.withLock { $0.current.removeValue(forKey: Key(owner: owner.index, key: DeadlineKey(key))) }
    }

    /// Whether a key has a deadline now.
    public func contains(_ key: some Hashable & Sendable, for owner: Owner) -> Bool {
        state.withLock { $0.current[Key(owner: owner.index, key: DeadlineKey(key))] != nil }
    }

    /// How many deadlines are live (for the metrics and tests).
    public var count: Int { state.withLock { $0.current.count } }

    /// The one sleeping task: until cancelled, sleeps until the earliest deadline, then fires what
    /// is due. The server runs it from start to shutdown.
    public func run() async {
        while !Task.isCancelled {
            let sleep: Task<Void, any Error> = state.withLock { state in
                let until = Self.earliest(&state) ?? Timestamp(milliseconds: Int64.max / 2)
                let clock = clock
                let sleep = Task { try await clock.sleep(until: until) }
                state.sleeping = (until, sleep)
                return sleep
            }
            let woken = await withTaskCancellationHandler {
                (try? await sleep.value) != nil
            } onCancel: {
                sleep.cancel()
            }
            state.withLock { state in
                if state.sleeping?.sleep == sleep { state.sleeping = nil }
            }
            if woken { await fireDue() }
        }
    }

    /// Fires every deadline due now, earliest first, each owner told its keys in one call; returns
    /// once that round (and any round already running) is done. The test clock calls it after
    /// moving time, so what fell due has run when it answers.
    public func fireDue() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let start = state.withLock { state -> Bool in
                if state.firing {
                    state.waiters.append(done)
                    return false
                }
                state.firing = true
                return true
            }
            if start {
                Task {
                    await self.fireRounds()
                    done.resume()
                }
            }
        }
    }

    /// Rounds until none is due and nobody waits for one more.
    private func fireRounds() async {
        while true {
            let now = clock.now()
            let (due, owners) = state.withLock { state -> ([(Int, [DeadlineKey])], [Int: Fire]) in
                var due: [(Int, [DeadlineKey])] = []
                while let top = state.heap.min, top.at <= now {
                    state.heap.removeMin()
                    guard state.current[top.key] == top.order else { continue }
                    state.current[top.key] = nil
                    // Runs of one owner's keys, in deadline order across owners.
                    if due.last?.0 == top.key.owner {
                        due[due.count - 1].1.append(top.key.key)
                    } else {
                        due.append((top.key.owner, [top.key.key]))
                    }
                }
                return (due, state.owners)
            }
            for (owner, keys) in due { await owners[owner]?(keys) }
            let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { state in
                if Self.earliest(&state).map({ $0 <= clock.now() }) == true { return nil }  // more fell due meanwhile
                state.firing = false
                defer { state.waiters = [] }
                return state.waiters
            }
            guard let waiters else { continue }
            for waiter in waiters { waiter.resume() }
            return
        }
    }

    /// The earliest live deadline (stale entries at the top are dropped on the way).
    private static func earliest(_ state: inout State) -> Timestamp? {
        while let top = state.heap.min {
            if state.current[top.key] == top.order { return top.at }
            state.heap.removeMin()
        }
        return nil
    }
}

/// A key in the queue: any owner's own Hashable, Sendable key (boxed so keys of every owner share
/// one heap; made only from Sendable values).
public struct DeadlineKey: Hashable, @unchecked Sendable {
    public let base: AnyHashable
    public init(_ key: some Hashable & Sendable) { base = AnyHashable(key) }
}
