import CallControl

#if canImport(Glibc)
    import Glibc
#endif

/// Drives complete conference lifecycles through the core and reports commands per second.
///
/// Each lifecycle: the customer's call arrives (routing offers it), Agent 1 accepts, consults
/// Agent 2, Agent 2 accepts the consult, Agent 1 starts the conference; then either Agent 2
/// exits and Agent 1 ends the call, or Agent 1 ends the conference; Agent 1 wraps up.
/// `concurrent` lifecycles run interleaved, each on its own queue served by a pair of agents.
@main
struct CallControlBenchmark {
    static func main() {
        let arguments = CommandLine.arguments
        let concurrent = Int(value(after: "--concurrent", in: arguments) ?? "") ?? 100
        let lifecycles = Int(value(after: "--lifecycles", in: arguments) ?? "") ?? 200_000
        let rounds = Int(value(after: "--rounds", in: arguments) ?? "") ?? 5

        print("CallControl benchmark: \(lifecycles) conference lifecycles, \(concurrent) at a time, \(rounds) rounds")
        var results: [Double] = []
        for round in 0...rounds {
            var bench = Bench(concurrent: concurrent)
            // Interaction IDs are the shell's to make; they are made before the clock starts.
            let ids = (0..<(round == 0 ? lifecycles / 10 : lifecycles) + concurrent).map { InteractionID("c\($0)") }
            let clock = ContinuousClock()
            let start = clock.now
            let commands = bench.run(lifecycles: round == 0 ? lifecycles / 10 : lifecycles, ids: ids)
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if round == 0 { continue }  // warm-up
            let rate = Double(commands) / seconds
            results.append(rate)
            print("round \(round): \(commands) commands in \(format(seconds, 3)) s = \(format(rate / 1e6, 3)) M commands/s, \(format(seconds / Double(commands) * 1e9, 1)) ns/command")
        }
        let sorted = results.sorted()
        print("median: \(format(sorted[sorted.count / 2] / 1e6, 3)) M commands/s; best: \(format(sorted.last! / 1e6, 3)) M commands/s")
    }

    static func value(after flag: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return "\(rounded)"
    }
}

struct Bench {
    var center: CallCenter
    var time: Int64 = 0
    let pairs: [(queue: QueueID, a: AgentID, b: AgentID)]

    init(concurrent: Int) {
        let pairs = (0..<concurrent).map { (queue: QueueID("q\($0)"), a: AgentID("a\($0)"), b: AgentID("b\($0)")) }
        self.pairs = pairs
        var agents: [CenterConfiguration.AgentProfile] = []
        for (index, pair) in pairs.enumerated() {
            agents.append(.init(id: pair.a, team: TeamID("t\(index)")))
            agents.append(.init(id: pair.b, team: TeamID("t\(index)")))
        }
        center = CallCenter(
            configuration: CenterConfiguration(
                agents: agents,
                queues: pairs.indices.map { .init(id: pairs[$0].queue, teams: [TeamID("t\($0)")]) },
                wrapUpCodes: ["resolved"], idleCodes: ["break"]))
        for pair in pairs {
            for agent in [pair.a, pair.b] {
                send(.agent(agent, .login))
                send(.agent(agent, .setAvailable))
            }
        }
    }

    @discardableResult
    mutating func send(_ command: Command) -> Outcome {
        time += 1
        let outcome = center.handle(command, at: Timestamp(milliseconds: time))
        precondition(outcome.rejection == nil, "\(command) rejected: \(outcome.rejection!)")
        return outcome
    }

    /// Runs lifecycles step by step, all pairs in turn; returns the number of commands.
    mutating func run(lifecycles: Int, ids available: [InteractionID]) -> Int {
        var commands = 0
        var done = 0
        var serial = 0
        while done < lifecycles {
            let ids = available[serial..<serial + pairs.count]
            var owners: [(AgentID, AgentID)] = []
            owners.reserveCapacity(pairs.count)
            for (pair, id) in zip(pairs, ids) {
                let outcome = send(.arrival(id, queue: pair.queue, from: "+15550100"))
                // Routing offers the call to whichever of the pair has been available longest.
                guard case .interaction(_, .offered(let owner)) = outcome.events.last!.subject else {
                    preconditionFailure("call not offered")
                }
                owners.append(owner == pair.a ? (pair.a, pair.b) : (pair.b, pair.a))
            }
            for (index, (id, (one, two))) in zip(ids, owners).enumerated() {
                let exitFirst = (index + done) % 2 == 0
                _ = send(.desktop(one, id, .accept))
                _ = send(.desktop(one, id, .consult(to: .agent(two))))
                _ = send(.desktop(two, id, .consultAccept))
                _ = send(.desktop(one, id, .conference))
                if exitFirst {
                    _ = send(.desktop(two, id, .exitConference))
                    _ = send(.desktop(one, id, .end))
                    commands += 1
                } else {
                    _ = send(.desktop(one, id, .endConference))
                }
                _ = send(.desktop(one, id, .wrapUp(code: "resolved", notes: "")))
                commands += 7
            }
            commands += ids.count
            done += ids.count
            serial += ids.count
            center.purgeFinished()
        }
        return commands
    }
}
