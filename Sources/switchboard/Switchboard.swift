import CallControl

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// For now `switchboard` plays a scripted conference through the core in the terminal, showing
/// what each agent's desktop would offer at every step. The server replaces it.
@main
struct Switchboard {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.contains("--help") || arguments.contains("-h") {
            print("usage: switchboard [demo]\n  demo   play a scripted conference through the call-control core (default)")
            return
        }
        if let unknown = arguments.first(where: { $0 != "demo" }) {
            print("switchboard: unknown argument '\(unknown)' (try --help)")
            exit(64)
        }
        var demo = Demo()
        demo.run()
    }
}

struct Demo {
    var center = CallCenter(
        configuration: CenterConfiguration(
            agents: [.init(id: "agent1", team: "team1"), .init(id: "agent2", team: "team1")],
            queues: [.init(id: "sales", teams: ["team1"])],
            wrapUpCodes: ["resolved", "escalated"],
            idleCodes: ["break", "lunch"]))
    var clock: Int64 = 0
    let call: InteractionID = "call-1"

    mutating func run() {
        print("Switchboard call-control demo: a customer calls sales; agent1 consults agent2 and conferences.\n")
        step("agent1 signs in", .login, .agent("agent1"))
        step("agent1 becomes available", .setAvailable, .agent("agent1"))
        step("agent2 signs in", .login, .agent("agent2"))
        step("the customer calls the sales queue", .customerCall(call, queue: "sales", from: "+15550100"), .customer)
        step("agent1 accepts the offer", .accept(call), .agent("agent1"))
        step("agent2 becomes available", .setAvailable, .agent("agent2"))
        step("agent1 consults agent2 (the customer hears hold music)", .consult(call, to: .agent("agent2")), .agent("agent1"))
        step("agent2 answers the consult", .consultAccept(call), .agent("agent2"))
        step("agent1 clicks Conference (the customer is taken off hold)", .conference(call), .agent("agent1"))
        step("agent2 tries End Conference", .endConference(call), .agent("agent2"))
        step("agent1 tries to hold the customer", .hold(call), .agent("agent1"))
        step("agent2 clicks Exit Conference", .exitConference(call), .agent("agent2"))
        step("agent1 ends the call", .end(call), .agent("agent1"))
        step("agent1 applies a wrap-up reason", .wrapUp(call, code: "resolved", notes: "demo"), .agent("agent1"))
    }

    mutating func step(_ title: String, _ command: Command, _ actor: Actor) {
        clock += 1_000
        print("▶ \(title)")
        switch center.handle(command, from: actor, at: Timestamp(milliseconds: clock)) {
        case .rejected(let rejection):
            print("  rejected: \(rejection.code)")
        case .accepted(let events, let actions):
            for event in events { print("  event  \(describe(event.subject))") }
            for action in actions { print("  action \(action)") }
        }
        if let interaction = center.interactions[call] {
            print("  status \(interaction.status.rawValue)")
            for agent in ["agent1", "agent2"] as [AgentID] where interaction.participant(agent: agent) != nil {
                let allowed = center.allowedActions(for: agent, in: call).map(\.rawValue)
                print("  \(agent) may: \(allowed.isEmpty ? "nothing" : allowed.joined(separator: ", "))")
            }
        }
        print("")
    }

    func describe(_ subject: Event.Subject) -> String {
        switch subject {
        case .interaction(let id, let event): "\(id): \(event)"
        case .agent(let id, let event): "\(id): \(event)"
        }
    }
}
