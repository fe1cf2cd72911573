import CallControl
import Center
import Foundation
import Store
import Testing

/// A log written by Switchboard before the log had a schema (Fixtures/make_log_v0.py says how)
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

    @Test func aSchemaZeroLogIsMigratedAndReplaysToTheSameTasksAgentsAndHistories() async throws {
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture("log-v0-expected.json"))) as? [String: Any])
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log.sqlite").path
        try FileManager.default.copyItem(atPath: try Self.fixture("log-v0.sqlite").path, toPath: path)

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
            try await store.close()
        }
    }
}
