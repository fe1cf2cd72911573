/// Who issued a command. The same request means different things from different actors: a
/// transfer from the Agent Desktop is a transfer, the same from the agent's phone is refused.
public enum Actor: Hashable, Sendable, Codable {
    /// An agent at the Agent Desktop.
    case agent(AgentID)
    /// An agent's hardphone or softphone.
    case phone(AgentID)
    /// The customer's line.
    case customer
    /// The line of an outside number dialled for a consult.
    case dialedParty
    /// A timer the shell armed at the core's request.
    case timer
}

public enum Command: Hashable, Sendable {
    // The agent's own state.
    case login
    case logout
    case setAvailable
    case setIdle(IdleCodeID)

    // Telephony.
    /// A customer's call reaches a queue (from the customer's line).
    case customerCall(InteractionID, queue: QueueID, from: DialNumber)
    case customerHungUp(InteractionID)
    /// The agent's phone hung up (from the agent's phone).
    case agentPhoneHungUp(InteractionID)
    /// The agent's phone tried to transfer or conference by itself.
    case phoneTransferRequested(InteractionID)
    case dialedPartyAnswered(InteractionID)
    case dialedPartyHungUp(InteractionID)

    // The Agent Desktop.
    case accept(InteractionID)
    case hold(InteractionID)
    case resume(InteractionID)
    case consult(InteractionID, to: Destination)
    case consultAccept(InteractionID)
    case consultEnd(InteractionID)
    case conference(InteractionID)
    case consultTransfer(InteractionID)
    case conferenceTransfer(InteractionID)
    case exitConference(InteractionID)
    case endConference(InteractionID)
    case transfer(InteractionID, to: Destination)
    case end(InteractionID)
    case wrapUp(InteractionID, code: WrapUpCodeID, notes: String)

    case timerFired(TimerID)

    /// The Agent Desktop action this command is, if it is one.
    public var taskAction: TaskAction? {
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
        case .login, .logout, .setAvailable, .setIdle, .customerCall, .customerHungUp, .agentPhoneHungUp,
            .phoneTransferRequested, .dialedPartyAnswered, .dialedPartyHungUp, .timerFired:
            nil
        }
    }

    /// A short, stable name: the desktop action's path, or the telephony/state command's name
    /// (what logs and metrics label a command with).
    public var name: String {
        if let action = taskAction { return action.rawValue }
        switch self {
        case .login: return "login"
        case .logout: return "logout"
        case .setAvailable: return "setAvailable"
        case .setIdle: return "setIdle"
        case .customerCall: return "customerCall"
        case .customerHungUp: return "customerHungUp"
        case .agentPhoneHungUp: return "agentPhoneHungUp"
        case .phoneTransferRequested: return "phoneTransferRequested"
        case .dialedPartyAnswered: return "dialedPartyAnswered"
        case .dialedPartyHungUp: return "dialedPartyHungUp"
        case .timerFired: return "timerFired"
        case .accept, .hold, .resume, .consult, .consultAccept, .consultEnd, .conference, .consultTransfer,
            .conferenceTransfer, .exitConference, .endConference, .transfer, .end, .wrapUp:
            return "desktop"  // unreachable: these all have a task action
        }
    }

    public var interactionID: InteractionID? {
        switch self {
        case .customerCall(let id, _, _), .customerHungUp(let id), .agentPhoneHungUp(let id),
            .phoneTransferRequested(let id), .dialedPartyAnswered(let id), .dialedPartyHungUp(let id),
            .accept(let id), .hold(let id), .resume(let id), .consult(let id, _), .consultAccept(let id),
            .consultEnd(let id), .conference(let id), .consultTransfer(let id), .conferenceTransfer(let id),
            .exitConference(let id), .endConference(let id), .transfer(let id, _), .end(let id),
            .wrapUp(let id, _, _):
            id
        case .timerFired(let timer): timer.interaction
        case .login, .logout, .setAvailable, .setIdle: nil
        }
    }
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
        case .notOwner, .ownerCannotExitConference, .actorNotPermitted, .useAgentDesktop: .role
        case .notAParticipant, .unknownInteraction: .notFound
        case .unknownAgent, .unknownQueue, .unknownWrapUpCode, .unknownIdleCode, .invalidDialNumber, .invalidIdentifier: .invalid
        case .holdNotAllowedInConference, .notAllowedInConference, .notAllowedInWrapUpAssist, .consultInProgress,
            .noActiveConsult, .consultNotAnswered, .conferenceFull, .notInConference, .notOffered, .notConnected,
            .alreadyHeld, .notHeld, .interactionEnded, .wrapUpNotRequired, .noAgentToTransferTo, .timerNotActive,
            .agentLoggedOut, .agentBusy, .alreadyInState, .agentUnavailable, .cannotTargetSelf,
            .interactionExists:
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
