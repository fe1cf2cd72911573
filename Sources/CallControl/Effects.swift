/// The shell's actions are derived by comparing what a command touched before and after it:
/// legs that started ringing are rung, legs that left are hung up, a changed topology is sent to
/// the media layer, timers follow the states that need them, and everyone whose view changed is
/// notified. Deriving them (instead of listing them per command) keeps them from drifting from
/// the state.
extension CallCenter {
    func actions(for log: ChangeLog, decision: Decision) -> [Action] {
        var actions: [Action] = []
        actions.reserveCapacity(8)
        log.forEachInteraction { before, slot in
            let after = interactions.values[slot]
            let id = after.id
            timerActions(before: before, after: after, into: &actions)
            legActions(before: before, after: after, decision: decision, into: &actions)
            if before.map({ !$0.hasSameMedia(as: after) }) ?? true {
                let plan = mediaPlan(of: after)
                if before.map(mediaPlan(of:)) != plan { actions.append(.setMedia(id, plan)) }
            }
            notifications(before: before, after: after, into: &actions)
        }
        log.forEachAgent { before, slot in
            if agents.values[slot] != before { actions.append(.agentStateChanged(before.id)) }
        }
        return actions
    }

    /// Who hears whom on this call now, and whether it is recorded: a call of a recorded queue from
    /// an agent's answer until the customer's contact ends (not while it waits in a queue, nor in
    /// wrap-up assist once the customer has gone).
    public func mediaPlan(of interaction: Interaction) -> MediaPlan {
        var plan = interaction.mediaPlan
        plan.recording = configuration.recording(of: interaction)
        return plan
    }

    /// Cancels the timers that no state needs any more, then starts (or restarts) the new ones.
    private func timerActions(before: Interaction?, after: Interaction, into actions: inout [Action]) {
        for (index, participant) in (before?.participants ?? []).enumerated() {
            guard let (timer, _) = before!.timer(for: participant, configuration) else { continue }
            let now = after.participant(participant.party, hint: index).flatMap { after.timer(for: $0, configuration) }
            if now?.0 != timer { actions.append(.cancelTimer(timer)) }
        }
        for (index, participant) in after.participants.enumerated() {
            guard let (timer, deadline) = after.timer(for: participant, configuration) else { continue }
            let was = before?.participant(participant.party, hint: index).flatMap { before!.timer(for: $0, configuration) }
            if was?.0 != timer || was?.1 != deadline { actions.append(.startTimer(timer, deadline: deadline)) }
        }
    }

    /// Where this party answers: an agent on their desktop or phone, as they chose; a number on its line.
    private func station(_ party: Party) -> Station {
        switch party {
        case .agent(let agent):
            switch agents[agent]?.answerMode ?? .desktop {
            case .desktop: .desktop
            case .phone: .phone
            case .browser: .browser
            }
        case .dialNumber: .outsideLine
        }
    }

    private func legActions(before: Interaction?, after: Interaction, decision: Decision, into actions: inout [Action]) {
        let id = after.id
        // A new call is answered as it enters its queue, so the customer hears the queue's music.
        guard let before else {
            actions.append(.answerCustomer(id))
            for party in after.participants where party.state == .ringing { actions.append(.ring(id, Leg(party.party), station(party.party))) }
            return
        }
        for (index, party) in before.participants.enumerated() where party.state != .left {
            let now = after.participant(party.party, hint: index)
            let leg = Leg(party.party)
            if (now == nil || now!.state == .left), leg != decision.droppedLeg {
                actions.append(.hangUp(id, leg))
            }
        }
        if before.customer.state != .left, after.customer.state == .left {
            if let number = decision.handOffTo {
                actions.append(.handOff(id, toNumber: number))
            } else if decision.droppedLeg != .customer {
                actions.append(.hangUp(id, .customer))
            }
        }
        for (index, party) in after.participants.enumerated() where party.state == .ringing {
            let was = before.participant(party.party, hint: index)
            if was == nil || was!.state != .ringing { actions.append(.ring(id, Leg(party.party), station(party.party))) }
        }
        supervisorLegActions(before: before, after: after, decision: decision, into: &actions)
    }

    private func notifications(before: Interaction?, after: Interaction, into actions: inout [Action]) {
        if let before {
            for (index, party) in before.participants.enumerated() where after.participant(party.party, hint: index) == nil {
                if let agent = party.party.agent { actions.append(.notifyAgent(agent, after.id)) }
            }
        }
        for (index, party) in after.participants.enumerated() {
            guard let agent = party.party.agent else { continue }
            if party.state != .left || before?.participant(party.party, hint: index) != party {
                actions.append(.notifyAgent(agent, after.id))
            }
        }
    }
}

extension CenterConfiguration {
    /// Whether this call is being recorded now (see `CallCenter.mediaPlan(of:)`).
    public func recording(of interaction: Interaction) -> MediaPlan.Recording {
        switch interaction.phase {
        case .connected, .held, .consulting, .conferenced:
            guard recordedQueues.contains(interaction.queue) else { return .off }
            return interaction.recordingPaused ? .paused : .on
        case .queued, .offered, .wrapUpAssist, .ended:
            return .off
        }
    }
}
