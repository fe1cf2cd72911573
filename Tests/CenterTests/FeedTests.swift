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
        for version in 1...5_000 {
            for task in ["c1", "c2", "c3"] {
                feed.publish(Notice(type: "task", task: Self.snapshot(task, version: version), taskId: task))
            }
        }
        #expect(feed.keptMessages == 3)
        // A client that saw everything up to the last few gets the latest of each changed task, in order.
        #expect(try Self.seqs(feed.messages(after: 14_998)) == [14_999, 15_000])
        #expect(try Self.seqs(feed.messages(after: 0)) == [14_998, 14_999, 15_000])
    }

    @Test func endedTasksAreKeptOnlyAmongTheNewestEndingsAndOlderClientsResync() throws {
        var feed = Feed()
        let finished = Feed.keptEndings + 100
        for index in 1...finished {
            let id = "c\(index)"
            feed.publish(Notice(type: "task", task: Self.snapshot(id, version: 1), taskId: id))
            // A supervisor's last word on a task: ended, nobody owes a wrap-up.
            feed.publish(Notice(type: "task", task: Self.snapshot(id, version: 2, status: "ended"), taskId: id))
        }
        feed.publish(Notice(type: "taskRemoved", taskId: "c-last", version: 3))
        #expect(feed.keptMessages == Feed.keptEndings)
        #expect(try feed.messages(after: 10) == nil, "asked from before what was forgotten: resync")
        let recent = try Self.seqs(feed.messages(after: 2 * finished - 4))
        #expect(recent == [2 * finished - 2, 2 * finished, 2 * finished + 1])
    }

    @Test func aTaskThatComesBackAfterEndingIsKeptAgain() throws {
        var feed = Feed()
        feed.publish(Notice(type: "taskRemoved", taskId: "c1", version: 4))
        feed.publish(Notice(type: "task", task: Self.snapshot("c1", version: 5), taskId: "c1"))
        for index in 0..<Feed.keptEndings * 2 {
            feed.publish(Notice(type: "taskRemoved", taskId: "x\(index)", version: 1))
        }
        // c1 is live again: its message stays while the endings around it are forgotten.
        #expect(feed.keptMessages == Feed.keptEndings + 1)
        #expect(try Self.seqs(feed.messages(after: feed.nextSequence - 2)) == [feed.nextSequence - 1])
    }
}
