import ArgumentParser
import Foundation
import CallControl
import Hummingbird
import HummingbirdWebSocket
import Logging
import Server
import ServiceLifecycle


/// The `switchboard` command: `serve` runs the server; `demo` plays a scripted conference
/// through the core in the terminal.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: contact-center call control.",
        subcommands: [Serve.self, Simulate.self, Load.self, TerminalDemo.self, Routes.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Switchboard server.")

    @Flag(help: "Use the built-in demo configuration (agent1…agent4, supervisor1; password: switchboard).")
    var demo = false
    @Option(help: "A JSON configuration file.") var config: String?
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port).") var port = 8080
    @Option(help: "The SQLite file that keeps every event.") var database = "switchboard.sqlite"
    @Option(help: "Telephony: 'simulator' (the built-in call simulator) or 'none'.") var telephony: String?
    @Option(help: "SQLite durability: 'full' (fsync at every commit: survives a power cut) or 'normal' (survives a crash of the process).")
    var sync = "full"
    @Option(help: "On SIGTERM or SIGINT: how long live calls may take to end before the server stops (seconds).")
    var drainSeconds = 30
    @Option(help: "The Agent Desktop's folder (default: Public in the working directory, else the repository's).")
    var desktop: String?

    func validate() throws {
        if demo == (config != nil) { throw ValidationError("give either --demo or --config PATH") }
        if let telephony, !["simulator", "none"].contains(telephony) {
            throw ValidationError("--telephony is 'simulator' or 'none'")
        }
        if SQLiteEventStore.Durability(rawValue: sync) == nil { throw ValidationError("--sync is 'full' or 'normal'") }
        if drainSeconds < 0 { throw ValidationError("--drain-seconds must be 0 or more") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if let desktop, !FileManager.default.fileExists(atPath: desktop + "/index.html") {
            throw ValidationError("--desktop: no index.html in '\(desktop)'")
        }
    }

    func run() async throws {
        let settings: SwitchboardConfiguration
        if let config {
            do {
                settings = try SwitchboardConfiguration.load(path: config)
            } catch let error as ConfigurationFileError {
                throw ValidationError("invalid configuration: \(error)")
            }
        } else {
            settings = .demo()
        }
        let simulator = (telephony ?? (demo ? "simulator" : "none")) == "simulator"
        let store: SQLiteEventStore
        do {
            store = try await SQLiteEventStore.open(path: database, durability: SQLiteEventStore.Durability(rawValue: sync) ?? .full)
        } catch {
            throw ValidationError("cannot open the database '\(database)': \(error)")
        }
        let center = try await ContactCenter(configuration: settings, store: store, simulatedTelephony: simulator)
        await center.start()
        let sessions = Sessions()
        let router = buildRouter(center: center, sessions: sessions, simulator: simulator, desktop: desktopFolder())
        let host = self.host
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(shouldUpgrade: notificationUpgrade(center: center, sessions: sessions)),
            // A deep accept queue: a contact center's desktops reconnect all at once after a network blip
            // (and the load test connects hundreds at once); 256 overflowed and stalled connections.
            configuration: .init(address: .hostname(host, port: port), serverName: "Switchboard", backlog: 4096),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                // Unbuffered: scripts and tests read the address from this line.
                FileHandle.standardOutput.write(Data("Switchboard is running: http://\(host):\(bound)/\n".utf8))
            })
        // Shut down in reverse: the drain first (the API still up), then the HTTP server.
        let logger = Logger(label: "Switchboard")
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: CallDrainService(
                    center: center, bound: .seconds(drainSeconds), logger: logger,
                    onDrain: { FileHandle.standardOutput.write(Data("Switchboard is draining\n".utf8)) }))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try? await store.close()
    }
}

extension Serve {
    /// The desktop's files: `--desktop`, else `Public` here, else `Public` in the repository this
    /// binary was built from (so `swift run` works from any directory).
    func desktopFolder() -> String? {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Public").path
        let candidates: [String] = desktop.map { [$0] } ?? ["Public", repository]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}

/// Lists every HTTP route the server registers, one "METHOD /path" a line, with each task
/// command spelled out; the API tests check docs/openapi.yaml against it.
struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the server's HTTP routes.")

    func run() async throws {
        let center = try await ContactCenter(
            configuration: .demo(), store: InMemoryEventStore(), simulatedTelephony: true)
        let router = buildRouter(center: center, sessions: Sessions(), simulator: true)
        var lines = Set<String>()
        for route in router.routes {
            let path = route.path.description
            if path.hasSuffix("{action}") || path.hasSuffix("{subaction}") {
                for action in TaskAction.allCases {
                    lines.insert("POST /v1/tasks/{id}/\(action.rawValue)")
                }
            } else {
                lines.insert("\(route.method) \(path)")
            }
        }
        lines.insert("GET /v1/notifications")  // the WebSocket upgrade, outside the router
        for line in lines.sorted() { print(line) }
    }
}

struct TerminalDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Play a scripted conference through the call-control core.")

    func run() {
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
