/// The rules: which commands each actor may issue in each state, and the events they make.
/// Nothing here changes the center; a rejection leaves it exactly as it was.
struct Decision {
    /// Every command makes exactly one event (routing may add more).
    var event: Event.Subject
    /// A leg that dropped by itself (the party hung up): the shell need not hang it up.
    var droppedLeg: Leg? = nil
    /// The customer leaves for an outside number rather than being hung up.
    var handOffTo: DialNumber? = nil
}

extension CallCenter {
    func decide(_ command: Command, at time: Timestamp) -> Result<Decision, Rejection> {
        switch command {
        case .agent(let id, let change):
            return decideAgentState(change, agent: id).map { Decision(event: .agent(id, $0)) }

        case .arrival(let id, let queue, let caller):
            guard id.isValid else { return .failure(.invalidIdentifier) }
            guard interactions[id] == nil else { return .failure(.interactionExists) }
            guard teamsOfQueue[queue] != nil else { return .failure(.unknownQueue) }
            // Any caller is taken (a withheld number, a name, a SIP address); a number must be one.
            guard caller.isWellFormed else { return .failure(.invalidDialNumber) }
            return .success(Decision(event: .interaction(id, .arrived(queue: queue, caller: caller))))

        case .timerFired(let timer):
            return decideTimer(timer, at: time)

        case .desktop(let agent, let id, let control):
            guard let interaction = interactions[id] else { return .failure(.unknownInteraction) }
            return decideDesktop(control, by: agent, on: interaction)

        case .line(let id, let event):
            guard let interaction = interactions[id] else { return .failure(.unknownInteraction) }
            if case .supervisor(let supervisor) = event.leg { return decideSupervisorLine(event, supervisor, on: interaction) }
            return decideLine(event, on: interaction)

        case .supervisor(let supervisor, let id, let command):
            guard let interaction = interactions[id] else { return .failure(.unknownInteraction) }
            return decideSupervisor(command, by: supervisor, on: interaction)
        }
    }

    // MARK: - The Agent Desktop's controls

    /// Whether this agent may use this control on this interaction now, regardless of the
    /// command's arguments. `allowedActions` lists exactly the controls this lets through.
    func permission(_ action: TaskAction, for agent: AgentID, in interaction: Interaction) -> Rejection? {
        guard let me = interaction.participant(agent: agent) else { return .notAParticipant }
        if action == .wrapUp { return me.owesWrapUp ? nil : .wrapUpNotRequired }
        let phase = interaction.phase
        if phase == .ended { return .interactionEnded }
        if me.state == .left { return .notConnected }
        let isOwner = me.role == .owner
        if me.state == .ringing, action != .accept, action != .consultAccept, action != .consultEnd {
            return .notConnected
        }
        func ownerOnly() -> Rejection? { isOwner ? nil : .notOwner }

        switch action {
        case .accept:
            guard phase == .offered && isOwner else { return .notOffered }
            return agents[agent]?.answerMode == .phone ? .answerOnPhone : nil

        case .consultAccept:
            guard me.role == .consulted && me.state == .ringing else { return .notOffered }
            return agents[agent]?.answerMode == .phone ? .answerOnPhone : nil

        case .hold, .resume:
            switch phase {
            case .conferenced: return action == .hold ? .holdNotAllowedInConference : .notAllowedInConference
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .consulting: return .consultInProgress
            case .queued, .offered, .ended: return .notConnected
            case .connected:
                if action == .hold, interaction.isBarged { return .holdNotAllowedInConference }  // three talk: a conference
                return action == .hold ? ownerOnly() : .notHeld
            case .held: return action == .resume ? ownerOnly() : .alreadyHeld
            }

        case .consult:
            switch phase {
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .consulting, .conferenced(consulting: .some): return .consultInProgress
            case .conferenced(consulting: nil):
                if interaction.conferenceParties + 1 > configuration.maxConferenceParties { return .conferenceFull }
                return ownerOnly()
            case .connected, .held: return interaction.isBarged ? .supervisorBargedIn : ownerOnly()
            case .queued, .offered, .ended: return .notConnected
            }

        case .consultEnd:
            switch phase {
            case .consulting, .conferenced(consulting: .some):
                return isOwner || me.role == .consulted ? nil : .notOwner
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .connected, .held, .conferenced(consulting: nil), .ended: return .noActiveConsult
            }

        case .conference:
            switch phase {
            case .consulting, .conferenced(consulting: .some):
                guard isOwner else { return .notOwner }
                guard interaction.consulted?.state == .connected else { return .consultNotAnswered }
                if interaction.conferenceParties + 1 > configuration.maxConferenceParties { return .conferenceFull }
                return nil
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .connected, .held, .conferenced(consulting: nil), .ended: return .noActiveConsult
            }

        case .consultTransfer:
            switch phase {
            case .consulting:
                guard isOwner else { return .notOwner }
                return interaction.consulted?.state == .connected ? nil : .consultNotAnswered
            case .conferenced: return .notAllowedInConference
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .connected, .held, .ended: return .noActiveConsult
            }

        case .conferenceTransfer:
            switch phase {
            case .conferenced(consulting: nil):
                guard isOwner else { return .notOwner }
                return interaction.transfereeInConference == nil ? .noAgentToTransferTo : nil
            case .conferenced(consulting: .some): return .consultInProgress
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .connected, .held, .consulting, .ended: return .notInConference
            }

        case .exitConference:
            switch phase {
            case .conferenced, .wrapUpAssist:
                if isOwner { return .ownerCannotExitConference }
                return me.role == .conferenced || phase == .wrapUpAssist ? nil : .notInConference
            case .queued, .offered, .connected, .held, .consulting, .ended: return .notInConference
            }

        case .endConference:
            switch phase {
            case .conferenced: return ownerOnly()
            case .queued, .offered, .connected, .held, .consulting, .wrapUpAssist, .ended: return .notInConference
            }

        case .transfer:
            switch phase {
            case .connected, .held: return ownerOnly()
            case .consulting: return .consultInProgress
            case .conferenced: return .notAllowedInConference
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .ended: return .notConnected
            }

        case .end:
            switch phase {
            case .connected, .held, .wrapUpAssist: return ownerOnly()
            case .consulting: return .consultInProgress
            case .conferenced: return .notAllowedInConference
            case .queued, .offered, .ended: return .notConnected
            }

        case .wrapUp:
            return nil  // settled above

        case .pauseRecording, .resumeRecording:
            switch phase {
            case .connected, .held, .consulting, .conferenced:
                guard configuration.recordedQueues.contains(interaction.queue) else { return .notRecorded }
                guard isOwner else { return .notOwner }
                if action == .pauseRecording { return interaction.recordingPaused ? .recordingAlreadyPaused : nil }
                return interaction.recordingPaused ? nil : .recordingNotPaused
            case .wrapUpAssist: return .notAllowedInWrapUpAssist
            case .queued, .offered, .ended: return .notConnected
            }
        }
    }

    private func decideDesktop(_ control: DesktopCommand, by agent: AgentID, on interaction: Interaction)
        -> Result<Decision, Rejection>
    {
        if let rejection = permission(control.action, for: agent, in: interaction) { return .failure(rejection) }
        let id = interaction.id
        func made(_ event: InteractionEvent) -> Result<Decision, Rejection> {
            .success(Decision(event: .interaction(id, event)))
        }

        switch control {
        case .accept: return made(.accepted(by: agent))
        case .hold: return made(.customerHeld)
        case .resume: return made(.customerResumed)
        case .consult(let destination):
            if let rejection = check(destination, from: agent) { return .failure(rejection) }
            return made(.consultStarted(destination))
        case .consultAccept: return made(.consultAnswered(.agent(agent)))
        case .consultEnd:
            if interaction.participant(agent: agent)?.role == .owner { return made(.consultCancelled) }
            return made(.consultedPartyLeft(.agent(agent)))
        case .conference: return made(.conferenceStarted)
        case .consultTransfer:
            var decision = Decision(event: .interaction(id, .consultTransferred))
            if case .dialNumber(let number) = interaction.consulted?.party { decision.handOffTo = number }
            return .success(decision)
        case .conferenceTransfer:
            return made(.conferenceTransferred(to: interaction.transfereeInConference!))
        case .exitConference: return made(.conferenceExited(.agent(agent)))
        case .endConference: return made(.conferenceEnded)
        case .transfer(let destination):
            if let rejection = check(destination, from: agent) { return .failure(rejection) }
            var decision = Decision(event: .interaction(id, .blindTransferred(destination)))
            if case .dialNumber(let number) = destination { decision.handOffTo = number }
            return .success(decision)
        case .end: return made(.endedByOwner)
        case .wrapUp(let code, let notes):
            guard wrapUpCodes.contains(code) else { return .failure(.unknownWrapUpCode) }
            return made(.wrapUpApplied(agent: agent, code: code, notes: notes, automatic: false))
        case .pauseRecording: return made(.recordingPaused(by: agent))
        case .resumeRecording: return made(.recordingResumed(by: agent))
        }
    }

    /// Checks where a consult or transfer goes.
    private func check(_ destination: Destination, from agent: AgentID) -> Rejection? {
        switch destination {
        case .agent(let target):
            guard let other = agents[target] else { return .unknownAgent }
            if target == agent { return .cannotTargetSelf }
            return other.status == .available ? nil : .agentUnavailable
        case .queue(let queue):
            return teamsOfQueue[queue] == nil ? .unknownQueue : nil
        case .dialNumber(let number):
            return number.isWellFormed ? nil : .invalidDialNumber
        }
    }

    // MARK: - Telephony

    /// What a line event means. Each names its leg, so the party it concerns is never guessed.
    private func decideLine(_ event: LineEvent, on interaction: Interaction) -> Result<Decision, Rejection> {
        let id = interaction.id
        func made(_ change: InteractionEvent, dropped: Leg? = nil) -> Result<Decision, Rejection> {
            .success(Decision(event: .interaction(id, change), droppedLeg: dropped))
        }
        switch event {
        case .hungUp(.customer):
            guard interaction.customer.state != .left else { return .failure(.interactionEnded) }
            return made(.customerLeft, dropped: .customer)

        case .hungUp(let leg):
            guard let party = leg.party, let me = interaction.participant(party) else { return .failure(.notAParticipant) }
            guard me.state != .left, interaction.phase != .ended else { return .failure(.notConnected) }
            // A dialled number that gives up before answering leaves the consult; a phone that has
            // not answered declines with a failed ring instead (it never hangs up).
            if me.state == .ringing, case .dialNumber = party { return made(.consultedPartyLeft(party), dropped: leg) }
            guard me.state == .connected, let change = Self.leaving(me, interaction) else { return .failure(.notConnected) }
            return made(change, dropped: leg)

        case .answered(.customer), .ringFailed(.customer, _), .transferRequested(.customer),
            .transferRequested(.dialNumber), .answered(.supervisor), .hungUp(.supervisor), .ringFailed(.supervisor, _),
            .transferRequested(.supervisor):
            return .failure(.actorNotPermitted)  // (a supervisor's leg is decided in decideSupervisorLine)

        case .transferRequested(.agent):
            return .failure(.useAgentDesktop)  // the spec: transfers and conferences from the desktop

        case .answered(let leg):
            guard let party = leg.party, let me = interaction.participant(party) else { return .failure(.notAParticipant) }
            guard me.state == .ringing else { return .failure(.notOffered) }
            if me.role == .owner, interaction.phase == .offered, let agent = party.agent { return made(.accepted(by: agent)) }
            return made(.consultAnswered(party))

        case .ringFailed(let leg, let reason):
            guard let party = leg.party, let me = interaction.participant(party) else { return .failure(.notAParticipant) }
            guard me.state == .ringing else { return .failure(.notOffered) }
            return made(.ringFailed(party, reason), dropped: leg)
        }
    }

    /// What it means when a connected party's phone hangs up: Agent 1 ends the call (or the
    /// conference, as the spec says); anyone else leaves.
    private static func leaving(_ party: Participant, _ interaction: Interaction) -> InteractionEvent? {
        switch (party.role, interaction.phase) {
        case (.owner, .conferenced): return .conferenceEnded
        case (.owner, .connected), (.owner, .held), (.owner, .consulting), (.owner, .wrapUpAssist): return .endedByOwner
        case (.consulted, .wrapUpAssist), (.conferenced, _): return .conferenceExited(party.party)
        case (.consulted, _): return .consultedPartyLeft(party.party)
        case (.owner, .queued), (.owner, .offered), (.owner, .ended): return nil
        }
    }

    // MARK: - Timers

    private func decideTimer(_ timer: TimerID, at time: Timestamp) -> Result<Decision, Rejection> {
        guard let interaction = interactions[timer.interaction] else { return .failure(.timerNotActive) }
        // A timer is live only while the state that armed it lasts and its deadline has come.
        guard let (_, deadline) = interaction.timers(configuration).first(where: { $0.0 == timer }),
            deadline <= time
        else { return .failure(.timerNotActive) }
        let id = interaction.id
        switch timer {
        case .ringNoAnswer(_, let agent):
            let event: InteractionEvent =
                interaction.participant(agent: agent)?.role == .owner
                ? .offerTimedOut(agent: agent) : .consultOfferTimedOut(agent: agent)
            return .success(Decision(event: .interaction(id, event)))
        case .autoWrapUp(_, let agent):
            let event = InteractionEvent.wrapUpApplied(
                agent: agent, code: configuration.defaultWrapUpCode, notes: "", automatic: true)
            return .success(Decision(event: .interaction(id, event)))
        }
    }

    // MARK: - The agent's own state

    private func decideAgentState(_ command: AgentCommand, agent id: AgentID) -> Result<AgentEvent, Rejection> {
        guard let agent = agents[id] else { return .failure(.unknownAgent) }
        switch command {
        case .login:
            return agent.status == .loggedOut ? .success(.loggedIn) : .failure(.alreadyInState)
        case .logout:
            switch agent.status {
            case .loggedOut: return .failure(.alreadyInState)
            case .idle, .available: return .success(.loggedOut)
            case .reserved, .engaged, .wrapUp: return .failure(.agentBusy)
            }
        case .setAvailable:
            switch agent.status {
            case .loggedOut: return .failure(.agentLoggedOut)
            case .available: return .failure(.alreadyInState)
            case .idle: return .success(.becameAvailable)
            case .reserved, .engaged, .wrapUp:
                return agent.pendingIdle == nil ? .failure(.alreadyInState) : .success(.becameAvailable)
            }
        case .setIdle(let code):
            guard idleCodes.contains(code) else { return .failure(.unknownIdleCode) }
            switch agent.status {
            case .loggedOut: return .failure(.agentLoggedOut)
            case .idle(let current): return current == code ? .failure(.alreadyInState) : .success(.wentIdle(code))
            case .available: return .success(.wentIdle(code))
            case .reserved, .engaged, .wrapUp:
                return agent.pendingIdle == code ? .failure(.alreadyInState) : .success(.idleRequested(code))
            }
        case .setAnswerMode(let mode):
            guard agent.status != .loggedOut else { return .failure(.agentLoggedOut) }
            return agent.answerMode == mode ? .failure(.alreadyInState) : .success(.answerModeSet(mode))
        case .phoneLost, .browserLost:
            // Each only for the station it names: a SIP phone unregistering leaves a browser agent be.
            let (station, code) = command == .phoneLost
                ? (AnswerMode.phone, CenterConfiguration.phoneLostIdleCode) : (.browser, CenterConfiguration.browserLostIdleCode)
            guard agent.answerMode == station else { return .failure(.alreadyInState) }
            switch agent.status {
            case .available: return .success(.wentIdle(code))
            case .loggedOut, .idle, .reserved, .engaged, .wrapUp: return .failure(.alreadyInState)
            }
        case .desktopLost:
            switch agent.status {
            case .available: return .success(.wentIdle(CenterConfiguration.desktopLostIdleCode))
            case .loggedOut, .idle, .reserved, .engaged, .wrapUp: return .failure(.alreadyInState)
            }
        }
    }
}

extension Interaction {
    /// Who takes the call when Agent 1 transfers a conference: the agent who joined it first.
    var transfereeInConference: AgentID? {
        participants.first { $0.role == .conferenced && $0.state == .connected && $0.party.agent != nil }?.party.agent
    }
}
