import ArgumentParser
import CallControl
import Center
import Foundation
import HTTPAPI
import Media
import SIP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A refusal of an administrator's command: its message on standard error, exit status 1, no usage text.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads a password: from the terminal without echo (asked twice), or one line of standard input.
func readPassword(prompt: String) throws -> String {
    guard isatty(STDIN_FILENO) == 1 else {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw CommandFailure("give the password on standard input")
        }
        return line
    }
    func ask(_ text: String) -> String {
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true) ?? ""
    }
    let first = ask(prompt)
    guard !first.isEmpty else { throw CommandFailure("the password is empty") }
    guard ask("Again: ") == first else { throw CommandFailure("the two passwords differ") }
    return first
}

/// `switchboard passwd`: a bcrypt hash for a configuration's `passwordHash`. The password never
/// comes from an argument (it would sit in the shell's history and the process list).
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a password hash for a configuration's passwordHash (the password is read from the terminal or standard input).")

    @Option(help: "bcrypt's cost: each step doubles the work of checking (and of guessing).") var cost = 12

    func validate() throws {
        if !(8...16).contains(cost) { throw ValidationError("--cost must be between 8 and 16") }
    }

    func run() throws {
        print(PasswordHash.make(try readPassword(prompt: "Password: "), cost: UInt8(cost)))
    }
}

/// `switchboard check-config FILE`: every problem, each with its field path; exit 1 if any.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config", abstract: "Check a configuration file and print each problem with its field path.")

    @Argument(help: "The JSON configuration file.") var file: String

    func run() throws {
        let problems: [ConfigurationProblem]
        switch SwitchboardConfiguration.check(path: file) {
        case .failure(let error):
            problems = [ConfigurationProblem(field: error.field, message: error.problem)]
        case .success(let configuration):
            problems = configuration.problems() + sipProblems(configuration)
            for warning in configuration.warnings() { print("\(file): warning: \(warning.field): \(warning.message)") }
        }
        guard !problems.isEmpty else {
            print("\(file) is valid")
            return
        }
        for problem in problems { print("\(file): \(problem.field): \(problem.message)") }
        throw ExitCode(1)
    }
}

/// What `serve` would refuse in the `sip` section and the agents' `sipDigest`s, the music file included.
func sipProblems(_ configuration: SwitchboardConfiguration) -> [ConfigurationProblem] {
    var found = sipFieldProblems(configuration)
    if let path = configuration.sip?.music {
        do {
            _ = try musicSource(path)
        } catch {
            found.append(.init(field: "sip.music", message: "\(error)"))
        }
    }
    return found
}

/// The gateway's `host:port` as a SIP peer (UDP); nil if it is not that shape.
func gatewayPeer(_ text: String) -> SIPPeer? {
    let parts = text.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
    return SIPPeer(.udp, host: String(parts[0]), port: port)
}

/// The same, without reading any file.
func sipFieldProblems(_ configuration: SwitchboardConfiguration) -> [ConfigurationProblem] {
    var found: [ConfigurationProblem] = []
    for (index, agent) in configuration.agents.enumerated() {
        if let stored = agent.sipDigest, DigestCredential(stored: stored) == nil {
            found.append(.init(field: "agents[\(index)].sipDigest", message: "is not md5:HEX,sha256:HEX (switchboard sip-hash makes it)"))
        }
    }
    for (index, supervisor) in configuration.supervisors.enumerated() {
        if let stored = supervisor.sipDigest, DigestCredential(stored: stored) == nil {
            found.append(.init(field: "supervisors[\(index)].sipDigest", message: "is not md5:HEX,sha256:HEX (switchboard sip-hash makes it)"))
        }
    }
    guard let sip = configuration.sip else { return found }
    let queues = Set(configuration.queues.map(\.id))
    for (number, queue) in sip.numbers.sorted(by: { $0.key < $1.key }) where !queues.contains(queue) {
        found.append(.init(field: "sip.numbers.\(number)", message: "'\(queue)' is not a queue"))
    }
    for (username, stored) in (sip.trunkAccounts ?? [:]).sorted(by: { $0.key < $1.key }) where DigestCredential(stored: stored) == nil {
        found.append(.init(field: "sip.trunkAccounts.\(username)", message: "is not md5:HEX,sha256:HEX (switchboard sip-hash makes it)"))
    }
    for number in sip.webCallNumbers ?? [] where sip.numbers[number] == nil {
        found.append(.init(field: "sip.webCallNumbers", message: "'\(number)' is not one of sip.numbers"))
    }
    if let gateway = sip.gateway, gatewayPeer(gateway) == nil {
        found.append(.init(field: "sip.gateway", message: "is HOST:PORT"))
    }
    return found
}

/// `switchboard init-config FILE`: the demo's center written out as a file to edit: every
/// password (sign-in and SIP) is "switchboard" until changed.
struct InitConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init-config", abstract: "Write a starter configuration (the demo's center) to a new file.")

    @Argument(help: "The file to write; an existing file is never overwritten.") var file: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: file) else {
            throw CommandFailure("\(file) exists already: choose another name (it is never overwritten)")
        }
        var configuration = SwitchboardConfiguration.demo(passwordHash: PasswordHash.make("switchboard", cost: 10))
        for index in configuration.agents.indices {
            let id = configuration.agents[index].id
            configuration.agents[index].sipDigest =
                DigestCredential(username: id, realm: "switchboard", password: "switchboard").stored
        }
        for index in configuration.supervisors.indices {
            let id = configuration.supervisors[index].id
            configuration.supervisors[index].sipDigest =
                DigestCredential(username: id, realm: "switchboard", password: "switchboard").stored
        }
        configuration.sip = .init(numbers: ["2000": "sales", "2001": "support"], trunks: ["127.0.0.1", "::1"])
        configuration.sip?.webCallNumbers = ["2000", "2001"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(configuration).write(to: URL(fileURLWithPath: file), options: .withoutOverwriting)
        } catch {
            throw CommandFailure("cannot write \(file): \(error.localizedDescription)")
        }
        print("""
            wrote \(file): the demo's center. Every password is "switchboard": give each person their own
            with `switchboard passwd` (passwordHash) and `switchboard sip-hash ID` (sipDigest), then
            `switchboard check-config \(file)` and `switchboard serve --config \(file)`.
            """)
    }
}

/// The music on hold from a WAV file; a problem says what is wrong with it.
func musicSource(_ path: String) throws -> MusicSource {
    guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("'\(path)' cannot be read") }
    let samples: [Int16]
    do {
        samples = try WAVFile.samples(Array(data))
    } catch .notWAV {
        throw CommandFailure("'\(path)' is not a WAV file")
    } catch .unsupported(let why) {
        throw CommandFailure("'\(path)': \(why)")
    }
    guard samples.count >= Frame.samples else { throw CommandFailure("'\(path)' holds less than 20 ms of sound") }
    return MusicSource(samples: samples)
}
