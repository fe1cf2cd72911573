import CallControl
import Center
import Foundation
import Store
import Synchronization
import Testing
import TestSupport

/// The demo's people and queues, with no passwords (the center never reads them).
let demo = SwitchboardConfiguration.demo(passwordHash: "")

/// Reads a user's event stream message by message.
struct StreamReader {
    var iterator: AsyncStream<String>.Iterator

    init(_ center: ContactCenter, user: String) async {
        iterator = await center.subscribe(user, since: nil).stream.makeAsyncIterator()
    }

    /// The next message, parsed.
    mutating func next() async throws -> [String: Any] {
        let text = try #require(await iterator.next(), "the stream ended")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Reads messages until one matches, and returns it.
    mutating func until(_ matches: ([String: Any]) -> Bool) async throws -> [String: Any] {
        while true {
            let message = try await next()
            if matches(message) { return message }
        }
    }

    /// Waits for the agent's state to become `state`.
    mutating func agent(_ id: String, becomes state: String) async throws {
        _ = try await until { message in
            let agent = message["agent"] as? [String: Any]
            return message["type"] as? String == "agent" && agent?["id"] as? String == id && agent?["state"] as? String == state
        }
    }
}

extension ContactCenter {
    /// Signs the agent in and makes them available.
    func available(_ agent: AgentID) async throws {
        try await execute(.agent(agent, .login))
        try await execute(.agent(agent, .setAvailable))
    }

    @discardableResult
    func mustAccept(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Outcome {
        let (outcome, _) = try await execute(command)
        #expect(outcome.rejection == nil, "\(command) was refused", sourceLocation: sourceLocation)
        return outcome
    }
}
