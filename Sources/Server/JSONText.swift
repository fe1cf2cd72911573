/// A small JSON writer for the messages the server sends on every command (task snapshots,
/// stream notices, agent views). Foundation's JSONEncoder was 28% of the server's CPU under
/// load; writing these few shapes by hand is several times cheaper. Keys are written in sorted
/// order and "/" is escaped, as `encodeJSON` (sortedKeys) does, so both give the same text.
struct JSONText {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false

    init() { bytes.reserveCapacity(512) }

    mutating func object(_ body: (inout JSONText) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<S: Sequence>(_ elements: S, _ body: (inout JSONText, S.Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for element in elements { body(&self, element) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Starts a member of the current object: `"key":`.
    mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "/"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "/")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func integer(_ value: some BinaryInteger) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    // Members, skipping absent optionals as JSONEncoder does.
    mutating func member(_ name: StaticString, _ value: String) { key(name); string(value) }
    mutating func member(_ name: StaticString, _ value: String?) { if let value { member(name, value) } }
    mutating func member(_ name: StaticString, _ value: Int64) { key(name); integer(value) }
    mutating func member(_ name: StaticString, _ value: Int64?) { if let value { member(name, value) } }
    mutating func member(_ name: StaticString, _ value: Int) { key(name); integer(value) }
    mutating func member(_ name: StaticString, _ value: Bool) { key(name); bool(value) }
}

/// Values the server writes with `JSONText`.
protocol JSONWritable {
    func write(to json: inout JSONText)
}

extension JSONWritable {
    var jsonBytes: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.bytes
    }
}

extension TaskSnapshot: JSONWritable {
    func write(to json: inout JSONText) {
        json.object { json in
            json.key("allowedActions")
            json.array(allowedActions) { json, action in json.string(action) }
            json.key("customer")
            json.object { json in
                json.member("number", customer.number)
                json.member("state", customer.state)
            }
            json.member("id", id)
            json.key("participants")
            json.array(participants) { json, participant in
                json.object { json in
                    json.member("agentId", participant.agentId)
                    json.member("deadline", participant.deadline)
                    json.member("joinedAt", participant.joinedAt)
                    json.member("number", participant.number)
                    json.member("role", participant.role)
                    json.member("since", participant.since)
                    json.member("state", participant.state)
                    json.member("wrapUpRequired", participant.wrapUpRequired)
                }
            }
            json.member("queue", queue)
            json.member("status", status)
            json.member("version", version)
            json.member("wrapUpPending", wrapUpPending)
            json.member("wrapUpRequired", wrapUpRequired)
        }
    }
}

extension AgentView: JSONWritable {
    func write(to json: inout JSONText) {
        json.object { json in
            json.member("displayName", displayName)
            json.member("id", id)
            json.member("idleCodeId", idleCodeId)
            json.member("pendingIdleCodeId", pendingIdleCodeId)
            json.member("since", since)
            json.member("state", state)
            json.member("team", team)
        }
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
        }
    }
}
