import APIClient
import ArgumentParser
import CallControl
import Center
import Foundation
import HTTPAPI
import Store

/// `switchboard report-bench`: a month of a contact center's calls made by the call-control core
/// itself (no HTTP: a generator drives `CallCenter` on simulated time), fed into the report
/// projections, then the reports asked for over HTTP from a real server holding them.
///
/// It measures the two things docs/reports.md promises: what keeping the projections costs per
/// event (so per command), and how long a report over the whole month takes to answer.
struct ReportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report-bench", abstract: "Measure the reports: a generated month of calls, projected, then reported over HTTP.")

    @Option(help: "Days of calls.") var days = 30
    @Option(help: "Agents (in teams of 50; each of twice as many queues is served by two teams).") var agents = 200
    @Option(help: "Calls per day (the default makes about a million in 30 days).") var callsPerDay = 33_400
    @Option(help: "Times each report is asked for (the figures are the median and the slowest).") var repeats = 5

    func validate() throws {
        guard (1...92).contains(days) else { throw ValidationError("--days must be between 1 and 92") }
        guard (50...2_000).contains(agents), agents % 50 == 0 else { throw ValidationError("--agents: a multiple of 50, up to 2000") }
        guard (1...200_000).contains(callsPerDay) else { throw ValidationError("--calls-per-day must be between 1 and 200000") }
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats must be between 1 and 100") }
    }

    /// 2026-11-01 00:00 UTC: a month without a daylight-saving change in UTC.
    static let monthStart: Int64 = 1_793_491_200_000

    func run() async throws {
        let configuration = Self.center(agents: agents)
        let end = Self.monthStart + Int64(days) * 86_400_000
        let clock = ManualClock(now: Timestamp(milliseconds: end))
        var options = ServerOptions()
        options.port = 0
        options.clock = clock
        options.drainBound = .zero
        let port = PortBox()
        options.onRunning = { port.set($0) }
        let server = try await buildApplication(
            configuration: configuration, store: InMemoryEventStore(), telephony: SimulatedTelephony(), options: options)

        // The month, made and projected a day at a time (a day's events, not a month's, in memory).
        var generator = MonthOfCalls(configuration: configuration.centerConfiguration, days: days, callsPerDay: callsPerDay)
        var generating = Duration.zero, projecting = Duration.zero
        let clockTime = ContinuousClock()
        var events = 0
        while true {
            var day: [Event] = []
            let made = clockTime.measure { day = generator.nextDay() }
            if day.isEmpty { break }
            generating += made
            events += day.count
            let fed = await clockTime.measure { await server.center.reportHistory(day) }
            projecting += fed
        }
        let perEvent = projecting / events
        let eventsPerCommand = Double(events) / Double(generator.commands)
        print("""
            report-bench: \(days) days, \(agents) agents, \(generator.queues) queues: \(generator.interactions) interactions \
            (\(generator.abandoned) abandoned, \(generator.transferred) transferred, \(generator.held) held), \
            \(generator.commands) commands, \(events) events
            generated in \(Self.seconds(generating)); projected in \(Self.seconds(projecting)): \
            \(Self.microseconds(perEvent)) per event, \(String(format: "%.2f", eventsPerCommand)) events per command
            at 3,000 commands/s the projections take \(String(format: "%.2f", Self.share(perEvent, eventsPerCommand * 3_000))) % of one core
            """)

        try await withThrowingTaskGroup(of: Void.self) { group in
            // Stopped by cancelling its task, once the reports are read.
            group.addTask { try? await server.run(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            let address = ServerAddress(host: "127.0.0.1", port: try await port.wait())
            try await HTTPConnection.open(address) { connection in
                let token = try await signIn(&connection, user: "manager", password: "bench")
                let range = "from=\(Self.monthStart)&to=\(end)"
                print("\nreport over the month (HTTP, \(repeats) times each)   rows      bytes   median ms  slowest ms")
                for (name, path, csv) in [
                    ("queues by day", "/v1/reports/queues?\(range)&interval=day", false),
                    ("queues by hour", "/v1/reports/queues?\(range)&interval=hour", false),
                    ("queues by 15 min", "/v1/reports/queues?\(range)&interval=15m", false),
                    ("queues by 15 min, CSV", "/v1/reports/queues?\(range)&interval=15m", true),
                    ("one queue by 15 min", "/v1/reports/queues?\(range)&interval=15m&queue=q0", false),
                    ("agents by day", "/v1/reports/agents?\(range)&interval=day", false),
                    ("one team's agents by day", "/v1/reports/agents?\(range)&interval=day&team=team0", false),
                    ("teams by day", "/v1/reports/agents?\(range)&interval=day&by=team", false),
                    ("agents by hour", "/v1/reports/agents?\(range)&interval=hour", false),
                ] {
                    var times: [Duration] = []
                    var last: HTTPAnswer?
                    for _ in 0..<repeats {
                        let headers = csv ? [("Accept", "text/csv")] : []
                        times.append(try await clockTime.measure { last = try await connection.send(.GET, path, token: token, headers: headers) })
                    }
                    guard let answer = last, answer.status == 200 else {
                        throw ValidationError("\(path): HTTP \(last?.status ?? 0) \(String(decoding: (last?.body ?? []).prefix(300), as: UTF8.self))")
                    }
                    let rows = csv ? answer.body.filter { $0 == UInt8(ascii: "\n") }.count - 1 : Self.rowCount(answer.body)
                    times.sort()
                    print(name.padding(toLength: 47, withPad: " ", startingAt: 0) + String(
                        format: " %7d %10d %11.1f %11.1f", rows, answer.body.count,
                        Self.milliseconds(times[times.count / 2]), Self.milliseconds(times.last!)))
                }
            }
        }
    }

    static func rowCount(_ body: [UInt8]) -> Int {
        struct Rows: Decodable { var rows: [Row] }
        struct Row: Decodable {}
        return (try? JSONDecoder().decode(Rows.self, from: Data(body)).rows.count) ?? -1
    }

    /// Teams of 50 agents; queue i served by teams i/2 and i/2 + 1 (so every team serves queues
    /// with a neighbour: an agent's calls come from four queues).
    static func center(agents: Int) -> SwitchboardConfiguration {
        let hash = PasswordHash.make("bench", cost: 4)
        let teams = agents / 50
        let people = (0..<agents).map { index in
            SwitchboardConfiguration.Agent(id: "agent\(index)", displayName: "Agent \(index)", passwordHash: hash, team: "team\(index / 50)")
        }
        let queues = (0..<(teams * 2)).map { index in
            SwitchboardConfiguration.Queue(id: "q\(index)", name: "Queue \(index)", teams: ["team\(index / 2)", "team\((index / 2 + 1) % teams)"])
        }
        var configuration = SwitchboardConfiguration(
            agents: people, supervisors: [.init(id: "manager", displayName: "Manager", passwordHash: hash)], queues: queues,
            wrapUpCodes: [.init(id: "resolved", name: "Resolved"), .init(id: "sale", name: "Sale")],
            idleCodes: [.init(id: "break", name: "Break")],
            desktopProfile: .init(ringNoAnswerSeconds: 20, autoWrapUpSeconds: nil, defaultWrapUpCode: "resolved", maxConferenceParticipants: 3))
        configuration.reports = .init(shortAbandonSeconds: 5, timeZone: "UTC")
        return configuration
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.1f s", milliseconds(duration) / 1000) }
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
    static func microseconds(_ duration: Duration) -> String { String(format: "%.2f µs", milliseconds(duration) * 1000) }
    /// The share of one core taken by `rate` events per second at `perEvent` each, in %.
    static func share(_ perEvent: Duration, _ rate: Double) -> Double { milliseconds(perEvent) / 1000 * rate * 100 }
}

/// A month of calls made by the core on simulated time, a day at a time. Calls arrive all day,
/// more by day than by night (±80 % around the mean); each rings an agent 2–8 s before an answer;
/// one in five is held 10–60 s; talk lasts 1–7 minutes, wrap-up 5–60 s; one in twenty is
/// blind-transferred to a neighbouring queue halfway; one in sixteen callers gives up 2–90 s after
/// calling if still waiting; each agent takes a 30-minute break a day.
struct MonthOfCalls {
    /// What happens at a second of the month.
    enum Step {
        case arrive(InteractionID, QueueID)
        case accept(AgentID, InteractionID)
        case hold(AgentID, InteractionID), resume(AgentID, InteractionID)
        case transfer(AgentID, InteractionID, QueueID)
        case end(AgentID, InteractionID)
        case wrapUp(AgentID, InteractionID)
        case giveUp(InteractionID)
        case takeBreak(AgentID), back(AgentID)
    }

    var center: CallCenter
    let configuration: CenterConfiguration
    let days: Int
    let callsPerDay: Int
    /// Steps by second of the month.
    var wheel: [Int: [Step]] = [:]
    var second = 0
    var random = SplitMix(seed: 2026)
    var interactions = 0, abandoned = 0, transferred = 0, held = 0, commands = 0
    var queues: Int { configuration.queues.count }
    /// The agents' sign-ins, given with the first day.
    var signIns: [Event] = []

    init(configuration: CenterConfiguration, days: Int, callsPerDay: Int) {
        (self.configuration, self.days, self.callsPerDay) = (configuration, days, callsPerDay)
        center = CallCenter(configuration: configuration)
        for agent in configuration.agents {
            signIns += perform(.agent(agent.id, .login), at: 0)
            signIns += perform(.agent(agent.id, .setAvailable), at: 0)
        }
    }

    mutating func schedule(_ step: Step, in seconds: Int) { wheel[second + seconds, default: []].append(step) }

    /// The next day's events; none after the last day.
    mutating func nextDay() -> [Event] {
        guard second < days * 86_400 else { return [] }
        var events: [Event] = signIns
        signIns = []
        for agent in configuration.agents {
            schedule(.takeBreak(agent.id), in: random.below(86_400))
        }
        let last = second + 86_400
        while second < last {
            // Arrivals this second: the day's mean rate shaped by the hour.
            let hour = Double(second % 86_400) / 3_600
            let rate = Double(callsPerDay) / 86_400 * (1 + 0.8 * sin((hour - 8) / 24 * 2 * .pi))
            var arrivals = Int(rate)
            if random.unit() < rate - Double(arrivals) { arrivals += 1 }
            for _ in 0..<arrivals {
                interactions += 1
                schedule(.arrive(InteractionID("c\(interactions)"), configuration.queues[random.below(queues)].id), in: 0)
            }
            for step in wheel.removeValue(forKey: second) ?? [] { events += run(step) }
            second += 1
        }
        return events
    }

    private mutating func perform(_ command: Command, at second: Int) -> [Event] {
        commands += 1
        let time = Timestamp(milliseconds: ReportBench.monthStart + Int64(second) * 1000)
        guard case .accepted(let events, _) = center.handle(command, at: time) else { return [] }
        if let id = command.interactionID { center.forgetIfFinished(id) }
        return events
    }

    private mutating func run(_ step: Step) -> [Event] {
        let events: [Event]
        switch step {
        case .arrive(let id, let queue):
            events = perform(.arrival(id, queue: queue, from: Caller(number: DialNumber("+15550100"))), at: second)
            if random.below(16) == 0 { schedule(.giveUp(id), in: 2 + random.below(89)) }
        case .accept(let agent, let id):
            events = perform(.desktop(agent, id, .accept), at: second)
            guard !events.isEmpty else { return [] }
            let talk = 60 + random.below(361)
            if random.below(5) == 0 {
                held += 1
                let at = random.below(talk / 2) + 1
                schedule(.hold(agent, id), in: at)
                schedule(.resume(agent, id), in: at + 10 + random.below(51))
            }
            if random.below(20) == 0 {
                let queue = center.interactions[id]?.queue.rawValue ?? "q0"
                let next = (Int(queue.dropFirst()) ?? 0) + 1
                schedule(.transfer(agent, id, QueueID("q\(next % queues)")), in: talk / 2)
            } else {
                schedule(.end(agent, id), in: talk + 70)  // after any hold
            }
        case .hold(let agent, let id): events = perform(.desktop(agent, id, .hold), at: second)
        case .resume(let agent, let id): events = perform(.desktop(agent, id, .resume), at: second)
        case .transfer(let agent, let id, let queue):
            // Taken off hold first if it is held: a transfer of a held call is refused.
            let resumed = perform(.desktop(agent, id, .resume), at: second)
            let moved = perform(.desktop(agent, id, .transfer(to: .queue(queue))), at: second)
            if !moved.isEmpty {
                transferred += 1
                schedule(.wrapUp(agent, id), in: 5 + random.below(56))
            }
            events = resumed + moved
        case .end(let agent, let id):
            events = perform(.desktop(agent, id, .end), at: second)
            if !events.isEmpty { schedule(.wrapUp(agent, id), in: 5 + random.below(56)) }
        case .wrapUp(let agent, let id):
            let code = WrapUpCodeID(random.below(4) == 0 ? "sale" : "resolved")
            events = perform(.desktop(agent, id, .wrapUp(code: code, notes: "")), at: second)
        case .giveUp(let id):
            // Only a caller still waiting or ringing gives up.
            guard let call = center.interactions[id], !call.participants.contains(where: { $0.role == .owner && $0.state != .ringing })
            else { return [] }
            events = perform(.line(id, .hungUp(.customer)), at: second)
            if !events.isEmpty { abandoned += 1 }
        case .takeBreak(let agent):
            events = perform(.agent(agent, .setIdle(IdleCodeID("break"))), at: second)
            schedule(.back(agent), in: 1_800)
        case .back(let agent):
            events = perform(.agent(agent, .setAvailable), at: second)
        }
        // Every offer made is answered a few seconds later.
        for event in events {
            if case .interaction(let id, .offered(let agent)) = event.subject { schedule(.accept(agent, id), in: 2 + random.below(7)) }
        }
        return events
    }
}

/// A small deterministic random source (SplitMix64): the same month every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
