/// What happened. Events are the facts the store persists; folding them from empty rebuilds every
/// interaction, every agent's state and every queue.
/// The store gives events an explicit encoding of its own (see the Store module), so renaming a
/// case here cannot silently make a log unreadable.
public struct Event: Equatable, Sendable {
    public enum Subject: Equatable, Sendable {
        case interaction(InteractionID, InteractionEvent)
        case agent(AgentID, AgentEvent)
    }

    public var at: Timestamp
    public var subject: Subject

    public init(at: Timestamp, _ subject: Subject) {
        self.at = at
        self.subject = subject
    }

    public var interactionID: InteractionID? {
        if case .interaction(let id, _) = subject { id } else { nil }
    }
}

public enum InteractionEvent: Equatable, Sendable {
    /// A customer's call reached a queue. Always an interaction's first event.
    case arrived(queue: QueueID, caller: Caller)
    /// Routing (or a blind transfer) rings an agent with the call.
    case offered(to: AgentID)
    /// The offered agent let it ring out (RONA): the call goes back to the head of its queue.
    case offerTimedOut(agent: AgentID)
    case accepted(by: AgentID)
    case customerHeld
    case customerResumed
    /// Agent 1 starts a consult; the customer is put on hold unless in a conference.
    case consultStarted(Destination)
    /// Routing found an agent for a consult to a queue.
    case consultOffered(to: AgentID)
    case consultOfferTimedOut(agent: AgentID)
    case consultAnswered(Party)
    /// A ring failed (busy, declined, unreachable): withdrawn at once. An agent's offer goes back
    /// to the head of its queue and the agent is handled as on ring-no-answer; a consulted party
    /// is dropped from the consult.
    case ringFailed(Party, RingFailure)
    /// Agent 1 cancels the consult: the consulted party is dropped and the customer resumed.
    case consultCancelled
    /// The consulted party left the consult; the customer stays on hold.
    case consultedPartyLeft(Party)
    case conferenceStarted
    /// Agent 1 hands the call to the consulted party and leaves to wrap up.
    case consultTransferred
    /// Agent 1 hands the conference to an agent already in it and leaves to wrap up.
    case conferenceTransferred(to: AgentID)
    /// A conferenced party (not the owner) leaves; owes no wrap-up.
    case conferenceExited(Party)
    /// Agent 1 ended the conference: everyone is dropped, Agent 1 wraps up.
    case conferenceEnded
    /// Agent 1 sends the call elsewhere without consulting, and leaves to wrap up.
    case blindTransferred(Destination)
    /// Agent 1 ended the call.
    case endedByOwner
    case customerLeft
    case wrapUpApplied(agent: AgentID, code: WrapUpCodeID, notes: String, automatic: Bool)
    /// A supervisor starts listening in (their station rings; a desktop station is on at once).
    case monitorStarted(SupervisorID, MonitorMode, Station)
    /// The supervisor's station answered.
    case monitorAnswered(SupervisorID)
    /// A supervisor already on the call switches mode, on the same leg.
    case monitorModeChanged(SupervisorID, MonitorMode)
    /// The supervisor left (or their station hung up, or never answered).
    case monitorEnded(SupervisorID)
    /// The owning agent paused the call's recording; it records silence until resumed.
    case recordingPaused(by: AgentID)
    case recordingResumed(by: AgentID)
}

public enum AgentEvent: Equatable, Sendable {
    case loggedIn
    case loggedOut
    /// The agent chose Available (on a call, this cancels a pending Idle).
    case becameAvailable
    case wentIdle(IdleCodeID)
    /// The agent chose Idle during a call; it takes effect when the call and wrap-up are done.
    case idleRequested(IdleCodeID)
    /// Where the agent answers offers from now on.
    case answerModeSet(AnswerMode)
}

extension InteractionEvent {
    /// The agent whose offer rang out, if this event is a ring-no-answer.
    var rangOut: AgentID? {
        switch self {
        case .offerTimedOut(let agent), .consultOfferTimedOut(let agent), .ringFailed(.agent(let agent), _): agent
        case .ringFailed(.dialNumber, _): nil
        case .arrived, .offered, .accepted, .customerHeld, .customerResumed, .consultStarted, .consultOffered,
            .consultAnswered, .consultCancelled, .consultedPartyLeft, .conferenceStarted, .consultTransferred,
            .conferenceTransferred, .conferenceExited, .conferenceEnded, .blindTransferred, .endedByOwner,
            .customerLeft, .wrapUpApplied, .monitorStarted, .monitorAnswered, .monitorModeChanged, .monitorEnded, .recordingPaused, .recordingResumed:
            nil
        }
    }
}
