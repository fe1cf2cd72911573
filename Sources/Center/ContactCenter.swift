import CallControl
import Foundation
import Reports
import Store

/// The shell around the core: the one place that runs commands, stores their events and carries
/// out their actions. An actor, so commands on the center are applied one at a time.
///
/// A command's effects leave in command order and only once its events are durable: messages to
/// the event streams, and line actions to the telephony. Timers are armed at once (a timer that
/// fires early is refused by the core) on one scheduler driven by the injected clock.
public actor ContactCenter {
    public nonisolated let configuration: SwitchboardConfiguration
    private(set) var center: CallCenter
    let store: any CenterStore
    private let telephony: any Telephony
    let clock: any CenterClock
    /// Armed timers and their deadlines, kept here and, while running, in the server's one queue
    /// of deadlines (`deadlines`, which the SIP layer's timers share).
    private var timers: [TimerID: Timestamp] = [:]
    /// The server's deadlines: one heap, one sleeping task on the clock, for every part of it.
    public nonisolated let deadlines: Deadlines
    /// The center's place in `deadlines` (registered at start), and the queue's sleeping task.
    var deadlineOwner: Deadlines.Owner?
    private var deadlineRunner: Task<Void, Never>?
    enum Due: Hashable, Sendable {
        case timer(TimerID)
        case desktopGrace(AgentID)
    }
    /// False until `start()` and after `stop()`: timers are kept but not run.
    private var running = false
    /// The number the next event gets in the log.
    private var nextSequence: Int
    /// Agents' display names, by id, for the views the API and the event stream show.
    private let displayNames: [String: String]
    /// Each signed-in user's event stream, by user id.
    var feeds: [String: Feed] = [:]
    /// The first log number this node's own commands took (set by `start()`): its feeds hold
    /// every message numbered from there on.
    var servingSince = Int.max
    /// Calls that finished lately (here, or on the node this one followed), for desktops that
    /// catch up from before this node served (`catchUp`).
    var recentEndings = RecentEndings(knownFrom: Int.max)
    /// Set when the store refused a write: memory is then ahead of the log, so no more commands
    /// are taken until a restart rebuilds the center from the log.
    private var storeFailed = false
    /// While draining before a shutdown, new customer calls are refused; live ones carry on.
    private var draining = false
    /// Who waits for the last live call to end (the drain).
    private var noLiveCallWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    public nonisolated let metrics = ServerMetrics()
    /// How long an available agent's desktops may all be closed before the agent goes idle.
    let desktopGrace: Duration
    /// Agents with no desktop open, and when their grace period ends (woken with the timers).
    var desktopDeadlines: [AgentID: Timestamp] = [:]

    /// Rebuilds the live center from the store's log and attaches the telephony. Timers start
    /// with `start()`.
    public init(
        configuration: SwitchboardConfiguration, store: any CenterStore, telephony: any Telephony,
        clock: any CenterClock = SystemClock(), retentionDays: Int = 90, desktopGrace: Duration = .seconds(60)
    ) async throws {
        self.configuration = configuration
        self.desktopGrace = desktopGrace
        retentionMilliseconds = Int64(retentionDays) * 86_400_000
        self.store = store
        self.telephony = telephony
        self.clock = clock
        deadlines = Deadlines(clock: clock)
        displayNames = Dictionary(configuration.agents.map { ($0.id, $0.displayName) }, uniquingKeysWith: { first, _ in first })
        // The newest usable snapshot, then the events after it; without one, the whole log.
        nextSequence = try await store.nextSequence()
        let restored = try await Self.restore(from: store, configuration.centerConfiguration, upTo: nextSequence)
        center = restored?.center ?? CallCenter(configuration: configuration.centerConfiguration)
        restoredFromSnapshot = restored?.through
        snapshotThrough = restored?.through
        let events = try await store.events(from: restored?.through ?? 0)
        for event in events { center.apply(event) }
        // The reports are a projection of the whole log (what retention keeps).
        queueReport = QueueReport(settings: configuration.queueReportSettings)
        agentReport = AgentReport(configuration: configuration.centerConfiguration)
        reporting = configuration.reports?.enabled ?? true
        if reporting { report(restored == nil ? events : try await store.events(from: 0)) }
        center.purgeFinished()
        replayedEvents = events.count
        durableThrough = nextSequence
        recentEndings = RecentEndings(knownFrom: nextSequence)
        for (timer, deadline) in center.activeTimers() { timers[timer] = deadline }
        telephony.attach(to: self)
    }

    /// A standby's step (docs/ha.md): events another node appended, with their numbers, applied
    /// as a restart would apply them — to the live state, the reports and the timers to arm — so
    /// that taking over needs no replay. Only before `start()`: a running center writes its own.
    public func follow(_ numbered: [(sequence: Int, event: Event)]) throws {
        guard !running else { throw FollowingWhileRunning() }
        guard let first = numbered.first, let last = numbered.last else { return }
        // A gap is a write that failed on the other node: the log, not a count, is the truth.
        guard first.sequence >= nextSequence else { throw FollowedOutOfOrder(expected: nextSequence, got: first.sequence) }
        let events = numbered.map(\.event)
        for (sequence, event) in numbered {
            center.apply(event)
            if let id = event.interactionID, let finished = center.forgetIfFinished(id) { recentEndings.record(finished, at: sequence) }
        }
        report(events)
        nextSequence = last.sequence + 1
        durableThrough = nextSequence
        timers = Dictionary(center.activeTimers(), uniquingKeysWith: { _, newer in newer })
        // Retention runs on the active node; a standby that stays one for months bounds its
        // reports itself, by the same cutoff, about once an hour of the log's time.
        let latest = last.event.at.milliseconds
        if latest - reportsForgottenAt >= 3_600_000 {
            forgetReports(before: latest - retentionMilliseconds)
            reportsForgottenAt = latest
        }
    }

    /// When (log time) a standby last forgot report intervals past retention.
    private var reportsForgottenAt: Int64 = 0

    public struct FollowingWhileRunning: Error {}
    public struct FollowedOutOfOrder: Error {
        public var expected: Int
        public var got: Int
    }

    /// Whether a write to the store failed: the center takes no command until it is rebuilt from
    /// the log (a pair's node then restarts itself, docs/ha.md).
    public var storeHasFailed: Bool { storeFailed }

    /// The number the next event gets (a standby follows the log from here).
    public var sequence: Int { nextSequence }

    /// Where the start began: the snapshot's `through`, or nil for a full replay of the log.
    public private(set) var restoredFromSnapshot: Int?
    /// How many events the start replayed (after the snapshot, if any).
    public private(set) var replayedEvents = 0

    /// The newest snapshot if it can be used: of this schema, readable, and not
    /// ahead of the log (a snapshot is taken only of durable events, so one ahead is damaged).
    private static func restore(from store: any CenterStore, _ configuration: CenterConfiguration, upTo next: Int)
        async throws -> (center: CallCenter, through: Int)?
    {
        guard let stored = try? await store.latestSnapshot(), stored.schema == CenterSnapshot.schema, stored.through <= next,
            let snapshot = try? CenterSnapshot.decode(stored.body), let center = try? snapshot.center(configuration)
        else { return nil }
        return (center, stored.through)
    }

    /// Writes a snapshot of the live state: taken at once (the center is a value, so this is a
    /// copy), encoded and stored off the actor once every event it stands for is durable. Commands
    /// go on meanwhile. Returns the snapshot's `through`.
    @discardableResult
    public nonisolated func writeSnapshot() async throws -> Int {
        let (state, through, at) = await capture()
        guard await durable(through: through) else { throw StoreUnavailable() }
        let body = try CenterSnapshot(state).encoded()
        try await store.saveSnapshot(StoredSnapshot(through: through, schema: CenterSnapshot.schema, at: at, body: body))
        await snapshotted(through: through)
        return through
    }

    /// The `through` of the newest snapshot stored (or restored from).
    private var snapshotThrough: Int?

    private func snapshotted(through: Int) { snapshotThrough = max(snapshotThrough ?? through, through) }

    /// Whether events were stored since the newest snapshot (or there is none).
    public func hasEventsSinceSnapshot() -> Bool { snapshotThrough != nextSequence }

    /// The live state itself (for tests).
    func liveState() -> CallCenter { center }

    private func capture() -> (CallCenter, Int, Timestamp) {
        (center, nextSequence, clock.now())
    }

    /// Every event numbered below this one is durable.
    var durableThrough = 0
    private var durableWaiters: [(through: Int, waiter: CheckedContinuation<Void, Never>)] = []

    /// Returns once every event below `through` is durable: true, or false if the store failed first.
    private func durable(through: Int) async -> Bool {
        if durableThrough < through, !storeFailed {
            await withCheckedContinuation { durableWaiters.append((through, $0)) }
        }
        return !storeFailed
    }

    /// Runs the timers the rebuilt state needs (after a restart, those already due fire now), and
    /// the server's queue of deadlines.
    public func start() {
        running = true
        servingSince = nextSequence
        let owner = deadlineOwner ?? deadlines.register { [weak self] due in await self?.fire(due) }
        deadlineOwner = owner
        for (timer, deadline) in timers { deadlines.set(Due.timer(timer), at: deadline, for: owner) }
        // No desktop is connected yet (after a restart, none is): every signed-in agent's grace
        // period starts now.
        for agent in center.agents.values where agent.status == .available && !hasDesktop(agent.id) {
            armDesktopGrace(agent.id)
        }
        let deadlines = deadlines
        deadlineRunner = deadlineRunner ?? Task { await deadlines.run() }
    }

    /// Stops the timers and closes every event stream; returns once every command already
    /// numbered is durable (a timer firing at that moment included), so the store can close.
    public func stop() async {
        running = false
        deadlineRunner?.cancel()
        deadlineRunner = nil
        closeStreams()
        _ = await durable(through: nextSequence)
    }

    /// Ends every open event stream (before the HTTP server stops, which waits for them).
    public func closeStreams() {
        for feed in feeds.values { for subscriber in feed.subscribers.values { subscriber.finish() } }
    }

    public nonisolated func now() -> Timestamp { clock.now() }

    // MARK: - Commands

    /// Runs a command: on success its events are stored before this returns. The core's part runs
    /// without suspending, so commands apply one at a time; their stores may overlap, numbered.
    /// With `viewer`, the command must be on a task that agent sees, and this also returns the task
    /// as they see it right after the command: the same version its event-stream message carries.
    @discardableResult
    public func execute(_ command: Command, viewer: AgentID? = nil) async throws
        -> (outcome: Outcome, snapshot: TaskSnapshot?)
    {
        guard !storeFailed else { throw StoreUnavailable() }
        if draining, case .arrival = command { throw Draining() }
        // An agent may command only a task they are on (checked here, not in a second call, so a
        // request enters the actor once).
        if let viewer, let id = command.interactionID, !sees(id, viewer) { throw NotOnTask() }
        let started = ContinuousClock.now
        let outcome = center.handle(command, at: clock.now())
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
        pendingEffects.append(perform(actions, changed: events.compactMap(\.interactionID), first: first, last: nextSequence - 1))
        report(events)
        let finished = command.interactionID.flatMap { center.forgetIfFinished($0) }
        if let finished { recentEndings.record(finished, at: nextSequence - 1) }
        if !noLiveCallWaiters.isEmpty, liveCalls() == 0 {
            for waiter in noLiveCallWaiters.values { waiter.resume() }
            noLiveCallWaiters = [:]
        }
        do {
            let appending = ContinuousClock.now
            try await store.append(events, first: first, finishing: finished.map { [summary($0, endedAt: events.last!.at)] } ?? [])
            metrics.stored(events.count, duration: ContinuousClock.now - appending)
            releaseDurableEffects(storedFrom: first)
        } catch {
            storeFailed = true
            for (_, waiter) in durableWaiters { waiter.resume() }  // they will find the store failed
            durableWaiters = []
            throw StoreUnavailable()
        }
        metrics.commandRan(command, accepted: true, duration: ContinuousClock.now - started)
        return (outcome, view)
    }

    /// A finished call as the list of past interactions keeps it: stored with the command's
    /// events that finish it, all or nothing.
    private func summary(_ interaction: Interaction, endedAt end: Timestamp) -> FinishedInteraction {
        FinishedInteraction(
            id: interaction.id, queue: interaction.queue, caller: interaction.customer.caller,
            arrivedAt: interaction.arrivedAt, endedAt: end,
            agents: interaction.participants.compactMap { participant in
                participant.party.agent.map { FinishedInteraction.Handling(agent: $0, wrapUpCode: participant.wrapUpCode) }
            })
    }

    /// Past interactions, newest first; an agent (`viewer`) sees only their own.
    public func finishedInteractions(_ query: FinishedQuery, viewer: AgentID?) async throws -> [FinishedInteraction] {
        var query = query
        if let viewer { query.agent = viewer }
        return try await store.finished(query)
    }

    /// How long finished calls' events are kept.
    public nonisolated let retentionMilliseconds: Int64

    /// Whether this task, if it existed, is older than what is kept (ids tell their arrival time).
    public func isPastRetention(_ id: InteractionID) -> Bool {
        guard let arrived = id.arrivalTime else { return false }
        return arrived.milliseconds < clock.now().milliseconds - retentionMilliseconds
    }

    /// Removes what retention no longer keeps (see `EventStore.purge`); returns how many calls went.
    public nonisolated func applyRetention() async throws -> Int {
        let cutoff = clock.now().adding(milliseconds: -retentionMilliseconds)
        await forgetReports(before: cutoff.milliseconds)
        return try await store.purge(endedBefore: cutoff)
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

    /// Returns once no call is live (at once if none is), or when the waiting task is cancelled.
    public func noLiveCalls() async {
        guard liveCalls() > 0 else { return }
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                if Task.isCancelled { waiter.resume() } else { noLiveCallWaiters[id] = waiter }
            }
        } onCancel: {
            Task { await self.releaseWaiter(id) }
        }
    }

    private func releaseWaiter(_ id: Int) {
        noLiveCallWaiters.removeValue(forKey: id)?.resume()
    }

    /// What the metrics' gauges show.
    public struct LiveFigures: Sendable {
        public var agentsByStatus: [String: Int]
        public var waitingByQueue: [String: Int]
        public var tasks: Int
        public var streams: Int
        public var draining: Bool
        /// Per queue: the oldest waiting call's wait (s), and today's figures.
        public var oldestWaitSecondsByQueue: [String: Double] = [:]
        public var todayByQueue: [String: QueueReport.Figures] = [:]
        public var abandons: QueueReport.AbandonTreatment = .counted
    }

    public func liveFigures() -> LiveFigures {
        var agents = Dictionary(uniqueKeysWithValues: ["loggedOut", "idle", "available", "reserved", "engaged", "wrapUp"].map { ($0, 0) })
        for agent in center.agents.values { agents[agent.status.name, default: 0] += 1 }
        var waiting: [String: Int] = [:]
        for queue in configuration.queues { waiting[queue.id] = center.waiting[QueueID(queue.id)]?.count ?? 0 }
        var oldest: [String: Double] = [:]
        let now = clock.now().milliseconds
        for queue in configuration.queues {
            let since = center.waiting[QueueID(queue.id)]?.map(\.since.milliseconds).min()
            oldest[queue.id] = since.map { Double(max(0, now - $0)) / 1000 } ?? 0
        }
        return LiveFigures(
            agentsByStatus: agents, waitingByQueue: waiting, tasks: center.interactions.count,
            streams: feeds.values.reduce(0) { $0 + $1.subscribers.count }, draining: draining,
            oldestWaitSecondsByQueue: oldest, todayByQueue: queuesToday(), abandons: queueReport.settings.abandons)
    }

    /// A command's effects that wait for its events to be durable: stream messages and line actions.
    struct PendingEffects {
        var first: Int
        /// The command's last event's number: its stream messages carry it.
        var last: Int
        var notices: [(user: String, notice: Notice)]
        var lineActions: [Action]
        var durable = false
    }

    /// Held in command order: stores may complete out of order, effects never leave out of order.
    private var pendingEffects: [PendingEffects] = []
    /// The queues' figures per interval (see `Reporting.swift`).
    var queueReport = QueueReport()
    /// Whether the report projections are kept (off only to measure their cost).
    var reporting = true
    /// The agents' figures per interval.
    var agentReport = AgentReport(configuration: CenterConfiguration(agents: [], queues: [], wrapUpCodes: [], idleCodes: []))
    /// The latest operator alerts (see `alert`).
    var recentAlerts: [Alert] = []

    /// Marks the command whose events start at `first` as durable and releases every command's
    /// effects that are now in order to go: nobody hears of, and no phone acts on, an event the
    /// log could still lose.
    private func releaseDurableEffects(storedFrom first: Int) {
        if let index = pendingEffects.firstIndex(where: { $0.first == first }) { pendingEffects[index].durable = true }
        var released = 0
        for pending in pendingEffects {
            guard pending.durable else { break }
            for notice in pending.notices { feeds[notice.user, default: Feed()].publish(notice.notice, at: pending.last) }
            if !pending.lineActions.isEmpty { telephony.perform(pending.lineActions) }
            released += 1
        }
        pendingEffects.removeFirst(released)
        durableThrough = pendingEffects.first?.first ?? nextSequence
        if !durableWaiters.isEmpty {
            let ready = durableWaiters.filter { $0.through <= durableThrough }
            durableWaiters.removeAll { $0.through <= durableThrough }
            for (_, waiter) in ready { waiter.resume() }
        }
    }

    /// Arms and cancels timers at once; returns what waits for durability (stream messages and
    /// line actions).
    private func perform(_ actions: [Action], changed: [InteractionID], first: Int, last: Int) -> PendingEffects {
        var notices: [(user: String, notice: Notice)] = []
        var lineActions: [Action] = []
        for action in actions {
            switch action {
            case .startTimer(let timer, let deadline): arm(timer, deadline: deadline)
            case .cancelTimer(let timer):
                timers[timer] = nil
                if let deadlineOwner { deadlines.remove(Due.timer(timer), for: deadlineOwner) }
            case .answerCustomer, .ring, .hangUp, .setMedia, .handOff: lineActions.append(action)
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
                // Available with no desktop open (closed during a call, or never opened): the grace period runs.
                if center.agents[agent]?.status == .available, !hasDesktop(agent), desktopDeadlines[agent] == nil {
                    armDesktopGrace(agent)
                }
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
        return PendingEffects(first: first, last: last, notices: notices, lineActions: lineActions)
    }

    // MARK: - Views

    public func agentView(_ id: AgentID) -> AgentView? {
        center.agents[id].map { AgentView($0, displayName: displayNames[id.rawValue] ?? id.rawValue) }
    }

    /// The agent's view and the task their phone is on (for `GET /v1/me`).
    public func agentViewAndTask(_ id: AgentID) -> (AgentView, InteractionID?)? {
        agentView(id).map { ($0, center.agents[id]?.task) }
    }

    /// Every agent with its live state, by id.
    public func agentViews() -> [AgentView] {
        center.agents.keys.sorted().compactMap(agentView)
    }

    // MARK: - Timers

    private func arm(_ timer: TimerID, deadline: Timestamp) {
        timers[timer] = deadline
        if running, let deadlineOwner { deadlines.set(Due.timer(timer), at: deadline, for: deadlineOwner) }
    }

    func armDesktopGrace(_ agent: AgentID) {
        let deadline = graceEnd()
        desktopDeadlines[agent] = deadline
        if running, let deadlineOwner { deadlines.set(Due.desktopGrace(agent), at: deadline, for: deadlineOwner) }
    }

    func clearDesktopGrace(_ agent: AgentID) {
        guard desktopDeadlines.removeValue(forKey: agent) != nil, let deadlineOwner else { return }
        deadlines.remove(Due.desktopGrace(agent), for: deadlineOwner)
    }

    /// The center's deadlines that fell due, earliest first: timers fire (the core refuses one
    /// whose state has moved on), grace periods end. A stop ends the round.
    func fire(_ due: [DeadlineKey]) async {
        let now = clock.now()
        for key in due {
            guard running else { return }
            switch key.base as? Due {
            case .timer(let timer):
                guard let deadline = timers[timer], deadline <= now else { continue }
                timers[timer] = nil
                _ = try? await execute(.timerFired(timer))
            case .desktopGrace(let agent):
                guard let deadline = desktopDeadlines[agent], deadline <= now else { continue }  // a desktop came back meanwhile
                desktopDeadlines[agent] = nil
                await desktopGraceEnded(agent)
            case nil:
                continue
            }
        }
    }

    /// The timers armed now, with their deadlines (for tests and the metrics).
    public func armedTimers() -> [TimerID: Timestamp] { timers }

    // MARK: - Reading

    /// How many times each wrap-up reason was applied today (since midnight in the reports' time
    /// zone): a view of the queues' report, like the tiles' figures.
    public func wrapUpsToday() -> [String: Int] {
        var today: [String: Int] = [:]
        for figures in queuesToday().values {
            for (code, count) in figures.wrapUps { today[code, default: 0] += count }
        }
        return today
    }

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
        let tellAgents = configuration.monitoring?.tellAgents ?? false
        return TaskSnapshot(
            interaction, configuration: center.configuration, wrapUpRequired: me?.owesWrapUp ?? false,
            allowedActions: agent.map { center.allowedActions(for: $0, in: id) } ?? [],
            supervisors: { agent == nil || tellAgents || $0.mode == .barge })
    }

    /// The agent's live tasks and those awaiting the agent's wrap-up; every open task for a
    /// supervisor (finished ones are forgotten once stored).
    public func tasks(for agent: AgentID?) -> [TaskSnapshot] {
        center.interactions.keys.sorted().compactMap { snapshot($0, for: agent) }
    }

    /// The task's timeline, every event stored for it in order, if this agent may read it: anyone
    /// who was on the call (also once it is over and forgotten), or a supervisor (nil). Nil when
    /// there is no such task or the agent was never on it.
    public func history(_ id: InteractionID, for agent: AgentID?) async throws -> [Event]? {
        let events = try await store.events(of: id)
        guard !events.isEmpty else { return nil }
        guard let agent else { return events }
        let interaction = Interaction.fold(id: id, events.compactMap { event in
            if case .interaction(_, let change) = event.subject { (change, event.at) } else { nil }
        })
        return interaction?.participant(agent: agent) != nil ? events : nil
    }

    /// Whether this agent has applied a wrap-up to the task (read from the log: the task may be
    /// over and forgotten).
    public func hasWrappedUp(_ id: InteractionID, agent: AgentID) async throws -> Bool {
        try await store.events(of: id).contains { event in
            if case .interaction(_, .wrapUpApplied(agent, _, _, _)) = event.subject { true } else { false }
        }
    }

    /// For a telephony restarting after a crash: each of these interactions that is still live,
    /// with the legs that should still be up (the customer and every party connected or held, not
    /// ringing: a ring did not survive) and who hears whom now.
    public func lines(of ids: Set<InteractionID>) -> [InteractionID: LiveLines] {
        var found: [InteractionID: LiveLines] = [:]
        for id in ids {
            guard let interaction = center.interactions[id], interaction.phase != .ended else { continue }
            var legs = Set<Leg>()
            if interaction.customer.state == .connected || interaction.customer.state == .held { legs.insert(.customer) }
            for participant in interaction.participants where participant.state == .connected || participant.state == .held {
                legs.insert(Leg(participant.party))
            }
            for monitor in interaction.monitors where monitor.state == .connected { legs.insert(monitor.leg) }
            found[id] = LiveLines(legs: legs, plan: center.mediaPlan(of: interaction))
        }
        return found
    }

    /// The interaction an agent's phone is on, if any.
    public func task(of agent: AgentID) -> InteractionID? { center.agents[agent]?.task }

    public func waiting(in queue: QueueID) -> [QueueEntry] { center.waiting[queue] ?? [] }

    /// Agents signed in to the queue's teams (in any state), and customers waiting in it: whether a
    /// web call there would be answered, and how long the line is.
    public func staffing(of queue: QueueID) -> (signedIn: Int, waiting: Int) {
        let teams = Set(center.configuration.queues.first { $0.id == queue }?.teams ?? [])
        let signedIn = center.agents.values.filter { teams.contains($0.team) && $0.status != .loggedOut }.count
        return (signedIn, center.waiting[queue]?.count ?? 0)
    }

    /// The agents of the queue's teams by what they are doing now, for the supervisor's tiles.
    public func staffingByState(of queue: QueueID) -> QueueStaffing {
        let teams = Set(center.configuration.queues.first { $0.id == queue }?.teams ?? [])
        var staffing = QueueStaffing()
        for agent in center.agents.values where teams.contains(agent.team) {
            switch agent.status {
            case .loggedOut: break
            case .available: staffing.available += 1
            case .reserved, .engaged: staffing.onCalls += 1
            case .wrapUp: staffing.inWrapUp += 1
            case .idle: staffing.idle += 1
            }
        }
        return staffing
    }

    /// Agents whose station is the browser and who are on a call now (after a restart: each keeps
    /// its call for the grace period while its desktop reconnects).
    public func browserAgentsOnCalls() -> [(AgentID, InteractionID)] {
        center.agents.values.compactMap { agent in
            guard agent.answerMode == .browser, let task = agent.task else { return nil }
            return (agent.id, task)
        }
    }
}

/// A queue's signed-in agents by state.
public struct QueueStaffing: Encodable, Equatable, Sendable {
    public var available = 0
    public var onCalls = 0
    public var inWrapUp = 0
    public var idle = 0
    public init() {}
}

/// A live interaction's lines, as the center sees them (see `ContactCenter.lines(of:)`).
public struct LiveLines: Equatable, Sendable {
    public var legs: Set<Leg>
    public var plan: MediaPlan
}
