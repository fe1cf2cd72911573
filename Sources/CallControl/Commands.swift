/// What the core is told, nested by who tells it: an agent about their own state, an agent at the
/// Agent Desktop about a task, the telephony about a call leg, a customer's call arriving, or a
/// timer the shell armed. Each group is switched over once, where it is decided.
public enum Command: Hashable, Sendable {
    /// An agent changes their own state (from the Agent Desktop).
    case agent(AgentID, AgentCommand)
    /// An agent uses a control on a task at the Agent Desktop.
    case desktop(AgentID, InteractionID, DesktopCommand)
    /// Something happened on one of a call's legs (the telephony: SIP, or the simulator).
    case line(InteractionID, LineEvent)
    /// A customer's call reaches a queue.
    case arrival(InteractionID, queue: QueueID, from: Caller)
    /// A timer the shell armed at the core's request has come due.
    case timerFired(TimerID)
    /// A supervisor listens in on a call, changes how, or leaves.
    case supervisor(SupervisorID, InteractionID, SupervisorCommand)

    /// A short, stable name: what logs and metrics label a command with.
    public var name: String {
        switch self {
        case .agent(_, let command): command.name
        case .desktop(_, _, let command): command.action.rawValue
        case .line(_, let event): event.name
        case .arrival: "arrival"
        case .timerFired: "timerFired"
        case .supervisor(_, _, let command): command.name
        }
    }

    public var interactionID: InteractionID? {
        switch self {
        case .desktop(_, let id, _), .line(let id, _), .arrival(let id, _, _), .supervisor(_, let id, _): id
        case .timerFired(let timer): timer.interaction
        case .agent: nil
        }
    }
}

/// A supervisor's controls on a live call.
public enum SupervisorCommand: Hashable, Sendable {
    /// Start listening in this mode, ringing this station; or, already on the call, switch to it.
    case monitor(MonitorMode, Station)
    /// Leave: only the supervisor's leg is hung up.
    case leave

    public var name: String {
        switch self {
        case .monitor: "monitor"
        case .leave: "monitor.end"
        }
    }
}

/// An agent's own state.
public enum AgentCommand: Hashable, Sendable {
    case login
    case logout
    case setAvailable
    case setIdle(IdleCodeID)
    /// Where the agent answers offers: with Accept at the desktop, or by answering the phone.
    case setAnswerMode(AnswerMode)
    /// The telephony lost the agent's phone (its SIP registration expired or was removed): an
    /// available agent in phone mode goes idle (`phoneLost`), so no offer rings a phone that is gone.
    case phoneLost
    /// The agent's browser station went away (the tab closed, the network lost): an available
    /// agent in browser mode goes idle (`browserLost`).
    case browserLost
    /// Every one of the agent's desktops has been gone for the grace period: an available agent
    /// goes idle (`desktopClosed`), so no offer waits on a closed browser. Nobody on a call,
    /// in wrap-up or already idle is touched.
    case desktopLost

    public var name: String {
        switch self {
        case .login: "login"
        case .logout: "logout"
        case .setAvailable: "setAvailable"
        case .setIdle: "setIdle"
        case .setAnswerMode: "setAnswerMode"
        case .phoneLost: "phoneLost"
        case .browserLost: "browserLost"
        case .desktopLost: "desktopLost"
        }
    }
}

/// How an agent answers an offer or a consult offer.
public enum AnswerMode: String, Hashable, Sendable, CaseIterable {
    /// With the desktop's Accept (a simulated station, or a phone that answers automatically).
    case desktop
    /// By answering the phone that rings: the desktop offers no Accept.
    case phone
    /// With the desktop's Accept, the sound in the browser itself (WebRTC): the telephony holds the
    /// agent's browser session and attaches it to each call leg the agent is rung on.
    case browser
}

/// The Agent Desktop's controls on a task, with their arguments.
public enum DesktopCommand: Hashable, Sendable {
    case accept
    case hold
    case resume
    case consult(to: Destination)
    case consultAccept
    case consultEnd
    case conference
    case consultTransfer
    case conferenceTransfer
    case exitConference
    case endConference
    case transfer(to: Destination)
    case end
    case wrapUp(code: WrapUpCodeID, notes: String)
    /// The owning agent stops the call's recording for a while (a card number being read out):
    /// the file keeps the time as silence.
    case pauseRecording
    case resumeRecording

    /// The command for a control, with the arguments only some controls take: a destination for
    /// consult and transfer, a reason and notes for wrap-up. Nil when one it needs is missing.
    /// (Callers fetch only the arguments `action` needs; this is the one place that pairs them.)
    public init?(_ action: TaskAction, to destination: Destination? = nil, wrapUp: (code: WrapUpCodeID, notes: String)? = nil) {
        switch action {
        case .accept: self = .accept
        case .hold: self = .hold
        case .resume: self = .resume
        case .consult:
            guard let destination else { return nil }
            self = .consult(to: destination)
        case .consultAccept: self = .consultAccept
        case .consultEnd: self = .consultEnd
        case .conference: self = .conference
        case .consultTransfer: self = .consultTransfer
        case .conferenceTransfer: self = .conferenceTransfer
        case .exitConference: self = .exitConference
        case .endConference: self = .endConference
        case .transfer:
            guard let destination else { return nil }
            self = .transfer(to: destination)
        case .end: self = .end
        case .wrapUp:
            guard let wrapUp else { return nil }
            self = .wrapUp(code: wrapUp.code, notes: wrapUp.notes)
        case .pauseRecording: self = .pauseRecording
        case .resumeRecording: self = .resumeRecording
        }
    }

    /// The control this command is, as `allowedActions` and the API name it.
    public var action: TaskAction {
        switch self {
        case .accept: .accept
        case .hold: .hold
        case .resume: .resume
        case .consult: .consult
        case .consultAccept: .consultAccept
        case .consultEnd: .consultEnd
        case .conference: .conference
        case .consultTransfer: .consultTransfer
        case .conferenceTransfer: .conferenceTransfer
        case .exitConference: .exitConference
        case .endConference: .endConference
        case .transfer: .transfer
        case .end: .end
        case .wrapUp: .wrapUp
        case .pauseRecording: .pauseRecording
        case .resumeRecording: .resumeRecording
        }
    }
}

/// What the telephony reports about one leg of a call. Every event names its leg, so a
/// conference with two outside numbers knows which one hung up.
public enum LineEvent: Hashable, Sendable {
    /// The leg answered: an agent's phone answering an offer or a consult offer, or a dialled number.
    case answered(Leg)
    /// The leg hung up: the customer, an agent's phone, a dialled number.
    case hungUp(Leg)
    /// A ring never reached an answer: busy, declined, unreachable.
    case ringFailed(Leg, RingFailure)
    /// A phone tried to transfer or conference by itself (a REFER, or its own second call).
    case transferRequested(Leg)

    public var leg: Leg {
        switch self {
        case .answered(let leg), .hungUp(let leg), .ringFailed(let leg, _), .transferRequested(let leg): leg
        }
    }

    public var name: String {
        switch self {
        case .answered: "line.answered"
        case .hungUp: "line.hungUp"
        case .ringFailed: "line.ringFailed"
        case .transferRequested: "line.transferRequested"
        }
    }
}

/// Why a ring failed.
public enum RingFailure: String, Hashable, Sendable, CaseIterable {
    case busy, declined, unreachable
}

/// The Agent Desktop's controls, named as the REST API's command paths.
public enum TaskAction: String, Hashable, Sendable, Codable, CaseIterable {
    case accept
    case hold
    case resume
    case consult
    case consultAccept = "consult/accept"
    case consultEnd = "consult/end"
    case conference = "consult/conference"
    case consultTransfer = "consult/transfer"
    case conferenceTransfer = "conference/transfer"
    case exitConference = "conference/exit"
    case endConference = "conference/end"
    case transfer
    case end
    case wrapUp = "wrapup"
    case pauseRecording = "recording/pause"
    case resumeRecording = "recording/resume"
}

/// Why a command was refused. A rejected command changes nothing. The raw value is the stable
/// code clients see.
public enum Rejection: String, Error, Hashable, Sendable, Codable, CaseIterable {
    // Who may do it.
    case notOwner
    case ownerCannotExitConference
    case actorNotPermitted
    case useAgentDesktop
    case notAParticipant
    // What the call's state allows.
    case holdNotAllowedInConference
    case notAllowedInConference
    case notAllowedInWrapUpAssist
    case consultInProgress
    case noActiveConsult
    case consultNotAnswered
    case conferenceFull
    case notInConference
    case notOffered
    /// The agent answers offers on the phone: the desktop has no Accept.
    case answerOnPhone
    case notConnected
    case alreadyHeld
    case notHeld
    case interactionEnded
    case wrapUpNotRequired
    case noAgentToTransferTo
    case timerNotActive
    // The agent's own state.
    case agentLoggedOut
    case agentBusy
    case alreadyInState
    case agentUnavailable
    case cannotTargetSelf
    // What does not exist.
    case unknownInteraction
    case interactionExists
    case unknownAgent
    case unknownQueue
    case unknownWrapUpCode
    case unknownIdleCode
    case invalidDialNumber
    /// An ID longer than the core keeps (see `PackedName`).
    case invalidIdentifier
    // Supervisors.
    case notASupervisor
    /// The supervisor's configuration limits them to other queues.
    case notSupervisedQueue
    /// The call has as many supervisors on it as the configuration allows.
    case monitorLimitReached
    case notMonitoring
    /// A supervisor is barged in: the call is a conference for the spec's rules (no consult
    /// from a two-party call until the supervisor switches to monitor or leaves).
    case supervisorBargedIn
    // Recording.
    /// The call's queue is not recorded (or the recording has not started: no agent yet).
    case notRecorded
    case recordingAlreadyPaused
    case recordingNotPaused

    public enum Kind: Sendable {
        /// The actor's role forbids it (HTTP 403).
        case role
        /// The present state forbids it (HTTP 409).
        case state
        /// The thing named does not exist, or the caller is not on it (HTTP 404).
        case notFound
        /// The request itself is malformed (HTTP 400).
        case invalid
    }

    public var kind: Kind {
        switch self {
        case .notOwner, .ownerCannotExitConference, .actorNotPermitted, .useAgentDesktop, .notASupervisor, .notSupervisedQueue: .role
        case .notAParticipant, .unknownInteraction: .notFound
        case .unknownAgent, .unknownQueue, .unknownWrapUpCode, .unknownIdleCode, .invalidDialNumber, .invalidIdentifier: .invalid
        case .holdNotAllowedInConference, .notAllowedInConference, .notAllowedInWrapUpAssist, .consultInProgress,
            .noActiveConsult, .consultNotAnswered, .conferenceFull, .notInConference, .notOffered, .answerOnPhone, .notConnected,
            .alreadyHeld, .notHeld, .interactionEnded, .wrapUpNotRequired, .noAgentToTransferTo, .timerNotActive,
            .agentLoggedOut, .agentBusy, .alreadyInState, .agentUnavailable, .cannotTargetSelf,
            .interactionExists, .monitorLimitReached, .notMonitoring, .supervisorBargedIn, .notRecorded,
            .recordingAlreadyPaused, .recordingNotPaused:
            .state
        }
    }

    public var code: String { rawValue }
}

/// What the core answers to a command.
public enum Outcome: Equatable, Sendable {
    /// The events to persist, in order, and what the shell must do.
    case accepted(events: [Event], actions: [Action])
    case rejected(Rejection)

    public var rejection: Rejection? {
        if case .rejected(let rejection) = self { rejection } else { nil }
    }

    public var events: [Event] {
        if case .accepted(let events, _) = self { events } else { [] }
    }

    public var actions: [Action] {
        if case .accepted(_, let actions) = self { actions } else { [] }
    }
}
