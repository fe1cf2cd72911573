import CallControl
import Foundation

/// How events are written in the log: an explicit encoding with names of our choosing, so that
/// renaming a case in the core cannot silently make a database unreadable. docs/event-log.md
/// lists every event and its fields.
///
/// A stored event is a row (`seq`, `at`, `interaction` or `agent`, `body`); the body is a flat JSON
/// object: `{"event": NAME, …fields}`. A party or a destination is one of the fields `agent`,
/// `number` or `queue`. Schema 1; schema 0 was Swift's synthesized `Codable` of the core's enums
/// (`{"interaction":{"_0":…,"_1":{…}}}`), read only to migrate it (`decodeSchema0`).
public enum EventLog {
    /// The schema this code writes (SQLite's `user_version`).
    public static let schemaVersion = 3

    /// A row's parts: whose event it is, and its body.
    public struct Row: Equatable, Sendable {
        public var interaction: InteractionID?
        public var agent: AgentID?
        public var body: String

        public init(interaction: InteractionID?, agent: AgentID?, body: String) {
            self.interaction = interaction
            self.agent = agent
            self.body = body
        }
    }

    // MARK: - Names

    /// The stable name of an interaction event: the log's, the history endpoint's.
    public static func name(of event: InteractionEvent) -> String {
        switch event {
        case .arrived: "arrived"
        case .offered: "offered"
        case .offerTimedOut: "offerTimedOut"
        case .accepted: "accepted"
        case .customerHeld: "customerHeld"
        case .customerResumed: "customerResumed"
        case .consultStarted: "consultStarted"
        case .consultOffered: "consultOffered"
        case .consultOfferTimedOut: "consultOfferTimedOut"
        case .consultAnswered: "consultAnswered"
        case .ringFailed: "ringFailed"
        case .consultCancelled: "consultCancelled"
        case .consultedPartyLeft: "consultedPartyLeft"
        case .conferenceStarted: "conferenceStarted"
        case .consultTransferred: "consultTransferred"
        case .conferenceTransferred: "conferenceTransferred"
        case .conferenceExited: "conferenceExited"
        case .conferenceEnded: "conferenceEnded"
        case .blindTransferred: "blindTransferred"
        case .endedByOwner: "endedByOwner"
        case .customerLeft: "customerLeft"
        case .wrapUpApplied: "wrapUpApplied"
        case .monitorStarted: "monitorStarted"
        case .monitorAnswered: "monitorAnswered"
        case .monitorModeChanged: "monitorModeChanged"
        case .monitorEnded: "monitorEnded"
        case .recordingPaused: "recordingPaused"
        case .recordingResumed: "recordingResumed"
        }
    }

    public static func name(of event: AgentEvent) -> String {
        switch event {
        case .loggedIn: "loggedIn"
        case .loggedOut: "loggedOut"
        case .becameAvailable: "becameAvailable"
        case .wentIdle: "wentIdle"
        case .idleRequested: "idleRequested"
        case .answerModeSet: "answerModeSet"
        }
    }

    // MARK: - Writing

    public static func encode(_ subject: Event.Subject) -> Row {
        var json = JSONText()
        switch subject {
        case .interaction(let id, let event):
            json.object { json in write(event, to: &json) }
            return Row(interaction: id, agent: nil, body: String(decoding: json.bytes, as: UTF8.self))
        case .agent(let id, let event):
            json.object { json in write(event, to: &json) }
            return Row(interaction: nil, agent: id, body: String(decoding: json.bytes, as: UTF8.self))
        }
    }

    /// The body's fields, in sorted order (the JSON writer's convention).
    private static func write(_ event: InteractionEvent, to json: inout JSONText) {
        var fields = Fields(event: name(of: event))
        switch event {
        case .arrived(let queue, let caller):
            fields.queue = queue.rawValue
            fields.set(caller)
        case .offered(let agent), .offerTimedOut(let agent), .accepted(let agent), .consultOffered(let agent),
            .consultOfferTimedOut(let agent), .conferenceTransferred(let agent):
            fields.agent = agent.rawValue
        case .consultStarted(let destination), .blindTransferred(let destination):
            fields.set(destination)
        case .consultAnswered(let party), .consultedPartyLeft(let party), .conferenceExited(let party):
            fields.set(party)
        case .ringFailed(let party, let reason):
            fields.set(party)
            fields.reason = reason.rawValue
        case .wrapUpApplied(let agent, let code, let notes, let automatic):
            fields.agent = agent.rawValue
            fields.code = code.rawValue
            fields.notes = notes
            fields.automatic = automatic
        case .monitorStarted(let supervisor, let mode, let station):
            fields.supervisor = supervisor.rawValue
            fields.mode = mode.rawValue
            fields.station = station.name
        case .monitorAnswered(let supervisor), .monitorEnded(let supervisor):
            fields.supervisor = supervisor.rawValue
        case .monitorModeChanged(let supervisor, let mode):
            fields.supervisor = supervisor.rawValue
            fields.mode = mode.rawValue
        case .recordingPaused(let agent), .recordingResumed(let agent):
            fields.agent = agent.rawValue
        case .customerHeld, .customerResumed, .consultCancelled, .conferenceStarted, .consultTransferred,
            .conferenceEnded, .endedByOwner, .customerLeft:
            break
        }
        fields.write(to: &json)
    }

    private static func write(_ event: AgentEvent, to json: inout JSONText) {
        var fields = Fields(event: name(of: event))
        switch event {
        case .wentIdle(let code), .idleRequested(let code): fields.code = code.rawValue
        case .answerModeSet(let mode): fields.mode = mode.rawValue
        case .loggedIn, .loggedOut, .becameAvailable: break
        }
        fields.write(to: &json)
    }

    // MARK: - Reading

    public static func decode(_ row: Row) throws -> Event.Subject {
        let fields: Fields
        do {
            fields = try JSONDecoder().decode(Fields.self, from: Data(row.body.utf8))
        } catch {
            throw EventLogError.unreadable(row.body)
        }
        if let id = row.interaction { return .interaction(id, try fields.interactionEvent()) }
        if let id = row.agent { return .agent(id, try fields.agentEvent()) }
        throw EventLogError.unreadable(row.body)
    }

    /// Reads a body as schema 0 wrote it: Swift's synthesized `Codable` of `Event.Subject`, with
    /// the core's case and argument names of that time (commit c95c02d).
    public static func decodeSchema0(_ body: String) throws -> Event.Subject {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let (kind, value) = root.first, root.count == 1, let subject = value as? [String: Any],
            let id = subject["_0"] as? String, let change = subject["_1"] as? [String: Any],
            let (name, argument) = change.first, let arguments = argument as? [String: Any]
        else { throw EventLogError.unreadable(body) }
        // Schema 0's arguments map onto schema 1's fields; only their names differ.
        var fields = Fields(event: name)
        func text(_ key: String) -> String? { arguments[key] as? String }
        /// `{"agent":{"_0":…}}`, `{"dialNumber":{"_0":…}}` or `{"queue":{"_0":…}}`.
        func party(_ key: String) throws {
            guard let wrapped = arguments[key] as? [String: Any], let (kind, inner) = wrapped.first,
                let value = (inner as? [String: Any])?["_0"] as? String
            else { throw EventLogError.unreadable(body) }
            switch kind {
            case "agent": fields.agent = value
            case "dialNumber": fields.number = value
            case "queue": fields.queue = value
            default: throw EventLogError.unreadable(body)
            }
        }
        switch name {
        case "arrived":
            fields.queue = text("queue")
            fields.customerNumber = text("customerNumber")
        case "offered", "consultOffered", "conferenceTransferred": fields.agent = text("to")
        case "accepted": fields.agent = text("by")
        case "offerTimedOut", "consultOfferTimedOut": fields.agent = text("agent")
        case "consultStarted", "blindTransferred", "consultAnswered", "consultedPartyLeft", "conferenceExited":
            try party("_0")
        case "wrapUpApplied":
            fields.agent = text("agent")
            fields.code = text("code")
            fields.notes = text("notes")
            fields.automatic = arguments["automatic"] as? Bool
        case "wentIdle", "idleRequested": fields.code = text("_0")
        default: break  // no arguments
        }
        switch kind {
        case "interaction": return .interaction(InteractionID(id), try fields.interactionEvent())
        case "agent": return .agent(AgentID(id), try fields.agentEvent())
        default: throw EventLogError.unreadable(body)
        }
    }
}

public enum EventLogError: Error, Equatable, CustomStringConvertible {
    /// A body this code cannot read: damaged, or a name it does not know.
    case unreadable(String)
    /// The database was written by a newer Switchboard (its schema is above ours).
    case newerSchema(Int)

    public var description: String {
        switch self {
        case .unreadable(let body): "an event in the log cannot be read: \(body.prefix(200))"
        case .newerSchema(let version):
            "the database has event-log schema \(version); this Switchboard reads up to \(EventLog.schemaVersion)"
        }
    }
}

/// A body's fields, as stored.
private struct Fields: Codable {
    var event: String
    var agent: String?
    var number: String?
    var queue: String?
    var customerNumber: String?
    var customerAddress: String?
    var customerName: String?
    var customerWithheld: Bool?
    var code: String?
    var notes: String?
    var automatic: Bool?
    var reason: String?
    var mode: String?
    var supervisor: String?
    var station: String?

    init(event: String) { self.event = event }

    /// Schema 2: whatever the line said of the caller; schema 1 always had a number.
    mutating func set(_ caller: Caller) {
        customerNumber = caller.number?.rawValue
        customerAddress = caller.address
        customerName = caller.name
        customerWithheld = caller.withheld ? true : nil
    }

    var caller: Caller {
        if customerWithheld == true { return .withheld }
        return Caller(number: customerNumber.map(DialNumber.init), address: customerAddress, name: customerName)
    }

    mutating func set(_ party: Party) {
        switch party {
        case .agent(let id): agent = id.rawValue
        case .dialNumber(let number): self.number = number.rawValue
        }
    }

    mutating func set(_ destination: Destination) {
        switch destination {
        case .agent(let id): agent = id.rawValue
        case .dialNumber(let number): self.number = number.rawValue
        case .queue(let id): queue = id.rawValue
        }
    }

    func write(to json: inout JSONText) {
        json.member("agent", agent)
        if let automatic { json.member("automatic", automatic) }
        json.member("code", code)
        json.member("customerAddress", customerAddress)
        json.member("customerName", customerName)
        json.member("customerNumber", customerNumber)
        if let customerWithheld { json.member("customerWithheld", customerWithheld) }
        json.member("event", event)
        json.member("mode", mode)
        json.member("notes", notes)
        json.member("number", number)
        json.member("queue", queue)
        json.member("reason", reason)
        json.member("station", station)
        json.member("supervisor", supervisor)
    }

    private var unreadable: EventLogError { .unreadable("event \(event)") }

    private func required<T>(_ value: T?) throws -> T {
        guard let value else { throw unreadable }
        return value
    }

    var party: Party? {
        if let agent { return .agent(AgentID(agent)) }
        if let number { return .dialNumber(DialNumber(number)) }
        return nil
    }

    var destination: Destination? {
        if let queue { return .queue(QueueID(queue)) }
        return party.map { party in
            switch party {
            case .agent(let id): .agent(id)
            case .dialNumber(let number): .dialNumber(number)
            }
        }
    }

    func interactionEvent() throws -> InteractionEvent {
        let agent = self.agent.map(AgentID.init)
        switch event {
        case "arrived":
            return .arrived(queue: QueueID(try required(queue)), caller: caller)
        case "offered": return .offered(to: try required(agent))
        case "offerTimedOut": return .offerTimedOut(agent: try required(agent))
        case "accepted": return .accepted(by: try required(agent))
        case "customerHeld": return .customerHeld
        case "customerResumed": return .customerResumed
        case "consultStarted": return .consultStarted(try required(destination))
        case "consultOffered": return .consultOffered(to: try required(agent))
        case "consultOfferTimedOut": return .consultOfferTimedOut(agent: try required(agent))
        case "consultAnswered": return .consultAnswered(try required(party))
        case "ringFailed":
            guard let reason = reason.flatMap(RingFailure.init(rawValue:)) else { throw unreadable }
            return .ringFailed(try required(party), reason)
        case "consultCancelled": return .consultCancelled
        case "consultedPartyLeft": return .consultedPartyLeft(try required(party))
        case "conferenceStarted": return .conferenceStarted
        case "consultTransferred": return .consultTransferred
        case "conferenceTransferred": return .conferenceTransferred(to: try required(agent))
        case "conferenceExited": return .conferenceExited(try required(party))
        case "conferenceEnded": return .conferenceEnded
        case "blindTransferred": return .blindTransferred(try required(destination))
        case "endedByOwner": return .endedByOwner
        case "customerLeft": return .customerLeft
        case "wrapUpApplied":
            return .wrapUpApplied(
                agent: try required(agent), code: WrapUpCodeID(try required(code)), notes: notes ?? "",
                automatic: automatic ?? false)
        case "monitorStarted":
            guard let mode = mode.flatMap(MonitorMode.init(rawValue:)), let station = station.flatMap(Station.init(name:))
            else { throw unreadable }
            return .monitorStarted(SupervisorID(try required(supervisor)), mode, station)
        case "monitorAnswered": return .monitorAnswered(SupervisorID(try required(supervisor)))
        case "monitorModeChanged":
            guard let mode = mode.flatMap(MonitorMode.init(rawValue:)) else { throw unreadable }
            return .monitorModeChanged(SupervisorID(try required(supervisor)), mode)
        case "monitorEnded": return .monitorEnded(SupervisorID(try required(supervisor)))
        case "recordingPaused": return .recordingPaused(by: try required(agent))
        case "recordingResumed": return .recordingResumed(by: try required(agent))
        default: throw unreadable
        }
    }

    func agentEvent() throws -> AgentEvent {
        switch event {
        case "loggedIn": return .loggedIn
        case "loggedOut": return .loggedOut
        case "becameAvailable": return .becameAvailable
        case "wentIdle": return .wentIdle(IdleCodeID(try required(code)))
        case "idleRequested": return .idleRequested(IdleCodeID(try required(code)))
        case "answerModeSet":
            guard let mode = mode.flatMap(AnswerMode.init(rawValue:)) else { throw unreadable }
            return .answerModeSet(mode)
        default: throw unreadable
        }
    }
}
