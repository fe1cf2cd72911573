/// A supervisor on a call: monitor (hears everyone, heard by nobody), coach (hears everyone,
/// heard only by the owning agent) or barge (a full party: a conference participant under the
/// spec's rules). The supervisor follows the call, not the agent: through hold, consult,
/// conference and transfer, until the call ends.
///
/// ```
///   monitorStarted ──▶ ringing ──monitorAnswered──▶ connected ◀─┐ monitorModeChanged
///        │ (desktop station: connected at once)        │  └──────┘ (same leg, no new ring)
///        └──────────── monitorEnded (left, hung up, ring failed, or the call ended) ──▶ gone
/// ```
public enum MonitorMode: String, Hashable, Sendable, Codable, CaseIterable {
    case monitor, coach, barge
}

public struct Monitor: Hashable, Sendable {
    public enum State: String, Hashable, Sendable, Codable { case ringing, connected }

    public let supervisor: SupervisorID
    public internal(set) var mode: MonitorMode
    /// Where the supervisor's leg rings: a phone, a browser, or (simulated) the desktop itself.
    public let station: Station
    public internal(set) var state: State
    /// When the supervisor joined (the leg rang).
    public let joinedAt: Timestamp
    /// When the present mode began.
    public internal(set) var since: Timestamp

    public init(supervisor: SupervisorID, mode: MonitorMode, station: Station, state: State, joinedAt: Timestamp, since: Timestamp) {
        (self.supervisor, self.mode, self.station, self.state, self.joinedAt, self.since) = (supervisor, mode, station, state, joinedAt, since)
    }

    public var leg: Leg { .supervisor(supervisor) }
}

extension Interaction {
    public func monitor(_ supervisor: SupervisorID) -> Monitor? {
        monitors.first { $0.supervisor == supervisor }
    }

    /// A supervisor is barged in (or their barge is ringing): the call counts as a conference.
    public var isBarged: Bool { monitors.contains { $0.mode == .barge } }

    /// Barged supervisors on the line: conference parties like any other.
    var bargedParties: Int { monitors.count { $0.mode == .barge && $0.state == .connected } }

    mutating func applyMonitoring(_ event: InteractionEvent, at time: Timestamp) {
        switch event {
        case .monitorStarted(let supervisor, let mode, let station):
            // A desktop station has no line to ring: a simulated supervisor is on at once.
            monitors.append(
                Monitor(supervisor: supervisor, mode: mode, station: station, state: station == .desktop ? .connected : .ringing,
                        joinedAt: time, since: time))
        case .monitorAnswered(let supervisor):
            if let index = monitors.firstIndex(where: { $0.supervisor == supervisor }) {
                monitors[index].state = .connected
                monitors[index].since = time
            }
        case .monitorModeChanged(let supervisor, let mode):
            if let index = monitors.firstIndex(where: { $0.supervisor == supervisor }) {
                monitors[index].mode = mode
                monitors[index].since = time
            }
        case .monitorEnded(let supervisor):
            monitors.removeAll { $0.supervisor == supervisor }
        case .arrived, .offered, .offerTimedOut, .accepted, .customerHeld, .customerResumed, .consultStarted, .consultOffered,
            .consultOfferTimedOut, .consultAnswered, .ringFailed, .consultCancelled, .consultedPartyLeft, .conferenceStarted,
            .consultTransferred, .conferenceTransferred, .conferenceExited, .conferenceEnded, .blindTransferred, .endedByOwner,
            .customerLeft, .wrapUpApplied, .recordingPaused, .recordingResumed:
            break
        }
        // A call that ends takes its supervisors with it.
        if phase == .ended { monitors.removeAll() }
    }

    /// Monitors and coaches follow the owning agent: they hear the room Agent 1 is in (the
    /// conversation, or the consult Agent 1 is making; while the customer is held, Agent 1 alone
    /// and not the music). With no owner on the line (wrap-up assist, a call waiting again after
    /// a blind transfer), they hear the conversation. A coach is heard by Agent 1 only.
    func addSupervisors(to plan: inout MediaPlan) {
        let owner = self.owner.flatMap { $0.state == .connected ? Leg($0.party) : nil }
        let room: [Leg]
        if let owner {
            if plan.conversation.contains(owner) {
                room = plan.conversation
            } else if plan.consultation.contains(owner) {
                room = plan.consultation
            } else {
                room = [owner]
            }
        } else {
            room = plan.conversation
        }
        for monitor in monitors where monitor.state == .connected && monitor.mode != .barge {
            let leg = monitor.leg
            plan.listeners.append(
                MediaPlan.Listener(leg: leg, hears: room.filter { $0 != leg }, heardBy: monitor.mode == .coach ? owner : nil))
        }
    }
}

extension CallCenter {
    /// A supervisor's command: who may (a configured supervisor, for the queues they supervise),
    /// and what the call allows now.
    func decideSupervisor(_ command: SupervisorCommand, by supervisor: SupervisorID, on interaction: Interaction)
        -> Result<Decision, Rejection>
    {
        guard let profile = configuration.supervisors.first(where: { $0.id == supervisor }) else { return .failure(.notASupervisor) }
        if let queues = profile.queues, !queues.contains(interaction.queue) { return .failure(.notSupervisedQueue) }
        let id = interaction.id
        let present = interaction.monitor(supervisor)
        switch command {
        case .leave:
            guard present != nil else { return .failure(.notMonitoring) }
            return .success(Decision(event: .interaction(id, .monitorEnded(supervisor))))

        case .monitor(let mode, let station):
            if let rejection = monitorRefusal(mode, present: present, on: interaction) { return .failure(rejection) }
            if present != nil { return .success(Decision(event: .interaction(id, .monitorModeChanged(supervisor, mode)))) }
            guard station != .outsideLine else { return .failure(.actorNotPermitted) }
            return .success(Decision(event: .interaction(id, .monitorStarted(supervisor, mode, station))))
        }
    }

    private func monitorRefusal(_ mode: MonitorMode, present: Monitor?, on interaction: Interaction) -> Rejection? {
        if let present {
            if present.mode == mode { return .alreadyInState }
        } else if interaction.monitors.count >= configuration.monitorsPerCall {
            return .monitorLimitReached
        }
        switch interaction.phase {
        case .ended: return .interactionEnded
        case .queued, .offered:
            // Nothing to hear yet; one already on the call may still change how they listen.
            return present == nil || mode == .barge ? .notConnected : nil
        case .held:
            return mode == .barge ? .alreadyHeld : nil
        case .consulting, .conferenced(consulting: .some):
            return mode == .barge ? .consultInProgress : nil
        case .connected, .conferenced(consulting: nil), .wrapUpAssist:
            guard mode == .barge, present?.mode != .barge else { return nil }
            // A barge is one more conference party.
            let parties = interaction.phase == .wrapUpAssist
                ? interaction.participants.count { $0.state == .connected } + interaction.bargedParties
                : interaction.conferenceParties
            return parties + 1 > configuration.maxConferenceParties ? .conferenceFull : nil
        }
    }

    /// A line event on a supervisor's leg: answered, hung up, or a ring that failed.
    func decideSupervisorLine(_ event: LineEvent, _ supervisor: SupervisorID, on interaction: Interaction)
        -> Result<Decision, Rejection>
    {
        let id = interaction.id
        guard let monitor = interaction.monitor(supervisor) else { return .failure(.notMonitoring) }
        switch event {
        case .answered:
            guard monitor.state == .ringing else { return .failure(.notOffered) }
            return .success(Decision(event: .interaction(id, .monitorAnswered(supervisor))))
        case .hungUp:
            return .success(Decision(event: .interaction(id, .monitorEnded(supervisor)), droppedLeg: monitor.leg))
        case .ringFailed:
            guard monitor.state == .ringing else { return .failure(.notOffered) }
            return .success(Decision(event: .interaction(id, .monitorEnded(supervisor)), droppedLeg: monitor.leg))
        case .transferRequested:
            return .failure(.actorNotPermitted)
        }
    }

    /// Supervisors' legs: rung when they start, hung up when they go (unless their phone hung up).
    func supervisorLegActions(before: Interaction, after: Interaction, decision: Decision, into actions: inout [Action]) {
        guard !(before.monitors.isEmpty && after.monitors.isEmpty) else { return }
        let id = after.id
        for monitor in before.monitors where after.monitor(monitor.supervisor) == nil && monitor.leg != decision.droppedLeg {
            actions.append(.hangUp(id, monitor.leg))
        }
        for monitor in after.monitors where monitor.state == .ringing && before.monitor(monitor.supervisor)?.state != .ringing {
            actions.append(.ring(id, monitor.leg, monitor.station))
        }
    }
}
