/// The whole contact center as a value: agents, queues and interactions.
///
/// `handle(_:from:at:)` checks a command against the rules (`Rules.swift`), turns it into
/// events, applies them, lets routing offer waiting calls, and returns the events with the
/// actions the shell must carry out. `apply(_:)` is the only mutator, so replaying the events
/// from empty rebuilds the same center.
public struct CallCenter: Equatable, Sendable {
    public let configuration: CenterConfiguration
    public private(set) var agents: [AgentID: Agent]
    public private(set) var interactions: [InteractionID: Interaction]
    /// Waiting calls and consult requests, per queue, first in line first.
    public private(set) var waiting: [QueueID: [QueueEntry]]

    let teamsOfQueue: [QueueID: [TeamID]]
    /// The queues each team serves, in configuration order.
    let queuesOfTeam: [TeamID: [QueueID]]
    let wrapUpCodes: Set<WrapUpCodeID>
    let idleCodes: Set<IdleCodeID>
    /// Each team's available agents, longest available first: routing's index, derived from
    /// `agents` (kept in step by `store(_:)`).
    private var availableByTeam: [TeamID: [AgentID]] = [:]
    /// Queues that gained an entry or whose teams gained a free agent: where routing should look.
    private var queuesToRoute: [QueueID] = []

    /// Two centers are equal when their agents, queues and interactions are (routing's
    /// bookkeeping does not count).
    public static func == (lhs: CallCenter, rhs: CallCenter) -> Bool {
        lhs.agents == rhs.agents && lhs.interactions == rhs.interactions && lhs.waiting == rhs.waiting
            && lhs.configuration == rhs.configuration
    }

    public init(configuration: CenterConfiguration) {
        self.configuration = configuration
        var agents: [AgentID: Agent] = [:]
        for profile in configuration.agents {
            agents[profile.id] = Agent(
                id: profile.id, team: profile.team, status: .loggedOut, since: Timestamp(milliseconds: 0))
        }
        self.agents = agents
        self.interactions = [:]
        self.waiting = Dictionary(uniqueKeysWithValues: configuration.queues.map { ($0.id, []) })
        self.teamsOfQueue = Dictionary(uniqueKeysWithValues: configuration.queues.map { ($0.id, $0.teams) })
        var queuesOfTeam: [TeamID: [QueueID]] = [:]
        for queue in configuration.queues {
            for team in queue.teams where queuesOfTeam[team]?.contains(queue.id) != true {
                queuesOfTeam[team] = (queuesOfTeam[team] ?? []) + [queue.id]
            }
        }
        self.queuesOfTeam = queuesOfTeam
        self.wrapUpCodes = Set(configuration.wrapUpCodes)
        self.idleCodes = Set(configuration.idleCodes)
    }

    /// Rebuilds a center from its parts, as a snapshot of its live state keeps them (agents and
    /// queues the configuration no longer has are left out). Routing's index is derived again.
    public init(
        configuration: CenterConfiguration, agents: [Agent], interactions: [Interaction], waiting: [QueueID: [QueueEntry]]
    ) {
        self.init(configuration: configuration)
        for var agent in agents {
            guard let configured = self.agents[agent.id] else { continue }
            agent.team = configured.team
            self.agents[agent.id] = agent
        }
        self.interactions = Dictionary(interactions.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        for (queue, entries) in waiting where self.waiting[queue] != nil { self.waiting[queue] = entries }
        for agent in self.agents.values.filter({ $0.status == .available }).sorted(by: { ($0.since, $0.id) < ($1.since, $1.id) }) {
            if availableByTeam[agent.team] == nil { availableByTeam[agent.team] = [] }
            availableByTeam[agent.team]!.append(agent.id)
        }
    }

    /// Rebuilds a center from its events.
    public static func replay(_ configuration: CenterConfiguration, _ events: some Sequence<Event>) -> CallCenter {
        var center = CallCenter(configuration: configuration)
        for event in events { center.apply(event) }
        return center
    }

    // MARK: - Commands

    public mutating func handle(_ command: Command, at time: Timestamp) -> Outcome {
        let decision: Decision
        switch decide(command, at: time) {
        case .success(let made): decision = made
        case .failure(let rejection): return .rejected(rejection)
        }
        var log = ChangeLog()
        let event = Event(at: time, decision.event)
        apply(event, log: &log)
        var events = [event]
        if !queuesToRoute.isEmpty { route(at: time, into: &events, log: &log) }
        return .accepted(events: events, actions: actions(for: log, decision: decision))
    }

    /// The Agent Desktop controls this agent may use on this interaction right now.
    public func allowedActions(for agent: AgentID, in interaction: InteractionID) -> [TaskAction] {
        guard let interaction = interactions[interaction] else { return [] }
        return TaskAction.allCases.filter { permission($0, for: agent, in: interaction) == nil }
    }

    /// Every timer the live state needs, with its deadline: what a restarted shell re-arms.
    public func activeTimers() -> [(TimerID, Timestamp)] {
        interactions.keys.sorted().flatMap { interactions[$0]!.timers(configuration) }
    }

    /// Forgets interactions that are over and fully wrapped up (their history lives in the store).
    public mutating func purgeFinished() {
        interactions = interactions.filter { !$0.value.isFinished }
    }

    /// Forgets this interaction if it is over and fully wrapped up: what a shell calls after each
    /// command's events are stored, so memory holds only live work.
    /// Returns the interaction forgotten, if it was.
    @discardableResult
    public mutating func forgetIfFinished(_ id: InteractionID) -> Interaction? {
        guard interactions[id]?.isFinished == true else { return nil }
        return interactions.removeValue(forKey: id)
    }

    // MARK: - Applying events

    public mutating func apply(_ event: Event) {
        var log = ChangeLog()
        apply(event, log: &log)
    }

    private mutating func apply(_ event: Event, log: inout ChangeLog) {
        switch event.subject {
        case .agent(let id, let change):
            // The agents are fixed by the configuration, so a position in `agents` never goes stale.
            guard let slot = agents.index(forKey: id) else { return }
            var agent = agents.values[slot]
            log.recordAgent(agent, at: slot)
            let wasAvailable = agent.status == .available
            switch change {
            case .loggedIn:
                agent.status = .idle(configuration.idleCodes.first ?? CenterConfiguration.ringNoAnswerIdleCode)
                agent.since = event.at
            case .loggedOut:
                agent.status = .loggedOut
                agent.pendingIdle = nil
                agent.since = event.at
            case .becameAvailable:
                if agent.task == nil {
                    agent.status = .available
                    agent.since = event.at
                }
                agent.pendingIdle = nil
            case .wentIdle(let code):
                agent.status = .idle(code)
                agent.since = event.at
            case .idleRequested(let code):
                agent.pendingIdle = code
            case .answerModeSet(let mode):
                agent.answerMode = mode
            }
            store(agent, at: slot, wasAvailable: wasAvailable)

        case .interaction(let id, let change):
            // Only a command's first event can add an interaction, so a position taken after it
            // stays valid for the rest of the command (the change log keeps it for the actions).
            let before: Interaction?
            let slot: Dictionary<InteractionID, Interaction>.Index
            if let found = interactions.index(forKey: id) {
                slot = found
                before = interactions.values[found]
                interactions.values[found].apply(change, at: event.at)  // in place
            } else {
                guard let created = Interaction(id: id, first: change, at: event.at) else { return }
                before = nil
                interactions[id] = created
                slot = interactions.index(forKey: id)!
            }
            log.recordInteraction(before, at: slot)
            updateWaiting(id, before: before, after: interactions.values[slot], change: change, at: event.at)
            // Agents whose place on the call changed follow it.
            let participants = interactions.values[slot].participants
            for (index, participant) in participants.enumerated() {
                let earlier = before?.participant(participant.party, hint: index)
                if earlier?.state != participant.state || earlier?.owesWrapUp != participant.owesWrapUp {
                    syncAgent(participant.party, to: participant, on: id, change: change, at: event.at, log: &log)
                }
            }
            for (index, participant) in (before?.participants ?? []).enumerated()
            where index >= participants.count || participants[index].party != participant.party {
                if !participants.contains(where: { $0.party == participant.party }) {
                    syncAgent(participant.party, to: nil, on: id, change: change, at: event.at, log: &log)
                }
            }
        }
    }

    /// Keeps an agent's status in step with its place on an interaction.
    private mutating func syncAgent(
        _ party: Party, to place: Participant?, on interaction: InteractionID, change: InteractionEvent,
        at time: Timestamp, log: inout ChangeLog
    ) {
        guard case .agent(let id) = party, let slot = agents.index(forKey: id) else { return }
        var agent = agents.values[slot]
        let wasAvailable = agent.status == .available
        let wanted: AgentStatus?
        switch place?.state {
        case .ringing: wanted = .reserved(interaction)
        case .connected, .held: wanted = .engaged(interaction)
        case .left: wanted = place!.owesWrapUp ? .wrapUp(interaction) : nil
        case nil: wanted = nil
        }
        if let wanted {
            guard agent.status != wanted else { return }
            log.recordAgent(agent, at: slot)
            agent.status = wanted
        } else {
            guard agent.task == interaction else { return }  // already free, or busy elsewhere
            log.recordAgent(agent, at: slot)
            if change.rangOut == id {
                agent.status = .idle(CenterConfiguration.ringNoAnswerIdleCode)
            } else if let code = agent.pendingIdle {
                agent.status = .idle(code)
            } else {
                agent.status = .available
            }
            agent.pendingIdle = nil
        }
        agent.since = time
        store(agent, at: slot, wasAvailable: wasAvailable)
    }

    /// Saves an agent, keeping the available-agents index and routing's to-do list in step.
    private mutating func store(_ agent: Agent, at slot: Dictionary<AgentID, Agent>.Index, wasAvailable: Bool) {
        let isAvailable = agent.status == .available
        agents.values[slot] = agent
        guard wasAvailable != isAvailable else { return }
        if isAvailable {
            // Usually the newest: find the place from the back, ordered by (since, id).
            let list = availableByTeam[agent.team] ?? []
            var index = list.endIndex
            while index > list.startIndex, let other = agents[list[index - 1]],
                (agent.since, agent.id) < (other.since, other.id)
            {
                index -= 1
            }
            if availableByTeam[agent.team] == nil { availableByTeam[agent.team] = [] }
            availableByTeam[agent.team]!.insert(agent.id, at: index)  // in place
            for queue in queuesOfTeam[agent.team] ?? [] where !queuesToRoute.contains(queue) {
                queuesToRoute.append(queue)
            }
        } else {
            availableByTeam[agent.team]?.removeAll { $0 == agent.id }
        }
    }

    /// Keeps the queues in step with where each interaction waits.
    private mutating func updateWaiting(
        _ id: InteractionID, before: Interaction?, after: Interaction, change: InteractionEvent, at time: Timestamp
    ) {
        let was = before.flatMap { old in old.waitingSpot.map { (old.waitingQueue!, $0) } }
        let now = after.waitingSpot.map { (after.waitingQueue!, $0) }
        guard was?.0 != now?.0 || was?.1 != now?.1 else { return }
        if let (queue, _) = was {
            waiting[queue]?.removeAll { $0.interaction == id }
        }
        if let (queue, purpose) = now {
            let entry = QueueEntry(
                interaction: id, purpose: purpose, since: purpose == .call ? after.arrivedAt : time)
            // A ring-out keeps its place at the head of the line.
            if change.rangOut != nil { waiting[queue]?.insert(entry, at: 0) } else { waiting[queue]?.append(entry) }
            if !queuesToRoute.contains(queue) { queuesToRoute.append(queue) }
        }
    }

    // MARK: - Routing

    /// Offers waiting calls and consult requests to the longest-available agent of a team that
    /// serves the queue, until no queue has both a waiting entry and a free agent.
    private mutating func route(at time: Timestamp, into events: inout [Event], log: inout ChangeLog) {
        while !queuesToRoute.isEmpty {
            let queue = queuesToRoute.removeFirst()
            while let entry = waiting[queue]?.first, let agent = longestAvailable(serving: queue) {
                let offer: InteractionEvent = entry.purpose == .call ? .offered(to: agent) : .consultOffered(to: agent)
                let event = Event(at: time, .interaction(entry.interaction, offer))
                apply(event, log: &log)
                events.append(event)
            }
        }
    }

    private func longestAvailable(serving queue: QueueID) -> AgentID? {
        var best: Agent?
        for team in teamsOfQueue[queue] ?? [] {
            guard let first = availableByTeam[team]?.first, let agent = agents[first] else { continue }
            if let current = best, (current.since, current.id) <= (agent.since, agent.id) { continue }
            best = agent
        }
        return best?.id
    }
}

/// What one command touched, recorded before it changed, so the actions can be derived by
/// comparing before with after.
/// Most commands touch one interaction and an agent or two, so the first of each is kept inline
/// (no allocation on the hot path), with its position in the center's dictionary.
struct ChangeLog {
    typealias InteractionSlot = Dictionary<InteractionID, Interaction>.Index
    typealias AgentSlot = Dictionary<AgentID, Agent>.Index

    private var firstInteraction: (Interaction?, InteractionSlot)?
    private var moreInteractions: [(Interaction?, InteractionSlot)] = []
    private var firstAgent: (Agent, AgentSlot)?
    private var moreAgents: [(Agent, AgentSlot)] = []

    mutating func recordInteraction(_ value: Interaction?, at slot: InteractionSlot) {
        guard let first = firstInteraction else {
            firstInteraction = (value, slot)
            return
        }
        if first.1 != slot, !moreInteractions.contains(where: { $0.1 == slot }) { moreInteractions.append((value, slot)) }
    }

    mutating func recordAgent(_ agent: Agent, at slot: AgentSlot) {
        guard let first = firstAgent else {
            firstAgent = (agent, slot)
            return
        }
        if first.1 != slot, !moreAgents.contains(where: { $0.1 == slot }) { moreAgents.append((agent, slot)) }
    }

    /// Each touched interaction as it was before the command, with its position.
    func forEachInteraction(_ body: (Interaction?, InteractionSlot) -> Void) {
        if let (value, slot) = firstInteraction { body(value, slot) }
        for (value, slot) in moreInteractions { body(value, slot) }
    }

    /// Each touched agent as it was before the command, with its position.
    func forEachAgent(_ body: (Agent, AgentSlot) -> Void) {
        if let (agent, slot) = firstAgent { body(agent, slot) }
        for (agent, slot) in moreAgents { body(agent, slot) }
    }
}
