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
    case handOff(InteractionID, toNumber: String)
}

/// A call leg the media layer handles.
public enum Leg: Hashable, Sendable, Codable {
    case customer
    case agent(AgentID)
    case dialNumber(String)

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
        let talking = participants.filter { $0.state == .connected }
        switch phase {
        case .queued, .offered, .held:
            return MediaPlan(conversations: [], holdMusic: [.customer])
        case .connected:
            return MediaPlan(conversations: [[.customer] + talking.map { Leg($0.party) }], holdMusic: [])
        case .consulting:
            let consult = talking.map { Leg($0.party) }
            return MediaPlan(conversations: consult.count > 1 ? [consult] : [], holdMusic: [.customer])
        case .conferenced(let consulting):
            guard consulting != nil else {
                return MediaPlan(conversations: [[.customer] + talking.map { Leg($0.party) }], holdMusic: [])
            }
            // Agent 1 steps out to consult; the rest of the conference keeps talking.
            let conference = [Leg.customer] + talking.filter { $0.role == .conferenced }.map { Leg($0.party) }
            let consult = talking.filter { $0.role != .conferenced }.map { Leg($0.party) }
            return MediaPlan(conversations: consult.count > 1 ? [conference, consult] : [conference], holdMusic: [])
        case .wrapUpAssist:
            return MediaPlan(conversations: [talking.map { Leg($0.party) }], holdMusic: [])
        case .ended:
            return .silent
        }
    }

    /// The timers this interaction needs right now, with their deadlines.
    public func timers(_ configuration: CenterConfiguration) -> [(TimerID, Timestamp)] {
        var timers: [(TimerID, Timestamp)] = []
        for participant in participants {
            guard case .agent(let agent) = participant.party else { continue }
            if participant.state == .ringing {
                timers.append(
                    (.ringNoAnswer(id, agent), participant.since.adding(milliseconds: configuration.ringNoAnswerMilliseconds)))
            } else if participant.state == .left, participant.owesWrapUp,
                let auto = configuration.autoWrapUpMilliseconds
            {
                timers.append((.autoWrapUp(id, agent), participant.since.adding(milliseconds: auto)))
            }
        }
        return timers
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
