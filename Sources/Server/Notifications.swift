import Foundation

/// One user's event stream: every message numbered, the recent ones kept so a desktop that
/// reconnects (or reloads) with `?since=SEQ` gets what it missed, and every open session of the
/// user (several tabs) gets every message.
struct Feed {
    static let kept = 2_000

    var nextSequence = 1
    var recent: [(Int, String)] = []
    var subscribers: [UUID: AsyncStream<String>.Continuation] = [:]

    /// Numbers the message, keeps it and sends it to every open session.
    mutating func publish(_ message: (Int) -> String) {
        let sequence = nextSequence
        nextSequence += 1
        let text = message(sequence)
        recent.append((sequence, text))
        if recent.count > Self.kept { recent.removeFirst(recent.count - Self.kept) }
        for subscriber in subscribers.values { subscriber.yield(text) }
    }

    /// The kept messages after `sequence`; nil when some of them are no longer kept (the client
    /// must then fetch its tasks afresh).
    func messages(after sequence: Int) -> [String]? {
        if let first = recent.first?.0, sequence + 1 < first { return nil }
        return recent.filter { $0.0 > sequence }.map(\.1)
    }
}

/// A message on the event stream: `{seq, type, task?, taskId?, agent?}`.
struct Notice: Encodable {
    var seq: Int
    var type: String
    var task: TaskSnapshot?
    var taskId: String?
    var agent: AgentView?

    func json() -> String { String(decoding: encodeJSON(self), as: UTF8.self) }
}

/// Every JSON the server writes (answers, stream messages), keys sorted so the same value always
/// reads the same. Only values that cannot fail to encode are passed.
func encodeJSON(_ value: some Encodable) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)) ?? Data("{}".utf8)
}
