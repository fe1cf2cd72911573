/// What the shell must do after a command. Plain data: the server, the SIP layer and the timer
/// wheel switch over these and carry them out.
public enum Action: Hashable, Sendable {
    /// The agent's view of this task changed (a new offer, new controls, a wrap-up owed).
    case notifyAgent(AgentID, InteractionID)
    /// The agent's availability changed (for supervisors and consult pickers).
    case agentStateChanged(AgentID)
    /// Arm a timer; when it fires, send `Command.timerFired` with this ID.
    case startTimer(TimerID, deadline: Timestamp)
    case cancelTimer(TimerID)
    /// Place a call leg to this party (an agent's phone, an outside number).
    case ring(InteractionID, Leg)
    /// Drop this leg.
    case hangUp(InteractionID, Leg)
    /// Who hears whom from now on.
    case setMedia(InteractionID, MediaPlan)
    /// The customer's leg leaves the contact center for an outside number.
    case handOff(InteractionID, toNumber: DialNumber)
}

/// A call leg the media layer handles.
public enum Leg: Hashable, Sendable, Codable {
    case customer
    case agent(AgentID)
    case dialNumber(DialNumber)

    init(_ party: Party) {
        switch party {
        case .agent(let id): self = .agent(id)
        case .dialNumber(let number): self = .dialNumber(number)
        }
    }
}

/// The media topology of one interaction: each conversation is a set of legs that hear each
/// other (two legs: a bridge; more: a mix); the legs in `holdMusic` hear music.
public struct MediaPlan: Hashable, Sendable {
    public var conversations: [[Leg]]
    public var holdMusic: [Leg]

    public static let silent = MediaPlan(conversations: [], holdMusic: [])

    public init(conversations: [[Leg]], holdMusic: [Leg]) {
        self.conversations = conversations
        self.holdMusic = holdMusic
    }
}

public enum TimerID: Hashable, Sendable, Codable {
    /// An offer (or consult offer) ringing an agent.
    case ringNoAnswer(InteractionID, AgentID)
    /// An agent sitting in wrap-up.
    case autoWrapUp(InteractionID, AgentID)

    public var interaction: InteractionID {
        switch self {
        case .ringNoAnswer(let id, _), .autoWrapUp(let id, _): id
        }
    }
}

extension Interaction {
    /// Who hears whom in the present phase.
    public var mediaPlan: MediaPlan {
        /// The connected parties (in joining order), optionally only those with or without a role.
        func talking(_ keep: (ParticipantRole) -> Bool = { _ in true }, customer: Bool) -> [Leg] {
            var legs: [Leg] = []
            legs.reserveCapacity(participants.count + 1)
            if customer { legs.append(.customer) }
            for participant in participants where participant.state == .connected && keep(participant.role) {
                legs.append(Leg(participant.party))
            }
            return legs
        }
        switch phase {
        case .queued, .offered, .held:
            return MediaPlan(conversations: [], holdMusic: [.customer])
        case .connected, .conferenced(consulting: nil):
            return MediaPlan(conversations: [talking(customer: true)], holdMusic: [])
        case .consulting:
            let consult = talking(customer: false)
            return MediaPlan(conversations: consult.count > 1 ? [consult] : [], holdMusic: [.customer])
        case .conferenced(consulting: .some):
            // Agent 1 steps out to consult; the rest of the conference keeps talking.
            let conference = talking({ $0 == .conferenced }, customer: true)
            let consult = talking({ $0 != .conferenced }, customer: false)
            return MediaPlan(conversations: consult.count > 1 ? [conference, consult] : [conference], holdMusic: [])
        case .wrapUpAssist:
            return MediaPlan(conversations: [talking(customer: false)], holdMusic: [])
        case .ended:
            return .silent
        }
    }

    /// Whether the two have the same media plan, judged cheaply: the plan depends only on the
    /// phase, the customer's state and each participant's party, role and state.
    func hasSameMedia(as other: Interaction) -> Bool {
        guard phase == other.phase, customer.state == other.customer.state,
            participants.count == other.participants.count
        else { return false }
        for (mine, theirs) in zip(participants, other.participants)
        where mine.party != theirs.party || mine.role != theirs.role || mine.state != theirs.state {
            return false
        }
        return true
    }

    /// The timer a participant's state needs, if any, with its deadline.
    func timer(for participant: Participant, _ configuration: CenterConfiguration) -> (TimerID, Timestamp)? {
        guard case .agent(let agent) = participant.party else { return nil }
        if participant.state == .ringing {
            return (.ringNoAnswer(id, agent), participant.since.adding(milliseconds: configuration.ringNoAnswerMilliseconds))
        }
        if participant.state == .left, participant.owesWrapUp, let auto = configuration.autoWrapUpMilliseconds {
            return (.autoWrapUp(id, agent), participant.since.adding(milliseconds: auto))
        }
        return nil
    }

    /// The timers this interaction needs right now, with their deadlines.
    public func timers(_ configuration: CenterConfiguration) -> [(TimerID, Timestamp)] {
        participants.compactMap { timer(for: $0, configuration) }
    }
}

extension Leg: CustomStringConvertible {
    public var description: String {
        switch self {
        case .customer: "customer"
        case .agent(let id): "agent:\(id)"
        case .dialNumber(let number): "number:\(number)"
        }
    }
}

extension Party: CustomStringConvertible {
    public var description: String { Leg(self).description }
}

extension Destination: CustomStringConvertible {
    public var description: String {
        switch self {
        case .agent(let id): "agent:\(id)"
        case .queue(let id): "queue:\(id)"
        case .dialNumber(let number): "number:\(number)"
        }
    }
}

extension TimerID: CustomStringConvertible {
    public var description: String {
        switch self {
        case .ringNoAnswer(let call, let agent): "ringNoAnswer(\(call), \(agent))"
        case .autoWrapUp(let call, let agent): "autoWrapUp(\(call), \(agent))"
        }
    }
}

extension MediaPlan: CustomStringConvertible {
    public var description: String {
        let talk = conversations.map { "[" + $0.map(\.description).joined(separator: " ") + "]" }
        return "talk: \(talk.isEmpty ? "none" : talk.joined(separator: " ")); music: "
            + (holdMusic.isEmpty ? "none" : holdMusic.map(\.description).joined(separator: " "))
    }
}
