import Foundation
import Store

/// One user's event stream: every message numbered, the recent ones kept so a desktop that
/// reconnects (or reloads) with `?since=SEQ` gets what it missed, and every open session of the
/// user (several tabs) gets every message. A message is turned into text only when a session is
/// open to read it (a user with no desktop open costs no encoding), and once for all its tabs.
struct Feed {
    static let kept = 2_000

    var nextSequence = 1
    /// The last `kept` messages, a ring: once full, the oldest is overwritten at `oldest`
    /// (removing from the front of an array moved all 2,000 messages at every publish).
    private var recent: [Notice] = []
    private var oldest = 0
    var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]

    /// Numbers the message, keeps it and sends it to every open session.
    mutating func publish(_ message: Notice) {
        var notice = message
        notice.seq = nextSequence
        nextSequence += 1
        if recent.count < Self.kept {
            recent.append(notice)
        } else {
            recent[oldest] = notice
            oldest = (oldest + 1) % Self.kept
        }
        guard !subscribers.isEmpty else { return }
        let text = notice.json()
        for subscriber in subscribers.values { subscriber.yield(text) }
    }

    /// The kept messages after `sequence`; nil when some of them are no longer kept (the client
    /// must then fetch its tasks afresh).
    func messages(after sequence: Int) -> [String]? {
        let inOrder = recent[oldest...] + recent[..<oldest]
        if let first = inOrder.first?.seq, sequence + 1 < first { return nil }
        return inOrder.filter { $0.seq > sequence }.map { $0.json() }
    }
}

/// A message on the event stream: `{seq, type, task?, taskId?, agent?, version?}`; `seq` is set when the
/// user's feed publishes it.
struct Notice: Encodable {
    var seq = 0
    var type: String
    var task: TaskSnapshot?
    var taskId: String?
    var agent: AgentView?
    /// For `taskRemoved`: the task's version when it left the user.
    var version: Int?

    func json() -> String { String(decoding: jsonBytes, as: UTF8.self) }
}

extension Notice: JSONWritable {
    func write(to json: inout JSONText) {
        json.object { json in
            if let agent {
                json.key("agent")
                agent.write(to: &json)
            }
            json.member("seq", seq)
            if let task {
                json.key("task")
                task.write(to: &json)
            }
            json.member("taskId", taskId)
            json.member("type", type)
            if let version { json.member("version", version) }
        }
    }
}
