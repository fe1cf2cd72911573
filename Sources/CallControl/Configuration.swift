/// What the core needs to know about the contact center: who the agents are, which teams serve
/// which queues, the codes agents may choose, and the desktop profile's timings.
/// (Display names, passwords and the like belong to the server's configuration, not here.)
public struct CenterConfiguration: Equatable, Sendable {
    public struct AgentProfile: Equatable, Sendable {
        public var id: AgentID
        public var team: TeamID
        public init(id: AgentID, team: TeamID) {
            self.id = id
            self.team = team
        }
    }

    public struct QueueProfile: Equatable, Sendable {
        public var id: QueueID
        /// The teams whose agents take this queue's calls.
        public var teams: [TeamID]
        public init(id: QueueID, teams: [TeamID]) {
            self.id = id
            self.teams = teams
        }
    }

    /// A supervisor, and the queues whose calls they may monitor (nil: every queue).
    public struct SupervisorProfile: Equatable, Sendable {
        public var id: SupervisorID
        public var queues: [QueueID]?
        public init(id: SupervisorID, queues: [QueueID]? = nil) {
            self.id = id
            self.queues = queues
        }
    }

    public var agents: [AgentProfile]
    public var supervisors: [SupervisorProfile]
    /// Supervisors a call may have on it at once (monitoring, coaching or barged in).
    public var monitorsPerCall: Int
    /// Queues whose calls are recorded (from an agent's answer until the customer's contact ends).
    public var recordedQueues: Set<QueueID>
    public var queues: [QueueProfile]
    public var wrapUpCodes: [WrapUpCodeID]
    /// Idle codes an agent may pick. The first one is the state an agent signs in to.
    public var idleCodes: [IdleCodeID]
    /// How long an offer rings before it is redirected (RONA).
    public var ringNoAnswerMilliseconds: Int64
    /// How long an agent may stay in wrap-up before the default code is applied; nil: never.
    public var autoWrapUpMilliseconds: Int64?
    public var defaultWrapUpCode: WrapUpCodeID
    /// Parties a conference may hold, the customer included. The spec's conference has three.
    public var maxConferenceParties: Int

    /// The idle code the system gives an agent who let an offer ring out.
    public static let ringNoAnswerIdleCode: IdleCodeID = "rona"
    /// The idle code the system gives an available agent whose phone stopped being registered.
    public static let phoneLostIdleCode: IdleCodeID = "phoneLost"
    /// The idle code the system gives an available agent whose browser station went away (the tab
    /// closed, the network lost).
    public static let browserLostIdleCode: IdleCodeID = "browserLost"
    /// The idle code the system gives an available agent whose desktops have all been closed
    /// for the grace period.
    public static let desktopLostIdleCode: IdleCodeID = "desktopClosed"

    public init(
        agents: [AgentProfile],
        queues: [QueueProfile],
        wrapUpCodes: [WrapUpCodeID],
        idleCodes: [IdleCodeID],
        ringNoAnswerMilliseconds: Int64 = 15_000,
        autoWrapUpMilliseconds: Int64? = 120_000,
        defaultWrapUpCode: WrapUpCodeID? = nil,
        maxConferenceParties: Int = 3,
        supervisors: [SupervisorProfile] = [],
        monitorsPerCall: Int = 1,
        recordedQueues: Set<QueueID> = []
    ) {
        self.recordedQueues = recordedQueues
        self.agents = agents
        self.supervisors = supervisors
        self.monitorsPerCall = monitorsPerCall
        self.queues = queues
        self.wrapUpCodes = wrapUpCodes
        self.idleCodes = idleCodes
        self.ringNoAnswerMilliseconds = ringNoAnswerMilliseconds
        self.autoWrapUpMilliseconds = autoWrapUpMilliseconds
        self.defaultWrapUpCode = defaultWrapUpCode ?? wrapUpCodes.first ?? "default"
        self.maxConferenceParties = maxConferenceParties
    }

    /// The problems that make a configuration unusable, each naming the field at fault.
    public func problems() -> [ConfigurationProblem] {
        var found: [ConfigurationProblem] = []
        func duplicates<ID: Identifier>(_ ids: [ID]) -> [ID] {
            var seen = Set<ID>()
            return ids.filter { !seen.insert($0).inserted }
        }
        func tooLong<ID: Identifier>(_ ids: [ID], _ field: String) {
            for id in ids where !id.isValid {
                found.append(
                    .init(field: field, message: "'\(id)…' is longer than \(PackedName.capacity) bytes"))
            }
        }
        tooLong(agents.map(\.id), "agents")
        tooLong(agents.map(\.team), "teams")
        tooLong(queues.map(\.id), "queues")
        tooLong(wrapUpCodes, "wrapUpCodes")
        tooLong(idleCodes, "idleCodes")
        for id in duplicates(agents.map(\.id)) {
            found.append(.init(field: "agents", message: "agent '\(id)' is listed twice"))
        }
        for id in duplicates(queues.map(\.id)) {
            found.append(.init(field: "queues", message: "queue '\(id)' is listed twice"))
        }
        let teams = Set(agents.map(\.team))
        for queue in queues {
            if queue.teams.isEmpty {
                found.append(.init(field: "queues.\(queue.id).teams", message: "no team serves this queue"))
            }
            for team in queue.teams where !teams.contains(team) {
                found.append(.init(field: "queues.\(queue.id).teams", message: "team '\(team)' has no agents"))
            }
        }
        if wrapUpCodes.isEmpty {
            found.append(.init(field: "wrapUpCodes", message: "at least one wrap-up code is required"))
        }
        if !wrapUpCodes.contains(defaultWrapUpCode) {
            found.append(
                .init(field: "defaultWrapUpCode", message: "'\(defaultWrapUpCode)' is not one of the wrap-up codes"))
        }
        if idleCodes.isEmpty {
            found.append(.init(field: "idleCodes", message: "at least one idle code is required"))
        }
        if idleCodes.contains(Self.ringNoAnswerIdleCode) {
            found.append(
                .init(field: "idleCodes", message: "'\(Self.ringNoAnswerIdleCode)' is reserved for ring-no-answer"))
        }
        if idleCodes.contains(Self.phoneLostIdleCode) {
            found.append(.init(field: "idleCodes", message: "'\(Self.phoneLostIdleCode)' is reserved for a phone that is gone"))
        }
        if idleCodes.contains(Self.browserLostIdleCode) {
            found.append(.init(field: "idleCodes", message: "'\(Self.browserLostIdleCode)' is reserved for a browser station that is gone"))
        }
        if idleCodes.contains(Self.desktopLostIdleCode) {
            found.append(.init(field: "idleCodes", message: "'\(Self.desktopLostIdleCode)' is reserved for a desktop that is gone"))
        }
        if ringNoAnswerMilliseconds <= 0 {
            found.append(.init(field: "ringNoAnswerSeconds", message: "must be greater than zero"))
        }
        if let auto = autoWrapUpMilliseconds, auto <= 0 {
            found.append(.init(field: "autoWrapUpSeconds", message: "must be greater than zero"))
        }
        if maxConferenceParties < 3 {
            found.append(.init(field: "maxConferenceParticipants", message: "must be at least 3"))
        }
        tooLong(supervisors.map(\.id), "supervisors")
        let queueIDs = Set(queues.map(\.id))
        for supervisor in supervisors {
            for queue in supervisor.queues ?? [] where !queueIDs.contains(queue) {
                found.append(.init(field: "supervisors.\(supervisor.id).queues", message: "no such queue '\(queue)'"))
            }
        }
        if monitorsPerCall < 1 {
            found.append(.init(field: "monitoring.monitorsPerCall", message: "must be at least 1"))
        }
        return found
    }
}

public struct ConfigurationProblem: Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var message: String
    public var description: String { "\(field): \(message)" }

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
