/// One customer contact, from the moment the call reaches a queue until every agent on it has
/// wrapped up.
///
/// ```
///   arrived ──▶ queued ──offered──▶ offered ──accepted──▶ connected ◀──resumed── held
///                 ▲                    │                   │  │ ──held──────────▶ │
///                 └──── ring no answer ┘                   │  └──consult──┐       │consult
///                 ▲                                        │              ▼       ▼
///                 └────────── blind transfer to a queue ───┤           consulting
///                                                          │   consult end / consulted left:
///                                                          │     back to connected / held
///                                                          │   consult transfer: connected
///                                                          │   conference ─────▶ conferenced
///                                                          │                      │  exit, transfer:
///                                                          │                      │  connected
///          customer leaves while two agents talk ──────────┼──────────────────────┴──▶ wrapUpAssist
///          end, end conference, customer leaves ───────────┴──────────────────────────▶ ended
/// ```
///
/// Only `apply(_:at:)` changes an interaction, so folding its events from empty reproduces it.
public struct Interaction: Equatable, Sendable {
    /// Where the call stands. Only the states that have a consult carry its destination.
    public enum Phase: Hashable, Sendable {
        case queued
        case offered
        case connected
        case held
        case consulting(Destination)
        /// A conference; the owner may be consulting a further party when the conference has room.
        case conferenced(consulting: Destination?)
        case wrapUpAssist
        case ended
    }

    public let id: InteractionID
    public private(set) var queue: QueueID
    public private(set) var customer: Customer
    /// Agents and dialled parties, in the order they first joined. A party that left stays here
    /// with state `left` so the desktop can show it and the wrap-up it owes.
    public private(set) var participants: [Participant]
    /// Supervisors on the call (monitoring, coaching or barged in), in the order they joined.
    public internal(set) var monitors: [Monitor]
    /// The owning agent paused the recording (if the call is recorded at all).
    public internal(set) var recordingPaused: Bool
    public private(set) var phase: Phase
    public let arrivedAt: Timestamp
    /// Grows by one with every applied event.
    public private(set) var version: Int

    public var status: InteractionStatus {
        switch phase {
        case .queued: .queued
        case .offered: .offered
        case .connected: .connected
        case .held: .held
        case .consulting: .consulting
        case .conferenced: .conferenced
        case .wrapUpAssist: .wrapUpAssist
        case .ended: .ended
        }
    }

    /// An interaction as a snapshot of the live state keeps it.
    public init(
        id: InteractionID, queue: QueueID, customer: Customer, participants: [Participant], phase: Phase,
        arrivedAt: Timestamp, version: Int, monitors: [Monitor] = [], recordingPaused: Bool = false
    ) {
        self.recordingPaused = recordingPaused
        self.id = id
        self.queue = queue
        self.customer = customer
        self.participants = participants
        self.monitors = monitors
        self.phase = phase
        self.arrivedAt = arrivedAt
        self.version = version
    }

    /// Creates an interaction from its first event.
    public init?(id: InteractionID, first event: InteractionEvent, at time: Timestamp) {
        guard case .arrived(let queue, let caller) = event else { return nil }
        self.id = id
        self.queue = queue
        self.customer = Customer(caller: caller, state: .held, since: time)
        self.participants = []
        self.monitors = []
        self.recordingPaused = false
        self.phase = .queued
        self.arrivedAt = time
        self.version = 1
    }

    /// Folds an interaction's events from empty.
    public static func fold(id: InteractionID, _ events: some Sequence<(InteractionEvent, Timestamp)>) -> Interaction? {
        var interaction: Interaction?
        for (event, time) in events {
            if interaction == nil {
                interaction = Interaction(id: id, first: event, at: time)
            } else {
                interaction!.apply(event, at: time)
            }
        }
        return interaction
    }

    // MARK: - Reading

    public func participant(_ party: Party) -> Participant? {
        participants.first { $0.party == party }
    }

    /// The participant for this party, looked for first at `hint`: lists only grow at the end
    /// (or lose a never-answered party), so the same party is almost always at the same place.
    func participant(_ party: Party, hint: Int) -> Participant? {
        if hint < participants.count, participants[hint].party == party { return participants[hint] }
        return participant(party)
    }

    public func participant(agent: AgentID) -> Participant? { participant(.agent(agent)) }

    /// The agent who has the call (Agent 1), unless the call has none right now.
    public var owner: Participant? {
        participants.first { $0.role == .owner && $0.state != .left }
    }

    /// The party being consulted, if a consult has reached one.
    public var consulted: Participant? {
        participants.first { $0.role == .consulted && $0.state != .left }
    }

    public var activeParticipants: some Sequence<Participant> {
        participants.lazy.filter { $0.state != .left }
    }

    /// Parties in the conference mix, the customer included.
    var conferenceParties: Int {
        1 + participants.count { $0.state == .connected && $0.role != .consulted } + bargedParties
    }

    /// The finished interaction no longer needs anything: the call is over and nobody owes a wrap-up.
    public var isFinished: Bool {
        phase == .ended && !participants.contains { $0.owesWrapUp }
    }

    /// The queue this interaction waits in right now, and why; nil when it waits nowhere.
    var waitingSpot: QueueEntry.Purpose? {
        switch phase {
        case .queued: return .call
        case .consulting(.queue), .conferenced(consulting: .queue):
            return consulted == nil ? .consult : nil
        case .offered, .connected, .held, .consulting, .conferenced, .wrapUpAssist, .ended:
            return nil
        }
    }

    var waitingQueue: QueueID? {
        switch phase {
        case .consulting(.queue(let queue)), .conferenced(consulting: .queue(let queue)): queue
        case .queued: queue
        case .offered, .connected, .held, .consulting, .conferenced, .wrapUpAssist, .ended: nil
        }
    }

    // MARK: - Applying events

    /// The only place an interaction changes. Commands are checked before their events are made,
    /// so this trusts each event to fit the phase it arrives in.
    public mutating func apply(_ event: InteractionEvent, at time: Timestamp) {
        version += 1
        switch event {
        case .arrived:
            break  // only ever the first event; see init

        case .offered(let agent):
            join(.agent(agent), as: .owner, state: .ringing, at: time)
            phase = .offered

        case .offerTimedOut(let agent):
            offerWithdrawn(from: agent)

        case .accepted(let agent):
            setState(of: .agent(agent), to: .connected, at: time)
            setCustomer(.connected, at: time)
            phase = .connected

        case .customerHeld:
            setCustomer(.held, at: time)
            phase = .held

        case .customerResumed:
            setCustomer(.connected, at: time)
            phase = .connected

        case .consultStarted(let destination):
            switch destination {
            case .agent(let agent): join(.agent(agent), as: .consulted, state: .ringing, at: time)
            case .dialNumber(let number): join(.dialNumber(number), as: .consulted, state: .ringing, at: time)
            case .queue: break  // waits in the queue until routing finds an agent
            }
            if case .conferenced = phase {
                phase = .conferenced(consulting: destination)
            } else {
                setCustomer(.held, at: time)
                phase = .consulting(destination)
            }

        case .consultOffered(let agent):
            join(.agent(agent), as: .consulted, state: .ringing, at: time)

        case .consultOfferTimedOut(let agent):
            consultOfferWithdrawn(from: agent)

        case .consultAnswered(let party):
            setState(of: party, to: .connected, at: time)

        case .ringFailed(let party, _):
            switch party {
            case .agent(let agent):
                if participant(agent: agent)?.role == .owner { offerWithdrawn(from: agent) } else { consultOfferWithdrawn(from: agent) }
            case .dialNumber:
                consultedPartyDropped(at: time)
            }

        case .consultCancelled:
            dropConsulted(at: time)
            if case .conferenced = phase {
                phase = .conferenced(consulting: nil)
            } else {
                setCustomer(.connected, at: time)
                phase = .connected
            }

        case .consultedPartyLeft:
            consultedPartyDropped(at: time)

        case .conferenceStarted:
            for index in participants.indices where participants[index].role == .consulted {
                participants[index].role = .conferenced
            }
            setCustomer(.connected, at: time)
            phase = .conferenced(consulting: nil)

        case .consultTransferred:
            guard let newOwner = consulted else { break }
            leaveOwner(owingWrapUp: true, at: time)
            switch newOwner.party {
            case .agent:
                update(newOwner.party) { $0.role = .owner }
                setCustomer(.connected, at: time)
                phase = .connected
            case .dialNumber:
                // The customer is handed to the outside number and leaves the contact center.
                leave(newOwner.party, owingWrapUp: false, at: time)
                setCustomer(.left, at: time)
                phase = .ended
            }

        case .conferenceTransferred(let agent):
            leaveOwner(owingWrapUp: true, at: time)
            update(.agent(agent)) { $0.role = .owner }
            phase = participants.contains { $0.role == .conferenced && $0.state != .left }
                ? .conferenced(consulting: nil) : .connected

        case .conferenceExited(let party):
            leave(party, owingWrapUp: false, at: time)
            if phase == .wrapUpAssist {
                // With the customer gone, an agent left alone has nobody to talk to.
                if participants.count(where: { $0.state == .connected }) < 2 { endCall(at: time) }
            } else if !participants.contains(where: { $0.role == .conferenced && $0.state != .left }) {
                if case .conferenced(consulting: let destination?) = phase {
                    // The last other party left while Agent 1 was consulting from the conference: the
                    // customer, now alone, goes on hold as in any consult.
                    setCustomer(.held, at: time)
                    phase = .consulting(destination)
                } else {
                    phase = .connected
                }
            }

        case .conferenceEnded, .endedByOwner:
            endCall(at: time)

        case .blindTransferred(let destination):
            leaveOwner(owingWrapUp: true, at: time)
            switch destination {
            case .agent(let agent):
                join(.agent(agent), as: .owner, state: .ringing, at: time)
                setCustomer(.held, at: time)
                phase = .offered
            case .queue(let queue):
                self.queue = queue
                setCustomer(.held, at: time)
                phase = .queued
            case .dialNumber:
                setCustomer(.left, at: time)
                phase = .ended
            }

        case .customerLeft:
            setCustomer(.left, at: time)
            // A party still ringing, or a consult still waiting in a queue, is called off.
            for party in participants.filter({ $0.state == .ringing }).map(\.party) { remove(party) }
            if let owner, owner.state == .connected {
                update(owner.party) { $0.owesWrapUp = true }
            }
            let talking = participants.count { $0.state == .connected }
            if talking >= 2 {
                phase = .wrapUpAssist
            } else {
                endCall(at: time)
            }

        case .wrapUpApplied(let agent, let code, _, _):
            if phase == .wrapUpAssist, participant(agent: agent)?.state == .connected {
                // Agent 1 wraps up while still talking to Agent 2: the assist is over for everyone.
                endCall(at: time)
            }
            update(.agent(agent)) {
                $0.owesWrapUp = false
                $0.wrapUpCode = code
            }

        case .monitorStarted, .monitorAnswered, .monitorModeChanged, .monitorEnded:
            break  // below
        case .recordingPaused:
            recordingPaused = true
        case .recordingResumed:
            recordingPaused = false
        }
        applyMonitoring(event, at: time)
    }

    // MARK: - Helpers for apply

    /// An offer to Agent 1 rang out or failed: the call goes back to its queue.
    private mutating func offerWithdrawn(from agent: AgentID) {
        remove(.agent(agent))
        phase = .queued
    }

    /// A consult offer to an agent rang out or failed. A consult to that agent is over (the
    /// customer stays on hold); a consult request to a queue waits there for someone else.
    private mutating func consultOfferWithdrawn(from agent: AgentID) {
        remove(.agent(agent))
        if case .consulting(.agent) = phase { phase = .held }
        if case .conferenced(consulting: .agent) = phase { phase = .conferenced(consulting: nil) }
    }

    /// The consulted party left the consult (or never answered it); the customer stays on hold
    /// until Agent 1 resumes, or the conference carries on.
    private mutating func consultedPartyDropped(at time: Timestamp) {
        dropConsulted(at: time)
        if case .conferenced = phase {
            phase = .conferenced(consulting: nil)
        } else {
            phase = .held
        }
    }

    private mutating func update(_ party: Party, _ change: (inout Participant) -> Void) {
        if let index = participants.firstIndex(where: { $0.party == party }) {
            change(&participants[index])
        }
    }

    private mutating func join(_ party: Party, as role: ParticipantRole, state: PartyState, at time: Timestamp) {
        if let index = participants.firstIndex(where: { $0.party == party }) {
            // Someone who left earlier comes back (consulted again, say): a fresh stint on the call.
            participants[index].role = role
            participants[index].state = state
            participants[index].since = time
        } else {
            participants.append(
                Participant(party: party, role: role, state: state, joinedAt: time, since: time, owesWrapUp: false))
        }
    }

    /// A party that never answered leaves no trace in the participant list.
    private mutating func remove(_ party: Party) {
        if let index = participants.firstIndex(where: { $0.party == party }) {
            if participants[index].state == .ringing, participants[index].joinedAt == participants[index].since {
                participants.remove(at: index)
            } else {
                participants[index].state = .left
            }
        }
    }

    private mutating func setState(of party: Party, to state: PartyState, at time: Timestamp) {
        update(party) {
            $0.state = state
            $0.since = time
        }
    }

    private mutating func leave(_ party: Party, owingWrapUp: Bool, at time: Timestamp) {
        update(party) {
            $0.state = .left
            $0.since = time
            if owingWrapUp { $0.owesWrapUp = true }
        }
    }

    private mutating func leaveOwner(owingWrapUp: Bool, at time: Timestamp) {
        if let owner { leave(owner.party, owingWrapUp: owingWrapUp, at: time) }
    }

    private mutating func dropConsulted(at time: Timestamp) {
        if let consulted {
            if consulted.state == .ringing { remove(consulted.party) } else { leave(consulted.party, owingWrapUp: false, at: time) }
        }
    }

    private mutating func setCustomer(_ state: PartyState, at time: Timestamp) {
        if customer.state != state {
            customer.state = state
            customer.since = time
        }
    }

    /// Everyone is dropped; the owner (if any is on the call) owes the wrap-up.
    private mutating func endCall(at time: Timestamp) {
        setCustomer(.left, at: time)
        for party in participants.filter({ $0.state == .ringing }).map(\.party) { remove(party) }
        for index in participants.indices where participants[index].state != .left {
            participants[index].state = .left
            participants[index].since = time
            if participants[index].role == .owner, case .agent = participants[index].party {
                participants[index].owesWrapUp = true
            }
        }
        phase = .ended
    }
}

public enum InteractionStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case queued, offered, connected, held, consulting, conferenced, wrapUpAssist, ended
}

/// Who can be on a call besides the customer: an agent, or an outside number the agent dialled.
public enum Party: Hashable, Sendable {
    case agent(AgentID)
    case dialNumber(DialNumber)

    public var agent: AgentID? {
        if case .agent(let id) = self { id } else { nil }
    }
}

/// Where a consult or a transfer goes.
public enum Destination: Hashable, Sendable {
    case agent(AgentID)
    case queue(QueueID)
    case dialNumber(DialNumber)
}

public enum ParticipantRole: String, Hashable, Sendable, Codable {
    /// Agent 1: has the call and its controls.
    case owner
    /// Agent 2 during a consult.
    case consulted
    /// Agent 2 once merged into a conference.
    case conferenced
}

/// A party's media state.
public enum PartyState: String, Hashable, Sendable, Codable {
    case ringing, connected, held, left
}

public struct Participant: Equatable, Sendable {
    public let party: Party
    public internal(set) var role: ParticipantRole
    public internal(set) var state: PartyState
    public let joinedAt: Timestamp
    /// When the party entered its present state (the ring timer and auto wrap-up count from here).
    public internal(set) var since: Timestamp
    /// This agent must apply a wrap-up reason for the interaction.
    public internal(set) var owesWrapUp: Bool
    /// The wrap-up reason this agent applied, once applied.
    public internal(set) var wrapUpCode: WrapUpCodeID?

    public init(
        party: Party, role: ParticipantRole, state: PartyState, joinedAt: Timestamp, since: Timestamp, owesWrapUp: Bool,
        wrapUpCode: WrapUpCodeID? = nil
    ) {
        self.party = party
        self.role = role
        self.state = state
        self.joinedAt = joinedAt
        self.since = since
        self.owesWrapUp = owesWrapUp
        self.wrapUpCode = wrapUpCode
    }
}

public struct Customer: Equatable, Sendable {
    /// Who called, as the line said.
    public let caller: Caller
    /// `held` while waiting in a queue too: the customer hears the queue's music.
    public internal(set) var state: PartyState
    public internal(set) var since: Timestamp

    public init(caller: Caller, state: PartyState, since: Timestamp) {
        self.caller = caller
        self.state = state
        self.since = since
    }
}
