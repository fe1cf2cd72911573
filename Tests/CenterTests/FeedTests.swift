import CallControl
import Foundation
import Testing

@testable import Center

/// What a user's stream keeps for replay follows live work, not traffic.
@Suite("Event stream feed")
struct FeedTests {
    static func snapshot(_ id: String, version: Int, status: String = "connected", wrapUpPending: Bool = false) -> TaskSnapshot {
        var center = CallCenter(
            configuration: CenterConfiguration(
                agents: [.init(id: "agent1", team: "t")], queues: [.init(id: "sales", teams: ["t"])],
                wrapUpCodes: ["done"], idleCodes: ["break"]))
        _ = center.handle(.arrival(InteractionID(id), queue: "sales", from: "+15550100"), at: Timestamp(milliseconds: 1))
        var task = TaskSnapshot(
            center.interactions[InteractionID(id)]!, configuration: center.configuration, wrapUpRequired: false,
            allowedActions: [])
        task.version = version
        task.status = status
        task.wrapUpPending = wrapUpPending
        return task
    }

    static func seqs(_ messages: [String]?) throws -> [Int] {
        try #require(messages).map { text in
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            return object?["seq"] as? Int ?? -1
        }
    }

    @Test func manyChangesToTheSameTasksKeepOneMessageEach() throws {
        var feed = Feed()
        var seq = 0
        for version in 1...5_000 {
            for task in ["c1", "c2", "c3"] {
                seq += 1
                feed.publish(Notice(type: "task", task: Self.snapshot(task, version: version), taskId: task), at: seq)
            }
        }
        #expect(feed.keptMessages == 3)
        // A client whose last message was one of the last few gets the latest of each task from it on, in order.
        #expect(try Self.seqs(feed.messages(from: 14_999)) == [14_999, 15_000])
        #expect(try Self.seqs(feed.messages(from: 1)) == [14_998, 14_999, 15_000])
    }

    @Test func aCommandsMessagesShareItsNumberAndAReplayFromThatNumberHasThemAll() throws {
        var feed = Feed()
        feed.publish(Notice(type: "task", task: Self.snapshot("c1", version: 1), taskId: "c1"), at: 41)
        // One command (events 42–44): the task and another task for this user, both numbered 44.
        feed.publish(Notice(type: "task", task: Self.snapshot("c1", version: 2), taskId: "c1"), at: 44)
        feed.publish(Notice(type: "task", task: Self.snapshot("c2", version: 1), taskId: "c2"), at: 44)
        // The connection dropped after the first of them: from 44, both come (one again).
        #expect(try Self.seqs(feed.messages(from: 44)) == [44, 44])
        #expect(try Self.seqs(feed.messages(from: 45)) == [])
    }

    @Test func endedTasksAreKeptOnlyAmongTheNewestEndingsAndOlderClientsResync() throws {
        var feed = Feed()
        let finished = Feed.keptEndings + 100
        for index in 1...finished {
            let id = "c\(index)"
            feed.publish(Notice(type: "task", task: Self.snapshot(id, version: 1), taskId: id), at: 2 * index - 1)
            // A supervisor's last word on a task: ended, nobody owes a wrap-up.
            feed.publish(Notice(type: "task", task: Self.snapshot(id, version: 2, status: "ended"), taskId: id), at: 2 * index)
        }
        feed.publish(Notice(type: "taskRemoved", taskId: "c-last", version: 3), at: 2 * finished + 1)
        #expect(feed.keptMessages == Feed.keptEndings)
        #expect(try feed.messages(from: 10) == nil, "asked from before what was forgotten: resync")
        let recent = try Self.seqs(feed.messages(from: 2 * finished - 3))
        #expect(recent == [2 * finished - 2, 2 * finished, 2 * finished + 1])
    }

    @Test func aTaskThatComesBackAfterEndingIsKeptAgain() throws {
        var feed = Feed()
        feed.publish(Notice(type: "taskRemoved", taskId: "c1", version: 4), at: 1)
        feed.publish(Notice(type: "task", task: Self.snapshot("c1", version: 5), taskId: "c1"), at: 2)
        for index in 0..<Feed.keptEndings * 2 {
            feed.publish(Notice(type: "taskRemoved", taskId: "x\(index)", version: 1), at: 3 + index)
        }
        // c1 is live again: its message stays while the endings around it are forgotten.
        #expect(feed.keptMessages == Feed.keptEndings + 1)
        let last = 2 + Feed.keptEndings * 2
        #expect(try Self.seqs(feed.messages(from: last)) == [last])
    }
}
