import CallControl
import Foundation
import Store
import Testing
import TestSupport

@testable import Center

/// The event stream is numbered by the log (docs/ha.md): a desktop that reconnects to the node
/// that took over resumes with `since=` — the calls that ended meanwhile removed, every task and
/// agent it sees as they are now — instead of fetching everything afresh.
@Suite("Resuming a stream on another node")
struct StreamResumeTests {
    struct Message: Equatable {
        var seq: Int
        var type: String
        var taskId: String?
        var status: String?
        var agentStatus: String?
    }

    static func decode(_ texts: [String]?) throws -> [Message] {
        try #require(texts).map { text in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let task = object["task"] as? [String: Any]
            let agent = object["agent"] as? [String: Any]
            return Message(
                seq: object["seq"] as? Int ?? -1, type: object["type"] as? String ?? "", taskId: object["taskId"] as? String,
                status: task?["status"] as? String, agentStatus: agent?["state"] as? String)
        }
    }

    func follow(_ standby: ContactCenter, _ store: InMemoryEventStore) async throws {
        let from = await standby.sequence
        let events = try await store.events(from: from)
        try await standby.follow(events.enumerated().map { (sequence: from + $0.offset, event: $0.element) })
    }

    @Test func aDesktopResumingOnTheNodeThatTookOverGetsTheEndedCallsRemovedAndTheRestAsItIsNow() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let active = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        await active.start()
        let standby = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        try await active.available("agent1")
        try await active.mustAccept(.arrival("call-0", queue: "sales", from: "+15550100"))
        try await active.mustAccept(.desktop("agent1", "call-0", .accept))
        try await active.mustAccept(.line("call-0", .hungUp(.customer)))
        // The desktop's last word: agent1 owes call-0's wrap-up. Its number is the log's.
        let desktop = await active.subscribe("agent1", since: nil)
        let last = desktop.position
        #expect(last == (try await store.nextSequence()) - 1)
        try await follow(standby, store)

        // Away: call-0 wrapped up (over), call-1 taken and held; then the active node is gone.
        try await active.mustAccept(.desktop("agent1", "call-0", .wrapUp(code: "resolved", notes: "")))
        try await active.mustAccept(.arrival("call-1", queue: "sales", from: "+15550101"))
        try await active.mustAccept(.desktop("agent1", "call-1", .accept))
        try await active.mustAccept(.desktop("agent1", "call-1", .hold))
        await active.stop()
        try await follow(standby, store)
        await standby.start()

        let resumed = await standby.subscribe("agent1", since: last)
        let missed = try Self.decode(resumed.missed)
        #expect(missed.map(\.type) == ["taskRemoved", "task", "agent"])
        #expect(missed[0].taskId == "call-0")
        #expect(missed[1].taskId == "call-1" && missed[1].status == "held")
        #expect(missed[2].agentStatus == "engaged")
        let end = try await store.nextSequence() - 1
        #expect(missed.allSatisfy { $0.seq == end } && resumed.position == end, "numbered where the log is")

        // A supervisor sees the same: the ended call removed, call-1 and every agent as they are.
        let supervisor = try Self.decode(await standby.subscribe("supervisor1", since: last).missed)
        #expect(supervisor.filter { $0.type == "taskRemoved" }.map(\.taskId) == ["call-0"])
        #expect(supervisor.filter { $0.type == "task" }.map(\.taskId) == ["call-1"])
        #expect(supervisor.filter { $0.type == "agent" }.count == demo.agents.count)

        // From here on the new node numbers its own messages by the log too.
        try await standby.mustAccept(.desktop("agent1", "call-1", .resume))
        var live = resumed.stream.makeAsyncIterator()
        let next = try Self.decode([try #require(await live.next())])[0]
        #expect(next.seq == (try await store.nextSequence()) - 1 && next.status == "connected")
        await standby.stop()
    }

    @Test func aDesktopFromBeforeWhatTheNewNodeKnowsOfResyncs() async throws {
        let store = InMemoryEventStore()
        let clock = ManualClock()
        let first = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        await first.start()
        try await first.available("agent1")
        let last = await first.subscribe("agent1", since: nil).position
        try await first.mustAccept(.arrival("call-0", queue: "sales", from: "+15550100"))
        await first.stop()
        // A node started from the log after that: it cannot tell which calls ended before it.
        let restarted = try await ContactCenter(configuration: demo, store: store, telephony: NoTelephony(), clock: clock)
        await restarted.start()
        #expect(await restarted.subscribe("agent1", since: last).missed == nil)
        // A desktop numbered from its own time is replayed from its feed as ever.
        try await restarted.mustAccept(.desktop("agent1", "call-0", .accept))
        let now = await restarted.subscribe("agent1", since: nil).position
        try await restarted.mustAccept(.desktop("agent1", "call-0", .hold))
        let replay = try Self.decode(await restarted.subscribe("agent1", since: now).missed)
        // From the accept's own number on (its messages share it): the task as it is now, held.
        #expect(replay.filter { $0.type == "task" }.map(\.status) == ["held"] && replay.allSatisfy { $0.seq >= now })
        await restarted.stop()
    }
}
