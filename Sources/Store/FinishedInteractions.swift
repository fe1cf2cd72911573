import CallControl

/// A call that is over and fully wrapped up, as the list of past interactions shows it: what a
/// contact center's reports are built on, kept (with the call's events) until retention removes it.
public struct FinishedInteraction: Equatable, Sendable {
    /// One agent who was on the call, and the wrap-up reason they gave.
    public struct Handling: Equatable, Sendable {
        public var agent: AgentID
        public var wrapUpCode: WrapUpCodeID?

        public init(agent: AgentID, wrapUpCode: WrapUpCodeID?) {
            self.agent = agent
            self.wrapUpCode = wrapUpCode
        }
    }

    public var id: InteractionID
    public var queue: QueueID
    /// Who called (a number, a name, an address, or withheld).
    public var caller: Caller
    public var arrivedAt: Timestamp
    public var endedAt: Timestamp
    /// In the order they joined the call.
    public var agents: [Handling]

    public init(
        id: InteractionID, queue: QueueID, caller: Caller, arrivedAt: Timestamp, endedAt: Timestamp,
        agents: [Handling]
    ) {
        self.id = id
        self.queue = queue
        self.caller = caller
        self.arrivedAt = arrivedAt
        self.endedAt = endedAt
        self.agents = agents
    }

    /// Whether it passes the query's filters (not its paging).
    func matches(_ query: FinishedQuery) -> Bool {
        if let from = query.from, endedAt < from { return false }
        if let to = query.to, endedAt >= to { return false }
        if let queue = query.queue, self.queue != queue { return false }
        if let agent = query.agent, !agents.contains(where: { $0.agent == agent }) { return false }
        if let code = query.wrapUpCode, !agents.contains(where: { $0.wrapUpCode == code }) { return false }
        if let (endedAt, id) = query.before, (self.endedAt, self.id) >= (endedAt, id) { return false }
        return true
    }
}

/// Which finished interactions to list: newest first, those ending in [from, to), with the filters
/// given, and, for the next page, only those before the last one seen.
public struct FinishedQuery: Sendable {
    public var from: Timestamp?
    public var to: Timestamp?
    public var queue: QueueID?
    public var agent: AgentID?
    public var wrapUpCode: WrapUpCodeID?
    /// Paging: only interactions that ended before this one (its end and id).
    public var before: (Timestamp, InteractionID)?
    public var limit: Int

    public init(
        from: Timestamp? = nil, to: Timestamp? = nil, queue: QueueID? = nil, agent: AgentID? = nil,
        wrapUpCode: WrapUpCodeID? = nil, before: (Timestamp, InteractionID)? = nil, limit: Int = 50
    ) {
        self.from = from
        self.to = to
        self.queue = queue
        self.agent = agent
        self.wrapUpCode = wrapUpCode
        self.before = before
        self.limit = limit
    }
}
