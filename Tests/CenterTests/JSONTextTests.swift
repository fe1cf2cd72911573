import CallControl
import Foundation
import Testing

@testable import Center
import Store

/// The hand-written JSON of task snapshots, agent views and stream messages must say exactly what
/// JSONEncoder (sorted keys) says: clients read both.
struct JSONTextTests {
    static func conference() -> (CallCenter, Interaction) {
        var center = CallCenter(
            configuration: CenterConfiguration(
                agents: [.init(id: "agent1", team: "t"), .init(id: "agent2", team: "t")],
                queues: [.init(id: "sales", teams: ["t"])], wrapUpCodes: ["done"], idleCodes: ["break"],
                autoWrapUpMilliseconds: 60_000))
        let steps: [Command] = [
            .agent("agent1", .login), .agent("agent1", .setAvailable), .agent("agent2", .login),
            .arrival("call-1", queue: "sales", from: "+15550100"), .desktop("agent1", "call-1", .accept),
            .agent("agent2", .setAvailable), .desktop("agent1", "call-1", .consult(to: .agent("agent2"))),
        ]
        for (index, command) in steps.enumerated() {
            _ = center.handle(command, at: Timestamp(milliseconds: 1_000 * Int64(index + 1)))
        }
        return (center, center.interactions["call-1"]!)
    }

    func parsed(_ bytes: [UInt8]) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test func numbersReadBackAsTheSameDoublesAndAnAbsentOneIsLeftOut() throws {
        var json = JSONText()
        json.object { json in
            json.member("third", Optional(1.0 / 3.0))
            json.member("whole", Optional(1.0))
            json.member("none", Optional<Double>.none)
            json.key("byReason")
            json.object { json in json.member(named: "lunch \"long\"", Int64(1_800_000)) }
        }
        let read = try parsed(json.bytes)
        #expect((read["third"] as? Double) == 1.0 / 3.0)
        #expect((read["whole"] as? Double) == 1.0)
        #expect(read["none"] == nil)
        #expect((read["byReason"] as? NSDictionary)?["lunch \"long\""] as? Int == 1_800_000)
    }

    @Test func aTaskSnapshotReadsTheSameAsJSONEncoderWritesIt() throws {
        let (center, interaction) = Self.conference()
        let snapshot = TaskSnapshot(
            interaction, configuration: center.configuration, wrapUpRequired: false,
            allowedActions: center.allowedActions(for: "agent1", in: "call-1"))
        #expect(snapshot.participants.contains { $0.deadline != nil })  // a ringing consult: optional fields present
        #expect(snapshot.jsonBytes == Array(encodeJSON(snapshot)))
    }

    @Test func aSnapshotOfACallTheCustomerLeftSaysWhenTheyLeft() throws {
        var (center, _) = Self.conference()
        _ = center.handle(.line("call-1", .hungUp(.customer)), at: Timestamp(milliseconds: 9_000))
        let snapshot = TaskSnapshot(
            center.interactions["call-1"]!, configuration: center.configuration, wrapUpRequired: true, allowedActions: [])
        #expect(snapshot.arrivedAt == 4_000)
        #expect(snapshot.customer.leftAt == 9_000)
        #expect(snapshot.jsonBytes == Array(encodeJSON(snapshot)))
    }

    @Test func aNoticeWithEscapedTextReadsTheSameAsJSONEncoderWritesIt() throws {
        let (center, interaction) = Self.conference()
        let agent = AgentView(center.agents["agent2"]!, displayName: "Zoë \"Z\" O'Neil\\ /\n\t\u{1}")
        let task = TaskSnapshot(interaction, configuration: center.configuration, wrapUpRequired: true, allowedActions: [])
        for notice in [Notice(seq: 7, type: "agent", agent: agent), Notice(seq: 8, type: "task", task: task, taskId: "call-1"),
                       Notice(seq: 9, type: "taskRemoved", taskId: "call-1", version: 4)] {
            #expect(try parsed(notice.jsonBytes) == parsed(Array(encodeJSON(notice))))
        }
    }
}

/// What JSONEncoder writes with sorted keys: the reference the hand-written JSON must match.
func encodeJSON(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try! encoder.encode(value)
}
