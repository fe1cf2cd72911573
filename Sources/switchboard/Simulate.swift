import APIClient
import ArgumentParser
import Foundation

/// `switchboard simulate`: places simulated customer calls against a running server (its call
/// simulator must be on), at a steady rate, round-robin over the queues.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place simulated customer calls against a running server.")

    @Option(help: "Calls per second.") var rate: Double = 1
    @Option(help: "For how many seconds.") var duration: Double = 10
    @Option(help: "The server.") var url = "http://127.0.0.1:8080/"
    @Option(help: "Queues to call, comma-separated (default: every queue).") var queues: String?
    @Option(help: "Who signs in to place calls (any user).") var user = "supervisor1"
    @Option(help: "That user's password.") var password = "switchboard"

    func validate() throws {
        guard rate > 0, rate <= 1_000 else { throw ValidationError("--rate must be above 0 and at most 1000") }
        guard duration > 0, duration <= 86_400 else { throw ValidationError("--duration must be above 0 and at most 86400") }
        _ = try parseAddress()
    }

    func parseAddress() throws -> ServerAddress {
        do { return try ServerAddress(url: url) } catch { throw ValidationError("--url: \(error)") }
    }

    func run() async throws {
        let address = try parseAddress()
        let (placed, refused): (Int, [String: Int])
        do {
            (placed, refused) = try await HTTPConnection.open(address) { try await place(&$0) }
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot talk to the server at \(address): \(error)")
        }
        let refusals = refused.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
        print("placed \(placed) calls" + (refusals.isEmpty ? "" : "; refused: " + refusals.joined(separator: ", ")))
    }

    func place(_ connection: inout HTTPConnection) async throws -> (Int, [String: Int]) {
        let token = try await signIn(&connection, user: user, password: password)
        var targets = queues.map { $0.split(separator: ",").map(String.init) } ?? []
        if targets.isEmpty {
            let answer = try await connection.send(.GET, "/v1/queues", token: token)
            targets = try JSONDecoder().decode([Named].self, from: Data(answer.body)).map(\.id)
        }
        guard !targets.isEmpty else { throw ValidationError("the server has no queues") }
        let interval = Duration.seconds(1 / rate)
        let count = Int((rate * duration).rounded(.down))
        let start = ContinuousClock.now
        var placed = 0
        var refused: [String: Int] = [:]
        for index in 0..<count {
            try await Task.sleep(until: start + interval * index, clock: .continuous)
            let body = try JSONEncoder().encode(
                ["queueId": targets[index % targets.count], "from": "+1555\(String(format: "%07d", index % 10_000_000))"])
            let answer = try await connection.send(.POST, "/v1/sim/calls", token: token, json: Array(body))
            if answer.status == 201 {
                placed += 1
            } else {
                guard let refusal = try? JSONDecoder().decode(ErrorBody.self, from: Data(answer.body)) else {
                    // No API error body: the route itself is missing.
                    throw ValidationError(answer.status == 404
                        ? "the server's call simulator is off (start it with --telephony simulator)"
                        : "unexpected answer: HTTP \(answer.status)")
                }
                refused[refusal.error.code, default: 0] += 1
            }
        }
        return (placed, refused)
    }
}

struct Named: Decodable { var id: String }
struct ErrorBody: Decodable {
    struct Detail: Decodable { var code: String; var message: String }
    var error: Detail
}

/// Signs in and returns the bearer token.
func signIn(_ connection: inout HTTPConnection, user: String, password: String) async throws -> String {
    struct Token: Decodable { var token: String }
    let body = try JSONEncoder().encode(["username": user, "password": password])
    let answer = try await connection.send(.POST, "/v1/auth/login", json: Array(body))
    guard answer.status == 200 else {
        throw ValidationError("cannot sign in as \(user): HTTP \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
    }
    return try JSONDecoder().decode(Token.self, from: Data(answer.body)).token
}
