import APIClient
import ArgumentParser
import Foundation
import NIOHTTP1
import NIOPosix
import Center
import HTTPAPI
import Synchronization

/// `switchboard load`: starts a fresh server (its own configuration, a temporary SQLite file, the
/// call simulator) as a child process, then drives N concurrent calls through full conference
/// lifecycles over the real HTTP API, with each agent's event stream open, and reports durable
/// commands per second and latency percentiles.
///
/// One lifecycle, for a pair of agents A and B with their own queue: the customer calls (routed
/// to A), A accepts, consults B, B accepts, A conferences, B exits, A ends, A wraps up.
struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the server: concurrent conference lifecycles over HTTP and WebSocket.")

    @Option(help: "Concurrent calls (each has its own two agents).") var calls = 200
    @Option(help: "Seconds of measured load (after every agent has signed in).") var duration: Double = 20
    @Option(help: "Commands per second offered in all (spread evenly over the calls); default: as fast as answers come back.")
    var rate: Double?
    @Option(help: "The server's SQLite durability: full (fsync at every commit) or normal.")
    var sync = "full"
    @Option(help: "A folder for the server's configuration and SQLite file (default: a new temporary one).")
    var directory: String?
    @Option(help: "For a soak: every this many seconds, sample the server's memory and database size, and report command p99 per period (default: 60 for runs of 3 minutes or more).")
    var reportEvery: Double?
    @Option(help: "Sign-ins per second through the measured window, each by one of extra agents whose password is hashed at bcrypt cost 12 as in a real configuration (each signs out again): a shift's start.")
    var signInsPerSecond: Double = 0
    @Option(help: "The server's database instead of a new SQLite file: postgres://USER@HOST:PORT/DB (an empty database; a build with the PostgreSQL trait).")
    var database: String?
    @Flag(help: "Run the server without its report projections (reports.enabled false): the reference that measures what keeping them costs.")
    var noReports = false
    @Flag(help: "Start on the folder's existing load.sqlite (an earlier run's log, say a soak's) instead of an empty one: is a command slower on a big log?")
    var keepDatabase = false

    /// The sampling period, if any.
    var period: Double? { reportEvery ?? (duration >= 180 ? 60 : nil) }

    func validate() throws {
        guard (1...2_000).contains(calls) else { throw ValidationError("--calls must be between 1 and 2000") }
        guard duration > 0, duration <= 3_600 else { throw ValidationError("--duration must be above 0 and at most 3600") }
        if let rate, !(rate > 0 && rate <= 1_000_000) { throw ValidationError("--rate must be above 0") }
        if let reportEvery, !(reportEvery >= 1 && reportEvery <= duration) {
            throw ValidationError("--report-every must be between 1 and the duration")
        }
        guard ["full", "normal"].contains(sync) else { throw ValidationError("--sync is full or normal") }
        if keepDatabase, directory == nil { throw ValidationError("--keep-database needs --directory") }
        guard signInsPerSecond >= 0, signInsPerSecond <= 100 else {
            throw ValidationError("--sign-ins-per-second must be between 0 and 100")
        }
    }

    /// Enough shift agents that one is not signing in twice at once, even when sign-ins queue.
    var shiftAgents: Int { signInsPerSecond > 0 ? Int((signInsPerSecond * 30).rounded(.up)) : 0 }

    func run() async throws {
        let folder = directory ?? NSTemporaryDirectory() + "switchboard-load-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // A folder of our own making goes when the run ends; one the user named stays, for a look.
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let configurationPath = folder + "/load.json"
        var configuration = Self.configuration(pairs: calls, shiftAgents: shiftAgents)
        if noReports { configuration.reports = .init(); configuration.reports?.enabled = false }
        try JSONEncoder().encode(configuration).write(to: URL(fileURLWithPath: configurationPath))
        let database = self.database ?? folder + "/load.sqlite"
        if self.database != nil {
            // PostgreSQL: the database given, as it is (the caller makes it empty).
        } else if !keepDatabase {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        } else if !FileManager.default.fileExists(atPath: database) {
            throw ValidationError("--keep-database: no load.sqlite in \(folder)")
        }

        let server = try ChildServer(arguments: [
            "serve", "--config", configurationPath, "--database", database, "--port", "0",
            "--telephony", "simulator", "--drain-seconds", "0", "--sync", sync, "--recordings", folder + "/recordings",
        ])
        defer { server.stop() }
        if self.database != nil {
            print("server: \(server.address) (PostgreSQL)")
        } else {
            print("server: \(server.address) (SQLite synchronous=\(sync.uppercased()) in \(folder))")
        }

        let gate = StartGate(count: calls, duration: .milliseconds(Int64(duration * 1000)))
        // Bounded whatever happens: a run that has not finished long after its window stops.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(duration + 120))
            print("load: not finished two minutes after the measured window; stopping. Where the calls are:")
            for (phase, count) in Dictionary(grouping: Driver.phases.withLock { $0 }, by: { $0 }).mapValues(\.count)
                .sorted(by: { $0.key < $1.key }) {
                print("  \(count) × \(phase)")
            }
            server.stop()
            Foundation.exit(1)
        }
        defer { watchdog.cancel() }
        let sampler = period.map { period in
            Task { await ServerSampler(process: server.process.processIdentifier, database: database).run(
                gate: gate, every: period, for: duration) }
        }
        let signIns = signInsPerSecond > 0
            ? Task { await SignInDriver(address: server.address, gate: gate, perSecond: signInsPerSecond, users: shiftAgents).run() }
            : nil
        let results = await withTaskGroup(of: Samples.self) { group in
            for index in 0..<calls {
                let interval = rate.map { Duration.seconds(Double(calls) / $0) }
                group.addTask { await Driver(index: index, address: server.address, gate: gate, interval: interval).run() }
            }
            var all = Samples()
            for await samples in group { all.merge(samples) }
            return all
        }
        let elapsed = await gate.elapsed()
        report(results, elapsed: elapsed)
        if let signIns {
            let (latencies, failures) = await signIns.value
            print("sign-ins (bcrypt cost 12, \(signInsPerSecond)/s offered): \(Self.percentiles(latencies)), \(failures.count) failures")
            for failure in failures.prefix(5) { print("failure: \(failure)") }
        }
        if let sampler, let period { ServerSampler.report(await sampler.value, results, every: period) }
    }

    static func configuration(pairs: Int, shiftAgents: Int = 0) -> SwitchboardConfiguration {
        // A low bcrypt cost: hundreds of sign-ins are part of the set-up, not of the measure.
        let hash = PasswordHash.make("load", cost: 4)
        var agents: [SwitchboardConfiguration.Agent] = []
        var queues: [SwitchboardConfiguration.Queue] = []
        for index in 0..<pairs {
            agents.append(.init(id: "a\(index)", displayName: "Agent A\(index)", passwordHash: hash, team: "t\(index)"))
            agents.append(.init(id: "b\(index)", displayName: "Agent B\(index)", passwordHash: hash, team: "u\(index)"))
            queues.append(.init(id: "q\(index)", name: "Queue \(index)", teams: ["t\(index)"]))
        }
        // The shift's agents sign in during the measure, so theirs is a real configuration's cost.
        let shiftHash = shiftAgents > 0 ? PasswordHash.make("load", cost: 12) : hash
        for index in 0..<shiftAgents {
            agents.append(.init(id: "s\(index)", displayName: "Shift agent \(index)", passwordHash: shiftHash, team: "shift"))
        }
        return SwitchboardConfiguration(
            agents: agents, supervisors: [.init(id: "sup", displayName: "Supervisor", passwordHash: hash)],
            queues: queues, wrapUpCodes: [.init(id: "resolved", name: "Resolved")],
            idleCodes: [.init(id: "break", name: "Break")],
            desktopProfile: .init(
                ringNoAnswerSeconds: 600, autoWrapUpSeconds: nil, defaultWrapUpCode: "resolved",
                maxConferenceParticipants: 3))
    }

    func report(_ samples: Samples, elapsed: Duration) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let throughput = Double(samples.commands) / seconds
        let offered = rate.map { ", \(Int($0)) commands/s offered" } ?? ", closed loop"
        print("""
            \(calls) concurrent calls\(offered) for \(String(format: "%.1f", seconds)) s: \(samples.lifecycles) conference lifecycles, \
            \(samples.commands) durable commands, \(samples.failures.count) failures
            throughput: \(String(format: "%.0f", throughput)) commands/s
            command (sent → answer):              \(Self.percentiles(samples.commandLatencies))
            event (sent → the other agent's event): \(Self.percentiles(samples.eventLatencies))
            """)
        for failure in samples.failures.prefix(5) { print("failure: \(failure)") }
    }

    static func percentiles(_ nanoseconds: [Int64]) -> String {
        guard !nanoseconds.isEmpty else { return "no samples" }
        let sorted = nanoseconds.sorted()
        func at(_ fraction: Double) -> String {
            let value = sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
            return String(format: "%.2f ms", Double(value) / 1e6)
        }
        return "p50 \(at(0.5)), p99 \(at(0.99)), p99.9 \(at(0.999)), max \(at(1)) (\(sorted.count) samples)"
    }
}

/// What the drivers measured.
struct Samples: Sendable {
    var commandLatencies: [Int64] = []
    /// When each command was sent (or due), in nanoseconds since the measured window opened.
    var commandTimes: [Int64] = []
    var eventLatencies: [Int64] = []
    var windowStart: ContinuousClock.Instant?
    var commands = 0
    var lifecycles = 0
    var failures: [String] = []
    /// With a paced load: when the next command is due.
    var nextCommand: ContinuousClock.Instant?

    mutating func merge(_ other: Samples) {
        commandLatencies += other.commandLatencies
        commandTimes += other.commandTimes
        eventLatencies += other.eventLatencies
        commands += other.commands
        lifecycles += other.lifecycles
        failures += other.failures
    }
}

/// Lets every driver sign in first, then starts the measured window for all at once.
actor StartGate {
    let count: Int
    let duration: Duration
    private var waiting: [CheckedContinuation<ContinuousClock.Instant, Never>] = []
    /// Drivers that are ready or gave up before being ready.
    private var arrived = Set<Int>()
    private var start: ContinuousClock.Instant?
    private var openWaiters: [CheckedContinuation<ContinuousClock.Instant, Never>] = []
    private var last: ContinuousClock.Instant?

    init(count: Int, duration: Duration) {
        self.count = count
        self.duration = duration
    }

    /// Returns when every driver is ready (or has given up): the measured window's deadline.
    func ready(_ driver: Int) async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            waiting.append(continuation)
            arrived.insert(driver)
            openIfAllArrived()
        }
    }

    /// A driver that failed before it was ready: the others need not wait for it.
    func abandon(_ driver: Int) {
        if arrived.insert(driver).inserted { openIfAllArrived() }
    }

    private func openIfAllArrived() {
        guard arrived.count == count else { return }
        let now = ContinuousClock.now
        start = start ?? now
        for waiter in waiting { waiter.resume(returning: now + duration) }
        waiting = []
        for waiter in openWaiters { waiter.resume(returning: start!) }
        openWaiters = []
    }

    func finished() { last = ContinuousClock.now }

    /// Returns when the measured window opens, with the moment it opened.
    func opened() async -> ContinuousClock.Instant {
        if let start { return start }
        return await withCheckedContinuation { openWaiters.append($0) }
    }

    func elapsed() -> Duration {
        guard let start, let last else { return .zero }
        return last - start
    }
}

/// Agents of a shift signing in (and straight out again) at a steady rate through the measured
/// window, each sign-in on a connection of its own, not waiting for the one before: an open loop.
/// Each latency is from when the sign-in was due to its answer.
struct SignInDriver: Sendable {
    let address: ServerAddress
    let gate: StartGate
    let perSecond: Double
    let users: Int

    func run() async -> (latencies: [Int64], failures: [String]) {
        let start = await gate.opened()
        let end = start + gate.duration
        let interval = Duration.seconds(1 / perSecond)
        return await withTaskGroup(of: Result<Int64, any Error>.self) { group in
            var due = start
            var count = 0
            while due < end {
                try? await Task.sleep(until: due)
                let (user, when) = ("s\(count % users)", due)
                group.addTask {
                    do {
                        return try await HTTPConnection.open(address) { connection -> Result<Int64, any Error> in
                            let token = try await signIn(&connection, user: user, password: "load")
                            let latency = (ContinuousClock.now - when).nanoseconds
                            let out = try await connection.send(.POST, "/v1/auth/logout", token: token)
                            guard out.status < 300 else { throw ValidationError("\(user): sign-out answered \(out.status)") }
                            return .success(latency)
                        }
                    } catch {
                        return .failure(error)
                    }
                }
                count += 1
                due = start + interval * count
            }
            var latencies: [Int64] = []
            var failures: [String] = []
            for await result in group {
                switch result {
                case .success(let latency): latencies.append(latency)
                case .failure(let error): failures.append("sign-in: \(error)")
                }
            }
            return (latencies, failures)
        }
    }
}

/// One simulated call's two agents, each with a kept-open HTTP connection and an event stream.
struct Driver: Sendable {
    /// What each call is doing, for the watchdog's report if a run does not finish.
    static let phases = Mutex([String](repeating: "not started", count: 2_000))

    func phase(_ text: String) { Self.phases.withLock { $0[index] = text } }

    let index: Int
    let address: ServerAddress
    let gate: StartGate
    /// Time between two commands of this call when the load is paced (`--rate`).
    let interval: Duration?


    /// Runs the call's lifecycles; a failure ends this call only, and is reported.
    func run() async -> Samples {
        do {
            return try await lifecycles()
        } catch {
            await gate.abandon(index)
            var samples = Samples()
            samples.failures.append("call \(index): \(error)")
            return samples
        }
    }

    func lifecycles() async throws -> Samples {
        // Signing in happens once, so plain async code does; the measured part runs on an event loop.
        let tokens = try await HTTPConnection.open(address) { connection in
            var tokens: [String] = []
            for user in ["a\(index)", "b\(index)"] {
                let token = try await signIn(&connection, user: user, password: "load")
                let available = Array(#"{"state":"available"}"#.utf8)
                _ = try await connection.send(.PUT, "/v1/me/state", token: token, json: available)
                tokens.append(token)
            }
            return tokens
        }
        phase("opening the event streams")
        let call = LoadCall(index: index, loop: MultiThreadedEventLoopGroup.singleton.next(), address: address,
                            tokens: tokens, gate: gate, interval: interval)
        return await call.run()
    }

    static let versionKey = Array(#""version":"#.utf8)

    /// The number after the first `"version":` (a snapshot's own; participants have none).
    static func version(in bytes: Span<UInt8>) -> Int? {
        var index = 0
        while index + versionKey.count <= bytes.count {
            var found = true
            for offset in 0..<versionKey.count where bytes[index + offset] != versionKey[offset] {
                found = false
                break
            }
            if found {
                var value = 0
                var digit = index + versionKey.count
                while digit < bytes.count, bytes[digit] >= 48, bytes[digit] <= 57 {
                    value = value * 10 + Int(bytes[digit] - 48)
                    digit += 1
                }
                return value
            }
            index += 1
        }
        return nil
    }

    static func contains(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
        guard needle.count <= haystack.count else { return false }
        outer: for start in 0...(haystack.count - needle.count) {
            for offset in 0..<needle.count where haystack[start + offset] != needle[offset] { continue outer }
            return true
        }
        return false
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// A `switchboard serve` child process, stopped with SIGTERM.
final class ChildServer: Sendable {
    let process: Process
    let address: ServerAddress

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Up to "Switchboard is running: http://HOST:PORT/" (on PostgreSQL, after "holds the lease").
        var text = ""
        while !text.contains("is running: http://") || !text.hasSuffix("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw ValidationError("the server stopped before listening: \(text)") }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let said = text.range(of: "is running: ") else { throw ValidationError("unexpected server output: \(text)") }
        address = try ServerAddress(url: String(text[said.upperBound...].prefix { !$0.isWhitespace }))
        self.process = process
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// For a soak: samples the server's memory (from /proc) and its database's size every period of the
/// measured window, and reports them beside each period's command p99.
struct ServerSampler: Sendable {
    struct Sample: Sendable {
        var at: Double
        var rssMiB: Double
        var anonMiB: Double
        var databaseMiB: Double
        /// The server's CPU time so far (user + system), in seconds, from /proc/PID/stat.
        var serverCPU: Double
        /// The machine's CPU counters so far (from /proc/stat's first line), in ticks: all of
        /// them, and those stolen by the hypervisor. A slow minute with much steal is the VM's.
        var machineTicks: Double
        var stolenTicks: Double
    }

    let process: Int32
    let database: String

    func run(gate: StartGate, every period: Double, for duration: Double) async -> [Sample] {
        let start = await gate.opened()
        var samples: [Sample] = []
        var next = 0.0
        while next <= duration {
            try? await Task.sleep(until: start + .milliseconds(Int64(next * 1000)), clock: .continuous)
            samples.append(sample(at: next))
            next += period
        }
        return samples
    }

    func sample(at time: Double) -> Sample {
        var rss = 0.0, anon = 0.0
        let status = (try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kB = Double(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { rss = kB / 1024 }
            if fields[0] == "RssAnon:" { anon = kB / 1024 }
        }
        let bytes = ["", "-wal"].reduce(0.0) { total, suffix in
            total + ((try? FileManager.default.attributesOfItem(atPath: database + suffix)[.size] as? Int).map(Double.init) ?? 0)
        }
        let serverCPU = ProcessCPU.seconds(statFile: "/proc/\(process)/stat") ?? 0
        // /proc/stat's "cpu" line: user nice system idle iowait irq softirq steal ...
        var machine = 0.0, stolen = 0.0
        if let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let line = stat.split(separator: "\n").first {
            let counters = line.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
            machine = counters.reduce(0, +)
            stolen = counters.count == 8 ? counters[7] : 0
        }
        return Sample(
            at: time, rssMiB: rss, anonMiB: anon, databaseMiB: bytes / 1_048_576,
            serverCPU: serverCPU, machineTicks: machine, stolenTicks: stolen)
    }

    static func report(_ samples: [Sample], _ results: Samples, every period: Double) {
        print("\nperiod      commands/s  p99 ms   p99.9 ms  RSS MiB  heap MiB  database MiB  server CPU %  steal %")
        let periodNanoseconds = Int64(period * 1e9)
        var byPeriod: [Int: [Int64]] = [:]
        for (time, latency) in zip(results.commandTimes, results.commandLatencies) where time >= 0 {
            byPeriod[Int(time / periodNanoseconds), default: []].append(latency)
        }
        for (index, sample) in samples.enumerated() {
            let latencies = (byPeriod[index - 1] ?? []).sorted()
            func at(_ fraction: Double) -> String {
                guard !latencies.isEmpty else { return "     -" }
                let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * fraction))]
                return String(format: "%6.1f", Double(value) / 1e6)
            }
            let label = index == 0 ? "start" : String(format: "%4.0f–%-4.0f s", sample.at - period, sample.at)
            // Over the period just ended: the server's CPU (100 % = one core) and the share of
            // the machine's time the hypervisor took.
            var cpu = "           -", steal = "      -"
            if index > 0 {
                let before = samples[index - 1]
                cpu = String(format: "%12.0f", (sample.serverCPU - before.serverCPU) / period * 100)
                let ticks = sample.machineTicks - before.machineTicks
                if ticks > 0 { steal = String(format: "%7.1f", (sample.stolenTicks - before.stolenTicks) / ticks * 100) }
            }
            print(String(format: "%-11@ %10.0f  %@   %@    %7.1f  %8.1f  %12.1f  %@  %@", label as NSString,
                         Double(latencies.count) / period, at(0.99) as NSString, at(0.999) as NSString,
                         sample.rssMiB, sample.anonMiB, sample.databaseMiB, cpu as NSString, steal as NSString))
        }
    }
}
