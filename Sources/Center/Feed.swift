import Foundation
import Store

/// One user's event stream: every message numbered, the recent ones kept so a desktop that
/// reconnects (or reloads) with `?since=SEQ` gets what it missed, and every open session of the
/// user (several tabs) gets every message. A message is turned into text only when a session is
/// open to read it (a user with no desktop open costs no encoding), and once for all its tabs.
///
/// A message's number is the log's: that of the last event of the command that caused it, so a
/// number means the same on every node of a pair (docs/ha.md) and after a restart. One command may
/// send a user several messages under one number, so a replay starts *at* `since`, not after it:
/// a client that lost the rest of a command's messages in a dropped connection gets them again
/// (each carries the whole task or agent and its version, so one seen twice changes nothing).
///
/// What is kept for replay follows live work, not traffic: each message carries the whole task
/// (or agent), so only the latest message about each task and agent is kept — a newer one
/// replaces it. A task that is over for the user (`taskRemoved`, or a finished task for a
/// supervisor) keeps its last message among the newest `keptEndings` (16) endings; older ones are
/// forgotten, and a client asking from before a forgotten one must resync. Sixteen covers a reload
/// or a short network cut; a desktop away longer fetches its tasks afresh. Bound per user: one
/// message per live task they see, one per agent they see, plus `keptEndings`.
struct Feed {
    /// Endings kept for replay, per user. Each holds a whole task's message: at 64, a busy agent's
    /// feed took ~53 KB (heaptrack, docs/benchmarks.md); at 16, about a quarter of that.
    static let keptEndings = 16
    /// Messages one open session may have waiting to be written before the oldest are dropped.
    static let sessionBuffer = 2_000

    enum Key: Hashable {
        case task(String)
        case agent(String)
    }

    /// The latest message about each task and agent.
    private var latest: [Key: Notice] = [:]
    /// Tasks whose latest message is an ending, oldest first (an entry whose task has had a newer
    /// message since is skipped when its turn comes).
    private var endings: [(key: Key, seq: Int)] = []
    private var endingsStart = 0
    /// Some message numbered this may have been forgotten (and none above it).
    private var forgottenThrough = Int.min
    var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]

    /// How many messages are kept for replay.
    var keptMessages: Int { latest.count }

    /// Numbers the message `seq` (see above), keeps it (in place of the previous one about the
    /// same task or agent) and sends it to every open session.
    mutating func publish(_ message: Notice, at seq: Int) {
        var notice = message
        notice.seq = seq
        if let key = notice.key {
            latest[key] = notice
            if notice.isEnding { remember(ending: key, seq: notice.seq) }
        }
        guard !subscribers.isEmpty else { return }
        let text = notice.json()
        for subscriber in subscribers.values { subscriber.yield(text) }
    }

    private mutating func remember(ending key: Key, seq: Int) {
        endings.append((key, seq))
        while endings.count - endingsStart > Self.keptEndings {
            let (oldest, oldestSeq) = endings[endingsStart]
            endingsStart += 1
            if latest[oldest]?.seq == oldestSeq {
                latest[oldest] = nil
                forgottenThrough = max(forgottenThrough, oldestSeq)
            }
        }
        // Compact the consumed front now and then, so the array stays near `keptEndings` long.
        if endingsStart > Self.keptEndings {
            endings.removeFirst(endingsStart)
            endingsStart = 0
        }
    }

    /// What a client whose last message was numbered `sequence` needs: the latest message about
    /// each task and agent numbered from it on, in order; nil when some of it is forgotten (the
    /// client must then fetch its tasks afresh).
    func messages(from sequence: Int) -> [String]? {
        if sequence <= forgottenThrough { return nil }
        return latest.values.filter { $0.seq >= sequence }.sorted { $0.seq < $1.seq }.map { $0.json() }
    }
}

/// A message on the event stream: `{seq, type, task?, taskId?, agent?, version?}`; `seq` is set when the
/// user's feed publishes it (the log's number, see `Feed`).
struct Notice: Encodable {
    var seq = 0
    var type: String
    var task: TaskSnapshot?
    var taskId: String?
    var agent: AgentView?
    /// For `taskRemoved`: the task's version when it left the user.
    var version: Int?
    /// A notice's own members (`notice`, `by`, …), written after the others.
    var fields: [(String, String)] = []

    // `Encodable` (the tests compare the hand-written JSON with JSONEncoder's) for the fixed members.
    enum CodingKeys: String, CodingKey { case seq, type, task, taskId, agent, version }

    func json() -> String { String(decoding: jsonBytes, as: UTF8.self) }

    /// What the message is about: a task or an agent.
    var key: Feed.Key? {
        if let agent { return .agent(agent.id) }
        if let id = taskId ?? task?.id { return .task(id) }
        return nil
    }

    /// Whether the task is over for the user: removed from their view, or finished.
    var isEnding: Bool {
        type == "taskRemoved" || (task.map { $0.status == "ended" && !$0.wrapUpPending } ?? false)
    }
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
            for (name, value) in fields { json.member(named: name, value) }
        }
    }
}
