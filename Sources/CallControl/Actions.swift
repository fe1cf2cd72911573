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
    /// Answer the customer's leg: the call has entered a queue (and hears its music).
    case answerCustomer(InteractionID)
    /// Place a call leg to this party, where it answers (`Station`): so the telephony need not ask.
    case ring(InteractionID, Leg, Station)
    /// Drop this leg.
    case hangUp(InteractionID, Leg)
    /// Who hears whom from now on.
    case setMedia(InteractionID, MediaPlan)
    /// The customer's leg leaves the contact center for an outside number.
    case handOff(InteractionID, toNumber: DialNumber)

    /// Whether the telephony carries this action out (a line action) rather than the shell itself.
    public var isLineAction: Bool {
        switch self {
        case .answerCustomer, .ring, .hangUp, .setMedia, .handOff: true
        case .notifyAgent, .agentStateChanged, .startTimer, .cancelTimer: false
        }
    }
}

/// A call leg the media layer handles.
public enum Leg: Hashable, Sendable {
    case customer
    case agent(AgentID)
    case dialNumber(DialNumber)
    /// A supervisor listening in (monitor, coach or barge).
    case supervisor(SupervisorID)

    /// The participant on this leg; nil for the customer and a supervisor.
    public var party: Party? {
        switch self {
        case .customer, .supervisor: nil
        case .agent(let id): .agent(id)
        case .dialNumber(let number): .dialNumber(number)
        }
    }

    public init(_ party: Party) {
        switch party {
        case .agent(let id): self = .agent(id)
        case .dialNumber(let number): self = .dialNumber(number)
        }
    }
}

/// The media arrangement of one interaction: who hears whom.
public struct MediaPlan: Hashable, Sendable {
    /// The main conversation: the customer with everyone talking to them, or, in wrap-up assist,
    /// the agents still talking after the customer left. Empty while the customer waits.
    public var conversation: [Leg]
    /// A private conversation beside it: Agent 1 and the consulted party.
    public var consultation: [Leg]
    /// The customer hears music: on hold, waiting in a queue, or during a consult.
    public var customerHearsMusic: Bool
    /// Supervisors listening without being part of a conversation (monitor and coach; a barged
    /// supervisor is a member of `conversation`).
    public var listeners: [Listener]
    /// Whether the call is being recorded now: on (the parties' audio), paused (silence of the same
    /// length), or off. Set by the center (`CallCenter.mediaPlan(of:)`): it depends on the queue's
    /// configuration.
    public var recording: Recording = .off

    public enum Recording: Hashable, Sendable { case off, on, paused }

    /// A supervisor who hears `hears` and is heard only by `heardBy` (nobody when monitoring,
    /// the owning agent when coaching).
    public struct Listener: Hashable, Sendable {
        public var leg: Leg
        public var hears: [Leg]
        public var heardBy: Leg?
        public init(leg: Leg, hears: [Leg], heardBy: Leg? = nil) {
            (self.leg, self.hears, self.heardBy) = (leg, hears, heardBy)
        }
    }

    public static let silent = MediaPlan()

    public init(conversation: [Leg] = [], consultation: [Leg] = [], customerHearsMusic: Bool = false, listeners: [Listener] = []) {
        self.conversation = conversation
        self.consultation = consultation
        self.customerHearsMusic = customerHearsMusic
        self.listeners = listeners
    }
}

public enum TimerID: Hashable, Sendable {
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
        var plan = partiesPlan
        if !monitors.isEmpty { addSupervisors(to: &plan) }
        return plan
    }

    /// Who hears whom among the customer and the participants (and a barged supervisor).
    private var partiesPlan: MediaPlan {
        /// The connected parties, in joining order, that pass `keep`; in the main conversation
        /// (`customer`), a supervisor barged in too.
        func talking(withCustomer customer: Bool, _ keep: (ParticipantRole) -> Bool = { _ in true }) -> [Leg] {
            var legs: [Leg] = []
            legs.reserveCapacity(participants.count + 1)
            if customer { legs.append(.customer) }
            for participant in participants where participant.state == .connected && keep(participant.role) {
                legs.append(Leg(participant.party))
            }
            if customer || phase == .wrapUpAssist {
                for monitor in monitors where monitor.mode == .barge && monitor.state == .connected {
                    legs.append(.supervisor(monitor.supervisor))
                }
            }
            return legs.count > 1 ? legs : []  // one leg alone hears nobody
        }
        switch phase {
        case .queued, .offered, .held:
            return MediaPlan(customerHearsMusic: true)
        case .connected, .conferenced(consulting: nil):
            return MediaPlan(conversation: talking(withCustomer: true))
        case .consulting:
            return MediaPlan(consultation: talking(withCustomer: false), customerHearsMusic: true)
        case .conferenced(consulting: .some):
            // Agent 1 steps out to consult; the rest of the conference keeps talking.
            return MediaPlan(
                conversation: talking(withCustomer: true) { $0 == .conferenced },
                consultation: talking(withCustomer: false) { $0 != .conferenced })
        case .wrapUpAssist:
            return MediaPlan(conversation: talking(withCustomer: false))
        case .ended:
            return .silent
        }
    }

    /// Whether the two have the same media plan, judged cheaply: the plan depends only on the
    /// phase, the customer's state and each participant's party, role and state.
    func hasSameMedia(as other: Interaction) -> Bool {
        guard phase == other.phase, customer.state == other.customer.state,
            participants.count == other.participants.count, monitors == other.monitors,
            recordingPaused == other.recordingPaused, queue == other.queue
        else { return false }
        for (mine, theirs) in zip(participants, other.participants)
        where mine.party != theirs.party || mine.role != theirs.role || mine.state != theirs.state {
            return false
        }
        return true
    }

    /// The timer this participant's state runs, if any: a ringing offer's ring-no-answer, an owed wrap-up's auto wrap-up.
    public func timer(for participant: Participant, _ configuration: CenterConfiguration) -> (TimerID, Timestamp)? {
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
        case .supervisor(let id): "supervisor:\(id)"
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
        func room(_ legs: [Leg]) -> String { "[" + legs.map(\.description).joined(separator: " ") + "]" }
        var parts: [String] = []
        if !conversation.isEmpty { parts.append("talk: \(room(conversation))") }
        if !consultation.isEmpty { parts.append("consult: \(room(consultation))") }
        if customerHearsMusic { parts.append("music: customer") }
        switch recording {
        case .off: break
        case .on: parts.append("recording")
        case .paused: parts.append("recording paused")
        }
        for listener in listeners {
            parts.append("\(listener.leg) hears \(room(listener.hears))" + (listener.heardBy.map { " heard by \($0)" } ?? ""))
        }
        return parts.isEmpty ? "silent" : parts.joined(separator: "; ")
    }
}

/// Where a ring goes: an agent who answers with the desktop's Accept (no line to ring), an
/// agent's phone, an agent's browser (Accept, with the sound in the page), or an outside number's line.
public enum Station: Hashable, Sendable {
    case desktop
    case phone
    case browser
    case outsideLine

    /// A stable name (the log's, the API's).
    public var name: String {
        switch self {
        case .desktop: "desktop"
        case .phone: "phone"
        case .browser: "browser"
        case .outsideLine: "outsideLine"
        }
    }

    public init?(name: String) {
        guard let station = [Station.desktop, .phone, .browser, .outsideLine].first(where: { $0.name == name }) else { return nil }
        self = station
    }
}
