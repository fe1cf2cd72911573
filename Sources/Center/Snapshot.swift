import CallControl
import Foundation
import Store

/// A snapshot of the center's live state, so a restart replays only the events after it rather
/// than all history. Its encoding is explicit (these field names are the format) and versioned:
/// a snapshot of another schema, or that cannot be read, is ignored and the log replays in full.
/// Taken under another configuration, it is restored as far as it fits, as the log would be.
struct CenterSnapshot: Codable {
    /// 2: the caller as the line said it (number, name, address, withheld), not only a number.
    /// 3: supervisors on calls (`monitors`), a paused recording (`recordingPaused`). Since then
    /// `wrapUpsByDay` is no longer written (today's wrap-ups are the reports' now); a schema-3
    /// snapshot that has it reads the same, the field ignored.
    static let schema = 3

    /// The configuration the state was built with (for a reader's information).
    var configuration: String
    var agents: [AgentState]
    var interactions: [InteractionState]
    var waiting: [String: [Entry]]

    struct AgentState: Codable {
        var id: String
        var team: String
        var status: String
        var task: String?
        var idleCode: String?
        var since: Int64
        var pendingIdle: String?
        var answerMode: String
    }

    struct InteractionState: Codable {
        var id: String
        var queue: String
        var customerNumber: String?
        var customerName: String?
        var customerAddress: String?
        var customerWithheld: Bool?
        var customerState: String
        var customerSince: Int64
        var participants: [ParticipantState]
        var phase: String
        /// The consult's destination, for `consulting` and `conferenced`.
        var consulting: Target?
        var arrivedAt: Int64
        var version: Int
        var monitors: [MonitorState]?
        var recordingPaused: Bool?
    }

    struct MonitorState: Codable {
        var supervisor: String
        var mode: String
        var station: String
        var state: String
        var joinedAt: Int64
        var since: Int64
    }

    struct ParticipantState: Codable {
        var party: Target
        var role: String
        var state: String
        var joinedAt: Int64
        var since: Int64
        var owesWrapUp: Bool
        var wrapUpCode: String?
    }

    /// An agent, a queue or a dial number: exactly one is set.
    struct Target: Codable {
        var agent: String?
        var queue: String?
        var number: String?
    }

    struct Entry: Codable {
        var interaction: String
        var consult: Bool
        var since: Int64
    }

    struct Unreadable: Error {}

    static func fingerprint(_ configuration: CenterConfiguration) -> String { String(describing: configuration) }

    // MARK: - Writing

    init(_ center: CallCenter) {
        configuration = Self.fingerprint(center.configuration)
        agents = center.agents.values.sorted { $0.id < $1.id }.map { agent in
            var state = AgentState(
                id: agent.id.rawValue, team: agent.team.rawValue, status: agent.status.name, since: agent.since.milliseconds,
                pendingIdle: agent.pendingIdle?.rawValue, answerMode: agent.answerMode.rawValue)
            state.task = agent.task?.rawValue
            if case .idle(let code) = agent.status { state.idleCode = code.rawValue }
            return state
        }
        interactions = center.interactions.values.sorted { $0.id < $1.id }.map(Self.state)
        waiting = Dictionary(uniqueKeysWithValues: center.waiting.map { queue, entries in
            (queue.rawValue, entries.map { Entry(interaction: $0.interaction.rawValue, consult: $0.purpose == .consult, since: $0.since.milliseconds) })
        })
    }

    private static func state(_ interaction: Interaction) -> InteractionState {
        let phase: String
        var consulting: Destination?
        switch interaction.phase {
        case .queued: phase = "queued"
        case .offered: phase = "offered"
        case .connected: phase = "connected"
        case .held: phase = "held"
        case .consulting(let destination):
            phase = "consulting"
            consulting = destination
        case .conferenced(let destination):
            phase = "conferenced"
            consulting = destination
        case .wrapUpAssist: phase = "wrapUpAssist"
        case .ended: phase = "ended"
        }
        return InteractionState(
            id: interaction.id.rawValue, queue: interaction.queue.rawValue,
            customerNumber: interaction.customer.caller.number?.rawValue, customerName: interaction.customer.caller.name,
            customerAddress: interaction.customer.caller.address,
            customerWithheld: interaction.customer.caller.withheld ? true : nil, customerState: interaction.customer.state.rawValue,
            customerSince: interaction.customer.since.milliseconds,
            participants: interaction.participants.map { participant in
                ParticipantState(
                    party: target(participant.party), role: participant.role.rawValue, state: participant.state.rawValue,
                    joinedAt: participant.joinedAt.milliseconds, since: participant.since.milliseconds,
                    owesWrapUp: participant.owesWrapUp, wrapUpCode: participant.wrapUpCode?.rawValue)
            },
            phase: phase, consulting: consulting.map(target), arrivedAt: interaction.arrivedAt.milliseconds,
            version: interaction.version,
            monitors: interaction.monitors.isEmpty ? nil : interaction.monitors.map { monitor in
                MonitorState(
                    supervisor: monitor.supervisor.rawValue, mode: monitor.mode.rawValue, station: monitor.station.name,
                    state: monitor.state.rawValue, joinedAt: monitor.joinedAt.milliseconds, since: monitor.since.milliseconds)
            },
            recordingPaused: interaction.recordingPaused ? true : nil)
    }

    private static func target(_ party: Party) -> Target {
        switch party {
        case .agent(let id): Target(agent: id.rawValue)
        case .dialNumber(let number): Target(number: number.rawValue)
        }
    }

    private static func target(_ destination: Destination) -> Target {
        switch destination {
        case .agent(let id): Target(agent: id.rawValue)
        case .queue(let id): Target(queue: id.rawValue)
        case .dialNumber(let number): Target(number: number.rawValue)
        }
    }

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    // MARK: - Reading

    static func decode(_ bytes: [UInt8]) throws -> CenterSnapshot {
        try JSONDecoder().decode(CenterSnapshot.self, from: Data(bytes))
    }

    /// The center this snapshot keeps, under today's configuration (agents and queues it no longer
    /// has are left out, as a replay of the log would); throws `Unreadable` for anything it cannot
    /// make sense of.
    func center(_ configuration: CenterConfiguration) throws -> CallCenter {
        let agents = try self.agents.map { state -> Agent in
            let task = state.task.map(InteractionID.init)
            let status: AgentStatus
            switch (state.status, task) {
            case ("loggedOut", _): status = .loggedOut
            case ("idle", _): status = .idle(IdleCodeID(try Self.required(state.idleCode)))
            case ("available", _): status = .available
            case ("reserved", let task?): status = .reserved(task)
            case ("engaged", let task?): status = .engaged(task)
            case ("wrapUp", let task?): status = .wrapUp(task)
            case (_, _): throw Unreadable()
            }
            guard let mode = AnswerMode(rawValue: state.answerMode) else { throw Unreadable() }
            return Agent(
                id: AgentID(state.id), team: TeamID(state.team), status: status, since: Timestamp(milliseconds: state.since),
                pendingIdle: state.pendingIdle.map(IdleCodeID.init), answerMode: mode)
        }
        let interactions = try self.interactions.map(Self.interaction)
        var waiting: [QueueID: [QueueEntry]] = [:]
        for (queue, entries) in self.waiting {
            waiting[QueueID(queue)] = entries.map {
                QueueEntry(interaction: InteractionID($0.interaction), purpose: $0.consult ? .consult : .call,
                           since: Timestamp(milliseconds: $0.since))
            }
        }
        return CallCenter(configuration: configuration, agents: agents, interactions: interactions, waiting: waiting)
    }

    private static func interaction(_ state: InteractionState) throws -> Interaction {
        let consulting = try state.consulting.map(destination)
        let phase: Interaction.Phase
        switch state.phase {
        case "queued": phase = .queued
        case "offered": phase = .offered
        case "connected": phase = .connected
        case "held": phase = .held
        case "consulting": phase = .consulting(try required(consulting))
        case "conferenced": phase = .conferenced(consulting: consulting)
        case "wrapUpAssist": phase = .wrapUpAssist
        case "ended": phase = .ended
        default: throw Unreadable()
        }
        guard let customerState = PartyState(rawValue: state.customerState) else { throw Unreadable() }
        let participants = try state.participants.map { participant in
            guard let role = ParticipantRole(rawValue: participant.role), let partyState = PartyState(rawValue: participant.state)
            else { throw Unreadable() }
            return Participant(
                party: try party(participant.party), role: role, state: partyState,
                joinedAt: Timestamp(milliseconds: participant.joinedAt), since: Timestamp(milliseconds: participant.since),
                owesWrapUp: participant.owesWrapUp, wrapUpCode: participant.wrapUpCode.map(WrapUpCodeID.init))
        }
        return Interaction(
            id: InteractionID(state.id), queue: QueueID(state.queue),
            customer: Customer(
                caller: state.customerWithheld == true
                    ? .withheld
                    : Caller(number: state.customerNumber.map(DialNumber.init), address: state.customerAddress, name: state.customerName),
                state: customerState,
                               since: Timestamp(milliseconds: state.customerSince)),
            participants: participants, phase: phase, arrivedAt: Timestamp(milliseconds: state.arrivedAt),
            version: state.version,
            monitors: try (state.monitors ?? []).map { monitor in
                guard let mode = MonitorMode(rawValue: monitor.mode), let station = Station(name: monitor.station),
                    let monitorState = Monitor.State(rawValue: monitor.state)
                else { throw Unreadable() }
                return Monitor(
                    supervisor: SupervisorID(monitor.supervisor), mode: mode, station: station, state: monitorState,
                    joinedAt: Timestamp(milliseconds: monitor.joinedAt), since: Timestamp(milliseconds: monitor.since))
            },
            recordingPaused: state.recordingPaused ?? false)
    }

    private static func party(_ target: Target) throws -> Party {
        if let agent = target.agent { return .agent(AgentID(agent)) }
        if let number = target.number { return .dialNumber(DialNumber(number)) }
        throw Unreadable()
    }

    private static func destination(_ target: Target) throws -> Destination {
        if let queue = target.queue { return .queue(QueueID(queue)) }
        switch try party(target) {
        case .agent(let id): return .agent(id)
        case .dialNumber(let number): return .dialNumber(number)
        }
    }

    private static func required<T>(_ value: T?) throws -> T {
        guard let value else { throw Unreadable() }
        return value
    }
}
