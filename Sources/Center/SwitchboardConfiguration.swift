import CallControl
import Foundation

/// The contact center as an administrator writes it: people, teams, queues, codes and the desktop
/// profile. `centerConfiguration` is the part the core needs.
public struct SwitchboardConfiguration: Codable, Sendable {
    public struct Agent: Codable, Sendable {
        public var id: String
        public var displayName: String
        /// bcrypt hash of the agent's password.
        public var passwordHash: String
        public var team: String
        /// The agent's SIP account (username: the agent's ID) as digest hashes, never the password:
        /// `md5:HEX,sha256:HEX` (`switchboard sip-hash` makes it). Without it the agent's phone
        /// cannot register.
        public var sipDigest: String?

        public init(id: String, displayName: String, passwordHash: String, team: String, sipDigest: String? = nil) {
            (self.id, self.displayName, self.passwordHash, self.team) = (id, displayName, passwordHash, team)
            self.sipDigest = sipDigest
        }
    }

    /// Where SIP calls come from and go: dialled numbers → queues, the trunks trusted to send
    /// customers' calls, the gateway that reaches outside numbers.
    public struct SIP: Codable, Sendable {
        public var numbers: [String: String]
        /// Source addresses whose INVITEs are customers' calls without a challenge.
        public var trunks: [String]
        /// Trunks that sign in instead: username → digest hashes (`md5:HEX,sha256:HEX`, as
        /// `switchboard sip-hash USERNAME` makes them). An INVITE from any other address is
        /// challenged (401) and becomes a customer's call once it answers with one of these.
        public var trunkAccounts: [String: String]?
        /// `host:port` of the outbound gateway; none: dialled numbers stay simulated.
        public var gateway: String?
        /// The music on hold: a WAV file (8 kHz mono: 16-bit PCM, µ-law or A-law); none: the built-in music.
        public var music: String?
        /// Numbers (of `numbers`) customers may call from a web page, `/call/{number}`.
        public var webCallNumbers: [String]?

        public init(numbers: [String: String], trunks: [String], trunkAccounts: [String: String]? = nil, gateway: String? = nil) {
            (self.numbers, self.trunks, self.trunkAccounts, self.gateway) = (numbers, trunks, trunkAccounts, gateway)
        }
    }

    public var sip: SIP?

    public struct Supervisor: Codable, Sendable {
        public var id: String
        public var displayName: String
        public var passwordHash: String
        /// The supervisor's SIP account (as an agent's: `md5:HEX,sha256:HEX`), for the phone
        /// that rings when they monitor a call.
        public var sipDigest: String?
        /// The queues whose calls this supervisor may monitor, coach or barge into; none: all.
        public var queues: [String]?

        public init(id: String, displayName: String, passwordHash: String, sipDigest: String? = nil, queues: [String]? = nil) {
            (self.id, self.displayName, self.passwordHash, self.sipDigest, self.queues) = (id, displayName, passwordHash, sipDigest, queues)
        }
    }

    /// How supervisors listen in.
    public struct Monitoring: Codable, Sendable {
        /// Supervisors one call may have on it at once (default 1).
        public var monitorsPerCall: Int?
        /// Whether the agents on a call are shown that a supervisor monitors or coaches it
        /// (default false, as Genesys Cloud); a barge is always shown.
        public var tellAgents: Bool?

        public init(monitorsPerCall: Int? = nil, tellAgents: Bool? = nil) {
            (self.monitorsPerCall, self.tellAgents) = (monitorsPerCall, tellAgents)
        }
    }

    public var monitoring: Monitoring?

    /// Who may play recordings.
    public struct RecordingPolicy: Codable, Sendable {
        /// Agents who were on a call may play its recording too (default false: supervisors only).
        public var agentsMayListen: Bool?
        public init(agentsMayListen: Bool? = nil) { self.agentsMayListen = agentsMayListen }
    }

    public var recording: RecordingPolicy?

    /// How reports count (docs/reports.md).
    public struct ReportPolicy: Codable, Sendable {
        /// The service level's threshold for queues that set none (default 20 s).
        public var serviceLevelSeconds: Int?
        /// Abandons faster than this are counted apart, nowhere else (default 0: none).
        public var shortAbandonSeconds: Int?
        /// "counted" (default, as Amazon Connect), "ignored" or "againstLevel".
        public var abandons: String?
        /// The center's time zone for days and hours in reports (an IANA name: "Europe/Paris");
        /// default: the server's.
        public var timeZone: String?
        /// When the supervisor's queue tiles turn amber or red.
        public var tiles: TileThresholds?
        /// false: no report projections are kept (the reports answer empty); only for measuring
        /// what they cost (`switchboard load --no-reports`). Default true.
        public var enabled: Bool?
        public init(
            serviceLevelSeconds: Int? = nil, shortAbandonSeconds: Int? = nil, abandons: String? = nil, timeZone: String? = nil,
            tiles: TileThresholds? = nil
        ) {
            (self.serviceLevelSeconds, self.shortAbandonSeconds, self.abandons) = (serviceLevelSeconds, shortAbandonSeconds, abandons)
            (self.timeZone, self.tiles) = (timeZone, tiles)
        }
    }

    /// The supervisor's queue tiles: a service level under `serviceLevelAmber` (a fraction) turns
    /// amber, under `serviceLevelRed` red; an oldest wait over the seconds given likewise.
    public struct TileThresholds: Codable, Sendable, Equatable {
        public var serviceLevelAmber: Double?
        public var serviceLevelRed: Double?
        public var oldestWaitAmberSeconds: Int?
        public var oldestWaitRedSeconds: Int?
        public init(serviceLevelAmber: Double? = nil, serviceLevelRed: Double? = nil, oldestWaitAmberSeconds: Int? = nil, oldestWaitRedSeconds: Int? = nil) {
            (self.serviceLevelAmber, self.serviceLevelRed) = (serviceLevelAmber, serviceLevelRed)
            (self.oldestWaitAmberSeconds, self.oldestWaitRedSeconds) = (oldestWaitAmberSeconds, oldestWaitRedSeconds)
        }

        /// The trade's common target is 80 % within 20 s: amber under it, red well under it.
        public static let standard = TileThresholds(serviceLevelAmber: 0.8, serviceLevelRed: 0.6, oldestWaitAmberSeconds: 30, oldestWaitRedSeconds: 60)

        /// Each threshold given, else the standard one.
        public var resolved: TileThresholds {
            let standard = Self.standard
            return TileThresholds(
                serviceLevelAmber: serviceLevelAmber ?? standard.serviceLevelAmber, serviceLevelRed: serviceLevelRed ?? standard.serviceLevelRed,
                oldestWaitAmberSeconds: oldestWaitAmberSeconds ?? standard.oldestWaitAmberSeconds,
                oldestWaitRedSeconds: oldestWaitRedSeconds ?? standard.oldestWaitRedSeconds)
        }
    }

    public var reports: ReportPolicy?

    public struct Queue: Codable, Sendable {
        public var id: String
        public var name: String
        public var teams: [String]
        /// Every call of this queue is recorded (a stereo WAV per interaction; see docs/recording.md).
        public var record: Bool?
        /// The queue's service-level threshold in seconds (default: `reports.serviceLevelSeconds`).
        public var serviceLevelSeconds: Int?

        public init(id: String, name: String, teams: [String], record: Bool? = nil) {
            (self.id, self.name, self.teams, self.record) = (id, name, teams, record)
        }
    }

    public struct Code: Codable, Sendable {
        public var id: String
        public var name: String

        public init(id: String, name: String) { (self.id, self.name) = (id, name) }
    }

    public struct DesktopProfile: Codable, Sendable {
        public var ringNoAnswerSeconds: Int
        /// nil: an agent stays in wrap-up until choosing a reason.
        public var autoWrapUpSeconds: Int?
        public var defaultWrapUpCode: String
        public var maxConferenceParticipants: Int

        public init(ringNoAnswerSeconds: Int, autoWrapUpSeconds: Int?, defaultWrapUpCode: String, maxConferenceParticipants: Int) {
            self.ringNoAnswerSeconds = ringNoAnswerSeconds
            self.autoWrapUpSeconds = autoWrapUpSeconds
            self.defaultWrapUpCode = defaultWrapUpCode
            self.maxConferenceParticipants = maxConferenceParticipants
        }
    }

    public var agents: [Agent]
    public var supervisors: [Supervisor]
    public var queues: [Queue]
    public var wrapUpCodes: [Code]
    public var idleCodes: [Code]
    public var desktopProfile: DesktopProfile

    public init(agents: [Agent], supervisors: [Supervisor], queues: [Queue], wrapUpCodes: [Code], idleCodes: [Code],
                desktopProfile: DesktopProfile) {
        self.agents = agents
        self.supervisors = supervisors
        self.queues = queues
        self.wrapUpCodes = wrapUpCodes
        self.idleCodes = idleCodes
        self.desktopProfile = desktopProfile
    }

    public var centerConfiguration: CenterConfiguration {
        CenterConfiguration(
            agents: agents.map { .init(id: AgentID($0.id), team: TeamID($0.team)) },
            queues: queues.map { .init(id: QueueID($0.id), teams: $0.teams.map { TeamID($0) }) },
            wrapUpCodes: wrapUpCodes.map { WrapUpCodeID($0.id) },
            idleCodes: idleCodes.map { IdleCodeID($0.id) },
            ringNoAnswerMilliseconds: Int64(desktopProfile.ringNoAnswerSeconds) * 1000,
            autoWrapUpMilliseconds: desktopProfile.autoWrapUpSeconds.map { Int64($0) * 1000 },
            defaultWrapUpCode: WrapUpCodeID(desktopProfile.defaultWrapUpCode),
            maxConferenceParties: desktopProfile.maxConferenceParticipants,
            supervisors: supervisors.map { .init(id: SupervisorID($0.id), queues: $0.queues?.map { QueueID($0) }) },
            monitorsPerCall: monitoring?.monitorsPerCall ?? 1,
            recordedQueues: Set(queues.filter { $0.record == true }.map { QueueID($0.id) }))
    }

    /// Everything wrong with this configuration, each naming its field.
    public func problems() -> [ConfigurationProblem] {
        var found = centerConfiguration.problems()
        let people = agents.map(\.id) + supervisors.map(\.id)
        if Set(people).count != people.count {
            found.append(.init(field: "supervisors", message: "an id is used by two people"))
        }
        for (index, person) in agents.enumerated() where !person.passwordHash.hasPrefix("$2") {
            found.append(.init(field: "agents[\(index)].passwordHash", message: "is not a bcrypt hash"))
        }
        for (index, person) in supervisors.enumerated() where !person.passwordHash.hasPrefix("$2") {
            found.append(.init(field: "supervisors[\(index)].passwordHash", message: "is not a bcrypt hash"))
        }
        if agents.isEmpty { found.append(.init(field: "agents", message: "at least one agent is required")) }
        if let abandons = reports?.abandons, !["counted", "ignored", "againstLevel"].contains(abandons) {
            found.append(.init(field: "reports.abandons", message: "is 'counted', 'ignored' or 'againstLevel'"))
        }
        if let seconds = reports?.serviceLevelSeconds, !(1...3600).contains(seconds) {
            found.append(.init(field: "reports.serviceLevelSeconds", message: "must be between 1 and 3600"))
        }
        if let zone = reports?.timeZone, TimeZone(identifier: zone) == nil {
            found.append(.init(field: "reports.timeZone", message: "'\(zone)' is not a time zone (an IANA name, like Europe/Paris)"))
        }
        if let seconds = reports?.shortAbandonSeconds, !(0...600).contains(seconds) {
            found.append(.init(field: "reports.shortAbandonSeconds", message: "must be between 0 and 600"))
        }
        if let tiles = reports?.tiles?.resolved {
            let (amber, red) = (tiles.serviceLevelAmber ?? 0, tiles.serviceLevelRed ?? 0)
            if !(0...1).contains(amber) || !(0...1).contains(red) || red > amber {
                found.append(.init(field: "reports.tiles", message: "serviceLevelRed ≤ serviceLevelAmber, both fractions from 0 to 1"))
            }
            let (waitAmber, waitRed) = (tiles.oldestWaitAmberSeconds ?? 0, tiles.oldestWaitRedSeconds ?? 0)
            if waitAmber < 1 || waitRed < waitAmber {
                found.append(.init(field: "reports.tiles", message: "1 ≤ oldestWaitAmberSeconds ≤ oldestWaitRedSeconds"))
            }
        }
        for (index, queue) in queues.enumerated() {
            if let seconds = queue.serviceLevelSeconds, !(1...3600).contains(seconds) {
                found.append(.init(field: "queues[\(index)].serviceLevelSeconds", message: "must be between 1 and 3600"))
            }
        }

        return found
    }

    /// What is allowed but may be a mistake: an agent whose team serves no queue is offered calls
    /// only by a consult or a transfer (an expert's team), or their team's name has a typo.
    public func warnings() -> [ConfigurationProblem] {
        let served = Set(queues.flatMap(\.teams))
        return agents.enumerated().filter { !served.contains($0.element.team) }.map { index, agent in
            .init(field: "agents[\(index)].team", message: "'\(agent.team)' serves no queue: this agent is offered calls only by consult or transfer")
        }
    }

    /// Reads a JSON configuration file; a problem names the file, the field and what is wrong.
    public static func load(path: String) throws -> SwitchboardConfiguration {
        let configuration = try check(path: path).get()
        if let problem = configuration.problems().first {
            throw ConfigurationFileError(file: path, field: problem.field, problem: problem.message)
        }
        return configuration
    }

    /// Reads a configuration file without judging its contents (`problems()` does): a file that
    /// cannot be read or decoded is one error naming the field, e.g. `agents[2].team`.
    public static func check(path: String) -> Result<SwitchboardConfiguration, ConfigurationFileError> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            return .failure(ConfigurationFileError(file: path, field: "-", problem: "cannot be read"))
        }
        func field(_ path: [any CodingKey]) -> String {
            var text = ""
            for key in path {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "-" : text
        }
        do {
            return .success(try JSONDecoder().decode(SwitchboardConfiguration.self, from: data))
        } catch let DecodingError.keyNotFound(key, context) {
            return .failure(ConfigurationFileError(file: path, field: field(context.codingPath + [key]), problem: "is missing"))
        } catch let DecodingError.typeMismatch(_, context) {
            return .failure(ConfigurationFileError(file: path, field: field(context.codingPath), problem: "has the wrong type"))
        } catch let DecodingError.valueNotFound(_, context) {
            return .failure(ConfigurationFileError(file: path, field: field(context.codingPath), problem: "is null"))
        } catch {
            return .failure(ConfigurationFileError(file: path, field: "-", problem: "is not valid JSON"))
        }
    }

    /// The demo center: agent1…agent4 and supervisor1, all with the password "switchboard",
    /// queues sales (recorded) and support served by every agent.
    /// The demo: agents agent1…agent4 and supervisor1, all with the password whose hash is given
    /// (the HTTP layer, which checks passwords, makes it).
    public static func demo(passwordHash hash: String) -> SwitchboardConfiguration {
        var demo = SwitchboardConfiguration(
            agents: (1...4).map { Agent(id: "agent\($0)", displayName: "Agent \($0)", passwordHash: hash, team: "frontline") },
            supervisors: [Supervisor(id: "supervisor1", displayName: "Supervisor 1", passwordHash: hash)],
            queues: [
                Queue(id: "sales", name: "Sales", teams: ["frontline"], record: true),
                Queue(id: "support", name: "Support", teams: ["frontline"]),
            ],
            wrapUpCodes: [
                Code(id: "resolved", name: "Resolved"), Code(id: "escalated", name: "Escalated"),
                Code(id: "callback", name: "Callback promised"), Code(id: "sale", name: "Sale made"),
            ],
            idleCodes: [
                Code(id: "break", name: "Break"), Code(id: "lunch", name: "Lunch"), Code(id: "training", name: "Training"),
            ],
            desktopProfile: DesktopProfile(
                ringNoAnswerSeconds: 20, autoWrapUpSeconds: 120, defaultWrapUpCode: "resolved",
                maxConferenceParticipants: 3))
        // A caller who hangs up within 5 s most likely dialled by mistake (a common setting).
        demo.reports = ReportPolicy(shortAbandonSeconds: 5)
        return demo
    }
}

public struct ConfigurationFileError: Error, CustomStringConvertible {
    public var file: String
    public var field: String
    public var problem: String
    public var description: String { "\(file): \(field): \(problem)" }
}
