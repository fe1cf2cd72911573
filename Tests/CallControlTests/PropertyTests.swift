import CallControl
import Testing
import TestSupport

/// Thousands of random command sequences from every kind of actor (agents at the desktop, their
/// phones, customers, dialled parties, timers), valid and invalid alike. After every step the
/// invariants below must hold; at the end every call is driven to its close and every wrap-up
/// owed must have been asked for exactly once. A failure names its seed, so it replays.
@Suite("Properties")
struct PropertyTests {
    static let batches = 8
    static let runsPerBatch = 250
    static let steps = 120
    static let mustReach: Set<String> = [
        "conferenced", "wrapUpAssist", "consulting", "held", "ended", "offerTimedOut", "consultOfferTimedOut",
        "conferenceTransferred", "consultTransferred", "blindTransferred", "conferenceExited", "conferenceEnded",
        "customerLeft", "automatic wrap-up", "consultOffered", "consultAnswered(number)", "ringFailed",
        "ringFailed(number)", "answered on the phone", "answerModeSet", "desktopClosed", "signedOut",
        "monitorStarted", "monitorAnswered", "monitorModeChanged", "monitorEnded", "barge", "coach",
        "recordingPaused", "recordingResumed",
    ]

    /// Async only to yield between runs: the batches are pure CPU, and without a yield they would
    /// hold every thread of the test's shared pool for their whole length, starving the suites
    /// that wait on the network meanwhile (a WebRTC handshake's test timed out behind them).
    @Test(arguments: 0..<batches)
    func randomCommandSequencesKeepEveryInvariant(batch: Int) async {
        var reached = Set<String>()
        defer {
            // The runs must reach the interesting places, or they prove little.
            for place in Self.mustReach { #expect(reached.contains(place), "no run in batch \(batch) reached \(place)") }
        }
        for run in 0..<Self.runsPerBatch {
            await Task.yield()
            let seed = UInt64(batch * Self.runsPerBatch + run)
            var world = RandomWorld(seed: seed)
            for _ in 0..<Self.steps {
                world.step()
                if !world.problems.isEmpty { break }
            }
            reached.formUnion(world.reached)
            if world.problems.isEmpty { world.drain() }
            if world.problems.isEmpty { world.checkReplay() }
            #expect(world.problems.isEmpty, "seed \(seed): \(world.problems.prefix(3)) after \(world.trail.suffix(6))")
            if !world.problems.isEmpty { return }
        }
    }
}

struct RandomWorld {
    var rng: SplitMix64
    var center: CallCenter
    var now = Timestamp(milliseconds: 0)
    var log: [Event] = []
    var problems: [String] = []
    var trail: [String] = []
    /// Wrap-ups owed and applied, per interaction and agent.
    var owed: [String: Int] = [:]
    var applied: [String: Int] = [:]
    var nextCall = 0
    /// Statuses and events the run went through.
    var reached = Set<String>()

    static let agents: [AgentID] = ["agent1", "agent2", "agent3", "agent4"]
    static let queues: [QueueID] = ["sales", "support", "nowhere"]

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        let maxParties = seed % 3 == 0 ? 4 : 3  // some runs allow a four-party conference
        center = CallCenter(
            configuration: Harness.configuration(
                agents: 4, maxConferenceParties: maxParties, monitorsPerCall: seed % 2 == 0 ? 1 : 2,
                recordedQueues: seed % 4 == 1 ? [] : ["sales"]))
        for agent in Self.agents {
            send(.agent(agent, .login))
            send(.agent(agent, .setAvailable))
        }
        send(.arrival("call-0", queue: "support", from: "+15550100"))
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    var calls: [InteractionID] { center.interactions.keys.sorted() }
    var liveCalls: [InteractionID] { calls.filter { center.interactions[$0]!.status != .ended } }
    var availableAgents: [AgentID] { Self.agents.filter { center.agents[$0]!.status == .available } }

    // MARK: - One random step

    mutating func step() {
        now = now.adding(milliseconds: Int64.random(in: 0...4_000, using: &rng))
        send(randomCommand())
        checkInvariants()
        if let call = calls.isEmpty ? nil : pick(calls) { checkAllowedActions(call) }
    }

    mutating func randomCommand() -> Command {
        let agent = pick(Self.agents)
        let live = liveCalls
        let call =
            calls.isEmpty || chance(5) ? InteractionID("call-\(nextCall)") : !live.isEmpty && chance(85) ? pick(live) : pick(calls)
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<8:
            // Mostly making agents available again, so calls find someone.
            let change: AgentCommand =
                chance(60) ? .setAvailable
                : pick([
                    .login, .logout, .setIdle(pick(["break", "lunch", "bogus"])), .setAnswerMode(pick(AnswerMode.allCases)),
                    .desktopLost, .phoneLost, .browserLost,
                ])
            return .agent(chance(98) ? agent : "nobody", change)
        case 8..<14:
            nextCall += 1
            // Callers as lines give them: numbers, names, SIP addresses, withheld, and now and then a
            // "number" that is not one (refused).
            let caller: Caller = switch Int.random(in: 0..<20, using: &rng) {
            case 0: .withheld
            case 1: Caller(address: "alice@example.com", name: "Alice")
            case 2: Caller(number: DialNumber("not a number"))
            default: Caller(number: DialNumber("+1555\(Int.random(in: 1000...9999, using: &rng))"), name: chance(50) ? "Bob" : nil)
            }
            return .arrival(InteractionID("call-\(nextCall)"), queue: pick(Self.queues), from: caller)
        case 14..<17:
            // Customers hang up at any time, and most tellingly while two agents are on the call.
            let talking = live.filter { [.consulting, .conferenced].contains(center.interactions[$0]!.status) }
            let target = !talking.isEmpty && chance(50) ? pick(talking) : call
            return .line(target, .hungUp(.customer))
        case 17..<24:
            // An agent's phone: answering an offer, failing to ring, hanging up, trying a transfer.
            let leg = Leg.agent(ringing(call) ?? onCall(call) ?? agent)
            let event: LineEvent = pick([
                .answered(leg), .answered(leg), .hungUp(leg), .hungUp(leg),
                .ringFailed(leg, pick(RingFailure.allCases)), .transferRequested(leg), .answered(.customer),
            ])
            return .line(call, event)
        case 24..<28:
            // An outside number's line; usually the one being dialled, sometimes one not on the call.
            let dialled = live.compactMap { id -> (InteractionID, DialNumber)? in
                guard case .dialNumber(let number)? = center.interactions[id]!.consulted?.party else { return nil }
                return (id, number)
            }
            let (target, number) = !dialled.isEmpty && chance(85) ? pick(dialled) : (call, DialNumber("+15550000"))
            let leg = Leg.dialNumber(number)
            return .line(target, pick([.answered(leg), .answered(leg), .hungUp(leg), .ringFailed(leg, pick(RingFailure.allCases))]))
        case 32..<38:
            // A supervisor listening in, switching mode or leaving; their station answering,
            // hanging up or failing to ring.
            let supervisor = pick([Harness.supervisor1, Harness.supervisor1, Harness.supervisor2, "nobody"])
            if chance(35) {
                // Mostly a station that is ringing now.
                let ringing = live.flatMap { id in
                    center.interactions[id]!.monitors.filter { $0.state == .ringing }.map { (id, $0.supervisor) }
                }
                let (target, who) = !ringing.isEmpty && chance(80) ? pick(ringing) : (call, supervisor)
                let leg = Leg.supervisor(who)
                return .line(target, pick([.answered(leg), .answered(leg), .hungUp(leg), .ringFailed(leg, .unreachable), .transferRequested(leg)]))
            }
            let command: SupervisorCommand = chance(80)
                ? .monitor(pick(MonitorMode.allCases), pick([.phone, .phone, .desktop, .browser, .outsideLine])) : .leave
            return .supervisor(supervisor, call, command)
        case 28..<32:
            // A timer: one that is armed (its deadline reached), or a stale one.
            let armed = center.activeTimers()
            if !armed.isEmpty, chance(85) {
                let (timer, deadline) = pick(armed)
                if deadline > now { now = deadline }
                return .timerFired(timer)
            }
            return .timerFired(pick([.ringNoAnswer(call, agent), .autoWrapUp(call, agent)]))
        default:
            // An Agent Desktop control, mostly one that someone on a live call may use.
            var choices: [(AgentID, InteractionID, [TaskAction])] = []
            for id in live {
                for party in center.interactions[id]!.participants {
                    guard let someone = party.party.agent else { continue }
                    let allowed = center.allowedActions(for: someone, in: id)
                    if !allowed.isEmpty { choices.append((someone, id, allowed)) }
                }
            }
            if !choices.isEmpty, chance(85) {
                let (someone, id, allowed) = pick(choices)
                // Lean toward the controls that lead deeper (consults, conferences) over those that end things.
                let deeper = allowed.filter { [.accept, .consult, .consultAccept, .conference, .wrapUp].contains($0) }
                let action = !deeper.isEmpty && chance(60) ? pick(deeper) : pick(allowed)
                return .desktop(someone, id, desktopCommand(action, randomArguments: true))
            }
            return .desktop(onCall(call) ?? agent, call, desktopCommand(pick(TaskAction.allCases), randomArguments: true))
        }
    }

    /// The agent whose phone rings on the call, if any.
    func ringing(_ call: InteractionID) -> AgentID? {
        center.interactions[call]?.participants.first { $0.state == .ringing && $0.party.agent != nil }?.party.agent
    }

    /// Someone who is, or was, on the call.
    mutating func onCall(_ call: InteractionID) -> AgentID? {
        guard let interaction = center.interactions[call] else { return nil }
        let agents = interaction.participants.compactMap(\.party.agent)
        return agents.isEmpty ? nil : pick(agents)
    }

    mutating func desktopCommand(_ action: TaskAction, randomArguments: Bool) -> DesktopCommand {
        func destination() -> Destination {
            guard randomArguments else { return .queue("support") }
            let free = availableAgents
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: return .agent(!free.isEmpty && chance(80) ? pick(free) : pick(Self.agents))
            case 5..<7: return .queue(pick(Self.queues))
            case 7..<9: return .dialNumber(DialNumber("+4420794\(Int.random(in: 10000...99999, using: &rng))"))
            default: return .dialNumber("12ab")
            }
        }
        let code: WrapUpCodeID = randomArguments && chance(10) ? "bogus" : pick(["resolved", "escalated"])
        return DesktopCommand(action, to: destination(), wrapUp: (code, ""))!
    }

    // MARK: - Sending, with the checks every command gets

    @discardableResult
    mutating func send(_ command: Command) -> Outcome {
        let before = center
        let outcome = center.handle(command, at: now)
        trail.append("\(command) → \(outcome.rejection.map { "rejected \($0)" } ?? "ok")")
        switch outcome {
        case .rejected:
            if center != before { problems.append("rejected \(command) changed the center") }
        case .accepted(let events, _):
            log += events
            // Leaving the center, or going idle for a closed desktop, never touches live work.
            if case .agent(let agent, let change) = command, let was = before.agents[agent] {
                switch change {
                case .desktopLost:
                    if was.status != .available { problems.append("desktopLost changed \(agent), who was \(was.status)") }
                    if center.agents[agent]?.status != .idle(CenterConfiguration.desktopLostIdleCode) {
                        problems.append("desktopLost left \(agent) \(String(describing: center.agents[agent]?.status))")
                    }
                    reached.insert("desktopClosed")
                case .logout:
                    if was.task != nil { problems.append("\(agent) signed out while \(was.status)") }
                    reached.insert("signedOut")
                case .login, .setAvailable, .setIdle, .setAnswerMode, .phoneLost, .browserLost:
                    break
                }
            }
            for event in events {
                if case .agent(_, .answerModeSet) = event.subject { reached.insert("answerModeSet") }
                guard case .interaction(let id, let change) = event.subject else { continue }
                if case .wrapUpApplied(let agent, _, _, let automatic) = change {
                    applied["\(id)/\(agent)", default: 0] += 1
                    if automatic { reached.insert("automatic wrap-up") }
                }
                if case .consultAnswered(.dialNumber) = change { reached.insert("consultAnswered(number)") }
                if case .ringFailed(.dialNumber, _) = change { reached.insert("ringFailed(number)") }
                if case .line(_, .answered(.agent)) = command { reached.insert("answered on the phone") }
                if case .monitorStarted(_, let mode, _) = change { reached.insert(mode.rawValue) }
                if case .monitorModeChanged(_, let mode) = change { reached.insert(mode.rawValue) }
                reached.insert(String(describing: change).prefix { $0 != "(" }.description)
                if let status = center.interactions[id]?.status { reached.insert(status.rawValue) }
            }
            // Count each wrap-up that became owed.
            for id in Set(events.compactMap(\.interactionID)) {
                for participant in center.interactions[id]?.participants ?? [] where participant.owesWrapUp {
                    let earlier = before.interactions[id]?.participant(participant.party)
                    if earlier?.owesWrapUp != true, let agent = participant.party.agent {
                        owed["\(id)/\(agent)", default: 0] += 1
                    }
                }
            }
        }
        return outcome
    }

    mutating func checkInvariants() {
        var busyWith: [AgentID: InteractionID] = [:]
        for (id, interaction) in center.interactions {
            let owners = interaction.participants.filter { $0.role == .owner && $0.state != .left }
            if owners.count > 1 { problems.append("\(id) has \(owners.count) owners") }
            if interaction.status == .conferenced, interaction.customer.state == .held {
                problems.append("\(id): customer held in a conference")
            }
            for participant in interaction.participants {
                guard let agent = participant.party.agent else { continue }
                let busy = participant.state != .left || participant.owesWrapUp
                if busy {
                    if let other = busyWith[agent] { problems.append("\(agent) busy with \(other) and \(id)") }
                    busyWith[agent] = id
                }
                let expected: AgentStatus? =
                    switch participant.state {
                    case .ringing: .reserved(id)
                    case .connected, .held: .engaged(id)
                    case .left: participant.owesWrapUp ? .wrapUp(id) : nil
                    }
                if let expected, center.agents[agent]?.status != expected {
                    problems.append("\(agent) is \(String(describing: center.agents[agent]?.status)), expected \(expected)")
                }
            }
            checkSupervisors(id, interaction)
            // A waiting interaction sits in exactly one queue entry.
            let entries = center.waiting.values.joined().filter { $0.interaction == id }.count
            switch interaction.status {
            case .queued:
                if entries != 1 { problems.append("\(id) queued in \(entries) entries") }
            case .consulting, .conferenced:
                if entries > 1 { problems.append("\(id) consults \(entries) queues") }
            case .offered, .connected, .held, .wrapUpAssist, .ended:
                if entries != 0 { problems.append("\(id) is \(interaction.status) but waits in a queue") }
            }
        }
        for agent in center.agents.values {
            if let task = agent.task, busyWith[agent.id] != task {
                problems.append("\(agent.id) is \(agent.status) but not on \(task)")
            }
        }
        // Routing leaves no call waiting while an agent who could take it is free.
        for queue in center.configuration.queues where !(center.waiting[queue.id] ?? []).isEmpty {
            if center.agents.values.contains(where: { $0.status == .available && queue.teams.contains($0.team) }) {
                problems.append("\(queue.id) has waiting entries and a free agent")
            }
        }
    }

    /// Supervisors: a monitor is never heard by the customer, a coach only by the owning agent; a
    /// barge is a conference party (the limit holds); no more than the configured number; none
    /// left on an ended call.
    mutating func checkSupervisors(_ id: InteractionID, _ interaction: Interaction) {
        let configuration = center.configuration
        if interaction.monitors.count > configuration.monitorsPerCall {
            problems.append("\(id) has \(interaction.monitors.count) supervisors")
        }
        if interaction.status == .ended, !interaction.monitors.isEmpty { problems.append("\(id) ended with supervisors on it") }
        let plan = interaction.mediaPlan
        let owner = interaction.owner.map { Leg($0.party) }
        for monitor in interaction.monitors where monitor.mode != .barge {
            if plan.conversation.contains(monitor.leg) || plan.consultation.contains(monitor.leg) {
                problems.append("\(id): \(monitor.mode) \(monitor.supervisor) is in a conversation (heard by all)")
            }
            for listener in plan.listeners where listener.leg == monitor.leg {
                if monitor.mode == .monitor, listener.heardBy != nil { problems.append("\(id): a monitor is heard by \(listener.heardBy!)") }
                if let heard = listener.heardBy, heard != owner || heard == .customer {
                    problems.append("\(id): a coach is heard by \(heard), not the owner")
                }
            }
        }
        let parties = plan.conversation.count
        if parties > configuration.maxConferenceParties, interaction.isBarged {
            problems.append("\(id): \(parties) parties talk with a barge (limit \(configuration.maxConferenceParties))")
        }
        // Three talk with a barge: the spec's conference rule (no hold) holds. (The customer waits,
        // held, while a blind transfer rings the next agent, or while Agent 1 consults after the
        // conference's other parties left: no one put them on hold with a supervisor there.)
        // The recording: only a recorded queue's call, only while a customer is on it with an agent.
        switch center.configuration.recording(of: interaction) {
        case .off: break
        case .on, .paused:
            if !configuration.recordedQueues.contains(interaction.queue) { problems.append("\(id) recorded, its queue is not") }
            if interaction.customer.state == .left { problems.append("\(id) recorded after the customer left") }
        }
        if interaction.isBarged, interaction.status == .held {
            problems.append("\(id): the customer was put on hold with a supervisor barged in")
        }
    }

    /// Each control an agent sees listed must be accepted, and each one not listed rejected.
    mutating func checkAllowedActions(_ call: InteractionID) {
        let agent = onCall(call) ?? pick(Self.agents)
        let allowed = Set(center.allowedActions(for: agent, in: call))
        for action in TaskAction.allCases {
            var copy = center
            let command = Command.desktop(agent, call, desktopCommand(action, randomArguments: false))
            let accepted = copy.handle(command, at: now).rejection == nil
            if accepted != allowed.contains(action) {
                problems.append("\(agent) \(action) on \(call): listed \(allowed.contains(action)), accepted \(accepted)")
            }
        }
    }

    // MARK: - The end of a run

    /// Ends every call and lets every wrap-up happen (by the agent or by the timer).
    mutating func drain() {
        for call in calls {
            guard let interaction = center.interactions[call] else { continue }
            if interaction.customer.state != .left { send(.line(call, .hungUp(.customer))) }
            if center.interactions[call]?.status == .wrapUpAssist, let owner = center.interactions[call]?.owner?.party.agent {
                send(.desktop(owner, call, .end))
            }
        }
        for (timer, deadline) in center.activeTimers() {
            now = max(now, deadline)
            send(.timerFired(timer))
        }
        checkInvariants()
        for (id, interaction) in center.interactions where !interaction.isFinished {
            problems.append("\(id) still open after draining: \(interaction.status)")
        }
        for agent in center.agents.values where agent.task != nil {
            problems.append("\(agent.id) still \(agent.status) after draining")
        }
        for (key, count) in owed where applied[key, default: 0] != count {
            problems.append("\(key) owed \(count) wrap-ups, applied \(applied[key, default: 0])")
        }
        for (key, count) in applied where owed[key, default: 0] != count {
            problems.append("\(key) applied \(count) wrap-ups, owed \(owed[key, default: 0])")
        }
    }

    mutating func checkReplay() {
        if CallCenter.replay(center.configuration, log) != center { problems.append("replay differs") }
        for (id, interaction) in center.interactions {
            let own = log.compactMap { event -> (InteractionEvent, Timestamp)? in
                if case .interaction(id, let change) = event.subject { (change, event.at) } else { nil }
            }
            if Interaction.fold(id: id, own) != interaction { problems.append("fold of \(id) differs") }
        }
    }
}
