import CallControl
import Foundation

/// The shell around the core: the one place that runs commands, stores their events and carries
/// out their actions. An actor, so commands on the center are applied one at a time.
public actor ContactCenter {
    public let configuration: SwitchboardConfiguration
    private var center: CallCenter
    private let store: any EventStore
    private var timers: [TimerID: Task<Void, Never>] = [:]
    /// With the built-in simulator, outside numbers answer at once.
    private let simulatedTelephony: Bool
    /// The number the next event gets in the log.
    private var nextSequence: Int
    /// Agents' display names, by id, for the views the API and the event stream show.
    private let displayNames: [String: String]
    /// Each signed-in user's event stream, by user id.
    private var feeds: [String: Feed] = [:]
    /// Set when the store refused a write: memory is then ahead of the log, so no more commands
    /// are taken until a restart rebuilds the center from the log.
    private var storeFailed = false
    /// While draining before a shutdown, new customer calls are refused; live ones carry on.
    private var draining = false
    public let metrics = ServerMetrics()
    /// Wrap-up reasons applied, per local day (days since 1970) and code: the supervisor's chart.
    private var wrapUpsByDay: [Int64: [String: Int]] = [:]

    /// Rebuilds the live center from the store's log.
    public init(configuration: SwitchboardConfiguration, store: any EventStore, simulatedTelephony: Bool) async throws {
        self.configuration = configuration
        self.store = store
        self.simulatedTelephony = simulatedTelephony
        displayNames = Dictionary(configuration.agents.map { ($0.id, $0.displayName) }, uniquingKeysWith: { first, _ in first })
        let events = try await store.all()
        center = CallCenter.replay(configuration.centerConfiguration, events)
        center.purgeFinished()
        nextSequence = events.count
        count(wrapUpsIn: events)
    }

    /// Re-arms the timers the rebuilt state needs (after a restart).
    public func start() {
        for (timer, deadline) in center.activeTimers() { arm(timer, deadline: deadline) }
    }

    public func stop() {
        for task in timers.values { task.cancel() }
        timers = [:]
        for feed in feeds.values { for subscriber in feed.subscribers.values { subscriber.finish() } }
    }

    static func now() -> Timestamp {
        Timestamp(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }

    // MARK: - Commands

    /// Runs a command: on success its events are stored before this returns. The core's part runs
    /// without suspending, so commands apply one at a time; their stores may overlap, numbered.
    /// With `viewer`, the command must be on a task that agent sees, and this also returns the task
    /// as they see it right after the command: the same version its event-stream message carries.
    @discardableResult
    public func execute(_ command: Command, from actor: Actor, viewer: AgentID? = nil) async throws
        -> (outcome: Outcome, snapshot: TaskSnapshot?)
    {
        guard !storeFailed else { throw StoreUnavailable() }
        if draining, case .customerCall = command { throw Draining() }
        // An agent may command only a task they are on (checked here, not in a second call, so a
        // request enters the actor once).
        if let viewer, let id = command.interactionID, !sees(id, viewer) { throw NotOnTask() }
        let started = ContinuousClock.now
        let outcome = center.handle(command, from: actor, at: Self.now())
        guard case .accepted(let events, let actions) = outcome else {
            metrics.commandRan(command, accepted: false, duration: ContinuousClock.now - started)
            return (outcome, nil)
        }
        // The viewer's answer: the task as they see it now, or as it was left if they left it.
        var view: TaskSnapshot?
        if let viewer, let id = command.interactionID {
            view = snapshot(id, for: viewer) ?? snapshot(id, for: nil)
        }
        let first = nextSequence
        nextSequence += events.count
        let notices = perform(actions, changed: events.compactMap(\.interactionID))
        pendingNotices.append(PendingNotices(first: first, notices: notices))
        count(wrapUpsIn: events)
        if let id = command.interactionID { center.forgetIfFinished(id) }
        do {
            let appending = ContinuousClock.now
            try await store.append(events, first: first)
            metrics.stored(events.count, duration: ContinuousClock.now - appending)
            publishDurableNotices(storedFrom: first)
        } catch {
            storeFailed = true
            throw StoreUnavailable()
        }
        metrics.commandRan(command, accepted: true, duration: ContinuousClock.now - started)
        return (outcome, view)
    }

    public struct StoreUnavailable: Error {}
    /// The agent is not on that task (or it does not exist): the API's 404.
    public struct NotOnTask: Error {}
    /// The server is draining before a shutdown and takes no new calls.
    public struct Draining: Error {}

    // MARK: - Draining

    /// Stops taking new customer calls; calls already here (queued or connected) carry on.
    public func beginDrain() { draining = true }

    /// Calls not yet over (wrap-ups still owed do not count: they are durable and survive a restart).
    public func liveCalls() -> Int {
        center.interactions.values.count { $0.status != .ended }
    }

    /// What the metrics' gauges show.
    public struct LiveFigures: Sendable {
        public var agentsByStatus: [String: Int]
        public var waitingByQueue: [String: Int]
        public var tasks: Int
        public var streams: Int
        public var draining: Bool
    }

    public func liveFigures() -> LiveFigures {
        var agents = Dictionary(uniqueKeysWithValues: ["loggedOut", "idle", "available", "reserved", "engaged", "wrapUp"].map { ($0, 0) })
        for agent in center.agents.values { agents[agent.status.name, default: 0] += 1 }
        var waiting: [String: Int] = [:]
        for queue in configuration.queues { waiting[queue.id] = center.waiting[QueueID(queue.id)]?.count ?? 0 }
        return LiveFigures(
            agentsByStatus: agents, waitingByQueue: waiting, tasks: center.interactions.count,
            streams: feeds.values.reduce(0) { $0 + $1.subscribers.count }, draining: draining)
    }

    /// A command's messages for the event streams, held until its events are durable.
    struct PendingNotices {
        var first: Int
        var notices: [(user: String, notice: Notice)]
        var durable = false
    }

    /// Held in command order: stores may complete out of order, messages never go out of order.
    private var pendingNotices: [PendingNotices] = []

    /// Marks the command whose events start at `first` as durable and sends every message that
    /// is now in order to go: a client never hears of an event the log could still lose.
    private func publishDurableNotices(storedFrom first: Int) {
        if let index = pendingNotices.firstIndex(where: { $0.first == first }) { pendingNotices[index].durable = true }
        var sent = 0
        for pending in pendingNotices {
            guard pending.durable else { break }
            for notice in pending.notices { feeds[notice.user, default: Feed()].publish(notice.notice) }
            sent += 1
        }
        pendingNotices.removeFirst(sent)
    }

    /// Carries out what the shell does at once (timers, the simulator); returns the event-stream
    /// messages, to be sent once the events are durable.
    private func perform(_ actions: [Action], changed: [InteractionID]) -> [(user: String, notice: Notice)] {
        var notices: [(user: String, notice: Notice)] = []
        for action in actions {
            switch action {
            case .startTimer(let timer, let deadline): arm(timer, deadline: deadline)
            case .cancelTimer(let timer): timers.removeValue(forKey: timer)?.cancel()
            case .ring(let id, .dialNumber):
                if simulatedTelephony {
                    Task { _ = try? await self.execute(.dialedPartyAnswered(id), from: .dialedParty) }
                }
            case .ring, .hangUp, .setMedia, .handOff:
                break  // the simulator has no media; the SIP layer will carry these out
            case .notifyAgent(let agent, let id):
                let view = snapshot(id, for: agent)
                if let view {
                    notices.append((agent.rawValue, Notice(type: "task", task: view, taskId: id.rawValue)))
                } else {
                    // The task's version at removal, so a client can order it against what it fetched.
                    let version = center.interactions[id]?.version
                    notices.append((agent.rawValue, Notice(type: "taskRemoved", taskId: id.rawValue, version: version)))
                }
            case .agentStateChanged(let agent):
                guard let view = agentView(agent) else { continue }
                for user in [agent.rawValue] + configuration.supervisors.map(\.id) {
                    notices.append((user, Notice(type: "agent", agent: view)))
                }
            }
        }
        // Supervisors see every task that changed, including calls no agent hears of (queued
        // with nobody available, abandoned in the queue).
        var seen = Set<InteractionID>()
        for id in changed where seen.insert(id).inserted {
            let view = snapshot(id, for: nil)
            for supervisor in configuration.supervisors {
                notices.append((supervisor.id, Notice(type: "task", task: view, taskId: id.rawValue)))
            }
        }
        return notices
    }

    // MARK: - Event streams

    /// Opens a session on the user's stream: the messages after `since` (none without it; nil when
    /// they are no longer all kept, see `Feed`), then everything new.
    /// `position` is the number of the user's latest message: the session has everything up to it.
    public func subscribe(_ user: String, since: Int?)
        -> (id: UUID, missed: [String]?, position: Int, stream: AsyncStream<String>)
    {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(Feed.kept))
        let id = UUID()
        var feed = feeds[user] ?? Feed()
        let missed = since.map { feed.messages(after: $0) } ?? []
        feed.subscribers[id] = continuation
        feeds[user] = feed
        return (id, missed, feed.nextSequence - 1, stream)
    }

    public func unsubscribe(_ user: String, _ id: UUID) {
        feeds[user]?.subscribers.removeValue(forKey: id)?.finish()
    }

    func agentView(_ id: AgentID) -> AgentView? {
        center.agents[id].map { AgentView($0, displayName: displayNames[id.rawValue] ?? id.rawValue) }
    }

    /// The agent's view and the task their phone is on (for `GET /v1/me`).
    func agentViewAndTask(_ id: AgentID) -> (AgentView, InteractionID?)? {
        agentView(id).map { ($0, center.agents[id]?.task) }
    }

    /// Every agent with its live state, by id.
    func agentViews() -> [AgentView] {
        center.agents.keys.sorted().compactMap(agentView)
    }

    private func arm(_ timer: TimerID, deadline: Timestamp) {
        timers[timer]?.cancel()
        let delay = max(0, deadline.milliseconds - Self.now().milliseconds)
        timers[timer] = Task {
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            await self.fire(timer)
        }
    }

    private func fire(_ timer: TimerID) async {
        timers[timer] = nil
        _ = try? await execute(.timerFired(timer), from: .timer)
    }

    // MARK: - Reading

    private func count(wrapUpsIn events: [Event]) {
        for event in events {
            guard case .interaction(_, .wrapUpApplied(_, let code, _, _)) = event.subject else { continue }
            wrapUpsByDay[Self.day(of: event.at), default: [:]][code.rawValue, default: 0] += 1
        }
    }

    /// The local calendar day a moment falls on, as days since 1970.
    static func day(of time: Timestamp) -> Int64 {
        let offset = Int64(TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: Double(time.milliseconds) / 1000)))
        let local = time.milliseconds + offset * 1000
        return local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
    }

    /// How many times each wrap-up reason was applied today (server's local day).
    public func wrapUpsToday() -> [String: Int] { wrapUpsByDay[Self.day(of: Self.now())] ?? [:] }

    public func agent(_ id: AgentID) -> CallControl.Agent? { center.agents[id] }

    /// Whether the agent is on the task, or still owes its wrap-up; supervisors (nil) see every task.
    public func sees(_ id: InteractionID, _ agent: AgentID?) -> Bool {
        guard let interaction = center.interactions[id] else { return false }
        guard let agent else { return true }
        guard let me = interaction.participant(agent: agent) else { return false }
        return me.state != .left || me.owesWrapUp
    }

    /// The task as this agent may see it (see `sees`), or nil.
    public func snapshot(_ id: InteractionID, for agent: AgentID?) -> TaskSnapshot? {
        guard sees(id, agent), let interaction = center.interactions[id] else { return nil }
        let me = agent.flatMap { interaction.participant(agent: $0) }
        return TaskSnapshot(
            interaction, configuration: center.configuration, wrapUpRequired: me?.owesWrapUp ?? false,
            allowedActions: agent.map { center.allowedActions(for: $0, in: id) } ?? [])
    }

    /// The agent's live tasks and those awaiting the agent's wrap-up; every open task for a
    /// supervisor (finished ones are forgotten once stored).
    public func tasks(for agent: AgentID?) -> [TaskSnapshot] {
        center.interactions.keys.sorted().compactMap { snapshot($0, for: agent) }
    }

    /// The task's timeline: every event stored for it, in order.
    public func history(_ id: InteractionID) async throws -> [Event] {
        try await store.events(of: id)
    }

    /// The interaction an agent's phone is on, if any.
    public func task(of agent: AgentID) -> InteractionID? { center.agents[agent]?.task }

    public func waiting(in queue: QueueID) -> [QueueEntry] { center.waiting[queue] ?? [] }
}

/// A task as the API shows it.
public struct TaskSnapshot: Codable, Sendable, Equatable {
    public struct CustomerView: Codable, Sendable, Equatable {
        public var number: String
        public var state: String
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

    public var id: String
    public var version: Int
    public var status: String
    public var queue: String
    public var customer: CustomerView
    public var participants: [ParticipantView]
    public var wrapUpRequired: Bool
    public var allowedActions: [String]
    /// Someone still owes a wrap-up for it.
    public var wrapUpPending: Bool

    init(_ interaction: Interaction, configuration: CenterConfiguration, wrapUpRequired: Bool, allowedActions: [TaskAction]) {
        id = interaction.id.rawValue
        version = interaction.version
        status = interaction.status.rawValue
        queue = interaction.queue.rawValue
        customer = CustomerView(number: interaction.customer.number.rawValue, state: interaction.customer.state.rawValue)
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
    }
}
