/// An agent's availability for work.
///
/// ```
///  loggedOut ──login──▶ idle(code) ◀──────▶ available ──offer──▶ reserved ──accept──▶ engaged
///      ▲                   │  ▲ ring no answer ◀──────────────────────┘                   │
///      └──────logout───────┘  └── pending idle ◀── wrapUp(task) ◀── left owing a wrap-up ──┘
///                                                      └──wrap-up applied──▶ available
/// ```
/// While on a call, the agent's status follows its place in the interaction; the center keeps
/// them in step after every event.
public struct Agent: Equatable, Sendable {
    public let id: AgentID
    public internal(set) var team: TeamID
    public internal(set) var status: AgentStatus
    /// When the agent entered `status` (the desktop's timer in the state, and routing's
    /// longest-available order).
    public internal(set) var since: Timestamp
    /// Idle chosen during a call, applied once the agent is free.
    public internal(set) var pendingIdle: IdleCodeID?
    /// Where the agent answers offers: the desktop's Accept, or the phone (then no Accept).
    public internal(set) var answerMode: AnswerMode = .desktop

    public init(
        id: AgentID, team: TeamID, status: AgentStatus, since: Timestamp, pendingIdle: IdleCodeID? = nil,
        answerMode: AnswerMode = .desktop
    ) {
        self.id = id
        self.team = team
        self.status = status
        self.since = since
        self.pendingIdle = pendingIdle
        self.answerMode = answerMode
    }

    /// The interaction the agent is busy with, if any.
    public var task: InteractionID? {
        switch status {
        case .reserved(let id), .engaged(let id), .wrapUp(let id): id
        case .loggedOut, .idle, .available: nil
        }
    }
}

public enum AgentStatus: Hashable, Sendable {
    case loggedOut
    case idle(IdleCodeID)
    case available
    /// Offered a task (or a consult): the phone is ringing.
    case reserved(InteractionID)
    case engaged(InteractionID)
    case wrapUp(InteractionID)

    /// The name the API uses.
    public var name: String {
        switch self {
        case .loggedOut: "loggedOut"
        case .idle: "idle"
        case .available: "available"
        case .reserved: "reserved"
        case .engaged: "engaged"
        case .wrapUp: "wrapUp"
        }
    }
}

/// A call or a consult request waiting in a queue for an agent.
public struct QueueEntry: Equatable, Sendable {
    public enum Purpose: Hashable, Sendable {
        /// The customer's call itself.
        case call
        /// Agent 1 asked this queue for someone to consult.
        case consult
    }

    public let interaction: InteractionID
    public let purpose: Purpose
    public let since: Timestamp

    public init(interaction: InteractionID, purpose: Purpose, since: Timestamp) {
        self.interaction = interaction
        self.purpose = purpose
        self.since = since
    }
}
