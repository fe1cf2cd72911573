import CallControl
import Store

/// A task as the API shows it.
public struct TaskSnapshot: Codable, Sendable, Equatable {
    public struct CustomerView: Codable, Sendable, Equatable {
        /// Who called, as the line said: a number, a name, an address (each when known), or withheld.
        public var number: String?
        public var name: String?
        public var address: String?
        public var withheld: Bool
        /// How to show the caller ("Withheld number", "Alice (+15550100)"): one wording for every client.
        public var label: String
        public var state: String
        /// When the customer hung up or was handed off (ms since 1970), once they have left.
        public var leftAt: Int64?
    }

    public struct ParticipantView: Codable, Sendable, Equatable {
        public var agentId: String?
        public var number: String?
        public var role: String
        public var state: String
        public var joinedAt: Int64
        /// When the participant's state began (ms since 1970).
        public var since: Int64
        /// When the state's timer fires: a ringing offer's ring-no-answer, an owed wrap-up's auto wrap-up.
        public var deadline: Int64?
        public var wrapUpRequired: Bool
    }

    /// A supervisor on the call, as the viewer may see them.
    public struct SupervisorView: Codable, Sendable, Equatable {
        public var supervisorId: String
        /// "monitor", "coach" or "barge".
        public var mode: String
        /// "ringing" or "connected".
        public var state: String
        public var joinedAt: Int64
        /// When the present mode began.
        public var since: Int64
    }

    public var id: String
    public var version: Int
    /// When the call reached the contact center (ms since 1970).
    public var arrivedAt: Int64
    public var status: String
    public var queue: String
    public var customer: CustomerView
    public var participants: [ParticipantView]
    public var wrapUpRequired: Bool
    public var allowedActions: [String]
    /// Someone still owes a wrap-up for it.
    public var wrapUpPending: Bool
    /// Supervisors on the call: all of them for a supervisor; for an agent, a barge always and a
    /// monitor or coach only if the configuration tells agents.
    public var supervisors: [SupervisorView] = []
    /// "on", "paused" or "off": whether the call is being recorded now.
    public var recording: String = "off"

    public init(
        _ interaction: Interaction, configuration: CenterConfiguration, wrapUpRequired: Bool, allowedActions: [TaskAction],
        supervisors shown: (Monitor) -> Bool = { _ in true }
    ) {
        id = interaction.id.rawValue
        version = interaction.version
        status = interaction.status.rawValue
        queue = interaction.queue.rawValue
        arrivedAt = interaction.arrivedAt.milliseconds
        let caller = interaction.customer.caller
        customer = CustomerView(
            number: caller.number?.rawValue, name: caller.name, address: caller.address, withheld: caller.withheld,
            label: caller.label, state: interaction.customer.state.rawValue,
            leftAt: interaction.customer.state == .left ? interaction.customer.since.milliseconds : nil)
        participants = interaction.participants.map { participant in
            var view = ParticipantView(
                agentId: nil, number: nil, role: participant.role.rawValue, state: participant.state.rawValue,
                joinedAt: participant.joinedAt.milliseconds, since: participant.since.milliseconds,
                deadline: interaction.timer(for: participant, configuration)?.1.milliseconds,
                wrapUpRequired: participant.owesWrapUp)
            switch participant.party {
            case .agent(let agent): view.agentId = agent.rawValue
            case .dialNumber(let number): view.number = number.rawValue
            }
            return view
        }
        self.wrapUpRequired = wrapUpRequired
        self.allowedActions = allowedActions.map(\.rawValue)
        wrapUpPending = interaction.participants.contains { $0.owesWrapUp }
        switch configuration.recording(of: interaction) {
        case .off: recording = "off"
        case .on: recording = "on"
        case .paused: recording = "paused"
        }
        supervisors = interaction.monitors.filter(shown).map { monitor in
            SupervisorView(
                supervisorId: monitor.supervisor.rawValue, mode: monitor.mode.rawValue, state: monitor.state.rawValue,
                joinedAt: monitor.joinedAt.milliseconds, since: monitor.since.milliseconds)
        }
    }
}

/// An agent as the directory, the desktop and the event stream show it.
public struct AgentView: Encodable, Sendable, Equatable {
    public var id: String
    public var displayName: String
    public var team: String
    public var state: String
    public var idleCodeId: String?
    /// Idle chosen during a call: applied once the agent is free.
    public var pendingIdleCodeId: String?
    public var since: Int64
    /// Where the agent answers offers: "desktop" (Accept; the simulator's phone) or "phone" (their SIP phone).
    public var station: String

    public init(_ agent: CallControl.Agent, displayName: String) {
        id = agent.id.rawValue
        self.displayName = displayName
        team = agent.team.rawValue
        state = agent.status.name
        if case .idle(let code) = agent.status { idleCodeId = code.rawValue }
        pendingIdleCodeId = agent.pendingIdle?.rawValue
        since = agent.since.milliseconds
        station = agent.answerMode.rawValue
    }
}


/// One event of a task's timeline: when, its stable name (the event log's, see docs/event-log.md),
/// and the details in words.
public struct HistoryEntry: Encodable, Sendable {
    public var at: Int64
    public var event: String
    public var detail: String

    public init(_ event: Event) {
        at = event.at.milliseconds
        switch event.subject {
        case .interaction(_, let change):
            self.event = EventLog.name(of: change)
            detail = String(describing: change)
        case .agent(let agent, let change):
            self.event = EventLog.name(of: change)
            detail = "\(agent): \(change)"
        }
    }
}

extension TaskSnapshot: JSONWritable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.key("allowedActions")
            json.array(allowedActions) { json, action in json.string(action) }
            json.member("arrivedAt", arrivedAt)
            json.key("customer")
            json.object { json in
                json.member("address", customer.address)
                json.member("label", customer.label)
                json.member("leftAt", customer.leftAt)
                json.member("name", customer.name)
                json.member("number", customer.number)
                json.member("state", customer.state)
                json.member("withheld", customer.withheld)
            }
            json.member("id", id)
            json.key("participants")
            json.array(participants) { json, participant in
                json.object { json in
                    json.member("agentId", participant.agentId)
                    json.member("deadline", participant.deadline)
                    json.member("joinedAt", participant.joinedAt)
                    json.member("number", participant.number)
                    json.member("role", participant.role)
                    json.member("since", participant.since)
                    json.member("state", participant.state)
                    json.member("wrapUpRequired", participant.wrapUpRequired)
                }
            }
            json.member("queue", queue)
            json.member("recording", recording)
            json.member("status", status)
            json.key("supervisors")
            json.array(supervisors) { json, supervisor in
                json.object { json in
                    json.member("joinedAt", supervisor.joinedAt)
                    json.member("mode", supervisor.mode)
                    json.member("since", supervisor.since)
                    json.member("state", supervisor.state)
                    json.member("supervisorId", supervisor.supervisorId)
                }
            }
            json.member("version", version)
            json.member("wrapUpPending", wrapUpPending)
            json.member("wrapUpRequired", wrapUpRequired)
        }
    }
}

extension AgentView: JSONWritable {
    public func write(to json: inout JSONText) {
        json.object { json in
            json.member("displayName", displayName)
            json.member("id", id)
            json.member("idleCodeId", idleCodeId)
            json.member("pendingIdleCodeId", pendingIdleCodeId)
            json.member("since", since)
            json.member("state", state)
            json.member("station", station)
            json.member("team", team)
        }
    }
}

