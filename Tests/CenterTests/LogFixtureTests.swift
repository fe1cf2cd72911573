import CallControl
import Center
import Foundation
import Store
import Testing

/// Logs written by earlier Switchboards, one per schema (Fixtures/make_log.py says how each was made),
/// must open, be migrated, and replay to exactly what that server showed before it was killed.
@Suite("Event log written by an earlier Switchboard")
struct LogFixtureTests {
    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    }

    /// `expected` holds only what the old server showed; the new views may show more.
    static func contains(_ actual: Any, _ expected: Any, at path: String = "") -> [String] {
        switch (actual, expected) {
        case (let actual as [String: Any], let expected as [String: Any]):
            return expected.flatMap { key, value in
                actual[key].map { contains($0, value, at: "\(path).\(key)") } ?? ["\(path).\(key) is missing"]
            }
        case (let actual as [Any], let expected as [Any]):
            guard actual.count == expected.count else { return ["\(path) has \(actual.count), not \(expected.count)"] }
            return zip(actual, expected).enumerated().flatMap { contains($1.0, $1.1, at: "\(path)[\($0)]") }
        default:
            return (actual as? NSObject) == (expected as? NSObject) ? [] : ["\(path): \(actual) ≠ \(expected)"]
        }
    }

    static func json(_ value: some JSONWritable) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(value.jsonBytes))
    }

    /// v0: before the log had a schema (commit c95c02d); v1: customers only as numbers (commit 2cb4d1d);
    /// v2: before supervisors on calls and recording (commit ec79d10).
    @Test(arguments: ["v0", "v1", "v2"])
    func anEarlierSchemasLogIsMigratedAndReplaysToTheSameTasksAgentsHistoriesAndPastInteractions(_ version: String) async throws {
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture("log-\(version)-expected.json"))) as? [String: Any])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log.sqlite").path
        try FileManager.default.copyItem(atPath: try Self.fixture("log-\(version).sqlite").path, toPath: path)

        for opening in ["migrated", "reopened after migration"] {
            let store = try await SQLiteEventStore.open(path: path)
            let center = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: ManualClock())
            let tasks = try await center.tasks(for: nil).map(Self.json)
            let problems = Self.contains(tasks, expected["tasks"]!, at: "tasks")
            #expect(problems.isEmpty, "\(opening): \(problems)")
            let agents = try await center.agentViews().map(Self.json)
            let agentProblems = Self.contains(agents, expected["agents"]!, at: "agents")
            #expect(agentProblems.isEmpty, "\(opening): \(agentProblems)")
            for (task, names) in try #require(expected["history"] as? [String: [String]]) {
                let history = try await center.history(InteractionID(task), for: nil)
                #expect(history?.map { HistoryEntry($0).event } == names, "\(opening): \(task)")
            }
            // The finished and the abandoned call are forgotten by the live center, not by the log.
            for key in ["finished", "abandoned"] {
                let task = InteractionID(try #require(expected[key] as? String))
                #expect(await center.snapshot(task, for: nil) == nil)
                #expect(try await center.history(task, for: nil)?.isEmpty == false)
            }
            if let listed = (expected["interactions"] as? [String: Any])?["interactions"] as? [[String: Any]] {
                // The past interactions, as that server listed them (each caller a number then).
                let finished = try await center.finishedInteractions(FinishedQuery(), viewer: nil)
                #expect(finished.map(\.id.rawValue) == listed.map { $0["id"] as? String }, "\(opening)")
                #expect(finished.map { $0.caller.number?.rawValue } == listed.map { $0["customerNumber"] as? String }, "\(opening)")
                #expect(finished.map { $0.agents.map(\.agent.rawValue) }
                    == listed.map { ($0["agents"] as? [[String: Any]] ?? []).compactMap { $0["agentId"] as? String } }, "\(opening)")
                #expect(finished.allSatisfy { !$0.caller.withheld && $0.caller.name == nil }, "\(opening)")
            }
            try await store.close()
        }
    }
}
