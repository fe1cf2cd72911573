import CallControl
import Center
import Foundation
import Store
import Synchronization
import Testing

/// The demo's people and queues, with no passwords (the center never reads them).
let demo = SwitchboardConfiguration.demo(passwordHash: "")

/// A telephony that remembers every line action it was given, in order.
final class RecordingTelephony: Telephony {
    private let performed = Mutex<[Action]>([])
    private let attached = Mutex<ContactCenter?>(nil)

    func attach(to center: ContactCenter) { attached.withLock { $0 = center } }
    func perform(_ actions: [Action]) { performed.withLock { $0 += actions } }
    var actions: [Action] { performed.withLock { $0 } }
}

/// Wraps a store: the next append can be held until released, or appends made to fail.
final class ControlledStore: EventStore {
    private struct State {
        var holdNext = false
        var held: CheckedContinuation<Void, Never>?
        var heldArrived = false
        var failing = false
    }

    let inner: any EventStore
    private let state = Mutex(State())

    init(_ inner: any EventStore = InMemoryEventStore()) { self.inner = inner }

    /// The next append waits until `release()`; later ones go through.
    func holdNext() { state.withLock { $0.holdNext = true } }
    /// Whether the held append has arrived (and waits).
    var isHolding: Bool { state.withLock { $0.heldArrived } }
    func release() {
        let held = state.withLock { state in
            defer { state.held = nil }
            return state.held
        }
        held?.resume()
    }
    /// From now on, appends fail (as a full disk or a lost file would make them).
    func failWrites() { state.withLock { $0.failing = true } }

    struct WriteFailed: Error {}

    func append(_ events: [Event], first: Int) async throws {
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
        try await inner.append(events, first: first)
    }

    func all() async throws -> [Event] { try await inner.all() }
    func events(of interaction: InteractionID) async throws -> [Event] { try await inner.events(of: interaction) }
}

/// Reads a user's event stream message by message.
struct StreamReader {
    var iterator: AsyncStream<String>.Iterator

    init(_ center: ContactCenter, user: String) async {
        iterator = await center.subscribe(user, since: nil).stream.makeAsyncIterator()
    }

    /// The next message, parsed.
    mutating func next() async throws -> [String: Any] {
        let text = try #require(await iterator.next(), "the stream ended")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Reads messages until one matches, and returns it.
    mutating func until(_ matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
        while true {
            let message = try await next()
            if matches(message) { return message }
        }
    }

    /// Waits for the agent's state to become `state`.
    mutating func agent(_ id: String, becomes state: String) async throws {
        _ = try await until { message in
            let agent = message["agent"] as? [String: Any]
            return message["type"] as? String == "agent" && agent?["id"] as? String == id && agent?["state"] as? String == state
        }
    }
}

extension ContactCenter {
    /// Signs the agent in and makes them available.
    func available(_ agent: AgentID) async throws {
        try await execute(.agent(agent, .login))
        try await execute(.agent(agent, .setAvailable))
    }

    @discardableResult
    func mustAccept(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Outcome {
        let (outcome, _) = try await execute(command)
        #expect(outcome.rejection == nil, "\(command) was refused", sourceLocation: sourceLocation)
        return outcome
    }
}
