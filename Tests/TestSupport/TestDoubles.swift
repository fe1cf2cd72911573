import CallControl
import Center
import Store
import Synchronization

// Test doubles shared by the Swift test targets.

/// A telephony that remembers every line action it was given, in order.
public final class RecordingTelephony: Telephony {
    public init() {}
    private let performed = Mutex<[Action]>([])
    private let attached = Mutex<ContactCenter?>(nil)

    public func attach(to center: ContactCenter) { attached.withLock { $0 = center } }
    public func perform(_ actions: [Action]) { performed.withLock { $0 += actions } }
    public var actions: [Action] { performed.withLock { $0 } }
}

/// Wraps a store: the next append can be held until released, or appends made to fail.
public final class ControlledStore: EventStore {
    private struct State {
        var holdNext = false
        var held: CheckedContinuation<Void, Never>?
        var heldArrived = false
        var failing = false
    }

    public let inner: any EventStore
    private let state = Mutex(State())

    public init(_ inner: any EventStore = InMemoryEventStore()) { self.inner = inner }

    /// The next append waits until `release()`; later ones go through.
    public func holdNext() { state.withLock { $0.holdNext = true } }
    /// Whether the held append has arrived (and waits).
    public var isHolding: Bool { state.withLock { $0.heldArrived } }
    public func release() {
        let held = state.withLock { state in
            defer { state.held = nil }
            return state.held
        }
        held?.resume()
    }
    /// From now on, appends fail (as a full disk or a lost file would make them).
    public func failWrites() { state.withLock { $0.failing = true } }

    public struct WriteFailed: Error {}

    public func append(_ events: [Event], first: Int, finishing finished: [FinishedInteraction]) async throws {
        let (hold, fail) = state.withLock { state in
            defer { state.holdNext = false }
            return (state.holdNext, state.failing)
        }
        if fail { throw WriteFailed() }
        if hold {
            await withCheckedContinuation { continuation in
                state.withLock { state in
                    state.held = continuation
                    state.heldArrived = true
                }
            }
        }
        try await inner.append(events, first: first, finishing: finished)
    }

    public func all() async throws -> [Event] { try await inner.all() }
    public func events(of interaction: InteractionID) async throws -> [Event] { try await inner.events(of: interaction) }
    public func events(from first: Int) async throws -> [Event] { try await inner.events(from: first) }
    public func nextSequence() async throws -> Int { try await inner.nextSequence() }
    public func saveSnapshot(_ snapshot: StoredSnapshot) async throws { try await inner.saveSnapshot(snapshot) }
    public func latestSnapshot() async throws -> StoredSnapshot? { try await inner.latestSnapshot() }
    public func finished(_ query: FinishedQuery) async throws -> [FinishedInteraction] { try await inner.finished(query) }
    public func purge(endedBefore cutoff: Timestamp) async throws -> Int { try await inner.purge(endedBefore: cutoff) }
    public func writeLines(_ changes: [LineRecord]) async throws { try await inner.writeLines(changes) }
    public func lines() async throws -> [LineRecord] { try await inner.lines() }
    public func writeSessions(_ changes: [SessionChange]) async throws { try await inner.writeSessions(changes) }
    public func sessions() async throws -> [SessionRecord] { try await inner.sessions() }
    public func appendAudit(_ entries: [AuditEntry]) async throws { try await inner.appendAudit(entries) }
    public func audit(of subject: String, limit: Int) async throws -> [AuditEntry] { try await inner.audit(of: subject, limit: limit) }
}

