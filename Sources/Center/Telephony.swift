import CallControl
import Synchronization

/// The center's telephony port. The center hands it every line action (answer the customer, ring
/// a leg, hang one up, set the media plan, hand the customer off), in command order and only once
/// the command's events are durable; the telephony reports what happens on the lines back to the
/// center as `Command.line` events and new calls as `Command.arrival`. It names no adapter: the
/// built-in simulator, SIP, or none are implementations the server chooses.
public protocol Telephony: Sendable {
    /// Called once, before any action: the center that line events go to.
    func attach(to center: ContactCenter)
    /// Carries out line actions (`Action.isLineAction`), in order. Must not block: an
    /// implementation queues what takes time.
    func perform(_ actions: [Action])
    /// Whether the agent may take calls on their phone: over SIP, only once it is registered.
    func phoneAvailable(for agent: AgentID) async -> Bool
}

extension Telephony {
    public func phoneAvailable(for agent: AgentID) async -> Bool { true }
}

/// The built-in call simulator: no phones and no media. Calls are placed, and customers and
/// agents' phones hang up, through its methods (the HTTP API's `/v1/sim` routes); a dialled
/// outside number answers at once; agents answer offers with the desktop's Accept.
public final class SimulatedTelephony: Telephony {
    private let center = Mutex<ContactCenter?>(nil)
    /// Dialled numbers answering now, so `settled()` can wait for them.
    private let answering = Mutex<(next: Int, tasks: [Int: Task<Void, Never>])>((0, [:]))

    public init() {}

    public func attach(to center: ContactCenter) {
        self.center.withLock { $0 = center }
    }

    public func perform(_ actions: [Action]) {
        for action in actions {
            switch action {
            case .ring(let id, let leg, _) where leg.answersAtOnce:
                // An outside number, or a supervisor's station, answers at once (after the ring's
                // own events are durable).
                guard let center = center.withLock({ $0 }) else { continue }
                answering.withLock { answering in
                    let key = answering.next
                    answering.next += 1
                    answering.tasks[key] = Task {
                        _ = try? await center.execute(.line(id, .answered(leg)))
                        _ = self.answering.withLock { $0.tasks.removeValue(forKey: key) }
                    }
                }
            case .answerCustomer, .ring, .hangUp, .setMedia, .handOff:
                break  // no lines and no media to change: the state says it all
            case .notifyAgent, .agentStateChanged, .startTimer, .cancelTimer:
                break  // not line actions; the center never sends them here
            }
        }
    }

    /// Returns once every dialled number that was answering has answered (its events stored).
    public func settled() async {
        // Each task removes itself before it ends.
        while let task = answering.withLock({ $0.tasks.first?.value }) { await task.value }
    }

    /// A customer calls a queue.
    public func placeCall(queue: QueueID, from caller: Caller) async throws -> (InteractionID, Outcome) {
        let center = try attached()
        let id = InteractionID.make(at: center.now())
        let (outcome, _) = try await center.execute(.arrival(id, queue: queue, from: caller))
        return (id, outcome)
    }

    /// The customer hangs up.
    public func hangUpCustomer(_ id: InteractionID) async throws -> Outcome {
        try await attached().execute(.line(id, .hungUp(.customer))).outcome
    }

    /// The agent's phone hangs up the call it is on; nil when it is on none.
    public func hangUpPhone(of agent: AgentID) async throws -> (InteractionID, Outcome)? {
        let center = try attached()
        guard let task = await center.task(of: agent) else { return nil }
        return (task, try await center.execute(.line(task, .hungUp(.agent(agent)))).outcome)
    }

    private func attached() throws -> ContactCenter {
        guard let center = center.withLock({ $0 }) else { throw NotAttached() }
        return center
    }

    struct NotAttached: Error {}
}

extension Leg {
    /// What the simulator answers by itself: an outside number, and a supervisor listening in.
    fileprivate var answersAtOnce: Bool {
        switch self {
        case .dialNumber, .supervisor: true
        case .customer, .agent: false
        }
    }
}

/// A center with no phone lines: line actions go nowhere and no calls arrive. For a server run
/// only for its API (`serve --telephony none`), until the SIP layer is configured.
public struct NoTelephony: Telephony {
    public init() {}
    public func attach(to center: ContactCenter) {}
    public func perform(_ actions: [Action]) {}
}

extension InteractionID {
    /// A fresh id for a call arriving at `time`: "t", the time in milliseconds as 9 base-32 digits
    /// (ordered as the text sorts, so ids sort by arrival), then 5 random ones. Ids that grow
    /// with time keep the log's index by task written at its end rather than all over it.
    public static func make(at time: Timestamp) -> InteractionID {
        // Crockford's base 32: digits and letters in ASCII order, no look-alikes.
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz")
        var generator = SystemRandomNumberGenerator()
        var text = "t"
        let milliseconds = UInt64(max(0, time.milliseconds))
        for shift in stride(from: 40, through: 0, by: -5) { text.append(digits[Int((milliseconds >> UInt64(shift)) & 31)]) }
        for _ in 0..<5 { text.append(digits[Int(generator.next(upperBound: UInt32(32)))]) }
        return InteractionID(text)
    }

    /// When the call arrived, for an id made by `make(at:)`; nil for any other id.
    public var arrivalTime: Timestamp? {
        let text = Array(rawValue.utf8)
        guard text.count == 15, text[0] == UInt8(ascii: "t") else { return nil }
        let digits = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        var milliseconds: Int64 = 0
        for byte in text[1...9] {
            guard let value = digits.firstIndex(of: byte) else { return nil }
            milliseconds = milliseconds << 5 | Int64(value)
        }
        return Timestamp(milliseconds: milliseconds)
    }
}
