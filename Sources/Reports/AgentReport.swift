import CallControl

/// The agents' figures per 15-minute interval, kept from the event log like `QueueReport`: the
/// time in each state (available, ringing, on a call, in wrap-up, idle by reason), answers and
/// wrap-ups, and from them occupancy.
///
/// The agents' states are the core's own: the report keeps a replica of the center (`CallCenter`,
/// fed the same events), so a state here is exactly the state the center had. A stretch of time in
/// a state is split at the quarters' edges, each part counted in its quarter.
///
/// **Occupancy** (Amazon Connect's): time on contacts (ringing, on a call, in wrap-up) / (that +
/// time available and waiting). Idle time counts in neither.
public struct AgentReport: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var agent: AgentID
        public var start: Int64
        public init(agent: AgentID, start: Int64) { (self.agent, self.start) = (agent, start) }
        public static func < (a: Key, b: Key) -> Bool { (a.start, a.agent) < (b.start, b.agent) }
    }

    public struct Figures: Equatable, Sendable {
        public var availableMilliseconds: Int64 = 0
        public var ringingMilliseconds: Int64 = 0
        public var onCallMilliseconds: Int64 = 0
        public var wrapUpMilliseconds: Int64 = 0
        /// Idle time by reason (the reason's id: `break`, `rona`, …).
        public var idleMilliseconds: [String: Int64] = [:]
        /// Offers and consults the agent answered; wrap-ups the agent applied.
        public var answered = 0
        public var wrapUps = 0

        public init() {}

        public mutating func add(_ other: Figures) {
            availableMilliseconds += other.availableMilliseconds
            ringingMilliseconds += other.ringingMilliseconds
            onCallMilliseconds += other.onCallMilliseconds
            wrapUpMilliseconds += other.wrapUpMilliseconds
            for (code, time) in other.idleMilliseconds { idleMilliseconds[code, default: 0] += time }
            answered += other.answered
            wrapUps += other.wrapUps
        }

        public var onContactMilliseconds: Int64 { ringingMilliseconds + onCallMilliseconds + wrapUpMilliseconds }

        /// On contacts / (on contacts + available); nil when the agent was neither.
        public var occupancy: Double? {
            let total = onContactMilliseconds + availableMilliseconds
            return total > 0 ? Double(onContactMilliseconds) / Double(total) : nil
        }
    }

    /// Each agent's quarters (ms since 1970 → figures): by agent first, so a report finds an
    /// agent's team once, not once per quarter.
    public private(set) var byAgent: [AgentID: [Int64: Figures]] = [:]
    var center: CallCenter

    /// Every agent's quarters, flat.
    public var intervals: [Key: Figures] {
        var all: [Key: Figures] = [:]
        for (agent, quarters) in byAgent {
            for (start, figures) in quarters { all[Key(agent: agent, start: start)] = figures }
        }
        return all
    }

    public init(configuration: CenterConfiguration) { center = CallCenter(configuration: configuration) }

    /// Takes one committed event.
    public mutating func apply(_ event: Event) {
        // Only the agents the event can move — its own agent; those on its interaction; one it
        // offers or transfers the call to — not every agent, on every event.
        var touched: [AgentID] = []
        switch event.subject {
        case .agent(let id, _):
            touched = [id]
        case .interaction(let id, let change):
            touched = center.interactions[id]?.participants.compactMap(\.party.agent) ?? []
            switch change {
            case .offered(let agent), .consultOffered(let agent), .consultStarted(.agent(let agent)),
                .blindTransferred(.agent(let agent)):
                touched.append(agent)
            default:
                break
            }
        }
        let before = touched.compactMap { id in center.agents[id].map { (id, $0.status, $0.since) } }
        center.apply(event)
        if let id = event.interactionID { center.forgetIfFinished(id) }
        for (id, status, since) in before {
            guard let agent = center.agents[id], agent.status != status || agent.since != since else { continue }
            // The stretch in the former state ends now.
            spread(id, status, from: since, to: event.at)
        }
        if case .interaction(_, let change) = event.subject {
            switch change {
            case .accepted(let agent), .consultAnswered(.agent(let agent)):
                byAgent[agent, default: [:]][QueueReport.intervalStart(event.at), default: Figures()].answered += 1
            case .wrapUpApplied(let agent, _, _, _):
                byAgent[agent, default: [:]][QueueReport.intervalStart(event.at), default: Figures()].wrapUps += 1
            default:
                break
            }
        }
    }

    /// Adds `from`…`to` in `status` to the quarters it spans.
    private mutating func spread(_ agent: AgentID, _ status: AgentStatus, from: Timestamp, to: Timestamp) {
        var start = from.milliseconds
        let end = to.milliseconds
        // Signed out is counted nowhere: no walk over the quarters since 1970 for an agent the
        // replica has not seen sign in yet.
        guard end > start, status != .loggedOut else { return }
        var quarters = byAgent.removeValue(forKey: agent) ?? [:]  // updated in place, put back after
        while start < end {
            let quarter = QueueReport.intervalStart(Timestamp(milliseconds: start))
            let stop = min(end, quarter + QueueReport.intervalMilliseconds)
            let time = stop - start
            switch status {
            case .loggedOut: break
            case .available: quarters[quarter, default: Figures()].availableMilliseconds += time
            case .reserved: quarters[quarter, default: Figures()].ringingMilliseconds += time
            case .engaged: quarters[quarter, default: Figures()].onCallMilliseconds += time
            case .wrapUp: quarters[quarter, default: Figures()].wrapUpMilliseconds += time
            case .idle(let code): quarters[quarter, default: Figures()].idleMilliseconds[code.rawValue, default: 0] += time
            }
            start = stop
        }
        byAgent[agent] = quarters
    }

    /// Forgets the intervals that started before `cutoff` (ms): retention's, so the figures kept
    /// are bounded by the days kept, not by how long the server runs.
    public mutating func forget(before cutoff: Int64) {
        for agent in byAgent.keys { byAgent[agent] = byAgent[agent]!.filter { $0.key >= cutoff } }
    }

    /// The figures as of `now`, with each agent's present state counted up to it (a report asked
    /// for while agents are still in their states shows their time so far).
    public func intervals(asOf now: Timestamp) -> [Key: Figures] {
        var all = intervals
        for (agent, quarters) in present(asOf: now) {
            for (start, figures) in quarters { all[Key(agent: agent, start: start), default: Figures()].add(figures) }
        }
        return all
    }

    /// Only the time of each agent's present state up to `now`, by quarter: what a report adds to
    /// `byAgent` (a few entries per agent, not a copy of every interval).
    public func present(asOf now: Timestamp) -> [AgentID: [Int64: Figures]] {
        var extra = AgentReport(configuration: CenterConfiguration(agents: [], queues: [], wrapUpCodes: [], idleCodes: []))
        for (id, agent) in center.agents { extra.spread(id, agent.status, from: agent.since, to: now) }
        return extra.byAgent
    }
}
