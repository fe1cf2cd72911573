import ArgumentParser
import B2BUA
import CallControl
import Cryptography
import Center
import Foundation
import HTTPAPI
import Logging
import Recordings
import SIP
import Media
import MediaService
import NIOCore
import PostgresStore
import SIPTelephony
import Store


/// The `switchboard` command: `serve` runs the server; `demo` plays a scripted conference
/// through the core in the terminal.
@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switchboard: contact-center call control.",
        subcommands: [
            Serve.self, Simulate.self, Load.self, TerminalDemo.self, Routes.self, SIPHash.self, Passwd.self, CheckConfig.self,
            InitConfig.self, MediaBench.self, ReportBench.self,
        ],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Switchboard server.")

    @Flag(help: "Use the built-in demo configuration (agent1…agent4, supervisor1; password: switchboard).")
    var demo = false
    @Option(help: "A JSON configuration file.") var config: String?
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0: any free port).") var port = 8080
    @Option(help: "Where every event is kept: a SQLite file, or postgres://USER@HOST[:PORT]/DB (a build with the PostgreSQL trait).")
    var database = "switchboard.sqlite"
    @Option(help: "Where recorded queues' calls are written, a stereo WAV each (default: beside --database, its name with .recordings).")
    var recordings: String?
    @Option(help: "Telephony: 'sip' (SIP, with the simulator beside it; the demo's default), 'simulator' (the built-in call simulator alone) or 'none'.")
    var telephony: String?
    @Option(help: "The address SIP listens on and advertises (default: --host).") var sipHost: String?
    @Option(help: "The SIP port, UDP and TCP (0: any free port).") var sipPort = 5060
    @Option(help: "Media (RTP) ports offered in SDP, as FIRST-LAST.") var rtpPorts = "20000-29999"
    @Option(help: "Digest algorithms offered to phones, in order: 'md5,sha256' (what most phones answer first; a phone set to SHA-256 takes the second), 'sha256,md5' or one of them.")
    var sipDigest = "md5,sha256"
    @Option(name: .customLong("sip-tls-port"), help: "The SIP over TLS port, or 'off' (default: --sip-port + 1, or any free port when --sip-port is 0).")
    var sipTLSPort: String?
    @Option(name: .customLong("sip-tls-cert"), help: "The certificate (PEM, chain after it) SIP over TLS presents; without it and --sip-tls-key, a self-signed one is made at start.")
    var sipTLSCert: String?
    @Option(name: .customLong("sip-tls-key"), help: "The private key (PEM) of --sip-tls-cert.")
    var sipTLSKey: String?
    @Option(name: .customLong("sip-qualify-seconds"), help: "How often each registered phone is sent an OPTIONS; one that stops answering loses its registration (0: never).")
    var sipQualifySeconds = 30
    @Option(help: "SRTP (SDES keys) on legs whose signalling is TLS: 'optional' (when the phone offers or accepts it), 'required' (every TLS leg) or 'off'.")
    var srtp = "optional"
    @Option(help: "What SIP answers say the server is (a Server and User-Agent header); none by default, so scanners learn no software or version.")
    var sipServerHeader: String?
    @Option(name: .customLong("sip-tcp-timeout"), help: "Seconds a SIP TCP connection may hold an unfinished message (or none, after connecting) before it is closed.")
    var sipTCPTimeout = 32
    @Flag(help: "Serve HTTPS (browsers give the desktop the microphone only over HTTPS or on localhost): with --https-cert and --https-key, or a self-signed certificate made at start for --host, localhost and each --https-name.")
    var https = false
    @Option(name: .customLong("https-cert"), help: "The certificate (PEM, chain after it) HTTPS presents.")
    var httpsCert: String?
    @Option(name: .customLong("https-key"), help: "The private key (PEM) of --https-cert.")
    var httpsKey: String?
    @Option(name: .customLong("https-name"), help: "A name the self-signed HTTPS certificate is also for (repeat for more).")
    var httpsNames: [String] = []
    @Option(help: "The addresses WebRTC answers advertise as host candidates, comma-separated (default: the SIP address); set it when the server is reached through NAT at another address.")
    var mediaAddress: String?
    @Option(help: "How long an agent on a call keeps it after their browser station goes away, for a reloaded desktop to take it back (seconds).")
    var browserGraceSeconds = 20
    @Option(name: .customLong("webrtc-consent-seconds"), help: "A connected browser that sends no ICE check for this long is gone (seconds; browsers check every 5 or so).")
    var webRTCConsentSeconds = 15
    @Option(help: "Web calls one address may start in a minute.")
    var webCallsPerMinute = 6
    @Option(help: "Web calls at once, over every number.")
    var webCallLimit = 100
    @Option(help: "SQLite durability: 'full' (fsync at every commit: survives a power cut) or 'normal' (survives a crash of the process).")
    var sync = "full"
    @Option(help: "On SIGTERM or SIGINT: how long live calls may take to end before the server stops (seconds).")
    var drainSeconds = 30
    @Option(help: "How often to snapshot the live state, so a restart replays only the events after it (seconds).")
    var snapshotSeconds = 10
    @Option(help: "How many days finished calls are kept (their events and their place among past interactions).")
    var retentionDays = 90
    @Option(help: "A session unused this long ends (seconds; an open desktop counts as use).")
    var sessionIdleSeconds = 3_600
    @Option(help: "A session this old ends, used or not (seconds).")
    var sessionMaxSeconds = 43_200
    @Option(help: "How long an available agent's desktops may all be closed before the agent goes idle (seconds).")
    var desktopGraceSeconds = 60
    @Option(help: "The Agent Desktop's folder (default: Public in the working directory, else the repository's).")
    var desktop: String?
    @Option(help: "With PostgreSQL: this node's name in the lease (default: the host's name); two nodes on one database are an active/passive pair (docs/ha.md).")
    var node: String?
    @Option(help: "With PostgreSQL: how long the active node's lease runs without a renewal (seconds); a standby takes over that long after the active node stops answering.")
    var leaseSeconds: Double = 3
    @Flag(help: "For tests only: time stands still and moves only when a supervisor says (POST /v1/test/clock).")
    var testClock = false

    func validate() throws {
        if demo == (config != nil) { throw ValidationError("give either --demo or --config PATH") }
        if let telephony, !["sip", "simulator", "none"].contains(telephony) {
            throw ValidationError("--telephony is 'sip', 'simulator' or 'none'")
        }
        if !(0...65535).contains(sipPort) { throw ValidationError("--sip-port must be between 0 and 65535") }
        if rtpRange == nil { throw ValidationError("--rtp-ports is FIRST-LAST, two ports with FIRST < LAST") }
        if tlsPort == .some(nil), sipTLSPort != "off" { throw ValidationError("--sip-tls-port is a port (0 for any) or 'off'") }
        if (sipTLSCert == nil) != (sipTLSKey == nil) { throw ValidationError("--sip-tls-cert and --sip-tls-key go together") }
        if (httpsCert == nil) != (httpsKey == nil) { throw ValidationError("--https-cert and --https-key go together") }
        if !(0...86_400).contains(sipQualifySeconds) { throw ValidationError("--sip-qualify-seconds must be between 0 and 86400") }
        if SRTPPolicy(rawValue: srtp) == nil { throw ValidationError("--srtp is 'optional', 'required' or 'off'") }
        if !(1...3600).contains(sipTCPTimeout) { throw ValidationError("--sip-tcp-timeout must be between 1 and 3600 seconds") }
        if digestAlgorithms == nil { throw ValidationError("--sip-digest is sha256, md5, or both separated by a comma") }
        if SQLiteEventStore.Durability(rawValue: sync) == nil { throw ValidationError("--sync is 'full' or 'normal'") }
        if drainSeconds < 0 { throw ValidationError("--drain-seconds must be 0 or more") }
        if snapshotSeconds < 1 { throw ValidationError("--snapshot-seconds must be 1 or more") }
        if !(1...36_500).contains(retentionDays) { throw ValidationError("--retention-days must be between 1 and 36500") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if !(1...31_536_000).contains(sessionIdleSeconds) { throw ValidationError("--session-idle-seconds must be between 1 and 31536000") }
        if !(1...31_536_000).contains(sessionMaxSeconds) { throw ValidationError("--session-max-seconds must be between 1 and 31536000") }
        if !(1...86_400).contains(desktopGraceSeconds) { throw ValidationError("--desktop-grace-seconds must be between 1 and 86400") }
        if !(1...86_400).contains(browserGraceSeconds) { throw ValidationError("--browser-grace-seconds must be between 1 and 86400") }
        if !(1...300).contains(webRTCConsentSeconds) { throw ValidationError("--webrtc-consent-seconds must be between 1 and 300") }
        if !(1...10_000).contains(webCallsPerMinute) { throw ValidationError("--web-calls-per-minute must be between 1 and 10000") }
        if !(0...100_000).contains(webCallLimit) { throw ValidationError("--web-call-limit must be between 0 and 100000") }
        if let mediaAddress, mediaAddresses(mediaAddress) == nil {
            throw ValidationError("--media-address is one or more IP addresses, comma-separated")
        }
        if !(0.5...300).contains(leaseSeconds) { throw ValidationError("--lease-seconds must be between 0.5 and 300") }
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
        let kind = telephony ?? (demo ? "sip" : "none")
        let store: any EventStore
        do {
            store = try await Self.openStore(database, sync: sync)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot open the database '\(database)': \(error)")
        }
        // Recordings: the directory made if missing, and any recording a crash left open made playable.
        let recordingDirectory = RecordingDirectory(
            path: recordings ?? (Self.isPostgres(database) ? "switchboard.recordings" : Self.recordingsBeside(database)))
        do {
            try recordingDirectory.prepare()
        } catch {
            throw ValidationError("--recordings: \(error)")
        }
        let recovered = recordingDirectory.recover()
        if !recovered.isEmpty {
            FileHandle.standardOutput.write(Data("Recordings left open by the last run were closed: \(recovered.count)\n".utf8))
        }
        var options = ServerOptions()
        options.recordings = recordingDirectory
        options.host = host
        options.port = port
        options.desktop = desktopFolder()
        options.drainBound = .seconds(drainSeconds)
        options.snapshotInterval = .seconds(snapshotSeconds)
        options.retentionDays = retentionDays
        options.sessions = Sessions.Policy(idle: .seconds(sessionIdleSeconds), maximumAge: .seconds(sessionMaxSeconds))
        options.desktopGrace = .seconds(desktopGraceSeconds)
        options.webCallsPerMinute = webCallsPerMinute
        if testClock { options.clock = ManualClock(now: SystemClock().now()) }
        let host = self.host
        options.https = try httpsCertificate()
        let scheme = options.https == nil ? "http" : "https"
        // Unbuffered: scripts and tests read the address, and the drain, from these lines.
        options.onRunning = { port in FileHandle.standardOutput.write(Data("Switchboard is running: \(scheme)://\(host):\(port)/\n".utf8)) }
        options.onDrain = { FileHandle.standardOutput.write(Data("Switchboard is draining\n".utf8)) }
        let line: any Telephony
        var simulator: SimulatedTelephony?
        switch kind {
        case "sip":
            // The simulator beside SIP: the demo places calls with it and with a softphone alike.
            simulator = SimulatedTelephony()
            var sip = try sipSettings(settings)
            sip.recordings = recordingDirectory
            let sipTelephony = SIPTelephony(settings: sip, clock: options.clock, records: store)
            line = sipTelephony
            Task {
                if let port = try? await sipTelephony.ready() {
                    FileHandle.standardOutput.write(Data("SIP is listening: udp and tcp \(sip.host):\(port)\n".utf8))
                    if let tls = await sipTelephony.boundTLSPort() {
                        FileHandle.standardOutput.write(Data("SIP over TLS is listening: \(sip.host):\(tls)\n".utf8))
                    }
                }
            }
        case "simulator": line = SimulatedTelephony()
        default: line = NoTelephony()
        }
        #if PostgreSQL
        if let postgres = store as? PostgresEventStore {
            // One of a pair: the standby until this node holds the lease (docs/ha.md).
            let center = try await ContactCenter(
                configuration: settings, store: store, telephony: line, clock: options.clock,
                retentionDays: options.retentionDays, desktopGrace: options.desktopGrace)
            let name = node ?? ProcessInfo.processInfo.hostName
            let pair = PairNode(
                store: postgres, holder: "\(name)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))",
                leaseSeconds: leaseSeconds, logger: Logger(label: "switchboard.pair"))
            let say: @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
            let sipAddress = kind == "sip" ? (host: sipHost ?? host, port: sipPort) : nil
            guard let (epoch, boundPort) = try await pair.standBy(center: center, host: host, port: port, sip: sipAddress, say: say)
            else { return }
            say("Switchboard holds the lease (epoch \(epoch))")
            options.port = boundPort
            let server = try await buildApplication(center: center, store: store, telephony: line, simulator: simulator, options: options)
            try await pair.whileActive(epoch: epoch, center: center) { try await server.run() }
            return
        }
        #endif
        let server = try await buildApplication(configuration: settings, store: store, telephony: line, simulator: simulator, options: options)
        try await server.run()
    }
}

extension Serve {
    static func isPostgres(_ database: String) -> Bool { database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") }

    /// A SQLite file, or PostgreSQL by URL (only in a build with the PostgreSQL trait).
    static func openStore(_ database: String, sync: String) async throws -> any EventStore {
        guard isPostgres(database) else {
            return try await SQLiteEventStore.open(path: database, durability: SQLiteEventStore.Durability(rawValue: sync) ?? .full)
        }
        #if PostgreSQL
        // The database may be failing over (or not up yet): tried again with backoff, for a while.
        var pause = Duration.milliseconds(250)
        let giveUp = ContinuousClock.now + .seconds(120)
        while true {
            do {
                return try await PostgresEventStore.open(url: database)
            } catch let error as EventLogError {
                throw error
            } catch let error as PostgresStoreError where !error.isTransient {
                throw error  // a bad URL: trying again changes nothing
            } catch {
                guard ContinuousClock.now + pause < giveUp else { throw error }
                FileHandle.standardOutput.write(Data("waiting for the database: \(error)\n".utf8))
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
        #else
        throw ValidationError(
            "--database \(database): this switchboard was built without PostgreSQL; build it with `swift build --traits PostgreSQL`")
        #endif
    }

    /// `switchboard.sqlite` → `switchboard.recordings`, in the same directory.
    static func recordingsBeside(_ database: String) -> String {
        let base = database.hasSuffix(".sqlite") ? String(database.dropLast(7)) : database
        return base + ".recordings"
    }

    var digestAlgorithms: [DigestAlgorithm]? {
        let names = sipDigest.split(separator: ",").map { $0.lowercased() }
        let algorithms = names.compactMap { name -> DigestAlgorithm? in
            switch name {
            case "sha256", "sha-256": .sha256
            case "md5": .md5
            default: nil
            }
        }
        guard !algorithms.isEmpty, algorithms.count == names.count, Set(algorithms).count == algorithms.count else { return nil }
        return algorithms
    }

    /// nil: the default; .some(nil): 'off' or unreadable; a port otherwise.
    var tlsPort: Int?? {
        guard let sipTLSPort else { return nil }
        if sipTLSPort == "off" { return .some(nil) }
        guard let port = Int(sipTLSPort), (0...65535).contains(port) else { return .some(nil) }
        return .some(port)
    }

    func tlsSettings(port: Int, host: String) throws -> TLSSettings {
        guard let sipTLSCert, let sipTLSKey else {
            do {
                return try .selfSigned(port: port, host: host)
            } catch {
                throw ValidationError("could not make a self-signed certificate for SIP over TLS: \(error)")
            }
        }
        do {
            let certificate = try String(contentsOfFile: sipTLSCert, encoding: .utf8)
            let key = try String(contentsOfFile: sipTLSKey, encoding: .utf8)
            // Checked now, so a wrong pair is a clear refusal at start rather than a dead TLS port.
            _ = try TLSContext(serverCertificatePEM: certificate, privateKeyPEM: key)
            return TLSSettings(port: port, certificatePEM: certificate, privateKeyPEM: key)
        } catch {
            throw ValidationError("--sip-tls-cert/--sip-tls-key: \(error)")
        }
    }

    /// HTTPS's certificate and key: the operator's, a self-signed one, or none (plain HTTP).
    func httpsCertificate() throws -> (certificatePEM: String, privateKeyPEM: String)? {
        if let httpsCert, let httpsKey {
            do {
                let certificate = try String(contentsOfFile: httpsCert, encoding: .utf8)
                let key = try String(contentsOfFile: httpsKey, encoding: .utf8)
                _ = try TLSContext(serverCertificatePEM: certificate, privateKeyPEM: key)  // a wrong pair is refused now
                return (certificate, key)
            } catch {
                throw ValidationError("--https-cert/--https-key: \(error)")
            }
        }
        guard https else { return nil }
        do {
            let made = try SelfSignedCertificate.make(commonName: "switchboard", names: [host, "localhost"] + httpsNames)
            FileHandle.standardOutput.write(Data("HTTPS with a self-signed certificate, SHA-256 \(made.fingerprint)\n".utf8))
            return (made.certificatePEM, made.privateKeyPEM)
        } catch {
            throw ValidationError("could not make a self-signed certificate for HTTPS: \(error)")
        }
    }

    /// `--media-address`: IPv4 or IPv6 literals (a candidate names an address, not a host name).
    func mediaAddresses(_ text: String) -> [String]? {
        let addresses = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let valid = addresses.allSatisfy { address in
            (try? SocketAddress(ipAddress: address, port: 0)) != nil
        }
        return !addresses.isEmpty && valid ? addresses : nil
    }

    var rtpRange: ClosedRange<Int>? {
        let parts = rtpPorts.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, parts[0] < parts[1], parts[0] >= 1024, parts[1] <= 65535 else { return nil }
        return parts[0]...parts[1]
    }

    /// SIP from the configuration's `sip` section and agents' `sipDigest`s; the demo's own otherwise.
    func sipSettings(_ configuration: SwitchboardConfiguration) throws -> SIPSettings {
        let host = sipHost ?? self.host
        var settings: SIPSettings
        if let sip = configuration.sip {
            // The same checks as `check-config`, so `serve` refuses exactly what it reports.
            if let problem = sipFieldProblems(configuration).first {
                throw ValidationError("invalid configuration: \(problem.field): \(problem.message)")
            }
            var credentials: [AgentID: DigestCredential] = [:]
            for agent in configuration.agents {
                if let credential = agent.sipDigest.flatMap(DigestCredential.init(stored:)) { credentials[AgentID(agent.id)] = credential }
            }
            // Supervisors' phones register the same way (SIP user names are people's ids, unique).
            for supervisor in configuration.supervisors {
                if let credential = supervisor.sipDigest.flatMap(DigestCredential.init(stored:)) {
                    credentials[AgentID(supervisor.id)] = credential
                }
            }
            settings = SIPSettings(
                host: host, port: sipPort, numbers: sip.numbers.mapValues { QueueID($0) }, trustedSources: Set(sip.trunks),
                credentials: credentials, gateway: sip.gateway.flatMap(gatewayPeer))
            settings.trunkCredentials = (sip.trunkAccounts ?? [:]).compactMapValues(DigestCredential.init(stored:))
            if let path = sip.music {
                do {
                    settings.music = try musicSource(path)
                } catch {
                    throw ValidationError("invalid configuration: sip.music: \(error)")
                }
            }
        } else {
            settings = .demo(
                host: host, port: sipPort, agents: (configuration.agents.map(\.id) + configuration.supervisors.map(\.id)).map { AgentID($0) })
        }
        settings.rtpPorts = rtpRange ?? settings.rtpPorts
        settings.digestAlgorithms = digestAlgorithms ?? settings.digestAlgorithms
        settings.tcpIncompleteTimeout = .seconds(sipTCPTimeout)
        settings.serverHeader = sipServerHeader
        settings.srtp = SRTPPolicy(rawValue: srtp) ?? .optional
        settings.qualifyInterval = sipQualifySeconds > 0 ? .seconds(sipQualifySeconds) : nil
        if let sip = configuration.sip { settings.webCallNumbers = Set(sip.webCallNumbers ?? []) }
        settings.webRTC = WebRTCSettings(
            addresses: mediaAddress.flatMap(mediaAddresses) ?? [], consentTimeout: .seconds(webRTCConsentSeconds))
        settings.browserGrace = .seconds(browserGraceSeconds)
        settings.webCallLimit = webCallLimit
        if let port = tlsPort ?? (sipPort == 0 ? 0 : sipPort + 1) {
            settings.tls = try tlsSettings(port: port, host: host)
        }
        return settings
    }

    /// The desktop's files: `--desktop`, else `Public` here, else `Public` in the repository this
    /// binary was built from (so `swift run` works from any directory).
    func desktopFolder() -> String? {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Public").path
        let candidates: [String] = desktop.map { [$0] } ?? ["Public", repository]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
    }
}

/// Prints an agent's SIP digest hashes for the configuration's `sipDigest` (the password is read
/// from standard input, so it stays out of the shell's history).
struct SIPHash: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sip-hash", abstract: "Make an agent's sipDigest from their SIP password (read from standard input).")

    @Argument(help: "The agent's ID (their SIP username).") var agent: String
    @Option(help: "The SIP realm.") var realm = "switchboard"

    func run() throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("give the SIP password on standard input")
        }
        print(DigestCredential(username: agent, realm: realm, password: line).stored)
    }
}

/// Lists every HTTP route the server registers, one "METHOD /path" a line, with each task
/// command spelled out; the API tests check docs/openapi.yaml against it.
struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the server's HTTP routes.")

    func run() async throws {
        let simulator = SimulatedTelephony()
        let center = try await ContactCenter(
            configuration: .demo(passwordHash: ""), store: InMemoryEventStore(), telephony: simulator)
        let router = buildRouter(
            center: center, sessions: Sessions(store: InMemoryEventStore(), clock: SystemClock()), simulator: simulator)
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
        step("agent1 signs in", .agent("agent1", .login))
        step("agent1 becomes available", .agent("agent1", .setAvailable))
        step("agent2 signs in", .agent("agent2", .login))
        step("the customer calls the sales queue", .arrival(call, queue: "sales", from: "+15550100"))
        step("agent1 accepts the offer", .desktop("agent1", call, .accept))
        step("agent2 becomes available", .agent("agent2", .setAvailable))
        step("agent1 consults agent2 (the customer hears hold music)", .desktop("agent1", call, .consult(to: .agent("agent2"))))
        step("agent2 answers the consult", .desktop("agent2", call, .consultAccept))
        step("agent1 clicks Conference (the customer is taken off hold)", .desktop("agent1", call, .conference))
        step("agent2 tries End Conference", .desktop("agent2", call, .endConference))
        step("agent1 tries to hold the customer", .desktop("agent1", call, .hold))
        step("agent2 clicks Exit Conference", .desktop("agent2", call, .exitConference))
        step("agent1 ends the call", .desktop("agent1", call, .end))
        step("agent1 applies a wrap-up reason", .desktop("agent1", call, .wrapUp(code: "resolved", notes: "demo")))
    }

    mutating func step(_ title: String, _ command: Command) {
        clock += 1_000
        print("▶ \(title)")
        switch center.handle(command, at: Timestamp(milliseconds: clock)) {
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
